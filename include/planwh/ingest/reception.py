"""Reception: which landing files arrived, when, and which run loads each of them, once.

A file put in ``<landing>/<source>/`` is found by a **sweep**, which walks the folder and, for
each entry:

* skips what is not data and lists it once: hidden files and folders, Excel's lock files of open
  workbooks (``~$*``), operating-system litter (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``),
  links to files outside the folder;
* leaves for a later sweep what may not be complete: a temporary name (``*.part``, ``*.tmp``,
  ``*.crdownload``...), or a file written to in the last ``landing_quiet_seconds`` whose size or
  modification time changed since the previous sweep saw it (one left alone that long, or found
  unchanged by the next sweep, is complete);
* registers every other file it has not registered before (same path, size and sha256): its bytes
  are archived at once and a ``landing.receptions`` row is committed.

**When a file was received.** ``first_seen_at`` is the clock of the sweep that first saw the
file's current content (:func:`reception_clock`, the real time; tests pass their own). The
ledger proves the file arrived after the previous sweep of its folder (which did not see it) and
no later than that moment; its ``received_at`` (what versions, timeliness and the "future date"
checks read as the arrival) is the file's modification time when that lies in this window, else
``first_seen_at``: ``cp -p``, ``rsync -a``, ``scp -p``, unzip and most SFTP servers keep a file's
old time, and a sender's clock may be ahead. (Not the window's start: a copied file's rows may be
dated after it, and would be rejected as from the future.) A folder never swept has no lower
bound, so the first sweep of a landing folder with history (a first deployment, the demo) takes
the history over at the files' own times; ``history=True`` does that for files added later (a
folder restored from a backup). The modification time never decides *whether* a file is loaded,
nor which run loads it.

**Which run loads it.** A run of the data interval ``[start, end)`` *takes* receptions (an atomic
claim: a file is taken by one interval only), then loads what it took and is not loaded yet:

* a **live** run, one that runs before ``end + live_run_grace_hours`` (the scheduled run just
  after its interval, the first run after an outage, a manual run of today or yesterday), sweeps
  first and takes every registered file no run has taken yet, whenever it landed: what landed
  while nothing ran is loaded by the next run;
* any other run (a backfill, a manual run of an older day) does not sweep: it takes the files not
  yet taken whose ``received_at`` lies in its interval, and never a file that came later;
* every run takes again what its interval took before. What is loaded stays as it is, so running
  an interval again changes nothing; what a crash left unloaded is loaded by the retry.

Within a run files load in order of ``received_at``, then modification time, then path, so a
correction loads after the file it corrects. A reception is loaded once an arrival of it in
``landing.files`` (``reception_id``) is no longer ``received``: loaded, rejected (a zero-byte
file: ``empty_file``; over the size limit: ``file_too_large``) or ``duplicate`` (bytes already
received under another name). A landing file whose bytes and name were loaded before it was
registered (``planwh ingest``, a warehouse older than this ledger) counts as loaded by that arrival.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from planwh.db import connect, warehouse_url
from planwh.ingest import ledger
from planwh.ingest.schema import SOURCES, ensure_schema
from planwh.settings import Settings

log = logging.getLogger(__name__)

# Names under which browsers, FTP/SFTP clients and copy tools write a file before renaming it.
TEMPORARY_SUFFIXES = (".part", ".partial", ".filepart", ".crdownload", ".download", ".opdownload", ".tmp", ".temp")
OS_LITTER = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store"})
# What a portal API pull writes (portal_api.py): the day asked for is checked against the rows.
API_PULL_PATH = re.compile(r"^api/[^/]+/(\d{4}-\d{2}-\d{2})\.jsonl$")

WAITING, REGISTERED, SKIPPED = "waiting", "registered", "skipped"

RECEPTION_COLUMNS = (
    "reception_id, source, path, raw_path, size_bytes, modified_at, sha256, archive_path, stat_date, "
    "first_seen_at, registered_at, received_at, taken_from, taken_until, taken_at"
)


class ReceptionError(RuntimeError):
    """A file that cannot be registered as asked (outside its landing folder)."""


def reception_clock() -> datetime:
    """The wall clock of sweeps and pulls: the only place reception reads the time of day."""
    return datetime.now(UTC)


def is_live(settings: Settings, end: datetime, now: datetime) -> bool:
    """Whether a run of an interval ending at ``end`` that runs at ``now`` is the live run."""
    return now < end + timedelta(hours=settings.live_run_grace_hours)


# ---------------------------------------------------------------------------- the folder


@dataclass(frozen=True)
class Found:
    """A file a walk found: its path under the source folder and what ``stat`` said."""

    rel: str  # '/'-separated, as the file system spells it (may hold bytes that are not UTF-8)
    path: Path
    size: int
    modified_ns: int
    changed_ns: int
    inode: int

    @property
    def shown(self) -> str:
        return ledger.printable_name(self.rel)

    @property
    def name(self) -> str:
        return self.rel.rsplit("/", 1)[-1]

    @property
    def modified_at(self) -> datetime:
        return datetime.fromtimestamp(self.modified_ns / 1e9, UTC)


@dataclass(frozen=True)
class Skipped:
    """An entry of a landing folder that is not data, and why."""

    rel: str
    reason_code: str
    reason: str

    @property
    def shown(self) -> str:
        return ledger.printable_name(self.rel)


def _not_data(name: str, *, folder: bool) -> tuple[str, str] | None:
    if name.lower() in OS_LITTER:
        return "os_litter", "a file the operating system leaves in folders, not data"
    if name.startswith("~$"):
        return "office_lock_file", "the lock file of a workbook open in Excel, not data"
    if name.startswith("."):
        return ("hidden_folder", "a hidden folder, not read") if folder else ("hidden_file", "a hidden file, not data")
    return None


def temporary_name(name: str) -> bool:
    return name.lower().endswith(TEMPORARY_SUFFIXES)


def walk(folder: Path) -> tuple[list[Found], list[Skipped]]:
    """Every file under ``folder`` that may be data, and every entry skipped with its reason.

    A link to a file inside the folder is read (a file filed twice); a link out of the folder, a
    linked folder, a hidden folder's contents and special files (pipes, sockets) are not.
    """
    found: list[Found] = []
    skipped: list[Skipped] = []
    if not folder.is_dir():
        return found, skipped
    root = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            entry = here / name
            rel = entry.relative_to(folder).as_posix()
            reason = _not_data(name, folder=True)
            if reason is None and entry.is_symlink():
                reason = ("linked_folder", "a link to a folder, not read")
            if reason is None:
                kept.append(name)
            else:
                skipped.append(Skipped(rel, *reason))
        dirnames[:] = kept
        for name in sorted(filenames):
            entry = here / name
            rel = entry.relative_to(folder).as_posix()
            reason = _not_data(name, folder=False)
            if reason is None and entry.is_symlink():
                try:
                    target = entry.resolve(strict=True)
                except (OSError, RuntimeError):
                    reason = ("broken_link", "a link to nothing")
                else:
                    if not target.is_relative_to(root):
                        reason = ("link_outside", f"a link to a file outside {folder.name}/, not read")
            try:
                info = entry.stat() if reason is None else None
            except OSError:
                continue  # gone between listing and stat: the next sweep sees what is there
            if info is not None and not stat.S_ISREG(info.st_mode):
                reason = ("not_a_file", "not a regular file (a pipe, socket or device)")
            if reason is not None:
                skipped.append(Skipped(rel, *reason))
                continue
            found.append(Found(rel, entry, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
    return found, skipped


# ---------------------------------------------------------------------------- the ledger


@dataclass(frozen=True)
class Reception:
    reception_id: int
    source: str
    path: str
    raw_path: bytes
    size_bytes: int
    modified_at: datetime
    sha256: str | None
    archive_path: str | None
    stat_date: date | None
    first_seen_at: datetime
    registered_at: datetime
    received_at: datetime
    taken_from: datetime | None
    taken_until: datetime | None
    taken_at: datetime | None

    @property
    def name(self) -> str:
        """The sender's file name, exactly as it was on disk."""
        return os.fsdecode(self.raw_path).rsplit("/", 1)[-1]


@dataclass
class _Observation:
    size: int
    modified_ns: int
    changed_ns: int
    inode: int
    state: str
    first_seen_at: datetime
    content_seen_at: datetime


@dataclass
class SweepReport:
    """What one sweep of a landing folder found (names for the operator, never rows)."""

    source: str
    swept_at: datetime
    registered: list[Reception] = field(default_factory=list)
    waiting: list[tuple[str, str, str]] = field(default_factory=list)  # (path, reason_code, reason)
    skipped: list[Skipped] = field(default_factory=list)
    newly_skipped: list[Skipped] = field(default_factory=list)
    unchanged: int = 0

    def totals(self) -> dict[str, int]:
        return {
            "files_registered": len(self.registered),
            "files_waiting": len(self.waiting),
            "files_skipped": len(self.skipped),
        }


@contextlib.contextmanager
def _warehouse(settings: Settings, conn: psycopg.Connection | None) -> Iterator[psycopg.Connection]:
    if conn is not None:
        yield conn
        return
    with connect(warehouse_url(settings), autocommit=True) as own:
        ensure_schema(own)
        yield own


@contextlib.contextmanager
def _folder_lock(conn: psycopg.Connection, source: str) -> Iterator[None]:
    """One sweep or registration of a landing folder at a time (two workers, an operator)."""
    key = f"planwh.reception.folder:{source}"
    conn.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (key,))
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (key,))


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ReceptionError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")


def _observations(conn: psycopg.Connection, source: str) -> dict[str, _Observation]:
    rows = conn.execute(
        """
        select path, size_bytes, modified_ns, changed_ns, inode, state, first_seen_at, content_seen_at
        from landing.observations where source = %s
        """,
        (source,),
    ).fetchall()
    return {r[0]: _Observation(*r[1:]) for r in rows}


def _observe(
    conn: psycopg.Connection,
    source: str,
    found: Found | Skipped,
    state: str,
    *,
    now: datetime,
    known: _Observation | None,
    content_seen_at: datetime | None = None,
    reason: tuple[str, str] | None = None,
    reception_id: int | None = None,
) -> None:
    if isinstance(found, Found):
        size, modified, changed, inode = found.size, found.modified_ns, found.changed_ns, found.inode
    else:
        size = modified = changed = inode = 0
    first_seen = known.first_seen_at if known else now
    conn.execute(
        """
        insert into landing.observations as o (source, path, size_bytes, modified_ns, changed_ns, inode, state,
            reason_code, reason, first_seen_at, content_seen_at, reception_id)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        on conflict (source, path) do update set size_bytes = excluded.size_bytes,
            modified_ns = excluded.modified_ns, changed_ns = excluded.changed_ns, inode = excluded.inode,
            state = excluded.state, reason_code = excluded.reason_code, reason = excluded.reason,
            content_seen_at = excluded.content_seen_at, reception_id = excluded.reception_id
        """,
        (source, found.shown, size, modified, changed, inode, state, *(reason or (None, None)), first_seen,
         content_seen_at or now, reception_id),
    )


def _previous_sweep(conn: psycopg.Connection, source: str, before: datetime) -> datetime | None:
    return conn.execute(
        "select max(swept_at) from landing.sweeps where source = %s and swept_at < %s", (source, before)
    ).fetchone()[0]


def _placed(
    conn: psycopg.Connection, source: str, modified_at: datetime, seen_at: datetime, *, history: bool
) -> datetime:
    """The arrival time inside the window the ledger proves (see the module doc)."""
    earliest = None if history else _previous_sweep(conn, source, seen_at)
    if modified_at <= seen_at and (earliest is None or modified_at > earliest):
        return modified_at
    return seen_at


def _fetch_reception(conn: psycopg.Connection, where: str, params: Sequence[object]) -> Reception | None:
    row = conn.execute(f"select {RECEPTION_COLUMNS} from landing.receptions where {where}", params).fetchone()
    return Reception(*row) if row else None


def _register(
    conn: psycopg.Connection,
    settings: Settings,
    source: str,
    found: Found,
    *,
    now: datetime,
    seen_at: datetime,
    known: _Observation | None,
    history: bool = False,
    received_at: datetime | None = None,
) -> tuple[Reception, bool]:
    """Archive the file's bytes and record its reception, unless the same path, size and bytes
    were registered before; returns the reception and whether it is new."""
    sha = archive = None
    size = found.size
    if size <= settings.max_file_bytes:  # a larger file is rejected unread when it is loaded
        archived = ledger.archive_file(settings.archive_dir, source, found.path, found.name)
        sha, archive, size = archived.sha256, str(archived.path), archived.size_bytes
    with conn.transaction():
        existing = _fetch_reception(
            conn, "source = %s and path = %s and size_bytes = %s and coalesce(sha256, '') = %s",
            (source, found.shown, size, sha or ""),
        )
        if existing is not None:
            _observe(conn, source, found, REGISTERED, now=now, known=known, content_seen_at=seen_at,
                     reception_id=existing.reception_id)
            return existing, False
        match = API_PULL_PATH.match(found.rel) if source == "portal" else None
        row = conn.execute(
            f"""
            insert into landing.receptions (source, path, raw_path, size_bytes, modified_at, sha256, archive_path,
                stat_date, first_seen_at, registered_at, received_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            returning {RECEPTION_COLUMNS}
            """,
            (source, found.shown, os.fsencode(found.rel), size, found.modified_at, sha, archive,
             date.fromisoformat(match.group(1)) if match else None, seen_at, now,
             received_at or _placed(conn, source, found.modified_at, seen_at, history=history)),
        ).fetchone()
        reception = Reception(*row)
        if sha is not None:
            # These bytes, under this name, were loaded before the ledger registered them (`planwh
            # ingest` of a landing file, a warehouse older than the reception ledger): that arrival
            # is this reception's load, not a reason to load it again.
            conn.execute(
                """
                update landing.files set reception_id = %s
                where file_id = (
                    select file_id from landing.files
                    where source = %s and sha256 = %s and original_name = %s and reception_id is null
                        and status <> 'received'
                    order by file_id limit 1
                )
                """,
                (reception.reception_id, source, sha, ledger.printable_name(found.name)),
            )
        _observe(conn, source, found, REGISTERED, now=now, known=known, content_seen_at=seen_at,
                 reception_id=reception.reception_id)
    return reception, True


def sweep(
    settings: Settings,
    source: str,
    *,
    now: datetime | None = None,
    history: bool = False,
    conn: psycopg.Connection | None = None,
) -> SweepReport:
    """Sweep ``<landing>/<source>/``: register what is complete and new, note what is not (see the
    module doc). Registers only; loading is for the run that takes the files."""
    _check_source(source)
    now = now or reception_clock()
    folder = settings.landing_dir / source
    found, skipped = walk(folder)
    report = SweepReport(source, now, skipped=skipped)
    quiet_ns = settings.landing_quiet_seconds * 1_000_000_000
    with _warehouse(settings, conn) as db, _folder_lock(db, source):
        known = _observations(db, source)
        for item in skipped:
            seen = known.get(item.shown)
            if seen is None or seen.state != SKIPPED:
                report.newly_skipped.append(item)
                log.warning("%s/%s: %s; skipped", source, item.shown, item.reason)
                with db.transaction():
                    _observe(db, source, item, SKIPPED, now=now, known=seen, reason=(item.reason_code, item.reason))
        for item in sorted(found, key=lambda f: (f.modified_ns, f.rel)):
            seen = known.get(item.shown)
            same = seen is not None and (seen.size, seen.modified_ns) == (item.size, item.modified_ns)
            if same and seen.state == REGISTERED and (seen.changed_ns, seen.inode) == (item.changed_ns, item.inode):
                report.unchanged += 1
                continue
            seen_at = seen.content_seen_at if same else now
            waiting = None
            if temporary_name(item.name):
                waiting = ("temporary_name", "a temporary name: the file is still being copied or downloaded")
            elif not same and time.time_ns() - item.modified_ns < quiet_ns:
                what = "not seen before" if seen is None else "changed since the previous sweep"
                waiting = ("being_written", f"written to less than {settings.landing_quiet_seconds} s ago and "
                           f"{what}: taken once a sweep finds it unchanged")
            if waiting is None:
                try:
                    reception, new = _register(db, settings, source, item, now=now, seen_at=seen_at, known=seen,
                                               history=history)
                except OSError as exc:
                    waiting = ("unreadable", f"cannot be read: {exc.strerror or type(exc).__name__}")
                except ledger.ArchiveError:
                    waiting = ("being_written", "changed while it was copied to the archive")
                else:
                    if new:
                        report.registered.append(reception)
                    else:
                        report.unchanged += 1
                    continue
            report.waiting.append((item.shown, *waiting))
            with db.transaction():
                _observe(db, source, item, WAITING, now=now, known=seen, content_seen_at=seen_at, reason=waiting)
        present = [f.shown for f in found] + [s.shown for s in skipped]
        with db.transaction():
            # A path that is gone (moved away, renamed when complete) has nothing left to observe.
            db.execute("delete from landing.observations where source = %s and path <> all(%s)", (source, present))
            db.execute(
                """
                insert into landing.sweeps (source, swept_at, files_seen, files_registered, files_waiting,
                    files_skipped)
                values (%s, %s, %s, %s, %s, %s)
                """,
                (source, now, len(found), len(report.registered), len(report.waiting), len(skipped)),
            )
    if report.waiting:
        log.info("%s: %d file(s) wait for the next sweep", source, len(report.waiting))
    return report


def register_file(
    settings: Settings,
    source: str,
    path: Path,
    *,
    now: datetime | None = None,
    received_at: datetime | None = None,
    conn: psycopg.Connection | None = None,
) -> tuple[Reception, bool]:
    """Register one file of ``<landing>/<source>/`` that the caller knows is complete (an API
    pull just wrote it); ``received_at`` overrides the placement. Returns (reception, is new)."""
    _check_source(source)
    now = now or reception_clock()
    folder = settings.landing_dir / source
    try:
        rel = path.relative_to(folder).as_posix()
    except ValueError:
        raise ReceptionError(f"{path} is not under {folder}") from None
    info = path.stat()
    item = Found(rel, path, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
    with _warehouse(settings, conn) as db, _folder_lock(db, source):
        known = _observations(db, source).get(item.shown)
        return _register(db, settings, source, item, now=now, seen_at=now, known=known, received_at=received_at)


# ---------------------------------------------------------------------------- taking and loading


def take(
    conn: psycopg.Connection,
    source: str,
    start: datetime | None,
    end: datetime | None,
    *,
    live: bool,
    now: datetime,
) -> list[Reception]:
    """Claim for the interval ``[start, end)`` what it takes (see the module doc) and return all it
    has taken, in load order. ``start``/``end`` None: a load outside any DAG run (``planwh``
    commands), which takes what no run has taken and nothing else."""
    with conn.transaction():
        if live:
            claimed = "taken_at is null"
            params: tuple = (start, end, now, source)
        else:
            claimed = "taken_at is null and received_at >= %s and received_at < %s"
            params = (start, end, now, source, start, end)
        ids = [r[0] for r in conn.execute(
            f"""
            update landing.receptions set taken_from = %s, taken_until = %s, taken_at = %s
            where source = %s and {claimed}
            returning reception_id
            """,
            params,
        )]
        if start is None:
            # what this call claimed, and what an earlier load outside a run claimed but did not finish
            where = (
                "reception_id = any(%s) or (source = %s and taken_from is null and taken_at is not null and not exists "
                "(select from landing.files as f where f.reception_id = receptions.reception_id "
                "and f.status <> 'received'))"
            )
            where_params = (ids, source)
        else:
            where, where_params = "source = %s and taken_from = %s and taken_until = %s", (source, start, end)
        rows = conn.execute(
            f"select {RECEPTION_COLUMNS} from landing.receptions where {where} "
            "order by received_at, modified_at, path, reception_id",
            where_params,
        ).fetchall()
    return [Reception(*r) for r in rows]


def take_one(
    conn: psycopg.Connection, reception_id: int, start: datetime | None, end: datetime | None, *, now: datetime
) -> None:
    """Claim one reception for ``[start, end)`` if no run has taken it (an API pull takes its day
    into the run that pulled it)."""
    with conn.transaction():
        conn.execute(
            "update landing.receptions set taken_from = %s, taken_until = %s, taken_at = %s "
            "where reception_id = %s and taken_at is null",
            (start, end, now, reception_id),
        )


def reception_by_id(conn: psycopg.Connection, reception_id: int) -> Reception | None:
    with conn.transaction():
        return _fetch_reception(conn, "reception_id = %s", (reception_id,))


def is_loaded(conn: psycopg.Connection, reception_id: int) -> bool:
    with conn.transaction():
        return conn.execute(
            "select exists (select from landing.files where reception_id = %s and status <> 'received')",
            (reception_id,),
        ).fetchone()[0]


@contextlib.contextmanager
def _loading(conn: psycopg.Connection, reception_id: int) -> Iterator[bool]:
    """Whether this session may load the reception now (no other session is loading it)."""
    key = f"planwh.reception:{reception_id}"
    got = conn.execute("select pg_try_advisory_lock(hashtextextended(%s, 0))", (key,)).fetchone()[0]
    try:
        yield bool(got)
    finally:
        if got and not conn.closed and not conn.broken:
            conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (key,))


def load_receptions(
    conn: psycopg.Connection,
    settings: Settings,
    receptions: Sequence[Reception],
    *,
    on_rows: Callable[[int], None] | None = None,
) -> list[object]:
    """Load each reception that is not loaded yet, in the order given; return the outcomes
    (``planwh.ingest.load.FileOutcome``) of those loaded now."""
    from planwh.ingest.load import _ingest_one

    outcomes = []
    for reception in receptions:
        with _loading(conn, reception.reception_id) as mine:
            if not mine or is_loaded(conn, reception.reception_id):
                continue
            archived = None
            if reception.sha256 is not None:
                archived = ledger.ArchivedFile(reception.sha256, reception.size_bytes, Path(reception.archive_path))
            where = archived.path if archived else settings.landing_dir / reception.source / reception.path
            outcomes.append(_ingest_one(
                conn, settings, reception.source, where, received_at=reception.received_at,
                original_name=reception.name, expected_stat_date=reception.stat_date, on_rows=on_rows,
                archived=archived, reception_id=reception.reception_id, size_bytes=reception.size_bytes,
            ))
    return outcomes


@dataclass
class Receipt:
    """What a run did with one source: its sweep (live runs), what it took, what it loaded."""

    source: str
    live: bool
    sweep: SweepReport | None
    taken: list[Reception]
    outcomes: list[object]


def receive(
    settings: Settings,
    source: str,
    start: datetime | None,
    end: datetime | None,
    *,
    now: datetime | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> Receipt:
    """A run's reception of one source for ``[start, end)``: sweep if live, take, load."""
    _check_source(source)
    now = now or reception_clock()
    live = end is None or is_live(settings, end, now)
    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_schema(conn)
        report = sweep(settings, source, now=now, conn=conn) if live else None
        taken = take(conn, source, start, end, live=live, now=now)
        outcomes = load_receptions(conn, settings, taken, on_rows=on_rows)
    return Receipt(source, live, report, taken, outcomes)


# ---------------------------------------------------------------------------- what is waiting


@dataclass(frozen=True)
class Waiting:
    """A landing file that is not loaded yet, and since when it has been waiting."""

    source: str
    path: str
    state: str  # unregistered | waiting | unloaded
    reason: str
    since: datetime


@dataclass
class SourceStatus:
    source: str
    last_sweep: datetime | None
    registered: int
    loaded: int
    unregistered: list[Waiting] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    unloaded: list[Waiting] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def pending(self) -> list[Waiting]:
        return sorted(self.unregistered + self.waiting + self.unloaded, key=lambda w: (w.since, w.path))


@dataclass(frozen=True)
class PortalCursor:
    portal: str
    last_day: date
    updated_at: datetime


def source_status(conn: psycopg.Connection, settings: Settings, source: str, now: datetime) -> SourceStatus:
    """What is in ``<landing>/<source>/`` and the ledger that is not loaded, read without changing
    anything: files no sweep has registered (never seen, or changed since), files a sweep left
    waiting, files registered but not loaded, and what was skipped."""
    found, skipped = walk(settings.landing_dir / source)
    with conn.transaction():
        known = {
            r[0]: r[1:]
            for r in conn.execute(
                "select path, size_bytes, modified_ns, state, reason, first_seen_at from landing.observations "
                "where source = %s",
                (source,),
            )
        }
        last_sweep = conn.execute("select max(swept_at) from landing.sweeps where source = %s", (source,)).fetchone()[0]
        counts = conn.execute(
            """
            select count(*), count(*) filter (where exists (
                select from landing.files as f where f.reception_id = r.reception_id and f.status <> 'received'))
            from landing.receptions as r where r.source = %s
            """,
            (source,),
        ).fetchone()
        unloaded = conn.execute(
            """
            select r.path, r.registered_at, r.taken_at, r.taken_from, r.taken_until
            from landing.receptions as r
            where r.source = %s and not exists (
                select from landing.files as f where f.reception_id = r.reception_id and f.status <> 'received')
            order by r.registered_at, r.path
            """,
            (source,),
        ).fetchall()
    status = SourceStatus(source, last_sweep, counts[0], counts[1], skipped=skipped)
    for item in found:
        seen = known.get(item.shown)
        if seen is not None and (seen[0], seen[1]) == (item.size, item.modified_ns) and seen[2] == WAITING:
            status.waiting.append(Waiting(source, item.shown, WAITING, seen[3], seen[4]))
        elif seen is None or (seen[0], seen[1]) != (item.size, item.modified_ns):
            why = "not seen by a sweep yet" if seen is None else "changed since the last sweep"
            if temporary_name(item.name):
                why += " (a temporary name: waits until it is renamed)"
            # No sweep saw it: it came after the last one; its own time says when, if it can.
            since = seen[4] if seen is not None else min(item.modified_at, now)
            if seen is None and last_sweep is not None:
                since = max(since, last_sweep)
            status.unregistered.append(Waiting(source, item.shown, "unregistered", why, since))
    for path, registered_at, taken_at, taken_from, taken_until in unloaded:
        if taken_from is not None:
            why = f"taken by the run of {_day_range(taken_from, taken_until)}, not loaded: run that day again"
        elif taken_at is not None:
            why = "taken by a planwh command outside the DAGs, not loaded: the same command loads it"
        else:
            why = "registered, not taken by a run yet: the next daily run loads it"
        status.unloaded.append(Waiting(source, path, "unloaded", why, registered_at))
    return status


def _day_range(start: datetime, end: datetime) -> str:
    from planwh.ingest.parsing import VIETNAM_TZ

    first, last = start.astimezone(VIETNAM_TZ), end.astimezone(VIETNAM_TZ)
    if last - first == timedelta(days=1) and first.hour == first.minute == 0:
        return first.date().isoformat()
    return f"{first.isoformat()} - {last.isoformat()}"


def landing_status(
    settings: Settings, sources: Sequence[str] = SOURCES, *, now: datetime | None = None
) -> tuple[list[SourceStatus], list[PortalCursor]]:
    """The state of every landing folder and each portal API's cursor."""
    now = now or reception_clock()
    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_schema(conn)
        statuses = [source_status(conn, settings, source, now) for source in sources]
        cursors = [PortalCursor(*r) for r in conn.execute(
            "select portal, last_day, updated_at from landing.portal_api_cursor order by portal"
        )]
    return statuses, cursors


def stale_files(
    settings: Settings, sources: Sequence[str] = SOURCES, *, now: datetime | None = None
) -> list[Waiting]:
    """Files in landing unregistered, or registered but not loaded, for longer than
    ``landing_stale_hours``: what the daily chain's landing check fails on."""
    now = now or reception_clock()
    limit = now - timedelta(hours=settings.landing_stale_hours)
    statuses, _ = landing_status(settings, sources, now=now)
    return [w for s in statuses for w in s.pending if w.since < limit]
