"""``failures --retry``: each failure retried the one way that can fix it, or left with the reason.

- Stored bytes (a document that did not parse or store, fetched or read from a local file) are
  parsed again, and nothing else: no network, no User-Agent needed.
- A filing that never arrived from EDGAR is fetched again through the polite client.
- What neither can fix is left as it is, with one sentence saying why and what would: a data-set
  row (its archive is read again by ``backfill --source datasets`` when the SEC re-publishes it),
  a data-set archive that could not be downloaded or read, a local file that could not be read.

A retry that fails again updates the same failure row (same accession number, or the same
bytes' sha256), so the count of unresolved failures never grows from a retry. What a retry did
is counted like any run's work (``RunCounts``: failures retried, documents read or fetched,
versions stored, failures left, requests): ``failures --retry`` keeps it in ``runs`` as ``retry``.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import date
from typing import TextIO
from urllib.parse import urlparse

from edgar_ingest.commands.options import EXIT_OK, EXIT_USAGE
from edgar_ingest.errors import ConfigError, FetchError, ParseError
from edgar_ingest.fetch import fetch_filing
from edgar_ingest.http import EdgarClient
from edgar_ingest.parse import PARSER_VERSION, parse_document
from edgar_ingest.records import FilingRef, RawDocument, RunCounts
from edgar_ingest.settings import Settings
from edgar_ingest.store import FailureInfo, Lock, OutcomeStatus, Store

DATASET_ROW = (
    "a row of an SEC data-set archive is not retried here: `backfill --source datasets` reads the "
    "archive again when the SEC re-publishes it, and `backfill --source indexes` or `reconcile "
    "--sample` fetch the filing's own document"
)
DATASET_ARCHIVE = (
    "a data-set archive (or a row of it without an accession number) is not retried here: a "
    "`backfill --source datasets` (or `auto`) over its quarter downloads and reads the archive again"
)
UNREAD_LOCAL_FILE = (
    "a local file that could not be read is not retried here (none of its bytes are stored): run "
    "`edgar-ingest ingest` on it again once it can be read"
)
NOTHING_TO_RETRY = (
    "nothing of it is stored and its source is not a filing on EDGAR, so nothing can be retried"
)
NEEDS_USER_AGENT = "it must be fetched from EDGAR again, which needs a User-Agent (see below)"


class Remedy(enum.Enum):
    REPARSE = "reparse"  # parse the stored bytes again
    REFETCH = "refetch"  # fetch the filing from EDGAR again
    NONE = "none"  # leave it, saying why


@dataclass(frozen=True, slots=True)
class RetryPlan:
    failure: FailureInfo
    remedy: Remedy
    why_not: str | None = None  # for Remedy.NONE: the one sentence printed


def plan_retry(failure: FailureInfo) -> RetryPlan:
    """How ``failure`` can be retried, judged from its stage, source and stored bytes alone."""
    source = urlparse(failure.source)
    # A data-set failure names its archive (a .zip), never a filing: a row that could not be read
    # (stage dataset) or stored (stage store: its bytes are the whole archive) carries the
    # filing's accession number; the archive itself (not downloaded, unreadable) carries none.
    if failure.stage == "dataset" or source.path.lower().endswith(".zip"):
        return RetryPlan(failure, Remedy.NONE, DATASET_ROW if failure.accession_number else DATASET_ARCHIVE)
    if failure.has_raw_document:
        return RetryPlan(failure, Remedy.REPARSE)
    if source.scheme == "file":
        return RetryPlan(failure, Remedy.NONE, UNREAD_LOCAL_FILE)
    if source.scheme in ("http", "https") and source.path.startswith("/Archives/edgar/data/"):
        return RetryPlan(failure, Remedy.REFETCH)
    return RetryPlan(failure, Remedy.NONE, NOTHING_TO_RETRY)


def retry_failures(
    store: Store,
    settings: Settings,
    failures: list[FailureInfo],
    out: TextIO | None = None,
    *,
    network_lock: Callable[[], AbstractContextManager[Lock]] | None = None,
    counts: RunCounts | None = None,
) -> int:
    """Retry every failure as :func:`plan_retry` says; stored bytes first, then the network.

    ``network_lock`` is taken around the fetches only (the run lock of sync, backfill and watch):
    a retry beside a running sync would otherwise double the request rate EDGAR sees. Reparsing
    stored bytes needs no lock. ``counts`` (when given) adds up what the retry did.
    """
    out = out or sys.stdout
    counts = counts if counts is not None else RunCounts()
    plans = [plan_retry(f) for f in failures]
    counts.discovered += sum(1 for p in plans if p.remedy is Remedy.REPARSE)
    before = replace(counts, failures=[])  # what the counts held already
    not_retried = 0
    for plan in plans:
        if plan.remedy is Remedy.NONE:
            not_retried += 1
            print(f"not retried: {_name(plan.failure)}: {plan.why_not}", file=out)
    for plan in plans:
        if plan.remedy is Remedy.REPARSE:
            raw = store.raw_document_of_failure(plan.failure.id)
            assert raw is not None  # has_raw_document said so
            _try(store, plan.failure, raw, counts, out)
    refetch = [p.failure for p in plans if p.remedy is Remedy.REFETCH]
    code = EXIT_OK
    if refetch:
        try:
            settings.require_user_agent()
        except ConfigError as exc:
            for failure in refetch:
                not_retried += 1
                print(f"not retried: {_name(failure)}: {NEEDS_USER_AGENT}", file=out)
            print(f"edgar-ingest: {exc}", file=sys.stderr)
            code = EXIT_USAGE
        else:
            counts.discovered += len(refetch)
            with network_lock() if network_lock is not None else nullcontext() as lock:
                gate = lock.gate if lock is not None else None
                _refetch(store, settings, refetch, counts, out, gate=gate)
    print(
        f"failures retried: {_stored(counts) - _stored(before)} resolved, "
        f"{counts.failed - before.failed} still failing, {not_retried} not retried",
        file=out,
    )
    return code


def _refetch(
    store: Store,
    settings: Settings,
    failures: list[FailureInfo],
    counts: RunCounts,
    out: TextIO,
    *,
    gate: Callable[[], bool] | None,
) -> None:
    with EdgarClient(settings, gate=gate) as client:
        try:
            _refetch_each(store, client, failures, counts, out)
        finally:
            stats = client.stats.snapshot()
            counts.requests += stats.requests
            counts.retries += stats.retries
            counts.block_pauses += stats.block_pauses


def _refetch_each(
    store: Store,
    client: EdgarClient,
    failures: list[FailureInfo],
    counts: RunCounts,
    out: TextIO,
) -> None:
    for failure in failures:
        ref = FilingRef(
            accession_number=failure.accession_number or "",
            cik="",
            form_type="D",
            filing_date=date.min,
            path=urlparse(failure.source).path,
        )
        try:
            raw = fetch_filing(client, ref)
            if raw is None:
                raise FetchError("EDGAR still has no such file")
        except FetchError as exc:
            counts.add_failure(failure.source, str(exc))
            store.record_failure(
                failure.source, str(exc), stage="fetch", accession_number=failure.accession_number
            )
            print(f"still failing: {_name(failure)}: {exc}", file=out)
            continue
        _try(store, failure, raw, counts, out)


def _try(store: Store, failure: FailureInfo, raw: RawDocument, counts: RunCounts, out: TextIO) -> None:
    """Parse and store ``raw``; resolve ``failure``, or record the new reason on the same row."""
    counts.fetched += 1  # a document read from the store or fetched again
    try:
        filing = parse_document(raw.content)
    except ParseError as exc:
        counts.add_failure(failure.source, str(exc))
        # With the bytes and the accession number the failure was keyed by: the same row.
        store.record_failure(
            failure.source, str(exc), stage="parse", accession_number=failure.accession_number, raw=raw
        )
        print(f"still failing: {_name(failure)}: {exc}", file=out)
        return
    outcome = store.save(raw, filing, PARSER_VERSION)
    if outcome.status is OutcomeStatus.FAILED:  # the store recorded why, on the filing's row
        counts.add_failure(failure.source, outcome.reason or "could not be stored")
        print(f"still failing: {_name(failure)}: {outcome.reason}", file=out)
        return
    store.resolve_failure(failure.id)
    status = outcome.status
    counts.inserted += status is OutcomeStatus.INSERTED
    counts.updated += status is OutcomeStatus.UPDATED
    counts.unchanged += status is OutcomeStatus.UNCHANGED
    print(f"resolved: {_name(failure)} ({outcome.status.value})", file=out)


def _stored(counts: RunCounts) -> int:
    return counts.inserted + counts.updated + counts.unchanged


def _name(failure: FailureInfo) -> str:
    return failure.accession_number or failure.source
