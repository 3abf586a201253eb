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
from collections.abc import Iterable, Iterator
from dataclasses import replace
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
_FIXED_ROW = re.compile(
    r"^(?P<left>.*?\S)\s+(?P<cik>\d{1,10})\s+(?P<date>\d{8}|\d{4}-\d{2}-\d{2})\s+(?P<file>edgar/\S+)\s*$"
)
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


def _rows(content: bytes | str, what: str) -> Iterator[str]:
    """The lines after the header, which has a variable length and ends with a dashed line."""
    lines = iter(_text(content).splitlines())
    for line in lines:
        if _DASHES.match(line):
            break
    else:
        raise MalformedDocumentError(f"{what}: no dashed line ends a header; not an EDGAR index file")
    for line in lines:
        if line.strip():
            yield line


def _parse_date(value: str, what: str) -> date:
    fmt = "%Y%m%d" if len(value) == 8 else "%Y-%m-%d"
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        raise MalformedDocumentError(f"{what}: unreadable date {value!r}") from None


def _ref(cik: str, name: str | None, form: str, filed: str, file_name: str, what: str) -> FilingRef | None:
    """A FilingRef from one index row, or None when the File Name is not a full submission."""
    accession = PurePosixPath(file_name).name.removesuffix(".txt")
    if not _ACCESSION.match(accession) or not file_name.endswith(".txt"):
        return None
    return FilingRef(
        accession_number=accession,
        cik=_cik10(cik),
        form_type=form,
        filing_date=_parse_date(filed, what),
        company_name=(name or "").strip() or None,
        path="/Archives/" + file_name.lstrip("/"),
    )


def _dedupe(refs: Iterable[FilingRef]) -> list[FilingRef]:
    """Keep the first row of each accession (co-issuers repeat a filing once per CIK)."""
    seen: dict[str, FilingRef] = {}
    for ref in refs:
        seen.setdefault(ref.accession_number, ref)
    return list(seen.values())


def parse_master_index(content: bytes | str) -> list[FilingRef]:
    """D and D/A filings of a pipe-delimited ``master.idx`` (daily or quarterly)."""

    def refs() -> Iterator[FilingRef]:
        for line in _rows(content, "master index"):
            fields = line.split("|")
            if len(fields) < 5:
                raise MalformedDocumentError(f"master index: row without 5 fields: {line!r}")
            # A '|' inside a company name would add fields: the outer ones are unambiguous.
            cik, name, form, filed, file_name = (
                fields[0],
                "|".join(fields[1:-3]),
                fields[-3],
                fields[-2],
                fields[-1],
            )
            if form.strip() not in FORM_TYPES:
                continue
            ref = _ref(cik.strip(), name, form.strip(), filed.strip(), file_name.strip(), "master index")
            if ref is not None:
                yield ref

    return _dedupe(refs())


def _fixed_width(content: bytes | str, what: str, form_first: bool) -> list[FilingRef]:
    def refs() -> Iterator[FilingRef]:
        for line in _rows(content, what):
            match = _FIXED_ROW.match(line)
            if match is None:
                raise MalformedDocumentError(f"{what}: unreadable row {line!r}")
            left = match["left"].strip()
            # Columns are padded with two or more spaces; a form type ("DEF 14A") or a name may
            # hold single spaces. A name that fills its column leaves a single space, so fall back
            # to the first (form index) or last (company index) single space.
            parts = _GAP.split(left)
            if len(parts) >= 2:
                form, name = (
                    (parts[0], " ".join(parts[1:])) if form_first else (parts[-1], " ".join(parts[:-1]))
                )
            elif form_first:
                form, _, name = left.partition(" ")
            else:
                name, _, form = left.rpartition(" ")
            if form not in FORM_TYPES:
                continue
            ref = _ref(match["cik"], name, form, match["date"], match["file"], what)
            if ref is not None:
                yield ref

    return _dedupe(refs())


def parse_form_index(content: bytes | str) -> list[FilingRef]:
    """D and D/A filings of a fixed-width ``form.idx`` (form type first)."""
    return _fixed_width(content, "form index", form_first=True)


def parse_company_index(content: bytes | str) -> list[FilingRef]:
    """D and D/A filings of a fixed-width ``company.idx`` (company name first)."""
    return _fixed_width(content, "company index", form_first=False)


def parse_index(content: bytes, name: str) -> list[FilingRef]:
    """Dispatch on the file name (``master``/``form``/``company``, optionally ``.gz``)."""
    base = PurePosixPath(name).name.lower()
    if base.endswith(".gz"):
        base = base[: -len(".gz")]
        # A server may also have sent it with Content-Encoding: gzip, which httpx already undid.
        if content[:2] == b"\x1f\x8b":
            try:
                content = gzip.decompress(content)
            except (OSError, EOFError) as exc:
                raise MalformedDocumentError(f"{name}: corrupt gzip data ({exc})") from exc
    if base.startswith("master"):
        return parse_master_index(content)
    if base.startswith("form"):
        return parse_form_index(content)
    if base.startswith("company"):
        return parse_company_index(content)
    raise ValueError(f"not a master, form or company index: {name!r}")


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


def list_day(client: EdgarClient, day: date) -> list[FilingRef] | None:
    """D and D/A filings of one day's index; None when it is absent (weekend, holiday, not built)."""
    path = daily_index_path(day)
    response = client.get(client.archive_url(path))
    if response is None:
        return None
    return parse_index(response.content, path)


def list_quarter(client: EdgarClient, year: int, quarter: int) -> list[FilingRef] | None:
    """D and D/A filings of one quarter's full index (the ``.gz`` first); None when absent."""
    path = quarterly_index_path(year, quarter)
    for candidate in (path + ".gz", path):
        response = client.get(client.archive_url(candidate))
        if response is not None:
            return parse_index(response.content, candidate)
    return None


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
