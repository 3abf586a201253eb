"""Settings, built once at the edge (CLI) and passed down. Nothing here runs at import time."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from edgar_ingest.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///edgar_ingest.db"
DEFAULT_BASE_URL = "https://www.sec.gov"
DEFAULT_DATA_URL = "https://data.sec.gov"
SEC_MAX_RPS = 10.0  # the SEC's fair-access limit, in total, per user
DEFAULT_BLOCK_PAUSE_S = 600.0

_EMAIL = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+")

ENV_PREFIX = "EDGAR_INGEST_"
SUPPORTED_DATABASES = ("sqlite", "postgresql")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    user_agent: str | None = None
    base_url: str = DEFAULT_BASE_URL
    data_url: str = DEFAULT_DATA_URL
    max_rps: float = SEC_MAX_RPS
    block_pause_s: float = DEFAULT_BLOCK_PAUSE_S

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        **overrides: str | float | None,
    ) -> Settings:
        """Environment variables, then explicit overrides (CLI flags) that are not None."""
        env = os.environ if environ is None else environ
        raw: dict[str, str | float | None] = {
            "database_url": env.get(ENV_PREFIX + "DATABASE_URL"),
            "user_agent": env.get(ENV_PREFIX + "USER_AGENT"),
            "base_url": env.get(ENV_PREFIX + "BASE_URL"),
            "data_url": env.get(ENV_PREFIX + "DATA_URL"),
            "max_rps": env.get(ENV_PREFIX + "MAX_RPS"),
            "block_pause_s": env.get(ENV_PREFIX + "BLOCK_PAUSE_S"),
        }
        for key, value in overrides.items():
            if key not in raw:
                raise TypeError(f"unknown setting {key!r}")
            if value is not None:
                raw[key] = value
        settings = cls()
        if raw["database_url"]:
            settings = replace(settings, database_url=normalise_database_url(str(raw["database_url"])))
        if raw["user_agent"]:
            settings = replace(settings, user_agent=str(raw["user_agent"]).strip())
        if raw["base_url"]:
            settings = replace(settings, base_url=_url("base URL", str(raw["base_url"])))
        if raw["data_url"]:
            settings = replace(settings, data_url=_url("data URL", str(raw["data_url"])))
        if raw["max_rps"] is not None and raw["max_rps"] != "":
            settings = replace(settings, max_rps=_max_rps(raw["max_rps"]))
        if raw["block_pause_s"] is not None and raw["block_pause_s"] != "":
            settings = replace(settings, block_pause_s=_block_pause(raw["block_pause_s"]))
        return settings

    def require_user_agent(self) -> str:
        """The declared User-Agent, or a ConfigError that says how to declare one."""
        ua = (self.user_agent or "").strip()
        if not ua or not _EMAIL.search(ua):
            raise ConfigError(
                "The SEC requires a User-Agent naming you and a contact e-mail: set "
                'EDGAR_INGEST_USER_AGENT (or --user-agent), e.g. "Acme Research data@acme.example".'
            )
        return ua


def normalise_database_url(url: str) -> str:
    """Map postgres:// and postgresql:// to the installed driver (psycopg 3); refuse other databases
    and URLs that cannot be parsed, in one sentence that never shows the password."""
    url = url.strip()
    scheme = re.match(r"^([a-zA-Z][\w+.-]*)://", url)
    if scheme is None:
        raise ConfigError(
            f"The database URL {redact_database_url(url)} is not a URL: use e.g. sqlite:///edgar_ingest.db "
            "or postgresql://user@host/db."
        )
    # Schemes are case-insensitive (RFC 3986), SQLAlchemy's dialect names are lower case.
    name = scheme.group(1).lower()
    rest = url[scheme.end() :]
    if name in ("postgres", "postgresql"):
        name = "postgresql+psycopg"
    # Only the scheme is named: the rest of the URL may hold a password.
    if name.split("+")[0] not in SUPPORTED_DATABASES:
        raise ConfigError(
            f"The database URL scheme {scheme.group(1)}:// is not supported: edgar_ingest stores into "
            "SQLite (sqlite:///edgar_ingest.db) or PostgreSQL (postgresql://user@host/db) only."
        )
    url = f"{name}://{rest}"
    _check_parses(url)
    return url


def _check_parses(url: str) -> None:
    """Refuse a URL SQLAlchemy cannot read (a port that is no number, an IPv6 address without its
    closing bracket) or a port no server listens on, here rather than as a traceback later."""
    shown = redact_database_url(url)
    try:
        port = sa.make_url(url).port
    except (sa.exc.ArgumentError, ValueError):
        # Not chained: SQLAlchemy's message may quote the URL, password included.
        raise ConfigError(
            f"The database URL {shown} cannot be parsed: check the host, the port (digits) and the "
            "brackets around an IPv6 address, e.g. postgresql://user@[::1]:5432/db."
        ) from None
    if port is not None and not 1 <= port <= 65_535:
        raise ConfigError(f"The database URL {shown} has port {port}: a port is a number from 1 to 65535.")


_PASSWORD_PARAMETER = re.compile(r"(?i)([?&]password=)[^&]*")


def redact_database_url(url: str) -> str:
    """``url`` with its password shown as ``***``, also when it cannot be parsed (messages use it).

    The user information ends at the last ``@`` (a host holds none, a raw password may); whatever
    follows its first ``:`` is the password. A ``password=`` query parameter (libpq reads one) is
    hidden too.
    """
    head, at, tail = url.rpartition("@")
    if at:
        scheme = re.match(r"^[a-zA-Z][\w+.-]*://", head)
        prefix = scheme.group(0) if scheme else ""
        user, colon, _password = head[len(prefix) :].partition(":")
        url = f"{prefix}{user}{':***' if colon else ''}@{tail}"
    return _PASSWORD_PARAMETER.sub(r"\1***", url)


def require_database_driver(url: str) -> None:
    """Stop with one sentence when the Python driver of ``url``'s database is not installed.

    SQLite's driver comes with Python; PostgreSQL's (psycopg) is the optional ``postgres`` extra,
    and without this check its absence is a ModuleNotFoundError traceback from deep in SQLAlchemy.
    """
    dialect = sa.make_url(normalise_database_url(url)).get_dialect()
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        if dialect.name == "postgresql":
            raise ConfigError(
                "PostgreSQL needs the psycopg driver, which is not installed: install edgar_ingest with "
                "its postgres extra, pip install 'edgar_ingest[postgres]' (from a clone: "
                "pip install '.[postgres]')."
            ) from exc
        raise ConfigError(f"The {dialect.name} driver cannot be imported ({exc}).") from exc


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (absolute, as SQLite resolves it); None for other or in-memory ones."""
    parsed = sa.make_url(normalise_database_url(url))
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None  # SQLite URI filenames: leave them to SQLite
    return Path(database).resolve()


def _url(what: str, value: str) -> str:
    value = value.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(f"The {what} {value!r} must start with http:// or https://.")
    return value


# The longest pause, interval or age a setting in seconds may give: a day. More is a mistake (the
# SEC's rate block lasts ten minutes), and ``time.sleep`` or ``timedelta`` fail on huge values.
MAX_SECONDS: Final = 86_400.0


def _number(what: str, value: str | float) -> float:
    """``value`` as a finite number; ``nan``, ``inf`` and what overflows to it are refused."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"The {what} {value!r} is not a number.") from None
    if not math.isfinite(number):
        raise ConfigError(f"The {what} must be a finite number; got {value}.")
    return number


def seconds(what: str, value: str | float, *, minimum: float = 0.0, maximum: float = MAX_SECONDS) -> float:
    """A number of seconds from ``minimum`` to ``maximum``, or a ConfigError that says so."""
    number = _number(what, value)
    if not minimum <= number <= maximum:
        raise ConfigError(f"The {what} must be from {minimum:g} to {maximum:g} seconds; got {value}.")
    return number


def _max_rps(value: str | float) -> float:
    rps = _number("maximum request rate", value)
    if not 0 < rps <= SEC_MAX_RPS:
        raise ConfigError(
            f"The maximum request rate must be above 0 and at most {SEC_MAX_RPS:g} per second "
            f"(the SEC's fair-access limit); got {value}."
        )
    return rps


def _block_pause(value: str | float) -> float:
    return seconds("block pause", value)
