"""Initial schema: filings and their parts, raw documents, operations tables, analyst views.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Frozen on purpose: this file does not import the package's models, so later model changes need a
new revision (``alembic check`` in the tests tells when one is missing).

The views ``offering_versions`` and ``offerings_latest`` implement DESIGN.md section 3. Two parts
differ by dialect and give the same values: ``accepted_at`` (timestamptz on PostgreSQL; ISO 8601
text with ``+00:00`` on SQLite, whose DateTime columns hold naive UTC text) and ``exemptions``
(``string_agg ... ORDER BY`` on PostgreSQL; ``group_concat`` over an ordered sub-select on SQLite,
whose ``group_concat(... ORDER BY ...)`` needs 3.44).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
AMOUNT = sa.Numeric(precision=20, scale=2)

# Versions of an offering: acceptance time, then accession number (missing ones last, on both
# databases), then the filing key so that the order is total.
_VERSION_ORDER = """
    CASE WHEN f.accepted_at IS NULL THEN 1 ELSE 0 END, f.accepted_at,
    CASE WHEN f.accession_number IS NULL THEN 1 ELSE 0 END, f.accession_number,
    f.filing_key"""

_ACCEPTED_AT = {
    "postgresql": "f.accepted_at",
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%S', f.accepted_at) || '+00:00'",
}

_EXEMPTIONS = {
    "postgresql": (
        "(SELECT string_agg(e.exemption_code, ',' ORDER BY e.exemption_index)"
        " FROM filing_exemptions e WHERE e.filing_id = f.id)"
    ),
    "sqlite": (
        "(SELECT group_concat(x.exemption_code, ',') FROM"
        " (SELECT e.exemption_code FROM filing_exemptions e"
        " WHERE e.filing_id = f.id ORDER BY e.exemption_index) x)"
    ),
}

_OFFERING_VERSIONS = """
CREATE VIEW offering_versions AS
SELECT
    f.offering_key,
    f.file_number,
    ROW_NUMBER() OVER w AS version,
    f.accession_number,
    f.submission_type,
    f.filing_date,
    {accepted_at} AS accepted_at,
    f.cik,
    i.entity_name AS issuer_name,
    f.industry_group,
    f.total_offering_amount,
    f.is_offering_amount_indefinite,
    f.total_amount_sold,
    f.total_remaining,
    f.is_remaining_indefinite,
    f.total_investors,
    f.has_non_accredited_investors,
    f.non_accredited_investors,
    f.minimum_investment,
    f.first_sale_date,
    f.is_first_sale_yet_to_occur,
    {exemptions} AS exemptions,
    f.previous_accession_number,
    f.total_amount_sold - LAG(f.total_amount_sold) OVER w AS amount_sold_change,
    CASE
        WHEN f.is_offering_amount_indefinite OR LAG(f.is_offering_amount_indefinite) OVER w THEN NULL
        ELSE f.total_offering_amount - LAG(f.total_offering_amount) OVER w
    END AS offering_amount_change,
    f.total_investors - LAG(f.total_investors) OVER w AS investors_change,
    f.filing_date AS valid_from,
    LEAD(f.filing_date) OVER w AS valid_to,
    ROW_NUMBER() OVER w = COUNT(*) OVER (PARTITION BY f.offering_key) AS is_latest
FROM filings f
LEFT JOIN filing_issuers i ON i.filing_id = f.id AND i.issuer_index = 0
WINDOW w AS (PARTITION BY f.offering_key ORDER BY {order})
"""

_OFFERINGS_LATEST = """
CREATE VIEW offerings_latest AS
SELECT x.*
FROM (
    SELECT
        v.*,
        MIN(v.filing_date) OVER (PARTITION BY v.offering_key) AS first_filing_date,
        COUNT(*) OVER (PARTITION BY v.offering_key) AS version_count
    FROM offering_versions v
) x
WHERE x.is_latest
"""


def _dialect() -> str:
    name = op.get_bind().dialect.name
    if name not in _ACCEPTED_AT:
        raise NotImplementedError(f"edgar_ingest supports SQLite and PostgreSQL, not {name}")
    return name


def upgrade() -> None:
    op.create_table(
        "locks",
        sa.Column("lock_name", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", UTC_DATETIME, nullable=False),
        sa.Column("heartbeat_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("lock_name", name=op.f("pk_locks")),
    )
    op.create_table(
        "pipeline_state",
        sa.Column("state_key", sa.String(length=100), nullable=False),
        sa.Column("state_value", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("state_key", name=op.f("pk_pipeline_state")),
    )
    op.create_table(
        "raw_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_zlib", sa.LargeBinary(), nullable=False),
        sa.Column("content_size_bytes", sa.Integer(), nullable=False),
        sa.Column("compressed_size_bytes", sa.Integer(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("fetched_at", UTC_DATETIME, nullable=False),
        sa.Column("stored_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_documents")),
        sa.UniqueConstraint("sha256", name=op.f("uq_raw_documents_sha256")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("command", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("range_start_date", sa.Date(), nullable=True),
        sa.Column("range_end_date", sa.Date(), nullable=True),
        sa.Column("discovered_count", sa.Integer(), nullable=False),
        sa.Column("fetched_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("inserted_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("requests_count", sa.Integer(), nullable=False),
        sa.Column("retries_count", sa.Integer(), nullable=False),
        sa.Column("block_pauses_count", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_started_at"), "runs", ["started_at"], unique=False)

    op.create_table(
        "failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("failure_key", sa.String(length=600), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("accession_number", sa.String(length=20), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("raw_document_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("is_resolved", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["raw_document_id"], ["raw_documents.id"], name=op.f("fk_failures_raw_document_id_raw_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failures")),
        sa.UniqueConstraint("failure_key", name=op.f("uq_failures_failure_key")),
    )
    op.create_index(op.f("ix_failures_accession_number"), "failures", ["accession_number"], unique=False)
    op.create_index(op.f("ix_failures_is_resolved"), "failures", ["is_resolved"], unique=False)
    op.create_index(op.f("ix_failures_raw_document_id"), "failures", ["raw_document_id"], unique=False)
    op.create_index(op.f("ix_failures_sha256"), "failures", ["sha256"], unique=False)

    op.create_table(
        "filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_key", sa.String(length=80), nullable=False),
        sa.Column("accession_number", sa.String(length=20), nullable=True),
        sa.Column("offering_key", sa.String(length=80), nullable=False),
        sa.Column("file_number", sa.String(length=40), nullable=True),
        sa.Column("submission_type", sa.String(length=10), nullable=False),
        sa.Column("document_submission_type", sa.String(length=10), nullable=False),
        sa.Column("filing_date", sa.Date(), nullable=True),
        sa.Column("accepted_at", UTC_DATETIME, nullable=True),
        sa.Column("cik", sa.String(length=10), nullable=True),
        sa.Column("schema_version", sa.String(length=20), nullable=True),
        sa.Column("test_or_live", sa.String(length=10), nullable=True),
        sa.Column("has_over_100_issuers", sa.Boolean(), nullable=False),
        sa.Column("is_authorized_representative", sa.Boolean(), nullable=False),
        sa.Column("industry_group", sa.String(length=100), nullable=True),
        sa.Column("investment_fund_type", sa.String(length=100), nullable=True),
        sa.Column("is_40_act", sa.Boolean(), nullable=True),
        sa.Column("revenue_range", sa.String(length=100), nullable=True),
        sa.Column("aggregate_net_asset_value_range", sa.String(length=100), nullable=True),
        sa.Column("is_amendment", sa.Boolean(), nullable=False),
        sa.Column("previous_accession_number", sa.String(length=20), nullable=True),
        sa.Column("first_sale_date", sa.Date(), nullable=True),
        sa.Column("is_first_sale_yet_to_occur", sa.Boolean(), nullable=False),
        sa.Column("is_more_than_one_year", sa.Boolean(), nullable=False),
        sa.Column("is_equity", sa.Boolean(), nullable=False),
        sa.Column("is_debt", sa.Boolean(), nullable=False),
        sa.Column("is_option_to_acquire", sa.Boolean(), nullable=False),
        sa.Column("is_security_to_be_acquired", sa.Boolean(), nullable=False),
        sa.Column("is_pooled_investment_fund_interest", sa.Boolean(), nullable=False),
        sa.Column("is_tenant_in_common", sa.Boolean(), nullable=False),
        sa.Column("is_mineral_property", sa.Boolean(), nullable=False),
        sa.Column("is_other_security", sa.Boolean(), nullable=False),
        sa.Column("other_security_description", sa.Text(), nullable=True),
        sa.Column("is_business_combination", sa.Boolean(), nullable=False),
        sa.Column("business_combination_clarification", sa.Text(), nullable=True),
        sa.Column("minimum_investment", AMOUNT, nullable=True),
        sa.Column("has_over_100_recipients", sa.Boolean(), nullable=False),
        sa.Column("total_offering_amount", AMOUNT, nullable=True),
        sa.Column("is_offering_amount_indefinite", sa.Boolean(), nullable=False),
        sa.Column("total_amount_sold", AMOUNT, nullable=True),
        sa.Column("total_remaining", AMOUNT, nullable=True),
        sa.Column("is_remaining_indefinite", sa.Boolean(), nullable=False),
        sa.Column("sales_amounts_clarification", sa.Text(), nullable=True),
        sa.Column("has_non_accredited_investors", sa.Boolean(), nullable=False),
        sa.Column("non_accredited_investors", sa.Integer(), nullable=True),
        sa.Column("total_investors", sa.Integer(), nullable=True),
        sa.Column("sales_commissions", AMOUNT, nullable=True),
        sa.Column("is_sales_commissions_estimate", sa.Boolean(), nullable=False),
        sa.Column("finders_fees", AMOUNT, nullable=True),
        sa.Column("is_finders_fees_estimate", sa.Boolean(), nullable=False),
        sa.Column("commissions_clarification", sa.Text(), nullable=True),
        sa.Column("gross_proceeds_used", AMOUNT, nullable=True),
        sa.Column("is_gross_proceeds_estimate", sa.Boolean(), nullable=False),
        sa.Column("proceeds_clarification", sa.Text(), nullable=True),
        sa.Column("parser_version", sa.String(length=40), nullable=False),
        sa.Column("record_sha256", sa.String(length=64), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("raw_document_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["raw_document_id"], ["raw_documents.id"], name=op.f("fk_filings_raw_document_id_raw_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filings")),
        sa.UniqueConstraint("accession_number", name=op.f("uq_filings_accession_number")),
        sa.UniqueConstraint("filing_key", name=op.f("uq_filings_filing_key")),
    )
    op.create_index(op.f("ix_filings_cik"), "filings", ["cik"], unique=False)
    op.create_index(op.f("ix_filings_file_number"), "filings", ["file_number"], unique=False)
    op.create_index(op.f("ix_filings_document_sha256"), "filings", ["document_sha256"], unique=False)
    op.create_index(op.f("ix_filings_filing_date"), "filings", ["filing_date"], unique=False)
    op.create_index(op.f("ix_filings_industry_group"), "filings", ["industry_group"], unique=False)
    op.create_index(
        "ix_filings_offering_key_accepted_at",
        "filings",
        ["offering_key", "accepted_at", "accession_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_filings_previous_accession_number"), "filings", ["previous_accession_number"], unique=False
    )
    op.create_index(op.f("ix_filings_raw_document_id"), "filings", ["raw_document_id"], unique=False)

    op.create_table(
        "filing_exemptions",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("exemption_index", sa.Integer(), nullable=False),
        sa.Column("exemption_code", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["filings.id"],
            name=op.f("fk_filing_exemptions_filing_id_filings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("filing_id", "exemption_index", name=op.f("pk_filing_exemptions")),
    )
    op.create_index(
        op.f("ix_filing_exemptions_exemption_code"), "filing_exemptions", ["exemption_code"], unique=False
    )

    op.create_table(
        "filing_filers",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("filer_index", sa.Integer(), nullable=False),
        sa.Column("cik", sa.String(length=10), nullable=False),
        sa.Column("company_name", sa.Text(), nullable=True),
        sa.Column("file_number", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_filing_filers_filing_id_filings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("filing_id", "filer_index", name=op.f("pk_filing_filers")),
    )
    op.create_index(op.f("ix_filing_filers_cik"), "filing_filers", ["cik"], unique=False)
    op.create_index(op.f("ix_filing_filers_file_number"), "filing_filers", ["file_number"], unique=False)

    op.create_table(
        "filing_issuers",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("issuer_index", sa.Integer(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("cik", sa.String(length=10), nullable=True),
        sa.Column("entity_name", sa.Text(), nullable=True),
        sa.Column("street1", sa.Text(), nullable=True),
        sa.Column("street2", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("state_or_country", sa.String(length=10), nullable=True),
        sa.Column("state_or_country_description", sa.Text(), nullable=True),
        sa.Column("zip_code", sa.String(length=20), nullable=True),
        sa.Column("phone_number", sa.String(length=40), nullable=True),
        sa.Column("jurisdiction_of_inc", sa.Text(), nullable=True),
        sa.Column("entity_type", sa.String(length=100), nullable=True),
        sa.Column("entity_type_other_description", sa.Text(), nullable=True),
        sa.Column("year_of_inc_choice", sa.String(length=40), nullable=True),
        sa.Column("year_of_inc", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["filings.id"],
            name=op.f("fk_filing_issuers_filing_id_filings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("filing_id", "issuer_index", name=op.f("pk_filing_issuers")),
    )
    op.create_index(op.f("ix_filing_issuers_cik"), "filing_issuers", ["cik"], unique=False)

    op.create_table(
        "related_persons",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("person_index", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("middle_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("street1", sa.Text(), nullable=True),
        sa.Column("street2", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("state_or_country", sa.String(length=10), nullable=True),
        sa.Column("state_or_country_description", sa.Text(), nullable=True),
        sa.Column("zip_code", sa.String(length=20), nullable=True),
        sa.Column("relationship_clarification", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["filings.id"],
            name=op.f("fk_related_persons_filing_id_filings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("filing_id", "person_index", name=op.f("pk_related_persons")),
    )
    op.create_table(
        "sales_compensation_recipients",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("recipient_index", sa.Integer(), nullable=False),
        sa.Column("recipient_name", sa.Text(), nullable=True),
        sa.Column("crd_number", sa.String(length=20), nullable=True),
        sa.Column("associated_broker_dealer_name", sa.Text(), nullable=True),
        sa.Column("associated_broker_dealer_crd_number", sa.String(length=20), nullable=True),
        sa.Column("street1", sa.Text(), nullable=True),
        sa.Column("street2", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("state_or_country", sa.String(length=10), nullable=True),
        sa.Column("state_or_country_description", sa.Text(), nullable=True),
        sa.Column("zip_code", sa.String(length=20), nullable=True),
        sa.Column("is_all_states", sa.Boolean(), nullable=False),
        sa.Column("is_foreign_solicitation", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["filings.id"],
            name=op.f("fk_sales_compensation_recipients_filing_id_filings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "filing_id", "recipient_index", name=op.f("pk_sales_compensation_recipients")
        ),
    )
    op.create_table(
        "signatures",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("signature_index", sa.Integer(), nullable=False),
        sa.Column("issuer_name", sa.Text(), nullable=True),
        sa.Column("signature_name", sa.Text(), nullable=True),
        sa.Column("name_of_signer", sa.Text(), nullable=True),
        sa.Column("signer_title", sa.Text(), nullable=True),
        sa.Column("signature_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_signatures_filing_id_filings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("filing_id", "signature_index", name=op.f("pk_signatures")),
    )
    op.create_table(
        "issuer_previous_names",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("issuer_index", sa.Integer(), nullable=False),
        sa.Column("name_source", sa.String(length=10), nullable=False),
        sa.Column("name_index", sa.Integer(), nullable=False),
        sa.Column("previous_name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id", "issuer_index"],
            ["filing_issuers.filing_id", "filing_issuers.issuer_index"],
            name=op.f("fk_issuer_previous_names_filing_id_filing_issuers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "filing_id", "issuer_index", "name_source", "name_index", name=op.f("pk_issuer_previous_names")
        ),
    )
    op.create_table(
        "recipient_states",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("recipient_index", sa.Integer(), nullable=False),
        sa.Column("state_index", sa.Integer(), nullable=False),
        sa.Column("state_code", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id", "recipient_index"],
            ["sales_compensation_recipients.filing_id", "sales_compensation_recipients.recipient_index"],
            name=op.f("fk_recipient_states_filing_id_sales_compensation_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "filing_id", "recipient_index", "state_index", name=op.f("pk_recipient_states")
        ),
    )
    op.create_table(
        "related_person_relationships",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("person_index", sa.Integer(), nullable=False),
        sa.Column("relationship_index", sa.Integer(), nullable=False),
        sa.Column("relationship", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id", "person_index"],
            ["related_persons.filing_id", "related_persons.person_index"],
            name=op.f("fk_related_person_relationships_filing_id_related_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "filing_id", "person_index", "relationship_index", name=op.f("pk_related_person_relationships")
        ),
    )

    name = _dialect()
    op.execute(
        _OFFERING_VERSIONS.format(
            accepted_at=_ACCEPTED_AT[name], exemptions=_EXEMPTIONS[name], order=_VERSION_ORDER
        )
    )
    op.execute(_OFFERINGS_LATEST)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS offerings_latest")
    op.execute("DROP VIEW IF EXISTS offering_versions")
    for table in (
        "related_person_relationships",
        "recipient_states",
        "issuer_previous_names",
        "signatures",
        "sales_compensation_recipients",
        "related_persons",
        "filing_issuers",
        "filing_filers",
        "filing_exemptions",
        "filings",
        "failures",
        "runs",
        "raw_documents",
        "pipeline_state",
        "locks",
    ):
        op.drop_table(table)
