"""What every part of the ``Store`` shares: the table handles, chunking of IN lists, and
``StoreBase`` (the engine, the write-transaction engine, the clock and the bulk ``RowWriter``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from edgar_ingest.models import (
    Base,
    DatasetArchiveRow,
    FailureRow,
    FilingExemptionRow,
    FilingFilerRow,
    FilingIssuerRow,
    FilingRow,
    IssuerPreviousNameRow,
    LockRow,
    PipelineStateRow,
    RawDocumentRow,
    RecipientStateRow,
    RelatedPersonRelationshipRow,
    RelatedPersonRow,
    RunRow,
    SalesCompensationRecipientRow,
    SignatureRow,
    SourceDisagreementRow,
)
from edgar_ingest.store.engine import _SQLITE_BEGIN_OPTION, _is_configured
from edgar_ingest.store.inserts import RowWriter
from edgar_ingest.store.inserts import _chunks as _chunks


def _table(model: type[Base]) -> sa.Table:
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


_raw: Final = _table(RawDocumentRow)
_filings: Final = _table(FilingRow)
_filers: Final = _table(FilingFilerRow)
_issuers: Final = _table(FilingIssuerRow)
_previous_names: Final = _table(IssuerPreviousNameRow)
_persons: Final = _table(RelatedPersonRow)
_relationships: Final = _table(RelatedPersonRelationshipRow)
_recipients: Final = _table(SalesCompensationRecipientRow)
_recipient_states: Final = _table(RecipientStateRow)
_exemptions: Final = _table(FilingExemptionRow)
_signatures: Final = _table(SignatureRow)
_failures: Final = _table(FailureRow)
_runs: Final = _table(RunRow)
_state: Final = _table(PipelineStateRow)
_locks: Final = _table(LockRow)
_dataset_archives: Final = _table(DatasetArchiveRow)
_disagreements: Final = _table(SourceDisagreementRow)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StoreBase:
    """What every part of the store uses: the engine, the SQLite write-transaction engine, the clock
    and the ``RowWriter`` of bulk inserts for the engine's dialect."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = _utc_now) -> None:
        if not _is_configured(engine):
            raise ValueError("build SQLite engines with edgar_ingest.store.create_engine_for(url)")
        self.engine = engine
        self._clock = clock
        # Write transactions on SQLite take the write lock at BEGIN (no read-then-upgrade deadlock).
        self._writer = engine.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        self._rows = RowWriter(engine.dialect)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def dialect_spec(self) -> str:
        """The dialect and driver, as a URL names them (``postgresql+psycopg``): what another
        process needs to bind values as this store does (``prepare``)."""
        return f"{self.engine.dialect.name}+{self.engine.dialect.driver}"

    def close(self) -> None:
        self.engine.dispose()

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the store's clock must return aware datetimes")
        return now

    # ------------------------------------------------------------------ pipeline state

    def get_state(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.scalar(sa.select(_state.c.state_value).where(_state.c.state_key == key))
        return None if value is None else str(value)

    def set_state(self, key: str, value: str) -> None:
        with self._writer.begin() as conn:
            updated = conn.execute(
                sa.update(_state)
                .where(_state.c.state_key == key)
                .values(state_value=value, updated_at=self._now())
            )
            if updated.rowcount == 0:
                conn.execute(
                    sa.insert(_state).values(state_key=key, state_value=value, updated_at=self._now())
                )
