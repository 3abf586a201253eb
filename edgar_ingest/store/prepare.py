"""A filing made ready for the store before any SQL: keys, digests, checked and bound rows.

``FilingPreparer.prepare`` is pure (no database, no I/O): it turns a ``FormDFiling`` into a
``PreparedFiling`` holding everything ``FilingWrites`` writes that does not depend on what the
database holds already: the natural key, both digests, the filing's record columns and its child
rows, checked against their columns' limits (``limits``) and bound as their column types bind them
for one dialect (``inserts.RowWriter.bind``). A filing whose values cannot be stored comes out
refused, with the reason, instead of raising.

Because it is pure and its result is plain data (tuples of str, int, None, dates), a load can
prepare filings in another process and hand them to the store through a pipe: a data-set load
reads and prepares an archive's rows in a worker process while the store writes
(``dataset_worker``). The store prepares the filings given to ``save_many`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from edgar_ingest.records import FormDFiling
from edgar_ingest.store.base import _filings
from edgar_ingest.store.copy_rows import CopyFormatter, CopyRows
from edgar_ingest.store.digest import record_digests
from edgar_ingest.store.inserts import Row, RowLayout, RowWriter
from edgar_ingest.store.limits import ColumnValueError, RowCheck
from edgar_ingest.store.rows import CHILD_LAYOUTS, FILING_RECORD_COLUMNS, ChildRows, filing_record_values

RECORD_LAYOUT: Final = RowLayout(_filings, FILING_RECORD_COLUMNS)
_RECORD_CHECK: Final = RowCheck(RECORD_LAYOUT)
_CHILD_CHECKS: Final = tuple(RowCheck(layout) for layout in CHILD_LAYOUTS)


def filing_key_for(filing: FormDFiling, sha256: str) -> str:
    """The natural key of a filing: its accession number, else ``sha256:<hex>`` of its bytes."""
    return filing.accession_number or f"sha256:{sha256}"


class PreparedFiling(NamedTuple):
    """One filing ready for ``FilingWrites.save_prepared`` (picklable: plain values only; a
    named tuple, as it crosses a pipe: unpickled ~5 us a filing faster than a dataclass).

    ``record_values`` are the bound values of ``FILING_RECORD_COLUMNS``; ``children`` holds, per
    layout of ``CHILD_LAYOUTS`` (in that order), the filing's bound rows, whose first value (the
    ``filing_id``) the store replaces with the id it assigns; on PostgreSQL the rows of all
    layouts come as one ``copy_rows.CopyRows`` of binary COPY data, whose ids the store writes in
    the same way. When
    ``refusal`` is set the filing cannot be stored (it says why: the column at fault, or the
    error) and the rows and digests are empty.
    """

    filing_key: str
    accession_number: str | None
    source: str
    file_number: str | None
    previous_accession_number: str | None
    digest: str
    document_digest: str
    record_values: Row
    children: tuple[Sequence[Row], ...] | CopyRows
    refusal: str | None = None
    # Set while the rows are still to be built (``prepare_many(..., rows=False)``): the record.
    record: FormDFiling | None = None


def is_document_error(exc: BaseException) -> bool:
    """An error caused by one document's data (isolate it), not by the database being unusable.

    Document errors: the values of one record (``ValueError``, ``TypeError``, ``ArithmeticError``
    such as SQLite's ``OverflowError`` for an integer past 64 bits) and what the database says of
    one statement (``StatementError``, which covers psycopg's ``DataError`` family, e.g.
    ``NumericValueOutOfRange`` and ``StringDataRightTruncation``, and SQLite's "string or blob
    too big"). A lost connection, a full disk or a locked database (``OperationalError``,
    ``InterfaceError``, an invalidated connection) make every document fail: the run stops.
    """
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return False
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return False
    return isinstance(exc, sa.exc.StatementError | ValueError | TypeError | ArithmeticError)


def describe_error(exc: BaseException) -> str:
    """One line saying what went wrong with a document (a column's problem names the column)."""
    if isinstance(exc, ColumnValueError):
        return str(exc)  # names the column already; the class name adds nothing
    if isinstance(exc, sa.exc.StatementError) and exc.orig is not None:
        text = f"{type(exc.orig).__name__}: {exc.orig}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first_line[:500]


def _prepared(
    filing: FormDFiling,
    key: str,
    digests: tuple[str, str],
    record_values: Row,
    children: tuple[Sequence[Row], ...] | CopyRows,
    *,
    record: FormDFiling | None = None,
) -> PreparedFiling:
    """A ``PreparedFiling`` of ``filing``: what the store reads of the record, and the rows."""
    return PreparedFiling(
        filing_key=key,
        accession_number=filing.accession_number,
        source=filing.source,
        file_number=filing.file_number,
        previous_accession_number=filing.document.offering.previous_accession_number,
        digest=digests[0],
        document_digest=digests[1],
        record_values=record_values,
        children=children,
        record=record,
    )


class FilingPreparer:
    """Prepares filings for one dialect (its bind processors are the ones the store's engine uses)."""

    def __init__(self, dialect: Dialect) -> None:
        self._rows = RowWriter(dialect)
        self._copy = CopyFormatter() if dialect.name == "postgresql" else None

    def prepare(self, filing: FormDFiling, sha256: str) -> PreparedFiling:
        """The filing ready for the store; refused (not raised) when a value cannot be stored.

        ``sha256`` is that of the raw document the filing was read from (the key of a filing
        without accession number). An error that is not the document's (``is_document_error``)
        is raised.
        """
        return self.prepare_many([(filing, sha256)])[0]

    def prepare_many(
        self, items: Sequence[tuple[FormDFiling, str]], *, rows: bool = True
    ) -> list[PreparedFiling]:
        """``prepare`` for many filings at once, in order (their rows checked and bound together:
        a batch's rows share values, e.g. True, False and a date, that bind once).

        With ``rows=False`` only the keys and digests are made, and each filing keeps its record
        for ``complete``: a store that finds most filings unchanged (a reparse) builds rows only
        for those it writes.
        """
        keyed = [(filing, filing_key_for(filing, sha256)) for filing, sha256 in items]
        try:
            return self._prepare_together(keyed, with_rows=rows)
        except Exception as exc:
            if not is_document_error(exc):
                raise
        # Some filing cannot be stored: prepare each alone, so that only those are refused.
        return [self._prepare_alone(filing, key) for filing, key in keyed]

    def complete(self, prepared: Sequence[PreparedFiling]) -> list[PreparedFiling]:
        """The filings with their rows built (those prepared with ``rows=False``); a filing
        whose values cannot be stored comes back refused."""
        pending = [p for p in prepared if p.record is not None]
        if not pending:
            return list(prepared)
        keyed = [(p.record, p.filing_key) for p in pending if p.record is not None]
        digests = [(p.digest, p.document_digest) for p in pending]
        try:
            built = self._prepare_together(keyed, with_rows=True, digests=digests)
        except Exception as exc:
            if not is_document_error(exc):
                raise
            built = [self._prepare_alone(filing, key) for filing, key in keyed]
        done = iter(built)
        return [next(done) if p.record is not None else p for p in prepared]

    def _prepare_alone(self, filing: FormDFiling, key: str) -> PreparedFiling:
        try:
            return self._prepare_together([(filing, key)], with_rows=True)[0]
        except Exception as exc:
            if not is_document_error(exc):
                raise
            return self._refused(filing, key, exc)

    def _prepare_together(
        self,
        items: Sequence[tuple[FormDFiling, str]],
        *,
        with_rows: bool,
        digests: Sequence[tuple[str, str]] | None = None,
    ) -> list[PreparedFiling]:
        """Every filing prepared (``items``: each record and its key), or the first document
        error raised. ``digests``, when given, are the records' (computed already)."""
        if not with_rows:
            return [
                _prepared(filing, key, digest, (), (), record=filing)
                for (filing, key), digest in zip(items, [record_digests(f) for f, _ in items], strict=True)
            ]
        records = [filing_record_values(filing) for filing, _ in items]
        children = ChildRows()
        for position, (filing, _) in enumerate(items):
            children.add(position, filing)  # the position stands for the filing's id until stored
        # Limits first: the column at fault says more than a failed digest or bind would.
        _RECORD_CHECK.check(records)
        for check, rows in zip(_CHILD_CHECKS, children.rows.values(), strict=True):
            if rows:
                check.check(rows)
        if digests is None:
            digests = [record_digests(filing) for filing, _ in items]
        bind = self._rows.bind
        bound_records = bind(RECORD_LAYOUT, records)
        # Each filing's bound rows, per layout (as COPY data on PostgreSQL).
        per_filing: list[tuple[Sequence[Row], ...] | CopyRows]
        if self._copy is not None:
            bound = [bind(layout, rows) if rows else [] for layout, rows in children.rows.items()]
            per_filing = list(self._copy.format_filings(CHILD_LAYOUTS, bound, len(items)))
        else:
            lists: list[tuple[list[Row], ...]] = [tuple([] for _ in CHILD_LAYOUTS) for _ in items]
            for index, (layout, rows) in enumerate(children.rows.items()):
                for row in bind(layout, rows) if rows else ():
                    lists[row[0]][index].append(row)
            per_filing = list(lists)
        return [
            _prepared(filing, key, digest, record, own)
            for (filing, key), digest, record, own in zip(
                items, digests, bound_records, per_filing, strict=True
            )
        ]

    def _refused(self, filing: FormDFiling, key: str, exc: Exception) -> PreparedFiling:
        """A filing that cannot be stored; what is known of it is kept for its failure row."""
        try:
            accession, source = filing.accession_number, filing.source
        except Exception:  # a record too broken to read: its key is all there is
            accession, source = None, "filing"
        return PreparedFiling(
            filing_key=key,
            accession_number=accession,
            source=source,
            file_number=None,
            previous_accession_number=None,
            digest="",
            document_digest="",
            record_values=(),
            children=(),
            refusal=describe_error(exc),
        )
