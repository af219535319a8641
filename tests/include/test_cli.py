"""The ``planwh`` command line as an operator meets it: every command, with the warehouse down, says
in one line what is wrong and what to do (never a traceback); ``planwh landing status`` shows what
is waiting in the landing folders."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from planwh.cli import build_parser, main
from planwh.ingest.parsing import VIETNAM_TZ
from planwh.ingest.reception import sweep
from planwh.settings import Settings


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _value(action: argparse.Action, a_file: Path) -> str:
    if action.choices:
        return str(list(action.choices)[0])
    kind = getattr(action.type, "__name__", "")
    if kind == "_date":
        return "2024-12-02"
    if kind in ("int", "float"):
        return "1"
    return str(a_file)


def invocations(a_file: Path) -> list[list[str]]:
    """Every command the parser knows, each action of it (its first positional's choices), with the
    least it needs to run: taken from the parser, so a new command is walked without being listed."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for name, command in commands.choices.items():
        actions = [a for a in command._actions if not isinstance(a, argparse._HelpAction)]
        positionals = [a for a in actions if not a.option_strings and a.nargs not in ("?", "*")]
        options = [x for a in actions if a.option_strings and a.required for x in (a.option_strings[0], _value(a, a_file))]
        rest = [_value(a, a_file) for a in positionals[1:]]
        if positionals and positionals[0].choices:
            found += [[name, str(choice), *rest, *options] for choice in positionals[0].choices]
        else:
            found.append([name, *[_value(a, a_file) for a in positionals[:1]], *rest, *options])
    return found


def test_every_command_with_the_warehouse_down_says_what_to_do_in_one_line(tmp_path: Path) -> None:
    # GIVEN a warehouse (and national database) configured on a port where nothing listens
    down = f"postgresql://planwh@127.0.0.1:{_closed_port()}/planwh"
    env = {**os.environ, "PLANWH_WAREHOUSE_URL": down, "PLANWH_NATIONAL_URL": down + "_national",
           "PLANWH_STATE_DIR": str(tmp_path / "state"), "PLANWH_LANDING_DIR": str(tmp_path / "landing")}
    report = tmp_path / "bao-cao.csv"
    report.write_text("Mã tỉnh,Mã đơn vị,Kỳ báo cáo,Mã chỉ tiêu,Giá trị\r\n49,STTTT,2024,products_total,1\r\n",
                      encoding="utf-8")
    argvs = invocations(report) + [["airflow", "run", "no_such_dag"]]
    assert len(argvs) > 30 and ["transform"] in argvs and ["landing", "status"] in argvs

    # WHEN an operator runs each of them
    def run(argv: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "planwh.cli", *argv], env=env, capture_output=True, text=True,
                              timeout=600, check=False, cwd=tmp_path)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(map(tuple, argvs), pool.map(run, argvs), strict=True))

    # THEN none prints a traceback, and each that fails says why and what to do in one line
    failed = {}
    for argv, done in results.items():
        shown = f"planwh {' '.join(argv)}"
        assert "Traceback" not in done.stdout + done.stderr, (shown, done.stderr[-3000:])
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("planwh "), (shown, done.stderr)
            failed[argv] = lines[0]
    unreachable = {argv: line for argv, line in failed.items() if "cannot connect to" in line}
    assert all("`planwh db up`" in line and "PLANWH_WAREHOUSE_URL" in line for line in unreachable.values())
    assert len(unreachable) >= 20, sorted(failed)
    for argv in (("transform",), ("landing", "status"), ("demo",), ("airflow", "chain"), ("report",)):
        assert argv in unreachable, (argv, results[argv].stderr)
    assert failed[("airflow", "run", "no_such_dag")] == (
        "planwh airflow run: no DAG 'no_such_dag' in dags/; the DAGs are ingest_agency_submissions, "
        "ingest_portal_statistics, ingest_training_rosters, sync_national, transform_warehouse")


def test_landing_status_lists_what_waits_and_check_fails_on_a_stale_file(
    settings: Settings, capsys: pytest.CaptureFixture
) -> None:
    # GIVEN, swept three days ago: a download never renamed, an export no run took, Excel's lock file
    landing = settings.landing_dir / "portal"
    landing.mkdir(parents=True)
    (landing / "thong-ke.csv.part").write_text("stat_date\r\n", encoding="utf-8")
    (landing / "~$thong-ke.xlsx").write_bytes(b"lock")
    (landing / "2024-11-30.csv").write_text(
        "stat_date,province_code,portal,article_id,page_views\r\n2024-11-30,49,quangnam.gov.vn,a1,5\r\n",
        encoding="utf-8")
    three_days_ago = datetime.now(VIETNAM_TZ).replace(microsecond=0) - timedelta(days=3)
    sweep(settings, "portal", now=three_days_ago)
    # ... a file that arrived since, no sweep has seen yet, and a portal API's cursor
    (landing / "2024-12-01.csv").write_text("stat_date\r\n", encoding="utf-8")
    with psycopg.connect(settings.warehouse_url) as conn:
        conn.execute("insert into landing.portal_api_cursor (portal, last_day, updated_at) values (%s, %s, %s)",
                     ("quangnam.gov.vn", date(2024, 11, 30), three_days_ago))

    # WHEN an operator asks for the landing status, then checks it
    status = main(["landing", "status", "portal"])
    out, err = capsys.readouterr()
    check = main(["landing", "status", "--check"])
    capsys.readouterr()

    # THEN each file is listed with its state, since when and why; the stale ones are marked
    since = three_days_ago.strftime("%Y-%m-%d %H:%M")
    assert f"portal/thong-ke.csv.part: waiting since {since}: a temporary name" in out
    assert f"portal/2024-11-30.csv: not loaded since {since}: registered, not taken by a run yet" in out
    assert "portal/2024-12-01.csv: not registered since" in out and "not seen by a sweep yet" in out
    assert "portal/~$thong-ke.xlsx: skipped, the lock file of a workbook open in Excel" in out
    assert out.count("STALE") == 2 and "quangnam.gov.vn: 2024-11-30" in out
    header, rule, row = out.splitlines()[:3]
    assert header.split()[:3] == ["source", "last", "sweep"]
    assert row.split()[0] == "portal" and "2024-11-30.csv" in row  # the oldest waiting file
    assert "2 file(s) waiting longer than 36 h" in err
    assert (status, check) == (0, 1)
