"""Hostile and wrong documents: each refused fast with the right ParseError and one clear sentence."""

from __future__ import annotations

import re
import resource
import time
from decimal import Decimal
from pathlib import Path

import pytest

from edgar_ingest.errors import MalformedDocumentError, NotFormDError, ParseError, UnsafeDocumentError
from edgar_ingest.parse import MAX_DOCUMENT_BYTES, parse_document, parse_form_d_xml, parse_sec_header

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE edgarSubmission [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<edgarSubmission><submissionType>D</submissionType><primaryIssuer><entityName>&secret;</entityName>
</primaryIssuer><offeringData/></edgarSubmission>
"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<edgarSubmission><submissionType>D</submissionType><testOrLive>&lol9;</testOrLive></edgarSubmission>
"""
# One 50 kB entity referenced 50 000 times: 2.5 GB once expanded, under the size cap before.
QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?>\n<!DOCTYPE kaboom [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]>\n<edgarSubmission><submissionType>D</submissionType><testOrLive>'
    + b"&a;" * 50_000
    + b"</testOrLive></edgarSubmission>\n"
)
TEN_K_SUBMISSION = b"""<SEC-DOCUMENT>0000320193-24-000123.txt : 20241101
<SEC-HEADER>0000320193-24-000123.hdr.sgml : 20241101
<ACCEPTANCE-DATETIME>20241101060136
ACCESSION NUMBER:\t\t0000320193-24-000123
CONFORMED SUBMISSION TYPE:\t10-K
FILED AS OF DATE:\t\t20241101

FILER:

\tCOMPANY DATA:\t
\t\tCOMPANY CONFORMED NAME:\t\t\tEXAMPLE COMPUTER INC
\t\tCENTRAL INDEX KEY:\t\t\t0009990009
</SEC-HEADER>
<DOCUMENT>
<TYPE>10-K
<TEXT>
<html><body>annual report</body></html>
</TEXT>
</DOCUMENT>
</SEC-DOCUMENT>
"""


def assert_one_sentence(error: ParseError) -> None:
    message = str(error)
    assert message
    assert "\n" not in message
    assert message.endswith(".")
    assert re.search(r"[.!?] [A-Z]", message) is None, message  # no second sentence


def refused(content: bytes, error: type[ParseError]) -> ParseError:
    started = time.perf_counter()
    with pytest.raises(error) as caught:
        parse_document(content)
    assert time.perf_counter() - started < 0.5  # refused before any expansion, not after
    assert type(caught.value) is error
    assert_one_sentence(caught.value)
    return caught.value


def test_xxe_is_refused_as_unsafe_without_reading_the_file() -> None:
    error = refused(XXE, UnsafeDocumentError)
    assert "DOCTYPE" in str(error)
    assert "root:" not in str(error)  # nothing of /etc/passwd leaks into the message


def test_billion_laughs_is_refused_fast_with_bounded_memory() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused(BILLION_LAUGHS, UnsafeDocumentError)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 50 * 1024  # kB: no expansion happened


def test_quadratic_blowup_is_refused_fast_with_bounded_memory() -> None:
    assert len(QUADRATIC_BLOWUP) < MAX_DOCUMENT_BYTES
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused(QUADRATIC_BLOWUP, UnsafeDocumentError)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 50 * 1024


@pytest.mark.parametrize(
    "content", [XXE, BILLION_LAUGHS, QUADRATIC_BLOWUP], ids=["xxe", "laughs", "quadratic"]
)
def test_dtd_attacks_in_utf16_hidden_from_the_byte_scan_are_still_refused(content: bytes) -> None:
    # UTF-16 hides "<!DOCTYPE" from the byte scan: the hardened parser (no entity resolution, no
    # DTD loading) and the DTD check on the parsed tree are the second line of defence.
    declared = content.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
    utf16 = declared.decode("ascii").encode("utf-16")
    started = time.perf_counter()
    with pytest.raises(UnsafeDocumentError) as caught:
        parse_form_d_xml(utf16)
    assert time.perf_counter() - started < 0.5
    assert_one_sentence(caught.value)
    assert "root:" not in str(caught.value)


def test_doctype_behind_a_decoy_root_tag_in_a_comment_is_still_refused() -> None:
    content = XXE.replace(b"<!DOCTYPE", b"<!-- <edgarSubmission> -->\n<!DOCTYPE", 1)
    error = refused(content, UnsafeDocumentError)
    assert "root:" not in str(error)


def test_oversized_document_is_refused_before_parsing() -> None:
    content = b'<?xml version="1.0"?>\n<edgarSubmission>' + b" " * MAX_DOCUMENT_BYTES + b"</edgarSubmission>"
    error = refused(content, UnsafeDocumentError)
    assert "limit" in str(error)
    with pytest.raises(UnsafeDocumentError):
        parse_sec_header(b"<SUBMISSION>\n" + b" " * MAX_DOCUMENT_BYTES)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   \n",
        b"this is not XML at all",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b'<?xml version="1.0"?>\n<edgarSubmission><submissionType>D</submissionType>',  # truncated
        # libxml2 ends this one's message with a line break: the sentence stays one line.
        b'<?xml version="1.0"?>\n<edgarSubmission>\x00</edgarSubmission>',
    ],
    ids=["empty", "blank", "text", "pdf", "truncated", "nul"],
)
def test_not_xml_is_malformed(content: bytes) -> None:
    refused(content, MalformedDocumentError)


def test_wrong_root_is_not_form_d() -> None:
    error = refused(b'<?xml version="1.0"?>\n<ownershipDocument><x>1</x></ownershipDocument>', NotFormDError)
    assert "<ownershipDocument>" in str(error)


def test_namespaced_edgar_submission_of_another_form_is_not_form_d() -> None:
    content = (
        b'<?xml version="1.0"?>\n<edgarSubmission xmlns="http://www.sec.gov/edgar/formc">'
        b"<submissionType>C</submissionType></edgarSubmission>"
    )
    error = refused(content, NotFormDError)
    assert "http://www.sec.gov/edgar/formc" in str(error)


def test_other_submission_type_in_the_xml_is_not_form_d(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "formd" / "form_d_complete.xml").read_bytes()
    error = refused(content.replace(b"<submissionType>D<", b"<submissionType>C<"), NotFormDError)
    assert "'C'" in str(error)


def test_ten_k_full_submission_is_not_form_d() -> None:
    error = refused(TEN_K_SUBMISSION, NotFormDError)
    assert "10-K" in str(error)
    assert "0000320193-24-000123" in str(error)


def test_full_submission_without_xml_block_is_malformed(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "formd" / "full_submission_two_filers.txt").read_bytes()
    start, end = content.index(b"<XML>"), content.index(b"</XML>") + len(b"</XML>")
    error = refused(content[:start] + content[end:], MalformedDocumentError)
    assert "no <XML> block" in str(error)


def test_truncated_full_submission_is_malformed(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "formd" / "full_submission_two_filers.txt").read_bytes()
    error = refused(content[: content.index(b"<offeringData>")], MalformedDocumentError)
    assert "truncated" in str(error)


def test_full_submission_with_two_xml_blocks_is_refused_not_half_read(fixtures_dir: Path) -> None:
    # A Form D submission holds one document; a second XML block must not pass unnoticed.
    content = (fixtures_dir / "formd" / "full_submission_two_filers.txt").read_bytes()
    start, end = content.index(b"<DOCUMENT>"), content.index(b"</DOCUMENT>") + len(b"</DOCUMENT>")
    doubled = content[:end] + b"\n" + content[start:end] + content[end:]
    error = refused(doubled, MalformedDocumentError)
    assert "not well-formed" in str(error)


def test_header_without_accession_number_is_malformed() -> None:
    error = refused(b"<SUBMISSION>\n<TYPE>D\n<FILING-DATE>20240111\n</SUBMISSION>\n", MalformedDocumentError)
    assert "ACCESSION NUMBER" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "tag"),
    [
        (b"<totalAmountSold>250000<", b"<totalAmountSold>about 250k<", "totalAmountSold"),
        (b"<isAmendment>false<", b"<isAmendment>maybe<", "isAmendment"),
        (b"<signatureDate>2024-03-04<", b"<signatureDate>03/04/2024<", "signatureDate"),
        (
            b"<totalNumberAlreadyInvested>12<",
            b"<totalNumberAlreadyInvested>twelve<",
            "totalNumberAlreadyInvested",
        ),
        (b"<cik>0009990001<", b"<cik>CIK-1<", "cik"),
    ],
)
def test_value_outside_the_schema_is_malformed_and_named(
    fixtures_dir: Path, old: bytes, new: bytes, tag: str
) -> None:
    content = (fixtures_dir / "formd" / "form_d_complete.xml").read_bytes()
    assert old in content
    error = refused(content.replace(old, new), MalformedDocumentError)
    assert f"<{tag}>" in str(error)


# Amounts and investor counts: the schema allows whole numbers from 0 to 999,999,999,999 only.
AMOUNT_ELEMENTS = [
    (b"<totalAmountSold>250000<", "totalAmountSold"),
    (b"<totalOfferingAmount>1500000<", "totalOfferingAmount"),
    (b"<totalRemaining>1250000<", "totalRemaining"),
    (b"<minimumInvestmentAccepted>25000<", "minimumInvestmentAccepted"),
    (b"<dollarAmount>15000<", "dollarAmount"),
    (b"<totalNumberAlreadyInvested>12<", "totalNumberAlreadyInvested"),
    (b"<numberNonAccreditedInvestors>3<", "numberNonAccreditedInvestors"),
]
NOT_WHOLE_NUMBERS = [
    "1000000.01",
    "0.5",
    "1,000",
    "1 000",
    "1000000000000",
    "-5",
    "+5",
    "1e6",
    "\u0661\u0662",
]


@pytest.mark.parametrize("value", NOT_WHOLE_NUMBERS)
@pytest.mark.parametrize(("old", "tag"), AMOUNT_ELEMENTS)
def test_an_amount_or_count_the_schema_does_not_allow_is_refused_never_rounded(
    fixtures_dir: Path, old: bytes, tag: str, value: str
) -> None:
    content = (fixtures_dir / "formd" / "form_d_complete.xml").read_bytes()
    assert old in content
    bad = old.replace(old[len(tag) + 2 : -1], value.encode())
    error = refused(content.replace(old, bad, 1), MalformedDocumentError)
    message = str(error)
    assert f"<{tag}>{value}</{tag}>" in message
    assert "999,999,999,999" in message
    assert message.count(". ") == 0  # one sentence


@pytest.mark.parametrize(
    ("written", "read"),
    [(" 250000 ", 250000), ("250000.00", 250000), ("999999999999", 999_999_999_999), ("0", 0)],
)
def test_whole_numbers_are_read_exactly_in_every_spelling_the_data_sets_accept(
    fixtures_dir: Path, written: str, read: int
) -> None:
    content = (fixtures_dir / "formd" / "form_d_complete.xml").read_bytes()
    content = content.replace(b"<totalAmountSold>250000<", f"<totalAmountSold>{written}<".encode())
    content = content.replace(
        b"<totalNumberAlreadyInvested>12<", f"<totalNumberAlreadyInvested>{written}<".encode()
    )
    offering = parse_form_d_xml(content).offering
    assert offering.total_amount_sold == Decimal(read)
    assert offering.total_investors == read


def test_document_without_offering_data_is_malformed(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "formd" / "form_d_complete.xml").read_bytes()
    start, end = content.index(b"<offeringData>"), content.index(b"</offeringData>") + len(b"</offeringData>")
    error = refused(content[:start] + content[end:], MalformedDocumentError)
    assert "<offeringData>" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b"FILED AS OF DATE:\t\t20240305", b"FILED AS OF DATE:\t\t20241305", "FILED AS OF DATE"),
        (b"<ACCEPTANCE-DATETIME>20240304173512", b"<ACCEPTANCE-DATETIME>2024030417", "ACCEPTANCE-DATETIME"),
        (b"CENTRAL INDEX KEY:\t\t\t0009990002", b"CENTRAL INDEX KEY:\t\t\tunknown", "CENTRAL INDEX KEY"),
        (b"CENTRAL INDEX KEY:\t\t\t0009990002", b"CENTRAL INDEX KEY:\t\t\t00099900021", "CENTRAL INDEX KEY"),
        (
            b"CENTRAL INDEX KEY:\t\t\t0009990002",
            "CENTRAL INDEX KEY:\t\t\t\uff19".encode(),
            "CENTRAL INDEX KEY",
        ),
    ],
)
def test_unreadable_header_field_is_malformed_and_named(
    fixtures_dir: Path, old: bytes, new: bytes, field: str
) -> None:
    content = (fixtures_dir / "formd" / "full_submission_two_filers.txt").read_bytes()
    assert old in content
    error = refused(content.replace(old, new), MalformedDocumentError)
    assert field in str(error)
