"""The issuer and offering columns of the offering views, ``offering_related_persons`` and
``issuers_latest`` (DESIGN.md section 3), with the same values on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from formd_factory import filing, issuer, raw_for, with_offering

from edgar_ingest.offline import ingest_paths
from edgar_ingest.records import FormDFiling
from edgar_ingest.store import Store, normalise_view_row

CHAIN = ["0001999001-24-000001", "0001999001-24-000003", "0001999001-25-000002"]

ALL_SECURITY_TYPES = {
    "is_equity": True,
    "is_debt": True,
    "is_option_to_acquire": True,
    "is_security_to_be_acquired": True,
    "is_pooled_investment_fund_interest": True,
    "is_tenant_in_common": True,
    "is_mineral_property": True,
    "is_other_security": True,
}

ISSUER_COLUMNS = (
    "issuer_name",
    "issuer_city",
    "issuer_state",
    "entity_type",
    "jurisdiction_of_inc",
    "year_of_inc",
)


def rows(store: Store, sql: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [normalise_view_row(dict(r._mapping)) for r in conn.execute(sa.text(sql))]


def save(store: Store, *records: FormDFiling) -> None:
    store.save_many([(raw_for(r), r) for r in records], "1")


def test_offering_columns_of_the_amendment_chain(store: Store, amendment_chain_dir: Path) -> None:
    ingest_paths(store, [amendment_chain_dir])
    versions = rows(store, "SELECT * FROM offering_versions ORDER BY version")
    first = versions[0]
    assert {k: first[k] for k in ISSUER_COLUMNS} == {
        "issuer_name": "Harborview Infrastructure Partners II, L.P.",
        "issuer_city": "STAMFORD",
        "issuer_state": "CT",
        "entity_type": "Limited Partnership",
        "jurisdiction_of_inc": "DELAWARE",
        "year_of_inc": 2023,
    }
    assert first["investment_fund_type"] == "Private Equity Fund"
    assert first["is_40_act"] is False
    assert first["revenue_range"] is None
    assert first["aggregate_net_asset_value_range"] == "Decline to Disclose"
    assert first["security_types"] == "pooled_investment_fund"
    assert first["is_business_combination"] is False
    assert first["is_more_than_one_year"] is True
    assert (first["related_person_count"], first["co_issuer_count"]) == (2, 0)
    assert [v["sales_commissions"] for v in versions] == [
        Decimal(3_500_000),
        Decimal(6_860_000),
        Decimal(8_180_000),
    ]
    assert {(v["finders_fees"], v["gross_proceeds_used"]) for v in versions} == {(Decimal(0), Decimal(0))}
    (latest,) = rows(store, "SELECT * FROM offerings_latest")
    assert latest["accession_number"] == CHAIN[2]
    assert latest["sales_commissions"] == Decimal(8_180_000)
    assert latest["issuer_state"] == "CT"


def test_security_types_follow_the_form_and_are_null_when_none_is_ticked(store: Store) -> None:
    every = with_offering(filing("0001234567-24-000001"), **ALL_SECURITY_TYPES)
    none = with_offering(
        filing("0001234567-24-000002", file_number="021-400002"),
        **dict.fromkeys(ALL_SECURITY_TYPES, False),
    )
    debt_and_other = with_offering(
        filing("0001234567-24-000003", file_number="021-400003"),
        **{**dict.fromkeys(ALL_SECURITY_TYPES, False), "is_other_security": True, "is_debt": True},
    )
    save(store, every, none, debt_and_other)
    found = {
        r["accession_number"]: r["security_types"] for r in rows(store, "SELECT * FROM offering_versions")
    }
    assert found == {
        "0001234567-24-000001": "equity,debt,option,security_to_be_acquired,pooled_investment_fund,"
        "tenant_in_common,mineral_property,other",
        "0001234567-24-000002": None,
        "0001234567-24-000003": "debt,other",
    }


def test_counts_of_related_persons_and_co_issuers(store: Store) -> None:
    co_issued = filing(
        "0001234567-24-000001",
        persons=3,
        co_issuers=(issuer("0007654321", "Co Issuer One LLC"), issuer("0007654322", "Co Issuer Two LLC")),
    )
    alone = filing("0001234567-24-000002", file_number="021-400002", persons=0)
    save(store, co_issued, alone)
    found = {
        r["accession_number"]: (r["related_person_count"], r["co_issuer_count"], r["issuer_name"])
        for r in rows(store, "SELECT * FROM offerings_latest")
    }
    assert found == {
        "0001234567-24-000001": (3, 2, "Example Robotics, Inc."),
        "0001234567-24-000002": (0, 0, "Example Robotics, Inc."),
    }


def test_offering_related_persons_are_those_of_the_latest_version(
    store: Store, amendment_chain_dir: Path
) -> None:
    ingest_paths(store, [amendment_chain_dir])
    # A second offering whose amendment names one person where the original named two.
    original = filing("0001234567-24-000001", persons=2)
    amendment = filing(
        "0001234567-24-000002",
        submission_type="D/A",
        filing_date=date(2024, 6, 3),
        accepted_at=datetime(2024, 6, 3, 14, tzinfo=UTC),
        persons=1,
    )
    save(store, amendment, original)
    persons = rows(store, "SELECT * FROM offering_related_persons ORDER BY offering_key, person_index")
    latest_ids = {r["offering_key"]: r["filing_id"] for r in rows(store, "SELECT * FROM offerings_latest")}
    assert [p["offering_key"] for p in persons] == ["021-400001", "021-512345", "021-512345"]
    assert all(p["filing_id"] == latest_ids[p["offering_key"]] for p in persons)
    assert persons[0] == {
        "offering_key": "021-400001",
        "filing_id": latest_ids["021-400001"],
        "person_index": 0,
        "first_name": "Person0",
        "middle_name": None,
        "last_name": "Smith",
        "city": "Springfield",
        "state": "IL",
        "relationships": "Executive Officer,Director",
        "relationship_clarification": None,
    }
    okafor, general_partner = persons[1:]
    assert (okafor["first_name"], okafor["middle_name"], okafor["last_name"]) == ("Margaret", "A.", "Okafor")
    assert okafor["relationships"] == "Executive Officer,Director"
    assert okafor["relationship_clarification"] == "Managing Partner of the General Partner"
    assert (general_partner["first_name"], general_partner["last_name"]) == (
        "Harborview Infrastructure GP II,",
        "LLC",
    )
    assert general_partner["relationships"] == "Promoter"
    assert (general_partner["city"], general_partner["state"]) == ("Stamford", "CT")


def _renamed(
    record: FormDFiling, name: str, previous: tuple[str, ...], edgar: tuple[str, ...]
) -> FormDFiling:
    primary = replace(
        record.document.primary_issuer,
        entity_name=name,
        issuer_previous_names=previous,
        edgar_previous_names=edgar,
    )
    return replace(record, document=replace(record.document, primary_issuer=primary))


def test_issuers_latest_summarises_each_primary_issuer(store: Store, amendment_chain_dir: Path) -> None:
    ingest_paths(store, [amendment_chain_dir])
    first = filing(
        "0001234567-23-000001", filing_date=date(2023, 5, 2), accepted_at=None, amount_sold=Decimal(100)
    )
    amended = filing(
        "0001234567-24-000002",
        submission_type="D/A",
        filing_date=date(2024, 2, 1),
        accepted_at=datetime(2024, 2, 1, 15, tzinfo=UTC),
        amount_sold=Decimal(250),
    )
    # A second offering of the same issuer, filed last under a new name.
    other = _renamed(
        filing(
            "0001234567-24-000009",
            file_number="021-400002",
            filing_date=date(2024, 9, 30),
            accepted_at=datetime(2024, 9, 30, 15, tzinfo=UTC),
            amount_sold=Decimal(1_000),
        ),
        "Example Robotics Holdings, Inc.",
        ("Example Robotics, Inc.", "Example Robots Inc"),
        ("Example Robots Inc", "EXAMPLE ROBOTICS INC"),
    )
    # Co-issuers are not issuers of their own row.
    co = filing("0005555555-24-000001", cik="0005555555", file_number="021-400003", amount_sold=None)
    co = replace(
        co, document=replace(co.document, co_issuers=(issuer("0001234567", "Example Robotics, Inc."),))
    )
    save(store, other, amended, first, co)
    issuers = {r["cik"]: r for r in rows(store, "SELECT * FROM issuers_latest")}
    assert set(issuers) == {"0001999001", "0001234567", "0005555555"}
    robotics = issuers["0001234567"]
    assert robotics == {
        "cik": "0001234567",
        "filing_id": robotics["filing_id"],
        "entity_name": "Example Robotics Holdings, Inc.",
        "city": "Springfield",
        "state": "IL",
        "entity_type": "Corporation",
        "jurisdiction_of_inc": "DELAWARE",
        "previous_names": "Example Robotics, Inc.; Example Robots Inc; EXAMPLE ROBOTICS INC",
        "offering_count": 2,
        "filing_count": 3,
        "first_filing_date": date(2023, 5, 2),
        "last_filing_date": date(2024, 9, 30),
        # Latest versions only: 250 (not 100 + 250) plus 1,000.
        "total_amount_sold": Decimal(1_250),
    }
    (latest_id,) = [
        r["filing_id"]
        for r in rows(store, "SELECT * FROM offering_versions")
        if r["accession_number"] == "0001234567-24-000009"
    ]
    assert robotics["filing_id"] == latest_id
    harborview = issuers["0001999001"]
    assert (harborview["offering_count"], harborview["filing_count"]) == (1, 3)
    assert harborview["total_amount_sold"] == Decimal(818_000_000)
    assert harborview["previous_names"] is None
    assert (harborview["first_filing_date"], harborview["last_filing_date"]) == (
        date(2024, 1, 15),
        date(2025, 1, 13),
    )
    assert issuers["0005555555"]["total_amount_sold"] is None
    assert issuers["0005555555"]["offering_count"] == 1


def test_a_filing_loaded_twice_is_counted_once(store: Store) -> None:
    record = filing("0001234567-24-000001")
    save(store, record)
    save(store, record)
    (row,) = rows(store, "SELECT * FROM issuers_latest")
    assert (row["filing_count"], row["offering_count"], row["total_amount_sold"]) == (
        1,
        1,
        Decimal(2_500_000),
    )
