"""Backfill throughput against the fake EDGAR server: wall time vs the rate-limit floor, peak memory.

    python bench/pipeline_bench.py [--count 2000] [--latency 0.1] [--max-rps 10] [--small 500]

Serves ``--count`` distinct Form D filings through one quarterly index from our fake EDGAR server
(``--latency`` seconds added to every answer), runs the real CLI ``edgar-ingest backfill`` into a
fresh SQLite file, and prints wall time, the floor (requests / rate: no client may beat it), their
ratio, and the child's peak RSS. With ``--small N`` it first runs N filings too, so the two peaks
show whether memory grows with the number of filings. Target: ratio <= 1.10, flat memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fake_edgar import FakeEdgar, master_index  # noqa: E402
from formd_builder import FilingSpec, full_submission, master_index_rows  # noqa: E402


def make_specs(count: int) -> list[FilingSpec]:
    start = date(2024, 1, 2)
    return [
        FilingSpec(
            accession=f"0003{n:06d}-24-{n:06d}",
            cik=str(3_000_000 + n),
            name=f"Bench Issuer {n} Inc.",
            file_number=f"021-8{n:05d}",
            filed=start + timedelta(days=n % 88),
            accepted_at=datetime(2024, 1, 2, 9, 0) + timedelta(days=n % 88, seconds=n),
            total_sold=str(1000 * n),
        )
        for n in range(1, count + 1)
    ]


def run(count: int, latency: float, max_rps: float) -> tuple[float, float, int, int]:
    """(wall seconds, floor seconds, peak RSS KiB of the CLI, requests served)."""
    specs = make_specs(count)
    with FakeEdgar(latency=latency) as server, tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            server.add(spec.path, full_submission(spec))
        server.add_quarterly_index(2024, 1, master_index(master_index_rows(specs, quarterly=True)))
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
        env.update(
            EDGAR_INGEST_BASE_URL=server.url,
            EDGAR_INGEST_DATA_URL=server.url,
            EDGAR_INGEST_USER_AGENT="edgar_ingest bench bench@example.com",
            EDGAR_INGEST_DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}",
            EDGAR_INGEST_MAX_RPS=str(max_rps),
            PYTHONPATH=str(REPO),
        )
        cmd = [
            sys.executable,
            "-m",
            "edgar_ingest",
            "backfill",
            "--start",
            "2024-01-01",
            "--end",
            "2024-04-01",
        ]
        subprocess.run([sys.executable, "-m", "edgar_ingest", "db", "upgrade"], env=env, check=True)
        out_path = Path(tmp) / "out.txt"
        with out_path.open("w") as out:
            started = time.perf_counter()
            child = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
            # wait4 gives this child's own rusage, so each run's peak RSS is its own.
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(status)
        output = out_path.read_text()
        if child.returncode != 0:
            raise SystemExit(f"backfill failed ({child.returncode}):\n{output}")
        requests = server.count()
        max_window = server.max_requests_in_any_sliding_second()
        print(f"  {next(line for line in output.splitlines() if line.startswith('backfill'))}")
        print(f"  max requests in any sliding second: {max_window}")
        return wall, requests / max_rps, usage.ru_maxrss, requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--max-rps", type=float, default=10.0)
    parser.add_argument("--small", type=int, default=0, help="also run this many first (memory check)")
    args = parser.parse_args()
    sizes = ([args.small] if args.small else []) + [args.count]
    for count in sizes:
        print(f"backfill of {count} filings, latency {args.latency * 1000:.0f} ms, max-rps {args.max_rps:g}")
        wall, floor, peak_kib, requests = run(count, args.latency, args.max_rps)
        print(f"  requests:  {requests} (filings + 1 index)")
        print(f"  wall time: {wall:8.1f} s")
        print(f"  floor:     {floor:8.1f} s (requests / max-rps)")
        print(f"  ratio:     {wall / floor:8.3f} (target <= 1.10)")
        print(f"  peak RSS of the CLI: {peak_kib / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
