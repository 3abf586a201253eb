"""Storage commands: ``db upgrade``, ``ingest``, ``reparse`` and ``history``."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

from edgar_ingest.bulk import reparse_dataset_archives
from edgar_ingest.commands.options import (
    EXIT_FAILED,
    EXIT_OK,
    add_database_option,
    add_migrate_option,
    require_existing_database,
)
from edgar_ingest.commands.runs import first_line, offline_run, stop_on_signals
from edgar_ingest.errors import EdgarIngestError
from edgar_ingest.offline import ingest_paths, reparse_stored
from edgar_ingest.records import RunCounts
from edgar_ingest.settings import Settings
from edgar_ingest.store import Store, create_engine_for, upgrade

MAX_LISTED_FAILURES = 20
MAX_LISTED_SKIPPED = 5


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser(
        "db",
        help="manage the database schema",
        description="Manage the database schema: `db upgrade` applies the pending migrations.",
    )
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND")
    db_sub.required = True
    up = db_sub.add_parser(
        "upgrade",
        help="apply pending migrations (creates the schema on a new database)",
        description="Apply the pending Alembic migrations; creates every table and view on a new database.",
    )
    add_database_option(up)
    up.set_defaults(handler=_db_upgrade)

    ingest = sub.add_parser(
        "ingest",
        help="store local .xml/.txt/.nc Form D documents (offline)",
        description="Parse and store local Form D documents: full submissions (.txt, .nc) or bare XML "
        "(.xml), given as files or folders (searched recursively; other files there are skipped and "
        "reported). Documents that fail are recorded and reported, the run goes on, and the last line "
        "says how many failed; the exit code is 0 unless --strict.",
    )
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or folder")
    ingest.add_argument(
        "--strict",
        action="store_true",
        help="exit with code 1 when any document failed (for scripts); they are recorded either way",
    )
    add_database_option(ingest)
    add_migrate_option(ingest)
    ingest.set_defaults(handler=_ingest)

    reparse = sub.add_parser(
        "reparse",
        help="rebuild parsed rows from the stored raw documents (offline)",
        description="Parse every stored raw document again and update the filings whose records "
        "changed (e.g. after a parser upgrade); documents that failed before are retried. Versions "
        "loaded from the SEC's data sets are rebuilt from the stored archives. No network.",
    )
    add_database_option(reparse)
    add_migrate_option(reparse)
    reparse.set_defaults(handler=_reparse)

    history = sub.add_parser(
        "history",
        help="an offering's versions (D and D/A filings) and the changes between them",
        description="Show the versions of the offerings of an issuer, a file number or a filing, "
        "read from the offering_versions view.",
    )
    which = history.add_mutually_exclusive_group(required=True)
    which.add_argument("--cik", help="issuer CIK (primary or co-issuer), zero-padding optional")
    which.add_argument("--file-number", help="SEC file number, e.g. 021-123456")
    which.add_argument("--accession", help="accession number of any version, e.g. 0001234567-24-000001")
    history.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format (default table)"
    )
    add_database_option(history)
    history.set_defaults(handler=_history)


@contextmanager
def _open_store(settings: Settings, *, migrate: bool) -> Iterator[Store]:
    try:
        engine = create_engine_for(settings.database_url)
        if migrate:
            upgrade(engine)
        store = Store(engine)
    except sa.exc.SQLAlchemyError as exc:
        raise EdgarIngestError(
            f"The database at {_safe_url(settings.database_url)} is unusable: {first_line(exc)}"
        ) from exc
    try:
        yield store
    except sa.exc.SQLAlchemyError as exc:
        raise EdgarIngestError(
            f"Database error on {_safe_url(settings.database_url)}: {first_line(exc)}; if the schema is "
            "missing or old, run `edgar-ingest db upgrade`."
        ) from exc
    finally:
        store.close()


def _safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    with _open_store(settings, migrate=True):
        pass
    print(f"Database at {_safe_url(settings.database_url)} is up to date.")
    return EXIT_OK


def _run(
    command: str,
    settings: Settings,
    migrate: bool,
    work: Callable[[Store], RunCounts],
    *,
    skipped_files: Sequence[Path] = (),
) -> RunCounts:
    """One ingest or reparse, recorded in ``runs`` (see ``commands.runs``): SIGTERM stops it like
    Ctrl-C (exit 130, ``interrupted``), any error ends it ``failed``, a kill -9 ``abandoned``."""
    with _open_store(settings, migrate=migrate) as store, stop_on_signals(store.engine):
        with offline_run(store, command) as run_id:
            counts = work(store)
        store.finish_run(run_id, counts, message=_summary(counts))
    _report(command, counts, skipped_files, sys.stdout)
    return counts


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    skipped: list[Path] = []
    counts = _run(
        "ingest",
        settings,
        not args.no_migrate,
        lambda store: ingest_paths(store, args.paths, on_skipped=skipped.append),
        skipped_files=skipped,
    )
    return EXIT_FAILED if args.strict and counts.failed else EXIT_OK


def _reparse(args: argparse.Namespace, settings: Settings) -> int:
    def work(store: Store) -> RunCounts:
        counts = reparse_stored(store)
        # Then the data-set versions, from the stored archives: a filing's own version stays.
        reparse_dataset_archives(store, counts)
        return counts

    _run("reparse", settings, not args.no_migrate, work)
    return EXIT_OK


def _summary(counts: RunCounts) -> str:
    documents = "1 document" if counts.discovered == 1 else f"{counts.discovered} documents"
    text = (
        f"{documents}: {counts.inserted} inserted, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {counts.failed} failed"
    )
    if counts.skipped:
        text += f"; {counts.skipped} other file{'' if counts.skipped == 1 else 's'} skipped"
    return text


def _report(command: str, counts: RunCounts, skipped_files: Sequence[Path], out: TextIO) -> None:
    """The failures and skipped files first, then the summary: the last line says how many failed."""
    for source, reason in counts.failures[:MAX_LISTED_FAILURES]:
        print(f"  failed: {source}: {reason}", file=out)
    if len(counts.failures) > MAX_LISTED_FAILURES:
        print(
            f"  ... and {len(counts.failures) - MAX_LISTED_FAILURES} more (see `edgar-ingest failures`)",
            file=out,
        )
    if skipped_files:
        names = ", ".join(str(p) for p in skipped_files[:MAX_LISTED_SKIPPED])
        more = (
            f" and {len(skipped_files) - MAX_LISTED_SKIPPED} more"
            if len(skipped_files) > MAX_LISTED_SKIPPED
            else ""
        )
        print(f"  skipped (not .xml, .txt or .nc): {names}{more}", file=out)
    print(f"{command}: {_summary(counts)}", file=out)


# --------------------------------------------------------------------------- history

TABLE_COLUMNS = (
    ("version", "v"),
    ("accession_number", "accession"),
    ("submission_type", "type"),
    ("filing_date", "filed"),
    ("accepted_at", "accepted (UTC)"),
    ("total_offering_amount", "offering"),
    ("total_amount_sold", "sold"),
    ("amount_sold_change", "sold change"),
    ("total_remaining", "remaining"),
    ("total_investors", "investors"),
    ("investors_change", "inv. change"),
    ("valid_to", "valid to"),
    ("is_latest", "latest"),
)


def _history(args: argparse.Namespace, settings: Settings) -> int:
    require_existing_database(settings)
    with _open_store(settings, migrate=False) as store:
        rows = store.offering_versions(
            cik=args.cik, file_number=args.file_number, accession_number=args.accession
        )
    if not rows:
        what = (
            f"CIK {args.cik}"
            if args.cik
            else f"file number {args.file_number}"
            if args.file_number
            else f"accession {args.accession}"
        )
        print(f"edgar-ingest: no stored filing matches {what}.", file=sys.stderr)
    if args.format == "json":  # even empty, valid JSON for a script that reads it
        json.dump([{k: _json_value(v) for k, v in row.items()} for row in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.format == "csv":
        _write_csv(rows, sys.stdout)
    else:
        _write_table(rows, sys.stdout)
    return EXIT_OK if rows else EXIT_FAILED  # a query that matched nothing (DESIGN.md section 3)


def _plain(value: Any) -> str:
    """Exact, plain text of a view value (the same on both databases)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    # Amounts are strings ("686000000"), always: a JSON number may be read as a float.
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _write_csv(rows: list[dict[str, Any]], out: TextIO) -> None:
    if not rows:
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(rows[0]))
    for row in rows:
        writer.writerow([_plain(v) for v in row.values()])


def _money(value: Decimal | None, *, indefinite: bool = False, signed: bool = False) -> str:
    if indefinite:
        return "Indefinite"
    if value is None:
        return ""
    text = f"{value:+,.0f}" if signed else f"{value:,.0f}"
    if value != value.to_integral_value():
        text = f"{value:+,.2f}" if signed else f"{value:,.2f}"
    return text


def _cell(column: str, row: dict[str, Any]) -> str:
    value = row.get(column)
    if column == "total_offering_amount":
        return _money(value, indefinite=bool(row.get("is_offering_amount_indefinite")))
    if column == "total_remaining":
        return _money(value, indefinite=bool(row.get("is_remaining_indefinite")))
    if column in ("total_amount_sold",):
        return _money(value)
    if column in ("amount_sold_change",):
        return _money(value, signed=True)
    if column == "investors_change":
        return "" if value is None else f"{value:+d}"
    if column == "accepted_at":
        return "" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"
    if column == "is_latest":
        return "yes" if value else ""
    return _plain(value)


def _write_table(rows: list[dict[str, Any]], out: TextIO) -> None:
    by_offering: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_offering.setdefault(str(row["offering_key"]), []).append(row)
    for n, (key, versions) in enumerate(by_offering.items()):
        if n:
            out.write("\n")
        latest = versions[-1]
        out.write(f"Offering {key}: {latest.get('issuer_name') or '?'} (CIK {latest.get('cik') or '?'})\n")
        cells = [[title for _, title in TABLE_COLUMNS]]
        cells += [[_cell(column, row) for column, _ in TABLE_COLUMNS] for row in versions]
        widths = [max(len(line[i]) for line in cells) for i in range(len(TABLE_COLUMNS))]
        for i, line in enumerate(cells):
            out.write(
                "  ".join(
                    c.rjust(w) if i and _numeric(j) else c.ljust(w)
                    for j, (c, w) in enumerate(zip(line, widths, strict=True))
                ).rstrip()
            )
            out.write("\n")


def _numeric(index: int) -> bool:
    return TABLE_COLUMNS[index][0] in {
        "version",
        "total_offering_amount",
        "total_amount_sold",
        "amount_sold_change",
        "total_remaining",
        "total_investors",
        "investors_change",
    }
