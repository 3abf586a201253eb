"""Child rows as PostgreSQL binary COPY data, made before the filing's id is known.

A data-set filing has ~16 child rows (issuers, persons, relationships, exemptions, ...). Turning
their values into COPY data costs the loading process ~30 us a filing (psycopg's ``write_row``),
and unpickling them as Python values from the worker that prepared them another ~27 us: the
loader is the one process whose time adds to the database server's (it waits for the server
between batches). So on PostgreSQL the worker formats each filing's rows itself (``CopyRows``:
the bytes and where each row starts) and the loader only writes the filing's id into each row
and sends the bytes (``COPY ... FROM STDIN (FORMAT BINARY)``).

Every child layout starts with ``filing_id``, an ``integer``: in binary COPY a row is a 16-bit
field count, then each field as a 32-bit length and its bytes, so a row's id is the 4 bytes at
``start + 6``. The types are those of the schema's columns, named from the SQLAlchemy types (a
test compares them with the catalog of a migrated database).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, Final, NamedTuple

import sqlalchemy as sa

from edgar_ingest.store.inserts import RowLayout

# PostgreSQL's binary COPY framing: the signature (with flags and header extension length), the
# end-of-data marker, and where a row's first field's value starts.
COPY_SIGNATURE: Final = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
COPY_TRAILER: Final = b"\xff\xff"
_ID_OFFSET: Final = 6  # int16 field count + int32 length of the first field
_PACK_ID: Final = struct.Struct(">i").pack

# The PostgreSQL type of each SQLAlchemy type the child tables use (by generic class).
_PG_TYPES: Final[tuple[tuple[type[sa.types.TypeEngine[Any]], str], ...]] = (
    (sa.BigInteger, "int8"),
    (sa.SmallInteger, "int2"),
    (sa.Integer, "int4"),
    (sa.Boolean, "bool"),
    (sa.Date, "date"),
    (sa.DateTime, "timestamptz"),
    (sa.Text, "text"),
    (sa.String, "varchar"),
)


class CopyRows(NamedTuple):
    """A filing's child rows, all layouts, in binary COPY format (no signature or trailer).

    ``data`` holds the rows of ``CHILD_LAYOUTS[0]``, then those of the next layout, and so on:
    layout ``i``'s rows are ``data[bounds[i]:bounds[i + 1]]``; ``starts`` is where each row begins.
    One object a filing, as it crosses a pipe: fewer objects to pickle and unpickle than one a layout.
    """

    data: bytearray
    starts: list[int]
    bounds: list[int]


def postgres_type_names(layout: RowLayout) -> list[str]:
    """The PostgreSQL type of each of the layout's columns."""
    names = []
    for column in layout.columns:
        column_type = layout.table.c[column].type
        if isinstance(column_type, sa.types.TypeDecorator):
            column_type = column_type.impl_instance
        if isinstance(column_type, sa.DateTime) and not column_type.timezone:
            names.append("timestamp")
            continue
        name = next((pg for generic, pg in _PG_TYPES if isinstance(column_type, generic)), None)
        if name is None:
            raise TypeError(f"no binary COPY type for {layout.table.name}.{column} ({column_type})")
        names.append(name)
    return names


class CopyFormatter:
    """Formats bound rows of child layouts as binary COPY data (psycopg's own dumpers)."""

    def __init__(self) -> None:
        import psycopg
        from psycopg.adapt import Transformer
        from psycopg.pq import Format

        try:  # psycopg's row formatter (C when psycopg[binary] is installed); it moved in 3.2
            from psycopg._copy_base import format_row_binary
        except ImportError:  # pragma: no cover - psycopg 3.1
            from psycopg.copy import format_row_binary  # type: ignore[attr-defined,no-redef]
        self._format = format_row_binary
        self._types = psycopg.postgres.types
        self._binary = Format.BINARY
        self._transformer_class = Transformer
        self._transformers: dict[RowLayout, Any] = {}

    def _transformer(self, layout: RowLayout) -> Any:
        tx = self._transformers.get(layout)
        if tx is None:
            if layout.columns[0] != "filing_id":
                raise ValueError(f"{layout.table.name}: a child layout starts with filing_id")
            names = postgres_type_names(layout)
            if names[0] != "int4":
                raise ValueError(f"{layout.table.name}.filing_id is not an integer")
            tx = self._transformer_class()
            tx.set_dumper_types([self._types[name].oid for name in names], self._binary)
            self._transformers[layout] = tx
        return tx

    def format_filings(
        self, layouts: Sequence[RowLayout], rows_by_layout: Sequence[Sequence[tuple[Any, ...]]], count: int
    ) -> list[CopyRows]:
        """The rows of ``count`` filings as one ``CopyRows`` each; a row's first value is the
        position of its filing (0 to count - 1), and stays in the data until ``with_filing_id``."""
        copies = [CopyRows(bytearray(), [], []) for _ in range(count)]
        form = self._format
        for layout, rows in zip(layouts, rows_by_layout, strict=True):
            for copy in copies:
                copy.bounds.append(len(copy.data))
            if not rows:
                continue
            tx = self._transformer(layout)
            for row in rows:
                copy = copies[row[0]]
                copy.starts.append(len(copy.data))
                form(row, tx, copy.data)
        for copy in copies:
            copy.bounds.append(len(copy.data))
        return copies


def with_filing_id(rows: CopyRows, filing_id: int) -> bytearray:
    """The rows' data with ``filing_id`` written into each row (in place: the data is the
    loader's own, unpickled from the worker or prepared in this process)."""
    data = rows.data
    packed = _PACK_ID(filing_id)
    for start in rows.starts:
        at = start + _ID_OFFSET
        data[at : at + 4] = packed
    return data
