"""The static HTML report, built from real marts: the hand-made dataset of ``tests/dbt`` after ``dbt build``.

In that dataset current Đà Nẵng (48, with legacy Quảng Nam) and Hà Nội (01) report for 2023-2025;
the other 32 provinces have no data, so their cells are grey.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import struct
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from planwh.report import build_report
from planwh.settings import Settings, load_settings
from planwh.transform import transform

REPO_ROOT = Path(__file__).resolve().parents[3]
GENERATED_AT = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)


def _indicator_dataset():
    spec = importlib.util.spec_from_file_location(
        "indicator_progress_dataset", REPO_ROOT / "tests" / "dbt" / "test_indicator_progress.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def warehouse(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    from planwh.validate.schema import ensure_published_schema

    name = f"t_report_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    base = tmp_path_factory.mktemp("report")
    settings = load_settings({
        "PLANWH_WAREHOUSE_URL": url,
        "PLANWH_STATE_DIR": str(base / "state"),
        "PLANWH_LANDING_DIR": str(base / "landing"),
        "PLANWH_DOTENV": str(base / "no.env"),
        "PLANWH_PSEUDONYM_KEY": "test-key-not-secret",
    })
    try:
        with psycopg.connect(url) as conn:
            ensure_published_schema(conn)
            _indicator_dataset().load_dataset(conn)
            conn.commit()
        transform(settings)
        yield settings
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def report(warehouse: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """The report and the warnings drawing it raised (a glyph missing from the font warns)."""
    out = tmp_path_factory.mktemp("report-out")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = build_report(warehouse, out, generated_at=GENERATED_AT)
    return path, list(caught)


def visible_text(html: str) -> str:
    """The HTML without the embedded images' base64 data."""
    return re.sub(r'src="data:image/png;base64,[^"]+"', 'src=""', html)


def current_province_names(settings: Settings) -> list[str]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return [r[0] for r in conn.execute("select province_name from marts.dim_province where is_current")]


def test_report_is_one_file_with_every_chart_and_province(report, warehouse: Settings) -> None:
    path, caught = report
    assert path == path.parent / "index.html" and path.is_file()
    html = path.read_text(encoding="utf-8")
    text = visible_text(html)
    # one heat map, 12 trajectories, one completeness chart, all embedded (nothing fetched)
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', html)
    assert len(images) == 14
    assert sum(a.startswith("Heat map of indicator status by province, 2025") for a in images) == 1
    assert sum(a.startswith("National trajectory of ") for a in images) == 12
    assert sum(a.startswith("Bar chart of reporting completeness by province") for a in images) == 1
    assert not re.search(r'(src|href)="(https?:)?//', html)
    names = current_province_names(warehouse)
    assert len(names) == 34
    for name in names:
        # in the heat map's table and the completeness table
        assert text.count(f"{name} (") >= 2, name
    assert "Đà Nẵng (48)" in text and "Toàn quốc (00)" in text
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_report_numbers_come_from_the_marts(report) -> None:
    html = visible_text(report[0].read_text(encoding="utf-8"))
    indicators = html.split('<section id="indicators">', 1)[1]
    # national spokesperson mechanism 2025: 3 / 4 agencies = 75 %, off track (see tests/dbt)
    row = re.search(r"<tr><td>spokesperson_mechanism</td>.*?</tr>", indicators).group(0)
    assert "<td class=num>75</td><td class=num>2025</td>" in row and "(off track)" in row
    # nothing was sent for 2025: the latest national book count is 2024's, 3 + 2 + 5 + 2 + 4 = 16
    books = re.search(r"<tr><td>books_published</td>.*?</tr>", indicators).group(0)
    assert "<td class=num>16</td><td class=num>2024</td>" in books and "(off track)" in books
    heatmap = html.split('<section id="heatmap">', 1)[1].split("</section>", 1)[0]
    hanoi = re.search(r"<tr><th>Hà Nội \(01\)</th>.*?</tr>", heatmap).group(0)
    # Hà Nội held its first exhibition in 2025: 100 % of one province
    assert hanoi.count("<td") == 12 and 'title="achieved">100<' in hanoi


def test_report_has_no_person_data(report) -> None:
    html = report[0].read_text(encoding="utf-8")
    text = visible_text(html)
    dataset = _indicator_dataset()
    for label in ("P1", "P2", "P3", "P4", "P5", "P6"):
        assert dataset.person(label) not in html
    assert not re.search(r"\b[0-9a-f]{64}\b", text)
    # nor which file or agency a value came from: the report reads aggregates only
    assert "bao-cao-" not in text and "HN-STTTT" not in text


def test_report_reads_only_the_marts_so_the_bi_role_can_build_it(warehouse: Settings, tmp_path: Path) -> None:
    from planwh.roles import BI, apply_roles

    apply_roles(warehouse.warehouse_url)
    parts = urlsplit(warehouse.warehouse_url)
    bi = urlunsplit((parts.scheme, f"{BI}@{parts.hostname}:{parts.port}", parts.path, "", ""))
    path = build_report(warehouse, tmp_path / "bi.html", url=bi, generated_at=GENERATED_AT)
    assert path == tmp_path / "bi.html"
    assert path.read_text(encoding="utf-8").count("<img ") == 14


def test_report_links_the_dbt_and_gx_docs_it_generates(warehouse: Settings, tmp_path: Path) -> None:
    out = tmp_path / "share" / "report.html"
    path = build_report(warehouse, out, docs=True, generated_at=GENERATED_AT)
    html = path.read_text(encoding="utf-8")
    links = dict(re.findall(r'<a href="([^"#]+)">([^<]+)</a>', html))
    dbt_docs = next(href for href, label in links.items() if "dbt docs" in label)
    gx_docs = next(href for href, label in links.items() if "Data Docs" in label)
    for href in (dbt_docs, gx_docs):
        assert not href.startswith("/"), "links are relative, so the state folder can move"
        assert (path.parent / href).resolve().is_file(), href
    # the dbt docs are the single-file kind, which a browser opens from disk
    static = (path.parent / dbt_docs).resolve()
    assert static.name == "static_index.html" and "fct_indicator_progress" in static.read_text(encoding="utf-8")


def test_command_writes_the_report_and_prints_its_path(
    warehouse: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from planwh.commands import report as command

    monkeypatch.setenv("PLANWH_WAREHOUSE_URL", warehouse.warehouse_url)
    monkeypatch.setenv("PLANWH_STATE_DIR", str(tmp_path / "state"))
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["report", "--no-docs"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(tmp_path / "state" / "report" / "index.html")
    assert Path(printed).is_file()


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_report_renders_in_headless_chromium(report, chromium, tmp_path: Path) -> None:
    path = report[0]
    screenshot = chromium.screenshot(path.as_uri(), tmp_path / "report.png", (1400, 2000), offline=True)
    assert png_size(screenshot) == (1400, 2000)
    from matplotlib.image import imread

    pixels = (imread(screenshot)[:, :, :3] * 255).round().astype(int)
    colours = {tuple(p) for p in pixels.reshape(-1, 3)[::7]}
    # the page is drawn, charts included: the heat map's grey "no data" cells and the green of an
    # achieved indicator are on the first screen
    assert len(colours) > 200
    assert (0xEE, 0xEE, 0xEE) in colours
    assert (0x1A, 0x98, 0x50) in colours
    print(f"screenshot: {screenshot}")
