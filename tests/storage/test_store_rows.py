"""The bulk write path stores exactly what SQLAlchemy's ``insert(table)`` would, on both databases.

``RowWriter`` writes tuples with COPY (PostgreSQL) or executemany (SQLite) after running each
value through its column type's bind processor; these tests compare what it stores, value by
value and (on SQLite) storage class by storage class, with SQLAlchemy's own insert of the same
rows, for a record with every kind of value: amounts up to the largest, an acceptance time
in US/Eastern, dates, booleans, absent parts, and text that COPY must escape.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from formd_factory import EASTERN, filing, issuer, raw_for, with_offering

from edgar_ingest.records import Address, Filer, FormDFiling, RelatedPerson
from edgar_ingest.store import OutcomeStatus, Store
from edgar_ingest.store.base import _filings
from edgar_ingest.store.filings import _FILING_INSERT
from edgar_ingest.store.inserts import RowLayout
from edgar_ingest.store.rows import CHILD_LAYOUTS, FILING_RECORD_COLUMNS, ChildRows, filing_record_values

AWKWARD = 'Tab\there, new\nline, back\\slash, "quotes", \r, Zürich, 北京, \\N'


def awkward_record() -> FormDFiling:
    record = filing(
        accepted_at=datetime(2024, 3, 4, 16, 30, 15, 123456, tzinfo=EASTERN),
        co_issuers=(issuer(None, AWKWARD, previous_names=("Old \\ Name", "")),),
        filers=(Filer("0001234567", AWKWARD, "021-400001"), Filer("0007654321", None, None)),
        persons=2,
    )
    record = with_offering(
        record,
        total_amount_sold=Decimal(1234567),
        total_offering_amount=None,
        is_offering_amount_indefinite=True,
        minimum_investment=Decimal("0"),
        first_sale_date=None,
        sales_commissions=Decimal("999999999999"),
    )
    person = RelatedPerson(AWKWARD, None, "", Address(city="Genève\t"), ("Director",), AWKWARD)
    document = replace(record.document, related_persons=(person, *record.document.related_persons))
    return replace(record, document=document)


def dump(conn: sa.Connection, layout: RowLayout, dialect: str) -> list[tuple[Any, ...]]:
    """Every stored value of the layout's columns, with SQLite's storage class of each."""
    columns = ", ".join(layout.columns)
    if dialect == "sqlite":
        columns += ", " + ", ".join(f"typeof({c})" for c in layout.columns)
    rows = conn.exec_driver_sql(f"SELECT {columns} FROM {layout.table.name} ORDER BY 1, 2, 3")
    return [tuple(row) for row in rows]


def test_bulk_writes_store_what_sqlalchemy_inserts_would(store: Store) -> None:
    record = awkward_record()
    raw = raw_for(record)
    assert store.save(raw, record, "1").status is OutcomeStatus.INSERTED
    layouts = [_FILING_INSERT, *CHILD_LAYOUTS]
    with store.engine.connect() as conn:
        written = {layout: dump(conn, layout, store.dialect) for layout in layouts}
        (stored,) = conn.execute(sa.select(_filings)).mappings()
    # The same rows again, through SQLAlchemy's insert(table) in a transaction rolled back: the
    # record's columns from the record, the others (keys, digests, times) as stored.
    from_record = dict(zip(FILING_RECORD_COLUMNS, filing_record_values(record), strict=True))
    filing_row = {name: from_record.get(name, stored[name]) for name in _FILING_INSERT.columns}
    children = ChildRows()
    children.add(stored["id"], record)
    with store.engine.connect() as conn, conn.begin() as transaction:
        for layout in reversed(CHILD_LAYOUTS):
            conn.execute(sa.delete(layout.table))
        conn.execute(sa.delete(_filings))
        conn.execute(sa.insert(_filings), [filing_row])
        for layout, rows in children.rows.items():
            if rows:
                conn.execute(
                    sa.insert(layout.table), [dict(zip(layout.columns, r, strict=True)) for r in rows]
                )
        inserted = {layout: dump(conn, layout, store.dialect) for layout in layouts}
        transaction.rollback()
    for layout in layouts:
        assert written[layout] == inserted[layout], layout.table.name
    assert sum(len(rows) for rows in written.values()) > 15


def test_awkward_text_comes_back_as_it_went_in(store: Store) -> None:
    record = awkward_record()
    store.save(raw_for(record), record, "1")
    with store.engine.connect() as conn:
        names = conn.exec_driver_sql("SELECT entity_name FROM filing_issuers ORDER BY issuer_index").scalars()
        person = conn.exec_driver_sql(
            "SELECT first_name, last_name, city, relationship_clarification FROM related_persons "
            "WHERE person_index = 0"
        ).one()
        filer = conn.exec_driver_sql("SELECT company_name FROM filing_filers WHERE filer_index = 0").scalar()
        previous = conn.exec_driver_sql(
            "SELECT previous_name FROM issuer_previous_names WHERE issuer_index = 1 ORDER BY name_index"
        ).scalars()
        assert list(names) == ["Example Robotics, Inc.", AWKWARD]
        assert tuple(person) == (AWKWARD, "", "Genève\t", AWKWARD)
        assert filer == AWKWARD
        assert list(previous) == ["Old \\ Name", ""]


def test_a_count_beyond_32_bits_is_stored_exactly_never_wrapped(store: Store) -> None:
    """``total_investors`` is BIGINT (the schema allows up to 999,999,999,999): 3,000,000,000 is
    stored exactly on both databases, never wrapped around."""
    big = with_offering(filing(), total_investors=3_000_000_000)
    outcome = store.save(raw_for(big), big, "1")
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT total_investors FROM filings").scalars().all()
    assert outcome.status is OutcomeStatus.INSERTED
    assert stored == [3_000_000_000]


def test_key_lookups_find_any_key_text(store: Store) -> None:
    """Keys go to PostgreSQL joined by a separator when none holds it: one that does, or an
    empty key, is looked up all the same."""
    from edgar_ingest.store.base import _raw

    keys = ["plain", "with\x1fseparator", "", "x" * 64]
    with store.engine.connect() as conn, conn.begin() as transaction:
        for i, key in enumerate(keys, start=1):
            conn.execute(
                sa.insert(_raw).values(
                    id=i,
                    sha256=key,
                    content_zlib=b"",
                    content_size_bytes=0,
                    compressed_size_bytes=0,
                    source_url="u",
                    fetched_at=datetime(2025, 1, 1, tzinfo=EASTERN),
                    stored_at=datetime(2025, 1, 1, tzinfo=EASTERN),
                )
            )
        for wanted in (keys, ["plain", "x" * 64], ["missing", "plain"]):
            found = store._rows.select_in(conn, _raw, ("id", "sha256"), "sha256", wanted)
            assert sorted(row.sha256 for row in found) == sorted(k for k in wanted if k in keys)
        transaction.rollback()
