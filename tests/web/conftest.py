"""The sender page served for real: a warehouse built by the pipeline's code (``web_warehouse``),
accounts invited as an operator would, and ``planwh.web.app`` under uvicorn on a free local port,
once per test session. Screenshots go to ``test-artefacts/web/`` (gitignored)."""

from __future__ import annotations

import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from planwh.settings import Settings, load_settings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import web_warehouse  # noqa: E402

ARTEFACTS = HERE.parents[1] / "test-artefacts" / "web"
UPLOAD_LIMIT_MB = 2


@dataclass
class Site:
    url: str
    settings: Settings
    passwords: dict[str, str]  # user name -> password

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.settings.warehouse_url) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple = ()) -> None:
        with psycopg.connect(self.settings.warehouse_url, autocommit=True) as conn:
            conn.execute(sql, params)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def site(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from planwh.db import connect
    from planwh.web.accounts import invite
    from planwh.web.app import create_app
    from planwh.web.schema import ensure_web_schema

    base = tmp_path_factory.mktemp("sender-page")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    port = _free_port()
    settings = load_settings({
        "PLANWH_WAREHOUSE_URL": server_url.rsplit("/", 1)[0] + f"/{name}",
        "PLANWH_STATE_DIR": str(base / "state"),
        "PLANWH_LANDING_DIR": str(base / "landing"),
        "PLANWH_DOTENV": str(base / "no.env"),
        "PLANWH_PSEUDONYM_KEY": "test-key-not-secret",
        "PLANWH_WEB_BIND": f"127.0.0.1:{port}",
        "PLANWH_WEB_MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB),
    })
    server = None
    try:
        web_warehouse.build(settings, base / "files")
        passwords = {}
        with connect(settings.warehouse_url, autocommit=True) as conn:
            ensure_web_schema(conn)
            for code, agency_name in ((web_warehouse.OWN, web_warehouse.OWN_NAME),
                                      (web_warehouse.OTHER, "Sở Thông tin và Truyền thông thành phố Hà Nội")):
                given = invite(conn, settings, agency=(code, agency_name), with_password=True)
                passwords[given.account.username] = given.password
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the sender page did not start"
            time.sleep(0.05)
        yield Site(f"http://127.0.0.1:{port}", settings, passwords)
    finally:
        if server is not None:
            server.should_exit = True
            thread.join(15)
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    path = tmp_path / "downloads"
    path.mkdir()
    return path


@pytest.fixture
def browser(chromium, downloads: Path):
    driver = chromium.driver(downloads)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS
