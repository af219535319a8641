"""The landing ledger and archive: every arrival recorded, bytes kept, repeats and versions."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from ingest_files import (
    RECEIVED,
    SUBMISSION_HEADER,
    query,
    raw_counts,
    scalar,
    submission_row,
    write_csv,
    write_register,
)

from planwh.ingest.ledger import ArchiveError, archive_file, file_name_problem, printable_name
from planwh.ingest.load import ingest_file
from planwh.ingest.schema import ensure_schema


def test_archive_is_content_addressed_read_only_and_never_overwritten(tmp_path: Path) -> None:
    source = tmp_path / "Báo cáo.xlsx"
    source.write_bytes(b"the bytes a province sent")
    sha = hashlib.sha256(b"the bytes a province sent").hexdigest()

    first = archive_file(tmp_path / "archive", "submissions", source, source.name)
    second = archive_file(tmp_path / "archive", "submissions", source, "other name.xlsx")

    assert first.path == tmp_path / "archive" / "submissions" / sha[:2] / f"{sha}.xlsx"
    assert first.sha256 == sha and first.size_bytes == len(b"the bytes a province sent")
    assert second.path == first.path
    assert first.path.read_bytes() == b"the bytes a province sent"
    assert first.path.stat().st_mode & 0o222 == 0
    assert [p.name for p in (tmp_path / "archive" / ".incoming").iterdir()] == []


def test_a_damaged_archive_copy_is_detected_not_trusted(tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_bytes(b"original")
    stored = archive_file(tmp_path / "archive", "portal", source, "a.csv").path
    stored.chmod(0o644)
    stored.write_bytes(b"tampered")

    with pytest.raises(ArchiveError, match="damaged"):
        archive_file(tmp_path / "archive", "portal", source, "a.csv")
    assert stored.read_bytes() == b"tampered"  # evidence left as found, not overwritten


@pytest.mark.parametrize(
    "name",
    ["../x.csv", "..", "a/b.csv", "a\\b.csv", "/etc/passwd", "C:report.xlsx", "a\x00.csv", "bad\nname.csv",
     "x\u202ecod.exe", "bad\udcff.csv", "", "   "],
)
def test_unsafe_file_names_are_refused(name: str) -> None:
    assert file_name_problem(name) is not None


def test_names_are_stored_with_hidden_characters_escaped() -> None:
    assert printable_name("a\x07b\u202ec\udcffd.csv") == "a\\x07b\\u202ec\\xffd.csv"


@pytest.mark.parametrize("name", ["Báo cáo STTTT 2024.xlsx", "bao-cao_2024.Q3.csv", "danh sách (1).xlsx", "a..b"])
def test_ordinary_file_names_pass(name: str) -> None:
    assert file_name_problem(name) is None


def test_the_same_bytes_twice_is_a_recorded_no_op(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    path = write_csv(tmp_path / "bc.csv", SUBMISSION_HEADER, [submission_row(), submission_row("books_published", "3")])
    first = ingest_file(settings, "submissions", path, received_at=RECEIVED)
    before = raw_counts(settings)

    again = ingest_file(settings, "submissions", path, received_at=RECEIVED + timedelta(days=1))
    copy = tmp_path / "renamed copy.csv"
    copy.write_bytes(path.read_bytes())
    renamed = ingest_file(settings, "submissions", copy, received_at=RECEIVED + timedelta(days=2))

    assert first.status == "loaded" and first.rows_loaded == 2
    assert (again.status, again.duplicate_of) == ("duplicate", first.file_id)
    assert (renamed.status, renamed.duplicate_of) == ("duplicate", first.file_id)
    assert raw_counts(settings) == before
    rows = query(settings, "select status, duplicate_of_file_id, sha256, rows_loaded from landing.files "
                           "where source = 'submissions' order by file_id")
    assert [r[0] for r in rows] == ["loaded", "duplicate", "duplicate"]
    assert rows[1][1] == rows[2][1] == first.file_id
    assert rows[0][2] == rows[1][2] == rows[2][2] == first.sha256
    assert rows[1][3] is None


def test_a_corrected_file_supersedes_the_earlier_version_and_both_stay(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    original = write_csv(tmp_path / "v1.csv", SUBMISSION_HEADER, [submission_row("books_published", "3")])
    corrected = write_csv(tmp_path / "v2.csv", SUBMISSION_HEADER, [submission_row("books_published", "4")])

    first = ingest_file(settings, "submissions", original, received_at=RECEIVED)
    second = ingest_file(settings, "submissions", corrected, received_at=RECEIVED + timedelta(days=3))

    assert first.is_current_version
    assert second.is_current_version and second.supersedes_file_id == first.file_id
    rows = query(settings, "select file_id, is_current_version, agency_code, province_code, period "
                           "from landing.files where source = 'submissions' order by file_id")
    assert rows == [(first.file_id, False, "STTTT", "49", "2024"), (second.file_id, True, "STTTT", "49", "2024")]
    values = query(settings, "select file_id, value from raw.agency_submissions order by file_id")
    assert [(f, int(v)) for f, v in values] == [(first.file_id, 3), (second.file_id, 4)]


def test_an_older_file_loaded_late_does_not_become_current(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    newer = write_csv(tmp_path / "newer.csv", SUBMISSION_HEADER, [submission_row("books_published", "4")])
    older = write_csv(tmp_path / "older.csv", SUBMISSION_HEADER, [submission_row("books_published", "3")])

    loaded_first = ingest_file(settings, "submissions", newer, received_at=RECEIVED + timedelta(days=3))
    late = ingest_file(settings, "submissions", older, received_at=RECEIVED)

    assert late.status == "loaded" and not late.is_current_version
    assert scalar(settings, "select is_current_version from landing.files where file_id = %s",
                  (loaded_first.file_id,)) is True


def test_two_runs_ingesting_the_same_file_at_once_load_it_once(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    rows = [submission_row(m, str(i)) for i, m in enumerate(["books_published", "products_total", "exhibitions_held"])]
    path = write_csv(tmp_path / "bc.csv", SUBMISSION_HEADER, rows)
    outcomes = []
    errors = []
    start = threading.Barrier(4)

    def run() -> None:
        try:
            start.wait()
            outcomes.append(ingest_file(settings, "submissions", path, received_at=RECEIVED))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    assert sorted(o.status for o in outcomes) == ["duplicate", "duplicate", "duplicate", "loaded"]
    assert scalar(settings, "select count(*) from raw.agency_submissions") == 3
    assert scalar(settings, "select count(*) from landing.files where source = 'submissions'") == 4


def test_the_ledger_refuses_counts_that_do_not_add_up(settings, tmp_path: Path) -> None:
    path = write_register(tmp_path)
    outcome = ingest_file(settings, "agencies", path, received_at=RECEIVED)
    with psycopg.connect(settings.warehouse_url) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("update landing.files set rows_rejected = rows_rejected + 1 where file_id = %s",
                         (outcome.file_id,))


def test_schema_creation_is_idempotent(settings) -> None:
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        ensure_schema(conn)
        ensure_schema(conn)
        tables = {r[0] for r in conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('landing', 'raw', 'quarantine')")}
    assert tables == {
        "landing.files", "landing.portal_api_cursor", "landing.receptions", "landing.observations",
        "landing.sweeps", "raw.agency_register", "raw.agency_submissions",
        "raw.portal_statistics", "raw.training_courses", "raw.training_attendance", "quarantine.rejected_rows",
    }


def test_a_file_whose_name_is_not_utf8_is_recorded_and_refused(settings, tmp_path: Path) -> None:
    import os

    path = Path(os.fsdecode(bytes(tmp_path) + b"/bao-cao\xff.csv"))
    path.write_bytes(b"anything")

    outcome = ingest_file(settings, "submissions", path, received_at=RECEIVED)

    assert (outcome.status, outcome.reason_code) == ("rejected", "unsafe_file_name")
    assert query(settings, "select original_name from landing.files") == [("bao-cao\\xff.csv",)]
