"""The database: the only user of the models, engines and transactions.

- ``create_engine_for(url)`` builds an Engine (SQLite: WAL, foreign keys, busy timeout, real
  transactions with savepoints); ``upgrade(url_or_engine)`` applies the Alembic migrations, the
  only way the schema is created.
- ``Store`` writes filings idempotently, keyed by their natural key (the accession number, or
  ``sha256:<hex>`` of the raw bytes for a bare XML that has none): storing the same record again
  changes nothing, a different record (new parser version, corrected bytes) re-derives every row
  of the filing in the same transaction. ``save_many`` writes a batch in one transaction with bulk
  statements; when the bulk write fails, each document is retried in its own savepoint so that a
  bad one rolls back alone and is recorded in ``failures`` while the others are stored.

Offering identity (DESIGN.md section 3): the offering key is the primary issuer's SEC file number
from the header. A filing without one joins the offering of its ``previousAccessionNumber`` when
that filing is stored (also when it arrives later: ``save_many`` re-keys such filings), else it
stands alone under ``accession:<accession number>`` or, for a bare XML, ``sha256:<hex>``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import socket
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from edgar_ingest.errors import LockHeldError
from edgar_ingest.models import (
    Base,
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
)
from edgar_ingest.records import Address, FormDFiling, Issuer, RawDocument, RunCounts
from edgar_ingest.settings import normalise_database_url

__all__ = [
    "CHECKPOINT_KEY",
    "RUN_COUNT_FIELDS",
    "FailureInfo",
    "Lock",
    "Outcome",
    "OutcomeStatus",
    "RunInfo",
    "Store",
    "StoreStatus",
    "alembic_config",
    "create_engine_for",
    "downgrade",
    "fallback_offering_key",
    "filing_key_for",
    "migrations_path",
    "normalise_view_row",
    "upgrade",
]

CHECKPOINT_KEY: Final = "sync_checkpoint"
SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
DEFAULT_LOCK_TTL: Final = timedelta(minutes=10)
# Parameters per IN (...) list: well under SQLite's and PostgreSQL's limits.
_IN_CHUNK: Final = 500


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

# Children of a filing, parents before children (insert order; delete in reverse).
_CHILD_TABLES: Final = (
    _filers,
    _issuers,
    _previous_names,
    _persons,
    _relationships,
    _recipients,
    _recipient_states,
    _exemptions,
    _signatures,
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --------------------------------------------------------------------------- engine & migrations

_SQLITE_BEGIN_OPTION: Final = "edgar_ingest_sqlite_begin"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions break savepoints).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_SQLITE_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine_for(url: str) -> Engine:
    """An Engine for a database URL (``postgres://`` accepted); SQLite gets WAL, FKs, busy timeout."""
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _is_configured(engine: Engine) -> bool:
    if engine.dialect.name != "sqlite":
        return True
    return event.contains(engine, "connect", _sqlite_on_connect)


def migrations_path() -> Path:
    """The Alembic script directory: ``edgar_ingest.migrations`` when installed, else the checkout's."""
    try:
        location = importlib.resources.files("edgar_ingest.migrations")
    except ModuleNotFoundError:
        location = None
    if location is not None:
        path = Path(str(location))
        if (path / "env.py").is_file():
            return path
    checkout = Path(__file__).resolve().parent.parent / "migrations"
    if (checkout / "env.py").is_file():
        return checkout
    raise FileNotFoundError("the edgar_ingest migrations are not installed (edgar_ingest.migrations)")


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic Config built in code (no alembic.ini): our env.py reads these attributes."""
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    if database_url is not None:
        config.attributes["database_url"] = normalise_database_url(database_url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (idempotent: nothing to do when up to date)."""
    engine = create_engine_for(target) if isinstance(target, str) else target
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def downgrade(target: str | Engine, revision: str = "base") -> None:
    """Revert the migrations down to ``revision`` (``base`` drops everything)."""
    engine = create_engine_for(target) if isinstance(target, str) else target
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


# --------------------------------------------------------------------------- keys


def filing_key_for(filing: FormDFiling, sha256: str) -> str:
    """The natural key of a filing: its accession number, else ``sha256:<hex>`` of its bytes."""
    return filing.accession_number or f"sha256:{sha256}"


def fallback_offering_key(filing: FormDFiling, sha256: str) -> str:
    """The offering key of a filing without file number whose previous filing is unknown."""
    if filing.accession_number:
        return f"accession:{filing.accession_number}"
    return f"sha256:{sha256}"


# --------------------------------------------------------------------------- results


class OutcomeStatus(StrEnum):
    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``save`` did with one document; ``reason`` says why it failed."""

    status: OutcomeStatus
    filing_key: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FailureInfo:
    id: int
    failure_key: str
    source: str
    accession_number: str | None
    sha256: str | None
    stage: str
    reason: str
    first_seen_at: datetime
    last_seen_at: datetime
    attempt_count: int
    is_resolved: bool
    has_raw_document: bool


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    command: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    range_start_date: date | None
    range_end_date: date | None
    counts: dict[str, int]
    message: str | None


@dataclass(frozen=True, slots=True)
class StoreStatus:
    filings: int
    offerings: int
    raw_documents: int
    unresolved_failures: int
    checkpoint: date | None
    last_runs: list[RunInfo]


@dataclass
class Lock:
    """A held named lock; ``release`` it (or use it as a context manager)."""

    name: str
    owner: str
    _store: Store
    _connection: Connection | None = None  # PostgreSQL: the session holding the advisory lock
    released: bool = field(default=False)

    def heartbeat(self) -> None:
        self._store.heartbeat_lock(self)

    def release(self) -> None:
        self._store.release_lock(self)

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


RUN_COUNT_FIELDS: Final = (
    "discovered",
    "fetched",
    "skipped",
    "inserted",
    "updated",
    "unchanged",
    "failed",
    "requests",
    "retries",
    "block_pauses",
)

# Columns of offering_versions by kind, to give the same Python values on both databases.
_VERSION_BOOL_COLUMNS: Final = frozenset(
    {
        "is_offering_amount_indefinite",
        "is_remaining_indefinite",
        "has_non_accredited_investors",
        "is_first_sale_yet_to_occur",
        "is_latest",
    }
)
_VERSION_AMOUNT_COLUMNS: Final = frozenset(
    {
        "total_offering_amount",
        "total_amount_sold",
        "total_remaining",
        "minimum_investment",
        "amount_sold_change",
        "offering_amount_change",
    }
)
_VERSION_DATE_COLUMNS: Final = frozenset(
    {"filing_date", "first_sale_date", "valid_from", "valid_to", "first_filing_date"}
)


def normalise_view_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``offering_versions``/``offerings_latest`` with the same Python types on both databases.

    SQLite returns booleans as 0/1, dates and ``accepted_at`` as ISO text and whole amounts as
    integers; PostgreSQL returns bool, date, aware datetime and Decimal.
    """
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None:
            out[key] = None
        elif key in _VERSION_BOOL_COLUMNS:
            out[key] = bool(value)
        elif key in _VERSION_AMOUNT_COLUMNS:
            out[key] = _to_decimal(value)
        elif key in _VERSION_DATE_COLUMNS:
            out[key] = value if isinstance(value, date) else date.fromisoformat(str(value))
        elif key == "accepted_at":
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            out[key] = moment.astimezone(UTC)
        else:
            out[key] = value
    return out


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


# --------------------------------------------------------------------------- row building


def _address(address: Address | None) -> dict[str, Any]:
    a = address or Address()
    return {
        "street1": a.street1,
        "street2": a.street2,
        "city": a.city,
        "state_or_country": a.state_or_country,
        "state_or_country_description": a.state_or_country_description,
        "zip_code": a.zip_code,
    }


def _issuer_row(index: int, issuer: Issuer) -> dict[str, Any]:
    return {
        "issuer_index": index,
        "is_primary": index == 0,
        "cik": issuer.cik,
        "entity_name": issuer.entity_name,
        **_address(issuer.address),
        "phone_number": issuer.phone_number,
        "jurisdiction_of_inc": issuer.jurisdiction_of_inc,
        "entity_type": issuer.entity_type,
        "entity_type_other_description": issuer.entity_type_other_description,
        "year_of_inc_choice": issuer.year_of_inc_choice,
        "year_of_inc": issuer.year_of_inc,
    }


def _filing_columns(filing: FormDFiling) -> dict[str, Any]:
    """The columns of ``filings`` that come from the record (no keys, ids or provenance)."""
    doc = filing.document
    o = doc.offering
    header = filing.header
    cik = doc.primary_issuer.cik or (header.filers[0].cik if header and header.filers else None)
    return {
        "accession_number": filing.accession_number,
        "file_number": filing.file_number,
        "submission_type": filing.submission_type,
        "document_submission_type": doc.submission_type,
        "filing_date": header.filed_as_of_date if header else None,
        "accepted_at": header.accepted_at if header else None,
        "cik": cik,
        "schema_version": doc.schema_version,
        "test_or_live": doc.test_or_live,
        "has_over_100_issuers": doc.has_over_100_issuers,
        "is_authorized_representative": doc.is_authorized_representative,
        "industry_group": o.industry_group,
        "investment_fund_type": o.investment_fund_type,
        "is_40_act": o.is_40_act,
        "revenue_range": o.revenue_range,
        "aggregate_net_asset_value_range": o.aggregate_net_asset_value_range,
        "is_amendment": o.is_amendment,
        "previous_accession_number": o.previous_accession_number,
        "first_sale_date": o.first_sale_date,
        "is_first_sale_yet_to_occur": o.is_first_sale_yet_to_occur,
        "is_more_than_one_year": o.is_more_than_one_year,
        "is_equity": o.is_equity,
        "is_debt": o.is_debt,
        "is_option_to_acquire": o.is_option_to_acquire,
        "is_security_to_be_acquired": o.is_security_to_be_acquired,
        "is_pooled_investment_fund_interest": o.is_pooled_investment_fund_interest,
        "is_tenant_in_common": o.is_tenant_in_common,
        "is_mineral_property": o.is_mineral_property,
        "is_other_security": o.is_other_security,
        "other_security_description": o.other_security_description,
        "is_business_combination": o.is_business_combination,
        "business_combination_clarification": o.business_combination_clarification,
        "minimum_investment": o.minimum_investment,
        "has_over_100_recipients": o.has_over_100_recipients,
        "total_offering_amount": o.total_offering_amount,
        "is_offering_amount_indefinite": o.is_offering_amount_indefinite,
        "total_amount_sold": o.total_amount_sold,
        "total_remaining": o.total_remaining,
        "is_remaining_indefinite": o.is_remaining_indefinite,
        "sales_amounts_clarification": o.sales_amounts_clarification,
        "has_non_accredited_investors": o.has_non_accredited_investors,
        "non_accredited_investors": o.non_accredited_investors,
        "total_investors": o.total_investors,
        "sales_commissions": o.sales_commissions,
        "is_sales_commissions_estimate": o.is_sales_commissions_estimate,
        "finders_fees": o.finders_fees,
        "is_finders_fees_estimate": o.is_finders_fees_estimate,
        "commissions_clarification": o.commissions_clarification,
        "gross_proceeds_used": o.gross_proceeds_used,
        "is_gross_proceeds_estimate": o.is_gross_proceeds_estimate,
        "proceeds_clarification": o.proceeds_clarification,
    }


def _child_rows(filing: FormDFiling) -> dict[str, list[dict[str, Any]]]:
    """Rows of every child table of one filing, without ``filing_id``, in document order."""
    doc = filing.document
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in _CHILD_TABLES}
    if filing.header is not None:
        for i, filer in enumerate(filing.header.filers):
            rows[_filers.name].append(
                {
                    "filer_index": i,
                    "cik": filer.cik,
                    "company_name": filer.name,
                    "file_number": filer.file_number,
                }
            )
    for i, issuer in enumerate((doc.primary_issuer, *doc.co_issuers)):
        rows[_issuers.name].append(_issuer_row(i, issuer))
        for source, names in (
            ("issuer", issuer.issuer_previous_names),
            ("edgar", issuer.edgar_previous_names),
        ):
            for j, name in enumerate(names):
                rows[_previous_names.name].append(
                    {"issuer_index": i, "name_source": source, "name_index": j, "previous_name": name}
                )
    for i, person in enumerate(doc.related_persons):
        rows[_persons.name].append(
            {
                "person_index": i,
                "first_name": person.first_name,
                "middle_name": person.middle_name,
                "last_name": person.last_name,
                **_address(person.address),
                "relationship_clarification": person.relationship_clarification,
            }
        )
        for j, relationship in enumerate(person.relationships):
            rows[_relationships.name].append(
                {"person_index": i, "relationship_index": j, "relationship": relationship}
            )
    for i, recipient in enumerate(doc.offering.sales_compensation_recipients):
        rows[_recipients.name].append(
            {
                "recipient_index": i,
                "recipient_name": recipient.name,
                "crd_number": recipient.crd_number,
                "associated_broker_dealer_name": recipient.associated_broker_dealer_name,
                "associated_broker_dealer_crd_number": recipient.associated_broker_dealer_crd_number,
                **_address(recipient.address),
                "is_all_states": recipient.is_all_states,
                "is_foreign_solicitation": recipient.is_foreign_solicitation,
            }
        )
        for j, state in enumerate(recipient.states_of_solicitation):
            rows[_recipient_states.name].append({"recipient_index": i, "state_index": j, "state_code": state})
    for i, code in enumerate(doc.offering.federal_exemptions):
        rows[_exemptions.name].append({"exemption_index": i, "exemption_code": code})
    for i, sig in enumerate(doc.signatures):
        rows[_signatures.name].append(
            {
                "signature_index": i,
                "issuer_name": sig.issuer_name,
                "signature_name": sig.signature_name,
                "name_of_signer": sig.name_of_signer,
                "signer_title": sig.title,
                "signature_date": sig.signature_date,
            }
        )
    return rows


@dataclass(slots=True)
class _Prepared:
    """One document on its way in: keys and digests computed before any SQL."""

    raw: RawDocument
    filing: FormDFiling
    parser_version: str
    filing_key: str
    digest: str  # of the whole record (header and document)
    document_digest: str  # of the Form D document alone


def _prepare(raw: RawDocument, filing: FormDFiling, parser_version: str) -> _Prepared:
    document_digest = hashlib.sha256(repr(filing.document).encode("utf-8")).hexdigest()
    return _Prepared(
        raw=raw,
        filing=filing,
        parser_version=parser_version,
        filing_key=filing_key_for(filing, raw.sha256),
        digest=hashlib.sha256(f"{filing.header!r}|{document_digest}".encode()).hexdigest(),
        document_digest=document_digest,
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, sa.exc.StatementError) and exc.orig is not None:
        text = f"{type(exc.orig).__name__}: {exc.orig}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first_line[:500]


def _is_document_error(exc: BaseException) -> bool:
    """An error caused by one document's data (isolate it), not by the database being unusable."""
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return False
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return False
    return isinstance(exc, sa.exc.StatementError | ValueError | TypeError | ArithmeticError)


# --------------------------------------------------------------------------- the store


class Store:
    """Reads and writes the database through an Engine made by ``create_engine_for``."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = _utc_now) -> None:
        if not _is_configured(engine):
            raise ValueError("build SQLite engines with edgar_ingest.store.create_engine_for(url)")
        self.engine = engine
        self._clock = clock
        # Write transactions on SQLite take the write lock at BEGIN (no read-then-upgrade deadlock).
        self._writer = engine.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"})

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True) -> Store:
        engine = create_engine_for(url)
        if migrate:
            upgrade(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the store's clock must return aware datetimes")
        return now

    # ------------------------------------------------------------------ filings

    def save(self, raw: RawDocument, filing: FormDFiling, parser_version: str) -> Outcome:
        """Store one parsed document (one transaction); see ``save_many``."""
        return self.save_many([(raw, filing)], parser_version)[0]

    def save_many(
        self, items: Sequence[tuple[RawDocument, FormDFiling]], parser_version: str
    ) -> list[Outcome]:
        """Store a batch in one transaction; one ``Outcome`` per item, in order.

        A document whose rows cannot be written is rolled back alone (savepoint), recorded in
        ``failures`` (stage ``store``) and reported as failed; the others are committed.
        A filing key seen twice in a batch is written in order (the later one wins).
        """
        prepared = [_prepare(raw, filing, parser_version) for raw, filing in items]
        outcomes: list[Outcome | None] = [None] * len(prepared)
        with self._writer.begin() as conn:
            for round_indexes in _rounds(prepared):
                batch = [prepared[i] for i in round_indexes]
                try:
                    with conn.begin_nested():
                        results = self._write(conn, batch)
                except Exception as exc:
                    if not _is_document_error(exc):
                        raise
                    results = [self._write_isolated(conn, p) for p in batch]
                for i, outcome in zip(round_indexes, results, strict=True):
                    outcomes[i] = outcome
            if any(o is not None and o.status != OutcomeStatus.UNCHANGED for o in outcomes):
                self._rekey_orphan_amendments(conn)
        return [o for o in outcomes if o is not None]

    def _write_isolated(self, conn: Connection, item: _Prepared) -> Outcome:
        try:
            with conn.begin_nested():
                return self._write(conn, [item])[0]
        except Exception as exc:
            if not _is_document_error(exc):
                raise
            reason = f"could not be stored: {_describe(exc)}"
            self._record_failure(
                conn,
                source=item.raw.source_url,
                reason=reason,
                stage="store",
                accession_number=item.filing.accession_number,
                raw=item.raw,
            )
            return Outcome(OutcomeStatus.FAILED, item.filing_key, reason)

    def _write(self, conn: Connection, batch: list[_Prepared]) -> list[Outcome]:
        """Bulk-write a batch whose filing keys and documents are distinct.

        A bare XML and the full submission of the same filing are one filing: a bare XML whose
        document is already stored is unchanged, and a full submission whose document is stored
        from a bare XML takes that row over (its key becomes the accession number).
        """
        now = self._now()
        columns = (
            _filings.c.id,
            _filings.c.filing_key,
            _filings.c.accession_number,
            _filings.c.document_sha256,
            _filings.c.record_sha256,
            _filings.c.parser_version,
            _filings.c.raw_document_id,
        )
        existing: dict[str, Any] = {}
        for chunk in _chunks([p.filing_key for p in batch]):
            for row in conn.execute(sa.select(*columns).where(_filings.c.filing_key.in_(chunk))):
                existing[row.filing_key] = row
        by_document: dict[str, Any] = {}
        unmatched = sorted({p.document_digest for p in batch if p.filing_key not in existing})
        for chunk in _chunks(unmatched):
            for row in conn.execute(sa.select(*columns).where(_filings.c.document_sha256.in_(chunk))):
                if row.document_sha256 not in by_document or row.accession_number is None:
                    by_document[row.document_sha256] = row
        outcomes: list[Outcome] = []
        inserts: list[_Prepared] = []
        updates: list[tuple[_Prepared, Any]] = []
        for p in batch:
            old = existing.get(p.filing_key)
            same_document = by_document.get(p.document_digest)
            if old is None and same_document is not None:
                if p.filing.accession_number is None:
                    # A bare XML of a filing stored already (from its full submission or as XML).
                    outcomes.append(Outcome(OutcomeStatus.UNCHANGED, same_document.filing_key))
                    continue
                if same_document.accession_number is None:
                    old = same_document  # the full submission replaces the bare XML's row
            if old is None:
                inserts.append(p)
                outcomes.append(Outcome(OutcomeStatus.INSERTED, p.filing_key))
            elif (
                old.filing_key == p.filing_key
                and old.record_sha256 == p.digest
                and old.parser_version == p.parser_version
            ):
                outcomes.append(Outcome(OutcomeStatus.UNCHANGED, p.filing_key))
            else:
                updates.append((p, old))
                outcomes.append(Outcome(OutcomeStatus.UPDATED, p.filing_key))
        written = inserts + [p for p, _ in updates]
        if written:
            raw_ids = self._store_raw_documents(conn, [p.raw for p in written], now)
            offering_keys = self._offering_keys(conn, written)
            rows: dict[str, dict[str, Any]] = {}
            for p in written:
                rows[p.filing_key] = {
                    **_filing_columns(p.filing),
                    "offering_key": offering_keys[p.filing_key],
                    "parser_version": p.parser_version,
                    "record_sha256": p.digest,
                    "document_sha256": p.document_digest,
                    "raw_document_id": raw_ids[p.raw.sha256],
                    "updated_at": now,
                }
            filing_ids: dict[str, int] = {}
            if inserts:
                insert_rows = [
                    {**rows[p.filing_key], "filing_key": p.filing_key, "created_at": now} for p in inserts
                ]
                # executemany, then read the ids back: on PostgreSQL a multi-row INSERT ... RETURNING
                # is one huge statement that psycopg re-parses every time (it caches short ones).
                conn.execute(sa.insert(_filings), insert_rows)
                new_keys = [p.filing_key for p in inserts]
                for chunk in _chunks(new_keys):
                    id_rows = conn.execute(
                        sa.select(_filings.c.id, _filings.c.filing_key).where(
                            _filings.c.filing_key.in_(chunk)
                        )
                    )
                    filing_ids.update((key, filing_id) for filing_id, key in id_rows)
            if updates:
                update_ids = [old.id for _, old in updates]
                for table in reversed(_CHILD_TABLES):
                    for chunk in _chunks(update_ids):
                        conn.execute(sa.delete(table).where(table.c.filing_id.in_(chunk)))
                conn.execute(
                    sa.update(_filings).where(_filings.c.id == sa.bindparam("_filing_id")),
                    [
                        {**rows[p.filing_key], "filing_key": p.filing_key, "_filing_id": old.id}
                        for p, old in updates
                    ],
                )
                for p, old in updates:
                    filing_ids[p.filing_key] = old.id
                replaced = {old.raw_document_id for p, old in updates} - set(raw_ids.values())
                self._delete_unreferenced_raw(conn, sorted(replaced))
            self._insert_children(conn, [(filing_ids[p.filing_key], p.filing) for p in written])
        self._resolve_failures_for(conn, batch, now)
        return outcomes

    def _store_raw_documents(
        self, conn: Connection, raws: list[RawDocument], now: datetime
    ) -> dict[str, int]:
        """Ids of the raw documents by sha256, inserting the ones not stored yet."""
        ids: dict[str, int] = {}
        shas = sorted({r.sha256 for r in raws})
        for chunk in _chunks(shas):
            for row in conn.execute(sa.select(_raw.c.id, _raw.c.sha256).where(_raw.c.sha256.in_(chunk))):
                ids[row.sha256] = row.id
        new: dict[str, RawDocument] = {}
        for r in raws:
            if r.sha256 not in ids and r.sha256 not in new:
                new[r.sha256] = r
        if new:
            conn.execute(sa.insert(_raw), [self._raw_row(r, now) for r in new.values()])
            for chunk in _chunks(list(new)):
                for row in conn.execute(sa.select(_raw.c.id, _raw.c.sha256).where(_raw.c.sha256.in_(chunk))):
                    ids[row.sha256] = row.id
        return ids

    @staticmethod
    def _raw_row(raw: RawDocument, now: datetime) -> dict[str, Any]:
        compressed = zlib.compress(raw.content, 6)
        return {
            "sha256": raw.sha256,
            "content_zlib": compressed,
            "content_size_bytes": len(raw.content),
            "compressed_size_bytes": len(compressed),
            "source_url": raw.source_url,
            "fetched_at": raw.fetched_at,
            "stored_at": now,
        }

    def _offering_keys(self, conn: Connection, batch: list[_Prepared]) -> dict[str, str]:
        """File number, else the offering of the previous accession when stored, else a fallback."""
        wanted = sorted(
            {
                p.filing.document.offering.previous_accession_number
                for p in batch
                if p.filing.file_number is None and p.filing.document.offering.previous_accession_number
            }
        )
        known: dict[str, str] = {}
        for chunk in _chunks(wanted):
            for row in conn.execute(
                sa.select(_filings.c.accession_number, _filings.c.offering_key).where(
                    _filings.c.accession_number.in_(chunk)
                )
            ):
                known[row.accession_number] = row.offering_key
        keys: dict[str, str] = {}
        for p in batch:
            filing = p.filing
            previous = filing.document.offering.previous_accession_number
            if filing.file_number:
                key = filing.file_number
            elif previous and previous in known:
                key = known[previous]
            else:
                key = fallback_offering_key(filing, p.raw.sha256)
            keys[p.filing_key] = key
            if filing.accession_number:
                known[filing.accession_number] = key
        return keys

    def _rekey_orphan_amendments(self, conn: Connection) -> None:
        """Filings without file number join their previous filing's offering once it is stored."""
        previous = _filings.alias("previous")
        previous_key = (
            sa.select(previous.c.offering_key)
            .where(previous.c.accession_number == _filings.c.previous_accession_number)
            .scalar_subquery()
        )
        stmt = (
            sa.update(_filings)
            .where(
                _filings.c.file_number.is_(None),
                _filings.c.previous_accession_number.is_not(None),
                sa.exists().where(
                    previous.c.accession_number == _filings.c.previous_accession_number,
                    previous.c.offering_key != _filings.c.offering_key,
                ),
            )
            .values(offering_key=previous_key)
        )
        for _ in range(10):  # chains of keyless amendments converge one link per pass
            if conn.execute(stmt).rowcount == 0:
                break

    def _insert_children(self, conn: Connection, filings: list[tuple[int, FormDFiling]]) -> None:
        collected: dict[str, list[dict[str, Any]]] = {t.name: [] for t in _CHILD_TABLES}
        for filing_id, filing in filings:
            for name, rows in _child_rows(filing).items():
                collected[name].extend({"filing_id": filing_id, **row} for row in rows)
        for table in _CHILD_TABLES:
            rows = collected[table.name]
            if rows:
                conn.execute(sa.insert(table), rows)

    def _delete_unreferenced_raw(self, conn: Connection, raw_ids: list[int]) -> None:
        for chunk in _chunks(raw_ids):
            conn.execute(
                sa.delete(_raw).where(
                    _raw.c.id.in_(chunk),
                    ~sa.exists().where(_filings.c.raw_document_id == _raw.c.id),
                    ~sa.exists().where(_failures.c.raw_document_id == _raw.c.id),
                )
            )

    def _resolve_failures_for(self, conn: Connection, batch: list[_Prepared], now: datetime) -> None:
        """Mark resolved the failures of documents that are now stored."""
        has_open = conn.execute(
            sa.select(_failures.c.id).where(_failures.c.is_resolved.is_(False)).limit(1)
        ).first()
        if has_open is None:
            return
        accessions = sorted({p.filing.accession_number for p in batch if p.filing.accession_number})
        shas = sorted({p.raw.sha256 for p in batch})
        values = {"is_resolved": True, "resolved_at": now}
        open_ = _failures.c.is_resolved.is_(False)
        for chunk in _chunks(accessions):
            conn.execute(
                sa.update(_failures).where(open_, _failures.c.accession_number.in_(chunk)).values(values)
            )
        for chunk in _chunks(shas):
            conn.execute(sa.update(_failures).where(open_, _failures.c.sha256.in_(chunk)).values(values))

    def known_accessions(self, candidates: Iterable[str]) -> set[str]:
        """The candidates already stored, or whose bytes are stored with a parse failure.

        Neither needs fetching again: ``reparse`` re-reads stored bytes. Fetch failures (no bytes)
        are not included, so the pipeline tries them again.
        """
        wanted = sorted(set(candidates))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                stored = sa.select(_filings.c.accession_number).where(_filings.c.accession_number.in_(chunk))
                failed_with_bytes = sa.select(_failures.c.accession_number).where(
                    _failures.c.accession_number.in_(chunk), _failures.c.raw_document_id.is_not(None)
                )
                for stmt in (stored, failed_with_bytes):
                    found.update(a for a in conn.scalars(stmt) if a)
        return found

    def iter_raw_documents(self, page_size: int = 500) -> Iterator[RawDocument]:
        """Every stored raw document (stored filings' and failed ones'), decompressed, by id.

        Reads page by page in short transactions, so memory stays flat and writers are not blocked.
        """
        last_id = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(
                        _raw.c.id, _raw.c.content_zlib, _raw.c.source_url, _raw.c.fetched_at, _raw.c.sha256
                    )
                    .where(_raw.c.id > last_id)
                    .order_by(_raw.c.id)
                    .limit(page_size)
                ).all()
            if not rows:
                return
            for row in rows:
                yield RawDocument(
                    content=zlib.decompress(row.content_zlib),
                    source_url=row.source_url,
                    fetched_at=row.fetched_at,
                    sha256=row.sha256,
                )
            last_id = rows[-1].id

    def raw_document_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(_raw)) or 0)

    # ------------------------------------------------------------------ failures

    def record_failure(
        self,
        source: str,
        reason: str,
        *,
        stage: str = "parse",
        accession_number: str | None = None,
        raw: RawDocument | None = None,
    ) -> int:
        """Record (or update) the failure of one document; returns its id.

        One row per document (its accession number, else the sha256 of its bytes, else its
        source): a repeated failure updates the reason and the last-seen time and counts the
        attempt. With ``raw``, the bytes are kept so that ``reparse`` can retry without network.
        """
        with self._writer.begin() as conn:
            return self._record_failure(
                conn, source=source, reason=reason, stage=stage, accession_number=accession_number, raw=raw
            )

    def _record_failure(
        self,
        conn: Connection,
        *,
        source: str,
        reason: str,
        stage: str,
        accession_number: str | None,
        raw: RawDocument | None,
    ) -> int:
        now = self._now()
        if accession_number:
            key = accession_number
        elif raw is not None:
            key = f"sha256:{raw.sha256}"
        else:
            key = f"source:{source}"[:600]
        raw_id = self._store_raw_documents(conn, [raw], now)[raw.sha256] if raw is not None else None
        existing = conn.execute(
            sa.select(_failures.c.id, _failures.c.raw_document_id).where(_failures.c.failure_key == key)
        ).first()
        values: dict[str, Any] = {
            "source": source,
            "accession_number": accession_number,
            "stage": stage,
            "reason": reason,
            "last_seen_at": now,
            "is_resolved": False,
            "resolved_at": None,
        }
        if raw is not None:
            values["sha256"] = raw.sha256
            values["raw_document_id"] = raw_id
        if existing is None:
            values.update(
                failure_key=key,
                first_seen_at=now,
                attempt_count=1,
                sha256=raw.sha256 if raw is not None else None,
                raw_document_id=raw_id,
            )
            return int(conn.execute(sa.insert(_failures).returning(_failures.c.id), [values]).scalar_one())
        conn.execute(
            sa.update(_failures)
            .where(_failures.c.id == existing.id)
            .values(attempt_count=_failures.c.attempt_count + 1, **values)
        )
        if raw_id is not None and existing.raw_document_id not in (None, raw_id):
            self._delete_unreferenced_raw(conn, [existing.raw_document_id])
        return int(existing.id)

    def list_failures(self, *, include_resolved: bool = False, limit: int | None = None) -> list[FailureInfo]:
        stmt = sa.select(_failures).order_by(_failures.c.last_seen_at.desc(), _failures.c.id.desc())
        if not include_resolved:
            stmt = stmt.where(_failures.c.is_resolved.is_(False))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return [
                FailureInfo(
                    id=r.id,
                    failure_key=r.failure_key,
                    source=r.source,
                    accession_number=r.accession_number,
                    sha256=r.sha256,
                    stage=r.stage,
                    reason=r.reason,
                    first_seen_at=r.first_seen_at,
                    last_seen_at=r.last_seen_at,
                    attempt_count=r.attempt_count,
                    is_resolved=bool(r.is_resolved),
                    has_raw_document=r.raw_document_id is not None,
                )
                for r in conn.execute(stmt)
            ]

    def resolve_failure(self, failure_id: int) -> bool:
        """Mark one failure resolved by hand; False when there is no such open failure."""
        with self._writer.begin() as conn:
            result = conn.execute(
                sa.update(_failures)
                .where(_failures.c.id == failure_id, _failures.c.is_resolved.is_(False))
                .values(is_resolved=True, resolved_at=self._now())
            )
            return result.rowcount > 0

    def raw_document_of_failure(self, failure_id: int) -> RawDocument | None:
        """The stored bytes of a failed document (for ``failures --retry``), if kept."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(_raw.c.content_zlib, _raw.c.source_url, _raw.c.fetched_at, _raw.c.sha256)
                .join(_failures, _failures.c.raw_document_id == _raw.c.id)
                .where(_failures.c.id == failure_id)
            ).first()
        if row is None:
            return None
        return RawDocument(
            content=zlib.decompress(row.content_zlib),
            source_url=row.source_url,
            fetched_at=row.fetched_at,
            sha256=row.sha256,
        )

    # ------------------------------------------------------------------ runs

    def start_run(
        self, command: str, *, range_start_date: date | None = None, range_end_date: date | None = None
    ) -> int:
        with self._writer.begin() as conn:
            values: dict[str, Any] = {f"{name}_count": 0 for name in RUN_COUNT_FIELDS}
            values.update(
                command=command,
                status="running",
                started_at=self._now(),
                range_start_date=range_start_date,
                range_end_date=range_end_date,
            )
            return int(conn.execute(sa.insert(_runs).returning(_runs.c.id), [values]).scalar_one())

    def update_run(self, run_id: int, counts: RunCounts) -> None:
        """Record a running run's progress."""
        with self._writer.begin() as conn:
            conn.execute(sa.update(_runs).where(_runs.c.id == run_id).values(self._count_values(counts)))

    def finish_run(
        self, run_id: int, counts: RunCounts, *, status: str = "completed", message: str | None = None
    ) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                sa.update(_runs)
                .where(_runs.c.id == run_id)
                .values(status=status, finished_at=self._now(), message=message, **self._count_values(counts))
            )

    def abandon_running_runs(self, commands: Sequence[str], message: str) -> int:
        """Mark runs of ``commands`` still "running" as abandoned; returns how many.

        Call it only while holding the lock those commands share: then no such run can really be
        running, and a row still saying so belongs to a process that was killed (kill -9, power).
        """
        with self._writer.begin() as conn:
            result = conn.execute(
                sa.update(_runs)
                .where(_runs.c.status == "running", _runs.c.command.in_(list(commands)))
                .values(status="abandoned", message=message)
            )
            return int(result.rowcount or 0)

    @staticmethod
    def _count_values(counts: RunCounts) -> dict[str, int]:
        return {f"{name}_count": int(getattr(counts, name)) for name in RUN_COUNT_FIELDS}

    def last_runs(self, limit: int = 10) -> list[RunInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_runs).order_by(_runs.c.id.desc()).limit(limit)).all()
        return [
            RunInfo(
                id=r.id,
                command=r.command,
                status=r.status,
                started_at=r.started_at,
                finished_at=r.finished_at,
                range_start_date=r.range_start_date,
                range_end_date=r.range_end_date,
                counts={name: int(getattr(r, f"{name}_count")) for name in RUN_COUNT_FIELDS},
                message=r.message,
            )
            for r in rows
        ]

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

    def get_checkpoint(self, key: str = CHECKPOINT_KEY) -> date | None:
        """The last day ``sync`` completed (None before the first sync)."""
        value = self.get_state(key)
        return date.fromisoformat(value) if value else None

    def set_checkpoint(self, day: date, key: str = CHECKPOINT_KEY) -> None:
        self.set_state(key, day.isoformat())

    # ------------------------------------------------------------------ locks

    def acquire_lock(self, name: str, *, owner: str | None = None, ttl: timedelta = DEFAULT_LOCK_TTL) -> Lock:
        """Take the named lock or raise ``LockHeldError``.

        PostgreSQL: a session-level advisory lock, held by a dedicated connection until released
        (a crashed process's connection ends, and the lock with it). SQLite: a row in ``locks``
        that expires ``ttl`` after the last heartbeat, so a crashed run cannot leave it stuck; a
        row whose owner was a process of this host that no longer exists is taken over at once.
        """
        owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # see _owner_is_dead
        if self.dialect == "postgresql":
            conn = self.engine.connect()
            try:
                got = conn.scalar(sa.select(sa.func.pg_try_advisory_lock(_advisory_key(name))))
                conn.commit()
            except BaseException:
                conn.close()
                raise
            if not got:
                conn.close()
                raise LockHeldError(f"Another run holds the {name!r} lock; wait for it to finish.")
            return Lock(name=name, owner=owner, _store=self, _connection=conn)
        now = self._now()
        with self._writer.begin() as conn:
            row = conn.execute(
                sa.select(_locks.c.owner, _locks.c.expires_at).where(_locks.c.lock_name == name)
            ).first()
            values = {"owner": owner, "acquired_at": now, "heartbeat_at": now, "expires_at": now + ttl}
            if row is None:
                conn.execute(sa.insert(_locks).values(lock_name=name, **values))
            elif row.expires_at <= now or row.owner == owner or _owner_is_dead(row.owner):
                conn.execute(sa.update(_locks).where(_locks.c.lock_name == name).values(values))
            else:
                raise LockHeldError(
                    f"Another run ({row.owner}) holds the {name!r} lock until "
                    f"{row.expires_at:%Y-%m-%d %H:%M:%S} UTC unless it heartbeats; wait for it to finish."
                )
        return Lock(name=name, owner=owner, _store=self)

    def heartbeat_lock(self, lock: Lock, *, ttl: timedelta = DEFAULT_LOCK_TTL) -> None:
        """Extend a SQLite lock; raises ``LockHeldError`` if it expired and another run took it."""
        if lock.released:
            raise LockHeldError(f"The {lock.name!r} lock was released.")
        if lock._connection is not None:
            lock._connection.execute(sa.select(1))  # keep the session (and its lock) alive
            lock._connection.commit()
            return
        now = self._now()
        with self._writer.begin() as conn:
            result = conn.execute(
                sa.update(_locks)
                .where(_locks.c.lock_name == lock.name, _locks.c.owner == lock.owner)
                .values(heartbeat_at=now, expires_at=now + ttl)
            )
            if result.rowcount == 0:
                raise LockHeldError(f"The {lock.name!r} lock expired and was taken by another run.")

    def release_lock(self, lock: Lock) -> None:
        if lock.released:
            return
        lock.released = True
        if lock._connection is not None:
            try:
                lock._connection.scalar(sa.select(sa.func.pg_advisory_unlock(_advisory_key(lock.name))))
                lock._connection.commit()
            finally:
                lock._connection.close()
            return
        with self._writer.begin() as conn:
            conn.execute(
                sa.delete(_locks).where(_locks.c.lock_name == lock.name, _locks.c.owner == lock.owner)
            )

    # ------------------------------------------------------------------ reading

    def offering_versions(
        self,
        *,
        cik: str | None = None,
        file_number: str | None = None,
        accession_number: str | None = None,
        offering_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of ``offering_versions`` for the offerings matching one criterion (all if none).

        ``cik`` matches any issuer of a filing (primary or co-issuer); ``file_number`` any filer's
        file number; ``accession_number`` the offering that filing belongs to. Values are
        normalised to the same Python types on both databases (see ``normalise_view_row``).
        """
        keys = sa.select(_filings.c.offering_key)
        if cik is not None:
            padded = cik.strip().zfill(10)
            keys = keys.where(
                sa.or_(
                    _filings.c.cik == padded,
                    _filings.c.id.in_(sa.select(_issuers.c.filing_id).where(_issuers.c.cik == padded)),
                )
            )
        elif file_number is not None:
            number = file_number.strip()
            keys = keys.where(
                sa.or_(
                    _filings.c.file_number == number,
                    _filings.c.offering_key == number,
                    _filings.c.id.in_(sa.select(_filers.c.filing_id).where(_filers.c.file_number == number)),
                )
            )
        elif accession_number is not None:
            keys = keys.where(_filings.c.accession_number == accession_number.strip())
        elif offering_key is not None:
            keys = keys.where(_filings.c.offering_key == offering_key)
        view = sa.table("offering_versions", sa.column("offering_key"), sa.column("version"))
        stmt = sa.select(sa.text("*")).select_from(view)
        if any(v is not None for v in (cik, file_number, accession_number, offering_key)):
            stmt = stmt.where(view.c.offering_key.in_(keys.scalar_subquery()))
        stmt = stmt.order_by(view.c.offering_key, view.c.version)
        with self.engine.connect() as conn:
            return [normalise_view_row(dict(row._mapping)) for row in conn.execute(stmt)]

    def offerings_latest(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM offerings_latest ORDER BY offering_key"))
            return [normalise_view_row(dict(row._mapping)) for row in rows]

    def status(self, *, runs: int = 5) -> StoreStatus:
        with self.engine.connect() as conn:
            filings = conn.scalar(sa.select(sa.func.count()).select_from(_filings)) or 0
            offerings = conn.scalar(sa.select(sa.func.count(sa.distinct(_filings.c.offering_key)))) or 0
            raw = conn.scalar(sa.select(sa.func.count()).select_from(_raw)) or 0
            open_failures = (
                conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(_failures)
                    .where(_failures.c.is_resolved.is_(False))
                )
                or 0
            )
        return StoreStatus(
            filings=int(filings),
            offerings=int(offerings),
            raw_documents=int(raw),
            unresolved_failures=int(open_failures),
            checkpoint=self.get_checkpoint(),
            last_runs=self.last_runs(runs),
        )


def _rounds(prepared: Sequence[_Prepared]) -> list[list[int]]:
    """Split a batch so that a round holds a filing key or a document at most once (order kept)."""
    rounds: list[list[int]] = []
    last_round: dict[str, int] = {}
    for i, p in enumerate(prepared):
        keys = (p.filing_key, "document:" + p.document_digest)
        r = max(last_round.get(k, -1) for k in keys) + 1
        if r == len(rounds):
            rounds.append([])
        rounds[r].append(i)
        for k in keys:
            last_round[k] = r
    return rounds


def _owner_is_dead(owner: str) -> bool:
    """True when a lock owner ("host:pid:nonce") was a process of this host that has exited."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or os.name != "posix" or parts[0] != socket.gethostname():
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock from a lock name."""
    return int.from_bytes(hashlib.sha256(f"edgar_ingest:{name}".encode()).digest()[:8], "big", signed=True)
