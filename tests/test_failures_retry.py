"""``failures --retry`` retries each failure the one way that can fix it, and no other.

Stored bytes are parsed again without the network (so without a User-Agent); only a filing that
never arrived from EDGAR is fetched again; a data-set row, a data-set archive or an unreadable
local file is left as it is with one sentence saying why. A retry never adds a failure row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_edgar import FakeEdgar

from edgar_ingest.commands.pipeline import NETWORK_LOCK
from edgar_ingest.commands.retry import DATASET_ARCHIVE, DATASET_ROW, NEEDS_USER_AGENT, UNREAD_LOCAL_FILE
from edgar_ingest.store import Store

REPO_ROOT = Path(__file__).resolve().parent.parent
GOOD = REPO_ROOT / "tests" / "fixtures" / "amendment_chain" / "0001999001-24-000003.txt"
USER_AGENT = "edgar_ingest tests tests@example.com"
ARCHIVE_URL = "https://www.sec.gov/files/dera/data/form-d-data-sets/2024q1_d.zip"


@pytest.fixture
def server() -> Iterator[FakeEdgar]:
    with FakeEdgar() as fake:
        yield fake


def cli(tmp_path: Path, server: FakeEdgar, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI with EDGAR pointed at the fake server (which counts any request) and no User-Agent."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
    base.update(
        PYTHONPATH=str(REPO_ROOT),
        EDGAR_INGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'e.db'}",
        EDGAR_INGEST_BASE_URL=server.url,
        EDGAR_INGEST_DATA_URL=server.url,
        EDGAR_INGEST_BLOCK_PAUSE_S="1",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "edgar_ingest", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=base,
        timeout=120,
    )


def unresolved(tmp_path: Path, server: FakeEdgar) -> list[dict[str, object]]:
    listed = cli(tmp_path, server, "failures", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    failures: list[dict[str, object]] = json.loads(listed.stdout)
    return failures


def ingest_one_bad_and_one_good_file(tmp_path: Path, server: FakeEdgar) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_bytes(GOOD.read_bytes())
    bad = folder / "cut.xml"
    bad.write_bytes(b"<edgarSubmission><submissionType>D</submissionType>")
    ingested = cli(tmp_path, server, "ingest", str(folder))
    assert ingested.returncode == 0, ingested.stderr
    return bad


def test_a_local_file_that_did_not_parse_is_parsed_again_offline_and_stays_one_failure(
    tmp_path: Path, server: FakeEdgar
) -> None:
    bad = ingest_one_bad_and_one_good_file(tmp_path, server)
    [before] = unresolved(tmp_path, server)

    first = cli(tmp_path, server, "failures", "--retry")
    second = cli(tmp_path, server, "failures", "--retry")

    for retried in (first, second):
        assert retried.returncode == 0, retried.stderr
        assert (
            f"still failing: {bad.resolve().as_uri()}: The document is not well-formed XML" in retried.stdout
        )
        assert (
            retried.stdout.splitlines()[-1] == "failures retried: 0 resolved, 1 still failing, 0 not retried"
        )
    assert server.count() == 0, "a local document is never fetched from EDGAR"
    [after] = unresolved(tmp_path, server)
    assert after["id"] == before["id"]
    assert after["attempt_count"] == 3
    assert after["has_raw_document"] is True


def test_failures_with_nothing_to_retry_say_why_and_stay_as_they_are(
    tmp_path: Path, server: FakeEdgar
) -> None:
    assert cli(tmp_path, server, "db", "upgrade").returncode == 0
    store = Store.from_url(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        # As bulk.py records them: a data-set row, an archive that could not be downloaded or read;
        # and as it did before, an archive that could not be downloaded.
        store.record_failure(
            ARCHIVE_URL,
            "2024q1_d.zip OFFERING line 7: bad amount",
            stage="dataset",
            accession_number="0001-24-1",
        )
        store.record_failure(ARCHIVE_URL.replace("q1", "q2"), "GET: 503 after 6 attempts", stage="dataset")
        store.record_failure(ARCHIVE_URL.replace("q1", "q3"), "GET: 503 after 6 attempts", stage="fetch")
        # As offline.py records a local file it could not read.
        unreadable = (tmp_path / "locked.xml").resolve().as_uri()
        store.record_failure(unreadable, "could not be read: Permission denied", stage="read")
    finally:
        store.close()
    before = unresolved(tmp_path, server)

    retried = cli(tmp_path, server, "failures", "--retry")

    assert retried.returncode == 0, retried.stderr
    assert f"not retried: 0001-24-1: {DATASET_ROW}" in retried.stdout
    assert f"not retried: {ARCHIVE_URL.replace('q1', 'q2')}: {DATASET_ARCHIVE}" in retried.stdout
    assert f"not retried: {ARCHIVE_URL.replace('q1', 'q3')}: {DATASET_ARCHIVE}" in retried.stdout
    assert f"not retried: {unreadable}: {UNREAD_LOCAL_FILE}" in retried.stdout
    assert retried.stdout.splitlines()[-1] == "failures retried: 0 resolved, 0 still failing, 4 not retried"
    assert server.count() == 0
    assert unresolved(tmp_path, server) == before


def test_without_a_user_agent_stored_bytes_are_retried_and_filings_to_fetch_are_left_with_exit_2(
    tmp_path: Path, server: FakeEdgar
) -> None:
    ingest_one_bad_and_one_good_file(tmp_path, server)
    store = Store.from_url(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        store.record_failure(
            "https://www.sec.gov/Archives/edgar/data/1900001/0001900001-24-000001.txt",
            "GET: 503 after 6 attempts",
            stage="fetch",
            accession_number="0001900001-24-000001",
        )
    finally:
        store.close()

    retried = cli(tmp_path, server, "failures", "--retry")

    assert retried.returncode == 2
    assert "still failing: file://" in retried.stdout  # the stored bytes were parsed again
    assert f"not retried: 0001900001-24-000001: {NEEDS_USER_AGENT}" in retried.stdout
    assert retried.stdout.splitlines()[-1] == "failures retried: 0 resolved, 1 still failing, 1 not retried"
    assert len(retried.stderr.splitlines()) == 1
    assert "User-Agent" in retried.stderr
    assert server.count() == 0
    assert len(unresolved(tmp_path, server)) == 2


def test_a_filing_that_never_arrived_is_fetched_from_the_configured_host(
    tmp_path: Path, server: FakeEdgar
) -> None:
    assert cli(tmp_path, server, "db", "upgrade").returncode == 0
    path = "/Archives/edgar/data/1999001/0001999001-24-000003.txt"
    server.add(path, GOOD.read_bytes())
    store = Store.from_url(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        # Recorded when EDGAR lived elsewhere: the retry asks today's EDGAR_INGEST_BASE_URL.
        store.record_failure(
            "https://www.sec.gov" + path,
            "listed but absent",
            stage="fetch",
            accession_number="0001999001-24-000003",
        )
    finally:
        store.close()

    retried = cli(tmp_path, server, "failures", "--retry", EDGAR_INGEST_USER_AGENT=USER_AGENT)

    assert retried.returncode == 0, retried.stderr
    assert "resolved: 0001999001-24-000003 (inserted)" in retried.stdout
    assert server.count(path) == 1
    assert unresolved(tmp_path, server) == []


def test_a_retry_is_a_run_with_what_it_did_in_status(tmp_path: Path, server: FakeEdgar) -> None:
    ingest_one_bad_and_one_good_file(tmp_path, server)  # one failure whose bytes are stored
    path = "/Archives/edgar/data/1999001/0001999001-24-000003.txt"
    server.inject(path, ["404"])  # EDGAR still lacks it: one request, a failure again
    store = Store.from_url(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        store.record_failure(
            "https://www.sec.gov" + path, "GET: 503", stage="fetch", accession_number="0001999001-24-000003"
        )
    finally:
        store.close()

    retried = cli(tmp_path, server, "failures", "--retry", EDGAR_INGEST_USER_AGENT=USER_AGENT)

    assert retried.returncode == 0, retried.stderr
    status = cli(tmp_path, server, "status", "--format", "json")
    run = json.loads(status.stdout)["last_runs"][0]
    assert (run["command"], run["status"]) == ("retry", "completed")
    counts = {k: v for k, v in run["counts"].items() if v}
    assert counts == {"discovered": 2, "fetched": 1, "failed": 2, "requests": 1}
    assert run["message"] == "2 failures retried, 2 still failing"


def test_filings_to_fetch_wait_for_no_one_a_running_sync_holds_the_network_lock(
    tmp_path: Path, server: FakeEdgar
) -> None:
    # A retry beside a running sync would double the request rate EDGAR sees: it takes the same
    # lock, and only for the fetches (stored bytes are parsed again whoever holds it).
    ingest_one_bad_and_one_good_file(tmp_path, server)
    path = "/Archives/edgar/data/1999001/0001999001-24-000003.txt"
    server.add(path, GOOD.read_bytes())
    store = Store.from_url(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        store.record_failure(
            "https://www.sec.gov" + path, "GET: 503", stage="fetch", accession_number="0001999001-24-000003"
        )
        held = store.acquire_lock(NETWORK_LOCK)  # what a running sync holds
        try:
            retried = cli(tmp_path, server, "failures", "--retry", EDGAR_INGEST_USER_AGENT=USER_AGENT)
        finally:
            held.release()
    finally:
        store.close()

    assert retried.returncode == 75, retried.stderr
    assert "still failing: file://" in retried.stdout  # the stored bytes were parsed again
    assert len(retried.stderr.splitlines()) == 1
    assert "lock" in retried.stderr
    assert server.count() == 0
    assert "0001999001-24-000003" in {f["accession_number"] for f in unresolved(tmp_path, server)}
