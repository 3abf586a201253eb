"""Read queries: offering history (``offering_versions``, ``offerings_latest``) and status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa

from edgar_ingest.records import SOURCE_DATASET
from edgar_ingest.store.base import _dataset_archives, _failures, _filers, _filings, _issuers, _raw
from edgar_ingest.store.ledger import Ledger, RunInfo


@dataclass(frozen=True, slots=True)
class StoreStatus:
    filings: int
    offerings: int
    raw_documents: int
    unresolved_failures: int
    checkpoint: date | None
    last_runs: list[RunInfo]
    dataset_only_filings: int = 0  # versions known only from the SEC's data sets (no document yet)
    dataset_archives_loaded: int = 0  # distinct archives (by sha256) with a completed load


# Columns of the analyst views by kind, to give the same Python values on both databases.
_VERSION_BOOL_COLUMNS: Final = frozenset(
    {
        "is_offering_amount_indefinite",
        "is_remaining_indefinite",
        "has_non_accredited_investors",
        "is_first_sale_yet_to_occur",
        "is_latest",
        "is_40_act",
        "is_business_combination",
        "is_more_than_one_year",
    }
)
_VERSION_AMOUNT_COLUMNS: Final = frozenset(
    {
        "total_offering_amount",
        "total_amount_sold",
        "total_remaining",
        "minimum_investment",
        "amount_sold_change",
        "offering_amount_change",
        "sales_commissions",
        "finders_fees",
        "gross_proceeds_used",
    }
)
_VERSION_DATE_COLUMNS: Final = frozenset(
    {"filing_date", "first_sale_date", "valid_from", "valid_to", "first_filing_date", "last_filing_date"}
)


def normalise_view_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row of an analyst view (``offering_versions``, ``offerings_latest``,
    ``offering_related_persons``, ``issuers_latest``) with the same Python types on both databases.

    SQLite returns booleans as 0/1, dates and ``accepted_at`` as ISO text and whole amounts as
    integers; PostgreSQL returns bool, date, aware datetime and Decimal.
    """
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None:
            out[key] = None
        elif key in _VERSION_BOOL_COLUMNS:
            out[key] = bool(value)
        elif key in _VERSION_AMOUNT_COLUMNS:
            out[key] = _to_decimal(value)
        elif key in _VERSION_DATE_COLUMNS:
            out[key] = value if isinstance(value, date) else date.fromisoformat(str(value))
        elif key == "accepted_at":
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            out[key] = moment.astimezone(UTC)
        else:
            out[key] = value
    return out


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


class Queries(Ledger):
    """Reads offering history and the store's status (which includes the ledger's runs)."""

    # ------------------------------------------------------------------ reading

    def offering_versions(
        self,
        *,
        cik: str | None = None,
        file_number: str | None = None,
        accession_number: str | None = None,
        offering_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of ``offering_versions`` for the offerings matching one criterion (all if none).

        ``cik`` matches any issuer of a filing (primary or co-issuer); ``file_number`` any filer's
        file number; ``accession_number`` the offering that filing belongs to. Values are
        normalised to the same Python types on both databases (see ``normalise_view_row``).
        """
        keys = sa.select(_filings.c.offering_key)
        if cik is not None:
            padded = cik.strip().zfill(10)
            keys = keys.where(
                sa.or_(
                    _filings.c.cik == padded,
                    _filings.c.id.in_(sa.select(_issuers.c.filing_id).where(_issuers.c.cik == padded)),
                )
            )
        elif file_number is not None:
            number = file_number.strip()
            keys = keys.where(
                sa.or_(
                    _filings.c.file_number == number,
                    _filings.c.offering_key == number,
                    _filings.c.id.in_(sa.select(_filers.c.filing_id).where(_filers.c.file_number == number)),
                )
            )
        elif accession_number is not None:
            keys = keys.where(_filings.c.accession_number == accession_number.strip())
        elif offering_key is not None:
            keys = keys.where(_filings.c.offering_key == offering_key)
        view = sa.table("offering_versions", sa.column("offering_key"), sa.column("version"))
        stmt = sa.select(sa.text("*")).select_from(view)
        if any(v is not None for v in (cik, file_number, accession_number, offering_key)):
            stmt = stmt.where(view.c.offering_key.in_(keys.scalar_subquery()))
        stmt = stmt.order_by(view.c.offering_key, view.c.version)
        with self.engine.connect() as conn:
            return [normalise_view_row(dict(row._mapping)) for row in conn.execute(stmt)]

    def offerings_latest(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM offerings_latest ORDER BY offering_key"))
            return [normalise_view_row(dict(row._mapping)) for row in rows]

    def status(self, *, runs: int = 5) -> StoreStatus:
        with self.engine.connect() as conn:
            filings = conn.scalar(sa.select(sa.func.count()).select_from(_filings)) or 0
            offerings = conn.scalar(sa.select(sa.func.count(sa.distinct(_filings.c.offering_key)))) or 0
            raw = conn.scalar(sa.select(sa.func.count()).select_from(_raw)) or 0
            open_failures = (
                conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(_failures)
                    .where(_failures.c.is_resolved.is_(False))
                )
                or 0
            )
            dataset_only = (
                conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(_filings)
                    .where(_filings.c.source == SOURCE_DATASET)
                )
                or 0
            )
            archives = (
                conn.scalar(
                    sa.select(sa.func.count(sa.distinct(_dataset_archives.c.sha256))).where(
                        _dataset_archives.c.completed_at.is_not(None)
                    )
                )
                or 0
            )
        return StoreStatus(
            filings=int(filings),
            offerings=int(offerings),
            raw_documents=int(raw),
            unresolved_failures=int(open_failures),
            checkpoint=self.get_checkpoint(),
            last_runs=self.last_runs(runs),
            dataset_only_filings=int(dataset_only),
            dataset_archives_loaded=int(archives),
        )
