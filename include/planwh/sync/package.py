"""Offline packages: ``planwh export`` writes one, ``planwh sync --from-package`` loads it.

For a place without a connection to the national database. A package is a folder:

``<table>.csv`` (one per shared table)
    SDMX-CSV 2.0 data: ``STRUCTURE`` (``dataflow``), ``STRUCTURE_ID``
    (``PLANWH:DF_<TABLE>(<schema version>.0)``), ``ACTION``, the dimensions (``INDICATOR``,
    ``REF_AREA``, ``TIME_PERIOD``...), ``OBS_VALUE``, the attributes, and ``ROW_HASH`` (a
    custom column: the row's content hash, re-derived and checked on loading). UTF-8,
    comma-separated; codes as text (``01``), a missing value is ``NaN`` (numbers) or ``#N/A``.
``structure.xml``, ``<table>.xml``
    The SDMX structure the files are read with (SDMX-ML 2.1: codelists, concepts, a data
    structure definition and a dataflow per table) and the same rows as SDMX-ML 2.1
    StructureSpecificData, for SDMX tools (:mod:`planwh.sync.sdmx`).
``manifest.json``
    Format and schema version, deployment id and name, batch id and sequence, mode, creation
    time, batch checksum, for each CSV file its table, structure id, rows, bytes and SHA-256,
    and the bytes and SHA-256 of each SDMX-ML file.

Reading a package with an SDMX library (``sdmx1`` and ``pysdmx`` are tested)::

    import sdmx
    structure = sdmx.read_sdmx("structure.xml")
    dataflow = structure.dataflow["DF_INDICATOR_VALUES"]
    data = sdmx.read_sdmx("indicator_values.csv", structure=dataflow)   # or indicator_values.xml

    from pysdmx.io import get_datasets
    datasets = get_datasets("indicator_values.xml", "structure.xml")

A package is a **full snapshot** of the deployment's shared data (``ACTION`` = ``I`` on every
row, mode ``replace``), not the pending delta: it does not depend on what the national side
already has, so it can be carried late, loaded after other packages or loaded twice. Loading
replaces the deployment's rows: rows in the package are upserted (unchanged ones are left
alone), the deployment's rows absent from it are deleted, which is how deletions travel
offline. A package already loaded (same batch id) is a no-op; one older than what the
national side holds for the deployment (lower sequence) is refused rather than bringing back
old figures. The next direct sync notices that the national side moved on without it and
sends a full snapshot once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from planwh.db import national_url, warehouse_url
from planwh.settings import Settings, load_settings
from planwh.sync import national, sdmx, source
from planwh.sync.contract import SCHEMA_VERSION, SHARED_TABLES, Batch
from planwh.sync.errors import PackageError
from planwh.sync.run import DEFAULT_WAIT_SECONDS, counts_table

PACKAGE_FORMAT = "planwh-national-package"
PACKAGE_FORMAT_VERSION = 2
MANIFEST = "manifest.json"


@dataclass
class ExportResult:
    directory: Path
    deployment_id: str
    batch_id: str
    sequence: int
    rows: dict[str, int]
    seconds: float = 0.0

    def describe(self) -> str:
        body = "\n".join(f"  {name}.csv: {n} rows" for name, n in self.rows.items())
        return (
            f"package {self.batch_id} (deployment {self.deployment_id}, sequence {self.sequence}) written to "
            f"{self.directory} in {self.seconds:.1f} s\n{body}\n"
            f"load it on the national side with: planwh sync --from-package {self.directory}"
        )


@dataclass
class LoadResult:
    directory: Path
    deployment_id: str
    deployment_name: str
    batch_id: str
    already_loaded: bool
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    dry_run: bool = False
    seconds: float = 0.0

    def describe(self) -> str:
        head = f"package {self.batch_id} from {self.deployment_name} ({self.deployment_id})"
        if self.already_loaded:
            return f"{head} was already loaded: nothing changed"
        verb = "would change (dry run, rolled back)" if self.dry_run else f"loaded in {self.seconds:.1f} s"
        return f"{head} {verb}\n{counts_table(self.counts)}"


def _data_rows(data: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8")))) - 1


def _default_directory(settings: Settings, deployment_id: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.state_dir / "exports" / f"planwh-{deployment_id[:8]}-{stamp}"


def export_package(
    settings: Settings | None = None,
    out_dir: Path | str | None = None,
    *,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    deployment_name: str | None = None,
) -> ExportResult:
    """Write a full-snapshot package of the shared marts to ``out_dir`` (new or empty folder).

    Default folder: ``<state>/exports/planwh-<deployment>-<UTC time>``. The files appear
    together (written to ``<out_dir>.partial``, then renamed), and the export is recorded in
    ``sync.batches`` with status ``exported``.
    """
    settings = settings or load_settings()
    started = time.perf_counter()
    url = warehouse_url(settings)
    with source.locked(url, wait_seconds), source.open_warehouse(url) as src:
        source.ensure_schema(src)
        deployment = source.ensure_deployment(src, deployment_name)
        out = Path(out_dir) if out_dir else _default_directory(settings, deployment.deployment_id)
        out = out.expanduser().resolve()
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise PackageError(f"{out} exists and is not an empty folder: choose a new folder for the package")
        partial = out.with_name(out.name + ".partial")
        rows: dict[str, int] = {}

        def write(batch: Batch) -> None:
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            files = []
            for table in SHARED_TABLES:
                data = batch.files[table.name]
                (partial / table.file_name).write_bytes(data)
                rows[table.name] = _data_rows(data)
                files.append({
                    "table": table.name,
                    "path": table.file_name,
                    "structure_id": table.structure_id,
                    "rows": rows[table.name],
                    "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                })
            sdmx_files = []
            message_id = f"PLANWH_{batch.batch_id}"
            documents = [("structure", None, sdmx.STRUCTURE_FILE,
                          sdmx.structure_message(batch.files, message_id=message_id, prepared=batch.created_at))]
            documents += [
                ("data", table.name, f"{table.name}.xml",
                 sdmx.data_message(table, batch.files[table.name], message_id=message_id, prepared=batch.created_at))
                for table in SHARED_TABLES
            ]
            for kind, table_name, name, data in documents:
                (partial / name).write_bytes(data)
                sdmx_files.append({"kind": kind, "table": table_name, "path": name, "bytes": len(data),
                                   "sha256": hashlib.sha256(data).hexdigest()})
            manifest = {
                "format": PACKAGE_FORMAT,
                "format_version": PACKAGE_FORMAT_VERSION,
                "schema_version": batch.schema_version,
                "deployment_id": batch.deployment_id,
                "deployment_name": batch.deployment_name,
                "batch_id": batch.batch_id,
                "sequence": batch.sequence,
                "mode": batch.mode,
                "created_at": batch.created_at.astimezone(UTC).isoformat(),
                "checksum": batch.checksum,
                "files": files,
                "sdmx_ml": sdmx_files,
            }
            (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
            if out.exists():
                out.rmdir()
            partial.rename(out)

        try:
            prepared = source.prepare_batch(
                src, deployment, kind="package", mode="replace", base_batch_id=None,
                package_path=str(out), on_prepared=write,
            )
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    batch = prepared.batch
    return ExportResult(out, deployment.deployment_id, batch.batch_id, batch.sequence, rows,
                        time.perf_counter() - started)


def _verified(folder: Path, manifest_path: Path, entry: dict, what: str) -> bytes:
    """A file the manifest lists, checked against its size and SHA-256."""
    name = str(entry.get("path", ""))
    if name != Path(name).name or name in ("", ".", ".."):
        raise PackageError(f"{manifest_path}: file path {name!r} of {what} must be a plain file name")
    path = folder / name
    if not path.is_file():
        raise PackageError(f"{path}: listed in the manifest but missing")
    data = path.read_bytes()
    if len(data) != entry.get("bytes") or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise PackageError(
            f"{path}: size or SHA-256 differs from the manifest; the file was changed or damaged after export"
        )
    return data


def read_package(directory: Path | str) -> tuple[dict, Batch, dict[str, int]]:
    """Read and verify a package: manifest, format and schema version, every file's size and SHA-256.

    Returns the manifest, the batch and the data rows per table the manifest announces.
    """
    folder = Path(directory)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise PackageError(f"{folder}: no {MANIFEST}; not a package written by `planwh export`")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{manifest_path}: not valid JSON ({exc})") from exc
    required = ("format", "format_version", "schema_version", "deployment_id", "deployment_name", "batch_id",
                "sequence", "mode", "created_at", "checksum", "files", "sdmx_ml")
    missing = [k for k in required if k not in manifest]
    if missing:
        raise PackageError(f"{manifest_path}: missing field(s) {', '.join(missing)}")
    if manifest["format"] != PACKAGE_FORMAT or manifest["format_version"] != PACKAGE_FORMAT_VERSION:
        raise PackageError(
            f"{manifest_path}: format {manifest['format']!r} version {manifest['format_version']!r}; "
            f"this planwh reads {PACKAGE_FORMAT!r} version {PACKAGE_FORMAT_VERSION}"
        )
    if manifest["schema_version"] != SCHEMA_VERSION:
        raise PackageError(
            f"{manifest_path}: the package is of national schema version {manifest['schema_version']}; this "
            f"planwh loads version {SCHEMA_VERSION}. Load it with a planwh of the same version."
        )
    if manifest["mode"] != "replace":
        raise PackageError(f"{manifest_path}: mode {manifest['mode']!r}; packages are full snapshots ('replace')")
    entries = {entry.get("table"): entry for entry in manifest["files"]}
    files: dict[str, bytes] = {}
    rows: dict[str, int] = {}
    for table in SHARED_TABLES:
        entry = entries.get(table.name)
        if entry is None:
            raise PackageError(f"{manifest_path}: no file listed for table {table.name}")
        files[table.name] = _verified(folder, manifest_path, entry, table.name)
        rows[table.name] = int(entry.get("rows", -1))
    for entry in manifest["sdmx_ml"]:
        _verified(folder, manifest_path, entry, entry.get("table") or entry.get("kind", "?"))
    try:
        created_at = datetime.fromisoformat(manifest["created_at"])
    except (TypeError, ValueError) as exc:
        raise PackageError(f"{manifest_path}: created_at {manifest['created_at']!r} is not an ISO time") from exc
    batch = Batch(
        batch_id=str(manifest["batch_id"]),
        deployment_id=str(manifest["deployment_id"]),
        deployment_name=str(manifest["deployment_name"]),
        sequence=int(manifest["sequence"]),
        kind="package",
        mode="replace",
        base_batch_id=None,
        schema_version=int(manifest["schema_version"]),
        created_at=created_at,
        checksum=str(manifest["checksum"]),
        files=files,
    )
    return manifest, batch, rows


def load_package(
    directory: Path | str,
    settings: Settings | None = None,
    *,
    url: str | None = None,
    dry_run: bool = False,
) -> LoadResult:
    """Load a package into the national database (``url``, default the configured one).

    Same guarantees as a direct sync: one transaction, the ledger row in it, a package already
    loaded is a no-op. ``dry_run`` applies and rolls back, so its counts are exact.
    """
    started = time.perf_counter()
    _, batch, rows = read_package(directory)
    target = url or national_url(settings or load_settings())
    with national.open_national(target) as nat:
        national.ensure_schema(nat)
        applied = national.apply_batch(nat, batch, expected_rows=rows, commit=not dry_run)
    return LoadResult(
        Path(directory), batch.deployment_id, batch.deployment_name, batch.batch_id,
        applied.already_applied, applied.counts, dry_run, time.perf_counter() - started,
    )
