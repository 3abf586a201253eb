"""The pipeline: discover -> fetch -> parse -> store, composed here and nowhere else.

- ``sync`` walks the daily indexes from the checkpoint and advances it only after a day's filings
  are all committed or recorded as failed. An absent index (weekend, holiday, not yet built) is
  never a reason to move the checkpoint: it moves to the last day whose index existed, so an
  absent "today" is tried again next run, and absent days before a present one are passed.
- ``backfill`` covers a half-open date range through the quarterly indexes (or the submissions
  API for given CIKs) and never touches the sync checkpoint. It resumes by skipping what is
  stored: a run killed at any point loses at most the filings in flight, which are fetched again.
  Neither reports success when the host has no index at all where EDGAR surely has one.
- Requests overlap on a small pool of worker threads (the shared RateLimiter paces them); parsing
  and storing happen on the calling thread, so the database has a single writer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from edgar_ingest import discover
from edgar_ingest.errors import (
    FetchError,
    MalformedDocumentError,
    RateLimitBlockedError,
    UndeclaredUserAgentError,
)
from edgar_ingest.fetch import fetch_filing
from edgar_ingest.http import EdgarClient
from edgar_ingest.interrupts import uninterrupted
from edgar_ingest.offline import parse_and_store
from edgar_ingest.progress import Progress
from edgar_ingest.records import EASTERN, FilingRef, RawDocument, RunCounts
from edgar_ingest.store import Store

DEFAULT_SYNC_LOOKBACK_DAYS = 7  # a first sync without --since covers the last week
DEFAULT_WORKERS = 8  # enough overlap to keep 10 req/s busy at up to ~0.7 s per answer
BATCH_SIZE = 50
# A network that is down fails every filing in turn; stop instead of recording them all.
MAX_CONSECUTIVE_FETCH_FAILURES = 5
# EDGAR builds a day's index that night and never closes 3 business days in a row: that many
# absent days older than this, and none present, mean the base URL is not EDGAR.
INDEX_SURELY_BUILT_AFTER = timedelta(days=2)
WRONG_HOST_ABSENT_DAYS = 3
# A quarter's master.idx exists from the night of its first business day (New Year's Day and a
# weekend can put that on the 4th): a week after the quarter began, EDGAR surely has it.
QUARTER_INDEX_SURELY_BUILT_AFTER = timedelta(days=7)


class RunAborted(Exception):
    """The run cannot go on (network down, blocked, refused); the checkpoint stays put."""


@dataclass
class PipelineContext:
    client: EdgarClient
    store: Store
    progress: Progress
    counts: RunCounts = field(default_factory=RunCounts)
    workers: int = DEFAULT_WORKERS
    run_id: int | None = None  # the runs row kept up to date as the run goes

    def report(self, event: str, **fields: object) -> None:
        """Log one step (a day, a quarter, a CIK) and record the run's counts so far."""
        self.progress.event(event, **fields)
        if self.run_id is not None:
            self.store.update_run(self.run_id, self.counts)


def business_days(start: date, end: date) -> Iterator[date]:
    """Monday-to-Friday days from ``start`` through ``end`` inclusive (EDGAR has no weekend index)."""
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def quarters(start: date, end_exclusive: date) -> Iterator[tuple[int, int]]:
    """(year, quarter) pairs that overlap the half-open range [start, end_exclusive)."""
    if end_exclusive <= start:
        return
    year, quarter = start.year, (start.month - 1) // 3 + 1
    last = end_exclusive - timedelta(days=1)
    last_key = (last.year, (last.month - 1) // 3 + 1)
    while (year, quarter) <= last_key:
        yield year, quarter
        quarter += 1
        if quarter == 5:
            year, quarter = year + 1, 1


def quarter_range(year: int, quarter: int) -> tuple[date, date]:
    """The half-open range of filing dates of a calendar quarter."""
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, after


def dedupe_refs(refs: Iterable[FilingRef]) -> list[FilingRef]:
    """One ref per accession (co-issued filings are listed once per co-issuer), order kept."""
    seen: set[str] = set()
    unique: list[FilingRef] = []
    for ref in refs:
        if ref.accession_number not in seen:
            seen.add(ref.accession_number)
            unique.append(ref)
    return unique


def ingest_refs(
    ctx: PipelineContext,
    refs: Sequence[FilingRef],
    on_listed: Callable[[], None] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> None:
    """Fetch, parse and store the refs not yet stored; every ref ends stored or recorded failed.

    Fetches overlap on worker threads; at most ``2 * workers`` documents are in memory at once.
    Documents are stored ``batch_size`` to a transaction (``watch`` stores each one as soon as it
    arrives: ``batch_size=1``).
    """
    refs = dedupe_refs(refs)
    ctx.counts.discovered += len(refs)
    known = ctx.store.known_accessions([r.accession_number for r in refs])
    todo = [r for r in refs if r.accession_number not in known]
    ctx.counts.skipped += len(refs) - len(todo)
    ctx.progress.add_total(len(todo))
    if on_listed is not None:
        on_listed()
    if not todo:
        return
    pending: list[tuple[FilingRef, RawDocument]] = []
    consecutive_failures = 0
    with ThreadPoolExecutor(max_workers=ctx.workers, thread_name_prefix="fetch") as pool:
        window: deque[tuple[FilingRef, Future[RawDocument | None]]] = deque()
        queue = iter(todo)
        try:
            while True:
                while len(window) < 2 * ctx.workers:
                    ref = next(queue, None)
                    if ref is None:
                        break
                    window.append((ref, pool.submit(fetch_filing, ctx.client, ref)))
                if not window:
                    break
                ref, future = window.popleft()
                try:
                    raw = future.result()
                except (RateLimitBlockedError, UndeclaredUserAgentError) as exc:
                    raise RunAborted(str(exc)) from exc
                except FetchError as exc:
                    consecutive_failures += 1
                    if consecutive_failures >= MAX_CONSECUTIVE_FETCH_FAILURES:
                        raise RunAborted(
                            f"{consecutive_failures} filings in a row could not be fetched "
                            f"(last: {exc}); is the network or EDGAR down? Run again later."
                        ) from exc
                    _record_fetch_failure(ctx, ref, str(exc))
                    continue
                consecutive_failures = 0
                if raw is None:
                    # Not "listed in the index": reconcile --sample fetches filings known from a
                    # data set, which no index listed in this run. The path tells what was asked.
                    _record_fetch_failure(ctx, ref, f"EDGAR has no such file: {ref.path} was not found")
                    continue
                ctx.counts.fetched += 1
                pending.append((ref, raw))
                if len(pending) >= batch_size:
                    _save_batch(ctx, pending)
                    pending.clear()
        except BaseException:
            # Stopping (Ctrl-C, SIGTERM, an aborted run): end the waits of the worker threads,
            # which may sit in a 600 s block pause, instead of waiting them out at pool exit.
            ctx.client.close()
            for _, future in window:
                future.cancel()
            if pending:
                # The batch in hand is kept when it can be; when the database is what failed,
                # the error that ended the run is the one reported, not this second attempt's.
                with suppress(Exception):
                    _save_batch(ctx, pending)
            raise
        if pending:
            _save_batch(ctx, pending)


def _record_fetch_failure(ctx: PipelineContext, ref: FilingRef, reason: str) -> None:
    with uninterrupted():  # recorded and counted, or neither
        ctx.store.record_failure(
            source=ctx.client.archive_url(ref.path),
            reason=reason,
            stage="fetch",
            accession_number=ref.accession_number,
        )
        ctx.counts.add_failure(ref.accession_number, reason)
    ctx.progress.advance()


def _save_batch(ctx: PipelineContext, batch: Sequence[tuple[FilingRef, RawDocument]]) -> None:
    """Parse and store one batch in one transaction; a bad document is recorded alone."""
    parse_and_store(
        ctx.store,
        [(raw, ref.accession_number) for ref, raw in batch],
        ctx.counts,
        batch_size=len(batch),
        on_document=ctx.progress.advance,
    )


@dataclass(frozen=True)
class SyncPlan:
    start: date
    until: date
    today: date  # US/Eastern: how old each day's index is


def plan_sync(checkpoint: date | None, since: date | None, until: date, today: date) -> SyncPlan:
    if since is not None:
        start = since
    elif checkpoint is not None:
        start = checkpoint + timedelta(days=1)
    else:
        start = today - timedelta(days=DEFAULT_SYNC_LOOKBACK_DAYS)
    return SyncPlan(start=start, until=until, today=today)


def run_sync(ctx: PipelineContext, plan: SyncPlan, on_checkpoint: Callable[[date], None]) -> None:
    """Walk each business day's index; the checkpoint follows the last day whose index existed.

    Every day absent, several of them long enough ago to be surely built, is not a string of
    holidays (EDGAR never closes three business days in a row) but the wrong host: the run is
    aborted, rather than reported complete with nothing done.
    """
    absent: list[date] = []
    present = 0
    for day in business_days(plan.start, plan.until):
        try:
            listing = discover.read_day(ctx.client, day)
        except (FetchError, MalformedDocumentError) as exc:
            # A file that is no index at all (an error page served as 200) is the host's fault,
            # not a row's: the day is tried again next run.
            raise RunAborted(f"the daily index of {day} could not be read: {exc}") from exc
        if listing is None:
            absent.append(day)
            ctx.report("day", day=day.isoformat(), index="absent")
            continue
        present += 1
        record_index_problems(ctx, listing)
        refs = listing.refs
        ingest_refs(ctx, [r for r in refs if r.form_type in ("D", "D/A")])
        on_checkpoint(day)
        ctx.report("day", day=day.isoformat(), filings=len(refs), **_bad_rows(listing))
    problem = wrong_host_problem(absent, present, plan.today, ctx.client.settings.base_url)
    if problem is not None:
        raise RunAborted(problem)


def wrong_host_problem(absent: Sequence[date], present: int, today: date, base_url: str) -> str | None:
    """Why a day walk that found no index at all must be the wrong host, or None when it may not be.

    ``watch`` walks its catch-up one day at a time and asks this once the walk is over.
    """
    surely_built = [day for day in absent if day < today - INDEX_SURELY_BUILT_AFTER]
    if present or len(surely_built) < WRONG_HOST_ABSENT_DAYS:
        return None
    return (
        f"none of the {len(absent)} business days from {absent[0]} to {absent[-1]} has a daily "
        f"index at {base_url}, though EDGAR has one for every business day "
        "more than two days old: check EDGAR_INGEST_BASE_URL (--base-url)."
    )


def run_backfill(ctx: PipelineContext, start: date, end: date, ciks: Sequence[str]) -> None:
    """Every D and D/A filed in [start, end), by quarterly index or by CIK."""
    in_range = _date_filter(start, end)
    if ciks:
        for index, cik in enumerate(ciks):
            try:
                refs = discover.list_cik(ctx.client, cik)
            except (FetchError, RateLimitBlockedError, UndeclaredUserAgentError) as exc:
                raise RunAborted(f"the filings of CIK {cik} could not be listed: {exc}") from exc
            ingest_refs(
                ctx, [r for r in refs if in_range(r)], partial(_expect_like_so_far, ctx, index + 1, len(ciks))
            )
            ctx.report("cik", cik=cik, filings=len(refs))
        return
    backfill_quarters(ctx, start, end, list(quarters(start, end)))


def backfill_quarters(
    ctx: PipelineContext, start: date, end: date, quarter_list: Sequence[tuple[int, int]]
) -> None:
    """The D and D/A filings of these quarters' indexes whose filing date is in [start, end).

    EDGAR has a quarterly index for every quarter since 1993: when none of these quarters has one
    though some began long enough ago (``wrong_host_quarters_problem``), the base URL is not
    EDGAR and the run is aborted, rather than reported complete with nothing found.
    """
    in_range = _date_filter(start, end)
    absent: list[tuple[int, int]] = []
    present = 0
    for index, (year, quarter) in enumerate(quarter_list):
        try:
            listing = discover.read_quarter(ctx.client, year, quarter)
        except (FetchError, MalformedDocumentError) as exc:
            raise RunAborted(f"the index of {year} Q{quarter} could not be read: {exc}") from exc
        if listing is None:
            absent.append((year, quarter))
            ctx.report("quarter", quarter=f"{year}Q{quarter}", index="absent")
            continue
        present += 1
        if listing.fallback is not None:
            ctx.progress.event("quarter", quarter=f"{year}Q{quarter}", fallback=listing.fallback)
        record_index_problems(ctx, listing)
        refs = [r for r in listing.refs if in_range(r)]
        ingest_refs(ctx, refs, partial(_expect_like_so_far, ctx, index + 1, len(quarter_list)))
        ctx.report("quarter", quarter=f"{year}Q{quarter}", filings=len(refs), **_bad_rows(listing))
    today = datetime.now(EASTERN).date()  # read once, after the walk: how old each quarter is
    problem = wrong_host_quarters_problem(absent, present, today, ctx.client.settings.base_url)
    if problem is not None:
        raise RunAborted(problem)


def wrong_host_quarters_problem(
    absent: Sequence[tuple[int, int]], present: int, today: date, base_url: str
) -> str | None:
    """Why quarters of which none has an index must be read from the wrong host, or None."""
    surely_built = [q for q in absent if quarter_range(*q)[0] + QUARTER_INDEX_SURELY_BUILT_AFTER <= today]
    if present or not surely_built:
        return None
    first, last = absent[0], absent[-1]
    return (
        f"none of the {len(absent)} quarters from {first[0]}Q{first[1]} to {last[0]}Q{last[1]} has "
        f"a quarterly index at {base_url}, though EDGAR has one for every quarter since 1993: "
        "check EDGAR_INGEST_BASE_URL (--base-url)."
    )


def record_index_problems(ctx: PipelineContext, listing: discover.IndexListing) -> None:
    """Record each index row that could not be read as a failure (stage ``discover``).

    One failure per row: its source is the index URL with the line as a fragment (the key of a
    failure without accession number), so a rerun over the same file updates the same rows. It is
    not keyed by an accession number the row may name: that would merge it with the failure of
    the document itself (fetch, parse, store), whose retry it is not.
    """
    for problem in listing.problems:
        reason = problem.describe()
        ctx.store.record_failure(problem.source, reason, stage="discover")
        ctx.counts.add_failure(problem.source, reason)


def _bad_rows(listing: discover.IndexListing) -> dict[str, int]:
    return {"bad_rows": len(listing.problems)} if listing.problems else {}


def _expect_like_so_far(ctx: PipelineContext, listed_steps: int, steps: int) -> None:
    """Estimate the filings of the steps (quarters, CIKs) not listed yet from those listed so far.

    A multi-year backfill lists one quarter at a time (memory stays flat), so without this the
    ETA would only ever cover the current quarter.
    """
    ctx.progress.expect(round(ctx.progress.total / listed_steps * (steps - listed_steps)))


def _date_filter(start: date, end: date) -> Callable[[FilingRef], bool]:
    def in_range(ref: FilingRef) -> bool:
        return start <= ref.filing_date < end

    return in_range
