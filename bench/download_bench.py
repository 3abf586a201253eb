"""Downloading a data-set archive of tens of MB from the fake EDGAR server (run by hand, not in CI).

    python bench/download_bench.py [--megabytes 40] [--times 3] [--fault corrupt]

Serves one zip archive of ``--megabytes`` MB (a stored member of random bytes, as incompressible
as the SEC's deflated archives) and downloads it ``--times`` times with the real client and the
zip check. ``--fault`` injects one fault before each download (each then takes two attempts).
Printed per download: seconds, MB/s, attempts, and the peak memory traced (the body is streamed
to disk, so it stays near the 1 MiB read buffer of the zip check, not the archive's size). The
server runs in this process: with ``--fault corrupt`` its damaged copy of the body is traced too.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))  # the fake server lives with the tests

import httpx  # noqa: E402
from fake_edgar import FakeEdgar  # noqa: E402

from edgar_ingest.fetch import fetch_dataset_archive  # noqa: E402
from edgar_ingest.http import EdgarClient  # noqa: E402
from edgar_ingest.records import DatasetArchiveRef  # noqa: E402
from edgar_ingest.settings import Settings  # noqa: E402


def archive_of(megabytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("2024Q1_d/FORMDSUBMISSION.tsv", random.Random(1).randbytes(megabytes << 20))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, default=40)
    parser.add_argument("--times", type=int, default=3)
    parser.add_argument("--fault", help="a fake_edgar fault injected before each download")
    args = parser.parse_args(argv)

    content = archive_of(args.megabytes)
    with FakeEdgar() as server, tempfile.TemporaryDirectory() as folder:
        path = server.add_dataset_archive("2024q1_d.zip", content)
        ref = DatasetArchiveRef(url=server.url + path, name="2024q1_d.zip", year=2024, quarter=1)
        settings = Settings(user_agent="Acme Research data@acme.example", base_url=server.url)
        options = {"backoff_initial_s": 0.0, "backoff_jitter_s": 0.0, "timeout": httpx.Timeout(60.0)}
        with EdgarClient(settings, **options) as client:  # type: ignore[arg-type]
            for _ in range(args.times):
                if args.fault:
                    server.inject(path, [args.fault])
                before = client.stats.snapshot().requests
                tracemalloc.start()
                started = time.perf_counter()
                result = fetch_dataset_archive(client, ref, Path(folder))
                elapsed = time.perf_counter() - started
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                assert result is not None
                assert result.size_bytes == len(content)
                attempts = client.stats.snapshot().requests - before
                megabytes = len(content) / 1e6
                print(
                    f"{megabytes:.1f} MB in {elapsed:.2f} s = {megabytes / elapsed:.0f} MB/s, "
                    f"{attempts} attempt(s), peak traced memory {peak / 2**20:.1f} MiB"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
