"""Each field of the offering is read from its own tag: change one tag, exactly that field changes.

The complete fixture answers every checkbox with "true", so a whole-record comparison cannot see
two flags swapped; the parser also builds the Offering positionally (see ``parse._offering``).
Here every tag of <offeringData> is changed in turn (or added when the fixture lacks it) and the
parsed document is compared with the unchanged one: the set of fields that differ must be exactly
the field that tag feeds. Together the cases cover every field of ``Offering``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from lxml import etree

from edgar_ingest.parse import parse_form_d_xml
from edgar_ingest.records import FormDDocument, Offering

COMPLETE = Path(__file__).parent / "fixtures" / "formd" / "form_d_complete.xml"

# (path under <offeringData>, new text, the fields that must change). The first element of a
# path that is missing in the fixture is created, so absent checkboxes are covered too.
CASES: list[tuple[str, str, set[str]]] = [
    ("industryGroup/industryGroupType", "Other Technology", {"industry_group"}),
    ("industryGroup/investmentFundInfo/investmentFundType", "Hedge Fund", {"investment_fund_type"}),
    ("industryGroup/investmentFundInfo/is40Act", "true", {"is_40_act"}),
    ("issuerSize/revenueRange", "$1 - $1,000,000", {"revenue_range"}),
    ("issuerSize/aggregateNetAssetValueRange", "Decline to Disclose", {"aggregate_net_asset_value_range"}),
    ("federalExemptionsExclusions/item", "04", {"federal_exemptions"}),
    ("typeOfFiling/newOrAmendment/isAmendment", "true", {"is_amendment"}),
    (
        "typeOfFiling/newOrAmendment/previousAccessionNumber",
        "0001234567-24-000099",
        {"previous_accession_number"},
    ),
    ("typeOfFiling/dateOfFirstSale/value", "2020-01-31", {"first_sale_date"}),
    ("typeOfFiling/dateOfFirstSale/yetToOccur", "true", {"is_first_sale_yet_to_occur"}),
    ("durationOfOffering/moreThanOneYear", "false", {"is_more_than_one_year"}),
    ("typesOfSecuritiesOffered/isEquityType", "false", {"is_equity"}),
    ("typesOfSecuritiesOffered/isDebtType", "false", {"is_debt"}),
    ("typesOfSecuritiesOffered/isOptionToAcquireType", "false", {"is_option_to_acquire"}),
    ("typesOfSecuritiesOffered/isSecurityToBeAcquiredType", "false", {"is_security_to_be_acquired"}),
    ("typesOfSecuritiesOffered/isPooledInvestmentFundType", "false", {"is_pooled_investment_fund_interest"}),
    ("typesOfSecuritiesOffered/isTenantInCommonType", "false", {"is_tenant_in_common"}),
    ("typesOfSecuritiesOffered/isMineralPropertyType", "false", {"is_mineral_property"}),
    ("typesOfSecuritiesOffered/isOtherType", "false", {"is_other_security"}),
    ("typesOfSecuritiesOffered/descriptionOfOtherType", "Warrants", {"other_security_description"}),
    ("businessCombinationTransaction/isBusinessCombinationTransaction", "false", {"is_business_combination"}),
    (
        "businessCombinationTransaction/clarificationOfResponse",
        "A different merger",
        {"business_combination_clarification"},
    ),
    ("minimumInvestmentAccepted", "30000", {"minimum_investment"}),
    (
        "salesCompensationList/recipient/recipientName",
        "Other Securities LLC",
        {"sales_compensation_recipients"},
    ),
    ("salesCompensationList/over100RecipientFlag", "true", {"has_over_100_recipients"}),
    ("offeringSalesAmounts/totalOfferingAmount", "1600000", {"total_offering_amount"}),
    (
        "offeringSalesAmounts/totalOfferingAmount",
        "Indefinite",
        {"total_offering_amount", "is_offering_amount_indefinite"},
    ),
    ("offeringSalesAmounts/totalAmountSold", "260000", {"total_amount_sold"}),
    ("offeringSalesAmounts/totalRemaining", "1240000", {"total_remaining"}),
    ("offeringSalesAmounts/totalRemaining", "Indefinite", {"total_remaining", "is_remaining_indefinite"}),
    ("offeringSalesAmounts/clarificationOfResponse", "Changed.", {"sales_amounts_clarification"}),
    ("investors/hasNonAccreditedInvestors", "false", {"has_non_accredited_investors"}),
    ("investors/numberNonAccreditedInvestors", "4", {"non_accredited_investors"}),
    ("investors/totalNumberAlreadyInvested", "13", {"total_investors"}),
    ("salesCommissionsFindersFees/salesCommissions/dollarAmount", "15001", {"sales_commissions"}),
    ("salesCommissionsFindersFees/salesCommissions/isEstimate", "false", {"is_sales_commissions_estimate"}),
    ("salesCommissionsFindersFees/findersFees/dollarAmount", "2501", {"finders_fees"}),
    ("salesCommissionsFindersFees/findersFees/isEstimate", "true", {"is_finders_fees_estimate"}),
    ("salesCommissionsFindersFees/clarificationOfResponse", "Changed.", {"commissions_clarification"}),
    ("useOfProceeds/grossProceedsUsed/dollarAmount", "50001", {"gross_proceeds_used"}),
    ("useOfProceeds/grossProceedsUsed/isEstimate", "false", {"is_gross_proceeds_estimate"}),
    ("useOfProceeds/clarificationOfResponse", "Changed.", {"proceeds_clarification"}),
    ("signatureBlock/authorizedRepresentative", "false", {"is_authorized_representative"}),
    ("signatureBlock/signature/signatureTitle", "General Partner", {"signatures"}),
]


def with_text(document: bytes, path: str, text: str) -> bytes:
    """The document with the first element at offeringData/``path`` set to ``text``."""
    root = etree.fromstring(document)
    element = root.find("offeringData")
    assert element is not None
    for step in path.split("/"):
        child = element.find(step)
        element = child if child is not None else etree.SubElement(element, step)
    assert element.text != text, f"{path} already reads {text!r}: the case would change nothing"
    element.text = text
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def fields_of(document: FormDDocument) -> dict[str, object]:
    """The offering's fields and the document's own (their names do not overlap)."""
    values = {f.name: getattr(document.offering, f.name) for f in dataclasses.fields(Offering)}
    for f in dataclasses.fields(FormDDocument):
        if f.name != "offering":
            assert f.name not in values
            values[f.name] = getattr(document, f.name)
    return values


@pytest.mark.parametrize(("path", "text", "changed"), CASES, ids=[f"{p}={t}" for p, t, _ in CASES])
def test_changing_one_tag_changes_exactly_its_field(path: str, text: str, changed: set[str]) -> None:
    original = COMPLETE.read_bytes()
    before = fields_of(parse_form_d_xml(original))
    after = fields_of(parse_form_d_xml(with_text(original, path, text)))
    assert {name for name in before if before[name] != after[name]} == changed


def test_the_cases_cover_every_field_of_the_offering() -> None:
    covered = set().union(*(changed for _, _, changed in CASES))
    assert {f.name for f in dataclasses.fields(Offering)} <= covered
