"""The fast path for portal CSVs judges every row as the general (Python object) path does.

Each file below is ingested twice, into two warehouses: once through the fast path and once with
it switched off. The outcome, the loaded rows, the quarantined rows (row number, column, value,
reason code, message), the ledger's counts and version key must be identical, for rows in the
canonical spellings the fast path loads itself, for the spellings only the parsers read, for
every fault of the portal contract and for malformed records.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from ingest_files import PORTAL_HEADER, RECEIVED, RECEIVED_AFTER_MERGER, portal_row

from planwh.ingest import fast_csv
from planwh.ingest.load import ingest_file
from planwh.settings import Settings

VI_HEADER = ["Ngày thống kê", "Mã tỉnh", "Cổng thông tin", "Mã bài viết", "Đường dẫn", "Tiêu đề", "Chủ đề",
             "Ngôn ngữ", "Thời điểm đăng", "Lượt xem", "Lượt truy cập"]


def _row(article: str, **changes: str) -> list[str]:
    row = dict(zip(PORTAL_HEADER, portal_row(article), strict=True))
    row.update(changes)
    return [row[c] for c in PORTAL_HEADER]


# Rows the set-based check loads itself, rows only the Python parsers read, and every fault.
ROWS: list[list[str]] = [
    *[_row(f"ok{i}", page_views=str(100 + i), unique_visitors=str(50 + i)) for i in range(40)],
    _row("dmy", stat_date="30/11/2024", published_at="29/11/2024 08:00"),
    _row("dmy-short", stat_date="1/11/2024", published_at="1/11/2024 8:05"),
    _row("iso-space", published_at="2024-11-29 08:00:00"),
    _row("iso-z", published_at="2024-11-29T01:00:00Z"),
    _row("iso-frac", published_at="2024-11-29T08:00:00.123456+07:00"),
    _row("iso-frac4", published_at="2024-11-29T08:00:00.1234+07:00"),
    _row("offset-nocolon", published_at="2024-11-29T08:00:00+0700"),
    _row("hour-24", published_at="2024-11-29T24:00:00"),
    _row("padded", portal="  quangnam.gov.vn\u00a0", title="\u2003Tiêu đề có khoảng trắng  "),
    _row("nfd", title="Quye\u0302\u0300n con ngu\u031bo\u031b\u0300i"),
    _row("upper-lang", language="VI"),
    _row("en-lang", language=" en "),
    _row("klingon", language="klingon"),
    _row("lang-dash", language="v-i"),
    _row("thousands", page_views="1.234", unique_visitors="1.000"),
    _row("decimal-views", page_views="12,5"),
    _row("neg", page_views="-3", unique_visitors="0"),
    _row("visitors", page_views="10", unique_visitors="25"),
    _row("zero-pad", page_views="0012", unique_visitors="007"),
    _row("province-1digit", province_code="4"),
    _row("province-name", province_code="Quảng Nam"),
    _row("province-3digit", province_code="049"),
    _row("province-unknown", province_code="99"),
    _row("province-current-before-merger", province_code="48"),
    _row("future", stat_date="2024-12-20"),
    _row("published-after", published_at="2024-12-01T09:00:00+07:00"),
    _row("published-future", published_at="2024-12-16T09:00:00+07:00", stat_date="2024-12-14"),
    _row("bad-date", stat_date="31/02/2024"),
    _row("two-digit-year", stat_date="30/11/24"),
    _row("year-2204", stat_date="2204-11-30"),
    _row("serial-date", stat_date="45626"),
    _row("missing-title", title=""),
    _row("missing-views", page_views=" "),
    _row("no-topic", topic=""),
    _row("ok0"),  # duplicate of the first row's key
    _row("quoted, with comma", title='Tiêu đề, có "ngoặc kép" và dấu phẩy'),
    _row("multi-line", title="Dòng một\r\nDòng hai"),
    ["1/12/2024", "49", "quangnam.gov.vn", "late", "https://x/late", "t", "", "vi", "2024-11-29", "5", "5"],
    ["", "", "", "", "", "", "", "", "", "", ""],
]


def _csv(rows: list[list[str]], header: list[str] = PORTAL_HEADER) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


VARIANTS: dict[str, bytes] = {
    "canonical and unusual spellings, every fault": _csv(ROWS),
    "vietnamese header, LF line ends": _csv(ROWS, VI_HEADER).replace(b"\r\n", b"\n"),
    "numbering row under the header": _csv([[f"({i})" for i in range(1, 12)], *ROWS]),
    "utf-8 with BOM": b"\xef\xbb\xbf" + _csv(ROWS),
    "only good rows": _csv(ROWS[:40]),
    "only bad rows": _csv(ROWS[50:60]),
    # Malformed records and files.
    "stray quote inside a field": _csv(ROWS[:5]) + b'2024-11-30,49,quangnam.gov.vn,q1,u,ti"tle,x,vi,2024-11-29,5,5\r\n',
    "quote then text after it": _csv(ROWS[:5]) + b'2024-11-30,49,quangnam.gov.vn,q2,u,"ti"tle,x,vi,2024-11-29,5,5\r\n',
    "blank line in the middle": _csv(ROWS[:5]) + b"\r\n" + _csv(ROWS[5:10]).split(b"\r\n", 1)[1],
    "short record": _csv(ROWS[:5]) + b"2024-11-30,49,quangnam.gov.vn,short\r\n",
    "long record": _csv(ROWS[:5]) + b"2024-11-30,49,quangnam.gov.vn,long,u,t,x,vi,2024-11-29,5,5,extra\r\n",
    "end-of-data marker line": _csv(ROWS[:5]) + b"\\.\r\n" + _csv(ROWS[5:10]).split(b"\r\n", 1)[1],
    "not utf-8 after the header": _csv(ROWS[:5]) + b"2024-11-30,49,p,cp,u,Quy\xeau,x,vi,2024-11-29,5,5\r\n",
    "unterminated quote": _csv(ROWS[:5]) + b'2024-11-30,49,p,uq,u,"never closed,x,vi,2024-11-29,5,5\r\n',
}


@pytest.fixture
def twin(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A second, empty warehouse and state folder next to ``settings``' one."""
    base = settings.warehouse_url.rsplit("/", 1)[0]
    name = f"fast_twin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    yield dataclasses.replace(settings, warehouse_url=f"{base}/{name}", state_dir=tmp_path / "state-twin")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def _snapshot(settings: Settings, file_id: int) -> dict[str, object]:
    with psycopg.connect(settings.warehouse_url) as conn:
        raw = conn.execute(
            "select row_number, stat_date, province_code, portal, article_id, url, title, topic, language, "
            "published_at, page_views, unique_visitors from raw.portal_statistics where file_id = %s "
            "order by row_number", (file_id,)).fetchall()
        rejected = conn.execute(
            "select row_number, column_name, value, reason_code, message, message_vi, severity "
            "from quarantine.rejected_rows "
            "where file_id = %s order by row_number nulls first, reason_code, column_name, message",
            (file_id,)).fetchall()
        ledger = conn.execute(
            "select status, rows_in, rows_loaded, rows_rejected, rows_skipped, skipped_rows, reason_code, portal, "
            "stat_date, file_format, encoding from landing.files where file_id = %s", (file_id,)).fetchone()
    return {"raw": raw, "rejected": rejected, "ledger": ledger}


def _ingest(settings: Settings, path: Path, received: datetime) -> tuple[object, dict[str, object]]:
    outcome = ingest_file(settings, "portal", path, received_at=received)
    comparable = (outcome.status, outcome.rows_in, outcome.rows_loaded, outcome.rows_rejected, outcome.rows_skipped,
                  outcome.reason_code, outcome.problem_counts)
    return comparable, _snapshot(settings, outcome.file_id)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_fast_path_judges_every_row_as_the_python_path(settings: Settings, twin: Settings, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, variant: str) -> None:
    path = tmp_path / "quangnam.gov.vn_2024-11.csv"
    path.write_bytes(VARIANTS[variant])
    taken: list[fast_csv.FastStats] = []
    real = fast_csv.load_portal_csv

    def spy(*args, **kwargs):
        stats = real(*args, **kwargs)
        taken.append(stats)
        return stats

    monkeypatch.setattr(fast_csv, "load_portal_csv", spy)
    monkeypatch.setattr(fast_csv, "FAST_PATH_MIN_BYTES", 0)
    monkeypatch.setattr(fast_csv, "ENABLED", True)
    fast = _ingest(settings, path, RECEIVED)
    monkeypatch.setattr(fast_csv, "ENABLED", False)
    slow = _ingest(twin, path, RECEIVED)

    assert fast[0] == slow[0]
    assert fast[1]["ledger"] == slow[1]["ledger"]
    assert fast[1]["rejected"] == slow[1]["rejected"]
    assert fast[1]["raw"] == slow[1]["raw"]
    status, rows_in, loaded, rejected, skipped, _, _ = fast[0]
    if status == "rejected":
        assert not taken
    else:
        assert rows_in == loaded + rejected + skipped
        assert taken, "the fast path was not taken"
        if variant != "only bad rows":
            assert taken[0].rows_fast > 0, "no row was loaded without the validator"


def test_every_portal_reason_is_covered_and_checked_against_the_receipt(settings: Settings, twin: Settings,
                                                                        tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """After the merger, with a legacy code and an expected day: the same verdicts both ways."""
    rows = [_row(f"m{i}", stat_date="2025-12-14", published_at="2025-12-13T08:00:00+07:00", province_code=code)
            for i, code in enumerate(("48", "49", "01", "1", "79"))]
    path = tmp_path / "after-merger.csv"
    path.write_bytes(_csv(rows))
    monkeypatch.setattr(fast_csv, "FAST_PATH_MIN_BYTES", 0)
    monkeypatch.setattr(fast_csv, "ENABLED", True)
    fast = _ingest(settings, path, RECEIVED_AFTER_MERGER)
    monkeypatch.setattr(fast_csv, "ENABLED", False)
    slow = _ingest(twin, path, RECEIVED_AFTER_MERGER)
    assert fast == slow
    reasons = {r[3] for r in fast[1]["rejected"]}
    assert "province_not_valid_for_period" in reasons


def test_a_wall_clock_received_time_in_another_zone_gives_the_same_future_verdicts(
        settings: Settings, twin: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Received at 23:30 UTC on 14 Dec = 06:30 on 15 Dec in Viet Nam: 15 Dec is not in the future.
    received = datetime(2024, 12, 14, 23, 30, tzinfo=UTC)
    rows = [_row("d15", stat_date="2024-12-15", published_at="2024-12-15T06:00:00+07:00"),
            _row("d15-late", stat_date="2024-12-15", published_at="2024-12-15T06:45:00+07:00"),
            _row("d16", stat_date="2024-12-16")]
    path = tmp_path / "tz.csv"
    path.write_bytes(_csv(rows))
    monkeypatch.setattr(fast_csv, "FAST_PATH_MIN_BYTES", 0)
    monkeypatch.setattr(fast_csv, "ENABLED", True)
    fast = _ingest(settings, path, received)
    monkeypatch.setattr(fast_csv, "ENABLED", False)
    slow = _ingest(twin, path, received)
    assert fast == slow
    assert fast[0][2] == 1


def test_progress_is_reported_per_chunk_of_rows_read(settings: Settings, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_csv, "FAST_PATH_MIN_BYTES", 0)
    monkeypatch.setattr("planwh.ingest.load.CHUNK_ROWS", 100)
    rows = [_row(f"p{i}") for i in range(1050)]
    rows[700] = _row("p700", page_views="1", unique_visitors="5")
    path = tmp_path / "progress.csv"
    path.write_bytes(_csv(rows))
    chunks: list[int] = []
    outcome = ingest_file(settings, "portal", path, received_at=RECEIVED, on_rows=chunks.append)
    assert chunks == [100] * 10 + [50]
    assert (outcome.rows_in, outcome.rows_loaded, outcome.rows_rejected, outcome.rows_skipped) == (1051, 1049, 1, 1)
