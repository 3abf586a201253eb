"""Engines and migrations.

``create_engine_for(url)`` builds an Engine (SQLite: WAL, foreign keys, busy timeout, real
transactions with savepoints); ``upgrade(url_or_engine)`` applies the Alembic migrations, the
only way the schema is created.
"""

from __future__ import annotations

import errno
import importlib.resources
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from edgar_ingest.settings import normalise_database_url, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where migrations are read or run, not with this module: a process that
# only prepares rows (``dataset_worker``) imports the store's modules and starts ~0.15 s sooner.

SQLITE_BUSY_TIMEOUT_MS: Final = 30_000

_SQLITE_BEGIN_OPTION: Final = "edgar_ingest_sqlite_begin"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions break savepoints).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_SQLITE_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _sqlite_on_connect_read_only(dbapi_connection: Any, _record: Any) -> None:
    # No WAL switch (a write, refused on a read-only file), nothing to write at all: query_only.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=ON")
    finally:
        cursor.close()


def _sqlite_read_only_connection(path: Path) -> sqlite3.Connection:
    """A read-only connection to the SQLite file ``path``, which neither writes nor creates a file.

    ``mode=ro`` alone is not enough: reading a WAL database creates its ``-wal`` and ``-shm``
    files beside it wherever the process may (always as root), and a read-only connection cannot
    remove them again; in a read-only directory without them it cannot open the file at all. So
    when neither a ``-wal`` nor a ``-journal`` file is there, no connection has the database open
    (ours create the ``-wal`` on opening it) and everything is in the file itself: it is opened
    ``immutable``, without locks or side files. When one is there, a writer is running (or was
    killed): the WAL holds committed data, so the file is opened ``mode=ro``, as a reader beside
    that writer. An immutable reader does not see a writer that starts during its read; the
    commands that read (status, history, failures) take milliseconds, and a checkpoint that
    changed the file under them would make them fail, never the file.
    """
    in_use = any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))
    mode = "ro" if in_use else "ro&immutable=1"
    # Percent-encoded: a file name may hold ?, # or %, which a URI filename reads as syntax.
    return sqlite3.connect(f"file:{quote(str(path))}?mode={mode}", uri=True, check_same_thread=False)


def create_engine_for(url: str, *, read_only: bool = False) -> Engine:
    """An Engine for a database URL (``postgres://`` accepted); SQLite gets WAL, FKs, busy timeout.

    ``read_only``: connections that cannot write and change nothing, for the commands that only
    read (``status``, ``history``, ``failures``): on SQLite a read-only connection without the
    switch to WAL (``_sqlite_read_only_connection``; it works in a read-only directory or mount);
    on PostgreSQL transactions that are read-only by default.
    """
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if read_only and path is not None:
            engine = sa.create_engine(
                sa.URL.create("sqlite", database=str(path)),
                creator=lambda: _sqlite_read_only_connection(path),
            )
            event.listen(engine, "connect", _sqlite_on_connect_read_only)
        elif read_only:  # in memory, or a URI filename: its own parameters say how to open it
            engine = sa.create_engine(url)
            event.listen(engine, "connect", _sqlite_on_connect_read_only)
        else:
            engine = sa.create_engine(url)
            event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if read_only:
        parsed = sa.make_url(url)
        options = " ".join(filter(None, [str(parsed.query.get("options") or ""), _PG_READ_ONLY]))
        return sa.create_engine(
            parsed.difference_update_query(["options"]), pool_pre_ping=True, connect_args={"options": options}
        )
    return sa.create_engine(url, pool_pre_ping=True)


_PG_READ_ONLY: Final = "-c default_transaction_read_only=on"


def _is_configured(engine: Engine) -> bool:
    if engine.dialect.name != "sqlite":
        return True
    return event.contains(engine, "connect", _sqlite_on_connect) or event.contains(
        engine, "connect", _sqlite_on_connect_read_only
    )


def schema_revisions(engine: Engine) -> tuple[str | None, str]:
    """The Alembic revision the database is at (None: no schema) and the one this code reads.

    Reads only (a read-only connection will do): ``alembic_version`` and the migration scripts.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the package ships its migrations
    return current, head


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations (else a newer edgar_ingest wrote it)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError as AlembicError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except AlembicError:
        return False


def migrations_path() -> Path:
    """The Alembic script directory: ``edgar_ingest.migrations`` when installed, else the checkout's."""
    try:
        location = importlib.resources.files("edgar_ingest.migrations")
    except ModuleNotFoundError:
        location = None
    if location is not None:
        path = Path(str(location))
        if (path / "env.py").is_file():
            return path
    checkout = Path(__file__).resolve().parent.parent.parent / "migrations"
    if (checkout / "env.py").is_file():
        return checkout
    raise FileNotFoundError("the edgar_ingest migrations are not installed (edgar_ingest.migrations)")


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic Config built in code (no alembic.ini): our env.py reads these attributes."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    if database_url is not None:
        config.attributes["database_url"] = normalise_database_url(database_url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _migrate(target: str | Engine, run: Callable[[Config], None]) -> None:
    """Run Alembic in one transaction. On SQLite, foreign keys are off meanwhile, as SQLite's own
    procedure for schema changes asks: batch mode rebuilds a table by copying it and dropping the
    original, and with foreign keys on, that DROP deletes every row that references the table
    through ON DELETE CASCADE (a filing's issuers, persons, ...). They are checked before commit."""
    engine = create_engine_for(target) if isinstance(target, str) else target
    try:
        with engine.connect() as conn:
            if engine.dialect.name != "sqlite":
                with conn.begin():
                    run(alembic_config(connection=conn))
                return
            # On the driver's connection, before SQLAlchemy begins: a PRAGMA inside a transaction
            # would be ignored.
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    run(alembic_config(connection=conn))
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration left rows without their parent: {broken[:5]}")
            finally:
                driver.execute("PRAGMA foreign_keys=ON")
    finally:
        if isinstance(target, str):
            engine.dispose()


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (idempotent: nothing to do when up to date)."""
    from alembic import command

    _migrate(target, lambda config: command.upgrade(config, revision))


def downgrade(target: str | Engine, revision: str = "base") -> None:
    """Revert the migrations down to ``revision`` (``base`` drops everything)."""
    from alembic import command

    _migrate(target, lambda config: command.downgrade(config, revision))


# What the drivers say when the database, not the schema nor a document, is the trouble: SQLite's
# extended error names (``sqlite3.Error.sqlite_errorname``) and PostgreSQL's SQLSTATEs.
_LOCKED: Final = ("SQLITE_BUSY", "SQLITE_LOCKED", "55P03", "55006", "40P01")
_FULL: Final = ("SQLITE_FULL", "53100")
_READ_ONLY: Final = ("SQLITE_READONLY", "25006")
_NO_SCHEMA: Final = ("42P01", "42703")  # undefined table, undefined column (PostgreSQL)


def database_trouble(exc: BaseException) -> str | None:
    """What a database error says about the database, to follow "The database at <url>": "is
    locked by another process", "cannot be written because the disk is full", "is read-only", or
    "needs `edgar-ingest db upgrade`" (a table or column of the schema is missing); None for any
    other error."""
    orig = getattr(exc, "orig", None) or exc
    code = str(getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None) or "")
    text = str(orig).lower()
    if code.startswith(_LOCKED) or "database is locked" in text:
        return "is locked by another process"
    if code.startswith(_FULL) or (isinstance(orig, OSError) and orig.errno == errno.ENOSPC):
        return "cannot be written because the disk is full"
    if code.startswith(_READ_ONLY):
        return "is read-only"
    if code.startswith(_NO_SCHEMA) or text.startswith(("no such table", "no such column")):
        return "needs `edgar-ingest db upgrade` (a table or column is missing)"
    return None


def troubled_error(exc: BaseException) -> BaseException | None:
    """The error of ``exc``'s chain (itself, then what it was raised from or while handling) that
    names the database's trouble (``database_trouble``), if any.

    The error raised is not always the one that says what happened: SQLite rolls back the whole
    transaction when the disk is full, so leaving the savepoint then fails with "no such
    savepoint", raised while handling the full disk.
    """
    seen: BaseException | None = exc
    for _ in range(10):  # a chain is short; never loop on a cycle
        if seen is None:
            return None
        if database_trouble(seen) is not None:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


# A lock's session must notice a dead server or network within seconds, not after the kernel's
# two-hour keepalive default or fifteen minutes of retransmissions (TCP only; ignored on sockets).
_SESSION_CONNECT_ARGS: Final = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
    "connect_timeout": 10,
}


def create_session_engine(engine: Engine) -> Engine:
    """An Engine for dedicated PostgreSQL sessions (a run lock's): no pool, so a connection is
    never handed to anyone else nor silently replaced by a new session after a disconnect, and
    TCP keepalives so that a vanished server is noticed in seconds."""
    if engine.dialect.name != "postgresql":
        raise ValueError("dedicated sessions are for PostgreSQL")
    return sa.create_engine(engine.url, poolclass=NullPool, connect_args=dict(_SESSION_CONNECT_ARGS))
