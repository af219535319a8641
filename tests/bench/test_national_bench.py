"""The national benchmark runs end to end at a tiny scale and prints every figure with its
baseline and target (no timing is asserted: the figures depend on the machine)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIGURES = (
    "ingest portal, one",
    "ingest portal, same file, vs COPY into raw's shape",
    "ingest portal, same file, vs pandas",
    "peak memory ingesting",
    "ingest agencies, history files",
    "ingest submissions, history files",
    "ingest portal, history files",
    "ingest rosters, history files",
    "dbt build --full-refresh, four years",
    "daily dbt build (one new day), one year",
    "daily dbt build (one new day), four years",
    "daily ingest + gate (one new day), four years",
    "national sync, one-day delta",
    "one day of national data, task code",
)


def test_the_benchmark_prints_every_figure_with_its_baseline_and_target(server_url: str, tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "national.py"), "--scale", "0.001", "--no-chain",
         "--server-url", server_url, "--cache-dir", str(tmp_path / "bench"), "--json", str(out)],
        capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    figures = json.loads(out.read_text())["figures"]
    names = [f["name"] for f in figures]
    for wanted in FIGURES:
        assert any(n.startswith(wanted) for n in names), f"no figure {wanted!r} in {names}"
    for figure in figures:
        assert figure["value"] is not None, figure
        assert figure["baseline"] is not None, figure
        assert figure["target"], figure
        assert figure["met"] in ("yes", "NO", "n/a"), figure
    table = proc.stdout[proc.stdout.index("figure "):]
    header = table.splitlines()[0].split()
    assert header == ["figure", "value", "baseline", "ratio", "target", "met?"]
    for name in names:
        assert name in table
    # the bench cleans up after itself: no database of it is left on the server
    import psycopg

    with psycopg.connect(server_url) as conn:
        left = conn.execute("select count(*) from pg_database where datname like 'bench\\_%'").fetchone()[0]
    assert left == 0
