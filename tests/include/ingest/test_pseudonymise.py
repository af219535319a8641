"""Trainees are pseudonymised before anything is written; names and ID numbers never are."""

from __future__ import annotations

import csv
import hashlib
import hmac
from pathlib import Path

import openpyxl
import psycopg
import pytest
from ingest_files import RECEIVED, query, trainee, write_register, write_roster

from planwh.ingest.load import check_file, ingest_file
from planwh.ingest.parsing import ParseError
from planwh.ingest.pseudonymise import MissingIdentifier, person_key

KEY = b"unit-test-key"


def test_the_key_is_an_hmac_of_the_namespaced_normalised_national_id() -> None:
    expected = hmac.new(KEY, b"cccd:049190001234", hashlib.sha256).hexdigest()
    assert person_key(KEY, "049190001234", None, None) == expected
    # spaces, dots, dashes and a leading zero lost by Excel do not make a new person
    for written in ("049 190 001 234", "049.190.001.234", "049-190-001-234", "49190001234"):
        assert person_key(KEY, written, "CB-1", "STTTT") == expected


def test_staff_id_stands_in_only_without_a_national_id_and_is_scoped_by_agency() -> None:
    by_staff = person_key(KEY, None, " cb-17 ", "sttttt")
    assert by_staff == hmac.new(KEY, b"staff:STTTTT:CB-17", hashlib.sha256).hexdigest()
    assert person_key(KEY, "", "CB-17", "STTTTT") == by_staff
    assert person_key(KEY, None, "CB-17", "SNV") != by_staff
    assert person_key(KEY, "049190001234", "CB-17", "STTTTT") != by_staff


def test_a_different_key_gives_unrelated_pseudonyms() -> None:
    assert person_key(KEY, "049190001234", None, None) != person_key(b"other", "049190001234", None, None)


def test_unusable_identifiers_are_refused_without_echoing_them() -> None:
    with pytest.raises(MissingIdentifier):
        person_key(KEY, None, None, "STTTT")
    with pytest.raises(MissingIdentifier):
        person_key(KEY, "  ", "CB-1", None)
    with pytest.raises(ParseError) as info:
        person_key(KEY, "04919000123X", "CB-1", "STTTT")
    assert "04919000123X" not in info.value.message


def test_same_person_in_two_courses_has_one_key_and_no_personal_data_is_stored(settings, tmp_path: Path) -> None:
    # GIVEN two rosters naming the same trainee (her CCCD written two ways) and others
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    people = {
        "Nguyễn Thị Hương": "049190001234",
        "Trần Văn Bảo": "049085004321",
        "Lê Thị Cúc": "",  # identified by staff number
    }
    first = write_roster(tmp_path / "k1.csv", "QN-2024-01", [
        trainee("Nguyễn Thị Hương", "049190001234"),
        trainee("Trần Văn Bảo", "049085004321", birth_year="1985"),
        trainee("Lê Thị Cúc", "", "CB-0042"),
    ])
    second = write_roster(tmp_path / "k2.csv", "QN-2024-07", [
        trainee("NGUYỄN THỊ HƯƠNG", "049 190 001 234", completed=""),
        trainee("Lê Thị Cúc", "", "cb-0042"),
        trainee("Phạm Minh Đức", "049190009999X"),  # malformed: rejected, never echoed
    ], start="02/07/2024", end="03/07/2024")

    # WHEN both are loaded
    a = ingest_file(settings, "rosters", first, received_at=RECEIVED)
    b = ingest_file(settings, "rosters", second, received_at=RECEIVED)

    # THEN the same people have the same keys across courses
    assert (a.rows_loaded, b.rows_loaded, b.rows_rejected) == (3, 2, 1)
    keys = query(settings, "select course_id, person_key, completed from raw.training_attendance order by file_id, row_number")
    first_keys = [k for c, k, _ in keys if c == "QN-2024-01"]
    second_keys = [k for c, k, _ in keys if c == "QN-2024-07"]
    assert second_keys == [first_keys[0], first_keys[2]]
    assert query(settings, "select count(distinct person_key) from raw.training_attendance") == [(3,)]
    # ... and no name, ID number or birth year is anywhere in the warehouse or the feedback
    secrets = [*people, "NGUYỄN THỊ HƯƠNG", "Phạm Minh Đức", "049190001234", "049085004321", "049190009999",
               "190 001 234", "CB-0042", "cb-0042"]
    assert _warehouse_text_containing(settings.warehouse_url, secrets) == []
    # a four-digit year could occur by chance inside a hex hash, so birth years are checked by column
    assert query(settings, "select count(*) from information_schema.columns where table_schema in "
                           "('landing', 'raw', 'quarantine') and column_name in ('birth_year', 'full_name', "
                           "'national_id', 'staff_id')") == [(0,)]
    for path in (b.feedback_csv, b.feedback_xlsx):
        assert path is not None
    feedback_text = b.feedback_csv.read_text(encoding="utf-8-sig")
    feedback_text += " ".join(str(c.value) for row in openpyxl.load_workbook(b.feedback_xlsx).active.iter_rows()
                              for c in row)
    assert not [s for s in secrets if s in feedback_text]
    assert "invalid_national_id" in feedback_text
    with open(b.feedback_csv, encoding="utf-8-sig", newline="") as fh:
        assert [r[3] for r in list(csv.reader(fh))[1:] if r[4] != "skipped_rows"] == ["[withheld: personal data]"]


def test_a_dry_run_of_a_roster_echoes_no_personal_data(settings, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "k.csv", "QN-9", [trainee("Phạm Minh Đức", "049190009999X"),
                                                      trainee("Đinh Thu Hà", "049190001111", birth_year="19x0")])
    outcome = check_file(settings, path, "rosters", received_at=RECEIVED)
    text = "\n".join(p.message + str(p.message_vi) + str(p.value) for p in outcome.problems)
    assert {p.reason_code for p in outcome.problems} == {"invalid_national_id", "malformed_number"}
    for secret in ("Phạm Minh Đức", "Đinh Thu Hà", "049190009999", "049190001111", "19x0"):
        assert secret not in text


def _warehouse_text_containing(url: str, needles: list[str]) -> list[str]:
    """Every (table.column, needle) where a text value of any warehouse table contains a needle."""
    found = []
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            """
            select table_schema, table_name, column_name from information_schema.columns
            where table_schema in ('landing', 'raw', 'quarantine')
            """
        ).fetchall()
        for schema, table, column in columns:
            for needle in needles:
                hit = conn.execute(
                    f'select 1 from "{schema}"."{table}" where "{column}"::text ilike %s limit 1', (f"%{needle}%",)
                ).fetchone()
                if hit:
                    found.append(f"{schema}.{table}.{column}: {needle}")
    return found
