"""What can go wrong in a sync or a package load, each with a message that says what to do."""

from __future__ import annotations


class SyncError(RuntimeError):
    """The sync or package load stopped; nothing partial was committed on the national side."""


class SyncBusy(SyncError):
    """Another sync of the same warehouse holds the lock."""


class MartsNotReady(SyncError):
    """A shared mart or one of its columns is missing in the warehouse."""


class BatchRejected(SyncError):
    """The national database refused a batch (bad file, checksum, stale or conflicting batch)."""


class PackageError(SyncError):
    """An offline package is incomplete, altered or of an unknown format."""
