"""The one configuration object, read from the environment and an optional ``.env`` file.

Every knob the project has is here; nothing else reads ``os.environ`` for configuration.
Variables (all optional; see ``.env.example``):

``PLANWH_WAREHOUSE_URL``
    SQLAlchemy/libpq URL of the warehouse (PostgreSQL 14+). Unset: an embedded PostgreSQL
    server is started under the state folder.
``PLANWH_NATIONAL_URL``
    URL of the national shared database. Unset: database ``planwh_national`` on the same
    server as the warehouse.
``PLANWH_LANDING_DIR``
    Where source files arrive, one sub-folder per source (default ``<project>/landing``).
``PLANWH_STATE_DIR``
    Local state: embedded server data, archive of received files, Airflow home, caches
    (default ``<project>/.state``).
``PLANWH_PSEUDONYM_KEY``
    Secret key for the keyed hash (HMAC-SHA256) that pseudonymises trainees. Unset: a random
    key is generated once and kept in ``<state>/pseudonym.key`` (mode 600).
``AIRFLOW_HOME``
    Airflow's home (default ``<state>/airflow``); local runs keep Airflow's metadata database
    there.
``PLANWH_EMBEDDED_PORT``
    TCP port of the embedded server on 127.0.0.1 (default 54329; a free one is picked if taken).
``PLANWH_MAX_FILE_MB``
    Largest landing file accepted, in MiB (default 512).
``PLANWH_PORTAL_API_URL``, ``PLANWH_PORTAL_API_TOKEN``
    A provincial portal's statistics API, for pulls outside Airflow (inside Airflow the
    connection ``portal_api_<portal>`` holds them).
``PLANWH_PORTAL_API_MAX_DAYS``
    Most days one run pulls from one portal's API when catching up from its cursor (default
    31); the next run goes on from where this one stopped.
``PLANWH_LIVE_RUN_GRACE_HOURS``
    How long after its data interval ends a run is still the *live* run, which sweeps the
    landing folders and takes every file no run has taken yet (default 24: the scheduled run of
    yesterday, or the first run after an outage). Older intervals are re-judged from the ledger.
``PLANWH_LANDING_QUIET_SECONDS``
    A landing file not written to for this long is complete (default 60); a younger one is
    registered once a sweep finds it unchanged since the previous sweep.
``PLANWH_LANDING_STALE_HOURS``
    A landing file still unregistered, or registered but not loaded, after this long fails the
    daily chain's landing check and alerts (default 36).
``PLANWH_WEB_SECRET_KEY``
    Key of the sender page (``planwh serve``) that its CSRF tokens are computed with. Unset: a
    random key is generated once and kept in ``<state>/web-secret.key`` (mode 600), as the
    pseudonym key.
``PLANWH_WEB_BIND``
    Address the sender page listens on, ``HOST:PORT`` (default ``127.0.0.1:8800``).
``PLANWH_WEB_PUBLIC_URL``
    The address senders open, for the links ``planwh senders invite`` prints (default
    ``http://<bind>``). An ``https://`` address makes session cookies ``Secure`` and adds HSTS.
``PLANWH_WEB_SESSION_MINUTES``
    How long a sign-in lasts (default 120); then the sender signs in again.
``PLANWH_WEB_MAX_UPLOAD_MB``
    Largest file the page accepts, in MiB, counted while it streams in (default 20).
``PLANWH_WEB_INVITE_HOURS``
    How long a one-time sign-in link stays valid (default 72).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_DEFAULT_PORT = 54329
WAREHOUSE_DB = "planwh"
NATIONAL_DB = "planwh_national"


class SettingsError(ValueError):
    """A configuration value is present but unusable."""


def _state_key(key_file: Path) -> bytes:
    """A secret kept in the state folder, generated once (mode 600) on first use."""
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process generated it first: use theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode("utf-8")


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


@dataclass(frozen=True)
class Settings:
    warehouse_url: str | None
    national_url: str | None
    landing_dir: Path
    state_dir: Path
    airflow_home: Path
    embedded_port: int
    max_file_bytes: int
    pseudonym_key_value: str | None = field(default=None, repr=False)
    portal_api_url: str | None = None
    portal_api_token: str | None = field(default=None, repr=False)
    portal_api_max_days: int = 31
    live_run_grace_hours: int = 24
    landing_quiet_seconds: int = 60
    landing_stale_hours: int = 36
    web_secret_key_value: str | None = field(default=None, repr=False)
    web_bind: str = "127.0.0.1:8800"
    web_public_url_value: str | None = None
    web_session_minutes: int = 120
    web_max_upload_bytes: int = 20 * 1024 * 1024
    web_invite_hours: int = 72

    @property
    def uses_embedded(self) -> bool:
        return self.warehouse_url is None

    @property
    def archive_dir(self) -> Path:
        return self.state_dir / "archive"

    @property
    def feedback_dir(self) -> Path:
        return self.state_dir / "feedback"

    @property
    def pgdata_dir(self) -> Path:
        return self.state_dir / "pgdata"

    @property
    def pseudonym_key(self) -> bytes:
        """The HMAC key; generated and kept in the state folder when not configured."""
        if self.pseudonym_key_value:
            return self.pseudonym_key_value.encode("utf-8")
        return _state_key(self.state_dir / "pseudonym.key")

    @property
    def web_secret_key(self) -> bytes:
        """The sender page's key; generated and kept in the state folder when not configured."""
        if self.web_secret_key_value:
            return self.web_secret_key_value.encode("utf-8")
        return _state_key(self.state_dir / "web-secret.key")

    @property
    def web_host(self) -> str:
        return self.web_bind.rpartition(":")[0].strip("[]")

    @property
    def web_port(self) -> int:
        return int(self.web_bind.rpartition(":")[2])

    @property
    def web_public_url(self) -> str:
        """Where senders open the page (no trailing slash)."""
        return (self.web_public_url_value or f"http://{self.web_bind}").rstrip("/")

    @property
    def web_uses_tls(self) -> bool:
        return self.web_public_url.startswith("https://")

    @property
    def web_dir(self) -> Path:
        """The sender page's files: uploads being checked, refused uploads, feedback workbooks."""
        return self.state_dir / "web"

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)


def load_settings(environ: dict[str, str] | None = None, dotenv_path: Path | None = None) -> Settings:
    """Build the settings from ``environ`` (default: the process environment) over ``.env``.

    Values in the environment win over the ``.env`` file, as with docker compose.
    """
    env = dict(os.environ if environ is None else environ)
    dotenv_file = dotenv_path or Path(env.get("PLANWH_DOTENV", PROJECT_ROOT / ".env"))
    merged = {**_read_dotenv(dotenv_file), **env}

    def path(name: str, default: Path) -> Path:
        raw = merged.get(name, "").strip()
        return Path(raw).expanduser().resolve() if raw else default

    def integer(name: str, default: int, *, minimum: int = 1) -> int:
        raw = merged.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc
        if value < minimum:
            bound = "positive" if minimum == 1 else f"at least {minimum}"
            raise SettingsError(f"{name} must be {bound}, got {value}")
        return value

    def url(name: str) -> str | None:
        raw = merged.get(name, "").strip()
        if not raw:
            return None
        if not raw.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise SettingsError(f"{name} must be a PostgreSQL URL (postgresql://...), got {raw.split('@')[-1]!r}")
        return raw

    def bind(name: str, default: str) -> str:
        raw = merged.get(name, "").strip() or default
        host, sep, port = raw.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(f"{name} must be HOST:PORT (e.g. 127.0.0.1:8800), got {raw!r}")
        return raw

    def public_url(name: str) -> str | None:
        raw = merged.get(name, "").strip()
        if raw and not raw.startswith(("http://", "https://")):
            raise SettingsError(f"{name} must start with http:// or https://, got {raw!r}")
        return raw or None

    state_dir = path("PLANWH_STATE_DIR", PROJECT_ROOT / ".state")
    return Settings(
        warehouse_url=url("PLANWH_WAREHOUSE_URL"),
        national_url=url("PLANWH_NATIONAL_URL"),
        landing_dir=path("PLANWH_LANDING_DIR", PROJECT_ROOT / "landing"),
        state_dir=state_dir,
        airflow_home=path("AIRFLOW_HOME", state_dir / "airflow"),
        embedded_port=integer("PLANWH_EMBEDDED_PORT", EMBEDDED_DEFAULT_PORT),
        max_file_bytes=integer("PLANWH_MAX_FILE_MB", 512) * 1024 * 1024,
        pseudonym_key_value=merged.get("PLANWH_PSEUDONYM_KEY") or None,
        portal_api_url=merged.get("PLANWH_PORTAL_API_URL", "").strip() or None,
        portal_api_token=merged.get("PLANWH_PORTAL_API_TOKEN", "").strip() or None,
        portal_api_max_days=integer("PLANWH_PORTAL_API_MAX_DAYS", 31),
        live_run_grace_hours=integer("PLANWH_LIVE_RUN_GRACE_HOURS", 24),
        landing_quiet_seconds=integer("PLANWH_LANDING_QUIET_SECONDS", 60, minimum=0),
        landing_stale_hours=integer("PLANWH_LANDING_STALE_HOURS", 36),
        web_secret_key_value=merged.get("PLANWH_WEB_SECRET_KEY") or None,
        web_bind=bind("PLANWH_WEB_BIND", "127.0.0.1:8800"),
        web_public_url_value=public_url("PLANWH_WEB_PUBLIC_URL"),
        web_session_minutes=integer("PLANWH_WEB_SESSION_MINUTES", 120),
        web_max_upload_bytes=integer("PLANWH_WEB_MAX_UPLOAD_MB", 20) * 1024 * 1024,
        web_invite_hours=integer("PLANWH_WEB_INVITE_HOURS", 72),
    )
