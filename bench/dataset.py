"""A national-scale landing folder for the benchmark, generated fast and cached by its parameters.

* Agency registers, submissions and the small rosters come from ``planwh.sample`` (the realistic
  world, planted faults included) with every legacy province, i.e. the 34 current ones, and
  four reporting years.
* Portal statistics are generated here, vectorised with numpy: each portal has a pool of articles
  that grows day by day; a day's export lists the articles read that day (recent ones favoured),
  with views and visitors. History comes as one CSV per portal and month (what a backfill loads),
  the days after it as one CSV per portal and day (the daily load). A few rows per ten thousand
  carry a fault (negative views, more visitors than views, an unknown language, a day in the
  future, a repeated article), as real exports do.
* Large online courses (JSON rosters) bring the trainee rows to the national figure.
* ``portal_big.csv`` holds ``big_rows`` portal rows in one file: the file of the memory and
  throughput figures.

Nothing is written row by row through Python objects where it can be avoided: columns are numpy
arrays, rendered once per distinct value and joined into CSV text per file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time as clock
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from planwh.sample.generate import SampleSpec, generate_sample
from planwh.sample.portal import _EN_TITLES, _HR_TITLES, _TITLES, TOPICS, _places, _slug, portal_host
from planwh.sample.reference import load_reference
from planwh.sample.world import VIETNAM_TZ, World

FORMAT_VERSION = 3
PORTAL_HEADER = ("stat_date", "province_code", "portal", "article_id", "url", "title", "topic", "language",
                 "published_at", "page_views", "unique_visitors")
HISTORY_FIRST = date(2022, 11, 1)  # four years of portal history: 1 Nov 2022 - 31 Oct 2026
HISTORY_LAST = date(2026, 10, 31)
ONE_YEAR_FROM = date(2025, 11, 1)  # the files received from here on are "one year of history"
NEW_DAYS = 4  # days after the history, one CSV per portal and day (the daily loads)
YEARS = (2023, 2024, 2025, 2026)
FAULT_RATE = 0.0005


@dataclass(frozen=True)
class Params:
    scale: float = 1.0
    seed: int = 1079

    @property
    def portal_rows(self) -> int:
        return max(2_000, round(10_000_000 * self.scale))

    @property
    def roster_rows(self) -> int:
        return max(200, round(200_000 * self.scale))

    @property
    def big_rows(self) -> int:
        return max(1_000, round(5_000_000 * self.scale))

    @property
    def provinces(self) -> int:
        """Legacy provinces in the sample world: all 63 (the 34 current ones) at full scale."""
        return 63 if self.scale >= 0.25 else max(2, min(63, round(63 * self.scale * 4)))

    def key(self) -> str:
        text = json.dumps({**asdict(self), "format": FORMAT_VERSION}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Dataset:
    root: Path  # holds landing/ and portal_big.csv
    params: Params
    manifest: dict

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def big_file(self) -> Path:
        return self.root / "portal_big.csv"

    def new_days(self) -> list[date]:
        return [date.fromisoformat(d) for d in self.manifest["new_days"]]


def _vn(day: date, hour: int, minute: int) -> float:
    return datetime.combine(day, time(hour, minute), VIETNAM_TZ).timestamp()


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class _PortalPool:
    """One portal's articles over the whole window (ids and publication times increasing)."""

    def __init__(self, world: World, code: str, current: bool, first: date, last: date, rng: np.random.Generator,
                 per_day: float):
        ref = world.ref
        province = ref.current[code] if current else ref.legacy[code]
        self.code = code
        self.host = portal_host(province.name_ascii)
        places = _places(world, code, current)
        minority = list(world.minority_languages(code, current=current))
        span = (last - first).days + 91
        size = max(200, int(span * max(3.0, per_day / 12)))
        start = datetime.combine(first - timedelta(days=90), time(), VIETNAM_TZ).timestamp()
        seconds = np.sort(rng.integers(0, span * 86400, size))
        self.published = start + seconds  # epoch seconds
        self.days = ((seconds // 86400).astype(np.int64) + (first - timedelta(days=90)).toordinal())
        ids = rng.integers(150_000, 900_000) + np.cumsum(rng.integers(1, 40, size))
        roll = rng.random(size)
        langs = np.full(size, "vi", dtype=object)
        langs[roll < 0.05] = "en"
        if minority:
            pick = (roll >= 0.05) & (roll < 0.11)
            langs[pick] = rng.choice(minority, int(pick.sum()))
        hr = rng.random(size) < rng.uniform(0.10, 0.20)
        topics = np.where(hr, "human_rights", rng.choice(TOPICS, size)).astype(object)
        # A few dozen titles per portal, rendered once; each article takes one of its topic's.
        fmt = {"prov": province.name_full, "prov_of": province.of_name, "year": 2025,
               "prov_en": province.name_ascii}
        titles: dict[str, list[str]] = {}
        for topic in (*TOPICS, "human_rights"):
            templates = _HR_TITLES if topic == "human_rights" else _TITLES[topic]
            titles[topic] = [t.format(place=p, **fmt) for t in templates for p in places[:4]]
        english = [t.format(place_en=p, **fmt) for t in _EN_TITLES for p in places[:4]]
        title = np.empty(size, dtype=object)
        url = np.empty(size, dtype=object)
        pick_title = rng.integers(0, 1 << 30, size)
        for i in range(size):
            options = english if langs[i] == "en" else titles[topics[i]]
            text = options[pick_title[i] % len(options)]
            section = "en/news" if langs[i] == "en" else "tin-tuc"
            title[i] = _csv_field(text)
            url[i] = f"https://{self.host}/{section}/{_slug(text)}-{ids[i]}.html"
        self.ids = ids.astype(str).astype(object)
        self.langs, self.topics, self.titles, self.urls = langs, topics, title, url
        stamps = [datetime.fromtimestamp(s, VIETNAM_TZ).strftime("%Y-%m-%d %H:%M:%S") for s in self.published]
        self.stamps = np.array(stamps, dtype=object)
        self.popularity = rng.lognormal(0, 0.9, size)

    def day_rows(self, day: date, count: int, rng: np.random.Generator) -> np.ndarray:
        """Indices of the articles read on ``day`` (published by then, recent ones favoured)."""
        eligible = int(np.searchsorted(self.days, day.toordinal(), side="right"))
        window = min(eligible, 600)
        count = min(count, window)
        if count <= 0:
            return np.empty(0, dtype=np.int64)
        start = eligible - window
        age = day.toordinal() - self.days[start:eligible]
        weight = self.popularity[start:eligible] / (1.0 + age / 4.0)
        keys = -np.log(1.0 - rng.random(window)) / weight
        chosen = np.sort(np.argpartition(keys, count - 1)[:count]) + start
        return chosen


def _render(pool: _PortalPool, days: list[date], counts: list[int], rng: np.random.Generator,
            fault_rate: float) -> tuple[str, int]:
    parts, day_text, day_number = [], [], []
    for day, n in zip(days, counts, strict=True):
        idx = pool.day_rows(day, n, rng)
        parts.append(idx)
        day_text.append(np.full(len(idx), day.isoformat(), dtype=object))
        day_number.append(np.full(len(idx), day.toordinal(), dtype=np.int64))
    idx = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    n = len(idx)
    if n == 0:
        return "", 0
    stat = np.concatenate(day_text)
    age = np.concatenate(day_number) - pool.days[idx]
    views = np.maximum(1, np.round(pool.popularity[idx] / (1.0 + age / 4.0) * 60 * rng.lognormal(0, 0.4, n)))
    views = views.astype(np.int64)
    visitors = np.clip(np.round(views * rng.uniform(0.55, 0.95, n)), 1, views).astype(np.int64)
    cols = [stat, np.full(n, pool.code, dtype=object), np.full(n, pool.host, dtype=object), pool.ids[idx],
            pool.urls[idx], pool.titles[idx], pool.topics[idx], pool.langs[idx], pool.stamps[idx],
            views.astype(str).astype(object), visitors.astype(str).astype(object)]
    faults = np.flatnonzero(rng.random(n) < fault_rate)
    for i, row in enumerate(faults):
        kind = i % 5
        if kind == 0:
            cols[9][row] = "-" + cols[9][row]
        elif kind == 1:
            cols[10][row] = str(int(cols[9][row]) + 7)
        elif kind == 2:
            cols[7][row] = "xx"
        elif kind == 3:
            cols[0][row] = "2099-01-01"
        elif row > 0:
            for c in cols:
                c[row] = c[row - 1]
    lines = "\r\n".join(map(",".join, zip(*cols, strict=True)))
    return ",".join(PORTAL_HEADER) + "\r\n" + lines + "\r\n", n


def _month_starts(first: date, last: date) -> list[date]:
    out, day = [], first.replace(day=1)
    while day <= last:
        out.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def _write(path: Path, text: str, received: float) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(data)
    os.utime(path, (received, received))
    return len(data)


def _portal(world: World, landing: Path, params: Params, rng: np.random.Generator, log) -> dict:
    merger = world.merger
    days_total = (HISTORY_LAST - HISTORY_FIRST).days + 1 + NEW_DAYS
    per_day_national = params.portal_rows / days_total
    pools: dict[tuple[str, bool], _PortalPool] = {}
    files = rows = 0
    last_new = HISTORY_LAST + timedelta(days=NEW_DAYS)
    periods = [(m, min((m + timedelta(days=32)).replace(day=1) - timedelta(days=1), HISTORY_LAST))
               for m in _month_starts(HISTORY_FIRST, HISTORY_LAST)]
    periods += [(HISTORY_LAST + timedelta(days=i), HISTORY_LAST + timedelta(days=i)) for i in range(1, NEW_DAYS + 1)]
    started = clock.perf_counter()
    for first, last in periods:
        # A month that straddles the merger is cut at it: the portals changed with the provinces.
        spans = [(first, last)] if not (first < merger <= last) else [(first, merger - timedelta(days=1)),
                                                                      (merger, last)]
        for a, b in spans:
            current = a >= merger
            codes = world.current_codes if current else world.legacy_codes
            per_province = per_day_national / len(codes)
            for code in codes:
                key = (code, current)
                if key not in pools:
                    pool_first = merger if current else HISTORY_FIRST
                    pool_last = last_new if current else merger - timedelta(days=1)
                    pools[key] = _PortalPool(world, code, current, pool_first, pool_last, rng, per_province)
                pool = pools[key]
                days = [a + timedelta(days=i) for i in range((b - a).days + 1)]
                counts = list(np.maximum(1, rng.poisson(per_province, len(days))))
                text, n = _render(pool, days, counts, rng, FAULT_RATE)
                if not n:
                    continue
                daily = a == b and a > HISTORY_LAST
                name = f"{pool.host}_{a.isoformat()}.csv" if daily else f"{pool.host}_{a:%Y-%m}{'' if a.day == 1 else f'-{a:%d}'}.csv"
                sent = b + timedelta(days=1)
                _write(landing / "portal" / name, text, _vn(sent, 1, int(rng.integers(0, 59))))
                files += 1
                rows += n
        log(f"  portal {first:%Y-%m}: {rows:,} rows in {files} files ({clock.perf_counter() - started:.0f} s)")
    return {"portal_files": files, "portal_rows": rows}


def _big_file(landing: Path, target: Path, rows_wanted: int) -> int:
    """Data rows of the history's monthly exports, concatenated into one file of ``rows_wanted`` rows."""
    written = 0
    with target.open("wb") as out:
        out.write((",".join(PORTAL_HEADER) + "\r\n").encode())
        while written < rows_wanted:
            before = written
            for path in sorted((landing / "portal").glob("*.csv")):
                with path.open("rb") as f:
                    f.readline()
                    for line in f:
                        out.write(line)
                        written += 1
                        if written >= rows_wanted:
                            return written
            if written == before:
                raise RuntimeError("no portal rows to build the big file from")
    return written


def _rosters(world: World, landing: Path, params: Params, rng: np.random.Generator, rows_so_far: int) -> dict:
    """Large online courses (JSON rosters) bringing the trainee rows to ``params.roster_rows``."""
    wanted = params.roster_rows - rows_so_far
    categories = ["hr_official", "info_official", "press_foreign_info", "key_sociopolitical"]
    agencies = [a for a in world.agencies if a.valid_to is None or a.valid_to >= date(2025, 7, 1)]
    files = rows = 0
    number = 0
    while rows < wanted:
        number += 1
        size = int(min(wanted - rows, rng.integers(300, 700)))
        agency = agencies[int(rng.integers(0, len(agencies)))]
        start = ONE_YEAR_FROM - timedelta(days=int(rng.integers(1, 3 * 365)))
        if start < world.merger:
            start = max(start, date(2023, 1, 2))
        end = start + timedelta(days=2)
        current = start >= world.merger
        codes = world.current_codes if current else world.legacy_codes
        province = codes[int(rng.integers(0, len(codes)))]
        ids = rng.choice(10**11, size, replace=False) + 10**11 * int(rng.integers(1, 9))
        trainees = [
            {"full_name": f"Học viên {i + 1}", "national_id": f"0{n:011d}"[-12:], "staff_id": None,
             "birth_year": int(1965 + (n % 35)), "gender": "Nam" if n % 2 else "Nữ",
             "agency_code": agency.code, "position": "Chuyên viên", "category": categories[n % 4],
             "attended": True, "completed": bool(n % 5)}
            for i, n in enumerate(int(x) for x in ids)
        ]
        document = {
            "course": {"course_id": f"ONLINE-{province}-{start:%Y%m%d}-{number}", "title": "Tập huấn trực tuyến về "
                       "quyền con người", "organiser_agency_code": agency.code, "province_code": province,
                       "start_date": start.isoformat(), "end_date": end.isoformat(), "mode": "online"},
            "trainees": trainees,
        }
        text = json.dumps(document, ensure_ascii=False) + "\n"
        _write(landing / "rosters" / f"truc-tuyen_{province}_{start:%Y%m%d}_{number}.json", text,
               _vn(end + timedelta(days=3), 9, 0))
        files += 1
        rows += size
    return {"extra_roster_files": files, "extra_roster_rows": rows}


def _drop_after(landing: Path, last_day: date) -> int:
    """Remove sample files sent after the history (the bench's daily runs add their own days)."""
    limit = _vn(last_day + timedelta(days=1 + NEW_DAYS), 0, 0)
    removed = 0
    for path in list(landing.rglob("*")):
        if path.is_file() and path.stat().st_mtime >= limit:
            path.unlink()
            removed += 1
    return removed


def _count_rows(manifest_path: Path) -> dict[str, int]:
    data = json.loads(manifest_path.read_text())
    counts: dict[str, int] = {}
    for entry in data["files"]:
        counts[entry["source"]] = counts.get(entry["source"], 0) + int(entry.get("rows") or 0)
    return counts


def build(params: Params, cache_dir: Path, log=print) -> Dataset:
    """The dataset for ``params``, from the cache when it was generated before."""
    root = cache_dir / f"dataset-{params.key()}"
    manifest_path = root / "bench-manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        log(f"dataset: reusing {root} ({manifest['portal_rows']:,} portal rows)")
        return Dataset(root, params, manifest)
    shutil.rmtree(root, ignore_errors=True)
    started = clock.perf_counter()
    tmp = cache_dir / f".dataset-{params.key()}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    landing = tmp / "landing"
    log(f"dataset: generating scale {params.scale} into {root}")
    spec = SampleSpec(provinces=params.provinces, years=YEARS, seed=params.seed, portal_days=0, fault_rate=0.01)
    sample = generate_sample(landing, spec)
    (landing / "sample-manifest.json").rename(tmp / "sample-manifest.json")
    sample_rows = _count_rows(tmp / "sample-manifest.json")
    dropped = _drop_after(landing, HISTORY_LAST)
    log(f"  sample world: {len(sample.files)} files ({dropped} sent after the window left out) "
        f"in {clock.perf_counter() - started:.0f} s")
    world = World(load_reference(), provinces=params.provinces, years=YEARS, seed=params.seed)
    rng = np.random.default_rng(params.seed)
    manifest: dict = {"params": asdict(params), "format": FORMAT_VERSION, "sample_rows": sample_rows,
                      "provinces_legacy": len(world.legacy_codes), "provinces_current": len(world.current_codes),
                      "agencies": len({a.code for a in world.agencies})}
    manifest.update(_portal(world, landing, params, rng, log))
    manifest.update(_rosters(world, landing, params, rng, sample_rows.get("rosters", 0)))
    manifest["big_rows"] = _big_file(landing, tmp / "portal_big.csv", params.big_rows)
    manifest["new_days"] = [(HISTORY_LAST + timedelta(days=i)).isoformat() for i in range(1, NEW_DAYS + 1)]
    manifest["seconds"] = round(clock.perf_counter() - started, 1)
    manifest["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    (tmp / "bench-manifest.json").write_text(json.dumps(manifest, indent=2))
    tmp.rename(root)
    log(f"dataset: {manifest['portal_rows']:,} portal rows, {manifest['big_rows']:,} in the big file, "
        f"{manifest['agencies']} agencies, in {manifest['seconds']} s")
    return Dataset(root, params, manifest)
