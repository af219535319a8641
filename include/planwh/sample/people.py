"""Fake trainees: Vietnamese-looking names and national ID numbers that no real person can hold.

A CCCD number is ``0PP`` (place-of-birth province) + one digit for gender and century + two digits
of the birth year + six digits. The century digit here is always 8 (a man born in the 2300s) or 9
(a woman born in the 2300s), so every number passes a length check yet cannot have been issued.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Family names, weighted roughly by how common they are.
_FAMILY = (
    ("Nguyễn", 30), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Huỳnh", 5), ("Hoàng", 4), ("Phan", 4),
    ("Võ", 4), ("Vũ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2), ("Ngô", 2), ("Dương", 1),
    ("Lý", 1), ("Trương", 1), ("Đinh", 1), ("Lương", 1), ("Mai", 1), ("Đoàn", 1), ("Tạ", 1),
)
_MIDDLE = {
    "Nam": ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thanh", "Ngọc", "Xuân", "Đình", "Anh"),
    "Nữ": ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Hồng", "Phương", "Bích"),
}
_GIVEN = {
    "Nam": (
        "An", "Bình", "Cường", "Dũng", "Duy", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khánh", "Khoa",
        "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thành",
        "Thịnh", "Tiến", "Toàn", "Trung", "Tuấn", "Việt", "Vinh", "Vũ",
    ),
    "Nữ": (
        "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Loan",
        "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phượng", "Quyên", "Tâm", "Thảo", "Thúy", "Trang",
        "Trinh", "Uyên", "Vân", "Yến",
    ),
}
# Names of some ethnic minorities, used in the provinces whose portals publish in their languages.
_MINORITY = {
    "khmer": {
        "family": ("Danh", "Thạch", "Chau", "Sơn", "Kim", "Lâm"),
        "Nam": ("Sóc", "Sà Rết", "Phước", "Thol", "Sóc Kha", "Ray"),
        "Nữ": ("Srây", "Sa Vân", "Thị Nhâm", "Thị Sen", "Sóc Phi", "Ni"),
    },
    "highlands": {
        "family": ("Ksor", "Rơ Mah", "Siu", "Rơ Lan", "Kpă", "Nay", "Đinh", "Y"),
        "Nam": ("Blếch", "Hiếu", "Thuyên", "Jơ", "Lơ", "Nguôl", "Pơi", "Kim Yin"),
        "Nữ": ("H'Nhi", "H'Lan", "Nhiên", "H'Ben", "Ba", "Hyon", "Phiang", "Nghĩa"),
    },
}
MINORITY_NAME_STYLE = {"km": "khmer", "jra": "highlands", "bdq": "highlands", "rad": "highlands", "sed": "highlands"}

POSITIONS = {
    "hr_official": ("Chuyên viên", "Chuyên viên chính", "Phó Trưởng phòng", "Trưởng phòng"),
    "info_official": ("Chuyên viên", "Chuyên viên chính", "Phó Trưởng phòng", "Phó Giám đốc"),
    "press_foreign_info": ("Phóng viên", "Biên tập viên", "Trưởng ban", "Phó Tổng Biên tập"),
    "key_sociopolitical": ("Chủ tịch", "Phó Chủ tịch", "Trưởng ban Tuyên giáo", "Ủy viên Ban Thường vụ"),
    "other": ("Hội viên", "Ủy viên Ban Chấp hành", "Cộng tác viên"),
}
# Local committees have no directors: their officials sit in the culture and information office.
LOCAL_POSITIONS = {
    "district_committee": ("Chuyên viên Phòng Văn hóa - Thông tin", "Phó Trưởng phòng Văn hóa - Thông tin",
                           "Trưởng phòng Văn hóa - Thông tin", "Chuyên viên Văn phòng HĐND và UBND"),
    "commune_committee": ("Công chức Văn hóa - Xã hội", "Công chức Văn phòng - Thống kê"),
}


@dataclass(frozen=True)
class Person:
    person_id: int  # index within the sample, never written out
    full_name: str
    gender: str  # Nam | Nữ
    birth_year: int
    national_id: str | None
    staff_id: str | None
    category: str
    position: str
    unit_code: str  # the legacy agency (or commune) the person works for


class PersonFactory:
    """Deterministic people; national IDs are unique across the sample."""

    def __init__(self, rng: random.Random):
        self._rng = rng
        self._ids: set[str] = set()
        self._staff_seq: dict[str, int] = {}
        self._count = 0
        self._family = [f for f, _ in _FAMILY]
        self._family_w = [w for _, w in _FAMILY]

    def _name(self, gender: str, style: str | None) -> str:
        rng = self._rng
        if style is not None and rng.random() < 0.3:
            names = _MINORITY[style]
            family = rng.choice(names["family"])
            given = rng.choice(names[gender])
            middle = "Thị" if style == "khmer" and gender == "Nữ" and not given.startswith("Thị") else ""
            parts = [family, middle, given]
            if len(" ".join(p for p in parts if p).split()) < 3:
                parts.insert(1, rng.choice(("Văn", "Minh")) if gender == "Nam" else "Thị")
            return " ".join(p for p in parts if p)
        family = rng.choices(self._family, self._family_w)[0]
        middle = rng.choice(_MIDDLE[gender])
        given = rng.choice(_GIVEN[gender])
        if rng.random() < 0.15:  # four-part names are common: "Nguyễn Thị Thu Hà"
            extra = rng.choice(_MIDDLE[gender])
            if extra != middle:
                middle = f"{middle} {extra}"
        return f"{family} {middle} {given}"

    def _national_id(self, province_code: str, gender: str, birth_year: int) -> str:
        century = "8" if gender == "Nam" else "9"
        while True:
            candidate = f"0{province_code}{century}{birth_year % 100:02d}{self._rng.randrange(10**6):06d}"
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def make(
        self, *, unit_code: str, unit_kind: str, province_code: str, category: str, minority_style: str | None,
        with_national_id: bool,
    ) -> Person:
        rng = self._rng
        gender = rng.choice(("Nam", "Nữ"))
        birth_year = rng.randint(1966, 2000)
        national_id = self._national_id(province_code, gender, birth_year) if with_national_id else None
        seq = self._staff_seq.get(unit_code, 0) + 1
        self._staff_seq[unit_code] = seq
        # Most agencies keep a staff number; senders fill it in when the CCCD is unknown.
        staff_id = f"CB{seq:04d}" if (not with_national_id or rng.random() < 0.4) else None
        self._count += 1
        return Person(
            person_id=self._count,
            full_name=self._name(gender, minority_style),
            gender=gender,
            birth_year=birth_year,
            national_id=national_id,
            staff_id=staff_id,
            category=category,
            position=rng.choice(LOCAL_POSITIONS.get(unit_kind, POSITIONS[category])),
            unit_code=unit_code,
        )
