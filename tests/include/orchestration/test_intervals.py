"""The ingest DAGs' task code works on its data interval: the files received in it, nothing else,
and a late correction for an old day is loaded in the interval that receives it and corrects the
marts. (The same functions run inside the DAGs; no Airflow here, so no wall clock either.)"""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime, time
from pathlib import Path

import psycopg

from planwh.dbt import run_dbt
from planwh.ingest.parsing import VIETNAM_TZ
from planwh.orchestration.tasks import Interval, run_ingest_sources
from planwh.settings import Settings

HEADER = ["stat_date", "province_code", "portal", "article_id", "url", "title", "topic", "language",
          "published_at", "page_views", "unique_visitors"]
PORTAL = "quangnam.gov.vn"


def _export(settings: Settings, name: str, stat_date: str, views: list[int], received: date) -> Path:
    """A portal's daily export, received (modified) at 01:30 on the Viet Nam day ``received``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i, count in enumerate(views):
        writer.writerow([stat_date, "49", PORTAL, f"a{i}", f"https://{PORTAL}/a{i}", "Tin", "human_rights", "vi",
                         f"{stat_date}T08:00:00+07:00", count, count // 2])
    path = settings.landing_dir / "portal" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")
    moment = datetime.combine(received, time(1, 30), VIETNAM_TZ).timestamp()
    os.utime(path, (moment, moment))
    return path


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


def test_each_interval_takes_what_it_received_and_a_late_correction_fixes_the_mart(settings: Settings) -> None:
    # GIVEN the export of 2 December received on 3 December, and one of 3 December on 4 December
    _export(settings, "2024-12-02.csv", "2024-12-02", [10, 20, 30], received=date(2024, 12, 3))
    _export(settings, "2024-12-03.csv", "2024-12-03", [5], received=date(2024, 12, 4))

    # WHEN the run of 3 December works on its interval
    loaded, gate = run_ingest_sources(settings, ["portal"], Interval.for_day(date(2024, 12, 3)))
    _build_portal_mart(settings)

    # THEN it took only the file received that day, published it, and the mart shows that day
    assert (loaded.totals["files_received"], loaded.totals["files_loaded"]) == (1, 1)
    assert gate.totals["rows_published"] == 3 and not gate.failures
    assert _mart_day(settings, "2024-12-02") == (3, 60, 1)
    assert _mart_day(settings, "2024-12-03") is None

    # WHEN a corrected export of 2 December arrives late, on 9 December, and that day's run follows
    _export(settings, "2024-12-02-sua.csv", "2024-12-02", [10, 25], received=date(2024, 12, 9))
    loaded, _ = run_ingest_sources(settings, ["portal"], Interval.for_day(date(2024, 12, 9)))
    _build_portal_mart(settings)

    # THEN the 9 December run loaded the correction (not the 4 December file: not its interval),
    # and the mart's 2 December is the corrected day, whole: the dropped article is gone
    assert (loaded.totals["files_received"], loaded.totals["files_loaded"]) == (1, 1)
    assert _mart_day(settings, "2024-12-02") == (2, 35, 2)
    assert _mart_day(settings, "2024-12-03") is None
    with psycopg.connect(settings.warehouse_url) as conn:
        names = [r[0] for r in conn.execute("select original_name from landing.files order by file_id")]
    assert names == ["2024-12-02.csv", "2024-12-02-sua.csv"]

    # WHEN the 9 December run is repeated
    again, gate = run_ingest_sources(settings, ["portal"], Interval.for_day(date(2024, 12, 9)))

    # THEN it receives the file again but loads and publishes nothing
    assert again.totals["files_received"] == 1 and again.totals.get("files_loaded", 0) == 0
    assert gate.file_ids == []
