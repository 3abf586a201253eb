"""Analyst views as DESIGN.md section 3 now specifies: issuer and offering columns, persons, issuers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Frozen on purpose, like 0001 and 0002 (no import of the package's models). Only views change: no
table or row is touched, so every stored row is still there after the upgrade.

- ``offering_versions`` (and with it ``offerings_latest``, which repeats its columns) gains the
  primary issuer's ``issuer_city``, ``issuer_state``, ``entity_type``, ``jurisdiction_of_inc``,
  ``year_of_inc`` and the offering's ``investment_fund_type``, ``is_40_act``, ``revenue_range``,
  ``aggregate_net_asset_value_range``, ``security_types``, ``is_business_combination``,
  ``is_more_than_one_year``, ``sales_commissions``, ``finders_fees``, ``gross_proceeds_used``,
  ``related_person_count`` and ``co_issuer_count``, after ``filing_id`` and ``source``.
- ``offering_related_persons``: the related persons of each offering's latest version.
- ``issuers_latest``: one row per primary-issuer CIK.

The SQL is the common subset that sqlite3 (3.31+), PostgreSQL and DuckDB's sqlite and postgres
scanners read: no ``FILTER``, no ``NULLS LAST`` (spelled out with CASE), no
``group_concat(... ORDER BY ...)`` (SQLite 3.44). Lists are joined in document order by
``string_agg(... ORDER BY ...)`` on PostgreSQL and ``group_concat`` over an ordered sub-select on
SQLite, which give the same text.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIALECTS = ("postgresql", "sqlite")

_ACCEPTED_AT = {
    "postgresql": "f.accepted_at",
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%S', f.accepted_at) || '+00:00'",
}


def _joined(dialect: str, value: str, separator: str, source: str, order: str) -> str:
    """``value`` of the rows of ``source`` joined by ``separator`` in ``order`` (NULL when none)."""
    if dialect == "postgresql":
        return f"(SELECT string_agg({value}, '{separator}' ORDER BY {order}) FROM {source})"
    ordered = f"SELECT {value} AS v FROM {source} ORDER BY {order}"
    return f"(SELECT group_concat(x.v, '{separator}') FROM ({ordered}) x)"


def _exemptions(dialect: str) -> str:
    return _joined(
        dialect, "e.exemption_code", ",", "filing_exemptions e WHERE e.filing_id = f.id", "e.exemption_index"
    )


def _relationships(dialect: str) -> str:
    return _joined(
        dialect,
        "r.relationship",
        ",",
        "related_person_relationships r WHERE r.filing_id = p.filing_id AND r.person_index = p.person_index",
        "r.relationship_index",
    )


# The primary issuer's previous names: its own list as filed, then EDGAR's, each name once.
# Separated by "; " because names hold commas ("84 RE Partners, LLC").
_NAME_RANK = "CASE {t}.name_source WHEN 'issuer' THEN 0 ELSE 1 END"


def _previous_names(dialect: str) -> str:
    n_rank, m_rank = _NAME_RANK.format(t="n"), _NAME_RANK.format(t="m")
    source = (
        "issuer_previous_names n WHERE n.filing_id = r.id AND n.issuer_index = 0 AND NOT EXISTS ("
        "SELECT 1 FROM issuer_previous_names m WHERE m.filing_id = n.filing_id AND m.issuer_index = 0"
        f" AND m.previous_name = n.previous_name AND ({m_rank} < {n_rank}"
        f" OR ({m_rank} = {n_rank} AND m.name_index < n.name_index)))"
    )
    return _joined(dialect, "n.previous_name", "; ", source, f"{n_rank}, n.name_index")


# Filing date, acceptance time, accession number: each NULL after the values (spelled out, since
# SQLite sorts NULL first and PostgreSQL last), then the filing key so that the order is total.
_VERSION_ORDER = """
    CASE WHEN f.filing_date IS NULL THEN 1 ELSE 0 END, f.filing_date,
    CASE WHEN f.accepted_at IS NULL THEN 1 ELSE 0 END, f.accepted_at,
    CASE WHEN f.accession_number IS NULL THEN 1 ELSE 0 END, f.accession_number,
    f.filing_key"""

# The same order reversed: row 1 is the version offering_versions marks is_latest.
_LATEST_FIRST = """
    CASE WHEN f.filing_date IS NULL THEN 1 ELSE 0 END DESC, f.filing_date DESC,
    CASE WHEN f.accepted_at IS NULL THEN 1 ELSE 0 END DESC, f.accepted_at DESC,
    CASE WHEN f.accession_number IS NULL THEN 1 ELSE 0 END DESC, f.accession_number DESC,
    f.filing_key DESC"""

# Types of securities in the form's order (Item 9); NULL when none is ticked.
_SECURITY_TYPES = """NULLIF(SUBSTR(
        CASE WHEN f.is_equity THEN ',equity' ELSE '' END
        || CASE WHEN f.is_debt THEN ',debt' ELSE '' END
        || CASE WHEN f.is_option_to_acquire THEN ',option' ELSE '' END
        || CASE WHEN f.is_security_to_be_acquired THEN ',security_to_be_acquired' ELSE '' END
        || CASE WHEN f.is_pooled_investment_fund_interest THEN ',pooled_investment_fund' ELSE '' END
        || CASE WHEN f.is_tenant_in_common THEN ',tenant_in_common' ELSE '' END
        || CASE WHEN f.is_mineral_property THEN ',mineral_property' ELSE '' END
        || CASE WHEN f.is_other_security THEN ',other' ELSE '' END, 2), '')"""

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
    ROW_NUMBER() OVER w = COUNT(*) OVER (PARTITION BY f.offering_key) AS is_latest,
    f.id AS filing_id,
    f.source{extra}
FROM filings f
LEFT JOIN filing_issuers i ON i.filing_id = f.id AND i.issuer_index = 0
WINDOW w AS (PARTITION BY f.offering_key ORDER BY {order})
"""

_EXTRA_0003 = f""",
    i.city AS issuer_city,
    i.state_or_country AS issuer_state,
    i.entity_type,
    i.jurisdiction_of_inc,
    i.year_of_inc,
    f.investment_fund_type,
    f.is_40_act,
    f.revenue_range,
    f.aggregate_net_asset_value_range,
    {_SECURITY_TYPES} AS security_types,
    f.is_business_combination,
    f.is_more_than_one_year,
    f.sales_commissions,
    f.finders_fees,
    f.gross_proceeds_used,
    (SELECT COUNT(*) FROM related_persons p WHERE p.filing_id = f.id) AS related_person_count,
    (SELECT COUNT(*) FROM filing_issuers c WHERE c.filing_id = f.id AND c.issuer_index > 0)
        AS co_issuer_count"""

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

# The latest version of every offering, straight from filings (cheaper than offering_versions,
# whose every column would be computed for every version).
_LATEST_FILINGS = f"""(
    SELECT f.id, f.offering_key, f.total_amount_sold,
           ROW_NUMBER() OVER (PARTITION BY f.offering_key ORDER BY {_LATEST_FIRST}) AS recency
    FROM filings f
)"""

_OFFERING_RELATED_PERSONS = f"""
CREATE VIEW offering_related_persons AS
SELECT
    l.offering_key,
    l.id AS filing_id,
    p.person_index,
    p.first_name,
    p.middle_name,
    p.last_name,
    p.city,
    p.state_or_country AS state,
    {{relationships}} AS relationships,
    p.relationship_clarification
FROM {_LATEST_FILINGS} l
JOIN related_persons p ON p.filing_id = l.id
WHERE l.recency = 1
"""

_ISSUERS_LATEST = f"""
CREATE VIEW issuers_latest AS
SELECT
    r.cik,
    r.id AS filing_id,
    i.entity_name,
    i.city,
    i.state_or_country AS state,
    i.entity_type,
    i.jurisdiction_of_inc,
    {{previous_names}} AS previous_names,
    s.offering_count,
    r.filing_count,
    r.first_filing_date,
    r.last_filing_date,
    s.total_amount_sold
FROM (
    SELECT
        f.id,
        f.cik,
        ROW_NUMBER() OVER (PARTITION BY f.cik ORDER BY {_LATEST_FIRST}) AS recency,
        COUNT(*) OVER (PARTITION BY f.cik) AS filing_count,
        MIN(f.filing_date) OVER (PARTITION BY f.cik) AS first_filing_date,
        MAX(f.filing_date) OVER (PARTITION BY f.cik) AS last_filing_date
    FROM filings f
    WHERE f.cik IS NOT NULL
) r
JOIN (
    SELECT o.cik, COUNT(*) AS offering_count, {{amount_sum}} AS total_amount_sold
    FROM (SELECT DISTINCT f.cik, f.offering_key FROM filings f WHERE f.cik IS NOT NULL) o
    JOIN {_LATEST_FILINGS} l ON l.offering_key = o.offering_key AND l.recency = 1
    GROUP BY o.cik
) s ON s.cik = r.cik
LEFT JOIN filing_issuers i ON i.filing_id = r.id AND i.issuer_index = 0
WHERE r.recency = 1
"""


def _dialect() -> str:
    name = op.get_bind().dialect.name
    if name not in _DIALECTS:
        raise NotImplementedError(f"edgar_ingest supports SQLite and PostgreSQL, not {name}")
    return name


def drop_views() -> None:
    for view in ("issuers_latest", "offering_related_persons", "offerings_latest", "offering_versions"):
        op.execute(f"DROP VIEW IF EXISTS {view}")


def _create_offering_views(name: str, extra: str) -> None:
    op.execute(
        _OFFERING_VERSIONS.format(
            accepted_at=_ACCEPTED_AT[name], exemptions=_exemptions(name), order=_VERSION_ORDER, extra=extra
        )
    )
    op.execute(_OFFERINGS_LATEST)


def create_views(amount_sum: str = "SUM(l.total_amount_sold)") -> None:
    """This revision's four views; 0004 creates them again with the sum cast to BIGINT (a sum of
    BIGINT is NUMERIC on PostgreSQL, which DuckDB's postgres scanner reads as a DOUBLE)."""
    name = _dialect()
    _create_offering_views(name, _EXTRA_0003)
    op.execute(_OFFERING_RELATED_PERSONS.format(relationships=_relationships(name)))
    op.execute(_ISSUERS_LATEST.format(previous_names=_previous_names(name), amount_sum=amount_sum))


def upgrade() -> None:
    drop_views()
    create_views()


def downgrade() -> None:
    name = _dialect()
    drop_views()
    _create_offering_views(name, "")  # 0002's views: they ended at filing_id, source
