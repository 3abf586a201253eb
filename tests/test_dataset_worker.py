"""The worker process that reads and prepares an archive while the store writes (``dataset_worker``).

Its batches are what preparing the archive's records in the loading process gives, bound exactly
as the store's own dialect binds them; an unreadable archive fails before any batch; a worker
that dies is reported, never waited for; and no worker outlives its loader.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from test_datasets_e2e import quarter_specs, records_of

from edgar_ingest.dataset_worker import ArchiveJob, DatasetWorkerError, PreparedArchive
from edgar_ingest.datasets import DatasetArchiveError, DatasetRowFailure, read_dataset_archive
from edgar_ingest.records import FormDFiling
from edgar_ingest.store import Store
from edgar_ingest.store.copy_rows import CopyRows, with_filing_id
from edgar_ingest.store.prepare import FilingPreparer, PreparedFiling
from tests.dataset_builder import write_dataset_archive

SHA = "a" * 64


def _archive(tmp_path: Path, count: int, *, name: str = "2024q1_d.zip") -> Path:
    return write_dataset_archive(
        tmp_path / name, records_of(quarter_specs(2024, 1, count)), folder="2024Q1_d"
    )


def _job(path: Path, dialect: str, *, batch_size: int = 1000) -> ArchiveJob:
    return ArchiveJob(
        path=path,
        archive_name=path.name,
        start=date(2024, 1, 1),
        end=date(2024, 4, 1),
        dialect=dialect,
        sha256=SHA,
        batch_size=batch_size,
    )


def _without_filing_ids(prepared: object) -> object:
    """A prepared filing with 0 for the filing id of its child rows (which the store replaces)."""
    assert isinstance(prepared, PreparedFiling)
    children = prepared.children
    if isinstance(children, CopyRows):  # PostgreSQL: the rows as binary COPY data
        copy = CopyRows(bytearray(children.data), children.starts, children.bounds)
        with_filing_id(copy, 0)
        return prepared._replace(children=copy)
    return prepared._replace(children=tuple([(0, *row[1:]) for row in rows] for rows in children))


def _worker_items(job: ArchiveJob) -> list[object]:
    with PreparedArchive(job) as worker:
        return [item for batch in worker.batches() for item in batch]


def test_the_workers_batches_are_the_archives_filings_prepared_by_the_stores_own_dialect(
    tmp_path: Path, database_url: str
) -> None:
    path = _archive(tmp_path, 25)
    store = Store.from_url(database_url)
    try:
        job = _job(path, store.dialect_spec, batch_size=10)
        records = [i for i in read_dataset_archive(path) if isinstance(i, FormDFiling)]
        # The store's preparer binds with the connected engine's dialect, the worker with one
        # made from the dialect's name alone: the rows must be the same values.
        expected = store.filing_preparer().prepare_many([(r, SHA) for r in records])
    finally:
        store.close()
    with PreparedArchive(job) as worker:
        batches = list(worker.batches())
    assert [len(batch) for batch in batches] == [10, 10, 5]
    got = [item for batch in batches for item in batch]
    assert [_without_filing_ids(p) for p in got] == [_without_filing_ids(p) for p in expected]
    assert all(isinstance(p, PreparedFiling) and p.refusal is None for p in got)
    assert worker.peak_rss_kib > 0, "the worker reports its peak memory at the end"


def test_failures_and_refusals_come_in_the_archives_order_among_the_filings(tmp_path: Path) -> None:
    records = records_of(quarter_specs(2024, 1, 4))
    offering = replace(records[1].document.offering, total_amount_sold=Decimal(10**13))
    records[1] = replace(records[1], document=replace(records[1].document, offering=offering))
    path = write_dataset_archive(tmp_path / "2024q1_d.zip", records, folder="2024Q1_d")
    items = _worker_items(_job(path, "sqlite+pysqlite"))
    kinds = [type(i).__name__ if not isinstance(i, PreparedFiling) else i.refusal is None for i in items]
    # The 13-digit amount is refused by the data-set parser itself (a row failure) or, past it,
    # by the store's limits (a refused filing): either way the other three are prepared.
    assert len(items) == 4
    assert kinds.count(True) == 3
    failed = items[1]
    assert isinstance(failed, DatasetRowFailure) or (
        isinstance(failed, PreparedFiling) and "total_amount_sold" in (failed.refusal or "")
    )


def test_a_refused_filing_names_its_column_and_the_others_of_the_batch_are_prepared() -> None:
    records = records_of(quarter_specs(2024, 1, 3))
    issuer = replace(records[2].document.primary_issuer, entity_name="Bad\x00Name LLC")
    records[2] = replace(records[2], document=replace(records[2].document, primary_issuer=issuer))
    import sqlalchemy as sa

    preparer = FilingPreparer(sa.engine.URL.create("sqlite+pysqlite").get_dialect()())
    prepared = preparer.prepare_many([(r, SHA) for r in records])
    assert [p.refusal is None for p in prepared] == [True, True, False]
    assert prepared[2].refusal is not None
    assert "filing_issuers.entity_name cannot hold a NUL character" in prepared[2].refusal
    assert prepared[2].filing_key == records[2].accession_number


def test_an_archive_that_is_not_a_zip_fails_before_any_batch(tmp_path: Path) -> None:
    path = tmp_path / "2024q1_d.zip"
    path.write_bytes(b"<html>not found</html>")
    with PreparedArchive(_job(path, "sqlite+pysqlite")) as worker, pytest.raises(DatasetArchiveError):
        next(iter(worker.batches()))


def test_a_worker_that_dies_is_reported_with_its_exit_code(tmp_path: Path) -> None:
    path = _archive(tmp_path, 30)
    with PreparedArchive(_job(path, "sqlite+pysqlite", batch_size=5)) as worker:
        batches = worker.batches()
        next(batches)
        assert worker._process is not None
        worker._process.kill()
        with pytest.raises(DatasetWorkerError, match=r"2024q1_d\.zip stopped \(exit code -9\)"):
            list(batches)


def test_leaving_early_kills_the_worker(tmp_path: Path) -> None:
    path = _archive(tmp_path, 30)
    with PreparedArchive(_job(path, "sqlite+pysqlite", batch_size=5)) as worker:
        next(iter(worker.batches()))
        process = worker._process
    assert process is not None
    assert process.poll() is not None


def test_the_worker_ignores_ctrl_c_and_exits_when_its_loader_is_gone(tmp_path: Path) -> None:
    path = _archive(tmp_path, 3000)  # more than the pipe holds: the worker waits for its reader
    worker = PreparedArchive(_job(path, "sqlite+pysqlite", batch_size=5))
    with worker:
        next(iter(worker.batches()))
        process = worker._process
        assert process is not None
        assert process.stdout is not None
        process.send_signal(signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
        time.sleep(0.3)
        assert process.poll() is None, "Ctrl-C is the loader's to act on"
        os.close(process.stdout.fileno())  # as if the loader died: nobody reads any more
        process.stdout = None
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.returncode == 0, "a broken pipe ends the worker quietly"


@pytest.mark.postgres
def test_the_binary_copy_types_of_child_rows_are_those_of_the_migrated_schema(
    postgres_database_url: str,
) -> None:
    import sqlalchemy as sa

    from edgar_ingest.store.copy_rows import postgres_type_names
    from edgar_ingest.store.rows import CHILD_LAYOUTS

    store = Store.from_url(postgres_database_url)
    try:
        with store.engine.connect() as conn:
            for layout in CHILD_LAYOUTS:
                catalog = dict(
                    conn.execute(
                        sa.text(
                            "SELECT attname, atttypid::regtype::text FROM pg_attribute "
                            "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
                        ),
                        {"t": layout.table.name},
                    ).all()
                )
                aliases = {"integer": "int4", "bigint": "int8", "boolean": "bool", "text": "text"}
                aliases |= {"character varying": "varchar", "date": "date", "smallint": "int2"}
                aliases |= {"timestamp with time zone": "timestamptz"}
                expected = [aliases[catalog[column]] for column in layout.columns]
                assert postgres_type_names(layout) == expected, layout.table.name
    finally:
        store.close()
