"""Plain-text tables and step headings for the command line (no colour codes: logs stay readable)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A fixed-width table; ``align`` has one letter per column, ``l`` or ``r`` (numbers right)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    if align is None:
        align = "".join(
            "r" if rows and all(isinstance(r[i], int | float) for r in rows if r[i] is not None) else "l"
            for i in range(len(headers))
        )

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if a == "r" else v.ljust(w) for v, w, a in zip(values, widths, align, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def heading(text: str, stream: TextIO = sys.stdout) -> None:
    print(f"\n== {text}", file=stream, flush=True)
