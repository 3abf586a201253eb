"""Alembic environment: the URL comes from our code (config attributes) or the project's settings.

``edgar_ingest.store.upgrade`` builds the Alembic ``Config`` in code and passes either an open
``connection`` or a ``database_url`` in ``config.attributes``. Run from the command line
(``alembic -c alembic.ini ...`` in a checkout), the URL is ``sqlalchemy.url`` when set, else
``Settings.from_env().database_url`` (``EDGAR_INGEST_DATABASE_URL`` or the default SQLite file).
SQLite gets batch mode (ALTER TABLE is limited there).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from edgar_ingest.models import Base
from edgar_ingest.settings import Settings, normalise_database_url

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        return Settings.from_env().database_url
    return normalise_database_url(str(url))


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=target_metadata, compare_type=True, **kwargs)  # type: ignore[arg-type]


def run_migrations_offline() -> None:
    url = _database_url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection: sa.Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    from edgar_ingest.store import create_engine_for

    engine = create_engine_for(_database_url())
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # As edgar_ingest.store.upgrade does: a table rebuilt by batch mode is dropped, and
                # with foreign keys on that DROP would delete the rows referencing it (CASCADE).
                # Set on the driver's connection, before any transaction (where it is ignored);
                # the engine, and so the connection, is thrown away afterwards.
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            _run_with(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
