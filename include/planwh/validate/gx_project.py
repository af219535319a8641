"""The Great Expectations side of the gate: the file context in ``expectations/gx``, run per process.

``import great_expectations`` takes seconds, so it happens here, inside functions, and only
when something is validated; the context is kept for the life of the process (one per
warehouse). The context gets the warehouse URL and the state folders as GX runtime values, so
nothing is written into the repository: validation results go to ``<state>/gx``, Data Docs to
``<state>/data_docs``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from planwh.db import sqlalchemy_url, warehouse_url
from planwh.settings import Settings
from planwh.validate.suites import GX_PROJECT_DIR

DATASOURCE = "warehouse"
# Enough to quarantine every unexpected row of a map expectation; the sample kept in history
# is cut to 20 values afterwards.
BATCH_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["row_number"],
    "partial_unexpected_count": 20,
}
# Marts have no row_number; COMPLETE still gives a query rule's rows for the sample.
MART_RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 20}

_contexts: dict[tuple[tuple[str, str], ...], Any] = {}


def data_docs_dir(settings: Settings) -> Path:
    return settings.state_dir / "data_docs"


def runtime_values(settings: Settings) -> dict[str, str]:
    """The ``${VAR}`` values of ``great_expectations.yml`` for this warehouse and state folder."""
    return {
        "PLANWH_GX_CONNECTION": sqlalchemy_url(warehouse_url(settings)),
        "PLANWH_GX_STATE_DIR": str(settings.state_dir / "gx"),
        "PLANWH_GX_DOCS_DIR": str(data_docs_dir(settings)),
    }


def _quiet() -> None:
    # GX logs every metric it computes at INFO and warns about its own internals; the gate's
    # verdicts are what a reader of an Airflow log needs.
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"great_expectations(\..*)?")


def _validate_named_batches_only() -> None:
    """Make GX take a batch request that names its column value as it is.

    To find the batch of ``file_id = N``, GX 1.x's SQL assets first list every value of the
    partition column (``select distinct file_id from raw.<table>``) and then pick N among them
    (``_SQLAsset._fully_specified_batch_requests``): a scan of the whole table for every file
    validated, which made the daily gate grow with the years of history (27 s for a day's 59
    files with one year of national data, 43-54 s with four). A request for a column-value
    partition that names the value is already complete, so it is used as it is; every other
    request goes through GX unchanged. The gate only validates tables that hold rows of the file
    (``_Gate._validate_locked``), so the batch it names exists. Installed once per process.
    """
    from great_expectations.datasource.fluent import sql_datasource

    asset = sql_datasource._SQLAsset
    listed = asset._fully_specified_batch_requests
    if getattr(listed, "planwh_named_batches", False):
        return

    def fully_specified(self, batch_request):  # noqa: ANN001, ANN202 - GX's own signature
        partitioner = batch_request.partitioner
        options = batch_request.options or {}
        if (
            partitioner is not None
            and getattr(partitioner, "method_name", None) == "partition_on_column_value"
            and options.get(partitioner.column_name) is not None
        ):
            return [batch_request], sql_datasource._NoMatchDiagnostics(candidate_count=1, offending_param=None)
        return listed(self, batch_request)

    fully_specified.planwh_named_batches = True
    asset._fully_specified_batch_requests = fully_specified


def get_context(settings: Settings) -> Any:
    """The file context of ``expectations/gx``, connected to ``settings``' warehouse (cached)."""
    runtime = runtime_values(settings)
    key = tuple(sorted(runtime.items()))
    context = _contexts.get(key)
    if context is None:
        _quiet()
        import great_expectations as gx

        _validate_named_batches_only()

        # One warehouse per process is the normal case; tests switch databases, and an old
        # context's engine is closed when the context is collected.
        _contexts.clear()
        context = gx.get_context(mode="file", project_root_dir=GX_PROJECT_DIR, runtime_environment=runtime)
        _contexts[key] = context
    return context


def gx_version() -> str:
    from importlib.metadata import version

    return version("great_expectations")


@dataclass
class SuiteResult:
    """What GX returned for one suite on one batch (the result object and its JSON form)."""

    result: Any
    document: dict
    started_at: datetime
    finished_at: datetime


def run_suite(
    settings: Settings,
    suite: str,
    asset: str,
    parameters: dict,
    *,
    file_id: int | None,
    started_at: datetime,
) -> SuiteResult:
    """Validate ``suite`` on the asset's rows of ``file_id`` (the whole table when None)."""
    from great_expectations.core.partitioners import PartitionerColumnValue

    context = get_context(settings)
    data_asset = context.data_sources.get(DATASOURCE).get_asset(asset)
    if file_id is None:
        request = data_asset.build_batch_request()
        result_format = MART_RESULT_FORMAT
    else:
        request = data_asset.build_batch_request(
            options={"file_id": file_id}, partitioner=PartitionerColumnValue(column_name="file_id")
        )
        result_format = BATCH_RESULT_FORMAT
    batch = data_asset.get_batch(request)
    result = batch.validate(
        context.suites.get(suite), expectation_parameters=parameters, result_format=result_format
    )
    finished_at = datetime.now(started_at.tzinfo)
    return SuiteResult(
        result=result, document=result.to_json_dict(), started_at=started_at, finished_at=finished_at
    )


def store_result(
    settings: Settings, suite_result: SuiteResult, *, suite: str, run_id: str, batch: str
) -> None:
    """Keep a (sanitised) result in the GX results store, for Data Docs."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = get_context(settings)
    run = RunIdentifier(run_name=run_id, run_time=suite_result.started_at)
    suite_result.result.meta["run_id"] = run
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
        run_id=run,
        batch_identifier=batch,
    )
    context.validation_results_store.set(key, suite_result.result)


def build_data_docs(settings: Settings) -> Path:
    """Build GX Data Docs (static HTML) for every suite and stored result; return index.html.

    The pages load nothing from the network (:mod:`planwh.validate.data_docs`).
    """
    from planwh.validate.data_docs import make_offline

    context = get_context(settings)
    context.build_data_docs()
    make_offline(data_docs_dir(settings))
    return data_docs_dir(settings) / "index.html"
