"""The Great Expectations gate between ``raw`` and ``published`` (write-audit-publish).

Importing this package does not import Great Expectations (seconds of start-up): that happens
when something is validated. An Airflow task is two lines::

    from planwh.validate import summarise, validate_pending
    return summarise(validate_pending(load_settings(), source="portal"))

It raises ``ValidationFailed`` when a file failed an error-level expectation (after publishing
and recording everything else), which fails the task visibly.
"""

from planwh.validate.gate import (
    BatchVerdict,
    GateError,
    RuleFailure,
    ValidationFailed,
    summarise,
    validate_pending,
)
from planwh.validate.gx_project import build_data_docs
from planwh.validate.marts import MartVerdict, validate_marts
from planwh.validate.schema import ensure_published_schema
from planwh.validate.suites import SuiteError

__all__ = [
    "BatchVerdict",
    "GateError",
    "MartVerdict",
    "RuleFailure",
    "SuiteError",
    "ValidationFailed",
    "build_data_docs",
    "ensure_published_schema",
    "summarise",
    "validate_marts",
    "validate_pending",
]
