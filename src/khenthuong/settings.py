"""Typed settings read from KHENTHUONG_* environment variables."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """All runtime settings; every field maps to KHENTHUONG_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="KHENTHUONG_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./khenthuong.db"
    """SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... in production."""

    workflows_dir: Path = Field(default=PROJECT_ROOT / "workflows")
    """Folder holding the workflow definitions (*.yaml)."""

    config_dir: Path = Field(default=PROJECT_ROOT / "config")
    """Folder holding roles, demo organisations and other YAML configuration."""

    sqlite_synchronous: str = "FULL"
    """SQLite PRAGMA synchronous: FULL keeps every acknowledged step across a crash."""

    db_pool_size: int = Field(default=10, ge=1, le=200)
    """PostgreSQL: connections each process keeps open (SQLAlchemy's pool_size). A request
    beyond them opens an overflow connection that is closed after use, and every new
    connection costs PostgreSQL a new backend process (bench/http.py --processes: at 8
    advances in flight the default of 5 doubled PostgreSQL's CPU per advance). The reads of
    `storage.db.reading` have a second pool of the same size."""

    db_max_overflow: int = Field(default=20, ge=0, le=500)
    """PostgreSQL: connections a process may open beyond `db_pool_size` under a burst."""

    timezone: str = "Asia/Ho_Chi_Minh"
    """Local time zone for working-day arithmetic and display."""

    max_attachment_bytes: int = 20 * 1024 * 1024
    """Largest dossier document accepted (bytes)."""

    soffice: str | None = None
    """LibreOffice executable for PDF documents; None finds `soffice` on the PATH."""

    trust_roots: Path | None = None
    """PEM file of the CA certificates a signed decision's chain must end in (e.g. the root
    of the Ban Cơ yếu Chính phủ's chữ ký số chuyên dùng); unset: no signature verifies."""

    broker_url: str | None = None
    """Celery broker, e.g. redis://localhost:6379/0. Unset: jobs run in-process (embedded)."""

    result_backend: str | None = None
    """Celery result backend; unset keeps no results (tasks write to the database)."""

    reminder_days_before: int = 3
    """Working days before a due date when the first reminder goes out."""

    scan_interval_seconds: int = 60
    """How often the reminder scan and the outbox relay run."""

    scheduler_nice: int = Field(default=10, ge=0, le=19)
    """CPU priority increment (os.nice) of the scheduler process `serve` starts beside the web
    server, so that a CPU-bound full reminder scan yields the cores to page requests
    (bench/http.py --only-scans, issue 12). 0 keeps the server's priority."""

    broker_visibility_timeout: int = 900
    """Seconds before Redis hands an unacknowledged task to another worker (keep it a few
    times the longest task; never tied to deadlines)."""

    secret_key: SecretStr | None = None
    """Signs session cookies and CSRF tokens. Unset: a random key is kept in
    `<state_dir>/secret-key` (created on first start, readable by the owner only)."""

    state_dir: Path = Path("./var")
    """Folder for the generated secret key and other local state of the embedded default."""

    session_hours: float = 8.0
    """How long a web session lasts without signing in again."""

    cookie_secure: bool | None = None
    """Send the session cookie over HTTPS only. Unset: on when KHENTHUONG_BASE_URL is https."""

    base_url: str | None = None
    """The address officers open (e.g. https://khenthuong.bcy.gov.vn); links in e-mails."""

    redis_url: str | None = None
    """Redis holding the state several web processes share (the sign-in throttle), e.g.
    redis://redis:6379/1. Unset: KHENTHUONG_BROKER_URL when that is a Redis URL, else the
    database (table rate_limit_hit)."""

    caller_cache_seconds: float = Field(default=5.0, ge=0)
    """How long a web process keeps a resolved caller (a token's or a session's user, roles,
    delegations and inspection windows) instead of reading them on every request; 0: read
    every time. Changes made in the same process are seen at once; another process (a second
    web process, the CLI) sees a withdrawn role, a revoked token, a disabled user or a
    sign-out elsewhere within this many seconds."""

    login_max_failures: int = 5
    """Failed sign-ins allowed per user name and per client address in `login_window_seconds`."""

    login_window_seconds: int = 900
    """The window over which failed sign-ins are counted (then the client must wait)."""

    ldap_url: str | None = None
    """LDAP server for sign-in beside local passwords (ldap://host:389 or ldaps://host:636);
    unset: no LDAP. Roles follow config/directory.yaml (KHENTHUONG_DIRECTORY_MAP_FILE)."""

    ldap_user_base: str = ""
    """Where people's entries are searched (e.g. ou=people,dc=bcy,dc=gov,dc=vn)."""

    ldap_user_filter: str = "(uid={username})"
    """Search filter for the typed user name ({username}, escaped). Active Directory:
    (&(sAMAccountName={username})(!(userAccountControl:1.2.840.113556.1.4.803:=2))), which
    also leaves out disabled accounts."""

    ldap_bind_dn: str | None = None
    """Service account that searches the directory; unset: anonymous search."""

    ldap_bind_password: SecretStr | None = None

    ldap_group_base: str | None = None
    """Where groups are searched for the person's DN; unset: only the entry's memberOf."""

    ldap_group_filter: str = "(|(member={dn})(uniqueMember={dn}))"

    ldap_start_tls: bool = False

    oidc_issuer: str | None = None
    """OpenID Connect provider (issuer URL) for sign-in; unset: no OpenID sign-in button."""

    oidc_client_id: str | None = None

    oidc_client_secret: SecretStr | None = None

    oidc_username_claim: str = "preferred_username"
    """ID-token claim that gives the khenthuong user name (falls back to email, then sub)."""

    oidc_groups_claim: str = "groups"
    """Claim that lists the person's groups (from the ID token, else from userinfo)."""

    oidc_provider_name: str = "OpenID Connect"
    """What the sign-in button calls the provider (e.g. "Cổng đăng nhập Ban Cơ yếu")."""

    directory_map_file: Path | None = None
    """Directory groups → roles and units; default config/directory.yaml."""

    env: Literal["development", "production"] = "development"
    """production: the web process refuses to start with a missing or default secret key or
    with demo passwords (also implied by an https base URL)."""

    trusted_proxies: str = ""
    """Comma-separated addresses or networks (CIDR) of the reverse proxies in front of the web
    server. Only a request arriving from one of them has its X-Forwarded-For / -Proto read;
    empty (the default): no header is trusted and the client is the connecting address."""

    stale_claim_seconds: int = 600
    """A reminder claimed, or a notice queued, but not sent for this long (its task was lost,
    its worker died) is sent again. Keep it above the task time limit (300 s), so that a send
    this old is certainly dead."""

    relay_interval_seconds: int = 5
    """How often Celery beat runs the outbox relay (the embedded mode relays on every scan)."""

    send_max_attempts: int = 8
    """Sends a reminder or a notice gets; after that many failures it is given up (failed)."""

    send_retry_seconds: int = 60
    """Wait before retrying a failed notice or reminder digest; doubled after every attempt, at
    most KHENTHUONG_SEND_RETRY_MAX_SECONDS (a lost one, claimed, queued or sending past
    KHENTHUONG_STALE_CLAIM_SECONDS, goes again at once). With the defaults the eight attempts
    are spread over 1+2+4+8+16+32+60 = 123 minutes."""

    send_retry_max_seconds: int = 3600
    """The longest wait between two sends of the same notice or digest."""

    full_scan_seconds: int = 900
    """The reminder scan looks only at what changed since the last one (new events, a new day,
    changed role holders or visits); at least this often it scans everything again, for
    changes no counter sees (an address edited in place)."""

    scan_chunk: int = Field(default=5000, ge=0)
    """A full reminder scan reads the open due nominations in chunks of this many (in id
    order), each checked and claimed on its own, with a short write transaction per chunk;
    0: the whole backlog in one statement (the old behaviour)."""

    scan_duty: float = Field(default=0.25, gt=0, le=1)
    """A full scan works at most this share of its time: after each chunk it pauses
    (1 - duty) / duty times as long as the chunk took (0.25: three times as long), so that
    the pages served beside it keep the machine's cores (bench/http.py --only-scans, issue 12).
    1: no pause."""

    mail_alert_after_seconds: int = 1800
    """When mail has been failing (the SMTP server or maildir unreachable) for this long, every
    administrator gets one notice (sent when mail goes through again) and the log one error."""

    audit_key_file: Path | None = None
    """The Ed25519 key that signs audit checkpoints. Unset: `<state_dir>/audit-key.pem`
    (created by `khenthuong init`, readable by the owner only). Keep it off the database
    server: whoever holds it can sign a rewritten log."""

    audit_checkpoint_file: Path | None = None
    """Every signed checkpoint is appended here, one JSON line each. Unset:
    `<state_dir>/audit-checkpoints.jsonl`."""

    audit_mail_to: str | None = None
    """The auditors' address: each new checkpoint is also e-mailed there (a copy outside the
    server). Unset: no e-mail."""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for item in (v.strip() for v in value.split(",")):
            if not item:
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"KHENTHUONG_TRUSTED_PROXIES: {item!r} is not an IP address or network"
                ) from None
        return value

    def shared_redis_url(self) -> str | None:
        """The Redis the web processes share state in: KHENTHUONG_REDIS_URL, else the broker
        when it is Redis; None: the database is the shared store."""
        for url in (self.redis_url, self.broker_url):
            if url and url.split("://", 1)[0] in ("redis", "rediss", "redis+unix"):
                return url
        return None

    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies as a list (empty: none)."""
        return [v.strip() for v in self.trusted_proxies.split(",") if v.strip()]


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache to override)."""
    return Settings()
