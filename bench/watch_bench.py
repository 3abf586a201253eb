"""Detection delay of ``edgar-ingest watch`` against the fake EDGAR: filings arriving in the feed.

    python bench/watch_bench.py [--count 200] [--over 120] [--interval 10] [--latency 0.1]

Starts our fake EDGAR server (``--latency`` seconds added to every answer) and the real CLI
``edgar-ingest watch --interval N`` on a fresh SQLite file. Once the watcher's start-up catch-up
is done, ``--count`` filings arrive over ``--over`` seconds, evenly spaced: each one is served and
added to the top of the latest-filings feed, accepted at its arrival time. After the last one is
stored the watcher runs ``--idle-polls`` more polls with nothing new, then gets SIGTERM.

Prints the detection delay of each filing (arrival in the feed -> its row stored, from the
``filings`` table), median and maximum (target: max <= interval + 5 s), the requests a poll
costs when nothing is new (target: 1), the most requests in any sliding second, and the
watcher's exit code (target: 0).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fake_edgar import FEED_PATH, FakeEdgar, FeedItem, master_index  # noqa: E402
from formd_builder import FilingSpec, full_submission  # noqa: E402

from edgar_ingest.store import Store  # noqa: E402

ET = ZoneInfo("America/New_York")


def spec(n: int, accepted: datetime) -> FilingSpec:
    return FilingSpec(
        accession=f"0004{n:06d}-26-{n:06d}",
        cik=str(4_000_000 + n),
        name=f"Bench Watch Issuer {n} LP",
        file_number=f"021-9{n:05d}",
        filed=accepted.date(),
        accepted_at=accepted.replace(tzinfo=None),
        total_sold=str(1000 * n),
    )


def is_poll(path: str, query: str) -> bool:
    """The first request of a poll: the feed's first page."""
    return path == FEED_PATH and "&start=0&" in query


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="filings arriving (default 200)")
    parser.add_argument("--over", type=float, default=120.0, help="seconds they arrive over (default 120)")
    parser.add_argument("--interval", type=float, default=10.0, help="watch --interval (default 10)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every answer")
    parser.add_argument("--idle-polls", type=int, default=5, help="polls with nothing new to count")
    args = parser.parse_args()

    with FakeEdgar(latency=args.latency) as server, tempfile.TemporaryDirectory() as tmp:
        server.add_feed_entries([])
        today = datetime.now(ET).date()
        for back in range(15):  # the last two weeks' daily indexes (empty): the start-up catch-up
            day = today - timedelta(days=back)
            server.add_daily_index(day, master_index([], day=day))
        url = f"sqlite:///{Path(tmp) / 'watch.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
        env.update(
            EDGAR_INGEST_BASE_URL=server.url,
            EDGAR_INGEST_DATA_URL=server.url,
            EDGAR_INGEST_USER_AGENT="edgar_ingest bench bench@example.com",
            EDGAR_INGEST_DATABASE_URL=url,
            PYTHONPATH=str(REPO),
        )
        log = (Path(tmp) / "watch.log").open("w")
        watcher = subprocess.Popen(
            [sys.executable, "-m", "edgar_ingest", "watch", "--interval", str(args.interval)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # The start-up catch-up walks the last week's (absent) daily indexes first.
            wait_until(lambda: "catch-up status=completed" in Path(log.name).read_text(), 60, "the catch-up")
            arrived: dict[str, datetime] = {}
            started = time.monotonic()
            for n in range(1, args.count + 1):
                time.sleep(max(0.0, started + (n - 1) * args.over / args.count - time.monotonic()))
                now = datetime.now(UTC)
                filing = spec(n, now.astimezone(ET))
                server.add(filing.path, full_submission(filing))
                server.add_feed_entries([FeedItem(filing.accession, filing.cik, filing.name, now)])
                arrived[filing.accession] = now
            store = Store.from_url(url, migrate=False)
            wait_until(
                lambda: len(store.stored_filings(arrived)) == len(arrived), args.interval + 60, "every filing"
            )
            idle_from = len(server.requests)
            polls_before = server.feed_requests().count(0)
            wait_until(
                lambda: server.feed_requests().count(0) - polls_before >= args.idle_polls + 1,
                (args.idle_polls + 2) * args.interval,
                "idle polls",
            )
            stored = store.stored_filings(arrived)
            store.close()
        finally:
            watcher.send_signal(signal.SIGTERM)
            code = watcher.wait(60)
            log.close()

        # From the first poll that started after every filing was stored.
        idle = server.requests[idle_from:]
        idle = idle[next(i for i, r in enumerate(idle) if is_poll(r.path, r.query)) :]
        idle_polls = sum(1 for r in idle if is_poll(r.path, r.query))
        delays = sorted((stored[a].stored_at - t).total_seconds() for a, t in arrived.items())
        print(
            f"watch --interval {args.interval:g} against the fake EDGAR "
            f"(latency {args.latency * 1000:.0f} ms): {args.count} filings over {args.over:g} s"
        )
        print(f"  stored:                      {len(stored)}/{args.count}")
        print(f"  detection delay median:      {statistics.median(delays):6.1f} s")
        print(f"  detection delay p90:         {delays[int(0.9 * (len(delays) - 1))]:6.1f} s")
        print(
            f"  detection delay max:         {delays[-1]:6.1f} s "
            f"(target <= interval + 5 = {args.interval + 5:g} s)"
        )
        print(
            f"  requests per poll, nothing new: {len(idle) / idle_polls:.2f} "
            f"over {idle_polls} polls (target 1)"
        )
        print(f"  feed requests in all:        {len(server.feed_requests())}")
        print(f"  max requests in any sliding second: {server.max_requests_in_any_sliding_second()}")
        print(f"  watcher exit code after SIGTERM: {code} (target 0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
