"""Feedback files a sender can open safely: every problem, no live formula, Vietnamese and English."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from ingest_files import RECEIVED, SUBMISSION_HEADER, submission_row, write_csv, write_register

from planwh.ingest.feedback import REASON_VI, FeedbackRow, neutralise, safe_stem, write_feedback
from planwh.ingest.load import ingest_file


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "＝1+1", "＋1", "－1", "＠A1",
     "  =cmd|' /C calc'!A0"],
)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Sở Thông tin", "1.234", "2024-Q3", "", "a=b", "x-y"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert neutralise(text) == text


@pytest.mark.parametrize(
    ("name", "stem"),
    [("Báo cáo Sở TT&TT 2024.xlsx", "Bao_cao_So_TT_TT_2024"), ("../../etc/passwd", "passwd"),
     ("đơn vị.csv", "don_vi"), ("....", "file"), ("a\x00b.csv", "a_b")],
)
def test_feedback_file_names_are_plain_ascii(name: str, stem: str) -> None:
    assert safe_stem(name) == stem


def test_every_xlsx_cell_is_a_string_and_the_csv_opens_in_excel(tmp_path: Path) -> None:
    rows = [
        FeedbackRow(3, "value", "Giá trị", "=1+1", "negative_value", "row 3, Giá trị (value): '=1+1' ..."),
        FeedbackRow(4, "value", "Giá trị", "12", "not_whole_number", "row 4 ..."),
        FeedbackRow(None, None, None, None, "no_data_rows", "@the file has no rows"),
    ]

    files = write_feedback(tmp_path, 7, "Báo cáo.xlsx", rows)

    assert files is not None
    assert files.xlsx.name == "7-Bao_cao.feedback.xlsx" and files.csv.name == "7-Bao_cao.feedback.csv"
    sheet = openpyxl.load_workbook(files.xlsx).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value is not None)
    assert values[1][:5] == ["3", "value", "Giá trị", "'=1+1", "negative_value"]
    assert values[1][5] == REASON_VI["negative_value"]
    assert values[2][3] == "12"  # a number as text, not converted
    assert values[3][6] == "'@the file has no rows"
    raw = files.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows the Vietnamese correctly
    with open(files.csv, encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh))[1:] == [[v or "" for v in row] for row in values[1:]]


def test_nothing_to_report_writes_no_file(tmp_path: Path) -> None:
    assert write_feedback(tmp_path, 1, "a.csv", []) is None
    assert list(tmp_path.iterdir()) == []


def test_a_clean_file_gets_no_feedback_and_a_rejected_one_does(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    clean = ingest_file(settings, "submissions",
                        write_csv(tmp_path / "ok.csv", SUBMISSION_HEADER, [submission_row()]), received_at=RECEIVED)
    rejected = ingest_file(settings, "submissions",
                           write_csv(tmp_path / "empty.csv", SUBMISSION_HEADER, []), received_at=RECEIVED)

    assert clean.feedback_csv is None and clean.feedback_xlsx is None
    assert rejected.feedback_csv == settings.feedback_dir / f"{rejected.file_id}-empty.feedback.csv"
    with open(rejected.feedback_csv, encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.reader(fh))[1:]
    assert row[4] == "no_data_rows" and "no data rows" in row[6]
    assert row[5] == "Tệp “empty.csv” có dòng tên cột nhưng không có dòng số liệu nào"


def test_every_reason_code_the_ingestion_can_give_has_a_vietnamese_phrase() -> None:
    import re

    import planwh.ingest as package

    folder = Path(package.__path__[0])
    patterns = (
        r'(?:FileRejected|ParseError|Problem)\(\s*(?:[^"()]*?,\s*)*"([a-z]+(?:_[a-z]+)*)"',
        r'row\.add\([^,]+,\s*"([a-z_]+)"',
        r'reason(?:_code)?\s*=\s*"([a-z_]+)"',
        r'rejection = \("([a-z_]+)"',
        r'^(?:UNSAFE_NAME|TOO_LARGE) = "([a-z_]+)"',
        r"'(duplicate_row)'",
    )
    codes = set()
    for name in ("readers.py", "parsing.py", "validate_rows.py", "load.py", "ledger.py", "pseudonymise.py"):
        text = (folder / name).read_text(encoding="utf-8")
        for pattern in patterns:
            codes.update(re.findall(pattern, text, flags=re.M))
    codes.discard("rejected")
    assert {"empty_file", "no_data_rows", "duplicate_row", "unsafe_file_name", "file_too_large",
            "missing_identifier", "malformed_date"} <= codes
    assert sorted(codes - set(REASON_VI)) == []
