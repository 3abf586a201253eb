"""Where Form D filings are listed: EDGAR index files, the submissions API, the data sets' page.

The parsers are pure (bytes in, :class:`FilingRef` out). The ``list_*`` functions are thin: one
client call per file, then a parser. Rules that hold for every source (DESIGN.md section 1):

- the form type matches ``D`` or ``D/A`` exactly (a prefix match would catch ``DEF 14A``);
- a co-issued filing is listed once per co-issuer CIK with the same accession: the first row
  wins, later rows with that accession are dropped;
- ``FilingRef.path`` is the full submission, ``/Archives/edgar/data/{cik}/{accession}.txt``.

The SEC's quarterly Form D data sets are found through their index page only: every ``.zip`` it
links is an archive whose quarter is read from the file name; URLs are never built (the folder
moved in 2026 and old quarters are named differently).
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from lxml import etree

from edgar_ingest.errors import DatasetsPageError, FetchError, MalformedDocumentError
from edgar_ingest.http import EdgarClient
from edgar_ingest.records import DatasetArchiveRef, FilingRef

FORM_TYPES = frozenset({"D", "D/A"})

_ACCESSION = re.compile(r"^\d{10}-\d{2}-\d{6}$")
_DASHES = re.compile(r"^-{10,}\s*$")
# A fixed-width row read from its right end, which is unambiguous whatever the column widths:
# "... CIK  date  edgar/data/CIK/ACCESSION.txt". What is left of the CIK holds the form type and
# the company name (in either order, depending on the file).
# The CIK and the date are taken as they stand and judged after (a precise reason for a bad one).
_FIXED_ROW = re.compile(r"^(?P<left>.*?\S)\s+(?P<cik>\S+)\s+(?P<date>\S+)\s+(?P<file>edgar/\S+)\s*$")
# The same with something after the file name (trailing junk).
_FIXED_ROW_JUNK = re.compile(r"^(?P<left>.*?\S)\s+\S+\s+\S+\s+edgar/\S+\s+(?P<junk>\S.*?)\s*$")
_GAP = re.compile(r"\s{2,}")
_XSL_PREFIX = re.compile(r"^xsl[^/]*/")

DATASETS_PAGE_PATH = "/data-research/sec-markets-data/form-d-data-sets"
# The real page is ~100 KB; anything near this is not that page.
MAX_DATASETS_PAGE_BYTES = 5 * 1024 * 1024
# "2012q3_d_0.zip", "2024q1_d.zip", "2019Q4_D_2.zip": the quarter, "_d", maybe one part suffix.
# Matched whole, so a name that passes is also a safe local file name (no separator, no "..").
_ARCHIVE_NAME = re.compile(r"^(?P<year>\d{4})q(?P<quarter>[1-4])_d(?:_[0-9a-z]+)?\.zip$", re.IGNORECASE)


# --------------------------------------------------------------------------- index paths


def _quarter(month: int) -> int:
    return (month - 1) // 3 + 1


def daily_index_path(day: date) -> str:
    """``/Archives/edgar/daily-index/YYYY/QTRn/master.YYYYMMDD.idx`` of one day."""
    return f"/Archives/edgar/daily-index/{day.year:04d}/QTR{_quarter(day.month)}/master.{day:%Y%m%d}.idx"


def quarterly_index_path(year: int, quarter: int) -> str:
    """``/Archives/edgar/full-index/YYYY/QTRn/master.idx`` (a ``.gz`` sibling also exists)."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1 to 4, got {quarter}")
    return f"/Archives/edgar/full-index/{year:04d}/QTR{quarter}/master.idx"


def submissions_path(cik: str | int) -> str:
    """``/submissions/CIK##########.json`` on the data host."""
    return f"/submissions/CIK{_cik10(cik)}.json"


# --------------------------------------------------------------------------- pure parsers


def _cik10(cik: str | int) -> str:
    text = str(cik).strip()
    if text.upper().startswith("CIK"):
        text = text[3:]
    if not text.isdigit() or len(text) > 10:
        raise ValueError(f"a CIK is up to 10 digits, got {cik!r}")
    return text.zfill(10)


def _text(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        # Old indexes carry a few Latin-1 company names; every byte decodes in Latin-1.
        return content.decode("latin-1")


@dataclass(frozen=True, slots=True)
class IndexRowProblem:
    """One row of an index file that cannot be read: skipped, and recorded as a failure.

    Returned beside the refs (discovery stays pure): the pipeline records each one (stage
    ``discover``) and goes on with the rest of the day or quarter.
    """

    file: str  # the index file as named to the parser: its URL or path
    line: int  # 1-based, counted from the file's first line
    reason: str  # what is wrong with the row
    row: str  # the row as read, cut to MAX_SHOWN_ROW characters

    @property
    def source(self) -> str:
        """The file and line, as a URL fragment: one failure per bad row."""
        return f"{self.file}#L{self.line}"

    def describe(self) -> str:
        """One sentence naming the file, the line and the fault."""
        name = PurePosixPath(urlsplit(self.file).path or self.file).name or self.file
        return f"{name} line {self.line}: {self.reason}; the row is skipped: {self.row!r}"


@dataclass(frozen=True, slots=True)
class IndexListing:
    """What an index file lists: the D and D/A filings, and the rows that could not be read."""

    refs: list[FilingRef]
    problems: list[IndexRowProblem] = field(default_factory=list)
    # Why the file read is not the first one tried (a corrupt ``master.idx.gz``), if it is not.
    fallback: str | None = None

    def strict(self) -> list[FilingRef]:
        """The refs, or :class:`MalformedDocumentError` for the first row that cannot be read."""
        if self.problems:
            raise MalformedDocumentError(self.problems[0].describe())
        return self.refs


MAX_SHOWN_ROW = 200
# "edgar/data/1800001/0001800001-24-000001.txt": a full submission (leading "/" tolerated).
_FILE_NAME = re.compile(r"^/?edgar/data/\d{1,10}/(?P<accession>\d{10}-\d{2}-\d{6})\.txt$")


def _rows(content: bytes | str, what: str) -> Iterator[tuple[int, str]]:
    """(line number, line) after the header, which has a variable length and ends with a dashed line.

    Lines are split on ``\\n`` only (``\\r`` dropped): a stray form feed or other separator that
    ``str.splitlines`` would break on stays inside its row, and line numbers are those of an editor.
    """
    lines = enumerate(_text(content).split("\n"), start=1)
    for _, line in lines:
        if _DASHES.match(line.rstrip("\r")):
            break
    else:
        raise MalformedDocumentError(f"{what}: no dashed line ends a header; not an EDGAR index file")
    for number, line in lines:
        line = line.rstrip("\r")
        if line.strip():
            yield number, line


def _parse_date(value: str, what: str) -> date:
    fmt = "%Y%m%d" if len(value) == 8 else "%Y-%m-%d"
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        raise MalformedDocumentError(f"{what}: unreadable date {value!r}") from None


def _index_date(value: str) -> date | None:
    """A daily (``YYYYMMDD``) or quarterly (``YYYY-MM-DD``) index date; None when it is neither."""
    if not value.isascii():
        return None
    for pattern, fmt in ((r"\d{8}", "%Y%m%d"), (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d")):
        if re.fullmatch(pattern, value):
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                return None
    return None


def _ref(cik: str, name: str | None, form: str, filed: str, file_name: str) -> FilingRef | str:
    """A FilingRef from the fields of one D or D/A row, or why they cannot make one."""
    if not (cik.isascii() and cik.isdigit()):
        return f"the CIK {cik!r} is not a number"
    if len(cik) > 10:
        return f"the CIK {cik!r} has {len(cik)} digits, more than 10"
    filing_date = _index_date(filed)
    if filing_date is None:
        return f"the date {filed!r} is not a date (YYYYMMDD or YYYY-MM-DD)"
    match = _FILE_NAME.match(file_name)
    if match is None:
        return f"the file name {file_name!r} is not edgar/data/CIK/ACCESSION.txt"
    return FilingRef(
        accession_number=match["accession"],
        cik=cik.zfill(10),
        form_type=form,
        filing_date=filing_date,
        company_name=(name or "").strip() or None,
        path="/Archives/" + file_name.lstrip("/"),
    )


def _dedupe(refs: Iterable[FilingRef]) -> list[FilingRef]:
    """Keep the first row of each accession (co-issuers repeat a filing once per CIK)."""
    seen: dict[str, FilingRef] = {}
    for ref in refs:
        seen.setdefault(ref.accession_number, ref)
    return list(seen.values())


class _Reader:
    """Collects the refs and the problems of one index file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.refs: list[FilingRef] = []
        self.problems: list[IndexRowProblem] = []

    def problem(self, number: int, line: str, reason: str) -> None:
        shown = line if len(line) <= MAX_SHOWN_ROW else line[:MAX_SHOWN_ROW] + "..."
        self.problems.append(IndexRowProblem(self.file, number, reason, shown))

    def row(self, number: int, line: str, fields: tuple[str, str | None, str, str, str]) -> None:
        """One row whose fields were told apart: kept when D or D/A, refused when they are bad."""
        cik, name, form, filed, file_name = fields
        if form not in FORM_TYPES:
            return
        ref = _ref(cik, name, form, filed, file_name)
        if isinstance(ref, str):
            self.problem(number, line, ref)
        else:
            self.refs.append(ref)

    def listing(self) -> IndexListing:
        return IndexListing(_dedupe(self.refs), self.problems)


def read_master_index(content: bytes | str, file: str = "master.idx") -> IndexListing:
    """D and D/A filings of a pipe-delimited ``master.idx`` (daily or quarterly), and its bad rows.

    A row is ``CIK|Company Name|Form Type|Date Filed|File Name``; a ``|`` inside a company name
    adds fields, which the outer fields make unambiguous. A row of another form type is ignored
    whatever else is wrong with it; a D or D/A row with a CIK that is not 1 to 10 digits, a date
    that is not one, or no full-submission file name is a problem, and so is a row whose form
    type cannot be told: too few fields, or fields after the file name (trailing junk).
    """
    reader = _Reader(file)
    for number, line in _rows(content, file):
        raw = line.split("|")
        fields = [f.strip() for f in raw]
        if len(fields) < 5:
            count = f"{len(fields)} field" + ("" if len(fields) == 1 else "s")
            reader.problem(number, line, f"the row has {count}, not 5")
            continue
        if not _FILE_NAME.match(fields[-1]):
            # Junk after the file name: the form type is the second field left of the file name.
            found = next((i for i in range(len(fields) - 2, 3, -1) if _FILE_NAME.match(fields[i])), None)
            if found is not None:
                if fields[found - 2] in FORM_TYPES:
                    junk = "|".join(raw[found + 1 :]).strip()
                    reader.problem(number, line, f"the row has {junk!r} after its file name")
                continue
        # A '|' inside a company name adds fields: the outer ones are unambiguous.
        reader.row(number, line, (fields[0], "|".join(raw[1:-3]), fields[-3], fields[-2], fields[-1]))
    return reader.listing()


def parse_master_index(content: bytes | str) -> list[FilingRef]:
    """D and D/A filings of a ``master.idx``; :class:`MalformedDocumentError` for a bad row."""
    return read_master_index(content).strict()


def _read_fixed_width(content: bytes | str, file: str, form_first: bool) -> IndexListing:
    reader = _Reader(file)
    for number, line in _rows(content, file):
        match = _FIXED_ROW.match(line)
        if match is None:
            junk = _FIXED_ROW_JUNK.match(line)
            if junk is None:
                reader.problem(number, line, "the row is not FORM/NAME, CIK, DATE and FILE NAME")
            elif _fixed_form(junk["left"].strip(), form_first)[0] in FORM_TYPES:
                reader.problem(number, line, f"the row has {junk['junk']!r} after its file name")
            continue
        form, name = _fixed_form(match["left"].strip(), form_first)
        reader.row(number, line, (match["cik"], name, form, match["date"], match["file"]))
    return reader.listing()


def _fixed_form(left: str, form_first: bool) -> tuple[str, str]:
    """(form type, company name) of what is left of a fixed-width row's CIK.

    Columns are padded with two or more spaces; a form type ("DEF 14A") or a name may hold single
    spaces. A name that fills its column leaves a single space, so fall back to the first (form
    index) or last (company index) single space.
    """
    parts = _GAP.split(left)
    if len(parts) >= 2:
        return (parts[0], " ".join(parts[1:])) if form_first else (parts[-1], " ".join(parts[:-1]))
    if form_first:
        form, _, name = left.partition(" ")
        return form, name
    name, _, form = left.rpartition(" ")
    return form, name


def read_form_index(content: bytes | str, file: str = "form.idx") -> IndexListing:
    """D and D/A filings of a fixed-width ``form.idx`` (form type first), and its bad rows."""
    return _read_fixed_width(content, file, form_first=True)


def read_company_index(content: bytes | str, file: str = "company.idx") -> IndexListing:
    """D and D/A filings of a fixed-width ``company.idx`` (company name first), and its bad rows."""
    return _read_fixed_width(content, file, form_first=False)


def parse_form_index(content: bytes | str) -> list[FilingRef]:
    """D and D/A filings of a ``form.idx``; :class:`MalformedDocumentError` for a bad row."""
    return read_form_index(content).strict()


def parse_company_index(content: bytes | str) -> list[FilingRef]:
    """D and D/A filings of a ``company.idx``; :class:`MalformedDocumentError` for a bad row."""
    return read_company_index(content).strict()


def read_index(content: bytes, name: str) -> IndexListing:
    """Dispatch on the file name (``master``/``form``/``company``, optionally ``.gz``).

    ``name`` (a path or URL) names the file in the problems. Data that says it is gzip and is
    not (corrupt, cut off) raises :class:`MalformedDocumentError`: the whole file is unreadable.
    """
    base = PurePosixPath(urlsplit(name).path or name).name.lower()
    if base.endswith(".gz"):
        base = base[: -len(".gz")]
        # A server may also have sent it with Content-Encoding: gzip, which httpx already undid.
        if content[:2] == b"\x1f\x8b":
            try:
                content = gzip.decompress(content)
            except (OSError, EOFError, zlib.error) as exc:
                raise MalformedDocumentError(f"{name}: corrupt gzip data ({exc})") from exc
    if base.startswith("master"):
        return read_master_index(content, name)
    if base.startswith("form"):
        return read_form_index(content, name)
    if base.startswith("company"):
        return read_company_index(content, name)
    raise ValueError(f"not a master, form or company index: {name!r}")


def parse_index(content: bytes, name: str) -> list[FilingRef]:
    """:func:`read_index`, strict: :class:`MalformedDocumentError` for the first bad row."""
    return read_index(content, name).strict()


def parse_submissions_json(content: bytes, cik: str | int) -> tuple[list[FilingRef], list[str]]:
    """D and D/A filings of a submissions API document, and the names of its older pages.

    The main document holds parallel arrays under ``filings.recent`` and lists older pages in
    ``filings.files``; an older page (``CIK##########-submissions-001.json``) has the same arrays
    at its top level and no page list.
    """
    cik10 = _cik10(cik)
    try:
        doc = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedDocumentError(f"submissions JSON of CIK {cik10}: not JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise MalformedDocumentError(f"submissions JSON of CIK {cik10}: not an object")
    filings = doc.get("filings")
    if isinstance(filings, dict):
        arrays: Any = filings.get("recent") or {}
        pages = [str(f["name"]) for f in filings.get("files") or [] if isinstance(f, dict) and f.get("name")]
    else:
        arrays, pages = doc, []
    name = doc.get("name") if isinstance(doc.get("name"), str) else None
    try:
        accessions: list[str] = arrays.get("accessionNumber") or []
        forms: list[str] = arrays.get("form") or []
        dates: list[str] = arrays.get("filingDate") or []
        documents: list[str] = arrays.get("primaryDocument") or [""] * len(accessions)
    except AttributeError:
        raise MalformedDocumentError(f"submissions JSON of CIK {cik10}: no filing arrays") from None
    if not len(accessions) == len(forms) == len(dates) == len(documents):
        raise MalformedDocumentError(f"submissions JSON of CIK {cik10}: arrays of different lengths")
    refs: list[FilingRef] = []
    for accession, form, filed, document in zip(accessions, forms, dates, documents, strict=True):
        if form not in FORM_TYPES:
            continue
        refs.append(
            FilingRef(
                accession_number=accession,
                cik=cik10,
                form_type=form,
                filing_date=_parse_date(filed, f"submissions JSON of CIK {cik10}"),
                company_name=name,
                path=f"/Archives/edgar/data/{int(cik10)}/{accession}.txt",
                # "xslFormDX01/primary_doc.xml" is the HTML rendering; the XML is primary_doc.xml.
                primary_document=_XSL_PREFIX.sub("", document) or None,
            )
        )
    return _dedupe(refs), pages


def parse_dataset_index_page(content: bytes, page_url: str) -> list[DatasetArchiveRef]:
    """The archives the Form D data sets' index page links, by (year, quarter, name).

    Every ``<a href>`` whose file name (query and fragment aside) is ``{yyyy}q{n}_d[_part].zip``,
    any case, resolved against ``page_url`` (or the page's ``<base href>``); other links are
    ignored, a URL linked twice is listed once. A page that links none raises
    :class:`DatasetsPageError`: the page has moved or changed, and loading nothing would pass for
    "no data".

    Parsed with lxml's HTML parser rather than a regex over ``href=``: a regex would also take the
    links inside comments and scripts and would misread unquoted attributes and ``&amp;``. The
    parser is hardened like the XML one: it reads no DTD and expands no entity (libxml2's HTML
    mode knows only the predefined character references), never touches the network, drops
    comments and processing instructions, keeps libxml2's default depth and size limits, and the
    page is refused above :data:`MAX_DATASETS_PAGE_BYTES` before any parsing.
    """
    if len(content) > MAX_DATASETS_PAGE_BYTES:
        raise DatasetsPageError(
            f"The Form D data sets page {page_url} is {len(content):,} bytes, not the index page "
            "it should be: has it moved?"
        )
    parser = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, huge_tree=False)
    root = etree.fromstring(content, parser) if content.strip() else None
    refs: dict[str, DatasetArchiveRef] = {}
    if root is not None:
        base = page_url
        for element in root.iter("base"):
            if element.get("href"):
                base = urljoin(page_url, element.get("href", "").strip())
                break
        for anchor in root.iter("a"):
            ref = _archive_ref(anchor.get("href"), base)
            if ref is not None:
                refs.setdefault(ref.url, ref)
    if not refs:
        raise DatasetsPageError(f"The Form D data sets page {page_url} lists no archives: has it moved?")
    return sorted(refs.values(), key=lambda r: (r.year, r.quarter, r.name))


def _archive_ref(href: str | None, base: str) -> DatasetArchiveRef | None:
    """The archive a link points at, or None when it is not a quarter's ``.zip``."""
    if not href or not href.strip():
        return None
    parts = urlsplit(urljoin(base, href.strip()))
    if parts.scheme not in ("http", "https"):
        return None
    name = unquote(PurePosixPath(parts.path).name)
    match = _ARCHIVE_NAME.match(name)
    if match is None:
        return None
    # The fragment is never sent; the query is kept (it is part of what the server answers).
    url = urlunsplit(parts._replace(fragment=""))
    return DatasetArchiveRef(url=url, name=name, year=int(match["year"]), quarter=int(match["quarter"]))


# --------------------------------------------------------------------------- fetchers


def read_day(client: EdgarClient, day: date) -> IndexListing | None:
    """D and D/A filings of one day's index and its bad rows; None when it is absent (weekend,
    holiday, not built yet)."""
    url = client.archive_url(daily_index_path(day))
    response = client.get(url)
    if response is None:
        return None
    return read_index(response.content, url)


def read_quarter(client: EdgarClient, year: int, quarter: int) -> IndexListing | None:
    """D and D/A filings of one quarter's full index and its bad rows; None when it is absent.

    The ``.gz`` is read first; when it is absent, or corrupt (bad gzip data, cut off), the plain
    ``master.idx`` is read instead, and the listing says why (``fallback``).
    """
    path = quarterly_index_path(year, quarter)
    gz_url = client.archive_url(path + ".gz")
    corrupt: MalformedDocumentError | None = None
    response = client.get(gz_url)
    if response is not None:
        try:
            return read_index(response.content, gz_url)
        except MalformedDocumentError as exc:
            corrupt = exc
    url = client.archive_url(path)
    response = client.get(url)
    if response is None:
        if corrupt is not None:
            raise MalformedDocumentError(f"{corrupt}; and {url} is absent") from corrupt
        return None
    listing = read_index(response.content, url)
    return replace(listing, fallback=str(corrupt)) if corrupt is not None else listing


def list_day(client: EdgarClient, day: date) -> list[FilingRef] | None:
    """:func:`read_day`, strict: :class:`MalformedDocumentError` for the first bad row."""
    listing = read_day(client, day)
    return None if listing is None else listing.strict()


def list_quarter(client: EdgarClient, year: int, quarter: int) -> list[FilingRef] | None:
    """:func:`read_quarter`, strict: :class:`MalformedDocumentError` for the first bad row."""
    listing = read_quarter(client, year, quarter)
    return None if listing is None else listing.strict()


def list_cik(client: EdgarClient, cik: str | int) -> list[FilingRef]:
    """D and D/A filings of one issuer from the submissions API, older pages included.

    An unknown CIK (no submissions document) has no filings: ``[]``.
    """
    cik10 = _cik10(cik)
    response = client.get(client.data_url(submissions_path(cik10)))
    if response is None:
        return []
    refs, pages = parse_submissions_json(response.content, cik10)
    for page in pages:
        page_response = client.get(client.data_url(f"/submissions/{page}"))
        if page_response is None:
            raise FetchError(f"The submissions page {page} listed for CIK {cik10} is missing.")
        page_refs, _ = parse_submissions_json(page_response.content, cik10)
        # Older pages carry no issuer name: use the main document's.
        name = refs[0].company_name if refs else _submissions_name(response.content)
        refs.extend(replace(ref, company_name=ref.company_name or name) for ref in page_refs)
    return _dedupe(refs)


def _submissions_name(content: bytes) -> str | None:
    try:
        name = json.loads(content).get("name")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def list_dataset_archives(client: EdgarClient) -> list[DatasetArchiveRef] | None:
    """The Form D data sets' archives listed on their index page; None when the page is absent.

    Absent is a 404 or a 403 ``AccessDenied``; a page that lists no archive raises
    :class:`DatasetsPageError`.
    """
    url = client.archive_url(DATASETS_PAGE_PATH)
    response = client.get(url)
    if response is None:
        return None
    return parse_dataset_index_page(response.content, url)
