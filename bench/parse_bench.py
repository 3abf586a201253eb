"""Parser speed: median microseconds per filing over the real corpus, against edgartools.

Run by hand: ``python bench/parse_bench.py [--rounds N] [--corpus DIR]``. Every document of
``../shared/corpus`` (46 bare XML and 6 full submissions) is parsed once per round; a round's
time divided by its document count is one sample, and the median of the samples is printed.

When edgartools is importable (``pip install edgartools``: a tool for the dev machine, never a
dependency of this project) ``edgar.offerings.FormD.from_xml`` parses the same filings' Form D
XML, as the str it expects, in the same run. The contenders' rounds are interleaved (and the
order rotated) so that a noisy neighbour on the machine slows all alike; the ratio is printed.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from edgar_ingest.parse import parse_document  # noqa: E402  (after the path fix-up above)

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"


@dataclass
class Contender:
    name: str
    parse: Callable[[Any], object]
    documents: Sequence[Any]
    samples: list[float]


def form_d_xml(content: bytes) -> bytes:
    """The Form D XML of a document: what edgartools is given for the same filing."""
    start = content.find(b"<XML>")
    if start < 0:
        return content.lstrip()
    return content[start + len(b"<XML>") : content.find(b"</XML>", start)].lstrip()


def measure(contenders: Sequence[Contender], rounds: int) -> None:
    for contender in contenders:  # warm-up: imports, caches, first allocations
        for document in contender.documents:
            contender.parse(document)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection landing in one round would be noise, not parser cost
    try:
        for round_number in range(rounds):
            # Rotate who goes first: the first after another parser's round meets a colder cache.
            shift = round_number % len(contenders)
            for contender in [*contenders[shift:], *contenders[:shift]]:
                parse, documents = contender.parse, contender.documents
                start = time.perf_counter()
                for document in documents:
                    parse(document)
                contender.samples.append((time.perf_counter() - start) / len(documents) * 1e6)
    finally:
        if gc_was_enabled:
            gc.enable()


def edgartools_from_xml() -> Callable[[str], object] | None:
    try:
        from edgar.offerings import FormD  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    from_xml: Callable[[str], object] = FormD.from_xml
    return from_xml


def edgartools_version() -> str:
    try:
        return importlib.metadata.version("edgartools")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="parses of the whole corpus (default 200)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the corpus folder")
    args = parser.parse_args(argv)

    paths = sorted((args.corpus / "formd_xml").glob("*.xml")) + sorted(
        p for p in (args.corpus / "submissions_txt").glob("*") if p.suffix in {".txt", ".nc"}
    )
    if not paths:
        print(f"no corpus documents under {args.corpus}", file=sys.stderr)
        return 2
    documents = [p.read_bytes() for p in paths]
    xml_bytes = [form_d_xml(d) for d in documents]
    contenders = [
        Contender("edgar_ingest parse_document, documents as filed", parse_document, documents, []),
        Contender("edgar_ingest parse_document, Form D XML only", parse_document, xml_bytes, []),
    ]
    edgartools = edgartools_from_xml()
    if edgartools is not None:
        xml_strings = [x.decode("utf-8") for x in xml_bytes]
        contenders.append(Contender("edgartools FormD.from_xml, same XML (str)", edgartools, xml_strings, []))

    bare = sum(p.suffix == ".xml" for p in paths)
    print(f"corpus: {len(documents)} documents ({bare} bare XML), {args.rounds} rounds, interleaved")
    measure(contenders, args.rounds)
    medians = {c.name: statistics.median(c.samples) for c in contenders}
    for name, median in medians.items():
        print(f"{name:<52} {median:8.1f} us/filing (median)")
    if edgartools is None:
        print("edgartools not installed (pip install edgartools): no comparison")
        return 0
    theirs = medians[contenders[2].name]
    print(f"edgartools version: {edgartools_version()}")
    print(
        f"ratio on the same bytes (target >= 5x):  edgartools is "
        f"{theirs / medians[contenders[1].name]:.2f}x slower"
    )
    print(
        f"ratio incl. the SEC headers we also parse: edgartools is "
        f"{theirs / medians[contenders[0].name]:.2f}x slower"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
