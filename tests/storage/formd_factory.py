"""Builds complete Form D records by hand, so store tests do not depend on the parser."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from edgar_ingest.records import (
    Address,
    Filer,
    FormDDocument,
    FormDFiling,
    Issuer,
    Offering,
    RawDocument,
    RelatedPerson,
    SalesCompensationRecipient,
    SecHeader,
    Signature,
)

EASTERN = ZoneInfo("America/New_York")
FETCHED_AT = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)


def issuer(cik: str | None, name: str, *, previous_names: tuple[str, ...] = ()) -> Issuer:
    return Issuer(
        cik=cik,
        entity_name=name,
        address=Address("1 Main St", "Suite 5", "Springfield", "IL", "ILLINOIS", "62701"),
        phone_number="2175550100",
        jurisdiction_of_inc="DELAWARE",
        issuer_previous_names=previous_names,
        edgar_previous_names=(),
        entity_type="Corporation",
        entity_type_other_description=None,
        year_of_inc_choice="within_five_years",
        year_of_inc=2021,
    )


def offering(
    *,
    industry_group: str = "Other Technology",
    exemptions: tuple[str, ...] = ("06b",),
    previous_accession: str | None = None,
    offering_amount: Decimal | None = Decimal("10000000"),
    amount_sold: Decimal | None = Decimal("2500000"),
    remaining: Decimal | None = Decimal("7500000"),
    investors: int | None = 12,
    non_accredited: int | None = 0,
    has_non_accredited: bool = False,
) -> Offering:
    return Offering(
        industry_group=industry_group,
        investment_fund_type=None,
        is_40_act=None,
        revenue_range="Decline to Disclose",
        aggregate_net_asset_value_range=None,
        federal_exemptions=exemptions,
        is_amendment=previous_accession is not None,
        previous_accession_number=previous_accession,
        first_sale_date=date(2024, 1, 2),
        is_first_sale_yet_to_occur=False,
        is_more_than_one_year=False,
        is_equity=True,
        is_debt=False,
        is_option_to_acquire=True,
        is_security_to_be_acquired=False,
        is_pooled_investment_fund_interest=False,
        is_tenant_in_common=False,
        is_mineral_property=False,
        is_other_security=False,
        other_security_description=None,
        is_business_combination=False,
        business_combination_clarification=None,
        minimum_investment=Decimal("25000"),
        sales_compensation_recipients=(
            SalesCompensationRecipient(
                name="Acme Securities LLC",
                crd_number="12345",
                associated_broker_dealer_name=None,
                associated_broker_dealer_crd_number=None,
                address=Address("9 Wall St", None, "New York", "NY", "NEW YORK", "10005"),
                states_of_solicitation=("NY", "NJ"),
                is_all_states=False,
                is_foreign_solicitation=False,
            ),
        ),
        has_over_100_recipients=False,
        total_offering_amount=offering_amount,
        is_offering_amount_indefinite=offering_amount is None,
        total_amount_sold=amount_sold,
        total_remaining=remaining,
        is_remaining_indefinite=remaining is None,
        sales_amounts_clarification=None,
        has_non_accredited_investors=has_non_accredited,
        non_accredited_investors=non_accredited,
        total_investors=investors,
        sales_commissions=Decimal("50000"),
        is_sales_commissions_estimate=False,
        finders_fees=Decimal("0"),
        is_finders_fees_estimate=False,
        commissions_clarification=None,
        gross_proceeds_used=Decimal("0"),
        is_gross_proceeds_estimate=False,
        proceeds_clarification=None,
    )


def filing(
    accession: str | None = "0001234567-24-000001",
    *,
    cik: str = "0001234567",
    name: str = "Example Robotics, Inc.",
    file_number: str | None = "021-400001",
    submission_type: str = "D",
    accepted_at: datetime | None = datetime(2024, 3, 4, 16, 30, tzinfo=EASTERN),
    filing_date: date = date(2024, 3, 4),
    co_issuers: tuple[Issuer, ...] = (),
    filers: tuple[Filer, ...] | None = None,
    persons: int = 2,
    **offering_fields: object,
) -> FormDFiling:
    """A complete filing; ``accession=None`` gives a bare XML (no SEC header)."""
    document = FormDDocument(
        schema_version="X0708",
        submission_type=submission_type,
        test_or_live="LIVE",
        primary_issuer=issuer(cik, name, previous_names=("Example Robots Inc",)),
        co_issuers=co_issuers,
        has_over_100_issuers=False,
        related_persons=tuple(
            RelatedPerson(
                first_name=f"Person{i}",
                middle_name=None,
                last_name="Smith",
                address=Address("1 Main St", None, "Springfield", "IL", "ILLINOIS", "62701"),
                relationships=("Executive Officer", "Director") if i == 0 else ("Promoter",),
                relationship_clarification=None,
            )
            for i in range(persons)
        ),
        offering=offering(**offering_fields),  # type: ignore[arg-type]
        is_authorized_representative=False,
        signatures=(Signature(name, "/s/ Person0 Smith", "Person0 Smith", "CEO", filing_date),),
    )
    if accession is None:
        return FormDFiling(document=document)
    header = SecHeader(
        accession_number=accession,
        submission_type=submission_type,
        filed_as_of_date=filing_date,
        accepted_at=accepted_at,
        filers=filers if filers is not None else (Filer(cik, name.upper(), file_number),),
    )
    return FormDFiling(document=document, header=header)


def raw_for(record: FormDFiling, *, salt: str = "") -> RawDocument:
    """Stand-in bytes for a record (the store keeps bytes, it does not parse them)."""
    content = f"test document {record.accession_number} {salt}\n{record!r}".encode()
    return RawDocument.of(content, f"file:///test/{record.accession_number or 'bare'}{salt}.txt", FETCHED_AT)


def with_offering(record: FormDFiling, **changes: object) -> FormDFiling:
    """The same filing with some offering fields changed."""
    document = replace(record.document, offering=replace(record.document.offering, **changes))
    return replace(record, document=document)
