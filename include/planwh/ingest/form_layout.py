"""The rows of a report form that are not data, and what its total rows claim.

Provincial offices fill official report forms ("biểu mẫu báo cáo"), not bare tables. Around and
inside the table sit rows that must not be read as data: the issuing body and the national motto,
the form number and title above the header; under it a row of column numbers (``(1) (2) (3)``,
``A B 1 2``) and a unit row (``Đơn vị tính: người``); inside the body section rows (``I. Các sở,
ban, ngành``), subtotals (``Cộng``) and totals (``Tổng cộng``), pre-numbered rows left empty;
below it notes (``Ghi chú: ...``) and the signature block (``..., ngày ... tháng ... năm ...``,
``Người lập biểu``, ``Thủ trưởng đơn vị``, ``(Ký, ghi rõ họ tên, đóng dấu)`` and the names).

:class:`BodyClassifier` tells them apart row by row, from text markers and the table's own header
(its STT column, its required columns), and :class:`Structure` records each skipped row by kind,
so that a file's rows in = rows loaded + rows rejected + rows skipped, and the sender is told
which rows were skipped ("bỏ qua: phần đầu biểu 1-4, dòng tổng cộng 18, phần ký tên 20-24").
Total rows are kept with the range of rows they add up, for the loader to compare with the rows
it loaded (a mismatch is a warning: the data rows load all the same).

The markers are deliberately narrow: a row that fills every required column is data whatever it
says, a row numbered in the STT column is data, and a row that matches no marker is data (and is
then rejected with its reasons) -- a broken data row must be explained, never skipped. Only the
clerk-facing sources (register, submissions, rosters) are classified; a portal export is machine
written and only its header, title and column-number rows are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from planwh.ingest.contracts import Contract

# Sources filled by hand in an office, whose files may be whole report forms.
CLERK_SOURCES = frozenset({"agencies", "submissions", "rosters"})

# kind -> (Vietnamese, English), in the order a form has them.
KINDS: dict[str, tuple[str, str]] = {
    "title": ("phần đầu biểu", "title rows"),
    "course": ("thông tin khóa học", "course details"),
    "header": ("dòng tên cột", "column headers"),
    "numbering": ("dòng đánh số cột", "column numbers"),
    "unit": ("dòng đơn vị tính", "unit row"),
    "section": ("dòng tên mục", "section rows"),
    "subtotal": ("dòng cộng", "subtotal rows"),
    "total": ("dòng tổng cộng", "total rows"),
    "no_data": ("dòng không có số liệu", "rows without data"),
    "hidden": ("dòng ẩn", "hidden rows"),
    "note": ("ghi chú", "notes"),
    "signature": ("phần ký tên", "signature block"),
}

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str | None) -> str:
    """Lowercase, without accents (đ → d), punctuation as single spaces; unlike
    ``parsing.normalise_text`` it keeps what is in brackets: "(Ký, ghi rõ họ tên)" is a marker."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return _NON_ALNUM.sub(" ", folded).strip()


# ---------------------------------------------------------------- markers

_STT_HEADERS = frozenset({"stt", "tt", "so tt", "so thu tu", "thu tu", "s tt"})
_NUMBERED = re.compile(r"^\d{1,4}(?:[.,]\d{1,3})*[.)]?$")
_NUMBERING_CELL = re.compile(r"^[(\[]?(\d{1,3}|[A-Z])[)\]]?(?:\s*=\s*[()\[\]\dA-Z+\-*/x ]+)?$")
_SECTION_CELL = re.compile(r"^(?:[IVXLC]+|[A-Z])\s*[.):]?$")
_SECTION_LABEL = re.compile(r"^(?:[IVXLC]+|[A-Z])\s*[.):\-\u2013]\s+[^\W\d_]")
_SECTION_WORDS = re.compile(r"^(?:phan|muc|nhom|chuong|khoi)\s+(?:[ivxlc]+|[a-z]|\d{1,2})\b")
_TOTAL = re.compile(r"^(tong cong|tong so|tong|cong)(?:\s+(.*))?$")
# Words that may follow "Tổng"/"Cộng" in a total's label ("Tổng cộng toàn tỉnh", "Cộng mục I",
# "Tổng số: 12 học viên"); any other word makes it a name ("Tổng biên tập", "Cộng tác viên").
_TOTAL_TAIL = frozenset(
    "cong so chung toan tinh thanh pho muc phan nhom khoi cac don vi co quan hoc vien nguoi san pham "
    "ca nam quy thang ky bao cao luot lop khoa chi tieu nhiem vu lieu cuoc dot ban tin bai i ii iii iv "
    "v vi vii viii ix x a b c d".split()
)
_SUBTOTAL_TAIL = frozenset({"muc", "phan", "nhom", "khoi"})
_NOTE = re.compile(r"^(?:ghi chu|luu y|chu y|chu thich|nguon so lieu|nguon)\b")
_SIGNATURE = re.compile(
    r"\b(?:nguoi lap(?: bieu| bang)?|thu truong(?: don vi| co quan)|(?:ky )?(?:va )?ghi ro ho ten|ky ten|"
    r"ky ho ten|dong dau|tm (?:uy ban nhan dan|ubnd)|kt (?:chu tich|giam doc|thu truong)|noi nhan|"
    r"can bo lap bieu|nguoi tong hop|xac nhan cua)\b"
)
_DATE_LINE = re.compile(r"\bngay\b(?: \S+){0,2} thang\b(?: \S+){0,2} nam\b")
_UNIT_LABEL = re.compile(r"^(?:don vi tinh|dvt)\b")
_UNIT_WORDS = frozenset(
    "nguoi luot san pham sp cuoc buoi lop khoa hoc vien don vi co quan tin bai cuon an pham nguon lan "
    "phan tram ty le trieu nghin ty dong ngay thang nam co khong so luong chiec trang video tac pham "
    "chuong trinh hoi nghi dot chu de van ban tai lieu muc tieu chi diem gio phut".split()
)
_COUNT = re.compile(r"\d[\d.,]*")


def is_numbering_row(texts: Iterable[str | None]) -> bool:
    """A row of column numbers under the header: ``(1) (2) (3)``, ``A B 1 2 3``, ``(4)=(2)+(3)``."""
    tokens = [t.strip() for t in texts if t and t.strip()]
    if len(tokens) < 3:
        return False
    numbers = []
    for t in tokens:
        m = _NUMBERING_CELL.match(t)
        if m is None:
            return False
        if m.group(1).isdigit():
            numbers.append(int(m.group(1)))
        elif numbers:
            return False
    return len(numbers) >= 2 and all(b == a + 1 for a, b in zip(numbers, numbers[1:], strict=False))


def _is_unit_row(texts: list[str]) -> bool:
    if any(_UNIT_LABEL.match(fold(t)) for t in texts):
        return True
    # "người | sản phẩm | cuộc" under the header, one unit per column
    for t in texts:
        words = fold(t).split()
        if t.strip() != "%" and (not words or any(w not in _UNIT_WORDS for w in words)):
            return False
    return True


def _total_kind(label: str, sections_seen: bool) -> str | None:
    m = _TOTAL.match(fold(label))
    if m is None:
        return None
    tail = (m.group(2) or "").split()
    if any(w not in _TOTAL_TAIL and not w.isdigit() for w in tail):
        return None
    if m.group(1) == "cong":
        return "subtotal" if sections_seen else "total"
    return "subtotal" if _SUBTOTAL_TAIL & set(tail) else "total"


# ---------------------------------------------------------------- what was skipped


@dataclass
class TotalRow:
    """A total, subtotal or section row with figures: what it claims for the rows in its scope.

    ``values`` are its cells in the compared columns (numbers, or the count of ticks of a yes/no
    column), as written; ``count`` a lone number elsewhere in the row ("Tổng cộng: 12 học viên"),
    compared with the number of data rows. ``first``-``last`` is the scope, in row numbers.
    """

    row_number: int
    kind: str
    label: str
    values: dict[str, str]
    count: str | None
    first: int
    last: int | None = None


@dataclass
class Structure:
    """The rows of a file that are not data, by kind, in order, and the totals to check."""

    skipped: list[tuple[int, str]] = field(default_factory=list)
    totals: list[TotalRow] = field(default_factory=list)
    # Breaks a run of skipped rows of one kind: a data row between them.
    _breaks: list[int] = field(default_factory=list)

    def add(self, row_number: int, kind: str) -> None:
        self.skipped.append((row_number, kind))

    def data_row(self, row_number: int) -> None:
        if not self._breaks or self._breaks[-1] != len(self.skipped):
            self._breaks.append(len(self.skipped))

    @property
    def count(self) -> int:
        return len(self.skipped)

    def ranges(self) -> list[tuple[str, int, int, int]]:
        """(kind, first row, last row, rows) for each run of skipped rows of one kind that no
        other counted row interrupts (blank rows do not count and do not interrupt)."""
        breaks = set(self._breaks)
        runs: list[list] = []
        for index, (number, kind) in enumerate(self.skipped):
            if runs and runs[-1][0] == kind and index not in breaks:
                runs[-1][2] = number
                runs[-1][3] += 1
            else:
                runs.append([kind, number, number, 1])
        return [tuple(r) for r in runs]


def describe_ranges(ranges: Sequence[Sequence], language: str = "vi") -> str:
    """``phần đầu biểu 1-4, dòng tổng cộng 18, phần ký tên 20-24`` (runs of one kind grouped)."""
    index = 0 if language == "vi" else 1
    by_kind: dict[str, list[str]] = {}
    for kind, first, last, *_ in ranges:
        span = str(first) if first == last else f"{first}-{last}"
        by_kind.setdefault(kind, []).append(span)
    # kinds in the order the file first has them (dicts keep insertion order)
    return "; ".join(f"{KINDS.get(kind, (kind, kind))[index]} {', '.join(spans)}" for kind, spans in by_kind.items())


# ---------------------------------------------------------------- the classifier


class BodyClassifier:
    """Tells the structural rows of a table's body from its data rows, one row at a time, in order.

    ``positions`` maps 0-based column positions to the contract's columns, ``header_texts`` are
    the header's cells (to find the STT column). ``classify`` returns None for a data row or the
    kind of a structural row, which it records in ``structure``; total rows are recorded with
    their scope.
    """

    def __init__(self, contract: Contract, positions: dict[int, str], header_texts: Sequence[str | None],
                 structure: Structure, first_body_row: int):
        self.contract = contract
        self.positions = positions
        self.structure = structure
        self.clerk = contract.source in CLERK_SOURCES
        names = set(positions.values())
        required = {c.name for c in contract.required_columns}
        self.required = [pos for pos, name in positions.items() if name in required]
        self.one_of = [
            [pos for pos, name in positions.items() if name in group]
            for group in contract.required_one_of if names & set(group)
        ]
        kinds = {c.name: c for c in contract.columns}
        self.compared = {
            pos: name for pos, name in positions.items()
            if kinds[name].kind in ("number", "int", "bool") and not kinds[name].personal
        }
        self.date_positions = {
            pos for pos, name in positions.items() if kinds[name].kind in ("date", "timestamp", "period")
        }
        self.stt = next(
            (pos for pos, text in enumerate(header_texts) if pos not in positions and fold(text) in _STT_HEADERS),
            None,
        )
        self.seen_data = False
        # data rows (loaded or rejected), to give each total the span of rows it adds: the first of
        # the body, the first since the last section or subtotal, the last one
        self.first_data: int | None = None
        self.scope_first_data: int | None = None
        self.last_data: int | None = None
        self.sections_seen = False
        self.footer: str | None = None
        self.body_start = first_body_row
        self.scope_start = first_body_row
        self.open_sections: list[TotalRow] = []

    def classify(self, number: int, cells: Sequence[str | None], *, hidden: bool = False,
                 banner: bool = False) -> str | None:
        """``cells``: the row's texts by position (None when empty); ``banner``: its only text is
        a cell merged across the table. Blank rows must not be passed."""
        kind = self._kind(cells, hidden, banner) if self.clerk else self._machine_kind(cells)
        if kind is None:
            self.seen_data = True
            self.structure.data_row(number)
            self.last_data = number
            if self.first_data is None:
                self.first_data = number
            if self.scope_first_data is None:
                self.scope_first_data = number
                for section in self.open_sections:
                    section.first = number
            return None
        self.structure.add(number, kind)
        if kind in ("total", "subtotal", "section"):
            self._total(number, kind, cells)
        return kind

    def finish(self, last_row: int) -> None:
        """Close the scopes still open at the end of the table."""
        for section in self.open_sections:
            self._close(section, last_row)
        self.open_sections = []
        self.structure.totals = [t for t in self.structure.totals if t.last is not None and t.last >= t.first]

    def _close(self, total: TotalRow, last: int) -> None:
        """End ``total``'s scope at ``last``, narrowed to its last data row when it holds one."""
        total.last = last
        if self.last_data is not None and total.first <= self.last_data <= last:
            total.last = self.last_data

    # -- rules ----------------------------------------------------------------------------
    def _machine_kind(self, cells: Sequence[str | None]) -> str | None:
        if not self.seen_data and is_numbering_row(cells):
            return "numbering"
        if not any(cells[pos] for pos in self.positions if pos < len(cells)):
            return "no_data"
        return None

    def _kind(self, cells: Sequence[str | None], hidden: bool, banner: bool) -> str | None:
        width = len(cells)

        def at(pos: int) -> str | None:
            return cells[pos] if pos < width else None

        if hidden:
            return "hidden"
        if not self.seen_data:
            texts = [t for t in cells if t]
            if is_numbering_row(texts):
                return "numbering"
            if _is_unit_row(texts):
                return "unit"
        stt = at(self.stt) if self.stt is not None else None
        # the common case first: a row filling every required column is data
        if all(pos < width and cells[pos] for pos in self.required) and all(
            any(at(pos) for pos in group) for group in self.one_of
        ) and not (stt and _SECTION_CELL.match(stt)):
            return None
        has_values = any(at(pos) for pos in self.positions)
        if stt and _NUMBERED.match(stt):
            return None if has_values else "no_data"
        texts = [t for t in cells if t]
        label = texts[0]
        if stt and _SECTION_CELL.match(stt) and len(texts) > 1:
            # "I | Tổng cộng" or "A | Cộng": the label follows the section letter
            total = _total_kind(texts[1], self.sections_seen)
        else:
            total = _total_kind(label, self.sections_seen)
        if total is not None:
            return total
        if _NOTE.match(fold(label)) or label.lstrip().startswith(("*", "(*)")):
            self.footer = "note"
            return "note"
        if any(_SIGNATURE.search(fold(t)) for t in texts) or any(
            _DATE_LINE.search(fold(t)) for pos, t in enumerate(cells) if t and pos not in self.date_positions
        ):
            self.footer = "signature"
            return "signature"
        if self.footer is not None:
            return self.footer
        if (
            (stt and _SECTION_CELL.match(stt))
            or _SECTION_LABEL.match(label.strip())
            or (len(texts) <= 2 and _SECTION_WORDS.match(fold(label)))
            or (banner and len(texts) == 1)
        ):
            return "section"
        if not has_values:
            return "no_data"
        return None

    def _total(self, number: int, kind: str, cells: Sequence[str | None]) -> None:
        values = {self.positions[pos]: cells[pos] for pos in self.compared if pos < len(cells) and cells[pos]}
        count = None
        if not values:
            # "Tổng số: 12 học viên" anywhere, or a bare 12 outside the STT column
            for pos, text in enumerate(cells):
                m = _COUNT.search(text) if text and pos not in self.compared else None
                if m is not None and ((text.strip() == m.group(0) and pos != self.stt) or _TOTAL.match(fold(text))):
                    count = m.group(0)
                    break
        label = unicodedata.normalize("NFC", next((t for t in cells if t and not _SECTION_CELL.match(t)), ""))
        if kind == "section":
            for section in self.open_sections:
                self._close(section, number - 1)
            self.open_sections = []
            self.sections_seen = True
            self.scope_start = number + 1
            self.scope_first_data = None
            if values or count:
                row = TotalRow(number, kind, label, values, count, number + 1)
                self.structure.totals.append(row)
                self.open_sections.append(row)
            return
        for section in self.open_sections:
            self._close(section, number - 1)
        self.open_sections = []
        if kind == "subtotal":
            first = self.scope_first_data or self.scope_start
        else:
            first = self.first_data or self.body_start
        if values or count:
            total = TotalRow(number, kind, label, values, count, first)
            self._close(total, number - 1)
            self.structure.totals.append(total)
        self.scope_start = number + 1
        self.scope_first_data = None
