"""Filing writes.

``FilingWrites`` stores filings idempotently, keyed by their natural key (the accession number, or
``sha256:<hex>`` of the raw bytes for a bare XML that has none): storing the same record again
changes nothing, a different record (new parser version, corrected bytes) re-derives every row
of the filing in the same transaction. ``save_many`` writes a batch in one transaction with one
bulk statement per table (``inserts.RowWriter``: COPY on PostgreSQL, executemany on SQLite, rows
built as tuples by ``rows``, keys looked up by index probes); when the bulk write fails, each
document is retried in its own savepoint so that a bad one rolls back alone and is recorded in
``failures`` while the others are stored. The digests that tell an unchanged record are those of
``digest``.

Offering identity (DESIGN.md section 3): the offering key is the primary issuer's SEC file number
from the header. A filing without one joins the offering of its ``previousAccessionNumber`` when
that filing is stored (also when it arrives later: ``save_many`` re-keys such filings), else it
stands alone under ``accession:<accession number>`` or, for a bare XML, ``sha256:<hex>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edgar_ingest.records import SOURCE_FILING, FormDFiling, RawDocument
from edgar_ingest.store.base import _chunks, _failures, _filings
from edgar_ingest.store.copy_rows import CopyRows, with_filing_id
from edgar_ingest.store.inserts import Row, RowLayout
from edgar_ingest.store.ledger import Ledger
from edgar_ingest.store.limits import ColumnValueError, RowCheck, storable_reason
from edgar_ingest.store.prepare import (
    FilingPreparer,
    PreparedFiling,
    describe_error,
    filing_key_for,
    is_document_error,
)
from edgar_ingest.store.rows import CHILD_LAYOUTS, FILING_RECORD_COLUMNS

# The columns of ``filings`` a write sets (an insert also sets ``id`` and ``created_at``).
_FILING_COLUMNS: Final = (
    "filing_key",
    *FILING_RECORD_COLUMNS,
    "offering_key",
    "parser_version",
    "record_sha256",
    "document_sha256",
    "raw_document_id",
    "updated_at",
)
_FILING_INSERT: Final = RowLayout(_filings, ("id", *_FILING_COLUMNS, "created_at"))
_FILING_UPDATE: Final = RowLayout(_filings, ("id", *_FILING_COLUMNS))  # by id
# The values a write adds to a prepared filing's (checked and bound) record values.
_KEYS_ROW_CHECK: Final = RowCheck(RowLayout(_filings, ("filing_key", "offering_key", "parser_version")))
_TIMESTAMP: Final = RowLayout(_filings, ("updated_at",))
# What a write needs to know of the filings stored already.
_STORED: Final = (
    "id",
    "filing_key",
    "accession_number",
    "document_sha256",
    "record_sha256",
    "parser_version",
    "raw_document_id",
    "source",
)
# A keyless filing takes its previous filing's offering key (the followers of some filings).
_REKEY_FOLLOWERS: Final = (
    "UPDATE filings SET offering_key = ("
    "SELECT previous.offering_key FROM filings AS previous "
    "WHERE previous.accession_number = filings.previous_accession_number) "
    "WHERE filings.file_number IS NULL AND filings.{in} AND EXISTS ("
    "SELECT 1 FROM filings AS previous WHERE previous.accession_number = filings.previous_accession_number "
    "AND previous.offering_key != filings.offering_key) "
    "RETURNING filings.accession_number"
)

# --------------------------------------------------------------------------- keys


__all__ = ["FilingWrites", "Outcome", "OutcomeStatus", "fallback_offering_key", "filing_key_for"]


def fallback_offering_key(filing: FormDFiling | PreparedFiling, sha256: str) -> str:
    """The offering key of a filing without file number whose previous filing is unknown."""
    if filing.accession_number:
        return f"accession:{filing.accession_number}"
    return f"sha256:{sha256}"


# --------------------------------------------------------------------------- results


class OutcomeStatus(StrEnum):
    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


_WRITTEN: Final = (OutcomeStatus.INSERTED, OutcomeStatus.UPDATED)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``save`` did with one document; ``reason`` says why it failed."""

    status: OutcomeStatus
    filing_key: str
    reason: str | None = None


@dataclass(slots=True)
class _Prepared:
    """One document on its way in: the prepared filing and where it came from."""

    raw: RawDocument
    filing: PreparedFiling
    parser_version: str

    @property
    def filing_key(self) -> str:
        return self.filing.filing_key

    @property
    def digest(self) -> str:
        return self.filing.digest

    @property
    def document_digest(self) -> str:
        return self.filing.document_digest


def _storable_accession(filing: PreparedFiling) -> str | None:
    """The accession number a failure row can hold (``failures.accession_number`` is 20 long)."""
    accession = filing.accession_number
    return accession if accession is not None and len(accession) <= 20 and "\x00" not in accession else None


# What PostgreSQL raises when a write met another writer's transaction: a unique violation (the
# other stored the same row first), a deadlock or a serialization failure. Written again, the
# batch finds the other's rows; past this many attempts the error is raised as before.
_RACE_SQLSTATES: Final = frozenset({"23505", "40P01", "40001"})
_RACE_ATTEMPTS: Final = 5


def _lost_a_race(exc: sa.exc.DBAPIError) -> bool:
    """A write that met a concurrent writer (PostgreSQL), not a bad document or a lost database."""
    return not exc.connection_invalidated and getattr(exc.orig, "sqlstate", None) in _RACE_SQLSTATES


class FilingWrites(Ledger):
    """Writes filings (failures that isolate a bad document go to the ledger it extends)."""

    # ------------------------------------------------------------------ filings

    def save(self, raw: RawDocument, filing: FormDFiling, parser_version: str) -> Outcome:
        """Store one parsed document (one transaction); see ``save_many``."""
        return self.save_many([(raw, filing)], parser_version)[0]

    def filing_preparer(self) -> FilingPreparer:
        """What prepares filings for this store's dialect (``prepare``), e.g. in another process."""
        preparer: FilingPreparer | None = getattr(self, "_preparer", None)
        if preparer is None:
            preparer = self._preparer = FilingPreparer(self.engine.dialect)
        return preparer

    def save_many(
        self, items: Sequence[tuple[RawDocument, FormDFiling]], parser_version: str
    ) -> list[Outcome]:
        """Store a batch in one transaction; one ``Outcome`` per item, in order.

        A document whose rows cannot be written (a value its column cannot hold, a record that
        cannot be digested, anything the database refuses in it) is rolled back alone
        (savepoint), recorded in ``failures`` (stage ``store``, with its bytes) and reported as
        failed; the others are committed. Only an error that makes the database itself unusable
        (connection lost, disk full, locked) is raised.
        A filing key seen twice in a batch is written in order (the later one wins).
        """
        # Keys and digests now; rows only for the filings written (most of a reparse is not).
        prepared = self.filing_preparer().prepare_many(
            [(filing, raw.sha256) for raw, filing in items], rows=False
        )
        return self.save_prepared(list(zip([raw for raw, _ in items], prepared, strict=True)), parser_version)

    def save_prepared(
        self, items: Sequence[tuple[RawDocument, PreparedFiling]], parser_version: str
    ) -> list[Outcome]:
        """``save_many`` for filings prepared already (``filing_preparer``, maybe elsewhere)."""
        outcomes: list[Outcome | None] = [None] * len(items)
        prepared: list[_Prepared] = []
        positions: list[int] = []  # of each prepared document in ``items``
        for i, (raw, filing) in enumerate(items):
            if filing.refusal is None:
                prepared.append(_Prepared(raw, filing, parser_version))
                positions.append(i)
        with self._writer.begin() as conn:
            for i, (raw, filing) in enumerate(items):
                if filing.refusal is not None:
                    outcomes[i] = self._record_store_failure(conn, raw, filing, filing.refusal)
            for round_indexes in _rounds(prepared):
                batch = [prepared[i] for i in round_indexes]
                try:
                    with conn.begin_nested():
                        results = self._write(conn, batch)
                except Exception as exc:
                    if not is_document_error(exc):
                        raise
                    results = [self._write_isolated(conn, p) for p in batch]
                for i, outcome in zip(round_indexes, results, strict=True):
                    outcomes[positions[i]] = outcome
            written = (
                p.filing.accession_number
                for p, i in zip(prepared, positions, strict=True)
                if (o := outcomes[i]) is not None and o.status in _WRITTEN
            )
            self._rekey_orphan_amendments(conn, [a for a in written if a])
        return [o for o in outcomes if o is not None]

    def _write_isolated(self, conn: Connection, item: _Prepared) -> Outcome:
        try:
            with conn.begin_nested():
                return self._write(conn, [item])[0]
        except Exception as exc:
            if not is_document_error(exc):
                raise
            return self._record_store_failure(conn, item.raw, item.filing, describe_error(exc))

    def _record_store_failure(
        self, conn: Connection, raw: RawDocument, filing: PreparedFiling, problem: str
    ) -> Outcome:
        """Record one document that cannot be stored (with its bytes, for ``reparse``)."""
        reason = storable_reason(f"could not be stored: {problem}")
        self._record_failure(
            conn,
            source=raw.source_url,
            reason=reason,
            stage="store",
            accession_number=_storable_accession(filing),
            raw=raw,
        )
        return Outcome(OutcomeStatus.FAILED, filing.filing_key, reason)

    def _write(self, conn: Connection, batch: list[_Prepared]) -> list[Outcome]:
        """Bulk-write a batch whose filing keys and documents are distinct (``_write_batch``),
        safe against other writers on PostgreSQL.

        Two runs may store the same documents at once (two ``ingest``, ``ingest`` during
        ``sync``; ``ingest`` takes no run lock). Both read "not stored", both insert; PostgreSQL
        makes the second wait for the first's transaction and then raises a unique violation (or,
        when each waits for a row of the other, a deadlock). Neither is a bad document: the batch
        is written again in a fresh savepoint, where the read sees the rows the other writer
        committed, so those documents come out unchanged ("already stored") and no failure is
        recorded. The batch's rows stay in ``COPY`` (which has no ``ON CONFLICT``), keeping the
        bulk speed; new keys are inserted in sorted order, so that two batches meet in one order
        and wait for each other rather than deadlock. SQLite needs none of this: every write
        transaction takes the database's write lock at BEGIN, so writers never interleave.
        """
        if self.dialect != "postgresql":
            return self._write_batch(conn, batch)
        for attempt in range(1, _RACE_ATTEMPTS + 1):
            try:
                with conn.begin_nested():
                    return self._write_batch(conn, batch)
            except sa.exc.DBAPIError as exc:
                if attempt == _RACE_ATTEMPTS or not _lost_a_race(exc):
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _write_batch(self, conn: Connection, batch: list[_Prepared]) -> list[Outcome]:
        """Bulk-write a batch whose filing keys and documents are distinct.

        A bare XML and the full submission of the same filing are one filing: a bare XML whose
        document is already stored is unchanged, and a full submission whose document is stored
        from a bare XML takes that row over (its key becomes the accession number).
        """
        now = self._now()
        existing: dict[str, Any] = {}
        keys = [p.filing_key for p in batch]
        for row in self._rows.select_in(conn, _filings, _STORED, "filing_key", keys):
            existing[row.filing_key] = row
        by_document: dict[str, Any] = {}
        unmatched = sorted({p.document_digest for p in batch if p.filing_key not in existing})
        # Ordered so that of several filings sharing a document the first stored is met first.
        same = self._rows.select_in(conn, _filings, _STORED, "document_sha256", unmatched, order_by="id")
        for row in same:
            if row.document_sha256 not in by_document or row.accession_number is None:
                by_document[row.document_sha256] = row
        outcomes: list[Outcome] = []
        inserts: list[_Prepared] = []
        updates: list[tuple[_Prepared, Any]] = []
        for p in batch:
            old = existing.get(p.filing_key)
            same_document = by_document.get(p.document_digest)
            if p.filing.source != SOURCE_FILING:
                # The filing's own document wins: a data-set record never replaces a version
                # derived from it (nor the bare XML of the same document).
                stored = old if old is not None else same_document
                if stored is not None and stored.source == SOURCE_FILING:
                    outcomes.append(Outcome(OutcomeStatus.UNCHANGED, stored.filing_key))
                    continue
            if old is None and same_document is not None:
                if p.filing.accession_number is None:
                    # A bare XML of a filing stored already (from its full submission or as XML).
                    outcomes.append(Outcome(OutcomeStatus.UNCHANGED, same_document.filing_key))
                    continue
                if same_document.accession_number is None:
                    old = same_document  # the full submission replaces the bare XML's row
            if old is None:
                inserts.append(p)
                outcomes.append(Outcome(OutcomeStatus.INSERTED, p.filing_key))
            elif (
                old.filing_key == p.filing_key
                and old.record_sha256 == p.digest
                and old.parser_version == p.parser_version
            ):
                outcomes.append(Outcome(OutcomeStatus.UNCHANGED, p.filing_key))
            else:
                updates.append((p, old))
                outcomes.append(Outcome(OutcomeStatus.UPDATED, p.filing_key))
        inserts.sort(key=lambda p: p.filing_key)  # one order for every writer (see ``_write``)
        written = inserts + [p for p, _ in updates]
        self._complete(written)
        if written:
            raw_ids = self._store_raw_documents(conn, [p.raw for p in written], now)
            offering_keys = self._offering_keys(conn, written)
            # Before any row is written: a value its column cannot hold fails the same way on
            # both databases, naming the column (SQLite would store it, PostgreSQL refuse it).
            # The record's own values were checked and bound when the filing was prepared.
            _KEYS_ROW_CHECK.check(
                [(p.filing_key, offering_keys[p.filing_key], p.parser_version) for p in written]
            )
            stamp = self._rows.bind(_TIMESTAMP, [(now,)])[0][0]
            # The bound values of FILING_COLUMNS.
            rows: dict[str, Row] = {
                p.filing_key: (
                    p.filing_key,
                    *p.filing.record_values,
                    offering_keys[p.filing_key],
                    p.parser_version,
                    p.digest,
                    p.document_digest,
                    raw_ids[p.raw.sha256],
                    stamp,
                )
                for p in written
            }
            filing_ids: dict[str, int] = {}
            if inserts:
                new_ids = self._rows.allocate_ids(conn, _filings, len(inserts))
                self._rows.insert(
                    conn,
                    _FILING_INSERT,
                    [(i, *rows[p.filing_key], stamp) for i, p in zip(new_ids, inserts, strict=True)],
                    bound=True,
                )
                filing_ids.update(zip([p.filing_key for p in inserts], new_ids, strict=True))
            if updates:
                update_ids = [old.id for _, old in updates]
                for layout in reversed(CHILD_LAYOUTS):
                    delete = f"DELETE FROM {layout.table.name} WHERE {{in}}"
                    self._rows.execute_in(conn, delete, "filing_id", update_ids)
                self._rows.update(
                    conn, _FILING_UPDATE, [(old.id, *rows[p.filing_key]) for p, old in updates], bound=True
                )
                for p, old in updates:
                    filing_ids[p.filing_key] = old.id
                replaced = {old.raw_document_id for p, old in updates} - set(raw_ids.values())
                self._delete_unreferenced_raw(conn, sorted(replaced))
            # A prepared row's first value stands for the filing's id.
            if self.dialect == "postgresql":
                copies: list[CopyRows] = []
                for p in written:
                    copy = p.filing.children
                    assert isinstance(copy, CopyRows)  # what a PostgreSQL store's preparer makes
                    with_filing_id(copy, filing_ids[p.filing_key])
                    copies.append(copy)
                for index, layout in enumerate(CHILD_LAYOUTS):
                    parts = [
                        memoryview(c.data)[c.bounds[index] : c.bounds[index + 1]]
                        for c in copies
                        if c.bounds[index] != c.bounds[index + 1]
                    ]
                    self._rows.copy_in(conn, layout, parts)
            else:
                lists: list[tuple[int, tuple[Sequence[Row], ...]]] = []
                for p in written:
                    own = p.filing.children
                    assert not isinstance(own, CopyRows)  # what a SQLite store's preparer makes
                    lists.append((filing_ids[p.filing_key], own))
                for index, layout in enumerate(CHILD_LAYOUTS):
                    child_rows = [(filing_id, *row[1:]) for filing_id, own in lists for row in own[index]]
                    self._rows.insert(conn, layout, child_rows, bound=True)
        self._resolve_failures_for(conn, batch, now)
        return outcomes

    def _complete(self, written: list[_Prepared]) -> None:
        """Build the rows of filings prepared without them; a filing whose values cannot be
        stored fails the write (``save_prepared`` then writes each filing alone)."""
        if not any(p.filing.record is not None for p in written):
            return
        for p, done in zip(
            written, self.filing_preparer().complete([p.filing for p in written]), strict=True
        ):
            if done.refusal is not None:
                raise ColumnValueError(done.refusal)
            p.filing = done

    def _offering_keys(self, conn: Connection, batch: list[_Prepared]) -> dict[str, str]:
        """File number, else the offering of the previous accession when stored, else a fallback."""
        wanted = sorted(
            {
                p.filing.previous_accession_number
                for p in batch
                if p.filing.file_number is None and p.filing.previous_accession_number
            }
        )
        known: dict[str, str] = {}
        columns = ("accession_number", "offering_key")
        for row in self._rows.select_in(conn, _filings, columns, "accession_number", wanted):
            known[row.accession_number] = row.offering_key
        keys: dict[str, str] = {}
        for p in batch:
            filing = p.filing
            previous = filing.previous_accession_number
            if filing.file_number:
                key = filing.file_number
            elif previous and previous in known:
                key = known[previous]
            else:
                key = fallback_offering_key(filing, p.raw.sha256)
            keys[p.filing_key] = key
            if filing.accession_number:
                known[filing.accession_number] = key
        return keys

    def _rekey_orphan_amendments(self, conn: Connection, written: Iterable[str]) -> None:
        """Filings without file number join their previous filing's offering once it is stored.

        ``written`` are the accession numbers of the filings this save inserted or updated. The
        filings stored before were all keyed after their previous filing (every save re-keys),
        so only the followers of a written filing can have fallen behind, then the followers of
        those re-keyed, one link per pass: the statement touches those, not every keyless filing
        of the database.
        """
        changed = sorted(set(written))
        for _ in range(10):  # chains of keyless amendments converge one link per pass
            returned = self._rows.execute_in(conn, _REKEY_FOLLOWERS, "previous_accession_number", changed)
            changed = sorted({row.accession_number for row in returned if row.accession_number})
            if not changed:
                break

    def _resolve_failures_for(self, conn: Connection, batch: list[_Prepared], now: datetime) -> None:
        """Mark resolved the failures of documents that are now stored."""
        has_open = conn.execute(
            sa.select(_failures.c.id).where(_failures.c.is_resolved.is_(False)).limit(1)
        ).first()
        if has_open is None:
            return
        accessions = sorted({p.filing.accession_number for p in batch if p.filing.accession_number})
        shas = sorted({p.raw.sha256 for p in batch})
        values = {"is_resolved": True, "resolved_at": now}
        open_ = _failures.c.is_resolved.is_(False)
        for chunk in _chunks(accessions):
            conn.execute(
                sa.update(_failures).where(open_, _failures.c.accession_number.in_(chunk)).values(values)
            )
        for chunk in _chunks(shas):
            conn.execute(sa.update(_failures).where(open_, _failures.c.sha256.in_(chunk)).values(values))

    def known_accessions(self, candidates: Iterable[str]) -> set[str]:
        """The candidates stored from their own document, or whose bytes are stored with a failure.

        Neither needs fetching again: ``reparse`` re-reads stored bytes. Fetch failures (no bytes)
        are not included, so the pipeline tries them again, and neither are filings known only
        from a data set: fetching their document replaces the data set's values.
        """
        wanted = sorted(set(candidates))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                stored = sa.select(_filings.c.accession_number).where(
                    _filings.c.accession_number.in_(chunk), _filings.c.source == SOURCE_FILING
                )
                failed_with_bytes = sa.select(_failures.c.accession_number).where(
                    _failures.c.accession_number.in_(chunk), _failures.c.raw_document_id.is_not(None)
                )
                for stmt in (stored, failed_with_bytes):
                    found.update(a for a in conn.scalars(stmt) if a)
        return found


def _rounds(prepared: Sequence[_Prepared]) -> list[list[int]]:
    """Split a batch so that a round holds a filing key or a document at most once (order kept)."""
    rounds: list[list[int]] = []
    last_round: dict[str, int] = {}
    for i, p in enumerate(prepared):
        keys = (p.filing_key, "document:" + p.document_digest)
        r = max(last_round.get(k, -1) for k in keys) + 1
        if r == len(rounds):
            rounds.append([])
        rounds[r].append(i)
        for k in keys:
            last_round[k] = r
    return rounds
