"""Engines and migrations.

``create_engine_for(url)`` builds an Engine (SQLite: WAL, foreign keys, busy timeout, real
transactions with savepoints); ``upgrade(url_or_engine)`` applies the Alembic migrations, the
only way the schema is created.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from edgar_ingest.settings import normalise_database_url

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


def create_engine_for(url: str) -> Engine:
    """An Engine for a database URL (``postgres://`` accepted); SQLite gets WAL, FKs, busy timeout."""
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _is_configured(engine: Engine) -> bool:
    if engine.dialect.name != "sqlite":
        return True
    return event.contains(engine, "connect", _sqlite_on_connect)


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
    _migrate(target, lambda config: command.upgrade(config, revision))


def downgrade(target: str | Engine, revision: str = "base") -> None:
    """Revert the migrations down to ``revision`` (``base`` drops everything)."""
    _migrate(target, lambda config: command.downgrade(config, revision))


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
