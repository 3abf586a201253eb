"""End-to-end: the real CLI (a subprocess) against our fake EDGAR server, on SQLite and PostgreSQL.

Each test states one promise of the pipeline (issue 5): every filing stored exactly once despite
faults, a rate block obeyed, a killed backfill resumed without loss or refetch, one run at a time,
a bad document recorded while the run goes on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fake_edgar import FakeEdgar, master_index
from formd_builder import FilingSpec, full_submission, master_index_rows

from edgar_ingest.settings import normalise_database_url

REPO_ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "edgar_ingest tests tests@example.com"

# The week of 2024-01-01: Monday is New Year's Day (no index), Friday's index is "not built yet".
HOLIDAY = date(2024, 1, 1)
DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
NOT_YET_BUILT = date(2024, 1, 5)


@pytest.fixture
def server() -> Iterator[FakeEdgar]:
    with FakeEdgar() as fake:
        yield fake


def cli_env(server: FakeEdgar, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
    env.update(
        EDGAR_INGEST_BASE_URL=server.url,
        EDGAR_INGEST_DATA_URL=server.url,
        EDGAR_INGEST_USER_AGENT=USER_AGENT,
        EDGAR_INGEST_DATABASE_URL=database_url,
        EDGAR_INGEST_BLOCK_PAUSE_S="2",
        PYTHONPATH=str(REPO_ROOT),
    )
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgar_ingest", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


def start_cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "edgar_ingest", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )


def versions(database_url: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT accession_number, offering_key, version, total_amount_sold, is_latest "
                    "FROM offering_versions ORDER BY accession_number"
                )
            ).mappings()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def scalar(database_url: str, sql: str) -> Any:
    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def week_of_filings() -> list[FilingSpec]:
    """Three filings a day; day 2 has a co-issued filing and an amendment of day 1's offering."""
    specs = []
    serial = 0
    for day in DAYS:
        for n in range(3):
            serial += 1
            specs.append(
                FilingSpec(
                    accession=f"0001900{serial:03d}-24-{serial:06d}",
                    cik=str(1900000 + serial),
                    name=f"Issuer {serial} Inc.",
                    file_number=f"021-60{serial:04d}",
                    filed=day,
                    accepted_at=datetime(day.year, day.month, day.day, 9 + n, 30),
                    total_sold=str(1_000_000 * serial),
                    co_issuer_ciks=("1999001",) if serial == 5 else (),
                )
            )
    # An amendment, filed on day 3, of the first filing's offering.
    first = specs[0]
    specs.append(
        FilingSpec(
            accession="0001900001-24-000099",
            cik=first.cik,
            name=first.name,
            form="D/A",
            file_number=first.file_number,
            filed=DAYS[2],
            accepted_at=datetime(2024, 1, 4, 16, 0),
            total_sold="9000000",
            previous_accession=first.accession,
        )
    )
    return specs


def publish(server: FakeEdgar, specs: list[FilingSpec], *, extra_rows: int = 0) -> None:
    """Serve each filing and each day's master index (with a DEF 14A row that must be ignored)."""
    for spec in specs:
        server.add(spec.path, full_submission(spec))
    for day in sorted({s.filed for s in specs}):
        rows = master_index_rows([s for s in specs if s.filed == day])
        rows.append(("320193", "APPLE INC", "DEF 14A", day.strftime("%Y%m%d"), "edgar/data/320193/x.txt"))
        server.add_daily_index(day, master_index(rows, day=day))


def test_sync_over_a_week_with_a_holiday_and_faults_stores_every_filing_exactly_once(
    server: FakeEdgar, database_url: str
) -> None:
    specs = week_of_filings()
    publish(server, specs)
    server.inject(specs[0].path, ["503"])
    server.inject(specs[1].path, ["429:1"])
    server.inject(specs[2].path, ["reset"])
    server.inject(specs[3].path, ["truncate"])
    server.inject(specs[4].path, ["slow:0.5"])
    env = cli_env(server, database_url)

    result = run_cli(env, "sync", "--since", HOLIDAY.isoformat(), "--until", NOT_YET_BUILT.isoformat())

    assert result.returncode == 0, result.stderr
    stored = versions(database_url)
    assert [r["accession_number"] for r in stored] == sorted(s.accession for s in specs)
    # The co-issued filing (listed twice) is one row; the DEF 14A row was never fetched.
    assert server.count("/Archives/edgar/data/320193/x.txt") == 0
    # Day 1's offering now has two versions, the amendment being the latest.
    chain = [r for r in stored if r["offering_key"] == specs[0].file_number]
    assert [(r["version"], bool(r["is_latest"])) for r in sorted(chain, key=lambda r: r["version"])] == [
        (1, False),
        (2, True),
    ]
    # Friday's index is absent (not built yet): the checkpoint stays on Thursday.
    status = run_cli(env, "status", "--format", "json")
    assert '"checkpoint": "2024-01-04"' in status.stdout
    assert "sync completed" in result.stdout


def test_a_second_sync_fetches_nothing_already_stored(server: FakeEdgar, database_url: str) -> None:
    specs = week_of_filings()
    publish(server, specs)
    env = cli_env(server, database_url)
    assert run_cli(env, "sync", "--since", "2024-01-01", "--until", "2024-01-05").returncode == 0
    server.reset_log()

    again = run_cli(env, "sync", "--since", "2024-01-01", "--until", "2024-01-05")

    assert again.returncode == 0, again.stderr
    fetched = [r.path for r in server.requests if r.path.endswith(".txt")]
    assert fetched == []
    assert len(versions(database_url)) == len(specs)


def test_sync_resumes_from_the_checkpoint_and_retries_a_day_not_yet_built(
    server: FakeEdgar, database_url: str
) -> None:
    specs = week_of_filings()
    publish(server, specs)
    env = cli_env(server, database_url)
    assert run_cli(env, "sync", "--since", "2024-01-01", "--until", "2024-01-05").returncode == 0
    friday = FilingSpec(
        accession="0001900777-24-000777", cik="1900777", filed=NOT_YET_BUILT, file_number="021-677777"
    )
    publish(server, [friday])  # Friday's index is built later that night
    server.reset_log()

    result = run_cli(env, "sync", "--until", "2024-01-05")

    assert result.returncode == 0, result.stderr
    index_requests = [r.path for r in server.requests if "daily-index" in r.path]
    assert index_requests == ["/Archives/edgar/daily-index/2024/QTR1/master.20240105.idx"]
    assert "0001900777-24-000777" in {r["accession_number"] for r in versions(database_url)}
    assert '"checkpoint": "2024-01-05"' in run_cli(env, "status", "--format", "json").stdout


def test_a_rate_block_pauses_every_request_for_the_configured_time(tmp_path: Path, server: FakeEdgar) -> None:
    specs = week_of_filings()[:3]
    publish(server, specs)
    server.inject(specs[1].path, ["block403"])
    env = cli_env(server, f"sqlite:///{tmp_path / 'e.db'}", EDGAR_INGEST_BLOCK_PAUSE_S="2")

    result = run_cli(env, "sync", "--since", "2024-01-02", "--until", "2024-01-02", "--log-format", "json")

    assert result.returncode == 0, result.stderr
    assert server.block_pages_served == 1
    times = [r.time for r in server.requests]
    block_at = next(r.time for r in server.requests if r.answer == "block403")
    after = [t for t in times if t > block_at]
    assert after, "the run went on after the pause"
    assert min(after) - block_at >= 2.0, "no request may leave during the block pause"
    assert '"block_pauses": 1' in result.stdout
    assert len(versions(f"sqlite:///{tmp_path / 'e.db'}")) == 3


def _quarter_of_filings(count: int) -> list[FilingSpec]:
    start = date(2024, 1, 2)
    return [
        FilingSpec(
            accession=f"0002000{n:03d}-24-{n:06d}",
            cik=str(2000000 + n),
            name=f"Backfill {n} LLC",
            file_number=f"021-70{n:04d}",
            filed=start + timedelta(days=n % 60),
            accepted_at=datetime(2024, 1, 2, 8, 0) + timedelta(days=n % 60, minutes=n),
            total_sold=str(10_000 * n),
        )
        for n in range(1, count + 1)
    ]


def _publish_quarter(server: FakeEdgar, specs: list[FilingSpec]) -> None:
    for spec in specs:
        server.add(spec.path, full_submission(spec))
    server.add_quarterly_index(2024, 1, master_index(master_index_rows(specs, quarterly=True)))


def test_a_backfill_killed_mid_way_and_rerun_yields_exactly_the_rows_of_an_uninterrupted_run(
    tmp_path: Path, server: FakeEdgar, database_url: str
) -> None:
    specs = _quarter_of_filings(80)
    _publish_quarter(server, specs)
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    args = ("backfill", "--start", "2024-01-01", "--end", "2024-04-01")
    assert run_cli(cli_env(server, reference_url), *args).returncode == 0
    expected = versions(reference_url)
    assert len(expected) == 80

    server.latency = 0.05
    env = cli_env(server, database_url)
    assert run_cli(env, "db", "upgrade").returncode == 0
    first = start_cli(env, *args)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stored = scalar(database_url, "SELECT count(*) FROM offering_versions")
        if stored >= 20:
            break
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    stored_before = {r["accession_number"] for r in versions(database_url)}
    assert 20 <= len(stored_before) < 80
    server.reset_log()

    second = run_cli(env, *args)

    assert second.returncode == 0, second.stderr
    assert versions(database_url) == expected
    refetched = {r.path for r in server.requests} & {s.path for s in specs if s.accession in stored_before}
    assert refetched == set(), "nothing already stored is fetched again"
    runs = json.loads(run_cli(env, "status", "--format", "json").stdout)["last_runs"]
    assert [r["status"] for r in runs[:2]] == ["completed", "abandoned"]


def test_sigterm_stops_a_backfill_cleanly_and_a_rerun_finishes_it(tmp_path: Path, server: FakeEdgar) -> None:
    specs = _quarter_of_filings(60)
    _publish_quarter(server, specs)
    server.latency = 0.05
    url = f"sqlite:///{tmp_path / 'e.db'}"
    env = cli_env(server, url)
    args = ("backfill", "--start", "2024-01-01", "--end", "2024-04-01")
    assert run_cli(env, "db", "upgrade").returncode == 0
    first = start_cli(env, *args)
    while server.count() < 15 and first.poll() is None:
        time.sleep(0.05)

    first.send_signal(signal.SIGTERM)
    _out, err = first.communicate(timeout=30)

    assert first.returncode == 130, err
    assert "run the same command again to resume" in err
    runs = json.loads(run_cli(env, "status", "--format", "json").stdout)["last_runs"]
    assert runs[0]["status"] == "interrupted"
    assert run_cli(env, *args).returncode == 0
    assert len(versions(url)) == 60


def test_two_concurrent_syncs_one_works_one_exits_75(tmp_path: Path, server: FakeEdgar) -> None:
    specs = week_of_filings()
    publish(server, specs)
    url = f"sqlite:///{tmp_path / 'e.db'}"
    env = cli_env(server, url)
    assert run_cli(env, "db", "upgrade").returncode == 0
    server.answering.clear()  # the first sync waits on its first answer, however slow the machine
    first = start_cli(env, "sync", "--since", "2024-01-01", "--until", "2024-01-05")
    while server.count() == 0 and first.poll() is None:
        time.sleep(0.05)

    second = run_cli(env, "sync", "--since", "2024-01-01", "--until", "2024-01-05")
    server.answering.set()
    _out, err = first.communicate(timeout=120)

    assert second.returncode == 75
    assert len(second.stderr.strip().splitlines()) == 1
    assert "lock" in second.stderr
    assert first.returncode == 0, err
    assert len(versions(url)) == len(specs)


def test_a_malformed_or_hostile_document_is_recorded_and_the_run_completes(
    server: FakeEdgar, database_url: str
) -> None:
    specs = week_of_filings()[:3]
    publish(server, specs)
    hostile = (
        b"<SEC-DOCUMENT>x\n<SEC-HEADER>\nACCESSION NUMBER:\t\t0001900002-24-000002\n</SEC-HEADER>\n<XML>\n"
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<edgarSubmission>&xxe;</edgarSubmission>\n</XML>\n</SEC-DOCUMENT>\n"
    )
    server.add(specs[1].path, hostile)
    server.add(specs[2].path, full_submission(specs[2]).replace(b"</offeringData>", b""))
    env = cli_env(server, database_url)

    result = run_cli(env, "sync", "--since", "2024-01-02", "--until", "2024-01-02")

    assert result.returncode == 0, result.stderr
    assert [r["accession_number"] for r in versions(database_url)] == [specs[0].accession]
    listed = run_cli(env, "failures")
    assert specs[1].accession in listed.stdout
    assert specs[2].accession in listed.stdout
    assert "failed 2" in result.stdout


def test_a_missing_user_agent_stops_with_one_sentence_and_sends_nothing(
    tmp_path: Path, server: FakeEdgar
) -> None:
    publish(server, week_of_filings())
    env = cli_env(server, f"sqlite:///{tmp_path / 'e.db'}")
    del env["EDGAR_INGEST_USER_AGENT"]

    result = run_cli(env, "sync", "--since", "2024-01-02", "--until", "2024-01-02")

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "User-Agent" in result.stderr
    assert server.count() == 0


def test_a_backfill_by_cik_reads_the_submissions_api(tmp_path: Path, server: FakeEdgar) -> None:
    specs = week_of_filings()
    publish(server, specs)
    first = specs[0]
    recent = {
        "accessionNumber": [first.accession, "0001900001-24-000099", "0001900001-24-000500"],
        "filingDate": ["2024-01-02", "2024-01-04", "2024-01-04"],
        "acceptanceDateTime": [
            "2024-01-02T09:30:00.000Z",
            "2024-01-04T16:00:00.000Z",
            "2024-01-04T17:00:00Z",
        ],
        "form": ["D", "D/A", "10-K"],
        "fileNumber": [first.file_number, first.file_number, ""],
        "primaryDocument": ["xslFormDX01/primary_doc.xml", "xslFormDX01/primary_doc.xml", "k.htm"],
    }
    server.add_submissions(first.cik, {"cik": first.cik, "filings": {"recent": recent, "files": []}})
    url = f"sqlite:///{tmp_path / 'e.db'}"

    result = run_cli(
        cli_env(server, url), "backfill", "--start", "2024-01-01", "--end", "2024-02-01", "--cik", first.cik
    )

    assert result.returncode == 0, result.stderr
    assert [r["accession_number"] for r in versions(url)] == [first.accession, "0001900001-24-000099"]


def test_failures_retry_refetches_what_never_arrived_and_reparses_what_is_stored(
    tmp_path: Path, server: FakeEdgar
) -> None:
    specs = week_of_filings()[:3]
    publish(server, specs)
    good_bytes = full_submission(specs[1])
    server.inject(specs[0].path, ["absent"])  # listed in the index, but EDGAR answers AccessDenied
    server.add(specs[1].path, good_bytes.replace(b"</offeringData>", b""))  # malformed XML
    url = f"sqlite:///{tmp_path / 'e.db'}"
    env = cli_env(server, url)
    first = run_cli(env, "sync", "--since", "2024-01-02", "--until", "2024-01-02")
    assert first.returncode == 0, first.stderr
    assert "failed 2" in first.stdout
    listed = run_cli(env, "failures", "--format", "json")
    assert {f["stage"] for f in json.loads(listed.stdout)} == {"fetch", "parse"}
    fetch_failure = next(f for f in json.loads(listed.stdout) if f["stage"] == "fetch")
    assert fetch_failure["reason"] == f"EDGAR has no such file: {specs[0].path} was not found"

    # The stored bytes of the malformed document cannot change by re-parsing: it stays failed,
    # while the filing that never arrived is fetched again now that EDGAR has it.
    retried = run_cli(env, "failures", "--retry")

    assert retried.returncode == 0, retried.stderr
    assert f"resolved: {specs[0].accession}" in retried.stdout
    assert f"still failing: {specs[1].accession}" in retried.stdout
    stored = {r["accession_number"] for r in versions(url)}
    assert stored == {specs[0].accession, specs[2].accession}
    status = run_cli(env, "status")
    assert "unresolved failures: 1" in status.stdout


def test_a_stop_during_a_block_pause_ends_the_run_at_once(tmp_path: Path, server: FakeEdgar) -> None:
    specs = week_of_filings()[:3]
    publish(server, specs)
    server.inject(specs[0].path, ["block403"])
    env = cli_env(server, f"sqlite:///{tmp_path / 'e.db'}", EDGAR_INGEST_BLOCK_PAUSE_S="600")
    run = start_cli(env, "sync", "--since", "2024-01-02", "--until", "2024-01-02")
    deadline = time.monotonic() + 30
    while server.block_pages_served == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the run is now inside its 600 s pause
    requests_before = server.count()

    stopped_at = time.monotonic()
    run.send_signal(signal.SIGTERM)
    _out, err = run.communicate(timeout=30)

    assert run.returncode == 130, err
    assert time.monotonic() - stopped_at < 10
    assert server.count() == requests_before, "nothing is sent after the stop"
