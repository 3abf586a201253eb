"""The analyst views of DESIGN.md section 3, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import open_store
from formd_factory import filing, raw_for

from edgar_ingest.offline import ingest_paths
from edgar_ingest.store import Store, normalise_view_row

VERSION_COLUMNS = [
    "offering_key",
    "file_number",
    "version",
    "accession_number",
    "submission_type",
    "filing_date",
    "accepted_at",
    "cik",
    "issuer_name",
    "industry_group",
    "total_offering_amount",
    "is_offering_amount_indefinite",
    "total_amount_sold",
    "total_remaining",
    "is_remaining_indefinite",
    "total_investors",
    "has_non_accredited_investors",
    "non_accredited_investors",
    "minimum_investment",
    "first_sale_date",
    "is_first_sale_yet_to_occur",
    "exemptions",
    "previous_accession_number",
    "amount_sold_change",
    "offering_amount_change",
    "investors_change",
    "valid_from",
    "valid_to",
    "is_latest",
    "filing_id",
    "source",
    "issuer_city",
    "issuer_state",
    "entity_type",
    "jurisdiction_of_inc",
    "year_of_inc",
    "investment_fund_type",
    "is_40_act",
    "revenue_range",
    "aggregate_net_asset_value_range",
    "security_types",
    "is_business_combination",
    "is_more_than_one_year",
    "sales_commissions",
    "finders_fees",
    "gross_proceeds_used",
    "related_person_count",
    "co_issuer_count",
]
CHAIN = ["0001999001-24-000001", "0001999001-24-000003", "0001999001-25-000002"]


def view(store: Store, name: str, where: str = "") -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT * FROM {name} {where} ORDER BY offering_key, version"))
        return [dict(r._mapping) for r in result]


def test_views_have_exactly_the_contract_columns(store: Store) -> None:
    with store.engine.connect() as conn:
        versions = list(conn.execute(sa.text("SELECT * FROM offering_versions")).keys())
        latest = list(conn.execute(sa.text("SELECT * FROM offerings_latest")).keys())
    assert versions == VERSION_COLUMNS
    assert latest == [*VERSION_COLUMNS, "first_filing_date", "version_count"]


def test_amendment_chain(store: Store, amendment_chain_dir: Path) -> None:
    counts = ingest_paths(store, [amendment_chain_dir])
    assert (counts.inserted, counts.failed) == (3, 0)
    versions = [normalise_view_row(r) for r in view(store, "offering_versions")]
    assert [v["accession_number"] for v in versions] == CHAIN
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert {v["offering_key"] for v in versions} == {"021-512345"}
    assert [v["submission_type"] for v in versions] == ["D", "D/A", "D/A"]
    assert [v["total_amount_sold"] for v in versions] == [
        Decimal(350_000_000),
        Decimal(686_000_000),
        Decimal(818_000_000),
    ]
    assert [v["amount_sold_change"] for v in versions] == [None, Decimal(336_000_000), Decimal(132_000_000)]
    assert [v["offering_amount_change"] for v in versions] == [None, Decimal(0), Decimal(0)]
    assert [v["investors_change"] for v in versions] == [None, 45, 27]
    assert [v["total_remaining"] for v in versions] == [
        Decimal(468_000_000),
        Decimal(132_000_000),
        Decimal(0),
    ]
    assert [v["valid_from"] for v in versions] == [date(2024, 1, 15), date(2024, 6, 12), date(2025, 1, 13)]
    assert [v["valid_to"] for v in versions] == [date(2024, 6, 12), date(2025, 1, 13), None]
    assert [v["is_latest"] for v in versions] == [False, False, True]
    assert [v["accepted_at"] for v in versions] == [
        datetime(2024, 1, 15, 19, 30, tzinfo=UTC),
        datetime(2024, 6, 12, 14, 15, tzinfo=UTC),
        datetime(2025, 1, 10, 23, 5, tzinfo=UTC),
    ]
    assert [v["previous_accession_number"] for v in versions] == [None, CHAIN[0], CHAIN[0]]
    first = versions[0]
    assert first["issuer_name"] == "Harborview Infrastructure Partners II, L.P."
    assert first["cik"] == "0001999001"
    assert first["industry_group"] == "Pooled Investment Fund"
    assert first["exemptions"] == "06c,3C,3C.7"
    assert first["total_offering_amount"] == Decimal(818_000_000)
    assert first["minimum_investment"] == Decimal(5_000_000)
    assert first["first_sale_date"] == date(2023, 12, 20)
    (latest,) = [normalise_view_row(r) for r in view(store, "offerings_latest")]
    assert latest["accession_number"] == CHAIN[2]
    assert latest["version_count"] == 3
    assert latest["first_filing_date"] == date(2024, 1, 15)
    assert latest["total_amount_sold"] == Decimal(818_000_000)


def test_versions_follow_acceptance_time_not_arrival_order(store: Store) -> None:
    late = filing(
        "0001234567-24-000009",
        submission_type="D/A",
        filing_date=date(2024, 5, 1),
        accepted_at=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
        amount_sold=Decimal(9),
    )
    early = filing(
        "0001234567-24-000005",
        filing_date=date(2024, 2, 1),
        accepted_at=datetime(2024, 2, 1, 9, 0, tzinfo=UTC),
        amount_sold=Decimal(5),
    )
    # Same acceptance time: the accession number decides.
    tie = filing(
        "0001234567-24-000007",
        submission_type="D/A",
        filing_date=date(2024, 5, 1),
        accepted_at=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
        amount_sold=Decimal(7),
    )
    store.save_many([(raw_for(r), r) for r in (late, tie, early)], "1")
    versions = store.offering_versions(file_number="021-400001")
    assert [v["accession_number"] for v in versions] == [
        "0001234567-24-000005",
        "0001234567-24-000007",
        "0001234567-24-000009",
    ]
    assert [v["amount_sold_change"] for v in versions] == [None, Decimal(2), Decimal(2)]


def test_indefinite_amounts(store: Store) -> None:
    v1 = filing(
        "0001234567-24-000001",
        offering_amount=None,
        remaining=None,
        accepted_at=datetime(2024, 1, 1, tzinfo=UTC),
        filing_date=date(2024, 1, 1),
    )
    v2 = filing(
        "0001234567-24-000002",
        submission_type="D/A",
        offering_amount=Decimal(20_000_000),
        remaining=Decimal(15_000_000),
        amount_sold=Decimal(5_000_000),
        accepted_at=datetime(2024, 2, 1, tzinfo=UTC),
        filing_date=date(2024, 2, 1),
    )
    v3 = filing(
        "0001234567-24-000003",
        submission_type="D/A",
        offering_amount=Decimal(25_000_000),
        remaining=Decimal(19_000_000),
        amount_sold=Decimal(6_000_000),
        accepted_at=datetime(2024, 3, 1, tzinfo=UTC),
        filing_date=date(2024, 3, 1),
    )
    store.save_many([(raw_for(r), r) for r in (v1, v2, v3)], "1")
    versions = store.offering_versions(file_number="021-400001")
    assert [v["total_offering_amount"] for v in versions] == [None, Decimal(20_000_000), Decimal(25_000_000)]
    assert [v["is_offering_amount_indefinite"] for v in versions] == [True, False, False]
    assert [v["total_remaining"] for v in versions] == [None, Decimal(15_000_000), Decimal(19_000_000)]
    assert [v["is_remaining_indefinite"] for v in versions] == [True, False, False]
    # NULL when either version is Indefinite, never "20M - 0".
    assert [v["offering_amount_change"] for v in versions] == [None, None, Decimal(5_000_000)]
    assert [v["amount_sold_change"] for v in versions] == [None, Decimal(2_500_000), Decimal(1_000_000)]


def test_exemptions_keep_document_order_and_investors_are_as_filed(store: Store) -> None:
    record = filing(exemptions=("3C.7", "06b", "3C"), has_non_accredited=False, non_accredited=3)
    store.save(raw_for(record), record, "1")
    (row,) = store.offering_versions()
    assert row["exemptions"] == "3C.7,06b,3C"
    assert row["non_accredited_investors"] == 3
    assert row["has_non_accredited_investors"] is False
    bare = filing(None, exemptions=())
    store.save(raw_for(bare), bare, "1")
    bare_row = next(r for r in store.offering_versions() if r["accession_number"] is None)
    assert bare_row["exemptions"] is None
    assert bare_row["accepted_at"] is None
    assert bare_row["valid_from"] is None


def test_sqlite_representation(sqlite_url: str, amendment_chain_dir: Path) -> None:
    """On SQLite: accepted_at is ISO 8601 text with +00:00, booleans are 0/1, amounts exact integers."""
    store = open_store(sqlite_url)
    ingest_paths(store, [amendment_chain_dir])
    rows = view(store, "offering_versions")
    assert [r["accepted_at"] for r in rows] == [
        "2024-01-15T19:30:00+00:00",
        "2024-06-12T14:15:00+00:00",
        "2025-01-10T23:05:00+00:00",
    ]
    assert [r["is_latest"] for r in rows] == [0, 0, 1]
    assert rows[0]["is_offering_amount_indefinite"] == 0
    assert [r["amount_sold_change"] for r in rows] == [None, 336_000_000, 132_000_000]
    assert rows[0]["filing_date"] == "2024-01-15"
    with store.engine.connect() as conn:
        kinds = conn.execute(
            sa.text("SELECT typeof(total_amount_sold), typeof(is_latest) FROM offering_versions")
        ).first()
    assert tuple(kinds or ()) == ("integer", "integer")
    store.close()


@pytest.mark.postgres
def test_postgres_representation(postgres_database_url: str, amendment_chain_dir: Path) -> None:
    store = open_store(postgres_database_url)
    ingest_paths(store, [amendment_chain_dir])
    rows = view(store, "offering_versions")
    assert rows[0]["accepted_at"] == datetime(2024, 1, 15, 19, 30, tzinfo=UTC)
    assert rows[0]["is_latest"] is False
    assert rows[2]["is_latest"] is True
    assert rows[1]["amount_sold_change"] == 336_000_000
    assert rows[0]["filing_date"] == date(2024, 1, 15)
    with store.engine.connect() as conn:
        types = dict(
            conn.execute(
                sa.text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'offering_versions'"
                )
            ).all()
        )
    assert types["accepted_at"] == "timestamp with time zone"
    assert types["total_amount_sold"] == "bigint"
    assert types["amount_sold_change"] == "bigint"
    assert types["is_latest"] == "boolean"
    store.close()


def _load_everything(store: Store, amendment_chain_dir: Path, corpus: Path | None) -> None:
    ingest_paths(store, [amendment_chain_dir])
    if corpus is not None:
        ingest_paths(store, [corpus / "formd_xml", corpus / "submissions_txt"])
    records = [
        filing("0001234567-24-000001", offering_amount=None, remaining=None, exemptions=("3C.7", "06b")),
        filing(
            "0001234567-24-000002",
            submission_type="D/A",
            accepted_at=datetime(2024, 6, 1, tzinfo=UTC),
            filing_date=date(2024, 6, 3),
            amount_sold=Decimal(999_999_999_999),  # the largest amount a Form D allows
            investors=None,
        ),
        filing(
            None,
            submission_type="D/A",
            previous_accession="0001234567-24-000002",
            amount_sold=Decimal(3_000_000),
        ),
        filing("0009999999-24-000001", cik="0009999999", file_number=None),
    ]
    store.save_many([(raw_for(r), r) for r in records], "1")


@pytest.mark.postgres
def test_views_are_identical_on_sqlite_and_postgres(
    sqlite_url: str, postgres_database_url: str, amendment_chain_dir: Path, request: pytest.FixtureRequest
) -> None:
    try:
        corpus: Path | None = request.getfixturevalue("corpus_dir")
    except pytest.skip.Exception:
        corpus = None
    results = []
    for url in (sqlite_url, postgres_database_url):
        store = open_store(url)
        _load_everything(store, amendment_chain_dir, corpus)
        with store.engine.connect() as conn:
            persons, issuers = (
                [normalise_view_row(dict(r._mapping)) for r in conn.execute(sa.text(sql))]
                for sql in (
                    "SELECT * FROM offering_related_persons ORDER BY offering_key, person_index",
                    "SELECT * FROM issuers_latest ORDER BY cik",
                )
            )
        results.append(
            (
                [normalise_view_row(r) for r in view(store, "offering_versions")],
                [normalise_view_row(r) for r in view(store, "offerings_latest")],
                persons,
                issuers,
            )
        )
        store.close()
    (sqlite_versions, sqlite_latest, sqlite_persons, sqlite_issuers) = results[0]
    (pg_versions, pg_latest, pg_persons, pg_issuers) = results[1]
    assert len(sqlite_versions) >= 7
    assert sqlite_versions == pg_versions
    assert sqlite_latest == pg_latest
    assert len(sqlite_persons) >= 4
    assert sqlite_persons == pg_persons
    assert len(sqlite_issuers) >= 3
    assert sqlite_issuers == pg_issuers
    changes = {r["accession_number"]: r["amount_sold_change"] for r in pg_versions}
    assert changes["0001234567-24-000002"] == Decimal(999_997_499_999)
