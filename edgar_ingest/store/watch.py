"""What ``watch`` keeps between polls, in the existing ``pipeline_state`` key/value table.

No table of its own (no migration): each filing found through the latest-filings feed is one
``pipeline_state`` row ``watch_feed:{accession}`` holding its acceptance and storage times (kept
:data:`FEED_ARRIVALS_KEPT` long), so ``status`` can show how fast the feed brings filings in; the
last successful poll (for the container's healthcheck) and the running watcher (for the sentence
a ``sync`` started meanwhile prints) are one row each.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

import sqlalchemy as sa

from edgar_ingest.records import SOURCE_FILING
from edgar_ingest.store.base import StoreBase, _chunks, _filings, _issuers, _state

FEED_ARRIVAL_PREFIX: Final = "watch_feed:"
LAST_POLL_OK_KEY: Final = "watch_last_poll_ok_at"
WATCHER_KEY: Final = "watch_process"
FEED_ARRIVALS_KEPT: Final = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class StoredFiling:
    """The stored filing of an accession, as the watcher's log line shows it."""

    accession_number: str
    submission_type: str
    issuer_name: str | None
    total_amount_sold: Decimal | None
    total_offering_amount: Decimal | None  # None when indefinite (see the flag) or not stated
    is_offering_amount_indefinite: bool
    accepted_at: datetime | None  # the header's acceptance time, UTC
    stored_at: datetime  # when its row was last written: for a new filing, when it was stored


@dataclass(frozen=True, slots=True)
class FeedArrival:
    """A filing that came through the feed: when the SEC accepted it and when it was stored."""

    accession_number: str
    accepted_at: datetime
    stored_at: datetime

    @property
    def delay_s(self) -> float:
        return (self.stored_at - self.accepted_at).total_seconds()


class WatchRecords(StoreBase):
    """Reads and writes of the ``watch`` command (see the module docstring)."""

    def stored_filings(self, accessions: Iterable[str]) -> dict[str, StoredFiling]:
        """The filings of these accessions stored from their own document, by accession."""
        wanted = sorted(set(accessions))
        primary = (
            sa.select(_issuers.c.filing_id, _issuers.c.entity_name)
            .where(_issuers.c.is_primary.is_(True))
            .subquery()
        )
        found: dict[str, StoredFiling] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                rows = conn.execute(
                    sa.select(
                        _filings.c.accession_number,
                        _filings.c.submission_type,
                        primary.c.entity_name,
                        _filings.c.total_amount_sold,
                        _filings.c.total_offering_amount,
                        _filings.c.is_offering_amount_indefinite,
                        _filings.c.accepted_at,
                        _filings.c.updated_at,
                    )
                    .select_from(_filings.outerjoin(primary, primary.c.filing_id == _filings.c.id))
                    .where(_filings.c.accession_number.in_(chunk), _filings.c.source == SOURCE_FILING)
                )
                for r in rows:
                    found[r.accession_number] = StoredFiling(
                        accession_number=r.accession_number,
                        submission_type=r.submission_type,
                        issuer_name=r.entity_name,
                        total_amount_sold=r.total_amount_sold,
                        total_offering_amount=r.total_offering_amount,
                        is_offering_amount_indefinite=bool(r.is_offering_amount_indefinite),
                        accepted_at=r.accepted_at,
                        stored_at=r.updated_at,
                    )
        return found

    # ------------------------------------------------------------------ feed arrivals

    def record_feed_arrivals(self, arrivals: Sequence[FeedArrival]) -> None:
        """Keep these arrivals (one transaction), and forget those older than the retention."""
        if not arrivals:
            return
        now = self._now()
        with self._writer.begin() as conn:
            keys = [FEED_ARRIVAL_PREFIX + a.accession_number for a in arrivals]
            for chunk in _chunks(keys):
                conn.execute(sa.delete(_state).where(_state.c.state_key.in_(chunk)))
            conn.execute(
                sa.insert(_state),
                [
                    {
                        "state_key": FEED_ARRIVAL_PREFIX + a.accession_number,
                        "state_value": json.dumps(
                            {"accepted_at": a.accepted_at.isoformat(), "stored_at": a.stored_at.isoformat()}
                        ),
                        "updated_at": a.stored_at,
                    }
                    for a in arrivals
                ],
            )
            conn.execute(
                sa.delete(_state).where(
                    _state.c.state_key.startswith(FEED_ARRIVAL_PREFIX, autoescape=True),
                    _state.c.updated_at < now - FEED_ARRIVALS_KEPT,
                )
            )

    def feed_arrivals_since(self, since: datetime) -> list[FeedArrival]:
        """Filings that came through the feed and were stored at ``since`` or later, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(_state.c.state_key, _state.c.state_value)
                .where(
                    _state.c.state_key.startswith(FEED_ARRIVAL_PREFIX, autoescape=True),
                    _state.c.updated_at >= since,
                )
                .order_by(_state.c.updated_at)
            ).all()
        arrivals = []
        for key, value in rows:
            times = json.loads(value)
            arrivals.append(
                FeedArrival(
                    accession_number=key.removeprefix(FEED_ARRIVAL_PREFIX),
                    accepted_at=datetime.fromisoformat(times["accepted_at"]),
                    stored_at=datetime.fromisoformat(times["stored_at"]),
                )
            )
        return arrivals

    # ------------------------------------------------------------------ the watcher itself

    def mark_poll_ok(self, at: datetime) -> None:
        self.set_state(LAST_POLL_OK_KEY, at.isoformat())

    def last_poll_ok_at(self) -> datetime | None:
        value = self.get_state(LAST_POLL_OK_KEY)
        return datetime.fromisoformat(value) if value else None

    def set_watcher(self, description: str | None) -> None:
        """Say which watcher runs (``None`` when none does any more)."""
        self.set_state(WATCHER_KEY, description or "")

    def running_watcher(self) -> str | None:
        """The description a running watcher left, if any (meaningful while the lock is held)."""
        return self.get_state(WATCHER_KEY) or None
