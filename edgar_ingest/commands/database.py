"""Opening the database for a command: migrated for those that write, read-only for those that
only read, and every database error as one sentence that says what happened (locked, disk full,
read-only, schema behind), with the password of the URL hidden."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from edgar_ingest.commands.options import require_existing_database
from edgar_ingest.commands.runs import first_line
from edgar_ingest.errors import EdgarIngestError
from edgar_ingest.settings import Settings, redact_database_url
from edgar_ingest.store import Store, create_engine_for, upgrade
from edgar_ingest.store.engine import database_trouble, is_known_revision, schema_revisions, troubled_error


@contextmanager
def open_store(settings: Settings, *, migrate: bool, read_only: bool = False) -> Iterator[Store]:
    """The store, migrated first if ``migrate``; ``read_only``: over connections that change
    nothing (no migration, no WAL switch), refused in one sentence when the schema is behind.

    A database error says what happened: locked, disk full, read-only, schema missing (see
    ``database_trouble``), never a traceback.
    """
    where = safe_url(settings.database_url)
    try:
        engine = create_engine_for(settings.database_url, read_only=read_only)
    except sa.exc.SQLAlchemyError as exc:
        raise _database_error(where, exc) from exc
    try:
        if migrate:
            upgrade(engine)
        elif read_only:
            _require_current_schema(engine, where)
        store = Store(engine)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise _database_error(where, exc) from exc
    except BaseException:
        engine.dispose()
        raise
    try:
        yield store
    except sa.exc.SQLAlchemyError as exc:
        raise _database_error(where, exc) from exc
    finally:
        store.close()


@contextmanager
def read_only_store(settings: Settings) -> Iterator[Store]:
    """The store for a command that only reads (``status``, ``history``, ``failures``): a SQLite
    file that does not exist is not created, one in a read-only directory or mount is read, and
    nothing is written (``open_store`` with ``read_only``)."""
    require_existing_database(settings)
    with open_store(settings, migrate=False, read_only=True) as store:
        yield store


def _require_current_schema(engine: sa.Engine, where: str) -> None:
    """A reader cannot migrate: a schema that is behind (or ahead) is one sentence, exit 1."""
    current, head = schema_revisions(engine)
    if current == head:
        return
    if current is not None and not is_known_revision(current):
        raise EdgarIngestError(
            f"The database at {where} was upgraded by a newer edgar_ingest (schema revision {current}, "
            f"this one reads {head}): upgrade edgar_ingest to read it."
        )
    at = f"is at schema revision {current}" if current else "has no edgar_ingest schema"
    raise EdgarIngestError(
        f"The database at {where} needs `edgar-ingest db upgrade` before it can be read: it {at}, this "
        f"edgar_ingest reads revision {head} (commands that only read never change the database)."
    )


def _database_error(where: str, exc: sa.exc.SQLAlchemyError) -> EdgarIngestError:
    """One sentence: what the database says is wrong with it (``troubled_error``: also when
    another error hides it), else that it could not be used."""
    troubled = troubled_error(exc)
    if troubled is not None:
        return EdgarIngestError(
            f"The database at {where} {database_trouble(troubled)}: {first_line(troubled)}"
        )
    return EdgarIngestError(f"The database at {where} could not be used: {first_line(exc)}")


def safe_url(url: str) -> str:
    return redact_database_url(url)  # also for a URL that does not parse: it never shows a password
