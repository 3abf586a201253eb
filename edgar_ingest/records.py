"""Typed records that cross the pipeline's stages: discover -> fetch -> parse -> store.

Every record is a frozen dataclass so that a stage can never mutate what another handed it.
Stages depend on this module, never on each other.

Normalisation rules (applied by the parser, relied on by the store):
- amounts are whole-dollar ``Decimal`` (never float; the schema allows 0 to 999,999,999,999);
  "Indefinite" is ``None`` plus an explicit ``True`` flag;
- booleans come from ``true``/``false``; an absent checkbox is ``False``;
- empty elements and ``None`` placeholders are ``None`` (or an empty tuple for lists);
- dates are ``date``; the header's acceptance time is an aware ``datetime`` in US/Eastern;
- CIKs are 10-digit zero-padded strings; accession numbers carry dashes (``0001234567-24-000001``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

# EDGAR's clock: acceptance times, index and feed dates are US Eastern (EST/EDT).
EASTERN = ZoneInfo("America/New_York")

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# --------------------------------------------------------------------------- discovery / fetch


@dataclass(frozen=True, slots=True)
class FilingRef:
    """One D or D/A filing as listed by an index file or the submissions API."""

    accession_number: str  # with dashes
    cik: str  # 10 digits, the CIK under which the filing was listed
    form_type: str  # "D" or "D/A"
    filing_date: date
    company_name: str | None = None
    # Path of the full submission relative to the archive host, e.g.
    # "/Archives/edgar/data/1234567/0001234567-24-000001.txt".
    path: str = ""
    # Name of the Form D XML inside the filing folder ("primary_doc.xml"), when the source says so
    # (the submissions API does; index files do not). The API's "xslFormDX01/" HTML-rendering
    # prefix is already stripped.
    primary_document: str | None = None


@dataclass(frozen=True, slots=True)
class RawDocument:
    """The exact bytes of one fetched (or locally read) document."""

    content: bytes
    source_url: str  # https://... for fetched documents, file:///... for local files
    fetched_at: datetime  # aware, UTC
    sha256: str  # hex digest of ``content``

    @classmethod
    def of(cls, content: bytes, source_url: str, fetched_at: datetime) -> RawDocument:
        """The record of ``content`` with its sha256 computed (the one place it is)."""
        return cls(
            content=content,
            source_url=source_url,
            fetched_at=fetched_at,
            sha256=hashlib.sha256(content).hexdigest(),
        )

    @classmethod
    def reference(cls, sha256: str, source_url: str, fetched_at: datetime) -> RawDocument:
        """A document already stored, named by its sha256, without its bytes (e.g. an archive of
        tens of MB from which thousands of records come): the store refuses to store it."""
        return cls(content=b"", source_url=source_url, fetched_at=fetched_at, sha256=sha256)

    @property
    def is_reference(self) -> bool:
        return not self.content and self.sha256 != _EMPTY_SHA256


@dataclass(frozen=True, slots=True)
class DatasetArchiveRef:
    """One archive of the SEC's quarterly Form D data sets, as linked from their index page.

    The URL is taken from the page, never built (the folder has moved before); the quarter is read
    from the file name, e.g. ``2012q3_d_0.zip`` (2012, 3). A quarter may come in several parts.
    """

    url: str  # absolute, as linked (fragment dropped)
    name: str  # the file name, e.g. "2012q3_d_0.zip": safe to use as a local file name
    year: int
    quarter: int  # 1 to 4


@dataclass(frozen=True, slots=True)
class HttpValidators:
    """What a server said identifies the version of a file it sent (its ``ETag`` and
    ``Last-Modified`` headers, as sent), given back on a later GET of the same URL so that the
    server answers 304 Not Modified instead of sending an unchanged file again."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """A file downloaded whole to ``path``: its digest and size were computed while it streamed."""

    path: Path
    sha256: str  # hex digest of the bytes on disk (decoded when the server sent gzip)
    size_bytes: int
    validators: HttpValidators = HttpValidators()  # of the answer that sent the file


@dataclass(frozen=True, slots=True)
class NotModified:
    """The server's answer to a conditional GET (304): the copy held already is current."""


# --------------------------------------------------------------------------- SEC header


@dataclass(frozen=True, slots=True)
class Filer:
    """One FILER block of the SEC header (a co-issued filing has one per issuer)."""

    cik: str
    name: str | None
    file_number: str | None  # "021-123456"


@dataclass(frozen=True, slots=True)
class SecHeader:
    """The SEC-assigned facts of a full submission (not present in a bare XML)."""

    accession_number: str
    submission_type: str  # CONFORMED SUBMISSION TYPE, e.g. "D" or "D/A"
    filed_as_of_date: date
    accepted_at: datetime | None  # aware, US/Eastern
    filers: tuple[Filer, ...]


# --------------------------------------------------------------------------- Form D parts


@dataclass(frozen=True, slots=True)
class Address:
    street1: str | None = None
    street2: str | None = None
    city: str | None = None
    state_or_country: str | None = None
    state_or_country_description: str | None = None
    zip_code: str | None = None


@dataclass(frozen=True, slots=True)
class Issuer:
    """Item 1 (primary issuer) or one entry of ``issuerList`` (co-issuers)."""

    cik: str | None
    entity_name: str | None
    address: Address | None
    phone_number: str | None
    jurisdiction_of_inc: str | None
    issuer_previous_names: tuple[str, ...]
    edgar_previous_names: tuple[str, ...]
    entity_type: str | None
    entity_type_other_description: str | None
    # "over_five_years" | "within_five_years" | "yet_to_be_formed" | None
    year_of_inc_choice: str | None
    year_of_inc: int | None


@dataclass(frozen=True, slots=True)
class RelatedPerson:
    """Item 3: an executive officer, director or promoter."""

    first_name: str | None
    middle_name: str | None
    last_name: str | None
    address: Address | None
    relationships: tuple[str, ...]  # 1-3 of "Executive Officer", "Director", "Promoter"
    relationship_clarification: str | None


@dataclass(frozen=True, slots=True)
class SalesCompensationRecipient:
    """Item 12: a person paid for soliciting investors."""

    name: str | None
    crd_number: str | None
    associated_broker_dealer_name: str | None
    associated_broker_dealer_crd_number: str | None
    address: Address | None
    # State codes in document order; "All States" is the flag, not a state.
    states_of_solicitation: tuple[str, ...]
    is_all_states: bool
    is_foreign_solicitation: bool


@dataclass(frozen=True, slots=True)
class Signature:
    issuer_name: str | None
    signature_name: str | None
    name_of_signer: str | None
    title: str | None
    signature_date: date | None


@dataclass(frozen=True, slots=True)
class Offering:
    """Items 4-16 (``offeringData``) except the signature block."""

    # Item 4: industry group
    industry_group: str | None
    investment_fund_type: str | None
    is_40_act: bool | None  # only answered for pooled investment funds
    # Item 5: issuer size (one of the two ranges, or neither)
    revenue_range: str | None
    aggregate_net_asset_value_range: str | None
    # Item 6: federal exemptions and exclusions, codes in document order ("06b", "3C", "3C.7")
    federal_exemptions: tuple[str, ...]
    # Item 7: type of filing
    is_amendment: bool
    previous_accession_number: str | None
    # Item 7: date of first sale
    first_sale_date: date | None
    is_first_sale_yet_to_occur: bool
    # Item 8: duration
    is_more_than_one_year: bool
    # Item 9: types of securities offered
    is_equity: bool
    is_debt: bool
    is_option_to_acquire: bool
    is_security_to_be_acquired: bool
    is_pooled_investment_fund_interest: bool
    is_tenant_in_common: bool
    is_mineral_property: bool
    is_other_security: bool
    other_security_description: str | None
    # Item 10: business combination
    is_business_combination: bool
    business_combination_clarification: str | None
    # Item 11: minimum investment
    minimum_investment: Decimal | None
    # Item 12: sales compensation
    sales_compensation_recipients: tuple[SalesCompensationRecipient, ...]
    has_over_100_recipients: bool
    # Item 13: offering and sales amounts
    total_offering_amount: Decimal | None  # None when indefinite (or not answered)
    is_offering_amount_indefinite: bool
    total_amount_sold: Decimal | None
    total_remaining: Decimal | None  # None when indefinite (or not answered)
    is_remaining_indefinite: bool
    sales_amounts_clarification: str | None
    # Item 14: investors
    has_non_accredited_investors: bool
    non_accredited_investors: int | None  # as filed, even when the flag says none
    total_investors: int | None  # totalNumberAlreadyInvested
    # Item 15: sales commissions and finders' fees
    sales_commissions: Decimal | None
    is_sales_commissions_estimate: bool
    finders_fees: Decimal | None
    is_finders_fees_estimate: bool
    commissions_clarification: str | None
    # Item 16: use of proceeds
    gross_proceeds_used: Decimal | None
    is_gross_proceeds_estimate: bool
    proceeds_clarification: str | None


@dataclass(frozen=True, slots=True)
class FormDDocument:
    """The Form D XML (``<edgarSubmission>``), every section."""

    schema_version: str | None
    submission_type: str  # "D" or "D/A"
    test_or_live: str | None
    primary_issuer: Issuer
    co_issuers: tuple[Issuer, ...]
    has_over_100_issuers: bool
    related_persons: tuple[RelatedPerson, ...]
    offering: Offering
    is_authorized_representative: bool
    signatures: tuple[Signature, ...]


SOURCE_FILING = "filing"  # parsed from the filing's own document (XML or full submission)
SOURCE_DATASET = "dataset"  # read from a row of the SEC's quarterly Form D data sets
RECORD_SOURCES = (SOURCE_FILING, SOURCE_DATASET)


@dataclass(frozen=True, slots=True)
class FormDFiling:
    """One filing: the Form D document plus, for a full submission, the SEC header.

    ``source`` says where the record came from: the filing's own document, or a row of the SEC's
    Form D data sets (the SEC's extraction of the same XML, without acceptance time). The store
    learns it only from here: a data-set record never replaces one derived from the filing.
    A data-set record's header carries the accession number, submission type, filing date and
    the primary issuer as its one filer (with ``FILE_NUM``); its ``accepted_at`` is None.
    """

    document: FormDDocument
    header: SecHeader | None = None
    source: str = SOURCE_FILING

    @property
    def accession_number(self) -> str | None:
        return self.header.accession_number if self.header else None

    @property
    def submission_type(self) -> str:
        return self.header.submission_type if self.header else self.document.submission_type

    @property
    def primary_cik(self) -> str | None:
        return self.document.primary_issuer.cik

    @property
    def file_number(self) -> str | None:
        """The primary issuer's SEC file number (021-...), from the header only.

        A co-issued filing lists one FILER per issuer; the offering is keyed by the primary
        issuer's file number, falling back to the first filer that has one.
        """
        if self.header is None:
            return None
        numbers = [f for f in self.header.filers if f.file_number]
        for filer in numbers:
            if filer.cik == self.primary_cik:
                return filer.file_number
        return numbers[0].file_number if numbers else None

    @property
    def file_numbers(self) -> tuple[str, ...]:
        if self.header is None:
            return ()
        seen: dict[str, None] = {}
        for filer in self.header.filers:
            if filer.file_number:
                seen.setdefault(filer.file_number, None)
        return tuple(seen)


# --------------------------------------------------------------------------- run reports


@dataclass(slots=True)
class RunCounts:
    """Counters a pipeline run accumulates (mutable while the run goes on)."""

    discovered: int = 0
    fetched: int = 0
    skipped: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    requests: int = 0
    retries: int = 0
    block_pauses: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)

    def add_failure(self, source: str, reason: str) -> None:
        self.failed += 1
        self.failures.append((source, reason))
