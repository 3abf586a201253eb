"""Offline runs: ingest local files and reparse stored raw documents (no network).

Both read documents one batch at a time (memory stays flat), parse them, and hand each batch to
``Store.save_many`` (one transaction per batch). A document that cannot be read, parsed or stored
is recorded in ``failures`` with its reason and counted as failed; the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from edgar_ingest.errors import ConfigError, ParseError
from edgar_ingest.interrupts import uninterrupted
from edgar_ingest.parse import PARSER_VERSION, parse_document
from edgar_ingest.records import FormDFiling, RawDocument, RunCounts
from edgar_ingest.store import Outcome, OutcomeStatus, Store
from edgar_ingest.store.limits import storable_reason
from edgar_ingest.store.prepare import PreparedFiling

DOCUMENT_SUFFIXES = frozenset({".xml", ".txt", ".nc"})
BATCH_SIZE = 500

Parser = Callable[[bytes], FormDFiling]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def find_documents(
    paths: Iterable[Path], *, on_skipped: Callable[[Path], None] | None = None
) -> Iterator[Path]:
    """Files named on the command line, and the .xml/.txt/.nc files under folders (sorted, recursive).

    ``on_skipped`` hears of each other file found under a folder, so that none is passed over
    silently.
    """
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if not found.is_file():
                    continue
                if found.suffix.lower() in DOCUMENT_SUFFIXES:
                    yield found
                elif on_skipped is not None:
                    on_skipped(found)
        elif path.is_file():
            yield path
        else:
            raise ConfigError(f"{path} is neither a file nor a folder: give .xml/.txt/.nc files or folders.")


def ingest_paths(
    store: Store,
    paths: Sequence[Path],
    *,
    parser: Parser = parse_document,
    parser_version: str = PARSER_VERSION,
    batch_size: int = BATCH_SIZE,
    clock: Callable[[], datetime] = _utc_now,
    on_skipped: Callable[[Path], None] | None = None,
) -> RunCounts:
    """Store every Form D document found under ``paths``; ``source_url`` is the file's file:// URI.

    Files under a folder whose extension is not .xml, .txt or .nc are counted as skipped and
    passed to ``on_skipped``.
    """
    for path in paths:
        if not path.exists():
            raise ConfigError(f"{path} does not exist: give .xml/.txt/.nc files or folders.")
    counts = RunCounts()

    def skipped(path: Path) -> None:
        counts.skipped += 1
        if on_skipped is not None:
            on_skipped(path)

    def documents() -> Iterator[tuple[RawDocument, str | None]]:
        for path in find_documents(paths, on_skipped=skipped):
            counts.discovered += 1
            uri = path.resolve().as_uri()
            try:
                content = path.read_bytes()
            except OSError as exc:
                reason = f"could not be read: {exc.strerror or exc}"
                store.record_failure(uri, reason, stage="read")
                counts.add_failure(uri, reason)
                continue
            counts.fetched += 1
            yield RawDocument.of(content, uri, clock()), None

    parse_and_store(
        store, documents(), counts, parser=parser, parser_version=parser_version, batch_size=batch_size
    )
    return counts


def reparse_stored(
    store: Store,
    *,
    parser: Parser = parse_document,
    parser_version: str = PARSER_VERSION,
    batch_size: int = BATCH_SIZE,
) -> RunCounts:
    """Re-derive every filing from its stored raw bytes (and retry documents that failed to parse)."""
    counts = RunCounts()

    def documents() -> Iterator[tuple[RawDocument, str | None]]:
        for raw in store.iter_raw_documents(page_size=batch_size):
            counts.discovered += 1
            yield raw, None

    parse_and_store(
        store, documents(), counts, parser=parser, parser_version=parser_version, batch_size=batch_size
    )
    return counts


def parse_and_store(
    store: Store,
    documents: Iterable[tuple[RawDocument, str | None]],
    counts: RunCounts,
    *,
    parser: Parser = parse_document,
    parser_version: str = PARSER_VERSION,
    batch_size: int = BATCH_SIZE,
    on_document: Callable[[], None] | None = None,
) -> None:
    """Parse each (raw document, accession number if known) and store them a batch at a time.

    The one parse-and-store step of every run (ingest, reparse, sync, backfill): a document that
    does not parse (refused, or one the parser fails on) is recorded as failed with its bytes (so
    a later reparse can retry it offline), a batch is one transaction in which a document that
    cannot be stored fails alone, and every outcome is counted. ``on_document`` is called once
    per document (progress).
    """
    batch: list[tuple[RawDocument, FormDFiling]] = []
    for raw, accession_number in documents:
        try:
            filing = parser(raw.content)
        except Exception as exc:
            # A ParseError is the parser refusing the document; anything else is the parser
            # failing on it (a value it did not expect): either way one document, not the run.
            reason = storable_reason(str(exc) if isinstance(exc, ParseError) else _unexpected(exc))
            store.record_failure(
                raw.source_url, reason, stage="parse", accession_number=accession_number, raw=raw
            )
            counts.add_failure(accession_number or raw.source_url, reason)
            if on_document is not None:
                on_document()
            continue
        batch.append((raw, filing))
        if len(batch) >= batch_size:
            store_records(store, batch, counts, parser_version, on_document)
            batch = []
    if batch:
        store_records(store, batch, counts, parser_version, on_document)


def _unexpected(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return f"the parser failed on this document ({detail}); please report it with the document"


def store_records(
    store: Store,
    batch: list[tuple[RawDocument, FormDFiling]],
    counts: RunCounts,
    parser_version: str,
    on_document: Callable[[], None] | None,
) -> None:
    """Store one batch of parsed records (one transaction) and count every outcome; a stop
    (Ctrl-C) waits for the counting, so that a run's counts are what it stored."""
    with uninterrupted():
        _count_outcomes(store, batch, store.save_many(batch, parser_version), counts, on_document)


def store_prepared_records(
    store: Store,
    batch: list[tuple[RawDocument, PreparedFiling]],
    counts: RunCounts,
    parser_version: str,
    on_document: Callable[[], None] | None,
) -> None:
    """``store_records`` for filings prepared already (``Store.filing_preparer``)."""
    with uninterrupted():
        _count_outcomes(store, batch, store.save_prepared(batch, parser_version), counts, on_document)


def _count_outcomes(
    store: Store,
    batch: Sequence[tuple[RawDocument, object]],
    outcomes: list[Outcome],
    counts: RunCounts,
    on_document: Callable[[], None] | None,
) -> None:
    for (raw, _), outcome in zip(batch, outcomes, strict=True):
        if outcome.status is OutcomeStatus.FAILED:
            counts.add_failure(raw.source_url, outcome.reason or "could not be stored")
        elif outcome.status is OutcomeStatus.INSERTED:
            counts.inserted += 1
        elif outcome.status is OutcomeStatus.UPDATED:
            counts.updated += 1
        else:
            counts.unchanged += 1
        if on_document is not None:
            on_document()
    store.record_batch_progress(counts)  # a killed run's row shows what it stored
