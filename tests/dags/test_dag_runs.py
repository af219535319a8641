"""The real DAGs under ``dag.test()``: a day's chain end to end, a gate failure that shows, a
re-run that changes nothing, and the portal API pulled for the run's day.

Each test runs one child process (``planwh.orchestration.local_run``) with its own Airflow home
and SQLite metadata database in the test's state folder; the warehouse is the test's database on
the embedded PostgreSQL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from dag_helpers import plant_handled_exceeds_detected, warehouse_state, write_sample

from planwh.orchestration.local_run import run_dags, run_daily_chain

CHAIN_DAY = date(2024, 12, 10)
SINCE = date(2023, 1, 1)
TOKEN = "dag-test-token"


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
    # GIVEN a clean sample, plus a report received on the chain's day that only the gate rejects
    write_sample(settings)
    plant_handled_exceeds_detected(settings, CHAIN_DAY)

    # WHEN the daily chain runs through the real DAGs, taking over everything received so far
    states = run_daily_chain(settings, CHAIN_DAY, received_since=SINCE)

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
    again = run_daily_chain(settings, CHAIN_DAY, received_since=SINCE)

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
