"""The catalogues of Decision 1079/QĐ-TTg and its provincial plans, as transcribed rows.

Every Vietnamese quotation below (target notes, task titles, lead and partner units) is copied
verbatim from the source documents kept in the project's domain folder (``seeds/*.txt``):
Decision 1079/QĐ-TTg (14/9/2022), Quảng Nam plan 9034/KH-UBND (26/12/2023), the news items on
An Giang plan 355/KH-UBND (05/4/2024) and Gia Lai plan 155/KH-UBND (18/01/2023). Only targets
those texts state are encoded. Rows are listed in the order of the documents, which is also
the order written to the seeds.
"""

from __future__ import annotations

BASELINE_YEAR = 2023
TARGET_YEAR = 2028
SCHEME_START = "2023-01-01"  # first day of the 2023-2028 period of the scheme
MERGER_DATE = "2025-07-01"  # 63 provinces became 34, the district level was abolished
LAST_LEGACY_DAY = "2025-06-30"
# The set of 63 provinces took effect when Hà Tây joined Hà Nội (Resolution 15/2008/QH12,
# effective 1 August 2008); no province was created or merged after that until 2025.
LEGACY_VALID_FROM = "2008-08-01"

DECISION_1079 = "QĐ 1079/QĐ-TTg ngày 14/9/2022"
QUANG_NAM_9034 = "KH 9034/KH-UBND ngày 26/12/2023 của UBND tỉnh Quảng Nam"
AN_GIANG_355 = "KH 355/KH-UBND ngày 05/4/2024 của UBND tỉnh An Giang (theo tin bài)"
GIA_LAI_155 = "KH 155/KH-UBND ngày 18/01/2023 của UBND tỉnh Gia Lai (theo Cổng TTĐT tỉnh)"

# Legacy statistics-office codes of the provinces whose plans are in the sources; the plans
# predate the 2025 merger, so their targets belong to the legacy provinces.
QUANG_NAM = "49"
AN_GIANG = "89"
GIA_LAI = "64"

# --------------------------------------------------------------------------------------------
# Measures: what agencies report (SOURCES.md §1), in the order listed there.
# --------------------------------------------------------------------------------------------
MEASURES: list[dict] = [
    {
        "measure_code": "spokesperson_mechanism",
        "name_vi": "Thực hiện cơ chế phát ngôn và cung cấp thông tin định kỳ cho báo chí về công tác quyền con người",
        "name_en": "Runs a spokesperson mechanism and briefs the press periodically on human-rights work",
        "value_kind": "flag", "min_value": 0, "max_value": 1,
    },
    {
        "measure_code": "press_briefings_held",
        "name_vi": "Số hội nghị cung cấp thông tin cho báo chí đã tổ chức",
        "name_en": "Press briefings held",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "staff_hr_officials",
        "name_vi": "Số cán bộ làm công tác quyền con người",
        "name_en": "Headcount of officials working on human rights",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "staff_info_officials",
        "name_vi": "Số cán bộ làm công tác quản lý thông tin, truyền thông",
        "name_en": "Headcount of officials managing information and communications",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "staff_press_foreign_info",
        "name_vi": "Số nhân sự tham gia công tác thông tin đối ngoại của các cơ quan báo chí",
        "name_en": "Headcount of press-agency staff in foreign-information work",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "staff_key_sociopolitical",
        "name_vi": "Số cán bộ chủ chốt của các tổ chức chính trị - xã hội",
        "name_en": "Headcount of key officials of socio-political organisations",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "products_total",
        "name_vi": "Tổng số sản phẩm truyền thông về quyền con người",
        "name_en": "Human-rights communication products, all",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "products_ethnic_language",
        "name_vi": "Số sản phẩm truyền thông bằng tiếng dân tộc",
        "name_en": "Communication products in ethnic-minority languages",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "products_foreign_language",
        "name_vi": "Số sản phẩm truyền thông bằng tiếng nước ngoài",
        "name_en": "Communication products in foreign languages",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "products_digital_platform",
        "name_vi": "Số sản phẩm truyền thông trên nền tảng số",
        "name_en": "Communication products on digital platforms",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "exhibitions_held",
        "name_vi": "Số cuộc triển lãm ảnh, tài liệu lưu trữ về quyền con người đã tổ chức",
        "name_en": "Photo and archive exhibitions on human rights held",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "books_published",
        "name_vi": "Số đầu sách về quyền con người được biên soạn, xuất bản, tái bản",
        "name_en": "Book titles on human rights compiled, published or re-published",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "data_sources_total",
        "name_vi": "Tổng số nguồn dữ liệu và sản phẩm truyền thông của Đề án",
        "name_en": "Data sources and communication products of the scheme, all",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "data_sources_digitised_shared",
        "name_vi": "Số nguồn dữ liệu và sản phẩm truyền thông được số hóa, kết nối, sử dụng chung",
        "name_en": "Data sources and communication products digitised, connected and shared online",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "hr_items_monitored",
        "name_vi": "Tổng số thông tin về quyền con người trên không gian mạng được theo dõi",
        "name_en": "Human-rights information items monitored online",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "misinformation_items",
        "name_vi": "Số thông tin sai lệch, tin giả, tin xấu độc về quyền con người",
        "name_en": "False, distorted or toxic human-rights items among those monitored",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "fake_news_detected",
        "name_vi": "Số tin giả, tin xấu độc xâm hại quyền con người được phát hiện",
        "name_en": "Fake and toxic news infringing human rights detected",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "fake_news_handled",
        "name_vi": "Số tin giả, tin xấu độc xâm hại quyền con người được xử lý",
        "name_en": "Fake and toxic news infringing human rights handled",
        "value_kind": "count", "min_value": 0, "max_value": None,
    },
    {
        "measure_code": "task_status",
        "name_vi": "Tình trạng thực hiện nhiệm vụ (0 chưa triển khai, 1 đang thực hiện, 2 hoàn thành)",
        "name_en": "Plan task status (0 not started, 1 in progress, 2 completed)",
        "value_kind": "status", "min_value": 0, "max_value": 2,
    },
]

# --------------------------------------------------------------------------------------------
# Trainee categories (SOURCES.md §3). Aliases are what senders write in "Đối tượng"; matching
# is case-, accent- and whitespace-insensitive, so variants differ in words or punctuation.
# --------------------------------------------------------------------------------------------
TRAINEE_CATEGORIES: list[dict] = [
    {
        "category_code": "hr_official",
        "label_vi": "Cán bộ làm công tác quyền con người",
        "label_vi_aliases": [
            "Cán bộ, công chức làm công tác quyền con người",
            "Cán bộ công chức làm công tác quyền con người",
            "Cán bộ quyền con người",
            "Cán bộ nhân quyền",
            "Công tác quyền con người",
        ],
        "label_en": "Official working on human rights",
        "indicator_code": "trained_hr_officials",
        "headcount_measure": "staff_hr_officials",
    },
    {
        "category_code": "info_official",
        "label_vi": "Cán bộ làm công tác quản lý thông tin, truyền thông",
        "label_vi_aliases": [
            "Cán bộ, công chức làm công tác quản lý thông tin, truyền thông",
            "Cán bộ công chức làm công tác quản lý thông tin, truyền thông",
            "Cán bộ quản lý thông tin, truyền thông",
            "Cán bộ quản lý thông tin truyền thông",
            "Quản lý thông tin, truyền thông",
            "Quản lý thông tin truyền thông",
        ],
        "label_en": "Official managing information and communications",
        "indicator_code": "trained_info_officials",
        "headcount_measure": "staff_info_officials",
    },
    {
        "category_code": "press_foreign_info",
        "label_vi": "Nhân sự tham gia công tác thông tin đối ngoại của các cơ quan báo chí",
        "label_vi_aliases": [
            "Nhân sự thông tin đối ngoại của cơ quan báo chí",
            "Nhân sự thông tin đối ngoại",
            "Phóng viên, biên tập viên thông tin đối ngoại",
            "Báo chí thông tin đối ngoại",
            "Thông tin đối ngoại",
        ],
        "label_en": "Press-agency staff in foreign-information work",
        "indicator_code": "trained_press_foreign_info",
        "headcount_measure": "staff_press_foreign_info",
    },
    {
        "category_code": "key_sociopolitical",
        "label_vi": "Cán bộ chủ chốt của các tổ chức chính trị - xã hội",
        "label_vi_aliases": [
            "Cán bộ chủ chốt của tổ chức chính trị - xã hội",
            "Cán bộ chủ chốt tổ chức chính trị - xã hội",
            "Cán bộ chủ chốt tổ chức chính trị xã hội",
            "Cán bộ chủ chốt các tổ chức chính trị - xã hội cấp tỉnh",
            "Cán bộ chủ chốt",
        ],
        "label_en": "Key official of a socio-political organisation",
        "indicator_code": "trained_key_sociopolitical",
        "headcount_measure": "staff_key_sociopolitical",
    },
    {
        "category_code": "other",
        "label_vi": "Đối tượng khác",
        "label_vi_aliases": ["Khác"],
        "label_en": "Other participant",
        "indicator_code": None,
        "headcount_measure": None,
    },
]

# --------------------------------------------------------------------------------------------
# Indicators (Decision 1079, specific targets by 2028), in the order of the decision.
# numerator/denominator conventions are described in _reference__seeds.yml.
# --------------------------------------------------------------------------------------------
_TRAINING_RULE = (
    "Distinct persons of category {category} (counted once by their pseudonymised identity) who "
    "completed a course since 1 January 2023, divided by the headcount {headcount} that the agencies "
    "report for the same scope and year (latest submission); cumulative over 2023-2028. A province-year "
    "has data only when that headcount was reported and a roster listing the category in the province has "
    "arrived for a course of that year or an earlier one: rosters that never arrived are no data, not 0 %."
)

INDICATORS: list[dict] = [
    {
        "indicator_code": "spokesperson_mechanism",
        "short_name_vi": "Cơ chế phát ngôn",
        "name_vi": "Cơ quan hành chính nhà nước thực hiện cơ chế phát ngôn và cung cấp thông tin định kỳ "
        "cho báo chí về công tác quyền con người",
        "name_en": "State administrative agencies running a spokesperson mechanism and briefing the press "
        "periodically on human-rights work",
        "unit": "percent",
        "numerator_measure": "spokesperson_mechanism",
        "denominator_measure": "agencies_in_scope",
        "measure_rule": "Agencies whose latest spokesperson_mechanism flag for the year is 1, divided by the "
        "state administrative agencies in scope: the agencies of the register active in that year whose "
        "kind is marked is_state_administrative in ref_agency_kinds. Measured per year.",
        "is_cumulative": False,
        "direction": "increase",
        "target_operator": ">=", "target_value": 100, "target_value_high": None,
        "target_scope_default": "province",
        "national_rule": "ratio_of_sums",
    },
    {
        "indicator_code": "trained_hr_officials",
        "short_name_vi": "Tập huấn cán bộ quyền con người",
        "name_vi": "Cán bộ làm công tác quyền con người được cập nhật thông tin, tập huấn kiến thức, "
        "kỹ năng truyền thông về quyền con người",
        "name_en": "Officials working on human rights updated and trained in human-rights communication",
        "unit": "percent",
        "numerator_measure": "trainees_completed:hr_official",
        "denominator_measure": "staff_hr_officials",
        "measure_rule": _TRAINING_RULE.format(category="hr_official", headcount="staff_hr_officials"),
        "is_cumulative": True,
        "direction": "increase",
        "target_operator": ">=", "target_value": 100, "target_value_high": None,
        "target_scope_default": "province",
        "national_rule": "ratio_of_sums",
    },
    {
        "indicator_code": "trained_info_officials",
        "short_name_vi": "Tập huấn cán bộ thông tin, truyền thông",
        "name_vi": "Cán bộ làm công tác quản lý thông tin, truyền thông được cập nhật thông tin, tập huấn "
        "kiến thức, kỹ năng truyền thông về quyền con người",
        "name_en": "Officials managing information and communications updated and trained in human-rights "
        "communication",
        "unit": "percent",
        "numerator_measure": "trainees_completed:info_official",
        "denominator_measure": "staff_info_officials",
        "measure_rule": _TRAINING_RULE.format(category="info_official", headcount="staff_info_officials"),
        "is_cumulative": True,
        "direction": "increase",
        "target_operator": ">=", "target_value": 100, "target_value_high": None,
        "target_scope_default": "province",
        "national_rule": "ratio_of_sums",
    },
    {
        "indicator_code": "trained_press_foreign_info",
        "short_name_vi": "Tập huấn thông tin đối ngoại báo chí",
        "name_vi": "Nhân sự tham gia công tác thông tin đối ngoại của các cơ quan báo chí được cập nhật "
        "thông tin, tập huấn kiến thức, kỹ năng truyền thông về quyền con người",
        "name_en": "Press-agency staff in foreign-information work updated and trained in human-rights "
        "communication",
        "unit": "percent",
        "numerator_measure": "trainees_completed:press_foreign_info",
        "denominator_measure": "staff_press_foreign_info",
        "measure_rule": _TRAINING_RULE.format(
            category="press_foreign_info", headcount="staff_press_foreign_info"
        ),
        "is_cumulative": True,
        "direction": "increase",
        "target_operator": ">=", "target_value": 100, "target_value_high": None,
        "target_scope_default": "province",
        "national_rule": "ratio_of_sums",
    },
    {
        "indicator_code": "trained_key_sociopolitical",
        "short_name_vi": "Tập huấn cán bộ chủ chốt CT-XH",
        "name_vi": "Cán bộ chủ chốt của các tổ chức chính trị - xã hội ở cấp trung ương và cấp tỉnh được "
        "cập nhật thông tin, tập huấn kiến thức, kỹ năng truyền thông về quyền con người",
        "name_en": "Key officials of socio-political organisations (central and provincial level) updated "
        "and trained in human-rights communication",
        "unit": "percent",
        "numerator_measure": "trainees_completed:key_sociopolitical",
        "denominator_measure": "staff_key_sociopolitical",
        "measure_rule": _TRAINING_RULE.format(
            category="key_sociopolitical", headcount="staff_key_sociopolitical"
        ),
        "is_cumulative": True,
        "direction": "increase",
        "target_operator": ">=", "target_value": 70, "target_value_high": None,
        "target_scope_default": "province",
        "national_rule": "ratio_of_sums",
    },
    {
        "indicator_code": "photo_exhibitions",
        "short_name_vi": "Triển lãm ảnh",
        "name_vi": "Triển lãm ảnh, tài liệu lưu trữ về quyền con người ở Việt Nam được tổ chức tại các tỉnh, "
        "thành phố",
        "name_en": "Provinces that have held a photo and archive exhibition on human rights",
        "unit": "percent",
        "numerator_measure": "exhibitions_held",
        "denominator_measure": "provinces_in_scope",
        "measure_rule": "Share of provinces that have held at least one exhibition since 1 January 2023 "
        "(cumulative exhibitions_held >= 1), out of the provinces in scope (the 34 current provinces; the "
        "decision's 63 predate the merger). For one province the value is 100 once it has held an "
        "exhibition, else 0. Exhibitions abroad are outside provincial reporting.",
        "is_cumulative": True,
        "direction": "increase",
        "target_operator": ">=", "target_value": 100, "target_value_high": None,
        "target_scope_default": "province",
        "national_rule": "share_of_all_provinces",
    },
    {
        "indicator_code": "books_published",
        "short_name_vi": "Đầu sách",
        "name_vi": "Đầu sách về quyền con người được biên soạn, xuất bản và tái bản",
        "name_en": "Book titles on human rights compiled, published or re-published",
        "unit": "count",
        "numerator_measure": "books_published",
        "denominator_measure": None,
        "measure_rule": "Sum of books_published since 1 January 2023 over all reporting agencies; a national "
        "total, so a province's count is its contribution and is not compared with the target.",
        "is_cumulative": True,
        "direction": "increase",
        "target_operator": ">=", "target_value": 1000, "target_value_high": None,
        "target_scope_default": "national",
        "national_rule": "sum_of_provinces",
    },
    {
        "indicator_code": "minority_foreign_digital_share",
        "short_name_vi": "Sản phẩm tiếng dân tộc, nước ngoài, số",
        "name_vi": "Tỉ trọng sản phẩm truyền thông bằng tiếng dân tộc, tiếng nước ngoài và sản phẩm truyền "
        "thông trên nền tảng số trong tổng số sản phẩm truyền thông về quyền con người",
        "name_en": "Share of human-rights communication products in ethnic-minority or foreign languages or "
        "on digital platforms",
        "unit": "percent",
        "numerator_measure": "products_ethnic_language+products_foreign_language+products_digital_platform",
        "denominator_measure": "products_total",
        "measure_rule": "Sum of products_ethnic_language, products_foreign_language and "
        "products_digital_platform for the year, divided by products_total for the year; the target is a "
        "range (15 to 20 %, both included).",
        "is_cumulative": False,
        "direction": "increase",
        "target_operator": "between", "target_value": 15, "target_value_high": 20,
        "target_scope_default": "province",
        "national_rule": "ratio_of_sums",
    },
    {
        "indicator_code": "digitised_shared_share",
        "short_name_vi": "Số hóa, chia sẻ dữ liệu",
        "name_vi": "Nguồn dữ liệu và sản phẩm truyền thông của Đề án được số hóa, kết nối, sử dụng chung và "
        "phổ biến trên không gian mạng",
        "name_en": "Data sources and communication products of the scheme digitised, connected and shared "
        "online",
        "unit": "percent",
        "numerator_measure": "data_sources_digitised_shared",
        "denominator_measure": "data_sources_total",
        "measure_rule": "data_sources_digitised_shared divided by data_sources_total, latest submission for "
        "the year.",
        "is_cumulative": False,
        "direction": "increase",
        "target_operator": ">=", "target_value": 100, "target_value_high": None,
        "target_scope_default": "province",
        "national_rule": "ratio_of_sums",
    },
    {
        "indicator_code": "misinformation_share",
        "short_name_vi": "Tỉ lệ tin sai lệch",
        "name_vi": "Tỉ lệ thông tin sai lệch, tin giả, tin xấu độc xâm hại quyền con người trên không gian "
        "mạng trong tổng số thông tin về quyền con người ở Việt Nam",
        "name_en": "False, distorted or toxic information on human rights as a share of all human-rights "
        "information online",
        "unit": "percent",
        "numerator_measure": "misinformation_items",
        "denominator_measure": "hr_items_monitored",
        "measure_rule": "misinformation_items divided by hr_items_monitored for the year; lower is better "
        "and the target is an upper bound (strictly below 10 %).",
        "is_cumulative": False,
        "direction": "decrease",
        "target_operator": "<", "target_value": 10, "target_value_high": None,
        "target_scope_default": "province",
        "national_rule": "ratio_of_sums",
    },
    {
        "indicator_code": "fake_news_handled",
        "short_name_vi": "Xử lý tin giả",
        "name_vi": "Tin giả, tin xấu độc xâm hại quyền con người trên không gian mạng được phát hiện, xử lý",
        "name_en": "Fake and toxic news infringing human rights online detected and handled",
        "unit": "percent",
        "numerator_measure": "fake_news_handled",
        "denominator_measure": "fake_news_detected",
        "measure_rule": "fake_news_handled divided by fake_news_detected for the year.",
        "is_cumulative": False,
        "direction": "increase",
        "target_operator": ">=", "target_value": 90, "target_value_high": None,
        "target_scope_default": "province",
        "national_rule": "ratio_of_sums",
    },
    {
        "indicator_code": "upr_recommendations",
        "short_name_vi": "Khuyến nghị UPR",
        "name_vi": "Hoàn thành thực hiện khuyến nghị số 63, 67, 86 theo cơ chế Rà soát định kỳ phổ quát "
        "(UPR) chu kỳ III",
        "name_en": "UPR cycle III recommendations no. 63, 67 and 86 (accepted by Viet Nam) implemented",
        "unit": "status",
        "numerator_measure": "task_status",
        "denominator_measure": None,
        "measure_rule": "Implementation status of each of the recommendations 63, 67 and 86, reported as "
        "task_status rows (0 not started, 1 in progress, 2 completed) whose task_code is UPR-63, UPR-67 or "
        "UPR-86; a recommendation keeps its latest reported status, the highest when several agencies "
        "report the same year. The value is the lowest status of the three (a recommendation never "
        "reported counts as 0), so the target, status 2, is met when all three are completed; the "
        "numerator counts the completed ones out of the three. National only.",
        "is_cumulative": False,
        "direction": "increase",
        "target_operator": ">=", "target_value": 2, "target_value_high": None,
        "target_scope_default": "national",
        "national_rule": "lowest_reported_status",
    },
]

INDICATOR_SOURCE_REFERENCE = f"{DECISION_1079}, mục tiêu cụ thể đến năm 2028"

# --------------------------------------------------------------------------------------------
# National aggregation rules (ref_indicators.national_rule): how an indicator's national value
# is made from the provinces' figures. Whatever the rule, the national row carries its coverage,
# the current provinces with data for the indicator and year out of the 34 (a province with no
# register counts as not covered), and gets a status only when that share reaches
# min_coverage_percent; below it the status is `insufficient coverage`.
# --------------------------------------------------------------------------------------------
NATIONAL_COVERAGE_PERCENT = 80

NATIONAL_RULES: list[dict] = [
    {
        "national_rule": "ratio_of_sums",
        "label_vi": "Tỉ lệ giữa tổng tử số và tổng mẫu số của các tỉnh có số liệu",
        "label_en": "Ratio of sums over the reporting provinces",
        "description": "The numerators and the denominators of the current provinces that have data for "
        "the indicator and year are summed; the national value is 100 x the sum of numerators / the sum of "
        "denominators, never an average of the provinces' percents. A province without data adds to "
        "neither sum.",
        "min_coverage_percent": NATIONAL_COVERAGE_PERCENT,
    },
    {
        "national_rule": "share_of_all_provinces",
        "label_vi": "Số tỉnh đạt trên tổng số 34 tỉnh, thành phố",
        "label_en": "Count over all 34 provinces",
        "description": "The current provinces that have met the indicator since 2023 (held at least one "
        "exhibition), out of all 34 current provinces: a province that never reported counts as not having "
        "met it.",
        "min_coverage_percent": NATIONAL_COVERAGE_PERCENT,
    },
    {
        "national_rule": "sum_of_provinces",
        "label_vi": "Tổng cộng dồn của các tỉnh",
        "label_en": "Running total over the provinces",
        "description": "Everything every province reported since 2023, summed: a national total, compared "
        "with the national target; a province's figure is its contribution.",
        "min_coverage_percent": NATIONAL_COVERAGE_PERCENT,
    },
    {
        "national_rule": "lowest_reported_status",
        "label_vi": "Trạng thái thấp nhất của các khuyến nghị",
        "label_en": "Lowest status of the recommendations",
        "description": "Each recommendation keeps its latest status reported by any agency (the highest "
        "when several report it for the same year; never reported counts as not started); the national "
        "value is the lowest status of the recommendations. A national indicator: provinces only report.",
        "min_coverage_percent": NATIONAL_COVERAGE_PERCENT,
    },
]

# --------------------------------------------------------------------------------------------
# Targets: (indicator_code, operator, value, value_high, verbatim Vietnamese wording).
# --------------------------------------------------------------------------------------------
NATIONAL_TARGETS: list[tuple] = [
    ("spokesperson_mechanism", ">=", 100, None,
     "100% cơ quan hành chính nhà nước thực hiện cơ chế phát ngôn và cung cấp thông tin định kỳ cho báo "
     "chí về công tác quyền con người theo quy định hiện hành"),
    ("trained_hr_officials", ">=", 100, None, "100% cán bộ làm công tác quyền con người"),
    ("trained_info_officials", ">=", 100, None, "100% cán bộ làm công tác quản lý thông tin, truyền thông"),
    ("trained_press_foreign_info", ">=", 100, None,
     "100% nhân sự tham gia công tác thông tin đối ngoại của các cơ quan báo chí"),
    ("trained_key_sociopolitical", ">=", 70, None,
     "70% cán bộ chủ chốt của các tổ chức chính trị - xã hội ở cấp trung ương và cấp tỉnh, thành phố trực "
     "thuộc trung ương được cập nhật thông tin tình hình công tác quyền con người ở Việt Nam, tập huấn kiến "
     "thức, kỹ năng truyền thông về quyền con người"),
    ("photo_exhibitions", ">=", 100, None,
     "Tổ chức chuỗi Triển lãm ảnh, tài liệu lưu trữ về quyền con người ở Việt Nam bằng tiếng Việt và tiếng "
     "nước ngoài tại 63 tỉnh, thành phố và một số địa bàn trọng điểm ở nước ngoài"),
    ("books_published", ">=", 1000, None,
     "Biên soạn, xuất bản và tái bản 1.000 đầu sách về quyền con người"),
    ("minority_foreign_digital_share", "between", 15, 20,
     "nâng tỉ trọng các sản phẩm truyền thông bằng tiếng dân tộc, tiếng nước ngoài và sản phẩm truyền thông "
     "trên nền tảng số chiếm từ 15% đến 20% tổng số sản phẩm truyền thông về quyền con người"),
    ("digitised_shared_share", ">=", 100, None,
     "100% nguồn dữ liệu và sản phẩm truyền thông của Đề án được số hóa, kết nối, sử dụng chung và phổ biến "
     "trên không gian mạng"),
    ("misinformation_share", "<", 10, None,
     "Giảm thông tin sai lệch, tin giả, tin xấu độc xâm hại quyền con người trên không gian mạng xuống còn "
     "dưới 10% tổng số thông tin về quyền con người ở Việt Nam"),
    ("fake_news_handled", ">=", 90, None,
     "phát hiện, xử lý 90% tin giả, tin xấu độc xâm hại quyền con người trên không gian mạng"),
    ("upr_recommendations", ">=", 2, None,
     "hoàn thành việc thực hiện khuyến nghị của quốc tế về tăng cường truyền thông, nâng cao nhận thức về "
     "quyền con người đã được Chính phủ Việt Nam chấp thuận, bao gồm khuyến nghị số 63, 67, 86"),
]

# province code -> (source document, targets). Quảng Nam narrows the spokesperson and
# socio-political targets to provincial level; An Giang's "trên 90%" is a strict bound and its
# 100 % is about the scheme's products posted online; Gia Lai "coordinates" (phối hợp).
PROVINCE_TARGETS: dict[str, tuple[str, list[tuple]]] = {
    QUANG_NAM: (QUANG_NAM_9034, [
        ("spokesperson_mechanism", ">=", 100, None,
         "100% cơ quan hành chính cấp tỉnh thực hiện cơ chế phát ngôn, cung cấp thông tin cho báo chí về "
         "công tác quyền con người theo quy định."),
        ("trained_hr_officials", ">=", 100, None,
         "Phấn đấu 100% cán bộ, công chức làm công tác quyền con người"),
        ("trained_info_officials", ">=", 100, None,
         "100% cán bộ công chức làm công tác quản lý thông tin, truyền thông"),
        ("trained_press_foreign_info", ">=", 100, None,
         "100% nhân sự tham gia công tác thông tin đối ngoại của các cơ quan báo chí"),
        ("trained_key_sociopolitical", ">=", 70, None,
         "70% cán bộ chủ chốt của các tổ chức chính trị - xã hội cấp tỉnh được cập nhật thông tin tình hình "
         "công tác quyền con người và tập huấn kiến thức, kỹ năng truyền thông về quyền con người."),
        ("photo_exhibitions", ">=", 100, None,
         "Tổ chức và phối hợp với Bộ Thông tin và Truyền thông tổ chức các cuộc Triển lãm ảnh, tài liệu lưu "
         "trữ về quyền con người trên địa bàn tỉnh."),
        ("minority_foreign_digital_share", "between", 15, 20,
         "phấn đấu các sản phẩm truyền thông bằng tiếng dân tộc, tiếng nước ngoài và sản phẩm truyền thông "
         "trên nền tảng số chiếm từ 15 - 20% tổng số sản phẩm truyền thông về quyền con người."),
        ("digitised_shared_share", ">=", 100, None,
         "Phấn đấu 100% nguồn dữ liệu và sản phẩm truyền thông về quyền con người được số hóa, kết nối và "
         "phổ biến trên không gian mạng"),
        ("fake_news_handled", ">=", 90, None,
         "Phát hiện, xử lý 90% tin giả, tin xấu độc xâm hại quyền con người trên không gian mạng."),
    ]),
    AN_GIANG: (AN_GIANG_355, [
        ("spokesperson_mechanism", ">=", 100, None,
         "100% cơ quan hành chính nhà nước trên địa bàn tỉnh thực hiện cơ chế phát ngôn và cung cấp thông tin "
         "định kỳ cho báo chí về công tác quyền con người"),
        ("trained_key_sociopolitical", ">=", 70, None,
         "70% cán bộ chủ chốt của các tổ chức chính trị - xã hội cấp tỉnh được cập nhật thông tin tình hình "
         "công tác quyền con người ở Việt Nam và của tỉnh, tập huấn kiến thức, kỹ năng truyền thông về quyền "
         "con người."),
        ("minority_foreign_digital_share", "between", 15, 20,
         "các sản phẩm truyền thông bằng tiếng dân tộc, tiếng nước ngoài và truyền thông trên nền tảng số "
         "chiếm 15 - 20% tổng số sản phẩm truyền thông về quyền con người tại địa phương."),
        ("digitised_shared_share", ">=", 100, None,
         "100% sản phẩm truyền thông của Đề án được tuyên truyền trên không gian mạng"),
        ("fake_news_handled", ">", 90, None,
         "phát hiện, xử lý trên 90% tin giả, tin xấu độc xâm hại quyền con người trên không gian mạng."),
    ]),
    GIA_LAI: (GIA_LAI_155, [
        ("spokesperson_mechanism", ">=", 100, None,
         "100% cơ quan hành chính nhà nước trên địa bàn tỉnh thực hiện cơ chế phát ngôn và cung cấp thông tin "
         "định kỳ cho báo chí về công tác quyền con người theo quy định hiện hành"),
        ("trained_hr_officials", ">=", 100, None, "100% cán bộ làm công tác quyền con người"),
        ("trained_info_officials", ">=", 100, None,
         "100% cán bộ làm công tác quản lý thông tin, truyền thông"),
        ("trained_press_foreign_info", ">=", 100, None,
         "100% nhân sự tham gia công tác thông tin đối ngoại của các cơ quan báo chí"),
        ("trained_key_sociopolitical", ">=", 70, None,
         "70% cán bộ chủ chốt của các tổ chức chính trị - xã hội cấp tỉnh được cập nhật thông tin tình hình "
         "công tác quyền con người ở Việt Nam, tập huấn kiến thức, kỹ năng truyền thông về quyền con người."),
        ("photo_exhibitions", ">=", 100, None,
         "Phối hợp trong thực hiện tổ chức chuỗi Triển lãm ảnh, tài liệu lưu trữ về quyền con người ở Việt "
         "Nam bằng tiếng Việt và tiếng nước ngoài tại tỉnh."),
        ("fake_news_handled", ">=", 90, None,
         "Phối hợp phát hiện, xử lý 90% tin giả, tin xấu độc xâm hại quyền con người trên không gian mạng."),
    ]),
}

# --------------------------------------------------------------------------------------------
# Plan tasks: the annex of Quảng Nam plan 9034/KH-UBND. The annex numbers the body's a) b) c)
# d) e) f) h) items 1.1, 1.2 ...; group 4 has no sub-items and becomes task 4.1. Units are
# split on the boundaries of the annex's lists (a comma inside "các Sở, Ban, ngành" is part of
# a name).
# --------------------------------------------------------------------------------------------
SO_TTTT = "Sở Thông tin và Truyền thông"
CAC_SO = "các Sở, Ban, ngành"
UBND_HUYEN = "UBND các huyện, thị xã, thành phố"
BAO_CHI_TINH = "các cơ quan báo chí của tỉnh"
LIEN_QUAN = "các cơ quan, đơn vị liên quan"
PV_TRUNG_UONG = "cơ quan, phóng viên các báo Trung ương thường trú, hoạt động trên địa bàn tỉnh"

TASK_GROUPS: dict[str, tuple[str, str]] = {
    "1": ("Tuyên truyền, phổ biến Quyết định số 1079/QĐ-TTg và thông tin phục vụ việc triển khai thực hiện Đề án",
          "Dissemination of Decision 1079/QĐ-TTg and information for implementing the scheme"),
    "2": ("Cung cấp thông tin; bồi dưỡng kiến thức, kỹ năng truyền thông về quyền con người cho các lực lượng "
          "truyền thông",
          "Information and training of communication staff in human-rights communication"),
    "3": ("Sản xuất, đăng phát các sản phẩm truyền thông về quyền con người",
          "Producing and publishing human-rights communication products"),
    "4": ("Hợp tác quốc tế, thông tin đối ngoại về quyền con người",
          "International cooperation and foreign information on human rights"),
    "5": ("Thực hiện chuyển đổi số và ứng dụng công nghệ mới trong các hoạt động truyền thông về quyền con người",
          "Digital transformation and new technology in human-rights communication"),
    "6": ("Tổ chức và tham gia các giải thưởng truyền thông về quyền con người",
          "Organising and entering human-rights communication awards"),
}

# task_code, title_vi, title_en, lead_units, partner_units, duty_field, reporting_frequency
TASKS: list[tuple] = [
    ("1.1",
     "Tổ chức quán triệt, phổ biến nội dung Quyết định 1079/QĐ-TTg ngày 14/9/2022 của Thủ tướng Chính phủ tới "
     "các cơ quan, đơn vị, cán bộ, công chức thuộc phạm vi quản lý bằng hình thức phù hợp; tuyên truyền, phổ "
     "biến các nhiệm vụ tại Đề án trong hoạt động thông tin đối ngoại tại địa phương",
     "Brief agencies, units and officials on Decision 1079/QĐ-TTg and disseminate the scheme's tasks in local "
     "foreign-information work",
     ["Ủy ban MTTQ Việt Nam và tổ chức chính trị - xã hội cấp tỉnh", CAC_SO, UBND_HUYEN, BAO_CHI_TINH],
     [],
     "general",
     "annual"),
    ("1.2",
     "Tổ chức theo dõi, tổng hợp thông tin, dư luận báo chí với các thông tin sai lệch về tình hình bảo đảm "
     "nhân quyền thuộc phạm vi quản lý của địa phương",
     "Monitor and compile press and public opinion for distorted information on human rights in the province",
     [SO_TTTT],
     ["Công an tỉnh", CAC_SO, UBND_HUYEN, BAO_CHI_TINH, LIEN_QUAN],
     "press_publishing",
     "annual"),
    ("1.3",
     "Cập nhật thông tin về kết quả triển khai thực hiện quyền con người trên hệ thống Cổng/trang thông tin "
     "điện tử của tỉnh, các cơ quan, đơn vị, địa phương",
     "Publish the results of human-rights work on the provincial portal and the websites of agencies and "
     "localities",
     [CAC_SO, UBND_HUYEN, LIEN_QUAN],
     [SO_TTTT, LIEN_QUAN],
     "general",
     "annual"),
    ("1.4",
     "Khai thác hiệu quả cơ chế đặt hàng đối với các cơ quan báo chí sản xuất, phổ biến các xuất bản phẩm "
     "truyền thông về quyền con người bằng tiếng Việt và tiếng nước ngoài",
     "Commission press agencies to produce human-rights publications in Vietnamese and foreign languages",
     [SO_TTTT],
     [CAC_SO, UBND_HUYEN, BAO_CHI_TINH, LIEN_QUAN],
     "press_publishing",
     "annual"),
    ("2.1",
     "Triển khai cung cấp thông tin cho báo chí, tuyên truyền về quyền con người và thông tin đối ngoại theo "
     "hướng dẫn của Bộ Thông tin và Truyền thông",
     "Brief the press on human rights and foreign information (quarterly press briefings, or ad hoc)",
     [SO_TTTT, "Công an tỉnh"],
     [CAC_SO, UBND_HUYEN, "các cơ quan, phóng viên các báo Trung ương thường trú, hoạt động trên địa bàn tỉnh",
      BAO_CHI_TINH, LIEN_QUAN],
     "press_publishing",
     "quarterly"),
    ("2.2",
     "Tổ chức đoàn phóng viên báo chí nước ngoài thường trú tại Việt Nam đi thực tế tại các địa phương tiêu "
     "biểu trên địa bàn tỉnh để viết bài liên quan đến quyền con người trên địa bàn tỉnh nhằm đăng phát "
     "tuyên truyền trên các kênh, báo chí nước ngoài",
     "Organise field trips in the province for foreign correspondents based in Viet Nam to report on human "
     "rights in foreign media",
     ["Sở Ngoại vụ", SO_TTTT],
     ["Bộ Ngoại giao", "Bộ Thông tin và Truyền thông", "Ban Tuyên giáo Tỉnh ủy", "Công an tỉnh", CAC_SO,
      UBND_HUYEN, LIEN_QUAN],
     "press_publishing",
     "annual"),
    ("2.3",
     "Tổ chức hội nghị, tập huấn, hội thảo chuyên đề, tọa đàm",
     "Hold conferences, training courses, seminars and round tables",
     [SO_TTTT],
     [CAC_SO, UBND_HUYEN, BAO_CHI_TINH, PV_TRUNG_UONG, LIEN_QUAN],
     "press_publishing",
     "annual"),
    ("2.4",
     "Phối hợp với Bộ Thông tin và Truyền thông trong công tác tổ chức các hội nghị tập huấn",
     "Co-organise training conferences with the Ministry of Information and Communications",
     [SO_TTTT],
     ["Công an tỉnh", CAC_SO, UBND_HUYEN, BAO_CHI_TINH, PV_TRUNG_UONG, LIEN_QUAN],
     "press_publishing",
     "annual"),
    ("3.1",
     "Đẩy mạnh xây dựng và khai thác các tài khoản, kênh thông tin trên mạng xã hội đa ngôn ngữ, đa kênh phục "
     "vụ truyền thông về quyền con người",
     "Build and run multilingual, multi-channel social-media accounts for human-rights communication",
     ["Các cơ quan báo chí của tỉnh"],
     ["cơ quan, đơn vị liên quan"],
     "press_publishing",
     "annual"),
    ("3.2",
     "Sản xuất, phổ biến các xuất bản phẩm truyền thông đa phương tiện bằng tiếng Việt và tiếng nước ngoài; "
     "ưu tiên các sản phẩm có phong cách mới, cách nhìn mới để dễ tiếp cận, chú trọng lan tỏa trên không gian "
     "mạng",
     "Produce and distribute multimedia publications in Vietnamese and foreign languages, favouring fresh, "
     "accessible products that spread online",
     ["Các cơ quan báo chí của tỉnh"],
     ["cơ quan, đơn vị liên quan"],
     "press_publishing",
     "annual"),
    ("3.3",
     "Xây dựng các sản phẩm truyền thông về quyền con người phù hợp với tình hình thực tế của tỉnh Quảng Nam "
     "đăng tải, phát sóng trên hệ thống truyền thanh cấp huyện, đài truyền thanh cấp xã, bảng tin điện tử, "
     "cụm thông tin điện tử và các loại hình thông tin cơ sở khác",
     "Produce human-rights products for district and commune radio, electronic bulletin boards and other "
     "grassroots information channels",
     [UBND_HUYEN],
     [SO_TTTT, "Sở Văn hóa, Thể thao và Du lịch", LIEN_QUAN],
     "press_publishing",
     "annual"),
    ("3.4",
     "Tổ chức tuyên truyền lưu động thông qua hình thức triển lãm tranh, ảnh tư liệu, tranh cổ động về quyền "
     "con người",
     "Run mobile campaigns with exhibitions of pictures, documentary photos and posters on human rights",
     ["Sở Văn hóa, Thể thao và Du lịch"],
     [CAC_SO, UBND_HUYEN, LIEN_QUAN],
     "general",
     "annual"),
    ("3.5",
     "Tổ chức truyền thông, lồng ghép truyền thông về quyền con người trong chương trình giáo dục chính khóa, "
     "ngoại khóa một cách phù hợp ở các cấp học và trình độ đào tạo",
     "Integrate human-rights communication into curricular and extra-curricular education at every level",
     ["Sở Giáo dục và Đào tạo"],
     ["Hệ thống các trường học trên địa bàn tỉnh", "Sở, Ban, ngành", UBND_HUYEN, LIEN_QUAN],
     "general",
     "annual"),
    ("3.6",
     "Tổ chức truyền thông, lồng ghép truyền thông về quyền con người trong các hoạt động, hội nghị, sinh hoạt "
     "của tổ chức chính trị - xã hội",
     "Integrate human-rights communication into the activities and meetings of socio-political organisations",
     ["Các tổ chức chính trị - xã hội cấp tỉnh"],
     [CAC_SO, UBND_HUYEN, LIEN_QUAN],
     "general",
     "annual"),
    ("3.7",
     "Phối hợp, tổ chức triển lãm thành tựu đảm bảo quyền con người của Việt Nam ở trong và ngoài nước (nếu "
     "có)",
     "Co-organise exhibitions on Viet Nam's human-rights achievements at home and abroad (where held)",
     [SO_TTTT],
     ["Công an tỉnh", CAC_SO, UBND_HUYEN, LIEN_QUAN],
     "press_publishing",
     "annual"),
    ("4.1",
     "Hợp tác quốc tế, thông tin đối ngoại về quyền con người",
     "International cooperation and foreign information on human rights",
     ["Sở Ngoại vụ"],
     ["Các tổ chức, cơ quan, đơn vị, địa phương liên quan"],
     "general",
     "annual"),
    ("5.1",
     "Phát triển dữ liệu, tích hợp, chia sẻ dữ liệu truyền thông về quyền con người vào cơ sở dữ liệu dùng "
     "chung cấp Quốc gia theo hướng dẫn của Bộ Thông tin và Truyền thông",
     "Develop, integrate and share human-rights communication data into the national shared database",
     [SO_TTTT],
     ["Các tổ chức, cơ quan, đơn vị, địa phương liên quan"],
     "general",
     "annual"),
    ("5.2",
     "Phối hợp với Bộ Thông tin và Truyền thông ứng dụng công nghệ số trong giám sát thông tin trên không gian "
     "mạng để kịp thời phát hiện, phân tích các luồng thông tin phục vụ công tác dự báo, tham mưu cấp có thẩm "
     "quyền các biện pháp ứng phó; truyền thông chủ động, điều hướng thông tin, đấu tranh chống nạn tin giả, "
     "tin xấu độc xâm hại quyền con người ở Việt Nam trong phạm vi quản lý của địa phương",
     "Monitor online information with digital tools, with the ministry, and respond to fake and toxic news on "
     "human rights",
     [SO_TTTT],
     ["Các cơ quan, đơn vị, địa phương liên quan"],
     "general",
     "annual"),
    ("5.3",
     "Triển khai các biện pháp nắm tình hình trên không gian mạng nhằm ngăn chặn, xử lý các đối tượng lợi "
     "dụng quyền con người để thực hiện hành vi vi phạm pháp luật gât mất ANTT trên địa bàn tỉnh",
     "Police measures online to prevent and handle those abusing human rights to break the law or disturb "
     "public order",
     ["Công an tỉnh"],
     [SO_TTTT, "các cơ quan, đơn vị, địa phương liên quan"],
     "general",
     "annual"),
    ("6.1",
     "Phối hợp tổ chức phát động các cuộc thi viết, tìm hiểu kiến thức pháp luật về quyền con người tại địa "
     "phương theo chỉ đạo của Bộ Thông tin và Truyền thông phối hợp với Ban Tuyên giáo Trung ương",
     "Co-organise local writing and legal-knowledge contests on human rights",
     [SO_TTTT],
     ["Các Sở, Ban, ngành", UBND_HUYEN, LIEN_QUAN],
     "press_publishing",
     "annual"),
    ("6.2",
     "Lựa chọn các tác phẩm báo chí, xuất bản phẩm có chất lượng tham gia các hoạt động thi đua, khen thưởng "
     "công tác tuyên truyền về quyền con người do Bộ Thông tin và Truyền thông phối hợp với Ban Tuyên giáo "
     "Trung ương và các cơ quan có thẩm quyền chủ trì phát động",
     "Select quality press works and publications for national human-rights communication awards",
     ["Các cơ quan báo chí của tỉnh"],
     [SO_TTTT, LIEN_QUAN],
     "press_publishing",
     "annual"),
]

# --------------------------------------------------------------------------------------------
# How the units the annex names resolve to agencies of a province's register (ref_plan_units):
#   named        one agency: its kind and a pattern its registered name matches (PostgreSQL and
#                Python regular expression, case-insensitive, anchored at the start; the
#                abbreviations and both spellings of "hóa"/"hoá" that registers use);
#   collective   every agency of the kinds ("các Sở, Ban, ngành": the kind `department`, whose
#                label in ref_agency_kinds is "Sở, ban, ngành cấp tỉnh");
#   unspecified  "các cơ quan, đơn vị liên quan": no agency can be named, none is held to it;
#   outside      bodies that are in no province's register: ministries, the party's
#                propaganda board, central press, schools.
# The police is not one of "các Sở, Ban, ngành": the annex names it beside them.
# --------------------------------------------------------------------------------------------
_VAN_HOA = "Văn h(óa|oá)"
PLAN_UNITS: list[dict] = [
    {"unit_name": "Ủy ban MTTQ Việt Nam và tổ chức chính trị - xã hội cấp tỉnh", "resolution": "collective",
     "agency_kinds": ["sociopolitical_org"], "name_pattern": None,
     "note": "The Fatherland Front and the provincial socio-political organisations."},
    {"unit_name": "Các tổ chức chính trị - xã hội cấp tỉnh", "resolution": "collective",
     "agency_kinds": ["sociopolitical_org"], "name_pattern": None,
     "note": "The register's kind sociopolitical_org holds the Fatherland Front with them."},
    {"unit_name": CAC_SO, "resolution": "collective", "agency_kinds": ["department"], "name_pattern": None,
     "note": "Every provincial department or board."},
    {"unit_name": "Các Sở, Ban, ngành", "resolution": "collective", "agency_kinds": ["department"],
     "name_pattern": None, "note": "Every provincial department or board."},
    {"unit_name": "Sở, Ban, ngành", "resolution": "collective", "agency_kinds": ["department"],
     "name_pattern": None, "note": "Every provincial department or board."},
    {"unit_name": UBND_HUYEN, "resolution": "collective", "agency_kinds": ["district_committee"],
     "name_pattern": None,
     "note": "Every district committee; from 1 July 2025 the commune committees that succeed them."},
    {"unit_name": BAO_CHI_TINH, "resolution": "collective", "agency_kinds": ["press_agency"],
     "name_pattern": None, "note": "Every press agency of the province."},
    {"unit_name": "Các cơ quan báo chí của tỉnh", "resolution": "collective", "agency_kinds": ["press_agency"],
     "name_pattern": None, "note": "Every press agency of the province."},
    {"unit_name": SO_TTTT, "resolution": "named", "agency_kinds": ["department"],
     "name_pattern": "^(Sở Thông tin và Truyền thông|Sở TT ?& ?TT|Sở TTTT)",
     "note": "Merged into the Sở Khoa học và Công nghệ on 1 March 2025 (ref_duty_transfers)."},
    {"unit_name": "Công an tỉnh", "resolution": "named", "agency_kinds": ["police"],
     "name_pattern": "^Công an (tỉnh|thành phố)", "note": "The provincial police."},
    {"unit_name": "Sở Ngoại vụ", "resolution": "named", "agency_kinds": ["department"],
     "name_pattern": "^Sở Ngoại vụ", "note": None},
    {"unit_name": "Sở Văn hóa, Thể thao và Du lịch", "resolution": "named", "agency_kinds": ["department"],
     "name_pattern": f"^(Sở {_VAN_HOA}, Thể thao và Du lịch|Sở VH-?TT-?DL)", "note": None},
    {"unit_name": "Sở Giáo dục và Đào tạo", "resolution": "named", "agency_kinds": ["department"],
     "name_pattern": "^(Sở Giáo dục và Đào tạo|Sở GD ?& ?ĐT|Sở GDĐT)", "note": None},
    {"unit_name": LIEN_QUAN, "resolution": "unspecified", "agency_kinds": [], "name_pattern": None,
     "note": "Related agencies, not named."},
    {"unit_name": "cơ quan, đơn vị liên quan", "resolution": "unspecified", "agency_kinds": [],
     "name_pattern": None, "note": "Related agencies, not named."},
    {"unit_name": "Các tổ chức, cơ quan, đơn vị, địa phương liên quan", "resolution": "unspecified",
     "agency_kinds": [], "name_pattern": None, "note": "Related organisations and localities, not named."},
    {"unit_name": "Các cơ quan, đơn vị, địa phương liên quan", "resolution": "unspecified", "agency_kinds": [],
     "name_pattern": None, "note": "Related agencies and localities, not named."},
    {"unit_name": "các cơ quan, đơn vị, địa phương liên quan", "resolution": "unspecified", "agency_kinds": [],
     "name_pattern": None, "note": "Related agencies and localities, not named."},
    {"unit_name": "các cơ quan, phóng viên các báo Trung ương thường trú, hoạt động trên địa bàn tỉnh",
     "resolution": "outside", "agency_kinds": [], "name_pattern": None,
     "note": "Central press offices in the province: in no provincial register."},
    {"unit_name": PV_TRUNG_UONG, "resolution": "outside", "agency_kinds": [], "name_pattern": None,
     "note": "Central press offices in the province: in no provincial register."},
    {"unit_name": "Bộ Ngoại giao", "resolution": "outside", "agency_kinds": [], "name_pattern": None,
     "note": "A ministry."},
    {"unit_name": "Bộ Thông tin và Truyền thông", "resolution": "outside", "agency_kinds": [],
     "name_pattern": None, "note": "A ministry."},
    {"unit_name": "Ban Tuyên giáo Tỉnh ủy", "resolution": "outside", "agency_kinds": [], "name_pattern": None,
     "note": "A body of the provincial party committee, not of the people's committee."},
    {"unit_name": "Hệ thống các trường học trên địa bàn tỉnh", "resolution": "outside", "agency_kinds": [],
     "name_pattern": None, "note": "Schools: in no register."},
]

# --------------------------------------------------------------------------------------------
# Duties that moved apart from the general successor (ref_duty_transfers). From 1 March 2025
# each provincial Sở Thông tin và Truyền thông was merged into the Sở Khoa học và Công nghệ
# (the successor its register row names) but its press and publishing duties went to the Sở
# Văn hóa, Thể thao và Du lịch of the same province: the tasks whose duty_field is
# press_publishing pass there. The register cannot say this (one successor per row).
# --------------------------------------------------------------------------------------------
DUTY_TRANSFERS: list[dict] = [
    {"from_unit": SO_TTTT, "duty_field": "press_publishing", "to_unit": "Sở Văn hóa, Thể thao và Du lịch",
     "effective_from": "2025-03-01",
     "note": "Sắp xếp cơ quan chuyên môn cấp tỉnh từ 01/3/2025: Sở Thông tin và Truyền thông hợp nhất vào "
     "Sở Khoa học và Công nghệ; nhiệm vụ báo chí, xuất bản chuyển sang Sở Văn hóa, Thể thao và Du lịch."},
]

DUTY_FIELDS = ("press_publishing", "general")

# --------------------------------------------------------------------------------------------
# Languages of portal articles and communication products. ISO 639-1 where one exists, else
# ISO 639-3 (Tày is tyz: "tay" is Atayal, a language of Taiwan). Khmer is an ethnic-minority
# language in Viet Nam (the Khmer of the Mekong delta), not a foreign one.
# --------------------------------------------------------------------------------------------
LANGUAGES: list[tuple[str, str, str, str]] = [
    ("vi", "Tiếng Việt", "Vietnamese", "national"),
    ("en", "Tiếng Anh", "English", "foreign"),
    ("fr", "Tiếng Pháp", "French", "foreign"),
    ("zh", "Tiếng Trung", "Chinese", "foreign"),
    ("ru", "Tiếng Nga", "Russian", "foreign"),
    ("ja", "Tiếng Nhật", "Japanese", "foreign"),
    ("ko", "Tiếng Hàn", "Korean", "foreign"),
    ("lo", "Tiếng Lào", "Lao", "foreign"),
    ("de", "Tiếng Đức", "German", "foreign"),
    ("es", "Tiếng Tây Ban Nha", "Spanish", "foreign"),
    ("th", "Tiếng Thái Lan", "Thai", "foreign"),
    ("km", "Tiếng Khmer", "Khmer", "ethnic_minority"),
    ("cja", "Tiếng Chăm", "Cham (Western)", "ethnic_minority"),
    ("cjm", "Tiếng Chăm Đông", "Cham (Eastern)", "ethnic_minority"),
    ("jra", "Tiếng Gia Rai", "Jarai", "ethnic_minority"),
    ("rad", "Tiếng Ê Đê", "Ede (Rade)", "ethnic_minority"),
    ("bdq", "Tiếng Ba Na", "Bahnar", "ethnic_minority"),
    ("hmn", "Tiếng Mông", "Hmong", "ethnic_minority"),
    ("tyz", "Tiếng Tày", "Tày", "ethnic_minority"),
    ("blt", "Tiếng Thái", "Tai Dam (Black Tai)", "ethnic_minority"),
    ("mtq", "Tiếng Mường", "Muong", "ethnic_minority"),
    ("nut", "Tiếng Nùng", "Nung", "ethnic_minority"),
    ("ium", "Tiếng Dao", "Dao (Iu Mien)", "ethnic_minority"),
    ("sed", "Tiếng Xơ Đăng", "Sedang", "ethnic_minority"),
    ("ktv", "Tiếng Cơ Tu", "Katu (Eastern)", "ethnic_minority"),
    ("kpm", "Tiếng Cơ Ho", "Koho", "ethnic_minority"),
    ("hre", "Tiếng Hrê", "Hre", "ethnic_minority"),
    ("cmo", "Tiếng M'Nông", "Mnong (Central)", "ethnic_minority"),
]

# --------------------------------------------------------------------------------------------
# Agency kinds of the register (SOURCES.md §0). District committees stop reporting when the
# district level is abolished; commune committees report from the same day.
# is_state_administrative marks the kinds counted in the spokesperson indicator's denominator
# ("cơ quan hành chính nhà nước"): press agencies, the Fatherland Front and socio-political
# organisations are not state administrative agencies.
# --------------------------------------------------------------------------------------------
AGENCY_KINDS: list[dict] = [
    {"agency_kind": "department", "label_vi": "Sở, ban, ngành cấp tỉnh",
     "label_en": "Provincial department or board", "is_state_administrative": True,
     "exists_from": SCHEME_START, "exists_to": None},
    {"agency_kind": "district_committee", "label_vi": "UBND huyện, thị xã, thành phố thuộc tỉnh",
     "label_en": "District-level people's committee", "is_state_administrative": True,
     "exists_from": SCHEME_START, "exists_to": LAST_LEGACY_DAY},
    {"agency_kind": "commune_committee", "label_vi": "UBND xã, phường, đặc khu",
     "label_en": "Commune-level people's committee", "is_state_administrative": True,
     "exists_from": MERGER_DATE, "exists_to": None},
    {"agency_kind": "press_agency", "label_vi": "Cơ quan báo chí",
     "label_en": "Press agency", "is_state_administrative": False,
     "exists_from": SCHEME_START, "exists_to": None},
    {"agency_kind": "sociopolitical_org", "label_vi": "Ủy ban MTTQ Việt Nam và tổ chức chính trị - xã hội",
     "label_en": "Fatherland Front or socio-political organisation", "is_state_administrative": False,
     "exists_from": SCHEME_START, "exists_to": None},
    {"agency_kind": "police", "label_vi": "Công an tỉnh",
     "label_en": "Provincial police", "is_state_administrative": True,
     "exists_from": SCHEME_START, "exists_to": None},
    {"agency_kind": "other", "label_vi": "Cơ quan, đơn vị khác",
     "label_en": "Other agency or unit", "is_state_administrative": False,
     "exists_from": SCHEME_START, "exists_to": None},
]

# --------------------------------------------------------------------------------------------
# Reporting calendar. The annual deadline is Quảng Nam's ("báo cáo kết quả triển khai ... định
# kỳ trước ngày 30/11"). The sources set no quarterly deadline; the end of the quarter is this
# warehouse's convention for the quarterly press-briefing reports (task 2.1, "Hằng quý").
# --------------------------------------------------------------------------------------------
REPORTING_CALENDAR: list[tuple[str, str, str, int, int]] = [
    ("annual", "year",
     "By 30 November of the reporting year (KH 9034/KH-UBND: 'báo cáo kết quả triển khai ... định kỳ "
     "trước ngày 30/11')", 11, 30),
    ("quarterly", "Q1", "By the last day of the quarter: 31 March (warehouse convention)", 3, 31),
    ("quarterly", "Q2", "By the last day of the quarter: 30 June (warehouse convention)", 6, 30),
    ("quarterly", "Q3", "By the last day of the quarter: 30 September (warehouse convention)", 9, 30),
    ("quarterly", "Q4", "By the last day of the quarter: 31 December (warehouse convention)", 12, 31),
]
