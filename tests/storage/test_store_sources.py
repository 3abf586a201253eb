"""Two sources of the same filing: the filing's own document always wins over the data set's row."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from edgar_ingest.records import SOURCE_DATASET, FormDFiling, RawDocument
from edgar_ingest.store import OutcomeStatus, Store
from tests.storage.formd_factory import FETCHED_AT, filing, raw_for, with_offering

ACCESSION = "0001234567-24-000001"
ARCHIVE = RawDocument.of(b"PK\x03\x04 stand-in archive bytes", "https://sec.example/2024q1_d.zip", FETCHED_AT)


def as_dataset(record: FormDFiling) -> FormDFiling:
    """The record a data-set row gives: no acceptance time, source 'dataset'."""
    assert record.header is not None
    return replace(record, header=replace(record.header, accepted_at=None), source=SOURCE_DATASET)


def stored(store: Store, accession: str = ACCESSION) -> dict[str, object]:
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT source, accepted_at, total_amount_sold, raw_document_id FROM filings "
                "WHERE accession_number = :a"
            ),
            {"a": accession},
        ).one()
    return dict(row._mapping)


def test_the_filing_replaces_a_data_set_version_and_counts_as_updated(store: Store) -> None:
    own = filing(ACCESSION)
    dataset = as_dataset(with_offering(own, total_amount_sold=Decimal("1")))
    assert store.save(ARCHIVE, dataset, "dataset-1").status is OutcomeStatus.INSERTED
    assert stored(store)["source"] == "dataset"
    assert stored(store)["accepted_at"] is None

    assert store.save(raw_for(own), own, "1").status is OutcomeStatus.UPDATED
    row = stored(store)
    assert row["source"] == "filing"
    assert row["accepted_at"] is not None
    assert Decimal(str(row["total_amount_sold"])) == Decimal("2500000")


def test_a_data_set_row_never_overwrites_the_filing(store: Store) -> None:
    own = filing(ACCESSION)
    store.save(raw_for(own), own, "1")
    before = stored(store)
    dataset = as_dataset(with_offering(own, total_amount_sold=Decimal("1")))
    assert store.save(ARCHIVE, dataset, "dataset-1").status is OutcomeStatus.UNCHANGED
    assert stored(store) == before


def test_a_data_set_row_does_not_take_over_the_bare_xml_of_the_same_document(store: Store) -> None:
    bare = filing(None)
    store.save(raw_for(bare), bare, "1")
    dataset = as_dataset(filing(ACCESSION))
    assert dataset.document == bare.document
    assert store.save(ARCHIVE, dataset, "dataset-1").status is OutcomeStatus.UNCHANGED
    with store.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM filings")) == 1
        assert conn.scalar(sa.text("SELECT source FROM filings")) == "filing"


def test_the_same_data_set_row_twice_is_unchanged_and_a_changed_one_updates(store: Store) -> None:
    dataset = as_dataset(filing(ACCESSION))
    assert store.save(ARCHIVE, dataset, "dataset-1").status is OutcomeStatus.INSERTED
    assert store.save(ARCHIVE, dataset, "dataset-1").status is OutcomeStatus.UNCHANGED
    republished = RawDocument.of(b"PK\x03\x04 republished", "https://sec.example/2024q1_d.zip", FETCHED_AT)
    changed = with_offering(dataset, total_amount_sold=Decimal("3000000"))
    assert store.save(republished, changed, "dataset-1").status is OutcomeStatus.UPDATED
    assert stored(store)["source"] == "dataset"


def test_versions_known_only_from_a_data_set_are_fetched_again(store: Store) -> None:
    """known_accessions tells the fetching pipeline what it may skip: only the filings' own versions."""
    own = filing(ACCESSION)
    other = "0001234567-24-000002"
    store.save(raw_for(own), own, "1")
    store.save(ARCHIVE, as_dataset(filing(other, file_number="021-400002")), "dataset-1")
    assert store.known_accessions([ACCESSION, other]) == {ACCESSION}


def test_a_version_without_acceptance_time_sorts_after_those_with_one_on_its_day(store: Store) -> None:
    day = date(2024, 3, 4)
    # The data-set version has the smaller accession number, so only NULLS LAST puts it second.
    dataset = as_dataset(filing("0001234567-24-000001", filing_date=day))
    own = filing("0001234567-24-000009", filing_date=day, amount_sold=Decimal("5000000"))
    earlier = filing("0001234567-23-000009", filing_date=date(2023, 12, 1), amount_sold=Decimal("1000000"))
    store.save(ARCHIVE, dataset, "dataset-1")
    store.save(raw_for(own), own, "1")
    store.save(raw_for(earlier), earlier, "1")
    rows = store.offering_versions(file_number="021-400001")
    assert [(r["version"], r["accession_number"], r["source"]) for r in rows] == [
        (1, "0001234567-23-000009", "filing"),
        (2, "0001234567-24-000009", "filing"),
        (3, "0001234567-24-000001", "dataset"),
    ]
    assert rows[2]["accepted_at"] is None
    assert rows[2]["is_latest"] is True
    assert all(isinstance(r["filing_id"], int) for r in rows)


def test_a_reference_to_bytes_that_are_not_stored_is_refused(store: Store) -> None:
    reference = RawDocument.reference("ab" * 32, "https://sec.example/x.zip", FETCHED_AT)
    with pytest.raises(LookupError, match="referenced but not stored"):
        store.save(reference, as_dataset(filing(ACCESSION)), "dataset-1")
    assert store.raw_document_count() == 0


@pytest.mark.parametrize("source", ["filing", "dataset"])
def test_the_source_is_stored_as_given(store: Store, source: str) -> None:
    record = replace(filing(ACCESSION), source=source)
    store.save(raw_for(record), record, "1")
    assert stored(store)["source"] == source
