"""The report's charts as PNG bytes, drawn with matplotlib's object API (no pyplot, no display).

DejaVu Sans, matplotlib's bundled default, has every Vietnamese letter (ạ, ế, ữ...), so
province and indicator names render as written without any system font.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from planwh.report.data import Cell, Completeness, ReportData, Trajectory

STATUSES = (
    "achieved", "on track", "at risk", "off track", "insufficient coverage", "partial year", "not applicable",
    "no data", "no register",
)
STATUS_COLOURS = {
    "achieved": "#1a9850",
    "on track": "#91cf60",
    "at risk": "#fdd049",
    "off track": "#d73027",
    "insufficient coverage": "#c5b3e6",
    "partial year": "#a6cee3",
    "not applicable": "#b0bec5",
    "no data": "#eeeeee",
    "no register": "#d7ccc8",
}
STATUS_LABELS_VI = {
    "achieved": "Đạt",
    "on track": "Đúng lộ trình",
    "at risk": "Có nguy cơ chậm",
    "off track": "Chậm lộ trình",
    "insufficient coverage": "Chưa đủ số liệu",
    "partial year": "Kỳ chưa trọn năm",
    "not applicable": "Không áp dụng",
    "no data": "Không có số liệu",
    "no register": "Chưa có danh mục đơn vị",
}
DARK_STATUSES = {"achieved", "off track"}
UNIT_LABELS = {"percent": "%", "count": "đầu sách (titles)", "status": "trạng thái 0-2 (status)"}
FONT = "DejaVu Sans"


def _png(figure: Figure, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "percent":
        return f"{value:.0f}"
    if unit == "status":
        return f"{value:.0f}"
    return f"{value:,.0f}"


def status_heatmap(data: ReportData) -> bytes:
    """Provinces (rows, the nation first) x indicators (columns), coloured by status, value in the
    cell; under each national value, the provinces with data out of all."""
    provinces = data.provinces
    indicators = data.indicators
    index = {status: i for i, status in enumerate(STATUSES)}
    missing = Cell(None, "no data")
    grid = [[index[data.cells.get((p.code, i.code), missing).status] for i in indicators] for p in provinces]
    height = 1.6 + 0.3 * len(provinces)
    figure = Figure(figsize=(11, height))
    axes = figure.add_subplot()
    axes.imshow(grid, cmap=ListedColormap([STATUS_COLOURS[s] for s in STATUSES]), vmin=-0.5,
                vmax=len(STATUSES) - 0.5, aspect="auto", interpolation="nearest")
    for row, province in enumerate(provinces):
        for column, indicator in enumerate(indicators):
            cell = data.cells.get((province.code, indicator.code))
            if cell is None or cell.value is None:
                continue
            text = format_value(cell.value, indicator.unit)
            if cell.coverage and cell.coverage.provinces_total:
                # a national value is read with what it stands on: provinces with data / all
                text += f"\n{cell.coverage.provinces_reporting or 0}/{cell.coverage.provinces_total}"
            axes.text(column, row, text, ha="center", va="center", fontsize=6.5 if "\n" in text else 7,
                      family=FONT, linespacing=0.95,
                      color="white" if cell.status in DARK_STATUSES else "#222222")
    axes.set_xticks(range(len(indicators)))
    axes.set_xticklabels([textwrap.fill(i.label, 22) for i in indicators], rotation=40, ha="left", fontsize=8,
                         family=FONT)
    axes.xaxis.tick_top()
    axes.set_yticks(range(len(provinces)))
    axes.set_yticklabels([f"{p.name} ({p.code})" for p in provinces], fontsize=8, family=FONT)
    if provinces and provinces[0].is_national:
        axes.axhline(0.5, color="#333333", linewidth=1.5)
    axes.set_xticks([x - 0.5 for x in range(1, len(indicators))], minor=True)
    axes.set_yticks([y - 0.5 for y in range(1, len(provinces))], minor=True)
    axes.grid(which="minor", color="white", linewidth=0.8)
    axes.tick_params(which="minor", length=0)
    figure.legend(
        handles=[Patch(color=STATUS_COLOURS[s], label=f"{STATUS_LABELS_VI[s]} ({s})") for s in STATUSES],
        loc="lower center", ncol=3, fontsize=8, frameon=False, prop={"family": FONT, "size": 8},
        bbox_to_anchor=(0.5, -0.01),
    )
    figure.subplots_adjust(bottom=0.9 / height)
    return _png(figure)


def trajectory_chart(trajectory: Trajectory, years: list[int]) -> bytes:
    """One indicator nationwide: its values by year, the straight line to the target, the target."""
    indicator = trajectory.indicator
    figure = Figure(figsize=(4.6, 3.1))
    axes = figure.add_subplot()
    title = textwrap.fill(textwrap.shorten(indicator.name_vi, 90, placeholder="…"), 48)
    axes.set_title(title, fontsize=8.5, family=FONT, loc="left")
    first, last = (min(years), max(years)) if years else (2023, 2028)
    axes.set_xlim(first - 0.3, last + 0.3)
    axes.set_xticks(range(first, last + 1))
    target_year = trajectory.target_year or last
    if trajectory.target_value is not None:
        if trajectory.target_operator == "between" and trajectory.target_value_high is not None:
            axes.axhspan(trajectory.target_value, trajectory.target_value_high, color="#d73027", alpha=0.12,
                         label=f"Mục tiêu {target_year} ({indicator.target_label})")
        else:
            axes.axhline(trajectory.target_value, color="#d73027", linestyle=":", linewidth=1.5,
                         label=f"Mục tiêu {target_year} ({indicator.target_label})")
    end = trajectory.line_end()
    if end is not None and trajectory.baseline_year is not None:
        axes.plot([trajectory.baseline_year, target_year], [trajectory.baseline_value, end], color="#4575b4",
                  linestyle="--", linewidth=1.2, label="Lộ trình (trajectory)")
    known = [p for p in trajectory.points if p.value is not None]
    if known:
        axes.plot([p.year for p in known], [p.value for p in known], color="#222222", marker="o",
                  markersize=4, linewidth=1.6, label="Giá trị (value)")
    else:
        axes.text(0.5, 0.5, "Không có số liệu (no data)", transform=axes.transAxes, ha="center", va="center",
                  fontsize=9, family=FONT, color="#777777")
    axes.set_ylabel(UNIT_LABELS.get(indicator.unit, indicator.unit), fontsize=8, family=FONT)
    if indicator.unit == "percent":
        top = max([100.0] + [p.value for p in known])
        axes.set_ylim(0, top * 1.05)
    elif indicator.unit == "status":
        axes.set_ylim(-0.1, 2.2)
        axes.set_yticks([0, 1, 2])
    axes.tick_params(labelsize=7.5)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=6.5, loc="best", frameon=False, prop={"family": FONT, "size": 6.5})
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure)


def completeness_chart(rows: list[Completeness], year: int | None) -> bytes:
    """Reporting completeness by province: horizontal bars with received / expected at the end."""
    height = 1.2 + 0.27 * max(len(rows), 1)
    figure = Figure(figsize=(8.5, height))
    axes = figure.add_subplot()
    labels = [f"{r.province.name} ({r.province.code})" for r in rows]
    values = [r.rate or 0.0 for r in rows]
    colours = []
    for r in rows:
        if not r.has_register:
            colours.append(STATUS_COLOURS["no register"])
        elif r.rate is None:
            colours.append(STATUS_COLOURS["no data"])
        elif r.rate >= 80:
            colours.append(STATUS_COLOURS["achieved"])
        elif r.rate >= 50:
            colours.append(STATUS_COLOURS["at risk"])
        else:
            colours.append(STATUS_COLOURS["off track"])
    positions = list(range(len(rows)))
    axes.barh(positions, values, color=colours, height=0.7)
    for position, r in zip(positions, rows, strict=True):
        if not r.has_register:
            text = "chưa có danh mục đơn vị (no register)"
        elif r.expected:
            text = f"{r.received}/{r.expected}"
        else:
            text = "không có báo cáo phải nộp (none owed)"
        axes.text((r.rate or 0) + 1, position, text, va="center", fontsize=7, family=FONT, color="#333333")
    axes.set_yticks(positions)
    axes.set_yticklabels(labels, fontsize=8, family=FONT)
    axes.invert_yaxis()
    axes.set_xlim(0, 125)
    axes.set_xticks([0, 20, 40, 60, 80, 100])
    axes.set_xlabel(f"% báo cáo đã nhận / phải nộp (received / expected), {year or ''}", fontsize=8, family=FONT)
    axes.axvline(100, color="#999999", linewidth=0.8)
    axes.tick_params(labelsize=7.5)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure)
