"""Row building: a ``FormDFiling`` record as column values of ``filings`` and its child tables."""

from __future__ import annotations

from typing import Any

from edgar_ingest.records import Address, FormDFiling, Issuer
from edgar_ingest.store.base import (
    _CHILD_TABLES,
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


def _address(address: Address | None) -> dict[str, Any]:
    a = address or Address()
    return {
        "street1": a.street1,
        "street2": a.street2,
        "city": a.city,
        "state_or_country": a.state_or_country,
        "state_or_country_description": a.state_or_country_description,
        "zip_code": a.zip_code,
    }


def _issuer_row(index: int, issuer: Issuer) -> dict[str, Any]:
    return {
        "issuer_index": index,
        "is_primary": index == 0,
        "cik": issuer.cik,
        "entity_name": issuer.entity_name,
        **_address(issuer.address),
        "phone_number": issuer.phone_number,
        "jurisdiction_of_inc": issuer.jurisdiction_of_inc,
        "entity_type": issuer.entity_type,
        "entity_type_other_description": issuer.entity_type_other_description,
        "year_of_inc_choice": issuer.year_of_inc_choice,
        "year_of_inc": issuer.year_of_inc,
    }


def _filing_columns(filing: FormDFiling) -> dict[str, Any]:
    """The columns of ``filings`` that come from the record (no keys, ids or provenance)."""
    doc = filing.document
    o = doc.offering
    header = filing.header
    cik = doc.primary_issuer.cik or (header.filers[0].cik if header and header.filers else None)
    return {
        "accession_number": filing.accession_number,
        "source": filing.source,
        "file_number": filing.file_number,
        "submission_type": filing.submission_type,
        "document_submission_type": doc.submission_type,
        "filing_date": header.filed_as_of_date if header else None,
        "accepted_at": header.accepted_at if header else None,
        "cik": cik,
        "schema_version": doc.schema_version,
        "test_or_live": doc.test_or_live,
        "has_over_100_issuers": doc.has_over_100_issuers,
        "is_authorized_representative": doc.is_authorized_representative,
        "industry_group": o.industry_group,
        "investment_fund_type": o.investment_fund_type,
        "is_40_act": o.is_40_act,
        "revenue_range": o.revenue_range,
        "aggregate_net_asset_value_range": o.aggregate_net_asset_value_range,
        "is_amendment": o.is_amendment,
        "previous_accession_number": o.previous_accession_number,
        "first_sale_date": o.first_sale_date,
        "is_first_sale_yet_to_occur": o.is_first_sale_yet_to_occur,
        "is_more_than_one_year": o.is_more_than_one_year,
        "is_equity": o.is_equity,
        "is_debt": o.is_debt,
        "is_option_to_acquire": o.is_option_to_acquire,
        "is_security_to_be_acquired": o.is_security_to_be_acquired,
        "is_pooled_investment_fund_interest": o.is_pooled_investment_fund_interest,
        "is_tenant_in_common": o.is_tenant_in_common,
        "is_mineral_property": o.is_mineral_property,
        "is_other_security": o.is_other_security,
        "other_security_description": o.other_security_description,
        "is_business_combination": o.is_business_combination,
        "business_combination_clarification": o.business_combination_clarification,
        "minimum_investment": o.minimum_investment,
        "has_over_100_recipients": o.has_over_100_recipients,
        "total_offering_amount": o.total_offering_amount,
        "is_offering_amount_indefinite": o.is_offering_amount_indefinite,
        "total_amount_sold": o.total_amount_sold,
        "total_remaining": o.total_remaining,
        "is_remaining_indefinite": o.is_remaining_indefinite,
        "sales_amounts_clarification": o.sales_amounts_clarification,
        "has_non_accredited_investors": o.has_non_accredited_investors,
        "non_accredited_investors": o.non_accredited_investors,
        "total_investors": o.total_investors,
        "sales_commissions": o.sales_commissions,
        "is_sales_commissions_estimate": o.is_sales_commissions_estimate,
        "finders_fees": o.finders_fees,
        "is_finders_fees_estimate": o.is_finders_fees_estimate,
        "commissions_clarification": o.commissions_clarification,
        "gross_proceeds_used": o.gross_proceeds_used,
        "is_gross_proceeds_estimate": o.is_gross_proceeds_estimate,
        "proceeds_clarification": o.proceeds_clarification,
    }


def _child_rows(filing: FormDFiling) -> dict[str, list[dict[str, Any]]]:
    """Rows of every child table of one filing, without ``filing_id``, in document order."""
    doc = filing.document
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in _CHILD_TABLES}
    if filing.header is not None:
        for i, filer in enumerate(filing.header.filers):
            rows[_filers.name].append(
                {
                    "filer_index": i,
                    "cik": filer.cik,
                    "company_name": filer.name,
                    "file_number": filer.file_number,
                }
            )
    for i, issuer in enumerate((doc.primary_issuer, *doc.co_issuers)):
        rows[_issuers.name].append(_issuer_row(i, issuer))
        for source, names in (
            ("issuer", issuer.issuer_previous_names),
            ("edgar", issuer.edgar_previous_names),
        ):
            for j, name in enumerate(names):
                rows[_previous_names.name].append(
                    {"issuer_index": i, "name_source": source, "name_index": j, "previous_name": name}
                )
    for i, person in enumerate(doc.related_persons):
        rows[_persons.name].append(
            {
                "person_index": i,
                "first_name": person.first_name,
                "middle_name": person.middle_name,
                "last_name": person.last_name,
                **_address(person.address),
                "relationship_clarification": person.relationship_clarification,
            }
        )
        for j, relationship in enumerate(person.relationships):
            rows[_relationships.name].append(
                {"person_index": i, "relationship_index": j, "relationship": relationship}
            )
    for i, recipient in enumerate(doc.offering.sales_compensation_recipients):
        rows[_recipients.name].append(
            {
                "recipient_index": i,
                "recipient_name": recipient.name,
                "crd_number": recipient.crd_number,
                "associated_broker_dealer_name": recipient.associated_broker_dealer_name,
                "associated_broker_dealer_crd_number": recipient.associated_broker_dealer_crd_number,
                **_address(recipient.address),
                "is_all_states": recipient.is_all_states,
                "is_foreign_solicitation": recipient.is_foreign_solicitation,
            }
        )
        for j, state in enumerate(recipient.states_of_solicitation):
            rows[_recipient_states.name].append({"recipient_index": i, "state_index": j, "state_code": state})
    for i, code in enumerate(doc.offering.federal_exemptions):
        rows[_exemptions.name].append({"exemption_index": i, "exemption_code": code})
    for i, sig in enumerate(doc.signatures):
        rows[_signatures.name].append(
            {
                "signature_index": i,
                "issuer_name": sig.issuer_name,
                "signature_name": sig.signature_name,
                "name_of_signer": sig.name_of_signer,
                "signer_title": sig.title,
                "signature_date": sig.signature_date,
            }
        )
    return rows
