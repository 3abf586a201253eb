"""Amounts are whole dollars stored as BIGINT: exact, and summed exactly by plain SQL, on SQLite and
PostgreSQL; a value the Form D schema does not allow is refused by the store, never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from formd_factory import filing, raw_for, with_offering

from edgar_ingest.store import OutcomeStatus, Store

LARGEST = Decimal(999_999_999_999)  # the schema's largest amount


def scalar(store: Store, sql: str) -> object:
    with store.engine.connect() as conn:
        return conn.scalar(sa.text(sql))


def test_the_largest_amounts_read_back_and_sum_exactly(store: Store) -> None:
    records = [
        with_offering(
            filing(f"0001234567-24-00000{n}", file_number=f"021-40000{n}"),
            total_amount_sold=LARGEST - n,
            minimum_investment=LARGEST,
            total_investors=999_999_999_999,
        )
        for n in range(1, 4)
    ]
    outcomes = store.save_many([(raw_for(r), r) for r in records], "1")
    assert {o.status for o in outcomes} == {OutcomeStatus.INSERTED}
    # 2,999,999,999,991: a float (53 bits) would still hold it, 9007199254740993 would not; a
    # NUMERIC(20,2) on SQLite read it back as a REAL. Plain SQL, no Python conversion:
    total = scalar(store, "SELECT SUM(total_amount_sold) FROM offerings_latest")
    assert int(total) == 2_999_999_999_991  # type: ignore[call-overload]
    assert str(total) == "2999999999991"  # not 2.999999999991e12, not "...991.00"
    issuers_total = scalar(store, "SELECT total_amount_sold FROM issuers_latest")
    assert str(issuers_total) == "2999999999991"
    versions = store.offering_versions()
    assert [v["total_amount_sold"] for v in versions] == [LARGEST - 1, LARGEST - 2, LARGEST - 3]
    assert {v["minimum_investment"] for v in versions} == {LARGEST}
    assert {v["total_investors"] for v in versions} == {999_999_999_999}
    if store.dialect == "sqlite":
        kinds = scalar(
            store, "SELECT group_concat(DISTINCT typeof(total_amount_sold)) FROM offering_versions"
        )
        assert kinds == "integer"


@pytest.mark.parametrize("amount", [Decimal("1000000.01"), Decimal("0.5"), Decimal(-1), LARGEST + 1], ids=str)
def test_an_amount_the_schema_does_not_allow_is_refused_never_rounded(store: Store, amount: Decimal) -> None:
    bad = with_offering(filing("0001234567-24-000001"), total_amount_sold=amount)
    good = filing("0001234567-24-000002", file_number="021-400002")
    outcomes = store.save_many([(raw_for(bad), bad), (raw_for(good), good)], "1")
    assert [o.status for o in outcomes] == [OutcomeStatus.FAILED, OutcomeStatus.INSERTED]
    assert f"{amount} is not a whole number of dollars from 0 to 999,999,999,999" in (
        outcomes[0].reason or ""
    )
    assert [v["accession_number"] for v in store.offering_versions()] == ["0001234567-24-000002"]
    (failure,) = store.list_failures()
    assert (failure.accession_number, failure.stage) == ("0001234567-24-000001", "store")
