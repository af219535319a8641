"""The landing ledger: which files arrived, their bytes kept in a content-addressed archive.

Every arrival gets a ``landing.files`` row. The bytes are copied to
``<archive>/<source>/<sha256[:2]>/<sha256><suffix>`` before anything reads them; an archived
file is never overwritten or deleted (a second copy of the same bytes finds the first one
and checks it). The status moves from ``received`` (committed at once, so a crash leaves a
trace) to ``loaded``, ``rejected`` or ``duplicate`` in the file's load transaction. A load that
was interrupted (the process or the server died) leaves its row ``received``; when the same bytes
are later loaded or rejected for their content, ``close_interrupted`` marks that row ``duplicate``
(``interrupted_load``) of the file that now holds the bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

CHUNK = 1024 * 1024
UNSAFE_NAME = "unsafe_file_name"
TOO_LARGE = "file_too_large"
# Rejections for how a file was sent, not for what it holds: the same bytes may be sent again.
ENVELOPE_REJECTIONS = (UNSAFE_NAME, TOO_LARGE)
# reason_code of an arrival whose load never committed, closed when its bytes were processed later.
INTERRUPTED_LOAD = "interrupted_load"

# Columns of landing.files that identify "the same report" across corrected versions.
VERSION_KEYS: dict[str, tuple[str, ...]] = {
    "agencies": ("province_code",),
    "submissions": ("agency_code", "province_code", "period"),
    "portal": ("portal", "stat_date"),
    "rosters": ("course_id",),
}


class ArchiveError(RuntimeError):
    """The archive holds different bytes under a file's hash, or a copy did not verify."""


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    size_bytes: int
    path: Path


def file_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be used as a file name we register, or None when it is safe.

    The original name comes from the sender (an upload form, an API parameter) and ends up in
    messages and feedback file names, so anything that could climb directories or hide
    characters is refused rather than cleaned up.
    """
    if not name or not name.strip():
        return "the file name is empty"
    if any(unicodedata.category(ch) == "Cs" for ch in name):
        return "the file name is not valid UTF-8"
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        return "the file name contains control characters"
    if "/" in name or "\\" in name:
        return "the file name contains a path separator (/ or \\)"
    if name in (".", "..") or ".." in name.split("."):
        return "the file name contains '..'"
    if re.match(r"^[A-Za-z]:", name):
        return "the file name is an absolute Windows path"
    if len(name.encode("utf-8")) > 255:
        return "the file name is longer than 255 bytes"
    return None


def printable_name(name: str) -> str:
    """A version of an untrusted name that is safe to store and print: control and format
    characters, and bytes that were not UTF-8 (surrogate escapes), written as escapes."""
    return "".join(_escaped(ch) for ch in name)[:300]


def _escaped(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cs":  # os.fsdecode's stand-in for a byte that is not UTF-8
        return f"\\x{ord(ch) - 0xDC00:02x}" if 0xDC80 <= ord(ch) <= 0xDCFF else f"\\u{ord(ch):04x}"
    if category in ("Cc", "Cf"):
        return f"\\x{ord(ch):02x}" if ord(ch) <= 0xFF else f"\\u{ord(ch):04x}"
    return ch


def safe_suffix(name: str) -> str:
    """The file-type suffix of ``name`` if it looks like one (``.xlsx``), else empty."""
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def archive_file(archive_dir: Path, source: str, path: Path, original_name: str) -> ArchivedFile:
    """Copy ``path`` into the content-addressed archive; return its hash, size and archive path.

    The copy is hashed while written, linked into place without replacing anything, and
    re-read to verify. If the archive already holds that hash, its bytes are verified instead.
    """
    archive_dir.mkdir(parents=True, exist_ok=True)
    staging = archive_dir / ".incoming"
    staging.mkdir(exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=staging, prefix="copy-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            while block := src.read(CHUNK):
                digest.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        target = archive_dir / source / sha[:2] / f"{sha}{safe_suffix(original_name)}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # link() fails if the target exists, so a concurrent copy can never be overwritten.
            os.link(tmp, target)
            target.chmod(0o444)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    stored = sha256_of(target)
    if stored != sha:
        raise ArchiveError(
            f"archive copy {target} has sha256 {stored}, expected {sha}: the archive is damaged "
            "or the file changed while it was copied"
        )
    return ArchivedFile(sha256=sha, size_bytes=size, path=target)


def register_arrival(
    conn: psycopg.Connection,
    *,
    source: str,
    original_name: str,
    size_bytes: int,
    received_at: datetime,
    sha256: str | None,
    archive_path: Path | None,
    reception_id: int | None = None,
) -> int:
    """Record that a file arrived (status ``received``) and commit; return its file_id.

    ``reception_id`` ties the arrival to the ``landing.receptions`` row it loads, from the moment
    the row exists: a reception is loaded once an arrival of it is no longer ``received``.

    The session also takes the arrival's lock (a session-level advisory lock on the file_id), in
    the transaction that inserts the row: from the moment any other session can see the row, it
    can tell that the row's load may still be running. The caller keeps the lock until the
    file's load transaction has ended, then calls ``release_arrival``; if the process or the
    server dies first, PostgreSQL releases it with the session. See ``close_interrupted``.
    """
    file_id: int | None = None
    try:
        with conn.transaction():
            row = conn.execute(
                """
                insert into landing.files
                    (source, original_name, sha256, size_bytes, received_at, archive_path, status, reception_id)
                values (%s, %s, %s, %s, %s, %s, 'received', %s)
                returning file_id
                """,
                (source, printable_name(original_name), sha256, size_bytes, received_at,
                 str(archive_path) if archive_path else None, reception_id),
            ).fetchone()
            file_id = int(row[0])
            conn.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (_arrival_key(file_id),))
    except BaseException:
        # A session lock outlives a rolled-back transaction: do not keep one for a row that is not there.
        if file_id is not None:
            release_arrival(conn, file_id)
        raise
    return file_id


def _arrival_key(file_id: int) -> str:
    return f"planwh.arrival:{file_id}"


def release_arrival(conn: psycopg.Connection, file_id: int) -> None:
    """Let go of the arrival lock taken by ``register_arrival``: the file's load is over (committed
    or rolled back). Nothing to do when the connection is gone: its locks went with its session."""
    if conn.closed or conn.broken:
        return
    try:
        conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (_arrival_key(file_id),))
    except psycopg.OperationalError:
        if not conn.broken:
            raise


def lock_file_bytes(conn: psycopg.Connection, source: str, sha256: str) -> None:
    """Hold, until the transaction ends, the lock that makes one run process these bytes."""
    conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"planwh.file:{source}:{sha256}",))


def processed_before(conn: psycopg.Connection, source: str, sha256: str, file_id: int) -> int | None:
    """The file_id that already loaded or rejected these bytes, if any."""
    row = conn.execute(
        """
        select file_id from landing.files
        where source = %s and sha256 = %s and file_id <> %s
            and (status = 'loaded' or (status = 'rejected' and reason_code <> all(%s)))
        order by file_id limit 1
        """,
        (source, sha256, file_id, list(ENVELOPE_REJECTIONS)),
    ).fetchone()
    return int(row[0]) if row else None


def mark_duplicate(conn: psycopg.Connection, file_id: int, original_file_id: int) -> None:
    conn.execute(
        """
        update landing.files
        set status = 'duplicate', duplicate_of_file_id = %s,
            reason = 'the same bytes were already received as file ' || %s::text
        where file_id = %s
        """,
        (original_file_id, original_file_id, file_id),
    )


def close_interrupted(conn: psycopg.Connection, holder_file_id: int) -> list[int]:
    """Close the traces of interrupted loads of the bytes that ``holder_file_id`` now holds.

    Call it in the transaction that marked ``holder_file_id`` loaded, or rejected for its content
    (a rejection in ``ENVELOPE_REJECTIONS`` judged nothing about the bytes, and the holder must be
    one ``processed_before`` would return): otherwise it does nothing. Every other row of the same
    source and sha256 still ``received`` whose load is no longer running becomes ``duplicate`` of
    the holder, with reason_code ``interrupted_load``. Returns the file_ids closed.

    Which loads are no longer running. A row is ``received`` from the commit of its arrival until
    its load transaction commits; in between its run may be alive (about to take the bytes lock,
    waiting for it, or loading) or dead (its process or server died, the transaction rolled back).
    The file_id order says nothing about that: a run that registered first may take the bytes lock
    last. What does tell is the arrival lock (``register_arrival``): taken in the very transaction
    that inserts the row, so held as soon as the row is visible, and held by the run's session
    until its load transaction has ended. A non-blocking ``pg_try_advisory_xact_lock`` on it
    succeeds only when no live session holds it, i.e. when the row's run is dead, or finished
    without its load committing. A run that is alive makes the try fail and its row is left
    alone: it will mark itself (``processed_before`` finds the holder once it gets the bytes lock).
    The check cannot go stale while we update: we hold the bytes lock (taken again here, which is
    free when the caller holds it), and a row of these bytes changes status only under it; the
    update also re-checks ``status = 'received'``. A session whose server connection outlives its
    dead client (a half-open TCP connection) keeps its lock until PostgreSQL drops it, so its row
    stays ``received``: the check errs towards leaving a trace open, never closing a live one.
    (Advisory locks are re-entrant within a session: this one never holds another arrival's lock,
    as a run releases each arrival before taking the next file.)
    """
    holder = conn.execute(
        "select source, sha256, status, reason_code from landing.files where file_id = %s",
        (holder_file_id,),
    ).fetchone()
    if holder is None or holder[1] is None:
        return []
    source, sha256, status, reason_code = holder
    if not (status == "loaded" or (status == "rejected" and reason_code not in ENVELOPE_REJECTIONS)):
        return []
    lock_file_bytes(conn, source, sha256)
    candidates = conn.execute(
        """
        select file_id from landing.files
        where source = %s and sha256 = %s and status = 'received' and file_id <> %s
        order by file_id
        """,
        (source, sha256, holder_file_id),
    ).fetchall()
    closed: list[int] = []
    what = "loaded" if status == "loaded" else "rejected"
    for (candidate,) in candidates:
        free = conn.execute(
            "select pg_try_advisory_xact_lock(hashtextextended(%s, 0))", (_arrival_key(candidate),)
        ).fetchone()[0]
        if not free:
            continue  # its run is alive: it may be waiting for the bytes lock or still loading
        updated = conn.execute(
            """
            update landing.files
            set status = 'duplicate', duplicate_of_file_id = %s, reason_code = %s,
                reason = 'load interrupted before it committed; the same bytes were ' || %s
                    || ' as file ' || %s::text
            where file_id = %s and status = 'received'
            """,
            (holder_file_id, INTERRUPTED_LOAD, what, holder_file_id, candidate),
        )
        if updated.rowcount:
            closed.append(int(candidate))
    return closed


def mark_rejected(
    conn: psycopg.Connection,
    file_id: int,
    *,
    reason_code: str,
    reason: str,
    reason_vi: str | None = None,
    rows_in: int | None = None,
    file_format: str | None = None,
    encoding: str | None = None,
) -> None:
    conn.execute(
        """
        update landing.files
        set status = 'rejected', reason_code = %s, reason = %s, reason_vi = %s,
            rows_in = %s, rows_loaded = case when %s::int is null then null else 0 end, rows_rejected = %s,
            file_format = %s, encoding = %s, is_current_version = false
        where file_id = %s
        """,
        (reason_code, reason, reason_vi, rows_in, rows_in, rows_in, file_format, encoding, file_id),
    )


@dataclass(frozen=True)
class VersionResult:
    is_current_version: bool
    supersedes_file_id: int | None


def mark_loaded(
    conn: psycopg.Connection,
    file_id: int,
    *,
    source: str,
    rows_in: int,
    rows_loaded: int,
    rows_rejected: int,
    version_key: dict[str, object],
    received_at: datetime,
    file_format: str | None,
    encoding: str | None,
    rows_skipped: int = 0,
    skipped_rows: list | None = None,
) -> VersionResult:
    """Mark the file loaded and make it the current version of its key if it is the newest.

    ``rows_in`` = ``rows_loaded`` + ``rows_rejected`` + ``rows_skipped``; ``skipped_rows`` lists the
    skipped rows as [kind, first row, last row, rows] runs.

    A file with no version key (it covers several agencies, days...) is current on its own.
    A file received earlier than the current version of its key is kept as history only, so
    loading a backlog out of order cannot bring back an outdated report.
    """
    # Versions of one source are decided one file at a time.
    conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"planwh.versions:{source}",))
    key_columns = VERSION_KEYS[source]
    has_key = all(version_key.get(col) is not None for col in key_columns)
    superseded: int | None = None
    is_current = True
    if has_key:
        where = " and ".join(f"{col} = %s" for col in key_columns)
        previous = conn.execute(
            f"""
            select file_id, received_at from landing.files
            where source = %s and status = 'loaded' and is_current_version and file_id <> %s and {where}
            """,
            (source, file_id, *[version_key[col] for col in key_columns]),
        ).fetchall()
        is_current = all(prev_received <= received_at for _, prev_received in previous)
        if is_current:
            for prev_id, _ in previous:
                conn.execute("update landing.files set is_current_version = false where file_id = %s", (prev_id,))
            superseded = max((int(p[0]) for p in previous), default=None)
    assignments = ", ".join(f"{col} = %s" for col in key_columns)
    conn.execute(
        f"""
        update landing.files
        set status = 'loaded', rows_in = %s, rows_loaded = %s, rows_rejected = %s, rows_skipped = %s,
            skipped_rows = %s, file_format = %s, encoding = %s, is_current_version = %s, supersedes_file_id = %s,
            loaded_at = clock_timestamp(), {assignments}
        where file_id = %s
        """,
        (rows_in, rows_loaded, rows_rejected, rows_skipped, Jsonb(skipped_rows or []), file_format, encoding,
         is_current, superseded, *[_key_value(version_key.get(col)) for col in key_columns], file_id),
    )
    return VersionResult(is_current_version=is_current, supersedes_file_id=superseded)


def _key_value(value: object) -> object:
    return value if isinstance(value, date | str) or value is None else str(value)
