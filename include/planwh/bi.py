"""The Superset dashboard against this warehouse: its bundle, and the check that a real Superset draws it.

``planwh bi bundle OUT`` builds the dashboard bundle (deploy/superset/build_bundle.py) pointed at
this warehouse (the embedded one unless PLANWH_WAREHOUSE_URL says otherwise) instead of the compose
host ``postgres:5432``.

``planwh bi check`` (``make bi-check``) proves the bundle with the Superset of the compose image,
installed in its own virtual environment (.venv-bi, from deploy/superset/requirements-check.lock):

1. a warehouse with the demo's data (``planwh demo`` when the marts have no value yet);
2. the roles, planwh_bi with a password of this run (embedded warehouse; a configured one must
   already have them, and PLANWH_BI_PASSWORD);
3. a fresh metadata database, then deploy/superset/init.sh, the script the compose service
   superset-init runs: migrations, admin, permissions, bundle built and imported;
4. Superset (gunicorn) on 127.0.0.1, reading the marts as planwh_bi;
5. through the REST API: the connection is planwh_bi (SQL Lab's ``select current_user``), every
   chart has a saved query context, ``/api/v1/chart/{id}/data/`` answers with rows, and again with
   the dashboard's default filters, whose year is the latest year with a value in the warehouse;
6. headless Chromium (deploy/superset/browser_check.py): every chart drew with data, no error box,
   no "No results", the filters applied on first load, and each chart's query is its saved one;
   the screenshot is kept as ``<state>/bi-check/dashboard.png``.

Any failure ends the check with exit status 1 and says what failed; Superset's own logs are in
``<state>/bi-check/``.
"""

from __future__ import annotations

import http.cookiejar
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

from planwh.db import SUPERUSER, connect, redact, warehouse_url
from planwh.roles import BI, apply_roles
from planwh.settings import PROJECT_ROOT, Settings

SUPERSET_DIR = PROJECT_ROOT / "deploy" / "superset"
DEFAULT_VENV = PROJECT_ROOT / ".venv-bi"
METADATA_DB = "superset_bi_check"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DASHBOARD_SLUG = "plan-progress"
ADMIN = "admin"
# what the check compares between a chart's saved query context and the query the dashboard sends
COMPARED_QUERY_KEYS = ("columns", "metrics", "orderby", "row_limit", "post_processing", "series_columns")


class CheckFailed(RuntimeError):
    """The dashboard does not work in a real Superset; the message says where."""


def load_builder() -> ModuleType:
    """deploy/superset/build_bundle.py (it runs in the Superset image, so it is no planwh module)."""
    spec = importlib.util.spec_from_file_location("planwh_build_bundle", SUPERSET_DIR / "build_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_local_bundle(settings: Settings, out: Path, password: str | None) -> tuple[Path, tuple[str, int, str]]:
    """The bundle pointed at this warehouse's host, port and database."""
    builder = load_builder()
    location = builder.warehouse_location(warehouse_url(settings))
    return builder.build_bundle(out, password, location), location


# -- HTTP -------------------------------------------------------------------------------------


class SupersetClient:
    """Superset's REST API as the admin: a JWT for the API, the session cookie and CSRF token for SQL Lab."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token: str | None = None
        self.csrf: str | None = None

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 120) -> tuple[int, dict]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.csrf and method != "GET":
            headers["X-CSRFToken"] = self.csrf
            headers["Referer"] = self.base_url
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            payload = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            payload = {"raw": raw[:500].decode("utf-8", "replace")}
        return status, payload

    def expect(self, method: str, path: str, body: dict | None = None) -> dict:
        status, payload = self.request(method, path, body)
        if status != 200:
            raise CheckFailed(f"{method} {path} answered {status}: {json.dumps(payload, ensure_ascii=False)[:800]}")
        return payload

    def login(self, password: str) -> None:
        payload = self.expect("POST", "/api/v1/security/login",
                              {"username": ADMIN, "password": password, "provider": "db", "refresh": False})
        self.token = payload["access_token"]
        self.csrf = self.expect("GET", "/api/v1/security/csrf_token/")["result"]


# -- the check --------------------------------------------------------------------------------


@dataclass
class ChartResult:
    chart_id: int
    name: str
    saved_rows: int = 0
    filtered_rows: int = 0
    filters: dict = field(default_factory=dict)


@dataclass
class CheckReport:
    superset_version: str = ""
    warehouse: str = ""
    default_filters: dict = field(default_factory=dict)
    charts: list[ChartResult] = field(default_factory=list)
    browser: dict = field(default_factory=dict)
    screenshot: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with(url: str, *, user: str | None = None, password: str | None = None, database: str | None = None,
          scheme: str | None = None) -> str:
    parts = urlsplit(url)
    user = user if user is not None else parts.username or ""
    credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "") + "@" if user else ""
    netloc = f"{credentials}{parts.hostname}:{parts.port or 5432}"
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit((scheme or parts.scheme, netloc, path, parts.query, parts.fragment))


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def superset_version(venv: Path) -> str:
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import importlib.metadata as m; print(m.version('apache-superset'))"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise CheckFailed(f"no Superset in {venv} (run `make bi-check`, which installs it): {result.stderr[-500:]}")
    return result.stdout.strip()


def compose_superset_version() -> str:
    dockerfile = (SUPERSET_DIR / "Dockerfile").read_text(encoding="utf-8")
    return dockerfile.split("FROM apache/superset:", 1)[1].split()[0]


class Check:
    def __init__(self, settings: Settings, venv: Path, out_dir: Path, log: Callable[[str], None] = print):
        self.settings = settings
        self.venv = venv
        self.out_dir = out_dir
        self.log = log
        self.report = CheckReport()
        self.server: subprocess.Popen | None = None
        self.admin_password = secrets.token_urlsafe(18)

    # each step is timed into the report
    def _step(self, name: str, action: Callable[[], object]) -> object:
        self.log(f"== {name}")
        started = time.perf_counter()
        value = action()
        self.report.seconds[name] = round(time.perf_counter() - started, 1)
        self.log(f"   ({self.report.seconds[name]:.1f} s)")
        return value

    def run(self) -> CheckReport:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
        if missing:
            raise CheckFailed(f"{', '.join(missing)} missing: the check draws the dashboard in Debian's Chromium "
                              "(apt-get install -y chromium chromium-driver; .ci/run does it)")
        version = superset_version(self.venv)
        if version != compose_superset_version():
            raise CheckFailed(
                f"the check's Superset is {version}, the compose image's {compose_superset_version()}: "
                "deploy/superset/requirements-check.in and deploy/superset/Dockerfile must name the same version"
            )
        self.report.superset_version = version
        url = self._step("warehouse with the demo's data", self._warehouse)
        bi_password = self._step("roles (planwh_bi)", lambda: self._roles(url))
        env = self._superset_env(url, bi_password)
        self._step("Superset set-up and bundle import (deploy/superset/init.sh)", lambda: self._init(env))
        try:
            base_url = self._step("Superset on 127.0.0.1 (gunicorn)", lambda: self._start(env))
            self._step("REST API: connection, saved query contexts, chart data",
                       lambda: self._api(base_url, url))
            self._step("headless Chromium: the dashboard", lambda: self._browser(base_url))
        finally:
            self._stop()
        return self.report

    # 1
    def _warehouse(self) -> str:
        url = warehouse_url(self.settings)
        self.report.warehouse = redact(url)
        if not self._has_values(url):
            log_path = self.out_dir / "demo.log"
            self.log(f"   no indicator value in {redact(url)}: running `planwh demo` (~5 min; log: {log_path})")
            with open(log_path, "w") as log_file:
                result = subprocess.run([sys.executable, "-m", "planwh.cli", "demo"], check=False,
                                        stdout=log_file, stderr=subprocess.STDOUT)
            if result.returncode != 0 or not self._has_values(url):
                raise CheckFailed(f"`planwh demo` did not build the marts (exit {result.returncode}); "
                                  f"{log_path} ends:\n{_tail(log_path)}")
        else:
            self.log(f"   reusing {redact(url)}: the marts have values")
        return url

    @staticmethod
    def _has_values(url: str) -> bool:
        with connect(url) as conn:
            exists = conn.execute("select to_regclass('marts.fct_indicator_progress') is not null").fetchone()[0]
            return bool(exists) and bool(
                conn.execute("select exists (select 1 from marts.fct_indicator_progress where value is not null)").fetchone()[0]
            )

    # 2
    def _roles(self, url: str) -> str:
        if self.settings.uses_embedded:
            password = secrets.token_urlsafe(18)
            apply_roles(url, {BI: password})
            self.log(f"   roles applied; {BI} has a password for this run")
        else:
            password = os.environ.get("PLANWH_BI_PASSWORD", "")
            if not password:
                raise CheckFailed(
                    "the warehouse is configured (PLANWH_WAREHOUSE_URL): set PLANWH_BI_PASSWORD to planwh_bi's "
                    "password (`planwh roles apply` gives it one); the check never changes a configured role"
                )
        try:
            with psycopg.connect(_with(url, user=BI, password=password), connect_timeout=10) as conn:
                rows = conn.execute("select count(*) from marts.fct_indicator_progress").fetchone()[0]
        except psycopg.Error as exc:
            raise CheckFailed(f"{BI} cannot read marts.fct_indicator_progress: {exc}") from exc
        self.log(f"   {BI} reads marts.fct_indicator_progress ({rows} rows)")
        return password

    def _superset_env(self, url: str, bi_password: str) -> dict[str, str]:
        admin_url = _with(url, user=SUPERUSER if self.settings.uses_embedded else None, database="postgres")
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'drop database if exists "{METADATA_DB}" with (force)')
            conn.execute(f'create database "{METADATA_DB}"')
        home = self.out_dir / "superset_home"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        env = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "VIRTUAL_ENV", "SUPERSET_", "FLASK_"))
        }
        env.update(
            PATH=f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            VIRTUAL_ENV=str(self.venv),
            # as the apache/superset image sets it
            FLASK_APP="superset.app:create_app()",
            SUPERSET_CONFIG_PATH=str(SUPERSET_DIR / "superset_config.py"),
            SUPERSET_HOME=str(home),
            SUPERSET_SECRET_KEY=secrets.token_urlsafe(42),
            SUPERSET_METADATA_URL=_with(admin_url, database=METADATA_DB, scheme="postgresql+psycopg2"),
            SUPERSET_ADMIN_PASSWORD=self.admin_password,
            PLANWH_BI_PASSWORD=bi_password,
            PLANWH_BI_WAREHOUSE_URL=_with(url, user="", database=None),
        )
        return env

    # 3
    def _init(self, env: dict[str, str]) -> None:
        log_path = self.out_dir / "init.log"
        with open(log_path, "w") as log_file:
            result = subprocess.run(["bash", str(SUPERSET_DIR / "init.sh")], env=env, stdout=log_file,
                                    stderr=subprocess.STDOUT, timeout=900, check=False)
        text = log_path.read_text(errors="replace")
        if result.returncode != 0 or "Traceback" in text or "error when importing" in text:
            raise CheckFailed(f"deploy/superset/init.sh failed (exit {result.returncode}); "
                              f"its log, {log_path}, ends:\n{_tail(log_path)}")
        self.log(f"   bundle imported (log: {log_path})")

    # 4
    def _start(self, env: dict[str, str]) -> str:
        port = _free_port()
        log_path = self.out_dir / "superset.log"
        log_file = open(log_path, "w")  # noqa: SIM115 - open while the server runs
        self.server = subprocess.Popen(
            [str(self.venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--threads", "4", "--timeout", "180", "--worker-class", "gthread", "superset.app:create_app()"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise CheckFailed(f"Superset exited ({self.server.returncode}); {log_path} ends:\n{_tail(log_path)}")
            try:
                with urllib.request.urlopen(base_url + "/health", timeout=5) as response:
                    if response.status == 200:
                        self.log(f"   {base_url} (log: {log_path})")
                        return base_url
            except OSError:
                pass
            time.sleep(1)
        raise CheckFailed(f"Superset did not answer /health within 240 s; {log_path} ends:\n{_tail(log_path)}")

    def _stop(self) -> None:
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()

    # 5
    def _api(self, base_url: str, url: str) -> None:
        client = SupersetClient(base_url)
        client.login(self.admin_password)
        dashboard = client.expect("GET", f"/api/v1/dashboard/{DASHBOARD_SLUG}")["result"]
        self.dashboard_id = dashboard["id"]
        metadata = json.loads(dashboard["json_metadata"])
        charts = client.expect("GET", f"/api/v1/dashboard/{self.dashboard_id}/charts")["result"]
        if len(charts) != len(load_builder().spec.CHARTS):
            raise CheckFailed(f"the dashboard has {len(charts)} charts, the bundle {len(load_builder().spec.CHARTS)}")

        self._check_connection(client)
        defaults = self._default_filters(client, metadata)
        self._check_defaults_against_warehouse(url, defaults)
        failures = []
        for listed in charts:
            chart_id = listed["id"]
            chart = client.expect("GET", f"/api/v1/chart/{chart_id}")["result"]
            result = ChartResult(chart_id, chart["slice_name"])
            self.report.charts.append(result)
            if not chart.get("query_context"):
                failures.append(f"{result.name}: no saved query context")
                continue
            status, payload = client.request("GET", f"/api/v1/chart/{chart_id}/data/")
            if status != 200:
                failures.append(f"{result.name}: /api/v1/chart/{chart_id}/data/ answered {status}: {str(payload)[:300]}")
                continue
            result.saved_rows = sum(len(r.get("data") or []) for r in payload["result"])
            context = json.loads(chart["query_context"])
            result.filters = {
                f["column"]: f["value"] for f in defaults.values() if chart_id not in f["excluded"]
            }
            for query in context["queries"]:
                query["filters"] = list(query.get("filters") or []) + [
                    {"col": column, "op": "IN", "val": [value]} for column, value in result.filters.items()
                ]
            status, payload = client.request("POST", "/api/v1/chart/data", context)
            if status != 200:
                failures.append(f"{result.name}: with the default filters {result.filters} the data API answered "
                                f"{status}: {str(payload)[:300]}")
                continue
            result.filtered_rows = sum(len(r.get("data") or []) for r in payload["result"])
            if not result.saved_rows or not result.filtered_rows:
                failures.append(f"{result.name}: no rows (saved query {result.saved_rows}, with the default "
                                f"filters {result.filters} {result.filtered_rows})")
        for r in self.report.charts:
            self.log(f"   chart {r.chart_id} {r.name}: {r.saved_rows} rows, {r.filtered_rows} with {r.filters}")
        if failures:
            raise CheckFailed("chart data API:\n  " + "\n  ".join(failures))

    def _check_connection(self, client: SupersetClient) -> None:
        databases = client.expect("GET", "/api/v1/database/?q=(page_size:100)")["result"]
        marts = [d for d in databases if d["database_name"] == load_builder().spec.DATABASE_NAME]
        if not marts:
            raise CheckFailed(f"no database {load_builder().spec.DATABASE_NAME} after the import")
        self.marts_database_id = marts[0]["id"]
        payload = client.expect("POST", "/api/v1/sqllab/execute/", {
            "database_id": self.marts_database_id, "sql": "select current_user as login", "runAsync": False,
            "schema": "marts", "tab": "bi-check", "client_id": secrets.token_hex(5), "json": True,
        })
        login = (payload.get("data") or [{}])[0].get("login")
        if login != BI:
            raise CheckFailed(f"Superset reads the marts as {login!r}, not {BI}")
        self.log(f"   Superset's connection {load_builder().spec.DATABASE_NAME} logs in as {login}")

    def _default_filters(self, client: SupersetClient, metadata: dict) -> dict[str, dict]:
        """The value each first-item filter opens with, asked the way the filter bar asks."""
        defaults = {}
        for native in metadata.get("native_filter_configuration", []):
            controls = native.get("controlValues", {})
            if not controls.get("defaultToFirstItem"):
                continue
            if not native.get("requiredFirst"):
                raise CheckFailed(f"filter {native['name']}: not applied before the charts load (no requiredFirst)")
            target = native["targets"][0]
            column = target["column"]["name"]
            ascending = bool(controls.get("sortAscending", True))
            payload = client.expect("POST", "/api/v1/chart/data", {
                "datasource": {"id": target["datasetId"], "type": "table"},
                "force": False,
                "queries": [{
                    "columns": [column], "metrics": [],
                    "filters": [_adhoc_to_filter(f) for f in native.get("adhoc_filters") or []],
                    "orderby": [[column, ascending]], "row_limit": 1000,
                    "extras": {"having": "", "where": ""},
                }],
                "result_format": "json", "result_type": "full",
            })
            values = sorted((row[column] for row in payload["result"][0]["data"]), reverse=not ascending)
            if not values:
                raise CheckFailed(f"filter {native['name']}: no value to open with")
            defaults[native["id"]] = {"name": native["name"], "column": column, "value": values[0],
                                      "excluded": set(native.get("scope", {}).get("excluded", []))}
        self.report.default_filters = {d["name"]: d["value"] for d in defaults.values()}
        self.log(f"   default filters: {self.report.default_filters}")
        return defaults

    def _check_defaults_against_warehouse(self, url: str, defaults: dict[str, dict]) -> None:
        with connect(url) as conn:
            latest = conn.execute("select max(year) from marts.fct_indicator_progress where value is not null").fetchone()[0]
        years = [d["value"] for d in defaults.values() if d["column"] == "year"]
        if years != [latest]:
            raise CheckFailed(f"the year filter opens on {years}, the latest year with a value is {latest}")

    # 6
    def _browser(self, base_url: str) -> None:
        screenshot = self.out_dir / "dashboard.png"
        screenshot.unlink(missing_ok=True)
        env = {**os.environ, "SUPERSET_ADMIN_PASSWORD": self.admin_password}
        env.pop("PYTHONPATH", None)
        result = subprocess.run(
            [str(self.venv / "bin" / "python"), str(SUPERSET_DIR / "browser_check.py"), "--base-url", base_url,
             "--dashboard", DASHBOARD_SLUG, "--user", ADMIN, "--password-env", "SUPERSET_ADMIN_PASSWORD",
             "--screenshot", str(screenshot), "--chromium", CHROMIUM, "--chromedriver", CHROMEDRIVER],
            env=env, capture_output=True, text=True, timeout=600, check=False,
        )
        (self.out_dir / "browser.log").write_text(result.stderr)
        if result.returncode != 0:
            raise CheckFailed(f"the browser check failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
        seen = json.loads(result.stdout)
        (self.out_dir / "browser.json").write_text(json.dumps(seen, ensure_ascii=False, indent=1))
        self.report.browser = seen
        self.report.screenshot = screenshot
        heatmap = next(c.slice_name for c in load_builder().spec.CHARTS if c.key == "heatmap")
        failures = browser_failures(seen, self.report.charts, self._saved_contexts(base_url), heatmap)
        for chart in seen["charts"]:
            self.log(f"   {chart['title']}: {'drawn' if chart['drawn'] else 'NOT DRAWN'}"
                     + (f", error {chart['error']!r}" if chart["error"] else "")
                     + (f", {chart['empty']!r}" if chart["empty"] else ""))
        for error in seen.get("console_errors", []):
            self.log(f"   browser console: {error}")
        self.log(f"   drawn in {seen['seconds_to_draw']} s; screenshot {screenshot}")
        if failures:
            raise CheckFailed("the dashboard in Chromium:\n  " + "\n  ".join(failures))

    def _saved_contexts(self, base_url: str) -> dict[int, dict]:
        client = SupersetClient(base_url)
        client.login(self.admin_password)
        return {
            r.chart_id: json.loads(client.expect("GET", f"/api/v1/chart/{r.chart_id}")["result"]["query_context"])
            for r in self.report.charts
        }


def _adhoc_to_filter(adhoc: dict) -> dict:
    clause = {"col": adhoc["subject"], "op": adhoc["operator"]}
    if "comparator" in adhoc:
        clause["val"] = adhoc["comparator"]
    return clause


def browser_failures(seen: dict, charts: list[ChartResult], saved: dict[int, dict], heatmap_title: str) -> list[str]:
    """What is wrong with the dashboard Chromium drew (empty when every chart drew as saved)."""
    failures = []
    heatmap = [c for c in seen["charts"] if c["title"] == heatmap_title]
    if not heatmap or not heatmap[0]["coloured_cells"]:
        failures.append(f"{heatmap_title}: no cell coloured by its status")
    if seen.get("timed_out"):
        failures.append(f"not every chart had finished after {seen['seconds_to_draw']} s")
    if len(seen["charts"]) != len(charts):
        failures.append(f"{len(seen['charts'])} charts on the page, {len(charts)} in the dashboard")
    for chart in seen["charts"]:
        if chart["error"]:
            failures.append(f"{chart['title']}: error box {chart['error']!r}")
        if chart["empty"]:
            failures.append(f"{chart['title']}: {chart['empty']!r}")
        if not chart["drawn"]:
            failures.append(f"{chart['title']}: drew nothing")
    statuses = {r["request_id"]: r["status"] for r in seen["responses"]}
    by_chart: dict[int, list[dict]] = {}
    for request in seen["requests"]:
        body = request["body"] or {}
        slice_id = (body.get("form_data") or {}).get("slice_id")
        if slice_id is None:
            continue  # a filter's list of values
        by_chart.setdefault(int(slice_id), []).append(body)
        if statuses.get(request["request_id"]) != 200:
            failures.append(f"chart {slice_id}: the data request answered {statuses.get(request['request_id'])}")
    for result in charts:
        bodies = by_chart.get(result.chart_id, [])
        if not bodies:
            failures.append(f"{result.name}: the dashboard sent no data request for it")
            continue
        expected = {(column, json.dumps([value])) for column, value in result.filters.items()}
        saved_queries = saved[result.chart_id]["queries"]
        for body in bodies:
            for sent, saved_query in zip(body["queries"], saved_queries, strict=False):
                applied = {(f["col"], json.dumps(f.get("val"))) for f in sent.get("filters") or [] if f.get("op") == "IN"}
                if not expected <= applied:
                    failures.append(f"{result.name}: loaded without the default filters {sorted(expected - applied)}")
                own = [f for f in sent.get("filters") or [] if (f["col"], json.dumps(f.get("val"))) not in expected]
                differences = [
                    key for key in COMPARED_QUERY_KEYS if sent.get(key) != saved_query.get(key)
                ] + (["filters"] if own != (saved_query.get("filters") or []) else [])
                if differences:
                    failures.append(
                        f"{result.name}: the dashboard's query differs from the saved query context in "
                        + ", ".join(f"{k} (sent {json.dumps(sent.get(k) if k != 'filters' else own, ensure_ascii=False)}, "
                                    f"saved {json.dumps(saved_query.get(k), ensure_ascii=False)})" for k in differences)
                    )
    return failures
