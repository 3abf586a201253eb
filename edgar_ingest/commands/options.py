"""Options shared by several sub-commands, and the global ones accepted before the command too.

The global options (the database URL, the network settings, ``--log-format``) are defined on
the top-level parser and again on each command that uses them, all with ``default=SUPPRESS``:
an option absent from one place then never overwrites the value given in the other (argparse
copies a sub-parser's defaults over the top-level values), and :func:`fill_global_defaults`
sets what neither gave. Given in both places, the one after the command wins.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Final

from edgar_ingest.errors import ConfigError, NoDatabaseError
from edgar_ingest.settings import Settings, seconds, sqlite_file

Handler = Callable[[argparse.Namespace, Settings], int]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75

LOG_FORMATS: Final = ("text", "json")

# dest -> the value when the option is given neither before nor after the command.
GLOBAL_DEFAULTS: Final[dict[str, Any]] = {
    "database_url": None,
    "user_agent": None,
    "base_url": None,
    "data_url": None,
    "max_rps": None,
    "block_pause": None,
    "log_format": "text",
}


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The options every command accepts before its name (a command ignores those it does not use)."""
    group = parser.add_argument_group("global options (also accepted after the command name)")
    _database_url(group)
    _network(group)
    _log_format(group, "progress lines on stderr as text (a bar on a TTY) or one JSON object per line")


def fill_global_defaults(args: argparse.Namespace) -> None:
    for name, default in GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(uses_database=True)
    _database_url(parser)


def add_migrate_option(
    parser: argparse.ArgumentParser, help_text: str = "do not apply pending database migrations on start"
) -> None:
    parser.add_argument("--no-migrate", action="store_true", help=help_text)


def add_network_options(parser: argparse.ArgumentParser) -> None:
    # Only commands that talk to EDGAR read (and so validate) the network settings: a bad
    # EDGAR_INGEST_MAX_RPS must not stop an offline ``parse`` or ``history``.
    parser.set_defaults(uses_network=True)
    _network(parser)


def add_log_format_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    _log_format(parser, help_text)


def require_existing_database(settings: Settings) -> None:
    """For commands that only read: a SQLite file that does not exist is not created empty."""
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        raise NoDatabaseError(
            f"There is no database at {path}: create one with `edgar-ingest db upgrade`, fill one with "
            "`edgar-ingest ingest`, `sync` or `backfill`, or point --database-url "
            "(EDGAR_INGEST_DATABASE_URL) at an existing one."
        )


def seconds_type(what: str) -> Callable[[str], float]:
    """An argparse ``type`` for an option in seconds: a finite number from 0 to a day (``nan``,
    ``inf`` or ``1e300`` would wait forever or overflow ``time.sleep``), else a usage error that
    says so in one sentence (exit 2)."""

    def parse(value: str) -> float:
        try:
            return seconds(what, value)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


# Each takes a parser or an argument group (both have add_argument).


def _database_url(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="SQLAlchemy URL (env EDGAR_INGEST_DATABASE_URL; default sqlite:///edgar_ingest.db; "
        "PostgreSQL needs pip install '.[postgres]')",
    )


def _network(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--user-agent",
        default=argparse.SUPPRESS,
        help="declared User-Agent with a contact e-mail (env EDGAR_INGEST_USER_AGENT), "
        'e.g. "Acme Research data@acme.example"',
    )
    parser.add_argument(
        "--base-url",
        default=argparse.SUPPRESS,
        help="EDGAR archive host (env EDGAR_INGEST_BASE_URL; default https://www.sec.gov)",
    )
    parser.add_argument(
        "--data-url",
        default=argparse.SUPPRESS,
        help="EDGAR data API host (env EDGAR_INGEST_DATA_URL; default https://data.sec.gov)",
    )
    parser.add_argument(
        "--max-rps",
        default=argparse.SUPPRESS,
        help="requests per second, at most 10 (env EDGAR_INGEST_MAX_RPS; default 10)",
    )
    parser.add_argument(
        "--block-pause",
        default=argparse.SUPPRESS,
        help="seconds to stop all requests when the SEC rate-blocks us "
        "(env EDGAR_INGEST_BLOCK_PAUSE_S; default 600, at most 86400)",
    )


def _log_format(parser: argparse.ArgumentParser | argparse._ArgumentGroup, help_text: str) -> None:
    parser.add_argument("--log-format", choices=LOG_FORMATS, default=argparse.SUPPRESS, help=help_text)
