"""One request per filing: the full submission ``.txt`` (SEC header and the Form D XML)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from edgar_ingest.errors import FetchError
from edgar_ingest.http import EdgarClient
from edgar_ingest.records import FilingRef, RawDocument

# How a complete full submission ends. Filings of 2009 and earlier can come wrapped in a
# privacy-enhanced-message envelope whose last line follows </SEC-DOCUMENT>.
_ENDINGS = (b"</SEC-DOCUMENT>", b"-----END PRIVACY-ENHANCED MESSAGE-----")


def is_complete_submission(content: bytes) -> bool:
    """True when a full submission ``.txt`` ends as one must (not cut off mid-way)."""
    return content.rstrip().endswith(_ENDINGS)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def fetch_filing(
    client: EdgarClient,
    ref: FilingRef,
    *,
    now: Callable[[], datetime] = _utc_now,
) -> RawDocument | None:
    """The full submission of ``ref`` as raw bytes; None when EDGAR does not have it.

    A body cut off before ``</SEC-DOCUMENT>`` is retried by the client like any truncation; one
    still cut off after the allowed attempts raises :class:`FetchError`.
    """
    if not ref.path:
        raise ValueError(f"FilingRef {ref.accession_number} has no path")
    url = client.archive_url(ref.path)
    response = client.get(url, complete=is_complete_submission if ref.path.endswith(".txt") else None)
    if response is None:
        return None
    content = response.content
    # The client already judged the body; keep the check here so that a client without the
    # ``complete`` hook (or a future change) can never hand a cut-off document to the parser.
    if ref.path.endswith(".txt") and not is_complete_submission(content):
        raise FetchError(f"GET {url}: the full submission is cut off (no </SEC-DOCUMENT>).")
    fetched_at = now()
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    return RawDocument.of(content, url, fetched_at.astimezone(UTC))
