"""``sync_national``: send what changed in the marts to the national database, exactly once.

One run, under the warehouse's sync lock (a second run waits, then gives up with
:class:`SyncBusy`):

1. **Recover.** A batch left ``pending`` by an earlier run is looked up in the national ledger.
   Found: the national side committed it and only the acknowledgement was lost, so it is
   acknowledged here and not sent again. Not found: its national transaction was rolled back
   (the connection dropped mid-batch), so it is marked ``failed`` and its changes simply go
   into this run's delta.
2. **Choose the mode.** If the deployment's latest batch on the national side is the one last
   acknowledged here, send a *delta*: marts compared with ``sync.acknowledged_rows``, rows
   inserted, updated (restatements) or deleted. Otherwise (an offline package was loaded since,
   or the national database was restored) send a *replace* batch: the full snapshot, and the
   national side deletes this deployment's rows that are not in it.
3. **Prepare** the batch in the warehouse (one repeatable-read transaction: marts read, batch
   recorded ``pending`` with its row keys and hashes). Nothing changed: no batch at all, in
   either ledger.
4. **Apply** it on the national side in one transaction (COPY, checks, merge, ledger row).
5. **Acknowledge** it in the warehouse in one transaction (acknowledged rows, batch status),
   then mark it acknowledged in the national ledger.

A crash between 4 and 5 is step 1 of the next run; a failure during 4 leaves nothing there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg

from planwh.console import format_table
from planwh.db import national_url, redact, warehouse_url
from planwh.settings import Settings, load_settings
from planwh.sync import national, source
from planwh.sync.contract import SHARED_TABLES
from planwh.sync.errors import BatchRejected, SyncError

DEFAULT_WAIT_SECONDS = 300.0
COUNT_KINDS = ("inserted", "updated", "deleted")


def counts_table(counts: dict[str, dict[str, int]]) -> str:
    rows = [[t.name, *(counts.get(t.name, {}).get(k, 0) for k in COUNT_KINDS)] for t in SHARED_TABLES]
    return format_table(["national table", *COUNT_KINDS], rows, align="lrrr")


@dataclass
class SyncResult:
    """What a sync did. ``counts`` are as applied on the national side (planned, for a dry run)."""

    deployment_id: str
    deployment_name: str
    batch_id: str | None = None
    sequence: int | None = None
    mode: str | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    recovered: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    def total(self, what: str) -> int:
        return sum(c.get(what, 0) for c in self.counts.values())

    @property
    def changed(self) -> int:
        return sum(self.total(k) for k in COUNT_KINDS)

    def summary(self) -> dict:
        """JSON-safe summary (for XCom and logs): ids and counts, no data."""
        return {
            "deployment_id": self.deployment_id,
            "batch_id": self.batch_id,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "recovered": self.recovered,
            "abandoned": self.abandoned,
            **{k: self.total(k) for k in COUNT_KINDS},
        }

    def describe(self) -> str:
        lines = [f"deployment {self.deployment_name} ({self.deployment_id})"]
        for batch_id in self.recovered:
            lines.append(
                f"earlier batch {batch_id} had been applied on the national database but not acknowledged "
                "here: acknowledged now, not sent again"
            )
        for batch_id in self.abandoned:
            lines.append(
                f"earlier batch {batch_id} never completed on the national database: marked failed, its "
                "changes are in this run"
            )
        if self.dry_run:
            lines.append(f"dry run ({self.mode}): this is what a sync would send; nothing was recorded or sent")
            lines.append(counts_table(self.counts))
        elif self.batch_id is None:
            lines.append("nothing to send: the national database already holds the current marts")
        else:
            lines.append(
                f"batch {self.batch_id} ({self.mode}, sequence {self.sequence}) applied on the national "
                f"database and acknowledged in {self.seconds:.1f} s"
            )
            lines.append(counts_table(self.counts))
        return "\n".join(lines)


def describe_national(settings: Settings | None = None) -> str:
    """What the national database holds, per sending deployment (for the demo and operators)."""
    settings = settings or load_settings()
    with national.open_national(national_url(settings)) as nat:
        national.ensure_schema(nat)
        rows = national.overview(nat)
    if not rows:
        return "the national database holds no batch yet"
    body = [
        [name, deployment_id[:8], provinces, indicators, f"{first}-{last}" if first else "", values,
         f"{finished:%Y-%m-%d %H:%M:%S %Z}"]
        for name, deployment_id, provinces, indicators, first, last, values, finished in rows
    ]
    return format_table(
        ["deployment", "id", "provinces", "indicators", "years", "indicator values", "last batch"], body,
        align="llrrlrl",
    )


def sync_national(
    settings: Settings | None = None,
    *,
    dry_run: bool = False,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    deployment_name: str | None = None,
) -> SyncResult:
    """Send the marts' changes since the last acknowledged batch to the national database.

    Raises :class:`SyncBusy` if another sync or export holds the lock for ``wait_seconds``,
    :class:`MartsNotReady` if a shared mart is missing, :class:`SyncError` if the national side
    failed (nothing partial stays there; run again to complete).
    """
    settings = settings or load_settings()
    started = time.perf_counter()
    source_url = warehouse_url(settings)
    target_url = national_url(settings)
    with source.locked(source_url, wait_seconds), source.open_warehouse(source_url) as src, \
            national.open_national(target_url) as nat:
        source.ensure_schema(src)
        deployment = source.ensure_deployment(src, deployment_name)
        national.ensure_schema(nat)
        result = SyncResult(deployment.deployment_id, deployment.name, dry_run=dry_run)
        if not dry_run:
            _recover(src, nat, result)
            _notify_acknowledged(src, nat)
        latest = national.latest_batch(nat, deployment.deployment_id)
        base = latest.batch_id if latest else None
        mode = "delta" if base == source.last_acknowledged(src) else "replace"
        prepared = source.prepare_batch(
            src, deployment, kind="direct", mode=mode, base_batch_id=base, dry_run=dry_run
        )
        result.mode = mode
        if prepared is None:
            result.seconds = time.perf_counter() - started
            return result
        if dry_run:
            result.counts = prepared.counts
            result.seconds = time.perf_counter() - started
            return result
        batch = prepared.batch
        try:
            applied = national.apply_batch(nat, batch)
        except psycopg.OperationalError as exc:
            # The connection broke: the national transaction is rolled back, unless the break
            # came during COMMIT itself. The batch stays pending; the next run asks the ledger.
            raise SyncError(
                f"the national database ({redact(target_url)}) failed during batch {batch.batch_id}: {exc}. "
                "Nothing of the batch stays there; run the sync again to complete it."
            ) from exc
        except (BatchRejected, psycopg.Error) as exc:
            source.mark_failed(src, batch.batch_id, str(exc))
            raise
        source.acknowledge_batch(src, batch.batch_id, applied.counts)
        _notify_acknowledged(src, nat)
        result.batch_id = batch.batch_id
        result.sequence = batch.sequence
        result.counts = applied.counts
        result.seconds = time.perf_counter() - started
        return result


def _recover(src: psycopg.Connection, nat: psycopg.Connection, result: SyncResult) -> None:
    for batch_id in source.pending_batches(src):
        entry = national.ledger_entry(nat, batch_id)
        if entry is not None:
            source.acknowledge_batch(src, batch_id, entry.counts)
            result.recovered.append(batch_id)
        else:
            source.mark_failed(
                src,
                batch_id,
                "not in the national ledger: its transaction there was rolled back; its changes go in a later batch",
            )
            result.abandoned.append(batch_id)


def _notify_acknowledged(src: psycopg.Connection, nat: psycopg.Connection) -> None:
    batch_ids = source.unnotified_acknowledgements(src)
    if batch_ids:
        national.mark_acknowledged(nat, batch_ids)
        source.mark_notified(src, batch_ids)
