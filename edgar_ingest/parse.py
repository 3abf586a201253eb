"""Bytes in, frozen records out: the SEC full submission (.txt/.nc) and the Form D XML.

The SEC header of a full submission is read by ``sec_header`` (``parse_sec_header`` is re-exported
here); this module reads the Form D XML and puts the two together.

Pure functions: no I/O, and no module state but a per-thread cache of the XML parser, which
carries nothing from one document to the next (see ``_parse_xml``). Every failure is one
``ParseError`` subclass with a sentence a user can act on; nothing is half-parsed.

Security: a Form D never carries a DTD, so any ``<!DOCTYPE``/``<!ENTITY`` is refused before the
XML parser sees the bytes (XXE, billion laughs and quadratic blowup all need one). The lxml
parser is hardened anyway (no entity resolution, no DTD loading, no network, no huge trees) and
the parsed tree is checked for a DTD once more, for encodings the byte scan cannot see (UTF-16).
Documents above ``MAX_DOCUMENT_BYTES`` are refused before any parsing.

Speed (measured with ``bench/parse_bench.py``): one lxml parse per document, then the primary
issuer, each co-issuer, each related person and the whole offering (its recipients and signatures
included) are each gathered in a single pass over their elements into dicts keyed by tag (no
XPath, no ``find``, no Python call per element); the records are built from those dicts through
twin classes (see ``normalise.fast_constructor``). Each thread reuses its own ``XMLParser`` (lxml
parser objects must not be shared between threads): ~3 us less than a new one per call. Budget of
a ~100 us filing: the libxml2 parse and tree free ~35 us, lxml's element proxies with their tag
and text ~20 us, the Python side of the passes ~13 us, records and conversions ~15 us.
XPath, XSLT, parser targets, regular expressions and ElementTree were measured and are slower.

Placeholders: the EDGAR Form D tool writes the literal ``None`` when a filer ticks a "none"
box (previous names, CRD numbers, the placeholder sales-compensation recipient), so ``None``
(any case) reads as None everywhere. Other text such as ``N/A`` is typed by the filer and kept
as filed. The placeholder recipient (name ``None``, state ``XX``) is kept as a record, as
filed: dropping it would make the recipient list disagree with the document.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from edgar_ingest.errors import MalformedDocumentError, NotFormDError, UnsafeDocumentError
from edgar_ingest.normalise import FALSE_TEXTS as _FALSE
from edgar_ingest.normalise import PLACEHOLDERS as _PLACEHOLDERS
from edgar_ingest.normalise import TRUE_TEXTS as _TRUE
from edgar_ingest.normalise import new_address as _new_address
from edgar_ingest.normalise import new_form_d_document as _new_form_d_document
from edgar_ingest.normalise import new_form_d_filing as _new_form_d_filing
from edgar_ingest.normalise import new_issuer as _new_issuer
from edgar_ingest.normalise import new_offering as _new_offering
from edgar_ingest.normalise import new_recipient as _new_recipient
from edgar_ingest.normalise import new_related_person as _new_related_person
from edgar_ingest.normalise import new_signature as _new_signature
from edgar_ingest.normalise import normalise_accession_number
from edgar_ingest.normalise import previous_accession as _previous_accession
from edgar_ingest.normalise import whole_number_digits as _whole_number_digits
from edgar_ingest.records import (
    Address,
    FormDDocument,
    FormDFiling,
    Issuer,
    Offering,
    RelatedPerson,
    SalesCompensationRecipient,
    Signature,
)

# The SEC header and the size cap live in sec_header; re-exported, so that ``parse`` stays the one
# import for every reader of documents.
from edgar_ingest.sec_header import MAX_DOCUMENT_BYTES, oversize_error, parse_sec_header
from edgar_ingest.sec_header import check_size as _check_size

__all__ = [
    "FORM_D_TYPES",
    "MAX_DOCUMENT_BYTES",
    "PARSER_VERSION",
    "filing_to_dict",
    "normalise_accession_number",
    "oversize_error",
    "parse_document",
    "parse_form_d_xml",
    "parse_sec_header",
]

# Bump when the records derived from the same bytes change: stored rows are then re-derived.
PARSER_VERSION = "1"
FORM_D_TYPES = frozenset({"D", "D/A"})

_Element = etree._Element

# ----------------------------------------------------------------------------- records

# The fast record constructors (``normalise.fast_constructor``) are imported above.

# ----------------------------------------------------------------------------- raw bytes

_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"
_SUBMISSION_STARTS = (
    b"-----BEGIN PRIVACY-ENHANCED MESSAGE-----",
    b"<SEC-DOCUMENT>",
    b"<SEC-HEADER>",
    b"<SUBMISSION>",
)


def _check_no_dtd(content: bytes) -> None:
    # XXE and entity bombs need a DOCTYPE, which XML allows only in the prolog, before the root
    # element: scanning the prolog alone (a few dozen bytes) refuses them before libxml2 runs.
    # A DOCTYPE after the root start is not well-formed and the parser rejects it.
    # Bounded finds, not a slice, and "<!" first: the usual prolog has none (~0.3 us less).
    root_start = content.find(b"<edgarSubmission")
    end = len(content) if root_start < 0 else root_start
    if content.find(b"<!", 0, end) >= 0 and (
        content.find(b"<!DOCTYPE", 0, end) >= 0 or content.find(b"<!ENTITY", 0, end) >= 0
    ):
        raise UnsafeDocumentError(
            "The document declares a DOCTYPE or ENTITY, which a Form D never has; it was refused as "
            "unsafe: use the XML exactly as EDGAR serves it."
        )


def _strip_start(content: bytes) -> bytes:
    # Real files have blank lines before <?xml (a strict parser rejects them), and the <XML>
    # block of a full submission starts with a newline.
    if content.startswith(_BOM):
        content = content[len(_BOM) :]
    return content.lstrip(_WHITESPACE)


# One cached XML parser per thread (lxml parser objects must not be shared between threads).
_PARSERS = threading.local()


def _new_xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,  # so that every child's tag is a str
        remove_pis=True,
        collect_ids=False,
        remove_blank_text=True,  # no whitespace nodes between elements: ~20% faster parse and walk
    )


def _parse_xml(content: bytes) -> _Element:
    _check_size(content)
    _check_no_dtd(content)
    xml = _strip_start(content)
    if not xml:
        raise MalformedDocumentError("The document is empty; pass a Form D XML or an EDGAR full submission.")
    # This thread's parser, taken out of the cache while in use and put back only after a clean
    # parse: a parser that saw a failure (or an exception of any kind) is dropped, never reused.
    # Reuse resets libxml2's push context instead of creating one: ~3 us (8% of the parse) less.
    # Its options are fixed at creation, so a reused parser is exactly as hardened as a new one.
    parser: etree.XMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _new_xml_parser()
    else:
        _PARSERS.parser = None
    try:
        # feed() + close(), not fromstring(): the same libxml2 parse, ~2.5 us (6%) less per call.
        parser.feed(xml)
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        reason = (exc.msg or "syntax error").split(", see ")[0].rstrip(".")
        if "amplification" in reason:  # libxml2's own entity-bomb guard (e.g. a UTF-16 bomb)
            raise UnsafeDocumentError(
                "The document declares entities that expand explosively, which a Form D never has; it "
                "was refused as unsafe: use the XML exactly as EDGAR serves it."
            ) from None
        raise MalformedDocumentError(
            f"The document is not well-formed XML ({reason}); check that it is a complete Form D "
            "primary_doc.xml or full submission .txt."
        ) from None
    # Second line of defence for a DOCTYPE the prolog scan could not see (UTF-16, a decoy root
    # tag in a comment): nothing was resolved or loaded, but the document is still refused.
    # Any: the stubs type the DTDs as never None and lack DocInfo.doctype.
    docinfo: Any = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise UnsafeDocumentError(
            "The document declares a DOCTYPE, which a Form D never has; it was refused as unsafe: use "
            "the XML exactly as EDGAR serves it."
        )
    _PARSERS.parser = parser
    return root


# ----------------------------------------------------------------------------- entry point


def parse_document(content: bytes) -> FormDFiling:
    """A full submission (.txt, .nc, PEM-wrapped .txt) or a bare Form D XML, as one filing."""
    _check_size(content)
    head = _strip_start(content[:4096])
    if head.startswith(_SUBMISSION_STARTS):
        header = parse_sec_header(content)
        if header.submission_type not in FORM_D_TYPES:
            raise NotFormDError(
                f"Submission {header.accession_number} is a {header.submission_type!r} filing, not a "
                "Form D (D or D/A); only Form D filings can be parsed."
            )
        xml = _embedded_xml(content, header.accession_number)
        return _new_form_d_filing(document=parse_form_d_xml(xml), header=header)
    # Anything else must be the Form D XML itself; the XML parser says why when it is not.
    return _new_form_d_filing(document=parse_form_d_xml(content))


def _embedded_xml(content: bytes, accession: str) -> bytes:
    start = content.find(b"<XML>")
    if start < 0:
        raise MalformedDocumentError(
            f"Full submission {accession} contains no <XML> block, so it holds no Form D document; "
            "download its complete .txt from EDGAR again."
        )
    start += len(b"<XML>")
    # The block's end is looked for from the end of the file, where it is (a forward search
    # through the whole XML costs ~3.5 us). A Form D submission holds one document; if one ever
    # held two XML blocks, the slice would span both and the XML parser would refuse it, loudly.
    end = content.rfind(b"</XML>", start)
    if end < 0:
        raise MalformedDocumentError(
            f"The <XML> block of full submission {accession} is not closed (the file looks truncated); "
            "download its complete .txt from EDGAR again."
        )
    # Past the newline that opens the block, so that the XML is copied once, not twice.
    while start < end and content[start] in _WHITESPACE:
        start += 1
    return content[start:end]


# ----------------------------------------------------------------------------- XML values

# A section's leaves are gathered in one pass over ``element.iter()`` into a dict keyed by tag:
# one lxml proxy per element and a few dict operations, which is what makes the parser fast
# (no XPath, no ``find``, no Python call per field). Tags that occur under several parents of
# one section are keyed "parent/tag"; repeated tags are gathered into lists, in document order.
_QUALIFIED = frozenset({"value", "previousName", "dollarAmount", "isEstimate", "clarificationOfResponse"})
_LISTED = frozenset(
    {
        "relationship",  # relatedPersonRelationshipList
        "item",  # federalExemptionsExclusions
        "state",  # statesOfSolicitationList
        "statesOfSolicitationList/value",  # "All States"
        "issuerPreviousNameList/previousName",
        "issuerPreviousNameList/value",  # "None" placeholder (or, rarely, a name)
        "edgarPreviousNameList/previousName",
        "edgarPreviousNameList/value",
    }
)
_SPECIAL = _QUALIFIED | _LISTED
# Read nowhere on purpose: statesOfSolicitationList/description repeats each state code's name
# (ILLINOIS after IL). Containers carry no text and drop out of the pass by themselves.

_Values = dict[str, str]
_Lists = dict[str, list[str]]

# The sections of <offeringData> (the schema's children of it), and the records two of them hold.
_OFFERING_SECTIONS = frozenset(
    {
        "industryGroup",
        "issuerSize",
        "federalExemptionsExclusions",
        "typeOfFiling",
        "durationOfOffering",
        "typesOfSecuritiesOffered",
        "businessCombinationTransaction",
        "minimumInvestmentAccepted",
        "salesCompensationList",
        "offeringSalesAmounts",
        "investors",
        "salesCommissionsFindersFees",
        "useOfProceeds",
        "signatureBlock",
    }
)
_OFFERING_RECORDS = frozenset({"recipient", "signature"})
# Leaves of salesCompensationList/signatureBlock beside their records: the offering's own.
_OFFERING_FLAGS = frozenset({"over100RecipientFlag", "authorizedRepresentative"})
_OFFERING_SPECIAL = _SPECIAL | _OFFERING_SECTIONS | _OFFERING_RECORDS | _OFFERING_FLAGS


def _collect(element: _Element, values: _Values, lists: _Lists) -> None:
    """Every non-empty, non-placeholder leaf text under ``element`` into ``values``/``lists``."""
    special = _SPECIAL  # a local: this loop runs for every element
    for node in element.iter():
        text = node.text
        if text is None:
            continue
        text = text.strip()
        if not text or text == "None" or text == "NONE" or text == "none":  # see _PLACEHOLDERS
            continue
        tag: str = node.tag
        if tag in special:
            if tag in _QUALIFIED:
                parent = node.getparent()
                tag = f"{parent.tag if parent is not None else ''}/{tag}"
            if tag in _LISTED:
                lists.setdefault(tag, []).append(text)
                continue
        values[tag] = text


def _leaves(element: _Element) -> tuple[_Values, _Lists]:
    values: _Values = {}
    lists: _Lists = {}
    _collect(element, values, lists)
    return values, lists


def _malformed_value(tag: str, text: str, expected: str) -> MalformedDocumentError:
    name = tag.rpartition("/")[2]
    return MalformedDocumentError(
        f"The Form D has <{name}>{text[:40]}</{name}>, which is not {expected}; the document does not "
        "follow the EDGAR Form D schema: fetch it again from EDGAR or report it."
    )


def _flag(values: _Values, tag: str) -> bool:
    """A checkbox: absent or empty is False (EDGAR omits unticked boxes)."""
    text = values.get(tag)
    if text is None or text in _FALSE:
        return False
    if text in _TRUE:
        return True
    raise _malformed_value(tag, text, "true or false")


def _optional_flag(values: _Values, tag: str) -> bool | None:
    text = values.get(tag)
    return None if text is None else _flag(values, tag)


_ZERO = Decimal(0)  # over half the amounts filed are "0" (fees, commissions, minimum investment)


_WHOLE_DOLLARS = "a whole number of dollars from 0 to 999,999,999,999"


def _decimal(tag: str, text: str) -> Decimal:
    """An amount as the schema allows it (whole dollars, at most 12 digits), else malformed: a
    fraction, ``1,000`` or 13 digits is refused naming the element, never rounded or cleaned."""
    if text == "0":  # Decimal is immutable: one shared instance, without the ~200 ns construction
        return _ZERO
    digits = _whole_number_digits(text)
    if digits is None:
        raise _malformed_value(tag, text, _WHOLE_DOLLARS)
    return Decimal(digits)


def _amount(values: _Values, tag: str) -> Decimal | None:
    text = values.get(tag)
    if text is None:
        return None
    if text == "0":  # the usual amount, without the call below
        return _ZERO
    return _decimal(tag, text)


def _amount_or_indefinite(values: _Values, tag: str) -> tuple[Decimal | None, bool]:
    """(amount, is_indefinite): "Indefinite" is None plus True, never 0."""
    text = values.get(tag)
    if text is None:
        return None, False
    if text.lower() == "indefinite":
        return None, True
    return _decimal(tag, text), False


def _integer(values: _Values, tag: str) -> int | None:
    """A count (investors) or year: a whole number as the schema allows it, else malformed."""
    text = values.get(tag)
    if text is None:
        return None
    digits = _whole_number_digits(text)
    if digits is None:
        raise _malformed_value(tag, text, "a whole number from 0 to 999,999,999,999")
    return int(digits)


def _date(values: _Values, tag: str) -> date | None:
    text = values.get(tag)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _malformed_value(tag, text, "a date (YYYY-MM-DD)") from None


def _cik(values: _Values) -> str | None:
    text = values.get("cik")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()):
        raise _malformed_value("cik", text, "a numeric CIK")
    return text.zfill(10)


def _texts(lists: _Lists, *tags: str) -> tuple[str, ...]:
    if not lists:  # usually: most sections hold no list
        return ()
    if len(tags) == 1:
        return tuple(lists.get(tags[0], ()))
    return tuple(text for tag in tags for text in lists.get(tag, ()))


def _address(values: _Values) -> Address | None:
    """The one address of a record (issuer, person, recipient); None when none is given."""
    get = values.get
    street1 = get("street1")
    street2 = get("street2")
    city = get("city")
    state = get("stateOrCountry")
    description = get("stateOrCountryDescription")
    zip_code = get("zipCode")
    # A chain of "is None", not a tuple comparison: it stops at street1, which is nearly always given.
    if (
        street1 is None
        and street2 is None
        and city is None
        and state is None
        and description is None
        and zip_code is None
    ):
        return None
    # Positional (in Address's field order) where a record is built per person: see _offering.
    return _new_address(street1, street2, city, state, description, zip_code)


def _root_text(element: _Element) -> str | None:
    text = element.text
    if text is None:
        return None
    text = text.strip()
    return None if not text or text in _PLACEHOLDERS else text


# ----------------------------------------------------------------------------- Form D XML


def parse_form_d_xml(content: bytes) -> FormDDocument:
    """The Form D XML (``<edgarSubmission>``), every section, normalised per ``records``."""
    root = _parse_xml(content)
    tag = root.tag
    if tag != "edgarSubmission":
        raise NotFormDError(
            f"The XML root element is <{_local(tag)}>{_namespace_note(tag)}, not the <edgarSubmission> "
            "of a Form D; only Form D (D or D/A) documents can be parsed."
        )
    schema_version = submission_type = test_or_live = None
    primary: _Element | None = None
    issuer_list: _Element | None = None
    persons_list: _Element | None = None
    offering_data: _Element | None = None
    for child in root:
        section = child.tag
        if section == "schemaVersion":
            schema_version = _root_text(child)
        elif section == "submissionType":
            submission_type = _root_text(child)
        elif section == "testOrLive":
            test_or_live = _root_text(child)
        elif section == "primaryIssuer":
            primary = child
        elif section == "issuerList":
            issuer_list = child
        elif section == "relatedPersonsList":
            persons_list = child
        elif section == "offeringData":
            offering_data = child
    # The submission type is checked before any section is read: a non-Form D fails fast.
    if submission_type is None:
        raise NotFormDError(
            "The document has no <submissionType> (a Form D gives D or D/A there); only Form D filings "
            "can be parsed."
        )
    if submission_type not in FORM_D_TYPES:
        raise NotFormDError(
            f"The document's submission type is {submission_type!r}, not a Form D (D or D/A); only Form D "
            "filings can be parsed."
        )
    if primary is None or offering_data is None:
        missing = "primaryIssuer" if primary is None else "offeringData"
        raise MalformedDocumentError(
            f"The Form D has no <{missing}> section; the document is incomplete: fetch it again from EDGAR."
        )
    co_issuers, has_over_100_issuers = _issuer_list(issuer_list)
    offering, is_authorized_representative, signatures = _offering(offering_data)
    return _new_form_d_document(
        schema_version=schema_version,
        submission_type=submission_type,
        test_or_live=test_or_live,
        primary_issuer=_issuer(primary),
        co_issuers=co_issuers,
        has_over_100_issuers=has_over_100_issuers,
        related_persons=_related_persons(persons_list),
        offering=offering,
        is_authorized_representative=is_authorized_representative,
        signatures=signatures,
    )


def _local(tag: object) -> str:
    text = str(tag)
    return text.rpartition("}")[2] if text.startswith("{") else text


def _namespace_note(tag: object) -> str:
    text = str(tag)
    return f" in namespace {text[1:].partition('}')[0]}" if text.startswith("{") else ""


def _issuer(element: _Element) -> Issuer:
    values, lists = _leaves(element)
    choice = None
    if _flag(values, "overFiveYears"):
        choice = "over_five_years"
    elif _flag(values, "withinFiveYears"):
        choice = "within_five_years"
    elif _flag(values, "yetToBeFormed"):
        choice = "yet_to_be_formed"
    return _new_issuer(
        cik=_cik(values),
        entity_name=values.get("entityName"),
        address=_address(values),  # issuerAddress: the only address inside an issuer
        phone_number=values.get("issuerPhoneNumber"),
        jurisdiction_of_inc=values.get("jurisdictionOfInc"),
        # <previousName>* or a single <value>None</value>, whose placeholder drops out.
        issuer_previous_names=_texts(
            lists, "issuerPreviousNameList/previousName", "issuerPreviousNameList/value"
        ),
        edgar_previous_names=_texts(
            lists, "edgarPreviousNameList/previousName", "edgarPreviousNameList/value"
        ),
        entity_type=values.get("entityType"),
        entity_type_other_description=values.get("entityTypeOtherDesc"),
        year_of_inc_choice=choice,
        year_of_inc=_integer(values, "yearOfInc/value"),
    )


def _issuer_list(element: _Element | None) -> tuple[tuple[Issuer, ...], bool]:
    if element is None:
        return (), False
    issuers: list[Issuer] = []
    over_100 = False
    for child in element:
        if child.tag == "issuer":
            issuers.append(_issuer(child))
        elif child.tag == "over100IssuerFlag":
            over_100 = _flag(_leaves(child)[0], "over100IssuerFlag")
    return tuple(issuers), over_100


def _related_persons(element: _Element | None) -> tuple[RelatedPerson, ...]:
    if element is None:
        return ()
    persons = []
    for info in element:
        if info.tag != "relatedPersonInfo":
            continue
        # _collect inlined (the hottest loop: ~15 elements a person, dozens of persons a filing).
        # A person holds no tag of _QUALIFIED, and "relationship" is its only repeated one.
        values: _Values = {}
        relationships: list[str] = []
        for node in info.iter():
            text = node.text
            if text is None:
                continue
            text = text.strip()
            if not text or text == "None" or text == "NONE" or text == "none":  # see _PLACEHOLDERS
                continue
            tag = node.tag
            if tag == "relationship":
                relationships.append(text)
            else:
                values[tag] = text
        get = values.get
        persons.append(
            # Positional, in RelatedPerson's field order (see _offering). Companies are often split
            # across first/last name ("LLC" / "Fund GP,"): kept as filed.
            _new_related_person(
                get("firstName"),  # first_name
                get("middleName"),  # middle_name
                get("lastName"),  # last_name
                _address(values),  # address
                tuple(relationships),  # relationships
                get("relationshipClarification"),  # relationship_clarification
            )
        )
    return tuple(persons)


def _recipient(values: _Values, lists: _Lists) -> SalesCompensationRecipient:
    states = lists.get("state", [])
    is_all_states = False
    for value in lists.get("statesOfSolicitationList/value", ()):
        if value.lower() == "all states":
            is_all_states = True
        else:  # the schema allows only "All States" here; anything else is kept as a state, as filed
            states.append(value)
    return _new_recipient(
        name=values.get("recipientName"),
        crd_number=values.get("recipientCRDNumber"),
        associated_broker_dealer_name=values.get("associatedBDName"),
        associated_broker_dealer_crd_number=values.get("associatedBDCRDNumber"),
        address=_address(values),
        states_of_solicitation=tuple(states),
        is_all_states=is_all_states,
        is_foreign_solicitation=_flag(values, "foreignSolicitation"),
    )


def _signature(values: _Values) -> Signature:
    return _new_signature(
        issuer_name=values.get("issuerName"),
        signature_name=values.get("signatureName"),
        name_of_signer=values.get("nameOfSigner"),
        title=values.get("signatureTitle"),
        signature_date=_date(values, "signatureDate"),
    )


def _offering(element: _Element) -> tuple[Offering, bool, tuple[Signature, ...]]:
    # One pass over every element of <offeringData> (one lxml iterator, not one per section:
    # ~4 us less a filing). The leaves of the sections land in one dict: their tags are unique
    # across offeringData once the ambiguous ones are keyed by parent (see _QUALIFIED). A
    # <recipient> or <signature> opens a record: the leaves that follow are its own until the
    # next section of the offering starts. The flags that follow a list's records are routed.
    offering_values: _Values = {}
    offering_lists: _Lists = {}
    values, lists = offering_values, offering_lists  # where the next leaf goes
    recipients: list[tuple[_Values, _Lists]] = []
    signatures: list[tuple[_Values, _Lists]] = []
    special, sections = _OFFERING_SPECIAL, _OFFERING_SECTIONS
    for node in element.iter():
        text = node.text
        if text is not None:
            text = text.strip()
            if text and text != "None" and text != "NONE" and text != "none":  # see _PLACEHOLDERS
                leaf: str = node.tag
                if leaf not in special:
                    values[leaf] = text
                    continue
                if leaf in _QUALIFIED:
                    parent = node.getparent()
                    leaf = f"{parent.tag if parent is not None else ''}/{leaf}"
                if leaf in _LISTED:
                    lists.setdefault(leaf, []).append(text)
                    continue
                if leaf in _OFFERING_FLAGS:
                    offering_values[leaf] = text
                    continue
                if leaf not in _OFFERING_RECORDS:
                    if leaf in sections:  # a section that is a single leaf: minimumInvestmentAccepted
                        values, lists = offering_values, offering_lists
                    values[leaf] = text
                    continue
                # A record element with text of its own (not in the schema): opened below.
        # No text: a container (or an empty leaf).
        tag = node.tag
        if tag in sections:
            values, lists = offering_values, offering_lists
        elif tag == "recipient":
            values, lists = {}, {}
            recipients.append((values, lists))
        elif tag == "signature":
            values, lists = {}, {}
            signatures.append((values, lists))

    values = offering_values  # from here on, the offering's own
    get = values.get
    exemption_codes = offering_lists.get("item")
    total_offering, offering_indefinite = _amount_or_indefinite(values, "totalOfferingAmount")
    total_remaining, remaining_indefinite = _amount_or_indefinite(values, "totalRemaining")
    # Codes in document order, spaces removed ("3C. 7" is "3C.7").
    exemptions = tuple(["".join(code.split()) for code in exemption_codes]) if exemption_codes else ()
    # Positional, one argument a line in the order of Offering's fields, each named by its comment:
    # CPython binds 42 keyword arguments with a linear search each (~2 us, 2% of a filing), 42
    # positional ones in 0.5 us. mypy checks each argument's type against its field, and
    # tests/test_parse_field_sources.py changes one tag at a time and checks that exactly the
    # field named here changes, so two same-typed arguments cannot be swapped unnoticed.
    offering = _new_offering(
        get("industryGroupType"),  # industry_group
        get("investmentFundType"),  # investment_fund_type
        _optional_flag(values, "is40Act"),  # is_40_act
        get("revenueRange"),  # revenue_range
        get("aggregateNetAssetValueRange"),  # aggregate_net_asset_value_range
        exemptions,  # federal_exemptions
        _flag(values, "isAmendment"),  # is_amendment
        _previous_accession(get("previousAccessionNumber")),  # previous_accession_number
        _date(values, "dateOfFirstSale/value"),  # first_sale_date
        _flag(values, "yetToOccur"),  # is_first_sale_yet_to_occur
        _flag(values, "moreThanOneYear"),  # is_more_than_one_year
        _flag(values, "isEquityType"),  # is_equity
        _flag(values, "isDebtType"),  # is_debt
        _flag(values, "isOptionToAcquireType"),  # is_option_to_acquire
        _flag(values, "isSecurityToBeAcquiredType"),  # is_security_to_be_acquired
        _flag(values, "isPooledInvestmentFundType"),  # is_pooled_investment_fund_interest
        _flag(values, "isTenantInCommonType"),  # is_tenant_in_common
        _flag(values, "isMineralPropertyType"),  # is_mineral_property
        _flag(values, "isOtherType"),  # is_other_security
        get("descriptionOfOtherType"),  # other_security_description
        _flag(values, "isBusinessCombinationTransaction"),  # is_business_combination
        get("businessCombinationTransaction/clarificationOfResponse"),  # business_combination_clarification
        _amount(values, "minimumInvestmentAccepted"),  # minimum_investment
        tuple([_recipient(*leaves) for leaves in recipients]),  # sales_compensation_recipients
        _flag(values, "over100RecipientFlag"),  # has_over_100_recipients
        total_offering,  # total_offering_amount
        offering_indefinite,  # is_offering_amount_indefinite
        _amount(values, "totalAmountSold"),  # total_amount_sold
        total_remaining,  # total_remaining
        remaining_indefinite,  # is_remaining_indefinite
        get("offeringSalesAmounts/clarificationOfResponse"),  # sales_amounts_clarification
        _flag(values, "hasNonAccreditedInvestors"),  # has_non_accredited_investors
        _integer(values, "numberNonAccreditedInvestors"),  # non_accredited_investors
        _integer(values, "totalNumberAlreadyInvested"),  # total_investors
        _amount(values, "salesCommissions/dollarAmount"),  # sales_commissions
        _flag(values, "salesCommissions/isEstimate"),  # is_sales_commissions_estimate
        _amount(values, "findersFees/dollarAmount"),  # finders_fees
        _flag(values, "findersFees/isEstimate"),  # is_finders_fees_estimate
        get("salesCommissionsFindersFees/clarificationOfResponse"),  # commissions_clarification
        _amount(values, "grossProceedsUsed/dollarAmount"),  # gross_proceeds_used
        _flag(values, "grossProceedsUsed/isEstimate"),  # is_gross_proceeds_estimate
        get("useOfProceeds/clarificationOfResponse"),  # proceeds_clarification
    )
    return (
        offering,
        _flag(values, "authorizedRepresentative"),
        tuple([_signature(leaves[0]) for leaves in signatures]),
    )


# ----------------------------------------------------------------------------- JSON


def filing_to_dict(filing: FormDFiling) -> dict[str, object]:
    """A JSON-ready dict: amounts as exact decimal strings, dates ISO 8601, tuples as lists.

    The first keys repeat the filing's identity (accession, type, CIK, file number) so that a
    reader does not have to know where each one lives.
    """
    return {
        "accession_number": filing.accession_number,
        "submission_type": filing.submission_type,
        "cik": filing.primary_cik,
        "file_number": filing.file_number,
        "parser_version": PARSER_VERSION,
        "header": _jsonable(filing.header),
        "document": _jsonable(filing.document),
    }


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")  # never exponent notation, never a float
    if isinstance(value, date):  # datetime is a date subclass; both have isoformat()
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")
