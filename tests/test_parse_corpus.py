"""The parser on the real EDGAR files of ../shared/corpus (skipped when the corpus is absent)."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edgar_ingest.parse import parse_document
from edgar_ingest.records import (
    Address,
    Filer,
    FormDDocument,
    FormDFiling,
    Issuer,
    Offering,
    RelatedPerson,
    SecHeader,
    Signature,
)

pytestmark = pytest.mark.corpus

XML_COUNT = 46
SUBMISSION_COUNT = 6


def provenance(corpus_dir: Path) -> dict[str, dict[str, str]]:
    with (corpus_dir / "PROVENANCE.tsv").open(newline="", encoding="utf-8") as handle:
        return {row["local_path"]: row for row in csv.DictReader(handle, delimiter="\t")}


def documents(corpus_dir: Path) -> list[Path]:
    xml = sorted((corpus_dir / "formd_xml").glob("*.xml"))
    submissions = sorted(p for p in (corpus_dir / "submissions_txt").iterdir() if p.suffix in {".txt", ".nc"})
    assert (len(xml), len(submissions)) == (XML_COUNT, SUBMISSION_COUNT)
    return xml + submissions


def test_every_corpus_document_parses_and_matches_its_provenance(corpus_dir: Path) -> None:
    known = provenance(corpus_dir)
    checked_accessions = checked_file_numbers = 0
    for path in documents(corpus_dir):
        local = path.relative_to(corpus_dir).as_posix()
        row = known[local]
        filing = parse_document(path.read_bytes())
        assert filing.primary_cik == row["cik"], local
        assert filing.submission_type == row["submission_type"], local
        assert filing.document.submission_type == row["submission_type"], local
        assert filing.document.primary_issuer.entity_name == row["issuer_name"], local
        if path.suffix == ".xml":
            # A bare XML carries neither accession nor file number: nothing to compare them with.
            assert filing.header is None, local
            assert filing.accession_number is None, local
            continue
        assert filing.header is not None, local
        assert filing.header.filers[0].cik == row["cik"], local
        if row["accession"]:
            assert filing.accession_number == row["accession"], local
            checked_accessions += 1
        if row["file_number"]:
            assert filing.file_number == row["file_number"], local
            checked_file_numbers += 1
    assert (checked_accessions, checked_file_numbers) == (SUBMISSION_COUNT, SUBMISSION_COUNT)


def test_embedded_xml_of_a_submission_parses_like_its_extracted_copy(corpus_dir: Path) -> None:
    for submission in sorted((corpus_dir / "submissions_txt").iterdir()):
        extracted = corpus_dir / "formd_xml" / f"{submission.stem}.xml"
        from_submission = parse_document(submission.read_bytes()).document
        assert from_submission == parse_document(extracted.read_bytes()).document, submission.name


def test_corpus_amounts_are_exact_decimals_and_indefinite_is_never_zero(corpus_dir: Path) -> None:
    indefinite = 0
    for path in documents(corpus_dir):
        offering = parse_document(path.read_bytes()).document.offering
        for amount in (offering.total_offering_amount, offering.total_amount_sold, offering.total_remaining):
            assert amount is None or isinstance(amount, Decimal), path.name
        if offering.is_offering_amount_indefinite:
            indefinite += path.suffix == ".xml"
            assert offering.total_offering_amount is None, path.name
        if offering.is_remaining_indefinite:
            assert offering.total_remaining is None, path.name
    assert indefinite == 7  # the corpus README: 7 XML files with Indefinite offering amounts


GAINGELS_ADDRESS = Address(
    street1="119 SOUTH MAIN STREET",
    street2="SUITE 220",
    city="SEATTLE",
    state_or_country="WA",
    state_or_country_description="WASHINGTON",
    zip_code="98104",
)


def gaingels_issuer(cik: str, name: str) -> Issuer:
    return Issuer(
        cik=cik,
        entity_name=name,
        address=GAINGELS_ADDRESS,
        phone_number="2068016359",
        jurisdiction_of_inc="DELAWARE",
        issuer_previous_names=(),
        edgar_previous_names=(),
        entity_type="Limited Partnership",
        entity_type_other_description=None,
        year_of_inc_choice="within_five_years",
        year_of_inc=2023,
    )


FUND = "LU-0503 Gaingels Fund I, a series of 2022 Ventures Early, LP"
AL_VEHICLE = "LU-0503 Gaingels Fund I AL Vehicle, a series of 2022 Ventures Early, LP"


def test_golden_co_issued_full_submission_every_field(corpus_dir: Path) -> None:
    filing = parse_document((corpus_dir / "submissions_txt" / "0001980155-23-000002.txt").read_bytes())
    signature = Signature(
        issuer_name=FUND,
        signature_name="/s/ Cathy Bui",
        name_of_signer="Cathy Bui",
        title="Authorized Officer of the Manager of Issuers' GP",
        signature_date=date(2023, 6, 6),
    )
    expected = FormDFiling(
        header=SecHeader(
            accession_number="0001980155-23-000002",
            submission_type="D",
            filed_as_of_date=date(2023, 6, 6),
            accepted_at=datetime(2023, 6, 6, 12, 44, 25, tzinfo=ZoneInfo("America/New_York")),
            filers=(
                Filer(cik="0001980155", name=FUND, file_number="021-483444"),
                Filer(cik="0001980283", name=AL_VEHICLE, file_number="021-483444-01"),
            ),
        ),
        document=FormDDocument(
            schema_version="X0708",
            submission_type="D",
            test_or_live="LIVE",
            primary_issuer=gaingels_issuer("0001980155", FUND),
            co_issuers=(gaingels_issuer("0001980283", AL_VEHICLE),),
            has_over_100_issuers=False,
            related_persons=(
                RelatedPerson(
                    first_name="LLC",  # the company "Fund GP, LLC" split across the name fields
                    middle_name=None,
                    last_name="Fund GP,",
                    address=Address(
                        street1="PO Box 3217",
                        street2=None,
                        city="Seattle",
                        state_or_country="WA",
                        state_or_country_description="WASHINGTON",
                        zip_code="98114",
                    ),
                    relationships=("Director",),
                    relationship_clarification="General partner of the Issuers",
                ),
                RelatedPerson(
                    first_name="Ltd.",
                    middle_name=None,
                    last_name="Belltower Fund Group,",
                    address=Address(
                        street1="119 South Main St, Suite 220",
                        street2=None,
                        city="Seattle",
                        state_or_country="WA",
                        state_or_country_description="WASHINGTON",
                        zip_code="98104",
                    ),
                    relationships=("Director",),
                    relationship_clarification="Manager of the general partner of the Issuers",
                ),
            ),
            offering=Offering(
                industry_group="Pooled Investment Fund",
                investment_fund_type="Venture Capital Fund",
                is_40_act=False,
                revenue_range="Decline to Disclose",
                aggregate_net_asset_value_range=None,
                federal_exemptions=("06b", "3C", "3C.1"),
                is_amendment=False,
                previous_accession_number=None,
                first_sale_date=date(2023, 6, 2),
                is_first_sale_yet_to_occur=False,
                is_more_than_one_year=False,
                is_equity=False,
                is_debt=False,
                is_option_to_acquire=False,
                is_security_to_be_acquired=False,
                is_pooled_investment_fund_interest=True,
                is_tenant_in_common=False,
                is_mineral_property=False,
                is_other_security=False,
                other_security_description=None,
                is_business_combination=False,
                business_combination_clarification=None,
                minimum_investment=Decimal("1000"),
                sales_compensation_recipients=(),
                has_over_100_recipients=False,
                total_offering_amount=Decimal("111000"),
                is_offering_amount_indefinite=False,
                total_amount_sold=Decimal("111000"),
                total_remaining=Decimal("0"),
                is_remaining_indefinite=False,
                sales_amounts_clarification=(
                    "Amounts shown here include totals from the Issuer and a parallel fund of the Issuer."
                ),
                has_non_accredited_investors=False,
                non_accredited_investors=None,
                total_investors=12,
                sales_commissions=Decimal("0"),
                is_sales_commissions_estimate=False,
                finders_fees=Decimal("0"),
                is_finders_fees_estimate=False,
                commissions_clarification=None,
                gross_proceeds_used=Decimal("8739"),
                is_gross_proceeds_estimate=True,
                proceeds_clarification=(
                    "This amount represents the dollar value of a one-time fee and an annual fee paid to the "
                    "fund administrator and/or its affiliates to cover administrative expenses for the life "
                    "of the fund."
                ),
            ),
            is_authorized_representative=False,
            signatures=(signature, replace(signature, issuer_name=AL_VEHICLE)),
        ),
    )
    assert filing == expected
    assert filing.file_number == "021-483444"  # the primary issuer's, not the co-issuer's -01


def test_golden_pem_wrapped_2009_submission_recipient_and_indefinite(corpus_dir: Path) -> None:
    filing = parse_document((corpus_dir / "submissions_txt" / "0000919574-09-006093.txt").read_bytes())
    assert filing.header == SecHeader(
        accession_number="0000919574-09-006093",
        submission_type="D",
        filed_as_of_date=date(2009, 3, 16),
        accepted_at=datetime(2009, 3, 16, 11, 22, 18, tzinfo=ZoneInfo("America/New_York")),
        filers=(
            Filer(cik="0001456986", name="GABELLI INTERNATIONAL GOLD FUND LTD.", file_number="021-127918"),
        ),
    )
    document = filing.document
    assert document.schema_version == "X0301"
    assert document.primary_issuer.year_of_inc_choice == "over_five_years"
    offering = document.offering
    assert (offering.total_offering_amount, offering.is_offering_amount_indefinite) == (None, True)
    assert (offering.total_remaining, offering.is_remaining_indefinite) == (None, True)
    assert offering.total_amount_sold == Decimal("500000")
    assert offering.federal_exemptions == ("06", "3C", "3C.1")
    (recipient,) = offering.sales_compensation_recipients
    assert (recipient.name, recipient.crd_number, recipient.associated_broker_dealer_name) == (
        "Gabelli & Company",
        "7353",
        None,
    )
    assert (recipient.is_all_states, recipient.states_of_solicitation) == (True, ())
    assert [p.middle_name for p in document.related_persons] == ["R.", "R.", None, "M.", "J."]
