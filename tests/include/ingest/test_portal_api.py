"""Portal statistics pulled from a portal's paged HTTP API, against a local server the test starts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from ingest_files import PORTAL_HEADER, RECEIVED, portal_row, query, scalar

from planwh.ingest.portal_api import (
    PortalApi,
    PortalApiError,
    connection_id,
    pull_portal_day,
    pull_portal_incremental,
)

TOKEN = "s3cret-token"
PORTAL = "quangnam.gov.vn"


class FakePortal:
    """Serves ``/api/v1/statistics`` pages from ``days`` (day -> rows); knobs make it misbehave."""

    def __init__(self) -> None:
        self.days: dict[str, list[dict]] = {}
        self.failures_before_success = 0
        self.next_override: str | None = None
        self.requests: list[tuple[str, str | None]] = []
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                portal.requests.append((self.path, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"error": "unauthorised"})
                if portal.failures_before_success > 0:
                    portal.failures_before_success -= 1
                    return self._send(503, {"error": "busy"})
                if parts.path != "/api/v1/statistics":
                    return self._send(404, {"error": "not found"})
                query = parse_qs(parts.query)
                day, page, size = query["date"][0], int(query["page"][0]), int(query["page_size"][0])
                rows = portal.days.get(day, [])
                chunk = rows[(page - 1) * size: page * size]
                following = None
                if page * size < len(rows):
                    following = portal.next_override or f"/api/v1/statistics?date={day}&page={page + 1}&page_size={size}"
                self._send(200, {"data": chunk, "page": page, "next": following})

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def rows_for(self, day: str, count: int, **overrides) -> None:
        self.days[day] = [
            {**dict(zip(PORTAL_HEADER, portal_row(f"{day}-{i}", str(10 + i), str(i), stat_date=day,
                                                  published=f"{day}T06:00:00+07:00"), strict=True)),
             "page_views": 10 + i, "unique_visitors": i, **overrides}
            for i in range(count)
        ]


@pytest.fixture
def fake_portal() -> Iterator[FakePortal]:
    portal = FakePortal()
    portal.server.daemon_threads = True
    thread = threading.Thread(target=portal.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield portal
    portal.server.shutdown()
    portal.server.server_close()


def test_a_day_is_pulled_page_by_page_written_as_jsonl_and_ingested(settings, fake_portal: FakePortal) -> None:
    fake_portal.rows_for("2024-11-30", 7)

    outcome = pull_portal_day(settings, fake_portal.url, TOKEN, PORTAL, date(2024, 11, 30), page_size=3,
                              received_at=RECEIVED)

    assert outcome is not None
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("loaded", 7, 7)
    assert [p for p, _ in fake_portal.requests] == [
        f"/api/v1/statistics?date=2024-11-30&page={n}&page_size=3" for n in (1, 2, 3)]
    landed = settings.landing_dir / "portal" / "api" / PORTAL / "2024-11-30.jsonl"
    assert len(landed.read_text(encoding="utf-8").splitlines()) == 7
    archived, name = query(settings, "select archive_path, original_name from landing.files where file_id = %s",
                           (outcome.file_id,))[0]
    assert Path(archived).read_bytes() == landed.read_bytes() and name == "2024-11-30.jsonl"
    assert scalar(settings, "select sum(page_views) from raw.portal_statistics") == sum(10 + i for i in range(7))


def test_rows_for_another_day_than_requested_are_rejected(settings, fake_portal: FakePortal) -> None:
    fake_portal.rows_for("2024-11-30", 2)
    fake_portal.days["2024-11-30"].append({**fake_portal.days["2024-11-30"][0], "article_id": "x",
                                           "stat_date": "2024-11-29", "published_at": "2024-11-28"})

    outcome = pull_portal_day(settings, fake_portal.url, TOKEN, PORTAL, date(2024, 11, 30), received_at=RECEIVED)

    assert (outcome.rows_loaded, outcome.rows_rejected) == (2, 1)
    assert outcome.problem_counts == {"stat_date_mismatch": 1}


def test_server_errors_are_retried_with_backoff(settings, fake_portal: FakePortal) -> None:
    fake_portal.rows_for("2024-11-30", 2)
    fake_portal.failures_before_success = 2

    outcome = pull_portal_day(settings, fake_portal.url, TOKEN, PORTAL, date(2024, 11, 30), backoff=0.01,
                              received_at=RECEIVED)

    assert outcome.status == "loaded" and len(fake_portal.requests) == 3


def test_a_server_that_keeps_failing_is_an_error_naming_the_portal_and_day(settings, fake_portal) -> None:
    fake_portal.failures_before_success = 10
    with pytest.raises(PortalApiError, match=r"quangnam.gov.vn, 2024-11-30: HTTP 503"):
        pull_portal_day(settings, fake_portal.url, TOKEN, PORTAL, date(2024, 11, 30), retries=2, backoff=0.01)
    assert len(fake_portal.requests) == 3


def test_a_refused_token_is_a_clear_error_without_the_token(settings, fake_portal: FakePortal) -> None:
    with pytest.raises(PortalApiError) as info:
        pull_portal_day(settings, fake_portal.url, "wrong-token", PORTAL, date(2024, 11, 30), backoff=0.01)
    assert "HTTP 401" in str(info.value) and connection_id(PORTAL) in str(info.value)
    assert "wrong-token" not in str(info.value) and "wrong-token" not in repr(PortalApi(PORTAL, "http://x", "wrong-token"))
    assert len(fake_portal.requests) == 1  # not retried


def test_the_token_is_never_sent_to_another_host(settings, fake_portal: FakePortal) -> None:
    fake_portal.rows_for("2024-11-30", 4)
    fake_portal.next_override = "http://evil.example/steal"

    with pytest.raises(PortalApiError, match="another host"):
        pull_portal_day(settings, fake_portal.url, TOKEN, PORTAL, date(2024, 11, 30), page_size=2)
    assert len(fake_portal.requests) == 1


def test_incremental_pulls_resume_after_the_cursor(settings, fake_portal: FakePortal) -> None:
    for day in ("2024-11-27", "2024-11-28", "2024-11-30"):
        fake_portal.rows_for(day, 2)
    api = PortalApi(PORTAL, fake_portal.url, TOKEN, backoff=0.01)

    first = pull_portal_incremental(settings, api, date(2024, 11, 28), since=date(2024, 11, 27),
                                    received_at=RECEIVED)
    second = pull_portal_incremental(settings, api, date(2024, 11, 30), received_at=RECEIVED)
    third = pull_portal_incremental(settings, api, date(2024, 11, 30), received_at=RECEIVED)

    assert [o.status for o in first.outcomes] == ["loaded", "loaded"]
    assert [o.status for o in second.outcomes] == ["loaded"]  # 29th had no rows, 30th loaded
    assert (second.days, second.unchanged) == ([date(2024, 11, 29), date(2024, 11, 30)], 1)
    assert third.days == [] and third.outcomes == []
    assert query(settings, "select portal, last_day from landing.portal_api_cursor") == [(PORTAL, date(2024, 11, 30))]
    pulled_days = sorted({parse_qs(urlsplit(p).query)["date"][0] for p, _ in fake_portal.requests})
    assert pulled_days == ["2024-11-27", "2024-11-28", "2024-11-29", "2024-11-30"]
    assert scalar(settings, "select count(*) from raw.portal_statistics") == 6


def test_a_rejected_day_stops_the_cursor_so_the_next_run_retries_it(settings, fake_portal: FakePortal) -> None:
    fake_portal.days["2024-11-28"] = [{"unrelated": "shape"}]
    fake_portal.rows_for("2024-11-29", 1)
    api = PortalApi(PORTAL, fake_portal.url, TOKEN)

    report = pull_portal_incremental(settings, api, date(2024, 11, 29), since=date(2024, 11, 28),
                                     received_at=RECEIVED)

    assert [o.status for o in report.outcomes] == ["rejected"] and report.stopped_at == date(2024, 11, 28)
    assert scalar(settings, "select count(*) from landing.portal_api_cursor") == 0


def test_connections_and_environment_give_the_url_and_token() -> None:
    conn = SimpleNamespace(host="portal.example.vn", schema="https", port=8443, password=TOKEN, extra_dejson={})
    api = PortalApi.from_connection(PORTAL, conn)
    assert (api.base_url, api.token) == ("https://portal.example.vn:8443", TOKEN)
    conn = SimpleNamespace(host=None, schema=None, port=None, password=None,
                           extra_dejson={"base_url": "http://127.0.0.1:9/", "token": "t"})
    assert PortalApi.from_connection(PORTAL, conn).base_url == "http://127.0.0.1:9/"
    env = {"PLANWH_PORTAL_API_URL": "https://p.example", "PLANWH_PORTAL_API_TOKEN": "t"}
    assert PortalApi.from_environment(PORTAL, env).base_url == "https://p.example"
    with pytest.raises(PortalApiError, match="PLANWH_PORTAL_API_URL"):
        PortalApi.from_environment(PORTAL, {})
    assert connection_id("quang-nam.gov.vn") == "portal_api_quang_nam_gov_vn"
    with pytest.raises(PortalApiError):
        PortalApi("../etc", "http://x", "t")


def test_a_three_day_outage_of_the_api_is_filled_by_the_next_run(settings, fake_portal: FakePortal) -> None:
    """The DAG's task code (``run_ingest_sources``) against the local API: the days a run could not
    pull are pulled by the next run that can, each loaded once; a run pulls at most
    PLANWH_PORTAL_API_MAX_DAYS days and the next one goes on."""
    from datetime import datetime, time, timedelta

    from planwh.ingest.parsing import VIETNAM_TZ
    from planwh.orchestration.tasks import Interval, run_ingest_sources

    def run(day: date, api: PortalApi):
        now = datetime.combine(day + timedelta(days=1), time(0, 5), VIETNAM_TZ)  # the daily run, just after midnight
        return run_ingest_sources(settings, ["portal"], Interval.for_day(day), apis=[api], now=now)

    def pulled() -> list[str]:
        return sorted(parse_qs(urlsplit(p).query)["date"][0] for p, _ in fake_portal.requests)

    days = [date(2024, 12, 1) + timedelta(days=i) for i in range(6)]
    for day in days:
        fake_portal.rows_for(day.isoformat(), 2 + day.day % 3)
    api = PortalApi(PORTAL, fake_portal.url, TOKEN, retries=1, backoff=0.01)

    # GIVEN the run of 1 December pulled its day
    assert run(days[0], api)[0].totals["files_loaded"] == 1

    # WHEN the API is down for the runs of 2, 3 and 4 December (each fails after its retries)
    fake_portal.failures_before_success = 1_000
    for day in days[1:4]:
        with pytest.raises(PortalApiError, match="HTTP 503"):
            run(day, api)
    assert query(settings, "select last_day from landing.portal_api_cursor") == [(days[0],)]

    # ... and it is back for the run of 5 December
    fake_portal.failures_before_success = 0
    fake_portal.requests.clear()
    loaded, gate = run(days[4], api)

    # THEN that run pulled and loaded the four days from the cursor on, each once, received at the end
    # of its day and taken by the run that pulled it
    assert pulled() == [d.isoformat() for d in days[1:5]]
    assert (loaded.totals["files_loaded"], loaded.totals["days_pulled"]) == (4, 4) and not gate.failures
    assert query(settings, "select last_day from landing.portal_api_cursor") == [(days[4],)]
    files = query(settings, "select original_name, status, received_at from landing.files order by file_id")
    assert [(name, status) for name, status, _ in files] == [(f"{d.isoformat()}.jsonl", "loaded") for d in days[:5]]
    assert [at.astimezone(VIETNAM_TZ) for _, _, at in files] == [
        datetime.combine(d + timedelta(days=1), time(), VIETNAM_TZ) for d in days[:5]]
    assert scalar(settings, "select count(*) from raw.portal_statistics") == sum(2 + d.day % 3 for d in days[:5])

    # WHEN the same day runs again
    fake_portal.requests.clear()
    before = query(settings, "select * from landing.files order by file_id")
    again, gate = run(days[4], api)

    # THEN it asks for its own day again and changes nothing
    assert pulled() == [days[4].isoformat()]
    assert again.totals.get("files_loaded", 0) == 0 and again.totals["days_unchanged"] == 1 and not gate.file_ids
    assert query(settings, "select * from landing.files order by file_id") == before


def test_a_long_outage_is_caught_up_a_bounded_number_of_days_per_run(settings, fake_portal: FakePortal) -> None:
    from planwh.ingest.portal_api import days_to_pull

    for day in ("2024-12-01", "2024-12-02", "2024-12-03", "2024-12-04"):
        fake_portal.rows_for(day, 1)
    api = PortalApi(PORTAL, fake_portal.url, TOKEN)
    first = pull_portal_incremental(settings, api, date(2024, 12, 1), received_at=RECEIVED)
    assert [o.status for o in first.outcomes] == ["loaded"]

    # three days behind, two a run: the limit is said, and the next run goes on from there
    second = pull_portal_incremental(settings, api, date(2024, 12, 4), max_days=2, received_at=RECEIVED)
    assert (second.days, second.days_left) == ([date(2024, 12, 2), date(2024, 12, 3)], 1)
    third = pull_portal_incremental(settings, api, date(2024, 12, 4), max_days=2, received_at=RECEIVED)
    assert (third.days, third.days_left) == ([date(2024, 12, 4)], 0)
    assert scalar(settings, "select count(*) from raw.portal_statistics") == 4

    # a run of an old day asks for that day even though the cursor is past it; a portal never pulled
    # starts at the run's first day
    assert days_to_pull(date(2024, 12, 4), date(2024, 11, 20), date(2024, 11, 20), 31) == ([date(2024, 11, 20)], 0)
    assert days_to_pull(None, date(2024, 12, 4), date(2024, 12, 4), 31) == ([date(2024, 12, 4)], 0)
