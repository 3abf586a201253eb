"""EDGAR's latest-filings feed: Atom bytes -> the D and D/A filings it lists, with acceptance times.

The feed (DESIGN.md section 1, "The latest-filings feed") lists each filing minutes after the SEC
accepts it, newest first, 100 entries a page (``start=100`` for the next page). Its ``type=D``
filter is a *prefix* filter: it also returns ``DEF 14A``, ``DEFA14A``, ``DRS`` and more, so an
entry is kept only when its ``<category term>`` is exactly ``D`` or ``D/A``. A co-issued filing is
listed once per filer with the same accession number: the first entry wins.

:func:`parse_feed_page` is pure (bytes in, records out). The parser is hardened like the Form D
one in ``parse``: a page above :data:`MAX_FEED_PAGE_BYTES` is refused before parsing, any
``<!DOCTYPE``/``<!ENTITY`` is refused (a feed never has one), and lxml resolves no entity, loads
no DTD and never touches the network. :func:`fetch_feed_page` is the thin fetcher: one request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lxml import etree

from edgar_ingest.errors import FetchError, MalformedDocumentError, UnsafeDocumentError
from edgar_ingest.http import EdgarClient
from edgar_ingest.records import EASTERN, FilingRef

FORM_TYPES = frozenset({"D", "D/A"})
PAGE_SIZE = 100  # the most the feed gives in one page
# A real page of 100 entries is ~70 KB; anything near this is not a feed page.
MAX_FEED_PAGE_BYTES = 5 * 1024 * 1024
FEED_PATH = "/cgi-bin/browse-edgar"

_ACCESSION = re.compile(r"\d{10}-\d{2}-\d{6}")
_ID_ACCESSION = re.compile(r"accession-number=(\d{10}-\d{2}-\d{6})")
_SUMMARY_ACCESSION = re.compile(r"AccNo:\s*(\d{10}-\d{2}-\d{6})")
_FILED = re.compile(r"Filed:\s*(\d{4}-\d{2}-\d{2})")
_TAG = re.compile(r"<[^>]*>")
_LINK_CIK = re.compile(r"/edgar/data/(\d{1,10})/")
# "D - Example Fund LP (0001234567) (Filer)": the name may itself hold " - " and parentheses, so
# it is read between the first " - " and the last two parenthesised groups.
_TITLE = re.compile(r"^(?P<form>.*?) - (?P<name>.*) \((?P<cik>\d{1,10})\) \([^()]*\)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One D or D/A filing listed by the feed."""

    ref: FilingRef  # path: the full submission under the first filer's CIK
    accepted_at: datetime  # aware: the entry's <updated>, the SEC's acceptance time

    @property
    def accession_number(self) -> str:
        return self.ref.accession_number


@dataclass(frozen=True, slots=True)
class FeedPage:
    """What one page of the feed lists."""

    entries: tuple[FeedEntry, ...]  # D and D/A only, one per accession, feed order (newest first)
    entry_count: int  # every entry of the page, whatever its form: fewer than asked = the last page
    oldest_accepted_at: datetime | None  # of any entry of the page (decoys included)
    problems: tuple[str, ...] = ()  # D or D/A entries that could not be read, and why


def feed_path(start: int = 0, count: int = PAGE_SIZE) -> str:
    """The feed's path and query on the archive host for one page."""
    if start < 0 or not 1 <= count <= PAGE_SIZE:
        raise ValueError(f"start must be >= 0 and count 1..{PAGE_SIZE}, got {start}, {count}")
    return (
        f"{FEED_PATH}?action=getcurrent&type=D&company=&dateb=&owner=include"
        f"&start={start}&count={count}&output=atom"
    )


def parse_feed_page(content: bytes) -> FeedPage:
    """The D and D/A filings of one Atom page of the latest-filings feed.

    Raises :class:`MalformedDocumentError` when the bytes are not an Atom feed (e.g. an HTML
    maintenance page served with 200) and :class:`UnsafeDocumentError` for a page that is too
    large or declares a DTD. An entry with a decoy form is counted and skipped; a D or D/A entry
    that cannot be read (no accession number, no acceptance time) is skipped with its reason in
    ``problems``: the nightly catch-up still finds that filing through the daily index.
    """
    root = _parse_xml(content)
    if _local(root) != "feed":
        raise MalformedDocumentError(
            f"The latest-filings feed answered a <{_local(root)}> document, not an Atom <feed>."
        )
    entries: dict[str, FeedEntry] = {}
    problems: list[str] = []
    count = 0
    oldest: datetime | None = None
    for element in root:
        if _local(element) != "entry":
            continue
        count += 1
        fields = _fields(element)
        accepted_at = _accepted_at(fields.get("updated", ""))
        if accepted_at is not None and (oldest is None or accepted_at < oldest):
            oldest = accepted_at
        if fields.get("term", "").strip() not in FORM_TYPES:
            continue
        entry = _entry(fields, accepted_at)
        if isinstance(entry, str):
            problems.append(entry)
        else:
            entries.setdefault(entry.accession_number, entry)
    return FeedPage(
        entries=tuple(entries.values()),
        entry_count=count,
        oldest_accepted_at=oldest,
        problems=tuple(problems),
    )


def fetch_feed_page(client: EdgarClient, start: int = 0, count: int = PAGE_SIZE) -> FeedPage:
    """One page of the feed (one request through the shared limiter)."""
    url = client.archive_url(feed_path(start, count))
    response = client.get(url)
    if response is None:
        # The feed always exists on EDGAR: "absent" means the base URL points elsewhere.
        raise FetchError(
            f"The latest-filings feed {url} answered as absent (403 AccessDenied or 404): "
            "is EDGAR_INGEST_BASE_URL right?"
        )
    return parse_feed_page(response.content)


# --------------------------------------------------------------------------- parsing


def _parse_xml(content: bytes) -> Any:
    if len(content) > MAX_FEED_PAGE_BYTES:
        raise UnsafeDocumentError(
            f"The feed page is {len(content):,} bytes, above the {MAX_FEED_PAGE_BYTES:,}-byte limit: "
            "not a page of the latest-filings feed."
        )
    text = content.lstrip(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    # A DOCTYPE may only stand before the root element: scanning up to it refuses XXE and entity
    # bombs before libxml2 sees them (a feed has neither).
    root_start = text.find(b"<feed")
    prolog = text if root_start < 0 else text[:root_start]
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise UnsafeDocumentError("The feed page declares a DOCTYPE or ENTITY, which a feed never has.")
    if not text:
        raise MalformedDocumentError("The latest-filings feed answered an empty page.")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(text, parser)
    except etree.XMLSyntaxError as exc:
        reason = (exc.msg or "syntax error").split(", see ")[0].rstrip(".")
        raise MalformedDocumentError(
            f"The latest-filings feed page is not well-formed XML ({reason})."
        ) from None
    # Second line of defence, for a DOCTYPE the byte scan cannot see (UTF-16): nothing was
    # resolved or loaded, but the page is refused all the same.
    docinfo: Any = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise UnsafeDocumentError("The feed page declares a DOCTYPE, which a feed never has.")
    return root


def _local(element: Any) -> str:
    """The tag without its namespace (the feed is in the Atom namespace; a copy may not be)."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _fields(entry: Any) -> dict[str, str]:
    """The entry's children that matter, as text (the category's term, the link's href)."""
    fields: dict[str, str] = {}
    for child in entry:
        name = _local(child)
        if name == "category":
            fields.setdefault("term", child.get("term") or "")
        elif name == "link":
            fields.setdefault("href", child.get("href") or "")
        elif name in ("title", "summary", "updated", "id"):
            fields.setdefault(name, "".join(child.itertext()))
    return fields


def _accepted_at(value: str) -> datetime | None:
    """``2024-01-02T16:30:12-05:00``; a time without an offset is US/Eastern, as EDGAR's are."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=EASTERN)


def _entry(fields: dict[str, str], accepted_at: datetime | None) -> FeedEntry | str:
    """The entry's record, or why it cannot be read."""
    form = fields["term"].strip()
    summary = _TAG.sub(" ", fields.get("summary", ""))
    match = _ID_ACCESSION.search(fields.get("id", "")) or _SUMMARY_ACCESSION.search(summary)
    title = " ".join(fields.get("title", "").split())
    if match is None:
        return f"{form} entry {title!r}: no accession number"
    accession = match.group(1)
    if accepted_at is None:
        return f"{form} {accession}: unreadable acceptance time {fields.get('updated', '')!r}"
    named = _TITLE.match(title)
    linked = _LINK_CIK.search(fields.get("href", ""))
    cik = linked.group(1) if linked else named.group("cik") if named else None
    if cik is None:
        return f"{form} {accession}: no CIK in its link or title"
    filed = _FILED.search(summary)
    try:
        filing_date = date.fromisoformat(filed.group(1)) if filed else accepted_at.astimezone(EASTERN).date()
    except ValueError:
        return f"{form} {accession}: unreadable filing date {filed.group(1) if filed else ''!r}"
    return FeedEntry(
        ref=FilingRef(
            accession_number=accession,
            cik=f"{int(cik):010d}",
            form_type=form,
            filing_date=filing_date,
            company_name=(named.group("name").strip() or None) if named else None,
            path=f"/Archives/edgar/data/{int(cik)}/{accession}.txt",
        ),
        accepted_at=accepted_at,
    )
