"""The database: the only user of the models, engines and transactions.

- ``create_engine_for(url)`` builds an Engine (SQLite: WAL, foreign keys, busy timeout, real
  transactions with savepoints); ``upgrade(url_or_engine)`` applies the Alembic migrations, the
  only way the schema is created (``engine``).
- ``Store`` writes filings idempotently, keyed by their natural key (``filings``), keeps the run
  ledger of failures, runs and the sync checkpoint (``ledger``), takes named locks (``locks``) and
  answers the read queries for offering history and status (``queries``). Each concern is a mixin
  over ``StoreBase`` (``base``: the engine, the write-transaction engine and the clock); the raw
  bytes kept for filings and failures alike are handled by ``raw``, the rows built from a record
  by ``rows``; loads of the SEC's data-set archives and what ``reconcile`` reads and writes by
  ``datasets``.
"""

from __future__ import annotations

from edgar_ingest.store.datasets import DatasetArchives, DatasetLoad, DatasetVersion, StoredArchive
from edgar_ingest.store.engine import SQLITE_BUSY_TIMEOUT_MS as SQLITE_BUSY_TIMEOUT_MS
from edgar_ingest.store.engine import alembic_config, create_engine_for, downgrade, migrations_path, upgrade
from edgar_ingest.store.filings import (
    FilingWrites,
    Outcome,
    OutcomeStatus,
    fallback_offering_key,
    filing_key_for,
)
from edgar_ingest.store.ledger import CHECKPOINT_KEY, RUN_COUNT_FIELDS, FailureInfo, RunInfo
from edgar_ingest.store.locks import DEFAULT_LOCK_TTL as DEFAULT_LOCK_TTL
from edgar_ingest.store.locks import Lock, Locks
from edgar_ingest.store.queries import Queries, StoreStatus, normalise_view_row
from edgar_ingest.store.watch import WatchRecords

__all__ = [
    "CHECKPOINT_KEY",
    "RUN_COUNT_FIELDS",
    "DatasetLoad",
    "DatasetVersion",
    "FailureInfo",
    "Lock",
    "Outcome",
    "OutcomeStatus",
    "RunInfo",
    "Store",
    "StoreStatus",
    "StoredArchive",
    "alembic_config",
    "create_engine_for",
    "downgrade",
    "fallback_offering_key",
    "filing_key_for",
    "migrations_path",
    "normalise_view_row",
    "upgrade",
]


class Store(FilingWrites, Queries, Locks, DatasetArchives, WatchRecords):
    """Reads and writes the database through an Engine made by ``create_engine_for``."""

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True) -> Store:
        engine = create_engine_for(url)
        if migrate:
            upgrade(engine)
        return cls(engine)
