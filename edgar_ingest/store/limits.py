"""What a column can hold, checked in Python before a row is written, the same on both databases.

PostgreSQL refuses a string longer than its ``VARCHAR(n)``, a NUL character, or an integer outside
its column's type; SQLite stores all of them without a word (its types are affinities). A value
the parser lets through but a column cannot hold would then be stored on one database and fail on
the other, with a reason ("value too long for type character varying(10)") that names neither the
column nor the document's element. ``RowCheck`` refuses such a row before any SQL with
:class:`ColumnValueError`, naming the table, the column and the limit: the store records the
document as failed (stage ``store``) and stores the others.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa

from edgar_ingest.models import MAX_AMOUNT, Amount
from edgar_ingest.store.inserts import RowLayout

# The integer types' ranges on PostgreSQL (SQLite holds any 64-bit integer).
_INTEGER_RANGE: Final = (-(2**31), 2**31 - 1)
_BIG_INTEGER_RANGE: Final = (-(2**63), 2**63 - 1)
_SHOWN: Final = 40  # characters of an offending value quoted in a reason


class ColumnValueError(ValueError):
    """A value that its column cannot hold; the message names the column and says why."""


@dataclass(frozen=True, slots=True)
class _Text:
    index: int
    column: str
    max_length: int | None


@dataclass(frozen=True, slots=True)
class _Whole:
    index: int
    column: str
    low: int
    high: int
    is_amount: bool = False  # whole dollars, as ``Amount`` (and its message) has it


def _shown(value: object) -> str:
    """The start of ``value`` as a reason quotes it (escaped: a reason is one printable line)."""
    try:
        text = str(value) if isinstance(value, int | Decimal) else repr(value)
    except ValueError:  # an int too long for str() (Python's 4,300-digit limit)
        assert isinstance(value, int)
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


class RowCheck:
    """The limits of one ``RowLayout``'s columns, checked against rows of that layout."""

    def __init__(self, layout: RowLayout) -> None:
        texts: list[_Text] = []
        wholes: list[_Whole] = []
        for index, name in enumerate(layout.columns):
            column = layout.table.c[name]
            qualified = f"{layout.table.name}.{name}"
            kind = column.type
            if column.primary_key or column.foreign_keys:
                continue  # keys and positions the store makes, never a document's values
            if isinstance(kind, Amount):
                wholes.append(_Whole(index, qualified, 0, MAX_AMOUNT, is_amount=True))
            elif isinstance(kind, sa.String):
                texts.append(_Text(index, qualified, kind.length))
            elif isinstance(kind, sa.BigInteger):
                wholes.append(_Whole(index, qualified, *_BIG_INTEGER_RANGE))
            elif isinstance(kind, sa.Integer):
                wholes.append(_Whole(index, qualified, *_INTEGER_RANGE))
        self._texts = tuple(texts)
        self._wholes = tuple(wholes)
        self._suspects = _suspects_function(self._texts, self._wholes)

    def problem(self, row: tuple[Any, ...]) -> str | None:
        """Why ``row`` cannot be written (the first column at fault), or None when it can."""
        for text in self._texts:
            value = row[text.index]
            if value is None or not isinstance(value, str):
                continue
            if text.max_length is not None and len(value) > text.max_length:
                return (
                    f"{text.column} holds at most {text.max_length} characters, "
                    f"got {len(value):,}: {_shown(value)}"
                )
            if "\x00" in value:
                return f"{text.column} cannot hold a NUL character: {_shown(value)}"
        for whole in self._wholes:
            value = row[whole.index]
            if value is None or isinstance(value, bool) or not isinstance(value, int | Decimal):
                continue
            fraction = isinstance(value, Decimal) and (
                not value.is_finite() or value != value.to_integral_value()
            )
            if fraction or not whole.low <= value <= whole.high:
                if whole.is_amount:
                    return (
                        f"{whole.column}: {_shown(value)} is not a whole number of dollars from 0 to "
                        f"{MAX_AMOUNT:,}"
                    )
                if fraction:
                    return f"{whole.column} holds whole numbers only, got {_shown(value)}"
                return f"{whole.column} holds {whole.low:,} to {whole.high:,}, got {_shown(value)}"
        return None

    def check(self, rows: Collection[tuple[Any, ...]]) -> None:
        """Raise :class:`ColumnValueError` for the first row that cannot be written."""
        try:
            suspects = list(self._suspects(rows))
        except Exception:  # a Decimal NaN, a float amount, ...: the fast path only looks, look closer
            suspects = list(rows)
        for row in suspects:
            problem = self.problem(row)
            if problem is not None:
                raise ColumnValueError(problem)


_Suspects = Callable[[Iterable[tuple[Any, ...]]], Iterator[tuple[Any, ...]]]


def _suspects_function(texts: Sequence[_Text], wholes: Sequence[_Whole]) -> _Suspects:
    """A generator of the rows that may break a limit (in practice: none).

    Every row of every stored filing passes here (~15 rows a filing, ~150 values): a loop over
    the limits cost ~30 us a filing, straight-line code for the layout's columns ~11 us (the way
    ``digest`` builds its reprs). It only looks; ``RowCheck.problem`` says what is
    wrong, and may find nothing (a value of a type it does not judge: the database will).
    """
    lines = ["def suspects(rows):", "    for row in rows:"]
    for t in texts:
        length = "" if t.max_length is None else f"len(v) > {t.max_length} or "
        lines += [f"        v = row[{t.index}]", f"        if v.__class__ is str and ({length}'\\x00' in v):"]
        lines += ["            yield row", "            continue"]
    for w in wholes:
        fraction = " or (v.__class__ is not int and v != v.to_integral_value())" if w.is_amount else ""
        lines += [
            f"        v = row[{w.index}]",
            "        if v is not None and v.__class__ is not bool and (",
            f"            not {w.low} <= v <= {w.high}{fraction}):",
            "            yield row",
            "            continue",
        ]
    if not texts and not wholes:
        lines += ["        pass", "    yield from ()"]
    namespace: dict[str, Any] = {}
    # Built from the schema's column positions and limits only (integers), never from data.
    exec(compile("\n".join(lines) + "\n", "<row check>", "exec"), namespace)
    suspects: _Suspects = namespace["suspects"]
    return suspects


MAX_REASON_CHARS: Final = 1000


def storable_reason(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """A failure reason that ``failures.reason`` takes on both databases: no NUL, not too long.

    A reason may quote the offending value, and the value may be what made the document fail
    (a NUL character, 5,000 digits): recording the failure must not fail in its turn.
    """
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= limit else text[: limit - 3] + "..."
