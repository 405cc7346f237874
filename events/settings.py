"""One Settings object for the whole process, read from WUCHUANG_* environment variables."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Iterable
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, cast
from urllib.parse import urlsplit

from limits import parse as parse_rate_limit
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError as PydanticSettingsError

from events.localtime import DEFAULT_TIMEZONE


class SettingsError(Exception):
    """A setting has a value the process cannot run with; the message names the variable."""


class LevelRule(BaseModel):
    """What certifies a broker at one level. Hours are the ledger's total, all sources together;
    each level also needs the one below it. A certification lapses after ``valid_years`` and is
    renewed by ``renewal_hours`` earned since it was granted.
    """

    level: Literal["junior", "intermediate", "senior"]
    hours: float = Field(gt=0, le=10_000)
    courses: list[str] = []  # course codes to complete
    valid_years: int = Field(default=3, ge=1, le=50)
    renewal_hours: float = Field(default=24, gt=0, le=10_000)


DEFAULT_LEVEL_RULES = [
    LevelRule(level="junior", hours=40, renewal_hours=16),
    LevelRule(level="intermediate", hours=100, renewal_hours=24),
    LevelRule(level="senior", hours=180, renewal_hours=32),
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WUCHUANG_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str | None = None
    data_dir: Path = Path("./data")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    # The bot's @username for deep links; learned from Telegram at start when unset.
    bot_username: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
    # Unset: derived from HOST and PORT, so links work on a laptop without configuration.
    public_url: str | None = None
    redis_url: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    public_rate_limit: str = "20/minute"
    # Seconds a rendered public page (home, event, series, district) is reused by one process; its own
    # changes drop it at once, other processes' show within this. 0: render every request.
    site_cache_seconds: float = Field(default=2.0, ge=0, le=300)
    # Reverse proxies whose X-Forwarded-For names the client (comma-separated IPs or CIDRs); none by
    # default, so a client cannot pick its own address for the rate limit.
    forwarded_allow_ips: Annotated[tuple[str, ...], NoDecode] = ()
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The achievements import: 10,000 rows with their abstracts (a sheet of the CSL corpus is ~1 KB a row).
    import_max_body_bytes: int = Field(default=64 * 1_048_576, ge=1024)
    # A competition entry's file (business plan, slides); its upload routes take bodies this large.
    attachment_max_bytes: int = Field(default=20 * 1_048_576, ge=1024, le=1_073_741_824)
    # Messages per second to Telegram, all chats together (Telegram allows about 30).
    send_rate: float = Field(default=25.0, gt=0, le=30)
    # E-mail (WUCHUANG_SMTP_HOST etc.): unset host, no e-mail channel. ``smtp_tls``: "starttls" upgrades a
    # plain connection (port 587), "tls" speaks TLS from the start (port 465), "none" is for a local server.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    # The sender of every mail; unset: noreply@ the host of PUBLIC_URL.
    mail_from: str | None = None
    # Mails per second to the SMTP server (its own limit, apart from Telegram's), and how long one may take.
    smtp_rate: float = Field(default=5.0, gt=0, le=1000)
    smtp_timeout: float = Field(default=30.0, gt=0, le=300)
    invitations_per_week: int = Field(default=3, ge=0, le=50)
    matches_per_week: int = Field(default=5, ge=0, le=50)
    # A matched opportunity is pushed only when its score reaches this, and one new or changed record
    # pushes at most ``matches_per_fact`` of them (all people together).
    match_min_score: float = Field(default=0.3, ge=0)
    matches_per_fact: int = Field(default=10, ge=0, le=200)
    # Days before a roadshow or fair when its pitches are matched to the verified investors taking part
    # (again each day until it starts, for projects added since); 0: only when an organizer asks.
    roadshow_match_days: int = Field(default=3, ge=0, le=60)
    # Days a broker who claims a demand has until the next follow-up (and between overdue reminders).
    demand_follow_up_days: int = Field(default=7, ge=1, le=365)
    # Run the producers, reminders and the sender inside `serve` (one process may turn it off).
    notifications: bool = True
    # Days after an event ends that its registrants' details are kept (PIPL: no longer than needed);
    # then `wuchuang privacy purge` (and the daily pass in `serve`) removes them. 0: kept, no purge.
    retention_days: int = Field(default=730, ge=0, le=36_500)
    db_pool_size: int = Field(default=20, ge=1, le=500)
    # `serve`'s worker processes on the one port (`serve --workers`); more than one wants PostgreSQL and
    # REDIS_URL (rate limits shared) and the bot by webhook.
    workers: int = Field(default=1, ge=1, le=64)
    # Who may read /metrics: a caller with `Authorization: Bearer <this>`; unset, callers on this
    # machine only (loopback). Behind a reverse proxy on the same host, block /metrics at the proxy.
    metrics_token: SecretStr | None = None
    # Server logs: uvicorn's plain lines, or one JSON object per line carrying the request id.
    log_format: Literal["text", "json"] = "text"
    # uvicorn's line per request. Behind a proxy that logs every request (deploy/Caddyfile logs the
    # X-Request-Id the app answers with), off spares the door ~7 % of its CPU per scan.
    access_log: bool = True
    # Broker certification per level, as JSON: [{"level": "junior", "hours": 40, "courses": ["JSJL-101"],
    # "valid_years": 3, "renewal_hours": 16}, …]; levels not listed cannot be certified.
    training_levels: list[LevelRule] = Field(default_factory=lambda: list(DEFAULT_LEVEL_RULES))
    # Console sign-in: wrong passwords in a row that lock an account, and for how long; wrong passwords
    # from one address (any accounts) within ``signin_ip_window_minutes`` before it is refused for the
    # rest of that window; how long a session lasts unused, and at most.
    signin_max_failures: int = Field(default=5, ge=1, le=100)
    signin_lockout_minutes: int = Field(default=15, ge=1, le=10_080)
    signin_ip_max_failures: int = Field(default=30, ge=1, le=10_000)
    signin_ip_window_minutes: int = Field(default=15, ge=1, le=1440)
    session_idle_hours: int = Field(default=12, ge=1, le=720)
    session_max_days: int = Field(default=14, ge=1, le=365)

    @field_validator("training_levels")
    @classmethod
    def _one_rule_per_level(cls, value: list[LevelRule]) -> list[LevelRule]:
        levels = [rule.level for rule in value]
        if len(set(levels)) != len(levels):
            raise ValueError("each level may have one rule")
        order = ["junior", "intermediate", "senior"]
        by_level = sorted(value, key=lambda rule: order.index(rule.level))
        for lower, higher in zip(by_level, by_level[1:], strict=False):
            if higher.hours < lower.hours:
                raise ValueError(f"{higher.level} cannot need fewer hours than {lower.level}")
        return by_level

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(cast("Iterable[object]", value or ()))
        networks = []
        for item in (str(part).strip() for part in items):
            if not item:
                continue
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address or network (such as 10.0.0.1 or 10.0.0.0/8)") from exc
        return tuple(networks)

    @field_validator("public_rate_limit")
    @classmethod
    def _valid_rate_limit(cls, value: str) -> str:
        if value.strip() == "0":
            return "0"
        try:
            parse_rate_limit(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate such as '20/minute' (or 0 for off)") from exc
        return value

    @field_validator("smtp_host", "smtp_user", "mail_from")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("mail_from")
    @classmethod
    def _mail_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        address = parseaddr(value)[1]
        if "@" not in address or any(c.isspace() for c in address):
            raise ValueError(f"{value!r} is not an address such as noreply@example.org or 武创荟 <noreply@example.org>")
        return value

    @field_validator("public_url", "telegram_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        _split_database_url(value)
        return value

    @field_validator("bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        head, _, tail = value.get_secret_value().partition(":")
        if not head.isdigit() or len(tail) < 20:
            raise ValueError("does not look like a Telegram bot token (digits:secret)")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _strong_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 16:
            raise ValueError("use at least 16 random characters (e.g. `openssl rand -hex 24`)")
        return value

    @model_validator(mode="after")
    def _derive_public_url(self) -> Settings:
        if self.public_url is None:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
            self.public_url = f"http://{host}:{self.port}"
        return self

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def mail_enabled(self) -> bool:
        """Whether there is an e-mail channel (``SMTP_HOST`` set)."""
        return self.smtp_host is not None

    @property
    def mail_sender(self) -> str:
        """``MAIL_FROM``, or noreply@ the public URL's host."""
        host = urlsplit(self.base_url).hostname or "localhost"
        if host.replace(".", "").replace(":", "").isalnum() and not any(c.isalpha() for c in host.replace(":", "")):
            host = "localhost"  # an IP address is no mail domain
        return self.mail_from or f"noreply@{host}"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "wuchuang.sqlite3"

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file (None for PostgreSQL and in-memory databases)."""
        if not self.database_url:
            return self.sqlite_path
        dialect, rest = _split_database_url(self.database_url)
        path = rest.split("?", 1)[0]
        if dialect != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
            return None
        return Path(path)

    @property
    def dialect(self) -> Literal["sqlite", "postgres"]:
        return _split_database_url(self.database_url)[0] if self.database_url else "sqlite"

    @property
    def tortoise_url(self) -> str:
        """The URL in Tortoise's dialect (asyncpg for PostgreSQL)."""
        # Writers from other processes wait for the lock instead of failing at once.
        if not self.database_url:
            return f"sqlite://{self.sqlite_path.resolve()}?busy_timeout=30000"
        dialect, rest = _split_database_url(self.database_url)
        if dialect == "sqlite":
            return f"sqlite://{rest}" + ("" if "?" in rest else "?busy_timeout=30000")
        sep = "&" if "?" in rest else "?"
        return f"postgres://{rest}{sep}minsize=1&maxsize={self.db_pool_size}"

    @property
    def sqlalchemy_url(self) -> str:
        """The same database in SQLAlchemy's dialect, for Alembic (sync psycopg driver)."""
        if not self.database_url:
            return f"sqlite:///{self.sqlite_path.resolve()}"
        dialect, rest = _split_database_url(self.database_url)
        if dialect == "sqlite":
            return f"sqlite:///{rest}"
        return f"postgresql+psycopg://{rest}"


def _split_database_url(url: str) -> tuple[Literal["sqlite", "postgres"], str]:
    """Split a database URL into its dialect and the part after ``scheme://``."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or not rest:
        raise ValueError(f"{url!r} is not a database URL such as sqlite:///path/to.db or postgresql://…")
    if scheme == "sqlite":
        # sqlite:///abs/path and sqlite://relative/path both work; :memory: too.
        return "sqlite", rest
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg", "asyncpg"):
        if not urlsplit(f"x://{rest}").hostname and "host=" not in rest:
            raise ValueError(f"{url!r} names no database host")
        return "postgres", rest
    raise ValueError(f"unsupported database scheme {scheme!r} (use sqlite or postgresql)")


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, turning a validation failure into a readable message."""
    try:
        return Settings(**overrides)
    except PydanticSettingsError as exc:
        # A complex value (JSON) that does not parse: pydantic-settings names the field, not the variable.
        match = re.search(r'field "(\w+)"', str(exc))
        variable = f"WUCHUANG_{match.group(1).upper()}" if match else "settings"
        raise SettingsError(f"invalid configuration:\n  {variable}: not valid JSON") from None
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(part) for part in err["loc"]) or "settings"
            variable = f"WUCHUANG_{field.upper()}" if err["loc"] else "settings"
            lines.append(f"{variable}: {err['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
