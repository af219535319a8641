"""The environment of a local Airflow: home, metadata database, DAG folder, Cosmos settings.

Airflow reads its configuration once, when it is imported, so the planwh process never imports
it: local runs (``dag.test()``, a scheduler in the tests, ``planwh airflow ...``) start Airflow
in a child process with the variables from :func:`airflow_environment`.

Two metadata databases:

``sqlite``
    ``<airflow_home>/airflow.db``: enough for ``dag.test()`` and ``airflow dags ...``.
``postgres``
    database ``airflow`` on the warehouse's PostgreSQL server (the embedded one by default): a
    scheduler with the ``LocalExecutor`` needs a database that takes concurrent writers.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from planwh.settings import PROJECT_ROOT, Settings

DAGS_FOLDER = PROJECT_ROOT / "dags"
# Schedules, CLI dates (`airflow backfill create --from-date 2024-12-02`) and the UI use Viet Nam
# time: a portal day and a reporting deadline are Viet Nam days.
TIMEZONE = "Asia/Ho_Chi_Minh"
METADATA_KINDS = ("sqlite", "postgres")
# Redis hands a Celery task to another worker when the first has not acknowledged it within this
# time; Airflow's workers acknowledge when a task ends, so it must outlast the longest run of a
# task (30 min execution timeouts, runs of 1-2 h at most) or a task would run twice. Compose
# sets the same value.
CELERY_VISIBILITY_TIMEOUT = 2 * 60 * 60 + 30 * 60


class AirflowEnvironmentError(RuntimeError):
    """The local Airflow could not be prepared; the message has the command's output."""


def airflow_python() -> str:
    """The interpreter that has Airflow installed (the one running planwh)."""
    return sys.executable


def airflow_cli() -> list[str]:
    return [str(Path(sys.executable).with_name("airflow"))]


def _secret(airflow_home: Path, name: str) -> str:
    """A random secret kept in the Airflow home (mode 600), shared by every local Airflow process:
    the API server signs task tokens with it and the workers' tokens must verify."""
    path = airflow_home / name
    if not path.exists():
        airflow_home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def metadata_url(settings: Settings, metadata: str = "sqlite", *, database: str = "airflow") -> str:
    """SQLAlchemy URL of the metadata database of a local Airflow."""
    if metadata == "sqlite":
        return f"sqlite:///{settings.airflow_home / 'airflow.db'}"
    if metadata == "postgres":
        from planwh.db import airflow_metadata_url

        return airflow_metadata_url(settings, database).replace("postgresql://", "postgresql+psycopg2://", 1)
    raise ValueError(f"metadata must be one of {', '.join(METADATA_KINDS)}, got {metadata!r}")


def airflow_environment(
    settings: Settings,
    metadata: str = "sqlite",
    *,
    database: str = "airflow",
    api_port: int | None = None,
    parallelism: int = 4,
    dags_folder: Path = DAGS_FOLDER,
) -> dict[str, str]:
    """The variables that point Airflow (and the planwh code its tasks run) at ``settings``.

    Merge them over ``os.environ`` for a child process. ``api_port`` is where a local
    ``airflow api-server`` listens when a scheduler runs (its workers report there).
    """
    home = settings.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(parallelism),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url(settings, metadata, database=database),
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret(home, "jwt_secret"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(settings.state_dir / "cosmos"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__USE_DATASET_AIRFLOW3_URI_STANDARD": "True",
        "DO_NOT_TRACK": "1",
        "SCARF_ANALYTICS": "false",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        # The task processes read the same planwh configuration as this process.
        "PLANWH_STATE_DIR": str(settings.state_dir),
        "PLANWH_LANDING_DIR": str(settings.landing_dir),
        "PLANWH_EMBEDDED_PORT": str(settings.embedded_port),
        "PLANWH_MAX_FILE_MB": str(settings.max_file_bytes // (1024 * 1024)),
    }
    if api_port is not None:
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{api_port}/execution/"
        env["AIRFLOW__API__PORT"] = str(api_port)
        env["AIRFLOW__API__HOST"] = "127.0.0.1"
    optional = {
        "PLANWH_WAREHOUSE_URL": settings.warehouse_url,
        "PLANWH_NATIONAL_URL": settings.national_url,
        "PLANWH_PSEUDONYM_KEY": settings.pseudonym_key_value,
        "PLANWH_PORTAL_API_URL": settings.portal_api_url,
        "PLANWH_PORTAL_API_TOKEN": settings.portal_api_token,
    }
    env.update({k: v for k, v in optional.items() if v})
    return env


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """``os.environ`` with ``extra`` over it, without this shell's own Airflow configuration
    (``AIRFLOW_HOME``, ``AIRFLOW__*``: a developer's may point elsewhere). Variables and
    connections given as ``AIRFLOW_VAR_*`` / ``AIRFLOW_CONN_*`` pass through."""
    own_config = ("AIRFLOW_HOME", "AIRFLOW_CONFIG")
    base = {k: v for k, v in os.environ.items() if not (k.startswith("AIRFLOW__") or k in own_config)}
    return {**base, **extra, "PYTHONUNBUFFERED": "1"}


def _migrated_marker(env: dict[str, str]) -> tuple[Path, str]:
    conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    key = hashlib.sha256(conn.encode()).hexdigest()[:16]
    return Path(env["AIRFLOW_HOME"]) / f".migrated-{key}.json", conn


def _has_schema(conn: str) -> bool:
    """Whether the metadata database already has Airflow's tables (a cheap look, no Airflow import)."""
    if conn.startswith("sqlite:///"):
        path = Path(conn[len("sqlite:///") :])
        if not path.exists():
            return False
        with sqlite3.connect(path) as db:
            return (
                db.execute("select 1 from sqlite_master where name = 'alembic_version'").fetchone()
                is not None
            )
    import psycopg

    url = conn.replace("postgresql+psycopg2://", "postgresql://", 1)
    try:
        with psycopg.connect(url, connect_timeout=5) as db:
            return db.execute("select to_regclass('public.alembic_version')").fetchone()[0] is not None
    except psycopg.OperationalError:
        return False


def prepare_metadata(env: dict[str, str], *, timeout: float = 300) -> bool:
    """Run ``airflow db migrate`` unless this Airflow version already migrated that database.

    Returns whether it ran (~6-7 s). Safe to call before every local run.
    """
    marker, conn = _migrated_marker(env)
    airflow_version = version("apache-airflow-core")
    try:
        done = json.loads(marker.read_text()).get("airflow") == airflow_version
    except (FileNotFoundError, ValueError):
        done = False
    if done and _has_schema(conn):
        return False
    started = time.perf_counter()
    result = subprocess.run(
        [*airflow_cli(), "db", "migrate"],
        env=child_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        where = urlsplit(conn)
        raise AirflowEnvironmentError(
            f"airflow db migrate failed on {where.scheme}://{where.hostname or ''}{where.path}:\n"
            f"{(result.stderr or result.stdout)[-3000:]}"
        )
    marker.write_text(
        json.dumps({"airflow": airflow_version, "seconds": round(time.perf_counter() - started, 1)})
    )
    return True


def shell_exports(env: dict[str, str]) -> str:
    """``export NAME='value'`` lines for a shell (``eval "$(planwh airflow env)"``)."""
    import shlex

    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in sorted(env.items()))
