"""docs/data-dictionary.md describes exactly the migrated schema: every view and table, every column
(none missing, none extra) with its type, meaning and origin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from edgar_ingest.store import create_engine_for, upgrade

DICTIONARY = Path(__file__).resolve().parent.parent / "docs" / "data-dictionary.md"
TYPES = {"text", "integer", "decimal", "boolean", "date", "timestamp", "bytes"}

_SECTION = re.compile(r"^### `(\w+)`\s*$")
_ROW = re.compile(r"^\| `(\w+)` \|(.*)\|\s*$")
_INCLUDES = re.compile(r"Every column of `(\w+)`")


@dataclass(frozen=True, slots=True)
class Entry:
    column: str
    type: str
    unit: str
    meaning: str
    origin: str


def read_dictionary(text: str) -> dict[str, list[Entry]]:
    """Object name -> its documented columns in order (an "Every column of `x`" line includes x's)."""
    objects: dict[str, list[Entry]] = {}
    current: list[Entry] | None = None
    for line in text.splitlines():
        if section := _SECTION.match(line):
            current = objects.setdefault(section.group(1), [])
        elif current is None:
            continue
        elif included := _INCLUDES.search(line):
            current.extend(objects[included.group(1)])
        elif row := _ROW.match(line):
            cells = [c.strip() for c in row.group(2).split("|")]
            assert len(cells) == 4, f"{line!r}: expected column | type | unit | meaning | origin"
            current.append(Entry(row.group(1), *cells))
    return objects


def documented_type(column_type: sa.types.TypeEngine[object]) -> str | None:
    """The dictionary's name for a reflected column type (None: SQLite gives no type to expressions)."""
    for kind, name in (
        (sa.Boolean, "boolean"),
        (sa.Integer, "integer"),
        (sa.Numeric, "decimal"),
        (sa.DateTime, "timestamp"),
        (sa.Date, "date"),
        (sa.String, "text"),
        (sa.LargeBinary, "bytes"),
    ):
        if isinstance(column_type, kind):
            return name
    return None


@pytest.fixture(scope="module")
def dictionary() -> dict[str, list[Entry]]:
    return read_dictionary(DICTIONARY.read_text(encoding="utf-8"))


def test_every_entry_says_what_it_is_and_where_it_comes_from(dictionary: dict[str, list[Entry]]) -> None:
    for name, entries in dictionary.items():
        assert entries, f"{name} documents no column"
        columns = [e.column for e in entries]
        assert len(columns) == len(set(columns)), f"{name} documents a column twice"
        for e in entries:
            assert e.type in TYPES, f"{name}.{e.column}: unknown type {e.type!r}"
            assert e.meaning, f"{name}.{e.column} has no meaning"
            assert e.origin, f"{name}.{e.column} has no origin"


def test_the_dictionary_matches_the_migrated_schema(
    database_url: str, dictionary: dict[str, list[Entry]]
) -> None:
    engine = create_engine_for(database_url)
    upgrade(engine)
    inspector = sa.inspect(engine)
    names = set(inspector.get_table_names()) | set(inspector.get_view_names())
    assert set(dictionary) == names, (
        f"in the schema, not documented: {sorted(names - set(dictionary))}; "
        f"documented, not in the schema: {sorted(set(dictionary) - names)}"
    )
    for name in sorted(names):
        actual = {c["name"]: documented_type(c["type"]) for c in inspector.get_columns(name)}
        documented = {e.column: e.type for e in dictionary[name]}
        assert set(documented) == set(actual), (
            f"{name}: in the schema, not documented: {sorted(set(actual) - set(documented))}; "
            f"documented, not in the schema: {sorted(set(documented) - set(actual))}"
        )
        wrong = {c: (documented[c], t) for c, t in actual.items() if t is not None and t != documented[c]}
        assert wrong == {}, f"{name}: (documented, actual) types differ"
    engine.dispose()


def test_offerings_latest_is_documented_as_offering_versions_plus_two_columns(
    dictionary: dict[str, list[Entry]],
) -> None:
    latest = [e.column for e in dictionary["offerings_latest"]]
    versions = [e.column for e in dictionary["offering_versions"]]
    assert latest == [*versions, "first_filing_date", "version_count"]
