"""The generated sample, end to end: every file ends as its manifest says, every planted fault is
quarantined with its reason at its row, nothing else is, and a second run changes nothing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from ingest_files import query, raw_counts

from planwh.ingest.load import ingest_paths
from planwh.sample import SampleSpec, generate_sample

SOURCES_IN_ORDER = ("agencies", "submissions", "portal", "rosters")  # the register before submissions


def test_the_sample_loads_as_its_manifest_says_and_a_second_run_changes_nothing(settings, tmp_path: Path) -> None:
    # GIVEN a small sample with planted faults
    landing = tmp_path / "landing"
    generate_sample(landing, SampleSpec(provinces=2, years=(2024, 2025), portal_days=2))
    manifest = json.loads((landing / "sample-manifest.json").read_text(encoding="utf-8"))
    expected = {f["path"]: f for f in manifest["files"]}

    # WHEN every source is ingested, folder by folder, each file received when it was sent (mtime)
    outcomes = {}
    for source in SOURCES_IN_ORDER:
        for outcome in ingest_paths(settings, source, [landing / source], progress=False, received_from_mtime=True):
            outcomes[outcome.path.relative_to(landing).as_posix()] = outcome

    # THEN each file is loaded, rejected (with the planted reason) or a duplicate of its twin ...
    assert set(outcomes) == set(expected)
    ids = {path: o.file_id for path, o in outcomes.items()}
    for path, f in expected.items():
        o = outcomes[path]
        assert o.status == f["expected"], (path, o.reason)
        if f["expected"] == "rejected":
            assert o.reason_code == f["reason"], (path, o.reason)
        if f["expected"] == "duplicate":
            assert o.duplicate_of == ids[f["duplicate_of"]], path
        if "supersedes" in f:
            assert o.supersedes_file_id == ids[f["supersedes"]], path
        received = query(settings, "select received_at from landing.files where file_id = %s", (o.file_id,))[0][0]
        assert received == datetime.fromisoformat(f["sent_at"]), path
    # ... each planted row fault is quarantined at its row with its reason, and no other row is
    for path, f in expected.items():
        if f["expected"] != "loaded":
            continue
        o = outcomes[path]
        planted = Counter((fault["row"], fault["reason"]) for fault in f.get("faults", []))
        found = Counter(query(settings, "select distinct row_number, reason_code from quarantine.rejected_rows "
                                        "where file_id = %s", (o.file_id,)))
        assert found == planted, path
        assert o.rows_in - o.rows_skipped == f["rows"] and o.rows_rejected == len({row for row, _ in planted}), path
        # ... and what is skipped is only what sits above the table: title lines, course details, the header
        # and its column numbers
        assert o.rows_in == o.rows_loaded + o.rows_rejected + o.rows_skipped, path
        assert {kind for kind, *_ in o.skipped} <= {"title", "course", "header", "numbering"}, (path, o.skipped)
    # ... formula text is data: stored verbatim
    for path, f in expected.items():
        for special in f.get("specials", []):
            notes = {r[0] for r in query(settings, "select note from raw.agency_submissions where file_id = %s "
                                                   "and row_number = %s", (ids[path], special["row"]))}
            assert notes == {special["value"]}, path

    # WHEN the same folders are ingested again THEN nothing changes but duplicate ledger rows
    before = raw_counts(settings)
    again = [o for source in SOURCES_IN_ORDER
             for o in ingest_paths(settings, source, [landing / source], progress=False)]
    assert raw_counts(settings) == before
    assert {o.status for o in again} == {"duplicate"}
