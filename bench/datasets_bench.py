"""Data-set load speed: a synthetic quarter archive read and stored into SQLite and PostgreSQL.

    python bench/datasets_bench.py [--count 60000] [--repeat N] [--postgres-url URL]

Builds one archive in the SEC's 2026 column layout (``tests/dataset_builder.py``, filings varied
from the project's fixtures by ``datasets_parse_bench.synthetic_filings``: issuers, related
persons, relationships, recipients, exemptions and signatures drawn from the counts of real
filings, ~9 rows a filing across the six tables, ~16 child rows once stored), then, for each
database, loads it in a fresh child process and a fresh database exactly as
``backfill --source datasets`` does after the download (the archive kept as a raw document, every
row read by ``datasets`` and prepared by the worker process of ``bulk.archive_worker``, stored a
batch at a time by ``bulk.load_archive_rows``), then loads it again (every filing unchanged, as a
rerun after a crash does). Before the loads it runs the worker alone, its batches dropped: the
rate of reading and preparing with no database, which no load can beat. Prints filings per second
of the three, the load's rate over the read's (the share of the floor that the writing leaves;
a slower or busier machine moves both rates, much less their ratio) and the peak RSS of the
loading process plus that of its largest worker (a sum: the two peaks need not coincide). The target
of issue 9 is 5,000 filings/s on both databases (the whole history, ~0.9M filings, in under
5 minutes after download) and under 300 MB RSS on a 60,000-filing quarter. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

from _common import fresh_store, peak_rss_mb, run_child  # noqa: E402
from datasets_parse_bench import synthetic_filings  # noqa: E402

from edgar_ingest.bulk import archive_worker, load_archive_rows  # noqa: E402
from edgar_ingest.records import DatasetArchiveRef, RawDocument, RunCounts  # noqa: E402
from tests.dataset_builder import write_dataset_archive  # noqa: E402

QUARTER = (date(2024, 1, 1), date(2024, 4, 1))


def child(database: str, archive: Path, postgres_url: str | None) -> dict[str, float]:
    """Load the archive twice into a fresh database; returns rates and peak RSS."""
    result: dict[str, float] = {}
    with fresh_store(database, postgres_url) as store:
        content = archive.read_bytes()
        ref = DatasetArchiveRef(
            url=f"https://bench.invalid/{archive.name}", name=archive.name, year=2024, quarter=1
        )
        raw = RawDocument.of(content, ref.url, datetime.now(UTC))
        del content
        # The floor of a load in this same minute of this machine: the worker alone, its batches
        # taken off the pipe and dropped (no database). A load's rate over this one is a ratio
        # that a shared machine's noisy CPU moves much less than either rate.
        start = time.perf_counter()
        read = 0
        with archive_worker(store, archive, archive.name, *QUARTER, raw.sha256) as worker:
            for items in worker.batches(read_ahead=store.dialect == "postgresql"):
                read += len(items)
        result["read_per_s"] = read / (time.perf_counter() - start)
        for label in ("load", "reload"):
            counts = RunCounts()
            start = time.perf_counter()
            # As a backfill does: the worker starts reading while the archive's bytes are stored.
            with archive_worker(store, archive, archive.name, *QUARTER, raw.sha256) as worker:
                load = store.begin_dataset_load(ref, raw, *QUARTER, size_bytes=len(raw.content))
                read = load_archive_rows(store, load, archive, counts, worker=worker)
            store.finish_dataset_load(load.id, filing_count=read, counts={"inserted": counts.inserted})
            elapsed = time.perf_counter() - start
            if counts.failed:
                raise SystemExit(f"{label}: {counts.failed} failed, e.g. {counts.failures[:3]}")
            result["count"] = read
            result[f"{label}_per_s"] = read / elapsed
            result[f"{label}_s"] = elapsed
            result[f"{label}_inserted"] = counts.inserted
            result[f"{label}_unchanged"] = counts.unchanged
    result["peak_rss_mb"] = peak_rss_mb()
    # The worker processes that read the archive (ended and waited for): the largest one's peak.
    result["worker_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=60_000, help="filings in the archive (default 60000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per database; median (default 1)")
    parser.add_argument("--postgres-url", default=os.environ.get("EDGAR_INGEST_TEST_POSTGRES_URL"))
    parser.add_argument("--child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    parser.add_argument("--archive", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.archive, args.postgres_url)))
        return
    databases = ["sqlite"] + (["postgresql"] if args.postgres_url else [])
    with tempfile.TemporaryDirectory(prefix="edgar-bench-") as tmp:
        archive = Path(tmp) / "2024q1_d.zip"
        start = time.perf_counter()
        write_dataset_archive(archive, synthetic_filings(args.count), folder="2024Q1_d")
        print(
            f"{args.count} filings in {archive.name} ({archive.stat().st_size / 1e6:.1f} MB zipped, "
            f"built in {time.perf_counter() - start:.1f} s)"
        )
        print(
            f"{'database':<11}{'filings':>8}{'read/s':>9}{'load/s':>9}{'load/read':>10}{'load s':>8}"
            f"{'reload/s':>10}{'peak RSS MB (loader + worker)':>31}"
        )
        runs: dict[str, list[dict[str, float]]] = {database: [] for database in databases}
        for _ in range(args.repeat):
            # Alternated, so that a noisy minute of a shared machine falls on both databases.
            for database in databases:
                r = run_child(__file__, database, args.postgres_url, "--archive", str(archive))
                runs[database].append(r)
                print(
                    f"{database:<11}{int(r['count']):>8}{r['read_per_s']:>9.0f}{r['load_per_s']:>9.0f}"
                    f"{r['load_per_s'] / r['read_per_s']:>10.2f}{r['load_s']:>8.1f}"
                    f"{r['reload_per_s']:>10.0f}"
                    f"{r['peak_rss_mb'] + r['worker_peak_rss_mb']:>13.0f} ({r['peak_rss_mb']:.0f} + "
                    f"{r['worker_peak_rss_mb']:.0f})",
                    flush=True,
                )
        if args.repeat > 1:
            for database, results in runs.items():
                rates = sorted(r["load_per_s"] for r in results)
                ratio = statistics.median(r["load_per_s"] / r["read_per_s"] for r in results)
                print(
                    f"{database}: median load {statistics.median(rates):,.0f}/s "
                    f"(min {rates[0]:,.0f}, max {rates[-1]:,.0f}, {len(rates)} runs), "
                    f"median load/read {ratio:.2f}"
                )


if __name__ == "__main__":
    main()
