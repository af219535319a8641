"""Loading: typed rows with lineage, per-file transactions, folders, the dry run and the commands."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from ingest_files import (
    PORTAL_HEADER,
    RECEIVED,
    REGISTER_HEADER,
    REGISTER_ROWS,
    SUBMISSION_HEADER,
    csv_text,
    portal_row,
    query,
    raw_counts,
    scalar,
    submission_row,
    trainee,
    write_csv,
    write_register,
    write_roster,
)

from planwh.ingest import cli as ingest_cli
from planwh.ingest import load
from planwh.ingest.load import check_file, ingest_file, ingest_landing, ingest_paths


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Excel writes it: a toned letter missing from the code page is its base
    letter followed by a combining tone mark."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out.append((base + "".join(c for c in parts if c in tones)).encode("cp1258"))
    return b"".join(out)


def test_submissions_load_typed_with_file_and_row_lineage(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    path = write_csv(tmp_path / "bc.csv", SUBMISSION_HEADER, [
        submission_row("products_total", "1.234"),
        submission_row("task_status", "2", task="2.1", period="Quý 3/2024", submitted="05/10/2024"),
        submission_row("spokesperson_mechanism", "1", period="Tháng 11/2024"),
    ], title="BÁO CÁO KẾT QUẢ THỰC HIỆN KẾ HOẠCH 9034")

    outcome = ingest_file(settings, "submissions", path, received_at=RECEIVED)

    # rows in = loaded + rejected + skipped: the title line and the header are skipped, not data
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded, outcome.rows_rejected, outcome.rows_skipped) == (
        "loaded", 5, 3, 0, 2)
    assert query(settings, "select rows_in, rows_loaded, rows_rejected, rows_skipped, skipped_rows from landing.files "
                           "where file_id = %s", (outcome.file_id,)) == [(5, 3, 0, 2, [["title", 1, 1, 1],
                                                                                       ["header", 2, 2, 1]])]
    rows = query(settings, """
        select file_id, row_number, province_code, agency_code, period, period_kind, period_start, period_end,
               measure_code, value, task_code, submitted_at
        from raw.agency_submissions order by row_number""")
    fid = outcome.file_id
    assert rows == [
        (fid, 3, "49", "STTTT", "2024", "year", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "products_total",
         Decimal("1234"), None, dt.date(2024, 11, 30)),
        (fid, 4, "49", "STTTT", "2024-Q3", "quarter", dt.date(2024, 7, 1), dt.date(2024, 9, 30), "task_status",
         Decimal("2"), "2.1", dt.date(2024, 10, 5)),
        (fid, 5, "49", "STTTT", "2024-11", "month", dt.date(2024, 11, 1), dt.date(2024, 11, 30),
         "spokesperson_mechanism", Decimal("1"), None, dt.date(2024, 11, 30)),
    ]
    # the version key of a single-agency, single-period file; here the periods differ
    assert query(settings, "select agency_code, province_code, period from landing.files where file_id = %s",
                 (fid,)) == [("STTTT", "49", None)]


def test_an_excel_workbook_with_a_cp1258_csv_twin_loads_the_same_values(settings, tmp_path: Path) -> None:
    # GIVEN the same report as an XLSX with Vietnamese headers and typed cells, and as a CSV saved by
    # Excel in Windows-1258 with a title row, Vietnamese numbers and trailing blank rows
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    book_path = tmp_path / "Báo cáo STTTT.xlsx"
    book = xlsxwriter.Workbook(book_path)
    sheet = book.add_worksheet("Báo cáo")
    sheet.write(0, 0, "BÁO CÁO KẾT QUẢ NĂM 2024")
    sheet.write_row(2, 0, SUBMISSION_HEADER)
    sheet.write_row(3, 0, ["49", "STTTT", "Sở Thông tin và Truyền thông", "2024", "products_total"])
    sheet.write_number(3, 5, 1234.5 - 0.5)
    sheet.write_datetime(3, 8, dt.datetime(2024, 11, 30), book.add_format({"num_format": "dd/mm/yyyy"}))
    sheet.write_row(4, 0, ["49", "STTTT", "Sở Thông tin và Truyền thông", "2024", "books_published", "3"])
    sheet.write(4, 8, "30/11/2024")
    book.close()
    cp1258 = tmp_path / "bao-cao-cp1258.csv"
    text = csv_text([["BÁO CÁO KẾT QUẢ NĂM 2024"], SUBMISSION_HEADER,
                     submission_row("products_total", "1.234", submitted="30/11/2024"),
                     submission_row("books_published", "3"), [], []])
    cp1258.write_bytes(to_cp1258(text))

    # WHEN both are loaded
    outcomes = [ingest_file(settings, "submissions", p, received_at=RECEIVED) for p in (book_path, cp1258)]

    # THEN they give the same values (the second supersedes the first)
    assert [(o.status, o.rows_loaded, o.rows_rejected) for o in outcomes] == [("loaded", 2, 0)] * 2
    assert outcomes[1].supersedes_file_id == outcomes[0].file_id
    values = query(settings, "select file_id, measure_code, value, agency_name from raw.agency_submissions "
                             "order by file_id, measure_code")
    by_file = {}
    for fid, measure, value, name in values:
        by_file.setdefault(fid, []).append((measure, value, name))
    first, second = by_file.values()
    assert first == second == [("books_published", Decimal("3"), "Sở Thông tin và Truyền thông"),
                               ("products_total", Decimal("1234"), "Sở Thông tin và Truyền thông")]
    assert query(settings, "select file_format, encoding from landing.files where file_id = %s",
                 (outcomes[1].file_id,))[0][1].replace("-", "").lower() in ("cp1258", "windows1258")


def test_agency_register_loads_with_validity_and_resolves_names(settings, tmp_path: Path) -> None:
    rows = [*REGISTER_ROWS, ["SGD", "Sở Giáo dục và Đào tạo", "Quảng Nam", "Sở, ban, ngành cấp tỉnh", "Annual",
                             "1/1/2023", ""]]
    outcome = ingest_file(settings, "agencies", write_csv(tmp_path / "dm.csv", REGISTER_HEADER, rows),
                          received_at=RECEIVED)

    assert (outcome.rows_loaded, outcome.rows_rejected) == (5, 0)
    assert query(settings, "select agency_code, province_code, agency_kind, reporting, valid_from, valid_to "
                           "from raw.agency_register where agency_code in ('SGD', 'UBND-TK') order by 1") == [
        ("SGD", "49", "department", "annual", dt.date(2023, 1, 1), None),
        ("UBND-TK", "49", "district_committee", "annual", dt.date(2023, 1, 1), dt.date(2025, 6, 30)),
    ]


def test_portal_rows_load_with_timestamps_and_language_codes(settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "portal.csv", PORTAL_HEADER, [
        portal_row("a1", "1.200", "800"),
        portal_row("a2", "5", "5", language="KM", published="29/11/2024 20:15"),
    ])

    outcome = ingest_file(settings, "portal", path, received_at=RECEIVED)

    assert (outcome.rows_loaded, outcome.rows_rejected) == (2, 0)
    rows = query(settings, "select article_id, language, page_views, unique_visitors, published_at "
                           "from raw.portal_statistics order by article_id")
    assert [r[:4] for r in rows] == [("a1", "vi", 1200, 800), ("a2", "km", 5, 5)]
    assert rows[1][4] == dt.datetime(2024, 11, 29, 13, 15, tzinfo=dt.UTC)
    assert query(settings, "select portal, stat_date from landing.files where file_id = %s", (outcome.file_id,)) == [
        ("quangnam.gov.vn", dt.date(2024, 11, 30))]


def test_a_roster_loads_its_course_and_pseudonymised_trainees(settings, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "ds.csv", "QN-2024-01", [
        trainee("Nguyễn Thị Hương", "049190001234", category="Cán bộ, công chức làm công tác quyền con người"),
        trainee("Trần Văn Bảo", "", "CB-7", category="info_official", completed="chưa hoàn thành"),
    ])

    outcome = ingest_file(settings, "rosters", path, received_at=RECEIVED)

    assert (outcome.rows_loaded, outcome.rows_rejected) == (2, 0)
    assert query(settings, "select file_id, course_id, organiser_agency_code, province_code, start_date, end_date, "
                           "mode from raw.training_courses") == [
        (outcome.file_id, "QN-2024-01", "STTTT", "49", dt.date(2024, 3, 12), dt.date(2024, 3, 14), "Trực tiếp")]
    rows = query(settings, "select course_id, category, attended, completed, length(person_key) "
                           "from raw.training_attendance order by row_number")
    assert rows == [("QN-2024-01", "hr_official", True, True, 64), ("QN-2024-01", "info_official", True, False, 64)]
    assert query(settings, "select course_id from landing.files where file_id = %s", (outcome.file_id,)) == [
        ("QN-2024-01",)]


def test_a_big_file_is_streamed_in_chunks_and_loaded_in_one_transaction(settings, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "CHUNK_ROWS", 100)
    rows = [portal_row(f"a{i}", str(i + 10), str(i)) for i in range(1050)]
    rows[700] = portal_row("a700", "1", "5")
    path = write_csv(tmp_path / "portal.csv", PORTAL_HEADER, rows)
    chunks: list[int] = []

    outcome = ingest_file(settings, "portal", path, received_at=RECEIVED, on_rows=chunks.append)

    assert chunks == [100] * 10 + [50]
    assert (outcome.rows_in, outcome.rows_loaded, outcome.rows_rejected, outcome.rows_skipped) == (1051, 1049, 1, 1)
    assert scalar(settings, "select count(*) from raw.portal_statistics") == 1049


def test_a_file_failing_half_way_leaves_no_rows_behind(settings, tmp_path: Path, monkeypatch) -> None:
    # GIVEN a reader that breaks after the first chunk was already copied into raw
    monkeypatch.setattr(load, "CHUNK_ROWS", 10)
    path = write_csv(tmp_path / "portal.csv", PORTAL_HEADER, [portal_row(f"a{i}") for i in range(30)])
    real_read = load.read_file

    def breaking_read(*args, **kwargs):
        result = real_read(*args, **kwargs)
        chunks = result.rows

        def rows():
            yield next(chunks)
            raise load.FileRejected("unreadable", "the disk went away")

        result.rows = rows()
        return result

    monkeypatch.setattr(load, "read_file", breaking_read)

    outcome = ingest_file(settings, "portal", path, received_at=RECEIVED)

    assert (outcome.status, outcome.reason_code) == ("rejected", "unreadable")
    assert raw_counts(settings)["raw.portal_statistics"] == 0
    assert query(settings, "select status, rows_loaded from landing.files") == [("rejected", None)]


def test_folders_expand_to_their_files_in_name_order_skipping_hidden_ones(settings, tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "submissions"
    write_register(tmp_path / "reg")
    ingest_file(settings, "agencies", tmp_path / "reg" / "danh-muc-49.csv", received_at=RECEIVED)
    write_csv(folder / "b" / "2.csv", SUBMISSION_HEADER, [submission_row("books_published", "2")])
    write_csv(folder / "a.csv", SUBMISSION_HEADER, [submission_row("books_published", "1")])
    write_csv(folder / ".hidden.csv", SUBMISSION_HEADER, [submission_row("books_published", "9")])
    (folder / "~$a.xlsx").write_bytes(b"lock file of an open workbook")

    outcomes = ingest_paths(settings, "submissions", [folder], progress=False, received_at=RECEIVED)

    assert [o.path.relative_to(folder).as_posix() for o in outcomes] == ["a.csv", "b/2.csv"]
    assert [o.status for o in outcomes] == ["loaded", "loaded"]
    with pytest.raises(load.IngestError, match="no such file"):
        ingest_paths(settings, "submissions", [tmp_path / "nope.csv"], progress=False)


def test_the_landing_scan_skips_files_already_processed_without_new_ledger_rows(settings) -> None:
    write_register(settings.landing_dir / "agencies")
    write_csv(settings.landing_dir / "submissions" / "x.csv", SUBMISSION_HEADER, [submission_row()])

    first = ingest_landing(settings, "agencies") + ingest_landing(settings, "submissions")
    ledger_rows = scalar(settings, "select count(*) from landing.files")
    second = ingest_landing(settings, "agencies") + ingest_landing(settings, "submissions")

    assert [o.status for o in first] == ["loaded", "loaded"]
    assert second == []
    assert scalar(settings, "select count(*) from landing.files") == ledger_rows == 2
    assert ingest_landing(settings, "rosters") == []  # no folder, nothing to do


def test_a_dry_run_reports_problems_and_leaves_no_trace(settings, tmp_path: Path) -> None:
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    before = raw_counts(settings), scalar(settings, "select count(*) from landing.files")
    path = write_csv(tmp_path / "bc.csv", SUBMISSION_HEADER,
                     [submission_row(), submission_row("products_total", "-1"), submission_row(agency="KHONG")])

    outcome = check_file(settings, path, received_at=RECEIVED)

    assert outcome.source == "submissions"  # guessed from the header
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded, outcome.rows_rejected) == ("checked", 4, 1, 2)
    assert [p.reason_code for p in outcome.problems] == ["negative_value", "agency_not_registered"]
    assert (raw_counts(settings), scalar(settings, "select count(*) from landing.files")) == before
    assert not (settings.archive_dir / "submissions").exists()
    assert not settings.feedback_dir.exists() or not any(settings.feedback_dir.glob("*bc*"))


def test_a_dry_run_on_an_empty_warehouse_creates_nothing(settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "portal.csv", PORTAL_HEADER, [portal_row()])
    outcome = check_file(settings, path, received_at=RECEIVED)
    assert (outcome.source, outcome.status, outcome.rows_loaded) == ("portal", "checked", 1)
    assert scalar(settings, "select count(*) from information_schema.schemata where schema_name = 'landing'") == 0


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="planwh")
    ingest_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_the_ingest_command_prints_a_table_and_exits_1_only_for_whole_file_rejections(
    settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register = write_register(tmp_path / "agencies")
    good = write_csv(tmp_path / "sub" / "1-good.csv", SUBMISSION_HEADER,
                     [submission_row(), submission_row("books_published", "-2")])
    assert _cli(["ingest", "agencies", str(register), "--received-at", "2024-12-15T09:00"]) == 0
    assert _cli(["ingest", "submissions", str(good), "--received-at", "2024-12-15T09:00", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1-good.csv" in out and "negative_value x1" in out and "feedback" in out
    assert "rows in 3, loaded 1, rejected 1, skipped 1" in out

    write_csv(tmp_path / "sub" / "2-empty.csv", SUBMISSION_HEADER, [])
    assert _cli(["ingest", "submissions", str(tmp_path / "sub"), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "duplicate" in out and "no_data_rows" in out

    assert _cli(["ingest", "submissions", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_check_command_prints_problems_and_exits_1(settings, tmp_path: Path, capsys) -> None:
    path = write_csv(tmp_path / "p.csv", PORTAL_HEADER, [portal_row(), portal_row("a2", "3", "9")])

    assert _cli(["check", str(path), "--received-at", "2024-12-15"]) == 1

    out = capsys.readouterr().out
    assert "Loại số liệu: thống kê cổng thông tin (nhận ra từ dòng tên cột)" in out
    vietnamese = "  Dòng 3, cột “unique_visitors”: 9 lượt truy cập nhiều hơn 3 lượt xem của cùng dòng\n"
    english = "      row 3, Lượt truy cập (unique_visitors): 9 unique visitors is more than the 3 page views"
    assert vietnamese + english in out
    assert (tmp_path / "p.feedback.xlsx").is_file()
    clean = write_csv(tmp_path / "ok.csv", PORTAL_HEADER, [portal_row()])
    assert _cli(["check", str(clean), "--source", "portal", "--received-at", "2024-12-15"]) == 0


def test_each_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("ingest", "check"):
        with pytest.raises(SystemExit) as exit_info:
            _cli([command, "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert "Examples:" in out and f"planwh {command} " in out


def test_received_at_can_come_from_the_files_modification_time(settings, tmp_path: Path) -> None:
    import os

    register = write_register(tmp_path / "agencies")
    sent = dt.datetime(2024, 12, 2, 3, 4, 5, tzinfo=dt.UTC)
    os.utime(register, (sent.timestamp(), sent.timestamp()))
    future = write_register(tmp_path / "later", REGISTER_ROWS[:1])
    os.utime(future, (4102444800, 4102444800))  # 2100: clamped to now

    assert _cli(["ingest", "agencies", str(register), str(future), "--received-at", "mtime", "--no-progress"]) == 0

    received = [r[0] for r in query(settings, "select received_at from landing.files order by file_id")]
    assert received[0] == sent
    assert dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5) < received[1] <= dt.datetime.now(dt.UTC)


def test_a_province_name_used_before_and_after_the_merger_is_resolved_by_each_rows_date(settings, tmp_path) -> None:
    rows = [
        ["GL-SO", "Sở TT&TT Gia Lai", "Gia Lai", "department", "annual", "01/01/2023", "30/06/2025"],
        ["GL-SO2", "Sở KH&CN Gia Lai", "Tỉnh Gia Lai", "department", "annual", "01/07/2025", ""],
        ["GL-SO3", "Sở VH Gia Lai", "Gia Lai", "department", "annual", "01/03/2024", ""],
    ]
    outcome = ingest_file(settings, "agencies", write_csv(tmp_path / "dm.csv", REGISTER_HEADER, rows),
                          received_at=RECEIVED)
    assert outcome.rows_loaded == 3
    assert query(settings, "select agency_code, province_code from raw.agency_register order by row_number") == [
        ("GL-SO", "64"), ("GL-SO2", "52"), ("GL-SO3", "64")]
