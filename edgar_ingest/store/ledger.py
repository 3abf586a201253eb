"""The run ledger: failures (with their kept bytes), runs, and pipeline state such as the sync
checkpoint.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edgar_ingest.records import RawDocument, RunCounts
from edgar_ingest.store.base import _failures, _raw, _runs
from edgar_ingest.store.limits import storable_reason
from edgar_ingest.store.raw import RawDocuments

_SOURCE_CHARS: Final = 2000  # a URL or path; the failure key keeps its first 600

CHECKPOINT_KEY: Final = "sync_checkpoint"


@dataclass(frozen=True, slots=True)
class FailureInfo:
    id: int
    failure_key: str
    source: str
    accession_number: str | None
    sha256: str | None
    stage: str
    reason: str
    first_seen_at: datetime
    last_seen_at: datetime
    attempt_count: int
    is_resolved: bool
    has_raw_document: bool


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    command: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    range_start_date: date | None
    range_end_date: date | None
    counts: dict[str, int]
    message: str | None


RUN_COUNT_FIELDS: Final = (
    "discovered",
    "fetched",
    "skipped",
    "inserted",
    "updated",
    "unchanged",
    "failed",
    "requests",
    "retries",
    "block_pauses",
)


@dataclass(slots=True)
class _TrackedRun:
    """The run whose counts follow its stored batches, and the counts it last recorded."""

    run_id: int
    counts: RunCounts | None = None


class Ledger(RawDocuments):
    """Failures, runs and pipeline state (the sync checkpoint)."""

    # The run whose counts follow its stored batches (see start_run); one per store at a time.
    _tracked_run: _TrackedRun | None = None

    # ------------------------------------------------------------------ failures

    def record_failure(
        self,
        source: str,
        reason: str,
        *,
        stage: str = "parse",
        accession_number: str | None = None,
        raw: RawDocument | None = None,
    ) -> int:
        """Record (or update) the failure of one document; returns its id.

        One row per document (its accession number, else the sha256 of its bytes, else its
        source): a repeated failure updates the reason and the last-seen time and counts the
        attempt. With ``raw``, the bytes are kept so that ``reparse`` can retry without network.
        """
        with self._writer.begin() as conn:
            return self._record_failure(
                conn, source=source, reason=reason, stage=stage, accession_number=accession_number, raw=raw
            )

    def _record_failure(
        self,
        conn: Connection,
        *,
        source: str,
        reason: str,
        stage: str,
        accession_number: str | None,
        raw: RawDocument | None,
    ) -> int:
        now = self._now()
        reason = storable_reason(reason)  # it may quote the value (a NUL, 5,000 digits) that failed
        source = storable_reason(source, _SOURCE_CHARS)
        if accession_number:
            key = accession_number
        elif raw is not None:
            key = f"sha256:{raw.sha256}"
        else:
            key = f"source:{source}"[:600]
        raw_id = self._store_raw_documents(conn, [raw], now)[raw.sha256] if raw is not None else None
        find = sa.select(_failures.c.id, _failures.c.raw_document_id).where(_failures.c.failure_key == key)
        existing = conn.execute(find).first()
        values: dict[str, Any] = {
            "source": source,
            "accession_number": accession_number,
            "stage": stage,
            "reason": reason,
            "last_seen_at": now,
            "is_resolved": False,
            "resolved_at": None,
        }
        if raw is not None:
            values["sha256"] = raw.sha256
            values["raw_document_id"] = raw_id
        if existing is None:
            first = {
                **values,
                "failure_key": key,
                "first_seen_at": now,
                "attempt_count": 1,
                "sha256": raw.sha256 if raw is not None else None,
                "raw_document_id": raw_id,
            }
            try:
                with conn.begin_nested():
                    inserted = conn.execute(sa.insert(_failures).returning(_failures.c.id), [first])
                    return int(inserted.scalar_one())
            except sa.exc.IntegrityError:
                # Another writer recorded the same failure since the read above (two runs
                # meeting the same bad document): count this attempt on its row instead.
                existing = conn.execute(find).first()
                if existing is None:  # not a race on the key: a real integrity problem
                    raise
        conn.execute(
            sa.update(_failures)
            .where(_failures.c.id == existing.id)
            .values(attempt_count=_failures.c.attempt_count + 1, **values)
        )
        if raw_id is not None and existing.raw_document_id not in (None, raw_id):
            self._delete_unreferenced_raw(conn, [existing.raw_document_id])
        return int(existing.id)

    def list_failures(self, *, include_resolved: bool = False, limit: int | None = None) -> list[FailureInfo]:
        stmt = sa.select(_failures).order_by(_failures.c.last_seen_at.desc(), _failures.c.id.desc())
        if not include_resolved:
            stmt = stmt.where(_failures.c.is_resolved.is_(False))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return [
                FailureInfo(
                    id=r.id,
                    failure_key=r.failure_key,
                    source=r.source,
                    accession_number=r.accession_number,
                    sha256=r.sha256,
                    stage=r.stage,
                    reason=r.reason,
                    first_seen_at=r.first_seen_at,
                    last_seen_at=r.last_seen_at,
                    attempt_count=r.attempt_count,
                    is_resolved=bool(r.is_resolved),
                    has_raw_document=r.raw_document_id is not None,
                )
                for r in conn.execute(stmt)
            ]

    def resolve_failure(self, failure_id: int) -> bool:
        """Mark one failure resolved by hand; False when there is no such open failure."""
        with self._writer.begin() as conn:
            result = conn.execute(
                sa.update(_failures)
                .where(_failures.c.id == failure_id, _failures.c.is_resolved.is_(False))
                .values(is_resolved=True, resolved_at=self._now())
            )
            return result.rowcount > 0

    def raw_document_of_failure(self, failure_id: int) -> RawDocument | None:
        """The stored bytes of a failed document (for ``failures --retry``), if kept."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(_raw.c.content_zlib, _raw.c.source_url, _raw.c.fetched_at, _raw.c.sha256)
                .join(_failures, _failures.c.raw_document_id == _raw.c.id)
                .where(_failures.c.id == failure_id)
            ).first()
        if row is None:
            return None
        return RawDocument(
            content=zlib.decompress(row.content_zlib),
            source_url=row.source_url,
            fetched_at=row.fetched_at,
            sha256=row.sha256,
        )

    # ------------------------------------------------------------------ runs

    def start_run(
        self,
        command: str,
        *,
        range_start_date: date | None = None,
        range_end_date: date | None = None,
        track_batches: bool = False,
        message: str | None = None,
    ) -> int:
        """Insert a "running" row; with ``track_batches``, its counts follow every stored batch.

        Tracking makes :meth:`record_batch_progress` (called once per stored batch) write the
        run's counts so far, so that the row of a run killed at any moment (kill -9, power) shows
        what it stored, not zeros: one UPDATE per batch of 50 to 1,000 filings.
        """
        with self._writer.begin() as conn:
            values: dict[str, Any] = {f"{name}_count": 0 for name in RUN_COUNT_FIELDS}
            values.update(
                command=command,
                status="running",
                started_at=self._now(),
                range_start_date=range_start_date,
                range_end_date=range_end_date,
                message=message,
            )
            run_id = int(conn.execute(sa.insert(_runs).returning(_runs.c.id), [values]).scalar_one())
        if track_batches:
            self._tracked_run = _TrackedRun(run_id)
        return run_id

    def update_run(self, run_id: int, counts: RunCounts) -> None:
        """Record a running run's progress."""
        with self._writer.begin() as conn:
            conn.execute(sa.update(_runs).where(_runs.c.id == run_id).values(self._count_values(counts)))

    def record_batch_progress(self, counts: RunCounts) -> None:
        """After a batch is stored: the tracked run's counts so far (nothing when none is tracked)."""
        tracked = self._tracked_run
        if tracked is None:
            return
        tracked.counts = counts
        self.update_run(tracked.run_id, counts)

    def finish_run(
        self,
        run_id: int,
        counts: RunCounts | None,
        *,
        status: str = "completed",
        message: str | None = None,
    ) -> None:
        """End a run. ``counts`` None: the counts of its last stored batch (those the row shows)."""
        tracked = self._tracked_run
        if tracked is not None and tracked.run_id == run_id:
            counts = counts or tracked.counts
            self._tracked_run = None
        values: dict[str, Any] = {"status": status, "finished_at": self._now(), "message": message}
        if counts is not None:
            values.update(self._count_values(counts))
        with self._writer.begin() as conn:
            conn.execute(sa.update(_runs).where(_runs.c.id == run_id).values(values))

    def abandon_running_runs(self, commands: Sequence[str], message: str) -> int:
        """Mark runs of ``commands`` still "running" as abandoned; returns how many.

        Call it only while holding the lock those commands share: then no such run can really be
        running, and a row still saying so belongs to a process that was killed (kill -9, power).
        """
        with self._writer.begin() as conn:
            result = conn.execute(
                sa.update(_runs)
                .where(_runs.c.status == "running", _runs.c.command.in_(list(commands)))
                .values(status="abandoned", message=message)
            )
            return int(result.rowcount or 0)

    def running_runs(self, commands: Sequence[str]) -> list[tuple[int, str | None]]:
        """(id, message) of the runs of ``commands`` whose rows say "running" (live, or killed)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(_runs.c.id, _runs.c.message)
                .where(_runs.c.status == "running", _runs.c.command.in_(list(commands)))
                .order_by(_runs.c.id)
            )
            return [(int(r.id), r.message) for r in rows]

    def abandon_run(self, run_id: int, message: str) -> bool:
        """Mark one run abandoned if its row still says "running"; False when it does not."""
        with self._writer.begin() as conn:
            result = conn.execute(
                sa.update(_runs)
                .where(_runs.c.id == run_id, _runs.c.status == "running")
                .values(status="abandoned", message=message)
            )
            return bool(result.rowcount)

    @staticmethod
    def _count_values(counts: RunCounts) -> dict[str, int]:
        return {f"{name}_count": int(getattr(counts, name)) for name in RUN_COUNT_FIELDS}

    def last_runs(self, limit: int = 10) -> list[RunInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_runs).order_by(_runs.c.id.desc()).limit(limit)).all()
        return [
            RunInfo(
                id=r.id,
                command=r.command,
                status=r.status,
                started_at=r.started_at,
                finished_at=r.finished_at,
                range_start_date=r.range_start_date,
                range_end_date=r.range_end_date,
                counts={name: int(getattr(r, f"{name}_count")) for name in RUN_COUNT_FIELDS},
                message=r.message,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ pipeline state

    def get_checkpoint(self, key: str = CHECKPOINT_KEY) -> date | None:
        """The last day ``sync`` completed (None before the first sync)."""
        value = self.get_state(key)
        return date.fromisoformat(value) if value else None

    def set_checkpoint(self, day: date, key: str = CHECKPOINT_KEY) -> None:
        self.set_state(key, day.isoformat())
