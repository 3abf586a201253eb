"""``watch`` (the long-running near-real-time job) and ``healthcheck`` (is it polling?)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from functools import partial

from edgar_ingest.commands.database import read_only_store
from edgar_ingest.commands.options import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_database_option,
    add_log_format_option,
    add_migrate_option,
    add_network_options,
    seconds_type,
)
from edgar_ingest.commands.pipeline import LOCKED_COMMANDS, _held_lock
from edgar_ingest.commands.runs import stop_on_signals
from edgar_ingest.errors import ConfigError, UndeclaredUserAgentError
from edgar_ingest.http import EdgarClient
from edgar_ingest.progress import Progress
from edgar_ingest.settings import Settings
from edgar_ingest.store import Store
from edgar_ingest.watch import DEFAULT_INTERVAL_S, MIN_INTERVAL_S, Watcher, WatchOptions

DEFAULT_HEALTH_MAX_AGE_S = 600


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    watch = sub.add_parser(
        "watch",
        help="near-real-time: poll EDGAR's latest-filings feed and store each new D and D/A at once",
        description="Poll EDGAR's latest-filings feed every --interval seconds, fetch and store each "
        "new D and D/A filing at once (one line each on stdout), and on start and every evening after "
        "the daily index is built (~22:30 ET) catch up day by day like sync, moving its checkpoint: a "
        "watcher alone keeps the database fresh and complete. Holds the network lock for its whole "
        "life (sync and backfill meanwhile exit 75). SIGTERM or Ctrl-C stops it cleanly with exit 0.",
    )
    watch.add_argument(
        "--interval",
        type=seconds_type("poll interval"),
        default=DEFAULT_INTERVAL_S,
        help=f"seconds between two polls (default {DEFAULT_INTERVAL_S:g}, at least {MIN_INTERVAL_S:g})",
    )
    watch.add_argument(
        "--once",
        action="store_true",
        help="one poll and the catch-up, then exit (1 if either failed): for cron or a test",
    )
    add_database_option(watch)
    add_migrate_option(watch)
    add_network_options(watch)
    watch.add_argument(
        "--workers", type=int, default=8, help="requests in flight at once (paced by --max-rps; default 8)"
    )
    add_log_format_option(
        watch, "one line per new filing on stdout and progress lines on stderr, as text or JSON objects"
    )
    watch.set_defaults(handler=cmd_watch)

    health = sub.add_parser(
        "healthcheck",
        help="exit 0 when a watch poll succeeded in the last --max-age seconds, else 1",
        description="For a container healthcheck or a monitor: exit 0 when the watcher's last "
        "successful poll of the latest-filings feed is at most --max-age seconds old, else exit 1 "
        "with one sentence saying since when. Reads the database only.",
    )
    add_database_option(health)
    health.add_argument(
        "--max-age",
        type=seconds_type("maximum age"),
        default=DEFAULT_HEALTH_MAX_AGE_S,
        help=f"seconds (default {DEFAULT_HEALTH_MAX_AGE_S})",
    )
    health.set_defaults(handler=cmd_healthcheck)


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_user_agent()  # before the database is touched, and before any request
    if args.interval < MIN_INTERVAL_S:
        raise ConfigError(f"--interval must be at least {MIN_INTERVAL_S:g} seconds (got {args.interval:g}).")
    if args.workers < 1:
        raise ConfigError("--workers must be at least 1.")
    options = WatchOptions(
        interval_s=args.interval,
        once=args.once,
        workers=args.workers,
        log_format=args.log_format,
        block_pause_s=settings.block_pause_s,
    )
    store = Store.from_url(settings.database_url, migrate=not args.no_migrate)
    try:
        with _held_lock(store) as lock, stop_on_signals(store.engine):
            store.abandon_running_runs(
                LOCKED_COMMANDS, "the process ended without finishing (killed?); a later run resumed"
            )
            progress = Progress(stream=sys.stderr, is_tty=sys.stderr.isatty(), log_format=args.log_format)
            new_client = partial(EdgarClient, settings, gate=lock.gate)  # no request without the lock
            watcher = Watcher(store, new_client, progress, sys.stdout, options)
            try:
                ok = watcher.run()
            except UndeclaredUserAgentError as exc:
                # A configuration error that retrying cannot fix: a supervisor should not restart.
                print(f"edgar-ingest: {exc}", file=sys.stderr)
                return EXIT_USAGE
            return EXIT_OK if ok or not args.once else EXIT_FAILED
    finally:
        store.close()


def cmd_healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    with read_only_store(settings) as store:  # a probe every few seconds: it never writes
        last = store.last_poll_ok_at()
    if last is None:
        print("unhealthy: no watch poll has succeeded on this database yet.", file=sys.stderr)
        return EXIT_FAILED
    age = (datetime.now(UTC) - last).total_seconds()
    if age > args.max_age:
        print(
            f"unhealthy: the last successful watch poll was {age:.0f} s ago "
            f"({last:%Y-%m-%d %H:%M:%S} UTC), more than {args.max_age:g} s.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"healthy: the last successful watch poll was {age:.0f} s ago.")
    return EXIT_OK
