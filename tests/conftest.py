"""Shared fixtures: a real PostgreSQL for every test, never a mock.

One embedded server (the same code path as a user's fresh clone) is started per test session
in a temporary state folder; each test that writes gets its own fresh database on it, so tests
do not see each other's rows. The process environment is pointed at that state folder, so no
test touches a developer's own ``.state``.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from planwh.db import EmbeddedServer
from planwh.settings import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def session_state_dir() -> Iterator[Path]:
    # Outside pytest's own temp root: a second pytest session resets that root to mode 0700,
    # which would lock the server (running as its own system user) out of its data folder.
    path = Path(tempfile.mkdtemp(prefix="planwh-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_server(session_state_dir: Path) -> Iterator[EmbeddedServer]:
    settings = load_settings({"PLANWH_STATE_DIR": str(session_state_dir), "PLANWH_EMBEDDED_PORT": "54339"})
    server = EmbeddedServer(settings)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server_url(embedded_server: EmbeddedServer) -> str:
    """URL of the test server's maintenance database (for creating databases)."""
    return embedded_server.url("postgres")


@pytest.fixture
def fresh_db(server_url: str) -> Iterator[str]:
    """URL of a new, empty database on the test server; dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def settings(tmp_path: Path, fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for one test: its own state and landing folders and a fresh warehouse.

    The variables are also put in the environment, so code that calls ``load_settings()``
    (the command line, DAG tasks) sees the same configuration.
    """
    national = fresh_db + "_nat"
    with psycopg.connect(fresh_db.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'create database "{national.rsplit("/", 1)[1]}"')
    env = {
        "PLANWH_STATE_DIR": str(tmp_path / "state"),
        "PLANWH_LANDING_DIR": str(tmp_path / "landing"),
        "PLANWH_WAREHOUSE_URL": fresh_db,
        "PLANWH_NATIONAL_URL": national,
        "PLANWH_PSEUDONYM_KEY": "test-key-not-secret",
        "PLANWH_DOTENV": str(tmp_path / "no.env"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield load_settings()
    with psycopg.connect(fresh_db.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{national.rsplit("/", 1)[1]}" with (force)')


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the developer's own state, landing folder and .env."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("PLANWH_STATE_DIR", str(base / "default-state"))
    monkeypatch.setenv("PLANWH_LANDING_DIR", str(base / "default-landing"))
    monkeypatch.setenv("PLANWH_DOTENV", str(base / "no.env"))
    # Tests write a landing file and sweep at once; the quiet period is tested on its own
    # (tests/include/ingest/test_reception.py).
    monkeypatch.setenv("PLANWH_LANDING_QUIET_SECONDS", "0")
    monkeypatch.delenv("PLANWH_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("PLANWH_NATIONAL_URL", raising=False)
    monkeypatch.delenv("PLANWH_PSEUDONYM_KEY", raising=False)


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)


class HeadlessChromium:
    """Debian's Chromium, headless, with a fresh profile and no background traffic.

    ``offline=True`` also makes every host name unresolvable, so a page that still needs the
    network shows what a user without one sees.
    """

    def __init__(self, profile: Path) -> None:
        self.profile = profile

    def run(self, url: str, *args: str, offline: bool = False, timeout: float = 120) -> str:
        import subprocess
        import tempfile

        profile = tempfile.mkdtemp(dir=self.profile)
        command = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
        if offline:
            command.append("--host-resolver-rules=MAP * ~NOTFOUND")
        result = subprocess.run([*command, url], capture_output=True, text=True, timeout=timeout, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    def screenshot(self, url: str, path: Path, size: tuple[int, int], *, offline: bool = False) -> Path:
        self.run(url, f"--screenshot={path}", f"--window-size={size[0]},{size[1]}",
                 "--virtual-time-budget=5000", offline=offline)
        return path

    def driver(self, downloads: Path, size: tuple[int, int] = (1280, 1000)):
        """The same browser driven through Debian's chromedriver (Selenium): an empty profile, files
        downloaded into ``downloads`` without asking. The caller quits it."""
        import tempfile

        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        if not CHROMEDRIVER.exists():
            pytest.fail(f"{CHROMEDRIVER} is missing: `apt-get install -y chromium-driver` (.ci/run does it)")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*CHROMIUM_FLAGS, f"--window-size={size[0]},{size[1]}",
                     f"--user-data-dir={tempfile.mkdtemp(dir=self.profile)}"):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
        return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)

    def dom(self, url: str, *, offline: bool = False) -> str:
        """The page's DOM once its scripts have run."""
        return self.run(url, "--dump-dom", "--virtual-time-budget=5000", offline=offline)


@pytest.fixture
def chromium(tmp_path_factory: pytest.TempPathFactory) -> HeadlessChromium:
    """Headless Chromium; a missing browser fails the test (`.ci/run` installs it), never skips it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium chromium-driver` (.ci/run does it)")
    return HeadlessChromium(tmp_path_factory.mktemp("chromium-profile"))
