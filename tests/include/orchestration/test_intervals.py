"""The ingest DAGs' task code works on its data interval as the reception ledger decides: the live run
loads whatever no run has loaded (a file copied with an old time, three days that landed while nothing
ran), a backfill loads what the ledger received on its day and never a later file, a late correction
corrects the marts, and running an interval again changes nothing. (The same functions run inside
the DAGs; here the sweeps' clock is the test's.)"""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path

import psycopg
import pytest

from planwh.dbt import run_dbt
from planwh.ingest.parsing import VIETNAM_TZ
from planwh.ingest.reception import sweep
from planwh.orchestration.tasks import Interval, IntervalError, landing_backlog, run_ingest_sources
from planwh.settings import Settings

HEADER = ["stat_date", "province_code", "portal", "article_id", "url", "title", "topic", "language",
          "published_at", "page_views", "unique_visitors"]
PORTAL = "quangnam.gov.vn"
STATE_TABLES = ("landing.files", "landing.receptions", "raw.portal_statistics", "published.portal_statistics",
                "audit.batches")


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), VIETNAM_TZ)


def _export(settings: Settings, name: str, stat_date: str, views: list[int], modified: datetime) -> Path:
    """A portal's daily export in the landing folder, its modification time set to ``modified``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i, count in enumerate(views):
        writer.writerow([stat_date, "49", PORTAL, f"a{i}", f"https://{PORTAL}/a{i}", "Tin", "human_rights", "vi",
                         f"{stat_date}T08:00:00+07:00", count, count // 2])
    path = settings.landing_dir / "portal" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")
    os.utime(path, (modified.timestamp(), modified.timestamp()))
    return path


def _run(settings: Settings, day: date, now: datetime):
    """The portal DAG's run of the Viet Nam day ``day``, its tasks running at ``now``."""
    return run_ingest_sources(settings, ["portal"], Interval.for_day(day), now=now)


def _state(settings: Settings) -> dict[str, list]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return {t: conn.execute(f"select * from {t} as t order by t::text").fetchall() for t in STATE_TABLES}


def _ledger(settings: Settings) -> list[tuple]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute(
            "select original_name, status, received_at, is_current_version from landing.files order by file_id"
        ).fetchall()


def _mart_day(settings: Settings, stat_date: str) -> tuple | None:
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute(
            "select articles, page_views, day_versions from marts.fct_portal_articles_daily "
            "where portal = %s and stat_date = %s",
            (PORTAL, stat_date),
        ).fetchone()


def _build_portal_mart(settings: Settings) -> None:
    # seeds, then the mart and what it is built from (the DAG's full `dbt build` is tested elsewhere)
    run_dbt(["seed"], settings)
    run_dbt(["run", "--select", "+fct_portal_articles_daily"], settings)


def test_a_file_copied_with_a_2019_modification_time_is_loaded_by_the_next_daily_run(settings: Settings) -> None:
    # GIVEN the daily runs were sweeping (the run of 9 December at 00:05 on the 10th), and then an export
    # was copied in with `cp -p`, keeping its 2019 modification time
    day = date(2024, 12, 10)
    _run(settings, day - timedelta(days=1), now=at(day, 0, 5))
    _export(settings, "2024-12-09.csv", "2024-12-09", [10, 20, 30], modified=at(date(2019, 5, 1), 9))

    # WHEN the next daily run runs (10 December's, at 00:05 on the 11th)
    loaded, gate = _run(settings, day, now=at(day + timedelta(days=1), 0, 5))

    # THEN it loaded and published the file, received when the sweep first saw it (not in 2019)
    assert (loaded.totals["files_received"], loaded.totals["files_loaded"]) == (1, 1)
    assert gate.totals["rows_published"] == 3 and not gate.failures
    assert _ledger(settings) == [("2024-12-09.csv", "loaded", at(day + timedelta(days=1), 0, 5), True)]

    # WHEN the same day runs again, and a backfill runs 1 May 2019
    before = _state(settings)
    again, gate = _run(settings, day, now=at(day + timedelta(days=1), 9))
    old, _ = _run(settings, date(2019, 5, 1), now=at(day + timedelta(days=1), 9))

    # THEN nothing changes: the file was taken by its run once, and the 2019 day has nothing
    assert (again.totals["files_received"], again.totals.get("files_loaded", 0), gate.file_ids) == (1, 0, [])
    assert old.totals["files_received"] == 0
    assert _state(settings) == before


def test_three_days_that_landed_while_nothing_ran_are_loaded_by_the_next_run_each_once(settings: Settings) -> None:
    # GIVEN the run of 1 December swept at 00:05 on the 2nd, then the scheduler was down for three days
    first = date(2024, 12, 2)
    _run(settings, first - timedelta(days=1), now=at(first, 0, 5))
    _export(settings, "2024-12-01.csv", "2024-12-01", [10, 20, 30], modified=at(first, 10))
    _export(settings, "2024-12-02.csv", "2024-12-02", [5, 6], modified=at(first + timedelta(days=1), 11))
    _export(settings, "2024-12-03.csv", "2024-12-03", [7], modified=at(date(2019, 1, 1)))  # cp -p
    # ... including a correction of 1 December sent on the 4th
    _export(settings, "2024-12-01-sua.csv", "2024-12-01", [10, 25], modified=at(first + timedelta(days=2), 9))

    # WHEN it comes back: with catchup off, the next run is the one of the last day (4 December)
    loaded, gate = _run(settings, first + timedelta(days=2), now=at(first + timedelta(days=3), 0, 5))

    # THEN every file is loaded, in the order it arrived, and the correction is the current version
    assert (loaded.totals["files_received"], loaded.totals["files_loaded"]) == (4, 4)
    assert loaded.totals["rows_loaded"] == 3 + 2 + 1 + 2
    assert gate.totals["files_passed"] == 4 and not gate.failures
    assert _ledger(settings) == [
        ("2024-12-01.csv", "loaded", at(first, 10), False),
        ("2024-12-02.csv", "loaded", at(first + timedelta(days=1), 11), True),
        ("2024-12-01-sua.csv", "loaded", at(first + timedelta(days=2), 9), True),
        ("2024-12-03.csv", "loaded", at(first + timedelta(days=3), 0, 5), True),  # a 2019 time: when first seen
    ]

    # WHEN the missed days are backfilled afterwards, and the last day is run again
    before = _state(settings)
    later = at(first + timedelta(days=3), 15)
    backfilled = [_run(settings, first + timedelta(days=d), now=later)[0] for d in (0, 1)]
    again, gate = _run(settings, first + timedelta(days=2), now=later)

    # THEN each file stays loaded once: the days the scheduler missed find nothing left to take
    assert [b.totals["files_received"] for b in backfilled] == [0, 0]
    assert again.totals["files_received"] == 4 and again.totals.get("files_loaded", 0) == 0 and not gate.file_ids
    assert _state(settings) == before


def test_a_backfill_loads_what_the_ledger_received_each_day_and_a_late_correction_fixes_the_mart(
    settings: Settings,
) -> None:
    # GIVEN a landing folder with history, registered by its first sweep at the files' own times:
    # the export of 2 December received on the 3rd, of 3 December on the 4th, a correction of 2 December
    # on the 9th
    _export(settings, "2024-12-02.csv", "2024-12-02", [10, 20, 30], modified=at(date(2024, 12, 3), 1, 30))
    _export(settings, "2024-12-03.csv", "2024-12-03", [5], modified=at(date(2024, 12, 4), 1, 30))
    _export(settings, "2024-12-02-sua.csv", "2024-12-02", [10, 25], modified=at(date(2024, 12, 9), 1, 30))
    now = at(date(2024, 12, 20), 10)
    sweep(settings, "portal", now=now)

    # WHEN 3 December is backfilled
    loaded, gate = _run(settings, date(2024, 12, 3), now=now)
    _build_portal_mart(settings)

    # THEN it took only the file received that day, published it, and the mart shows that day
    assert (loaded.totals["files_received"], loaded.totals["files_loaded"]) == (1, 1)
    assert gate.totals["rows_published"] == 3 and not gate.failures
    assert _mart_day(settings, "2024-12-02") == (3, 60, 1)
    assert _mart_day(settings, "2024-12-03") is None

    # WHEN 9 December is backfilled: the day the correction was received
    loaded, _ = _run(settings, date(2024, 12, 9), now=now)
    _build_portal_mart(settings)

    # THEN it loaded the correction (not the 4 December file: not its day), and the mart's 2 December is
    # the corrected day, whole: the dropped article is gone
    assert (loaded.totals["files_received"], loaded.totals["files_loaded"]) == (1, 1)
    assert _mart_day(settings, "2024-12-02") == (2, 35, 2)
    assert _mart_day(settings, "2024-12-03") is None
    assert [r[0] for r in _ledger(settings)] == ["2024-12-02.csv", "2024-12-02-sua.csv"]

    # WHEN the 9 December run is repeated
    before = _state(settings)
    again, gate = _run(settings, date(2024, 12, 9), now=now)

    # THEN it takes its file again but loads and publishes nothing
    assert again.totals["files_received"] == 1 and again.totals.get("files_loaded", 0) == 0
    assert gate.file_ids == [] and _state(settings) == before


def test_a_manual_run_judges_the_day_of_its_logical_date() -> None:
    day = date(2025, 12, 29)
    logical = at(day)
    # through the REST API or dag.test(), Airflow infers the interval that ends at the logical date ...
    assert Interval.for_run(at(date(2025, 12, 29)) - timedelta(days=1), at(date(2025, 12, 29)), logical) == (
        Interval.for_day(day))
    # ... through `airflow dags trigger -l 2025-12-29` on 5 January, the one that ends before the trigger
    assert Interval.for_run(at(date(2026, 1, 4)), at(date(2026, 1, 5)), logical) == Interval.for_day(day)
    # a scheduled or backfilled run: its data interval, whose start is its logical date
    assert Interval.for_run(logical, logical + timedelta(days=1), logical) == Interval.for_day(day)
    # triggered with no logical date: the day it was triggered
    assert Interval.for_run(None, None, None, at(day, 15)) == Interval.for_day(day)
    with pytest.raises(IntervalError, match="empty"):
        Interval.for_run(logical, logical, logical)


def test_the_landing_check_names_files_that_waited_too_long(settings: Settings) -> None:
    # GIVEN a download never renamed, and an export registered but taken by no run (an operator swept)
    swept = at(date(2024, 12, 1), 0, 5)
    stuck = settings.landing_dir / "portal" / "2024-11-30.csv.crdownload"
    _export(settings, stuck.name, "2024-11-30", [1], modified=swept - timedelta(hours=1))
    _export(settings, "2024-11-29.csv", "2024-11-29", [4], modified=swept - timedelta(hours=2))
    sweep(settings, "portal", now=swept)

    # WHEN the check runs within the limit (36 h), and after it
    assert landing_backlog(settings, ["portal"], Interval.for_day(date(2024, 12, 1)), now=swept + timedelta(hours=30)) is None
    message = landing_backlog(settings, ["portal"], Interval.for_day(date(2024, 12, 2)), now=swept + timedelta(hours=40))

    # THEN both are named, with their state, since when and what to do
    assert message is not None and message.startswith("2 landing file(s) not loaded after 36 h")
    assert "portal/2024-11-30.csv.crdownload: waiting since 2024-12-01 00:05 (a temporary name" in message
    assert "portal/2024-11-29.csv: unloaded since 2024-12-01 00:05 (registered, not taken by a run yet" in message
    assert "planwh landing status" in message
    # ... another source's check is not concerned
    assert landing_backlog(settings, ["rosters"], Interval.for_day(date(2024, 12, 2)), now=swept + timedelta(hours=40)) is None
