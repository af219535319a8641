"""The embedded PostgreSQL: start, reuse, stop, recover from a crash; and the configured-URL path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from planwh.db import EmbeddedServer, national_url, warehouse_url
from planwh.settings import load_settings

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _settings(state: Path, port: int = 54349):
    return load_settings(
        {"PLANWH_DOTENV": "/nonexistent", "PLANWH_STATE_DIR": str(state), "PLANWH_EMBEDDED_PORT": str(port)}
    )


@pytest.fixture
def private_server(tmp_path: Path):
    server = EmbeddedServer(_settings(tmp_path / "state"))
    yield server
    server.stop()


def test_start_creates_both_databases_and_keeps_data(private_server: EmbeddedServer) -> None:
    # GIVEN a fresh state folder WHEN the warehouse URL is asked for
    settings = private_server.settings
    url = warehouse_url(settings)
    # THEN a real server answers, with the warehouse and the national database on it
    with psycopg.connect(url) as conn:
        assert conn.execute("show server_version").fetchone()[0].startswith("18")
        conn.execute("create table keep_me (x int)")
        conn.execute("insert into keep_me values (42)")
    assert national_url(settings).endswith("/planwh_national")
    with psycopg.connect(national_url(settings)) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == "planwh_national"
    assert (settings.pgdata_dir / "PG_VERSION").exists()

    # WHEN it is stopped and started again THEN the data is still there
    assert private_server.stop() is True
    assert private_server.status().running is False
    with psycopg.connect(warehouse_url(settings)) as conn:
        assert conn.execute("select x from keep_me").fetchone() == (42,)


def test_a_second_process_reuses_the_running_server(private_server: EmbeddedServer) -> None:
    private_server.start()
    pid = private_server.status().pid
    code = (
        "import os\nfrom planwh.db import warehouse_url\nprint(warehouse_url())\n"
    )
    env = {**os.environ, "PLANWH_STATE_DIR": str(private_server.state_dir), "PLANWH_DOTENV": "/nonexistent"}
    env.pop("PLANWH_WAREHOUSE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == warehouse_url(private_server.settings)
    # the other process exiting must not stop the shared server
    assert private_server.status().pid == pid
    with psycopg.connect(warehouse_url(private_server.settings)) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_restart_after_a_crash_leaves_no_stale_lock(private_server: EmbeddedServer) -> None:
    private_server.start()
    status = private_server.status()
    # GIVEN the server killed hard, as by a power cut: postmaster.pid stays behind
    os.kill(status.pid, signal.SIGKILL)
    for _ in range(50):
        if not private_server.status().running:
            break
        time.sleep(0.1)
    assert (private_server.pgdata / "postmaster.pid").exists()
    time.sleep(0.5)  # let the orphaned backends notice and exit
    # WHEN started again THEN it recovers and serves
    url = warehouse_url(private_server.settings)
    with psycopg.connect(url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert private_server.status().pid != status.pid


def test_port_taken_by_something_else_picks_another(tmp_path: Path) -> None:
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        server = EmbeddedServer(_settings(tmp_path / "state", port=taken))
        try:
            port = server.start()
            assert port != taken
        finally:
            server.stop()


def _local_server_available() -> bool:
    try:
        with psycopg.connect(LOCAL_SERVER, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@pytest.mark.skipif(not _local_server_available(), reason="no PostgreSQL on 127.0.0.1:5432 on this machine")
def test_configured_url_replaces_the_embedded_server(tmp_path: Path) -> None:
    name = f"planwh_cfg_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(LOCAL_SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        configured = f"postgresql://postgres@127.0.0.1:5432/{name}"
        settings = load_settings(
            {"PLANWH_DOTENV": "/nonexistent", "PLANWH_STATE_DIR": str(tmp_path), "PLANWH_WAREHOUSE_URL": configured}
        )
        assert warehouse_url(settings) == configured
        # the national database defaults to a second database on the configured server
        national = national_url(settings)
        assert national == "postgresql://postgres@127.0.0.1:5432/planwh_national"
        with psycopg.connect(warehouse_url(settings)) as conn:
            assert int(conn.execute("show server_version_num").fetchone()[0]) >= 140000
        # no embedded server was started for it
        assert not (tmp_path / "pgdata").exists()
    finally:
        with psycopg.connect(LOCAL_SERVER, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
