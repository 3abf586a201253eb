"""SQLAlchemy models of the database: the only schema definition the migrations are checked against.

Only ``store`` uses these models. The schema itself is created by the Alembic migrations under
``migrations/`` (installed as ``edgar_ingest.migrations``), never by ``create_all``; a test runs
Alembic's ``check`` to prove that the models and the migrations agree.

Naming follows PUDL: dates end in ``_date``, instants in ``_at`` (timezone-aware, UTC), booleans
start with ``is_``/``has_``, sizes and counts carry their unit (``_bytes``, ``_count``).
Amounts are whole dollars stored as BIGINT (``Amount``), never floats. Child tables of
``filings`` are keyed by ``(filing_id, <thing>_index)`` so that document order is kept and a
re-derivation is a plain delete-and-insert.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The Form D schema's amounts and investor counts: whole numbers from 0 to 999,999,999,999.
MAX_AMOUNT = 999_999_999_999


class Amount(TypeDecorator[Decimal]):
    """Whole US dollars, stored as BIGINT: exact, and summed exactly, by plain SQL on both databases.

    The Form D schema allows whole numbers from 0 to 999,999,999,999 only, and both parsers refuse
    anything else; a value outside that (a fraction, a negative, 13 digits) is refused here too,
    with ``ValueError``, never rounded. Values come back as ``Decimal``, as the records hold them.
    """

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"amounts must be Decimal, not {type(value).__name__}")
        if value != int(value) or not 0 <= value <= MAX_AMOUNT:
            raise ValueError(
                f"{value} is not a whole number of dollars from 0 to 999,999,999,999, the only amounts "
                "a Form D allows: it is refused, never rounded"
            )
        return int(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC (``timestamptz`` on PostgreSQL, UTC text on SQLite).

    Naive datetimes are refused on the way in; values come back aware, in UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: instants must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


# --------------------------------------------------------------------------- raw documents


class RawDocumentRow(Base):
    """The exact bytes of a fetched or read document, zlib-compressed, so ``reparse`` needs no network."""

    __tablename__ = "raw_documents"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_zlib: Mapped[bytes] = mapped_column(sa.LargeBinary)
    content_size_bytes: Mapped[int] = mapped_column(sa.Integer)
    compressed_size_bytes: Mapped[int] = mapped_column(sa.Integer)
    source_url: Mapped[str] = mapped_column(sa.Text)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --------------------------------------------------------------------------- filings


class FilingRow(Base):
    """One filing (one version of an offering): SEC header, Form D document and offering data."""

    __tablename__ = "filings"
    __table_args__ = (
        sa.Index("ix_filings_offering_key_accepted_at", "offering_key", "accepted_at", "accession_number"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    # Natural key: the accession number, or "sha256:<hex of the raw bytes>" for a bare XML.
    filing_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    accession_number: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    # The primary issuer's SEC file number, else the offering of previous_accession_number when
    # known, else "accession:<accession>" / "sha256:<hex>" (see store.fallback_offering_key).
    offering_key: Mapped[str] = mapped_column(sa.String(80))
    file_number: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    submission_type: Mapped[str] = mapped_column(sa.String(10))
    document_submission_type: Mapped[str] = mapped_column(sa.String(10))
    filing_date: Mapped[date | None] = mapped_column(sa.Date, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cik: Mapped[str | None] = mapped_column(sa.String(10), index=True)
    schema_version: Mapped[str | None] = mapped_column(sa.String(20))
    test_or_live: Mapped[str | None] = mapped_column(sa.String(10))
    has_over_100_issuers: Mapped[bool] = mapped_column(sa.Boolean)
    is_authorized_representative: Mapped[bool] = mapped_column(sa.Boolean)
    # Item 4
    industry_group: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    investment_fund_type: Mapped[str | None] = mapped_column(sa.String(100))
    is_40_act: Mapped[bool | None] = mapped_column(sa.Boolean)
    # Item 5
    revenue_range: Mapped[str | None] = mapped_column(sa.String(100))
    aggregate_net_asset_value_range: Mapped[str | None] = mapped_column(sa.String(100))
    # Item 7
    is_amendment: Mapped[bool] = mapped_column(sa.Boolean)
    previous_accession_number: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    first_sale_date: Mapped[date | None] = mapped_column(sa.Date)
    is_first_sale_yet_to_occur: Mapped[bool] = mapped_column(sa.Boolean)
    # Item 8
    is_more_than_one_year: Mapped[bool] = mapped_column(sa.Boolean)
    # Item 9
    is_equity: Mapped[bool] = mapped_column(sa.Boolean)
    is_debt: Mapped[bool] = mapped_column(sa.Boolean)
    is_option_to_acquire: Mapped[bool] = mapped_column(sa.Boolean)
    is_security_to_be_acquired: Mapped[bool] = mapped_column(sa.Boolean)
    is_pooled_investment_fund_interest: Mapped[bool] = mapped_column(sa.Boolean)
    is_tenant_in_common: Mapped[bool] = mapped_column(sa.Boolean)
    is_mineral_property: Mapped[bool] = mapped_column(sa.Boolean)
    is_other_security: Mapped[bool] = mapped_column(sa.Boolean)
    other_security_description: Mapped[str | None] = mapped_column(sa.Text)
    # Item 10
    is_business_combination: Mapped[bool] = mapped_column(sa.Boolean)
    business_combination_clarification: Mapped[str | None] = mapped_column(sa.Text)
    # Item 11
    minimum_investment: Mapped[Decimal | None] = mapped_column(Amount)
    # Item 12
    has_over_100_recipients: Mapped[bool] = mapped_column(sa.Boolean)
    # Item 13
    total_offering_amount: Mapped[Decimal | None] = mapped_column(Amount)
    is_offering_amount_indefinite: Mapped[bool] = mapped_column(sa.Boolean)
    total_amount_sold: Mapped[Decimal | None] = mapped_column(Amount)
    total_remaining: Mapped[Decimal | None] = mapped_column(Amount)
    is_remaining_indefinite: Mapped[bool] = mapped_column(sa.Boolean)
    sales_amounts_clarification: Mapped[str | None] = mapped_column(sa.Text)
    # Item 14
    has_non_accredited_investors: Mapped[bool] = mapped_column(sa.Boolean)
    non_accredited_investors: Mapped[int | None] = mapped_column(sa.BigInteger)
    total_investors: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Item 15
    sales_commissions: Mapped[Decimal | None] = mapped_column(Amount)
    is_sales_commissions_estimate: Mapped[bool] = mapped_column(sa.Boolean)
    finders_fees: Mapped[Decimal | None] = mapped_column(Amount)
    is_finders_fees_estimate: Mapped[bool] = mapped_column(sa.Boolean)
    commissions_clarification: Mapped[str | None] = mapped_column(sa.Text)
    # Item 16
    gross_proceeds_used: Mapped[Decimal | None] = mapped_column(Amount)
    is_gross_proceeds_estimate: Mapped[bool] = mapped_column(sa.Boolean)
    proceeds_clarification: Mapped[str | None] = mapped_column(sa.Text)
    # Provenance: 'filing' (the filing's own document) or 'dataset' (a row of the SEC's Form D data
    # sets, raw_document_id then points at the archive). A filing's own document always wins.
    source: Mapped[str] = mapped_column(sa.String(10), index=True, server_default=sa.text("'filing'"))
    parser_version: Mapped[str] = mapped_column(sa.String(40))
    # Digests of the derived record: the whole filing, and its Form D document alone (which
    # identifies a bare XML with the full submission it came from).
    record_sha256: Mapped[str] = mapped_column(sa.String(64))
    document_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    raw_document_id: Mapped[int] = mapped_column(sa.ForeignKey("raw_documents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


_FILING_FK = "filings.id"


class FilingFilerRow(Base):
    """One FILER block of the SEC header, in order (a co-issued filing has one per issuer)."""

    __tablename__ = "filing_filers"

    filing_id: Mapped[int] = mapped_column(sa.ForeignKey(_FILING_FK, ondelete="CASCADE"), primary_key=True)
    filer_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    cik: Mapped[str] = mapped_column(sa.String(10), index=True)
    company_name: Mapped[str | None] = mapped_column(sa.Text)
    file_number: Mapped[str | None] = mapped_column(sa.String(40), index=True)


class FilingIssuerRow(Base):
    """The primary issuer (``issuer_index`` 0) and the co-issuers of ``issuerList``, in order."""

    __tablename__ = "filing_issuers"

    filing_id: Mapped[int] = mapped_column(sa.ForeignKey(_FILING_FK, ondelete="CASCADE"), primary_key=True)
    issuer_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    is_primary: Mapped[bool] = mapped_column(sa.Boolean)
    cik: Mapped[str | None] = mapped_column(sa.String(10), index=True)
    entity_name: Mapped[str | None] = mapped_column(sa.Text)
    street1: Mapped[str | None] = mapped_column(sa.Text)
    street2: Mapped[str | None] = mapped_column(sa.Text)
    city: Mapped[str | None] = mapped_column(sa.Text)
    state_or_country: Mapped[str | None] = mapped_column(sa.String(10))
    state_or_country_description: Mapped[str | None] = mapped_column(sa.Text)
    zip_code: Mapped[str | None] = mapped_column(sa.String(20))
    phone_number: Mapped[str | None] = mapped_column(sa.String(40))
    jurisdiction_of_inc: Mapped[str | None] = mapped_column(sa.Text)
    entity_type: Mapped[str | None] = mapped_column(sa.String(100))
    entity_type_other_description: Mapped[str | None] = mapped_column(sa.Text)
    year_of_inc_choice: Mapped[str | None] = mapped_column(sa.String(40))
    year_of_inc: Mapped[int | None] = mapped_column(sa.Integer)


class IssuerPreviousNameRow(Base):
    """An issuer's previous names: ``name_source`` is 'issuer' (as filed) or 'edgar' (EDGAR's list)."""

    __tablename__ = "issuer_previous_names"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["filing_id", "issuer_index"],
            ["filing_issuers.filing_id", "filing_issuers.issuer_index"],
            ondelete="CASCADE",
        ),
    )

    filing_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    issuer_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name_source: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    name_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    previous_name: Mapped[str] = mapped_column(sa.Text)


class RelatedPersonRow(Base):
    """Item 3: an executive officer, director or promoter, in document order."""

    __tablename__ = "related_persons"

    filing_id: Mapped[int] = mapped_column(sa.ForeignKey(_FILING_FK, ondelete="CASCADE"), primary_key=True)
    person_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    first_name: Mapped[str | None] = mapped_column(sa.Text)
    middle_name: Mapped[str | None] = mapped_column(sa.Text)
    last_name: Mapped[str | None] = mapped_column(sa.Text)
    street1: Mapped[str | None] = mapped_column(sa.Text)
    street2: Mapped[str | None] = mapped_column(sa.Text)
    city: Mapped[str | None] = mapped_column(sa.Text)
    state_or_country: Mapped[str | None] = mapped_column(sa.String(10))
    state_or_country_description: Mapped[str | None] = mapped_column(sa.Text)
    zip_code: Mapped[str | None] = mapped_column(sa.String(20))
    relationship_clarification: Mapped[str | None] = mapped_column(sa.Text)


class RelatedPersonRelationshipRow(Base):
    """One relationship of a related person ('Executive Officer', 'Director', 'Promoter')."""

    __tablename__ = "related_person_relationships"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["filing_id", "person_index"],
            ["related_persons.filing_id", "related_persons.person_index"],
            ondelete="CASCADE",
        ),
    )

    filing_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    person_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    relationship_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    relationship: Mapped[str] = mapped_column(sa.String(40))


class SalesCompensationRecipientRow(Base):
    """Item 12: a person paid for soliciting investors, in document order."""

    __tablename__ = "sales_compensation_recipients"

    filing_id: Mapped[int] = mapped_column(sa.ForeignKey(_FILING_FK, ondelete="CASCADE"), primary_key=True)
    recipient_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    recipient_name: Mapped[str | None] = mapped_column(sa.Text)
    crd_number: Mapped[str | None] = mapped_column(sa.String(20))
    associated_broker_dealer_name: Mapped[str | None] = mapped_column(sa.Text)
    associated_broker_dealer_crd_number: Mapped[str | None] = mapped_column(sa.String(20))
    street1: Mapped[str | None] = mapped_column(sa.Text)
    street2: Mapped[str | None] = mapped_column(sa.Text)
    city: Mapped[str | None] = mapped_column(sa.Text)
    state_or_country: Mapped[str | None] = mapped_column(sa.String(10))
    state_or_country_description: Mapped[str | None] = mapped_column(sa.Text)
    zip_code: Mapped[str | None] = mapped_column(sa.String(20))
    is_all_states: Mapped[bool] = mapped_column(sa.Boolean)
    is_foreign_solicitation: Mapped[bool] = mapped_column(sa.Boolean)


class RecipientStateRow(Base):
    """A state of solicitation of a recipient, in document order ("All States" is the flag)."""

    __tablename__ = "recipient_states"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["filing_id", "recipient_index"],
            ["sales_compensation_recipients.filing_id", "sales_compensation_recipients.recipient_index"],
            ondelete="CASCADE",
        ),
    )

    filing_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    recipient_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    state_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    state_code: Mapped[str] = mapped_column(sa.String(10))


class FilingExemptionRow(Base):
    """Item 6: a federal exemption or exclusion code ('06b', '3C', '3C.7'), in document order."""

    __tablename__ = "filing_exemptions"

    filing_id: Mapped[int] = mapped_column(sa.ForeignKey(_FILING_FK, ondelete="CASCADE"), primary_key=True)
    exemption_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    exemption_code: Mapped[str] = mapped_column(sa.String(20), index=True)


class SignatureRow(Base):
    """A signature of the signature block, in document order."""

    __tablename__ = "signatures"

    filing_id: Mapped[int] = mapped_column(sa.ForeignKey(_FILING_FK, ondelete="CASCADE"), primary_key=True)
    signature_index: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    issuer_name: Mapped[str | None] = mapped_column(sa.Text)
    signature_name: Mapped[str | None] = mapped_column(sa.Text)
    name_of_signer: Mapped[str | None] = mapped_column(sa.Text)
    signer_title: Mapped[str | None] = mapped_column(sa.Text)
    signature_date: Mapped[date | None] = mapped_column(sa.Date)


# --------------------------------------------------------------------------- data sets


class DatasetArchiveRow(Base):
    """One load of one archive of the SEC's Form D data sets (the bytes are a raw document).

    A load covers the filings of ``[range_start_date, range_end_date)`` (the requested range
    clipped to the archive's quarter); ``completed_at`` is set only when every row of that range
    was stored or recorded as failed, so a killed load is simply done again. A later request is
    skipped when a completed load of the same bytes (sha256) covered its range.
    """

    __tablename__ = "dataset_archives"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    archive_name: Mapped[str] = mapped_column(sa.String(200))  # "2024q1_d.zip"
    url: Mapped[str] = mapped_column(sa.Text)
    year: Mapped[int] = mapped_column(sa.Integer)
    quarter: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    raw_document_id: Mapped[int] = mapped_column(sa.ForeignKey("raw_documents.id"), index=True)
    range_start_date: Mapped[date] = mapped_column(sa.Date)
    range_end_date: Mapped[date] = mapped_column(sa.Date)
    filing_count: Mapped[int] = mapped_column(sa.Integer)  # rows of FORMDSUBMISSION in the range
    inserted_count: Mapped[int] = mapped_column(sa.Integer)
    updated_count: Mapped[int] = mapped_column(sa.Integer)
    unchanged_count: Mapped[int] = mapped_column(sa.Integer)
    failed_count: Mapped[int] = mapped_column(sa.Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The answer's ETag and Last-Modified, as sent: given back on the next GET (304: unchanged).
    etag: Mapped[str | None] = mapped_column(sa.Text)
    last_modified: Mapped[str | None] = mapped_column(sa.Text)


class SourceDisagreementRow(Base):
    """A field on which the data set and the filing's own document disagree (``reconcile``)."""

    __tablename__ = "source_disagreements"
    __table_args__ = (sa.UniqueConstraint("accession_number", "field_name"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    accession_number: Mapped[str] = mapped_column(sa.String(20), index=True)
    field_name: Mapped[str] = mapped_column(sa.String(200), index=True)  # "offering.total_amount_sold"
    dataset_value: Mapped[str | None] = mapped_column(sa.Text)
    filing_value: Mapped[str | None] = mapped_column(sa.Text)
    archive_name: Mapped[str] = mapped_column(sa.String(200))
    found_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --------------------------------------------------------------------------- operations


class FailureRow(Base):
    """A document that could not be fetched, parsed or stored; one row per document, kept up to date.

    ``failure_key`` is the accession number when known, else ``sha256:<hex>`` of the bytes, else
    ``source:<source>``. A later successful save marks it resolved.
    """

    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    failure_key: Mapped[str] = mapped_column(sa.String(600), unique=True)
    source: Mapped[str] = mapped_column(sa.Text)
    accession_number: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    raw_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("raw_documents.id"), index=True)
    stage: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempt_count: Mapped[int] = mapped_column(sa.Integer)
    is_resolved: Mapped[bool] = mapped_column(sa.Boolean, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RunRow(Base):
    """One run of a command (sync, backfill, ingest, reparse, failures --retry) and what it did."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    command: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20))  # running | completed | failed
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    range_start_date: Mapped[date | None] = mapped_column(sa.Date)
    range_end_date: Mapped[date | None] = mapped_column(sa.Date)
    discovered_count: Mapped[int] = mapped_column(sa.Integer)
    fetched_count: Mapped[int] = mapped_column(sa.Integer)
    skipped_count: Mapped[int] = mapped_column(sa.Integer)
    inserted_count: Mapped[int] = mapped_column(sa.Integer)
    updated_count: Mapped[int] = mapped_column(sa.Integer)
    unchanged_count: Mapped[int] = mapped_column(sa.Integer)
    failed_count: Mapped[int] = mapped_column(sa.Integer)
    requests_count: Mapped[int] = mapped_column(sa.Integer)
    retries_count: Mapped[int] = mapped_column(sa.Integer)
    block_pauses_count: Mapped[int] = mapped_column(sa.Integer)
    message: Mapped[str | None] = mapped_column(sa.Text)


class PipelineStateRow(Base):
    """Key/value state of the pipeline, e.g. the sync checkpoint."""

    __tablename__ = "pipeline_state"

    state_key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    state_value: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LockRow(Base):
    """A named lock on SQLite (PostgreSQL uses advisory locks): expires unless its owner heartbeats."""

    __tablename__ = "locks"

    lock_name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(200))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
