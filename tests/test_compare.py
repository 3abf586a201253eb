"""Comparing two records of one filing field by field (what ``reconcile`` reports)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from edgar_ingest.compare import compare_records, field_group, flatten_record
from edgar_ingest.records import SOURCE_DATASET
from tests.storage.formd_factory import filing, with_offering

ACCESSION = "0001234567-24-000001"


def test_equal_records_agree_on_every_field_but_acceptance_time() -> None:
    own = filing(ACCESSION)
    assert own.header is not None
    dataset = replace(own, header=replace(own.header, accepted_at=None), source=SOURCE_DATASET)
    comparison = compare_records(ACCESSION, dataset, own)
    assert comparison.differences == ()
    assert "offering.total_amount_sold" in comparison.compared
    assert "related_persons[1].last_name" in comparison.compared
    assert not any("accepted_at" in path for path in comparison.compared)


def test_a_changed_amount_and_a_missing_person_are_named() -> None:
    own = filing(ACCESSION, persons=3)
    dataset = with_offering(filing(ACCESSION, persons=2), total_amount_sold=Decimal("2500001"))
    differences = {
        d.field: (d.dataset_value, d.filing_value)
        for d in compare_records(ACCESSION, dataset, own).differences
    }
    assert differences["offering.total_amount_sold"] == ("2500001", "2500000")
    assert differences["related_persons.count"] == ("2", "3")
    assert differences["related_persons[2].first_name"] == (None, "Person2")


def test_values_are_written_as_text_the_same_way_on_both_sides() -> None:
    fields = flatten_record(filing(ACCESSION))
    assert fields["offering.total_amount_sold"] == "2500000"
    assert fields["offering.is_equity"] in ("true", "false")
    assert fields["offering.federal_exemptions"] == "06b"
    assert fields["header.filing_date"] == "2024-03-04"
    assert fields["header.file_number"] == "021-400001"


def test_a_field_group_drops_the_list_indices() -> None:
    assert field_group("related_persons[12].address.city") == "related_persons.address.city"
    assert field_group("offering.sales_compensation_recipients[0].name") == (
        "offering.sales_compensation_recipients.name"
    )
