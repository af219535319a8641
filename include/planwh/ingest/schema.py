"""The warehouse tables that ingestion writes: the landing ledger, raw data and quarantine.

``ensure_schema(conn)`` applies the DDL idempotently at the start of every ingestion, so a fresh
warehouse needs no separate migration step. The DDL only ever adds: it never drops or rewrites
a table, because the ledger and raw tables are the history the marts are rebuilt from.

Layout:

``landing.files``
    One row per file that arrived (and one per repeat arrival: status ``duplicate``; an arrival
    whose load was interrupted becomes a ``duplicate`` too, reason_code ``interrupted_load``, once
    the same bytes are loaded or rejected by a later arrival). For a loaded file, ``rows_in`` (every
    non-blank row of the sheet or file read) = ``rows_loaded`` + ``rows_rejected`` + ``rows_skipped``
    (title, header, total, signature rows... of a report form; ``skipped_rows`` lists them by kind
    and range). ``reason_vi`` is the rejection reason in Vietnamese. Version
    keys (agency + province + period for submissions, portal + day for portal statistics,
    course for rosters, province for the agency register) decide which loaded file is the
    current version; superseded versions stay, with ``is_current_version`` false.
``raw.*``
    Typed canonical columns, plus ``file_id`` and ``row_number`` (lineage to the sender's row).
    Province codes are stored as sent (legacy or current two-digit codes); dbt maps them.
``quarantine.rejected_rows``
    One row per problem found in a rejected row (a row with two bad fields has two entries), with
    its message in Vietnamese too; ``severity`` ``warning`` marks a problem that rejected nothing
    (a total row that does not add up).
``landing.portal_api_cursor``
    The last day pulled from each portal's HTTP API.
``landing.receptions``, ``landing.observations``, ``landing.sweeps``
    The reception ledger (``planwh.ingest.reception``): every landing file registered by a sweep
    or an API pull (path, size, sha256, when first seen, when received, the data interval that
    took it); what the last sweeps saw of each path (files still being written, litter skipped);
    and when each landing folder was swept. ``landing.files.reception_id`` ties each arrival
    to its reception.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from planwh.ddl import create_schemas_sql

SOURCES = ("agencies", "submissions", "portal", "rosters")
# Bump when the DDL below changes (with additive statements only), so that warehouses apply it.
SCHEMA_VERSION = "planwh ingestion schema 4"

# Raw table and its loadable columns, in COPY order (file_id and row_number come first).
RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "raw.agency_register": (
        "agency_code", "agency_name", "province_code", "agency_kind", "reporting", "valid_from", "valid_to",
        "successor_agency_code",
    ),
    "raw.agency_submissions": (
        "province_code", "agency_code", "agency_name", "period", "period_kind", "period_start",
        "period_end", "measure_code", "value", "task_code", "note", "submitted_at",
    ),
    "raw.portal_statistics": (
        "stat_date", "province_code", "portal", "article_id", "url", "title", "topic", "language",
        "published_at", "page_views", "unique_visitors",
    ),
    "raw.training_courses": (
        "course_id", "title", "organiser_agency_code", "province_code", "start_date", "end_date", "mode",
    ),
    "raw.training_attendance": (
        "course_id", "person_key", "gender", "agency_code", "position", "category", "attended", "completed",
    ),
}

RAW_TABLE = {
    "agencies": "raw.agency_register",
    "submissions": "raw.agency_submissions",
    "portal": "raw.portal_statistics",
    "rosters": "raw.training_attendance",
}

DDL = create_schemas_sql("landing", "raw", "quarantine") + """

create table if not exists landing.files (
    file_id bigint generated always as identity primary key,
    source text not null check (source in ('agencies', 'submissions', 'portal', 'rosters')),
    original_name text not null,
    sha256 char(64) check (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes bigint not null check (size_bytes >= 0),
    received_at timestamptz not null,
    archive_path text,
    status text not null check (status in ('received', 'loaded', 'rejected', 'duplicate')),
    reason_code text,
    reason text,
    rows_in integer check (rows_in >= 0),
    rows_loaded integer check (rows_loaded >= 0),
    rows_rejected integer check (rows_rejected >= 0),
    rows_skipped integer check (rows_skipped >= 0),
    skipped_rows jsonb,
    reason_vi text,
    file_format text,
    encoding text,
    -- version keys
    agency_code text,
    province_code text,
    period text,
    portal text,
    stat_date date,
    course_id text,
    -- versions and repeats
    duplicate_of_file_id bigint references landing.files (file_id),
    supersedes_file_id bigint references landing.files (file_id),
    is_current_version boolean not null default false,
    loaded_at timestamptz,
    constraint files_rows_add_up check (
        rows_in is null or rows_in = coalesce(rows_loaded, 0) + coalesce(rows_rejected, 0) + coalesce(rows_skipped, 0)
    ),
    constraint files_loaded_counts_known check (
        status <> 'loaded' or (rows_in is not null and rows_loaded is not null and rows_rejected is not null)
    ),
    constraint files_rejected_has_reason check (status <> 'rejected' or reason_code is not null),
    constraint files_duplicate_points_back check (status <> 'duplicate' or duplicate_of_file_id is not null),
    constraint files_only_loaded_is_current check (status = 'loaded' or not is_current_version)
);

-- The same bytes from the same source are processed once, even by two concurrent runs. A file
-- refused for its name or size was not judged on its content, so the bytes may come again.
create unique index if not exists files_source_sha256_processed
    on landing.files (source, sha256)
    where status = 'loaded' or (status = 'rejected' and reason_code not in ('unsafe_file_name', 'file_too_large'));
create index if not exists files_current_versions
    on landing.files (source) where is_current_version;

create table if not exists landing.portal_api_cursor (
    portal text primary key,
    last_day date not null,
    last_file_id bigint references landing.files (file_id),
    updated_at timestamptz not null
);

create table if not exists landing.sweeps (
    sweep_id bigint generated always as identity primary key,
    source text not null check (source in ('agencies', 'submissions', 'portal', 'rosters')),
    swept_at timestamptz not null,
    files_seen integer not null,
    files_registered integer not null,
    files_waiting integer not null,
    files_skipped integer not null
);
create index if not exists sweeps_source_time on landing.sweeps (source, swept_at);

create table if not exists landing.receptions (
    reception_id bigint generated always as identity primary key,
    source text not null check (source in ('agencies', 'submissions', 'portal', 'rosters')),
    path text not null,
    raw_path bytea not null,
    size_bytes bigint not null check (size_bytes >= 0),
    modified_at timestamptz not null,
    sha256 char(64) check (sha256 ~ '^[0-9a-f]{64}$'),
    archive_path text,
    stat_date date,
    first_seen_at timestamptz not null,
    registered_at timestamptz not null,
    received_at timestamptz not null,
    taken_from timestamptz,
    taken_until timestamptz,
    taken_at timestamptz,
    constraint receptions_interval_whole check ((taken_from is null) = (taken_until is null)),
    constraint receptions_interval_taken check (taken_from is null or taken_at is not null),
    constraint receptions_archived_unless_too_large check ((sha256 is null) = (archive_path is null))
);
create unique index if not exists receptions_identity
    on landing.receptions (source, path, size_bytes, coalesce(sha256, ''));
create index if not exists receptions_untaken on landing.receptions (source, received_at) where taken_at is null;
create index if not exists receptions_taken_by
    on landing.receptions (source, taken_from, taken_until) where taken_from is not null;

create table if not exists landing.observations (
    source text not null check (source in ('agencies', 'submissions', 'portal', 'rosters')),
    path text not null,
    size_bytes bigint not null,
    modified_ns bigint not null,
    changed_ns bigint not null,
    inode bigint not null,
    state text not null check (state in ('waiting', 'registered', 'skipped')),
    reason_code text,
    reason text,
    first_seen_at timestamptz not null,
    content_seen_at timestamptz not null,
    reception_id bigint references landing.receptions (reception_id),
    primary key (source, path),
    constraint observations_registered_has_reception check ((state = 'registered') = (reception_id is not null)),
    constraint observations_explained check (state = 'registered' or reason_code is not null)
);

alter table landing.files add column if not exists reception_id bigint references landing.receptions (reception_id);
create index if not exists files_reception on landing.files (reception_id) where reception_id is not null;

create table if not exists raw.agency_register (
    file_id bigint not null references landing.files (file_id),
    row_number integer not null,
    agency_code text not null,
    agency_name text not null,
    province_code char(2) not null,
    agency_kind text not null,
    reporting text not null,
    valid_from date not null,
    valid_to date,
    successor_agency_code text,
    primary key (file_id, row_number)
);
-- schema 3: the successor column ("Đơn vị kế thừa") of registers loaded before it existed
alter table raw.agency_register add column if not exists successor_agency_code text;

create table if not exists raw.agency_submissions (
    file_id bigint not null references landing.files (file_id),
    row_number integer not null,
    province_code char(2) not null,
    agency_code text not null,
    agency_name text,
    period text not null,
    period_kind text not null,
    period_start date not null,
    period_end date not null,
    measure_code text not null,
    value numeric not null,
    task_code text,
    note text,
    submitted_at date,
    primary key (file_id, row_number)
);

create table if not exists raw.portal_statistics (
    file_id bigint not null references landing.files (file_id),
    row_number integer not null,
    stat_date date not null,
    province_code char(2) not null,
    portal text not null,
    article_id text not null,
    url text,
    title text,
    topic text,
    language text,
    published_at timestamptz,
    page_views bigint not null,
    unique_visitors bigint,
    primary key (file_id, row_number)
);

create table if not exists raw.training_courses (
    file_id bigint not null references landing.files (file_id),
    row_number integer,
    course_id text not null,
    title text,
    organiser_agency_code text,
    province_code char(2),
    start_date date not null,
    end_date date,
    mode text,
    primary key (file_id)
);

create table if not exists raw.training_attendance (
    file_id bigint not null references landing.files (file_id),
    row_number integer not null,
    course_id text not null,
    person_key char(64) not null check (person_key ~ '^[0-9a-f]{64}$'),
    gender text,
    agency_code text,
    position text,
    category text not null,
    attended boolean,
    completed boolean,
    primary key (file_id, row_number)
);

create table if not exists quarantine.rejected_rows (
    file_id bigint not null references landing.files (file_id),
    row_number integer,
    column_name text,
    value text,
    reason_code text not null,
    message text not null,
    message_vi text,
    severity text not null default 'error' check (severity in ('error', 'warning'))
);
create index if not exists rejected_rows_file on quarantine.rejected_rows (file_id, row_number);

-- schema 3 on a warehouse made by schema 2: skipped rows, Vietnamese messages, warnings
alter table landing.files add column if not exists rows_skipped integer check (rows_skipped >= 0);
alter table landing.files add column if not exists skipped_rows jsonb;
alter table landing.files add column if not exists reason_vi text;
alter table landing.files drop constraint if exists files_rows_add_up;
alter table landing.files add constraint files_rows_add_up check (
    rows_in is null or rows_in = coalesce(rows_loaded, 0) + coalesce(rows_rejected, 0) + coalesce(rows_skipped, 0)
);
alter table quarantine.rejected_rows add column if not exists message_vi text;
alter table quarantine.rejected_rows add column if not exists severity text not null default 'error'
    check (severity in ('error', 'warning'));

comment on table landing.files is
    'Every file that arrived, one row per arrival; bytes archived under archive_path (sha256-addressed).';
comment on column landing.files.received_at is
    'When the file arrived: for a landing-folder file its reception (landing.receptions.received_at), for an '
    'API pull the end of the day pulled, for planwh ingest the time given (default: when it ran).';
comment on column landing.files.reception_id is
    'The landing.receptions row this arrival loads (null for planwh ingest of files outside the reception ledger).';
comment on table landing.receptions is
    'Every landing file registered once (path, size, sha256), with when a sweep first saw it, its reception time '
    'and the data interval that took it. Loaded when a landing.files row of it is no longer received.';
comment on column landing.receptions.received_at is
    'The arrival as the ledger places it: the file''s modification time when that lies after the previous sweep '
    'of its folder and no later than the sweep that first saw it (first_seen_at), else first_seen_at.';
comment on column landing.receptions.first_seen_at is
    'The clock of the sweep (or API pull) that first saw the file''s current content.';
comment on table landing.observations is
    'What the sweeps see at each landing path: registered, waiting (temporary name, still being written, '
    'unreadable) or skipped (hidden files, Excel lock files, OS litter, links out of the folder).';
comment on column landing.files.is_current_version is
    'The latest loaded file (by received_at) of its version key; earlier versions stay as history.';
comment on column landing.files.duplicate_of_file_id is
    'For status duplicate: the file that loaded or rejected the same bytes (for interrupted_load, a later one).';
comment on column landing.files.reason_code is
    'Why a file was rejected; for a duplicate, interrupted_load when its own load died before committing.';
comment on table raw.training_courses is
    'One course per roster file (the course header above the trainee table; row_number is null).';
comment on table raw.training_attendance is
    'Trainees of a course; person_key = HMAC-SHA256 of the national ID (or agency + staff ID). No names or IDs.';
comment on table quarantine.rejected_rows is
    'One row per problem of a rejected row (severity error), or per warning on a loaded row (severity warning); '
    'value is withheld for personal columns.';
comment on column landing.files.rows_skipped is
    'Rows of the file that are not data (title, column headers and numbers, totals, notes, signatures...); '
    'rows_in = rows_loaded + rows_rejected + rows_skipped.';
comment on column landing.files.skipped_rows is
    'The skipped rows as runs [kind, first row, last row, rows], in the order of the file.';
"""


def _is_current(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = 'landing'"
    ).fetchone()
    return row is not None and row[0] == SCHEMA_VERSION


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create the ingestion schemas and tables if missing; safe to call from concurrent runs.

    When the schema is already at ``SCHEMA_VERSION`` nothing is executed but a catalog lookup:
    ``create index if not exists`` on a table locks it even when the index exists, which would
    wait for (and could deadlock with) another run loading a file.
    """
    if _is_current(conn):
        return
    with conn.transaction():
        # Two runs creating the same table at once collide on the catalog: serialise them.
        conn.execute("select pg_advisory_xact_lock(hashtextextended('planwh.ingest.schema', 0))")
        if _is_current(conn):
            return
        conn.execute(DDL)
        conn.execute(sql.SQL("comment on schema landing is {}").format(sql.Literal(SCHEMA_VERSION)))
