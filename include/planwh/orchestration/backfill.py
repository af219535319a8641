"""``planwh backfill``: the ingest DAGs' task code over a range of days, without a scheduler.

For an engineer on a laptop: day by day, oldest first, each day exactly what the day's DAG run
does (the files the reception ledger received that day, the portal APIs from their cursors if
portals are named, the gate), so the warehouse ends as the daily runs (or ``airflow backfill
create``) would have left it. A day older than the live window does not sweep the landing
folders: files never registered wait for the next daily run, or for ``planwh landing sweep``
(``--history`` to register them at their own times) before a backfill of their days. Days already
processed change nothing. ``--transform`` runs the daily ``dbt build`` once at the end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from planwh.orchestration.tasks import GateResult, Interval, StepResult, build_warehouse, run_ingest_sources
from planwh.settings import Settings

# What each SOURCE of the command runs, in order. Submissions are checked against the agency
# register, so backfilling them takes the registers of the same days first, as their DAG does.
SOURCE_GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "agencies": (("agencies",),),
    "submissions": (("agencies", "submissions"),),
    "portal": (("portal",),),
    "rosters": (("rosters",),),
    "all": (("agencies", "submissions"), ("portal",), ("rosters",)),
}
MAX_DAYS = 3660


class BackfillError(ValueError):
    """The range or source asked for cannot be backfilled."""


@dataclass
class DayResult:
    day: date
    sources: tuple[str, ...]
    loaded: StepResult
    gate: GateResult
    seconds: float

    def row(self) -> list[object]:
        t, g = self.loaded.totals, self.gate.totals
        return [
            self.day.isoformat(),
            "+".join(self.sources),
            t.get("files_received", 0),
            t.get("files_loaded", 0),
            t.get("files_rejected", 0),
            t.get("rows_loaded", 0),
            t.get("rows_rejected", 0),
            g.get("rows_published", 0),
            g.get("rows_quarantined", 0),
            len(self.gate.failures),
            f"{self.seconds:.1f}",
        ]


HEADERS = [
    "day",
    "sources",
    "received",
    "loaded",
    "rejected",
    "rows loaded",
    "rows rejected",
    "published",
    "held back",
    "failed files",
    "s",
]


@dataclass
class BackfillReport:
    days: list[DayResult] = field(default_factory=list)
    dbt: dict[str, int] | None = None
    seconds: float = 0.0

    @property
    def failures(self) -> list[str]:
        return [f"{d.day}: {line}" for d in self.days for line in d.gate.failures]

    def active_days(self) -> list[DayResult]:
        """Days on which something was received or judged (the others are left out of tables)."""
        return [d for d in self.days if d.loaded.totals.get("files_received") or d.gate.file_ids]

    def totals(self) -> list[object]:
        sums = [0] * (len(HEADERS) - 3)
        for d in self.days:
            for i, value in enumerate(d.row()[2:-1]):
                sums[i] += int(value)
        return ["total", f"{len(self.days)} days", *sums, f"{self.seconds:.1f}"]


def days_between(first: date, last: date) -> list[date]:
    if last < first:
        raise BackfillError(f"--to {last} is before --from {first}")
    count = (last - first).days + 1
    if count > MAX_DAYS:
        raise BackfillError(f"{count} days is more than {MAX_DAYS}; backfill in parts")
    return [first + timedelta(days=i) for i in range(count)]


def backfill(
    settings: Settings,
    source: str,
    first: date,
    last: date,
    *,
    apis: Sequence[object] = (),
    transform: bool = False,
    progress: bool = True,
) -> BackfillReport:
    """Run the ingest task code for ``source`` on every Viet Nam day from ``first`` to ``last``."""
    from tqdm import tqdm

    if source not in SOURCE_GROUPS:
        raise BackfillError(f"unknown source {source!r}; expected one of {', '.join(SOURCE_GROUPS)}")
    days = days_between(first, last)
    report = BackfillReport()
    started = time.perf_counter()
    bar = tqdm(days, desc=f"backfill {source}", unit="day", disable=None if progress else True)
    for day in bar:
        interval = Interval.for_day(day)
        for sources in SOURCE_GROUPS[source]:
            clock = time.perf_counter()
            loaded, gate = run_ingest_sources(settings, sources, interval, apis=apis)
            report.days.append(DayResult(day, sources, loaded, gate, time.perf_counter() - clock))
        bar.set_postfix(failed=len(report.failures), refresh=False)
    bar.close()
    if transform:
        report.dbt = build_warehouse(settings)
    report.seconds = time.perf_counter() - started
    return report
