"""``watch``: one long-running process that stores each new Form D minutes after the SEC accepts it.

The loop (DESIGN.md section 3, ``watch``):

- **Poll** the latest-filings feed every ``interval_s`` (fixed rate: a poll starts one interval
  after the previous one started). Pages are read until one lists a filing already stored (or
  one this watcher gave up on), the feed ends, or ``max_pages`` were read; each new D and D/A is
  fetched and stored at once through the pipeline's own ``ingest_refs`` (one transaction each),
  and logged in one line. A poll that finds nothing new costs one request.
- **Catch up** on start and every evening after the daily index is built (~22:30 ET): ``sync``'s
  day walk from the checkpoint through today, one day at a time between polls, moving the sync
  checkpoint by the same rules. Filings the feed already brought in are not fetched again (the
  walk skips stored accessions); a day the feed missed (an outage) is filled in.
- **Keep going**: a poll whose feed cannot be read (5xx after the retries, an HTML page, a rate
  block that did not lift) is recorded as failed and the next poll comes at its time. A block
  page pauses every request, as in any run; blocks in a row make the watcher keep quiet for a
  whole block pause before it starts again with a fresh client. Only a refused User-Agent
  (retrying cannot help) or a database error ends it.
- **Ledger**: each poll that found something, or failed, is a ``runs`` row (command ``watch``);
  a stretch of polls that found nothing is one row whose counts and end time grow. Each catch-up
  is a row (command ``catch-up``). Each filing found through the feed keeps its acceptance and
  storage times (``store.watch``), and the last successful poll is kept for the healthcheck.

Stopping: the caller turns SIGTERM and Ctrl-C into ``KeyboardInterrupt`` (or sets ``stop``); the
filing in hand is stored or not at all (one transaction each), open runs are recorded as
interrupted, and :meth:`Watcher.run` returns.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import statistics
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final, TextIO

from edgar_ingest.errors import (
    FetchError,
    LockLostError,
    ParseError,
    RateLimitBlockedError,
    UndeclaredUserAgentError,
)
from edgar_ingest.feed import PAGE_SIZE, FeedEntry, fetch_feed_page
from edgar_ingest.http import EdgarClient, StatsSnapshot
from edgar_ingest.pipeline import (
    DEFAULT_WORKERS,
    PipelineContext,
    RunAborted,
    SyncPlan,
    business_days,
    ingest_refs,
    plan_sync,
    run_sync,
    wrong_host_problem,
)
from edgar_ingest.progress import Progress
from edgar_ingest.records import EASTERN, RunCounts
from edgar_ingest.store import Store
from edgar_ingest.store.watch import FeedArrival, StoredFiling

DEFAULT_INTERVAL_S: Final = 60.0
MIN_INTERVAL_S: Final = 10.0  # politeness: the feed is asked at most every 10 s
MAX_PAGES: Final = 10
# EDGAR builds the daily indexes around 22:00 ET; half an hour later the day's is there.
EVENING_CATCH_UP: Final = time(22, 30)
# A catch-up that could not complete (network down, index unreadable) is tried again this soon;
# an evening catch-up that found today's index not built yet, an hour later.
CATCH_UP_RETRY: Final = timedelta(minutes=15)
EVENING_RETRY: Final = timedelta(hours=1)
# Polls that try to fetch a filing the feed lists but EDGAR does not serve yet (or fails to),
# before leaving it to the catch-up: a filing that never arrives must not cost a request a poll.
FEED_FETCH_ATTEMPTS: Final = 3
WATCH_COMMAND: Final = "watch"
CATCH_UP_COMMAND: Final = "catch-up"
LATENCY_WINDOW: Final = timedelta(days=1)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class WatchOptions:
    interval_s: float = DEFAULT_INTERVAL_S
    once: bool = False  # one poll and the catch-up, then return
    max_pages: int = MAX_PAGES
    page_size: int = PAGE_SIZE
    workers: int = DEFAULT_WORKERS
    log_format: str = "text"  # of the per-filing lines: "text" or "json"
    block_pause_s: float = 600.0  # quiet time after blocks in a row, before a fresh client


@dataclass
class _Stretch:
    """Consecutive polls with the same outcome (nothing new, or the same failure): one ``runs`` row."""

    status: str  # "completed" or "failed"
    reason: str  # "nothing new", or why the polls failed
    run_id: int
    since: datetime
    polls: int = 0
    counts: RunCounts = field(default_factory=RunCounts)


@dataclass
class _CatchUp:
    """A catch-up in progress: the days still to walk, one per step."""

    run_id: int
    today: date
    days: deque[date]
    progress: Progress
    counts: RunCounts = field(default_factory=RunCounts)
    present: int = 0  # days whose index existed
    absent: list[date] = field(default_factory=list)


class Watcher:
    """The watch loop (see the module docstring). One thread: polls and catch-up days alternate,
    so every request goes through the one client and its limiter, and the database has one writer.
    """

    def __init__(
        self,
        store: Store,
        new_client: Callable[[], EdgarClient],
        progress: Progress,
        out: TextIO,
        options: WatchOptions,
        *,
        clock: Callable[[], datetime] = _utc_now,
        stop: threading.Event | None = None,
    ) -> None:
        self._store = store
        self._new_client = new_client
        self._progress = progress
        self._out = out
        self._options = options
        self._clock = clock
        self._stop = stop or threading.Event()
        self._client = new_client()
        now = clock()
        self._next_poll = now
        self._catch_up_due: datetime | None = now  # a catch-up on start
        self._catch_up: _CatchUp | None = None
        self._stretch: _Stretch | None = None
        self._newest_seen: datetime | None = None  # acceptance time of the newest entry processed
        self._fetch_attempts: dict[str, int] = {}
        self._given_up: set[str] = set()
        self._polls = 0
        self.ok = True  # every poll and catch-up succeeded (the exit status of --once)

    # ------------------------------------------------------------------ the loop

    def run(self) -> bool:
        """Poll and catch up until stopped (or, with ``once``, after one poll and the catch-up).

        Returns :attr:`ok`. Raises :class:`UndeclaredUserAgentError` when the SEC refuses the
        User-Agent; database errors propagate.
        """
        started = self._clock()
        self._store.set_watcher(
            f"pid {os.getpid()} on {socket.gethostname()}, started {started:%Y-%m-%d %H:%M:%S} UTC"
        )
        self._progress.event("watch", interval_s=self._options.interval_s, once=self._options.once)
        lost: LockLostError | None = None
        try:
            while not self._stop.is_set():
                now = self._clock()
                if self._poll_due(now):
                    self._poll(now)
                elif self._catch_up is not None:
                    self._catch_up_step()
                elif self._catch_up_due is not None and now >= self._catch_up_due:
                    self._start_catch_up(now)
                elif self._options.once:
                    break
                else:
                    wake = min(self._next_poll, self._catch_up_due or self._next_poll)
                    self._stop.wait(max(0.0, (wake - now).total_seconds()))
        except KeyboardInterrupt:
            self._progress.event("watch", stopped="signal")
        except LockLostError as exc:
            lost = exc
            raise
        finally:
            if lost is not None:
                self._finish_catch_up_run("failed", str(lost))
            self._finish_catch_up_run("interrupted", "stopped; the next catch-up resumes from the checkpoint")
            self._client.close()
            if lost is None:  # else the marker may be the next watcher's, which holds the lock now
                self._store.set_watcher(None)
        return self.ok

    def _poll_due(self, now: datetime) -> bool:
        if self._options.once:
            return self._polls == 0
        return now >= self._next_poll

    # ------------------------------------------------------------------ polls

    def _poll(self, started: datetime) -> None:
        self._polls += 1
        # Fixed rate: the next poll is due one interval after this one started.
        self._next_poll = started + timedelta(seconds=self._options.interval_s)
        before = self._client.stats.snapshot()
        counts = RunCounts()
        try:
            new, pages = self._read_feed()
        except (FetchError, ParseError) as exc:
            self.ok = False
            self._repeated_poll(
                started, counts, before, "failed", f"the latest-filings feed could not be read: {exc}"
            )
            if isinstance(exc, UndeclaredUserAgentError):
                raise
            if isinstance(exc, RateLimitBlockedError):
                self._renew_client(exc)
            return
        if not new:
            self._repeated_poll(started, counts, before, "completed", "nothing new")
            self._store.mark_poll_ok(self._clock())
            return
        self._stretch = None
        run_id = self._store.start_run(WATCH_COMMAND)
        ctx = PipelineContext(
            client=self._client,
            store=self._store,
            progress=self._fresh_progress(),
            counts=counts,
            workers=self._options.workers,
            run_id=run_id,
        )
        try:
            ingest_refs(ctx, [entry.ref for entry in new], batch_size=1)
        except RunAborted as exc:
            self._arrived(new)
            self._take_requests(counts, before)
            self._store.finish_run(run_id, counts, status="failed", message=str(exc))
            self._progress.event("poll", failed=str(exc))
            self.ok = False
            self._renew_client(exc)
            return
        except KeyboardInterrupt:
            self._take_requests(counts, before)
            self._store.finish_run(run_id, counts, status="interrupted", message="stopped during a poll")
            raise
        except LockLostError as exc:  # another run has the lock: stop here (run() says why)
            self._take_requests(counts, before)
            self._store.finish_run(run_id, counts, status="failed", message=str(exc))
            raise
        stored = self._arrived(new)
        newest = max(e.accepted_at for e in new)
        self._newest_seen = newest if self._newest_seen is None else max(newest, self._newest_seen)
        self._take_requests(counts, before)
        listed = ", ".join(stored[:10]) + (f" and {len(stored) - 10} more" if len(stored) > 10 else "")
        message = f"{len(stored)} new from the feed ({pages} page{'s' if pages > 1 else ''})"
        self._store.finish_run(run_id, counts, message=f"{message}: {listed}" if stored else message)
        self._progress.event("poll", pages=pages, new=len(new), stored=len(stored), failed=counts.failed)
        self._store.mark_poll_ok(self._clock())

    def _read_feed(self) -> tuple[list[FeedEntry], int]:
        """The D and D/A entries not stored yet, oldest first (the log reads in order), and the pages read."""
        listed: dict[str, FeedEntry] = {}
        known: set[str] = set()
        size = self._options.page_size
        pages = 0
        for number in range(self._options.max_pages):
            page = fetch_feed_page(self._client, start=number * size, count=size)
            pages += 1
            for problem in page.problems:
                self._progress.event("feed", skipped=problem)
            accessions = {e.accession_number for e in page.entries}
            page_known = self._store.known_accessions(accessions) | (accessions & self._given_up)
            known |= page_known
            for entry in page.entries:
                listed.setdefault(entry.accession_number, entry)  # a page may repeat one: it moved down
            if page_known or page.entry_count < size:
                break
            # Entries no newer than the newest one processed were seen by an earlier poll: even a
            # run of decoy forms (DEF 14A...) on top of the feed does not make a poll page deeper.
            oldest = page.oldest_accepted_at
            if self._newest_seen is not None and oldest is not None and oldest <= self._newest_seen:
                break
        return [e for a, e in reversed(listed.items()) if a not in known], pages

    def _repeated_poll(
        self, started: datetime, counts: RunCounts, before: StatsSnapshot, status: str, reason: str
    ) -> None:
        """Record a poll that found nothing, or failed: polls in a row that did the same are one row
        (its counts and end time grow), so a quiet day or an hour-long outage is not 60 rows an hour."""
        self._take_requests(counts, before)
        stretch = self._stretch
        if stretch is None or (stretch.status, stretch.reason) != (status, reason):
            stretch = _Stretch(status, reason, run_id=self._store.start_run(WATCH_COMMAND), since=started)
            self._stretch = stretch
            if status != "completed":
                self._progress.event("poll", failed=reason)
        stretch.polls += 1
        stretch.counts.requests += counts.requests
        stretch.counts.retries += counts.retries
        stretch.counts.block_pauses += counts.block_pauses
        polls = f"{stretch.polls} poll{'s' if stretch.polls > 1 else ''}"
        self._store.finish_run(
            stretch.run_id,
            stretch.counts,
            status=status,
            message=f"{polls} since {stretch.since:%Y-%m-%d %H:%M:%S} UTC: {reason}",
        )

    def _arrived(self, new: Sequence[FeedEntry]) -> list[str]:
        """Log and keep the filings of ``new`` now stored; count attempts for those that are not."""
        stored = self._store.stored_filings(e.accession_number for e in new)
        arrivals = []
        for entry in new:
            filing = stored.get(entry.accession_number)
            if filing is None:
                attempts = self._fetch_attempts.get(entry.accession_number, 0) + 1
                self._fetch_attempts[entry.accession_number] = attempts
                if attempts >= FEED_FETCH_ATTEMPTS:
                    self._given_up.add(entry.accession_number)
                    self._fetch_attempts.pop(entry.accession_number, None)
                continue
            self._fetch_attempts.pop(entry.accession_number, None)
            arrival = FeedArrival(
                accession_number=entry.accession_number,
                accepted_at=filing.accepted_at or entry.accepted_at,
                stored_at=filing.stored_at,
            )
            arrivals.append(arrival)
            self._log_filing(filing, arrival)
        self._store.record_feed_arrivals(arrivals)
        return [a.accession_number for a in arrivals]

    def _log_filing(self, filing: StoredFiling, arrival: FeedArrival) -> None:
        offered: str | None
        if filing.is_offering_amount_indefinite:
            offered = "Indefinite"
        else:
            offered = None if filing.total_offering_amount is None else _whole(filing.total_offering_amount)
        sold = None if filing.total_amount_sold is None else _whole(filing.total_amount_sold)
        if self._options.log_format == "json":
            line = json.dumps(
                {
                    "event": "filing",
                    "accession_number": filing.accession_number,
                    "form": filing.submission_type,
                    "issuer_name": filing.issuer_name,
                    "total_amount_sold": sold,
                    "total_offering_amount": offered,
                    "accepted_at": arrival.accepted_at.isoformat(),
                    "stored_at": arrival.stored_at.isoformat(),
                    "delay_s": round(arrival.delay_s, 1),
                }
            )
        else:
            accepted = arrival.accepted_at.astimezone(EASTERN)
            issuer = filing.issuer_name or "(no issuer name)"
            line = (
                f"{filing.submission_type} {filing.accession_number} {issuer}: "
                f"sold {_dollars(sold)} of {_dollars(offered)} offered "
                f"(accepted {accepted:%Y-%m-%d %H:%M:%S} ET, stored {arrival.delay_s:.0f} s later)"
            )
        print(line, file=self._out, flush=True)

    # ------------------------------------------------------------------ catch-up

    def _start_catch_up(self, now: datetime) -> None:
        today = now.astimezone(EASTERN).date()
        plan = plan_sync(self._store.get_checkpoint(), None, today, today)
        days = deque(business_days(plan.start, plan.until))
        self._catch_up_due = None
        if not days:
            self._schedule_catch_up(now)
            return
        run_id = self._store.start_run(
            CATCH_UP_COMMAND, range_start_date=plan.start, range_end_date=plan.until
        )
        self._catch_up = _CatchUp(run_id=run_id, today=today, days=days, progress=self._fresh_progress())
        self._progress.event("catch-up", start=plan.start.isoformat(), until=plan.until.isoformat())

    def _catch_up_step(self) -> None:
        """One day of the catch-up: its index, then its filings not stored yet."""
        state = self._catch_up
        assert state is not None
        day = state.days.popleft()
        before = self._client.stats.snapshot()
        ctx = PipelineContext(
            client=self._client,
            store=self._store,
            progress=state.progress,
            counts=state.counts,
            workers=self._options.workers,
            run_id=state.run_id,
        )
        checkpoint = self._store.set_checkpoint

        def passed(day: date) -> None:  # run_sync moves the checkpoint to a day whose index existed
            state.present += 1
            checkpoint(day)

        before_present = state.present
        try:
            run_sync(ctx, SyncPlan(start=day, until=day, today=state.today), passed)
            if state.present == before_present:
                state.absent.append(day)
        except RunAborted as exc:
            self._take_requests(state.counts, before)
            self._finish_catch_up_run("failed", str(exc))
            self.ok = False
            self._catch_up_due = self._clock() + CATCH_UP_RETRY
            self._renew_client(exc)
            return
        finally:
            # Also on KeyboardInterrupt: run() then records the catch-up as interrupted.
            if self._catch_up is not None:
                self._take_requests(state.counts, before)
        if not state.days:
            problem = wrong_host_problem(
                state.absent, state.present, state.today, self._client.settings.base_url
            )
            if problem is not None:
                self._finish_catch_up_run("failed", problem)
                self.ok = False
                self._catch_up_due = self._clock() + CATCH_UP_RETRY
                return
            self._finish_catch_up_run("completed", f"checkpoint {self._store.get_checkpoint()}")
            self._schedule_catch_up(self._clock())

    def _finish_catch_up_run(self, status: str, message: str) -> None:
        state, self._catch_up = self._catch_up, None
        if state is not None:
            self._store.finish_run(state.run_id, state.counts, status=status, message=message)
            self._progress.event("catch-up", status=status, message=message)

    def _schedule_catch_up(self, now: datetime) -> None:
        """The next catch-up: this evening's, or tomorrow's, or in an hour when tonight's index is late."""
        local = now.astimezone(EASTERN)
        evening = datetime.combine(local.date(), EVENING_CATCH_UP, tzinfo=EASTERN)
        if local < evening:
            self._catch_up_due = evening
            return
        checkpoint = self._store.get_checkpoint()
        if local.weekday() < 5 and (checkpoint is None or checkpoint < local.date()):
            self._catch_up_due = now + EVENING_RETRY  # tonight's index is not built yet
        else:
            tomorrow = local.date() + timedelta(days=1)
            self._catch_up_due = datetime.combine(tomorrow, EVENING_CATCH_UP, tzinfo=EASTERN)

    def _fresh_progress(self) -> Progress:
        """Progress of one poll or one catch-up: its own counts and rate, not the process's."""
        return dataclasses.replace(self._progress, total=0, done=0, expected_more=0)

    # ------------------------------------------------------------------ the client

    def _renew_client(self, exc: BaseException) -> None:
        """A fresh client after a run was aborted (ingest_refs closes its client when it stops)."""
        cause = exc.__cause__ if isinstance(exc, RunAborted) else exc
        if isinstance(cause, UndeclaredUserAgentError):
            raise cause
        self._client.close()
        # After blocks in a row, any request would extend the block: keep quiet for a whole pause.
        quiet = self._options.block_pause_s if isinstance(cause, RateLimitBlockedError) else 1.0
        if quiet > 1.0:
            self._progress.event("watch", paused_s=quiet, reason="rate-limited several times in a row")
        self._stop.wait(quiet)
        self._client = self._new_client()

    def _take_requests(self, counts: RunCounts, before: StatsSnapshot) -> None:
        after = self._client.stats.snapshot()
        counts.requests += after.requests - before.requests
        counts.retries += after.retries - before.retries
        counts.block_pauses += after.block_pauses - before.block_pauses


def _whole(amount: Decimal) -> str:
    return str(amount.quantize(Decimal(1))) if amount == amount.to_integral_value() else str(amount)


def _dollars(amount: str | None) -> str:
    if amount is None:
        return "-"
    if amount.isdigit():
        return f"${int(amount):,}"
    return amount


# --------------------------------------------------------------------------- status


@dataclass(frozen=True, slots=True)
class WatchSummary:
    """What ``status`` and the healthcheck show of the watcher."""

    watcher: str | None  # the running watcher's description, when one runs
    last_poll_ok_at: datetime | None
    feed_filings: int  # filings found through the feed and stored in the last day
    median_delay_s: float | None  # acceptance -> stored, over those filings
    max_delay_s: float | None


def watch_summary(store: Store, now: datetime, window: timedelta = LATENCY_WINDOW) -> WatchSummary:
    arrivals = store.feed_arrivals_since(now - window)
    delays = [a.delay_s for a in arrivals]
    return WatchSummary(
        watcher=store.running_watcher(),
        last_poll_ok_at=store.last_poll_ok_at(),
        feed_filings=len(arrivals),
        median_delay_s=statistics.median(delays) if delays else None,
        max_delay_s=max(delays) if delays else None,
    )


def summary_dict(summary: WatchSummary) -> dict[str, object]:
    return {
        "running": summary.watcher,
        "last_poll_ok_at": summary.last_poll_ok_at.isoformat() if summary.last_poll_ok_at else None,
        "feed_filings_last_day": summary.feed_filings,
        "median_delay_s": None if summary.median_delay_s is None else round(summary.median_delay_s, 1),
        "max_delay_s": None if summary.max_delay_s is None else round(summary.max_delay_s, 1),
    }


def summary_lines(summary: WatchSummary, now: datetime) -> list[str]:
    """Lines for ``status`` (none when ``watch`` never ran on this database)."""
    if summary.last_poll_ok_at is None and not summary.feed_filings and summary.watcher is None:
        return []
    if summary.last_poll_ok_at is None:
        last = "no poll has succeeded yet"
    else:
        ago = (now - summary.last_poll_ok_at).total_seconds()
        last = f"last good poll {summary.last_poll_ok_at:%Y-%m-%d %H:%M:%S} UTC ({_ago(ago)} ago)"
    running = f"running ({summary.watcher})" if summary.watcher else "not running"
    lines = [f"watch:               {running}; {last}"]
    if summary.feed_filings:
        assert summary.median_delay_s is not None
        assert summary.max_delay_s is not None
        lines.append(
            f"                     last day: {summary.feed_filings} filing"
            f"{'s' if summary.feed_filings > 1 else ''} through the feed, acceptance to stored "
            f"median {_ago(summary.median_delay_s)}, max {_ago(summary.max_delay_s)}"
        )
    else:
        lines.append("                     last day: no filing through the feed")
    return lines


def _ago(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
