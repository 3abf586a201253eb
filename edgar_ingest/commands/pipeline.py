"""Network commands: ``sync``, ``backfill``; and their companions ``status`` and ``failures``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from typing import TextIO

from edgar_ingest.bulk import SOURCES, run_dataset_backfill
from edgar_ingest.commands.database import read_only_store
from edgar_ingest.commands.options import (
    EXIT_FAILED,
    EXIT_OK,
    add_database_option,
    add_log_format_option,
    add_migrate_option,
    add_network_options,
    require_existing_database,
)
from edgar_ingest.commands.retry import retry_failures
from edgar_ingest.commands.runs import (
    RETRY_COMMAND,
    abandon_dead_offline_runs,
    ending,
    finish_after_error,
    offline_run,
    stop_on_signals,
)
from edgar_ingest.errors import ConfigError, LockHeldError, LockLostError
from edgar_ingest.http import EdgarClient
from edgar_ingest.pipeline import PipelineContext, RunAborted, plan_sync, run_backfill, run_sync
from edgar_ingest.progress import Progress
from edgar_ingest.records import EASTERN, RunCounts
from edgar_ingest.settings import Settings
from edgar_ingest.store import RUN_COUNT_FIELDS, FailureInfo, Lock, Store
from edgar_ingest.watch import summary_dict, summary_lines, watch_summary

# One lock for every run that talks to EDGAR: the SEC's limit is per user across processes, so
# a backfill and a sync must not run side by side either.
NETWORK_LOCK = "edgar-network"
LOCKED_COMMANDS = ("sync", "backfill", "reconcile", "watch", "catch-up")
HEARTBEAT_S = 60.0


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


def _cik(value: str) -> str:
    digits = value.strip()
    if not digits.isdigit() or len(digits) > 10:
        raise argparse.ArgumentTypeError(f"{value!r} is not a CIK: use up to 10 digits")
    return digits.zfill(10)


def _today_eastern() -> date:
    # EDGAR dates filings in US/Eastern; "today" means today there.
    return datetime.now(EASTERN).date()


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    add_database_option(parser)
    add_migrate_option(parser)
    add_network_options(parser)
    parser.add_argument(
        "--workers", type=int, default=8, help="requests in flight at once (paced by --max-rps; default 8)"
    )
    add_log_format_option(
        parser, "progress lines on stderr as text (a bar on a TTY) or one JSON object per line"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = sub.add_parser(
        "sync",
        help="the scheduled job: fetch new D and D/A filings day by day from the checkpoint",
        description="Walk each business day's daily index from the checkpoint (or --since) through "
        "--until (default today, US/Eastern), fetch every D and D/A filing not yet stored, parse and "
        "store it. The checkpoint moves only past days whose filings are all stored or recorded as "
        "failed. Without a checkpoint or --since, the first run starts 7 days back.",
    )
    sync.add_argument("--since", type=_iso_date, help="first day to walk (YYYY-MM-DD)")
    sync.add_argument("--until", type=_iso_date, help="last day to walk (YYYY-MM-DD; default today)")
    _add_run_options(sync)
    sync.set_defaults(handler=cmd_sync)

    backfill = sub.add_parser(
        "backfill",
        help="every D and D/A filed in [--start, --end): from the SEC's data sets, indexes or by CIK",
        description="Store every D and D/A filing whose filing date is in the half-open range "
        "[--start, --end). --source auto (the default) loads each quarter that the SEC's Form D data "
        "sets page lists from its archive (minutes for the whole history) and the rest of the range "
        "through EDGAR's quarterly indexes (one request per filing); --source datasets uses only the "
        "archives, --source indexes only the indexes; --cik uses the submissions API for those "
        "issuers. Resumable: run it again after a stop and it does only what is not done yet. Never "
        "moves the sync checkpoint.",
    )
    backfill.add_argument("--start", type=_iso_date, required=True, help="first filing date (inclusive)")
    backfill.add_argument("--end", type=_iso_date, required=True, help="end filing date (exclusive)")
    backfill.add_argument(
        "--cik", type=_cik, action="append", default=[], help="only this issuer's filings (repeatable)"
    )
    backfill.add_argument(
        "--source",
        choices=SOURCES,
        default=None,
        help="where filings come from: auto (data-set archives where published, indexes for the rest; "
        "the default), datasets (archives only) or indexes (one request per filing)",
    )
    _add_run_options(backfill)
    backfill.set_defaults(handler=cmd_backfill)

    status = sub.add_parser(
        "status",
        help="checkpoint, counts, last runs and unresolved failures",
        description="Show the sync checkpoint (the last business day fully processed), how many filings, "
        "offerings and raw documents are stored, the data-set archives loaded, the last 5 runs with "
        "their counts, and the 10 most recent unresolved failures. It creates no database: where "
        "there is none at the URL it says so (exit 1).",
    )
    add_database_option(status)
    add_migrate_option(status, "accepted for old scripts: status only reads and never migrates")
    status.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    status.set_defaults(handler=cmd_status)

    failures = sub.add_parser(
        "failures",
        help="list documents that failed, or --retry them",
        description="List the unresolved failures: each document that could not be fetched, read, "
        "parsed or stored, with its stage, reason, source and attempts. --retry parses again the ones "
        "whose bytes are stored (offline, no User-Agent needed), fetches again the filings that never "
        "arrived from EDGAR, and says why any other (a data-set row, an unreadable local file) is "
        "left as it is; a failure that fails again stays one failure.",
    )
    add_database_option(failures)
    add_migrate_option(failures, "with --retry, do not apply pending migrations (the list never migrates)")
    add_network_options(failures)
    failures.add_argument(
        "--retry",
        action="store_true",
        help="re-parse failed documents whose bytes are stored (no network), fetch again the filings "
        "that never arrived from EDGAR, and say why any other failure is left as it is",
    )
    failures.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    failures.set_defaults(handler=cmd_failures)


# --------------------------------------------------------------------------- running a job


@contextmanager
def _held_lock(store: Store) -> Iterator[Lock]:
    """The network lock, kept alive by a heartbeat thread so a long pause cannot expire it, and
    on PostgreSQL guarded: give the run's client ``gate=lock.gate`` so that no request leaves
    while the lock's session is gone (a restart), and the run stops if another run took it."""
    try:
        lock = store.acquire_lock(NETWORK_LOCK)
    except LockHeldError as exc:
        watcher = store.running_watcher()
        if watcher is None:
            raise
        raise LockHeldError(
            f"A watcher (edgar-ingest watch, {watcher}) holds the network lock and keeps the database "
            "up to date by itself; stop it first to run this command."
        ) from exc
    if store.running_watcher() is not None:
        store.set_watcher(None)  # left by a watcher that was killed: none runs while we hold the lock
    lock.keep_alive(HEARTBEAT_S)
    try:
        yield lock
    finally:
        lock.release()


def run_job(
    args: argparse.Namespace,
    settings: Settings,
    command: str,
    range_start: date | None,
    range_end: date | None,
    body: Callable[[PipelineContext], str | None],
    *,
    report_stream: TextIO | None = None,
) -> int:
    """Common frame of network runs: client, store, lock, run record, report, exit code."""
    settings.require_user_agent()  # before the database is touched, and before any request
    if args.workers < 1:
        raise ConfigError("--workers must be at least 1.")
    store = Store.from_url(settings.database_url, migrate=not args.no_migrate)
    try:
        with (
            _held_lock(store) as lock,
            EdgarClient(settings, gate=lock.gate) as client,
            stop_on_signals(store.engine),
        ):
            store.abandon_running_runs(
                LOCKED_COMMANDS, "the process ended without finishing (killed?); a later run resumed"
            )
            abandon_dead_offline_runs(store)
            progress = Progress(stream=sys.stderr, is_tty=sys.stderr.isatty(), log_format=args.log_format)
            run_id = store.start_run(
                command, range_start_date=range_start, range_end_date=range_end, track_batches=True
            )
            ctx = PipelineContext(
                client=client, store=store, progress=progress, workers=args.workers, run_id=run_id
            )
            try:
                message = body(ctx)
            except (RunAborted, LockLostError) as exc:
                _end_run(store, run_id, ctx, client, "failed", str(exc))
                _report_quietly(command, ctx.counts, "failed", str(exc), args.log_format, sys.stderr)
                return EXIT_FAILED
            except BaseException as exc:
                # Ctrl-C, SIGTERM, a closed output, a database error, a bug: never "completed".
                status, reason = ending(exc)
                _end_run(store, run_id, ctx, client, status, reason)
                _report_quietly(command, ctx.counts, status, reason, args.log_format, sys.stderr)
                raise
            progress.finish()
            _take_client_stats(ctx.counts, client)
            store.finish_run(run_id, ctx.counts, status="completed", message=message)
            _print_report(
                command, ctx.counts, "completed", message, args.log_format, report_stream or sys.stdout
            )
            return EXIT_OK
    finally:
        store.close()


def _end_run(
    store: Store, run_id: int, ctx: PipelineContext, client: EdgarClient, status: str, message: str
) -> None:
    """Record the end of a run that did not complete (never hiding the error that ended it)."""
    with suppress(OSError):  # stderr gone (a closed pipe): the ledger still says how the run ended
        ctx.progress.finish()
    _take_client_stats(ctx.counts, client)
    finish_after_error(store, run_id, ctx.counts, status, message)


def _report_quietly(
    command: str, counts: RunCounts, status: str, message: str, log_format: str, out: TextIO
) -> None:
    """The report of a run that did not complete, on stderr with the other diagnostics.

    The exception that ended the run is the one that propagates: a closed stderr must not
    replace it.
    """
    with suppress(OSError):
        _print_report(command, counts, status, message, log_format, out)


def _take_client_stats(counts: RunCounts, client: EdgarClient) -> None:
    stats = client.stats.snapshot()
    counts.requests = stats.requests
    counts.retries = stats.retries
    counts.block_pauses = stats.block_pauses


def _print_report(
    command: str, counts: RunCounts, status: str, message: str | None, log_format: str, out: TextIO
) -> None:
    fields = {name: getattr(counts, name) for name in RUN_COUNT_FIELDS}
    if log_format == "json":
        print(json.dumps({"command": command, "status": status, "message": message, **fields}), file=out)
    else:
        line = f"{command} {status}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in fields.items())
        print(line, file=out)
        if message:
            print(message, file=out)
        for source, reason in counts.failures[:20]:
            print(f"  failed: {source}: {reason}", file=out)
        if len(counts.failures) > 20:
            print(f"  ... and {len(counts.failures) - 20} more (edgar-ingest failures)", file=out)


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    today = _today_eastern()
    until: date = args.until or today
    since: date | None = args.since
    if since is not None and since > until:
        raise ConfigError(f"--since {since} is after --until {until}.")

    def body(ctx: PipelineContext) -> str | None:
        before = ctx.store.get_checkpoint()
        plan = plan_sync(before, since, until, today)
        if plan.start > plan.until:
            return f"nothing to do: the checkpoint is {plan.start - timedelta(days=1)}"
        ctx.progress.event("sync", start=plan.start.isoformat(), until=plan.until.isoformat())
        run_sync(ctx, plan, ctx.store.set_checkpoint)
        after = ctx.store.get_checkpoint()
        if after is None:
            return "no checkpoint yet: no daily index of these days exists yet; the next run tries again"
        return f"checkpoint {after}" + (" (unchanged)" if after == before else "")

    return run_job(args, settings, "sync", since, until, body)


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    start: date = args.start
    end: date = args.end
    if end <= start:
        raise ConfigError(f"--end {end} must be after --start {start} (the range is half-open).")

    source: str = args.source or ("indexes" if args.cik else "auto")
    if args.cik and source != "indexes":
        raise ConfigError(
            "--cik reads the submissions API, one request per filing; "
            f"it cannot be combined with --source {source}."
        )

    def body(ctx: PipelineContext) -> str | None:
        if source == "indexes":
            run_backfill(ctx, start, end, args.cik)
            return None
        return run_dataset_backfill(ctx, start, end, source=source)

    return run_job(args, settings, "backfill", start, end, body)


# --------------------------------------------------------------------------- status, failures


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    # Reads only: never migrates (a schema that is behind is reported), works read-only.
    with read_only_store(settings) as store:
        status = store.status(runs=5)
        failures = store.list_failures(limit=10)
        watching = watch_summary(store, datetime.now(UTC))
    if args.format == "json":
        payload = {
            "checkpoint": status.checkpoint.isoformat() if status.checkpoint else None,
            "filings": status.filings,
            "offerings": status.offerings,
            "raw_documents": status.raw_documents,
            "dataset_only_filings": status.dataset_only_filings,
            "dataset_archives_loaded": status.dataset_archives_loaded,
            "unresolved_failures": status.unresolved_failures,
            "last_runs": [
                {
                    "id": r.id,
                    "command": r.command,
                    "status": r.status,
                    "started_at": r.started_at.isoformat(),
                    "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                    "range_start_date": r.range_start_date.isoformat() if r.range_start_date else None,
                    "range_end_date": r.range_end_date.isoformat() if r.range_end_date else None,
                    "counts": r.counts,
                    "message": r.message,
                }
                for r in status.last_runs
            ],
            "failures": [_failure_dict(f) for f in failures],
            "watch": summary_dict(watching),
        }
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    print(f"checkpoint:          {status.checkpoint or 'none (sync has not completed a day yet)'}")
    print(f"filings:             {status.filings}")
    print(f"offerings:           {status.offerings}")
    print(f"raw documents:       {status.raw_documents}")
    if status.dataset_archives_loaded or status.dataset_only_filings:
        print(
            f"data sets:           {status.dataset_archives_loaded} archives loaded; "
            f"{status.dataset_only_filings} filings known only from them (no acceptance time, no XML yet)"
        )
    print(f"unresolved failures: {status.unresolved_failures}")
    for line in summary_lines(watching, datetime.now(UTC)):
        print(line)
    if status.last_runs:
        print("last runs:")
        for r in status.last_runs:
            span = ""
            if r.range_start_date or r.range_end_date:
                span = f" {r.range_start_date or ''}..{r.range_end_date or ''}"
            counts = ", ".join(f"{k} {v}" for k, v in r.counts.items() if v)
            print(f"  #{r.id} {r.command}{span} {r.status} at {r.started_at:%Y-%m-%d %H:%M:%S}: {counts}")
            if r.message:
                print(f"      {r.message}")
    if failures:
        print("recent failures (edgar-ingest failures for all):")
        for f in failures:
            print(f"  {f.accession_number or f.source} [{f.stage}] {f.reason}")
    return EXIT_OK


def _failure_dict(f: FailureInfo) -> dict[str, object]:
    return {
        "id": f.id,
        "accession_number": f.accession_number,
        "source": f.source,
        "stage": f.stage,
        "reason": f.reason,
        "first_seen_at": f.first_seen_at.isoformat(),
        "last_seen_at": f.last_seen_at.isoformat(),
        "attempt_count": f.attempt_count,
        "has_raw_document": f.has_raw_document,
    }


def cmd_failures(args: argparse.Namespace, settings: Settings) -> int:
    require_existing_database(settings)
    if not args.retry:  # the list reads only: read-only, no migration, like status
        with read_only_store(settings) as store:
            failures = store.list_failures()
        if args.format == "json":
            print(json.dumps([_failure_dict(f) for f in failures], indent=2))
        else:
            if not failures:
                print("no unresolved failures")
            for f in failures:
                print(
                    f"#{f.id} {f.accession_number or '-'} [{f.stage}] {f.reason}\n"
                    f"    {f.source} (attempts {f.attempt_count}, last {f.last_seen_at:%Y-%m-%d %H:%M})"
                )
        return EXIT_OK
    store = Store.from_url(settings.database_url, migrate=not args.no_migrate)
    try:
        # Recorded in runs like ingest and reparse: what it did, or how it ended (Ctrl-C, an error).
        counts = RunCounts()
        with stop_on_signals(store.engine), offline_run(store, RETRY_COMMAND, counts) as run_id:
            code = retry_failures(
                store, settings, store.list_failures(), network_lock=lambda: _held_lock(store), counts=counts
            )
            store.finish_run(
                run_id, counts, message=f"{counts.discovered} failures retried, {counts.failed} still failing"
            )
        return code
    finally:
        store.close()
