"""Hostile input: text that is SQL, a spreadsheet formula, HTML or a template is stored verbatim
and does nothing; file names that climb directories, are absolute or hide control characters are
refused; formulas are neutralised in every spreadsheet file we write; zip bombs, lying archives,
XML entity tricks and oversize files are refused with a clear reason; workbooks with external
links are read as data only.

The session pipeline (``conftest.pipeline``) took a report, a portal export and a roster whose
free-text fields hold the payloads all the way through ingestion, the gate, dbt, the sync, an
export and the report. (Single-file cases already covered in ``tests/include/ingest`` are not
repeated: a formula in one note, ``../`` and BEL in an upload name, a plain zip bomb, an .xlsm.)
"""

from __future__ import annotations

import csv
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import psycopg
import pytest
from conftest import (
    AT_PAYLOAD,
    DDE_PAYLOAD,
    FORMULA_PAYLOAD,
    HOSTILE_COURSE,
    HTML_PAYLOAD,
    PAYLOADS,
    PLUS_PAYLOAD,
    SQL_PAYLOAD,
    TEMPLATE_PAYLOAD,
    load_module,
    stamp,
)

from planwh.ingest.feedback import FORMULA_TRIGGERS
from planwh.ingest.load import ingest_file, ingest_landing

files = load_module("ingest_files", "tests/include/ingest/ingest_files.py")
hostile = load_module("hostile_files", "tests/reliability/hostile_files.py")
RECEIVED = datetime(2024, 12, 15, 2, 0, tzinfo=UTC)
NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?$")


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


# ----------------------------------------------------------------------- through the pipeline


def test_hostile_text_in_every_free_text_field_is_stored_verbatim_and_runs_nowhere(pipeline) -> None:
    url = pipeline.url
    hostile = {k: str(p.name) for k, p in pipeline.hostile.items()}
    statuses = dict(query(url, "select original_name, status from landing.files where original_name = any(%s)",
                          (list(hostile.values()),)))
    assert statuses == {name: "loaded" for name in hostile.values()}
    for schema in ("raw", "published"):
        # the report: agency name and note, every payload, as sent
        sent = set(query(url, f"select agency_name, note from {schema}.agency_submissions where file_id = "
                              "(select file_id from landing.files where original_name = %s)",
                         (hostile["submissions"],)))
        assert sent == {(SQL_PAYLOAD, FORMULA_PAYLOAD), (HTML_PAYLOAD, DDE_PAYLOAD), (TEMPLATE_PAYLOAD, PLUS_PAYLOAD)}
        # the portal export: titles and topics
        articles = set(query(url, f"select title, topic from {schema}.portal_statistics where article_id like "
                                  "'hostile-%%'"))
        assert articles == {(SQL_PAYLOAD, TEMPLATE_PAYLOAD), (FORMULA_PAYLOAD, HTML_PAYLOAD), (DDE_PAYLOAD, AT_PAYLOAD),
                            (HTML_PAYLOAD, PLUS_PAYLOAD)}
        # the roster: course title, trainees' positions
        assert query(url, f"select title from {schema}.training_courses where course_id = %s", (HOSTILE_COURSE,)) == [
            (HTML_PAYLOAD,)
        ]
        positions = {r[0] for r in query(url, f"select position from {schema}.training_attendance where course_id = %s",
                                         (HOSTILE_COURSE,))}
        assert positions == {FORMULA_PAYLOAD, DDE_PAYLOAD}
    # the row rejected for its measure keeps the text as a value to show the sender
    assert query(url, "select value, reason_code from quarantine.rejected_rows where value = %s", (AT_PAYLOAD,)) == [
        (AT_PAYLOAD, "unknown_measure")
    ]
    # nothing ran: the table the SQL names is there with every row, the marts were built
    assert query(url, "select (select count(*) from raw.agency_submissions) = (select sum(rows_loaded) from "
                      "landing.files where source = 'submissions' and status = 'loaded')") == [(True,)]
    assert query(url, "select count(*) > 0 from marts.fct_indicator_progress where value is not null") == [(True,)]
    assert pipeline.rounds[0]["build"].get("error", 0) == 0


def test_the_report_shows_no_hostile_markup(pipeline) -> None:
    html = (pipeline.state_dir / "report" / "index.html").read_text(encoding="utf-8")
    assert len(html) > 10_000
    for payload in PAYLOADS:
        assert payload not in html
    assert "<script" not in html.lower() and "onerror=" not in html.lower()


def spreadsheet_cells(path: Path) -> list[str]:
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path).active
        cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
        assert all(c.data_type == "s" for c in cells), path  # no formula, no number typed from text
        return [str(c.value) for c in cells]
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def test_no_cell_of_any_spreadsheet_file_we_wrote_can_run_as_a_formula(pipeline) -> None:
    written = sorted(
        p for root in (pipeline.state_dir / "feedback", pipeline.out_dir) for p in root.rglob("*")
        if p.suffix in (".csv", ".xlsx")
    )
    assert any("ghi-chu" in p.name for p in written) and any(p.parent.name.startswith("export-") for p in written)
    dangerous = []
    for path in written:
        for cell in spreadsheet_cells(path):
            if cell.startswith(FORMULA_TRIGGERS) and not NUMBER.match(cell):
                dangerous.append((path.name, cell))
    assert dangerous == []
    # the hostile value the sender must see is there, neutralised
    feedback = [p for p in written if "ghi-chu" in p.name and p.suffix == ".csv"]
    assert [c for c in spreadsheet_cells(feedback[0]) if c.startswith((AT_PAYLOAD, "'" + AT_PAYLOAD))] == [
        "'" + AT_PAYLOAD
    ]


def test_hostile_text_in_the_agency_register_is_stored_verbatim(settings, tmp_path: Path) -> None:
    # (not through the session pipeline: a register replaces its province's whole list)
    rows = [[f"H{n}", payload, "49", "department", "annual", "01/01/2023", ""] for n, payload in enumerate(PAYLOADS)]
    outcome = ingest_file(settings, "agencies", files.write_register(tmp_path, rows), received_at=RECEIVED)

    assert (outcome.status, outcome.rows_loaded) == ("loaded", len(PAYLOADS))
    stored = [r[0] for r in query(settings.warehouse_url, "select agency_name from raw.agency_register order by row_number")]
    assert stored == list(PAYLOADS)


# ----------------------------------------------------------------------- file names


@pytest.mark.parametrize("name", [
    "bao-cao\x1b[31m.csv",  # a terminal escape in the name
    "bao-cao\nINFO forged log line.csv",  # a newline that would forge a log line
    "bao-cao\u202egpj.csv",  # right-to-left override: shows as "bao-caovsc.jpg"
])
def test_landing_files_with_control_characters_in_their_names_are_refused_and_kept(settings, name: str) -> None:
    register = files.write_register(settings.landing_dir / "agencies")
    stamp(register, RECEIVED)
    ingest_landing(settings, "agencies")
    path = settings.landing_dir / "submissions" / name
    files.write_csv(path, files.SUBMISSION_HEADER, [files.submission_row()])

    outcome, = ingest_landing(settings, "submissions")

    assert (outcome.status, outcome.reason_code) == ("rejected", "unsafe_file_name")
    assert "control characters" in outcome.reason
    (stored, sha, archive_path), = query(settings.warehouse_url,
                                         "select original_name, sha256, archive_path from landing.files "
                                         "where source = 'submissions'")
    assert not any(ord(ch) < 32 or ch == "\u202e" for ch in stored) and ("\\x" in stored or "\\u" in stored)
    assert Path(archive_path).read_bytes() == path.read_bytes() and sha in archive_path
    assert query(settings.warehouse_url, "select count(*) from raw.agency_submissions") == [(0,)]
    feedback = list(settings.feedback_dir.iterdir())
    assert feedback and all(p.parent == settings.feedback_dir and p.name.isascii() for p in feedback)


@pytest.mark.parametrize("name", ["/etc/cron.d/bao-cao.csv", "C:\\Windows\\bao-cao.csv", "..", "~/.ssh/bao-cao.csv"])
def test_absolute_and_climbing_upload_names_are_refused_and_write_nothing_outside(settings, tmp_path: Path,
                                                                                   name: str) -> None:
    path = files.write_csv(tmp_path / "upload.csv", files.SUBMISSION_HEADER, [files.submission_row()])

    outcome = ingest_file(settings, "submissions", path, received_at=RECEIVED, original_name=name)

    assert (outcome.status, outcome.reason_code) == ("rejected", "unsafe_file_name")
    written = [p for p in settings.state_dir.rglob("*") if p.is_file()]
    assert written and all(p.resolve().is_relative_to(settings.state_dir.resolve()) for p in written)
    assert all(p.parent == settings.feedback_dir for p in settings.feedback_dir.iterdir())


def test_a_link_in_the_landing_folder_to_a_file_outside_it_is_not_read(settings, tmp_path: Path, caplog) -> None:
    secret = tmp_path / "outside" / "secret.csv"
    files.write_csv(secret, files.SUBMISSION_HEADER, [files.submission_row(note="bí mật")])
    link = settings.landing_dir / "submissions" / "bao-cao.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)

    outcomes = ingest_landing(settings, "submissions")

    assert outcomes == []
    assert not settings.archive_dir.exists() or not [p for p in settings.archive_dir.rglob("*") if p.is_file()]
    assert "submissions/bao-cao.csv: a link to a file outside submissions/, not read" in caplog.text
    # ... while a link inside the landing folder (a file filed twice) is taken as usual: the file is
    # loaded once, and its second place is recorded as a duplicate of it
    link.unlink()
    real = files.write_csv(settings.landing_dir / "submissions" / "2024" / "bao-cao.csv", files.SUBMISSION_HEADER,
                           [files.submission_row()])
    link.symlink_to(real)
    ingest_file(settings, "agencies", files.write_register(tmp_path / "register"), received_at=RECEIVED)
    outcomes = ingest_landing(settings, "submissions")
    assert [(o.original_name, o.status) for o in outcomes] == [("bao-cao.csv", "loaded"), ("bao-cao.csv", "duplicate")]
    assert outcomes[1].duplicate_of == outcomes[0].file_id


# ----------------------------------------------------------------------- hostile workbooks


def workbook(path: Path, rows: list[list[str]], formulas: dict[str, tuple[str, str]] | None = None) -> Path:
    return hostile.workbook(path, files.SUBMISSION_HEADER, rows, formulas)


def loaded(settings, path: Path):
    ingest_file(settings, "agencies", files.write_register(path.parent / "register"), received_at=RECEIVED)
    return ingest_file(settings, "submissions", path, received_at=RECEIVED)


def test_external_links_and_dde_formulas_are_read_as_their_cached_values_only(settings, tmp_path: Path) -> None:
    # GIVEN a report whose value cells are formulas: one pulls from another workbook through an
    # external link (to a local file and a web address), one is a DDE call; Excel cached 7 and 9
    plain = workbook(tmp_path / "plain.xlsx", [files.submission_row("products_total", ""),
                                               files.submission_row("books_published", "")],
                     {"F2": ("=[1]Sheet1!A1", "7"), "F3": (DDE_PAYLOAD, "9")})
    path = hostile.with_external_link(plain, tmp_path / "bao-cao.xlsx")

    outcome = loaded(settings, path)

    # THEN the cached values are the data: the link's copy (999) and the link target are never read
    assert outcome.status == "loaded" and outcome.rows_loaded == 2, outcome
    values = dict(query(settings.warehouse_url, "select measure_code, value from raw.agency_submissions"))
    assert values == {"products_total": 7, "books_published": 9}


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"])
@pytest.mark.parametrize("trick, expected", [
    (hostile.XXE, "undefined entity"),  # external entity (XXE)
    (hostile.BILLION_LAUGHS, "amplification"),  # billion laughs
])
def test_xml_entity_tricks_in_a_workbook_are_refused_quickly(settings, tmp_path: Path, part: str, trick: str,
                                                             expected: str) -> None:
    plain = workbook(tmp_path / "plain.xlsx", [files.submission_row(note="NOTE")])
    path = hostile.with_xml_entity(plain, tmp_path / "bao-cao.xlsx", part, trick)
    started = time.monotonic()

    outcome = loaded(settings, path)

    assert time.monotonic() - started < 20
    assert (outcome.status, outcome.reason_code) == ("rejected", "unreadable")
    assert "bao-cao.xlsx" in outcome.reason and expected in outcome.reason
    assert "root:" not in outcome.reason and "lollol" not in outcome.reason
    assert query(settings.warehouse_url, "select count(*) from raw.agency_submissions") == [(0,)]


def test_a_workbook_whose_zip_directory_lies_about_sizes_is_refused_without_expanding(settings,
                                                                                     tmp_path: Path) -> None:
    # GIVEN a sheet of 64 MiB (spaces after the XML) that the zip directory declares as 4,000 bytes,
    # so that a size check trusting the directory lets it through
    plain = workbook(tmp_path / "plain.xlsx", [files.submission_row()])
    path = hostile.lying_zip(plain, tmp_path / "bao-cao.xlsx")
    assert path.stat().st_size < 1_000_000

    started = time.monotonic()
    outcome = loaded(settings, path)

    assert time.monotonic() - started < 20
    assert (outcome.status, outcome.reason_code) == ("rejected", "unreadable")
    assert "bao-cao.xlsx" in outcome.reason and "CRC" in outcome.reason
    # the bytes are kept for the record, as sent
    (archive_path,), = query(settings.warehouse_url, "select archive_path from landing.files where status = "
                                                     "'rejected'")
    assert Path(archive_path).read_bytes() == path.read_bytes()


def test_zip_bombs_and_oversize_files_are_refused_with_a_reason_the_sender_reads(settings, tmp_path: Path) -> None:
    bomb = hostile.zip_bomb(tmp_path / "bao-cao-bomb.xlsx")
    big = files.write_csv(tmp_path / "bao-cao-big.csv", files.SUBMISSION_HEADER,
                          [files.submission_row(note="x" * 200) for _ in range(200)])
    small_limit = settings.with_overrides(max_file_bytes=20_000)

    outcomes = [loaded(settings, bomb), ingest_file(small_limit, "submissions", big, received_at=RECEIVED)]

    assert [(o.status, o.reason_code) for o in outcomes] == [("rejected", "zip_bomb"), ("rejected", "file_too_large")]
    assert "sheet1.xml" in outcomes[0].reason and "MiB" in outcomes[1].reason
    for outcome in outcomes:
        with open(outcome.feedback_csv, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[1][4] == outcome.reason_code and outcome.reason in rows[1][6]
