"""What the benchmarks' measured child processes share: running one and reading back its figures,
a fresh database and store per run, and peak RSS."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from edgar_ingest.settings import normalise_database_url
from edgar_ingest.store import Store


def run_child(script: str, database: str, postgres_url: str | None, *args: str) -> dict[str, float]:
    """Run ``script --child DATABASE ARGS`` in a fresh Python process (so its peak RSS is its own)
    and return the figures it printed as JSON on its last line. The child's stderr is not captured,
    so a failing run shows its traceback."""
    cmd = [sys.executable, script, "--child", database, *args]
    if database == "postgresql":
        assert postgres_url is not None
        cmd += ["--postgres-url", postgres_url]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


@contextmanager
def fresh_database(database: str, postgres_url: str | None) -> Iterator[str]:
    """The URL of an empty database for one measured run, removed afterwards: a SQLite file in a
    temporary folder, or a PostgreSQL database created on ``postgres_url``'s server."""
    if database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="edgar-bench-db-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    assert postgres_url is not None
    admin_url = normalise_database_url(postgres_url)
    name = f"edgar_bench_{uuid.uuid4().hex[:10]}"
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_store(database: str, postgres_url: str | None) -> Iterator[Store]:
    """A store on a fresh, migrated database for one measured run (see ``fresh_database``),
    closed before the database is removed."""
    with fresh_database(database, postgres_url) as url:
        store = Store.from_url(url)
        try:
            yield store
        finally:
            store.close()


def _admin(admin_url: str, statement: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
