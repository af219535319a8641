"""Arrivals whose load was interrupted: closed once their bytes have a file, never while their run lives.

An arrival's row is ``received`` from the commit of its arrival until its load commits. Its run
may be alive in between (waiting for the bytes lock, loading) or dead (killed mid-load). Only a
dead one may be closed (``duplicate``, ``interrupted_load``) when a later arrival loads or rejects
the same bytes; see ``ledger.close_interrupted``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import psycopg
from ingest_files import RECEIVED, SUBMISSION_HEADER, query, submission_row, write_csv, write_register

from planwh.ingest import ledger
from planwh.ingest.load import ingest_file
from planwh.ingest.schema import ensure_schema
from planwh.settings import Settings


def arrive(conn: psycopg.Connection, path: Path) -> int:
    """What a run does first with a file: register its arrival (committed, status received)."""
    return ledger.register_arrival(
        conn, source="submissions", original_name=path.name, size_bytes=path.stat().st_size,
        received_at=RECEIVED, sha256=hashlib.sha256(path.read_bytes()).hexdigest(), archive_path=None,
    )


def arrive_and_die(settings: Settings, path: Path) -> int:
    """A run that registered the file and then died (its session ended) before its load committed."""
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        ensure_schema(conn)
        file_id = arrive(conn, path)
    # The server ends the session (and drops its locks) just after the client leaves: wait for it.
    with psycopg.connect(settings.warehouse_url, autocommit=True) as conn:
        deadline = time.monotonic() + 10
        while conn.execute("select count(*) from pg_locks where locktype = 'advisory' and pid <> pg_backend_pid() "
                           "and database = (select oid from pg_database where datname = current_database())"
                           ).fetchone()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    return file_id


def ledger_rows(settings: Settings) -> list[tuple]:
    return query(settings, "select file_id, status, reason_code, duplicate_of_file_id from landing.files "
                           "where source = 'submissions' order by file_id")


def submissions(tmp_path: Path, settings: Settings) -> Path:
    ingest_file(settings, "agencies", write_register(tmp_path), received_at=RECEIVED)
    return write_csv(tmp_path / "bc.csv", SUBMISSION_HEADER, [submission_row(), submission_row("books_published", "3")])


def test_an_arrival_whose_run_is_alive_is_left_alone_and_a_dead_one_is_closed(settings, tmp_path: Path) -> None:
    path = submissions(tmp_path, settings)
    # GIVEN two earlier arrivals of the same bytes, both still 'received': one whose run died, and
    # one whose run is alive (registered, not yet holding the bytes lock: about to load them)
    dead = arrive_and_die(settings, path)
    with psycopg.connect(settings.warehouse_url, autocommit=True) as alive_run:
        alive = arrive(alive_run, path)

        # WHEN a later arrival loads the bytes
        loaded = ingest_file(settings, "submissions", path, received_at=RECEIVED)

        # THEN the dead arrival is closed as a duplicate of it, and the live one is not touched
        # although its file_id is smaller
        assert loaded.status == "loaded" and dead < alive < loaded.file_id
        assert ledger_rows(settings) == [
            (dead, "duplicate", ledger.INTERRUPTED_LOAD, loaded.file_id),
            (alive, "received", None, None),
            (loaded.file_id, "loaded", None, None),
        ]
        reason = query(settings, "select reason from landing.files where file_id = %s", (dead,))[0][0]
        assert reason == f"load interrupted before it committed; the same bytes were loaded as file {loaded.file_id}"

        # WHEN the live run goes on (takes the bytes lock, finds them processed)
        with alive_run.transaction():
            ledger.lock_file_bytes(alive_run, "submissions", loaded.sha256)
            previous = ledger.processed_before(alive_run, "submissions", loaded.sha256, alive)
            assert previous == loaded.file_id
            ledger.mark_duplicate(alive_run, alive, previous)
        ledger.release_arrival(alive_run, alive)

    # THEN it records an ordinary repeat, not an interrupted load
    assert ledger_rows(settings)[1] == (alive, "duplicate", None, loaded.file_id)


def test_an_arrival_waiting_for_the_bytes_lock_while_another_run_loads_them_is_left_alone(
    settings, tmp_path: Path
) -> None:
    path = submissions(tmp_path, settings)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    waiting_run = psycopg.connect(settings.warehouse_url, autocommit=True)
    waited: list[int | None] = []
    errors: list[BaseException] = []

    def go_on() -> None:
        """The rest of the waiting run: take the bytes lock (blocks), then see the bytes processed."""
        try:
            with waiting_run.transaction():
                ledger.lock_file_bytes(waiting_run, "submissions", sha)
                previous = ledger.processed_before(waiting_run, "submissions", sha, waiting)
                waited.append(previous)
                if previous is not None:
                    ledger.mark_duplicate(waiting_run, waiting, previous)
            ledger.release_arrival(waiting_run, waiting)
        except BaseException as exc:  # surfaced by the assertions below
            errors.append(exc)

    thread = threading.Thread(target=go_on)

    def mid_load(rows: int) -> None:
        # In the middle of the load (bytes lock held), the other run starts waiting for that lock.
        if thread.is_alive() or waited:
            return
        thread.start()
        with psycopg.connect(settings.warehouse_url, autocommit=True) as watch:
            deadline = time.monotonic() + 10
            while not watch.execute("select count(*) from pg_locks where locktype = 'advisory' and not granted "
                                    "and pid = %s", (waiting_run.info.backend_pid,)).fetchone()[0]:
                assert time.monotonic() < deadline, "the other run never waited for the bytes lock"
                time.sleep(0.02)

    try:
        # GIVEN a run that registered the bytes first (smaller file_id) and has not loaded them yet
        waiting = arrive(waiting_run, path)

        # WHEN another run loads them, and the first one waits for the bytes lock meanwhile
        loaded = ingest_file(settings, "submissions", path, received_at=RECEIVED, on_rows=mid_load)
        thread.join(30)
    finally:
        waiting_run.close()

    # THEN the loader did not close the waiting run's arrival as interrupted: the waiting run
    # went on and recorded it as an ordinary repeat of the loaded file
    assert errors == [] and not thread.is_alive()
    assert loaded.status == "loaded" and waiting < loaded.file_id
    assert waited == [loaded.file_id]
    assert ledger_rows(settings) == [
        (waiting, "duplicate", None, loaded.file_id),
        (loaded.file_id, "loaded", None, None),
    ]


def test_a_rejection_for_content_closes_the_trace_a_rejection_for_the_envelope_does_not(
    settings, tmp_path: Path
) -> None:
    # GIVEN an arrival of a header-only file whose load died
    path = write_csv(tmp_path / "empty.csv", SUBMISSION_HEADER, [])
    dead = arrive_and_die(settings, path)

    # WHEN the same bytes come with an unsafe name: refused for how they were sent, not judged
    refused = ingest_file(settings, "submissions", path, received_at=RECEIVED, original_name="../empty.csv")
    # THEN the trace stays open
    assert refused.reason_code == ledger.UNSAFE_NAME
    assert ledger_rows(settings)[0] == (dead, "received", None, None)

    # WHEN they come properly and are rejected for what they hold
    rejected = ingest_file(settings, "submissions", path, received_at=RECEIVED)

    # THEN the trace is closed, pointing at the rejection; counts stay empty (rows in = loaded + rejected)
    assert rejected.status == "rejected" and rejected.reason_code == "no_data_rows"
    assert ledger_rows(settings) == [
        (dead, "duplicate", ledger.INTERRUPTED_LOAD, rejected.file_id),
        (refused.file_id, "rejected", ledger.UNSAFE_NAME, None),
        (rejected.file_id, "rejected", "no_data_rows", None),
    ]
    assert query(settings, "select reason, rows_in, rows_loaded, rows_rejected from landing.files "
                           "where file_id = %s", (dead,)) == [
        (f"load interrupted before it committed; the same bytes were rejected as file {rejected.file_id}",
         None, None, None)
    ]
