"""``build_report``: one self-contained HTML file of the plan's progress, readable with no server.

Charts are PNG images embedded as ``data:`` URIs and the style sheet is inline, so the file can
be mailed, put on a share or opened from disk, offline. It reads the marts only (it runs as the
BI role too): no person-level data can reach it. Next to the charts, the same numbers are in
HTML tables, for screen readers and for copying.

The dbt documentation (``dbt docs generate --static``: one file with the manifest and catalog
inside, which browsers open from disk) and Great Expectations Data Docs are linked when they
exist; ``generate_docs`` builds both.
"""

from __future__ import annotations

import base64
import logging
import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from planwh.db import connect, warehouse_url
from planwh.dbt import dbt_paths, run_dbt
from planwh.report import charts
from planwh.report.data import Coverage, Indicator, ReportData, read_report_data
from planwh.settings import Settings, load_settings

log = logging.getLogger(__name__)

TITLE = "Tiến độ thực hiện Đề án truyền thông về quyền con người (QĐ 1079/QĐ-TTg)"
SUBTITLE = "Progress of the human-rights communication plan 2023-2028 (Decision 1079/QĐ-TTg)"

STYLE = """
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; margin: 0 auto; max-width: 1300px;
       padding: 0 24px 48px; color: #222; line-height: 1.4; }
header { border-bottom: 3px solid #b71c1c; margin-bottom: 12px; }
h1 { font-size: 1.5em; margin: 18px 0 2px; }
h2 { font-size: 1.2em; margin-top: 32px; border-bottom: 1px solid #ccc; }
.sub { color: #555; margin: 0 0 10px; }
nav a { margin-right: 14px; }
img { max-width: 100%; height: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 14px; }
figure { margin: 0; padding: 8px; border: 1px solid #e0e0e0; border-radius: 4px; background: #fff; }
figcaption { font-size: 0.85em; color: #444; }
table { border-collapse: collapse; font-size: 0.85em; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; }
td.num { text-align: right; }
.status { display: inline-block; padding: 0 6px; border-radius: 3px; }
details { margin: 8px 0; }
footer { margin-top: 40px; font-size: 0.8em; color: #666; }
"""


def default_report_path(settings: Settings) -> Path:
    return settings.state_dir / "report" / "index.html"


def dbt_docs_path(settings: Settings) -> Path:
    return dbt_paths(settings)["target"] / "static_index.html"


def data_docs_path(settings: Settings) -> Path:
    return settings.state_dir / "data_docs" / "index.html"


def generate_docs(settings: Settings) -> dict[str, Path | None]:
    """Build the dbt documentation (static, one file) and GX Data Docs; return where they are.

    GX Data Docs are built only when the validation package is installed with the project.
    """
    run_dbt(["docs", "generate", "--static"], settings)
    docs: dict[str, Path | None] = {"dbt": dbt_docs_path(settings), "gx": None}
    try:
        from planwh.validate.gx_project import build_data_docs
    except ImportError:
        log.warning("planwh.validate is not installed: GX Data Docs not built")
    else:
        docs["gx"] = build_data_docs(settings)
    return docs


def _img(png: bytes, alt: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'


def _status_badge(status: str) -> str:
    colour = charts.STATUS_COLOURS.get(status, "#eeeeee")
    text_colour = "#fff" if status in charts.DARK_STATUSES else "#222"
    label = f"{charts.STATUS_LABELS_VI.get(status, status)} ({status})"
    return f'<span class="status" style="background:{colour};color:{text_colour}">{escape(label)}</span>'


def _indicator_header(indicator: Indicator) -> str:
    """A column header: the short Vietnamese name, the full name (and the code) on hover."""
    hover = f"{indicator.name_vi} ({indicator.code})"
    return f'<th title="{escape(hover)}">{escape(indicator.label)}</th>'


def _coverage_text(coverage: Coverage | None) -> str:
    """Beside a national value: what it stands on, ``độ phủ 5/34 tỉnh · 48/53 đơn vị``."""
    label = coverage.label() if coverage else ""
    return f"độ phủ (coverage) {label}" if label else ""


def _link(target: Path | None, out: Path, label: str, missing: str) -> str:
    if target is None or not target.is_file():
        return f"<li>{escape(label)}: <em>{escape(missing)}</em></li>"
    href = Path(os.path.relpath(target, out.parent)).as_posix()
    return f'<li><a href="{escape(href)}">{escape(label)}</a> <small>({escape(str(target))})</small></li>'


def _summary(data: ReportData) -> str:
    counts = {status: 0 for status in charts.STATUSES}
    national = {status: 0 for status in charts.STATUSES}
    for province in data.provinces:
        for indicator in data.indicators:
            cell = data.cells.get((province.code, indicator.code))
            (national if province.is_national else counts)[cell.status if cell else "no data"] += 1
    rows = "".join(
        f"<tr><td>{_status_badge(status)}</td><td class=num>{count}</td><td class=num>{national[status]}</td></tr>"
        for status, count in counts.items()
    )
    return (
        f"<p>{len(data.current_provinces)} tỉnh, thành phố × {len(data.indicators)} chỉ tiêu, năm {data.year}, và "
        f"{len(data.indicators)} chỉ tiêu toàn quốc ({len(data.current_provinces)} current provinces × "
        f"{len(data.indicators)} indicators, and the {len(data.indicators)} national values):</p>"
        "<table><tr><th>Trạng thái (status)</th><th>Ô của các tỉnh (province cells)</th>"
        f"<th>Toàn quốc (national)</th></tr>{rows}</table>"
    )


def _heatmap_section(data: ReportData) -> str:
    alt = (
        f"Heat map of indicator status by province, {data.year}: rows are the nation and the "
        f"{len(data.current_provinces)} current provinces, columns the {len(data.indicators)} indicators, "
        "colour is the status and the number in a cell its value."
    )
    header = "".join(_indicator_header(i) for i in data.indicators)
    body = []
    for province in data.provinces:
        cells = []
        for indicator in data.indicators:
            cell = data.cells.get((province.code, indicator.code))
            status = cell.status if cell else "no data"
            value = charts.format_value(cell.value if cell else None, indicator.unit)
            colour = charts.STATUS_COLOURS.get(status, "#eeeeee")
            coverage = cell.coverage.label() if cell and cell.coverage else ""
            shown = f"{value}<br><small>{escape(coverage)}</small>" if value and coverage else value or "·"
            cells.append(f'<td class=num style="background:{colour}" title="{escape(status)}">{shown}</td>')
        body.append(f"<tr><th>{escape(province.name)} ({province.code})</th>{''.join(cells)}</tr>")
    return (
        '<section id="heatmap"><h2>Trạng thái chỉ tiêu theo tỉnh, thành phố '
        f"(indicator status by province), {data.year}</h2>"
        f"{_img(charts.status_heatmap(data), alt)}"
        "<details><summary>Bảng số liệu (the same as a table)</summary>"
        f"<table><tr><th>Tỉnh, thành phố</th>{header}</tr>{''.join(body)}</table></details></section>"
    )


def _trajectory_section(data: ReportData) -> str:
    figures = []
    for trajectory in data.trajectories:
        indicator = trajectory.indicator
        latest = trajectory.latest()
        alt = (
            f"National trajectory of {indicator.code} ({indicator.name_en}): values by year, the straight "
            f"line from the {trajectory.baseline_year or 'baseline'} baseline to the target "
            f"{indicator.target_label or ''} by {trajectory.target_year or 2028}."
        )
        latest_text = (
            f"{charts.format_value(latest.value, indicator.unit)} ({latest.year}) {_status_badge(latest.status)}"
            f" {escape(_coverage_text(latest.coverage))}"
            if latest else _status_badge("no data")
        )
        figures.append(
            f"<figure>{_img(charts.trajectory_chart(trajectory, data.years), alt)}"
            f"<figcaption><b>{escape(indicator.code)}</b>: {escape(indicator.name_vi)}<br>"
            f"<i>{escape(indicator.name_en)}</i><br>Mục tiêu (target): {escape(indicator.target_label or '—')}; "
            f"toàn quốc (national): {latest_text}</figcaption></figure>"
        )
    return (
        '<section id="trajectories"><h2>Lộ trình toàn quốc đến 2028 (national trajectory to 2028)</h2>'
        "<p>Đường liền: giá trị toàn quốc theo năm; đường nét đứt: lộ trình thẳng từ năm gốc đến mục tiêu; "
        "đường chấm (hoặc dải): mục tiêu. Solid: national value by year; dashed: the straight line from the "
        "baseline to the target; dotted (or band): the target. Giá trị toàn quốc chỉ được đánh giá khi đủ số tỉnh "
        "có số liệu (xem độ phủ); National values are judged only when enough provinces have data (see the "
        "coverage).</p>"
        f'<div class="grid">{"".join(figures)}</div></section>'
    )


def _completeness_section(data: ReportData) -> str:
    alt = (
        f"Bar chart of reporting completeness by province, {data.completeness_year}: "
        f"{data.completeness_source}."
    )
    rows = "".join(
        f"<tr><td>{escape(r.province.name)} ({r.province.code})</td><td class=num>{r.received}</td>"
        f"<td class=num>{r.expected}</td><td class=num>{'' if r.rate is None else f'{r.rate:.0f} %'}</td></tr>"
        if r.has_register else
        f"<tr><td>{escape(r.province.name)} ({r.province.code})</td>"
        f"<td colspan=3>{_status_badge('no register')}</td></tr>"
        for r in data.completeness
    )
    return (
        '<section id="completeness"><h2>Mức độ đầy đủ của báo cáo theo tỉnh, thành phố '
        f"(reporting completeness by province), {data.completeness_year}</h2>"
        f"<p>{escape(data.completeness_source)}</p>"
        f"{_img(charts.completeness_chart(data.completeness, data.completeness_year), alt)}"
        "<details><summary>Bảng số liệu (the same as a table)</summary><table><tr><th>Tỉnh, thành phố</th>"
        f"<th>Đã nhận (received)</th><th>Phải nộp (expected)</th><th>%</th></tr>{rows}</table></details></section>"
    )


def _indicator_section(data: ReportData) -> str:
    rows = []
    for trajectory in data.trajectories:
        indicator = trajectory.indicator
        latest = trajectory.latest()
        value = charts.format_value(latest.value, indicator.unit) if latest else ""
        coverage = latest.coverage.label() if latest and latest.coverage else ""
        rows.append(
            f"<tr><td>{escape(indicator.code)}</td><td title=\"{escape(indicator.name_vi)}\">"
            f"{escape(indicator.label)}<br><i>{escape(indicator.name_en)}</i></td>"
            f"<td>{escape(indicator.target_label or '')}</td><td class=num>{value}</td>"
            f"<td class=num>{latest.year if latest else ''}</td>"
            f"<td class=num>{escape(coverage)}</td>"
            f"<td>{_status_badge(latest.status if latest else 'no data')}</td>"
            f"<td>{escape(indicator.national_rule_vi)}</td></tr>"
        )
    return (
        '<section id="indicators"><h2>Chỉ tiêu toàn quốc, số liệu mới nhất (national indicators, latest data)'
        "</h2><p>Độ phủ: số tỉnh có số liệu trên 34 tỉnh, thành phố (tỉnh chưa có danh mục đơn vị tính là chưa có) "
        "và số đơn vị đã báo cáo trên số đơn vị phải báo cáo; dưới ngưỡng, trạng thái là “chưa đủ số liệu”. "
        "Coverage: provinces with data out of the 34 (a province without an agency register counts as not "
        "covered) and agencies that reported out of those expected; below the threshold the status is "
        "“insufficient coverage”.</p>"
        "<table><tr><th>Mã (code)</th><th>Chỉ tiêu (indicator)</th><th>Mục tiêu 2028 (target)</th>"
        "<th>Giá trị (value)</th><th>Năm (year)</th><th>Độ phủ (coverage)</th><th>Trạng thái (status)</th>"
        f"<th>Cách tổng hợp toàn quốc (national rule)</th></tr>{''.join(rows)}</table>"
        "</section>"
    )


def render_html(data: ReportData, out: Path, settings: Settings, generated_at: datetime) -> str:
    docs = (
        "<ul>"
        + _link(dbt_docs_path(settings), out, "Tài liệu mô hình dữ liệu (dbt docs)",
                "not generated yet: run planwh report (it builds them) or dbt docs generate --static")
        + _link(data_docs_path(settings), out, "Kết quả kiểm tra dữ liệu (Great Expectations Data Docs)",
                "not generated yet: run planwh report after planwh validate")
        + "</ul>"
    )
    if data.year is None:
        body = "<p><b>Chưa có số liệu (no indicator has data yet).</b></p>"
    else:
        body = (
            f'<section id="summary"><h2>Tóm tắt (summary)</h2>{_summary(data)}</section>'
            + _heatmap_section(data)
            + _trajectory_section(data)
            + _completeness_section(data)
            + _indicator_section(data)
        )
    return (
        '<!doctype html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(TITLE)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(TITLE)}</h1><p class=sub>{escape(SUBTITLE)}. "
        f"Số liệu đến năm (data up to) {data.year or '—'}; lập lúc (generated) "
        f"{generated_at.strftime('%Y-%m-%d %H:%M UTC')}.</p>"
        '<nav><a href="#heatmap">Theo tỉnh (by province)</a><a href="#trajectories">Lộ trình (trajectories)</a>'
        '<a href="#completeness">Báo cáo (completeness)</a><a href="#indicators">Chỉ tiêu (indicators)</a>'
        '<a href="#docs">Tài liệu (docs)</a></nav></header>\n'
        f"{body}\n"
        f'<section id="docs"><h2>Tài liệu (documentation)</h2>{docs}</section>\n'
        "<footer>Nguồn: các bảng marts của kho dữ liệu (source: the warehouse marts "
        f"{escape(', '.join(data.marts_read))}). Báo cáo chỉ chứa số liệu tổng hợp, không có dữ liệu cá nhân "
        "(aggregates only, no personal data).</footer>\n</body>\n</html>\n"
    )


def build_report(
    settings: Settings | None = None,
    out: Path | None = None,
    *,
    docs: bool = False,
    url: str | None = None,
    generated_at: datetime | None = None,
) -> Path:
    """Write the report (default ``<state>/report/index.html``) and return its path.

    ``docs``: build dbt docs and GX Data Docs first, so the report links fresh ones. ``url``:
    read the marts through another login (e.g. the BI role) than the warehouse URL.
    """
    settings = settings or load_settings()
    out = Path(out) if out is not None else default_report_path(settings)
    if out.suffix.lower() not in {".html", ".htm"}:
        out = out / "index.html"
    if docs:
        generate_docs(settings)
    with connect(url or warehouse_url(settings)) as conn:
        data = read_report_data(conn)
    html = render_html(data, out, settings, generated_at or datetime.now(UTC))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out
