"""Pseudonymous keys for trainees: a keyed hash (HMAC-SHA256) of one normalised identifier.

The key is the secret from the settings; without it nobody can recompute a person's key from
an ID number, and with it the same person gets the same key in every course and every year.
The national ID (CCCD) is preferred; when it is missing the agency's staff number stands in,
namespaced by agency so two agencies' staff numbers cannot collide. Names, ID numbers and
birth years never reach the warehouse: callers hash before anything is written.
"""

from __future__ import annotations

import hashlib
import hmac

from planwh.ingest.parsing import ParseError, normalise_national_id


class MissingIdentifier(ValueError):
    """Neither a national ID nor a staff ID with its agency was given; ``message_vi`` says so in
    Vietnamese."""

    reason_code = "missing_identifier"

    def __init__(self, message: str, message_vi: str):
        super().__init__(message)
        self.message_vi = message_vi


def _clean(text: str | None) -> str:
    return " ".join((text or "").split()).upper()


def identity_string(national_id: str | None, staff_id: str | None, agency_code: str | None) -> str:
    """The namespaced identifier that is hashed: ``cccd:<12 digits>`` or ``staff:<agency>:<id>``.

    Raises ``ParseError`` when a national ID is given but malformed (a mistyped ID must not
    silently fall back to another identifier and split one person in two), and
    ``MissingIdentifier`` when there is nothing to identify the person by.
    """
    if national_id is not None and national_id.strip():
        return "cccd:" + normalise_national_id(national_id)
    staff = _clean(staff_id)
    agency = _clean(agency_code)
    if staff and agency:
        return f"staff:{agency}:{staff}"
    if staff:
        raise MissingIdentifier("a staff ID without the trainee's agency code cannot identify a person",
                                "có mã cán bộ nhưng thiếu mã đơn vị của học viên nên không xác định được người")
    raise MissingIdentifier("neither a national ID (CCCD) nor a staff ID is given",
                            "không có số CCCD, cũng không có mã cán bộ")


def person_key(settings_key: bytes, national_id: str | None, staff_id: str | None, agency_code: str | None) -> str:
    """HMAC-SHA256 (hex) of the trainee's namespaced identifier under ``settings_key``."""
    if not settings_key:
        raise ValueError("the pseudonym key is empty")
    identity = identity_string(national_id, staff_id, agency_code)
    return hmac.new(settings_key, identity.encode("utf-8"), hashlib.sha256).hexdigest()


__all__ = ["MissingIdentifier", "ParseError", "identity_string", "person_key"]
