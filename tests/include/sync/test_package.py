"""Offline packages: export, load into another national database, reload, refuse damaged or stale ones."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import psycopg
import pytest
from sync_marts import Marts, plant_personal_data, scan_for_personal_data

from planwh.commands import sync as sync_command
from planwh.settings import Settings
from planwh.sync import (
    BatchRejected,
    PackageError,
    export_package,
    load_package,
    national,
    source,
    sync_national,
)
from planwh.sync.contract import SHARED_TABLES


def national_rows(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {t.name: national.read_rows(conn, t) for t in SHARED_TABLES}


def ledger(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select batch_id::text, kind, mode, status, rows_inserted, rows_updated, rows_deleted "
            "from national.batches order by source_sequence"
        ).fetchall()


def rewrite_manifest(package: Path, change) -> None:
    path = package / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), "utf-8")


def test_package_round_trip_gives_the_same_rows_as_a_direct_sync(
    settings: Settings, marts: Marts, spare_national_url: str, tmp_path: Path
) -> None:
    # GIVEN a direct sync to the national database
    sync_national(settings)

    # WHEN the same warehouse exports a package and it is loaded into another, empty national database
    exported = export_package(settings, tmp_path / "package")
    loaded = load_package(exported.directory, url=spare_national_url)

    # THEN that database holds exactly the rows of the direct sync
    assert national_rows(spare_national_url) == national_rows(settings.national_url)
    assert loaded.counts["indicator_values"] == {"received": 27, "inserted": 27, "updated": 0, "deleted": 0}
    assert ledger(spare_national_url) == [(exported.batch_id, "package", "replace", "loaded", marts.total, 0, 0)]

    # ... the package is SDMX-CSV files, their SDMX structure and SDMX-ML twins, and a manifest
    # with checksums and the schema version
    manifest = json.loads((exported.directory / "manifest.json").read_text("utf-8"))
    assert manifest["schema_version"] == 2 and manifest["batch_id"] == exported.batch_id
    assert manifest["deployment_id"] == exported.deployment_id
    assert {f["path"] for f in manifest["files"]} == {f"{t.name}.csv" for t in SHARED_TABLES}
    assert {f["path"] for f in manifest["sdmx_ml"]} == {"structure.xml", *(f"{t.name}.xml" for t in SHARED_TABLES)}
    for entry in manifest["files"] + manifest["sdmx_ml"]:
        data = (exported.directory / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    for entry in manifest["files"]:
        assert entry["rows"] == len(marts.rows[next(t.mart for t in SHARED_TABLES if t.name == entry["table"])])
    assert sorted(p.name for p in exported.directory.iterdir()) == sorted(
        ["manifest.json", *(e["path"] for e in manifest["files"] + manifest["sdmx_ml"])])
    with open(exported.directory / "indicator_values.csv", encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    assert list(records[0])[:7] == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "INDICATOR", "REF_AREA", "TIME_PERIOD",
                                    "OBS_VALUE"]
    assert {(r["STRUCTURE"], r["STRUCTURE_ID"], r["ACTION"]) for r in records} == {
        ("dataflow", "PLANWH:DF_INDICATOR_VALUES(2.0)", "I")
    }
    hanoi = next(r for r in records if (r["INDICATOR"], r["REF_AREA"], r["TIME_PERIOD"]) == (
        "books_published", "01", "2024"))
    assert hanoi["OBS_VALUE"] == str(marts.find(
        "fct_indicator_progress", indicator_code="books_published", province_code="01", year=2024)["value"])
    # codes as text, status as its code, missing values as SDMX's markers (an empty field means "not reported")
    assert hanoi["REF_AREA"] == "01" and hanoi["PROGRESS_STATUS"] == "at_risk"
    assert hanoi["TARGET_SCOPE"] == "#N/A" and hanoi["TARGET_VALUE_HIGH"] == "NaN"
    with open(exported.directory / "indicator_values_legacy.csv", encoding="utf-8", newline="") as fh:
        legacy = {(r["INDICATOR"], r["REF_AREA"], r["TIME_PERIOD"]): r for r in csv.DictReader(fh)}
    assert len(legacy) == len(marts.rows["fct_indicator_progress_legacy"])
    no_data = legacy["trained_hr_officials", "01", "2024"]
    assert (no_data["OBS_VALUE"], no_data["PROGRESS_STATUS"], no_data["CURRENT_REF_AREA"]) == ("NaN", "no_data", "01")
    assert legacy["spokesperson_mechanism", "49", "2024"]["CURRENT_REF_AREA"] == "48"

    # WHEN the same package is loaded again
    again = load_package(exported.directory, url=spare_national_url)

    # THEN nothing happens
    assert again.already_loaded and "already loaded" in again.describe()
    assert len(ledger(spare_national_url)) == 1


def test_a_newer_package_replaces_the_deployment_rows_and_an_older_one_is_refused(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, spare_national_url: str, tmp_path: Path
) -> None:
    # GIVEN two packages: the second after a restatement and a withdrawn row
    first = export_package(settings, tmp_path / "p1")
    row = marts.find("fct_indicator_progress", indicator_code="books_published", province_code="48", year=2025)
    row["value"] = row["numerator"] = 999
    marts.rows["fct_submission_compliance_by_province"].remove(
        marts.find("fct_submission_compliance_by_province", province_code="48", year=2023, period_kind="year"))
    marts.write(warehouse)
    second = export_package(settings, tmp_path / "p2")
    load_package(first.directory, url=spare_national_url)
    untouched = national_rows(spare_national_url)["training_coverage"]

    # WHEN the second is loaded after the first
    result = load_package(second.directory, url=spare_national_url)

    # THEN only the differences change: one update, one deletion
    assert {t: {k: v for k, v in c.items() if k != "received"} for t, c in result.counts.items()
            if any(v for k, v in c.items() if k != "received")} == {
        "indicator_values": {"inserted": 0, "updated": 1, "deleted": 0},
        "submission_compliance": {"inserted": 0, "updated": 0, "deleted": 1},
    }
    with psycopg.connect(spare_national_url) as conn:
        assert conn.execute(
            "select value from national.indicator_values "
            "where indicator_code = 'books_published' and province_code = '48' and year = 2025"
        ).fetchone()[0] == 999
        assert conn.execute("select count(*) from national.submission_compliance").fetchone()[0] == 11
    assert national_rows(spare_national_url)["training_coverage"] == untouched

    # WHEN the first (older) package is carried in again after a fresh copy of it was made
    stale = tmp_path / "p1-copy"
    shutil.copytree(first.directory, stale)
    rewrite_manifest(stale, lambda m: m.update(batch_id="00000000-0000-4000-8000-000000000001"))

    # THEN it is refused rather than bringing back old figures
    with pytest.raises(BatchRejected, match="older than batch"):
        load_package(stale, url=spare_national_url)
    assert len(ledger(spare_national_url)) == 2


def test_a_damaged_or_foreign_package_is_refused_with_the_file_named(
    settings: Settings, marts: Marts, spare_national_url: str, tmp_path: Path
) -> None:
    exported = export_package(settings, tmp_path / "package")

    # a changed byte in a data file
    damaged = tmp_path / "damaged"
    shutil.copytree(exported.directory, damaged)
    path = damaged / "training_coverage.csv"
    path.write_bytes(path.read_bytes().replace(b",I,", b",U,", 1))
    with pytest.raises(PackageError, match=r"training_coverage\.csv: size or SHA-256 differs"):
        load_package(damaged, url=spare_national_url)

    # the same change with the manifest's checksum forged: the row hash and action checks catch it
    rewrite_manifest(damaged, lambda m: [
        f.update(sha256=hashlib.sha256(path.read_bytes()).hexdigest()) for f in m["files"]
        if f["table"] == "training_coverage"
    ])
    with pytest.raises(BatchRejected, match=r"training_coverage\.csv, data row 1: ACTION must be I"):
        load_package(damaged, url=spare_national_url)

    # a value changed and its file checksum forged
    def forge(name: str, header: str, value: str) -> Path:
        forged = tmp_path / f"forged-{header}"
        shutil.copytree(exported.directory, forged)
        path = forged / f"{name}.csv"
        lines = path.read_text("utf-8").splitlines(keepends=True)
        fields = next(csv.reader([lines[3]]))
        fields[next(csv.reader([lines[0]])).index(header)] = value
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(fields)
        path.write_text("".join([*lines[:3], buffer.getvalue(), *lines[4:]]), "utf-8")
        rewrite_manifest(forged, lambda m: [
            f.update(sha256=hashlib.sha256(path.read_bytes()).hexdigest(), bytes=path.stat().st_size)
            for f in m["files"] if f["table"] == name
        ])
        return forged

    with pytest.raises(BatchRejected, match=r"indicator_values\.csv, data row 3: ROW_HASH does not match"):
        load_package(forge("indicator_values", "OBS_VALUE", "100"), url=spare_national_url)
    # ... or not a code, or not a number: refused with the row and the column
    with pytest.raises(BatchRejected, match=r"indicator_values\.csv, data row 3, PROGRESS_STATUS: 'on track' is "
                                            r"not a code of CL_PROGRESS_STATUS"):
        load_package(forge("indicator_values", "PROGRESS_STATUS", "on track"), url=spare_national_url)
    with pytest.raises(BatchRejected, match=r"indicator_values\.csv, data row 3, TARGET_VALUE: 'n/a' is not a value "
                                            r"of type numeric or NaN"):
        load_package(forge("indicator_values", "TARGET_VALUE", "n/a"), url=spare_national_url)

    # a package of another schema version
    other = tmp_path / "other-version"
    shutil.copytree(exported.directory, other)
    rewrite_manifest(other, lambda m: m.update(schema_version=1))
    with pytest.raises(PackageError, match="schema version 1"):
        load_package(other, url=spare_national_url)

    # nothing was loaded by any of them
    assert all(not rows for rows in national_rows(spare_national_url).values())


def test_a_direct_sync_after_a_package_sends_a_full_snapshot_once(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, tmp_path: Path
) -> None:
    # GIVEN a direct sync, then a row added, carried to the national database by a package
    sync_national(settings)
    new_row = dict(marts.find("fct_training_coverage", category_code="hr_official", province_code="01", year=2025))
    new_row["year"] = 2026
    marts.rows["fct_training_coverage"].append(new_row)
    marts.write(warehouse)
    load_package(export_package(settings, tmp_path / "package").directory, settings)

    # ... and then withdrawn again in the warehouse
    marts.rows["fct_training_coverage"].remove(new_row)
    marts.write(warehouse)

    # WHEN the warehouse syncs directly again
    result = sync_national(settings)

    # THEN it notices the national side moved on, sends a full snapshot, and the withdrawn row
    # (which it never had acknowledged) is deleted there
    assert result.mode == "replace" and result.changed == 1 and result.total("deleted") == 1
    with psycopg.connect(settings.national_url) as conn:
        assert conn.execute("select count(*) from national.training_coverage where year = 2026").fetchone()[0] == 0
    assert [r[1:3] for r in ledger(settings.national_url)] == [
        ("direct", "delta"), ("package", "replace"), ("direct", "replace")
    ]
    assert sync_national(settings).batch_id is None


def test_no_personal_data_reaches_the_national_database_or_a_package(
    settings: Settings, marts: Marts, warehouse: psycopg.Connection, tmp_path: Path
) -> None:
    # GIVEN a test roster's names, ID numbers and person keys in the warehouse
    plant_personal_data(warehouse)
    blobs = []
    for schema, table in warehouse.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('raw', 'quarantine', 'marts', 'landing')"
    ).fetchall():
        out = bytearray()
        with warehouse.cursor().copy(f'copy "{schema}"."{table}" to stdout') as copy:
            for chunk in copy:
                out += chunk
        blobs.append((f"{schema}.{table}", bytes(out)))
    assert len({hit.split(":")[0] for hit in scan_for_personal_data(iter(blobs))}) >= 4  # the canaries are there

    # WHEN the warehouse syncs and exports a package
    sync_national(settings)
    exported = export_package(settings, tmp_path / "package")

    # THEN no column of any table of the national database, and no exported file, holds any of it
    found = []
    with psycopg.connect(settings.national_url, autocommit=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'"
        ).fetchall()
        assert len(tables) == 8
        for schema, table in tables:
            out = bytearray()
            with conn.cursor().copy(f'copy "{schema}"."{table}" to stdout') as copy:
                for chunk in copy:
                    out += chunk
            assert out or table == "batches", f"{schema}.{table} is empty: the scan would prove nothing"
            found += scan_for_personal_data(iter([(f"{schema}.{table}", bytes(out))]))
    files = sorted(exported.directory.iterdir())
    assert len(files) == 2 * len(SHARED_TABLES) + 2  # CSV and XML per table, structure, manifest
    found += scan_for_personal_data((str(path), path.read_bytes()) for path in files)
    assert found == []


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="planwh")
    sync_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_command_line_sync_export_and_load(
    settings: Settings, marts: Marts, tmp_path: Path, spare_national_url: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _cli("sync", "--dry-run") == 0
    assert "dry run (delta)" in capsys.readouterr().out
    assert _cli("sync", "--name", "Sở TT&TT Đà Nẵng") == 0
    out = capsys.readouterr().out
    assert "Sở TT&TT Đà Nẵng" in out and "indicator_values" in out
    assert _cli("sync") == 0
    assert "nothing to send" in capsys.readouterr().out

    assert _cli("export", "--out", str(tmp_path / "pkg")) == 0
    assert "planwh sync --from-package" in capsys.readouterr().out
    assert _cli("export", "--out", str(tmp_path / "pkg")) == 1
    assert "not an empty folder" in capsys.readouterr().err

    monkeypatch.setenv("PLANWH_NATIONAL_URL", spare_national_url)
    assert _cli("sync", "--from-package", str(tmp_path / "pkg"), "--dry-run") == 0
    assert "dry run, rolled back" in capsys.readouterr().out
    assert _cli("sync", "--from-package", str(tmp_path / "pkg")) == 0
    assert "Sở TT&TT Đà Nẵng" in capsys.readouterr().out
    assert ledger(spare_national_url)[0][1:4] == ("package", "replace", "loaded")
    assert _cli("sync", "--from-package", str(tmp_path / "nowhere")) == 1
    assert "no manifest.json" in capsys.readouterr().err

    with psycopg.connect(settings.warehouse_url, autocommit=True) as other:
        other.execute("select pg_advisory_lock(%s, %s)", source.SOURCE_LOCK)
        assert _cli("sync", "--wait", "0") == sync_command.EXIT_BUSY
        assert "another national sync or export" in capsys.readouterr().err
