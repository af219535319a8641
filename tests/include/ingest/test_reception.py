"""The reception ledger on its own: what a sweep registers, what waits, what is skipped, and when a
file counts as received. (How runs take and load files by interval: tests/include/orchestration/
test_intervals.py; against the real DAGs: tests/dags.)"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from ingest_files import PORTAL_HEADER, csv_text, portal_row

from planwh.ingest.parsing import VIETNAM_TZ
from planwh.ingest.reception import landing_status, receive, sweep
from planwh.settings import Settings

NOW = datetime(2024, 12, 10, 0, 5, tzinfo=VIETNAM_TZ)  # the sweeps' clock, as a daily run just after midnight


def export(settings: Settings, name: str, articles: int = 3, *, mtime: datetime | None = None) -> Path:
    """A portal export of ``articles`` rows in ``<landing>/portal/``, modified at ``mtime``."""
    path = settings.landing_dir / "portal" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text([PORTAL_HEADER, *[portal_row(f"a{i}", str(100 + i)) for i in range(articles)]]),
                    encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def ledger(settings: Settings) -> list[tuple]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute(
            "select original_name, status, reason_code, rows_in, rows_loaded from landing.files order by file_id"
        ).fetchall()


def receptions(settings: Settings) -> list[tuple]:
    with psycopg.connect(settings.warehouse_url) as conn:
        return conn.execute(
            "select path, first_seen_at, received_at from landing.receptions order by reception_id"
        ).fetchall()


def test_a_file_still_being_written_waits_until_it_is_complete(settings: Settings, monkeypatch) -> None:
    # GIVEN the quiet period of production (a file written to in the last minute may be incomplete)
    monkeypatch.setenv("PLANWH_LANDING_QUIET_SECONDS", "60")
    settings = settings.with_overrides(landing_quiet_seconds=60)
    full = csv_text([PORTAL_HEADER, *[portal_row(f"a{i}", str(100 + i)) for i in range(40)]]).encode()
    path = settings.landing_dir / "portal" / "quangnam_2024-11-30.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(full[: len(full) // 2])  # an upload half done

    # WHEN a run sweeps while the upload is under way, then after more bytes came
    first = receive(settings, "portal", None, None, now=NOW)
    with open(path, "ab") as fh:
        fh.write(full[len(full) // 2 :])
    second = receive(settings, "portal", None, None, now=NOW + timedelta(minutes=1))

    # THEN nothing was registered or loaded: each time it had changed since it was last seen
    assert first.outcomes == second.outcomes == [] and ledger(settings) == []
    assert [w[:2] for w in first.sweep.waiting] == [("quangnam_2024-11-30.csv", "being_written")]
    assert [w[:2] for w in second.sweep.waiting] == [("quangnam_2024-11-30.csv", "being_written")]
    statuses, _ = landing_status(settings, ["portal"], now=NOW + timedelta(minutes=1))
    assert [(w.path, w.state) for w in statuses[0].pending] == [("quangnam_2024-11-30.csv", "waiting")]

    # WHEN the next sweep finds it unchanged
    third = receive(settings, "portal", None, None, now=NOW + timedelta(minutes=2))

    # THEN it is loaded whole, once, received when the ledger first saw its complete content
    assert [(o.status, o.rows_loaded, o.rows_rejected) for o in third.outcomes] == [("loaded", 40, 0)]
    assert [r[0] for r in receptions(settings)] == ["quangnam_2024-11-30.csv"]
    assert receptions(settings)[0][1] == NOW + timedelta(minutes=1)
    assert receive(settings, "portal", None, None, now=NOW + timedelta(minutes=3)).outcomes == []
    assert len(ledger(settings)) == 1


def test_a_temporary_name_waits_until_the_file_is_renamed(settings: Settings) -> None:
    part = export(settings, "bao-cao.csv.part", mtime=NOW - timedelta(days=3))
    crdownload = export(settings, "thong-ke.csv.crdownload", 4, mtime=NOW - timedelta(days=3))

    waited = receive(settings, "portal", None, None, now=NOW)
    assert waited.outcomes == [] and {w[1] for w in waited.sweep.waiting} == {"temporary_name"}

    part.rename(part.with_suffix(""))
    crdownload.rename(crdownload.with_suffix(""))
    done = receive(settings, "portal", None, None, now=NOW + timedelta(days=1))

    assert sorted((o.original_name, o.status) for o in done.outcomes) == [
        ("bao-cao.csv", "loaded"), ("thong-ke.csv", "loaded")]
    statuses, _ = landing_status(settings, ["portal"], now=NOW + timedelta(days=1))
    assert statuses[0].pending == []  # the temporary names are gone, and so is what the sweeps noted of them


def test_lock_files_hidden_files_and_litter_are_skipped_listed_once_and_never_loaded(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    folder = settings.landing_dir / "submissions"
    folder.mkdir(parents=True)
    litter = {
        "~$bao-cao.xlsx": "office_lock_file",
        ".DS_Store": "os_litter",
        "Thumbs.db": "os_litter",
        "2024/desktop.ini": "os_litter",
        ".bao-cao.csv.swp": "hidden_file",
        ".Trash-1000": "hidden_folder",
    }
    for name in litter:
        target = folder / name
        if name == ".Trash-1000":
            (target / "files").mkdir(parents=True)
            (target / "files" / "old.csv").write_text("Mã tỉnh\r\n49\r\n")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"\x00\x01 not a report")

    with caplog.at_level(logging.WARNING, logger="planwh.ingest.reception"):
        first = receive(settings, "submissions", None, None, now=NOW)
        second = receive(settings, "submissions", None, None, now=NOW + timedelta(days=1))

    assert first.outcomes == second.outcomes == [] and ledger(settings) == []
    assert {s.rel: s.reason_code for s in first.sweep.skipped} == litter
    # listed once: the first sweep warns about each, the second has nothing new to say
    assert {s.rel for s in first.sweep.newly_skipped} == set(litter) and second.sweep.newly_skipped == []
    assert sum("skipped" in r.getMessage() for r in caplog.records) == len(litter)
    statuses, _ = landing_status(settings, ["submissions"], now=NOW)
    assert {s.rel for s in statuses[0].skipped} == set(litter) and statuses[0].pending == []


def test_a_zero_byte_file_is_recorded_and_rejected_with_its_reason(settings: Settings) -> None:
    empty = settings.landing_dir / "portal" / "quangnam_2024-12-01.csv"
    empty.parent.mkdir(parents=True)
    empty.touch()
    os.utime(empty, ((NOW - timedelta(hours=5)).timestamp(),) * 2)

    done = receive(settings, "portal", None, None, now=NOW)

    (outcome,) = done.outcomes
    assert (outcome.status, outcome.reason_code) == ("rejected", "empty_file")
    assert ledger(settings) == [("quangnam_2024-12-01.csv", "rejected", "empty_file", None, None)]
    assert receive(settings, "portal", None, None, now=NOW + timedelta(days=1)).outcomes == []


def test_reception_time_is_the_modification_time_only_inside_the_window_the_ledger_proves(
    settings: Settings,
) -> None:
    # GIVEN a landing folder with history, swept for the first time: no lower bound, so the history is
    # taken over at the files' own times
    export(settings, "2024-11-01.csv", mtime=datetime(2024, 11, 2, 1, 30, tzinfo=VIETNAM_TZ))
    sweep(settings, "portal", now=NOW)
    # ... then, before the next sweep, a file copied with its 2019 time kept, one whose sender's clock is
    # ahead, and one with an ordinary time
    export(settings, "copied.csv", 2, mtime=datetime(2019, 5, 1, tzinfo=VIETNAM_TZ))
    export(settings, "ahead.csv", 4, mtime=NOW + timedelta(days=40))
    export(settings, "plain.csv", 5, mtime=NOW + timedelta(hours=9))

    sweep(settings, "portal", now=NOW + timedelta(days=1))

    received = {path: (first_seen, at) for path, first_seen, at in receptions(settings)}
    assert received["2024-11-01.csv"] == (NOW, datetime(2024, 11, 2, 1, 30, tzinfo=VIETNAM_TZ))
    # the 2019 time is impossible (the previous sweep did not see the file), so is a time ahead of the
    # sweep that saw it: both are received when first seen
    assert received["copied.csv"] == (NOW + timedelta(days=1), NOW + timedelta(days=1))
    assert received["ahead.csv"] == (NOW + timedelta(days=1), NOW + timedelta(days=1))
    assert received["plain.csv"] == (NOW + timedelta(days=1), NOW + timedelta(hours=9))
    # a sweep with nothing new registers nothing
    assert sweep(settings, "portal", now=NOW + timedelta(days=2)).registered == []
    assert len(receptions(settings)) == 4


def test_a_landing_file_loaded_before_the_ledger_registered_it_is_not_loaded_again(settings: Settings) -> None:
    # GIVEN an export an operator loaded by hand from the landing folder (`planwh ingest`), or that a
    # warehouse older than the reception ledger loaded
    from planwh.ingest.load import ingest_paths

    path = export(settings, "2024-11-30.csv", mtime=NOW - timedelta(hours=3))
    (by_hand,) = ingest_paths(settings, "portal", [path], progress=False, received_from_mtime=True)

    # WHEN the daily run sweeps and takes what no run has taken
    done = receive(settings, "portal", None, None, now=NOW)

    # THEN the file is registered and counted as loaded by that arrival: no second ledger row
    assert by_hand.status == "loaded" and done.outcomes == [] and len(done.taken) == 1
    with psycopg.connect(settings.warehouse_url) as conn:
        assert conn.execute("select file_id, reception_id is not null from landing.files").fetchall() == [
            (by_hand.file_id, True)]
    statuses, _ = landing_status(settings, ["portal"], now=NOW)
    assert (statuses[0].registered, statuses[0].loaded, statuses[0].pending) == (1, 1, [])
