"""Field-by-field comparison of two records of the same filing (pure: records in, differences out).

``reconcile`` compares what the SEC's data set says about a filing with what the filing's own
document says. Both parsers produce the same ``FormDFiling`` record, so the comparison is generic:
each record is flattened into ``path -> text`` pairs (``offering.total_amount_sold``,
``related_persons[2].last_name``, ``related_persons.count``), and the two flattenings are compared
path by path. Paths with their list indices removed (``related_persons.last_name``) name the
fields of the per-field agreement table.

What a data set cannot know is left out: the acceptance time and the SEC header's filer list
(a data set names only the primary issuer and one file number), so only the header's accession
number, submission type, filing date and primary file number are compared.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from edgar_ingest.records import FormDFiling

_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True, slots=True)
class FieldDifference:
    field: str  # the path with indices, e.g. "related_persons[1].last_name"
    dataset_value: str | None
    filing_value: str | None


def field_group(path: str) -> str:
    """The field a path belongs to in the agreement table: its indices removed."""
    return _INDEX.sub("", path)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _flatten(prefix: str, value: object) -> Iterator[tuple[str, str | None]]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _flatten(f"{prefix}.{f.name}" if prefix else f.name, getattr(value, f.name))
    elif isinstance(value, tuple):
        if value and all(isinstance(v, str) for v in value):
            yield prefix, ",".join(value)  # codes and names: one value, order matters
        elif not value:
            yield f"{prefix}.count", "0"
        else:
            yield f"{prefix}.count", str(len(value))
            for i, item in enumerate(value):
                yield from _flatten(f"{prefix}[{i}]", item)
    else:
        yield prefix, _text(value)


def flatten_record(filing: FormDFiling) -> dict[str, str | None]:
    """The comparable fields of a record, ``path -> text`` (None for absent)."""
    fields = dict(_flatten("", filing.document))
    header = filing.header
    fields["header.accession_number"] = header.accession_number if header else None
    fields["header.submission_type"] = filing.submission_type
    fields["header.filing_date"] = _text(header.filed_as_of_date) if header else None
    fields["header.file_number"] = filing.file_number
    return fields


@dataclass(frozen=True, slots=True)
class Comparison:
    """One filing compared: every field compared, and those that disagree."""

    accession_number: str
    compared: tuple[str, ...]  # paths compared (present in either record)
    differences: tuple[FieldDifference, ...]


def compare_records(accession_number: str, dataset: FormDFiling, filing: FormDFiling) -> Comparison:
    """Compare the data set's record of a filing with the record parsed from its document.

    A path present in one record only (a list longer on one side) counts as compared and as a
    difference, with None on the side that lacks it; the ``.count`` path says the lengths differ.
    """
    ours = flatten_record(dataset)
    theirs = flatten_record(filing)
    paths = list(dict.fromkeys([*theirs, *ours]))
    differences = tuple(
        FieldDifference(path, ours.get(path), theirs.get(path))
        for path in paths
        if ours.get(path) != theirs.get(path)
    )
    return Comparison(accession_number, tuple(paths), differences)
