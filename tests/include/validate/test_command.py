"""``planwh validate``: the table it prints, its exit status, and Data Docs."""

from __future__ import annotations

import argparse
import logging

from validate_batches import article, submission

from planwh.commands import validate as command
from planwh.validate.suites import GX_PROJECT_DIR


def _planwh_validate(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="planwh")
    command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["validate", *argv])
    return args.func(args)


def _repository_files() -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in GX_PROJECT_DIR.rglob("*")}


def test_validate_with_docs_builds_static_html_outside_the_repository(settings, warehouse, capsys, caplog):
    before = _repository_files()
    portal = warehouse.add_file("portal", "portal_statistics", [article(1), article(2, language="xx")])

    assert _planwh_validate("--docs") == 0

    out = capsys.readouterr().out
    assert "warned" in out and "language_known" in out
    index = settings.state_dir / "data_docs" / "index.html"
    assert index.is_file()
    pages = list(
        (settings.state_dir / "data_docs" / "validations" / "portal_statistics").rglob(f"file_{portal}.html")
    )
    assert len(pages) == 1
    assert (settings.state_dir / "data_docs" / "expectations" / "agency_submissions.html").is_file()
    assert _repository_files() == before  # nothing written into expectations/
    # GX logs a page it cannot render and carries on: that must not happen to ours.
    assert not [
        r for r in caplog.records if r.name.startswith("great_expectations") and r.levelno >= logging.ERROR
    ]


def test_a_failing_file_exits_1_and_names_file_and_rule(settings, warehouse, capsys):
    bad = warehouse.add_file(
        "submissions",
        "agency_submissions",
        [submission("fake_news_detected", 1), submission("fake_news_handled", 4)],
        name="bao-cao.csv",
    )

    assert _planwh_validate("--source", "submissions") == 1

    captured = capsys.readouterr()
    assert "failed" in captured.out
    assert f"file {bad} (submissions, bao-cao.csv)" in captured.err
    assert "handled_exceeds_detected" in captured.err
    assert _planwh_validate() == 0  # nothing pending: the verdict is kept
    assert "no loaded file is waiting" in capsys.readouterr().out


def test_unknown_file_id_is_a_clean_error(settings, warehouse, capsys):
    assert _planwh_validate("--file-id", "41") == 2
    assert "no file with file_id 41" in capsys.readouterr().err
