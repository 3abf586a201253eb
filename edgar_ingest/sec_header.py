"""The SEC header of a full submission (.txt, .nc, PEM-wrapped .txt): bytes in, ``SecHeader`` out.

Pure, as ``parse`` (which re-exports ``parse_sec_header``): no I/O and no state. Every failure is a
``ParseError`` subclass with one sentence a user can act on. The size cap that every document
reader applies (``MAX_DOCUMENT_BYTES``) lives here because the header is the first thing read of a
full submission, and ``parse`` builds on this module, never the other way round.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import TypeGuard

from edgar_ingest.errors import MalformedDocumentError, UnsafeDocumentError
from edgar_ingest.normalise import ACCESSION_DASHED as _ACCESSION_DASHED
from edgar_ingest.normalise import cik_digits, normalise_accession_number
from edgar_ingest.normalise import new_filer as _new_filer
from edgar_ingest.normalise import new_sec_header as _new_sec_header
from edgar_ingest.records import EASTERN, Filer, SecHeader

__all__ = ["MAX_DOCUMENT_BYTES", "check_size", "oversize_error", "parse_sec_header"]

# The largest Form D seen is ~20 kB (14 related persons); 5 MB leaves room for any real one.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def oversize_error(size: int) -> UnsafeDocumentError:
    """The refusal of a document of ``size`` bytes (its whole size, also where only the start was read)."""
    return UnsafeDocumentError(
        f"The document is {size:,} bytes, above the {MAX_DOCUMENT_BYTES:,}-byte limit for a "
        "Form D; check that the file really is one EDGAR Form D filing."
    )


def check_size(content: bytes) -> None:
    """Refuse a document above ``MAX_DOCUMENT_BYTES`` before any parsing."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise oversize_error(len(content))


# ----------------------------------------------------------------------------- the header


@dataclasses.dataclass(frozen=True, slots=True)
class _HeaderDialect:
    """The keys of one header dialect: "KEY:<tabs>value" lines (.txt) or "<TAG>value" (.nc)."""

    accession: str
    submission_type: str  # .nc: the submission's <TYPE>; the documents' come after the header
    filed: str
    accepted: str  # the .nc dissemination variant carries none
    cik: str
    name: str
    file_number: str
    # Every company role opens a block, (marker, is a filer). Other roles never occur in a Form
    # D, but their CIKs must not be taken for filers'.
    roles: tuple[tuple[str, bool], ...]


# Each field is found with str.find on its key (the keys are distinctive), in the keys of the
# header's own dialect only: several times faster than a Python loop over the header's lines.
_TXT_HEADER = _HeaderDialect(
    accession="ACCESSION NUMBER:",
    submission_type="CONFORMED SUBMISSION TYPE:",
    filed="FILED AS OF DATE:",
    accepted="<ACCEPTANCE-DATETIME>",
    cik="CENTRAL INDEX KEY:",
    name="COMPANY CONFORMED NAME:",
    file_number="SEC FILE NUMBER:",
    roles=(("FILER:", True), ("SUBJECT COMPANY:", False), ("FILED BY:", False)),
)
_NC_HEADER = _HeaderDialect(
    accession="<ACCESSION-NUMBER>",
    submission_type="<TYPE>",
    filed="<FILING-DATE>",
    accepted="<ACCEPTANCE-DATETIME>",
    cik="<CIK>",
    name="<CONFORMED-NAME>",
    file_number="<FILE-NUMBER>",
    roles=(("<FILER>", True), ("<SUBJECT-COMPANY>", False), ("<FILED-BY>", False)),
)


def _header_value(text: str, key: str, start: int = 0, end: int | None = None) -> str | None:
    """The rest of the line after ``key`` in ``text[start:end]``, or None."""
    stop = len(text) if end is None else end
    found = text.find(key, start, stop)
    if found < 0:
        return None
    found += len(key)
    eol = text.find("\n", found, stop)
    return text[found : stop if eol < 0 else eol].strip() or None


def _header_text(content: bytes) -> str:
    # The header ends at the first <DOCUMENT> (.txt and .nc), or at </SEC-HEADER> (.txt) if that
    # comes first; </SEC-HEADER> is looked for before <DOCUMENT> only: .nc has none, and a scan
    # of the whole file for it would cost more than the rest of the header.
    end = content.find(b"<DOCUMENT>")
    if end < 0:
        end = len(content)
    header_end = content.find(b"</SEC-HEADER>", 0, end)
    if header_end >= 0:
        end = header_end
    return content[:end].decode("utf-8", errors="replace")


def parse_sec_header(content: bytes) -> SecHeader:
    """The SEC header of a full submission (.txt or .nc); the Form D XML after it is not read."""
    check_size(content)
    text = _header_text(content)
    dialect = _TXT_HEADER if _TXT_HEADER.accession in text else _NC_HEADER

    accession = _header_value(text, dialect.accession)
    if accession is None:
        raise MalformedDocumentError(
            "The SEC header has no ACCESSION NUMBER; pass a complete EDGAR full submission (.txt or .nc) "
            "or the bare Form D XML."
        )
    submission_type = _header_value(text, dialect.submission_type)
    if submission_type is None:
        raise MalformedDocumentError(
            f"The SEC header of {accession} has no submission type; download its complete .txt again."
        )
    blocks: list[tuple[int, bool]] = []
    for role, is_filer in dialect.roles:
        found = text.find(role)
        while found >= 0:
            blocks.append((found + len(role), is_filer))
            found = text.find(role, found + 1)
    blocks.sort()
    filers = []
    for index, (start, is_filer) in enumerate(blocks):
        if is_filer:
            stop = blocks[index + 1][0] if index + 1 < len(blocks) else len(text)
            cik = _header_value(text, dialect.cik, start, stop)
            name = _header_value(text, dialect.name, start, stop)
            file_number = _header_value(text, dialect.file_number, start, stop)
            filers.append(_filer(cik, name, file_number, accession))
    return _new_sec_header(
        accession_number=_header_accession(accession),
        submission_type=submission_type,
        filed_as_of_date=_header_date(_header_value(text, dialect.filed), accession),
        accepted_at=_header_datetime(_header_value(text, dialect.accepted), accession),
        filers=tuple(filers),
    )


def _header_accession(value: str) -> str:
    if _ACCESSION_DASHED.fullmatch(value):  # as EDGAR writes it: ~1 us less
        return value
    normalised = normalise_accession_number(value)
    if not _ACCESSION_DASHED.fullmatch(normalised):
        raise MalformedDocumentError(
            f"The SEC header's accession number {value!r} is not of the form 0001234567-24-000001; "
            "download the full submission from EDGAR again."
        )
    return normalised


def _header_digits(value: str | None, length: int) -> TypeGuard[str]:
    return value is not None and len(value) == length and value.isascii() and value.isdigit()


# Slicing, not strptime: strptime costs ~10 us a call, more than the rest of the header.
def _header_date(value: str | None, accession: str) -> date:
    if _header_digits(value, 8):
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        except ValueError:  # month 13, 30 February...
            pass
    raise MalformedDocumentError(
        f"The SEC header of {accession} has no valid FILED AS OF DATE (YYYYMMDD); download its "
        "complete .txt again."
    )


def _header_datetime(value: str | None, accession: str) -> datetime | None:
    if value is None:
        return None  # the .nc dissemination variant carries no acceptance time
    if _header_digits(value, 14):
        try:
            return datetime(
                int(value[:4]),
                int(value[4:6]),
                int(value[6:8]),
                int(value[8:10]),
                int(value[10:12]),
                int(value[12:14]),
                tzinfo=EASTERN,
            )
        except ValueError:  # month 13, hour 25...
            pass
    raise MalformedDocumentError(
        f"The SEC header of {accession} has an ACCEPTANCE-DATETIME {value!r} that is not "
        "YYYYMMDDHHMMSS; download its complete .txt again."
    )


def _filer(cik: str | None, name: str | None, file_number: str | None, accession: str) -> Filer:
    # EDGAR's CIKs have at most 10 digits (and the store's column holds 10): an 11th is damage.
    digits = None if cik is None else cik_digits(cik)
    if digits is None:
        raise MalformedDocumentError(
            f"A FILER of {accession} has no CENTRAL INDEX KEY of 1 to 10 digits; download its complete .txt "
            "again."
        )
    return _new_filer(cik=digits, name=name, file_number=file_number)
