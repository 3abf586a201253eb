"""``reconcile``: compare the SEC's data sets with the filings' own documents, field by field."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from edgar_ingest.commands.options import (
    EXIT_OK,
    add_database_option,
    add_log_format_option,
    add_migrate_option,
    add_network_options,
)
from edgar_ingest.commands.pipeline import run_job
from edgar_ingest.errors import ConfigError
from edgar_ingest.pipeline import PipelineContext, ingest_refs
from edgar_ingest.reconcile import ReconcileReport, reconcile
from edgar_ingest.records import FilingRef
from edgar_ingest.settings import Settings
from edgar_ingest.store import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "reconcile",
        help="compare the data sets' values with the filings' own documents, field by field",
        description="For every filing known both from a loaded Form D data-set archive and from its own "
        "document, compare the two field by field; print per field how many were compared, agreed "
        "and disagreed, and keep each disagreement (accession, field, data-set value, filing value) "
        "in the table source_disagreements. With --sample N, first fetch the documents of up to N "
        "filings known only from a data set (chosen at random; they replace the data-set values).",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        metavar="N",
        help="fetch the documents of up to N data-set-only filings first (needs a User-Agent)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    add_database_option(parser)
    add_migrate_option(parser)
    add_network_options(parser)
    add_log_format_option(parser, "progress lines of the --sample fetches on stderr as text or JSON")
    parser.set_defaults(handler=cmd_reconcile, workers=4)


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    if args.sample < 0:
        raise ConfigError("--sample must be 0 or more.")
    if args.sample == 0:
        store = Store.from_url(settings.database_url, migrate=not args.no_migrate)
        try:
            report = reconcile(store)
        finally:
            store.close()
        _print(report, 0, args.format, sys.stdout)
        return EXIT_OK
    result: list[ReconcileReport] = []
    fetched: list[int] = [0]

    def body(ctx: PipelineContext) -> str | None:
        refs = [
            FilingRef(
                accession_number=v.accession_number,
                cik=v.cik,
                form_type=v.submission_type,
                filing_date=v.filing_date,
                path=f"/Archives/edgar/data/{int(v.cik)}/{v.accession_number}.txt",
            )
            for v in ctx.store.random_dataset_versions(args.sample)
        ]
        ctx.progress.event("sample", filings=len(refs))
        ingest_refs(ctx, refs)
        fetched[0] = ctx.counts.updated + ctx.counts.inserted
        result.append(reconcile(ctx.store))
        return None

    # The report of the fetches goes to stderr: stdout carries the comparison (table or JSON).
    code = run_job(args, settings, "reconcile", None, None, body, report_stream=sys.stderr)
    if result:
        _print(result[0], fetched[0], args.format, sys.stdout)
    return code


def _print(report: ReconcileReport, fetched: int, fmt: str, out: TextIO) -> None:
    fields = report.sorted_fields()
    if fmt == "json":
        payload = {
            "filings_compared": report.filings_compared,
            "documents_fetched": fetched,
            "filings_disagreeing": report.filings_disagreeing,
            "disagreements": report.disagreements,
            "unreadable_documents": report.unreadable_documents,
            "fields": [
                {
                    "field": f.field,
                    "compared": f.compared,
                    "agreed": f.agreed,
                    "disagreed": f.disagreed,
                    "agreement_pct": f"{f.agreement_pct:.2f}",
                }
                for f in fields
            ],
        }
        out.write(json.dumps(payload, indent=2) + "\n")
        return
    out.write(
        f"reconcile: {report.filings_compared} filings compared"
        + (f" ({fetched} documents fetched first)" if fetched else "")
        + f", {report.filings_disagreeing} disagree on {report.disagreements} fields"
        + " (kept in source_disagreements)\n"
    )
    if report.filings_compared == 0:
        out.write(
            "nothing to compare: no filing is known both from a data-set archive and from its own "
            "document; load archives with backfill --source datasets, then fetch documents with "
            "reconcile --sample N or sync.\n"
        )
        return
    width = max(len("field"), *(len(f.field) for f in fields))
    out.write(f"{'field':<{width}}  {'compared':>8}  {'agreed':>8}  {'disagreed':>9}  {'agreement':>9}\n")
    for f in fields:
        counts = f"{f.compared:>8}  {f.agreed:>8}  {f.disagreed:>9}"
        out.write(f"{f.field:<{width}}  {counts}  {f.agreement_pct:>8.2f}%\n")
