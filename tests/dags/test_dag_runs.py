"""The real DAGs under ``dag.test()``: a day's chain end to end, a gate failure that shows, a
re-run that changes nothing, the portal API pulled for the run's day, and the live run loading a
file copied with an old time while its landing check alerts on a file that waits too long.

Each test runs one child process (``planwh.orchestration.local_run``) with its own Airflow home
and SQLite metadata database in the test's state folder; the warehouse is the test's database on
the embedded PostgreSQL.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from dag_helpers import plant_handled_exceeds_detected, warehouse_state, write_sample

from planwh.ingest.parsing import VIETNAM_TZ
from planwh.ingest.reception import sweep
from planwh.orchestration.local_run import last_complete_day, run_dags, run_daily_chain

TOKEN = "dag-test-token"


@pytest.fixture(autouse=True)
def _live_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Yesterday's run stays the live one should a test cross midnight (the child reads the setting)."""
    monkeypatch.setenv("PLANWH_LIVE_RUN_GRACE_HOURS", "48")


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def alerts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    """A chat webhook configured as the Airflow connection ``planwh_alerts``; yields what it received."""
    _Webhook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLANWH_ALERTS",
        json.dumps({"conn_type": "http", "host": f"http://127.0.0.1:{server.server_address[1]}/hooks/planwh"}),
    )
    yield _Webhook.received
    server.shutdown()
    server.server_close()


def test_daily_chain_runs_end_to_end_fails_visibly_on_the_gate_and_reruns_as_a_no_op(settings, alerts) -> None:
    # GIVEN a clean sample, plus a report sent yesterday that only the gate rejects (its agency registered
    # that morning, after every register of the sample), none of it swept before
    day = last_complete_day()
    write_sample(settings)
    plant_handled_exceeds_detected(settings, day)

    # WHEN the daily chain of yesterday (the live one) runs through the real DAGs: its first sweep takes
    # the landing folder's history over
    states = run_daily_chain(settings, day)

    # THEN the marts are built from what was published ...
    assert states["transform_warehouse"] == "success", states
    assert states["ingest_portal_statistics"] == "success", states
    assert states["ingest_training_rosters"] == "success", states
    url = settings.warehouse_url
    with psycopg.connect(url) as conn:
        progress = conn.execute(
            "select count(*) from marts.fct_indicator_progress where value is not null"
        ).fetchone()[0]
        portal = conn.execute("select count(*) from marts.fct_portal_articles_daily").fetchone()[0]
        assert progress > 0 and portal > 0
        # ... the bad report failed its DAG run visibly, after the good batches were published
        assert states["ingest_agency_submissions"] == "failed", states
        failures = conn.execute(
            "select dag_id, task_id, message from audit.task_failures order by failure_id"
        ).fetchall()
        assert [(d, t) for d, t, _ in failures] == [
            ("ingest_agency_submissions", "fail_on_rejected_batches"),  # the task, after its tries
            ("ingest_agency_submissions", None),  # and its DAG run
        ]
        assert "handled_exceeds_detected" in failures[0][2]
        # ... and the alert webhook was told, once for the task and once for the run
        notified = [r[0] for r in conn.execute("select notified from audit.task_failures order by failure_id")]
        assert notified == [True, True]
        assert len(alerts) == 2 and all(set(a) == {"text"} for a in alerts)
        assert "ingest_agency_submissions.fail_on_rejected_batches failed" in alerts[0]["text"]
        assert "bao-cao_gx.csv" in alerts[0]["text"]
        verdicts = dict(
            conn.execute(
                "select f.original_name, b.validation_status from audit.batches as b "
                "join landing.files as f using (file_id) where f.source = 'submissions'"
            ).fetchall()
        )
        assert verdicts.pop("bao-cao_gx.csv") == "failed"
        assert verdicts and set(verdicts.values()) <= {"passed", "warned"}
        held = conn.execute(
            "select count(*) from quarantine.rejected_rows where reason_code = 'gx_handled_exceeds_detected'"
        ).fetchone()[0]
        assert held >= 1
        published_books = conn.execute(
            "select count(*) from published.agency_submissions where agency_code = 'GXTEST'"
        ).fetchone()[0]
        assert published_books >= 1  # the report's other rows were published

    # WHEN the same day runs again
    before = warehouse_state(url)
    again = run_daily_chain(settings, day)

    # THEN nothing changes: no file is taken twice, nothing is re-published, no new build is needed
    assert warehouse_state(url) == before
    assert again == {dag_id: "success" for dag_id in again} and "transform_warehouse" not in again


class _PortalApi(BaseHTTPRequestHandler):
    rows: list[dict] = []
    asked: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        day = parse_qs(urlsplit(self.path).query).get("date", [""])[0]
        self.asked.append(day)
        ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
        body = json.dumps(
            {"data": [r for r in self.rows if r["stat_date"] == day], "page": 1, "next": None}
            if ok
            else {"error": "no"}
        ).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def portal_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PortalApi)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    # configured as an operator would: an Airflow Variable and connection in the environment
    monkeypatch.setenv("AIRFLOW_VAR_PLANWH_PORTAL_API_PORTALS", json.dumps(["danang.gov.vn"]))
    monkeypatch.setenv(
        "AIRFLOW_CONN_PORTAL_API_DANANG_GOV_VN",
        json.dumps({"conn_type": "http", "host": url, "password": TOKEN}),
    )
    yield url
    server.shutdown()
    server.server_close()


def test_portal_dag_pulls_the_api_for_its_day_and_a_rerun_pulls_nothing_new(
    settings, portal_api: str
) -> None:
    # GIVEN a portal API with figures for two days
    _PortalApi.asked = []
    _PortalApi.rows = [
        {
            "stat_date": day,
            "province_code": "48",
            "portal": "danang.gov.vn",
            "article_id": f"{day}-{i}",
            "url": f"https://danang.gov.vn/{day}/{i}",
            "title": "Tin",
            "topic": "human_rights",
            "language": "vi",
            "published_at": f"{day}T07:00:00+07:00",
            "page_views": 5,
            "unique_visitors": 2,
        }
        for day in ("2024-12-02", "2024-12-03")
        for i in range(3)
    ]

    # WHEN the portal DAG runs for 2 December, twice
    results = run_dags(settings, [("ingest_portal_statistics", date(2024, 12, 2))] * 2)

    # THEN only that day was asked for and loaded, once, received at the end of the interval
    assert [r.state for r in results] == ["success", "success"]
    assert set(_PortalApi.asked) == {"2024-12-02"}
    with psycopg.connect(settings.warehouse_url) as conn:
        files = conn.execute(
            "select original_name, status, rows_loaded, received_at at time zone 'Asia/Ho_Chi_Minh' "
            "from landing.files"
        ).fetchall()
        published = conn.execute("select count(*) from published.portal_statistics").fetchone()[0]
    assert [(f[0], f[1], f[2], f[3].isoformat()) for f in files] == [
        ("2024-12-02.jsonl", "loaded", 3, "2024-12-03T00:00:00")
    ]
    assert published == 3


def test_the_live_run_loads_a_file_copied_with_a_2019_time_and_alerts_on_a_file_that_waits_too_long(
    settings, alerts
) -> None:
    # GIVEN a download never renamed, first seen by a sweep three days ago ...
    folder = settings.landing_dir / "portal"
    folder.mkdir(parents=True)
    stuck = folder / "thong-ke_2024-12-01.csv.part"
    stuck.write_text("stat_date\r\n", encoding="utf-8")
    started = datetime.now(UTC)
    sweep(settings, "portal", now=started - timedelta(days=3))
    # ... and since then a portal export copied with `cp -p`, keeping its 2019 modification time
    export = folder / "quangnam_2019.csv"
    export.write_text(
        "stat_date,province_code,portal,article_id,url,title,topic,language,published_at,page_views,"
        "unique_visitors\r\n2019-04-30,49,quangnam.gov.vn,a1,https://quangnam.gov.vn/a1,Tin,human_rights,vi,"
        "2019-04-30T08:00:00+07:00,12,5\r\n",
        encoding="utf-8",
    )
    old = datetime(2019, 5, 1, 9, tzinfo=VIETNAM_TZ).timestamp()
    os.utime(export, (old, old))

    # WHEN the portal DAG's live run (yesterday's) runs, twice
    results = run_dags(settings, [("ingest_portal_statistics", last_complete_day())] * 2)

    # THEN the export is loaded once, received when the sweep first saw it ...
    with psycopg.connect(settings.warehouse_url) as conn:
        files = conn.execute("select original_name, status, received_at from landing.files").fetchall()
        published = conn.execute("select count(*) from published.portal_statistics").fetchone()[0]
        failures = conn.execute(
            "select task_id, message from audit.task_failures where task_id is not null order by failure_id"
        ).fetchall()
    assert [(name, status) for name, status, _ in files] == [("quangnam_2019.csv", "loaded")] and published == 1
    assert started < files[0][2] < datetime.now(UTC)
    # ... and each run failed its landing check on the waiting download, which alerted
    assert [r.state for r in results] == ["failed", "failed"]
    assert [task for task, _ in failures] == ["check_landing_backlog"] * 2
    assert "portal/thong-ke_2024-12-01.csv.part: waiting since" in failures[0][1]
    task_alerts = [a["text"] for a in alerts if "check_landing_backlog failed" in a["text"]]
    assert len(task_alerts) == 2 and all("thong-ke_2024-12-01.csv.part" in text for text in task_alerts)
    assert "1 landing file(s) not loaded after 36 h" in task_alerts[0]
