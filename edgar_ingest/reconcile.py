"""``reconcile``: how far the SEC's data sets agree with the filings they were extracted from.

For every filing that has both a data-set row (in a stored archive) and its own document (a
version whose source is the filing), the two records are compared field by field
(``compare.compare_records``); each disagreement is kept in ``source_disagreements`` (one row per
accession and field, replaced on every run, so reruns are idempotent) and the per-field agreement
is reported. No network: the archives and the documents are read from the database. With
``--sample N`` the command first fetches the documents of up to N filings known only from a data
set (``commands.reconcile`` does that through the normal pipeline, so they replace the data-set
values and count as updated).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edgar_ingest import datasets
from edgar_ingest.compare import Comparison, compare_records, field_group
from edgar_ingest.errors import ParseError
from edgar_ingest.parse import parse_document
from edgar_ingest.records import FormDFiling
from edgar_ingest.store import Store

BATCH_SIZE = 500


@dataclass
class FieldAgreement:
    field: str
    compared: int = 0
    agreed: int = 0

    @property
    def disagreed(self) -> int:
        return self.compared - self.agreed

    @property
    def agreement_pct(self) -> float:
        return 100.0 * self.agreed / self.compared if self.compared else 100.0


@dataclass
class ReconcileReport:
    filings_compared: int = 0
    filings_disagreeing: int = 0
    disagreements: int = 0
    unreadable_documents: int = 0
    fields: dict[str, FieldAgreement] = field(default_factory=dict)

    def add(self, comparison: Comparison) -> None:
        self.filings_compared += 1
        differing = {d.field for d in comparison.differences}
        if differing:
            self.filings_disagreeing += 1
            self.disagreements += len(differing)
        for path in comparison.compared:
            agreement = self.fields.setdefault(field_group(path), FieldAgreement(field_group(path)))
            agreement.compared += 1
            if path not in differing:
                agreement.agreed += 1

    def sorted_fields(self) -> list[FieldAgreement]:
        """Least agreement first, then by name: what to look at comes first."""
        return sorted(self.fields.values(), key=lambda a: (a.agreement_pct, a.field))


def reconcile(
    store: Store, *, on_filing: Callable[[], None] | None = None, work_dir: Path | None = None
) -> ReconcileReport:
    """Compare every filing known from both a stored archive and its own document."""
    report = ReconcileReport()
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="edgar-ingest-reconcile-", dir=work_dir) as tmp:
        # Newest load first: a re-published archive is the SEC's current word on a filing.
        for load in reversed(store.completed_dataset_loads()):
            path = Path(tmp) / load.archive_name
            path.write_bytes(store.raw_document_content(load.raw_document_id))
            try:
                batch: list[FormDFiling] = []
                for item in datasets.read_dataset_archive(
                    path, archive_name=load.archive_name, start=load.start, end=load.end
                ):
                    if isinstance(item, FormDFiling) and item.accession_number not in seen:
                        batch.append(item)
                        if len(batch) >= BATCH_SIZE:
                            _compare_batch(store, batch, load.archive_name, report, seen, on_filing)
                            batch = []
                if batch:
                    _compare_batch(store, batch, load.archive_name, report, seen, on_filing)
            except datasets.DatasetArchiveError:
                continue  # recorded when it was loaded; nothing to compare
            finally:
                path.unlink(missing_ok=True)
    return report


def _compare_batch(
    store: Store,
    batch: list[FormDFiling],
    archive_name: str,
    report: ReconcileReport,
    seen: set[str],
    on_filing: Callable[[], None] | None,
) -> None:
    accessions = [r.accession_number for r in batch if r.accession_number]
    documents = store.filing_documents(accessions)
    comparisons: list[Comparison] = []
    for record in batch:
        accession = record.accession_number
        if accession is None or accession not in documents:
            continue
        seen.add(accession)
        try:
            filing = parse_document(documents[accession].content)
        except ParseError:
            report.unreadable_documents += 1
            continue
        comparison = compare_records(accession, record, filing)
        comparisons.append(comparison)
        report.add(comparison)
        if on_filing is not None:
            on_filing()
    if comparisons:
        store.replace_disagreements(comparisons, archive_name)
