"""Command line: builds settings, client and engine, calls one pipeline function, prints the report.

Exit codes (DESIGN.md section 3): 0 completed (failed documents are recorded and reported);
1 the run could not complete; 2 usage or configuration error; 75 another run holds the lock;
130 stopped by Ctrl-C or SIGTERM; 141 the reader of its output went away (``| head``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from edgar_ingest import __version__
from edgar_ingest.commands import parse, pipeline, reconcile, storage, watch
from edgar_ingest.commands.options import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_USAGE,
    Handler,
    add_global_options,
    fill_global_defaults,
)
from edgar_ingest.errors import ConfigError, EdgarIngestError, LockHeldError, ParseError
from edgar_ingest.settings import ENV_PREFIX, Settings, require_database_driver
from edgar_ingest.store.engine import database_trouble, troubled_error

# A reader that went away ends a command as SIGPIPE ends a process: 128 + 13, the shell's 141.
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE (13)


def _settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings a command uses: it neither reads nor validates those it does not.

    A bad EDGAR_INGEST_MAX_RPS must not stop an offline ``history``, nor a PostgreSQL URL
    without its driver a ``parse`` that touches no database; a global option given before such
    a command is ignored the same way.
    """
    uses_database = getattr(args, "uses_database", False)
    uses_network = getattr(args, "uses_network", False)
    wanted = {"DATABASE_URL"} if uses_database else set()
    if uses_network:
        wanted |= {"USER_AGENT", "BASE_URL", "DATA_URL", "MAX_RPS", "BLOCK_PAUSE_S"}
    environ: Mapping[str, str] = {
        k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX) :] in wanted
    }
    flags: dict[str, str | None] = {}
    if uses_database:
        flags["database_url"] = args.database_url
    if uses_network:
        flags.update(
            user_agent=args.user_agent,
            base_url=args.base_url,
            data_url=args.data_url,
            max_rps=args.max_rps,
            block_pause_s=args.block_pause,
        )
    settings = Settings.from_env(environ, **flags)
    if uses_database:
        require_database_driver(settings.database_url)
    return settings


# --------------------------------------------------------------------------- commands
# Each command registers its sub-parser in build_parser() and sets ``handler``.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgar-ingest",
        description="Ingest SEC EDGAR Form D filings into SQL, keeping every version of every offering.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_global_options(parser)
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
    _quiet_echoes_of_lost_connections()
    try:
        try:
            args = build_parser().parse_args(argv)
        finally:
            sys.stdout.flush()  # --help and --version print, then exit: a closed pipe is caught here
        fill_global_defaults(args)
        code = _run(args)
        sys.stdout.flush()  # here, where a closed pipe can still be caught, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (`status | head -1`): nothing is wrong with the command, and no one
        # is left to read a traceback. Exit as a process stopped by SIGPIPE does (the shell's 141),
        # the same for every command; a run it ended is recorded as interrupted. Point stdout and
        # stderr at /dev/null so that Python's own flush at exit does not raise again.
        _silence_output()
        return EXIT_BROKEN_PIPE


class _SecondaryErrorFilter(logging.Filter):
    """Drops psycopg's "error ignored terminating <psycopg.Pipeline|Copy ...>" records.

    When the server goes away in the middle of a COPY or of a pipelined ``executemany`` (a
    restart, a killed backend), psycopg raises the error to us and then, failing to end the COPY
    or pipeline on the dead connection too, logs that second failure; with no logging configured,
    Python prints it on stderr. The first error is the one the command reports, in one sentence.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error ignored ")


def _quiet_echoes_of_lost_connections() -> None:
    logger = logging.getLogger("psycopg")
    if not any(isinstance(f, _SecondaryErrorFilter) for f in logger.filters):
        logger.addFilter(_SecondaryErrorFilter())


def _run(args: argparse.Namespace) -> int:
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


def _silence_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # no real descriptor (a test's capture)
            pass


def _database_problem(args: argparse.Namespace, exc: SQLAlchemyError) -> str:
    """One sentence: which database (password hidden) and the driver's own first line."""
    try:
        url = Settings.from_env(database_url=args.database_url).database_url
        where = make_url(url).render_as_string(hide_password=True)
    except Exception:  # the URL itself may be what is wrong; the driver's message says so
        where = "the configured database"
    troubled = troubled_error(exc)
    if troubled is not None:  # locked, full disk, read-only, schema behind: say that, not "check the URL"
        detail = str(getattr(troubled, "orig", None) or troubled).strip().splitlines()[0]
        return f"the database {where} {database_trouble(troubled)} ({detail})."
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"the database {where} could not be used ({detail}); check EDGAR_INGEST_DATABASE_URL."
