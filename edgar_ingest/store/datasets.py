"""Data-set archives and reconciliation: archive loads, the filings' own documents, disagreements.

An archive of the SEC's Form D data sets is kept once as a raw document; each load of it over a
range of filing dates is a row of ``dataset_archives``, completed only when every filing of that
range was stored or recorded as failed. ``reconcile`` reads the filings' own documents and keeps
what disagrees in ``source_disagreements``.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from edgar_ingest.records import (
    SOURCE_DATASET,
    SOURCE_FILING,
    DatasetArchiveRef,
    HttpValidators,
    RawDocument,
)
from edgar_ingest.store.base import _chunks, _dataset_archives, _disagreements, _filings, _raw
from edgar_ingest.store.raw import RawDocuments

if TYPE_CHECKING:
    from edgar_ingest.compare import Comparison


@dataclass(frozen=True, slots=True)
class DatasetLoad:
    """One load of one archive over ``[start, end)``."""

    id: int
    archive_name: str
    url: str
    sha256: str
    raw_document_id: int
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class StoredArchive:
    """The copy of an archive kept by an earlier load of its URL, and how the server identified
    it then (to be given back on the next GET: a 304 means this copy is current)."""

    sha256: str
    raw_document_id: int
    validators: HttpValidators


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """A version known only from a data set (a candidate for ``reconcile --sample``)."""

    accession_number: str
    cik: str
    submission_type: str
    filing_date: date


def _load(row: sa.Row[tuple[object, ...]]) -> DatasetLoad:
    m = row._mapping
    return DatasetLoad(
        id=int(m["id"]),
        archive_name=str(m["archive_name"]),
        url=str(m["url"]),
        sha256=str(m["sha256"]),
        raw_document_id=int(m["raw_document_id"]),
        start=m["range_start_date"],
        end=m["range_end_date"],
    )


class DatasetArchives(RawDocuments):
    """Loads of data-set archives, and what ``reconcile`` reads and writes."""

    def dataset_load_covered(self, sha256: str, start: date, end: date) -> bool:
        """True when a completed load of these bytes covered [start, end)."""
        t = _dataset_archives
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(t.c.id)
                .where(
                    t.c.sha256 == sha256,
                    t.c.completed_at.is_not(None),
                    t.c.range_start_date <= start,
                    t.c.range_end_date >= end,
                )
                .limit(1)
            ).first()
        return found is not None

    def stored_archive(self, url: str) -> StoredArchive | None:
        """The archive kept by the latest load of ``url`` whose answer carried validators (an
        ``ETag`` or ``Last-Modified``), else None."""
        t = _dataset_archives
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.c.sha256, t.c.raw_document_id, t.c.etag, t.c.last_modified)
                .where(t.c.url == url, sa.or_(t.c.etag.is_not(None), t.c.last_modified.is_not(None)))
                .order_by(t.c.id.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return StoredArchive(
            sha256=row.sha256,
            raw_document_id=int(row.raw_document_id),
            validators=HttpValidators(etag=row.etag, last_modified=row.last_modified),
        )

    def remember_archive_validators(self, url: str, sha256: str, validators: HttpValidators) -> None:
        """Keep ``validators`` on the loads of ``url`` that read these very bytes (``sha256``), so
        that the next GET can be conditional: loads made before revision 0005, or whose server
        identified the archive otherwise then. Loads already holding them are left untouched."""
        t = _dataset_archives
        with self._writer.begin() as conn:
            conn.execute(
                sa.update(t)
                .where(
                    t.c.url == url,
                    t.c.sha256 == sha256,
                    sa.or_(
                        t.c.etag.is_distinct_from(validators.etag),
                        t.c.last_modified.is_distinct_from(validators.last_modified),
                    ),
                )
                .values(etag=validators.etag, last_modified=validators.last_modified)
            )

    def begin_dataset_load(
        self,
        ref: DatasetArchiveRef,
        raw: RawDocument,
        start: date,
        end: date,
        *,
        size_bytes: int,
        validators: HttpValidators | None = None,
    ) -> DatasetLoad:
        """Keep the archive's bytes (once per sha256) and open a load of [start, end);
        ``validators`` are those of the answer that brought the bytes (see ``stored_archive``)."""
        validators = validators or HttpValidators()
        now = self._now()
        with self._writer.begin() as conn:
            raw_id = self._store_raw_documents(conn, [raw], now)[raw.sha256]
            values = {
                "archive_name": ref.name,
                "url": ref.url,
                "year": ref.year,
                "quarter": ref.quarter,
                "sha256": raw.sha256,
                "size_bytes": size_bytes,
                "raw_document_id": raw_id,
                "range_start_date": start,
                "range_end_date": end,
                "filing_count": 0,
                "inserted_count": 0,
                "updated_count": 0,
                "unchanged_count": 0,
                "failed_count": 0,
                "started_at": now,
                "completed_at": None,
                "etag": validators.etag,
                "last_modified": validators.last_modified,
            }
            load_id = conn.execute(sa.insert(_dataset_archives).returning(_dataset_archives.c.id), [values])
            return DatasetLoad(
                id=int(load_id.scalar_one()),
                archive_name=ref.name,
                url=ref.url,
                sha256=raw.sha256,
                raw_document_id=raw_id,
                start=start,
                end=end,
            )

    def finish_dataset_load(self, load_id: int, *, filing_count: int, counts: dict[str, int]) -> None:
        """Mark a load complete, with what it did (inserted, updated, unchanged, failed)."""
        with self._writer.begin() as conn:
            conn.execute(
                sa.update(_dataset_archives)
                .where(_dataset_archives.c.id == load_id)
                .values(
                    filing_count=filing_count,
                    completed_at=self._now(),
                    **{f"{name}_count": value for name, value in counts.items()},
                )
            )

    def completed_dataset_loads(self) -> list[DatasetLoad]:
        """Completed loads, oldest first (a re-published archive's load comes after the first)."""
        t = _dataset_archives
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.completed_at.is_not(None)).order_by(t.c.id)).all()
        return [_load(r) for r in rows]

    def filing_documents(self, accessions: Sequence[str]) -> dict[str, RawDocument]:
        """The stored documents of the filings among ``accessions`` whose version is the filing's own."""
        found: dict[str, RawDocument] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(accessions))):
                rows = conn.execute(
                    sa.select(
                        _filings.c.accession_number,
                        _raw.c.content_zlib,
                        _raw.c.source_url,
                        _raw.c.fetched_at,
                        _raw.c.sha256,
                    )
                    .join(_raw, _raw.c.id == _filings.c.raw_document_id)
                    .where(_filings.c.accession_number.in_(chunk), _filings.c.source == SOURCE_FILING)
                )
                for row in rows:
                    found[row.accession_number] = RawDocument(
                        content=zlib.decompress(row.content_zlib),
                        source_url=row.source_url,
                        fetched_at=row.fetched_at,
                        sha256=row.sha256,
                    )
        return found

    def replace_disagreements(self, comparisons: Sequence[Comparison], archive_name: str) -> None:
        """The disagreements of these filings, replacing what an earlier run found for them."""
        now = self._now()
        rows = [
            {
                "accession_number": c.accession_number,
                "field_name": d.field,
                "dataset_value": d.dataset_value,
                "filing_value": d.filing_value,
                "archive_name": archive_name,
                "found_at": now,
            }
            for c in comparisons
            for d in c.differences
        ]
        with self._writer.begin() as conn:
            for chunk in _chunks([c.accession_number for c in comparisons]):
                conn.execute(sa.delete(_disagreements).where(_disagreements.c.accession_number.in_(chunk)))
            if rows:
                conn.execute(sa.insert(_disagreements), rows)

    def random_dataset_versions(self, limit: int) -> list[DatasetVersion]:
        """Up to ``limit`` versions known only from a data set, chosen at random."""
        f = _filings
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(f.c.accession_number, f.c.cik, f.c.submission_type, f.c.filing_date)
                .where(f.c.source == SOURCE_DATASET, f.c.accession_number.is_not(None), f.c.cik.is_not(None))
                .order_by(sa.func.random())
                .limit(limit)
            ).all()
        return [DatasetVersion(r.accession_number, r.cik, r.submission_type, r.filing_date) for r in rows]
