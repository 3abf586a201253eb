"""Malformed values are refused, never guessed (issue 13, item 5).

EDGAR validates every Form D against the SEC's schema (``../shared/reference/Form_D.definition.xsd``),
so a document that breaks it was damaged or forged after the fact: the parser refuses it with a
``MalformedDocumentError`` naming the element, rather than reading a value out of it. Each test
changes one thing in ``tests/fixtures/formd/form_d_complete.xml`` (every section filled in).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from lxml import etree

from edgar_ingest.errors import MalformedDocumentError
from edgar_ingest.normalise import MAX_LENGTHS
from edgar_ingest.parse import parse_document, parse_form_d_xml
from edgar_ingest.records import FormDDocument

COMPLETE = Path(__file__).parent / "fixtures" / "formd" / "form_d_complete.xml"
XSD = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "Form_D.definition.xsd"


def changed(old: str, new: str, count: int = 1) -> bytes:
    """The complete fixture with ``old`` (which must be there) replaced by ``new``."""
    content = COMPLETE.read_text(encoding="utf-8")
    assert old in content, old
    return content.replace(old, new, count).encode()


def removed(element: str) -> bytes:
    """The complete fixture without its (first) ``<element>...</element>``."""
    content = COMPLETE.read_text(encoding="utf-8")
    start = content.index(f"<{element}>")
    end = content.index(f"</{element}>", start) + len(f"</{element}>")
    return (content[:start] + content[end:]).encode()


def refusal(content: bytes) -> str:
    """The one sentence with which ``content`` is refused (fast, as every refusal)."""
    started = time.perf_counter()
    with pytest.raises(MalformedDocumentError) as caught:
        parse_document(content)
    assert time.perf_counter() - started < 0.5
    message = str(caught.value)
    assert "\n" not in message
    assert message.endswith(".")
    assert re.search(r"[.!?] [A-Z]", message) is None, message  # one sentence
    return message


def test_the_unchanged_fixture_parses() -> None:
    # The baseline of every test below: each refusal comes from its one change.
    document = parse_form_d_xml(COMPLETE.read_bytes())
    assert isinstance(document, FormDDocument)
    assert document.offering.total_amount_sold == 250000


# ----------------------------------------------------------------------------- amounts and counts

# The spellings of issue 13 that a lenient reader turns into a number (1.0005, 100, 123...).
NOT_AMOUNTS = [
    "1.000,50",
    "1,00",
    "1,2,3",
    "1000.555",
    "1,234,567",
    "\u0663\u0661\u0664",  # Arabic-Indic digits 314
    "\uff13\uff11\uff14",  # fullwidth digits 314
    "\u0969\u0967\u096a",  # Devanagari digits 314
    "3\u00a0140",  # a no-break space inside
    "3\n140",  # a line break inside: shown escaped, the message stays one line
]


@pytest.mark.parametrize("value", NOT_AMOUNTS)
@pytest.mark.parametrize(
    ("old", "tag"),
    [
        ("<totalAmountSold>250000<", "totalAmountSold"),
        ("<totalOfferingAmount>1500000<", "totalOfferingAmount"),
        ("<minimumInvestmentAccepted>25000<", "minimumInvestmentAccepted"),
        ("<totalNumberAlreadyInvested>12<", "totalNumberAlreadyInvested"),
    ],
)
def test_an_amount_spelt_outside_the_schema_is_refused_naming_the_element(
    old: str, tag: str, value: str
) -> None:
    message = refusal(changed(old, f"<{tag}>{value}<"))
    shown = value if value.isprintable() else repr(value)[1:-1]  # "3\\xa0140": one line, visible
    assert f"<{tag}>{shown}</{tag}>" in message


def test_a_count_of_five_thousand_digits_is_refused_with_a_short_message() -> None:
    digits = "9" * 5000
    message = refusal(changed("<totalNumberAlreadyInvested>12<", f"<totalNumberAlreadyInvested>{digits}<"))
    assert "<totalNumberAlreadyInvested>9999" in message
    assert "[4,960 more characters]" in message  # the value is shown cut, saying how much was left out
    assert len(message) < 400


# ----------------------------------------------------------------------------- element children


@pytest.mark.parametrize(
    ("old", "new", "tag"),
    [
        # Text, a child, more text: a reader of .text alone sees 3140000.
        ("<totalAmountSold>250000<", "<totalAmountSold>3140000<b/>0<", "totalAmountSold"),
        ("<totalAmountSold>250000<", "<totalAmountSold>3140000<b/><", "totalAmountSold"),
        # No text before the child: the value is the child's tail, or the child's own text.
        ("<totalAmountSold>250000<", "<totalAmountSold><b/>250000<", "totalAmountSold"),
        ("<totalAmountSold>250000<", "<totalAmountSold><b>250000</b><", "totalAmountSold"),
        (
            "<minimumInvestmentAccepted>25000<",
            "<minimumInvestmentAccepted><b/>25000<",
            "minimumInvestmentAccepted",
        ),
        # A Form D element inside another one.
        ("<cik>0009990001<", "<cik>0009990001<entityName>X</entityName><", "cik"),
        ("<entityName>Example", "<entityName><b/>Example", "entityName"),
        ("<firstName>Jane<", "<firstName>Jane<b/>t<", "firstName"),
        ("<recipientName>Example", "<recipientName>Example<b/>", "recipientName"),
        ("<signatureDate>2024-03-04<", "<signatureDate>2024-03-04<b/><", "signatureDate"),
        ("<isAmendment>false<", "<isAmendment>false<b/>true<", "isAmendment"),
        ("<submissionType>D<", "<submissionType>D<b/>/A<", "submissionType"),
        ("<item>06b<", "<item>06b<b/>x<", "item"),
        ("<relationship>Director<", "<relationship>Director<b/><", "relationship"),
    ],
)
def test_an_element_holding_child_elements_where_the_schema_has_a_value_is_refused(
    old: str, new: str, tag: str
) -> None:
    message = refusal(changed(old, new))
    assert f"<{tag}>" in message
    assert "child element" in message


# ----------------------------------------------------------------------------- repeated elements


@pytest.mark.parametrize(
    "element",
    [
        "<totalOfferingAmount>1500000</totalOfferingAmount>",
        "<cik>0009990001</cik>",
        "<entityName>Example Widget Fund I, L.P.</entityName>",
        "<submissionType>D</submissionType>",
        "<firstName>Jane</firstName>",
        "<zipCode>10005</zipCode>",  # a recipient's
        "<signatureDate>2024-03-04</signatureDate>",
        "<industryGroupType>Pooled Investment Fund</industryGroupType>",
        "<value>2022</value>",  # yearOfInc's
        "<dollarAmount>15000</dollarAmount>",
        "<authorizedRepresentative>true</authorizedRepresentative>",
        "<isAmendment>false</isAmendment>",
    ],
)
def test_a_repeated_single_valued_element_is_refused_not_last_wins(element: str) -> None:
    # Given twice, even with the same value: the schema allows it once.
    message = refusal(changed(element, element + element))
    assert element[: element.index(">") + 1] in message
    assert "more than once" in message


@pytest.mark.parametrize("section", ["typeOfFiling", "offeringSalesAmounts", "investors", "useOfProceeds"])
def test_a_repeated_section_of_the_offering_is_refused(section: str) -> None:
    content = COMPLETE.read_text(encoding="utf-8")
    start = content.index(f"<{section}>")
    end = content.index(f"</{section}>", start) + len(f"</{section}>")
    message = refusal((content[:end] + content[start:end] + content[end:]).encode())
    assert "more than once" in message


@pytest.mark.parametrize("section", ["primaryIssuer", "relatedPersonsList", "offeringData"])
def test_a_repeated_section_of_the_document_is_refused(section: str) -> None:
    content = COMPLETE.read_text(encoding="utf-8")
    start = content.index(f"<{section}>")
    end = content.index(f"</{section}>", start) + len(f"</{section}>")
    message = refusal((content[:end] + content[start:end] + content[end:]).encode())
    assert f"<{section}>" in message
    assert "more than once" in message


def test_the_repeatable_elements_stay_lists_in_document_order() -> None:
    # The schema's maxOccurs > 1: previous names, relationships, exemption items, states and
    # their descriptions (all filled in by the fixture), and records (persons, signatures).
    document = parse_form_d_xml(COMPLETE.read_bytes())
    assert document.primary_issuer.issuer_previous_names == ("Example Widget Fund, L.P.", "Widget Partners I")
    assert document.related_persons[0].relationships == ("Executive Officer", "Director", "Promoter")
    assert document.offering.federal_exemptions == ("06b", "3C", "3C.7")
    assert document.offering.sales_compensation_recipients[0].states_of_solicitation == ("CA", "NY")
    assert len(document.related_persons) == 2


# ----------------------------------------------------------------------------- namespaces


@pytest.mark.parametrize(
    ("old", "new", "tag"),
    [
        (
            "<totalAmountSold>250000</totalAmountSold>",
            '<x:totalAmountSold xmlns:x="urn:other">250000</x:totalAmountSold>',
            "totalAmountSold",
        ),
        ("<offeringSalesAmounts>", '<offeringSalesAmounts xmlns="urn:other">', "offeringSalesAmounts"),
        ("<cik>0009990001</cik>", '<x:cik xmlns:x="urn:other">0009990001</x:cik>', "cik"),
        ("<primaryIssuer>", '<primaryIssuer xmlns="urn:other">', "primaryIssuer"),
        (
            "<submissionType>D</submissionType>",
            '<x:submissionType xmlns:x="urn:x">D</x:submissionType>',
            "submissionType",
        ),
        ("<firstName>Jane</firstName>", '<firstName xmlns="urn:other">Jane</firstName>', "firstName"),
        # Declared on the root, used deep inside.
        ("<edgarSubmission>", '<edgarSubmission xmlns:x="urn:other">', None),
    ],
)
def test_a_form_d_element_in_another_namespace_is_refused_not_dropped(
    old: str, new: str, tag: str | None
) -> None:
    content = changed(old, new)
    if tag is None:
        tag = "zipCode"
        content = content.replace(b"<zipCode>62701</zipCode>", b"<x:zipCode>62701</x:zipCode>", 1)
    message = refusal(content)
    assert f"<{tag}>" in message
    assert "urn:" in message


def test_an_unused_namespace_declaration_or_an_equals_sign_in_text_is_no_reason_to_refuse() -> None:
    # The namespace check looks at every element only when the bytes hold a "=" after the root
    # start; both cases take that path, and both documents are fine.
    declared = parse_form_d_xml(changed("<edgarSubmission>", '<edgarSubmission xmlns:x="urn:other">'))
    equals = parse_form_d_xml(changed("Merger with Example Holdings", "Merger: A=B"))
    assert declared == parse_form_d_xml(COMPLETE.read_bytes())
    assert equals.offering.business_combination_clarification == "Merger: A=B"


def test_whitespace_kept_by_xml_space_preserve_is_no_reason_to_refuse() -> None:
    # xml:space="preserve" keeps the indentation as text in every container: still no value.
    document = parse_form_d_xml(changed("<edgarSubmission>", '<edgarSubmission xml:space="preserve">'))
    assert document == parse_form_d_xml(COMPLETE.read_bytes())


# ----------------------------------------------------------------------------- required elements


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (lambda: removed("typeOfFiling"), "typeOfFiling"),
        (lambda: removed("isAmendment"), "isAmendment"),
        (lambda: changed("<isAmendment>false<", "<isAmendment><"), "isAmendment"),
        (lambda: removed("offeringSalesAmounts"), "totalAmountSold"),
        (lambda: removed("totalAmountSold"), "totalAmountSold"),
        (lambda: changed("<totalAmountSold>250000<", "<totalAmountSold><"), "totalAmountSold"),
        (lambda: changed("<totalAmountSold>250000<", "<totalAmountSold>None<"), "totalAmountSold"),
        (lambda: removed("cik"), "cik"),
        (lambda: changed("<cik>0009990001<", "<cik> <"), "cik"),
        (lambda: removed("entityName"), "entityName"),
        (lambda: changed("<entityName>Example Widget Fund I, L.P.<", "<entityName>None<"), "entityName"),
    ],
    ids=[
        "no typeOfFiling",
        "no isAmendment",
        "empty isAmendment",
        "no offeringSalesAmounts",
        "no totalAmountSold",
        "empty totalAmountSold",
        "placeholder totalAmountSold",
        "no cik",
        "blank cik",
        "no entityName",
        "placeholder entityName",
    ],
)
def test_a_document_without_a_value_every_form_d_has_is_refused(content: object, named: str) -> None:
    assert callable(content)
    message = refusal(content())
    assert f"<{named}>" in message


# ----------------------------------------------------------------------------- CIKs and lengths


@pytest.mark.parametrize(
    "cik",
    ["00099900011", "99999999999", "CIK-1", "\uff19\uff19\uff19", "-1", "1.0"],
    ids=["11 digits", "11 digits unpadded", "letters", "fullwidth", "sign", "fraction"],
)
def test_a_cik_of_more_than_ten_digits_or_not_digits_is_refused(cik: str) -> None:
    message = refusal(changed("<cik>0009990001<", f"<cik>{cik}<"))
    assert f"<cik>{cik}</cik>" in message


def test_a_cik_of_up_to_ten_digits_is_padded_to_ten() -> None:
    assert parse_form_d_xml(changed("<cik>0009990001<", "<cik>9990001<")).primary_issuer.cik == "0009990001"
    assert (
        parse_form_d_xml(changed("<cik>0009990001<", "<cik>9999999999<")).primary_issuer.cik == "9999999999"
    )


# Every element whose value the store writes into a column of bounded length, with where it is in
# the fixture (the value of ``old`` is replaced) and its key in MAX_LENGTHS.
BOUNDED = [
    ("<cik>0009990001<", "cik", "cik"),
    ("<schemaVersion>X0708<", "schemaVersion", "schemaVersion"),
    ("<testOrLive>LIVE<", "testOrLive", "testOrLive"),
    ("<zipCode>62701<", "zipCode", "zipCode"),
    ("<zipCode>10005<", "zipCode", "zipCode"),  # a recipient's
    ("<zipCode>HM 11<", "zipCode", "zipCode"),  # a related person's
    ("<issuerPhoneNumber>217-555-0100<", "issuerPhoneNumber", "issuerPhoneNumber"),
    ("<entityType>Other<", "entityType", "entityType"),
    ("<industryGroupType>Pooled Investment Fund<", "industryGroupType", "industryGroupType"),
    ("<investmentFundType>Venture Capital Fund<", "investmentFundType", "investmentFundType"),
    (
        "<aggregateNetAssetValueRange>$5,000,001 - $25,000,000<",
        "aggregateNetAssetValueRange",
        "aggregateNetAssetValueRange",
    ),
    ("<relationship>Director<", "relationship", "relationship"),
    ("<recipientCRDNumber>123456<", "recipientCRDNumber", "recipientCRDNumber"),
    ("<associatedBDCRDNumber>654321<", "associatedBDCRDNumber", "associatedBDCRDNumber"),
    ("<item>06b<", "item", "item"),
    ("<value>2022<", "value", "yearOfInc/value"),
]


@pytest.mark.parametrize(("old", "tag", "key"), BOUNDED)
def test_a_value_longer_than_the_schema_allows_is_refused_naming_the_element(
    old: str, tag: str, key: str
) -> None:
    limit = MAX_LENGTHS[key]
    too_long = "7" * (limit + 1)
    message = refusal(changed(old, f"<{tag}>{too_long}<"))
    assert f"<{tag}>{too_long}</{tag}>" in message
    assert f"at most {limit} characters" in message or f"a CIK of 1 to {limit} digits" in message


def test_a_revenue_range_and_a_previous_accession_number_are_bounded_too() -> None:
    revenue = changed(
        "<aggregateNetAssetValueRange>$5,000,001 - $25,000,000</aggregateNetAssetValueRange>",
        f"<revenueRange>{'$' * (MAX_LENGTHS['revenueRange'] + 1)}</revenueRange>",
    )
    assert "<revenueRange>" in refusal(revenue)
    previous = changed(
        "<isAmendment>false</isAmendment>",
        "<isAmendment>true</isAmendment><previousAccessionNumber>0009990001-24-0000011</previousAccessionNumber>",
    )
    assert "<previousAccessionNumber>" in refusal(previous)


@pytest.mark.parametrize(("old", "tag", "key"), BOUNDED)
def test_a_value_exactly_as_long_as_the_schema_allows_is_read(old: str, tag: str, key: str) -> None:
    limit = MAX_LENGTHS[key]
    # Digits where the value is a number (a CIK, a year: "2" first), letters elsewhere.
    value = "2" + "0" * (limit - 1) if tag in {"cik", "value"} else "A" * limit
    document = parse_form_d_xml(changed(old, f"<{tag}>{value}<"))
    assert isinstance(document, FormDDocument)


def _xsd_max_length(schema: etree._Element, type_name: str) -> int:
    """The longest value a simple type of the XSD allows (maxLength, length, or its enumeration)."""
    xs = "{http://www.w3.org/2001/XMLSchema}"
    simple = schema.find(f"{xs}simpleType[@name='{type_name}']")
    assert simple is not None, type_name
    union = simple.find(f"{xs}union")
    if union is not None:
        return max(_xsd_max_length(schema, member) for member in union.get("memberTypes", "").split())
    restriction = simple.find(f"{xs}restriction")
    assert restriction is not None
    for facet in ("maxLength", "length"):
        found = restriction.find(f"{xs}{facet}")
        if found is not None:
            return int(found.get("value", ""))
    enumeration = restriction.findall(f"{xs}enumeration")
    if enumeration:
        return max(len(item.get("value", "")) for item in enumeration)
    pattern = restriction.find(f"{xs}pattern")
    assert pattern is not None, type_name
    return {"LIVE|TEST": 4, "2\\d\\d\\d": 4, "[0-9]{1,10}\\-[0-9]{1,2}\\-[0-9]{1,6}": 20}[
        pattern.get("value", "").removeprefix("[*]{0}|")
    ]


XSD_TYPES = {
    "cik": "CIK_TYPE",
    "schemaVersion": "SCHEMA_VERSION_TYPE",
    "testOrLive": "LIVE_OR_TEST_TYPE",
    "zipCode": "FORM_D_ZIP_CODE_TYPE",
    "issuerPhoneNumber": "FORM_D_PHONE_NUMBER_TYPE",
    "entityType": "ENTITY_TYPE_TYPE",
    "industryGroupType": "INDUSTRY_GROUP_LIST",
    "investmentFundType": "INVESTMENT_FUND_LIST",
    "revenueRange": "REVENUE_RANGE_TYPE",
    "aggregateNetAssetValueRange": "AGGREGATE_NET_ASSET_VALUE_RANGE_TYPE",
    "relationship": "RELATIONSHIP_TYPE",
    "recipientCRDNumber": "CRD_NUMBER_TYPE",
    "associatedBDCRDNumber": "CRD_NUMBER_TYPE",
    "item": "FEDERAL_EXEMPTION_LIST",
    "yearOfInc/value": "YEAR_VALUE_TYPE",
    "previousAccessionNumber": "FORMD_ACCESSION_NUMBER_TYPE",
}


def test_the_length_limits_are_the_schemas() -> None:
    if not XSD.is_file():
        pytest.skip(f"the SEC's schema is not at {XSD}")
    schema = etree.parse(str(XSD)).getroot()
    from_xsd = {tag: _xsd_max_length(schema, name) for tag, name in XSD_TYPES.items()}
    assert from_xsd == MAX_LENGTHS
