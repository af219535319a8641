"""What an agency owes, and what the warehouse has received from it: the data of the sender page.

What is owed comes from the marts that dbt builds from the register and the plan (one definition,
the one the reports and the national sync use): ``marts.fct_submission_compliance`` (each report
an agency owes per period, with its deadline from ``ref_reporting_calendar``: 30/11 for the annual
report), ``marts.fct_task_status`` (the plan tasks it leads, whose status it owes each year) and
``marts.dim_agency`` (the register, with its versions). What was received comes from the ledger as
it is now, not as of the last build: ``landing.files`` (every version loaded, when it arrived,
rows loaded and rejected), the loaded rows of ``raw.agency_submissions`` (task statuses not yet in
the marts) and ``web.uploads`` (files sent through the page: received, waiting, refused). So an
upload changes the list at once; the marts follow at the next build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg

from planwh.ingest.parsing import VIETNAM_TZ, parse_period
from planwh.web.accounts import Account

STATUS_VI = {0: "Chưa triển khai", 1: "Đang thực hiện", 2: "Hoàn thành"}
STATUS_EN = {0: "not started", 1: "in progress", 2: "completed"}


class MartsMissing(RuntimeError):
    """The marts the page reads are not built yet."""


@dataclass(frozen=True)
class AgencyInfo:
    agency_code: str
    agency_name: str
    agency_kind: str | None
    province_code: str | None  # the current province
    province_name: str | None
    reporting_frequency: str | None


@dataclass
class Version:
    file_id: int
    original_name: str
    received_at: datetime
    status: str
    rows_loaded: int | None
    rows_rejected: int | None
    is_current: bool


@dataclass
class UploadLine:
    upload_id: int
    uploaded_at: datetime
    original_name: str
    state: str
    message_vi: str | None
    rows_loaded: int | None
    rows_rejected: int | None


@dataclass
class ReportDue:
    period: str
    period_kind: str
    deadline: date | None
    is_expected: bool
    versions: list[Version] = field(default_factory=list)
    uploads: list[UploadLine] = field(default_factory=list)

    @property
    def latest(self) -> Version | None:
        loaded = [v for v in self.versions if v.status == "loaded"]
        current = [v for v in loaded if v.is_current]
        return (current or loaded or [None])[-1]

    @property
    def first_received(self) -> datetime | None:
        loaded = [v.received_at for v in self.versions if v.status == "loaded"]
        return min(loaded) if loaded else None

    @property
    def days_late(self) -> int:
        """Days after the deadline the first version arrived (Viet Nam dates), 0 when on time."""
        first = self.first_received
        if first is None or self.deadline is None:
            return 0
        return max((first.astimezone(VIETNAM_TZ).date() - self.deadline).days, 0)

    @property
    def waiting(self) -> UploadLine | None:
        """An upload received through the page that no run has loaded yet."""
        return next((u for u in reversed(self.uploads) if u.state == "received"), None)

    @property
    def last_refused(self) -> UploadLine | None:
        last = self.uploads[-1] if self.uploads else None
        return last if last is not None and last.state in ("refused", "rejected") else None

    def state(self, today: date) -> tuple[str, str, str]:
        """(css class, Vietnamese, English) of where the report stands."""
        if self.latest is not None:
            if self.latest.rows_rejected:
                return ("partly", "Đã nhận, có dòng bị từ chối", "received, some rows rejected")
            return ("done", "Đã nhận", "received")
        if self.waiting is not None:
            return ("waiting", "Đã tiếp nhận, chờ nạp", "received, waiting for the next run")
        if not self.is_expected:
            return ("none", "Không bắt buộc", "not owed")
        if self.deadline is not None and self.deadline < today:
            return ("late", "Chưa gửi, đã quá hạn", "not sent, past the deadline")
        return ("owed", "Chưa gửi", "not sent yet")


@dataclass
class TaskDue:
    task_code: str
    title_vi: str
    is_owed: bool
    status_value: int | None
    period: str | None
    file_id: int | None
    received_at: datetime | None
    from_marts: bool

    def state(self, today: date, deadline: date | None) -> tuple[str, str, str]:
        """``deadline``: the annual report's, where task statuses are reported."""
        if self.status_value is None:
            if not self.is_owed:
                return ("none", "Không bắt buộc", "not owed")
            if deadline is not None and deadline < today:
                return ("late", "Chưa báo cáo, đã quá hạn", "not reported, past the deadline")
            return ("owed", "Chưa báo cáo", "not reported")
        css = {0: "partly", 1: "waiting", 2: "done"}[self.status_value]
        return (css, STATUS_VI[self.status_value], STATUS_EN[self.status_value])


def _require_marts(conn: psycopg.Connection) -> None:
    missing = conn.execute(
        "select array_agg(t) from unnest(array['marts.dim_agency', 'marts.fct_submission_compliance', "
        "'marts.fct_task_status']) as t where to_regclass(t) is null"
    ).fetchone()[0]
    if missing:
        raise MartsMissing(
            f"the marts {', '.join(missing)} are not built: run the pipeline first (planwh transform, make demo)"
        )


def today() -> date:
    return datetime.now(VIETNAM_TZ).date()


# ---------------------------------------------------------------------------- who may act for whom

_AGENCY_COLUMNS = """
    a.agency_code, a.agency_name, a.agency_kind, a.current_province_code, a.current_province_name,
    a.reporting_frequency
"""


def register_agencies(conn: psycopg.Connection, province_code: str | None = None) -> list[AgencyInfo]:
    """The register's agencies (their latest version), of one province or all."""
    _require_marts(conn)
    where = "where a.is_latest_version"
    params: tuple = ()
    if province_code is not None:
        where += " and (a.current_province_code = %s or a.province_code_as_sent = %s)"
        params = (province_code, province_code)
    rows = conn.execute(
        f"select {_AGENCY_COLUMNS} from marts.dim_agency as a {where} order by a.current_province_code, a.agency_code",
        params,
    ).fetchall()
    return [AgencyInfo(*r) for r in rows]


def province_name(conn: psycopg.Connection, province_code: str) -> str | None:
    row = conn.execute(
        "select province_name from marts.dim_province where province_code = %s order by is_current desc limit 1",
        (province_code,),
    ).fetchone() if conn.execute("select to_regclass('marts.dim_province')").fetchone()[0] else None
    return row[0] if row else None


def agencies_for(conn: psycopg.Connection, account: Account) -> list[AgencyInfo]:
    """The agencies ``account`` sees and uploads for: its own, or its province's."""
    if account.scope == "agency":
        _require_marts(conn)
        rows = conn.execute(
            f"select {_AGENCY_COLUMNS} from marts.dim_agency as a where a.agency_code = %s and a.is_latest_version",
            (account.agency_code,),
        ).fetchall()
        return [AgencyInfo(*r) for r in rows]
    return register_agencies(conn, account.province_code)


def agency_for(conn: psycopg.Connection, account: Account, agency_code: str) -> AgencyInfo | None:
    """The agency if ``account`` may see and upload for it, else None (unknown or someone else's)."""
    if account.scope == "agency" and agency_code != account.agency_code:
        return None
    return next((a for a in agencies_for(conn, account) if a.agency_code == agency_code), None)


# ---------------------------------------------------------------------------- what is owed


def years(conn: psycopg.Connection, agency_code: str) -> list[int]:
    _require_marts(conn)
    rows = conn.execute(
        """
        select year from marts.fct_submission_compliance where agency_code = %s
        union
        select year from marts.fct_task_status where agency_code = %s and duty_role = 'lead'
        order by 1
        """,
        (agency_code, agency_code),
    ).fetchall()
    return [r[0] for r in rows]


def default_year(available: list[int]) -> int | None:
    """This year when anything is owed for it, else the latest year before it, else the first."""
    if not available:
        return None
    past = [y for y in available if y <= today().year]
    return max(past) if past else min(available)


def reports(conn: psycopg.Connection, agency_code: str, year: int) -> list[ReportDue]:
    """Each report of ``year`` the agency owes (or sent unasked), with every version received and
    every upload made through the page."""
    _require_marts(conn)
    due = {
        period: ReportDue(period, kind, deadline, bool(expected))
        for period, kind, deadline, expected in conn.execute(
            """
            select period, period_kind, deadline_date, is_expected from marts.fct_submission_compliance
            where agency_code = %s and year = %s
            order by period_kind = 'year' desc, period
            """,
            (agency_code, year),
        )
    }
    for file_id, name, received_at, status, loaded, rejected, current, period in conn.execute(
        """
        select file_id, original_name, received_at, status, rows_loaded, rows_rejected, is_current_version, period
        from landing.files
        where source = 'submissions' and agency_code = %s and status = 'loaded'
            and (period = %s or period like %s)
        order by received_at, file_id
        """,
        (agency_code, str(year), f"{year}-%"),
    ):
        report = due.get(period) or due.setdefault(period, _unasked(period))
        report.versions.append(Version(file_id, name, received_at, status, loaded, rejected, current))
    for upload in _uploads(conn, agency_code, year):
        report = due.get(upload[-1]) or due.setdefault(upload[-1], _unasked(upload[-1]))
        report.uploads.append(UploadLine(*upload[:-1]))
    return sorted(due.values(), key=lambda r: (r.period_kind != "year", r.period))


def _unasked(period: str) -> ReportDue:
    parsed = parse_period(period)
    return ReportDue(parsed.code, parsed.kind, None, False)


def _uploads(conn: psycopg.Connection, agency_code: str, year: int) -> list[tuple]:
    if conn.execute("select to_regclass('web.uploads')").fetchone()[0] is None:
        return []
    # an upload received through the page counts as loaded once its reception's file is
    return conn.execute(
        """
        select u.upload_id, u.uploaded_at, u.original_name,
            case when u.state = 'received' and exists (
                select from landing.files as f where f.reception_id = u.reception_id and f.status <> 'received'
            ) then 'loaded' else u.state end,
            u.message_vi, u.rows_loaded, u.rows_rejected, u.period
        from web.uploads as u
        where u.agency_code = %s and (u.period = %s or u.period like %s)
        order by u.uploaded_at, u.upload_id
        """,
        (agency_code, str(year), f"{year}-%"),
    ).fetchall()


def tasks(conn: psycopg.Connection, agency_code: str, year: int) -> list[TaskDue]:
    """The plan tasks the agency leads in ``year`` (status owed or not), each with its status: the
    latest loaded file's, or the marts' when no file loaded since carries one."""
    _require_marts(conn)
    led = conn.execute(
        """
        select task_code, task_title_vi, is_status_owed, status_value, reported_period, source_file_id,
            source_received_at
        from marts.fct_task_status
        where agency_code = %s and year = %s and duty_role = 'lead'
        """,
        (agency_code, year),
    ).fetchall()
    live = {
        task: (value, period, file_id, received_at)
        for task, value, period, file_id, received_at in conn.execute(
            """
            select distinct on (s.task_code) s.task_code, s.value::integer, s.period, f.file_id, f.received_at
            from raw.agency_submissions as s
            inner join landing.files as f on f.file_id = s.file_id
            where s.agency_code = %s and s.measure_code = 'task_status' and extract(year from s.period_end) = %s
                and f.status = 'loaded' and f.is_current_version
            order by s.task_code, s.period_end desc, f.received_at desc, f.file_id desc
            """,
            (agency_code, year),
        )
    }
    result = []
    for code, title, owed, value, period, file_id, received_at in led:
        fresh = live.get(code)
        if fresh is not None and (received_at is None or fresh[3] >= received_at):
            result.append(TaskDue(code, title, bool(owed), fresh[0], fresh[1], fresh[2], fresh[3], False))
        else:
            result.append(TaskDue(code, title, bool(owed), value, period, file_id, received_at, True))
    return sorted(result, key=lambda t: [int(p) if p.isdigit() else p for p in t.task_code.replace("-", ".").split(".")])


# ---------------------------------------------------------------------------- the form's facts


@dataclass(frozen=True)
class FormFacts:
    """What an agency's form for one period is pre-filled with."""

    agency_code: str
    agency_name: str
    agency_kind: str | None
    province_code: str  # as the register sends it for the period (legacy or current)
    province_name: str
    period: str
    period_kind: str
    period_start: date
    period_end: date
    deadline: date | None
    measures: list[tuple[str, str, str, int | None, int | None]]  # code, name, kind, min, max
    tasks: list[tuple[str, str]]  # code, title


def form_facts(conn: psycopg.Connection, agency_code: str, period: str) -> FormFacts | None:
    """The facts of the form, or None when the agency is in no register version on the period's
    last day (it owes nothing for it)."""
    from planwh.reference.catalogue import MEASURES

    _require_marts(conn)
    parsed = parse_period(period)
    version = conn.execute(
        """
        select agency_name, agency_kind, province_code_as_sent
        from marts.dim_agency
        where agency_code = %s and valid_from <= %s and (valid_to is null or valid_to >= %s)
        order by valid_from desc limit 1
        """,
        (agency_code, parsed.end, parsed.end),
    ).fetchone()
    if version is None:
        return None
    name, kind, province_code = version
    deadline = conn.execute(
        "select deadline_date from marts.fct_submission_compliance where agency_code = %s and period = %s",
        (agency_code, parsed.code),
    ).fetchone()
    codes = _measures_reported(conn, agency_code, kind, parsed.kind)
    catalogue = [m for m in MEASURES if m["measure_code"] != "task_status"]
    chosen = [m for m in catalogue if not codes or m["measure_code"] in codes]
    measures = [(m["measure_code"], m["name_vi"], m["value_kind"], m.get("min_value"), m.get("max_value"))
                for m in chosen]
    led = []
    if parsed.kind == "year":
        led = conn.execute(
            "select task_code, task_title_vi from marts.fct_task_status where agency_code = %s and year = %s "
            "and duty_role = 'lead' and is_status_owed",
            (agency_code, parsed.start.year),
        ).fetchall()
        led.sort(key=lambda t: [int(p) if p.isdigit() else p for p in t[0].replace("-", ".").split(".")])
    return FormFacts(
        agency_code=agency_code, agency_name=name, agency_kind=kind, province_code=province_code,
        province_name=province_name(conn, province_code) or province_code, period=parsed.code,
        period_kind=parsed.kind, period_start=parsed.start, period_end=parsed.end,
        deadline=deadline[0] if deadline else None, measures=measures, tasks=[tuple(t) for t in led],
    )


def _measures_reported(conn: psycopg.Connection, agency_code: str, agency_kind: str | None,
                       period_kind: str) -> set[str]:
    """The measures the agency reported in its reports of this kind of period; failing that, those
    agencies of its kind reported; failing that, none (the form then lists every measure)."""
    own = {r[0] for r in conn.execute(
        """
        select distinct s.measure_code from raw.agency_submissions as s
        inner join landing.files as f on f.file_id = s.file_id and f.status = 'loaded'
        where s.agency_code = %s and s.period_kind = %s and s.measure_code <> 'task_status'
        """,
        (agency_code, period_kind),
    )}
    if own or agency_kind is None:
        return own
    return {r[0] for r in conn.execute(
        """
        select distinct s.measure_code from raw.agency_submissions as s
        inner join landing.files as f on f.file_id = s.file_id and f.status = 'loaded'
        where s.period_kind = %s and s.measure_code <> 'task_status'
            and s.agency_code in (select agency_code from marts.dim_agency where agency_kind = %s)
        """,
        (period_kind, agency_kind),
    )}
