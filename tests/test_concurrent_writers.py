"""Concurrent writers do not invent failures (issue 13, item 6), on SQLite and PostgreSQL.

``ingest`` takes no run lock, so two of them, or one during ``sync``, may store the same
documents at the same moment. Each document must end stored once, counted inserted by exactly
one run and unchanged by the others, with no failure recorded and no run crashed: before the
fix, PostgreSQL's unique violations were recorded as failures and two batches waiting for each
other's rows ended a run with "deadlock detected".
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fake_edgar import FakeEdgar, master_index
from formd_builder import FilingSpec, full_submission, master_index_rows
from test_cli_options import REPO_ROOT, clean_env
from test_pipeline_e2e import cli_env, run_cli, start_cli

from edgar_ingest.parse import PARSER_VERSION, parse_document
from edgar_ingest.records import FormDFiling, RawDocument
from edgar_ingest.settings import normalise_database_url
from edgar_ingest.store import Outcome, OutcomeStatus, Store, create_engine_for, upgrade

DAYS = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]


def filings(count: int) -> list[FilingSpec]:
    return [
        FilingSpec(
            accession=f"0001800{n:03d}-24-{n:06d}",
            cik=str(1800000 + n),
            name=f"Racer {n} Inc.",
            file_number=f"021-70{n:04d}",
            filed=DAYS[n % len(DAYS)],
            accepted_at=datetime(2024, 1, 2 + n % len(DAYS), 9, n % 60),
            total_sold=str(1000 * (n + 1)),
        )
        for n in range(count)
    ]


def write_folder(folder: Path, specs: list[FilingSpec]) -> list[Path]:
    folder.mkdir()
    paths = []
    for spec in specs:
        path = folder / f"{spec.accession}.txt"
        path.write_bytes(full_submission(spec))
        paths.append(path)
    return paths


def counts_in(database_url: str) -> dict[str, int]:
    """How many rows the tables that a race could duplicate or pollute hold."""
    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            return {
                table: int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("filings", "raw_documents", "failures", "filing_issuers")
            }
    finally:
        engine.dispose()


@pytest.fixture
def migrated(database_url: str) -> str:
    upgrade(database_url)
    return database_url


def test_writers_racing_on_the_same_documents_store_each_once_and_record_no_failure(migrated: str) -> None:
    specs = filings(120)
    items: list[tuple[RawDocument, FormDFiling]] = []
    for spec in specs:
        content = full_submission(spec)
        raw = RawDocument.of(content, f"file:///{spec.accession}.txt", datetime(2024, 2, 1, tzinfo=UTC))
        items.append((raw, parse_document(content)))
    writers = 4
    start = threading.Barrier(writers)
    outcomes: list[list[Outcome]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []

    def write(n: int) -> None:
        # Each writer its own engine, as separate processes have, and its own order, so that
        # batches meet on rows the other holds (what made PostgreSQL report deadlocks).
        store = Store(create_engine_for(migrated))
        mine = list(items)
        random.Random(n).shuffle(mine)
        try:
            start.wait()
            for first in range(0, len(mine), 15):
                outcomes[n].extend(store.save_many(mine[first : first + 15], PARSER_VERSION))
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    every = [o for mine in outcomes for o in mine]
    assert Counter(o.status for o in every) == {
        OutcomeStatus.INSERTED: len(specs),
        OutcomeStatus.UNCHANGED: (writers - 1) * len(specs),
    }
    inserted = Counter(o.filing_key for o in every if o.status is OutcomeStatus.INSERTED)
    assert set(inserted) == {s.accession for s in specs}
    assert set(inserted.values()) == {1}
    assert counts_in(migrated) == {
        "filings": len(specs),
        "raw_documents": len(specs),
        "failures": 0,
        "filing_issuers": len(specs),
    }


def test_writers_recording_the_same_failures_at_once_count_attempts_on_one_row_each(migrated: str) -> None:
    # A fetch failure keeps no bytes: its row is found by accession number alone, and two runs
    # meeting the same unreachable filing used to race on that key (a unique violation).
    accessions = [f"0001900{n:03d}-24-{n:06d}" for n in range(60)]
    writers = 4
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def record(n: int) -> None:
        store = Store(create_engine_for(migrated))
        mine = list(accessions)
        random.Random(n).shuffle(mine)
        try:
            start.wait()
            for accession in mine:
                store.record_failure(
                    f"https://www.sec.gov/Archives/{accession}.txt",
                    "timed out",
                    stage="fetch",
                    accession_number=accession,
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=record, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    store = Store(create_engine_for(migrated))
    try:
        listed = store.list_failures()
    finally:
        store.close()
    assert sorted(f.accession_number or "" for f in listed) == accessions
    assert {f.attempt_count for f in listed} == {writers}


_SUMMARY = re.compile(r"^ingest: (\d+) documents: (\d+) inserted, 0 updated, (\d+) unchanged, 0 failed$")


def test_three_ingests_of_the_same_folder_at_once_store_each_document_once(
    migrated: str, tmp_path: Path
) -> None:
    specs = filings(600)
    paths = [str(p) for p in write_folder(tmp_path / "docs", specs)]
    env = {"EDGAR_INGEST_DATABASE_URL": migrated}
    runs = []
    for n in range(3):
        order = list(paths)
        random.Random(n).shuffle(order)  # the same folder read in other orders meets more rows
        runs.append(start_ingest(env, order))

    inserted = 0
    for run in runs:
        out, err = run.communicate(timeout=180)
        assert (run.returncode, err) == (0, "")
        summary = _SUMMARY.match(out.strip().splitlines()[-1])
        assert summary is not None, out
        assert int(summary.group(1)) == len(specs)
        inserted += int(summary.group(2))
    assert inserted == len(specs)  # each document counted inserted by one run, unchanged by the others
    assert counts_in(migrated) == {
        "filings": len(specs),
        "raw_documents": len(specs),
        "failures": 0,
        "filing_issuers": len(specs),
    }
    assert run_statuses(migrated) == ["completed"] * 3


def start_ingest(env: dict[str, str], paths: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "edgar_ingest", "ingest", *paths],
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )


def run_statuses(database_url: str) -> list[str]:
    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT status FROM runs ORDER BY id")).scalars())
    finally:
        engine.dispose()


@pytest.fixture
def server() -> Iterator[FakeEdgar]:
    with FakeEdgar() as fake:
        yield fake


def test_an_ingest_during_a_sync_of_the_same_filings_records_no_failure(
    migrated: str, server: FakeEdgar, tmp_path: Path
) -> None:
    specs = filings(45)
    for spec in specs:
        server.add(spec.path, full_submission(spec))
    for day in DAYS:
        server.add_daily_index(
            day, master_index(master_index_rows([s for s in specs if s.filed == day]), day=day)
        )
    paths = [str(p) for p in write_folder(tmp_path / "docs", specs)]
    env = cli_env(server, migrated)

    sync = start_cli(
        env, "sync", "--since", "2024-01-02", "--until", (DAYS[-1] + timedelta(days=1)).isoformat()
    )
    # Ingests, one after the other, for as long as the sync fetches and stores the same filings.
    ingests = [run_cli(env, "ingest", *paths)]
    while sync.poll() is None and len(ingests) < 10:
        ingests.append(run_cli(env, "ingest", *reversed(paths)))
    sync_out, sync_err = sync.communicate(timeout=180)

    assert sync.returncode == 0, sync_err
    assert "sync completed" in sync_out
    assert [(r.returncode, r.stderr) for r in ingests] == [(0, "")] * len(ingests)
    assert all(r.stdout.strip().endswith(", 0 failed") for r in ingests)
    assert counts_in(migrated) == {
        "filings": len(specs),
        "raw_documents": len(specs),
        "failures": 0,
        "filing_issuers": len(specs),
    }
