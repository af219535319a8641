"""The tables of the sender page, all in schema ``web``, created by the one SQL block below.

``web.accounts``
    One sign-in per agency (``scope`` ``agency``: its ``agency_code``) or per provincial focal point
    (``scope`` ``province``: every agency of ``province_code``). ``password_hash`` is an Argon2id
    hash (``planwh.web.accounts``); null until the sender sets a password through a one-time link.
``web.invitations``
    One-time sign-in links: only the SHA-256 of the token is kept; used once, then ``used_at``.
``web.sessions``
    Signed-in browsers: the SHA-256 of the cookie's token, when it expires.
``web.sign_in_attempts``
    Every sign-in attempt (user name as typed, client address, outcome), what the slow-down of
    repeated wrong passwords reads.
``web.audit_events``
    Every sign-in, sign-out, form download, upload, load and refused access, with who, from where
    and what.
``web.uploads``
    Every file uploaded through the page: the sender's file name (a label only), its size and
    SHA-256, where the server kept it (a name it chose), what the check said, and the reception
    and ledger rows it became.

Idempotent (``create ... if not exists``), additive only, like the ingestion schema; a role that
owns schema ``web`` runs it on start (``planwh roles apply`` creates the schema for ``planwh_web``).
"""

from __future__ import annotations

import psycopg

from planwh.ddl import create_schemas_sql

SCHEMA_VERSION = "planwh web schema 1"

WEB_DDL = create_schemas_sql("web") + """
create table if not exists web.accounts (
    account_id bigint generated always as identity primary key,
    username text not null unique check (username = lower(username) and username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    scope text not null check (scope in ('agency', 'province')),
    agency_code text,
    province_code char(2),
    display_name text not null,
    password_hash text,
    created_at timestamptz not null,
    password_set_at timestamptz,
    disabled_at timestamptz,
    constraint accounts_scope_named check (
        (scope = 'agency' and agency_code is not null and province_code is null)
        or (scope = 'province' and province_code is not null and agency_code is null)
    )
);
create unique index if not exists accounts_one_per_agency on web.accounts (agency_code) where scope = 'agency';
create unique index if not exists accounts_one_per_province on web.accounts (province_code)
    where scope = 'province';

create table if not exists web.invitations (
    token_sha256 char(64) primary key check (token_sha256 ~ '^[0-9a-f]{64}$'),
    account_id bigint not null references web.accounts (account_id),
    created_at timestamptz not null,
    expires_at timestamptz not null,
    used_at timestamptz
);

create table if not exists web.sessions (
    token_sha256 char(64) primary key check (token_sha256 ~ '^[0-9a-f]{64}$'),
    account_id bigint not null references web.accounts (account_id),
    created_at timestamptz not null,
    expires_at timestamptz not null,
    client text
);
create index if not exists sessions_expiry on web.sessions (expires_at);

create table if not exists web.sign_in_attempts (
    attempt_id bigint generated always as identity primary key,
    attempted_at timestamptz not null,
    username text not null,
    client text not null,
    outcome text not null check (outcome in ('signed_in', 'wrong_password', 'unknown_user', 'throttled'))
);
create index if not exists sign_in_attempts_user on web.sign_in_attempts (username, attempted_at);
create index if not exists sign_in_attempts_client on web.sign_in_attempts (client, attempted_at);

create table if not exists web.audit_events (
    event_id bigint generated always as identity primary key,
    occurred_at timestamptz not null,
    event text not null,
    account_id bigint references web.accounts (account_id),
    username text,
    client text,
    agency_code text,
    period text,
    upload_id bigint,
    detail jsonb not null default '{}'::jsonb
);
create index if not exists audit_events_time on web.audit_events (occurred_at);

create table if not exists web.uploads (
    upload_id bigint generated always as identity primary key,
    account_id bigint not null references web.accounts (account_id),
    agency_code text not null,
    period text not null,
    original_name text not null,
    uploaded_at timestamptz not null,
    size_bytes bigint check (size_bytes >= 0),
    sha256 char(64) check (sha256 ~ '^[0-9a-f]{64}$'),
    file_kind text check (file_kind in ('xlsx', 'csv')),
    state text not null check (state in ('refused', 'rejected', 'received', 'loaded')),
    reason_code text,
    message_vi text,
    message_en text,
    kept_path text,
    landing_path text,
    reception_id bigint,
    file_id bigint,
    rows_in integer,
    rows_loaded integer,
    rows_rejected integer,
    rows_skipped integer,
    warnings integer,
    result jsonb not null default '{}'::jsonb,
    feedback_path text,
    loaded_at timestamptz,
    constraint uploads_received_in_landing check (state not in ('received', 'loaded') or reception_id is not null)
);
create index if not exists uploads_agency on web.uploads (agency_code, period, uploaded_at);
"""


def ensure_web_schema(conn: psycopg.Connection) -> None:
    """Apply the DDL once per warehouse and version (an advisory lock keeps two starts apart)."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (SCHEMA_VERSION,))
        conn.execute(WEB_DDL)
