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

Strictness: EDGAR validates every Form D against the SEC's schema, so what the schema never allows
is damage or forgery, and is refused naming the element rather than read into a value (issue 13):
a leaf holding child elements (``3140000<b/>0``), a single-valued element or section given twice,
an element in a namespace, a value longer than the schema allows where the store's column is
bounded (``normalise.MAX_LENGTHS``), and a document without ``isAmendment``, ``totalAmountSold``
or its primary issuer's ``cik`` and ``entityName``. Values themselves: see ``formd_values``.

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
from edgar_ingest.formd_values import Lists as _Lists
from edgar_ingest.formd_values import Values as _Values
from edgar_ingest.formd_values import address as _address
from edgar_ingest.formd_values import amount as _amount
from edgar_ingest.formd_values import amount_or_indefinite as _amount_or_indefinite
from edgar_ingest.formd_values import bounded as _bounded
from edgar_ingest.formd_values import flag as _flag
from edgar_ingest.formd_values import holds_elements as _holds_elements
from edgar_ingest.formd_values import in_namespace as _in_namespace
from edgar_ingest.formd_values import integer as _integer
from edgar_ingest.formd_values import iso_date as _iso_date
from edgar_ingest.formd_values import issuer_cik as _issuer_cik
from edgar_ingest.formd_values import local as _local
from edgar_ingest.formd_values import missing as _missing
from edgar_ingest.formd_values import namespace_note as _namespace_note
from edgar_ingest.formd_values import optional_flag as _optional_flag
from edgar_ingest.formd_values import repeated as _repeated
from edgar_ingest.formd_values import texts as _texts
from edgar_ingest.formd_values import too_long as _too_long
from edgar_ingest.normalise import MAX_LENGTHS, normalise_accession_number
from edgar_ingest.normalise import PLACEHOLDERS as _PLACEHOLDERS
from edgar_ingest.normalise import new_form_d_document as _new_form_d_document
from edgar_ingest.normalise import new_form_d_filing as _new_form_d_filing
from edgar_ingest.normalise import new_issuer as _new_issuer
from edgar_ingest.normalise import new_offering as _new_offering
from edgar_ingest.normalise import new_recipient as _new_recipient
from edgar_ingest.normalise import new_related_person as _new_related_person
from edgar_ingest.normalise import new_signature as _new_signature
from edgar_ingest.normalise import previous_accession as _previous_accession
from edgar_ingest.records import (
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
        # One line: libxml2 ends some messages with a line break ("Char 0x0 out of allowed range\n").
        reason = " ".join((exc.msg or "syntax error").split(", see ")[0].split()).rstrip(".")
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
# one section are keyed "parent/tag"; the tags the schema repeats are gathered into lists, in
# document order. The same pass refuses what the schema never allows and a lenient reader would
# read a wrong value out of (see _holds_elements and _repeated): a leaf holding child elements
# (``3140000<b/>0`` is not 3140000), and a single-valued leaf given twice (no "last one wins").
_QUALIFIED = frozenset({"value", "previousName", "dollarAmount", "isEstimate", "clarificationOfResponse"})
# The leaves of a section that the schema repeats (maxOccurs > 1), as keyed.
_LISTED = frozenset(
    {
        "relationship",  # relatedPersonRelationshipList
        "item",  # federalExemptionsExclusions
        "state",  # statesOfSolicitationList
        # Read nowhere on purpose: each state code's name (ILLINOIS after IL), listed because repeated.
        "description",
        "statesOfSolicitationList/value",  # "All States"
        "issuerPreviousNameList/previousName",
        "issuerPreviousNameList/value",  # "None" placeholder (or, rarely, a name)
        "edgarPreviousNameList/previousName",
        "edgarPreviousNameList/value",
    }
)
_SPECIAL = _QUALIFIED | _LISTED
# Every element of the schema that holds a value rather than elements (its simple types). An
# element holding children is refused when it is one of these; containers carry no text and drop
# out of the pass by themselves. Unknown elements are let be (the schema has changed over the years).
_LEAF_NAMES = (  # by section, as the schema lists them
    # edgarSubmission
    "schemaVersion submissionType testOrLive returnCopy contactName contactPhoneNumber"
    " contactEmailAddress notificationEmailAddress"
    # issuers
    " cik ccc entityName street1 street2 city stateOrCountry stateOrCountryDescription zipCode"
    " issuerPhoneNumber jurisdictionOfInc value previousName entityType entityTypeOtherDesc"
    " withinFiveYears yetToBeFormed overFiveYears over100IssuerFlag"
    # related persons
    " firstName middleName lastName relationship relationshipClarification over100PersonsFlag"
    # offering
    " industryGroupType investmentFundType is40Act revenueRange aggregateNetAssetValueRange"
    " item isAmendment previousAccessionNumber yetToOccur moreThanOneYear isEquityType"
    " isDebtType isOptionToAcquireType isSecurityToBeAcquiredType isPooledInvestmentFundType"
    " isTenantInCommonType isMineralPropertyType isOtherType descriptionOfOtherType"
    " isBusinessCombinationTransaction clarificationOfResponse minimumInvestmentAccepted"
    " recipientName recipientCRDNumber associatedBDName associatedBDCRDNumber state"
    " description foreignSolicitation over100RecipientFlag totalOfferingAmount totalAmountSold"
    " totalRemaining hasNonAccreditedInvestors numberNonAccreditedInvestors"
    " totalNumberAlreadyInvested dollarAmount isEstimate authorizedRepresentative issuerName"
    " signatureName nameOfSigner signatureTitle signatureDate"
)
_LEAF_ELEMENTS = frozenset(_LEAF_NAMES.split())

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
    special = _SPECIAL  # locals: this loop runs for every element
    leaves = _LEAF_ELEMENTS
    for node in element.iter():
        text = node.text
        if text is None or not (text := text.strip()):
            # A container, or an empty leaf: a leaf must hold no element either (<b/>250000).
            if node.tag in leaves and len(node):
                raise _holds_elements(node)
            continue
        if len(node):  # a C call, cheaper than any test on the tag
            raise _holds_elements(node)
        if text == "None" or text == "NONE" or text == "none":  # see _PLACEHOLDERS
            continue
        tag: str = node.tag
        if tag in special:
            if tag in _QUALIFIED:
                parent = node.getparent()
                tag = f"{parent.tag if parent is not None else ''}/{tag}"
            if tag in _LISTED:
                lists.setdefault(tag, []).append(text)
                continue
        if tag in values:
            raise _repeated(tag)
        values[tag] = text


def _leaves(element: _Element) -> tuple[_Values, _Lists]:
    values: _Values = {}
    lists: _Lists = {}
    _collect(element, values, lists)
    return values, lists


def _leaf_text(element: _Element) -> str | None:
    """The text of one leaf read on its own (schemaVersion, submissionType, testOrLive...)."""
    if len(element):
        raise _holds_elements(element)
    text = element.text
    if text is None:
        return None
    text = text.strip()
    if not text or text in _PLACEHOLDERS:
        return None
    limit = MAX_LENGTHS.get(element.tag)
    if limit is not None and len(text) > limit:
        raise _too_long(element.tag, text)
    return text


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
    if _may_hold_namespaces(content):
        _check_no_namespace(root)
    # The children of <edgarSubmission> that are read, each allowed once (the schema's maxOccurs).
    found: dict[str, _Element] = {}
    for child in root:
        section = child.tag
        if section in _ROOT_READ:
            if section in found:
                raise _repeated(section)
            found[section] = child
    get = found.get
    primary, issuer_list, persons_list = get("primaryIssuer"), get("issuerList"), get("relatedPersonsList")
    offering_data, submission = get("offeringData"), get("submissionType")
    version, live = get("schemaVersion"), get("testOrLive")
    submission_type = None if submission is None else _leaf_text(submission)
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
    primary_issuer = _issuer(primary)
    # What identifies the filer: a Form D always gives both (and the store keys issuers by CIK).
    if primary_issuer.cik is None:
        raise _missing("cik", "primaryIssuer")
    if primary_issuer.entity_name is None:
        raise _missing("entityName", "primaryIssuer")
    co_issuers, has_over_100_issuers = _issuer_list(issuer_list)
    offering, is_authorized_representative, signatures = _offering(offering_data)
    return _new_form_d_document(
        schema_version=None if version is None else _leaf_text(version),
        submission_type=submission_type,
        test_or_live=None if live is None else _leaf_text(live),
        primary_issuer=primary_issuer,
        co_issuers=co_issuers,
        has_over_100_issuers=has_over_100_issuers,
        related_persons=_related_persons(persons_list),
        offering=offering,
        is_authorized_representative=is_authorized_representative,
        signatures=signatures,
    )


_ROOT_READ = frozenset(
    {
        "schemaVersion",
        "submissionType",
        "testOrLive",
        "primaryIssuer",
        "issuerList",
        "relatedPersonsList",
        "offeringData",
    }
)


def _may_hold_namespaces(content: bytes) -> bool:
    """Whether any element of the document may be in a namespace (else no need to look at each).

    An element is in a namespace only through a declaration (an undeclared prefix is not
    well-formed), which is an attribute, and a Form D element has none: no "=" from the root
    element on rules namespaces out with one memchr (~0.3 us), where testing every tag costs ~5 us.
    Any other encoding than an ASCII-compatible one hides the root start: then every tag is tested.
    """
    root_start = content.find(b"<edgarSubmission")
    return root_start < 0 or content.find(b"=", root_start) >= 0


def _check_no_namespace(root: _Element) -> None:
    """Refuse an element in a namespace: the schema has none, and a reader keyed by plain tags would
    silently drop it (``<x:totalAmountSold>`` read as no amount at all)."""
    for node in root.iter():
        tag: str = node.tag
        if tag[0] == "{":
            raise _in_namespace(tag)


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
        cik=_issuer_cik(values),
        entity_name=values.get("entityName"),
        address=_address(values),  # issuerAddress: the only address inside an issuer
        phone_number=_bounded(values, "issuerPhoneNumber"),
        jurisdiction_of_inc=values.get("jurisdictionOfInc"),
        # <previousName>* or a single <value>None</value>, whose placeholder drops out.
        issuer_previous_names=_texts(
            lists, "issuerPreviousNameList/previousName", "issuerPreviousNameList/value"
        ),
        edgar_previous_names=_texts(
            lists, "edgarPreviousNameList/previousName", "edgarPreviousNameList/value"
        ),
        entity_type=_bounded(values, "entityType"),
        entity_type_other_description=values.get("entityTypeOtherDesc"),
        year_of_inc_choice=choice,
        year_of_inc=_integer(values, "yearOfInc/value"),
    )


def _issuer_list(element: _Element | None) -> tuple[tuple[Issuer, ...], bool]:
    if element is None:
        return (), False
    issuers: list[Issuer] = []
    flag: _Element | None = None
    for child in element:
        if child.tag == "issuer":
            issuers.append(_issuer(child))
        elif child.tag == "over100IssuerFlag":
            if flag is not None:
                raise _repeated("over100IssuerFlag")
            flag = child
    text = None if flag is None else _leaf_text(flag)
    return tuple(issuers), text is not None and _flag({"over100IssuerFlag": text}, "over100IssuerFlag")


def _related_persons(element: _Element | None) -> tuple[RelatedPerson, ...]:
    if element is None:
        return ()
    persons = []
    leaves, max_relationship = _LEAF_ELEMENTS, MAX_LENGTHS["relationship"]
    for info in element:
        if info.tag != "relatedPersonInfo":
            continue
        # _collect inlined (the hottest loop: ~15 elements a person, dozens of persons a filing).
        # A person holds no tag of _QUALIFIED, and "relationship" is its only repeated one.
        values: _Values = {}
        relationships: list[str] = []
        for node in info.iter():
            text = node.text
            if text is None or not (text := text.strip()):
                if node.tag in leaves and len(node):  # see _collect
                    raise _holds_elements(node)
                continue
            if len(node):
                raise _holds_elements(node)
            if text == "None" or text == "NONE" or text == "none":  # see _PLACEHOLDERS
                continue
            tag = node.tag
            if tag == "relationship":
                if len(text) > max_relationship:
                    raise _too_long(tag, text)
                relationships.append(text)
            elif tag in values:
                raise _repeated(tag)
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
        crd_number=_bounded(values, "recipientCRDNumber"),
        associated_broker_dealer_name=values.get("associatedBDName"),
        associated_broker_dealer_crd_number=_bounded(values, "associatedBDCRDNumber"),
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
        signature_date=_iso_date(values, "signatureDate"),
    )


_MAX_EXEMPTION = MAX_LENGTHS["item"]


def _offering(element: _Element) -> tuple[Offering, bool, tuple[Signature, ...]]:
    # One pass over every element of <offeringData> (one lxml iterator, not one per section:
    # ~4 us less a filing). The leaves of the sections land in one dict: their tags are unique
    # across offeringData once the ambiguous ones are keyed by parent (see _QUALIFIED). A
    # <recipient> or <signature> opens a record: the leaves that follow are its own until the
    # next section of the offering starts. The flags that follow a list's records are routed.
    # Each leaf and section is checked as in _collect: no child elements, no repeats.
    offering_values: _Values = {}
    offering_lists: _Lists = {}
    values, lists = offering_values, offering_lists  # where the next leaf goes
    recipients: list[tuple[_Values, _Lists]] = []
    signatures: list[tuple[_Values, _Lists]] = []
    special, sections, leaves = _OFFERING_SPECIAL, _OFFERING_SECTIONS, _LEAF_ELEMENTS
    opened: set[str] = set()  # the sections met so far
    for node in element.iter():
        text = node.text
        if text is not None and (text := text.strip()):
            if len(node):
                raise _holds_elements(node)
            if text != "None" and text != "NONE" and text != "none":  # see _PLACEHOLDERS
                leaf: str = node.tag
                if leaf not in special:
                    if leaf in values:
                        raise _repeated(leaf)
                    values[leaf] = text
                    continue
                if leaf in _QUALIFIED:
                    parent = node.getparent()
                    leaf = f"{parent.tag if parent is not None else ''}/{leaf}"
                if leaf in _LISTED:
                    lists.setdefault(leaf, []).append(text)
                    continue
                if leaf in _OFFERING_FLAGS:
                    if leaf in offering_values:
                        raise _repeated(leaf)
                    offering_values[leaf] = text
                    continue
                # Not a record (<recipient> or <signature>): those hold elements, refused above.
                if leaf in sections:  # a section that is a single leaf: minimumInvestmentAccepted
                    values, lists = offering_values, offering_lists
                if leaf in values:
                    raise _repeated(leaf)
                values[leaf] = text
                continue
        # No text: a container, an empty leaf or a placeholder.
        tag = node.tag
        if tag in sections:
            if tag in opened:
                raise _repeated(tag)
            opened.add(tag)
            values, lists = offering_values, offering_lists
            if tag == "minimumInvestmentAccepted" and len(node):  # the one section that is a leaf
                raise _holds_elements(node)
        elif tag == "recipient":
            values, lists = {}, {}
            recipients.append((values, lists))
        elif tag == "signature":
            values, lists = {}, {}
            signatures.append((values, lists))
        elif tag in leaves and len(node):  # an element of the schema's values holding elements
            raise _holds_elements(node)

    values = offering_values  # from here on, the offering's own
    get = values.get
    # Every Form D says whether it is an amendment and how much was sold (the schema requires both).
    if "isAmendment" not in values:
        raise _missing("isAmendment", "typeOfFiling")
    total_sold = _amount(values, "totalAmountSold")
    if total_sold is None:
        raise _missing("totalAmountSold", "offeringSalesAmounts")
    exemption_codes = offering_lists.get("item")
    total_offering, offering_indefinite = _amount_or_indefinite(values, "totalOfferingAmount")
    total_remaining, remaining_indefinite = _amount_or_indefinite(values, "totalRemaining")
    # Codes in document order, spaces removed ("3C. 7" is "3C.7").
    exemptions = tuple(["".join(code.split()) for code in exemption_codes]) if exemption_codes else ()
    for code in exemptions:
        if len(code) > _MAX_EXEMPTION:
            raise _too_long("item", code)
    # Positional, one argument a line in the order of Offering's fields, each named by its comment:
    # CPython binds 42 keyword arguments with a linear search each (~2 us, 2% of a filing), 42
    # positional ones in 0.5 us. mypy checks each argument's type against its field, and
    # tests/test_parse_field_sources.py changes one tag at a time and checks that exactly the
    # field named here changes, so two same-typed arguments cannot be swapped unnoticed.
    offering = _new_offering(
        _bounded(values, "industryGroupType"),  # industry_group
        _bounded(values, "investmentFundType"),  # investment_fund_type
        _optional_flag(values, "is40Act"),  # is_40_act
        _bounded(values, "revenueRange"),  # revenue_range
        _bounded(values, "aggregateNetAssetValueRange"),  # aggregate_net_asset_value_range
        exemptions,  # federal_exemptions
        _flag(values, "isAmendment"),  # is_amendment
        _previous_accession(_bounded(values, "previousAccessionNumber")),  # previous_accession_number
        _iso_date(values, "dateOfFirstSale/value"),  # first_sale_date
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
        total_sold,  # total_amount_sold
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
