"""Ingest benchmark: the real corpus replicated to N distinct filings, into SQLite and PostgreSQL.

    python bench/ingest_bench.py [--count 10000] [--postgres-url URL] [--corpus DIR]

Every Form D document of the corpus (full submissions and bare XML) is copied with a new
accession number, a new file number and a changed issuer name, so that each copy is a distinct
filing (not recognised as the same document). The copies are written to a temporary folder once;
then, for each database and for 20% and 100% of the count, a fresh child process:

1. ``ingest`` reads, parses and stores every file (what ``edgar-ingest ingest DIR`` does);
2. ``reparse`` re-reads every stored raw document with the same parser version (all unchanged);
3. ``reparse`` with another parser version, which re-derives every filing's rows.

Each prints filings per second and the child's peak resident memory (ru_maxrss): flat memory
means the peak at 20% and at 100% of the count are about the same. PostgreSQL runs when a URL is
given or EDGAR_INGEST_TEST_POSTGRES_URL is set (a throw-away database is created and dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path

from _common import fresh_store, peak_rss_mb, run_child

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(os.environ.get("EDGAR_INGEST_CORPUS_DIR", REPO.parent / "shared" / "corpus"))
ACCESSION = re.compile(rb"\d{10}-\d{2}-\d{6}")
FILE_NUMBER = re.compile(rb"(SEC FILE NUMBER:\s*)021-\d+")
ENTITY_NAME_END = b"</entityName>"


def corpus_documents(corpus: Path) -> list[tuple[str, bytes]]:
    from edgar_ingest.errors import ParseError
    from edgar_ingest.parse import parse_document

    docs = []
    for folder in ("submissions_txt", "formd_xml"):
        for path in sorted((corpus / folder).iterdir()):
            if path.suffix.lower() not in {".xml", ".txt", ".nc"}:
                continue
            content = path.read_bytes()
            try:
                parse_document(content)
            except ParseError:
                continue
            docs.append((path.suffix.lower(), content))
    if not docs:
        raise SystemExit(f"no Form D documents under {corpus}")
    return docs


def replicate(docs: list[tuple[str, bytes]], count: int, folder: Path) -> list[Path]:
    """Write ``count`` distinct filings derived from ``docs``; returns their paths in order."""
    paths = []
    for i in range(count):
        suffix, content = docs[i % len(docs)]
        accession = f"{9_000_000_000 + i:010d}-25-{i % 1_000_000:06d}".encode()
        copy = ACCESSION.sub(accession, content) if suffix != ".xml" else content
        copy = FILE_NUMBER.sub(rb"\g<1>021-" + str(900_000 + i).encode(), copy)
        copy = copy.replace(ENTITY_NAME_END, f" (copy {i}){ENTITY_NAME_END.decode()}".encode(), 1)
        sub = folder / f"{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{i:07d}{suffix}"
        path.write_bytes(copy)
        paths.append(path)
    return paths


def child(database: str, files_list: Path, postgres_url: str | None) -> dict[str, float]:
    """One measured run in a fresh process and a fresh database."""
    from edgar_ingest.offline import ingest_paths, reparse_stored

    paths = [Path(line) for line in files_list.read_text().splitlines() if line]
    with fresh_store(database, postgres_url) as store:
        result: dict[str, float] = {"count": len(paths)}
        for label, run in (
            ("ingest", lambda: ingest_paths(store, paths)),
            ("reparse", lambda: reparse_stored(store)),
            ("rederive", lambda: reparse_stored(store, parser_version="bench-rederive")),
        ):
            start = time.perf_counter()
            counts = run()
            elapsed = time.perf_counter() - start
            done = counts.inserted + counts.updated + counts.unchanged
            if counts.failed or done != len(paths):
                raise SystemExit(f"{label}: {counts}")
            result[f"{label}_per_s"] = done / elapsed
            result[f"{label}_s"] = elapsed
        status = store.status()
        result["filings_stored"] = status.filings
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="distinct filings (default 10000)")
    parser.add_argument("--postgres-url", default=os.environ.get("EDGAR_INGEST_TEST_POSTGRES_URL"))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    parser.add_argument("--files", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.files, args.postgres_url)))
        return

    databases = ["sqlite"] + (["postgresql"] if args.postgres_url else [])
    small = max(1, args.count // 5)
    with tempfile.TemporaryDirectory(prefix="edgar-bench-") as tmp:
        folder = Path(tmp)
        docs = corpus_documents(args.corpus)
        start = time.perf_counter()
        paths = replicate(docs, args.count, folder / "docs")
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"{args.count} distinct filings from {len(docs)} corpus documents "
            f"({size_mb:.0f} MB, written in {time.perf_counter() - start:.1f} s)"
        )
        print(
            f"{'database':<11}{'filings':>8}{'ingest/s':>10}{'reparse/s':>11}"
            f"{'rederive/s':>12}{'peak RSS MB':>13}"
        )
        for database in databases:
            for count in (small, args.count):
                files = folder / f"files-{count}.txt"
                files.write_text("\n".join(str(p) for p in paths[:count]))
                r = run_child(__file__, database, args.postgres_url, "--files", str(files))
                print(
                    f"{database:<11}{int(r['count']):>8}{r['ingest_per_s']:>10.0f}{r['reparse_per_s']:>11.0f}"
                    f"{r['rederive_per_s']:>12.0f}{r['peak_rss_mb']:>13.0f}"
                )


if __name__ == "__main__":
    main()
