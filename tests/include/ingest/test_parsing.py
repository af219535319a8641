"""Value parsers for what Vietnamese senders write by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from planwh.ingest.parsing import (
    VIETNAM_TZ,
    ParseError,
    Period,
    ProvinceResolver,
    normalise_national_id,
    normalise_text,
    parse_bool,
    parse_date,
    parse_int,
    parse_number,
    parse_percent,
    parse_period,
    parse_timestamp,
)

SEEDS = Path(__file__).resolve().parents[3] / "dbt_project" / "seeds"


def reason(func, text) -> str:
    with pytest.raises(ParseError) as info:
        func(text)
    return info.value.reason_code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", "1234"),
        ("1.234", "1234"),  # Vietnamese thousands
        ("12.345", "12345"),
        ("1.234.567", "1234567"),
        ("1.234,5", "1234.5"),  # Vietnamese decimals
        ("1,5", "1.5"),
        ("1,234", "1.234"),  # a single comma is always the decimal comma
        ("1,234.5", "1234.5"),  # English
        ("1,234,567", "1234567"),
        ("12.5", "12.5"),  # not three digits after the dot: a decimal point
        ("0.125", "0.125"),  # leading 0: a decimal point
        ("1234.567", "1234.567"),  # four digits before the dot cannot be a thousands group
        ("1 234 567", "1234567"),
        ("1\u00a0234,5", "1234.5"),
        ("-3", "-3"),
        ("  42  ", "42"),
        (",5", "0.5"),
        ("1.5E+3", "1500"),
    ],
)
def test_parse_number_reads_vietnamese_and_english_forms(text: str, expected: str) -> None:
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text", ["abc", "1.2.3,4,5", "1.23.4", "12,34,567", "5.", "1 2 3", "1,2.3,4", "--1", "1e5x"]
)
def test_parse_number_rejects_malformed_numbers(text: str) -> None:
    assert reason(parse_number, text) == "malformed_number"


@pytest.mark.parametrize(
    ("text", "code"),
    [("70%", "percentage_not_count"), ("70,5 %", "percentage_not_count"), ("3/4", "fraction_not_count"),
     ("1,5 / 2", "fraction_not_count")],
)
def test_a_percentage_or_a_fraction_is_never_read_as_a_count(text: str, code: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_number(text)
    assert info.value.reason_code == code
    assert "không phải số lượng" in info.value.message_vi and "not a count" in info.value.message


def test_a_date_in_a_number_cell_says_excel_made_it_a_date() -> None:
    with pytest.raises(ParseError) as info:
        parse_number("03/04/2024")
    assert info.value.reason_code == "malformed_number" and "là một ngày" in info.value.message_vi


@pytest.mark.parametrize("text", ["", "   ", None])
def test_parse_number_rejects_empty(text) -> None:
    assert reason(parse_number, text) == "empty"


def test_parse_int_accepts_whole_numbers_only() -> None:
    assert parse_int("12") == 12
    assert parse_int("12,0") == 12
    assert parse_int("1.234") == 1234
    assert reason(parse_int, "12,5") == "not_integer"
    assert reason(parse_int, "1,234") == "not_integer"  # English thousands are refused, not shrunk


def test_parse_percent_keeps_percent_units() -> None:
    assert parse_percent("70%") == 70
    assert parse_percent("70") == 70
    assert parse_percent("0,7") == Decimal("0.7")


@pytest.mark.parametrize(
    "text",
    [
        "30/11/2024",
        "30-11-2024",
        "30.11.2024",
        "2024-11-30",
        "2024/11/30",
        "ngày 30 tháng 11 năm 2024",
        "Ngày 30/11/2024",
        "30 tháng 11 năm 2024",
        "45626",
        "45626.0",
        "30/11/2024 14:05",
        "2024-11-30 00:00:00",
    ],
)
def test_parse_date_forms(text: str) -> None:
    assert parse_date(text) == date(2024, 11, 30)


def test_parse_date_single_digit_day_and_month() -> None:
    assert parse_date("1/2/2024") == date(2024, 2, 1)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("31/02/2024", "invalid_date"),
        ("29/02/2023", "invalid_date"),
        ("11/30/2024", "invalid_date"),  # month/day order is not Vietnamese
        ("30/11/2204", "invalid_date"),
        ("30/11/24", "ambiguous_date"),
        ("abc", "malformed_date"),
        ("2024", "malformed_date"),
        ("30/11/202", "malformed_date"),
        ("", "empty"),
    ],
)
def test_parse_date_rejections(text: str, code: str) -> None:
    assert reason(parse_date, text) == code


def test_parse_timestamp_forms() -> None:
    utc = UTC
    assert parse_timestamp("2024-11-30T14:05:00+07:00") == datetime(2024, 11, 30, 7, 5, tzinfo=utc)
    assert parse_timestamp("2024-11-30T07:05:00Z") == datetime(2024, 11, 30, 7, 5, tzinfo=utc)
    naive = parse_timestamp("2024-11-30T14:05:00")
    assert naive.utcoffset() == timedelta(hours=7) and naive == datetime(2024, 11, 30, 7, 5, tzinfo=utc)
    assert parse_timestamp("30/11/2024 14:05") == datetime(2024, 11, 30, 14, 5, tzinfo=VIETNAM_TZ)
    assert parse_timestamp("30/11/2024 14:05:33") == datetime(2024, 11, 30, 14, 5, 33, tzinfo=VIETNAM_TZ)
    assert parse_timestamp("30/11/2024 14h05") == datetime(2024, 11, 30, 14, 5, tzinfo=VIETNAM_TZ)
    assert parse_timestamp("30/11/2024") == datetime(2024, 11, 30, tzinfo=VIETNAM_TZ)
    assert parse_timestamp("45626.5") == datetime(2024, 11, 30, 12, 0, tzinfo=VIETNAM_TZ)
    assert reason(parse_timestamp, "30/11/2024 25:00") == "invalid_timestamp"
    assert reason(parse_timestamp, "yesterday") == "malformed_timestamp"
    assert reason(parse_timestamp, "2024-13-01T00:00:00") == "invalid_timestamp"
    assert reason(parse_timestamp, "31/02/2024 10:00") == "invalid_timestamp"


@pytest.mark.parametrize(
    "text", ["yes", "Y", "TRUE", "1", "x", "X", "√", "✓", "có", "Có", "Có mặt", "Đạt", "Hoàn thành"]
)
def test_parse_bool_true(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize(
    "text",
    ["no", "n", "false", "0", "", "  ", None, "không", "Không", "Vắng", "Chưa hoàn thành", "Không đạt"],
)
def test_parse_bool_false(text) -> None:
    assert parse_bool(text) is False


def test_parse_bool_rejects_other_words() -> None:
    assert reason(parse_bool, "maybe") == "invalid_bool"
    assert reason(parse_bool, "2") == "invalid_bool"


@pytest.mark.parametrize(
    ("text", "code", "kind", "start", "end"),
    [
        ("2024", "2024", "year", date(2024, 1, 1), date(2024, 12, 31)),
        ("Năm 2024", "2024", "year", date(2024, 1, 1), date(2024, 12, 31)),
        ("2024-Q3", "2024-Q3", "quarter", date(2024, 7, 1), date(2024, 9, 30)),
        ("Q3/2024", "2024-Q3", "quarter", date(2024, 7, 1), date(2024, 9, 30)),
        ("Quý 3/2024", "2024-Q3", "quarter", date(2024, 7, 1), date(2024, 9, 30)),
        ("Quý III năm 2024", "2024-Q3", "quarter", date(2024, 7, 1), date(2024, 9, 30)),
        ("quý IV - 2024", "2024-Q4", "quarter", date(2024, 10, 1), date(2024, 12, 31)),
        ("2024-11", "2024-11", "month", date(2024, 11, 1), date(2024, 11, 30)),
        ("11/2024", "2024-11", "month", date(2024, 11, 1), date(2024, 11, 30)),
        ("Tháng 11/2024", "2024-11", "month", date(2024, 11, 1), date(2024, 11, 30)),
        ("Tháng 2 năm 2024", "2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),
        ("2024-12", "2024-12", "month", date(2024, 12, 1), date(2024, 12, 31)),
    ],
)
def test_parse_period_forms(text: str, code: str, kind: str, start: date, end: date) -> None:
    assert parse_period(text) == Period(code, kind, start, end)


def test_parse_period_rejections() -> None:
    assert reason(parse_period, "2024-13") == "invalid_period"
    assert reason(parse_period, "Quý 5/2024") == "malformed_period"
    assert reason(parse_period, "6 tháng đầu năm 2024") == "malformed_period"
    assert reason(parse_period, "24") == "malformed_period"


def test_normalise_national_id() -> None:
    assert normalise_national_id("001 090 012 345") == "001090012345"
    assert normalise_national_id("001.090.012.345") == "001090012345"
    assert normalise_national_id("123-456-789") == "123456789"  # old CMND
    # Excel stored the CCCD as a number and dropped its leading 0
    assert normalise_national_id("10900123456") == "010900123456"


@pytest.mark.parametrize("text", ["12345", "0010900123456", "00109001234A", "1.23457E+11"])
def test_normalise_national_id_rejects_without_echoing_the_value(text: str) -> None:
    with pytest.raises(ParseError) as info:
        normalise_national_id(text)
    assert info.value.reason_code == "invalid_national_id"
    assert text not in info.value.message
    assert text.replace(".", "") not in str(info.value)


def test_normalise_text_folds_headers() -> None:
    assert normalise_text("MÃ TỈNH") == "ma tinh"
    assert normalise_text("ma_tinh") == "ma tinh"
    assert normalise_text("Mã  tỉnh (*)") == "ma tinh"
    assert normalise_text("Đơn vị:") == "don vi"
    assert normalise_text("Khoá học") == normalise_text("Khóa học") == "khoa hoc"


@pytest.fixture(scope="module")
def provinces() -> ProvinceResolver:
    return ProvinceResolver.from_seeds(SEEDS)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("49", "49"),
        ("4", "04"),
        ("04", "04"),
        ("49.0", "49"),
        ("Tỉnh Quảng Nam", "49"),
        ("Quang Nam", "49"),
        ("quảng nam", "49"),
        ("QUẢNG NAM", "49"),
        ("TP. Hồ Chí Minh", "79"),
        ("Thành phố Hồ Chí Minh", "79"),
        ("HCM", "79"),
        ("TP.HCM", "79"),
        ("Hà Nội", "01"),
        ("Thừa Thiên Huế", "46"),
    ],
)
def test_province_resolver_reads_codes_and_names(provinces: ProvinceResolver, text: str, code: str) -> None:
    assert provinces.resolve(text) == code


def test_province_resolver_rejects_unknown(provinces: ProvinceResolver) -> None:
    assert reason(provinces.resolve, "Atlantis") == "unknown_province"
    assert reason(provinces.resolve, "99") == "unknown_province"
    assert reason(provinces.resolve, "") == "empty"


def test_province_legacy_and_current(provinces: ProvinceResolver) -> None:
    # Quảng Nam (49) merged into Đà Nẵng (48) on 1 July 2025
    assert provinces.is_legacy("49") and not provinces.is_current("49")
    assert provinces.is_legacy("48") and provinces.is_current("48")
    assert provinces.valid_on("49", date(2025, 6, 30))
    assert not provinces.valid_on("49", date(2025, 7, 1))
    assert provinces.valid_on("48", date(2025, 7, 1))


def test_province_name_reused_with_a_new_code_needs_the_date(provinces: ProvinceResolver) -> None:
    # Gia Lai kept its name after absorbing Bình Định, but under Bình Định's code.
    legacy = provinces.resolve("Gia Lai", on=date(2024, 11, 30))
    current = provinces.resolve("Gia Lai", on=date(2025, 11, 30))
    assert legacy != current
    assert provinces.is_legacy(legacy) and provinces.is_current(current)
    assert reason(provinces.resolve, "Gia Lai") == "ambiguous_province"
