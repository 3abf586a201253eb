"""Options shared by several sub-commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from edgar_ingest.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (env EDGAR_INGEST_DATABASE_URL; default sqlite:///edgar_ingest.db)",
    )


def add_migrate_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not apply pending database migrations on start",
    )


def add_network_options(parser: argparse.ArgumentParser) -> None:
    # Only commands that talk to EDGAR read (and so validate) the network settings: a bad
    # EDGAR_INGEST_MAX_RPS must not stop an offline ``parse`` or ``history``.
    parser.set_defaults(uses_network=True)
    parser.add_argument(
        "--user-agent",
        help="declared User-Agent with a contact e-mail (env EDGAR_INGEST_USER_AGENT), "
        'e.g. "Acme Research data@acme.example"',
    )
    parser.add_argument(
        "--base-url", help="EDGAR archive host (env EDGAR_INGEST_BASE_URL; default https://www.sec.gov)"
    )
    parser.add_argument(
        "--data-url", help="EDGAR data API host (env EDGAR_INGEST_DATA_URL; default https://data.sec.gov)"
    )
    parser.add_argument(
        "--max-rps",
        help="requests per second, at most 10 (env EDGAR_INGEST_MAX_RPS; default 10)",
    )
    parser.add_argument(
        "--block-pause",
        help="seconds to stop all requests when the SEC rate-blocks us "
        "(env EDGAR_INGEST_BLOCK_PAUSE_S; default 600)",
    )
