"""Running dbt against the warehouse, in-process.

``dbtRunner`` avoids the ~8 s CLI start-up per call (STACK-NOTES). The connection comes from
the environment variables that ``dbt_project/profiles.yml`` reads, set here from the
configured or embedded warehouse URL; dbt's target and log folders live in the state folder
so that the repository stays clean and read-only deployments work.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from planwh.db import dbt_env, warehouse_url
from planwh.settings import PROJECT_ROOT, Settings, load_settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
log = logging.getLogger(__name__)


class DbtError(RuntimeError):
    """A dbt command failed; the message lists the failing nodes."""


@dataclass(frozen=True)
class DbtOutcome:
    command: list[str]
    success: bool
    results: list  # dbt RunResult objects (node, status, message, execution_time)

    def failures(self) -> list[str]:
        lines = []
        for result in self.results:
            status = str(getattr(result, "status", ""))
            if status.lower() in {"error", "fail", "runtime error"}:
                node = getattr(result, "node", None)
                name = getattr(node, "unique_id", "?")
                lines.append(f"{name}: {status} {getattr(result, 'message', '') or ''}".strip())
        return lines


def dbt_paths(settings: Settings) -> dict[str, Path]:
    base = settings.state_dir / "dbt"
    return {"target": base / "target", "logs": base / "logs"}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


# dbt commands that write relations. Two at once on one warehouse collide: a table model is
# built as ``<name>__dbt_tmp`` and renamed into place, so the second build finds the first one's
# relations half-way ("relation already exists") and fails; both also write the same target folder.
WRITING_COMMANDS = frozenset({"build", "run", "seed", "snapshot", "test", "retry", "clone"})
BUILD_LOCK = "planwh.dbt.build"


@contextlib.contextmanager
def _one_at_a_time(url: str, args: list[str]) -> Iterator[None]:
    """Hold the warehouse's dbt lock (a session advisory lock) while a writing command runs: a
    second build, from another worker or an operator, waits for the first and then runs."""
    if not args or args[0] not in WRITING_COMMANDS:
        yield
        return
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        key = conn.execute("select hashtextextended(%s, 0)", (BUILD_LOCK,)).fetchone()[0]
        if not conn.execute("select pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            log.info("another dbt command is running on this warehouse: waiting for it to finish")
            conn.execute("select pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (key,))


def run_dbt(
    args: list[str],
    settings: Settings | None = None,
    *,
    url: str | None = None,
    raise_on_failure: bool = True,
    quiet: bool = True,
) -> DbtOutcome:
    """Run one dbt command (``["seed"]``, ``["build", "--select", "marts"]``...)."""
    from dbt.cli.main import dbtRunner

    settings = settings or load_settings()
    target_url = url or warehouse_url(settings)
    paths = dbt_paths(settings)
    for path in paths.values():
        path.mkdir(parents=True, exist_ok=True)
    command = [
        *args,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(paths["target"]),
        "--log-path", str(paths["logs"]),
    ]
    if quiet:
        command.append("--quiet")
    env = {
        **dbt_env(target_url),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    with _environment(env), _one_at_a_time(target_url, args):
        result = dbtRunner().invoke(command)
    results = list(getattr(result.result, "results", []) or [])
    outcome = DbtOutcome(command=command, success=bool(result.success), results=results)
    if raise_on_failure and not outcome.success:
        detail = "\n".join(outcome.failures()) or str(result.exception or "see the dbt log")
        raise DbtError(f"dbt {' '.join(args)} failed:\n{detail}\n(log: {paths['logs'] / 'dbt.log'})")
    return outcome
