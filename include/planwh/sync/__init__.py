"""The national sync (task 5.1 of the plans: share the data into the national shared database).

Public entry points:

* :func:`sync_national` — send the marts' changes to the national database, exactly once;
* :func:`export_package` / :func:`load_package` — the same data as an offline package;
* :func:`describe_national` — what the national database holds, per sending deployment;
* :data:`SHARED_TABLES` — what is shared, column by column (:mod:`planwh.sync.contract`).

The national schema is described in :mod:`planwh.sync.national`, the warehouse's own ledger in
:mod:`planwh.sync.source`, the run itself in :mod:`planwh.sync.run`, packages in
:mod:`planwh.sync.package`.
"""

from planwh.sync.contract import SCHEMA_VERSION, SHARED_TABLES
from planwh.sync.errors import BatchRejected, MartsNotReady, PackageError, SyncBusy, SyncError
from planwh.sync.package import ExportResult, LoadResult, export_package, load_package, read_package
from planwh.sync.run import DEFAULT_WAIT_SECONDS, SyncResult, describe_national, sync_national

__all__ = [
    "DEFAULT_WAIT_SECONDS",
    "SCHEMA_VERSION",
    "SHARED_TABLES",
    "BatchRejected",
    "ExportResult",
    "LoadResult",
    "MartsNotReady",
    "PackageError",
    "SyncBusy",
    "SyncError",
    "SyncResult",
    "describe_national",
    "export_package",
    "load_package",
    "read_package",
    "sync_national",
]
