"""Many rows at once: tuples in a table's column order, bound as the column types bind them.

SQLAlchemy's ``insert(table)`` with a list of dicts costs more per row than the database does:
a dict per row, the compiled statement's parameter processing and, on PostgreSQL, one pipelined
statement per row. ``RowWriter`` takes rows as tuples in the order of a ``RowLayout``, runs each
value through the bind processor of its column's type (``Amount``, ``UtcDateTime``, ``Boolean``,
``Date``: the very functions SQLAlchemy would call, so the stored values are identical), and
writes them the fastest way each database offers:

- PostgreSQL: ``COPY ... FROM STDIN`` in binary format (psycopg's ``cursor.copy``, each column
  dumped as its own type, read from the catalog once per table), inside the caller's transaction:
  half the client's time of text COPY (27 -> 14 us for a data-set filing's ~23 rows), and the
  server converts no text; a failure is raised as the ``sqlalchemy.exc.DBAPIError`` that
  SQLAlchemy would raise (e.g. ``IntegrityError``), so callers tell document errors from database
  ones exactly as before;
- SQLite: the DBAPI's ``executemany`` with tuples (``Connection.exec_driver_sql``).

Keys of new rows are allocated before the insert (``allocate_ids``), so that no query reads them
back: the next values of the column's sequence on PostgreSQL (what its default would take), and
``max(id) + 1`` onwards on SQLite (what SQLite itself assigns to a rowid table, under the write
lock every write transaction takes at BEGIN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

Row = tuple[Any, ...]
_Processor = Callable[[Any], Any]

# Parameters per IN (...) list: well under SQLite's and PostgreSQL's limits.
_IN_CHUNK: Final = 500


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ASCII's unit separator: no key, digest or accession number holds it (checked every time).
_SEPARATOR: Final = "\x1f"


def _text_array(values: Sequence[str]) -> tuple[str, object]:
    """A PostgreSQL ``text[]`` of ``values``: the SQL expression and its parameter.

    psycopg dumps a list parameter element by element in Python (~1.3 ms for 1,000 keys, a
    regular expression each); the keys joined by a separator that none holds are split by the
    server instead (``string_to_array``), unless one is empty or holds it.
    """
    joined = _SEPARATOR.join(values)
    if all(values) and joined.count(_SEPARATOR) == len(values) - 1:
        return f"string_to_array(%s, chr({ord(_SEPARATOR)}))", joined
    return "%s::text[]", list(values)


@dataclass(frozen=True, slots=True, eq=False)
class RowLayout:
    """The columns of ``table`` that rows give, in their order.

    Compared and hashed by identity (layouts are module constants, looked up per row batch).
    """

    table: sa.Table
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = [c for c in self.columns if c not in self.table.c]
        if unknown:
            raise ValueError(f"{self.table.name} has no column(s) {', '.join(unknown)}")


_NOTHING: Final = object()


def _binder(width: int, processors: Sequence[tuple[int, _Processor]]) -> Callable[[Iterable[Row]], list[Row]]:
    """A function binding rows of ``width`` values: ``processors`` (column index, processor) run
    on their columns, the other values pass as they are.

    Generated per layout (``exec`` of source built from column positions only): each row is
    unpacked into locals and one tuple is built: a data-set filing's ~23 rows bind in 10.6 us on
    SQLite (13.6 with a loop over the processors), 8.4 on PostgreSQL (10.8); what is left is
    the processors' own time, ``Amount``'s checks mostly.
    The last value of each processed column and what it became are kept: a batch's rows share
    values such as its timestamp (whose conversion costs SQLite's DateTime ~4 us), True and
    False (values are immutable, so the same object converts the same). ``processors`` must be
    pure functions (SQLAlchemy's and the models' are).
    """
    if not processors:
        return list
    names = [f"c{index}" for index in range(width)]
    out = list(names)
    checks = []
    for slot, (index, _) in enumerate(processors):
        checks.append(
            f"            if c{index} is not i{slot}:\n"
            f"                i{slot} = c{index}\n"
            f"                o{slot} = p{slot}(c{index})\n"
        )
        out[index] = f"o{slot}"
    slots = range(len(processors))
    source = (
        f"def _outer({', '.join(f'p{slot}' for slot in slots)}):\n"
        "    def bind(rows):\n"
        f"        {' = '.join(f'i{slot}' for slot in slots)} = _NOTHING\n"
        f"        {' = '.join(f'o{slot}' for slot in slots)} = None\n"
        "        bound = []\n"
        "        append = bound.append\n"
        f"        for ({', '.join(names)},) in rows:\n"
        + "".join(checks)
        + f"            append(({', '.join(out)},))\n"
        "        return bound\n"
        "    return bind\n"
    )
    scope: dict[str, Callable[..., Callable[[Iterable[Row]], list[Row]]]] = {}
    exec(source, {"_NOTHING": _NOTHING}, scope)  # built from column positions only
    return scope["_outer"](*[processor for _, processor in processors])


class RowWriter:
    """Inserts and updates rows given as tuples, for one dialect (see the module's docstring)."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._is_postgresql = dialect.name == "postgresql"
        self._placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
        self._binders: dict[RowLayout, Callable[[Iterable[Row]], list[Row]]] = {}
        self._sequences: dict[str, str] = {}  # the sequence of each table's id (PostgreSQL)
        self._column_oids: dict[str, dict[str, int]] = {}  # each table's column types (PostgreSQL)

    def _quote(self, name: str) -> str:
        return self._dialect.identifier_preparer.quote(name)

    def bind(self, layout: RowLayout, rows: Iterable[Row]) -> list[Row]:
        """The rows with every value converted as its column's type converts it for this dialect."""
        binder = self._binders.get(layout)
        if binder is None:
            processors: list[tuple[int, _Processor]] = []
            for index, name in enumerate(layout.columns):
                column_type = layout.table.c[name].type
                found = column_type.dialect_impl(self._dialect).bind_processor(self._dialect)
                if found is not None:
                    processors.append((index, found))
            binder = _binder(len(layout.columns), processors)
            self._binders[layout] = binder
        return binder(rows)

    def insert(
        self, conn: Connection, layout: RowLayout, rows: Sequence[Row], *, bound: bool = False
    ) -> None:
        """Insert the rows (nothing when there are none); ``bound`` rows went through ``bind`` already.

        ``COPY`` on PostgreSQL has no ``ON CONFLICT``: a unique key that a concurrent writer
        inserted first fails the statement. It stays for the bulk of a write (filings and their
        child rows, data-set loads under the run lock), where that failure is caught and the batch
        written again (``FilingWrites._write``); rows that must never fail so go by ``insert_new``.
        """
        if not rows:
            return
        values = rows if bound else self.bind(layout, rows)
        table = self._quote(layout.table.name)
        columns = ", ".join(self._quote(c) for c in layout.columns)
        if self._is_postgresql:
            oids = self._oids(conn, layout)
            self._copy(conn, f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)", values, oids)
        else:
            marks = ", ".join([self._placeholder] * len(layout.columns))
            conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)

    def copy_in(
        self, conn: Connection, layout: RowLayout, data: Sequence[bytes | bytearray | memoryview]
    ) -> None:
        """Insert rows given as binary COPY data (``copy_rows``: without signature and trailer),
        PostgreSQL only; nothing when there is none."""
        if not data:
            return
        from edgar_ingest.store.copy_rows import COPY_SIGNATURE, COPY_TRAILER

        table = self._quote(layout.table.name)
        columns = ", ".join(self._quote(c) for c in layout.columns)
        self._copy_data(
            conn,
            f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)",
            [COPY_SIGNATURE, *data, COPY_TRAILER],
        )

    def insert_new(self, conn: Connection, layout: RowLayout, rows: Sequence[Row]) -> int:
        """Insert the rows that conflict with no stored row (a unique key another writer stored
        meanwhile); how many were inserted.

        ``INSERT ... ON CONFLICT DO NOTHING`` by ``executemany`` on both databases: PostgreSQL
        makes it wait for a concurrent transaction that inserted the same key and skips the row
        once that one commits, where ``COPY`` (which has no ``ON CONFLICT``) would fail the whole
        statement. For rows of large values (the raw documents' bytes) it is no slower than
        ``COPY``, whose text format doubles every byte of a ``bytea`` as hex.
        """
        if not rows:
            return 0
        bound = self.bind(layout, rows)
        columns = ", ".join(self._quote(c) for c in layout.columns)
        values = ", ".join([self._placeholder] * len(layout.columns))
        table = self._quote(layout.table.name)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING"
        result = conn.exec_driver_sql(sql, bound)
        return int(result.rowcount)

    def update(
        self, conn: Connection, layout: RowLayout, rows: Sequence[Row], *, bound: bool = False
    ) -> None:
        """Update rows by key: ``layout``'s first column is the key, the others are set (``bound``:
        as for ``insert``)."""
        if not rows:
            return
        key, *columns = layout.columns
        assignments = ", ".join(f"{self._quote(c)} = {self._placeholder}" for c in columns)
        sql = (
            f"UPDATE {self._quote(layout.table.name)} SET {assignments} "
            f"WHERE {self._quote(key)} = {self._placeholder}"
        )
        # The key goes last, where its placeholder is.
        values = rows if bound else self.bind(layout, rows)
        conn.exec_driver_sql(sql, [(*row[1:], row[0]) for row in values])

    def select_in(
        self,
        conn: Connection,
        table: sa.Table,
        columns: Sequence[str],
        key: str,
        values: Sequence[str],
        *,
        order_by: str | None = None,
    ) -> list[sa.Row[Any]]:
        """The ``columns`` of the rows of ``table`` whose ``key`` (an indexed text column) is one
        of ``values``, ordered by ``order_by`` if given.

        One index probe per value on both databases, whatever the table's size or statistics.
        PostgreSQL gets the values as one array, joined LATERAL to a subquery fenced with
        ``OFFSET 0``: its planner would otherwise scan the whole table for ``key = ANY(...)`` (or
        an IN list) until the table is large, costing a batch ~15 ms per 20,000 filings stored
        against ~3 ms for the probes. SQLite probes its index for IN lists (at most 500 values
        a statement). Raw DBAPI values come back: only for columns that need no result
        processing (ids, keys, digests).
        """
        if not values:
            return []
        selected = ", ".join(self._quote(c) for c in columns)
        source = f"SELECT {selected} FROM {self._quote(table.name)} WHERE {self._quote(key)}"
        order = f" ORDER BY {self._quote(order_by)}" if order_by else ""
        if self._is_postgresql:
            array, parameter = _text_array(values)
            sql = (
                f"SELECT found.* FROM unnest({array}) AS wanted(value) "
                f"CROSS JOIN LATERAL ({source} = wanted.value OFFSET 0) AS found{order}"
            )
            return list(conn.exec_driver_sql(sql, (parameter,)))
        rows: list[sa.Row[Any]] = []
        for chunk in _chunks(values):
            marks = ", ".join(["?"] * len(chunk))
            rows.extend(conn.exec_driver_sql(f"{source} IN ({marks}){order}", tuple(chunk)))
        return rows

    def execute_in(self, conn: Connection, sql: str, column: str, values: Sequence[Any]) -> list[sa.Row[Any]]:
        """Run ``sql`` (an UPDATE or DELETE) for rows whose ``column`` is one of ``values``; the
        rows it returns, if any.

        ``sql`` holds ``{in}`` where the condition goes (``DELETE FROM t WHERE {in}``) and no
        other parameter: ``column = ANY(%s)`` with one array on PostgreSQL (a short statement
        that psycopg prepares once, where an IN list of 500 parameters would be rendered and
        parsed again on every call), IN lists of at most 500 values on SQLite.
        """
        if not values:
            return []
        if self._is_postgresql:
            array, parameter = _text_array(values) if isinstance(values[0], str) else ("%s", list(values))
            statement = sql.format(**{"in": f"{column} = ANY({array})"})
            result = conn.exec_driver_sql(statement, (parameter,))
            return list(result) if result.returns_rows else []
        rows: list[sa.Row[Any]] = []
        for chunk in _chunks(values):
            statement = sql.format(**{"in": f"{column} IN ({', '.join(['?'] * len(chunk))})"})
            result = conn.exec_driver_sql(statement, tuple(chunk))
            if result.returns_rows:
                rows.extend(result)
        return rows

    def allocate_ids(self, conn: Connection, table: sa.Table, count: int) -> list[int]:
        """``count`` new values of ``table.id``, ascending, as the table's default would assign them."""
        if count == 0:
            return []
        if self._is_postgresql:
            sequence = self._sequences.get(table.name)
            if sequence is None:
                sequence = conn.exec_driver_sql(
                    "SELECT pg_get_serial_sequence(%s, 'id')", (table.name,)
                ).scalar_one()
                self._sequences[table.name] = sequence
            ids = conn.exec_driver_sql(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (sequence, count)
            ).scalars()
            return sorted(ids.all())
        top = conn.exec_driver_sql(f"SELECT max(id) FROM {self._quote(table.name)}").scalar()
        start = int(top or 0) + 1
        return list(range(start, start + count))

    def _oids(self, conn: Connection, layout: RowLayout) -> list[int]:
        """The type of each of the layout's columns, as binary COPY needs them (PostgreSQL)."""
        name = layout.table.name
        types = self._column_oids.get(name)
        if types is None:
            found = conn.exec_driver_sql(
                "SELECT attname, atttypid::int FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (self._quote(name),),
            )
            types = {str(column): int(oid) for column, oid in found}
            self._column_oids[name] = types
        return [types[column] for column in layout.columns]

    def _copy(self, conn: Connection, sql: str, rows: Sequence[Row], oids: list[int]) -> None:
        def write(copy: Any) -> None:
            copy.set_types(oids)
            for row in rows:
                copy.write_row(row)

        self._run_copy(conn, sql, write)

    def _copy_data(
        self, conn: Connection, sql: str, blocks: Sequence[bytes | bytearray | memoryview]
    ) -> None:
        def write(copy: Any) -> None:
            copy.write(b"".join(blocks))

        self._run_copy(conn, sql, write)

    def _run_copy(self, conn: Connection, sql: str, write: Callable[[Any], None]) -> None:
        dbapi = self._dialect.loaded_dbapi
        driver_connection: Any = conn.connection.driver_connection
        try:
            with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
                write(copy)
        except dbapi.Error as exc:
            # What SQLAlchemy raises for a failed statement (e.g. IntegrityError wrapping the
            # driver's NotNullViolation), so that a bad document is told from a broken database;
            # a lost connection is invalidated, as SQLAlchemy does, so the pool drops it.
            lost = self._dialect.is_disconnect(exc, driver_connection, None)
            if lost:
                conn.invalidate(exc)
            raise sa.exc.DBAPIError.instance(
                sql, None, exc, dbapi.Error, connection_invalidated=lost, dialect=self._dialect
            ) from exc
