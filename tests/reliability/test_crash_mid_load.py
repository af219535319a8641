"""Crash mid-load: the warehouse server dies (or the loading process is killed) while a large
file is being COPied. No row of it becomes visible, its bytes stay in the landing archive, the
ledger keeps the trace of the interrupted arrival, and the retry loads the whole file and closes
that trace (``duplicate`` of the retry, reason_code ``interrupted_load``).

The server here is a separate embedded PostgreSQL of this module (its own data folder and port),
stopped with ``pg_ctl stop -m immediate``: every server process quits at once without a
checkpoint, which is what a power cut or an OOM kill does to the postmaster.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from conftest import write_portal_export

from planwh.db import EmbeddedServer
from planwh.ingest.load import ingest_landing
from planwh.ingest.parsing import VIETNAM_TZ
from planwh.settings import Settings, load_settings

PORT = 54349
ROWS = 150_000
RECEIVED = datetime(2024, 12, 2, 8, 0, tzinfo=VIETNAM_TZ)


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    # outside pytest's temp root: the server runs as its own system user (see tests/conftest.py)
    state = Path(tempfile.mkdtemp(prefix="planwh-crash-"))
    server = EmbeddedServer(load_settings({"PLANWH_STATE_DIR": str(state), "PLANWH_EMBEDDED_PORT": str(PORT),
                                           "PLANWH_DOTENV": str(state / "no.env")}))
    server.start()
    yield server
    try:
        server.stop()
    finally:
        shutil.rmtree(state, ignore_errors=True)


def crash(server: EmbeddedServer) -> None:
    """Every server process quits at once, as in a power cut: no checkpoint, no clean shutdown."""
    result = server._run([str(server._bin("pg_ctl")), "-D", str(server.pgdata), "-m", "immediate", "-w", "stop"])
    assert result.returncode == 0, result.stderr


@pytest.fixture
def warehouse(server: EmbeddedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    server.start()
    name = f"crash_{os.getpid()}_{int(time.time() * 1000)}"
    admin = server.url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    env = {
        "PLANWH_STATE_DIR": str(tmp_path / "state"),
        "PLANWH_LANDING_DIR": str(tmp_path / "landing"),
        "PLANWH_WAREHOUSE_URL": admin.rsplit("/", 1)[0] + f"/{name}",
        "PLANWH_PSEUDONYM_KEY": "crash-test-key",
        "PLANWH_DOTENV": str(tmp_path / "no.env"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield load_settings()
    server.start()
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def write_big_portal_export(folder: Path, rows: int = ROWS) -> Path:
    return write_portal_export(folder / "portal" / "quangnam.gov.vn_2024-12-01.jsonl", rows, RECEIVED)


def start_loading(path: Path) -> subprocess.Popen:
    """``planwh ingest portal PATH`` in its own process, as an operator or a DAG task would run it."""
    return subprocess.Popen(
        [sys.executable, "-m", "planwh.cli", "ingest", "portal", str(path), "--received-at", "mtime", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_until_copying(settings: Settings, loader: subprocess.Popen, at_least: int = 20_000) -> int:
    """Rows the COPY into raw.portal_statistics had sent when seen mid-way (polling the server)."""
    deadline = time.monotonic() + 120
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            assert loader.poll() is None, loader.communicate()
            row = conn.execute(
                "select p.tuples_processed from pg_stat_progress_copy as p where p.relid = to_regclass("
                "'raw.portal_statistics')"
            ).fetchone()
            if row and row[0] >= at_least:
                return int(row[0])
            time.sleep(0.02)
    raise AssertionError("the load never reached the COPY")


def ledger(settings: Settings) -> list[tuple]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute(
            "select file_id, status, sha256, archive_path, rows_in, rows_loaded from landing.files order by file_id"
        ).fetchall()


def scalar(settings: Settings, query: str) -> object:
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute(query).fetchone()[0]


def assert_nothing_half_loaded_and_retry_loads_everything(settings: Settings, path: Path, sha: str) -> None:
    # THEN no row of the file is visible, not even in quarantine
    assert scalar(settings, "select count(*) from raw.portal_statistics") == 0
    assert scalar(settings, "select count(*) from quarantine.rejected_rows") == 0
    # ... the ledger shows the arrival, still 'received' (its load never committed)
    (file_id, status, recorded_sha, archive_path, rows_in, rows_loaded), = ledger(settings)
    assert (status, recorded_sha, rows_in, rows_loaded) == ("received", sha, None, None)
    # ... and the archive holds the sender's bytes intact, read-only
    archived = Path(archive_path)
    assert hashlib.sha256(archived.read_bytes()).hexdigest() == sha
    assert archived.stat().st_mode & 0o222 == 0

    # WHEN the landing folder is scanned again (the DAG's retry)
    outcomes = ingest_landing(settings, "portal")

    # THEN the file is loaded whole, once
    assert [(o.status, o.rows_in, o.rows_loaded, o.rows_rejected, o.rows_skipped) for o in outcomes] == [
        ("loaded", ROWS, ROWS, 0, 0)
    ]
    assert scalar(settings, "select count(*) from raw.portal_statistics") == ROWS
    assert scalar(settings, "select count(distinct article_id) from raw.portal_statistics") == ROWS
    # ... and the interrupted arrival is closed: a duplicate of the file that loaded its bytes
    (loaded_id,) = [o.file_id for o in outcomes]
    with psycopg.connect(settings.warehouse_url) as conn:
        rows = conn.execute(
            "select file_id, status, sha256, reason_code, duplicate_of_file_id, reason, rows_in, rows_loaded, "
            "rows_rejected, rows_skipped from landing.files order by file_id"
        ).fetchall()
    assert [r[:5] for r in rows] == [
        (file_id, "duplicate", sha, "interrupted_load", loaded_id),
        (loaded_id, "loaded", sha, None, None),
    ]
    assert rows[0][5] == (
        f"load interrupted before it committed; the same bytes were loaded as file {loaded_id}"
    )
    # ... whose row counts nothing, so rows in = loaded + rejected + skipped still holds file by file and in total
    assert rows[0][6:] == (None, None, None, None) and rows[1][6:] == (ROWS, ROWS, 0, 0)
    assert archived.is_file() and len(list(settings.archive_dir.rglob(f"{sha}*"))) == 1
    # ... and a further scan finds nothing new
    assert ingest_landing(settings, "portal") == []


def test_server_killed_mid_load_leaves_no_rows_and_the_retry_loads_the_whole_file(
    server: EmbeddedServer, warehouse: Settings, tmp_path: Path
) -> None:
    # GIVEN a large export being loaded by its own process
    path = write_big_portal_export(warehouse.landing_dir)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    loader = start_loading(path)

    # WHEN the warehouse server dies in the middle of the COPY
    sent = wait_until_copying(warehouse, loader)
    crash(server)
    out, err = loader.communicate(timeout=60)

    # THEN the load fails loudly
    assert 0 < sent < ROWS
    assert loader.returncode != 0
    assert "terminat" in err or "server closed the connection" in err or "connection" in err.lower(), err[-2000:]

    # WHEN the server is back (crash recovery)
    server.start()
    assert_nothing_half_loaded_and_retry_loads_everything(warehouse, path, sha)


def test_loader_process_killed_mid_load_leaves_no_rows_and_the_retry_loads_the_whole_file(
    server: EmbeddedServer, warehouse: Settings
) -> None:
    # GIVEN a large export being loaded by its own process
    path = write_big_portal_export(warehouse.landing_dir)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    loader = start_loading(path)

    # WHEN that process is killed (an Airflow worker lost, an OOM kill) in the middle of the COPY
    sent = wait_until_copying(warehouse, loader)
    loader.send_signal(signal.SIGKILL)
    loader.communicate(timeout=60)
    assert 0 < sent < ROWS and loader.returncode == -signal.SIGKILL
    # the server notices the dropped connection, rolls the transaction back and ends the session
    # (with it the loader's locks go, among them the lock saying its arrival is being loaded)
    with psycopg.connect(warehouse.warehouse_url, autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while conn.execute(
            "select (select count(*) from pg_stat_progress_copy)"
            " + (select count(*) from pg_locks where locktype = 'advisory' and pid <> pg_backend_pid()"
            "    and database = (select oid from pg_database where datname = current_database()))"
        ).fetchone()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.05)

    assert_nothing_half_loaded_and_retry_loads_everything(warehouse, path, sha)


def test_the_retry_is_what_the_daily_run_does_on_the_same_day(server: EmbeddedServer, warehouse: Settings) -> None:
    """The interrupted arrival is taken by the DAG's own task code: the live run of that day, which
    sweeps the landing folder, not only by a folder scan."""
    from planwh.orchestration.tasks import Interval, ingest_interval

    path = write_big_portal_export(warehouse.landing_dir, rows=30_000)
    loader = start_loading(path)
    wait_until_copying(warehouse, loader, at_least=5_000)
    crash(server)
    loader.communicate(timeout=60)
    server.start()

    day = date(2024, 12, 2)
    step = ingest_interval(warehouse, "portal", Interval.for_day(day), now=Interval.for_day(day).end + timedelta(minutes=5))

    assert step.totals["files_loaded"] == 1 and step.totals["rows_loaded"] == 30_000
    assert scalar(warehouse, "select count(*) from raw.portal_statistics") == 30_000
    assert [(status, rows_loaded) for _, status, _, _, _, rows_loaded in ledger(warehouse)] == [
        ("duplicate", None), ("loaded", 30_000)
    ]
