"""The stored digests of a record stay what they always were: sha256 of the record's ``repr``.

``filings.record_sha256``/``document_sha256`` decide whether a reparse rewrites a filing: a digest
computed differently would make every stored filing look changed once.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from formd_factory import filing, issuer, with_offering

from edgar_ingest.errors import ParseError
from edgar_ingest.parse import parse_document
from edgar_ingest.records import SOURCE_DATASET, Address, Filer, FormDFiling
from edgar_ingest.store.digest import record_digests, record_repr


def digests_by_definition(record: FormDFiling) -> tuple[str, str]:
    """The digests as the store has always defined them (before ``record_repr`` existed)."""
    document = hashlib.sha256(repr(record.document).encode("utf-8")).hexdigest()
    origin = "" if record.source == "filing" else f"{record.source}|"
    return hashlib.sha256(f"{origin}{record.header!r}|{document}".encode()).hexdigest(), document


def varied_records() -> list[FormDFiling]:
    full = filing(
        co_issuers=(issuer("0007654321", "Parallel Fund, LP", previous_names=("Old", "Older")),),
        filers=(Filer("0001234567", "EXAMPLE", "021-400001"), Filer("0007654321", None, None)),
        persons=3,
    )
    empty_parts = replace(
        full.document,
        primary_issuer=replace(full.document.primary_issuer, address=None, issuer_previous_names=()),
        related_persons=full.document.related_persons[:1],
        signatures=(),
    )
    return [
        full,
        filing(None),  # bare XML: no header
        replace(full, header=replace(full.header, accepted_at=None), source=SOURCE_DATASET),  # type: ignore[arg-type]
        replace(full, document=empty_parts),
        with_offering(full, total_amount_sold=Decimal("12.50"), first_sale_date=None, federal_exemptions=()),
        with_offering(full, sales_compensation_recipients=(), minimum_investment=None),
    ]


def test_record_repr_is_the_repr_of_every_record_part() -> None:
    for record in varied_records():
        assert record_repr(record.document) == repr(record.document)
        assert record_repr(record.header) == repr(record.header)
    assert record_repr(Address()) == repr(Address())
    assert record_repr((Address(city="Rye"),)) == repr((Address(city="Rye"),))
    assert record_repr(()) == "()"
    assert record_repr(date(2024, 1, 2)) == "datetime.date(2024, 1, 2)"


def test_record_repr_of_every_corpus_document_is_its_repr(corpus_dir: Path) -> None:
    checked = 0
    for folder in ("submissions_txt", "formd_xml"):
        for path in sorted((corpus_dir / folder).iterdir()):
            try:
                record = parse_document(path.read_bytes())
            except ParseError:
                continue
            assert record_repr(record.document) == repr(record.document), path.name
            assert record_repr(record.header) == repr(record.header), path.name
            assert record_digests(record) == digests_by_definition(record), path.name
            checked += 1
    assert checked > 20


def test_record_digests_are_the_digests_by_definition() -> None:
    for record in varied_records():
        assert record_digests(record) == digests_by_definition(record)


def test_record_digests_of_a_known_record_are_pinned() -> None:
    """Values the store wrote before this module existed (a change here re-derives every filing)."""
    document = "50a2cbf015f04eb3d09164477ce7bfe17a9213ecc34d2d897d41d7facab66e3f"
    record = filing()
    assert record_digests(record) == (
        "e22bc47e005cfebf15f6f1dfe9b2feef819e289b544c2911bc85431bfe55a7ac",
        document,
    )
    assert record_digests(filing(None)) == (
        "fd155a270c83f5dcd4fb6e5544abd49d2b1b7bc38c7747d6802981160f3cf7cb",
        document,
    )
    dataset = replace(record, header=replace(record.header, accepted_at=None), source=SOURCE_DATASET)  # type: ignore[arg-type]
    assert record_digests(dataset) == (
        "8f16826a465e53d706724e572dcbff11e6edddfab346f65efa758e58cd88fbbe",
        document,
    )
