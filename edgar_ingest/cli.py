"""Command line: builds settings, client and engine, calls one pipeline function, prints the report.

Exit codes (DESIGN.md section 3): 0 completed (failed documents are recorded and reported);
1 the run could not complete; 2 usage or configuration error; 75 another run holds the lock.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from edgar_ingest import __version__
from edgar_ingest.commands import parse, pipeline, reconcile, storage, watch
from edgar_ingest.commands.options import EXIT_FAILED, EXIT_LOCKED, EXIT_USAGE, Handler
from edgar_ingest.errors import ConfigError, EdgarIngestError, LockHeldError, ParseError
from edgar_ingest.settings import Settings


def _settings_from_args(args: argparse.Namespace) -> Settings:
    environ: Mapping[str, str] = os.environ
    if not getattr(args, "uses_network", False):
        environ = {k: v for k, v in os.environ.items() if k == "EDGAR_INGEST_DATABASE_URL"}
    return Settings.from_env(
        environ,
        database_url=getattr(args, "database_url", None),
        user_agent=getattr(args, "user_agent", None),
        base_url=getattr(args, "base_url", None),
        data_url=getattr(args, "data_url", None),
        max_rps=getattr(args, "max_rps", None),
        block_pause_s=getattr(args, "block_pause", None),
    )


# --------------------------------------------------------------------------- commands
# Each command registers its sub-parser in build_parser() and sets ``handler``.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgar-ingest",
        description="Ingest SEC EDGAR Form D filings into SQL, keeping every version of every offering.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _register_commands(sub)
    return parser


def _register_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Every sub-command of the tool, one module per area (each sub-parser has a help text)."""
    # one line per command module: <module>.register(sub)
    parse.register(sub)
    storage.register(sub)
    pipeline.register(sub)
    reconcile.register(sub)
    watch.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        settings = _settings_from_args(args)
        return handler(args, settings)
    except ConfigError as exc:
        print(f"edgar-ingest: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LockHeldError as exc:
        print(f"edgar-ingest: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except ParseError as exc:
        print(f"edgar-ingest: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except EdgarIngestError as exc:
        print(f"edgar-ingest: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except SQLAlchemyError as exc:
        print(f"edgar-ingest: {_database_problem(args, exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("edgar-ingest: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130


def _database_problem(args: argparse.Namespace, exc: SQLAlchemyError) -> str:
    """One sentence: which database (password hidden) and the driver's own first line."""
    try:
        url = Settings.from_env(database_url=getattr(args, "database_url", None)).database_url
        where = make_url(url).render_as_string(hide_password=True)
    except Exception:  # the URL itself may be what is wrong; the driver's message says so
        where = "the configured database"
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"the database {where} could not be used ({detail}); check EDGAR_INGEST_DATABASE_URL."
