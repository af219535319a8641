"""Accounts of the sender page: created from the agency register, signed in with a password set
through a one-time link (or printed once), sessions that expire, and a slow-down of wrong passwords.

Passwords are hashed with Argon2id (``argon2-cffi``'s defaults: 64 MiB, 3 passes, a random salt
per hash); links and session cookies are random 32-byte tokens of which only the SHA-256 is
stored, so a copy of the tables lets nobody sign in.

**Slow-down.** Five wrong passwords for one user name within ``WINDOW`` make the next attempt wait
``FIRST_WAIT`` after the fifth, doubling with every further failure up to ``LONGEST_WAIT``; an
attempt made while waiting is refused without checking the password (and recorded, so hammering
does not help). Twenty failures from one client address over any user names do the same for
that address. A successful sign-in ends the run of failures for its user name.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from planwh.settings import Settings

FAILURES_BEFORE_SLOW_DOWN = 5
CLIENT_FAILURES_BEFORE_SLOW_DOWN = 20
WINDOW = timedelta(minutes=15)
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so that answering takes as long either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; ``message_vi`` says it in Vietnamese."""

    def __init__(self, message: str, message_vi: str):
        super().__init__(message)
        self.message_vi = message_vi


@dataclass(frozen=True)
class Account:
    account_id: int
    username: str
    scope: str  # agency | province
    agency_code: str | None
    province_code: str | None
    display_name: str

    @property
    def is_focal_point(self) -> bool:
        return self.scope == "province"


ACCOUNT_COLUMNS = "account_id, username, scope, agency_code, province_code, display_name"


def now() -> datetime:
    return datetime.now(UTC)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def username_for_agency(agency_code: str) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "-", agency_code.strip().lower()).strip("-._")
    if len(name) < 2:
        raise AccountError(f"agency code {agency_code!r} makes no user name",
                           f"Mã đơn vị {agency_code!r} không dùng làm tên đăng nhập được")
    return name[:64]


def username_for_province(province_code: str) -> str:
    return f"tinh-{province_code}"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problem(password: str) -> tuple[str, str] | None:
    """Why a new password is refused (English, Vietnamese), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (f"at least {MIN_PASSWORD_LENGTH} characters", f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự")
    if len(password) > 256:
        return ("at most 256 characters", "Mật khẩu dài quá 256 ký tự")
    return None


# ---------------------------------------------------------------------------- creating accounts


@dataclass(frozen=True)
class Invitation:
    account: Account
    created: bool
    link: str | None = None
    password: str | None = None


def _upsert_account(conn: psycopg.Connection, *, username: str, scope: str, agency_code: str | None,
                    province_code: str | None, display_name: str, at: datetime) -> tuple[Account, bool]:
    row = conn.execute(
        f"""
        insert into web.accounts (username, scope, agency_code, province_code, display_name, created_at)
        values (%s, %s, %s, %s, %s, %s)
        on conflict (username) do update set display_name = excluded.display_name
        returning {ACCOUNT_COLUMNS}, xmax = 0
        """,
        (username, scope, agency_code, province_code, display_name, at),
    ).fetchone()
    return Account(*row[:6]), bool(row[6])


def invite(
    conn: psycopg.Connection,
    settings: Settings,
    *,
    agency: tuple[str, str] | None = None,
    province: tuple[str, str] | None = None,
    with_password: bool = False,
    at: datetime | None = None,
) -> Invitation:
    """Create (or find) the account of ``agency`` (code, name) or of the focal point of ``province``
    (code, name) and give it a one-time sign-in link, or with ``with_password`` a new initial
    password. Either is returned once and stored only as a hash."""
    at = at or now()
    if (agency is None) == (province is None):
        raise ValueError("invite one agency or one province")
    with conn.transaction():
        if agency is not None:
            account, created = _upsert_account(conn, username=username_for_agency(agency[0]), scope="agency",
                                               agency_code=agency[0], province_code=None, display_name=agency[1],
                                               at=at)
        else:
            account, created = _upsert_account(conn, username=username_for_province(province[0]), scope="province",
                                               agency_code=None, province_code=province[0],
                                               display_name=f"Đầu mối tỉnh: {province[1]}", at=at)
        # a new link or password replaces the ones given before
        conn.execute("update web.invitations set used_at = %s where account_id = %s and used_at is null",
                     (at, account.account_id))
        if with_password:
            password = secrets.token_urlsafe(12)
            conn.execute("update web.accounts set password_hash = %s, password_set_at = %s where account_id = %s",
                         (hash_password(password), at, account.account_id))
            record_event(conn, "password_issued", account=account, at=at)
            return Invitation(account, created, password=password)
        token = secrets.token_urlsafe(32)
        conn.execute(
            "insert into web.invitations (token_sha256, account_id, created_at, expires_at) values (%s, %s, %s, %s)",
            (token_digest(token), account.account_id, at, at + timedelta(hours=settings.web_invite_hours)),
        )
        record_event(conn, "link_issued", account=account, at=at)
    return Invitation(account, created, link=f"{settings.web_public_url}/moi/{token}")


def invitation_account(conn: psycopg.Connection, token: str, at: datetime | None = None) -> Account | None:
    """The account a one-time link is for, while it is unused and not expired."""
    at = at or now()
    row = conn.execute(
        f"""
        select {', '.join('a.' + c.strip() for c in ACCOUNT_COLUMNS.split(','))}
        from web.invitations as i
        inner join web.accounts as a on a.account_id = i.account_id
        where i.token_sha256 = %s and i.used_at is null and i.expires_at > %s and a.disabled_at is null
        """,
        (token_digest(token), at),
    ).fetchone()
    return Account(*row) if row else None


def use_invitation(conn: psycopg.Connection, token: str, password: str, at: datetime | None = None) -> Account:
    """Set the account's password through its one-time link, which is then spent."""
    at = at or now()
    problem = password_problem(password)
    if problem is not None:
        raise AccountError(problem[0], problem[1])
    with conn.transaction():
        row = conn.execute(
            "update web.invitations set used_at = %s where token_sha256 = %s and used_at is null and expires_at > %s "
            "returning account_id",
            (at, token_digest(token), at),
        ).fetchone()
        if row is None:
            raise AccountError("the link was used or has expired",
                               "Đường dẫn đã được dùng hoặc đã hết hạn; hãy xin đường dẫn mới")
        conn.execute("update web.accounts set password_hash = %s, password_set_at = %s where account_id = %s",
                     (hash_password(password), at, row[0]))
        account = Account(*conn.execute(f"select {ACCOUNT_COLUMNS} from web.accounts where account_id = %s",
                                        (row[0],)).fetchone())
    return account


# ---------------------------------------------------------------------------- signing in


@dataclass(frozen=True)
class SignIn:
    account: Account | None
    outcome: str  # signed_in | wrong_password | unknown_user | throttled
    wait_seconds: int = 0


def _wait(failures: int, last_failure: datetime | None, threshold: int, at: datetime) -> timedelta:
    if failures < threshold or last_failure is None:
        return timedelta(0)
    wait = min(FIRST_WAIT * 2 ** (failures - threshold), LONGEST_WAIT)
    return max(last_failure + wait - at, timedelta(0))


def slow_down(conn: psycopg.Connection, username: str, client: str, at: datetime) -> timedelta:
    """How long ``username`` from ``client`` must wait before the next attempt is checked."""
    user = conn.execute(
        """
        select count(*), max(attempted_at) from web.sign_in_attempts
        where username = %s and outcome in ('wrong_password', 'unknown_user') and attempted_at > %s
            and attempted_at > coalesce((select max(attempted_at) from web.sign_in_attempts
                                         where username = %s and outcome = 'signed_in'), '-infinity')
        """,
        (username, at - WINDOW, username),
    ).fetchone()
    address = conn.execute(
        "select count(*), max(attempted_at) from web.sign_in_attempts "
        "where client = %s and outcome in ('wrong_password', 'unknown_user') and attempted_at > %s",
        (client, at - WINDOW),
    ).fetchone()
    return max(_wait(user[0], user[1], FAILURES_BEFORE_SLOW_DOWN, at),
               _wait(address[0], address[1], CLIENT_FAILURES_BEFORE_SLOW_DOWN, at))


def sign_in(conn: psycopg.Connection, username: str, password: str, client: str,
            at: datetime | None = None) -> SignIn:
    """Check a user name and password, with the slow-down; every attempt is recorded and audited.
    A failure says how long the next attempt must wait (0 until the fifth)."""
    at = at or now()
    username = username.strip().lower()[:64]
    with conn.transaction():
        # one attempt per user name at a time, so that parallel guesses queue behind the count
        conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"planwh.web.sign_in:{username}",))
        wait = slow_down(conn, username, client, at)
        if wait > timedelta(0):
            result = SignIn(None, "throttled", _seconds(wait))
        else:
            row = conn.execute(
                f"select {ACCOUNT_COLUMNS}, password_hash from web.accounts where username = %s and disabled_at is null",
                (username,),
            ).fetchone()
            try:
                _hasher.verify(row[6] if row and row[6] else _DUMMY_HASH, password)
                good = row is not None and row[6] is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                good = False
            result = SignIn(Account(*row[:6]), "signed_in") if good else SignIn(
                None, "wrong_password" if row else "unknown_user")
        conn.execute(
            "insert into web.sign_in_attempts (attempted_at, username, client, outcome) values (%s, %s, %s, %s)",
            (at, username, client, result.outcome),
        )
        if result.outcome in ("wrong_password", "unknown_user"):
            result = SignIn(None, result.outcome, _seconds(slow_down(conn, username, client, at)))
        event = {"signed_in": "sign_in", "throttled": "sign_in_throttled"}.get(result.outcome, "sign_in_failed")
        detail = {"outcome": result.outcome, **({"wait_seconds": result.wait_seconds} if result.wait_seconds else {})}
        record_event(conn, event, account=result.account, username=username, client=client, at=at, detail=detail)
    return result


def _seconds(wait: timedelta) -> int:
    return 0 if wait <= timedelta(0) else int(wait.total_seconds()) + (wait.microseconds > 0)


# ---------------------------------------------------------------------------- sessions


def start_session(conn: psycopg.Connection, settings: Settings, account: Account, client: str,
                  at: datetime | None = None) -> str:
    """A new session for ``account``; returns the cookie's token (stored only as its SHA-256)."""
    at = at or now()
    token = secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("delete from web.sessions where expires_at <= %s", (at,))
        conn.execute(
            "insert into web.sessions (token_sha256, account_id, created_at, expires_at, client) "
            "values (%s, %s, %s, %s, %s)",
            (token_digest(token), account.account_id, at, at + timedelta(minutes=settings.web_session_minutes),
             client),
        )
    return token


def session_account(conn: psycopg.Connection, token: str | None, at: datetime | None = None) -> Account | None:
    """The account of a live session, or None (no cookie, an unknown or expired session)."""
    if not token or len(token) > 128:
        return None
    at = at or now()
    row = conn.execute(
        f"""
        select {', '.join('a.' + c.strip() for c in ACCOUNT_COLUMNS.split(','))}
        from web.sessions as s
        inner join web.accounts as a on a.account_id = s.account_id
        where s.token_sha256 = %s and s.expires_at > %s and a.disabled_at is null
        """,
        (token_digest(token), at),
    ).fetchone()
    return Account(*row) if row else None


def end_session(conn: psycopg.Connection, token: str | None) -> None:
    if token:
        with conn.transaction():
            conn.execute("delete from web.sessions where token_sha256 = %s", (token_digest(token),))


# ---------------------------------------------------------------------------- audit


def record_event(conn: psycopg.Connection, event: str, *, account: Account | None = None, username: str | None = None,
                 client: str | None = None, agency_code: str | None = None, period: str | None = None,
                 upload_id: int | None = None, detail: dict | None = None, at: datetime | None = None) -> None:
    from psycopg.types.json import Jsonb

    conn.execute(
        """
        insert into web.audit_events (occurred_at, event, account_id, username, client, agency_code, period,
            upload_id, detail)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (at or now(), event, account.account_id if account else None,
         username or (account.username if account else None), client, agency_code, period, upload_id,
         Jsonb(detail or {})),
    )
