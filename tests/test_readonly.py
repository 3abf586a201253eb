"""Read-only use works on a read-only database (issue 13, item 8).

``status``, ``history`` and ``failures`` (without ``--retry``) only read: they open a SQLite file
in a read-only directory, or a read-only file, without writing a byte (no switch to WAL, no
migration, no ``-wal`` or ``-shm`` file left beside it), and when the schema is behind they say
so in one sentence (exit 1) instead of migrating. A database that is locked or a disk that is
full is named as such, not taken for a schema to upgrade.

The tests may run as root, for whom ``chmod`` stops no write, and a read-only bind mount needs
privileges a test does not have: so beside the ``chmod``, every test checks that the directory
holds the same files with the same bytes afterwards, which no write could leave true.
"""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_cli_options import CHAIN, FIXTURE, REPO_ROOT, clean_env

from edgar_ingest.cli import main
from edgar_ingest.settings import normalise_database_url
from edgar_ingest.store import Store, create_engine_for, downgrade
from edgar_ingest.store import engine as engine_module
from edgar_ingest.store.engine import database_trouble, schema_revisions

READERS = [
    (["status"], "filings:             3"),
    (["status", "--format", "json"], '"filings": 3'),
    (["failures"], "no unresolved failures"),
    (["failures", "--format", "json"], "[]"),
    (["history", "--file-number", "021-512345"], "0001999001-24-000003"),
]


def cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgar_ingest", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=clean_env(EDGAR_INGEST_DATABASE_URL=url),
        timeout=120,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of ``folder`` and the sha256 of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """A SQLite database holding the amendment chain (three filings), closed: the file alone."""
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "edgar.db"
    result = cli("ingest", str(CHAIN), url=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert snapshot(folder).keys() == {"edgar.db"}  # the writer's -wal and -shm went with it
    return database


@pytest.fixture
def read_only(stored: Path) -> Iterator[Path]:
    """The database as a read-only file in a read-only directory (permissions restored after)."""
    stored.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    stored.parent.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        yield stored
    finally:
        stored.parent.chmod(stat.S_IRWXU)
        stored.chmod(stat.S_IRUSR | stat.S_IWUSR)


@pytest.mark.parametrize(("command", "expected"), READERS)
def test_a_reader_reads_a_read_only_database_without_writing_a_byte(
    read_only: Path, command: list[str], expected: str
) -> None:
    before = snapshot(read_only.parent)

    result = cli(*command, url=f"sqlite:///{read_only}")

    assert (result.returncode, result.stderr) == (0, "")
    assert expected in result.stdout
    assert snapshot(read_only.parent) == before  # same bytes, and no -wal or -shm beside them


def test_the_healthcheck_probe_reads_without_writing_a_byte(read_only: Path) -> None:
    # A container's healthcheck runs every few seconds beside the watcher: it only reads.
    before = snapshot(read_only.parent)

    result = cli("healthcheck", url=f"sqlite:///{read_only}")

    assert result.returncode == 1
    assert result.stderr == "unhealthy: no watch poll has succeeded on this database yet.\n"
    assert snapshot(read_only.parent) == before


def test_a_reader_beside_a_running_writer_sees_what_it_committed(stored: Path) -> None:
    # A writer that keeps the database open: its commits are in the -wal file, not yet in the
    # database file, which a reader must read as a reader (not as an immutable file).
    url = f"sqlite:///{stored}"
    writer = Store(create_engine_for(url))
    try:
        with writer.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE filings SET total_investors = 4242 WHERE accession_number = :a"),
                {"a": "0001999001-24-000003"},
            )
        assert (stored.parent / "edgar.db-wal").exists()

        result = cli("history", "--accession", "0001999001-24-000003", "--format", "csv", url=url)

        assert result.returncode == 0, result.stderr
        assert ",4242," in result.stdout
    finally:
        writer.close()


@pytest.mark.parametrize("command", ["status", "healthcheck"])
def test_a_schema_that_is_behind_is_one_sentence_and_the_reader_changes_nothing(
    stored: Path, command: str
) -> None:
    url = f"sqlite:///{stored}"
    downgrade(url, "0003")
    before = snapshot(stored.parent)

    result = cli(command, url=url)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"edgar-ingest: The database at {url} needs `edgar-ingest db upgrade` before it can be read: it is "
        f"at schema revision 0003, this edgar_ingest reads revision {head_revision()} (commands that only "
        "read never change the database)."
    ]
    assert snapshot(stored.parent) == before


def test_a_schema_from_a_newer_edgar_ingest_is_one_sentence(stored: Path) -> None:
    with sqlite3.connect(stored) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()

    result = cli("failures", url=f"sqlite:///{stored}")

    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "was upgraded by a newer edgar_ingest (schema revision 9999" in result.stderr


def test_a_reader_does_not_migrate_a_postgresql_database_either(postgres_database_url: str) -> None:
    url = postgres_database_url
    assert cli("ingest", str(CHAIN), url=url).returncode == 0
    downgrade(url, "0003")

    result = cli("history", "--file-number", "021-512345", url=url)

    assert result.returncode == 1
    assert (
        "needs `edgar-ingest db upgrade` before it can be read: it is at schema revision 0003"
        in result.stderr
    )
    assert revision_of(url) == "0003"


def test_a_read_only_postgresql_engine_refuses_writes_and_says_so(postgres_database_url: str) -> None:
    assert cli("ingest", str(CHAIN), url=postgres_database_url).returncode == 0
    engine = create_engine_for(postgres_database_url, read_only=True)
    try:
        with pytest.raises(sa.exc.DBAPIError) as refused, engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM runs"))
        assert database_trouble(refused.value) == "is read-only"
        assert cli("status", url=postgres_database_url).returncode == 0
    finally:
        engine.dispose()


def head_revision() -> str:
    engine = create_engine_for("sqlite://")
    try:
        return schema_revisions(engine)[1]
    finally:
        engine.dispose()


def revision_of(url: str) -> str:
    engine = sa.create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- what went wrong


def test_a_full_disk_is_named_not_taken_for_an_old_schema(
    stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite's own "database or disk is full" (SQLITE_FULL), from a page limit the file has reached.
    with sqlite3.connect(stored) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    configure = engine_module._sqlite_on_connect

    def full_disk(dbapi_connection: sqlite3.Connection, record: object) -> None:
        configure(dbapi_connection, record)
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    monkeypatch.setattr(engine_module, "_sqlite_on_connect", full_disk)

    code = main(["ingest", str(FIXTURE.parent.parent / "formd"), "--database-url", f"sqlite:///{stored}"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines() == [
        f"edgar-ingest: The database at sqlite:///{stored} cannot be written because the disk is full: "
        "database or disk is full"
    ]


def test_a_locked_database_is_named_not_taken_for_an_old_schema(
    stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(stored, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than the busy timeout
    try:
        code = main(["ingest", str(FIXTURE), "--database-url", f"sqlite:///{stored}"])
    finally:
        other.execute("ROLLBACK")
        other.close()

    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines() == [
        f"edgar-ingest: The database at sqlite:///{stored} is locked by another process: database is locked"
    ]


def test_a_postgresql_lock_held_by_another_session_is_named_as_such(postgres_database_url: str) -> None:
    engine = create_engine_for(postgres_database_url)
    try:
        with engine.connect() as holder, engine.connect() as waiter:
            holder.execute(sa.text("CREATE TABLE held (id integer)"))
            holder.commit()
            holder.execute(sa.text("LOCK TABLE held IN ACCESS EXCLUSIVE MODE"))
            waiter.execute(sa.text("SET lock_timeout = '50ms'"))
            with pytest.raises(sa.exc.DBAPIError) as refused:
                waiter.execute(sa.text("SELECT count(*) FROM held"))
            holder.rollback()
        assert database_trouble(refused.value) == "is locked by another process"
    finally:
        engine.dispose()


def test_a_locked_database_stops_sync_saying_so_not_blaming_the_url(
    stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    monkeypatch.setenv("EDGAR_INGEST_USER_AGENT", "Example Research ops@example.com")
    monkeypatch.setenv("EDGAR_INGEST_BASE_URL", "http://127.0.0.1:9")  # never reached: the lock comes first
    other = sqlite3.connect(stored, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        code = main(["sync", "--database-url", f"sqlite:///{stored}"])
    finally:
        other.execute("ROLLBACK")
        other.close()

    err = capsys.readouterr().err
    assert code == 1
    assert len(err.splitlines()) == 1, err
    assert "is locked by another process (database is locked)" in err
    assert "EDGAR_INGEST_DATABASE_URL" not in err
