"""``watch`` in process against the fake EDGAR, whose feed changes while the watcher runs.

Each test runs the real :class:`Watcher` (real HTTP client, real database) in a thread with a short
poll interval, changes the feed, waits for what must follow, then stops it through its ``stop``
event. The wall clock the watcher reads is shifted to the fake's 2024 dates where the catch-up
matters (:class:`ShiftedClock`).
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fake_edgar import FEED_PATH, FakeEdgar, FeedItem, master_index
from formd_builder import FilingSpec, full_submission, master_index_rows

from edgar_ingest.http import EdgarClient
from edgar_ingest.progress import Progress
from edgar_ingest.settings import Settings, normalise_database_url
from edgar_ingest.store import Store
from edgar_ingest.watch import FEED_FETCH_ATTEMPTS, Watcher, WatchOptions, watch_summary

ET = ZoneInfo("America/New_York")
USER_AGENT = "edgar_ingest tests tests@example.com"


class ShiftedClock:
    """The wall clock moved to ``start`` (then running at real speed); ``jump`` moves it on."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def jump(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta


@dataclass
class Running:
    """A watcher running in a thread, its output, and the means to stop it."""

    watcher: Watcher
    store: Store
    out: io.StringIO
    log: io.StringIO
    stop: threading.Event
    thread: threading.Thread
    result: list[bool] = field(default_factory=list)

    def finish(self, timeout: float = 30) -> None:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the watcher did not stop"


@pytest.fixture
def server() -> Iterator[FakeEdgar]:
    with FakeEdgar() as fake:
        yield fake


def make_watcher(
    server: FakeEdgar,
    database_url: str,
    *,
    clock: Callable[[], datetime] | None = None,
    checkpoint: date | None = None,
    block_pause_s: float = 1.0,
    max_rps: float = 10.0,
    **options: Any,
) -> tuple[Watcher, Store, io.StringIO, io.StringIO, threading.Event]:
    settings = Settings(
        database_url=normalise_database_url(database_url),
        user_agent=USER_AGENT,
        base_url=server.url,
        data_url=server.url,
        block_pause_s=block_pause_s,
        max_rps=max_rps,
    )
    store = Store.from_url(settings.database_url)
    now = (clock or (lambda: datetime.now(UTC)))()
    # No catch-up walk unless a test asks for one: the checkpoint is today (US/Eastern).
    store.set_checkpoint(checkpoint or now.astimezone(ET).date())
    new_client = partial(
        EdgarClient, settings, backoff_initial_s=0.01, backoff_max_s=0.05, backoff_jitter_s=0.0
    )
    out, log = io.StringIO(), io.StringIO()
    stop = threading.Event()
    opts = WatchOptions(**{"interval_s": 0.2, "block_pause_s": block_pause_s, **options})
    watcher = Watcher(
        store,
        new_client,
        Progress(stream=log, is_tty=False),
        out,
        opts,
        clock=clock or (lambda: datetime.now(UTC)),
        stop=stop,
    )
    return watcher, store, out, log, stop


def start(server: FakeEdgar, database_url: str, **kw: Any) -> Running:
    watcher, store, out, log, stop = make_watcher(server, database_url, **kw)
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(watcher.run()), name="watcher", daemon=True)
    running = Running(watcher, store, out, log, stop, thread, result)
    thread.start()
    return running


def wait_for(condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stored(database_url: str) -> list[str]:
    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            return sorted(
                conn.scalars(
                    sa.text("SELECT accession_number FROM offering_versions ORDER BY accession_number")
                )
            )
    finally:
        engine.dispose()


def runs(store: Store, command: str = "watch") -> list[tuple[str, str | None]]:
    """(status, message) of the runs of ``command``, oldest first."""
    return [(r.status, r.message) for r in reversed(store.last_runs(1000)) if r.command == command]


def spec(n: int, *, accepted: datetime | None = None, form: str = "D", **kw: Any) -> FilingSpec:
    accepted = accepted or datetime.now(ET) - timedelta(seconds=30)
    return FilingSpec(
        accession=f"0001800{n:03d}-24-{n:06d}",
        cik=str(1800000 + n),
        name=f"Watched Issuer {n} LP",
        form=form,
        file_number=f"021-50{n:04d}",
        filed=accepted.date(),
        accepted_at=accepted.replace(tzinfo=None),  # the header's wall time, US/Eastern
        total_sold=str(100_000 * n),
        **kw,
    )


def publish(server: FakeEdgar, *specs: FilingSpec, serve: bool = True) -> None:
    """Serve each filing (unless not ``serve``) and list it in the feed (once per filer)."""
    items = []
    for s in specs:
        if serve:
            server.add(s.path, full_submission(s))
        accepted = s.accepted_at.replace(tzinfo=ET)
        items.append(FeedItem(s.accession, s.cik, s.name, accepted, form=s.form, filed=s.filed))
        for co in s.co_issuer_ciks:
            if serve:
                server.add(f"/Archives/edgar/data/{int(co)}/{s.accession}.txt", full_submission(s))
            items.append(
                FeedItem(s.accession, co, f"Co-Issuer {co} LP", accepted, form=s.form, filed=s.filed)
            )
    server.add_feed_entries(items)


def decoy(server: FakeEdgar, n: int, form: str) -> str:
    """A feed entry of another form whose document EDGAR would serve: it must never be fetched."""
    accession = f"0000320{n:03d}-24-{n:06d}"
    path = f"/Archives/edgar/data/320193/{accession}.txt"
    server.add(path, b"<SEC-DOCUMENT>not a Form D</SEC-DOCUMENT>")
    server.add_feed_entries(
        [FeedItem(accession, 320193, "APPLE INC", datetime.now(ET) - timedelta(seconds=n), form=form)]
    )
    return path


# --------------------------------------------------------------------------- polls


def test_new_filings_are_stored_as_the_feed_lists_them_and_decoy_forms_are_never_fetched(
    server: FakeEdgar, database_url: str
) -> None:
    decoys = [decoy(server, n, form) for n, form in enumerate(["DEF 14A", "DEFA14A", "DRS"], 1)]
    publish(server, spec(1), spec(2, form="D/A", previous_accession="0001800001-24-000001"))
    running = start(server, database_url)
    try:
        wait_for(lambda: len(stored(database_url)) == 2, what="the first two filings")
        publish(server, spec(3))  # the feed changes while the watcher runs
        decoys.append(decoy(server, 4, "DEF 14A"))
        wait_for(lambda: len(stored(database_url)) == 3, what="the filing added later")
    finally:
        running.finish()

    assert stored(database_url) == [f"0001800{n:03d}-24-{n:06d}" for n in (1, 2, 3)]
    assert [server.count(path) for path in decoys] == [0, 0, 0, 0]
    lines = running.out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(
        "D 0001800001-24-000001 Watched Issuer 1 LP: sold $100,000 of $10,000,000 offered"
    )
    assert lines[1].startswith("D/A 0001800002-24-000002 Watched Issuer 2 LP: sold $200,000 of $10,000,000")
    assert running.result == [True]
    completed = [m for status, m in runs(running.store) if status == "completed" and m and "new from" in m]
    assert completed[0].startswith("2 new from the feed (1 page): 0001800001-24-000001")


def test_a_co_issued_filing_listed_once_per_filer_is_fetched_once(server: FakeEdgar, tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    co_issued = spec(1, co_issuer_ciks=("1999001", "1999002"))
    publish(server, co_issued, spec(2))
    running = start(server, url)
    try:
        wait_for(lambda: len(stored(url)) == 2, what="both filings")
        time.sleep(0.5)  # a few more polls
    finally:
        running.finish()

    paths = [co_issued.path] + [
        f"/Archives/edgar/data/{c}/{co_issued.accession}.txt" for c in ("1999001", "1999002")
    ]
    assert sum(server.count(p) for p in paths) == 1
    assert server.count(co_issued.path) == 1  # under the first filer listed
    assert len(running.out.getvalue().splitlines()) == 2


def test_a_poll_pages_until_it_meets_a_stored_filing_and_costs_one_request_when_nothing_is_new(
    server: FakeEdgar, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    base = datetime.now(ET) - timedelta(minutes=30)
    publish(server, *[spec(n, accepted=base + timedelta(seconds=n)) for n in range(1, 13)])
    running = start(server, url, page_size=5)
    try:
        wait_for(lambda: len(stored(url)) == 12, what="the first 12 filings")
        before = len(server.feed_requests())
        publish(server, *[spec(n, accepted=base + timedelta(seconds=n)) for n in range(13, 20)])
        wait_for(lambda: len(stored(url)) == 19, what="7 more filings")
        wait_for(lambda: server.feed_requests()[-3:] == [0, 0, 0], what="idle polls")
    finally:
        running.finish()

    requests = server.feed_requests()
    # 12 entries, 5 a page: pages at 0, 5 and 10 (the last one short: the end of the feed); then
    # every poll found its first page's filings stored: one request each.
    assert requests[:3] == [0, 5, 10]
    assert set(requests[3:before]) <= {0}
    # 7 new on top of the 12 stored: one poll read page 0 (5 new) and page 5 (2 new, 3 stored:
    # stop there); every other poll read its first page only.
    assert [start for start in requests[before:] if start != 0] == [5]


def test_a_poll_reads_at_most_max_pages_and_the_rest_is_left_to_the_catch_up(
    server: FakeEdgar, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    base = datetime.now(ET) - timedelta(minutes=30)
    publish(server, *[spec(n, accepted=base + timedelta(seconds=n)) for n in range(1, 21)])
    running = start(server, url, page_size=4, max_pages=3)
    try:
        wait_for(lambda: len(stored(url)) == 12, what="three pages of filings")
        time.sleep(0.6)
    finally:
        running.finish()

    # The 12 newest (three pages of 4); the 8 oldest are never reached by a poll.
    assert stored(url) == [f"0001800{n:03d}-24-{n:06d}" for n in range(9, 21)]
    assert server.feed_requests()[:4] == [0, 4, 8, 0]


def test_a_feed_error_in_one_poll_is_recorded_and_the_next_poll_goes_on(
    server: FakeEdgar, database_url: str
) -> None:
    server.inject(FEED_PATH, ["503"] * 6)  # every attempt of the first poll
    publish(server, spec(1))
    running = start(server, database_url)
    try:
        wait_for(lambda: stored(database_url) == ["0001800001-24-000001"], what="the filing")
    finally:
        running.finish()

    ledger = runs(running.store)
    assert ledger[0][0] == "failed"
    assert "feed could not be read" in (ledger[0][1] or "")
    assert "503" in (ledger[0][1] or "")
    assert ledger[1][0] == "completed"
    assert running.result == [False]  # a poll failed (what --once reports), yet it went on


def test_a_block_page_pauses_the_poll_then_it_completes(server: FakeEdgar, tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    server.inject(FEED_PATH, ["block403"])
    publish(server, spec(1))
    running = start(server, url, block_pause_s=1.0)
    try:
        wait_for(lambda: len(stored(url)) == 1, what="the filing")
    finally:
        running.finish()

    times = [r.time for r in server.requests]
    blocked_at = next(r.time for r in server.requests if r.answer == "block403")
    assert min(t for t in times if t > blocked_at) - blocked_at >= 1.0, "nothing is sent during the pause"
    first = running.store.last_runs(200)[-1]
    assert first.command == "watch"
    assert first.status == "completed"
    assert first.counts["block_pauses"] == 1


def test_blocks_in_a_row_fail_the_poll_and_the_watcher_keeps_quiet_for_a_pause_then_resumes(
    server: FakeEdgar, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    server.inject(FEED_PATH, ["block403"] * 3)
    publish(server, spec(1))
    running = start(server, url, block_pause_s=0.5)
    try:
        wait_for(lambda: len(stored(url)) == 1, what="the filing after the blocks")
    finally:
        running.finish()

    answers = [r.answer for r in server.requests if r.path == FEED_PATH]
    assert answers[:4] == ["block403", "block403", "block403", "ok"]
    feed_times = [r.time for r in server.requests if r.path == FEED_PATH]
    assert feed_times[3] - feed_times[2] >= 0.5
    ledger = runs(running.store)
    assert ledger[0][0] == "failed"
    assert "rate-limited" in (ledger[0][1] or "")


def test_a_filing_the_feed_lists_but_edgar_does_not_serve_is_tried_a_few_polls_then_left(
    server: FakeEdgar, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    missing = spec(1)
    publish(server, missing, serve=False)  # listed, but EDGAR answers AccessDenied for it
    publish(server, spec(2))
    running = start(server, url)
    try:
        wait_for(lambda: len(server.feed_requests()) >= FEED_FETCH_ATTEMPTS + 5, what="several polls")
    finally:
        running.finish()

    assert server.count(missing.path) == FEED_FETCH_ATTEMPTS
    assert stored(url) == ["0001800002-24-000002"]


# --------------------------------------------------------------------------- latency and status


def test_each_filing_from_the_feed_keeps_its_delay_and_status_shows_the_last_days(
    server: FakeEdgar, database_url: str
) -> None:
    now = datetime.now(ET)
    publish(
        server, spec(1, accepted=now - timedelta(seconds=40)), spec(2, accepted=now - timedelta(seconds=20))
    )
    running = start(server, database_url)
    try:
        wait_for(lambda: len(stored(database_url)) == 2, what="both filings")
    finally:
        running.finish()

    summary = watch_summary(running.store, datetime.now(UTC))
    assert summary.feed_filings == 2
    assert summary.max_delay_s is not None
    assert summary.median_delay_s is not None
    assert 40 <= summary.max_delay_s < 60
    assert 30 <= summary.median_delay_s < 50  # the median of ~20 and ~40 s
    assert summary.last_poll_ok_at is not None
    assert summary.watcher is None  # it stopped
    # A day later they are out of the window.
    assert watch_summary(running.store, datetime.now(UTC) + timedelta(days=1, minutes=1)).feed_filings == 0


def test_the_json_log_line_of_a_filing_writes_amounts_as_strings(server: FakeEdgar, tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    publish(server, spec(7, total_offering="Indefinite"))
    running = start(server, url, log_format="json")
    try:
        wait_for(lambda: len(stored(url)) == 1, what="the filing")
    finally:
        running.finish()

    line = json.loads(running.out.getvalue().splitlines()[0])
    assert line["event"] == "filing"
    assert line["accession_number"] == "0001800007-24-000007"
    assert line["form"] == "D"
    assert line["issuer_name"] == "Watched Issuer 7 LP"
    assert line["total_amount_sold"] == "700000"
    assert line["total_offering_amount"] == "Indefinite"
    assert 25 <= line["delay_s"] < 60


# --------------------------------------------------------------------------- catch-up


def day_index(server: FakeEdgar, day: date, *specs: FilingSpec) -> None:
    rows = master_index_rows(list(specs))
    rows.append(("320193", "APPLE INC", "DEF 14A", f"{day:%Y%m%d}", "edgar/data/320193/x.txt"))
    server.add_daily_index(day, master_index(rows, day=day))


def test_on_start_the_catch_up_fills_a_day_the_feed_missed_without_fetching_feed_filings_again(
    server: FakeEdgar, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    day = date(2024, 1, 3)
    clock = ShiftedClock(datetime(2024, 1, 3, 23, 0, tzinfo=ET))
    seen = spec(1, accepted=datetime(2024, 1, 3, 16, 0, tzinfo=ET))
    missed = [spec(n, accepted=datetime(2024, 1, 3, 10 + n, 0, tzinfo=ET)) for n in (2, 3)]
    publish(server, seen)  # the feed had an outage: it lists only the last filing of the day
    for s in missed:
        server.add(s.path, full_submission(s))
    day_index(server, day, seen, *missed)
    watcher, store, _out, log, _stop = make_watcher(
        server, url, clock=clock, checkpoint=date(2024, 1, 2), once=True
    )

    assert watcher.run() is True

    assert stored(url) == sorted(s.accession for s in [seen, *missed])
    assert server.count(seen.path) == 1, "the catch-up does not fetch what the feed brought in"
    assert server.count("/Archives/edgar/data/320193/x.txt") == 0
    assert store.get_checkpoint() == day
    catch_up = runs(store, "catch-up")
    assert catch_up == [("completed", "checkpoint 2024-01-03")]
    assert '"day": "2024-01-03"' in log.getvalue() or "day day=2024-01-03" in log.getvalue()


def test_the_evening_catch_up_runs_after_2230_et_and_moves_the_checkpoint_like_sync(
    server: FakeEdgar, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    today = date(2024, 1, 4)
    clock = ShiftedClock(datetime(2024, 1, 4, 22, 0, tzinfo=ET))
    server.add_feed_entries([])  # a quiet feed
    running = start(server, url, clock=clock, checkpoint=date(2024, 1, 3))
    index = f"/Archives/edgar/daily-index/2024/QTR1/master.{today:%Y%m%d}.idx"
    try:
        # On start: today's index is not built yet (absent), so the checkpoint stays.
        wait_for(
            lambda: [s for s, _ in runs(running.store, "catch-up")] == ["completed"],
            what="the start-up catch-up",
        )
        assert running.store.get_checkpoint() == date(2024, 1, 3)
        evening = spec(5, accepted=datetime(2024, 1, 4, 15, 0, tzinfo=ET))
        server.add(evening.path, full_submission(evening))
        day_index(server, today, evening)  # built at ~22:00
        time.sleep(0.5)
        assert server.count(index) == 1, "no second catch-up before 22:30"
        clock.jump(timedelta(minutes=31))
        wait_for(
            lambda: [s for s, _ in runs(running.store, "catch-up")] == ["completed"] * 2,
            what="the evening catch-up",
        )
    finally:
        running.finish()

    assert stored(url) == [evening.accession]
    assert running.store.get_checkpoint() == today
    assert server.count(index) == 2


def test_polls_and_the_catch_up_share_one_limiter_and_never_exceed_the_rate(
    server: FakeEdgar, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    day = date(2024, 1, 3)
    clock = ShiftedClock(datetime(2024, 1, 3, 23, 0, tzinfo=ET))
    server.latency = 0.02
    from_feed = [spec(n, accepted=datetime(2024, 1, 3, 16, n, tzinfo=ET)) for n in range(1, 16)]
    from_index = [spec(n, accepted=datetime(2024, 1, 3, 9, n, tzinfo=ET)) for n in range(20, 35)]
    publish(server, *from_feed)
    for s in from_index:
        server.add(s.path, full_submission(s))
    day_index(server, day, *from_feed, *from_index)
    watcher, _store, _out, _log, _stop = make_watcher(
        server, url, clock=clock, checkpoint=date(2024, 1, 2), once=True, max_rps=5.0
    )

    assert watcher.run() is True

    assert len(stored(url)) == 30
    assert server.count() >= 32  # the feed, the index and 30 filings
    assert server.max_requests_in_any_sliding_second() <= 5


def test_a_catch_up_that_finds_no_index_where_edgar_surely_has_one_fails_like_sync(
    server: FakeEdgar, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    clock = ShiftedClock(datetime(2024, 1, 12, 12, 0, tzinfo=ET))
    server.add_feed_entries([])  # the feed answers; no daily index does (a wrong host would not)
    watcher, store, _out, _log, _stop = make_watcher(
        server, url, clock=clock, checkpoint=date(2024, 1, 2), once=True
    )

    assert watcher.run() is False

    [(status, message)] = runs(store, "catch-up")
    assert status == "failed"
    assert "none of the 8 business days from 2024-01-03 to 2024-01-12 has a daily index" in (message or "")
    assert store.get_checkpoint() == date(2024, 1, 2)
