"""The real client against the fake EDGAR server on 127.0.0.1: real sockets, real (short) time."""

from __future__ import annotations

import gc
import gzip
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

import httpx
import pytest
from fake_edgar import FakeEdgar, full_submission, master_index

from edgar_ingest.discover import daily_index_path, list_cik, list_day, list_quarter
from edgar_ingest.errors import UndeclaredUserAgentError
from edgar_ingest.fetch import fetch_filing
from edgar_ingest.http import EdgarClient
from edgar_ingest.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
ACCESSION = "0001800001-24-000001"
DAY = date(2024, 1, 3)


@pytest.fixture
def server() -> Iterator[FakeEdgar]:
    # Enforcing the SEC's limit makes "no block page seen" a real check on the client's pacing.
    # The server runs in this process, so a garbage collection stops it with the client: late in
    # the suite a full collection takes ~170 ms, and a request let through just before one was
    # stamped by the server 146 ms late, right beside the next, putting 11 arrivals in a second.
    # The SEC's clock does not stop for our collections: collect first, and none during the test.
    gc.collect()
    gc.disable()
    try:
        with FakeEdgar(enforce_rate=10) as server:
            yield server
    finally:
        gc.enable()


def make_client(server: FakeEdgar, **kwargs: object) -> EdgarClient:
    settings = Settings(
        user_agent="Acme Research data@acme.example",
        base_url=server.url,
        data_url=server.url,
        max_rps=10,
        block_pause_s=1.0,
    )
    options: dict[str, object] = {
        "backoff_initial_s": 0.05,
        "backoff_jitter_s": 0.05,
        "timeout": httpx.Timeout(2.0, read=0.4),
        "recovery_s": 1.0,
    }
    options.update(kwargs)
    return EdgarClient(settings, **options)  # type: ignore[arg-type]


def filing_path(server: FakeEdgar, n: int = 1) -> str:
    accession = f"0001800001-24-{n:06d}"
    return server.add_filing(1800001, accession, full_submission(accession, 1800001))


def test_serves_files_gzip_encoded_and_answers_missing_ones_like_s3(server: FakeEdgar) -> None:
    path = filing_path(server)
    with make_client(server) as client:
        response = client.get(client.archive_url(path))
        assert response is not None
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.content == full_submission(ACCESSION, 1800001)
        assert client.get(client.archive_url("/Archives/edgar/data/1/nope.txt")) is None
    first, missing = server.requests
    assert first.headers["User-Agent"] == "Acme Research data@acme.example"
    assert first.headers["Accept-Encoding"] == "gzip, deflate"
    assert missing.answer == "ok"  # no fault: the plain 403 AccessDenied of a missing key


def test_missing_files_can_answer_404_like_some_mirrors() -> None:
    with FakeEdgar(missing_status=404) as server, make_client(server) as client:
        assert client.get(client.archive_url("/Archives/nope.txt")) is None


@pytest.mark.parametrize(
    "fault", ["503", "500:1", "429:1", "reset", "truncate", "cut", "slow:0.8", "block403", "block429"]
)
def test_each_fault_is_recovered(server: FakeEdgar, fault: str) -> None:
    path = filing_path(server)
    server.inject(path, [fault])
    ref_day = server.add_daily_index(DAY, master_index([(1800001, "ALPHA", "D", "20240103", path[10:])]))
    del ref_day
    started = time.monotonic()
    with make_client(server) as client:
        refs = list_day(client, DAY)
        assert refs is not None
        raw = fetch_filing(client, refs[0])
    assert raw is not None
    assert raw.content == full_submission(ACCESSION, 1800001)
    answers = [r.answer for r in server.requests if r.path == path]
    assert answers == [fault, "ok"]
    assert server.block_pages_served == (1 if fault.startswith("block") else 0)
    stats = client.stats.snapshot()
    assert (stats.requests, stats.retries) == (3, 1)
    assert stats.block_pauses == (1 if fault.startswith("block") else 0)
    elapsed = time.monotonic() - started
    if fault.startswith("block"):
        blocked, retried = server.arrival_times(path)
        assert retried - blocked >= 1.0  # settings.block_pause_s
    if fault.endswith(":1"):
        blocked, retried = server.arrival_times(path)
        assert retried - blocked >= 1.0  # Retry-After
    assert elapsed < 3


def test_undeclared_user_agent_page_stops_without_retrying(server: FakeEdgar) -> None:
    path = filing_path(server)
    server.inject(path, ["ua403"])
    with make_client(server) as client, pytest.raises(UndeclaredUserAgentError):
        client.get(client.archive_url(path))
    assert server.count() == 1


def test_the_limit_holds_at_the_server_with_threads_and_faults(server: FakeEdgar) -> None:
    """30 documents, 4 threads, retries included: never more than 10 in any second, >= 9 req/s."""
    server.latency = 0.05
    paths = [filing_path(server, n) for n in range(1, 31)]
    for path in paths[::6]:
        server.inject(path, ["503"])
    # A generous read timeout: on a loaded machine a 0.4 s one can expire and add a retry, which
    # is right for the client but not what this test counts.
    timeout = httpx.Timeout(5.0)
    with make_client(server, backoff_initial_s=0.0, backoff_jitter_s=0.0, timeout=timeout) as client:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda p: client.get(client.archive_url(p)), paths))
        assert all(r is not None for r in results)
    times = sorted(server.arrival_times())
    assert len(times) == 35
    assert server.max_requests_in_any_sliding_second() <= 10
    assert (len(times) - 1) / (times[-1] - times[0]) >= 9.0
    assert server.block_pages_served == 0


def test_a_block_pause_silences_every_thread(server: FakeEdgar) -> None:
    paths = [filing_path(server, n) for n in range(1, 13)]
    server.inject(paths[3], ["block403"])
    with make_client(server, recovery_s=30) as client, ThreadPoolExecutor(4) as pool:
        assert all(pool.map(lambda p: client.get(client.archive_url(p)) is not None, paths))
        assert client.stats.snapshot().block_pauses == 1
        assert client.limiter.rate == 5  # still in the slow period
    blocked = next(r.time for r in server.requests if r.answer == "block403")
    during = [r for r in server.requests if blocked < r.time < blocked + 1.0]
    assert during == []
    # Afterwards at half the rate: 0.21 s apart (0.105 at the full rate), give or take jitter.
    after = [t for t in server.arrival_times() if t > blocked]
    assert len(after) >= 9
    gaps = [b - a for a, b in itertools.pairwise(after)]
    assert min(gaps) >= 0.17
    assert sum(gaps) / len(gaps) == pytest.approx(0.21, abs=0.01)


def test_the_server_enforces_the_limit_on_a_client_that_bursts(server: FakeEdgar) -> None:
    path = filing_path(server)
    with httpx.Client() as naive:
        answers = [naive.get(server.url + path).status_code for _ in range(15)]
    assert answers[:10] == [200] * 10
    assert 403 in answers[10:]
    assert server.block_pages_served >= 1


def test_discovery_end_to_end(server: FakeEdgar) -> None:
    quarter_rows = [(1800001, "ALPHA", "D", "2024-01-03", f"edgar/data/1800001/{ACCESSION}.txt")]
    server.add_quarterly_index(2024, 1, master_index(quarter_rows))
    server.add_submissions(
        1800001,
        {
            "name": "ALPHA",
            "filings": {
                "recent": {
                    "accessionNumber": [ACCESSION],
                    "form": ["D"],
                    "filingDate": ["2024-01-03"],
                    "primaryDocument": ["xslFormDX01/primary_doc.xml"],
                },
                "files": [],
            },
        },
    )
    with make_client(server) as client:
        quarter = list_quarter(client, 2024, 1)
        by_cik = list_cik(client, 1800001)
        absent_day = list_day(client, date(2024, 1, 6))
    assert quarter is not None
    assert [r.accession_number for r in quarter] == [ACCESSION]
    assert [(r.accession_number, r.primary_document) for r in by_cik] == [(ACCESSION, "primary_doc.xml")]
    assert absent_day is None
    assert server.requests[-1].path == daily_index_path(date(2024, 1, 6))


def test_runs_as_a_subprocess_serving_a_folder(tmp_path: Path) -> None:
    index = tmp_path / daily_index_path(DAY).lstrip("/")
    index.parent.mkdir(parents=True)
    rows = [(1800001, "ALPHA", "D", "20240103", f"edgar/data/1800001/{ACCESSION}.txt")]
    index.write_bytes(master_index(rows))
    (tmp_path / "index.gz").write_bytes(gzip.compress(b"x"))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_edgar", "--port", "0", "--root", str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        settings = Settings(user_agent="Acme data@acme.example", base_url=url, data_url=url)
        with EdgarClient(settings) as client:
            refs = list_day(client, DAY)
        assert refs is not None
        assert [r.accession_number for r in refs] == [ACCESSION]
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "served 1 requests" in err


def test_settings_point_both_hosts_at_the_server(server: FakeEdgar) -> None:
    settings = Settings.from_env({"EDGAR_INGEST_BASE_URL": server.url, "EDGAR_INGEST_DATA_URL": server.url})
    settings = replace(settings, user_agent="Acme data@acme.example")
    with EdgarClient(settings) as client:
        assert client.archive_url("/Archives/x") == server.url + "/Archives/x"
        assert client.data_url("/submissions/x") == server.url + "/submissions/x"
