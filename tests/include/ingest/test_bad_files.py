"""A corpus of bad files, made here, each of which must be explained rather than crash or vanish.

For every case: ingestion returns (no traceback), the file gets the expected reason code (whole
file) or its bad rows do (row level), rows in = rows loaded + rows rejected, every row is either in
its raw table or in quarantine (no silent drop), and the archive holds the exact bytes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import openpyxl
import psycopg
import pytest
import xlsxwriter
from ingest_files import (
    PORTAL_HEADER,
    RECEIVED,
    RECEIVED_AFTER_MERGER,
    REGISTER_HEADER,
    REGISTER_ROWS,
    SUBMISSION_HEADER,
    portal_row,
    query,
    scalar,
    submission_row,
    trainee,
    write_csv,
    write_register,
    write_roster,
)

from planwh.ingest.contracts import CONTRACTS
from planwh.ingest.load import RAW_TABLE, ingest_file
from planwh.settings import Settings, load_settings

VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)


@dataclass
class Case:
    id: str
    source: str
    build: Callable[[Path], Path]
    status: str  # loaded (with the reason on some rows) or rejected (whole file)
    reason: str
    received_at: datetime = RECEIVED
    options: dict = field(default_factory=dict)


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path
    return build


def _submissions(*rows: list[str], name: str = "bao-cao.csv") -> Callable[[Path], Path]:
    return lambda folder: write_csv(folder / name, SUBMISSION_HEADER, [submission_row("books_published", "2"), *rows])


def _portal(*rows: list[str]) -> Callable[[Path], Path]:
    return lambda folder: write_csv(folder / "portal.csv", PORTAL_HEADER, [portal_row("ok-1"), *rows])


def _roster(*rows: list[str]) -> Callable[[Path], Path]:
    return lambda folder: write_roster(folder / "roster.csv", "QN-2024-01", [trainee("Trần Thị Mai", "049190000001"), *rows])


def _register(*rows: list[str]) -> Callable[[Path], Path]:
    return lambda folder: write_csv(folder / "register-fix.csv", REGISTER_HEADER, [REGISTER_ROWS[0], *rows])


def _xlsx(sheet: str, header: list[str], rows: list[list[str]]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / "bao-cao.xlsx"
        book = xlsxwriter.Workbook(path)
        ws = book.add_worksheet(sheet)
        for r, row in enumerate([header, *rows]):
            ws.write_row(r, 0, row)
        book.close()
        return path
    return build


def _jsonl_with_broken_line(folder: Path) -> Path:
    good = dict(zip(PORTAL_HEADER, portal_row("j1"), strict=True))
    path = folder / "portal.jsonl"
    path.write_text(json.dumps(good) + "\n" + '{"stat_date": "2024-11-30", "portal": \n', encoding="utf-8")
    return path


def _roster_without_course(folder: Path) -> Path:
    header = ["Họ và tên", "Số CCCD", "Mã cán bộ", "Năm sinh", "Giới tính", "Mã đơn vị", "Chức vụ", "Đối tượng",
              "Có mặt", "Hoàn thành"]
    return write_csv(folder / "roster.csv", header, [trainee("Lê Văn Nam", "049190000002")[1:]])


def _nul_in_json_text(folder: Path) -> Path:
    rows = [dict(zip(PORTAL_HEADER, portal_row(article, title=title), strict=True))
            for article, title in (("n1", "Quyền con người"), ("n2", "Quyền\x00con người"))]
    path = folder / "portal.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


CASES = [
    # whole-file rejections
    Case("empty file", "submissions", _bytes("bao-cao.csv", b""), "rejected", "empty_file"),
    Case("blank lines only", "submissions", _bytes("bao-cao.csv", b"\r\n\r\n  \r\n"), "rejected", "empty_file"),
    Case("header only", "submissions", lambda f: write_csv(f / "bao-cao.csv", SUBMISSION_HEADER, []), "rejected",
         "no_data_rows"),
    Case("title row and header only", "submissions",
         lambda f: write_csv(f / "bao-cao.csv", SUBMISSION_HEADER, [], title="BÁO CÁO KẾT QUẢ NĂM 2024"), "rejected",
         "no_data_rows"),
    Case("sheet not found", "submissions", _xlsx("Báo cáo", SUBMISSION_HEADER, [submission_row()]), "rejected",
         "sheet_not_found", options={"sheet": "Sheet9"}),
    Case("sheet holds another table", "submissions", _xlsx("Sheet1", PORTAL_HEADER, [portal_row()]), "rejected",
         "no_header"),
    Case("required column missing", "submissions",
         lambda f: write_csv(f / "bao-cao.csv", [h for h in SUBMISSION_HEADER if h != "Giá trị"],
                             [[c for i, c in enumerate(submission_row()) if i != 5]]), "rejected", "missing_columns"),
    Case("pdf named xlsx", "submissions", _bytes("bao-cao.xlsx", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n"), "rejected",
         "unsupported_format"),
    Case("excel 97 workbook", "submissions", _bytes("bao-cao.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
         "rejected", "unsupported_format"),
    Case("corrupt xlsx", "submissions", _bytes("bao-cao.xlsx", b"PK\x03\x04" + b"\x00garbage" * 50), "rejected",
         "unreadable"),
    Case("roster without course header", "rosters", _roster_without_course, "rejected", "invalid_course_header"),
    Case("roster course ends before it starts", "rosters",
         lambda f: write_roster(f / "roster.csv", "QN-1", [trainee("Đỗ Văn Hùng", "049190000003")],
                                start="14/03/2024", end="12/03/2024"), "rejected", "invalid_course_header"),
    # rows rejected inside a loaded file
    Case("unknown province", "submissions", _submissions(submission_row(province="99")), "loaded", "unknown_province"),
    Case("unknown agency", "submissions", _submissions(submission_row(agency="KHONG-CO")), "loaded",
         "agency_not_registered"),
    Case("unknown measure", "submissions", _submissions(submission_row("so_bai_viet")), "loaded", "unknown_measure"),
    Case("duplicate rows", "submissions",
         _submissions(submission_row("books_published", "2"), submission_row("books_published", "5")), "loaded",
         "duplicate_row"),
    Case("negative count", "submissions", _submissions(submission_row("products_total", "-3")), "loaded",
         "negative_value"),
    Case("flag not 0 or 1", "submissions", _submissions(submission_row("spokesperson_mechanism", "2")), "loaded",
         "invalid_flag"),
    Case("task status without task", "submissions", _submissions(submission_row("task_status", "1")), "loaded",
         "missing_task_code"),
    Case("count with decimals", "submissions", _submissions(submission_row("products_total", "2,5")), "loaded",
         "not_whole_number"),
    Case("district committee after the district level ended", "submissions",
         _submissions(submission_row(agency="UBND-TK", province="48", period="2025-Q3", submitted="30/09/2025")),
         "loaded", "agency_not_registered", received_at=RECEIVED_AFTER_MERGER),
    Case("commune committee before it existed", "submissions",
         _submissions(submission_row(agency="UBND-XA1", province="48", period="2024-Q3", submitted="30/09/2024")),
         "loaded", "agency_not_registered"),
    Case("legacy province code after the merger", "submissions",
         _submissions(submission_row(period="2025-Q4", province="49", submitted="05/12/2025")), "loaded",
         "province_not_valid_for_period", received_at=RECEIVED_AFTER_MERGER),
    Case("submitted in the future", "submissions", _submissions(submission_row(submitted="20/12/2024")), "loaded",
         "future_date"),
    Case("period in the future", "submissions",
         _submissions(submission_row(period="2025-Q1", submitted="10/12/2024")), "loaded", "future_date"),
    Case("impossible date", "submissions", _submissions(submission_row(submitted="31/02/2024")), "loaded",
         "invalid_date"),
    Case("malformed date", "submissions", _submissions(submission_row(submitted="cuối tháng 11")), "loaded",
         "malformed_date"),
    Case("malformed period", "submissions", _submissions(submission_row(period="năm ngoái")), "loaded",
         "malformed_period"),
    Case("malformed number", "submissions", _submissions(submission_row("products_total", "mười hai")), "loaded",
         "malformed_number"),
    Case("submitted before the period", "submissions", _submissions(submission_row(submitted="15/12/2023")),
         "loaded", "submitted_before_period"),
    Case("missing value", "submissions", _submissions(submission_row("products_total", "")), "loaded",
         "missing_value"),
    Case("NUL character in a cell", "portal", _nul_in_json_text, "loaded", "invalid_character"),
    Case("NUL byte in a CSV", "submissions",
         lambda f: write_csv(f / "bao-cao.csv", SUBMISSION_HEADER, [submission_row(note="a\x00b")]), "rejected",
         "unsupported_format"),
    Case("visitors exceed views", "portal", _portal(portal_row("a2", "10", "25")), "loaded", "visitors_exceed_views"),
    Case("negative page views", "portal", _portal(portal_row("a2", "-10", "0")), "loaded", "negative_value"),
    Case("stat date in the future", "portal", _portal(portal_row("a2", stat_date="2024-12-20")), "loaded",
         "future_date"),
    Case("published after the day counted", "portal",
         _portal(portal_row("a2", published="2024-12-01T09:00:00+07:00")), "loaded", "published_after_stat_date"),
    Case("unknown language", "portal", _portal(portal_row("a2", language="klingon")), "loaded", "unknown_language"),
    Case("duplicate article and day", "portal", _portal(portal_row("a2"), portal_row("a2", "7", "7")), "loaded",
         "duplicate_row"),
    Case("broken JSON line", "portal", _jsonl_with_broken_line, "loaded", "malformed_row"),
    Case("trainee without identifier", "rosters", _roster(trainee("Phạm Văn Tú")), "loaded", "missing_identifier"),
    Case("trainee with a malformed national ID", "rosters", _roster(trainee("Võ Thị Lan", "12345")), "loaded",
         "invalid_national_id"),
    Case("unknown trainee category", "rosters", _roster(trainee("Bùi Văn An", "049190000004", category="Sinh viên")),
         "loaded", "unknown_category"),
    Case("same trainee twice in a course", "rosters",
         _roster(trainee("Trần Thị Mai", "0491 9000 0001")), "loaded", "duplicate_row"),
    Case("unknown agency kind", "agencies",
         _register(["SGD", "Sở Giáo dục", "49", "bộ", "annual", "01/01/2023", ""]), "loaded", "unknown_agency_kind"),
    Case("unknown reporting mode", "agencies",
         _register(["SGD", "Sở Giáo dục", "49", "department", "monthly", "01/01/2023", ""]), "loaded",
         "unknown_reporting_mode"),
    Case("valid to before valid from", "agencies",
         _register(["SGD", "Sở Giáo dục", "49", "department", "annual", "01/01/2024", "01/01/2023"]), "loaded",
         "valid_to_before_valid_from"),
    # how the file was sent
    Case("file name climbing directories", "submissions", _submissions(), "rejected", "unsafe_file_name",
         options={"original_name": "../../etc/bao-cao.csv"}),
    Case("file name with a control character", "submissions", _submissions(), "rejected", "unsafe_file_name",
         options={"original_name": "bao\x07cao.csv"}),
]


@pytest.fixture(scope="module")
def corpus_settings(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One warehouse for the whole corpus (a database per case would triple the run time); the
    checks below only look at the case's own file_id, and every case file has distinct bytes."""
    name = f"t_corpus_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    base = tmp_path_factory.mktemp("corpus")
    settings = load_settings({
        "PLANWH_STATE_DIR": str(base / "state"),
        "PLANWH_LANDING_DIR": str(base / "landing"),
        "PLANWH_WAREHOUSE_URL": server_url.rsplit("/", 1)[0] + f"/{name}",
        "PLANWH_PSEUDONYM_KEY": "corpus-key-not-secret",
        "PLANWH_DOTENV": str(base / "no.env"),
    })
    ingest_file(settings, "agencies", write_register(base / "register"), received_at=RECEIVED)
    yield settings
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_file_is_explained_not_dropped(corpus_settings: Settings, tmp_path: Path, case: Case) -> None:
    # GIVEN an agency register (loaded once for the corpus) and one bad file
    settings = corpus_settings
    path = case.build(tmp_path)
    sent = path.read_bytes()

    # WHEN it is ingested
    outcome = ingest_file(settings, case.source, path, received_at=case.received_at, **case.options)

    # THEN it is loaded or rejected with the expected reason, and every row is accounted for
    assert outcome.status == case.status, outcome
    if case.status == "rejected":
        assert outcome.reason_code == case.reason, outcome.reason
        assert outcome.reason
    else:
        assert case.reason in outcome.problem_counts, outcome.problem_counts
    status, reason_code, rows_in, rows_loaded, rows_rejected, rows_skipped, archive_path, sha = query(
        settings, "select status, reason_code, rows_in, rows_loaded, rows_rejected, rows_skipped, archive_path, sha256 "
                  "from landing.files where file_id = %s", (outcome.file_id,))[0]
    assert status == case.status
    in_raw = scalar(settings, f"select count(*) from {RAW_TABLE[case.source]} where file_id = %s", (outcome.file_id,))
    quarantined = scalar(settings, "select count(distinct row_number) from quarantine.rejected_rows "
                                   "where file_id = %s and severity = 'error'", (outcome.file_id,))
    if status == "loaded":
        assert rows_in == rows_loaded + rows_rejected + rows_skipped
        assert rows_loaded == in_raw and rows_rejected == quarantined
        assert rows_rejected >= 1
        contract = CONTRACTS[case.source]
        for column, message in query(settings, "select column_name, message from quarantine.rejected_rows "
                                               "where file_id = %s and column_name not like '%%,%%'",
                                     (outcome.file_id,)):
            assert contract.column(column).vi_header in message, message
    else:
        assert in_raw == 0 and rows_loaded in (None, 0)
        assert rows_in is None or rows_in == rows_loaded + rows_rejected
    assert Path(archive_path).read_bytes() == sent
    assert sha == hashlib.sha256(sent).hexdigest()
    # ... and the sender gets a feedback file naming the reason, each problem said in Vietnamese first
    assert outcome.feedback_csv is not None and outcome.feedback_xlsx is not None
    with open(outcome.feedback_csv, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    assert case.reason in {row[4] for row in rows}
    for row in rows:
        assert VIETNAMESE.search(row[5]) and row[5] != row[6], row


def test_row_messages_name_the_row_the_column_in_vietnamese_and_the_value(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path / "register"), received_at=RECEIVED)
    path = _submissions(submission_row("products_total", "-3"), submission_row(province="99"))(tmp_path)

    outcome = ingest_file(settings, "submissions", path, received_at=RECEIVED)

    rows = query(settings, "select row_number, column_name, value, message from quarantine.rejected_rows "
                           "where file_id = %s order by row_number", (outcome.file_id,))
    assert rows[0][:3] == (3, "value", "-3")
    assert "row 3" in rows[0][3] and "Giá trị" in rows[0][3] and "'-3'" in rows[0][3]
    assert rows[1][:3] == (4, "province_code", "99")
    assert "row 4" in rows[1][3] and "Mã tỉnh" in rows[1][3] and "'99'" in rows[1][3]


def test_a_file_over_the_size_limit_is_rejected_unread_and_not_archived(settings, tmp_path: Path) -> None:
    small = settings.with_overrides(max_file_bytes=200)
    path = write_csv(tmp_path / "big.csv", SUBMISSION_HEADER, [submission_row() for _ in range(10)])
    assert path.stat().st_size > 200

    outcome = ingest_file(small, "submissions", path, received_at=RECEIVED)

    assert (outcome.status, outcome.reason_code) == ("rejected", "file_too_large")
    row = query(settings, "select status, size_bytes, archive_path, sha256, rows_in from landing.files "
                          "where file_id = %s", (outcome.file_id,))[0]
    assert row == ("rejected", path.stat().st_size, None, None, None)
    assert not (settings.archive_dir / "submissions").exists()
    # the same file within the limit is then loaded: a size rejection says nothing about the content
    ingest_file(settings, "agencies", write_register(tmp_path / "register"), received_at=RECEIVED)
    assert ingest_file(settings, "submissions", path, received_at=RECEIVED).status == "loaded"


def test_a_file_refused_for_its_name_can_be_sent_again_under_a_safe_name(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path / "register"), received_at=RECEIVED)
    path = _submissions()(tmp_path)

    refused = ingest_file(settings, "submissions", path, received_at=RECEIVED, original_name="../bao-cao.csv")
    accepted = ingest_file(settings, "submissions", path, received_at=RECEIVED)

    assert refused.reason_code == "unsafe_file_name"
    assert accepted.status == "loaded" and accepted.rows_loaded == 1


def test_formula_and_sql_text_is_stored_as_data_and_neutralised_in_feedback(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path / "register"), received_at=RECEIVED)
    formula = '=HYPERLINK("http://x","y")'
    injection = "'; drop table raw.agency_submissions; --"
    path = write_csv(tmp_path / "bao-cao.csv", SUBMISSION_HEADER, [
        submission_row("books_published", "2", note=formula),
        submission_row("exhibitions_held", "1", note=injection),
        submission_row(formula),
        submission_row(agency=injection),
    ])

    outcome = ingest_file(settings, "submissions", path, received_at=RECEIVED)

    assert (outcome.rows_loaded, outcome.rows_rejected) == (2, 2)
    notes = {r[0] for r in query(settings, "select note from raw.agency_submissions")}
    assert notes == {formula, injection}
    assert {r[0] for r in query(settings, "select value from quarantine.rejected_rows")} == {formula, injection}
    with open(outcome.feedback_csv, encoding="utf-8-sig", newline="") as fh:
        values = [row[3] for row in list(csv.reader(fh))[1:]]
    assert "'" + formula in values and formula not in values
    sheet = openpyxl.load_workbook(outcome.feedback_xlsx).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type == "s" for c in cells)
    assert "'" + formula in {c.value for c in cells}
    assert not any(str(c.value).startswith("=") for c in cells)
