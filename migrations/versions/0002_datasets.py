"""The SEC's Form D data sets: where a version came from, archive loads, source disagreements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Frozen on purpose, like 0001 (no import of the package's models).

- ``filings.source``: 'filing' (parsed from the filing's own document) or 'dataset' (a row of the
  SEC's quarterly Form D data sets). Existing rows all came from documents: 'filing'.
- ``dataset_archives``: one row per load of an archive (its bytes are a raw document), so that a
  rerun skips what a completed load covered and a killed load is done again.
- ``source_disagreements``: what ``reconcile`` found, one row per (accession, field).
- The views gain ``filing_id`` (the key of every normalised table) and ``source``, and order
  versions as DESIGN.md now says: filing date, then acceptance time (a version without one, e.g.
  known only from a data set, after those with one on the same day), then accession number.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)

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

# Filing date, acceptance time, accession number: each NULL after the values (spelled out, since
# SQLite sorts NULL first and PostgreSQL last), then the filing key so that the order is total.
_VERSION_ORDER_0002 = """
    CASE WHEN f.filing_date IS NULL THEN 1 ELSE 0 END, f.filing_date,
    CASE WHEN f.accepted_at IS NULL THEN 1 ELSE 0 END, f.accepted_at,
    CASE WHEN f.accession_number IS NULL THEN 1 ELSE 0 END, f.accession_number,
    f.filing_key"""

# 0001's order, for the downgrade.
_VERSION_ORDER_0001 = """
    CASE WHEN f.accepted_at IS NULL THEN 1 ELSE 0 END, f.accepted_at,
    CASE WHEN f.accession_number IS NULL THEN 1 ELSE 0 END, f.accession_number,
    f.filing_key"""

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
    ROW_NUMBER() OVER w = COUNT(*) OVER (PARTITION BY f.offering_key) AS is_latest{extra}
FROM filings f
LEFT JOIN filing_issuers i ON i.filing_id = f.id AND i.issuer_index = 0
WINDOW w AS (PARTITION BY f.offering_key ORDER BY {order})
"""

_EXTRA_0002 = """,
    f.id AS filing_id,
    f.source"""

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


def _create_views(order: str, extra: str) -> None:
    name = _dialect()
    op.execute(
        _OFFERING_VERSIONS.format(
            accepted_at=_ACCEPTED_AT[name], exemptions=_EXEMPTIONS[name], order=order, extra=extra
        )
    )
    op.execute(_OFFERINGS_LATEST)


def _drop_views() -> None:
    op.execute("DROP VIEW IF EXISTS offerings_latest")
    op.execute("DROP VIEW IF EXISTS offering_versions")


def upgrade() -> None:
    _drop_views()
    op.add_column(
        "filings",
        sa.Column("source", sa.String(length=10), server_default=sa.text("'filing'"), nullable=False),
    )
    op.create_index(op.f("ix_filings_source"), "filings", ["source"], unique=False)
    op.create_table(
        "dataset_archives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("archive_name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("raw_document_id", sa.Integer(), nullable=False),
        sa.Column("range_start_date", sa.Date(), nullable=False),
        sa.Column("range_end_date", sa.Date(), nullable=False),
        sa.Column("filing_count", sa.Integer(), nullable=False),
        sa.Column("inserted_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("completed_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["raw_document_id"],
            ["raw_documents.id"],
            name=op.f("fk_dataset_archives_raw_document_id_raw_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_archives")),
    )
    op.create_index(
        op.f("ix_dataset_archives_raw_document_id"), "dataset_archives", ["raw_document_id"], unique=False
    )
    op.create_index(op.f("ix_dataset_archives_sha256"), "dataset_archives", ["sha256"], unique=False)
    op.create_table(
        "source_disagreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accession_number", sa.String(length=20), nullable=False),
        sa.Column("field_name", sa.String(length=200), nullable=False),
        sa.Column("dataset_value", sa.Text(), nullable=True),
        sa.Column("filing_value", sa.Text(), nullable=True),
        sa.Column("archive_name", sa.String(length=200), nullable=False),
        sa.Column("found_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_disagreements")),
        sa.UniqueConstraint(
            "accession_number", "field_name", name=op.f("uq_source_disagreements_accession_number")
        ),
    )
    op.create_index(
        op.f("ix_source_disagreements_accession_number"),
        "source_disagreements",
        ["accession_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_source_disagreements_field_name"), "source_disagreements", ["field_name"], unique=False
    )
    _create_views(_VERSION_ORDER_0002, _EXTRA_0002)


def downgrade() -> None:
    _drop_views()
    op.drop_table("source_disagreements")
    op.drop_table("dataset_archives")
    op.drop_index(op.f("ix_filings_source"), table_name="filings")
    with op.batch_alter_table("filings") as batch:
        batch.drop_column("source")
    _create_views(_VERSION_ORDER_0001, "")
