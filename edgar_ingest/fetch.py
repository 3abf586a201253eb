"""Fetching what discovery listed.

- One request per filing: the full submission ``.txt`` (SEC header and the Form D XML).
- One download per archive of the SEC's Form D data sets, straight to a file (tens of MB).
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from edgar_ingest.errors import FetchError
from edgar_ingest.http import EdgarClient
from edgar_ingest.records import (
    DatasetArchiveRef,
    DownloadResult,
    FilingRef,
    HttpValidators,
    NotModified,
    RawDocument,
)

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


def zip_problem(path: Path) -> str | None:
    """Why ``path`` is not a sound zip archive (the first problem found), or None when it is.

    Opens it (which reads the central directory) and reads every member through, which checks
    every CRC: the one way to tell a damaged archive from a whole one. A damaged download is
    worth another try, so this is the ``validate`` of :meth:`EdgarClient.download`.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()  # the first member whose CRC or header is wrong
    except zipfile.BadZipFile as exc:
        return f"not a zip archive ({exc})"
    except (zlib.error, EOFError, OSError, NotImplementedError, ValueError) as exc:
        # testzip() reports a bad CRC by name but lets a broken deflate stream raise.
        return f"damaged zip archive ({type(exc).__name__}: {exc})"
    if bad is not None:
        return f"CRC error in member {bad}"
    return None


def fetch_dataset_archive(
    client: EdgarClient,
    ref: DatasetArchiveRef,
    dest_dir: Path,
    *,
    max_bytes: int = 1 << 30,
    if_changed_since: HttpValidators | None = None,
) -> DownloadResult | NotModified | None:
    """Download one data-set archive to ``dest_dir / ref.name``; None when the SEC does not have it.

    The file appears only whole and sound (:func:`zip_problem` finds nothing); a damaged or cut
    download is retried, then raises :class:`FetchError`. The sha256 and size come from the
    download itself: the file is not read again for them. With ``if_changed_since`` (the
    validators of the copy held) an unchanged archive is not sent again: ``NotModified``.
    """
    if ref.name != PurePosixPath(ref.name).name or "\\" in ref.name or ref.name in ("", ".", ".."):
        raise ValueError(f"not a plain file name: {ref.name!r}")
    return client.download(
        ref.url,
        dest_dir / ref.name,
        max_bytes=max_bytes,
        validate=zip_problem,
        if_changed_since=if_changed_since,
    )
