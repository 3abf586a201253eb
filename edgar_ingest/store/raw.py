"""Raw documents: the compressed bytes kept for stored filings and for failures alike."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edgar_ingest.records import RawDocument
from edgar_ingest.store.base import StoreBase, _chunks, _dataset_archives, _failures, _filings, _raw
from edgar_ingest.store.inserts import RowLayout

RAW_DOCUMENTS: Final = RowLayout(
    _raw,
    (
        "id",
        "sha256",
        "content_zlib",
        "content_size_bytes",
        "compressed_size_bytes",
        "source_url",
        "fetched_at",
        "stored_at",
    ),
)


# Compressing is most of what keeping a new document costs (~90 us for a typical 8 KB filing).
# zlib releases the GIL while it deflates, so a batch is compressed by two threads at once.
_COMPRESS_LEVEL: Final = 6  # what every stored document was compressed with
_TWO_THREADS_FROM: Final = 16  # documents per batch; fewer are not worth a thread


def _compress_each(contents: Sequence[bytes]) -> list[bytes]:
    return [zlib.compress(content, _COMPRESS_LEVEL) for content in contents]


def _compress_all(contents: Sequence[bytes]) -> list[bytes]:
    """``zlib.compress`` of each, in order; half of them on a second thread."""
    if len(contents) < _TWO_THREADS_FROM:
        return _compress_each(contents)
    half = len(contents) // 2
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgar-compress") as pool:
        first = pool.submit(_compress_each, contents[:half])
        second = _compress_each(contents[half:])
        return first.result() + second


def _raw_row(raw_id: int, raw: RawDocument, compressed: bytes, now: datetime) -> tuple[Any, ...]:
    """A row of ``RAW_DOCUMENTS``."""
    return (
        raw_id,
        raw.sha256,
        compressed,
        len(raw.content),
        len(compressed),
        raw.source_url,
        raw.fetched_at,
        now,
    )


class RawDocuments(StoreBase):
    """Stores, reads and prunes ``raw_documents`` rows (shared by filing writes and failures)."""

    def _store_raw_documents(
        self, conn: Connection, raws: list[RawDocument], now: datetime
    ) -> dict[str, int]:
        """Ids of the raw documents by sha256, inserting the ones not stored yet.

        Safe against a concurrent writer storing the same bytes: a conflict is "already stored"
        (``RowWriter.insert_new``), never an error. Failures are recorded through here too,
        outside any savepoint, where an error would end the caller's whole transaction.
        """
        ids: dict[str, int] = {}
        shas = sorted({r.sha256 for r in raws})
        for row in self._rows.select_in(conn, _raw, ("id", "sha256"), "sha256", shas):
            ids[row.sha256] = row.id
        new: dict[str, RawDocument] = {}
        for r in sorted(raws, key=lambda r: r.sha256):  # one order for every writer (deadlocks)
            if r.sha256 not in ids and r.sha256 not in new:
                if r.is_reference:
                    # A data-set archive's records carry a reference to its stored bytes: never
                    # store the empty placeholder in their place. A bug, not a bad document: raise.
                    raise LookupError(f"the raw document {r.sha256} is referenced but not stored")
                new[r.sha256] = r
        if new:
            new_ids = self._rows.allocate_ids(conn, _raw, len(new))
            compressed = _compress_all([r.content for r in new.values()])
            rows = [
                _raw_row(raw_id, r, content_zlib, now)
                for raw_id, r, content_zlib in zip(new_ids, new.values(), compressed, strict=True)
            ]
            if self._rows.insert_new(conn, RAW_DOCUMENTS, rows) == len(rows):
                ids.update(zip(new, new_ids, strict=True))
            else:
                # Another writer stored some of them since the read above (PostgreSQL; on SQLite
                # the write lock taken at BEGIN keeps writers apart): theirs are the same bytes,
                # so their rows are ours. The read sees them: the insert waited for their commit.
                for row in self._rows.select_in(conn, _raw, ("id", "sha256"), "sha256", list(new)):
                    ids[row.sha256] = row.id
        return ids

    def _delete_unreferenced_raw(self, conn: Connection, raw_ids: list[int]) -> None:
        for chunk in _chunks(raw_ids):
            conn.execute(
                sa.delete(_raw).where(
                    _raw.c.id.in_(chunk),
                    ~sa.exists().where(_filings.c.raw_document_id == _raw.c.id),
                    ~sa.exists().where(_failures.c.raw_document_id == _raw.c.id),
                    ~sa.exists().where(_dataset_archives.c.raw_document_id == _raw.c.id),
                )
            )

    def iter_raw_documents(self, page_size: int = 500) -> Iterator[RawDocument]:
        """Every stored document (stored filings' and failed ones'), decompressed, by id.

        Data-set archives are left out (``bulk.reparse_dataset_archives`` reads them one at a
        time). Reads page by page in short transactions, so memory stays flat and writers are not
        blocked.
        """
        last_id = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(
                        _raw.c.id, _raw.c.content_zlib, _raw.c.source_url, _raw.c.fetched_at, _raw.c.sha256
                    )
                    .where(
                        _raw.c.id > last_id,
                        ~sa.exists().where(_dataset_archives.c.raw_document_id == _raw.c.id),
                    )
                    .order_by(_raw.c.id)
                    .limit(page_size)
                ).all()
            if not rows:
                return
            for row in rows:
                yield RawDocument(
                    content=zlib.decompress(row.content_zlib),
                    source_url=row.source_url,
                    fetched_at=row.fetched_at,
                    sha256=row.sha256,
                )
            last_id = rows[-1].id

    def raw_document_content(self, raw_document_id: int) -> bytes:
        """The exact bytes of one stored raw document."""
        with self.engine.connect() as conn:
            compressed = conn.scalar(sa.select(_raw.c.content_zlib).where(_raw.c.id == raw_document_id))
        if compressed is None:
            raise LookupError(f"no raw document {raw_document_id}")
        return zlib.decompress(compressed)

    def raw_document_reference(self, raw_document_id: int) -> RawDocument:
        """A stored raw document without its bytes, for records derived from it (an archive's rows)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(_raw.c.source_url, _raw.c.fetched_at, _raw.c.sha256).where(
                    _raw.c.id == raw_document_id
                )
            ).first()
        if row is None:
            raise LookupError(f"no raw document {raw_document_id}")
        return RawDocument.reference(row.sha256, row.source_url, row.fetched_at)

    def raw_document_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(_raw)) or 0)
