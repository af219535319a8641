"""``planwh validate``: the Great Expectations gate between raw and published data."""

from __future__ import annotations

import argparse
import sys

from planwh.ingest.schema import SOURCES
from planwh.settings import load_settings

EPILOG = """Examples:
  planwh validate                  # validate and publish every loaded file not yet validated
  planwh validate --source portal  # only portal statistics
  planwh validate --file-id 17     # validate file 17 again (its published rows are replaced)
  planwh validate --marts          # after dbt build: validate the key marts
  planwh validate --docs           # also build GX Data Docs (static HTML) in <state>/data_docs

Exit status 1 when a file or a mart failed an error-level expectation: everything else is
still published and every result is recorded (audit.batches, audit.validation_runs,
audit.expectation_results; held-back rows in quarantine.rejected_rows).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="validate loaded files with Great Expectations and publish what passes",
        description="Write-audit-publish: validate every loaded file that has no verdict yet against\n"
        "the suites in expectations/, publish passing rows to schema `published` (what dbt reads),\n"
        "hold back failing rows or files, and record the history for BI.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--source", choices=SOURCES, help="only files of this source")
    parser.add_argument(
        "--file-id",
        dest="file_ids",
        type=int,
        action="append",
        metavar="N",
        help="validate this file (again); repeatable",
    )
    parser.add_argument("--marts", action="store_true", help="validate the key marts (after dbt build)")
    parser.add_argument("--docs", action="store_true", help="build GX Data Docs after validating")
    parser.set_defaults(func=run)


def _batch_rows(verdicts) -> list[tuple]:
    return [
        (
            v.file_id,
            v.source,
            v.original_name[:40],
            v.status,
            v.rows_loaded,
            v.rows_published,
            v.rows_quarantined,
            ", ".join(sorted({f.rule for f in v.failures})) or "",
        )
        for v in verdicts
    ]


def run(args: argparse.Namespace) -> int:
    from planwh.validate import GateError, SuiteError

    try:
        return _run(args)
    except (GateError, SuiteError) as exc:
        print(f"planwh: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from planwh.console import format_table
    from planwh.validate import ValidationFailed, build_data_docs, validate_marts, validate_pending

    settings = load_settings()
    failed: list[ValidationFailed] = []
    files_only = args.file_ids is not None or args.source is not None
    if files_only or not args.marts:
        try:
            verdicts = validate_pending(settings, source=args.source, file_ids=args.file_ids)
        except ValidationFailed as exc:
            failed.append(exc)
            verdicts = exc.verdicts
        if verdicts:
            print(
                format_table(
                    ["file", "source", "name", "verdict", "loaded", "published", "held back", "failed rules"],
                    _batch_rows(verdicts),
                )
            )
        elif not args.docs:
            print("no loaded file is waiting for validation")
    if args.marts:
        try:
            marts = validate_marts(settings)
        except ValidationFailed as exc:
            failed.append(exc)
            marts = exc.verdicts
        print(
            format_table(
                ["mart", "verdict", "failed rules"],
                [(m.relation, m.status, ", ".join(f.rule for f in m.failures)) for m in marts],
            )
        )
    if args.docs:
        print(f"Data Docs: {build_data_docs(settings)}")
    for exc in failed:
        print(f"planwh: {exc}", file=sys.stderr)
    return 1 if failed else 0
