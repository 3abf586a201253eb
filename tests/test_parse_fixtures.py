"""The parser on the project's own fixtures: one per real-world quirk, each compared whole.

Every fixture in tests/fixtures/formd/ is the complete document ``form_d_complete.xml`` with one
quirk applied, so every expected record below is the complete expected record with exactly the
fields that quirk changes replaced: a field read from a wrong tag fails every test at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edgar_ingest.parse import parse_document, parse_form_d_xml, parse_sec_header
from edgar_ingest.records import (
    Address,
    Filer,
    FormDDocument,
    FormDFiling,
    Issuer,
    Offering,
    RelatedPerson,
    SalesCompensationRecipient,
    SecHeader,
    Signature,
)

ISSUER_ADDRESS = Address(
    street1="100 Example Street",
    street2="Suite 5",
    city="Springfield",
    state_or_country="IL",
    state_or_country_description="ILLINOIS",
    zip_code="62701",
)
PRIMARY_ISSUER = Issuer(
    cik="0009990001",
    entity_name="Example Widget Fund I, L.P.",
    address=ISSUER_ADDRESS,
    phone_number="217-555-0100",
    jurisdiction_of_inc="DELAWARE",
    issuer_previous_names=("Example Widget Fund, L.P.", "Widget Partners I"),
    edgar_previous_names=("EXAMPLE WIDGET FUND LP",),
    entity_type="Other",
    entity_type_other_description="Series limited partnership",
    year_of_inc_choice="within_five_years",
    year_of_inc=2022,
)
JANE = RelatedPerson(
    first_name="Jane",
    middle_name="Q.",
    last_name="Example",
    address=ISSUER_ADDRESS,
    relationships=("Executive Officer", "Director", "Promoter"),
    relationship_clarification="Managing member of the general partner",
)
JOHN = RelatedPerson(
    first_name="John",
    middle_name=None,
    last_name="Sample",
    address=Address(
        street1="1 Harbour Road",
        street2=None,
        city="Hamilton",
        state_or_country="D0",
        state_or_country_description="BERMUDA",
        zip_code="HM 11",
    ),
    relationships=("Director",),
    relationship_clarification=None,
)
RECIPIENT = SalesCompensationRecipient(
    name="Example Securities LLC",
    crd_number="123456",
    associated_broker_dealer_name="Example Broker Inc.",
    associated_broker_dealer_crd_number="654321",
    address=Address(
        street1="200 Market Street",
        street2=None,
        city="New York",
        state_or_country="NY",
        state_or_country_description="NEW YORK",
        zip_code="10005",
    ),
    states_of_solicitation=("CA", "NY"),
    is_all_states=False,
    is_foreign_solicitation=True,
)
OFFERING = Offering(
    industry_group="Pooled Investment Fund",
    investment_fund_type="Venture Capital Fund",
    is_40_act=False,
    revenue_range=None,
    aggregate_net_asset_value_range="$5,000,001 - $25,000,000",
    federal_exemptions=("06b", "3C", "3C.7"),
    is_amendment=False,
    previous_accession_number=None,
    first_sale_date=date(2024, 2, 29),
    is_first_sale_yet_to_occur=False,
    is_more_than_one_year=True,
    is_equity=True,
    is_debt=True,
    is_option_to_acquire=True,
    is_security_to_be_acquired=True,
    is_pooled_investment_fund_interest=True,
    is_tenant_in_common=True,
    is_mineral_property=True,
    is_other_security=True,
    other_security_description="Carried interest units",
    is_business_combination=True,
    business_combination_clarification="Merger with Example Holdings",
    minimum_investment=Decimal("25000"),
    sales_compensation_recipients=(RECIPIENT,),
    has_over_100_recipients=False,
    total_offering_amount=Decimal("1500000"),
    is_offering_amount_indefinite=False,
    total_amount_sold=Decimal("250000"),
    total_remaining=Decimal("1250000"),
    is_remaining_indefinite=False,
    sales_amounts_clarification="Amounts include a parallel vehicle.",
    has_non_accredited_investors=True,
    non_accredited_investors=3,
    total_investors=12,
    sales_commissions=Decimal("15000"),
    is_sales_commissions_estimate=True,
    finders_fees=Decimal("2500"),
    is_finders_fees_estimate=False,
    commissions_clarification="Commissions paid to the placement agent.",
    gross_proceeds_used=Decimal("50000"),
    is_gross_proceeds_estimate=True,
    proceeds_clarification="Management fees to the general partner.",
)
COMPLETE = FormDDocument(
    schema_version="X0708",
    submission_type="D",
    test_or_live="LIVE",
    primary_issuer=PRIMARY_ISSUER,
    co_issuers=(),
    has_over_100_issuers=False,
    related_persons=(JANE, JOHN),
    offering=OFFERING,
    is_authorized_representative=True,
    signatures=(
        Signature(
            issuer_name="Example Widget Fund I, L.P.",
            signature_name="/s/ Jane Q. Example",
            name_of_signer="Jane Q. Example",
            title="Managing Member of the General Partner",
            signature_date=date(2024, 3, 4),
        ),
    ),
)
CO_ISSUER_ADDRESS = replace(ISSUER_ADDRESS, street2=None)
CO_ISSUERS = (
    Issuer(
        cik="0009990002",  # filed as 9990002: zero-padded
        entity_name="Example Widget Fund I-A, L.P.",
        address=CO_ISSUER_ADDRESS,
        phone_number="217-555-0100",
        jurisdiction_of_inc="DELAWARE",
        issuer_previous_names=(),
        edgar_previous_names=(),
        entity_type="Limited Partnership",
        entity_type_other_description=None,
        year_of_inc_choice="yet_to_be_formed",
        year_of_inc=None,
    ),
    Issuer(
        cik="0009990003",
        entity_name="Example Widget Fund I-B, L.P.",
        address=CO_ISSUER_ADDRESS,
        phone_number="217-555-0100",
        jurisdiction_of_inc="CAYMAN ISLANDS",
        issuer_previous_names=(),
        edgar_previous_names=(),
        entity_type="Limited Partnership",
        entity_type_other_description=None,
        year_of_inc_choice="over_five_years",
        year_of_inc=None,
    ),
)
AMENDMENT = replace(
    COMPLETE,
    submission_type="D/A",
    offering=replace(
        OFFERING,
        is_amendment=True,
        previous_accession_number="0009990001-24-000001",  # filed without dashes
        total_amount_sold=Decimal("400000"),
        total_remaining=Decimal("1100000"),
    ),
)
EASTERN = ZoneInfo("America/New_York")


def fixture(fixtures_dir: Path, name: str) -> bytes:
    return (fixtures_dir / "formd" / name).read_bytes()


def test_complete_form_d_yields_every_field(fixtures_dir: Path) -> None:
    assert parse_form_d_xml(fixture(fixtures_dir, "form_d_complete.xml")) == COMPLETE


def test_bare_xml_is_a_filing_without_header(fixtures_dir: Path) -> None:
    filing = parse_document(fixture(fixtures_dir, "form_d_complete.xml"))
    assert filing == FormDFiling(document=COMPLETE, header=None)
    assert (filing.accession_number, filing.file_number, filing.submission_type) == (None, None, "D")


def test_empty_elements_read_as_none(fixtures_dir: Path) -> None:
    expected = replace(
        COMPLETE,
        primary_issuer=replace(PRIMARY_ISSUER, address=replace(ISSUER_ADDRESS, street2=None)),
        related_persons=(replace(JANE, middle_name=None, relationship_clarification=None), JOHN),
        offering=replace(
            OFFERING,
            business_combination_clarification=None,
            sales_amounts_clarification=None,
            other_security_description=None,
        ),
    )
    assert parse_form_d_xml(fixture(fixtures_dir, "quirk_empty_elements.xml")) == expected


def test_none_placeholders_read_as_none_and_empty_lists(fixtures_dir: Path) -> None:
    expected = replace(
        COMPLETE,
        primary_issuer=replace(PRIMARY_ISSUER, issuer_previous_names=(), edgar_previous_names=()),
        offering=replace(
            OFFERING,
            sales_compensation_recipients=(
                replace(
                    RECIPIENT, associated_broker_dealer_name=None, associated_broker_dealer_crd_number=None
                ),
            ),
        ),
    )
    assert parse_form_d_xml(fixture(fixtures_dir, "quirk_none_placeholders.xml")) == expected


def test_placeholder_recipient_none_with_state_xx_is_kept_as_filed(fixtures_dir: Path) -> None:
    # Kept, not dropped: the list matches the document; its None/NONE texts read as None.
    placeholder = SalesCompensationRecipient(
        name=None,
        crd_number=None,
        associated_broker_dealer_name=None,
        associated_broker_dealer_crd_number=None,
        address=Address(
            street1=None,
            street2=None,
            city=None,
            state_or_country="XX",
            state_or_country_description="Unknown",
            zip_code=None,
        ),
        states_of_solicitation=(),
        is_all_states=True,
        is_foreign_solicitation=False,
    )
    expected = replace(COMPLETE, offering=replace(OFFERING, sales_compensation_recipients=(placeholder,)))
    assert parse_form_d_xml(fixture(fixtures_dir, "quirk_placeholder_recipient.xml")) == expected


def test_company_split_across_name_fields_is_kept_as_filed(fixtures_dir: Path) -> None:
    expected = replace(
        COMPLETE,
        related_persons=(
            replace(JANE, first_name="LLC", middle_name=None, last_name="Example Fund GP,"),
            # "N/A" is typed by the filer, not the EDGAR tool's placeholder: kept.
            replace(JOHN, first_name="N/A", last_name="Example Management, Inc."),
        ),
    )
    assert parse_form_d_xml(fixture(fixtures_dir, "quirk_company_split_name.xml")) == expected


def test_absent_checkboxes_are_false_and_absent_40_act_is_none(fixtures_dir: Path) -> None:
    expected = replace(
        COMPLETE,
        offering=replace(
            OFFERING,
            industry_group="Other Technology",
            investment_fund_type=None,
            is_40_act=None,
            revenue_range="Decline to Disclose",
            aggregate_net_asset_value_range=None,
            is_more_than_one_year=False,
            is_debt=False,
            is_option_to_acquire=False,
            is_security_to_be_acquired=False,
            is_pooled_investment_fund_interest=False,
            is_tenant_in_common=False,
            is_mineral_property=False,
            is_other_security=False,
            other_security_description=None,
            sales_compensation_recipients=(replace(RECIPIENT, is_foreign_solicitation=False),),
            is_sales_commissions_estimate=False,
            is_finders_fees_estimate=False,
            is_gross_proceeds_estimate=False,
        ),
    )
    assert parse_form_d_xml(fixture(fixtures_dir, "quirk_unticked_checkboxes_absent.xml")) == expected


def test_all_states_is_a_flag_not_a_state_and_over_100_recipients_flag_is_read(fixtures_dir: Path) -> None:
    expected = replace(
        COMPLETE,
        offering=replace(
            OFFERING,
            sales_compensation_recipients=(
                replace(RECIPIENT, states_of_solicitation=(), is_all_states=True),
            ),
            has_over_100_recipients=True,
        ),
    )
    assert parse_form_d_xml(fixture(fixtures_dir, "quirk_all_states.xml")) == expected


def test_leading_blank_lines_before_the_xml_declaration_are_accepted(fixtures_dir: Path) -> None:
    content = fixture(fixtures_dir, "quirk_leading_whitespace.xml")
    assert content.startswith(b"\n")
    assert parse_document(content) == FormDFiling(document=COMPLETE)


def test_indefinite_amounts_are_none_with_flag_never_zero(fixtures_dir: Path) -> None:
    expected = replace(
        COMPLETE,
        offering=replace(
            OFFERING,
            first_sale_date=None,
            is_first_sale_yet_to_occur=True,
            total_offering_amount=None,
            is_offering_amount_indefinite=True,
            total_amount_sold=Decimal(1234567),
            total_remaining=None,
            is_remaining_indefinite=True,
        ),
    )
    document = parse_form_d_xml(fixture(fixtures_dir, "indefinite_amounts.xml"))
    assert document == expected
    assert isinstance(document.offering.total_amount_sold, Decimal)


def test_co_issuers_are_read_in_order_with_over_100_flag(fixtures_dir: Path) -> None:
    expected = replace(COMPLETE, co_issuers=CO_ISSUERS, has_over_100_issuers=True)
    assert parse_form_d_xml(fixture(fixtures_dir, "co_issuers.xml")) == expected


def test_amendment_previous_accession_number_gets_dashes(fixtures_dir: Path) -> None:
    assert parse_form_d_xml(fixture(fixtures_dir, "amendment_previous_accession.xml")) == AMENDMENT


def test_full_submission_with_two_filers_yields_header_and_document(fixtures_dir: Path) -> None:
    filing = parse_document(fixture(fixtures_dir, "full_submission_two_filers.txt"))
    header = SecHeader(
        accession_number="0009990001-24-000002",
        submission_type="D",
        filed_as_of_date=date(2024, 3, 5),  # accepted after 17:30 ET: next business day
        accepted_at=datetime(2024, 3, 4, 17, 35, 12, tzinfo=EASTERN),
        filers=(
            Filer(cik="0009990001", name="Example Widget Fund I, L.P.", file_number="021-999001"),
            Filer(cik="0009990002", name="Example Widget Fund I-A, L.P.", file_number="021-999001-01"),
        ),
    )
    assert filing == FormDFiling(
        document=replace(COMPLETE, co_issuers=CO_ISSUERS, has_over_100_issuers=True), header=header
    )
    assert filing.accession_number == "0009990001-24-000002"
    assert filing.file_number == "021-999001"
    assert filing.file_numbers == ("021-999001", "021-999001-01")
    # 4 March 2024 is before the switch to daylight time: US/Eastern is UTC-5.
    assert header.accepted_at is not None
    assert header.accepted_at.utcoffset() == timedelta(hours=-5)


def test_dissemination_nc_variant_yields_header_without_acceptance_time(fixtures_dir: Path) -> None:
    filing = parse_document(fixture(fixtures_dir, "dissemination.nc"))
    header = SecHeader(
        accession_number="0009990001-24-000003",
        submission_type="D/A",
        filed_as_of_date=date(2024, 3, 11),
        accepted_at=None,
        filers=(Filer(cik="0009990001", name="Example Widget Fund I, L.P.", file_number="021-999001"),),
    )
    assert filing == FormDFiling(document=AMENDMENT, header=header)


def test_sec_header_alone_parses_without_the_xml(fixtures_dir: Path) -> None:
    content = fixture(fixtures_dir, "full_submission_two_filers.txt")
    header_only = content[: content.index(b"</SEC-HEADER>") + len(b"</SEC-HEADER>")]
    assert parse_sec_header(header_only) == parse_sec_header(content)
    assert parse_sec_header(content).filers[1].cik == "0009990002"


@pytest.mark.parametrize(
    ("filed", "expected"),
    [
        ("000999000124000001", "0009990001-24-000001"),
        ("0009990001-24-000001", "0009990001-24-000001"),
        (" 0009990001 24 000001 ", "0009990001-24-000001"),
        ("9999999997-08-026469", "9999999997-08-026469"),  # paper-era number, as seen in the corpus
        ("see original filing", "see original filing"),  # not an accession: kept as the filer's hint
    ],
)
def test_previous_accession_number_is_normalised_when_it_is_one(
    fixtures_dir: Path, filed: str, expected: str
) -> None:
    content = fixture(fixtures_dir, "amendment_previous_accession.xml").replace(
        b"000999000124000001", filed.encode()
    )
    assert parse_form_d_xml(content).offering.previous_accession_number == expected
