"""Ingest files: archive, register, read, validate and COPY into ``raw``, one transaction per file.

For each file:

1. Files over ``settings.max_file_bytes`` are recorded as rejected (``file_too_large``) without
   being read or archived.
2. The bytes are copied into the content-addressed archive and the arrival is committed to
   ``landing.files`` (status ``received``), so a crash later leaves a trace. (The connection
   is in autocommit mode: each ``conn.transaction()`` below is a real transaction.)
3. In one transaction, holding an advisory lock on (source, sha256): bytes already processed
   make this arrival a ``duplicate``; an unsafe original name rejects it (``unsafe_file_name``);
   otherwise the archived copy is read chunk by chunk, every row validated, valid rows COPied
   into their raw table and every problem COPied into ``quarantine.rejected_rows``; duplicate
   natural keys are then moved to quarantine set-based in SQL; the total rows of a report form
   are compared with the rows loaded (a mismatch is a warning in quarantine, the rows stay); the
   ledger row gets its counts (rows in = loaded + rejected + skipped, the skipped rows listed by
   kind) and version. A file that cannot be read rolls back to a savepoint and is ``rejected``
   whole.
   Earlier arrivals of the same bytes whose load was interrupted (still ``received``, their run
   gone) become ``duplicate`` of this file with reason_code ``interrupted_load``
   (``ledger.close_interrupted``).
4. After commit, a feedback file (XLSX + CSV, Vietnamese first) is written for the sender when
   anything was rejected or warned about.

``check_file`` runs step 3 inside a transaction that is rolled back, so a sender can try a file
without leaving any trace in the warehouse or the archive; it finds the kind of file from the file
itself when not told, and can write the feedback XLSX wherever the sender wants it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from planwh.db import connect, warehouse_url
from planwh.ingest import fast_csv, ledger
from planwh.ingest import feedback as fb
from planwh.ingest.contracts import CONTRACTS, SOURCE_TITLES
from planwh.ingest.form_layout import Structure, TotalRow, describe_ranges
from planwh.ingest.parsing import VIETNAM_TZ, ParseError, parse_int, parse_number, quoted
from planwh.ingest.readers import FileRejected, ReadResult, read_file
from planwh.ingest.schema import RAW_COLUMNS, RAW_TABLE, SOURCES, ensure_schema
from planwh.ingest.validate_rows import (
    PERSONAL_PLACEHOLDER,
    PROBLEM_COLUMNS,
    WARNING,
    AgencyRegister,
    ColumnLabels,
    CourseRejected,
    Problem,
    RowValidator,
)
from planwh.settings import Settings

log = logging.getLogger(__name__)

CHUNK_ROWS = 20_000
IGNORED_PREFIXES = (".", "~$")  # hidden files, Excel's lock files of open workbooks

# Natural key of a row within one file: a second row with the same key is a duplicate.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "agencies": ("agency_code", "valid_from"),
    "submissions": ("agency_code", "period", "measure_code", "task_code"),
    "portal": ("stat_date", "portal", "article_id"),
    "rosters": ("person_key",),
}
# Loaded columns whose distinct values make the file's version key (see ledger.VERSION_KEYS).
VERSION_COLUMNS: dict[str, tuple[str, ...]] = {
    "agencies": ("province_code",),
    "submissions": ("agency_code", "province_code", "period"),
    "portal": ("portal", "stat_date"),
    "rosters": (),
}


class IngestError(RuntimeError):
    """A request that cannot be carried out (unknown source, missing path); nothing was recorded.
    ``message_vi`` says it in Vietnamese."""

    def __init__(self, message: str, message_vi: str | None = None):
        super().__init__(message)
        self.message_vi = message_vi or message


@dataclass
class FileOutcome:
    source: str | None  # None only when check_file could not tell what the file is
    path: Path
    original_name: str
    status: str  # loaded | rejected | duplicate (check_file: checked | rejected)
    file_id: int | None = None
    sha256: str | None = None
    rows_in: int | None = None
    rows_loaded: int | None = None
    rows_rejected: int | None = None
    rows_skipped: int | None = None
    skipped: list[tuple[str, int, int, int]] = field(default_factory=list)  # (kind, first, last, rows)
    warnings: int = 0
    totals_checked: int = 0
    reason_code: str | None = None
    reason: str | None = None
    reason_vi: str | None = None
    duplicate_of: int | None = None
    is_current_version: bool = False
    supersedes_file_id: int | None = None
    problem_counts: dict[str, int] = field(default_factory=dict)
    feedback_xlsx: Path | None = None
    feedback_csv: Path | None = None
    problems: list[fb.FeedbackRow] = field(default_factory=list)  # check_file only
    headers: dict[str, str] = field(default_factory=dict)  # canonical column -> header as written
    sheet: str | None = None
    other_sheets: list[tuple[str, bool]] = field(default_factory=list)
    course_sheet: str | None = None
    guessed: str | None = None  # check_file: how the kind of file was found
    # check_file of a report: the distinct (agency_code, period) of the rows that would load, so that
    # a caller can tell whose report it is (the sender page refuses another agency's)
    loaded_keys: list[tuple[str, str]] = field(default_factory=list)
    # check_file of a report: its first rows that would load (row, measure, task, value), to show the sender
    loaded_rows: list[tuple] = field(default_factory=list)

    def summary(self) -> fb.FeedbackSummary:
        return fb.FeedbackSummary(
            file_name=self.original_name, source=self.source, status=self.status, sheet=self.sheet,
            rows_in=self.rows_in, rows_loaded=self.rows_loaded, rows_rejected=self.rows_rejected,
            rows_skipped=self.rows_skipped, skipped=list(self.skipped), warnings=self.warnings,
            totals_checked=self.totals_checked, reason_code=self.reason_code, reason=self.reason,
            reason_vi=self.reason_vi, other_sheets=list(self.other_sheets), course_sheet=self.course_sheet,
        )

    @property
    def ok(self) -> bool:
        """Nothing was rejected: a clean load, a repeat of a processed file, or a clean check."""
        return self.status in ("loaded", "duplicate", "checked") and not self.rows_rejected


@dataclass
class _LoadStats:
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    rows_skipped: int
    skipped: list[tuple[str, int, int, int]]
    warnings: int
    totals_checked: int
    version_key: dict[str, object]
    file_format: str | None
    encoding: str | None
    result: ReadResult


class _VersionTracker:
    """The single value of each version column over the valid rows, or None when they differ."""

    def __init__(self, source: str):
        columns = RAW_COLUMNS[RAW_TABLE[source]]
        self.names = VERSION_COLUMNS[source]
        self.positions = [columns.index(n) for n in self.names]
        self.values: dict[str, object] = {}
        self.mixed: set[str] = set()

    def see(self, record: tuple) -> None:
        for name, pos in zip(self.names, self.positions, strict=True):
            self.see_one(name, record[pos])

    def see_values(self, seen: dict[str, set]) -> None:
        """The values of version columns that a path collected over its valid rows itself."""
        for name, values in seen.items():
            for value in values:
                self.see_one(name, value)

    def see_one(self, name: str, value: object) -> None:
        if name in self.mixed:
            return
        if name not in self.values:
            self.values[name] = value
        elif self.values[name] != value:
            self.mixed.add(name)

    def key(self) -> dict[str, object]:
        return {n: v for n, v in self.values.items() if n not in self.mixed}


# ---------------------------------------------------------------------------- loading one file


def _copy_rows(conn: psycopg.Connection, table: str, columns: Iterable[str], rows: Iterable[tuple]) -> None:
    sql = f"copy {table} ({', '.join(columns)}) from stdin"
    with conn.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _copy_problems(conn: psycopg.Connection, file_id: int, problems: list[Problem]) -> None:
    if problems:
        _copy_rows(conn, "quarantine.rejected_rows", PROBLEM_COLUMNS, (p.as_copy_row(file_id) for p in problems))


def _quarantine_duplicates(conn: psycopg.Connection, source: str, file_id: int,
                           headers: dict[str, str] | None = None) -> int:
    """Move second and later rows with the same natural key to quarantine; return how many."""
    table = RAW_TABLE[source]
    keys = NATURAL_KEYS[source]
    contract = CONTRACTS[source]
    labels = ColumnLabels(contract.columns, headers)
    label = " + ".join(labels.en(key) for key in keys)
    label_vi = ", ".join(labels.vi(key) for key in keys)
    if source == "rosters":
        # The key is a pseudonym: name the columns it came from, show no value.
        value_sql = "%(placeholder)s"
        what = "the same person (same Số CCCD, or same Mã cán bộ and Mã đơn vị)"
        what_vi = "cùng một người (cùng số CCCD, hoặc cùng mã cán bộ và mã đơn vị)"
        column_names = "national_id, staff_id"
    else:
        value_sql = "concat_ws(' | ', " + ", ".join(f"d.{k}::text" for k in keys) + ")"
        what = f"the same {label}"
        what_vi = f"cùng giá trị ở {label_vi}"
        column_names = ", ".join(keys)
    partition = ", ".join(keys)
    returned = ", ".join(f"t.{k}" for k in keys)
    # The rows were COPied in this transaction, so the table's statistics say "a handful": left
    # alone the planner joins them by a nested loop that re-sorts the window for each row, which is
    # quadratic (60,000 rows: over 5 minutes; a hash join: 0.1 s).
    conn.execute("set local enable_nestloop = off")
    cur = conn.execute(
        f"""
        with ranked as (
            select row_number, min(row_number) over (partition by {partition}) as first_row
            from {table}
            where file_id = %(file_id)s
        ),
        removed as (
            delete from {table} as t
            using ranked as r
            where t.file_id = %(file_id)s and t.row_number = r.row_number and r.row_number > r.first_row
            returning t.row_number, r.first_row, {returned}
        )
        insert into quarantine.rejected_rows
            (file_id, row_number, column_name, value, reason_code, message, message_vi)
        select
            %(file_id)s,
            d.row_number,
            %(columns)s,
            {value_sql},
            'duplicate_row',
            format('row %%s: %%s as row %%s; only the first is kept', d.row_number, %(what)s::text, d.first_row),
            format('Dòng %%s: trùng với dòng %%s (%%s); chỉ giữ lại dòng %%s, hãy xóa hoặc sửa dòng này',
                   d.row_number, d.first_row, %(what_vi)s::text, d.first_row)
        from removed as d
        """,
        {"file_id": file_id, "columns": column_names, "what": what, "what_vi": what_vi,
         "placeholder": PERSONAL_PLACEHOLDER},
    )
    conn.execute("reset enable_nestloop")
    return cur.rowcount


def _load(
    conn: psycopg.Connection,
    settings: Settings,
    *,
    file_id: int,
    source: str,
    read_path: Path,
    received_at: datetime,
    expected_stat_date: date | None,
    on_rows: Callable[[int], None] | None,
    sheet: str | None = None,
) -> _LoadStats:
    """Read, validate and COPY one file; raises FileRejected or CourseRejected for a whole-file reject."""
    register = AgencyRegister.load(conn) if source == "submissions" else None
    result: ReadResult = read_file(read_path, source, chunk_rows=CHUNK_ROWS, sheet=sheet)
    validator = RowValidator(
        source,
        received_at=received_at,
        register=register,
        pseudonym_key=settings.pseudonym_key if source == "rosters" else None,
        course=result.course,
        expected_stat_date=expected_stat_date,
        headers=result.columns,
    )
    table = RAW_TABLE[source]
    columns = ("file_id", "row_number", *RAW_COLUMNS[table])
    version = _VersionTracker(source)
    if validator.course_record is not None:
        _copy_rows(conn, "raw.training_courses", ("file_id", *RAW_COLUMNS["raw.training_courses"]),
                   [(file_id, *validator.course_record)])
    if fast_csv.eligible(result, read_path, source=source):
        # a portal CSV: the same verdicts with a fraction of the Python work per row
        fast = fast_csv.load_portal_csv(
            conn, file_id=file_id, path=read_path, result=result, validator=validator,
            expected_stat_date=expected_stat_date, table=table, columns=columns,
            copy_problems=lambda problems: _copy_problems(conn, file_id, problems), on_rows=on_rows,
            chunk_rows=CHUNK_ROWS,
        )
        rows_in, rejected, valid = fast.rows_in, fast.rows_rejected, fast.rows_valid
        version.see_values(fast.seen)
    else:
        rows_in = rejected = valid = 0
        for chunk in result.rows:
            records: list[tuple] = []
            problems: list[Problem] = []
            for raw in chunk:
                checked = validator.check(raw)
                rows_in += 1
                if checked.record is None:
                    rejected += 1
                    problems.extend(checked.problems)
                else:
                    version.see(checked.record)
                    records.append((file_id, checked.row_number, *checked.record))
            _copy_rows(conn, table, columns, records)
            _copy_problems(conn, file_id, problems)
            valid += len(records)
            if on_rows is not None:
                on_rows(len(chunk))
    structure = result.structure
    if rows_in == 0:
        below = [r for r in structure.ranges() if r[0] not in ("title", "course", "header")]
        raise FileRejected(
            "no_data_rows", f"{read_path.name} has a header but no data rows",
            f"Tệp {quoted(read_path.name)} có dòng tên cột nhưng không có dòng số liệu nào"
            + (f"; các dòng dưới dòng tên cột đều không phải số liệu ({describe_ranges(below)})" if below else ""),
        )
    duplicates = _quarantine_duplicates(conn, source, file_id, result.columns)
    warnings, checked = _check_totals(conn, source, file_id, structure, result.columns)
    key = version.key()
    if source == "rosters":
        key = {"course_id": validator.course_id}
    if valid == duplicates:
        key = {}
    return _LoadStats(
        rows_in=rows_in + structure.count,
        rows_loaded=valid - duplicates,
        rows_rejected=rejected + duplicates,
        rows_skipped=structure.count,
        skipped=structure.ranges(),
        warnings=warnings,
        totals_checked=checked,
        version_key=key,
        file_format=result.format,
        encoding=result.encoding,
        result=result,
    )


# ---------------------------------------------------------------------------- total rows


def _figure(value: object, language: str = "vi") -> str:
    """A number as a Vietnamese clerk writes it (1.234 and 12,5), or in English (1,234 and 12.5)."""
    number = float(value)  # type: ignore[arg-type]
    text = f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".") if language == "vi" else text


def _claimed(text: str, integer: bool) -> object | None:
    try:
        return parse_int(text) if integer else parse_number(text)
    except ParseError:
        return None


def _check_totals(conn: psycopg.Connection, source: str, file_id: int, structure: Structure,
                  headers: dict[str, str]) -> tuple[int, int]:
    """Compare each total row's figures with the rows loaded in its scope; a mismatch is a warning
    problem (the rows stay loaded). Returns (warnings, total rows compared)."""
    if not structure.totals:
        return 0, 0
    table = RAW_TABLE[source]
    contract = CONTRACTS[source]
    labels = ColumnLabels(contract.columns, headers)
    problems: list[Problem] = []
    compared = 0
    for total in structure.totals:
        checks: list[tuple[str | None, str, str, object]] = []  # column, SQL, text as written, claimed
        for name, text in total.values.items():
            column = contract.column(name)
            if column.kind == "bool":
                sql_expr, claimed = f"count(*) filter (where {name})", _claimed(text, integer=True)
            else:
                sql_expr, claimed = f"coalesce(sum({name}), 0)", _claimed(text, integer=False)
            if claimed is not None:
                checks.append((name, sql_expr, text, claimed))
        if total.count is not None and (claimed := _claimed(total.count, integer=True)) is not None:
            checks.append((None, "count(*)", total.count, claimed))
        if not checks:
            continue
        compared += 1
        actual = conn.execute(
            f"select {', '.join(c[1] for c in checks)} from {table} "
            "where file_id = %s and row_number between %s and %s",
            (file_id, total.first, total.last),
        ).fetchone()
        left_out = [r for (r,) in conn.execute(
            "select distinct row_number from quarantine.rejected_rows where file_id = %s and severity = 'error' "
            "and row_number between %s and %s order by 1",
            (file_id, total.first, total.last),
        )]
        for (name, _, text, claimed), found in zip(checks, actual, strict=True):
            if found == claimed:
                continue
            problems.append(_total_problem(total, name, text, claimed, found, left_out, labels, contract))
    _copy_problems(conn, file_id, problems)
    return len(problems), compared


def _total_problem(total: TotalRow, name: str | None, text: str, claimed: object, found: object,
                   left_out: list[int], labels: ColumnLabels, contract) -> Problem:
    label = " ".join(total.label.split())[:60]
    where_en = f"row {total.row_number} ({label})"
    where_vi = f"Dòng {total.row_number} ({quoted(label)})"
    span = f"{total.first}-{total.last}" if total.first != total.last else str(total.first)
    rejected = ", ".join(str(r) for r in left_out[:20]) + (" ..." if len(left_out) > 20 else "")
    note_en = f", not counting the rejected rows {rejected}" if left_out else ""
    note_vi = f", không tính các dòng bị từ chối: {rejected}" if left_out else ""
    if name is None:
        detail_en = (f"the total row says {_figure(claimed, 'en')} but rows {span} hold {_figure(found, 'en')} data "
                     f"rows that load{note_en}")
        detail_vi = (f"dòng tổng ghi {_figure(claimed)} nhưng trong các dòng {span} có {_figure(found)} dòng số "
                     f"liệu được nạp{note_vi}")
    elif contract.column(name).kind == "bool":
        where_en, where_vi = f"{where_en}, {labels.en(name)}", f"{where_vi}, {labels.vi(name)}"
        detail_en = (f"the total row says {_figure(claimed, 'en')} but {_figure(found, 'en')} of rows {span} are "
                     f"ticked{note_en}")
        detail_vi = (f"dòng tổng ghi {_figure(claimed)} nhưng có {_figure(found)} dòng được đánh dấu trong các dòng "
                     f"{span}{note_vi}")
    else:
        where_en, where_vi = f"{where_en}, {labels.en(name)}", f"{where_vi}, {labels.vi(name)}"
        detail_en = (f"the total row says {_figure(claimed, 'en')} but rows {span} add up to {_figure(found, 'en')}"
                     f"{note_en}")
        detail_vi = (f"dòng tổng ghi {_figure(claimed)} nhưng cộng các dòng số liệu {span} được {_figure(found)}"
                     f"{note_vi}")
    return Problem(
        total.row_number, name, text, "total_mismatch",
        f"{where_en}: {detail_en}; check the figures or the total (the data rows are loaded all the same)",
        f"{where_vi}: {detail_vi}; hãy kiểm tra lại số liệu hoặc dòng tổng (các dòng số liệu vẫn được nạp)",
        WARNING,
    )


def _problem_counts(conn: psycopg.Connection, file_id: int) -> dict[str, int]:
    rows = conn.execute(
        """
        select reason_code, count(distinct coalesce(row_number, -1))
        from quarantine.rejected_rows where file_id = %s group by reason_code order by 2 desc, 1
        """,
        (file_id,),
    ).fetchall()
    return {code: int(n) for code, n in rows}


def _describe_failure(source: str, exc: Exception) -> str:
    # Roster exceptions may quote a cell; only the type is safe to show there.
    if source == "rosters":
        return f"the file could not be read ({type(exc).__name__})"
    return f"the file could not be read ({type(exc).__name__}: {str(exc)[:300]})"


_FAILURE_VI = ("Tệp không đọc được do một lỗi không lường trước; hãy mở tệp bằng Excel, lưu lại thành .xlsx rồi "
               "gửi lại, nếu vẫn lỗi hãy liên hệ bộ phận tiếp nhận")


class _ReadableName:
    """A temporary path that shows the sender's file name but holds the archived bytes.

    Readers name the file in their messages and look at its extension: reading the archived copy
    (what was hashed is what gets loaded) through a link with the original name keeps both.
    """

    def __init__(self, target: Path, name: str):
        self.target = target
        self.name = name
        self._dir: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> Path:
        self._dir = tempfile.TemporaryDirectory(prefix="planwh-read-")
        link = Path(self._dir.name) / self.name
        os.symlink(self.target.resolve(), link)
        return link

    def __exit__(self, *exc) -> None:
        assert self._dir is not None
        self._dir.cleanup()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return _now()
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM_TZ)


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise IngestError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")


def _ingest_one(
    conn: psycopg.Connection,
    settings: Settings,
    source: str,
    path: Path,
    *,
    received_at: datetime,
    original_name: str | None,
    expected_stat_date: date | None,
    on_rows: Callable[[int], None] | None,
    sheet: str | None = None,
    archived: ledger.ArchivedFile | None = None,
    reception_id: int | None = None,
    size_bytes: int | None = None,
) -> FileOutcome:
    """Ingest one file (see the module doc). ``archived``: the bytes are already in the archive
    (a reception: read from there, not copied again); ``reception_id``: the reception it loads;
    ``size_bytes``: the size a reception recorded, for a file over the limit that is not read."""
    if not conn.autocommit:
        raise ValueError("ingestion needs an autocommit connection: each step commits on its own")
    name = original_name if original_name is not None else path.name
    shown_name = ledger.printable_name(name)
    outcome = FileOutcome(source=source, path=path, original_name=shown_name, status="received")
    size = size_bytes
    if size is None:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise IngestError(f"{path}: {exc.strerror}") from exc

    if size > settings.max_file_bytes and archived is None:
        file_id = ledger.register_arrival(conn, source=source, original_name=name, size_bytes=size,
                                          received_at=received_at, sha256=None, archive_path=None,
                                          reception_id=reception_id)
        limit_mb = settings.max_file_bytes / (1024 * 1024)
        reason = f"{shown_name} is {size / (1024 * 1024):.1f} MiB, over the limit of {limit_mb:g} MiB; split it"
        reason_vi = _too_large_vi(shown_name, size, settings.max_file_bytes)
        try:
            with conn.transaction():
                ledger.mark_rejected(conn, file_id, reason_code=ledger.TOO_LARGE, reason=reason, reason_vi=reason_vi)
        finally:
            ledger.release_arrival(conn, file_id)
        outcome.file_id, outcome.status = file_id, "rejected"
        outcome.reason_code, outcome.reason, outcome.reason_vi = ledger.TOO_LARGE, reason, reason_vi
        _finish(conn, settings, outcome)
        return outcome

    if archived is None:
        archived = ledger.archive_file(settings.archive_dir, source, path, name)
    file_id = ledger.register_arrival(conn, source=source, original_name=name, size_bytes=archived.size_bytes,
                                      received_at=received_at, sha256=archived.sha256, archive_path=archived.path,
                                      reception_id=reception_id)
    outcome.file_id, outcome.sha256 = file_id, archived.sha256
    name_problem = ledger.file_name_problem(name)

    try:
        with conn.transaction():
            ledger.lock_file_bytes(conn, source, archived.sha256)
            previous = ledger.processed_before(conn, source, archived.sha256, file_id)
            if previous is not None:
                ledger.mark_duplicate(conn, file_id, previous)
                outcome.status, outcome.duplicate_of = "duplicate", previous
                outcome.reason = f"same bytes as file {previous}"
            elif name_problem is not None:
                reason = f"{shown_name!r} is refused: {name_problem}"
                reason_vi = (f"Tên tệp {quoted(shown_name)} không được chấp nhận vì có ký tự điều khiển hoặc đường dẫn "
                             "thư mục; hãy đặt lại tên tệp (chỉ dùng chữ, số, dấu gạch ngang) rồi gửi lại")
                ledger.mark_rejected(conn, file_id, reason_code=ledger.UNSAFE_NAME, reason=reason, reason_vi=reason_vi)
                outcome.status, outcome.reason_code, outcome.reason = "rejected", ledger.UNSAFE_NAME, reason
                outcome.reason_vi = reason_vi
            else:
                _load_or_reject(conn, settings, outcome, archived.path, name, received_at, expected_stat_date,
                                on_rows, sheet)
                # These bytes now have their file: close the traces of other arrivals of them whose load died.
                closed = ledger.close_interrupted(conn, file_id)
                if closed:
                    log.info("file %s (%s): closed interrupted arrivals %s of the same bytes", file_id, source, closed)
    finally:
        # The load transaction is over (committed or rolled back): this arrival is no longer in progress.
        ledger.release_arrival(conn, file_id)
    _finish(conn, settings, outcome)
    return outcome


def _load_or_reject(
    conn: psycopg.Connection,
    settings: Settings,
    outcome: FileOutcome,
    data_path: Path,
    name: str,
    received_at: datetime,
    expected_stat_date: date | None,
    on_rows: Callable[[int], None] | None,
    sheet: str | None,
) -> None:
    """Inside the file's transaction: load it, or roll its rows back and record why not."""
    assert outcome.file_id is not None and outcome.source is not None
    source, file_id = outcome.source, outcome.file_id
    rejection: tuple[str, str, str] | None = None
    try:
        with conn.transaction(), _ReadableName(data_path, name) as read_path:
            stats = _load(conn, settings, file_id=file_id, source=source, read_path=read_path,
                          received_at=received_at, expected_stat_date=expected_stat_date, on_rows=on_rows,
                          sheet=sheet)
    except FileRejected as exc:
        rejection = (exc.reason_code, exc.message, exc.message_vi)
    except CourseRejected as exc:
        rejection = (exc.reason_code, str(exc), exc.message_vi)
    except psycopg.errors.DataError as exc:
        # A value validation let through that PostgreSQL refuses: the rows rolled back with the
        # savepoint, and the file is reported instead of stopping the batch.
        log.warning("file %s (%s): PostgreSQL refused a value: %s", file_id, source, type(exc).__name__)
        rejection = ("unloadable_value", _describe_failure(source, exc),
                     "Tệp có một giá trị mà cơ sở dữ liệu không lưu được (ví dụ một số quá lớn); hãy kiểm tra lại "
                     "các ô số liệu rồi gửi lại")
    except psycopg.Error:
        raise
    except Exception as exc:  # a reader bug or a file no reader anticipated must not stop the batch
        log.warning("file %s (%s) could not be read: %s", file_id, source, type(exc).__name__)
        rejection = ("unreadable", _describe_failure(source, exc), _FAILURE_VI)
    if rejection is not None:
        ledger.mark_rejected(conn, file_id, reason_code=rejection[0], reason=rejection[1], reason_vi=rejection[2])
        outcome.status, outcome.reason_code, outcome.reason = "rejected", rejection[0], rejection[1]
        outcome.reason_vi = rejection[2]
        return
    version = ledger.mark_loaded(
        conn, file_id, source=source, rows_in=stats.rows_in, rows_loaded=stats.rows_loaded,
        rows_rejected=stats.rows_rejected, version_key=stats.version_key, received_at=received_at,
        file_format=stats.file_format, encoding=stats.encoding, rows_skipped=stats.rows_skipped,
        skipped_rows=[list(r) for r in stats.skipped],
    )
    outcome.status = "loaded"
    outcome.rows_in, outcome.rows_loaded, outcome.rows_rejected = stats.rows_in, stats.rows_loaded, stats.rows_rejected
    outcome.rows_skipped, outcome.skipped = stats.rows_skipped, stats.skipped
    outcome.warnings, outcome.totals_checked = stats.warnings, stats.totals_checked
    outcome.headers = dict(stats.result.columns)
    outcome.sheet, outcome.other_sheets = stats.result.sheet, stats.result.other_sheets
    outcome.course_sheet = stats.result.course_sheet
    outcome.is_current_version = version.is_current_version
    outcome.supersedes_file_id = version.supersedes_file_id


def _too_large_vi(name: str, size: int, limit: int) -> str:
    return (f"Tệp {quoted(name)} dung lượng {size / (1024 * 1024):.1f} MiB, vượt giới hạn "
            f"{limit / (1024 * 1024):g} MiB; hãy chia thành nhiều tệp nhỏ hơn rồi gửi lại")


def _finish(conn: psycopg.Connection, settings: Settings, outcome: FileOutcome) -> None:
    """After commit: count problems by reason and write the sender's feedback file."""
    if outcome.file_id is None or outcome.status == "duplicate":
        return
    if outcome.status == "loaded":
        outcome.problem_counts = _problem_counts(conn, outcome.file_id)
    elif outcome.reason_code:
        outcome.problem_counts = {outcome.reason_code: 1}
    if outcome.status == "rejected" or outcome.rows_rejected or outcome.warnings:
        with conn.transaction():
            files = fb.write_feedback(
                settings.feedback_dir, outcome.file_id, outcome.original_name,
                fb.rows_from_quarantine(conn, outcome.source, outcome.file_id, outcome.headers),
                summary=outcome.summary(),
            )
        if files is not None:
            outcome.feedback_xlsx, outcome.feedback_csv = files.xlsx, files.csv


# ---------------------------------------------------------------------------- public API


def ingest_file(
    settings: Settings,
    source: str,
    path: Path | str,
    *,
    received_at: datetime | None = None,
    original_name: str | None = None,
    expected_stat_date: date | None = None,
    sheet: str | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> FileOutcome:
    """Ingest one file of ``source``; see the module doc. ``original_name`` is the sender's name
    for the file when it differs from the path's (an upload, an API pull); it is checked."""
    _check_source(source)
    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_schema(conn)
        return _ingest_one(conn, settings, source, Path(path), received_at=_aware(received_at),
                           original_name=original_name, expected_stat_date=expected_stat_date,
                           on_rows=on_rows, sheet=sheet)


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files named, and the files under folders named (recursively, sorted, hidden ones skipped).

    In a folder, a symbolic link to a file outside that folder is left out with a warning: a
    landing folder takes what senders put there, never what a link makes it read elsewhere."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            root = path.resolve()
            for p in sorted(path.rglob("*")):
                if not p.is_file() or any(part.startswith(IGNORED_PREFIXES) for part in p.relative_to(path).parts):
                    continue
                if p.is_symlink() and not p.resolve().is_relative_to(root):
                    log.warning("%s is a link to a file outside %s: not read", ledger.printable_name(str(p)), path)
                    continue
                found.append(p)
        elif path.exists():
            found.append(path)
        else:
            raise IngestError(f"{path}: no such file or folder")
    return found


def ingest_paths(
    settings: Settings,
    source: str,
    paths: Iterable[Path | str],
    progress: bool = True,
    *,
    received_at: datetime | None = None,
    received_from_mtime: bool = False,
) -> list[FileOutcome]:
    """Ingest every file named or found under the folders named, in name order.

    Each file is received "now", or at ``received_at``, or with ``received_from_mtime`` at its
    modification time (never later than now): in a landing folder that is when the file was put
    there, which keeps the order of corrected versions right when a backlog is loaded at once.
    Files already received (same bytes) are recorded as duplicates. (The DAGs do not come
    through here: they load what the reception ledger gives them, ``planwh.ingest.reception``.)
    """
    from tqdm import tqdm

    _check_source(source)
    files = expand_paths(paths)
    outcomes: list[FileOutcome] = []
    moment = _aware(received_at) if received_at is not None else None
    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_schema(conn)
        # disable=None: tqdm draws only on a terminal, so logs and pipes stay clean.
        bar = tqdm(files, desc=f"ingest {source}", unit="file", disable=True if not progress or len(files) < 2 else None,
                   leave=False)
        for path in bar:
            rows_bar = None
            if progress and path.stat().st_size > 5 * 1024 * 1024:
                rows_bar = tqdm(desc=path.name, unit=" rows", leave=False, disable=None)
            try:
                outcomes.append(
                    _ingest_one(conn, settings, source, path,
                                received_at=moment or (_mtime(path) if received_from_mtime else _now()),
                                original_name=None,
                                expected_stat_date=None, on_rows=rows_bar.update if rows_bar else None)
                )
            finally:
                if rows_bar is not None:
                    rows_bar.close()
    return outcomes


def _mtime(path: Path) -> datetime:
    return min(datetime.fromtimestamp(path.stat().st_mtime, UTC), _now())


def ingest_landing(settings: Settings, source: str) -> list[FileOutcome]:
    """Sweep ``<landing>/<source>/`` and load every registered file no run has taken yet, outside
    any data interval (``planwh.ingest.reception``: the DAGs take files by interval instead)."""
    from planwh.ingest.reception import receive

    _check_source(source)
    return receive(settings, source, None, None).outcomes


def summarise(outcomes: Iterable[FileOutcome]) -> dict[str, int]:
    """Totals over outcomes (for logs and XCom: numbers only, no names or values)."""
    totals: Counter[str] = Counter()
    for o in outcomes:
        totals[f"files_{o.status}"] += 1
        totals["rows_in"] += o.rows_in or 0
        totals["rows_loaded"] += o.rows_loaded or 0
        totals["rows_rejected"] += o.rows_rejected or 0
        totals["rows_skipped"] += o.rows_skipped or 0
    return dict(totals)


# ---------------------------------------------------------------------------- dry run

# Rejections that say what the file is (or is not) whatever kind of data it was meant to hold.
_FILE_LEVEL = ("empty_file", "unsupported_format", "unreadable", "zip_bomb", "sheet_not_found")


def guess_source(path: Path, sheet: str | None = None) -> tuple[str, str]:
    """The kind of file ``path`` is, from its own header: (source, how it was found, in Vietnamese).

    A header that names every required column of a source wins (the most columns matched, the
    fewest unknown). Failing that, the source whose columns the header names most is taken, so
    that checking the file says which of its columns are missing. Raises ``FileRejected`` when the
    file is empty, unreadable or not a spreadsheet (said the same whatever it was meant to be), or
    when its header names no source's columns.
    """
    complete: list[tuple[float, int, str]] = []
    partial: list[tuple[int, int, str]] = []
    for order, source in enumerate(SOURCES):
        try:
            result = read_file(path, source, chunk_rows=1, sheet=sheet)
        except FileRejected as exc:
            if exc.reason_code in _FILE_LEVEL:
                raise
            if exc.reason_code == "missing_columns":
                partial.append((exc.matched, -order, source))
            elif exc.reason_code in ("duplicate_columns", "ambiguous_sheet"):
                partial.append((len(CONTRACTS[source].columns), -order, source))
            continue
        contract = CONTRACTS[source]
        names = {c.name for c in contract.columns}
        score = len(set(result.columns) & names) / len(names) - 0.01 * len(result.unknown_columns)
        complete.append((score, -order, source))
    if complete:
        return max(complete)[2], "nhận ra từ dòng tên cột"
    if partial:
        matched, _, source = max(partial)
        return source, f"dòng tên cột khớp {matched} cột của loại này"
    kinds_en = ", ".join(title for title, _ in SOURCE_TITLES.values())
    kinds_vi = ", ".join(title for _, title in SOURCE_TITLES.values())
    raise FileRejected(
        "no_header",
        f"{path.name}: no row names the columns of any kind of file this warehouse takes ({kinds_en})",
        f"Tệp {quoted(path.name)} không có dòng tên cột của loại số liệu nào mà hệ thống tiếp nhận ({kinds_vi}); "
        "hãy dùng đúng biểu mẫu, có dòng tên cột như “Mã đơn vị”, “Kỳ báo cáo”, “Mã chỉ tiêu”, “Giá trị”",
    )


def default_feedback_path(settings: Settings, path: Path) -> Path:
    """Where ``planwh check`` writes the feedback XLSX by default: beside the file checked, named
    ``<file>.feedback.xlsx`` -- but never into the landing folder (the DAGs would take it for a
    sender's file) nor into a folder that cannot be written: then under the feedback folder."""
    target = path.resolve().parent / f"{fb.safe_stem(path.name)}.feedback.xlsx"
    landing = settings.landing_dir.resolve()
    if target.is_relative_to(landing) or not os.access(target.parent, os.W_OK):
        return settings.feedback_dir / "check" / target.name
    return target


def check_file(
    settings: Settings,
    path: Path | str,
    source: str | None = None,
    *,
    received_at: datetime | None = None,
    sheet: str | None = None,
    feedback_path: Path | None = None,
) -> FileOutcome:
    """Validate a file exactly as ``ingest_file`` would, then roll everything back.

    Nothing is archived, no ledger row stays, nothing is loaded. Without ``source`` the kind of
    file is found from its header (``guess_source``). The outcome's ``problems`` lists what the
    feedback file would say; ``status`` is ``checked`` or ``rejected``. With ``feedback_path`` the
    feedback XLSX is written there (whatever the outcome; ``outcome.feedback_xlsx``).
    """
    path = Path(path)
    if path.is_dir():
        raise IngestError(f"{path}: is a folder, not a file", f"{quoted(path)} là thư mục, không phải tệp")
    if not path.is_file():
        raise IngestError(f"{path}: no such file", f"Không tìm thấy tệp {quoted(path)}")
    if source is not None:
        _check_source(source)
    moment = _aware(received_at)
    outcome = FileOutcome(source=source, path=path, original_name=ledger.printable_name(path.name), status="checked")
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        outcome.status, outcome.reason_code = "rejected", ledger.TOO_LARGE
        outcome.reason = f"{path.name} is over the limit of {settings.max_file_bytes / (1024 * 1024):g} MiB"
        outcome.reason_vi = _too_large_vi(outcome.original_name, size, settings.max_file_bytes)
    elif source is None:
        try:
            outcome.source, outcome.guessed = guess_source(path, sheet)
        except FileRejected as exc:
            outcome.status, outcome.reason_code = "rejected", exc.reason_code
            outcome.reason, outcome.reason_vi = exc.message, exc.message_vi
    if outcome.status == "checked":
        _dry_run(settings, outcome, moment, sheet)
    else:
        outcome.problems = [fb.FeedbackRow(None, None, None, None, outcome.reason_code or "", outcome.reason or "",
                                           outcome.reason_vi)]
        outcome.problem_counts = {outcome.reason_code or "": 1}
    if feedback_path is not None:
        outcome.feedback_xlsx = fb.write_feedback_xlsx(feedback_path, outcome.problems, outcome.summary())
    return outcome


def _dry_run(settings: Settings, outcome: FileOutcome, moment: datetime, sheet: str | None) -> None:
    path, source = outcome.path, outcome.source
    assert source is not None
    with connect(warehouse_url(settings)) as conn:
        try:
            # Inside the transaction that is rolled back: even a schema created for the check goes.
            # An existing schema is not "ensured", which would hold the schema lock for the
            # whole check and stall other runs.
            if conn.execute("select to_regclass('landing.files')").fetchone()[0] is None:
                ensure_schema(conn)
            outcome.sha256 = ledger.sha256_of(path)
            outcome.duplicate_of = ledger.processed_before(conn, source, outcome.sha256, -1)
            # No hash on the throw-away ledger row: the bytes may already be in the warehouse.
            row = conn.execute(
                """
                insert into landing.files (source, original_name, size_bytes, received_at, status)
                values (%s, %s, %s, %s, 'received') returning file_id
                """,
                (source, outcome.original_name, path.stat().st_size, moment),
            ).fetchone()
            outcome.file_id = int(row[0])
            _load_or_reject(conn, settings, outcome, path.resolve(), path.name, moment, None, None, sheet)
            if outcome.status == "loaded":
                outcome.status = "checked"
            outcome.is_current_version, outcome.supersedes_file_id = False, None
            if source == "submissions" and outcome.status == "checked":
                outcome.loaded_keys = [tuple(r) for r in conn.execute(
                    "select distinct agency_code, period from raw.agency_submissions where file_id = %s order by 1, 2",
                    (outcome.file_id,),
                )]
                outcome.loaded_rows = [tuple(r) for r in conn.execute(
                    "select row_number, measure_code, task_code, value from raw.agency_submissions where file_id = %s "
                    "order by row_number limit 500",
                    (outcome.file_id,),
                )]
            outcome.problems = list(fb.rows_from_quarantine(conn, source, outcome.file_id, outcome.headers))
            outcome.problem_counts = dict(Counter(p.reason_code for p in outcome.problems))
        finally:
            conn.rollback()
    outcome.file_id = None


def iter_problem_lines(outcome: FileOutcome, limit: int = 500) -> Iterator[str]:
    return fb.format_table(outcome.problems, limit=limit)
