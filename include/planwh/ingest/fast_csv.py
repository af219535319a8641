"""Fast path for portal CSV exports: the reader's loop without per-row objects, canonical rows
checked through caches and streamed into ``COPY`` as text.

The general path (``load._load``) turns every row into a ``RawRow`` with a dict of values, runs
the :class:`~planwh.ingest.validate_rows.RowValidator` on it (a dozen method calls and a parse per
value) and hands a tuple to psycopg's ``write_row``: about 40,000 rows a second, most of it
Python overhead that a portal export, millions of machine-written rows repeating the same few
dates, provinces and languages, does not need. Here, for a portal CSV:

* the records come from the reader's own loop (``readers.csv_value_lists``, under the header
  ``read_file`` found), as lists instead of dicts;
* a row whose every value is present and readable, checked through per-file caches of the
  parsers' own results (``parse_date``, ``parse_timestamp``, ``ProvinceResolver.resolve``, the
  reference languages) and passing every rule of ``RowValidator._check_portal``, is written
  straight into the ``COPY`` stream as a line of text;
* any other row -- a value that does not parse, a rule broken, a malformed record -- goes
  through ``RowValidator.check`` exactly as on the general path, which loads it or explains it
  with the same reason codes, messages, row numbers and columns.

So the fast path never judges a row differently (``tests/include/ingest/test_fast_csv.py``
compares both paths on every fault the portal contract knows). Python's work overlaps with
PostgreSQL's: while the server parses and inserts one block, the next is being prepared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import psycopg

from planwh.ingest.parsing import VIETNAM_TZ, ParseError, normalise_text, parse_date, parse_timestamp
from planwh.ingest.readers import (
    ROW_ERROR_KEY,
    RawRow,
    ReadResult,
    csv_value_lists,
)
from planwh.ingest.validate_rows import Problem, RowValidator

ENABLED = True  # tests switch it off to compare with the general path
# Smaller files take the general path: a day's export of a portal (a few hundred rows) gains
# nothing measurable, and the general path is the one every test of the readers exercises.
FAST_PATH_MIN_BYTES = 256 * 1024
BLOCK_ROWS = 20_000
CACHE_LIMIT = 200_000
PORTAL_ORDER = ("stat_date", "province_code", "portal", "article_id", "url", "title", "topic", "language",
                "published_at", "page_views", "unique_visitors")
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_LINE_SPECIAL = re.compile(r"[\\\n\r]")  # a tab is checked by counting
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass
class FastStats:
    rows_in: int
    rows_valid: int
    rows_rejected: int
    rows_fast: int  # loaded without a Python row object
    seen: dict[str, set]  # the values of the version columns (portal, stat_date) over the valid rows


def eligible(result: ReadResult, path: Path, *, source: str) -> bool:
    """A portal CSV of at least FAST_PATH_MIN_BYTES (any such file can take it: rows fall back one by one)."""
    return (ENABLED and source == "portal" and result.format == "csv" and result.csv_header is not None
            and path.stat().st_size >= FAST_PATH_MIN_BYTES)


def _records(path: Path, encoding: str, delimiter: str, header,
             structure) -> Iterator[tuple[int, list[str | None], str | None]]:
    """The reader's own records (``readers.csv_value_lists``), values in PORTAL_ORDER; the rows that
    are not data go to ``structure``, as on the general path."""
    by_name = {name: pos for pos, name in header.positions.items()}
    return csv_value_lists(path, encoding, delimiter, header, [by_name[name] for name in PORTAL_ORDER], structure)


class _Caches:
    """The parsers' results for the values a file repeats; None marks a value the fast check
    leaves to the validator (it does not parse, or needs the row's context)."""

    def __init__(self, validator: RowValidator):
        reference = validator.reference
        self.resolver = reference.provinces
        self.languages = reference.languages
        self.dates: dict[str, tuple[date, str] | None] = {}
        self.stamps: dict[str, tuple[datetime, date, str] | None] = {}
        self.codes: dict[str, str | None] = {}
        self.langs: dict[str, str | None] = {}
        self.valid: dict[tuple[str, date], bool] = {}

    def date(self, text: str) -> tuple[date, str] | None:
        found = self.dates.get(text, False)
        if found is False:
            try:
                day = parse_date(text)
                found = (day, day.isoformat())
            except ParseError:
                found = None
            if len(self.dates) >= CACHE_LIMIT:
                self.dates.clear()
            self.dates[text] = found
        return found

    def stamp(self, text: str) -> tuple[datetime, date, str] | None:
        found = self.stamps.get(text, False)
        if found is False:
            try:
                moment = parse_timestamp(text)
                found = (moment, moment.astimezone(VIETNAM_TZ).date(), moment.isoformat())
            except ParseError:
                found = None
            if len(self.stamps) >= CACHE_LIMIT:
                self.stamps.clear()
            self.stamps[text] = found
        return found

    def province(self, text: str) -> str | None:
        found = self.codes.get(text, False)
        if found is False:
            try:
                found = self.resolver.resolve(text)  # a name used before and after 2025 raises: validator
            except ParseError:
                found = None
            self.codes[text] = found
        return found

    def valid_on(self, code: str, day: date) -> bool:
        key = (code, day)
        found = self.valid.get(key)
        if found is None:
            found = self.valid[key] = self.resolver.valid_on(code, day)
        return found

    def language(self, text: str) -> str | None:
        found = self.langs.get(text, False)
        if found is False:
            found = self.langs[text] = self.languages.get(normalise_text(text))
        return found


def _count(text: str) -> int | None:
    """``parse_int`` of plain ASCII digits (what the value means in every spelling it accepts)."""
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


def _text(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def _record_line(file_id: int, row_number: int, record: tuple) -> str:
    """A validated record (RAW_COLUMNS order) as a line of COPY text."""
    cells = [str(file_id), str(row_number)]
    for value in record:
        if value is None:
            cells.append("\\N")
        elif isinstance(value, str):
            cells.append(_text(value))
        elif isinstance(value, date):  # datetime too
            cells.append(value.isoformat())
        else:
            cells.append(str(value))
    return "\t".join(cells)


def load_portal_csv(
    conn: psycopg.Connection,
    *,
    file_id: int,
    path: Path,
    result: ReadResult,
    validator: RowValidator,
    expected_stat_date: date | None,
    table: str,
    columns: tuple[str, ...],
    copy_problems: Callable[[list[Problem]], None],
    on_rows: Callable[[int], None] | None = None,
    chunk_rows: int = BLOCK_ROWS,
) -> FastStats:
    """Load a portal CSV that ``eligible`` accepted (see the module doc)."""
    if tuple(columns[2:]) != PORTAL_ORDER:
        raise RuntimeError(f"{table} columns {columns} are not in the portal contract's order")
    header = result.csv_header
    caches = _Caches(validator)
    received_at = validator.received_at
    received_day = validator.received_day
    copy_sql = f"copy {table} ({', '.join(columns)}) from stdin"
    rows_in = rejected = fast = valid = 0
    portals: set[str] = set()
    days: set[date] = set()
    prefix = f"{file_id}\t"
    records = _records(path, result.encoding, result.delimiter, header, result.structure)
    dates_get, codes_get, langs_get, stamps_get = (caches.dates.get, caches.codes.get, caches.langs.get,
                                                   caches.stamps.get)
    valid_get = caches.valid.get
    finished = False
    while not finished:
        # One COPY per stretch of the file; it is closed to write the problems found so far, so
        # that a file of bad rows does not pile them up in memory.
        problems: list[Problem] = []
        lines: list[str] = []
        with conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for number, values, error in records:
                rows_in += 1
                if on_rows is not None and rows_in % chunk_rows == 0:
                    on_rows(chunk_rows)  # rows read, as the general path reports them
                line = None
                if error is None:
                    stat, prov, portal, article, url, title, topic, lang, pub, views, visitors = values
                    if (stat is not None and prov is not None and portal is not None and article is not None
                            and url is not None and title is not None and lang is not None and pub is not None
                            and views is not None and visitors is not None):
                        day = dates_get(stat) or caches.date(stat)
                        code = codes_get(prov) or caches.province(prov)
                        language = langs_get(lang) or caches.language(lang)
                        stamp = stamps_get(pub) or caches.stamp(pub)
                        if (day is not None and code is not None and language is not None and stamp is not None
                                and views.isdigit() and visitors.isdigit() and views.isascii()
                                and visitors.isascii() and len(views) <= 18 and len(visitors) <= 18):
                            d = day[0]
                            if (d <= received_day
                                    and (expected_stat_date is None or d == expected_stat_date)
                                    and (valid_get((code, d)) or caches.valid_on(code, d))
                                    and stamp[0] <= received_at and stamp[1] <= d
                                    and int(visitors) <= int(views)
                                    and "\x00" not in stat and "\x00" not in prov and "\x00" not in lang
                                    and "\x00" not in pub):
                                line = "\t".join((
                                    prefix + str(number), day[1], code, portal, article, url, title,
                                    "\\N" if topic is None else topic, language, stamp[2], views, visitors,
                                ))
                                if "\x00" in line:
                                    line = None
                                elif _LINE_SPECIAL.search(line) or line.count("\t") != 11:
                                    line = "\t".join((
                                        prefix + str(number), day[1], code, _text(portal), _text(article),
                                        _text(url), _text(title), "\\N" if topic is None else _text(topic),
                                        language, stamp[2], views, visitors,
                                    ))
                                if line is not None:
                                    portals.add(portal)
                                    days.add(d)
                                    fast += 1
                if line is None:
                    # Everything else is the validator's to judge, as on the general path.
                    row = dict(zip(PORTAL_ORDER, values, strict=True))
                    row = {name: row[name] for name in header.columns}  # the reader's key order
                    if error is not None:
                        row[ROW_ERROR_KEY] = error
                    checked = validator.check(RawRow(number, row))
                    if checked.record is None:
                        rejected += 1
                        problems.extend(checked.problems)
                    else:
                        line = _record_line(file_id, checked.row_number, checked.record)
                        portals.add(checked.record[2])
                        days.add(checked.record[0])
                if line is not None:
                    valid += 1
                    lines.append(line)
                    if len(lines) >= BLOCK_ROWS:
                        copy.write("\n".join(lines) + "\n")
                        lines.clear()
                if len(problems) >= BLOCK_ROWS:
                    break
            else:
                finished = True
            if lines:
                copy.write("\n".join(lines) + "\n")
        copy_problems(problems)
    if on_rows is not None and rows_in % chunk_rows:
        on_rows(rows_in % chunk_rows)
    return FastStats(rows_in=rows_in, rows_valid=valid, rows_rejected=rejected, rows_fast=fast,
                     seen={"portal": portals, "stat_date": days})
