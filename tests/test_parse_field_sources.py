"""Each field is read from its own tag: change one tag of a document, exactly that field changes.

The complete fixture answers every checkbox with "true", so a whole-record comparison cannot see
two flags swapped; and the parser builds the Offering positionally (see ``parse._offering``).
Here every tag of the complete fixture is changed in turn (or added when the fixture lacks it)
and the parsed document is compared, field by field and record by record, with the unchanged
one: the fields that differ must be exactly those that tag feeds. Together the cases cover every
field of every record of the document.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from lxml import etree

from edgar_ingest.parse import parse_form_d_xml

COMPLETE = Path(__file__).parent / "fixtures" / "formd" / "form_d_complete.xml"

# (path from the root, new text, the fields that must change, as flattened by ``leaves``). The
# first element of a path that is missing in the fixture is created, so absent checkboxes and
# sections are covered too.
ISSUER = "primaryIssuer"
PERSON = "relatedPersonsList/relatedPersonInfo"
RECIPIENT = "offeringData/salesCompensationList/recipient"
CASES: list[tuple[str, str, set[str]]] = [
    ("schemaVersion", "X0709", {"schema_version"}),
    ("submissionType", "D/A", {"submission_type"}),
    ("testOrLive", "TEST", {"test_or_live"}),
    (f"{ISSUER}/cik", "9990002", {"primary_issuer.cik"}),
    (f"{ISSUER}/entityName", "Other Fund LP", {"primary_issuer.entity_name"}),
    (f"{ISSUER}/issuerAddress/street1", "1 Other Street", {"primary_issuer.address.street1"}),
    (f"{ISSUER}/issuerAddress/street2", "Floor 2", {"primary_issuer.address.street2"}),
    (f"{ISSUER}/issuerAddress/city", "Chicago", {"primary_issuer.address.city"}),
    (f"{ISSUER}/issuerAddress/stateOrCountry", "NY", {"primary_issuer.address.state_or_country"}),
    (
        f"{ISSUER}/issuerAddress/stateOrCountryDescription",
        "NEW YORK",
        {"primary_issuer.address.state_or_country_description"},
    ),
    (f"{ISSUER}/issuerAddress/zipCode", "10001", {"primary_issuer.address.zip_code"}),
    (f"{ISSUER}/issuerPhoneNumber", "212-555-0100", {"primary_issuer.phone_number"}),
    (f"{ISSUER}/jurisdictionOfInc", "NEVADA", {"primary_issuer.jurisdiction_of_inc"}),
    (f"{ISSUER}/issuerPreviousNameList/previousName", "Old Name", {"primary_issuer.issuer_previous_names"}),
    (f"{ISSUER}/edgarPreviousNameList/previousName", "OLD NAME", {"primary_issuer.edgar_previous_names"}),
    (f"{ISSUER}/entityType", "Corporation", {"primary_issuer.entity_type"}),
    (f"{ISSUER}/entityTypeOtherDesc", "Trust", {"primary_issuer.entity_type_other_description"}),
    (f"{ISSUER}/yearOfInc/withinFiveYears", "false", {"primary_issuer.year_of_inc_choice"}),
    (f"{ISSUER}/yearOfInc/value", "2021", {"primary_issuer.year_of_inc"}),
    ("issuerList/over100IssuerFlag", "true", {"has_over_100_issuers"}),
    (f"{PERSON}/relatedPersonName/firstName", "Joan", {"related_persons[0].first_name"}),
    (f"{PERSON}/relatedPersonName/middleName", "R.", {"related_persons[0].middle_name"}),
    (f"{PERSON}/relatedPersonName/lastName", "Other", {"related_persons[0].last_name"}),
    (f"{PERSON}/relatedPersonAddress/street1", "2 Other Street", {"related_persons[0].address.street1"}),
    (f"{PERSON}/relatedPersonAddress/street2", "Suite 6", {"related_persons[0].address.street2"}),
    (f"{PERSON}/relatedPersonAddress/city", "Peoria", {"related_persons[0].address.city"}),
    (f"{PERSON}/relatedPersonAddress/stateOrCountry", "WI", {"related_persons[0].address.state_or_country"}),
    (
        f"{PERSON}/relatedPersonAddress/stateOrCountryDescription",
        "WISCONSIN",
        {"related_persons[0].address.state_or_country_description"},
    ),
    (f"{PERSON}/relatedPersonAddress/zipCode", "53001", {"related_persons[0].address.zip_code"}),
    (
        f"{PERSON}/relatedPersonRelationshipList/relationship",
        "Promoter",
        {"related_persons[0].relationships"},
    ),
    (f"{PERSON}/relationshipClarification", "Changed.", {"related_persons[0].relationship_clarification"}),
    (f"{RECIPIENT}/recipientCRDNumber", "123457", {"offering.sales_compensation_recipients[0].crd_number"}),
    (
        f"{RECIPIENT}/associatedBDName",
        "Other Broker Inc.",
        {"offering.sales_compensation_recipients[0].associated_broker_dealer_name"},
    ),
    (
        f"{RECIPIENT}/associatedBDCRDNumber",
        "654322",
        {"offering.sales_compensation_recipients[0].associated_broker_dealer_crd_number"},
    ),
    (
        f"{RECIPIENT}/recipientAddress/city",
        "Newark",
        {"offering.sales_compensation_recipients[0].address.city"},
    ),
    (
        f"{RECIPIENT}/statesOfSolicitationList/state",
        "TX",
        {"offering.sales_compensation_recipients[0].states_of_solicitation"},
    ),
    (
        f"{RECIPIENT}/statesOfSolicitationList/value",
        "All States",
        {"offering.sales_compensation_recipients[0].is_all_states"},
    ),
    (
        f"{RECIPIENT}/foreignSolicitation",
        "false",
        {"offering.sales_compensation_recipients[0].is_foreign_solicitation"},
    ),
    ("offeringData/signatureBlock/signature/issuerName", "Other Fund LP", {"signatures[0].issuer_name"}),
    ("offeringData/signatureBlock/signature/signatureName", "/s/ J. Other", {"signatures[0].signature_name"}),
    ("offeringData/signatureBlock/signature/nameOfSigner", "J. Other", {"signatures[0].name_of_signer"}),
    ("offeringData/signatureBlock/signature/signatureDate", "2024-03-05", {"signatures[0].signature_date"}),
    ("offeringData/industryGroup/industryGroupType", "Other Technology", {"offering.industry_group"}),
    (
        "offeringData/industryGroup/investmentFundInfo/investmentFundType",
        "Hedge Fund",
        {"offering.investment_fund_type"},
    ),
    ("offeringData/industryGroup/investmentFundInfo/is40Act", "true", {"offering.is_40_act"}),
    ("offeringData/issuerSize/revenueRange", "$1 - $1,000,000", {"offering.revenue_range"}),
    (
        "offeringData/issuerSize/aggregateNetAssetValueRange",
        "Decline to Disclose",
        {"offering.aggregate_net_asset_value_range"},
    ),
    ("offeringData/federalExemptionsExclusions/item", "04", {"offering.federal_exemptions"}),
    ("offeringData/typeOfFiling/newOrAmendment/isAmendment", "true", {"offering.is_amendment"}),
    (
        "offeringData/typeOfFiling/newOrAmendment/previousAccessionNumber",
        "0001234567-24-000099",
        {"offering.previous_accession_number"},
    ),
    ("offeringData/typeOfFiling/dateOfFirstSale/value", "2020-01-31", {"offering.first_sale_date"}),
    ("offeringData/typeOfFiling/dateOfFirstSale/yetToOccur", "true", {"offering.is_first_sale_yet_to_occur"}),
    ("offeringData/durationOfOffering/moreThanOneYear", "false", {"offering.is_more_than_one_year"}),
    ("offeringData/typesOfSecuritiesOffered/isEquityType", "false", {"offering.is_equity"}),
    ("offeringData/typesOfSecuritiesOffered/isDebtType", "false", {"offering.is_debt"}),
    (
        "offeringData/typesOfSecuritiesOffered/isOptionToAcquireType",
        "false",
        {"offering.is_option_to_acquire"},
    ),
    (
        "offeringData/typesOfSecuritiesOffered/isSecurityToBeAcquiredType",
        "false",
        {"offering.is_security_to_be_acquired"},
    ),
    (
        "offeringData/typesOfSecuritiesOffered/isPooledInvestmentFundType",
        "false",
        {"offering.is_pooled_investment_fund_interest"},
    ),
    ("offeringData/typesOfSecuritiesOffered/isTenantInCommonType", "false", {"offering.is_tenant_in_common"}),
    (
        "offeringData/typesOfSecuritiesOffered/isMineralPropertyType",
        "false",
        {"offering.is_mineral_property"},
    ),
    ("offeringData/typesOfSecuritiesOffered/isOtherType", "false", {"offering.is_other_security"}),
    (
        "offeringData/typesOfSecuritiesOffered/descriptionOfOtherType",
        "Warrants",
        {"offering.other_security_description"},
    ),
    (
        "offeringData/businessCombinationTransaction/isBusinessCombinationTransaction",
        "false",
        {"offering.is_business_combination"},
    ),
    (
        "offeringData/businessCombinationTransaction/clarificationOfResponse",
        "A different merger",
        {"offering.business_combination_clarification"},
    ),
    ("offeringData/minimumInvestmentAccepted", "30000", {"offering.minimum_investment"}),
    (
        "offeringData/salesCompensationList/recipient/recipientName",
        "Other Securities LLC",
        {"offering.sales_compensation_recipients[0].name"},
    ),
    ("offeringData/salesCompensationList/over100RecipientFlag", "true", {"offering.has_over_100_recipients"}),
    ("offeringData/offeringSalesAmounts/totalOfferingAmount", "1600000", {"offering.total_offering_amount"}),
    (
        "offeringData/offeringSalesAmounts/totalOfferingAmount",
        "Indefinite",
        {"offering.total_offering_amount", "offering.is_offering_amount_indefinite"},
    ),
    ("offeringData/offeringSalesAmounts/totalAmountSold", "260000", {"offering.total_amount_sold"}),
    ("offeringData/offeringSalesAmounts/totalRemaining", "1240000", {"offering.total_remaining"}),
    (
        "offeringData/offeringSalesAmounts/totalRemaining",
        "Indefinite",
        {"offering.total_remaining", "offering.is_remaining_indefinite"},
    ),
    (
        "offeringData/offeringSalesAmounts/clarificationOfResponse",
        "Changed.",
        {"offering.sales_amounts_clarification"},
    ),
    ("offeringData/investors/hasNonAccreditedInvestors", "false", {"offering.has_non_accredited_investors"}),
    ("offeringData/investors/numberNonAccreditedInvestors", "4", {"offering.non_accredited_investors"}),
    ("offeringData/investors/totalNumberAlreadyInvested", "13", {"offering.total_investors"}),
    (
        "offeringData/salesCommissionsFindersFees/salesCommissions/dollarAmount",
        "15001",
        {"offering.sales_commissions"},
    ),
    (
        "offeringData/salesCommissionsFindersFees/salesCommissions/isEstimate",
        "false",
        {"offering.is_sales_commissions_estimate"},
    ),
    ("offeringData/salesCommissionsFindersFees/findersFees/dollarAmount", "2501", {"offering.finders_fees"}),
    (
        "offeringData/salesCommissionsFindersFees/findersFees/isEstimate",
        "true",
        {"offering.is_finders_fees_estimate"},
    ),
    (
        "offeringData/salesCommissionsFindersFees/clarificationOfResponse",
        "Changed.",
        {"offering.commissions_clarification"},
    ),
    ("offeringData/useOfProceeds/grossProceedsUsed/dollarAmount", "50001", {"offering.gross_proceeds_used"}),
    (
        "offeringData/useOfProceeds/grossProceedsUsed/isEstimate",
        "false",
        {"offering.is_gross_proceeds_estimate"},
    ),
    ("offeringData/useOfProceeds/clarificationOfResponse", "Changed.", {"offering.proceeds_clarification"}),
    ("offeringData/signatureBlock/authorizedRepresentative", "false", {"is_authorized_representative"}),
    ("offeringData/signatureBlock/signature/signatureTitle", "General Partner", {"signatures[0].title"}),
]


def with_text(document: bytes, path: str, text: str) -> bytes:
    """The document with the first element at ``path`` (from the root) set to ``text``."""
    root = etree.fromstring(document)
    element = root
    for step in path.split("/"):
        child = element.find(step)
        element = child if child is not None else etree.SubElement(element, step)
    assert element.text != text, f"{path} already reads {text!r}: the case would change nothing"
    element.text = text
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def leaves(value: object, name: str = "") -> dict[str, object]:
    """Every field of a record, nested records and records in tuples flattened to dotted names."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        flat: dict[str, object] = {}
        for field in dataclasses.fields(value):
            flat.update(leaves(getattr(value, field.name), f"{name}.{field.name}" if name else field.name))
        return flat
    if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        flat = {}
        for index, item in enumerate(value):
            flat.update(leaves(item, f"{name}[{index}]"))
        return flat
    return {name: value}


@pytest.mark.parametrize(("path", "text", "changed"), CASES, ids=[f"{p}={t}" for p, t, _ in CASES])
def test_changing_one_tag_changes_exactly_its_field(path: str, text: str, changed: set[str]) -> None:
    original = COMPLETE.read_bytes()
    before = leaves(parse_form_d_xml(original))
    after = leaves(parse_form_d_xml(with_text(original, path, text)))
    assert {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)} == changed


def test_the_cases_cover_every_field_of_the_document() -> None:
    covered = set().union(*(changed for _, _, changed in CASES))
    fields = set(leaves(parse_form_d_xml(COMPLETE.read_bytes())))
    # The second person repeats the first one's fields; the first recipient's address stands
    # for the one address record, whose every field the issuer's and the person's cases cover;
    # co-issuers (none in this fixture) are read by the primary issuer's code, and compared whole
    # in test_parse_fixtures.py.
    others = {name for name in fields if name.startswith("related_persons[1].")} | {"co_issuers"}
    others |= {
        name
        for name in fields
        if name.startswith("offering.sales_compensation_recipients[0].address.")
        and not name.endswith(".city")
    }
    assert fields - others <= covered
