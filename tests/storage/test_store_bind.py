"""``RowWriter.bind`` converts every value as its column's type does, row by row.

The bulk path binds a batch's rows with a function generated per layout that remembers the last
value of each converted column (a batch shares its timestamp, True and False): these tests pin
that the result is, value for value, what the column type's own bind processor gives for that
row, whatever objects consecutive rows share, on both dialects (no database needed).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from formd_factory import EASTERN
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from edgar_ingest.store.base import _filings
from edgar_ingest.store.inserts import RowLayout, RowWriter
from edgar_ingest.store.rows import SIGNATURES

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.psycopg.dialect()}

AMOUNTS = RowLayout(
    _filings, ("id", "total_amount_sold", "is_amendment", "filing_date", "accepted_at", "finders_fees")
)


def expected(layout: RowLayout, dialect: Dialect, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Each value through its column type's bind processor, one at a time."""
    processors = [
        layout.table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in layout.columns
    ]
    return [
        tuple(v if convert is None else convert(v) for convert, v in zip(processors, row, strict=True))
        for row in rows
    ]


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_each_row_gets_its_own_values_converted_whatever_the_rows_share(name: str) -> None:
    dialect = DIALECTS[name]
    shared = datetime(2024, 3, 4, 16, 30, 15, 123456, tzinfo=EASTERN)
    zero = Decimal(0)
    rows = [
        (1, zero, True, date(2024, 1, 2), shared, zero),  # one object in two columns
        (2, zero, True, date(2024, 1, 2), shared, None),  # the same objects again
        (3, Decimal(999_999_999_999), False, None, None, Decimal(5)),
        (4, None, True, date(2024, 1, 2), shared, Decimal(5)),  # equal, not the same objects
        (5, Decimal(7), None, date(2023, 12, 31), datetime(2024, 1, 1, tzinfo=EASTERN), zero),
    ]
    bound = RowWriter(dialect).bind(AMOUNTS, rows)
    want = expected(AMOUNTS, dialect, rows)
    assert bound == want
    assert [list(map(type, row)) for row in bound] == [list(map(type, row)) for row in want]
    assert bound[2][1] == 999_999_999_999
    assert bound[3][1] is None


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_an_amount_the_schema_refuses_is_refused_in_any_row(name: str) -> None:
    rows = [(1, Decimal(1), True, None, None, None), (2, Decimal("1.5"), True, None, None, None)]
    with pytest.raises(ValueError, match="refused, never rounded"):
        RowWriter(DIALECTS[name]).bind(AMOUNTS, rows)


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_values_that_need_no_conversion_pass_as_they_are(name: str) -> None:
    rows = [(1, 0, "Issuer", "Name", "Signer", "Title", None), (1, 1, None, "", "", "", None)]
    assert RowWriter(DIALECTS[name]).bind(SIGNATURES, rows) == rows
