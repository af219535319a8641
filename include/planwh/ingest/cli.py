"""``planwh ingest SOURCE PATH...`` and ``planwh check PATH``: load files, or try one without loading."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from planwh.ingest.schema import SOURCES

INGEST_EPILOG = """Examples:
  planwh ingest agencies landing/agencies/              # every file under the folder, by name
  planwh ingest submissions landing/submissions/bao-cao-STTTT-2024.xlsx
  planwh ingest portal export-2024-11-30.csv --received-at 2024-12-01T08:00+07:00
  planwh ingest submissions landing/submissions/ --received-at mtime   # a backlog, in arrival order

Load the agency register before submissions: a submission from an agency that is not in the
register for its period is rejected. Files already received (same bytes) are recorded as
duplicates and change nothing. For each file, rows in = loaded + rejected + skipped (the rows of a
report form that are not data: title lines, column headers and numbers, section and total rows,
notes, the signature block; each total row is checked against its data rows). Exit status: 0 when every file was loaded (rejected rows inside
a loaded file are listed, and explained in the feedback file), 1 when a file was rejected whole.
"""

CHECK_EPILOG = """Examples:
  planwh check bao-cao-STTTT-2024.xlsx                  # what kind of file it is is read from its header
  planwh check danh-sach-hoc-vien.csv --source rosters
  planwh check bieu-01.xlsx --feedback ~/phan-hoi.xlsx

Reads and validates the file exactly as `planwh ingest` would and loads nothing: no archive copy,
no ledger row. Submissions are checked against the agency register already in the warehouse.
Prints, Vietnamese first with the English after: what the file is, rows in = rows that would load
+ rows rejected + rows skipped (title, header, total, signature rows... of a report form), every
problem (errors: the row would not load; warnings: it would, e.g. a total row that does not add
up), or the one reason the whole file would be rejected (empty, unreadable, not a spreadsheet,
a column missing...). Writes the same as a feedback workbook to send back to the sender:
--feedback PATH, by default <file>.feedback.xlsx beside the file checked (under the state
folder's feedback/check/ when the file is in the landing folder or its folder is read-only).

Exit status:
  0  the file would load whole (warnings and skipped rows may be listed)
  1  the file would load but some rows would be rejected
  2  the command could not run: no such file, wrong arguments
  3  the whole file would be rejected
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    ingest = subparsers.add_parser(
        "ingest",
        help="load landing files of one source into the warehouse",
        description="Archive, validate and load files of one source: the agency register (agencies),\n"
        "agency submissions, portal statistics (portal) or training rosters.",
        epilog=INGEST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ingest.add_argument("source", choices=SOURCES, help="what the files are")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files, or folders of files")
    ingest.add_argument("--received-at", type=_received, metavar="ISO|mtime",
                        help="when the files were received: a timestamp, or 'mtime' for each file's "
                        "modification time (default: now); dates after it are 'future'")
    ingest.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    ingest.set_defaults(func=run_ingest)

    check = subparsers.add_parser(
        "check",
        help="validate a file as a sender's dry run; loads nothing",
        description="Validate one file and print what would be rejected, without loading anything.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("path", type=Path, metavar="PATH")
    check.add_argument("--source", choices=SOURCES, help="default: the source whose columns the header matches best")
    check.add_argument("--sheet", help="the workbook sheet to read (default: the one holding the table)")
    check.add_argument("--received-at", type=_timestamp, metavar="ISO", help="as for ingest (default: now)")
    check.add_argument("--limit", type=int, default=500, help="print at most this many problems (default 500)")
    check.add_argument("--feedback", type=Path, metavar="PATH",
                       help="where to write the feedback XLSX (default: <file>.feedback.xlsx beside the file)")
    check.add_argument("--no-feedback", action="store_true", help="print only, write no feedback file")
    check.set_defaults(func=run_check)


def _received(text: str) -> datetime | str:
    return "mtime" if text.strip().lower() == "mtime" else _timestamp(text)


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or timestamp (e.g. 2024-12-01T08:00+07:00)") from None


def _reasons(counts: dict[str, int], limit: int = 3) -> str:
    items = list(counts.items())
    text = ", ".join(f"{code} x{n}" for code, n in items[:limit])
    return text + (f", +{len(items) - limit} more" if len(items) > limit else "")


def run_ingest(args: argparse.Namespace) -> int:
    from planwh.console import format_table
    from planwh.ingest.load import IngestError, ingest_paths, summarise
    from planwh.settings import load_settings

    settings = load_settings()
    try:
        by_mtime = args.received_at == "mtime"
        outcomes = ingest_paths(settings, args.source, args.paths, progress=not args.no_progress,
                                received_at=None if by_mtime else args.received_at, received_from_mtime=by_mtime)
    except IngestError as exc:
        print(f"planwh ingest: {exc}", file=sys.stderr)
        return 2
    if not outcomes:
        print(f"no {args.source} files found under {', '.join(str(p) for p in args.paths)}")
        return 0
    rows = []
    for o in outcomes:
        if o.status == "duplicate":
            reason = f"same bytes as file {o.duplicate_of}"
        elif o.status == "rejected":
            reason = f"{o.reason_code}: {o.reason}"
        else:
            reason = _reasons(o.problem_counts)
            if o.supersedes_file_id:
                reason = f"replaces file {o.supersedes_file_id}" + (f"; {reason}" if reason else "")
            elif o.status == "loaded" and not o.is_current_version and o.rows_loaded:
                reason = "older than the current version: kept as history" + (f"; {reason}" if reason else "")
        rows.append((o.file_id, o.original_name, o.status, o.rows_in, o.rows_loaded, o.rows_rejected, o.rows_skipped,
                     reason, str(o.feedback_xlsx) if o.feedback_xlsx else ""))
    print(format_table(("file_id", "file", "status", "rows in", "loaded", "rejected", "skipped", "reason", "feedback"),
                       rows, align="rllrrrrll"))
    totals = summarise(outcomes)
    print(
        f"\n{len(outcomes)} file(s): {totals.get('files_loaded', 0)} loaded, {totals.get('files_rejected', 0)} "
        f"rejected, {totals.get('files_duplicate', 0)} duplicate; rows in {totals.get('rows_in', 0)}, loaded "
        f"{totals.get('rows_loaded', 0)}, rejected {totals.get('rows_rejected', 0)}, skipped "
        f"{totals.get('rows_skipped', 0)} (not data: titles, headers, totals, signatures...)"
    )
    return 1 if any(o.status == "rejected" for o in outcomes) else 0


EXIT_CLEAN, EXIT_ROWS_REJECTED, EXIT_USAGE, EXIT_FILE_REJECTED = 0, 1, 2, 3


def run_check(args: argparse.Namespace) -> int:
    from planwh.ingest.load import IngestError, check_file, default_feedback_path, iter_problem_lines
    from planwh.settings import load_settings

    settings = load_settings()
    feedback = None
    if not args.no_feedback:
        feedback = args.feedback or default_feedback_path(settings, args.path)
    try:
        outcome = check_file(settings, args.path, args.source, received_at=args.received_at, sheet=args.sheet,
                             feedback_path=feedback)
    except IngestError as exc:
        print(f"planwh check: {exc.message_vi} / {exc}", file=sys.stderr)
        return EXIT_USAGE
    summary = outcome.summary()
    for vietnamese, english in summary.lines():
        if vietnamese.startswith("Loại số liệu") and outcome.guessed:
            vietnamese += f" ({outcome.guessed})"
            english += ", found from the header"
        print(vietnamese)
        print(f"  {english}")
    if outcome.duplicate_of is not None:
        print(f"Lưu ý: đúng tệp này (cùng nội dung) đã được tiếp nhận trước đây (tệp số {outcome.duplicate_of}); "
              "gửi lại sẽ không thay đổi gì.")
        print(f"  Note: these exact bytes were already received (file {outcome.duplicate_of}); sending them again "
              "would change nothing.")
    if outcome.status != "rejected":
        for line in iter_problem_lines(outcome, limit=args.limit):
            print(line)
    if outcome.feedback_xlsx is not None:
        print(f"Tệp phản hồi / Feedback file: {outcome.feedback_xlsx}")
    if outcome.status == "rejected":
        return EXIT_FILE_REJECTED
    return EXIT_ROWS_REJECTED if outcome.rows_rejected else EXIT_CLEAN
