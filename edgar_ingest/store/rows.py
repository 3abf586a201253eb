"""Row building: a ``FormDFiling`` record as column values of ``filings`` and its child tables.

Rows are tuples in the column order of a ``RowLayout`` (``inserts``), built without a dict per
row: a batch of 1,000 filings has ~20,000 child rows. Each layout's columns are listed right
above the function that builds its tuples; keep the two in the same order.
"""

from __future__ import annotations

from typing import Any, Final

from edgar_ingest.records import Address, FormDFiling
from edgar_ingest.store.base import (
    _exemptions,
    _filers,
    _issuers,
    _persons,
    _previous_names,
    _recipient_states,
    _recipients,
    _relationships,
    _signatures,
)
from edgar_ingest.store.inserts import RowLayout

Row = tuple[Any, ...]

_ADDRESS_COLUMNS: Final = (
    "street1",
    "street2",
    "city",
    "state_or_country",
    "state_or_country_description",
    "zip_code",
)
_NO_ADDRESS: Final = Address()  # all None: the columns of a record without address


# The columns of ``filings`` that come from the record (no keys, ids, digests or provenance).
FILING_RECORD_COLUMNS: Final = (
    "accession_number",
    "source",
    "file_number",
    "submission_type",
    "document_submission_type",
    "filing_date",
    "accepted_at",
    "cik",
    "schema_version",
    "test_or_live",
    "has_over_100_issuers",
    "is_authorized_representative",
    "industry_group",
    "investment_fund_type",
    "is_40_act",
    "revenue_range",
    "aggregate_net_asset_value_range",
    "is_amendment",
    "previous_accession_number",
    "first_sale_date",
    "is_first_sale_yet_to_occur",
    "is_more_than_one_year",
    "is_equity",
    "is_debt",
    "is_option_to_acquire",
    "is_security_to_be_acquired",
    "is_pooled_investment_fund_interest",
    "is_tenant_in_common",
    "is_mineral_property",
    "is_other_security",
    "other_security_description",
    "is_business_combination",
    "business_combination_clarification",
    "minimum_investment",
    "has_over_100_recipients",
    "total_offering_amount",
    "is_offering_amount_indefinite",
    "total_amount_sold",
    "total_remaining",
    "is_remaining_indefinite",
    "sales_amounts_clarification",
    "has_non_accredited_investors",
    "non_accredited_investors",
    "total_investors",
    "sales_commissions",
    "is_sales_commissions_estimate",
    "finders_fees",
    "is_finders_fees_estimate",
    "commissions_clarification",
    "gross_proceeds_used",
    "is_gross_proceeds_estimate",
    "proceeds_clarification",
)


def filing_record_values(filing: FormDFiling) -> Row:
    """The values of ``FILING_RECORD_COLUMNS`` for one filing."""
    doc = filing.document
    o = doc.offering
    header = filing.header
    cik = doc.primary_issuer.cik or (header.filers[0].cik if header and header.filers else None)
    return (
        filing.accession_number,
        filing.source,
        filing.file_number,
        filing.submission_type,
        doc.submission_type,
        header.filed_as_of_date if header else None,
        header.accepted_at if header else None,
        cik,
        doc.schema_version,
        doc.test_or_live,
        doc.has_over_100_issuers,
        doc.is_authorized_representative,
        o.industry_group,
        o.investment_fund_type,
        o.is_40_act,
        o.revenue_range,
        o.aggregate_net_asset_value_range,
        o.is_amendment,
        o.previous_accession_number,
        o.first_sale_date,
        o.is_first_sale_yet_to_occur,
        o.is_more_than_one_year,
        o.is_equity,
        o.is_debt,
        o.is_option_to_acquire,
        o.is_security_to_be_acquired,
        o.is_pooled_investment_fund_interest,
        o.is_tenant_in_common,
        o.is_mineral_property,
        o.is_other_security,
        o.other_security_description,
        o.is_business_combination,
        o.business_combination_clarification,
        o.minimum_investment,
        o.has_over_100_recipients,
        o.total_offering_amount,
        o.is_offering_amount_indefinite,
        o.total_amount_sold,
        o.total_remaining,
        o.is_remaining_indefinite,
        o.sales_amounts_clarification,
        o.has_non_accredited_investors,
        o.non_accredited_investors,
        o.total_investors,
        o.sales_commissions,
        o.is_sales_commissions_estimate,
        o.finders_fees,
        o.is_finders_fees_estimate,
        o.commissions_clarification,
        o.gross_proceeds_used,
        o.is_gross_proceeds_estimate,
        o.proceeds_clarification,
    )


FILERS: Final = RowLayout(_filers, ("filing_id", "filer_index", "cik", "company_name", "file_number"))
ISSUERS: Final = RowLayout(
    _issuers,
    (
        "filing_id",
        "issuer_index",
        "is_primary",
        "cik",
        "entity_name",
        *_ADDRESS_COLUMNS,
        "phone_number",
        "jurisdiction_of_inc",
        "entity_type",
        "entity_type_other_description",
        "year_of_inc_choice",
        "year_of_inc",
    ),
)
PREVIOUS_NAMES: Final = RowLayout(
    _previous_names, ("filing_id", "issuer_index", "name_source", "name_index", "previous_name")
)
PERSONS: Final = RowLayout(
    _persons,
    (
        "filing_id",
        "person_index",
        "first_name",
        "middle_name",
        "last_name",
        *_ADDRESS_COLUMNS,
        "relationship_clarification",
    ),
)
RELATIONSHIPS: Final = RowLayout(
    _relationships, ("filing_id", "person_index", "relationship_index", "relationship")
)
RECIPIENTS: Final = RowLayout(
    _recipients,
    (
        "filing_id",
        "recipient_index",
        "recipient_name",
        "crd_number",
        "associated_broker_dealer_name",
        "associated_broker_dealer_crd_number",
        *_ADDRESS_COLUMNS,
        "is_all_states",
        "is_foreign_solicitation",
    ),
)
RECIPIENT_STATES: Final = RowLayout(
    _recipient_states, ("filing_id", "recipient_index", "state_index", "state_code")
)
EXEMPTIONS: Final = RowLayout(_exemptions, ("filing_id", "exemption_index", "exemption_code"))
SIGNATURES: Final = RowLayout(
    _signatures,
    (
        "filing_id",
        "signature_index",
        "issuer_name",
        "signature_name",
        "name_of_signer",
        "signer_title",
        "signature_date",
    ),
)

# Children of a filing, parents before children (insert order; delete in reverse).
CHILD_LAYOUTS: Final = (
    FILERS,
    ISSUERS,
    PREVIOUS_NAMES,
    PERSONS,
    RELATIONSHIPS,
    RECIPIENTS,
    RECIPIENT_STATES,
    EXEMPTIONS,
    SIGNATURES,
)


class ChildRows:
    """The child rows of many filings, one list per layout of ``CHILD_LAYOUTS``."""

    def __init__(self) -> None:
        self.rows: dict[RowLayout, list[Row]] = {layout: [] for layout in CHILD_LAYOUTS}

    def add(self, filing_id: int, filing: FormDFiling) -> None:
        """Every child row of one filing, in document order."""
        rows = self.rows
        doc = filing.document
        if filing.header is not None:
            filers = rows[FILERS]
            for i, filer in enumerate(filing.header.filers):
                filers.append((filing_id, i, filer.cik, filer.name, filer.file_number))
        issuers, previous_names = rows[ISSUERS], rows[PREVIOUS_NAMES]
        for i, issuer in enumerate((doc.primary_issuer, *doc.co_issuers)):
            a = issuer.address or _NO_ADDRESS
            issuers.append(
                (
                    filing_id,
                    i,
                    i == 0,
                    issuer.cik,
                    issuer.entity_name,
                    a.street1,
                    a.street2,
                    a.city,
                    a.state_or_country,
                    a.state_or_country_description,
                    a.zip_code,
                    issuer.phone_number,
                    issuer.jurisdiction_of_inc,
                    issuer.entity_type,
                    issuer.entity_type_other_description,
                    issuer.year_of_inc_choice,
                    issuer.year_of_inc,
                )
            )
            for j, name in enumerate(issuer.issuer_previous_names):
                previous_names.append((filing_id, i, "issuer", j, name))
            for j, name in enumerate(issuer.edgar_previous_names):
                previous_names.append((filing_id, i, "edgar", j, name))
        persons, relationships = rows[PERSONS], rows[RELATIONSHIPS]
        for i, person in enumerate(doc.related_persons):
            a = person.address or _NO_ADDRESS
            persons.append(
                (
                    filing_id,
                    i,
                    person.first_name,
                    person.middle_name,
                    person.last_name,
                    a.street1,
                    a.street2,
                    a.city,
                    a.state_or_country,
                    a.state_or_country_description,
                    a.zip_code,
                    person.relationship_clarification,
                )
            )
            for j, relationship in enumerate(person.relationships):
                relationships.append((filing_id, i, j, relationship))
        recipients, states = rows[RECIPIENTS], rows[RECIPIENT_STATES]
        for i, recipient in enumerate(doc.offering.sales_compensation_recipients):
            a = recipient.address or _NO_ADDRESS
            recipients.append(
                (
                    filing_id,
                    i,
                    recipient.name,
                    recipient.crd_number,
                    recipient.associated_broker_dealer_name,
                    recipient.associated_broker_dealer_crd_number,
                    a.street1,
                    a.street2,
                    a.city,
                    a.state_or_country,
                    a.state_or_country_description,
                    a.zip_code,
                    recipient.is_all_states,
                    recipient.is_foreign_solicitation,
                )
            )
            for j, state in enumerate(recipient.states_of_solicitation):
                states.append((filing_id, i, j, state))
        exemptions = rows[EXEMPTIONS]
        for i, code in enumerate(doc.offering.federal_exemptions):
            exemptions.append((filing_id, i, code))
        signatures = rows[SIGNATURES]
        for i, sig in enumerate(doc.signatures):
            signatures.append(
                (
                    filing_id,
                    i,
                    sig.issuer_name,
                    sig.signature_name,
                    sig.name_of_signer,
                    sig.title,
                    sig.signature_date,
                )
            )
