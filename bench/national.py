"""``make bench``: the pipeline at national scale, measured against the physical limit.

Generates (or reuses, from ``.state/bench/``) a national dataset -- the 34 provinces (63 before
the 2025 merger), about 2,000 agencies, four years of submissions, about 10 million portal
rows and 200,000 roster rows at ``--scale 1`` -- runs the pipeline on it in its own databases,
and prints one table: each figure with the baseline measured in the same run, their ratio, the
target and whether it is met. ``--scale 0.05`` runs the same at a twentieth of the size.

What is measured, in order:

1. Ingest of one big portal CSV (``big_rows`` rows) by ``ingest_file`` in a child process, whose
   peak resident memory is read with ``getrusage``; against ``COPY`` of the same file into a
   table of the same column types (the limit here) and pandas ``to_sql`` (what a hand-written
   loader does; on at most 200,000 rows, it is slow).
2. The four sources' history through ``ingest_paths`` file by file (registers, submissions,
   portal exports, rosters), the last year first; per source the rows per second, against
   ``COPY`` and ``to_sql`` of the same rows (taken back out of ``raw``).
3. The history is published without the Great Expectations gate (a bench fixture, said in the
   output): the gate costs ~0.2-0.5 s a file whatever its size, which is fine for a day's dozens
   of files and makes thousands of history files a separate hour. The new days go through it.
4. ``dbt build --full-refresh`` with one year and with four years of history; the daily run
   (one new day: ingest, gate, then the DAG's ``dbt build``) with one year and with four years.
5. The national sync: the first one (everything) and a one-day delta.
6. One day of national data through the task code of the daily DAGs (ingest, gate, dbt, sync)
   and through the real DAGs (``run_daily_chain``: ``dag.test()`` of the three ingest DAGs, the
   transform and the sync).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import dataset as ds  # noqa: E402

DEFAULT_PORT = 54359
TO_SQL_ROWS = 200_000
SOURCES = ("agencies", "submissions", "portal", "rosters")


# ---------------------------------------------------------------------------- output


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    baseline: float | None
    baseline_name: str
    target: str  # how the target reads
    check: Callable[[float, float | None], bool] | None = None  # (value, ratio) -> met
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.baseline in (None, 0):
            return None
        return self.value / self.baseline

    @property
    def met(self) -> str:
        if self.check is None:
            return "n/a"
        if self.value is None:
            return "NOT RUN"
        return "yes" if self.check(self.value, self.ratio) else "NO"


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "rows/s":
        return f"{value:,.0f} rows/s"
    if unit == "s":
        return f"{value:,.1f} s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:,.2f} {unit}"


def table(figures: list[Figure]) -> str:
    head = ("figure", "value", "baseline", "ratio", "target", "met?")
    rows = [head]
    for f in figures:
        baseline = f"{_fmt(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline is not None else f.baseline_name
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        rows.append((f.name, _fmt(f.value, f.unit), baseline, ratio, f.target, f.met))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  * {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + ([""] + notes if notes else []))


# ---------------------------------------------------------------------------- databases


@dataclass
class Run:
    server: str  # postgresql://.../postgres of the server the bench's databases live on
    state: Path
    prefix: str
    landing: Path
    figures: list[Figure] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"{self.server.rsplit('/', 1)[0]}/{self.prefix}_{name}"

    def settings(self, name: str, national: str | None = None):
        from planwh.settings import load_settings

        env = {
            "PLANWH_WAREHOUSE_URL": self.url(name),
            "PLANWH_NATIONAL_URL": self.url(national or f"{name}_national"),
            "PLANWH_STATE_DIR": str(self.state / name),
            "PLANWH_LANDING_DIR": str(self.landing),
            "PLANWH_PSEUDONYM_KEY": "bench-key-not-secret",
            "PLANWH_MAX_FILE_MB": "100000",
            "PLANWH_DOTENV": str(self.state / "no.env"),
            "AIRFLOW_HOME": str(self.state / name / "airflow"),
        }
        os.environ.update(env)  # child processes (the DAG chain) read the same configuration
        return load_settings(env)

    def create(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{self.prefix}_{name}" with (force)')
            conn.execute(f'create database "{self.prefix}_{name}"')

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            names = [r[0] for r in conn.execute(
                "select datname from pg_database where datname like %s", (f"{self.prefix}\\_%",)).fetchall()]
            for name in names:
                conn.execute(f'drop database if exists "{name}" with (force)')


@contextmanager
def server(args: argparse.Namespace, cache: Path) -> Iterator[str]:
    if args.server_url:
        yield args.server_url
        return
    from planwh.db import EmbeddedServer
    from planwh.settings import load_settings

    settings = load_settings({"PLANWH_STATE_DIR": str(cache / "server"), "PLANWH_EMBEDDED_PORT": str(args.port),
                              "PLANWH_DOTENV": str(cache / "no.env")})
    embedded = EmbeddedServer(settings)
    say(f"starting an embedded PostgreSQL on port {args.port} (data in {cache / 'server'})")
    embedded.start()
    try:
        import psycopg

        # the bench's own server: databases left by a run that was killed go first
        with psycopg.connect(embedded.url("postgres"), autocommit=True) as conn:
            for (name,) in conn.execute("select datname from pg_database where datname like 'bench\\_%'").fetchall():
                conn.execute(f'drop database if exists "{name}" with (force)')
        yield embedded.url("postgres")
    finally:
        embedded.stop()


def timed(fn: Callable, *a, **kw) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - started, out


# ---------------------------------------------------------------------------- 1. the big file


PORTAL_TYPES = ("date", "char(2)", "text", "text", "text", "text", "text", "text", "timestamptz", "bigint", "bigint")


def child_ingest(url: str, state: str, path: str) -> None:
    """In a fresh process: ingest one portal file, print seconds, rows and peak RSS as JSON."""
    from planwh.ingest.load import ingest_file
    from planwh.settings import load_settings

    settings = load_settings({"PLANWH_WAREHOUSE_URL": url, "PLANWH_STATE_DIR": state,
                              "PLANWH_PSEUDONYM_KEY": "bench-key-not-secret", "PLANWH_MAX_FILE_MB": "100000",
                              "PLANWH_DOTENV": str(Path(state) / "no.env")})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, outcome = timed(ingest_file, settings, "portal", path, received_at=datetime(2026, 11, 10, tzinfo=UTC))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("BENCH-RESULT " + json.dumps({
        "seconds": seconds, "rows_in": outcome.rows_in, "rows_loaded": outcome.rows_loaded,
        "rows_rejected": outcome.rows_rejected, "status": outcome.status, "peak_kb": peak, "before_kb": before,
    }), flush=True)


def copy_file_baseline(url: str, path: Path) -> float:
    """Seconds to COPY the CSV's bytes into a table of the same column types (no checks)."""
    import psycopg

    cols = ", ".join(f"{n} {t}" for n, t in zip(ds.PORTAL_HEADER, PORTAL_TYPES, strict=True))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists bench_copy_target")
        conn.execute(f"create table bench_copy_target ({cols})")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("copy bench_copy_target from stdin (format csv, header)") as copy, \
                path.open("rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        conn.execute("drop table bench_copy_target")
    return seconds


def copy_raw_shape_baseline(url: str, path: Path) -> float:
    """Seconds to COPY the CSV into a table shaped like raw.portal_statistics: the same types,
    primary key (file_id, row_number) and foreign key to landing.files, lineage filled by defaults.
    No loader that keeps the warehouse's keys can beat it."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        file_id = conn.execute("select max(file_id) from landing.files").fetchone()[0]
        conn.execute("drop table if exists bench_copy_raw")
        conn.execute("drop sequence if exists bench_copy_raw_rows")
        conn.execute("create sequence bench_copy_raw_rows start 2")
        conn.execute("create table bench_copy_raw (like raw.portal_statistics including all)")
        conn.execute("alter table bench_copy_raw add foreign key (file_id) references landing.files (file_id)")
        conn.execute(f"alter table bench_copy_raw alter column file_id set default {int(file_id)}")
        conn.execute("alter table bench_copy_raw alter column row_number set default nextval('bench_copy_raw_rows')")
        cols = ", ".join(ds.PORTAL_HEADER)
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"copy bench_copy_raw ({cols}) from stdin (format csv, header)") as copy, \
                path.open("rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        conn.execute("drop table bench_copy_raw")
        conn.execute("drop sequence bench_copy_raw_rows")
    return seconds


def to_sql_seconds(url: str, frame) -> float:
    """Seconds for pandas ``to_sql`` (default method, SQLAlchemy + psycopg) to write ``frame``."""
    from sqlalchemy import create_engine

    from planwh.db import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("drop table if exists bench_to_sql")
        started = time.perf_counter()
        frame.to_sql("bench_to_sql", engine, if_exists="replace", index=False, chunksize=10_000)
        seconds = time.perf_counter() - started
        with engine.begin() as conn:
            conn.exec_driver_sql("drop table if exists bench_to_sql")
    finally:
        engine.dispose()
    return seconds


def bench_big_file(run: Run, data: ds.Dataset) -> None:
    import pandas as pd

    run.create("ingest")
    url = run.url("ingest")
    path = data.big_file
    rows = data.manifest["big_rows"]
    size_mb = path.stat().st_size / 1e6
    say(f"1. ingesting the big portal file ({rows:,} rows, {size_mb:,.0f} MB) in a child process")
    state = run.state / "ingest"
    state.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child-ingest", url, str(state), str(path)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""},
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the ingest child failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1].split(" ", 1)[1])
    ingest_rate = result["rows_in"] / result["seconds"]
    say(f"   ingest: {result['seconds']:.1f} s, {result['rows_loaded']:,} loaded, {result['rows_rejected']:,} "
        f"rejected, peak RSS {result['peak_kb'] / 1024:,.0f} MB")
    copy_seconds = copy_file_baseline(url, path)
    say(f"   plain COPY of the same file: {copy_seconds:.1f} s")
    raw_seconds = copy_raw_shape_baseline(url, path)
    say(f"   COPY of the same file into a table shaped like raw.portal_statistics (PK + FK): {raw_seconds:.1f} s")
    sample = pd.read_csv(path, nrows=min(TO_SQL_ROWS, rows), dtype=str, keep_default_na=False)
    to_sql = to_sql_seconds(url, sample)
    say(f"   pandas to_sql of {len(sample):,} rows: {to_sql:.1f} s")
    run.facts["big_file"] = {**result, "copy_seconds": copy_seconds, "copy_raw_seconds": raw_seconds,
                             "to_sql_seconds": to_sql,
                             "to_sql_rows": len(sample), "size_mb": size_mb}
    copy_rate = rows / copy_seconds
    run.figures += [
        Figure(f"ingest portal, one {rows:,}-row CSV (fast path)", ingest_rate, "rows/s", copy_rate, "plain COPY",
               ">= 0.5 x COPY", lambda v, r: r is not None and r >= 0.5,
               note="the whole ingest_file: archive copy and sha256, ledger, header detection and encoding "
                    "scan, every row read by Python's csv module and checked against the contract, COPY into "
                    "raw.portal_statistics (whose foreign key to landing.files PostgreSQL checks row by row), "
                    "duplicate-key check; the baseline only parses the bytes into a table without keys"),
        Figure("ingest portal, same file, vs COPY into raw's shape", ingest_rate, "rows/s", rows / raw_seconds,
               "COPY, PK + FK", ">= 0.5 x COPY", lambda v, r: r is not None and r >= 0.5,
               note="the same COPY into a table with raw.portal_statistics' types, primary key and foreign "
                    "key to the ledger: the floor for any loader that keeps the warehouse's keys"),
        Figure("ingest portal, same file, vs pandas", ingest_rate, "rows/s", len(sample) / to_sql,
               f"to_sql, {len(sample):,} rows", "faster than to_sql", lambda v, r: r is not None and r > 1),
        Figure(f"peak memory ingesting {rows:,} rows", result["peak_kb"] / 1024, "MB", size_mb,
               "file size", "< 1024 MB", lambda v, r: v < 1024,
               note="peak RSS (getrusage) of the process running ingest_file; the file is streamed"),
    ]


# ---------------------------------------------------------------------------- 2. history


def files_by_mtime(landing: Path, source: str, start: float | None, end: float | None) -> list[Path]:
    folder = landing / source
    if not folder.is_dir():
        return []
    found = [(p.stat().st_mtime, p) for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return [p for m, p in sorted(found) if (start is None or m >= start) and (end is None or m < end)]


def ingest_history(run: Run, settings, start: float | None, end: float | None, stats: dict) -> list[int]:
    from planwh.ingest.load import ingest_paths

    file_ids: list[int] = []
    for source in SOURCES:
        files = files_by_mtime(run.landing, source, start, end)
        if not files:
            continue
        seconds, outcomes = timed(ingest_paths, settings, source, files, progress=False,
                                  received_from_mtime=True)
        rows = sum(o.rows_in or 0 for o in outcomes)
        entry = stats.setdefault(source, {"files": 0, "rows": 0, "seconds": 0.0, "rejected_files": 0})
        entry["files"] += len(files)
        entry["rows"] += rows
        entry["seconds"] += seconds
        entry["rejected_files"] += sum(1 for o in outcomes if o.status == "rejected")
        file_ids += [o.file_id for o in outcomes if o.status == "loaded" and o.file_id is not None]
        say(f"   {source}: {len(files):,} files, {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
    return file_ids


FIXTURE_MESSAGE = "bench fixture: history published without the Great Expectations gate"


def publish_without_gate(settings, file_ids: list[int]) -> float:
    """Publish loaded history files as they are and record them as such (see the module doc, 3.)."""
    import psycopg

    from planwh.validate import ensure_published_schema
    from planwh.validate.schema import published_columns
    from planwh.validate.suites import SOURCE_SUITES

    started = time.perf_counter()
    with psycopg.connect(settings.warehouse_url) as conn:
        ensure_published_schema(conn)
        conn.commit()
        for specs in SOURCE_SUITES.values():
            for spec in specs:
                cols = ", ".join(published_columns(conn, spec.table))
                conn.execute(f"insert into published.{spec.table} ({cols}) select {cols} from raw.{spec.table} "
                             "where file_id = any(%s)", (file_ids,))
        conn.execute(
            """
            insert into audit.batches (file_id, source, validation_status, batch_quarantined, rows_loaded,
                rows_published, rows_quarantined, message, gate_run_id, validated_at)
            select file_id, source, 'passed', false, rows_loaded, rows_loaded, 0, %s, %s, now()
            from landing.files where file_id = any(%s)
            """,
            (FIXTURE_MESSAGE, uuid.uuid4(), file_ids),
        )
        conn.commit()
    return time.perf_counter() - started


def source_baselines(run: Run, settings, stats: dict) -> None:
    """Per source: COPY and to_sql of the rows ingestion loaded, taken back out of raw."""
    import pandas as pd
    import psycopg

    from planwh.ingest.schema import RAW_TABLE

    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        for source in SOURCES:
            entry = stats.get(source)
            if not entry or not entry["rows"]:
                continue
            table = RAW_TABLE[source]
            buf = io.BytesIO()
            with conn.cursor() as cur, cur.copy(f"copy (select * from {table}) to stdout (format csv)") as copy:
                for block in copy:
                    buf.write(block)
            rows = conn.execute(f"select count(*) from {table}").fetchone()[0]
            conn.execute("drop table if exists bench_copy_source")
            conn.execute(f"create table bench_copy_source (like {table})")
            data = buf.getvalue()
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy("copy bench_copy_source from stdin (format csv)") as copy:
                for i in range(0, len(data), 1 << 20):
                    copy.write(data[i:i + (1 << 20)])
            entry["copy_rate"] = rows / (time.perf_counter() - started)
            conn.execute("drop table bench_copy_source")
            frame = pd.read_csv(io.BytesIO(data), header=None, nrows=TO_SQL_ROWS, dtype=str, keep_default_na=False)
            entry["to_sql_rate"] = len(frame) / to_sql_seconds(settings.warehouse_url, frame)
            entry["to_sql_rows"] = len(frame)
    for source in SOURCES:
        entry = stats.get(source)
        if not entry or not entry["rows"]:
            continue
        rate = entry["rows"] / entry["seconds"]
        how = "Python path, XLSX/CSV/JSON" if source != "portal" else "monthly CSVs, fast path"
        run.figures.append(Figure(
            f"ingest {source}, history files ({how})", rate, "rows/s", entry["copy_rate"], "plain COPY",
            ">= 0.5 x COPY" if source == "portal" else "n/a (spreadsheets)",
            (lambda v, r: r is not None and r >= 0.5) if source == "portal" else None,
            note=f"{entry['files']:,} files, {entry['rows']:,} rows, {entry['seconds']:.1f} s; "
                 f"to_sql {entry['to_sql_rate']:,.0f} rows/s on {entry['to_sql_rows']:,} rows",
        ))


# ---------------------------------------------------------------------------- 3. daily runs


def day_interval(day: date):
    from planwh.orchestration.tasks import Interval

    return Interval.for_day(day)


def register_day(settings, source: str, received_day: date) -> int:
    """Register in the reception ledger the files of ``source`` that arrived on ``received_day``: what
    the live run's sweep does, limited to that day (the bench's landing folder already holds the
    days still to come, and its history was loaded without the ledger)."""
    from planwh.ingest.reception import register_file

    start = vn_midnight(received_day)
    files = files_by_mtime(settings.landing_dir, source, start, start + 86_400)
    for path in files:
        register_file(settings, source, path)
    return len(files)


def daily_ingest(settings, received_day: date) -> tuple[float, dict]:
    """The steps of ``planwh.orchestration.tasks.run_ingest_sources`` (register each source's files
    that arrived that day, load what the ledger received that day, then the gate), each timed."""
    from planwh.orchestration.tasks import StepResult, _merge, ingest_interval, publish_interval

    interval = day_interval(received_day)
    loaded, steps = StepResult(), {}
    started = time.perf_counter()
    for source in SOURCES:
        seconds, _ = timed(register_day, settings, source, received_day)
        steps[f"register {source}"] = round(seconds, 1)
        seconds, step = timed(ingest_interval, settings, source, interval)
        loaded.file_ids += step.file_ids
        _merge(loaded.totals, step.totals)
        steps[f"ingest {source}"] = round(seconds, 1)
    seconds, gate = timed(publish_interval, settings, SOURCES, interval, loaded.file_ids)
    steps["gate"] = round(seconds, 1)
    say("   steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    return time.perf_counter() - started, {"loaded": loaded.totals, "gate": gate.totals,
                                           "failures": len(gate.failures), "steps": steps}


SLOWEST_NODES: dict[str, list] = {}


def daily_build(settings, label: str | None = None) -> float:
    """The transform DAG's build; a failing node is reported (the time still counts), not fatal.
    With a label, the build's slowest nodes (audit.dbt_node_results) are kept for the JSON output."""
    import psycopg

    from planwh.dbt import DbtError
    from planwh.orchestration.tasks import build_warehouse

    build_id = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    try:
        build_warehouse(settings, build_id=build_id)
    except DbtError as exc:
        say("   dbt build reported failures: " + str(exc)[:600])
    seconds = time.perf_counter() - started
    if label:
        with psycopg.connect(settings.warehouse_url) as conn:
            rows = conn.execute(
                """
                select unique_id, round(seconds::numeric, 2) from audit.dbt_node_results
                where build_id = %s order by seconds desc nulls last limit 8
                """,
                (build_id,),
            ).fetchall()
        SLOWEST_NODES[label] = [[u.split(".")[-1] if u.startswith("model.") else u, float(s)] for u, s in rows]
        say("   slowest nodes: " + ", ".join(f"{u} {s:.1f} s" for u, s in SLOWEST_NODES[label][:5]))
    return seconds


def full_build(settings) -> float:
    from planwh.dbt import run_dbt

    seconds, outcome = timed(run_dbt, ["build", "--full-refresh", "--exclude", "resource_type:unit_test"], settings,
                             raise_on_failure=False)
    if not outcome.success:
        say("   dbt build reported failures: " + "; ".join(outcome.failures())[:600])
    return seconds


def sync(settings) -> tuple[float, object]:
    from planwh.sync import sync_national

    return timed(sync_national, settings)


# ---------------------------------------------------------------------------- the run


def vn_midnight(day: date) -> float:
    from planwh.ingest.parsing import VIETNAM_TZ

    return datetime.combine(day, datetime.min.time(), VIETNAM_TZ).timestamp()


def run_pipeline(run: Run, data: ds.Dataset, *, chain: bool) -> None:
    import psycopg

    run.create("wh")
    run.create("wh_national")
    settings = run.settings("wh")
    new_days = data.new_days()
    one_year = vn_midnight(ds.ONE_YEAR_FROM)
    history_end = vn_midnight(new_days[0] + timedelta(days=1))  # files received before the first daily run
    stats: dict = {}

    say("2. history, last year first: registers, then every source received from "
        f"{ds.ONE_YEAR_FROM} to {ds.HISTORY_LAST}")
    registers = files_by_mtime(run.landing, "agencies", None, history_end)
    from planwh.ingest.load import ingest_paths

    seconds, outcomes = timed(ingest_paths, settings, "agencies", registers, progress=False, received_from_mtime=True)
    stats["agencies"] = {"files": len(registers), "rows": sum(o.rows_in or 0 for o in outcomes), "seconds": seconds,
                         "rejected_files": 0}
    ids = [o.file_id for o in outcomes if o.status == "loaded"]
    ids += ingest_history(run, settings, one_year, history_end, stats)
    seconds = publish_without_gate(settings, ids)
    say(f"   published {len(ids):,} files without the gate in {seconds:.1f} s ({FIXTURE_MESSAGE})")

    say("4. dbt build --full-refresh with one year of history")
    full_1y = full_build(settings)
    say(f"   {full_1y:.1f} s")
    day1 = new_days[0] + timedelta(days=1)
    ingest_1y, detail_1y = daily_ingest(settings, day1)
    build_1y = daily_build(settings, "daily, one year")
    say(f"   daily run for {day1} (one new day): ingest + gate {ingest_1y:.1f} s {detail_1y['loaded']}, "
        f"dbt build {build_1y:.1f} s")

    say(f"2. history, the three years before {ds.ONE_YEAR_FROM}")
    ids = ingest_history(run, settings, None, one_year, stats)
    seconds = publish_without_gate(settings, ids)
    say(f"   published {len(ids):,} files without the gate in {seconds:.1f} s")
    catch_up = daily_build(settings)
    say(f"   dbt build taking in the three years: {catch_up:.1f} s")
    source_baselines(run, settings, stats)

    say("5. national sync, the first (everything)")
    sync_full, result = sync(settings)
    say(f"   {sync_full:.1f} s, mode {result.mode}, {sum(sum(c.values()) for c in result.counts.values()):,} rows")

    day2 = new_days[1] + timedelta(days=1)
    ingest_4y, detail_4y = daily_ingest(settings, day2)
    build_4y = daily_build(settings, "daily, four years")
    say(f"   daily run for {day2} with four years: ingest + gate {ingest_4y:.1f} s {detail_4y['loaded']}, "
        f"dbt build {build_4y:.1f} s")

    say("4. dbt build --full-refresh with four years of history")
    full_4y = full_build(settings)
    say(f"   {full_4y:.1f} s")

    day3 = new_days[2] + timedelta(days=1)
    say(f"6. one day of national data ({day3}) through the task code: ingest, gate, dbt, sync")
    ingest_3, detail_3 = daily_ingest(settings, day3)
    build_3 = daily_build(settings)
    sync_delta, result = sync(settings)
    task_total = ingest_3 + build_3 + sync_delta
    say(f"   ingest + gate {ingest_3:.1f} s ({detail_3['loaded']}, gate {detail_3['gate']}), dbt {build_3:.1f} s, "
        f"sync {sync_delta:.1f} s (mode {result.mode}); total {task_total:.1f} s")
    chain_seconds = None
    if chain:
        from planwh.orchestration.local_run import run_daily_chain

        day4 = new_days[3] + timedelta(days=1)
        say(f"6. one day of national data ({day4}) through the real DAGs (dag.test(), one child process)")
        registering = sum(timed(register_day, settings, source, day4)[0] for source in SOURCES)
        chain_seconds, states = timed(run_daily_chain, settings, day4)
        chain_seconds += registering
        say(f"   {chain_seconds:.1f} s: {states}")
        run.facts["chain_states"] = states

    with psycopg.connect(settings.warehouse_url) as conn:
        run.facts["warehouse_rows"] = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in (
            "raw.portal_statistics", "published.portal_statistics", "raw.agency_submissions",
            "raw.training_attendance", "marts.fct_portal_articles_daily")}
    run.facts["slowest_dbt_nodes"] = SLOWEST_NODES
    run.facts.update({"ingest_stats": stats, "daily": {"1y": [ingest_1y, build_1y], "4y": [ingest_4y, build_4y]}})

    run.figures += [
        Figure("dbt build --full-refresh, four years", full_4y, "s", full_1y, "one year", "n/a", None),
        Figure("daily dbt build (one new day), one year", build_1y, "s", full_1y, "full build, one year",
               "n/a", None),
        Figure("daily dbt build (one new day), four years", build_4y, "s", build_1y, "same, one year",
               "<= 1.2 x one year", lambda v, r: r is not None and r <= 1.2,
               note="the transform DAG's build (dbt build, unit tests excluded) after ingest and gate of one day"),
        Figure("daily ingest + gate (one new day), four years", ingest_4y, "s", ingest_1y, "same, one year",
               "<= 1.2 x one year", lambda v, r: r is not None and r <= 1.2),
        Figure("national sync, one-day delta", sync_delta, "s", sync_full, "first sync, everything",
               "< first sync", lambda v, r: r is not None and r < 1),
        Figure("one day of national data, task code", task_total, "s", build_3, "its dbt build alone", "< 60 s",
               lambda v, r: v < 60, note="ingest + gate + dbt build + sync, as the DAG tasks run them"),
    ]
    if chain:
        run.figures.append(Figure(
            "one day of national data, real DAGs", chain_seconds, "s", task_total, "task code alone", "< 60 s",
            lambda v, r: v is not None and v < 60,
            note="run_daily_chain: dag.test() of the 3 ingest DAGs, transform, sync in one child process "
                 "(Airflow's start-up included)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = national scale (default); 0.05 for a quick run")
    parser.add_argument("--cache-dir", type=Path, default=REPO / ".state" / "bench",
                        help="where the generated dataset, the server and the run's state live")
    parser.add_argument("--server-url", help="a PostgreSQL server URL (…/postgres) to create the databases on; "
                        "default: an embedded server of the bench's own")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port of the embedded server")
    parser.add_argument("--no-chain", action="store_true", help="skip the real-DAG chain (Airflow)")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--child-ingest", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_ingest:
        child_ingest(*args.child_ingest)
        return 0

    # a stopped run (kill, Ctrl-C) still drops its databases and stops its server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    cache = args.cache_dir.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    params = ds.Params(scale=args.scale)
    data = ds.build(params, cache, log=say)
    run_dir = cache / f"run-{params.key()}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    with server(args, cache) as url:
        run = Run(server=url, state=run_dir, prefix=f"bench_{uuid.uuid4().hex[:6]}", landing=data.landing)
        try:
            bench_big_file(run, data)
            run_pipeline(run, data, chain=not args.no_chain)
        finally:
            if not args.keep:
                run.drop_all()
    m = data.manifest
    print()
    print(f"planwh benchmark, scale {args.scale}: {m['provinces_current']} provinces ({m['provinces_legacy']} before "
          f"the merger), {m['agencies']:,} agencies, {m['portal_rows']:,} portal rows, "
          f"{m['sample_rows'].get('rosters', 0) + m['extra_roster_rows']:,} roster rows, "
          f"{m['sample_rows'].get('submissions', 0):,} submission rows; {os.cpu_count()} cores, load average "
          f"{load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end; {time.strftime('%Y-%m-%d %H:%M')} UTC")
    print()
    print(table(run.figures))
    print()
    print(f"total {time.perf_counter() - started:,.0f} s (dataset generated in {m['seconds']} s, cached in {data.root})")
    if args.json:
        args.json.write_text(json.dumps({
            "scale": args.scale, "manifest": m, "facts": run.facts,
            "figures": [{"name": f.name, "value": f.value, "unit": f.unit, "baseline": f.baseline,
                         "baseline_name": f.baseline_name, "ratio": f.ratio, "target": f.target, "met": f.met}
                        for f in run.figures],
        }, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
