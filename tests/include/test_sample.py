"""``planwh sample``: deterministic, realistic landing files whose planted faults are where the
manifest says, with personal data only in the rosters."""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from planwh.commands import sample as sample_command
from planwh.sample import (
    FAULT_REASONS,
    GATE_RULES,
    MANIFEST_NAME,
    SampleError,
    SampleManifest,
    SampleSpec,
    generate_sample,
)
from planwh.sample.generate import REG_VI, ROSTER_VI, SUB_VI
from planwh.sample.portal import CSV_COLUMNS, CSV_VI_HEADERS
from planwh.sample.reference import load_reference
from planwh.sample.writers import encode_cp1258

SMALL = SampleSpec(provinces=3, years=(2024, 2025), portal_days=2)


def _fold(text: object) -> str:
    text = str(text or "").replace("Đ", "D").replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()
    text = re.sub(r"\(\*\)", " ", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


HEADER_NAMES: dict[str, str] = {}
for table in (SUB_VI, REG_VI, ROSTER_VI, dict(zip(CSV_COLUMNS, CSV_VI_HEADERS, strict=True))):
    for canonical, vi in table.items():
        HEADER_NAMES[_fold(vi)] = canonical
        HEADER_NAMES[_fold(canonical)] = canonical


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def _cells(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header(grid: list[list[str | None]], path: Path) -> tuple[int, dict[int, str]]:
    for number, cells in enumerate(grid, start=1):
        mapping = {i: HEADER_NAMES[_fold(c)] for i, c in enumerate(cells) if _fold(c) in HEADER_NAMES}
        if len(mapping) >= 5:
            return number, mapping
    raise AssertionError(f"{path}: no header row")


def read_table(root: Path, entry) -> list[tuple[int, dict[str, str | None]]]:
    """(row as the sender sees it, {canonical column: text}) for every data row of a loadable file."""
    return _read_table(root / entry.path, entry.format, entry.encoding)


@functools.cache
def _read_table(path: Path, fmt: str, encoding: str | None) -> list[tuple[int, dict[str, str | None]]]:
    if fmt == "json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        items = doc.get("rows") or doc.get("trainees")
        return [(i, {k: _cells(v) for k, v in item.items()}) for i, item in enumerate(items, start=1)]
    if fmt == "jsonl":
        lines = path.read_text(encoding="utf-8").splitlines()
        return [(i, {k: _cells(v) for k, v in json.loads(line).items()}) for i, line in enumerate(lines, start=1)]
    if fmt == "csv":
        text = unicodedata.normalize("NFC", path.read_bytes().decode(encoding))
        delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
        grid = [[c or None for c in line] for line in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    else:
        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        grid = [[_cells(v) for v in row] for row in ws.iter_rows(values_only=True)]
    number, mapping = _header(grid, path)
    out = []
    for offset, cells in enumerate(grid[number:], start=number + 1):
        if not any(cells) or all(re.fullmatch(r"\(\d+\)", c or "") for c in cells if c):
            continue
        out.append((offset, {name: cells[i] if i < len(cells) else None for i, name in mapping.items()}))
    return out


@pytest.fixture(scope="module")
def default_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleManifest]:
    root = tmp_path_factory.mktemp("sample") / "landing"
    return root, generate_sample(root, SampleSpec())


def test_same_spec_gives_byte_identical_files(default_sample, tmp_path: Path) -> None:
    root, manifest = default_sample
    # WHEN the same spec is generated again elsewhere, in another process with another hash seed
    script = (
        "import sys; from pathlib import Path; from planwh.sample import SampleSpec, generate_sample; "
        "generate_sample(Path(sys.argv[1]), SampleSpec())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "again")], check=True, env=env, timeout=120)
    # THEN every file, the manifest included, has the same bytes
    first, second = _tree(root), _tree(tmp_path / "again")
    assert first == second
    assert first == {f.path: f.sha256 for f in manifest.files} | {MANIFEST_NAME: first[MANIFEST_NAME]}


def test_another_seed_gives_another_sample(tmp_path: Path) -> None:
    one = generate_sample(tmp_path / "a", SMALL)
    other = generate_sample(tmp_path / "b", SampleSpec(provinces=3, years=(2024, 2025), portal_days=2, seed=7))
    def portal(manifest: SampleManifest) -> set[str]:
        return {f.sha256 for f in manifest.files if f.source == "portal" and f.size_bytes}

    assert portal(one) and portal(one).isdisjoint(portal(other))


def test_layout_and_every_province_and_year(default_sample) -> None:
    root, manifest = default_sample
    ref = load_reference()
    legacy = [p["code"] for p in manifest.provinces]
    # GIVEN the default spec: the three anchor provinces and the Quảng Nam -> Đà Nẵng merger
    assert len(legacy) == 6 and legacy[:4] == ["49", "89", "64", "48"]
    assert {f.path.split("/")[0] for f in manifest.files} == {"agencies", "submissions", "portal", "rosters"}

    seen: set[tuple[str, str]] = set()
    for entry in manifest.files:
        if entry.source == "submissions" and entry.expected == "loaded" and "-Q" not in (entry.period or "-Q"):
            for _, row in read_table(root, entry):
                seen.add((row["province_code"], row["period"]))
    for code in legacy:
        # a legacy province reports under its own code before the merger, its current code after
        assert (code, "2023") in seen and (code, "2024") in seen
        assert (ref.mapping[code], "2025") in seen
        assert any(f.source == "agencies" and f.province_code == code for f in manifest.files)
    portal_codes = {f.province_code for f in manifest.files if f.source == "portal"}
    assert portal_codes == {ref.mapping[c] for c in legacy}  # December 2025: the current provinces
    assert manifest.portal_window == ["2025-12-01", "2025-12-14"]


def test_merger_in_registers_and_reports(default_sample) -> None:
    root, manifest = default_sample
    files = {f.path: f for f in manifest.files}
    first = read_table(root, files["agencies/danh-muc-don-vi_49_2023-01-05.xlsx"])
    march = read_table(root, files["agencies/danh-muc-don-vi_49_2025-03-01.xlsx"])
    update = read_table(root, files["agencies/danh-muc-don-vi_49_2025-07-01.xlsx"])
    # THEN the first version lists every agency open-ended, on the template without a successor column
    assert {r["valid_to"] for _, r in first} == {None}
    assert all("successor_agency_code" not in r for _, r in first)
    # the March version closes the Sở TT&TT on 28 February, naming the Sở KH&CN it was merged into,
    # and the Sở VH-TT-DL, which took its press duties, reports quarterly from 1 March
    assert [(r["valid_to"], r["successor_agency_code"]) for _, r in march if r["agency_code"] == "49-STTTT"] == [
        ("2025-02-28", "49-SKHCN"),
    ]
    assert [(r["valid_from"], r["valid_to"], r["reporting"]) for _, r in march if r["agency_code"] == "49-SVHTTDL"] == [
        ("2023-01-01", "2025-02-28", "annual"), ("2025-03-01", None, "quarterly"),
    ]
    assert {r["valid_to"] for _, r in march if r["agency_code"] not in ("49-STTTT", "49-SVHTTDL")} == {None}
    # the July update closes every Quảng Nam agency the day before the merger, each naming its
    # successor: the same role in Đà Nẵng, a commune committee for a district committee
    last_rows = {r["agency_code"]: r for _, r in update}
    assert {r["valid_to"] for code, r in last_rows.items() if code != "49-STTTT"} == {"2025-06-30"}
    for code, row in last_rows.items():
        if code == "49-STTTT":
            assert row["successor_agency_code"] == "49-SKHCN"
        elif row["agency_kind"] == "district_committee":
            assert re.fullmatch(r"48-X\d{3}", row["successor_agency_code"]), code
        else:
            assert row["successor_agency_code"] == "48-" + code.split("-", 1)[1], code
    surviving = read_table(root, files["agencies/danh-muc-don-vi_48_2025-07-01.xlsx"])
    communes = [r for _, r in surviving if r["agency_kind"] == "commune_committee"]
    districts = [r for _, r in surviving if r["agency_kind"] == "district_committee"]
    assert communes and all(r["valid_from"] == "2025-07-01" for r in communes)
    assert districts and all(r["valid_to"] == "2025-06-30" for r in districts)
    assert {r["successor_agency_code"] for r in districts} <= {r["agency_code"] for r in communes}
    # Quảng Nam's Sở TT&TT reports until 2024, then its press successor, the Sở VH-TT-DL, the
    # quarterly press briefings of the first half of 2025; Đà Nẵng's the rest and the year
    periods = {(f.agency_code, f.period) for f in manifest.files if f.source == "submissions"}
    assert {("49-STTTT", "2024-Q4"), ("49-SVHTTDL", "2025-Q1"), ("49-SVHTTDL", "2025-Q2"),
            ("48-SVHTTDL", "2025-Q3"), ("48-SVHTTDL", "2025"), ("48-SKHCN", "2025")} <= periods
    assert not {p for p in periods if p[0] in ("49-STTTT", "48-STTTT") and p[1].startswith("2025")}
    assert ("49-SVHTTDL", "2025") not in periods and ("49-SVHTTDL", "2025-Q3") not in periods
    # and some agencies skip a year, so completeness is below 100 %
    assert len(manifest.missing_submissions) >= 2
    assert not {(m["agency_code"], m["period"]) for m in manifest.missing_submissions} & periods


def test_task_statuses_come_from_the_agencies_that_lead_the_task(default_sample) -> None:
    root, manifest = default_sample
    statuses: dict[tuple[str, str], set[str]] = {}
    for entry in manifest.files:
        if entry.source == "submissions" and entry.expected == "loaded" and entry.period in ("2024", "2025"):
            for _, row in read_table(root, entry):
                if row["measure_code"] == "task_status" and not row["task_code"].startswith("UPR"):
                    statuses.setdefault((row["task_code"], entry.period), set()).add(row["agency_code"])
    missing = {m["agency_code"] for m in manifest.missing_submissions}
    # THEN task 1.2 (lead: Sở Thông tin và Truyền thông) is reported by that department alone in
    # 2024, and in 2025, once it merged away, by the Sở VH-TT-DL that took its press duties
    assert {a for a in statuses[("1.2", "2024")] if a.startswith(("49-", "48-"))} == {"49-STTTT", "48-STTTT"} - missing
    assert {a for a in statuses[("1.2", "2025")] if a.startswith("48-")} <= {"48-SVHTTDL"}
    # 5.1 (digital data, lead: Sở TT&TT) goes with the department to the Sở KH&CN
    assert {a for a in statuses[("5.1", "2025")] if a.startswith("48-")} <= {"48-SKHCN"}
    # 4.1 (lead: Sở Ngoại vụ) only from the Sở Ngoại vụ; 3.3 (district committees) from the communes in 2025
    assert all(a.endswith("-SNGV") for a in statuses[("4.1", "2024")])
    assert statuses[("3.3", "2025")] and all(re.fullmatch(r"\d{2}-X\d{3}", a) for a in statuses[("3.3", "2025")])


def test_planted_faults_follow_the_rate_and_cover_every_reason(default_sample) -> None:
    _, manifest = default_sample
    rate = manifest.spec.fault_rate
    for summary in manifest.summary():
        if summary["source"] == "agencies":
            assert summary["row_faults"] == 0  # registers are the reference the rest is checked against
            continue
        assert abs(summary["row_faults"] / summary["rows"] - rate) < 0.01, summary
    reasons = {issue.reason for _, issue in manifest.faults()}
    assert reasons == set(FAULT_REASONS)
    # and, apart from those, rows only the Great Expectations gate holds back: every rule, listed
    # with its suite and quarantine reason, counted in the summary
    assert {issue.reason for _, issue in manifest.gate_faults()} == set(GATE_RULES)
    listed = manifest.to_dict()["gate_faults"]
    assert {(g["suite"], g["rule"], g["reason_code"]) for g in listed} == {
        (suite, rule, f"gx_{rule}") for rule, suite in GATE_RULES.items()}
    assert sum(s["gate_faults"] for s in manifest.summary()) == len(manifest.gate_faults())
    specials = [(f, i) for f in manifest.files for i in f.specials]
    assert {f.format for f, _ in specials} == {"xlsx", "csv"}
    assert all(i.reason == "formula_text" and i.value.startswith("=HYPERLINK(") for _, i in specials)
    # one corrected report and one byte-identical repeat
    corrected = [f for f in manifest.files if f.supersedes]
    repeated = [f for f in manifest.files if f.expected == "duplicate"]
    assert len(corrected) == 1 and corrected[0].corrections
    assert len(repeated) == 1
    original = next(f for f in manifest.files if f.path == repeated[0].duplicate_of)
    assert original.sha256 == repeated[0].sha256


def test_faults_sit_where_the_manifest_says(default_sample) -> None:
    root, manifest = default_sample
    checked = 0
    for entry in manifest.files:
        if not entry.faults and not entry.specials:
            continue
        rows = dict(read_table(root, entry))
        for issue in entry.faults + entry.specials:
            row = rows[issue.row]
            if issue.reason == "duplicate_row":
                previous = max(n for n in rows if n < issue.row)
                assert rows[previous] == row, (entry.path, issue)
            elif issue.reason == "missing_identifier":
                assert row["national_id"] is None and row["staff_id"] is None
            else:
                assert row[issue.column] == issue.value, (entry.path, issue, row)
            checked += 1
    assert checked == sum(len(f.faults) + len(f.specials) for f in manifest.files)


def test_clean_sample_has_no_faults(tmp_path: Path) -> None:
    manifest = generate_sample(tmp_path / "clean", SampleSpec(provinces=3, years=(2024, 2025), portal_days=2,
                                                              fault_rate=0))
    assert manifest.faults() == [] and manifest.gate_faults() == []
    assert all(f.expected in ("loaded", "duplicate") for f in manifest.files)


def test_files_open_in_their_stated_format(default_sample) -> None:
    root, manifest = default_sample
    formats = set()
    for entry in manifest.files:
        data = (root / entry.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256
        formats.add((entry.format, entry.encoding))
        if entry.reason == "empty_file":
            assert data == b""
        elif entry.format in ("docx", "xls"):
            with pytest.raises(zipfile.BadZipFile):
                zipfile.ZipFile(io.BytesIO(data))
        elif entry.format == "xlsx":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
            assert '<mergeCell ref="A1:' in sheet  # a merged title row above the table
        elif entry.format in ("csv", "jsonl", "json"):
            text = data.decode(entry.encoding)
            if entry.encoding == "utf-8-sig":
                assert data.startswith(b"\xef\xbb\xbf")
            if entry.format == "json":
                json.loads(text)
            elif entry.format == "jsonl":
                assert all(json.loads(line) for line in text.splitlines())
        if entry.expected == "loaded" and entry.source != "agencies" or entry.source == "agencies":
            if entry.format in ("xlsx", "csv", "json", "jsonl"):
                assert len(read_table(root, entry)) == entry.rows, entry.path
    assert {("xlsx", None), ("csv", "utf-8-sig"), ("csv", "cp1258"), ("json", "utf-8"), ("jsonl", "utf-8"),
            ("csv", "utf-8")} <= formats


def test_cp1258_files_round_trip_to_vietnamese(default_sample) -> None:
    root, manifest = default_sample
    cp1258 = [f for f in manifest.files if f.encoding == "cp1258"]
    assert cp1258
    for entry in cp1258:
        data = (root / entry.path).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # genuinely the Windows code page, not UTF-8 in disguise
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
        assert text.startswith("Mã tỉnh,Mã đơn vị,Tên đơn vị,Kỳ báo cáo")
        assert encode_cp1258(text) == data
    alphabet = "".join(chr(c) for c in range(0x1EA0, 0x1EFA)) + "àáâãèéêìíòóôõùúýăđĩũơưĐƯƠ"
    assert unicodedata.normalize("NFC", encode_cp1258(alphabet).decode("cp1258")) == alphabet


def test_values_are_plausible(default_sample) -> None:
    root, manifest = default_sample
    ref = load_reference()
    by_report: dict[str, dict[str, int]] = {}
    for entry in manifest.files:
        if entry.source != "submissions" or entry.expected != "loaded":
            continue
        faulty = {i.row for i in entry.faults}
        held_back = {i.row for i in entry.gate_faults}
        for number, row in read_table(root, entry):
            if number in faulty:
                continue
            measure = ref.measures[row["measure_code"]]
            value = int(row["value"].replace(".", ""))
            assert value >= (measure.min_value or 0)
            assert measure.max_value is None or value <= measure.max_value
            assert (row["task_code"] is not None) >= measure.requires_task_code
            submitted = (date.fromisoformat(row["submitted_at"]) if "-" in row["submitted_at"]
                         else datetime.strptime(row["submitted_at"], "%d/%m/%Y").date())
            assert submitted.year == int(re.search(r"\d{4}", row["period"]).group())
            if measure.code != "task_status" and number not in held_back:
                by_report.setdefault(entry.path, {})[measure.code] = value
    for values in by_report.values():
        if "products_total" in values:
            parts = ("products_ethnic_language", "products_foreign_language", "products_digital_platform")
            assert sum(values.get(p, 0) for p in parts) <= values["products_total"]
        for part, whole in (("fake_news_handled", "fake_news_detected"), ("misinformation_items", "hr_items_monitored"),
                            ("data_sources_digitised_shared", "data_sources_total")):
            if whole in values and part in values:
                assert values[part] <= values[whole]
    portal_ok = [r for f in manifest.files if f.source == "portal" and f.expected == "loaded"
                 for n, r in read_table(root, f) if n not in {i.row for i in f.faults}]
    assert all(0 < int(r["unique_visitors"]) <= int(r["page_views"]) for r in portal_ok)
    share = sum(r["topic"] == "human_rights" for r in portal_ok) / len(portal_ok)
    assert 0.08 < share < 0.25
    languages = {r["language"] for r in portal_ok}
    assert {"vi", "en", "km", "jra"} <= languages and languages <= set(ref.languages)


YES = {"yes", "co", "x", "true"}  # as _fold leaves them: Có, x, JSON true
PRODUCT_PARTS = ("products_ethnic_language", "products_foreign_language", "products_digital_platform")
RATIOS = (("fake_news_handled", "fake_news_detected"), ("misinformation_items", "hr_items_monitored"),
          ("data_sources_digitised_shared", "data_sources_total"))
HEADCOUNTS = {"hr_official": "staff_hr_officials", "info_official": "staff_info_officials",
              "press_foreign_info": "staff_press_foreign_info", "key_sociopolitical": "staff_key_sociopolitical"}


def _number(text: str) -> int:
    return int(text.replace(".", ""))


def _period(text: str) -> tuple[int, bool]:
    """(year, is a quarter) of a period as written: 2024, 2024-Q3 or Quý 3/2024."""
    return int(re.search(r"\d{4}", text).group()), "Q" in text.upper()


@pytest.fixture(scope="module")
def warehouse_view(default_sample) -> dict:
    """What the warehouse will count once the gate has run: the rows of loaded files that neither
    ingestion nor the gate holds back, the latest version of each report, as province totals by
    current province and year, and each trainee's first completed course."""
    root, manifest = default_sample
    ref = load_reference()

    def current(code: str) -> str:
        return ref.mapping.get(code, code)

    superseded = {f.supersedes for f in manifest.files if f.supersedes}
    lines: dict[tuple, tuple[int, str]] = {}
    for entry in manifest.files:
        if entry.source != "submissions" or entry.expected != "loaded" or entry.path in superseded:
            continue
        dropped = {i.row for i in entry.faults + entry.gate_faults}
        for number, row in read_table(root, entry):
            if number not in dropped:
                key = (row["agency_code"], row["period"], row["measure_code"], row["task_code"])
                lines[key] = (_number(row["value"]), row["province_code"])
    totals: dict[tuple[str, int], dict[str, int]] = {}
    statuses: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for (agency, period, measure, task), (value, province) in lines.items():
        year, quarterly = _period(period)
        if measure == "task_status":
            statuses.setdefault((task, year), []).append((agency, value))
        elif not quarterly:
            cell = totals.setdefault((current(province), year), {})
            cell[measure] = cell.get(measure, 0) + value
    categories = {}
    for category in ref.categories.values():
        for label in (category.code, category.label_vi, *category.aliases):
            categories[_fold(label)] = category.code
    first: dict[tuple, tuple[int, str]] = {}
    for entry in sorted((f for f in manifest.files if f.source == "rosters" and f.expected == "loaded"),
                        key=lambda f: f.course_id):
        dropped = {i.row for i in entry.faults + entry.gate_faults}
        year = int(entry.course_id.split("-")[1])
        for number, row in read_table(root, entry):
            if number in dropped or _fold(row["completed"]) not in YES:
                continue
            person = row["national_id"] or (row["agency_code"], row["staff_id"])
            key = (person, categories[_fold(row["category"])])
            if key not in first or year < first[key][0]:
                first[key] = (year, current(row["agency_code"].split("-")[0]))
    trained: dict[tuple[str, str, int], int] = {}
    for (_, category), (year, province) in first.items():
        for later in manifest.spec.years:
            if later >= year:
                trained[(province, category, later)] = trained.get((province, category, later), 0) + 1
    return {"totals": totals, "statuses": statuses, "trained": trained,
            "provinces": sorted({ref.mapping[p["code"]] for p in manifest.provinces})}


def test_province_totals_keep_shares_within_bounds(default_sample, warehouse_view) -> None:
    _, manifest = default_sample
    totals = warehouse_view["totals"]
    for (province, year), cell in totals.items():
        # THEN what the warehouse sums per province keeps every part within its whole ...
        for part, whole in RATIOS:
            if whole in cell:
                assert cell.get(part, 0) <= cell[whole], (province, year, part)
        # ... and the minority-language, foreign and digital products a realistic share (target 15-20 %)
        if cell.get("products_total"):
            assert all(cell.get(p, 0) <= cell["products_total"] for p in PRODUCT_PARTS)
            share = sum(cell.get(p, 0) for p in PRODUCT_PARTS) / cell["products_total"]
            assert 0.04 <= share <= 0.30, (province, year, share)
    # AND every current province has every indicator's figures for every year, whatever reports
    # went missing or were held back
    needed = {"spokesperson_mechanism", "exhibitions_held", "books_published", "products_total",
              "data_sources_total", "hr_items_monitored", "fake_news_detected", *HEADCOUNTS.values()}
    for province in warehouse_view["provinces"]:
        for year in manifest.spec.years:
            assert needed <= set(totals.get((province, year), {})), (province, year)


def test_training_coverage_stays_within_the_reported_headcount(default_sample, warehouse_view) -> None:
    _, manifest = default_sample
    last = max(manifest.spec.years)
    coverage: dict[str, list[float]] = {}
    for (province, year), cell in warehouse_view["totals"].items():
        for category, measure in HEADCOUNTS.items():
            trained = warehouse_view["trained"].get((province, category, year), 0)
            # THEN each person trained since 2023 (counted once) is within the year's headcount,
            # through the merger too: district officials moved to the communes, which report them
            assert cell.get(measure, 0) >= max(trained, 1), (province, year, category, trained, cell.get(measure))
            if year == last:
                coverage.setdefault(category, []).append(trained / cell[measure])
    # AND provinces get there at different paces
    for category, shares in coverage.items():
        assert max(shares) <= 1 and max(shares) - min(shares) >= 0.2, (category, shares)


def test_upr_recommendations_progress_year_by_year(default_sample, warehouse_view) -> None:
    _, manifest = default_sample
    ref = load_reference()
    statuses = warehouse_view["statuses"]
    years = manifest.spec.years
    # GIVEN the codes the indicator model looks for (UPR-63, UPR-67, UPR-86)
    assert ref.upr_recommendations == ("UPR-63", "UPR-67", "UPR-86")
    lowest = []
    for code in ref.upr_recommendations:
        # THEN each is reported every year (by Sở Ngoại vụ), nationally never going back ...
        assert all(agency.endswith("-SNGV") for year in years for agency, _ in statuses[(code, year)])
        best = [max(value for _, value in statuses[(code, year)]) for year in years]
        assert best == sorted(best), (code, best)
        lowest.append(best)
    national = [min(column) for column in zip(*lowest, strict=True)]
    # ... from not started through in progress, one completed by the last year but not all three
    assert national[0] == 0 and national[-1] == 1, national
    assert [b[-1] for b in lowest].count(2) >= 1


def test_gate_faults_pass_ingestion_and_break_their_rule(default_sample) -> None:
    root, manifest = default_sample
    ref = load_reference()
    planted = manifest.gate_faults()
    assert planted
    for entry in {f.path: f for f, _ in planted}.values():
        # GIVEN a loaded file whose gate rows ingestion has no complaint about, from 2024: held back,
        # they leave neither the baseline year nor the last year without data
        assert entry.expected == "loaded" and not {i.row for i in entry.faults} & {i.row for i in entry.gate_faults}
        assert (entry.period or entry.course_id.split("-")[1]) == "2024", entry.path
        rows = dict(read_table(root, entry))
        listed = {(i.reason, i.row) for i in entry.gate_faults}
        if entry.source == "rosters":
            for rule, number in listed:
                row = rows[number]
                assert rule == "completed_without_attending"
                assert _fold(row["completed"]) in YES and _fold(row["attended"]) not in YES
            continue
        values = {}
        faulty = {i.row for i in entry.faults}
        for number, row in rows.items():
            if number in faulty:
                continue
            measure = ref.measures[row["measure_code"]]
            value = _number(row["value"])
            assert value >= (measure.min_value or 0) and (measure.max_value is None or value <= measure.max_value)
            values[row["measure_code"]] = (number, value)
        # THEN the manifest lists exactly the rows the suite's SQL rules flag
        flagged = set()
        for rule, whole, parts in (("handled_exceeds_detected", "fake_news_detected", ("fake_news_handled",)),
                                   ("misinformation_exceeds_monitored", "hr_items_monitored", ("misinformation_items",)),
                                   ("digitised_exceeds_total", "data_sources_total", ("data_sources_digitised_shared",)),
                                   ("products_exceed_total", "products_total", PRODUCT_PARTS)):
            if whole not in values:
                continue
            over = [values[p][0] for p in parts if p in values and values[p][1] > values[whole][1]]
            if over:
                flagged |= {(rule, n) for n in (*over, values[whole][0])}
        assert flagged == listed, entry.path


def test_summary_table_lists_every_source_and_a_total(default_sample) -> None:
    _, manifest = default_sample
    lines = manifest.summary_table().splitlines()
    assert lines[0].split() == ["source", "files", "rows", "faulty", "rows", "faulty", "files", "duplicate",
                                "files", "gate", "faults"]
    body = {line.split()[0]: [int(n) for n in line.split()[1:]] for line in lines[2:]}
    assert list(body) == ["agencies", "submissions", "portal", "rosters", "total"]
    assert body["total"] == [sum(body[s][i] for s in ("agencies", "submissions", "portal", "rosters"))
                             for i in range(6)]
    assert body["total"][5] == len(manifest.gate_faults()) > 0


def test_personal_data_only_in_rosters(default_sample) -> None:
    root, manifest = default_sample
    names: set[str] = set()
    ids: set[str] = set()
    people: dict[str, set[str]] = {}
    for entry in manifest.files:
        if entry.source == "rosters" and entry.format in ("xlsx", "json"):
            for _, row in read_table(root, entry):
                names.add(row["full_name"])
                if row["national_id"]:
                    ids.add(row["national_id"])
                    people.setdefault(row["national_id"], set()).add(row["full_name"])
    assert len(names) > 100 and ids
    # fake by construction: 12 digits, 0 + a province code, and a century digit no card has (2300s)
    assert all(re.fullmatch(r"0\d\d[89]\d{8}", i) for i in ids)
    # the same person keeps the same ID and name across courses, and some do attend twice
    assert all(len(n) == 1 for n in people.values())
    attendances = [row["national_id"] for f in manifest.files if f.source == "rosters" and f.format != "xls"
                   for _, row in read_table(root, f) if row["national_id"]]
    assert len(attendances) > len(set(attendances))

    outside = [(root / MANIFEST_NAME).read_text(encoding="utf-8")]
    for entry in manifest.files:
        if entry.source == "rosters" or entry.format in ("docx", "xls") or not entry.size_bytes:
            continue
        data = (root / entry.path).read_bytes()
        if entry.format == "xlsx":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                outside.append(z.read("xl/sharedStrings.xml").decode("utf-8") if "xl/sharedStrings.xml" in z.namelist() else "")
        else:
            outside.append(unicodedata.normalize("NFC", data.decode(entry.encoding)))
    text = "\n".join(outside)
    assert not [n for n in names if n in text]
    assert not [i for i in ids if i in text]


def test_refuses_a_non_empty_folder_and_cleans_only_its_own_files(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    first = generate_sample(landing, SMALL)
    # WHEN a second run meets the first one's files
    with pytest.raises(SampleError, match="not empty"):
        generate_sample(landing, SMALL)
    # THEN --clean replaces them
    again = generate_sample(landing, SampleSpec(provinces=1, years=(2024,), portal_days=1), clean=True)
    assert set(_tree(landing)) == {f.path for f in again.files} | {MANIFEST_NAME}
    assert not set(_tree(landing)) & ({f.path for f in first.files} - {f.path for f in again.files})
    # but a file it did not write, or one edited since, stops it before anything is removed
    (landing / "submissions" / "real-report.xlsx").write_bytes(b"from a province")
    before = _tree(landing)
    with pytest.raises(SampleError, match="real-report.xlsx"):
        generate_sample(landing, SMALL, clean=True)
    assert _tree(landing) == before
    (landing / "submissions" / "real-report.xlsx").unlink()
    edited = landing / again.files[0].path
    edited.write_bytes(edited.read_bytes() + b"\n")
    with pytest.raises(SampleError, match="changed since"):
        generate_sample(landing, SMALL, clean=True)
    # and a folder with no manifest is never cleaned
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "data.csv").write_text("a,b\n")
    with pytest.raises(SampleError, match="not generated"):
        generate_sample(foreign, SMALL, clean=True)


def test_spec_is_checked() -> None:
    ref = load_reference()
    for bad in (SampleSpec(provinces=0), SampleSpec(provinces=64), SampleSpec(years=()),
                SampleSpec(years=(2025, 2024)), SampleSpec(years=(2022,)), SampleSpec(portal_days=40),
                SampleSpec(fault_rate=0.5)):
        with pytest.raises(SampleError):
            bad.validate(ref)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planwh")
    sample_command.register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_command_writes_to_the_landing_folder_and_reports(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PLANWH_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("PLANWH_DOTENV", str(tmp_path / "absent.env"))
    parser = _parser()
    args = parser.parse_args(["sample", "--provinces", "3", "--years", "2024-2025", "--portal-days", "2"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"^submissions\s+\d+\s+\d+\s+[1-9]\d*", out, re.M)
    assert "49 Quảng Nam, 89 An Giang, 64 Gia Lai" in out
    assert str(tmp_path / "landing") in out
    manifest = SampleManifest.load(tmp_path / "landing" / MANIFEST_NAME)
    assert manifest.spec == SampleSpec(provinces=3, years=(2024, 2025), portal_days=2)
    # a second run is refused with a hint, and --clean is accepted
    assert args.func(args) == 2
    assert "--clean" in capsys.readouterr().err
    args = parser.parse_args(["sample", "--provinces", "3", "--years", "2024,2025", "--portal-days", "2", "--clean"])
    assert args.func(args) == 0
    # years whose dates lie after today would turn into future_date rejections
    args = parser.parse_args(["sample", "--years", f"{date.today().year}", "--out", str(tmp_path / "x")])
    assert args.func(args) == 2
    assert not (tmp_path / "x").exists()


def test_help_shows_an_example(capsys) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["sample", "--help"])
    assert "planwh sample --clean" in capsys.readouterr().out
