"""Settings, built once at the edge (CLI) and passed down. Nothing here runs at import time."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

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
    """Map postgres:// and postgresql:// to the installed driver (psycopg 3); refuse other databases."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    scheme = re.match(r"^([a-zA-Z][\w+.-]*)://", url)
    if scheme is None:
        raise ConfigError(
            f"The database URL {url!r} is not a URL: use e.g. sqlite:///edgar_ingest.db "
            "or postgresql://user@host/db."
        )
    # Only the scheme is named: the rest of the URL may hold a password.
    if scheme.group(1).split("+")[0].lower() not in SUPPORTED_DATABASES:
        raise ConfigError(
            f"The database URL scheme {scheme.group(1)}:// is not supported: edgar_ingest stores into "
            "SQLite (sqlite:///edgar_ingest.db) or PostgreSQL (postgresql://user@host/db) only."
        )
    return url


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


def _max_rps(value: str | float) -> float:
    try:
        rps = float(value)
    except ValueError:
        raise ConfigError(f"The maximum request rate {value!r} is not a number.") from None
    if not 0 < rps <= SEC_MAX_RPS:
        raise ConfigError(
            f"The maximum request rate must be above 0 and at most {SEC_MAX_RPS:g} per second "
            f"(the SEC's fair-access limit); got {value}."
        )
    return rps


def _block_pause(value: str | float) -> float:
    try:
        pause = float(value)
    except ValueError:
        raise ConfigError(f"The block pause {value!r} is not a number of seconds.") from None
    if pause < 0:
        raise ConfigError(f"The block pause must be zero or more seconds; got {value}.")
    return pause
