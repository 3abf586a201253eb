"""Many rows at once: tuples in a table's column order, bound as the column types bind them.

SQLAlchemy's ``insert(table)`` with a list of dicts costs more per row than the database does:
a dict per row, the compiled statement's parameter processing and, on PostgreSQL, one pipelined
statement per row. ``RowWriter`` takes rows as tuples in the order of a ``RowLayout``, runs each
value through the bind processor of its column's type (``Amount``, ``UtcDateTime``, ``Boolean``,
``Date``: the very functions SQLAlchemy would call, so the stored values are identical), and
writes them the fastest way each database offers:

- PostgreSQL: ``COPY ... FROM STDIN`` (psycopg's ``cursor.copy``), inside the caller's transaction;
  a failure is raised as the ``sqlalchemy.exc.DBAPIError`` that SQLAlchemy would raise (e.g.
  ``IntegrityError``), so callers tell document errors from database ones exactly as before;
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


@dataclass(frozen=True, slots=True)
class RowLayout:
    """The columns of ``table`` that rows give, in their order."""

    table: sa.Table
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = [c for c in self.columns if c not in self.table.c]
        if unknown:
            raise ValueError(f"{self.table.name} has no column(s) {', '.join(unknown)}")


class RowWriter:
    """Inserts and updates rows given as tuples, for one dialect (see the module's docstring)."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._is_postgresql = dialect.name == "postgresql"
        self._placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
        self._processors: dict[RowLayout, list[tuple[int, _Processor]]] = {}
        self._sequences: dict[str, str] = {}  # the sequence of each table's id (PostgreSQL)

    def _quote(self, name: str) -> str:
        return self._dialect.identifier_preparer.quote(name)

    def bind(self, layout: RowLayout, rows: Iterable[Row]) -> list[Row]:
        """The rows with every value converted as its column's type converts it for this dialect."""
        processors = self._processors.get(layout)
        if processors is None:
            processors = []
            for index, name in enumerate(layout.columns):
                column_type = layout.table.c[name].type
                found = column_type.dialect_impl(self._dialect).bind_processor(self._dialect)
                if found is not None:
                    processors.append((index, found))
            self._processors[layout] = processors
        if not processors:
            return list(rows)
        bound = []
        for row in rows:
            values = list(row)
            for index, processor in processors:
                values[index] = processor(values[index])
            bound.append(tuple(values))
        return bound

    def insert(self, conn: Connection, layout: RowLayout, rows: Sequence[Row]) -> None:
        """Insert the rows (nothing when there are none)."""
        if not rows:
            return
        bound = self.bind(layout, rows)
        table = self._quote(layout.table.name)
        columns = ", ".join(self._quote(c) for c in layout.columns)
        if self._is_postgresql:
            self._copy(conn, f"COPY {table} ({columns}) FROM STDIN", bound)
        else:
            values = ", ".join([self._placeholder] * len(layout.columns))
            conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({values})", bound)

    def update(self, conn: Connection, layout: RowLayout, rows: Sequence[Row]) -> None:
        """Update rows by key: ``layout``'s first column is the key, the others are set."""
        if not rows:
            return
        key, *columns = layout.columns
        assignments = ", ".join(f"{self._quote(c)} = {self._placeholder}" for c in columns)
        sql = (
            f"UPDATE {self._quote(layout.table.name)} SET {assignments} "
            f"WHERE {self._quote(key)} = {self._placeholder}"
        )
        # The key goes last, where its placeholder is.
        conn.exec_driver_sql(sql, [(*row[1:], row[0]) for row in self.bind(layout, rows)])

    def execute_in(self, conn: Connection, sql: str, column: str, values: Sequence[Any]) -> list[sa.Row[Any]]:
        """Run ``sql`` for rows whose ``column`` is one of ``values``; the rows it returns, if any.

        ``sql`` holds ``{in}`` where the condition goes (``SELECT id FROM t WHERE {in}``) and
        no other parameter. PostgreSQL takes the values as one array (``column = ANY(%s)``): a
        short statement that psycopg prepares once, where an IN list of 500 parameters would be
        rendered and parsed again on every call. SQLite takes IN lists of at most 500 values, one
        statement each (rows sharing a value come from one statement, in the order it gives).
        Raw DBAPI values come back: only for columns that need no result processing (ids, keys,
        digests).
        """
        if not values:
            return []
        if self._is_postgresql:
            statement = sql.format(**{"in": f"{column} = ANY(%s)"})
            result = conn.exec_driver_sql(statement, (list(values),))
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
            return sorted(ids)
        top = conn.exec_driver_sql(f"SELECT max(id) FROM {self._quote(table.name)}").scalar()
        start = int(top or 0) + 1
        return list(range(start, start + count))

    def _copy(self, conn: Connection, sql: str, rows: list[Row]) -> None:
        dbapi = self._dialect.loaded_dbapi
        driver_connection: Any = conn.connection.driver_connection
        try:
            with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except dbapi.Error as exc:
            # What SQLAlchemy raises for a failed statement (e.g. IntegrityError wrapping the
            # driver's NotNullViolation), so that a bad document is told from a broken database.
            raise sa.exc.DBAPIError.instance(sql, None, exc, dbapi.Error, dialect=self._dialect) from exc
