"""The reference seeds: provinces and the 2025 merger, the plan's catalogues, the generator."""

from __future__ import annotations

import csv
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
import yaml

from planwh.reference.build_seeds import COLUMNS, SEEDS_DIR, build_all, main
from planwh.reference.provinces import ascii_name

# The plan's source documents, when this machine has them (they are not part of the repository).
DOMAIN_SEEDS = Path("/work/shared/domain/seeds")

PLAN_INDICATORS = [
    "spokesperson_mechanism", "trained_hr_officials", "trained_info_officials", "trained_press_foreign_info",
    "trained_key_sociopolitical", "photo_exhibitions", "books_published", "minority_foreign_digital_share",
    "digitised_shared_share", "misinformation_share", "fake_news_handled", "upr_recommendations",
]

SOURCES_MEASURES = {
    "spokesperson_mechanism", "press_briefings_held", "staff_hr_officials", "staff_info_officials",
    "staff_press_foreign_info", "staff_key_sociopolitical", "products_total", "products_ethnic_language",
    "products_foreign_language", "products_digital_platform", "exhibitions_held", "books_published",
    "data_sources_total", "data_sources_digitised_shared", "hr_items_monitored", "misinformation_items",
    "fake_news_detected", "fake_news_handled", "task_status",
}


def read_seed(name: str, seeds_dir: Path = SEEDS_DIR) -> list[dict[str, str]]:
    with open(seeds_dir / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def by_key(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    return {row[key]: row for row in rows}


def fold(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form, as the ingestion matches labels."""
    return re.sub(r"\s+", " ", ascii_name(text)).strip().casefold()


# -- provinces -----------------------------------------------------------------------------------

def test_there_are_63_legacy_and_34_current_provinces_with_unique_two_digit_codes() -> None:
    for name, expected in (("ref_provinces_legacy", 63), ("ref_provinces_current", 34)):
        codes = [row["province_code"] for row in read_seed(name)]
        assert len(codes) == expected, name
        assert len(set(codes)) == expected, name
        assert all(re.fullmatch(r"\d{2}", code) for code in codes), name
        assert codes == sorted(codes), f"{name} is not sorted by code"


def test_every_legacy_province_maps_to_exactly_one_current_province_and_every_current_is_reached() -> None:
    legacy = {row["province_code"] for row in read_seed("ref_provinces_legacy")}
    current = {row["province_code"] for row in read_seed("ref_provinces_current")}
    mapping = read_seed("ref_province_mapping")

    legacy_codes = [row["legacy_province_code"] for row in mapping]
    assert sorted(legacy_codes) == sorted(legacy)
    assert len(legacy_codes) == len(set(legacy_codes))
    assert {row["current_province_code"] for row in mapping} == current
    assert {row["effective_date"] for row in mapping} == {"2025-07-01"}


def test_merger_spot_checks_follow_the_official_2025_codes() -> None:
    legacy = by_key(read_seed("ref_provinces_legacy"), "province_code")
    current = by_key(read_seed("ref_provinces_current"), "province_code")
    mapping = {row["legacy_province_code"]: row["current_province_code"] for row in read_seed("ref_province_mapping")}

    # Quảng Nam joined Đà Nẵng, which kept its own code.
    assert legacy["49"]["province_name"] == "Quảng Nam"
    assert mapping["49"] == "48" and current["48"]["province_name"] == "Đà Nẵng"
    # Kiên Giang joined An Giang; the merged An Giang took Kiên Giang's code 91, not 89.
    assert legacy["91"]["province_name"] == "Kiên Giang" and legacy["89"]["province_name"] == "An Giang"
    assert mapping["91"] == mapping["89"] == "91" and current["91"]["province_name"] == "An Giang"
    # Bình Định joined Gia Lai; the merged Gia Lai took Bình Định's code 52, not 64.
    assert legacy["52"]["province_name"] == "Bình Định" and legacy["64"]["province_name"] == "Gia Lai"
    assert mapping["52"] == mapping["64"] == "52" and current["52"]["province_name"] == "Gia Lai"
    # Hà Nội was not merged.
    assert mapping["01"] == "01" and current["01"]["province_name"] == "Hà Nội"
    assert "89" not in current and "64" not in current and "49" not in current


def test_province_names_come_with_and_without_accents() -> None:
    legacy = by_key(read_seed("ref_provinces_legacy"), "province_code")
    current = by_key(read_seed("ref_provinces_current"), "province_code")
    assert legacy["49"]["province_name_full"] == "Tỉnh Quảng Nam"
    assert legacy["49"]["province_name_ascii"] == "Quang Nam"
    assert legacy["66"]["province_name_ascii"] == "Dak Lak"
    assert legacy["77"]["province_name_ascii"] == "Ba Ria - Vung Tau"
    assert current["01"]["province_name_full"] == "Thành phố Hà Nội"
    assert current["01"]["province_kind"] == "municipality"
    assert current["48"]["province_name_full"] == "Thành phố Đà Nẵng"
    for rows in (legacy.values(), current.values()):
        for row in rows:
            assert row["province_name_ascii"].isascii(), row
            assert unicodedata.is_normalized("NFC", row["province_name"]), row
            prefix = "Thành phố " if row["province_kind"] == "municipality" else "Tỉnh "
            assert row["province_name_full"] == prefix + row["province_name"], row
    assert sum(row["province_kind"] == "municipality" for row in current.values()) == 6


def test_province_validity_brackets_the_merger() -> None:
    assert {(r["valid_from"], r["valid_to"]) for r in read_seed("ref_provinces_legacy")} == {
        ("2008-08-01", "2025-06-30")
    }
    assert {(r["valid_from"], r["valid_to"]) for r in read_seed("ref_provinces_current")} == {("2025-07-01", "")}


# -- indicators and targets ----------------------------------------------------------------------

def test_indicator_catalogue_has_exactly_the_plan_indicators_and_national_targets() -> None:
    indicators = by_key(read_seed("ref_indicators"), "indicator_code")
    assert list(indicators) == PLAN_INDICATORS

    def target(code: str) -> tuple[str, str, str]:
        row = indicators[code]
        return row["target_operator"], row["target_value"], row["target_value_high"]

    for code in ("spokesperson_mechanism", "trained_hr_officials", "trained_info_officials",
                 "trained_press_foreign_info", "digitised_shared_share", "photo_exhibitions"):
        assert target(code) == (">=", "100", ""), code
    assert target("trained_key_sociopolitical") == (">=", "70", "")
    assert target("books_published") == (">=", "1000", "")
    assert target("minority_foreign_digital_share") == ("between", "15", "20")
    assert target("misinformation_share") == ("<", "10", "")
    assert target("fake_news_handled") == (">=", "90", "")
    assert indicators["misinformation_share"]["direction"] == "decrease"
    assert indicators["books_published"]["unit"] == "count"
    assert indicators["upr_recommendations"]["unit"] == "status"
    assert {row["baseline_year"] for row in indicators.values()} == {"2023"}
    assert {row["target_year"] for row in indicators.values()} == {"2028"}
    cumulative = {code for code, row in indicators.items() if row["is_cumulative"] == "true"}
    assert {c for c in PLAN_INDICATORS if c.startswith("trained_")} | {"books_published"} <= cumulative
    assert "fake_news_handled" not in cumulative


def test_indicator_measures_exist_in_the_measure_and_category_catalogues() -> None:
    measures = {row["measure_code"] for row in read_seed("ref_measures")}
    categories = {row["category_code"] for row in read_seed("ref_trainee_categories")}
    derived = {"agencies_in_scope", "provinces_in_scope"}
    for row in read_seed("ref_indicators"):
        for column in ("numerator_measure", "denominator_measure"):
            for part in filter(None, row[column].split("+")):
                if part.startswith("trainees_completed:"):
                    assert part.split(":", 1)[1] in categories, (row["indicator_code"], part)
                else:
                    assert part in measures | derived, (row["indicator_code"], part)
        assert row["measure_rule"], row["indicator_code"]


def test_targets_have_a_national_row_per_indicator_and_the_provincial_overrides() -> None:
    rows = read_seed("ref_indicator_targets")
    national = {row["indicator_code"] for row in rows if row["scope"] == "national"}
    assert national == set(PLAN_INDICATORS)
    assert all(row["province_code"] == "" for row in rows if row["scope"] == "national")

    keys = [(r["indicator_code"], r["scope"], r["province_code"], r["target_year"]) for r in rows]
    assert len(keys) == len(set(keys))

    override = {(r["province_code"], r["indicator_code"]): r for r in rows if r["scope"] == "province"}
    assert {province for province, _ in override} == {"49", "89", "64"}
    # An Giang: "trên 90%" is strictly above 90.
    assert (override["89", "fake_news_handled"]["target_operator"], override["89", "fake_news_handled"]["target_value"]) == (">", "90")
    assert "trên 90%" in override["89", "fake_news_handled"]["note"]
    # Quảng Nam narrows the spokesperson target to provincial-level agencies.
    assert "cấp tỉnh" in override["49", "spokesperson_mechanism"]["note"]
    assert override["49", "minority_foreign_digital_share"]["target_value_high"] == "20"
    assert override["49", "trained_key_sociopolitical"]["target_value"] == "70"
    # Gia Lai only coordinates exhibitions and fake-news handling.
    assert override["64", "fake_news_handled"]["note"].startswith("Phối hợp")
    # No plan in the sources sets a provincial books or UPR target.
    assert not {code for _, code in override} & {"books_published", "upr_recommendations"}
    assert {r["source_document"] for r in rows if r["province_code"] == "49"} == {
        "KH 9034/KH-UBND ngày 26/12/2023 của UBND tỉnh Quảng Nam"
    }


@pytest.mark.skipif(not DOMAIN_SEEDS.is_dir(), reason="the plan's source documents are not on this machine")
def test_vietnamese_wording_is_quoted_verbatim_from_the_sources() -> None:
    def text(name: str) -> str:
        return re.sub(r"\s+", " ", (DOMAIN_SEEDS / name).read_text(encoding="utf-8")).casefold()

    documents = {
        "": text("decision-1079-summary.txt"),
        "49": text("quang-nam-plan-9034-full.txt"),
        "89": text("an-giang-plan-355-news.txt"),
        "64": text("gia-lai-plan-155-news.txt"),
    }
    for row in read_seed("ref_indicator_targets"):
        assert row["note"].casefold() in documents[row["province_code"]], (row["province_code"], row["note"])
    plan = documents["49"]
    for task in read_seed("ref_plan_tasks"):
        assert task["title_vi"].casefold() in plan, task["task_code"]
        assert task["group_name_vi"].casefold() in plan, task["task_code"]
        for unit in filter(None, (task["lead_units"] + ";" + task["partner_units"]).split(";")):
            assert unit.casefold() in plan, (task["task_code"], unit)


# -- tasks, measures and other catalogues --------------------------------------------------------

def test_plan_tasks_follow_the_quang_nam_annex() -> None:
    tasks = by_key(read_seed("ref_plan_tasks"), "task_code")
    assert list(tasks) == [
        "1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4",
        "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "4.1", "5.1", "5.2", "5.3", "6.1", "6.2",
    ]
    kinds = {row["agency_kind"] for row in read_seed("ref_agency_kinds")}
    for code, task in tasks.items():
        assert task["group_code"] == code.split(".")[0]
        assert (task["start_year"], task["end_year"]) == ("2023", "2028")
        assert task["lead_units"], code
    assert tasks["2.1"]["reporting_frequency"] == "quarterly"
    assert {t["reporting_frequency"] for c, t in tasks.items() if c != "2.1"} == {"annual"}
    assert tasks["2.1"]["lead_units"] == "Sở Thông tin và Truyền thông;Công an tỉnh"
    assert tasks["5.1"]["title_vi"].endswith("cơ sở dữ liệu dùng chung cấp Quốc gia theo hướng dẫn của Bộ Thông tin và Truyền thông")
    assert tasks["4.1"]["lead_units"] == "Sở Ngoại vụ"

    # the duties seed holds each task's units as the annex lists them, leads then partners
    duties: dict[tuple[str, str], list[str]] = {}
    for row in sorted(read_seed("ref_plan_task_duties"), key=lambda r: int(r["unit_position"])):
        duties.setdefault((row["task_code"], row["duty_role"]), []).append(row["unit_name"])
    for code, task in tasks.items():
        assert duties[(code, "lead")] == task["lead_units"].split(";"), code
        assert duties.get((code, "partner"), []) == list(filter(None, task["partner_units"].split(";"))), code

    # every unit resolves: a named unit to one kind and a name pattern, a collective to kinds
    units = by_key(read_seed("ref_plan_units"), "unit_name")
    assert {u for names in duties.values() for u in names} <= set(units)
    for name, unit in units.items():
        unit_kinds = set(filter(None, unit["agency_kinds"].split(";")))
        assert unit_kinds <= kinds, name
        assert bool(unit_kinds) == (unit["resolution"] in ("named", "collective")), name
        assert bool(unit["name_pattern"]) == (unit["resolution"] == "named"), name
    registered_names = {
        "Sở Thông tin và Truyền thông": ("Sở Thông tin và Truyền thông tỉnh Quảng Nam", "Sở TT&TT Quảng Nam"),
        "Công an tỉnh": ("Công an tỉnh Quảng Nam", "Công an thành phố Đà Nẵng"),
        "Sở Ngoại vụ": ("Sở Ngoại vụ tỉnh Quảng Nam",),
        "Sở Văn hóa, Thể thao và Du lịch": ("Sở Văn hóa, Thể thao và Du lịch tỉnh Quảng Nam",
                                            "Sở Văn hoá, Thể thao và Du lịch thành phố Đà Nẵng", "Sở VH-TT-DL"),
        "Sở Giáo dục và Đào tạo": ("Sở Giáo dục và Đào tạo tỉnh Quảng Nam", "Sở GD&ĐT Quảng Nam"),
    }
    named = {name for name, unit in units.items() if unit["resolution"] == "named"}
    assert named == set(registered_names)
    others = ("Sở Khoa học và Công nghệ tỉnh Quảng Nam", "Sở Tư pháp tỉnh Quảng Nam", "Báo Quảng Nam")
    for name, examples in registered_names.items():
        pattern = re.compile(units[name]["name_pattern"], re.IGNORECASE)
        assert all(pattern.search(example) for example in examples), name
        assert not any(pattern.search(other) for other in others), name
    assert units["các Sở, Ban, ngành"]["agency_kinds"] == "department"
    assert units["UBND các huyện, thị xã, thành phố"]["agency_kinds"] == "district_committee"
    assert units["các cơ quan, đơn vị liên quan"]["resolution"] == "unspecified"

    # the Sở TT&TT's press and publishing duties moved to the Sở VH-TT-DL on 1 March 2025
    assert [(t["from_unit"], t["duty_field"], t["to_unit"], t["effective_from"])
            for t in read_seed("ref_duty_transfers")] == [
        ("Sở Thông tin và Truyền thông", "press_publishing", "Sở Văn hóa, Thể thao và Du lịch", "2025-03-01"),
    ]
    assert {c for c, t in tasks.items() if t["duty_field"] == "press_publishing" and "Sở Thông tin" in t["lead_units"]} == {
        "1.2", "1.4", "2.1", "2.2", "2.3", "2.4", "3.7", "6.1",
    }


def test_measures_are_the_source_contract_list() -> None:
    measures = by_key(read_seed("ref_measures"), "measure_code")
    assert set(measures) == SOURCES_MEASURES
    assert {c for c, m in measures.items() if m["requires_task_code"] == "true"} == {"task_status"}
    assert {c for c, m in measures.items() if m["is_headcount"] == "true"} == {
        c for c in SOURCES_MEASURES if c.startswith("staff_")
    }
    assert (measures["task_status"]["min_value"], measures["task_status"]["max_value"]) == ("0", "2")
    assert (measures["spokesperson_mechanism"]["value_kind"], measures["spokesperson_mechanism"]["max_value"]) == ("flag", "1")
    assert measures["products_total"]["max_value"] == ""


def test_trainee_labels_and_aliases_resolve_to_one_category_each() -> None:
    categories = read_seed("ref_trainee_categories")
    assert [c["category_code"] for c in categories] == [
        "hr_official", "info_official", "press_foreign_info", "key_sociopolitical", "other"
    ]
    seen: dict[str, str] = {}
    for category in categories:
        for label in [category["label_vi"], *filter(None, category["label_vi_aliases"].split(";"))]:
            assert seen.setdefault(fold(label), category["category_code"]) == category["category_code"], label
    assert seen[fold("CÁN BỘ LÀM CÔNG TÁC QUYỀN CON NGƯỜI")] == "hr_official"
    assert seen[fold("can bo chu chot to chuc chinh tri - xa hoi")] == "key_sociopolitical"
    indicators = {c["category_code"]: (c["indicator_code"], c["headcount_measure"]) for c in categories}
    assert indicators["info_official"] == ("trained_info_officials", "staff_info_officials")
    assert indicators["other"] == ("", "")


def test_languages_classify_khmer_as_ethnic_minority() -> None:
    languages = by_key(read_seed("ref_languages"), "language_code")
    assert {"vi", "en", "km", "cja", "jra", "rad", "bdq"} <= set(languages)
    assert languages["km"]["language_kind"] == "ethnic_minority"
    assert languages["vi"]["language_kind"] == "national"
    assert languages["en"]["language_kind"] == "foreign"
    assert {row["language_kind"] for row in languages.values()} == {"national", "foreign", "ethnic_minority"}


def test_district_committees_stop_and_commune_committees_start_at_the_merger() -> None:
    kinds = by_key(read_seed("ref_agency_kinds"), "agency_kind")
    assert set(kinds) == {
        "department", "district_committee", "commune_committee", "press_agency", "sociopolitical_org",
        "police", "other",
    }
    assert kinds["district_committee"]["exists_to"] == "2025-06-30"
    assert kinds["commune_committee"]["exists_from"] == "2025-07-01"
    assert kinds["commune_committee"]["exists_to"] == ""
    assert kinds["press_agency"]["is_state_administrative"] == "false"


def test_annual_reports_are_due_on_30_november() -> None:
    calendar = {(r["frequency"], r["period_kind"]): r for r in read_seed("ref_reporting_calendar")}
    annual = calendar["annual", "year"]
    assert (annual["deadline_month"], annual["deadline_day"]) == ("11", "30")
    assert {kind for freq, kind in calendar if freq == "quarterly"} == {"Q1", "Q2", "Q3", "Q4"}


# -- seed files and their dbt properties ---------------------------------------------------------

def test_seed_files_are_utf8_with_lf_and_the_declared_header() -> None:
    for name, columns in COLUMNS.items():
        data = (SEEDS_DIR / f"{name}.csv").read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), name
        assert b"\r" not in data, name
        assert data.endswith(b"\n"), name
        assert data.decode("utf-8").split("\n", 1)[0] == ",".join(columns), name


def test_every_seed_and_column_is_described_and_codes_are_typed_as_text() -> None:
    properties = yaml.safe_load((SEEDS_DIR / "_reference__seeds.yml").read_text(encoding="utf-8"))
    seeds = {seed["name"]: seed for seed in properties["seeds"]}
    assert set(seeds) == set(COLUMNS)
    for name, columns in COLUMNS.items():
        described = {c["name"]: c.get("description", "") for c in seeds[name]["columns"]}
        assert list(described) == list(columns), name
        assert all(text.strip() for text in described.values()), name
        assert seeds[name]["description"].strip(), name
        types = seeds[name]["config"]["column_types"]
        for column in columns:
            if column.endswith("_code") and not column.startswith("requires_"):
                assert types[column] == "text", (name, column)


# -- the generator -------------------------------------------------------------------------------

def test_generator_is_reproducible_and_matches_the_committed_seeds(tmp_path: Path) -> None:
    first = build_all(tmp_path / "first")
    second = build_all(tmp_path / "second")
    assert set(first) == set(COLUMNS)
    for name in COLUMNS:
        assert first[name].read_bytes() == second[name].read_bytes(), name
        assert first[name].read_bytes() == (SEEDS_DIR / f"{name}.csv").read_bytes(), (
            f"{name}.csv is stale: run python -m planwh.reference.build_seeds"
        )
    assert main(["--check"]) == 0


def test_check_names_a_tampered_file_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, copy)
    target = copy / "ref_province_mapping.csv"
    tampered = target.read_bytes().replace(b"49,48,", b"49,49,")
    target.write_bytes(tampered)
    (copy / "ref_languages.csv").unlink()

    assert main(["--check", "--out-dir", str(copy)]) == 1

    message = capsys.readouterr().err
    assert "ref_province_mapping.csv" in message and "ref_languages.csv" in message
    assert "ref_provinces_legacy.csv" not in message
    assert target.read_bytes() == tampered
    assert not (copy / "ref_languages.csv").exists()
