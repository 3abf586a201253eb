"""Exact amounts: whole dollars and investor counts as BIGINT, on both databases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Frozen on purpose, like the others (no import of the package's models); the views are 0003's,
created again (PostgreSQL cannot change the type of a column a view reads), with the sum of
``issuers_latest`` cast to BIGINT.

Amounts were NUMERIC(20,2): on SQLite a fraction came back as a REAL or rounded, and PostgreSQL
rounded to cents. The Form D schema allows whole numbers from 0 to 999,999,999,999 only, so a
stored value outside that came from a lenient parser and was never a valid filing: rather than
round it, the upgrade removes that version and records it in ``failures`` (stage ``parse``, its
raw document kept), which is what parsing the document again now does. Every other row is kept,
its amounts converted exactly.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT_COLUMNS = (
    "minimum_investment",
    "total_offering_amount",
    "total_amount_sold",
    "total_remaining",
    "sales_commissions",
    "finders_fees",
    "gross_proceeds_used",
)
COUNT_COLUMNS = ("non_accredited_investors", "total_investors")
MAX_WHOLE_NUMBER = 999_999_999_999
NUMERIC = sa.Numeric(precision=20, scale=2)

# A filing's child tables, children of children first (deleted explicitly: SQLite migrations run
# with foreign keys off).
_CHILD_TABLES = (
    "related_person_relationships",
    "recipient_states",
    "issuer_previous_names",
    "related_persons",
    "sales_compensation_recipients",
    "filing_issuers",
    "filing_filers",
    "filing_exemptions",
    "signatures",
)


def _views_0003() -> ModuleType:
    path = Path(__file__).with_name("0003_analyst_views.py")
    spec = importlib.util.spec_from_file_location("edgar_ingest_migration_0003", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _not_whole(column: str, dialect: str) -> str:
    """SQL true when ``column`` holds a value BIGINT cannot hold exactly, or the schema refuses."""
    if dialect == "sqlite":
        # NUMERIC affinity kept whole amounts as INTEGER, a fraction as REAL, a long one as TEXT.
        fraction = f"typeof({column}) = 'real' AND {column} <> CAST({column} AS INTEGER)"
        inexact = f"typeof({column}) = 'text' OR ({fraction})"
    else:
        inexact = f"{column} <> TRUNC({column})"
    return f"({inexact} OR {column} < 0 OR {column} > {MAX_WHOLE_NUMBER})"


def _remove_versions_with_inexact_amounts(conn: sa.Connection) -> None:
    dialect = conn.dialect.name
    columns = ", ".join(AMOUNT_COLUMNS)
    where = " OR ".join(_not_whole(c, dialect) for c in AMOUNT_COLUMNS)
    rows = conn.execute(
        sa.text(
            "SELECT f.id, f.filing_key, f.accession_number, f.raw_document_id, r.source_url, r.sha256, "
            f"{columns} FROM filings f JOIN raw_documents r ON r.id = f.raw_document_id WHERE {where}"
        )
    ).all()
    if not rows:
        return
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if dialect == "sqlite" else now  # as the models store instants
    failures = sa.table(
        "failures",
        sa.column("id", sa.Integer()),
        sa.column("failure_key", sa.String()),
        sa.column("source", sa.Text()),
        sa.column("accession_number", sa.String()),
        sa.column("sha256", sa.String()),
        sa.column("raw_document_id", sa.Integer()),
        sa.column("stage", sa.String()),
        sa.column("reason", sa.Text()),
        sa.column("first_seen_at", sa.DateTime()),
        sa.column("last_seen_at", sa.DateTime()),
        sa.column("attempt_count", sa.Integer()),
        sa.column("is_resolved", sa.Boolean()),
        sa.column("resolved_at", sa.DateTime()),
    )
    for row in rows:
        values: dict[str, Any] = row._asdict()
        column, value = next((c, values[c]) for c in AMOUNT_COLUMNS if _is_inexact(values[c]))
        reason = (
            f"Its {column} was stored as {value}, which is not a whole number of dollars from 0 to "
            "999,999,999,999 (the only amounts a Form D allows), so migration 0004 removed this version "
            "instead of rounding it."
        )
        existing = conn.execute(
            sa.select(failures.c.id).where(failures.c.failure_key == row.filing_key)
        ).scalar_one_or_none()
        if existing is None:
            conn.execute(
                failures.insert().values(
                    failure_key=row.filing_key,
                    source=row.source_url,
                    accession_number=row.accession_number,
                    sha256=row.sha256,
                    raw_document_id=row.raw_document_id,
                    stage="parse",
                    reason=reason,
                    first_seen_at=stamp,
                    last_seen_at=stamp,
                    attempt_count=1,
                    is_resolved=False,
                    resolved_at=None,
                )
            )
        else:
            conn.execute(
                failures.update()
                .where(failures.c.id == existing)
                .values(
                    stage="parse",
                    reason=reason,
                    last_seen_at=stamp,
                    attempt_count=failures.c.attempt_count + 1,
                    is_resolved=False,
                    resolved_at=None,
                )
            )
        for table in (*_CHILD_TABLES, "filings"):
            key = "id" if table == "filings" else "filing_id"
            conn.execute(sa.text(f"DELETE FROM {table} WHERE {key} = :id"), {"id": row.id})


def _is_inexact(value: Any) -> bool:
    """The Python side of ``_not_whole``: a number BIGINT cannot hold exactly, or text."""
    if value is None:
        return False
    if isinstance(value, str):
        return True
    return bool(value != int(value) or not 0 <= value <= MAX_WHOLE_NUMBER)


def upgrade() -> None:
    views = _views_0003()
    views.drop_views()
    _remove_versions_with_inexact_amounts(op.get_bind())
    with op.batch_alter_table("filings") as batch:
        for column in AMOUNT_COLUMNS:
            batch.alter_column(
                column,
                existing_type=NUMERIC,
                type_=sa.BigInteger(),
                existing_nullable=True,
                postgresql_using=f"{column}::bigint",
            )
        for column in COUNT_COLUMNS:
            batch.alter_column(
                column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=True
            )
    views.create_views("CAST(SUM(l.total_amount_sold) AS BIGINT)")


def downgrade() -> None:
    views = _views_0003()
    views.drop_views()
    with op.batch_alter_table("filings") as batch:
        for column in AMOUNT_COLUMNS:
            batch.alter_column(column, existing_type=sa.BigInteger(), type_=NUMERIC, existing_nullable=True)
        for column in COUNT_COLUMNS:
            batch.alter_column(
                column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=True
            )
    views.create_views()
