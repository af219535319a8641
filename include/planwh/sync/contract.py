"""What the national sync shares: one explicit table from warehouse marts to national tables.

``SHARED_TABLES`` is the whole contract. Each entry names the mart it reads (schema ``marts``),
the national table it fills (schema ``national``) and, column by column, the national name, the
mart column, the type and the header of the SDMX-CSV file the rows travel in. Nothing else in
the warehouse is read: a column that is not listed here never leaves it, which is how personal
data (pseudonymised keys, names, file names) stays out of the national database.

Every national table also carries ``deployment_id`` (the sending warehouse), ``row_hash``,
``batch_id`` and ``updated_at``; those are added by the sync, not mapped.

Changing a mart column means changing its line here and, for the national side, adding a
migration in :mod:`planwh.sync.national` (the national schema is versioned, never edited in
place once released).

The files are SDMX-CSV 2.0 as SDMX tools read them (:mod:`planwh.sync.sdmx` writes the
structure they are read with): a coded column names its codelist; a missing value is written
as SDMX's "intentionally missing" marker (``NaN`` for numbers, ``#N/A`` for the rest), since
an empty field means "not reported, leave unchanged" in SDMX; an empty field is left only in
the non-key columns of a deleted row (ACTION ``D``), where SDMX wants the key alone.

Row identity and content:

* the key of a row is its ``key`` columns (the SDMX dimensions), as a JSON object;
* its content hash is SHA-256 over a canonical text of all mapped columns (key included),
  computed in SQL by :func:`row_hash_sql` the same way on both sides, so the national side
  re-derives every hash it receives and a batch cannot be altered unnoticed;
* a batch checksum is SHA-256 over the sorted row hashes of the batch, one per line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

SCHEMA_VERSION = 2

SDMX_FIXED_HEADERS = ("STRUCTURE", "STRUCTURE_ID", "ACTION")
ROW_HASH_HEADER = "ROW_HASH"
STRUCTURE = "dataflow"
AGENCY = "PLANWH"
SDMX_VERSION = f"{SCHEMA_VERSION}.0"  # the version of every SDMX artefact: the national schema's

KEY = "dimension"
MEASURE = "measure"
ATTRIBUTE = "attribute"

TYPES = ("text", "integer", "numeric", "boolean", "date")

# SDMX's markers for an intentionally missing value (SDMX-CSV 2.0 field guide): numbers are
# declared Double in the structure, so their marker is NaN.
MISSING_NUMBER = "NaN"
MISSING_OTHER = "#N/A"

# Codes whose mart values are not valid SDMX ids (no spaces allowed): status 'on track' travels
# as the code on_track. Every other codelist's codes are the mart values themselves.
STATUS_CODES = {
    "achieved": "achieved",
    "on track": "on_track",
    "at risk": "at_risk",
    "off track": "off_track",
    "no data": "no_data",
    "not applicable": "not_applicable",
}
CODE_MAPS: dict[str, dict[str, str]] = {"CL_PROGRESS_STATUS": STATUS_CODES}


@dataclass(frozen=True)
class Column:
    name: str  # column of the national table
    source: str  # column of the mart
    type: str
    role: str  # KEY, MEASURE or ATTRIBUTE (SDMX dimension, OBS_VALUE, attribute)
    header: str  # SDMX-CSV column header
    codelist: str | None = None  # the SDMX codelist its values are codes of

    @property
    def is_key(self) -> bool:
        return self.role == KEY

    @property
    def missing(self) -> str:
        """How an empty (NULL) value is written in the files."""
        return MISSING_NUMBER if self.type == "numeric" else MISSING_OTHER

    @property
    def code_map(self) -> dict[str, str] | None:
        """Mart value -> code, for a codelist whose codes differ from the mart's values."""
        return CODE_MAPS.get(self.codelist or "")


@dataclass(frozen=True)
class SharedTable:
    name: str  # national.<name>, also the package file <name>.csv
    mart: str  # marts.<mart>
    name_vi: str
    description: str
    columns: tuple[Column, ...]

    @property
    def dataflow_id(self) -> str:
        return f"DF_{self.name.upper()}"

    @property
    def dsd_id(self) -> str:
        return f"DSD_{self.name.upper()}"

    @property
    def structure_id(self) -> str:
        return f"{AGENCY}:{self.dataflow_id}({SDMX_VERSION})"

    @property
    def key(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.is_key)

    @property
    def headers(self) -> tuple[str, ...]:
        return (*SDMX_FIXED_HEADERS, *(c.header for c in self.columns), ROW_HASH_HEADER)

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


def _table(name: str, mart: str, name_vi: str, description: str, rows: Iterable[tuple]) -> SharedTable:
    columns = tuple(Column(*row) for row in rows)
    for column in columns:
        if column.type not in TYPES or column.role not in (KEY, MEASURE, ATTRIBUTE):
            raise ValueError(f"shared table {name}, column {column.name}: bad type or role")
    return SharedTable(name, mart, name_vi, description, columns)


# fmt: off
_PROGRESS_ATTRIBUTES = (
    ("numerator",           "numerator",            "numeric",  ATTRIBUTE, "NUMERATOR"),
    ("denominator",         "denominator",          "numeric",  ATTRIBUTE, "DENOMINATOR"),
    ("unit",                "unit",                 "text",     ATTRIBUTE, "UNIT_MEASURE",       "CL_UNIT"),
    ("target_scope",        "target_scope",         "text",     ATTRIBUTE, "TARGET_SCOPE"),
    ("target_operator",     "target_operator",      "text",     ATTRIBUTE, "TARGET_OPERATOR"),
    ("target_value",        "target_value",         "numeric",  ATTRIBUTE, "TARGET_VALUE"),
    ("target_value_high",   "target_value_high",    "numeric",  ATTRIBUTE, "TARGET_VALUE_HIGH"),
    ("target_year",         "target_year",          "integer",  ATTRIBUTE, "TARGET_YEAR"),
    ("baseline_year",       "baseline_year",        "integer",  ATTRIBUTE, "BASELINE_YEAR"),
    ("baseline_value",      "baseline_value",       "numeric",  ATTRIBUTE, "BASELINE_VALUE"),
    ("trajectory_value",    "trajectory_value",     "numeric",  ATTRIBUTE, "TRAJECTORY_VALUE"),
    ("status",              "status",               "text",     ATTRIBUTE, "PROGRESS_STATUS",    "CL_PROGRESS_STATUS"),
    ("agencies_reported",   "agencies_reported",    "integer",  ATTRIBUTE, "AGENCIES_REPORTED"),
    ("agencies_expected",   "agencies_expected",    "integer",  ATTRIBUTE, "AGENCIES_EXPECTED"),
    ("completeness_rate",   "completeness_rate",    "numeric",  ATTRIBUTE, "COMPLETENESS_RATE"),
)

SHARED_TABLES: tuple[SharedTable, ...] = (
    _table("indicator_values", "fct_indicator_progress",
           "Chỉ tiêu theo tỉnh, thành phố hiện hành (hoặc 00 = toàn quốc) và năm: giá trị, mục tiêu, tình trạng",
           "Indicator x current province (or 00 = national) x year: value, target, status, completeness.", (
        # national column       mart column             type        role       SDMX-CSV header       codelist
        ("indicator_code",      "indicator_code",       "text",     KEY,       "INDICATOR",          "CL_INDICATOR"),
        ("province_code",       "province_code",        "text",     KEY,       "REF_AREA",           "CL_PROVINCE"),
        ("year",                "year",                 "integer",  KEY,       "TIME_PERIOD"),
        ("value",               "value",                "numeric",  MEASURE,   "OBS_VALUE"),
        *_PROGRESS_ATTRIBUTES,
    )),
    _table("indicator_values_legacy", "fct_indicator_progress_legacy",
           "Chỉ tiêu theo 63 tỉnh, thành phố cũ (trước 01/7/2025) và năm, như đã báo cáo",
           "Indicator x legacy province (the 63 before 1 July 2025) x year, as reported; each legacy province's "
           "own plan sets its targets.", (
        ("indicator_code",      "indicator_code",       "text",     KEY,       "INDICATOR",          "CL_INDICATOR"),
        ("province_code",       "province_code",        "text",     KEY,       "REF_AREA",           "CL_PROVINCE_LEGACY"),
        ("year",                "year",                 "integer",  KEY,       "TIME_PERIOD"),
        ("value",               "value",                "numeric",  MEASURE,   "OBS_VALUE"),
        ("current_province_code", "current_province_code", "text",  ATTRIBUTE, "CURRENT_REF_AREA",   "CL_PROVINCE"),
        *_PROGRESS_ATTRIBUTES,
    )),
    _table("submission_compliance", "fct_submission_compliance_by_province",
           "Tình hình nộp báo cáo theo tỉnh, thành phố hiện hành (hoặc 00), năm và loại báo cáo",
           "Current province (or 00) x year x kind of report: reports owed, received, on time; DHIS2-style rates.", (
        ("province_code",       "province_code",        "text",     KEY,       "REF_AREA",           "CL_PROVINCE"),
        ("year",                "year",                 "integer",  KEY,       "TIME_PERIOD"),
        ("period_kind",         "period_kind",          "text",     KEY,       "REPORT_PERIOD_KIND", "CL_REPORT_PERIOD_KIND"),
        ("completeness_rate",   "completeness_rate",    "numeric",  MEASURE,   "OBS_VALUE"),
        ("timeliness_rate",     "timeliness_rate",      "numeric",  ATTRIBUTE, "TIMELINESS_RATE"),
        ("reports_expected",    "expected",             "integer",  ATTRIBUTE, "REPORTS_EXPECTED"),
        ("reports_received",    "received",             "integer",  ATTRIBUTE, "REPORTS_RECEIVED"),
        ("reports_on_time",     "on_time",              "integer",  ATTRIBUTE, "REPORTS_ON_TIME"),
        ("reports_late",        "received_late",        "integer",  ATTRIBUTE, "REPORTS_LATE"),
        ("reports_missing",     "not_received",         "integer",  ATTRIBUTE, "REPORTS_MISSING"),
        ("reports_not_expected", "received_not_expected", "integer", ATTRIBUTE, "REPORTS_NOT_EXPECTED"),
    )),
    _table("training_coverage", "fct_training_coverage",
           "Người được tập huấn theo nhóm, tỉnh, thành phố hiện hành (hoặc 00) và năm, so với tổng số",
           "Trainee category x current province (or 00) x year: persons trained (each once) against headcount.", (
        ("category_code",       "category_code",        "text",     KEY,       "TRAINEE_CATEGORY"),
        ("province_code",       "province_code",        "text",     KEY,       "REF_AREA",           "CL_PROVINCE"),
        ("year",                "year",                 "integer",  KEY,       "TIME_PERIOD"),
        ("coverage_rate",       "coverage_rate",        "numeric",  MEASURE,   "OBS_VALUE"),
        ("indicator_code",      "indicator_code",       "text",     ATTRIBUTE, "INDICATOR",          "CL_INDICATOR"),
        ("trainees_new_in_year", "trainees_new_in_year", "integer", ATTRIBUTE, "TRAINEES_NEW"),
        ("trainees_cumulative", "trainees_cumulative",  "integer",  ATTRIBUTE, "TRAINEES_CUMULATIVE"),
        ("headcount",           "headcount",            "numeric",  ATTRIBUTE, "HEADCOUNT"),
        ("headcount_agencies",  "headcount_agencies",   "integer",  ATTRIBUTE, "HEADCOUNT_AGENCIES"),
    )),
    _table("indicators", "dim_indicator",
           "12 chỉ tiêu của Quyết định 1079/QĐ-TTg: tên, đơn vị, cách tính và mục tiêu toàn quốc",
           "The 12 indicators of Decision 1079/QĐ-TTg: names, unit, computation and national target.", (
        ("indicator_code",      "indicator_code",       "text",     KEY,       "INDICATOR",          "CL_INDICATOR"),
        ("name_vi",             "name_vi",              "text",     ATTRIBUTE, "NAME_VI"),
        ("name_en",             "name_en",              "text",     ATTRIBUTE, "NAME_EN"),
        ("unit",                "unit",                 "text",     ATTRIBUTE, "UNIT_MEASURE",       "CL_UNIT"),
        ("direction",           "direction",            "text",     ATTRIBUTE, "DIRECTION"),
        ("is_cumulative",       "is_cumulative",        "boolean",  ATTRIBUTE, "IS_CUMULATIVE"),
        ("computation",         "computation",          "text",     ATTRIBUTE, "COMPUTATION"),
        ("trainee_category_code", "trainee_category_code", "text",  ATTRIBUTE, "TRAINEE_CATEGORY"),
        ("target_operator",     "target_operator",      "text",     ATTRIBUTE, "TARGET_OPERATOR"),
        ("target_value",        "target_value",         "numeric",  ATTRIBUTE, "TARGET_VALUE"),
        ("target_value_high",   "target_value_high",    "numeric",  ATTRIBUTE, "TARGET_VALUE_HIGH"),
        ("target_label",        "target_label",         "text",     ATTRIBUTE, "TARGET_LABEL"),
        ("target_scope_default", "target_scope_default", "text",    ATTRIBUTE, "TARGET_SCOPE_DEFAULT"),
        ("baseline_year",       "baseline_year",        "integer",  ATTRIBUTE, "BASELINE_YEAR"),
        ("target_year",         "target_year",          "integer",  ATTRIBUTE, "TARGET_YEAR"),
        ("source_reference",    "source_reference",     "text",     ATTRIBUTE, "SOURCE_REFERENCE"),
    )),
    # REF_AREA is not coded here: legacy and current codes overlap (52 is legacy Bình Định and
    # current Gia Lai), PROVINCE_PERIOD tells them apart.
    _table("province_mapping", "dim_province",
           "63 tỉnh, thành phố cũ và 34 tỉnh, thành phố hiện hành, và tỉnh hiện hành mà mỗi tỉnh cũ sáp nhập vào",
           "The 63 legacy and 34 current provinces, and the current province each legacy one merged into.", (
        ("province_period",     "province_period",      "text",     KEY,       "PROVINCE_PERIOD",    "CL_SERIES"),
        ("province_code",       "province_code",        "text",     KEY,       "REF_AREA"),
        ("province_name",       "province_name",        "text",     ATTRIBUTE, "PROVINCE_NAME"),
        ("province_name_full",  "province_name_full",   "text",     ATTRIBUTE, "PROVINCE_NAME_FULL"),
        ("province_kind",       "province_kind",        "text",     ATTRIBUTE, "PROVINCE_KIND"),
        ("valid_from",          "valid_from",           "date",     ATTRIBUTE, "VALID_FROM"),
        ("valid_to",            "valid_to",             "date",     ATTRIBUTE, "VALID_TO"),
        ("current_province_code", "current_province_code", "text",  ATTRIBUTE, "CURRENT_REF_AREA",   "CL_PROVINCE"),
        ("current_province_name", "current_province_name", "text",  ATTRIBUTE, "CURRENT_PROVINCE_NAME"),
    )),
)
# fmt: on

TABLES_BY_NAME = {table.name: table for table in SHARED_TABLES}


def quote(name: str) -> str:
    """A SQL identifier, quoted (the mapping's names are code, but headers are upper case)."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A SQL string literal of code-defined text (codes, markers)."""
    return "'" + text.replace("'", "''") + "'"


def _canonical(column: Column, ref: str) -> str:
    # quote_nullable keeps NULL apart from the text 'NULL' and from ''; numerics lose trailing
    # zeros so 1.50 and 1.5 hash alike; dates ignore the session's DateStyle.
    if column.type == "numeric":
        ref = f"trim_scale({ref})"
    elif column.type == "date":
        ref = f"to_char({ref}, 'YYYY-MM-DD')"
    return f"quote_nullable({ref})"


def row_hash_sql(table: SharedTable, ref: Callable[[Column], str]) -> str:
    """SQL for a row's content hash; ``ref(column)`` gives the typed column reference."""
    parts = ", ".join(_canonical(c, ref(c)) for c in table.columns)
    return f"encode(sha256(convert_to(concat_ws(',', {parts}), 'UTF8')), 'hex')"


def row_key_sql(table: SharedTable, ref: Callable[[Column], str]) -> str:
    """SQL for a row's key as a JSON object of its key columns."""
    pairs = ", ".join(f"'{c.name}', {ref(c)}" for c in table.key)
    return f"jsonb_build_object({pairs})"


def batch_checksum(row_hashes: Iterable[str]) -> str:
    """SHA-256 over the sorted row hashes of a batch, one per line."""
    return hashlib.sha256("\n".join(sorted(row_hashes)).encode("ascii")).hexdigest()


BATCH_CHECKSUM_SQL = "encode(sha256(convert_to(coalesce(string_agg(row_hash, E'\\n' order by row_hash collate \"C\"), ''), 'UTF8')), 'hex')"


@dataclass(frozen=True)
class Batch:
    """A batch as it travels: its ledger fields and one SDMX-CSV file per shared table.

    ``kind`` is ``direct`` (sent by ``planwh sync``) or ``package`` (an offline export);
    ``mode`` is ``delta`` (ACTION I/U/D relative to ``base_batch_id``, the deployment's latest
    batch on the national side when the delta was computed) or ``replace`` (a full snapshot,
    ACTION I only: the deployment's rows not in it are deleted).
    """

    batch_id: str
    deployment_id: str
    deployment_name: str
    sequence: int
    kind: str
    mode: str
    base_batch_id: str | None
    schema_version: int
    created_at: datetime
    checksum: str
    files: Mapping[str, bytes]
