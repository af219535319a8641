"""The ingest DAGs: they import cleanly, follow the house rules, and a run loads a landing folder.

Airflow runs in a child process with its own AIRFLOW_HOME and SQLite metadata database (Airflow
reads its configuration once, at import, so the test process itself never imports it). One child
process migrates the database, parses the dags folder and runs the three ingest DAGs with
``dag.test()``; the assertions then read the warehouse. The portal DAG pulls from a portal API
served by this test on 127.0.0.1, configured the way an operator would: an Airflow Variable and
connection given as environment variables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from planwh.ingest.parsing import VIETNAM_TZ

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
INGEST_DAGS = {
    "ingest_agency_submissions": {"planwh://raw/agency_register", "planwh://raw/agency_submissions"},
    "ingest_portal_statistics": {"planwh://raw/portal_statistics"},
    "ingest_training_rosters": {"planwh://raw/training_attendance"},
}
TOKEN = "dag-test-token"

RUNNER = r"""
import json, sys, logging
logging.disable(logging.WARNING)
from airflow.utils.db import initdb
initdb()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
report = {"import_errors": {k: str(v)[-2000:] for k, v in bag.import_errors.items()}, "dags": {}, "runs": {}}
for dag_id, dag in bag.dags.items():
    report["dags"][dag_id] = {
        "tags": sorted(dag.tags),
        "doc_md": bool(dag.doc_md),
        "tasks": {
            t.task_id: {"owner": t.owner, "retries": t.retries, "backoff": t.retry_exponential_backoff,
                        "outlets": sorted(getattr(o, "uri", str(o)) for o in t.outlets)}
            for t in dag.tasks
        },
    }
for dag_id in sys.argv[2:]:
    run = bag.get_dag(dag_id).test()
    report["runs"][dag_id] = str(run.state)
print("REPORT " + json.dumps(report))
"""


class _PortalApi(BaseHTTPRequestHandler):
    rows: list[dict] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
        rows = [r for r in self.rows if r["stat_date"] == query.get("date", [""])[0]]
        body = json.dumps({"data": rows, "page": 1, "next": None} if ok else {"error": "no"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def portal_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PortalApi)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")


def _landing(landing: Path, yesterday: str) -> None:
    _write(landing / "agencies" / "danh-muc.csv", [
        "Mã đơn vị,Tên đơn vị,Mã tỉnh,Loại đơn vị,Chế độ báo cáo,Hiệu lực từ,Hiệu lực đến",
        "STTTT,Sở Thông tin và Truyền thông,48,department,annual,01/01/2023,",
    ])
    _write(landing / "submissions" / "bao-cao.csv", [
        "Mã tỉnh,Mã đơn vị,Tên đơn vị,Kỳ báo cáo,Mã chỉ tiêu,Giá trị,Ghi chú,Ngày báo cáo",
        "48,STTTT,Sở TT&TT,2024,books_published,3,,30/11/2024",
        "48,STTTT,Sở TT&TT,2024,products_total,-1,,30/11/2024",
    ])
    _write(landing / "portal" / "export.csv", [
        "stat_date,province_code,portal,article_id,url,title,topic,language,published_at,page_views,unique_visitors",
        f"{yesterday},48,danang.gov.vn,a1,https://danang.gov.vn/a1,Tin,human_rights,vi,{yesterday},10,4",
    ])
    _write(landing / "rosters" / "lop-1.csv", [
        "Mã khóa học:,DN-2024-01", "Tên khóa học:,Bồi dưỡng về quyền con người", "Đơn vị tổ chức:,STTTT",
        "Mã tỉnh:,48", "Từ ngày:,12/03/2024", "Đến ngày:,14/03/2024", "Hình thức:,Trực tuyến", "",
        "Họ và tên,Số CCCD,Mã cán bộ,Năm sinh,Giới tính,Mã đơn vị,Chức vụ,Đối tượng,Có mặt,Hoàn thành",
        "Nguyễn Văn An,048190001234,,1990,Nam,STTTT,Chuyên viên,info_official,x,x",
    ])


def test_ingest_dags_parse_follow_the_rules_and_load_a_landing_folder(settings, tmp_path: Path, portal_api: str) -> None:
    # GIVEN a landing folder with one file per source, and a portal API with yesterday's figures
    yesterday = (datetime.now(VIETNAM_TZ) - timedelta(days=1)).date().isoformat()
    _landing(settings.landing_dir, yesterday)
    _PortalApi.rows = [{
        "stat_date": yesterday, "province_code": "48", "portal": "danang.gov.vn", "article_id": f"api-{i}",
        "url": f"https://danang.gov.vn/api-{i}", "title": "Tin", "topic": "human_rights", "language": "vi",
        "published_at": f"{yesterday}T07:00:00+07:00", "page_views": 5, "unique_visitors": 2,
    } for i in range(3)]
    airflow_home = tmp_path / "airflow"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_VAR_PLANWH_PORTAL_API_PORTALS": json.dumps(["danang.gov.vn"]),
        "AIRFLOW_CONN_PORTAL_API_DANANG_GOV_VN": json.dumps({"conn_type": "http", "host": portal_api,
                                                             "password": TOKEN}),
    }
    airflow_home.mkdir()

    # WHEN Airflow parses the dags folder and runs each ingest DAG once
    done = subprocess.run([sys.executable, "-c", RUNNER, str(DAGS), *INGEST_DAGS], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, done.stderr[-4000:]
    report = json.loads(lines[-1][len("REPORT "):])

    # THEN no DAG fails to import, each follows the house rules and emits its assets
    assert report["import_errors"] == {}
    for dag_id, assets in INGEST_DAGS.items():
        dag = report["dags"][dag_id]
        assert dag["doc_md"] and "ingest" in dag["tags"]
        assert {uri for task in dag["tasks"].values() for uri in task["outlets"]} == assets
    for dag_id, dag in report["dags"].items():
        assert dag["tags"], dag_id
        for task_id, task in dag["tasks"].items():
            assert task["owner"] and task["owner"] != "airflow", (dag_id, task_id)
            assert task["retries"] >= 1, (dag_id, task_id)
    assert report["runs"] == dict.fromkeys(INGEST_DAGS, "success")
    # ... and the runs loaded every source, rejections recorded rather than failing the task
    with psycopg.connect(settings.warehouse_url) as conn:
        ledger = conn.execute("select source, status, reason from landing.files order by file_id").fetchall()
        counts = dict(conn.execute(
            "select source, sum(rows_loaded) from landing.files where status = 'loaded' group by source"
        ).fetchall())
        api_files = conn.execute("select count(*) from landing.files where original_name = %s",
                                 (f"{yesterday}.jsonl",)).fetchone()[0]
    assert counts == {"agencies": 1, "submissions": 1, "portal": 4, "rosters": 1}, ledger
    assert api_files == 1
