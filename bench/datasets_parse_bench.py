"""Data-set parse speed and memory: a synthetic 60,000-filing quarter through ``read_dataset_archive``.

Run by hand: ``python bench/datasets_parse_bench.py [--count N] [--archive PATH] [--keep]``.
Writes an archive in the 2026 layout with ``tests/dataset_builder.py`` (filings varied from the
project's fixtures: 1-3 issuers, related persons and recipients as many as real filings have
(``PERSONS_PER_FILING``: mean 4.7), one signature), then parses it in a fresh process and prints
filings per second and that process's peak RSS (``ru_maxrss``), with its RSS before parsing (the
interpreter and the imports) for reference. Nothing is asserted: the figures go in the README.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from edgar_ingest.datasets import (  # noqa: E402  (after the path fix-up above)
    DatasetNotice,
    DatasetRowFailure,
    read_dataset_archive,
)
from edgar_ingest.parse import parse_document  # noqa: E402
from edgar_ingest.records import (  # noqa: E402
    Filer,
    FormDFiling,
    Issuer,
    RelatedPerson,
    SecHeader,
)

FIXTURES = REPO_ROOT / "tests" / "fixtures"
TEMPLATES = (
    "formd/form_d_complete.xml",
    "formd/co_issuers.xml",
    "formd/quirk_all_states.xml",
    "formd/quirk_company_split_name.xml",
    "formd/quirk_none_placeholders.xml",
    "formd/quirk_unticked_checkboxes_absent.xml",
    "amendment_chain/0001999001-24-000003.txt",
)


# What real filings hold, counted in the 46 Form D XML documents of ../shared/corpus (real EDGAR
# filings); synthetic filings draw from these counts so that a synthetic quarter has as many rows
# per filing as a real one: ~9 across the data set's six tables, ~16.5 child rows once stored
# (the templates alone, written to exercise every field, would give ~23).
# Related persons: 1 to 14 a filing (mean 4.7, median 4); sales-compensation recipients: 0.2.
PERSONS_PER_FILING = (1,) * 5 + (2,) * 6 + (3,) * 10 + (4,) * 5 + (5,) * 4 + (6,) * 5 + (7,) * 3
PERSONS_PER_FILING += (8, 8, 9, 9, 10, 10, 10, 14)
RECIPIENTS_PER_FILING = (0, 0, 0, 0, 1)
# Relationships of a person: 166 have one, 39 two, 11 three (mean 1.3).
RELATIONSHIPS = ("Executive Officer", "Director", "Promoter")
RELATIONSHIPS_PER_PERSON = (1,) * 166 + (2,) * 39 + (3,) * 11
# Federal exemptions claimed, as the corpus's filings claim them (mean 1.7 items).
EXEMPTION_SETS: tuple[tuple[str, ...], ...] = (
    (("06b",),) * 26
    + (("06b", "3C", "3C.7"),) * 6
    + (("06",),) * 3
    + (("06c", "3C", "3C.7"),) * 3
    + (("06b", "3C", "3C.1"),) * 2
    + (("06c",),) * 2
    + (("06c", "3C", "3C.1"), ("06b", "3C", "3C.1", "3C.5", "3C.7"), ("06", "3C", "3C.1"), ("06b", "3C.1"))
)
# Co-issuers: 2 filings of 46 have one. Previous names: 3 of 48 issuers give one, EDGAR lists one
# for 6. Signatures: 2 filings of 46 are signed twice.
CO_ISSUER_EVERY = 23
ISSUER_PREVIOUS_NAME_EVERY = 16
EDGAR_PREVIOUS_NAME_EVERY = 8
SECOND_SIGNATURE_EVERY = 23


def synthetic_filings(count: int, seed: int = 2024) -> Iterator[FormDFiling]:
    """``count`` distinct filings of one quarter (2024Q1), varied from the fixtures."""
    rng = random.Random(seed)
    templates = [parse_document((FIXTURES / name).read_bytes()).document for name in TEMPLATES]
    people = [person for template in templates for person in template.related_persons]
    co_issuer_pool = [issuer for template in templates for issuer in template.co_issuers]
    quarter_start = date(2024, 1, 1)
    for number in range(count):
        template = templates[number % len(templates)]
        cik = f"{1_000_000 + number:010d}"
        primary: Issuer = dataclasses.replace(
            template.primary_issuer,
            cik=cik,
            entity_name=f"Example Fund {number} LP",
            issuer_previous_names=_some(rng, ISSUER_PREVIOUS_NAME_EVERY, f"Example Fund {number} Inc"),
            edgar_previous_names=_some(rng, EDGAR_PREVIOUS_NAME_EVERY, f"EXAMPLE FUND {number}"),
        )
        co_issuers = tuple(
            dataclasses.replace(co_issuer, issuer_previous_names=(), edgar_previous_names=())
            for co_issuer in co_issuer_pool[:1]
            if rng.randrange(CO_ISSUER_EVERY) == 0
        )
        persons: list[RelatedPerson] = [
            dataclasses.replace(
                rng.choice(people),
                last_name=f"Person{number}-{index}",
                relationships=RELATIONSHIPS[: rng.choice(RELATIONSHIPS_PER_PERSON)],
            )
            for index in range(rng.choice(PERSONS_PER_FILING))
        ]
        recipients = tuple(
            dataclasses.replace(template.offering.sales_compensation_recipients[0], crd_number=str(index))
            for index in range(
                rng.choice(RECIPIENTS_PER_FILING) if template.offering.sales_compensation_recipients else 0
            )
        )
        offering = dataclasses.replace(
            template.offering,
            sales_compensation_recipients=recipients,
            federal_exemptions=rng.choice(EXEMPTION_SETS),
        )
        document = dataclasses.replace(
            template,
            primary_issuer=primary,
            co_issuers=co_issuers,
            related_persons=tuple(persons),
            offering=offering,
            signatures=template.signatures[:1] * (2 if rng.randrange(SECOND_SIGNATURE_EVERY) == 0 else 1),
        )
        accession = f"{9_000_000_000 + number // 1000:010d}-24-{number % 1000:06d}"
        header = SecHeader(
            accession_number=accession,
            submission_type=document.submission_type,
            filed_as_of_date=quarter_start + timedelta(days=number % 90),
            accepted_at=None,
            filers=(Filer(cik=cik, name=primary.entity_name, file_number=f"021-{400_000 + number}"),),
        )
        yield FormDFiling(document=document, header=header, source="dataset")


def _some(rng: random.Random, every: int, value: str) -> tuple[str, ...]:
    """``(value,)`` once in ``every`` draws, else nothing."""
    return (value,) if rng.randrange(every) == 0 else ()


def measure(archive: Path) -> None:
    """In a fresh process: parse the archive once, print throughput and peak RSS."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counts = {"filings": 0, "failures": 0, "notices": 0}
    started = time.perf_counter()
    for item in read_dataset_archive(archive):
        if isinstance(item, DatasetRowFailure):
            counts["failures"] += 1
        elif isinstance(item, DatasetNotice):
            counts["notices"] += 1
        else:
            counts["filings"] += 1
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        f"parsed {counts['filings']:,} filings ({counts['failures']} failures, {counts['notices']} notices) "
        f"in {elapsed:.2f} s: {counts['filings'] / elapsed:,.0f} filings/s"
    )
    print(f"peak RSS {peak / 1024:.1f} MiB (before parsing: {before / 1024:.1f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60_000, help="filings in the archive (60,000)")
    parser.add_argument("--archive", type=Path, help="parse this archive instead of building one")
    parser.add_argument("--keep", type=Path, help="build the archive at this path and keep it")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the fresh process
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    with tempfile.TemporaryDirectory() as scratch:
        archive = args.archive
        if archive is None:
            from tests.dataset_builder import write_dataset_archive

            archive = args.keep or Path(scratch) / "2024q1_d.zip"
            started = time.perf_counter()
            write_dataset_archive(archive, synthetic_filings(args.count), folder="2024Q1_d")
            print(f"built {archive.name}: {args.count:,} filings in {time.perf_counter() - started:.1f} s")
        _describe(archive)
        subprocess.run([sys.executable, __file__, "--measure", str(archive)], check=True)


def _describe(archive: Path) -> None:
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        rows = 0
        size = 0
        for info in zf.infolist():
            with zf.open(info) as member:
                rows += sum(1 for _ in member) - 1
            size += info.file_size
    zipped = archive.stat().st_size / 1e6
    print(f"archive: {zipped:.1f} MB zipped, {size / 1e6:.1f} MB of TSV, {rows:,} rows")


if __name__ == "__main__":
    main()
