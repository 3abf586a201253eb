"""The ten analyst questions of docs/example-queries.sql run unchanged on SQLite and PostgreSQL
and give the answers worked out by hand below, over the amendment-chain fixture (Harborview,
350M -> 686M -> 818M) and a small market of hand-built filings."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from conftest import open_store
from formd_factory import EASTERN, filing, raw_for, with_offering

from edgar_ingest.offline import ingest_paths
from edgar_ingest.records import Address, FormDFiling, RelatedPerson, SalesCompensationRecipient

QUERIES = Path(__file__).resolve().parents[2] / "docs" / "example-queries.sql"
_QUESTION = re.compile(r"^-- (\d+)\. ")

M = 1_000_000
MERIDIAN = SalesCompensationRecipient(
    name="Meridian Placement Advisors LLC",
    crd_number="154321",
    associated_broker_dealer_name=None,
    associated_broker_dealer_crd_number=None,
    address=Address("55 Water Street", None, "New York", "NY", "NEW YORK", "10041"),
    states_of_solicitation=("IL",),
    is_all_states=False,
    is_foreign_solicitation=False,
)


def read_queries(text: str) -> dict[int, str]:
    """Question number -> its SQL (the lines after the "-- N." comment, up to the ";")."""
    queries: dict[int, str] = {}
    number: int | None = None
    for line in text.splitlines():
        if question := _QUESTION.match(line):
            number = int(question.group(1))
            queries[number] = ""
        elif number is not None and line.strip() and not line.lstrip().startswith("--"):
            queries[number] += line + "\n"
    return {n: sql.strip().removesuffix(";") for n, sql in queries.items()}


def version(
    accession: str,
    cik: str,
    name: str,
    file_number: str,
    filed: date,
    *,
    state: str,
    city: str,
    persons: tuple[tuple[str, str, tuple[str, ...]], ...] = (),
    fund_type: str | None = None,
    recipients: tuple[SalesCompensationRecipient, ...] | None = None,
    **offering: object,
) -> FormDFiling:
    """One filing of the market: issuer in ``city``/``state``, named persons, accepted at noon ET."""
    record = filing(
        accession,
        cik=cik,
        name=name,
        file_number=file_number,
        filing_date=filed,
        accepted_at=datetime(filed.year, filed.month, filed.day, 12, tzinfo=EASTERN),
        submission_type="D/A" if offering.get("previous_accession") else "D",
        **offering,
    )
    address = Address("1 Market St", None, city, state, None, "00001")
    document = replace(
        record.document,
        primary_issuer=replace(record.document.primary_issuer, address=address),
        related_persons=tuple(
            RelatedPerson(first, None, last, address, relationships, None)
            for first, last, relationships in persons
        ),
    )
    record = replace(record, document=document)
    changes: dict[str, object] = {"investment_fund_type": fund_type}
    if recipients is not None:
        changes["sales_compensation_recipients"] = recipients
    return with_offering(record, **changes)


def market() -> list[FormDFiling]:
    fund = "Pooled Investment Fund"
    northwind = {"cik": "0002000001", "name": "Northwind Robotics, Inc.", "state": "CA", "city": "San Jose"}
    bayside = {"cik": "0002000002", "name": "Bayside Biotech LLC", "state": "CA", "city": "San Diego"}
    founder = (("Ada", "Park", ("Executive Officer", "Director")),)
    return [
        # Northwind: two offerings; the first amended from 10M to 15M offered, 4M to 9M sold.
        version(
            "0002000001-24-000001",
            file_number="021-600001",
            filed=date(2024, 2, 5),
            persons=founder,
            offering_amount=Decimal(10 * M),
            amount_sold=Decimal(4 * M),
            remaining=Decimal(6 * M),
            **northwind,  # type: ignore[arg-type]
        ),
        version(
            "0002000001-24-000007",
            file_number="021-600001",
            filed=date(2024, 5, 20),
            persons=founder,
            previous_accession="0002000001-24-000001",
            offering_amount=Decimal(15 * M),
            amount_sold=Decimal(9 * M),
            remaining=Decimal(6 * M),
            **northwind,  # type: ignore[arg-type]
        ),
        version(
            "0002000001-24-000004",
            file_number="021-600004",
            filed=date(2024, 3, 28),
            persons=founder,
            offering_amount=Decimal(5 * M),
            amount_sold=Decimal(1 * M),
            remaining=Decimal(4 * M),
            **northwind,  # type: ignore[arg-type]
        ),
        # Bayside: Indefinite at first, 20M in an amendment filed more than a year later.
        version(
            "0002000002-24-000001",
            file_number="021-600002",
            filed=date(2024, 3, 11),
            industry_group="Biotechnology",
            offering_amount=None,
            remaining=None,
            amount_sold=Decimal(2_500_000),
            **bayside,  # type: ignore[arg-type]
        ),
        version(
            "0002000002-25-000001",
            file_number="021-600002",
            filed=date(2025, 4, 2),
            industry_group="Biotechnology",
            previous_accession="0002000002-24-000001",
            offering_amount=Decimal(20 * M),
            remaining=Decimal(17 * M),
            amount_sold=Decimal(3 * M),
            **bayside,  # type: ignore[arg-type]
        ),
        # Two funds: a hedge fund placed by Meridian, and a fund with no placement agent.
        version(
            "0002000003-24-000001",
            "0002000003",
            "Lakeshore Credit Fund LP",
            "021-600003",
            date(2024, 2, 20),
            state="IL",
            city="Chicago",
            industry_group=fund,
            fund_type="Hedge Fund",
            exemptions=("06b", "3C.1"),
            offering_amount=None,
            remaining=None,
            amount_sold=Decimal(50 * M),
            persons=(("Dana", "Whitfield", ("Executive Officer",)),),
            recipients=(MERIDIAN,),
        ),
        version(
            "0002000005-24-000001",
            "0002000005",
            "Granite Peak Real Estate Fund LP",
            "021-600005",
            date(2024, 2, 14),
            state="TX",
            city="Austin",
            industry_group=fund,
            fund_type="Other Investment Fund",
            exemptions=("06b",),
            offering_amount=Decimal(40 * M),
            amount_sold=Decimal(12 * M),
            remaining=Decimal(28 * M),
            persons=(("Luis", "Ortega", ("Executive Officer", "Director")),),
            recipients=(),
        ),
    ]


HARBORVIEW = "Harborview Infrastructure Partners II, L.P."

EXPECTED: dict[int, list[tuple[Any, ...]]] = {
    1: [
        (1, "0001999001-24-000001", "D", "2024-01-15", 818 * M, 350 * M, None, 40, None, "2024-06-12"),
        (2, "0001999001-24-000003", "D/A", "2024-06-12", 818 * M, 686 * M, 336 * M, 85, 45, "2025-01-13"),
        (3, "0001999001-25-000002", "D/A", "2025-01-13", 818 * M, 818 * M, 132 * M, 112, 27, None),
    ],
    2: [
        ("021-512345", HARBORVIEW, 350 * M),
        ("021-600003", "Lakeshore Credit Fund LP", 50 * M),
        ("021-600005", "Granite Peak Real Estate Fund LP", 12 * M),
        ("021-600001", "Northwind Robotics, Inc.", 4 * M),
        ("021-600002", "Bayside Biotech LLC", 2_500_000),
    ],
    3: [
        ("021-512345", HARBORVIEW, 2, "2024-06-12", 336 * M),
        ("021-512345", HARBORVIEW, 3, "2025-01-13", 132 * M),
        ("021-600001", "Northwind Robotics, Inc.", 2, "2024-05-20", 5 * M),
        ("021-600002", "Bayside Biotech LLC", 2, "2025-04-02", 500_000),
    ],
    4: [
        ("2024-01", "CT", "Pooled Investment Fund", 1, 350 * M),
        ("2024-02", "CA", "Other Technology", 1, 4 * M),
        ("2024-02", "IL", "Pooled Investment Fund", 1, 50 * M),
        ("2024-02", "TX", "Pooled Investment Fund", 1, 12 * M),
        ("2024-03", "CA", "Biotechnology", 1, 2_500_000),
        ("2024-03", "CA", "Other Technology", 1, 1 * M),
    ],
    5: [
        ("Hedge Fund", "06b", 1, 50 * M),
        ("Hedge Fund", "3C.1", 1, 50 * M),
        ("Other Investment Fund", "06b", 1, 12 * M),
        ("Private Equity Fund", "06c", 1, 818 * M),
        ("Private Equity Fund", "3C", 1, 818 * M),
        ("Private Equity Fund", "3C.7", 1, 818 * M),
    ],
    6: [
        # Northwind's two offerings: 9M (the first's latest version, not 4M + 9M) + 1M.
        ("0002000001", "Northwind Robotics, Inc.", "CA", 2, 3, 10 * M),
        ("0001999001", HARBORVIEW, "CT", 1, 3, 818 * M),
        ("0002000003", "Lakeshore Credit Fund LP", "IL", 1, 1, 50 * M),
        ("0002000005", "Granite Peak Real Estate Fund LP", "TX", 1, 1, 12 * M),
        ("0002000002", "Bayside Biotech LLC", "CA", 1, 2, 3 * M),
    ],
    7: [
        (HARBORVIEW, 818 * M, "Margaret A. Okafor", "Executive Officer,Director"),
        (HARBORVIEW, 818 * M, "Harborview Infrastructure GP II, LLC", "Promoter"),
        ("Lakeshore Credit Fund LP", 50 * M, "Dana Whitfield", "Executive Officer"),
        ("Granite Peak Real Estate Fund LP", 12 * M, "Luis Ortega", "Executive Officer,Director"),
    ],
    8: [
        ("021-600001", "Northwind Robotics, Inc.", 2, "2024-05-20", 10 * M, 0, 15 * M, 0),
        ("021-600002", "Bayside Biotech LLC", 2, "2025-04-02", None, 1, 20 * M, 0),
    ],
    # Harborview's 2025-01-13 amendment is 363 days after 2024-01-15: not more than a year.
    9: [("021-600002", "Bayside Biotech LLC", "2024-03-11", "0002000002-25-000001", "2025-04-02")],
    10: [
        ("Meridian Placement Advisors LLC", "154321", 2, 868 * M),
        ("Acme Securities LLC", "12345", 3, 13 * M),
    ],
}


def plain(value: object) -> object:
    """One spelling of a value on both databases: numbers as int, booleans 0/1, dates ISO text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal | float):
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else number
    if isinstance(value, date):
        return value.isoformat()
    return value


def run_all(url: str, amendment_chain_dir: Path) -> dict[int, list[tuple[Any, ...]]]:
    store = open_store(url)
    ingest_paths(store, [amendment_chain_dir])
    store.save_many([(raw_for(r), r) for r in market()], "1")
    answers = {}
    with store.engine.connect() as conn:
        for number, sql in read_queries(QUERIES.read_text(encoding="utf-8")).items():
            answers[number] = [tuple(plain(v) for v in row) for row in conn.execute(sa.text(sql))]
    store.close()
    return answers


def test_the_file_holds_ten_questions() -> None:
    queries = read_queries(QUERIES.read_text(encoding="utf-8"))
    assert sorted(queries) == list(range(1, 11))
    assert all(sql.upper().startswith("SELECT") and ";" not in sql for sql in queries.values())


def test_each_question_gets_its_answer_on_both_databases(
    database_url: str, amendment_chain_dir: Path
) -> None:
    answers = run_all(database_url, amendment_chain_dir)
    wrong = {n: answers[n] for n in EXPECTED if answers[n] != EXPECTED[n]}
    assert wrong == {}, "questions whose answer differs (number: rows found)"
