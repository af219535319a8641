"""Portal statistics pulled from a portal's HTTP API, one day at a time.

The API (what a portal's content system is asked to expose)::

    GET {base_url}/api/v1/statistics?date=YYYY-MM-DD&page=1&page_size=1000
    Authorization: Bearer <token>

    200 {"data": [{"stat_date": "2024-11-30", "province_code": "49", "portal": "...",
                   "article_id": "...", "url": "...", "title": "...", "topic": "human_rights",
                   "language": "vi", "published_at": "2024-11-29T08:00:00+07:00",
                   "page_views": 120, "unique_visitors": 80}, ...],
         "page": 1,
         "next": "https://.../api/v1/statistics?date=2024-11-30&page=2&page_size=1000" | null}

Pages are followed until ``next`` is null. The rows of a day are written as a JSON Lines file
``<landing>/portal/api/<portal>/<day>.jsonl``, registered in the reception ledger (received at
the end of that Viet Nam day), taken into the data interval of the run that pulled it and loaded
like any portal file: archived, in the ledger and validated (a row whose ``stat_date`` is not the
requested day is rejected). ``landing.portal_api_cursor`` remembers the last day pulled per
portal, and :func:`pull_portal_incremental`, the DAG's pull, catches up from it: an outage of the
API, or of the scheduler, is filled by the next run, at most ``PLANWH_PORTAL_API_MAX_DAYS`` days a
run.

No Airflow here: the base URL and token are arguments. The DAG reads them from the Airflow
connection ``portal_api_<portal>``; ``PortalApi.from_environment`` reads
``PLANWH_PORTAL_API_URL`` / ``PLANWH_PORTAL_API_TOKEN`` for runs outside Airflow.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import psycopg

from planwh.db import connect, warehouse_url
from planwh.ingest.load import FileOutcome
from planwh.ingest.parsing import VIETNAM_TZ
from planwh.ingest.schema import ensure_schema
from planwh.settings import Settings

log = logging.getLogger(__name__)

STATISTICS_PATH = "/api/v1/statistics"
MAX_PAGES = 10_000
PORTAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class PortalApiError(RuntimeError):
    """The portal API could not be used; the message names the portal, day and HTTP status."""


@dataclass(frozen=True)
class PortalApi:
    portal: str
    base_url: str
    token: str
    page_size: int = 1000
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0

    def __post_init__(self) -> None:
        if not PORTAL_NAME.match(self.portal):
            raise PortalApiError(f"portal name {self.portal!r} must be a host name or id (letters, digits, . _ -)")
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise PortalApiError(f"portal {self.portal}: base URL must start with http:// or https://")

    def __repr__(self) -> str:  # the token stays out of logs and tracebacks
        return f"PortalApi(portal={self.portal!r}, base_url={self.base_url!r})"

    @classmethod
    def from_connection(cls, portal: str, connection: object) -> PortalApi:
        """From an Airflow-style connection: ``host`` (a full URL, or a host name with ``schema``
        http/https and ``port``), the token in ``password`` or in the extra field ``token``;
        an extra ``base_url`` wins over the host fields."""
        extra = getattr(connection, "extra_dejson", None) or {}
        host = (getattr(connection, "host", None) or "").strip()
        base_url = str(extra.get("base_url") or "").strip()
        if not base_url and host:
            if "://" in host:
                base_url = host
            else:
                scheme = (getattr(connection, "schema", None) or "https").strip() or "https"
                port = getattr(connection, "port", None)
                base_url = f"{scheme}://{host}" + (f":{port}" if port else "")
        token = (getattr(connection, "password", None) or str(extra.get("token") or "")).strip()
        if not base_url or not token:
            raise PortalApiError(f"connection {connection_id(portal)} needs a host (or extra base_url) and a token "
                                 "(password, or extra token)")
        return cls(portal=portal, base_url=base_url, token=token)

    @classmethod
    def from_environment(cls, portal: str, environ: dict[str, str] | None = None) -> PortalApi:
        from planwh.settings import load_settings

        settings = load_settings(environ)
        url, token = settings.portal_api_url, settings.portal_api_token
        if not url or not token:
            raise PortalApiError("set PLANWH_PORTAL_API_URL and PLANWH_PORTAL_API_TOKEN, or an Airflow connection "
                                 f"{connection_id(portal)}")
        return cls(portal=portal, base_url=url, token=token)


def connection_id(portal: str) -> str:
    """The Airflow connection holding a portal's API URL and token: ``portal_api_<portal>`` with
    every character other than a letter, digit or underscore written as ``_`` (so that it can
    also be given as the environment variable ``AIRFLOW_CONN_PORTAL_API_...``)."""
    return "portal_api_" + re.sub(r"[^A-Za-z0-9_]", "_", portal)


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _get_json(api: PortalApi, url: str, day: date) -> dict:
    """GET one page, retrying network errors and 5xx with exponential backoff."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {api.token}",
                                                   "Accept": "application/json"})
    attempt = 0
    while True:
        attempt += 1
        try:
            with urllib.request.urlopen(request, timeout=api.timeout) as response:
                body = response.read()
            break
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise PortalApiError(
                    f"portal {api.portal}, {day}: the API refused the token (HTTP {exc.code}); check the "
                    f"connection {connection_id(api.portal)}"
                ) from None
            if exc.code < 500 or attempt > api.retries:
                raise PortalApiError(f"portal {api.portal}, {day}: HTTP {exc.code} from {_safe(url)}") from None
            reason = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt > api.retries:
                raise PortalApiError(f"portal {api.portal}, {day}: {_safe(url)} unreachable: {exc}") from None
            reason = type(exc).__name__
        wait = api.backoff * 2 ** (attempt - 1)
        log.warning("portal %s, %s: %s, retry %d/%d in %.1f s", api.portal, day, reason, attempt, api.retries, wait)
        time.sleep(wait)
    try:
        document = json.loads(body)
    except ValueError:
        raise PortalApiError(f"portal {api.portal}, {day}: {_safe(url)} did not return JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise PortalApiError(f"portal {api.portal}, {day}: the response has no 'data' list")
    return document


def _safe(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{parts.path}"


def fetch_day(api: PortalApi, day: date) -> list[object]:
    """Every row the API has for ``day``, following ``next`` links on the API's own host."""
    query = urlencode({"date": day.isoformat(), "page": 1, "page_size": api.page_size})
    url: str | None = f"{api.base_url.rstrip('/')}{STATISTICS_PATH}?{query}"
    rows: list[object] = []
    seen: set[str] = set()
    while url is not None:
        if url in seen or len(seen) >= MAX_PAGES:
            raise PortalApiError(f"portal {api.portal}, {day}: the API's pages loop ({_safe(url)})")
        seen.add(url)
        document = _get_json(api, url, day)
        rows.extend(document["data"])
        following = document.get("next")
        if following is None:
            break
        url = urljoin(url, str(following))
        # The token goes only to the API's own host, whatever a page says.
        if not _same_origin(url, api.base_url):
            raise PortalApiError(f"portal {api.portal}, {day}: 'next' points to another host ({_safe(url)})")
    return rows


def _write_jsonl(path: Path, rows: Sequence[object]) -> None:
    """The API's rows as JSON Lines, written whole or not at all (a sweep never sees half a day:
    the temporary file is hidden, and renamed into place when complete)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def day_end(day: date) -> datetime:
    """Viet Nam midnight after ``day``: when a portal's day is complete, so received."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), VIETNAM_TZ)


def pull_portal_day(
    settings: Settings,
    base_url: str,
    token: str,
    portal: str,
    day: date,
    *,
    page_size: int = 1000,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 1.0,
    received_at: datetime | None = None,
) -> FileOutcome | None:
    """Pull one day of one portal, whatever its cursor, and load it; None when the API has no rows
    for that day or sent the rows already loaded."""
    api = PortalApi(portal, base_url, token, page_size=page_size, timeout=timeout, retries=retries, backoff=backoff)
    return _pull_day(settings, api, day, received_at=received_at)


def _pull_day(
    settings: Settings,
    api: PortalApi,
    day: date,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
    received_at: datetime | None = None,
) -> FileOutcome | None:
    """The one way a portal day comes in: fetch it, write ``<landing>/portal/api/<portal>/<day>.jsonl``,
    register it (``planwh.ingest.reception``), take it into the run's interval and load it. None
    when the API has no rows, or sent exactly the bytes received before (nothing to load)."""
    from planwh.ingest.reception import load_receptions, reception_clock, register_file, take_one

    rows = fetch_day(api, day)
    if not rows:
        log.info("portal %s, %s: the API has no rows", api.portal, day)
        return None
    now = now or reception_clock()
    path = settings.landing_dir / "portal" / "api" / api.portal / f"{day.isoformat()}.jsonl"
    _write_jsonl(path, rows)
    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_schema(conn)
        reception, _ = register_file(settings, "portal", path, now=now, conn=conn,
                                     received_at=received_at or min(day_end(day), now))
        take_one(conn, reception.reception_id, start, end, now=now)
        outcomes = load_receptions(conn, settings, [reception])
    return outcomes[0] if outcomes else None


def cursor_day(conn: psycopg.Connection, portal: str) -> date | None:
    row = conn.execute("select last_day from landing.portal_api_cursor where portal = %s", (portal,)).fetchone()
    return row[0] if row else None


def _advance(conn: psycopg.Connection, portal: str, day: date, file_id: int | None) -> None:
    with conn.transaction():
        conn.execute(
            """
            insert into landing.portal_api_cursor (portal, last_day, last_file_id, updated_at)
            values (%s, %s, %s, clock_timestamp())
            on conflict (portal) do update
            set last_day = greatest(excluded.last_day, landing.portal_api_cursor.last_day),
                last_file_id = coalesce(excluded.last_file_id, landing.portal_api_cursor.last_file_id),
                updated_at = excluded.updated_at
            """,
            (portal, day, file_id),
        )


@dataclass
class PullReport:
    """What one catch-up pull of a portal did (numbers and days; no rows)."""

    portal: str
    days: list[date] = field(default_factory=list)  # asked for, in order
    outcomes: list[FileOutcome] = field(default_factory=list)
    unchanged: int = 0  # days whose rows were loaded before (or had none)
    stopped_at: date | None = None  # a day rejected whole: the cursor stays before it
    days_left: int = 0  # beyond the limit of one run: the next run goes on


def days_to_pull(last: date | None, through: date, since: date | None, limit: int) -> tuple[list[date], int]:
    """The days a pull asks for: from the day after the cursor ``last`` (or ``since`` when that is
    earlier, or with no cursor; else ``through``) to ``through``, at most ``limit`` of them, oldest
    first; and how many are left beyond the limit."""
    starts = [d for d in (last + timedelta(days=1) if last else None, since) if d is not None]
    first = min(starts) if starts else through
    count = max((through - first).days + 1, 0)
    days = [first + timedelta(days=i) for i in range(min(count, limit))]
    return days, max(count - limit, 0)


def pull_portal_incremental(
    settings: Settings,
    api: PortalApi,
    through: date,
    *,
    since: date | None = None,
    max_days: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
    received_at: datetime | None = None,
) -> PullReport:
    """Pull every day after the portal's cursor through ``through`` (inclusive), oldest first.

    ``since``: pull from that day even when the cursor is past it (a run pulls its own days again:
    re-judged, they change nothing unless the portal changed them); a portal never pulled starts
    there (default: ``through``). At most ``max_days`` (default ``settings.portal_api_max_days``)
    days per call: after an outage longer than that, each run catches up that many days and says
    how many are left. The cursor moves after each day that was loaded, unchanged or had no rows;
    a day rejected whole stops the pull there, so the next run asks for that day again.
    ``start``/``end``: the data interval of the run that takes the pulled files.
    """
    limit = max_days or settings.portal_api_max_days
    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_schema(conn)
        last = cursor_day(conn, api.portal)
    days, left = days_to_pull(last, through, since, limit)
    report = PullReport(api.portal, days=days, days_left=left)
    if left:
        log.warning("portal %s: %d day(s) from %s to %s to catch up; this run pulls %d, the next ones the rest "
                    "(PLANWH_PORTAL_API_MAX_DAYS=%d)", api.portal, left + len(days), days[0], through, len(days), limit)
    for day in days:
        outcome = _pull_day(settings, api, day, start=start, end=end, now=now, received_at=received_at)
        if outcome is None:
            report.unchanged += 1
        else:
            report.outcomes.append(outcome)
            if outcome.status == "rejected":
                log.warning("portal %s, %s: rejected (%s); the cursor stays before this day",
                            api.portal, day, outcome.reason_code)
                report.stopped_at = day
                break
        with connect(warehouse_url(settings), autocommit=True) as conn:
            _advance(conn, api.portal, day, outcome.file_id if outcome else None)
    return report
