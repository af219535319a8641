"""``planwh sample``: write realistic landing files, with a known share of planted faults."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from planwh.sample import MANIFEST_NAME, ReferenceDataError, SampleError, SampleSpec, generate_sample
from planwh.settings import load_settings

DEFAULTS = SampleSpec()

EPILOG = f"""What it writes (under the landing folder):
  agencies/      agency registers (danh mục đơn vị), the 2023 version and the 2025-07-01 update
  submissions/   agency reports: XLSX, CSV (UTF-8 with BOM, or Windows-1258) and web-form JSON
  portal/        daily article statistics per provincial portal (CSV and JSON Lines)
  rosters/       training course rosters with FAKE trainees (XLSX with a course header, one JSON)
  {MANIFEST_NAME}  every file written and every fault planted, with its row and reason code;
                        under gate_faults the rows only the Great Expectations gate holds back

Examples:
  planwh sample                          # 6 provinces, 2023-2025, into the configured landing folder
  planwh sample --clean                  # replace the sample written there before
  planwh sample --provinces 3 --years 2024,2025 --portal-days 7 --out /tmp/landing
  planwh sample --fault-rate 0           # a clean sample: nothing should be quarantined
"""


def _years(text: str) -> tuple[int, ...]:
    try:
        if "-" in text and "," not in text:
            first, last = (int(p) for p in text.split("-", 1))
            return tuple(range(first, last + 1))
        return tuple(sorted({int(p) for p in text.split(",") if p.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"years must look like 2023,2024,2025 or 2023-2025, got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="write realistic sample files (with planted faults) into the landing folder",
        description="Write deterministic, realistic landing files for all four sources: the same options\n"
        "always give byte-identical files. A small, known share of rows and files is faulty so that\n"
        "quarantine has something to show; the manifest says which and why. Names and national ID\n"
        "numbers in the rosters are fake (the IDs use a century digit no real card has).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--provinces", type=int, default=DEFAULTS.provinces, metavar="N",
                        help=f"legacy provinces to include, Quảng Nam, An Giang and Gia Lai first (default {DEFAULTS.provinces})")
    parser.add_argument("--years", type=_years, default=DEFAULTS.years, metavar="Y,Y,...",
                        help="reporting years, within 2023-2028 (default 2023,2024,2025)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help=f"random seed (default {DEFAULTS.seed})")
    parser.add_argument("--portal-days", type=int, default=DEFAULTS.portal_days, metavar="D",
                        help=f"days of portal statistics from 1 December of the last year (default {DEFAULTS.portal_days})")
    parser.add_argument("--fault-rate", type=float, default=DEFAULTS.fault_rate, metavar="R",
                        help=f"share of faulty rows per source, 0 for a clean sample (default {DEFAULTS.fault_rate})")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where to write (default: the landing folder, PLANWH_LANDING_DIR)")
    parser.add_argument("--clean", action="store_true",
                        help="first remove the files a previous sample wrote there (only those, and only if unchanged)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = args.out if args.out is not None else load_settings().landing_dir
    spec = SampleSpec(provinces=args.provinces, years=args.years, seed=args.seed,
                      portal_days=args.portal_days, fault_rate=args.fault_rate)
    if spec.years and spec.last_day > date.today():
        # Dates after today would be rejected as future dates, spoiling the planted-fault count.
        print(f"planwh sample: the sample would carry dates up to {spec.last_day:%d/%m/%Y}, after today; "
              f"use years up to {date.today().year - 1}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        manifest = generate_sample(out, spec, clean=args.clean)
    except (SampleError, ReferenceDataError) as exc:
        print(f"planwh sample: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started

    print(manifest.summary_table())
    provinces = ", ".join(f"{p['code']} {p['name']}" for p in manifest.provinces)
    print(f"\nprovinces: {provinces}")
    print(f"years: {', '.join(str(y) for y in spec.years)}", end="")
    if manifest.portal_window:
        print(f"; portal days {manifest.portal_window[0]} to {manifest.portal_window[1]}", end="")
    print(f"; {len(manifest.missing_submissions)} annual reports deliberately missing")
    size = sum(f.size_bytes for f in manifest.files)
    print(f"wrote {len(manifest.files)} files ({size / 1e6:.1f} MB) to {out} in {elapsed:.1f} s")
    print(f"manifest (planted faults with rows and reason codes): {Path(out) / MANIFEST_NAME}")
    return 0
