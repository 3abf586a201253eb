"""Store benchmark: already parsed records written as a data-set archive's are, into SQLite and PostgreSQL.

    python bench/store_bench.py [--count 20000] [--batch 1000] [--postgres-url URL] [--corpus DIR]

What the writer of the SEC's data-set archives does, without reading an archive: records arrive
in batches of ``--batch``, all pointing at ONE raw document that is already stored (the archive,
kept once by ``begin_dataset_load``; the records carry ``RawDocument.reference``). The records are
the corpus's Form D documents, parsed once, each copy made distinct with ``dataclasses.replace``
(a new accession number, file number and issuer name) and marked as coming from a data set (no
acceptance time, ``source='dataset'``). Only ``Store.save_many`` is timed; batches are built
between the timed calls, so memory holds one batch at a time.

For each database, in a fresh child process and a fresh database (PostgreSQL: a throw-away
database created and dropped, when a URL is given or EDGAR_INGEST_TEST_POSTGRES_URL is set):

1. ``store``: every record is new (all inserted);
2. ``again``: the same records once more (all unchanged: a re-published archive).

Prints filings per second and the child's peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from _common import fresh_store, peak_rss_mb, run_child
from ingest_bench import DEFAULT_CORPUS, corpus_documents

from edgar_ingest.records import (
    SOURCE_DATASET,
    DatasetArchiveRef,
    Filer,
    FormDFiling,
    RawDocument,
    SecHeader,
)

FETCHED_AT = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)


def dataset_records(corpus: Path, count: int, batch: int) -> Iterator[list[FormDFiling]]:
    """``count`` distinct data-set records derived from the corpus, ``batch`` at a time."""
    from edgar_ingest.parse import parse_document

    parsed = [parse_document(content) for _, content in corpus_documents(corpus)]
    for start in range(0, count, batch):
        records = []
        for i in range(start, min(start + batch, count)):
            base = parsed[i % len(parsed)]
            issuer = base.document.primary_issuer
            name = f"{issuer.entity_name} (copy {i})"
            cik = issuer.cik or f"{9_000_000 + i:010d}"
            header = SecHeader(
                accession_number=f"{8_000_000_000 + i:010d}-26-{i % 1_000_000:06d}",
                submission_type=base.submission_type,
                filed_as_of_date=base.header.filed_as_of_date if base.header else date(2026, 1, 2),
                accepted_at=None,  # the data sets have no acceptance time
                filers=(Filer(cik, name, f"021-{800_000 + i}"),),
            )
            document = replace(base.document, primary_issuer=replace(issuer, entity_name=name))
            records.append(FormDFiling(document=document, header=header, source=SOURCE_DATASET))
        yield records


def child(database: str, count: int, batch: int, corpus: Path, postgres_url: str | None) -> dict[str, float]:
    """One measured run in a fresh process and a fresh database."""
    from edgar_ingest.store import OutcomeStatus

    with fresh_store(database, postgres_url) as store:
        archive = RawDocument.of(
            b"PK\x03\x04 stand-in for an archive of the Form D data sets",
            "https://www.sec.gov/files/2026q1_d.zip",
            FETCHED_AT,
        )
        ref = DatasetArchiveRef(archive.source_url, "2026q1_d.zip", 2026, 1)
        load = store.begin_dataset_load(ref, archive, date(2000, 1, 1), date(2100, 1, 1), size_bytes=1)
        reference = store.raw_document_reference(load.raw_document_id)
        result: dict[str, float] = {"count": count}
        for label, expected in (("store", OutcomeStatus.INSERTED), ("again", OutcomeStatus.UNCHANGED)):
            elapsed = 0.0
            done = 0
            for records in dataset_records(corpus, count, batch):
                items = [(reference, record) for record in records]
                start = time.perf_counter()
                outcomes = store.save_many(items, "dataset-bench")
                elapsed += time.perf_counter() - start
                wrong = [o for o in outcomes if o.status is not expected]
                if wrong:
                    raise SystemExit(f"{label}: {wrong[0]}")
                done += len(outcomes)
            result[f"{label}_per_s"] = done / elapsed
        result["filings_stored"] = store.status().filings
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20_000, help="distinct records (default 20000)")
    parser.add_argument("--batch", type=int, default=1_000, help="records per save_many (default 1000)")
    parser.add_argument("--postgres-url", default=os.environ.get("EDGAR_INGEST_TEST_POSTGRES_URL"))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        r = child(args.child, args.count, args.batch, args.corpus, args.postgres_url)
        print(json.dumps(r))
        return

    databases = ["sqlite"] + (["postgresql"] if args.postgres_url else [])
    print(f"{args.count} distinct data-set records in batches of {args.batch}, one shared raw document")
    print(f"{'database':<11}{'filings':>8}{'store/s':>10}{'again/s':>10}{'peak RSS MB':>13}")
    for database in databases:
        child_args = ["--count", str(args.count), "--batch", str(args.batch), "--corpus", str(args.corpus)]
        r = run_child(__file__, database, args.postgres_url, *child_args)
        if int(r["filings_stored"]) != args.count:
            raise SystemExit(f"{database}: {int(r['filings_stored'])} filings stored, not {args.count}")
        print(
            f"{database:<11}{int(r['count']):>8}{r['store_per_s']:>10.0f}{r['again_per_s']:>10.0f}"
            f"{r['peak_rss_mb']:>13.0f}"
        )


if __name__ == "__main__":
    main()
