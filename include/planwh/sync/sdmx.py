"""The SDMX side of a package: its structure (SDMX-ML 2.1) and its data as SDMX-ML 2.1.

An SDMX tool reads a data file only with its structure: what the columns are (dimensions,
the measure OBS_VALUE, attributes), their types and the codelists of coded columns. A package
therefore carries ``structure.xml``, one SDMX-ML 2.1 Structure message with

* the codelists: indicators (``CL_INDICATOR``, from ``indicators.csv``), current provinces and
  ``00`` for the whole country (``CL_PROVINCE``), legacy provinces (``CL_PROVINCE_LEGACY``,
  both from ``province_mapping.csv``), the two province series (``CL_SERIES``), units
  (``CL_UNIT``), progress statuses (``CL_PROGRESS_STATUS``) and kinds of report
  (``CL_REPORT_PERIOD_KIND``), named in Vietnamese and English;
* one concept scheme (``CS_PLANWH``) naming every column header;
* a data structure definition and a dataflow per shared table, all of agency ``PLANWH`` and
  version ``<national schema version>.0``.

The data travel twice, the same rows: ``<table>.csv`` (SDMX-CSV 2.0, what ``planwh sync
--from-package`` loads) and ``<table>.xml`` (SDMX-ML 2.1 StructureSpecificData, all
dimensions at observation level). The XML is there because some SDMX libraries (pysdmx 1.21)
read CSV through pandas' type guessing, which turns the province code ``01`` into ``1``; in
XML every value is text, as published. A missing number is ``NaN`` in both; any other missing
value is ``#N/A`` in the CSV (SDMX-CSV's marker) and left out of the XML.

Every coded value of the data is checked against its codelist before a package is written.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from planwh.sync.contract import (
    AGENCY,
    ATTRIBUTE,
    KEY,
    MISSING_OTHER,
    SDMX_VERSION,
    SHARED_TABLES,
    STATUS_CODES,
    SharedTable,
)
from planwh.sync.errors import PackageError

STRUCTURE_FILE = "structure.xml"

MESSAGE = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
STRUCTURE = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
COMMON = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
STRUCTURE_SPECIFIC = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
for _prefix, _uri in (("mes", MESSAGE), ("str", STRUCTURE), ("com", COMMON), ("ss", STRUCTURE_SPECIFIC),
                      ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)

CONCEPT_SCHEME = "CS_PLANWH"
NATIONAL_CODE = "00"

# SDMX text types of the contract's column types. Numbers are Double so that a missing one is
# NaN, as SDMX-CSV wants for float and double.
TEXT_TYPES = {"text": "String", "integer": "Integer", "numeric": "Double", "boolean": "Boolean",
              "date": "GregorianDay"}
TIME_DIMENSION = "TIME_PERIOD"

# fmt: off
CONCEPTS: dict[str, tuple[str, str]] = {
    "INDICATOR":             ("Chỉ tiêu", "Indicator"),
    "REF_AREA":              ("Tỉnh, thành phố (mã)", "Province (code)"),
    "TIME_PERIOD":           ("Năm", "Year"),
    "OBS_VALUE":             ("Giá trị", "Value"),
    "NUMERATOR":             ("Tử số", "Numerator"),
    "DENOMINATOR":           ("Mẫu số", "Denominator"),
    "UNIT_MEASURE":          ("Đơn vị tính", "Unit"),
    "TARGET_SCOPE":          ("Phạm vi mục tiêu", "Target scope"),
    "TARGET_OPERATOR":       ("Phép so sánh mục tiêu", "Target operator"),
    "TARGET_VALUE":          ("Mục tiêu (hoặc cận dưới)", "Target (or lower bound)"),
    "TARGET_VALUE_HIGH":     ("Cận trên của mục tiêu", "Target upper bound"),
    "TARGET_YEAR":           ("Năm đạt mục tiêu", "Target year"),
    "BASELINE_YEAR":         ("Năm gốc", "Baseline year"),
    "BASELINE_VALUE":        ("Giá trị năm gốc", "Baseline value"),
    "TRAJECTORY_VALUE":      ("Giá trị theo lộ trình", "Trajectory value"),
    "PROGRESS_STATUS":       ("Tình trạng thực hiện", "Progress status"),
    "AGENCIES_REPORTED":     ("Số cơ quan đã báo cáo", "Agencies reported"),
    "AGENCIES_EXPECTED":     ("Số cơ quan phải báo cáo", "Agencies expected"),
    "COMPLETENESS_RATE":     ("Tỷ lệ đầy đủ (%)", "Completeness rate (%)"),
    "CURRENT_REF_AREA":      ("Tỉnh, thành phố hiện hành (mã)", "Current province (code)"),
    "REPORT_PERIOD_KIND":    ("Loại kỳ báo cáo", "Kind of report period"),
    "TIMELINESS_RATE":       ("Tỷ lệ đúng hạn (%)", "Timeliness rate (%)"),
    "REPORTS_EXPECTED":      ("Số báo cáo phải nộp", "Reports expected"),
    "REPORTS_RECEIVED":      ("Số báo cáo đã nhận", "Reports received"),
    "REPORTS_ON_TIME":       ("Số báo cáo đúng hạn", "Reports on time"),
    "REPORTS_LATE":          ("Số báo cáo trễ hạn", "Reports late"),
    "REPORTS_MISSING":       ("Số báo cáo chưa nộp", "Reports missing"),
    "REPORTS_NOT_EXPECTED":  ("Số báo cáo không thuộc diện phải nộp", "Reports not expected"),
    "TRAINEE_CATEGORY":      ("Nhóm người được tập huấn", "Trainee category"),
    "TRAINEES_NEW":          ("Số người được tập huấn lần đầu trong năm", "Persons trained for the first time"),
    "TRAINEES_CUMULATIVE":   ("Số người được tập huấn lũy kế từ 2023", "Persons trained since 2023"),
    "HEADCOUNT":             ("Tổng số người thuộc nhóm", "Headcount"),
    "HEADCOUNT_AGENCIES":    ("Số cơ quan báo cáo tổng số", "Agencies reporting the headcount"),
    "NAME_VI":               ("Tên tiếng Việt", "Vietnamese name"),
    "NAME_EN":               ("Tên tiếng Anh", "English name"),
    "DIRECTION":             ("Chiều tốt", "Direction"),
    "IS_CUMULATIVE":         ("Lũy kế", "Cumulative"),
    "COMPUTATION":           ("Cách tính", "Computation"),
    "TARGET_LABEL":          ("Mục tiêu (nhãn)", "Target label"),
    "TARGET_SCOPE_DEFAULT":  ("Phạm vi mục tiêu mặc định", "Default target scope"),
    "SOURCE_REFERENCE":      ("Văn bản nguồn", "Source document"),
    "PROVINCE_PERIOD":       ("Thời kỳ (tỉnh cũ hoặc hiện hành)", "Series (legacy or current province)"),
    "PROVINCE_NAME":         ("Tên tỉnh, thành phố", "Province name"),
    "PROVINCE_NAME_FULL":    ("Tên đầy đủ", "Full name"),
    "PROVINCE_KIND":         ("Loại đơn vị hành chính", "Kind of province"),
    "VALID_FROM":            ("Hiệu lực từ ngày", "Valid from"),
    "HAS_REGISTER":          ("Có danh mục đơn vị báo cáo", "Has an agency register"),
    "NATIONAL_RULE":         ("Cách tổng hợp toàn quốc", "National aggregation rule"),
    "PROVINCES_REPORTING":   ("Số tỉnh, thành phố có số liệu", "Provinces with data"),
    "PROVINCES_WITH_REGISTER": ("Số tỉnh, thành phố có danh mục đơn vị", "Provinces with an agency register"),
    "PROVINCES_TOTAL":       ("Tổng số tỉnh, thành phố", "Provinces in all"),
    "COVERAGE_RATE":         ("Độ bao phủ (%)", "Coverage (%)"),
    "MIN_COVERAGE_PERCENT":  ("Độ bao phủ tối thiểu để đánh giá (%)", "Coverage needed for a status (%)"),
    "SHORT_NAME_VI":         ("Tên ngắn tiếng Việt", "Vietnamese short name"),
    "VALID_TO":              ("Hiệu lực đến ngày", "Valid to"),
    "CURRENT_PROVINCE_NAME": ("Tên tỉnh, thành phố hiện hành", "Current province name"),
}

FIXED_CODELISTS: dict[str, tuple[tuple[str, str], dict[str, tuple[str, str]]]] = {
    "CL_SERIES": (("Chuỗi số liệu theo tỉnh", "Province series"), {
        "current": ("34 tỉnh, thành phố hiện hành (từ 01/7/2025)", "The 34 current provinces (from 1 July 2025)"),
        "legacy":  ("63 tỉnh, thành phố cũ (đến 30/6/2025)", "The 63 legacy provinces (until 30 June 2025)"),
    }),
    "CL_UNIT": (("Đơn vị tính", "Units"), {
        "percent": ("Phần trăm", "Percent"),
        "count":   ("Số lượng (đầu sách)", "Count (titles)"),
        "status":  ("Trạng thái 0-2", "Status 0-2"),
    }),
    "CL_PROGRESS_STATUS": (("Tình trạng thực hiện chỉ tiêu", "Progress status"), {
        STATUS_CODES["achieved"]:       ("Đạt", "Achieved"),
        STATUS_CODES["on track"]:       ("Đúng lộ trình", "On track"),
        STATUS_CODES["at risk"]:        ("Có nguy cơ chậm", "At risk"),
        STATUS_CODES["off track"]:      ("Chậm lộ trình", "Off track"),
        STATUS_CODES["no data"]:        ("Chưa có số liệu", "No data"),
        STATUS_CODES["not applicable"]: ("Không áp dụng", "Not applicable"),
        STATUS_CODES["no register"]:    ("Chưa có danh mục đơn vị", "No agency register"),
        STATUS_CODES["partial year"]:   ("Một phần năm (không đánh giá)", "Partial year (not judged)"),
        STATUS_CODES["insufficient coverage"]: ("Chưa đủ số liệu", "Insufficient coverage"),
    }),
    "CL_REPORT_PERIOD_KIND": (("Loại kỳ báo cáo", "Kinds of report period"), {
        "year":    ("Báo cáo năm", "Annual report"),
        "quarter": ("Báo cáo quý", "Quarterly report"),
    }),
}
CODELIST_NAMES = {
    "CL_INDICATOR": ("Chỉ tiêu của Quyết định 1079/QĐ-TTg", "Indicators of Decision 1079/QĐ-TTg"),
    "CL_PROVINCE": ("Tỉnh, thành phố hiện hành và toàn quốc (00)", "Current provinces and the whole country (00)"),
    "CL_PROVINCE_LEGACY": ("Tỉnh, thành phố cũ (trước 01/7/2025)", "Legacy provinces (before 1 July 2025)"),
}
# fmt: on


@dataclass(frozen=True)
class Codelist:
    id: str
    names: tuple[str, str]  # Vietnamese, English
    codes: dict[str, tuple[str, str]]  # code -> (Vietnamese name, English name)


def rows(data: bytes) -> Iterator[dict[str, str]]:
    """The data rows of an SDMX-CSV file as dicts of text."""
    yield from csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))


def _present(value: str | None) -> bool:
    return value not in (None, "", "NaN", MISSING_OTHER)


def codelists(files: Mapping[str, bytes]) -> dict[str, Codelist]:
    """Every codelist of the package; indicators and provinces from the package's own files."""
    found = {cid: Codelist(cid, names, dict(codes)) for cid, (names, codes) in FIXED_CODELISTS.items()}
    indicators: dict[str, tuple[str, str]] = {}
    for row in rows(files["indicators"]):
        name_vi = row["NAME_VI"] if _present(row["NAME_VI"]) else row["INDICATOR"]
        indicators[row["INDICATOR"]] = (name_vi, row["NAME_EN"] if _present(row["NAME_EN"]) else name_vi)
    provinces: dict[str, dict[str, tuple[str, str]]] = {
        "current": {NATIONAL_CODE: ("Toàn quốc", "Whole country")}, "legacy": {}
    }
    for row in rows(files["province_mapping"]):
        name = row["PROVINCE_NAME"] if _present(row["PROVINCE_NAME"]) else row["REF_AREA"]
        provinces.setdefault(row["PROVINCE_PERIOD"], {})[row["REF_AREA"]] = (name, name)
    for cid, codes in (("CL_INDICATOR", indicators), ("CL_PROVINCE", provinces["current"]),
                       ("CL_PROVINCE_LEGACY", provinces["legacy"])):
        found[cid] = Codelist(cid, CODELIST_NAMES[cid], dict(sorted(codes.items())))
    return found


def check_codes(files: Mapping[str, bytes], lists: Mapping[str, Codelist]) -> None:
    """Every coded value is a code of its codelist; else name the file, data row, column and value."""
    for table in SHARED_TABLES:
        coded = [c for c in table.columns if c.codelist]
        for number, row in enumerate(rows(files[table.name]), start=1):
            for column in coded:
                value = row[column.header]
                if _present(value) and value not in lists[column.codelist].codes:
                    raise PackageError(
                        f"{table.file_name}, data row {number}, {column.header}: {value!r} is not a code of "
                        f"{column.codelist}; the marts are inconsistent (is it missing from "
                        f"{'indicators' if column.codelist == 'CL_INDICATOR' else 'province_mapping'}?). "
                        "Rebuild them with `planwh transform` and export again."
                    )


def _sub(parent: ET.Element, uri: str, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{uri}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _names(parent: ET.Element, names: tuple[str, str]) -> None:
    for lang, name in zip(("vi", "en"), names, strict=True):
        _sub(parent, COMMON, "Name", name, **{XML_LANG: lang})


def _ref(parent: ET.Element, tag: str, **attrs: str) -> None:
    # SDMX-ML 2.1 references are the unqualified element Ref
    wrapper = _sub(parent, STRUCTURE, tag)
    ET.SubElement(wrapper, "Ref", attrs)


def _maintainable(parent: ET.Element, tag: str, artefact_id: str, names: tuple[str, str]) -> ET.Element:
    element = _sub(parent, STRUCTURE, tag, id=artefact_id, agencyID=AGENCY, version=SDMX_VERSION)
    _names(element, names)
    return element


def _header(root: ET.Element, message_id: str, prepared: datetime) -> ET.Element:
    header = _sub(root, MESSAGE, "Header")
    _sub(header, MESSAGE, "ID", message_id)
    _sub(header, MESSAGE, "Test", "false")
    _sub(header, MESSAGE, "Prepared", prepared.replace(microsecond=0).isoformat())
    _sub(header, MESSAGE, "Sender", id=AGENCY)
    return header


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _component(parent: ET.Element, tag: str, column_header: str, column_type: str, codelist: str | None,
               **attrs: str) -> ET.Element:
    element = _sub(parent, STRUCTURE, tag, id=column_header, **attrs)
    _ref(element, "ConceptIdentity", id=column_header, maintainableParentID=CONCEPT_SCHEME,
         maintainableParentVersion=SDMX_VERSION, agencyID=AGENCY, package="conceptscheme", **{"class": "Concept"})
    representation = _sub(element, STRUCTURE, "LocalRepresentation")
    if codelist:
        _ref(representation, "Enumeration", id=codelist, version=SDMX_VERSION, agencyID=AGENCY,
             package="codelist", **{"class": "Codelist"})
    else:
        text_type = "GregorianYear" if tag == "TimeDimension" else TEXT_TYPES[column_type]
        _sub(representation, STRUCTURE, "TextFormat", textType=text_type)
    return element


def _data_structure(parent: ET.Element, table: SharedTable) -> None:
    dsd = _maintainable(parent, "DataStructure", table.dsd_id, (table.name_vi, table.description))
    components = _sub(dsd, STRUCTURE, "DataStructureComponents")
    dimensions = _sub(components, STRUCTURE, "DimensionList", id="DimensionDescriptor")
    # the time dimension is not part of the ordered key: last, as SDMX tools expect it
    key = sorted(table.key, key=lambda c: c.header == TIME_DIMENSION)
    for position, column in enumerate(key, start=1):
        tag = "TimeDimension" if column.header == TIME_DIMENSION else "Dimension"
        _component(dimensions, tag, column.header, column.type, column.codelist, position=str(position))
    attributes = [c for c in table.columns if c.role == ATTRIBUTE]
    if attributes:
        attribute_list = _sub(components, STRUCTURE, "AttributeList", id="AttributeDescriptor")
        for column in attributes:
            attribute = _component(attribute_list, "Attribute", column.header, column.type, column.codelist,
                                   assignmentStatus="Conditional")
            relationship = _sub(attribute, STRUCTURE, "AttributeRelationship")
            ET.SubElement(_sub(relationship, STRUCTURE, "PrimaryMeasure"), "Ref", id="OBS_VALUE")
    measures = _sub(components, STRUCTURE, "MeasureList", id="MeasureDescriptor")
    # The reference tables (indicators, provinces) have no measure column, but SDMX 2.1 wants one
    measure = next((c for c in table.columns if c.role not in (KEY, ATTRIBUTE)), None)
    _component(measures, "PrimaryMeasure", "OBS_VALUE", measure.type if measure else "numeric", None)


def structure_message(files: Mapping[str, bytes], *, message_id: str, prepared: datetime) -> bytes:
    """The package's SDMX-ML 2.1 Structure message (see the module's description)."""
    lists = codelists(files)
    check_codes(files, lists)
    root = ET.Element(f"{{{MESSAGE}}}Structure")
    _header(root, message_id, prepared)
    structures = _sub(root, MESSAGE, "Structures")
    # the order of the sections is the XML schema's
    dataflows = _sub(structures, STRUCTURE, "Dataflows")
    for table in SHARED_TABLES:
        dataflow = _maintainable(dataflows, "Dataflow", table.dataflow_id, (table.name_vi, table.description))
        _ref(dataflow, "Structure", id=table.dsd_id, version=SDMX_VERSION, agencyID=AGENCY,
             package="datastructure", **{"class": "DataStructure"})
    codelist_section = _sub(structures, STRUCTURE, "Codelists")
    for codelist in lists.values():
        element = _maintainable(codelist_section, "Codelist", codelist.id, codelist.names)
        for code, names in codelist.codes.items():
            _names(_sub(element, STRUCTURE, "Code", id=code), names)
    concepts = _sub(structures, STRUCTURE, "Concepts")
    scheme = _maintainable(concepts, "ConceptScheme", CONCEPT_SCHEME, ("Khái niệm của planwh", "planwh concepts"))
    used = dict.fromkeys(["OBS_VALUE", *(c.header for t in SHARED_TABLES for c in t.columns)])
    for header in used:
        if header not in CONCEPTS:
            raise PackageError(f"column header {header} has no concept name in planwh/sync/sdmx.py CONCEPTS")
        _names(_sub(scheme, STRUCTURE, "Concept", id=header), CONCEPTS[header])
    data_structures = _sub(structures, STRUCTURE, "DataStructures")
    for table in SHARED_TABLES:
        _data_structure(data_structures, table)
    return _serialise(root)


def data_message(table: SharedTable, data: bytes, *, message_id: str, prepared: datetime) -> bytes:
    """One table's rows as SDMX-ML 2.1 StructureSpecificData, every dimension at observation level.

    Values are the CSV's, text as published. A missing number is NaN (xs:double's), any other
    missing value is left out: SDMX-ML 2.1 has no ``#N/A``, and a reader typing an Integer
    attribute (pysdmx does) fails on it.
    """
    dsd_urn = f"urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure={AGENCY}:{table.dsd_id}({SDMX_VERSION})"
    namespace = f"{dsd_urn}:ObsLevelDim:AllDimensions"
    structure_ref = f"{AGENCY}_{table.dsd_id}_{SDMX_VERSION.replace('.', '_')}"
    # declared by hand: ElementTree declares only the namespaces of names, and ns1 is in a value
    root = ET.Element(f"{{{MESSAGE}}}StructureSpecificData", {"xmlns:ns1": namespace})
    header = _header(root, message_id, prepared)
    structure = _sub(header, MESSAGE, "Structure", structureID=structure_ref, namespace=namespace,
                     dimensionAtObservation="AllDimensions")
    usage = _sub(structure, COMMON, "StructureUsage")
    ET.SubElement(usage, "Ref", agencyID=AGENCY, id=table.dataflow_id, version=SDMX_VERSION, **{"class": "Dataflow"})
    dataset = _sub(root, MESSAGE, "DataSet", **{
        f"{{{STRUCTURE_SPECIFIC}}}structureRef": structure_ref,
        f"{{{XSI}}}type": "ns1:DataSetType",
        f"{{{STRUCTURE_SPECIFIC}}}dataScope": "DataStructure",
        "action": "Information",
    })
    for row in rows(data):
        ET.SubElement(dataset, "Obs", {
            c.header: row[c.header] for c in table.columns if row[c.header] not in ("", MISSING_OTHER)
        })
    return _serialise(root)
