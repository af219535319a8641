"""Building the warehouse's models: ``dbt build`` over the published data.

``dbt build`` loads the reference seeds, builds staging, intermediate and mart models in
dependency order, and runs every data test and unit test right after the node it checks, so a
failing test stops what depends on it. dbt reads only schema ``published`` (rows that passed the
Great Expectations gate), the landing ledger and the seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

from planwh.dbt import DbtOutcome, run_dbt
from planwh.settings import Settings, load_settings


def transform(
    settings: Settings | None = None,
    select: Sequence[str] | None = None,
    full_refresh: bool = False,
    *,
    raise_on_failure: bool = True,
) -> DbtOutcome:
    """Run ``dbt build`` (optionally ``--select`` some nodes, ``--full-refresh``) on the warehouse.

    Raises :class:`planwh.dbt.DbtError` naming the failing nodes unless ``raise_on_failure`` is
    false, in which case the outcome says what failed.
    """
    args = ["build"]
    if select:
        args += ["--select", *select]
    if full_refresh:
        args.append("--full-refresh")
    return run_dbt(args, settings or load_settings(), raise_on_failure=raise_on_failure)


def summarise(outcome: DbtOutcome) -> dict[str, int]:
    """How many nodes ended in each status (``success``, ``pass``, ``fail``, ``error``...)."""
    counts: dict[str, int] = {}
    for result in outcome.results:
        status = str(getattr(result, "status", "unknown")).lower()
        counts[status] = counts.get(status, 0) + 1
    return counts
