"""Provinces before and after the merger of 1 July 2025, read from the installed packages.

Two independent sources are read and cross-checked, so a broken or mismatched package release
fails loudly instead of producing a wrong mapping:

* ``vietnamadminunits`` 1.0.4 ships the 63 legacy provinces (table ``admin_units_legacy`` of its
  SQLite dataset), the 34 current provinces (table ``admin_units``) and the province-level
  merger mapping (``DICT_PROVINCE`` of its 2025 converter, keyed by accent-free name keys).
* ``vietnam-provinces`` 2025.10.1 ships the 34 current provinces and their 3,321 wards, each ward
  carrying the statistics office code of its province.

Cross-checks, each a hard error when it fails:

1. Both packages list the same 34 current codes with the same names and kinds.
2. The name-keyed mapping of ``vietnamadminunits`` equals the mapping implied by ward codes: a
   current ward keeps the five-digit code of one legacy ward it absorbed, and
   ``vietnamadminunits`` knows which legacy province each legacy ward code belonged to.
3. 63 legacy provinces, 34 current ones, every legacy province mapped to exactly one current
   province and every current province reached.

Codes are those of the statistics office (Decision 124/2004/QĐ-TTg for the legacy list,
Decision 19/2025/QĐ-TTg for the current one). A current province keeps the code of one of the
legacy provinces it absorbed, which is not always the one whose name it kept: the current
An Giang is 91 (legacy Kiên Giang's code; legacy An Giang was 89) and the current Gia Lai is 52
(legacy Bình Định's code; legacy Gia Lai was 64). Both packages agree on this, so the seeds
follow them; a two-digit code is therefore only unambiguous together with the period it was
used in (before or from 2025-07-01).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass

LEGACY_COUNT = 63
CURRENT_COUNT = 34


class ProvinceDataError(RuntimeError):
    """The installed province packages are incomplete or disagree; the message says where."""


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    name_full: str
    kind: str  # province | municipality


def ascii_name(text: str) -> str:
    """Vietnamese text without diacritics ("Đắk Lắk" -> "Dak Lak"); đ is a letter, not an accent."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _two_digits(value: object) -> str:
    code = f"{int(value):02d}"
    if len(code) != 2:
        raise ProvinceDataError(f"province code {value!r} is not two digits")
    return code


def _kind_from_full_name(full_name: str) -> str:
    # The packages name centrally-run cities "Thành phố X" and provinces "Tỉnh X".
    if full_name.startswith("Thành phố "):
        return "municipality"
    if full_name.startswith("Tỉnh "):
        return "province"
    raise ProvinceDataError(f"cannot tell the kind of province {full_name!r}")


def _provinces_from_adminunits(table: str) -> tuple[dict[str, Province], dict[str, str]]:
    """Provinces of one ``vietnamadminunits`` table, by code, and their name keys -> code."""
    from vietnamadminunits.database import query

    rows = query(
        f"select distinct provinceCode, province, provinceShort, provinceKey from [{table}] "
        "order by provinceCode"
    )
    provinces: dict[str, Province] = {}
    keys: dict[str, str] = {}
    for row in rows:
        code = _two_digits(row["provinceCode"])
        province = Province(
            code=code,
            name=unicodedata.normalize("NFC", row["provinceShort"]),
            name_full=unicodedata.normalize("NFC", row["province"]),
            kind=_kind_from_full_name(row["province"]),
        )
        if code in provinces and provinces[code] != province:
            raise ProvinceDataError(f"vietnamadminunits table {table}: code {code} has two names")
        provinces[code] = province
        keys[row["provinceKey"]] = code
    return provinces, keys


def _current_from_vietnam_provinces() -> dict[str, Province]:
    from vietnam_provinces import Province as VpProvince
    from vietnam_provinces import VietNamDivisionType

    provinces = {}
    for item in VpProvince.iter_all():
        code = _two_digits(item.code)
        municipality = item.division_type == VietNamDivisionType.THANH_PHO_TRUNG_UONG
        name = unicodedata.normalize("NFC", item.name)
        short = name.removeprefix("Thành phố ") if municipality else name
        provinces[code] = Province(
            code=code,
            name=short,
            name_full=name if municipality else f"Tỉnh {name}",
            kind="municipality" if municipality else "province",
        )
    return provinces


def _mapping_from_names(legacy_keys: dict[str, str], current_keys: dict[str, str]) -> dict[str, str]:
    from vietnamadminunits.converter.converter_2025 import DICT_PROVINCE

    mapping: dict[str, str] = {}
    for current_key, legacy_key_list in DICT_PROVINCE.items():
        if current_key not in current_keys:
            raise ProvinceDataError(f"vietnamadminunits converter names unknown current province {current_key!r}")
        for legacy_key in legacy_key_list:
            if legacy_key not in legacy_keys:
                raise ProvinceDataError(f"vietnamadminunits converter names unknown legacy province {legacy_key!r}")
            legacy_code = legacy_keys[legacy_key]
            if legacy_code in mapping:
                raise ProvinceDataError(f"legacy province {legacy_code} is mapped twice by vietnamadminunits")
            mapping[legacy_code] = current_keys[current_key]
    return mapping


def _mapping_from_ward_codes() -> dict[str, set[str]]:
    from vietnam_provinces import Ward
    from vietnamadminunits.database import query

    legacy_province_of_ward = {
        row["wardCode"]: _two_digits(row["provinceCode"])
        for row in query("select distinct wardCode, provinceCode from admin_units_legacy where wardCode is not null")
    }
    mapping: dict[str, set[str]] = defaultdict(set)
    for ward in Ward.iter_all():
        legacy_code = legacy_province_of_ward.get(f"{int(ward.code):05d}")
        if legacy_code is not None:
            mapping[legacy_code].add(_two_digits(ward.province_code))
    return mapping


@dataclass(frozen=True)
class ProvinceData:
    legacy: list[Province]
    current: list[Province]
    mapping: dict[str, str]  # legacy code -> current code


def load_provinces() -> ProvinceData:
    """The checked legacy list, current list and merger mapping, sorted by code."""
    legacy, legacy_keys = _provinces_from_adminunits("admin_units_legacy")
    current, current_keys = _provinces_from_adminunits("admin_units")

    if len(legacy) != LEGACY_COUNT:
        raise ProvinceDataError(f"vietnamadminunits lists {len(legacy)} legacy provinces, expected {LEGACY_COUNT}")
    if len(current) != CURRENT_COUNT:
        raise ProvinceDataError(f"vietnamadminunits lists {len(current)} current provinces, expected {CURRENT_COUNT}")

    other_current = _current_from_vietnam_provinces()
    if other_current != current:
        differing = sorted(set(other_current.items()) ^ set(current.items()))
        raise ProvinceDataError(
            "vietnamadminunits and vietnam-provinces disagree on the current provinces: "
            + "; ".join(f"{code}: {p.name_full}" for code, p in differing)
        )

    mapping = _mapping_from_names(legacy_keys, current_keys)
    unmapped = sorted(set(legacy) - set(mapping))
    if unmapped:
        raise ProvinceDataError(f"legacy provinces without a current province: {', '.join(unmapped)}")
    unreached = sorted(set(current) - set(mapping.values()))
    if unreached:
        raise ProvinceDataError(f"current provinces no legacy province maps to: {', '.join(unreached)}")

    by_wards = _mapping_from_ward_codes()
    for legacy_code in sorted(legacy):
        targets = by_wards.get(legacy_code, set())
        if targets != {mapping[legacy_code]}:
            raise ProvinceDataError(
                f"legacy province {legacy_code}: vietnamadminunits maps it to {mapping[legacy_code]}, "
                f"the ward codes of vietnam-provinces to {sorted(targets) or 'nothing'}"
            )

    return ProvinceData(
        legacy=[legacy[code] for code in sorted(legacy)],
        current=[current[code] for code in sorted(current)],
        mapping={code: mapping[code] for code in sorted(mapping)},
    )
