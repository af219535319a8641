"""Personal data: no trainee's name, national ID number or birth year reaches anything a
non-loader role can read, any file the pipeline writes, or any line it prints or logs; the
pseudonymisation key is never written anywhere.

The trainees are those of the session pipeline's sample (their real values read back from the
roster files, as the loader reads them) plus two in a hostile roster. Every table of every schema
``planwh_bi``, ``planwh_sync`` and ``planwh_transformer`` can read is scanned *as that role*, on a
copy of the pipeline's warehouse with the roles applied.
"""

from __future__ import annotations

import csv
import re
import unicodedata
import zipfile
from pathlib import Path

import psycopg
import pytest
from conftest import PAYLOADS, PSEUDONYM_KEY, Trainee, as_role, sample_trainees
from psycopg import sql

from planwh.roles import BI, SYNC, TRANSFORMER, apply_roles

NON_LOADER_ROLES = (BI, SYNC, TRANSFORMER)
YEAR_COLUMN = re.compile(r"birth|nam_sinh|born|(^|_)age($|_)|(^|_)dob($|_)", re.IGNORECASE)


@pytest.fixture(scope="module")
def trainees(pipeline) -> list[Trainee]:
    people = sample_trainees(pipeline.landing_dir)
    assert len(people) >= 30
    assert sum(1 for p in people if p.national_id) >= 10 and sum(1 for p in people if p.birth_year) >= 20
    return people


def needles(people: list[Trainee]) -> list[str]:
    """Names and ID numbers, as written and in the forms a careless step might produce."""
    found: set[str] = set()
    for person in people:
        if person.name and person.name not in PAYLOADS:
            name = unicodedata.normalize("NFC", person.name)
            found |= {name, name.upper(), unicodedata.normalize("NFD", name)}
        if person.national_id:
            digits = re.sub(r"\D", "", person.national_id)
            if len(digits) >= 9:
                found.add(digits)
    return sorted(found)


def find_needles(text: str, wanted: list[str]) -> list[str]:
    return [n for n in wanted if n in text]


def readable_tables(conn: psycopg.Connection, role: str) -> list[tuple[str, str]]:
    return conn.execute(
        """
        select n.nspname, c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'v', 'm', 'f')
            and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%%'
            and has_schema_privilege(%s, n.oid, 'usage') and has_table_privilege(%s, c.oid, 'select')
        order by 1, 2
        """,
        (role, role),
    ).fetchall()


def birth_year_columns(conn: psycopg.Connection, schema: str, table: str, years: set[int]) -> list[str]:
    """Columns that are named like a birth year or age, or whose values are mostly trainees' birth years."""
    flagged = []
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, table),
    ).fetchall()
    for column, data_type in columns:
        if YEAR_COLUMN.search(column):
            flagged.append(column)
            continue
        if data_type not in ("integer", "bigint", "smallint", "numeric", "text", "character varying"):
            continue
        total, hits = conn.execute(
            sql.SQL(
                "select count({c}), count(*) filter (where {c}::text = any(%s)) from {t}"
            ).format(c=sql.Identifier(column), t=sql.Identifier(schema, table)),
            ([str(y) for y in years],),
        ).fetchone()
        if hits >= 5 and hits >= 0.5 * total:
            flagged.append(f"{column} ({hits} of {total} values are trainees' birth years)")
    return flagged


def test_no_personal_data_in_any_schema_a_non_loader_role_can_read(pipeline, trainees, copy_database) -> None:
    url = copy_database(pipeline.db_name)
    apply_roles(url)
    wanted = needles(trainees)
    years = {p.birth_year for p in trainees if p.birth_year}
    scanned: dict[str, int] = {}
    leaks = []
    for role in NON_LOADER_ROLES:
        with psycopg.connect(as_role(url, role)) as conn:
            tables = readable_tables(conn, role)
            assert tables, role
            for schema, table in tables:
                rows = conn.execute(sql.SQL("select t::text from {} as t").format(sql.Identifier(schema, table)))
                text = "\n".join(r[0] for r in rows)
                scanned[f"{schema}.{table}"] = scanned.get(f"{schema}.{table}", 0) + 1
                leaks += [(role, schema, table, n) for n in find_needles(text, wanted)]
                leaks += [(role, schema, table, c) for c in birth_year_columns(conn, schema, table, years)]
                if PSEUDONYM_KEY in text:
                    leaks.append((role, schema, table, "the pseudonymisation key"))
    assert leaks == []
    # the scan covered the marts, the transformer's published person keys and the ledger
    assert {"marts.fct_training_coverage", "published.training_attendance", "landing.files"} <= set(scanned)
    assert len(scanned) >= 30


def test_no_personal_data_in_the_national_database(pipeline, trainees) -> None:
    wanted = needles(trainees)
    with psycopg.connect(pipeline.national_url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = 'national'"
        ).fetchall()
        text = "\n".join(
            r[0] for s, t in tables
            for r in conn.execute(sql.SQL("select t::text from {} as t").format(sql.Identifier(s, t)))
        )
    assert len(tables) >= 5 and len(text) > 10_000
    assert find_needles(text, wanted) == []


def file_text(path: Path) -> str:
    """The text of a file we wrote: cells of a workbook, else the bytes as UTF-8."""
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(path) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "replace")


def written_files(pipeline) -> list[Path]:
    """Every file the pipeline wrote outside the database: feedback, exports, report, GX results,
    dbt's target and logs. Not the archive, which keeps the senders' files byte for byte."""
    found = []
    for root in (pipeline.state_dir, pipeline.out_dir):
        for path in root.rglob("*"):
            if path.is_file() and "archive" not in path.relative_to(root).parts[:1]:
                found.append(path)
    return found


def test_no_personal_data_in_exports_feedback_report_or_any_file_written(pipeline, trainees) -> None:
    wanted = needles(trainees)
    # the search finds the people where they are: in the archived rosters, as sent
    archived = [p for p in (pipeline.state_dir / "archive" / "rosters").rglob("*")
                if p.is_file() and p.suffix != ".xls"]  # the sample's .xls is refused unread
    assert archived and all(find_needles(file_text(p), wanted) for p in archived)
    files = written_files(pipeline)
    kinds = {p.suffix for p in files}
    assert {".csv", ".xlsx", ".html", ".json"} <= kinds
    assert any(p.name.startswith(tuple("0123456789")) and ".feedback." in p.name for p in files)
    assert list(pipeline.out_dir.glob("export-round-*/*.csv")) and (pipeline.state_dir / "report/index.html").is_file()
    leaks = {}
    for path in files:
        text = file_text(path)
        found = find_needles(text, wanted)
        if PSEUDONYM_KEY in text:
            found.append("the pseudonymisation key")
        if found:
            leaks[str(path)] = found
    assert leaks == {}
    # the roster feedback names the row and the problem, never the value of a personal column
    roster_feedback = [p for p in files if p.suffix == ".csv" and "hoc-vien" in p.name]
    assert roster_feedback
    years = {str(p.birth_year) for p in trainees if p.birth_year}
    for path in roster_feedback:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for cells in list(csv.reader(fh))[1:]:
                assert cells[3] not in years, (path, cells)


def test_no_personal_data_or_key_in_any_log_line_or_output(pipeline, trainees) -> None:
    output = pipeline.output
    # the child logged every logger at DEBUG: our steps and the libraries they drive
    assert len(output.splitlines()) > 1000
    for logger in ("planwh.validate.gate", "planwh.orchestration.tasks", "great_expectations"):
        assert logger in output, logger
    assert find_needles(output, needles(trainees)) == []
    assert PSEUDONYM_KEY not in output
