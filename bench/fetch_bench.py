"""Fetch throughput at the SEC's limit against the fake EDGAR server (run by hand, not in CI).

    python bench/fetch_bench.py [--documents 300] [--workers 4] [--latency 0.1] [--max-rps 10]

The fake server answers every request after ``--latency`` seconds and, like the SEC, answers the
block page to any request that puts more than ``--max-rps`` requests in some closed one-second
window. Printed: achieved requests per second, the most requests the server saw in any sliding
second, and block pages seen. Target at max-rps 10: >= 9.0 req/s, max window <= 10, zero blocks.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))  # the fake server lives with the tests

from fake_edgar import FakeEdgar, full_submission  # noqa: E402

from edgar_ingest.fetch import fetch_filing  # noqa: E402
from edgar_ingest.http import EdgarClient  # noqa: E402
from edgar_ingest.records import FilingRef  # noqa: E402
from edgar_ingest.settings import Settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per answer at the server")
    parser.add_argument("--max-rps", type=float, default=10.0)
    args = parser.parse_args(argv)

    with FakeEdgar(latency=args.latency, enforce_rate=args.max_rps) as server:
        refs = []
        for n in range(1, args.documents + 1):
            accession = f"0001900000-24-{n:06d}"
            cik = 1900000 + n
            path = server.add_filing(cik, accession, full_submission(accession, cik, size=6000))
            refs.append(FilingRef(accession, f"{cik:010d}", "D", date(2024, 1, 3), path=path))
        settings = Settings(
            user_agent="edgar_ingest bench bench@example.com",
            base_url=server.url,
            data_url=server.url,
            max_rps=args.max_rps,
        )
        with EdgarClient(settings) as client, ThreadPoolExecutor(args.workers) as pool:
            started = time.monotonic()
            documents = list(pool.map(lambda ref: fetch_filing(client, ref), refs))
            elapsed = time.monotonic() - started
            stats = client.stats.snapshot()
        arrivals = sorted(server.arrival_times())
        fetched = sum(d is not None for d in documents)
        span = arrivals[-1] - arrivals[0]
        print(f"documents fetched        {fetched} of {args.documents} ({args.workers} workers)")
        print(f"server latency           {args.latency * 1000:.0f} ms per answer")
        print(f"requests sent            {stats.requests} (retries {stats.retries})")
        print(f"wall time                {elapsed:.2f} s")
        print(f"achieved rate            {stats.requests / elapsed:.2f} req/s (wall)")
        print(f"rate at the server       {(len(arrivals) - 1) / span:.2f} req/s (first to last arrival)")
        print(
            f"max in any sliding 1 s   {server.max_requests_in_any_sliding_second()} (limit {args.max_rps:g})"
        )
        limit = int(args.max_rps)
        tightest = min(b - a for a, b in zip(arrivals, arrivals[limit:], strict=False))
        print(
            f"tightest {limit + 1} arrivals     span {tightest:.3f} s (> 1 s; the excess is jitter headroom)"
        )
        print(f"block pages seen         {server.block_pages_served} (client pauses {stats.block_pauses})")
        ok = (
            fetched == args.documents
            and stats.requests / elapsed >= 0.9 * args.max_rps
            and server.max_requests_in_any_sliding_second() <= args.max_rps
            and server.block_pages_served == 0
        )
        print("target met" if ok else "TARGET MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
