"""Report forms as provinces fill them (``form_corpus``): every data row loads, every bad value is
rejected with its reason, every structural row is skipped and listed, total rows are checked, and
the sender is answered in Vietnamese first -- by the feedback files and by ``planwh check``.
"""

from __future__ import annotations

import argparse
import csv
import re
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import psycopg
import pytest
from form_corpus import (
    LAYOUTS,
    RECEIVED,
    Layout,
    base_register,
    full_official_form,
    non_blank_rows,
    write_csv,
)

from planwh.ingest import cli as ingest_cli
from planwh.ingest.load import RAW_TABLE, FileOutcome, check_file, ingest_file
from planwh.settings import Settings, load_settings

VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
PROBLEM_LINE = re.compile(r"^  Dòng (\d+)")
LAYOUT_IDS = [layout.id for layout in LAYOUTS]


def query(settings: Settings, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def corpus(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict]]:
    """One warehouse holding the register of the forms' agencies and every layout of the corpus,
    each ingested once: {layout id: (path, outcome)}."""
    name = f"t_forms_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    base = tmp_path_factory.mktemp("forms")
    env = {
        "PLANWH_STATE_DIR": str(base / "state"),
        "PLANWH_LANDING_DIR": str(base / "landing"),
        "PLANWH_WAREHOUSE_URL": server_url.rsplit("/", 1)[0] + f"/{name}",
        "PLANWH_PSEUDONYM_KEY": "forms-key-not-secret",
        "PLANWH_DOTENV": str(base / "no.env"),
    }
    settings = load_settings(env)
    settings_env[name] = env
    assert ingest_file(settings, "agencies", base_register(base / "register"), received_at=RECEIVED).status == "loaded"
    results = {}
    for layout in LAYOUTS:
        path = layout.build(base / "sent" / layout.id.replace(" ", "-"))
        results[layout.id] = (path, ingest_file(settings, layout.source, path, received_at=RECEIVED))
    yield settings, results
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


settings_env: dict[str, dict[str, str]] = {}


@pytest.fixture
def checked(corpus, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, dict]:
    """The corpus, with the environment pointed at its warehouse for ``planwh check``."""
    settings, _ = corpus
    (env,) = [e for e in settings_env.values() if e["PLANWH_WAREHOUSE_URL"] == settings.warehouse_url]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return corpus


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="planwh")
    ingest_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_the_corpus_covers_the_three_kinds_of_file_a_clerk_sends() -> None:
    kinds = [layout.source for layout in LAYOUTS]
    assert len(set(LAYOUT_IDS)) == len(LAYOUTS) >= 12
    assert {kind: kinds.count(kind) >= 2 for kind in ("agencies", "submissions", "rosters")} == {
        "agencies": True, "submissions": True, "rosters": True}


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
def test_a_report_form_loads_exactly_its_data_rows(corpus, layout: Layout) -> None:
    settings, results = corpus
    path, outcome = results[layout.id]
    expected = layout.expected
    file_id = outcome.file_id

    # THEN the data rows, and only they, are in the raw table
    assert outcome.status == "loaded", outcome.reason
    loaded = [r for (r,) in query(settings, f"select row_number from {RAW_TABLE[layout.source]} "
                                            "where file_id = %s order by 1", (file_id,))]
    assert loaded == expected.loaded
    # ... every bad value is rejected with its reason, and nothing else is
    problems = query(settings, "select row_number, reason_code, column_name, severity, message, message_vi "
                               "from quarantine.rejected_rows where file_id = %s", (file_id,))
    errors: dict[int, set[str]] = {}
    warnings: dict[int, set[str | None]] = {}
    for row, reason, column, severity, _, _ in problems:
        if severity == "error":
            errors.setdefault(row, set()).add(reason)
        else:
            assert reason == "total_mismatch"
            warnings.setdefault(row, set()).add(column)
    assert errors == expected.rejected
    assert warnings == expected.warnings
    # ... every structural row is skipped, listed by kind and range, and rows in = loaded + rejected + skipped
    ledger = query(settings, "select rows_in, rows_loaded, rows_rejected, rows_skipped, skipped_rows "
                             "from landing.files where file_id = %s", (file_id,))[0]
    assert ledger == (expected.rows_in, len(expected.loaded), len(expected.rejected),
                      sum(run[3] for run in expected.skipped), [list(run) for run in expected.skipped])
    # ... and "rows in" is every row of the sheet that holds anything, counted here without the readers
    assert expected.rows_in == non_blank_rows(path, expected.sheet)
    assert (outcome.totals_checked, outcome.other_sheets, outcome.course_sheet) == (
        expected.totals_checked, expected.other_sheets, expected.course_sheet)
    if expected.sheet is not None:
        assert outcome.sheet == expected.sheet
    # ... with the values as the clerk meant them
    for row, values in expected.values.items():
        columns = ", ".join(values)
        found = query(settings, f"select {columns} from {RAW_TABLE[layout.source]} where file_id = %s and "
                                "row_number = %s", (file_id, row))
        assert found == [tuple(values.values())], row
    if expected.course is not None:
        columns = ", ".join(expected.course)
        assert query(settings, f"select {columns} from raw.training_courses where file_id = %s", (file_id,)) == [
            tuple(expected.course.values())]
    # ... and every message says it in Vietnamese first
    for row, _, _, _, message, message_vi in problems:
        assert message_vi and VIETNAMESE.search(message_vi) and message_vi != message, (row, message_vi)
        assert message_vi.startswith(f"Dòng {row}"), message_vi


def test_rows_in_is_loaded_plus_rejected_plus_skipped_for_every_file_of_the_corpus(corpus) -> None:
    settings, results = corpus
    files = query(settings, "select original_name, status, rows_in, rows_loaded + rows_rejected + rows_skipped "
                            "from landing.files order by file_id")
    assert len(files) == len(LAYOUTS) + 1
    assert [(name, status, rows_in) for name, status, rows_in, _ in files if rows_in != _] == []
    assert {status for _, status, _, _ in files} == {"loaded"}


def test_the_feedback_lists_the_skipped_rows_once_and_every_problem_in_vietnamese_first(corpus) -> None:
    settings, results = corpus
    path, outcome = results["CSV of a form with a total and signatures"]

    with open(outcome.feedback_csv, encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))

    assert header[:3] == ["Dòng / row", "Cột (mã) / column", "Tên cột trong tệp / header in the file"]
    assert header[5] == "Lỗi và cách sửa / problem and how to fix it"
    skipped = [r for r in rows if r[4] == "skipped_rows"]
    assert [r[5] for r in skipped] == ["Bỏ qua, không phải số liệu: phần đầu biểu 1-2; dòng tên cột 3; "
                                       "dòng đánh số cột 4; dòng tổng cộng 10; phần ký tên 12-14"]
    by_row = {(r[0], r[4]): r for r in rows if r[4] != "skipped_rows"}
    assert set(by_row) == {("6", "not_whole_number"), ("7", "percentage_not_count"), ("8", "fraction_not_count"),
                           ("10", "total_mismatch")}
    percent = by_row[("7", "percentage_not_count")]
    assert percent[2:4] == ["Giá trị", "70%"]
    assert percent[5] == ("Dòng 7, cột “Giá trị”: “70%” là tỷ lệ phần trăm, không phải số lượng; hãy ghi số lượng "
                          "cụ thể (ví dụ 7 trên tổng số 10 thì ghi 7)")
    assert percent[6].startswith("row 7, Giá trị (value): '70%' is a percentage, not a count")
    assert percent[7].startswith("lỗi")
    total = by_row[("10", "total_mismatch")]
    assert total[5] == ("Dòng 10 (“Tổng cộng”), cột “Giá trị”: dòng tổng ghi 2.510 nhưng cộng các dòng số liệu 5-9 "
                        "được 2.503, không tính các dòng bị từ chối: 6, 7, 8; hãy kiểm tra lại số liệu hoặc dòng "
                        "tổng (các dòng số liệu vẫn được nạp)")
    assert total[7].startswith("cảnh báo")
    # the workbook opens on a summary a clerk can read, then the same table
    sheet = openpyxl.load_workbook(outcome.feedback_xlsx).active
    lines = [row[0] for row in sheet.iter_rows(values_only=True) if row[0]]
    assert lines[1] == "Tệp “bao-cao-so-vhttdl.csv”"
    assert "Kết quả: 13 dòng có nội dung = 2 dòng số liệu đã được nạp + 3 dòng bị từ chối + 8 dòng bỏ qua " \
           "(không phải số liệu)." in lines
    assert all(isinstance(c, str) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)


def test_the_full_official_form_checks_clean_and_its_feedback_reads_in_vietnamese(checked, tmp_path: Path,
                                                                                  capsys) -> None:
    # GIVEN the full official form, as the clerk would send it again
    path = full_official_form(tmp_path)
    feedback = tmp_path / "phan-hoi.xlsx"

    # WHEN the clerk checks it, without saying what it is
    code = _cli(["check", str(path), "--received-at", "2024-12-15T09:00+07:00", "--feedback", str(feedback)])

    # THEN it is recognised, every data row would load, and no line speaks of a structural row
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Loại số liệu: báo cáo kết quả thực hiện (nhận ra từ dòng tên cột)" in out
    assert ("Kết quả: 25 dòng có nội dung = 5 dòng số liệu sẽ được nạp + 0 dòng sẽ bị từ chối + 20 dòng bỏ qua "
            "(không phải số liệu).") in out
    assert ("Bỏ qua: phần đầu biểu 1-6; dòng tên cột 7-8; dòng đánh số cột 9; dòng ẩn 10; dòng tên mục 11, 16; "
            "dòng cộng 15, 19; dòng tổng cộng 20; ghi chú 21; phần ký tên 23-28.") in out
    assert "Đối chiếu dòng tổng: 3 dòng tổng đã đối chiếu, 3 dòng khớp." in out
    assert "Không đọc các trang tính khác: “Hướng dẫn”, “DM chỉ tiêu” (ẩn)." in out
    assert not [line for line in out.splitlines() if PROBLEM_LINE.match(line) or "Lỗi" in line]
    # ... and the feedback workbook says the same to the clerk
    sheet = openpyxl.load_workbook(feedback).active
    cells = [row[0] for row in sheet.iter_rows(values_only=True) if row[0]]
    assert cells[0] == "PHẢN HỒI KẾT QUẢ KIỂM TRA TỆP SỐ LIỆU / Feedback on the data file"
    assert cells[1] == "Tệp “bieu-01-bao-cao-ket-qua-2024.xlsx”, trang tính “Biểu 01”"
    assert "Loại số liệu: báo cáo kết quả thực hiện" in cells


def test_a_bad_value_in_the_full_form_is_named_by_the_column_as_the_clerk_wrote_it(checked, tmp_path: Path,
                                                                                   capsys) -> None:
    path = full_official_form(tmp_path, ethnic_products="15%")

    code = _cli(["check", str(path), "--received-at", "2024-12-15T09:00+07:00", "--no-feedback"])

    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    at = lines.index("  Dòng 13, cột “Số lượng”: “15%” là tỷ lệ phần trăm, không phải số lượng; hãy ghi số lượng cụ "
                     "thể (ví dụ 7 trên tổng số 10 thì ghi 7)")
    assert lines[at + 1].startswith("      row 13, Số lượng (Giá trị, value): '15%' is a percentage, not a count")
    assert lines[at + 1].endswith("[percentage_not_count]")
    # the subtotal and the total now count a row that is not loaded: a warning each, after the error
    warnings = [line for line in lines if line.startswith("  Dòng 15") or line.startswith("  Dòng 20")]
    assert len(warnings) == 2 and all("không tính các dòng bị từ chối: 13" in line for line in warnings)
    assert lines.index("Cảnh báo, dòng vẫn được nạp / Warnings, rows still loaded:") > at


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
def test_planwh_check_prints_no_problem_line_for_a_structural_row(checked, layout: Layout, tmp_path: Path,
                                                                 capsys) -> None:
    settings, results = checked
    path, _ = results[layout.id]
    feedback = tmp_path / "check.xlsx"

    code = _cli(["check", str(path), "--received-at", "2024-12-15T09:00+07:00", "--feedback", str(feedback)])

    out = capsys.readouterr().out
    rows = [int(m.group(1)) for line in out.splitlines() if (m := PROBLEM_LINE.match(line))]
    expected = layout.expected
    assert sorted(rows) == sorted([r for r, reasons in expected.rejected.items() for _ in reasons]
                                  + [r for r, columns in expected.warnings.items() for _ in columns])
    assert code == (1 if expected.rejected else 0)
    assert feedback.is_file()


def _missing_value_column(folder: Path) -> Path:
    return full_official_form(folder, with_value_column=False, name="bieu-01-thieu-cot.xlsx")


def _corrupt_workbook(folder: Path) -> Path:
    path = folder / "bao-cao-hong.xlsx"
    good = full_official_form(folder)
    path.write_bytes(good.read_bytes()[:2000])
    return path


def _word_document(folder: Path) -> Path:
    path = folder / "bao-cao.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    return path


@pytest.mark.parametrize(("build", "reason", "sentence"), [
    (lambda f: write_csv(f / "bao-cao-rong.csv", []), "empty_file",
     "Tệp “bao-cao-rong.csv” không có dữ liệu: tệp rỗng"),
    (_corrupt_workbook, "unreadable",
     "Tệp “bao-cao-hong.xlsx” bị hỏng, không đọc được; hãy mở tệp gốc bằng Excel, lưu lại thành .xlsx rồi gửi lại"),
    (_word_document, "unsupported_format",
     "Tệp “bao-cao.docx” là văn bản Word, không phải bảng tính mà hệ thống đọc được; hãy lưu lại thành tệp .xlsx "
     "(Excel Workbook) hoặc CSV UTF-8 rồi gửi lại"),
    (_missing_value_column, "missing_columns",
     "Tệp “bieu-01-thieu-cot.xlsx” (trang tính “Biểu 01”) thiếu cột “Giá trị” (value) ở dòng tên cột (dòng 7); "
     "báo cáo kết quả thực hiện cần có các cột “Mã tỉnh”, “Mã đơn vị”, “Tên đơn vị”, “Kỳ báo cáo”, “Mã chỉ tiêu”, "
     "“Giá trị”, “Ngày báo cáo”"),
], ids=["empty", "unreadable", "not a spreadsheet", "a column missing"])
def test_planwh_check_says_in_one_vietnamese_sentence_why_a_file_cannot_be_taken(
        settings, tmp_path: Path, capsys, build, reason: str, sentence: str) -> None:
    path = build(tmp_path)
    feedback = tmp_path / "phan-hoi.xlsx"

    code = _cli(["check", str(path), "--feedback", str(feedback)])

    out = capsys.readouterr().out
    assert code == 3
    assert f"CẢ TỆP BỊ TỪ CHỐI: {sentence}\n" in out
    english = next(line for line in out.splitlines() if line.startswith("  THE WHOLE FILE IS REJECTED"))
    assert english.endswith(f"[{reason}]")
    # one sentence: the reason is not a list of what each kind of file would have needed
    assert sentence.count(". ") == 0 and "agencies:" not in out
    cells = [c for row in openpyxl.load_workbook(feedback).active.iter_rows(values_only=True) for c in row if c]
    assert f"CẢ TỆP BỊ TỪ CHỐI: {sentence}" in cells


def test_a_file_matching_no_kind_of_data_is_said_to_be_so(settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "thu-moi.csv", [["Kính gửi", "Các đơn vị"], ["Nội dung", "Mời họp"]])

    outcome: FileOutcome = check_file(settings, path)

    assert (outcome.status, outcome.source, outcome.reason_code) == ("rejected", None, "no_header")
    assert outcome.reason_vi.startswith("Tệp “thu-moi.csv” không có dòng tên cột của loại số liệu nào mà hệ thống "
                                        "tiếp nhận (danh mục đơn vị, báo cáo kết quả thực hiện, thống kê cổng thông "
                                        "tin, danh sách học viên)")


def test_check_help_documents_the_exit_codes(capsys) -> None:
    with pytest.raises(SystemExit):
        _cli(["check", "--help"])
    out = capsys.readouterr().out
    for line in ("0  the file would load whole", "1  the file would load but some rows would be rejected",
                 "2  the command could not run", "3  the whole file would be rejected", "--feedback PATH"):
        assert line in out


def test_a_missing_file_is_said_in_vietnamese_and_exits_2(tmp_path: Path, capsys) -> None:
    assert _cli(["check", str(tmp_path / "khong-co.xlsx")]) == 2
    assert "Không tìm thấy tệp" in capsys.readouterr().err


def test_the_default_feedback_goes_beside_the_file_but_never_into_the_landing_folder(settings, tmp_path: Path) -> None:
    from planwh.ingest.load import default_feedback_path

    mine = tmp_path / "Báo cáo Sở TT.xlsx"
    landed = settings.landing_dir / "submissions" / "bao-cao.xlsx"
    landed.parent.mkdir(parents=True)

    assert default_feedback_path(settings, mine) == tmp_path / "Bao_cao_So_TT.feedback.xlsx"
    assert default_feedback_path(settings, landed) == settings.feedback_dir / "check" / "bao-cao.feedback.xlsx"
