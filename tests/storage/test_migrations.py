"""Alembic is the only way the schema is made: the models agree with it, and it reverses cleanly."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from edgar_ingest.models import Base
from edgar_ingest.offline import ingest_paths
from edgar_ingest.store import Store, alembic_config, create_engine_for, downgrade, migrations_path, upgrade

VIEWS = {"offering_versions", "offerings_latest", "offering_related_persons", "issuers_latest"}


def _tables_and_views(engine: sa.Engine) -> tuple[set[str], set[str]]:
    inspector = sa.inspect(engine)
    return set(inspector.get_table_names()), set(inspector.get_view_names())


def test_alembic_check_finds_no_difference(database_url: str) -> None:
    engine = create_engine_for(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        command.check(alembic_config(connection=conn))  # raises when autogenerate would add anything
    engine.dispose()


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = create_engine_for(database_url)
    upgrade(engine)
    tables, views = _tables_and_views(engine)
    assert set(Base.metadata.tables) <= tables
    assert views == VIEWS
    upgrade(engine)  # nothing to do the second time
    downgrade(engine, "base")
    tables, views = _tables_and_views(engine)
    assert tables <= {"alembic_version"}
    assert views == set()
    upgrade(engine)
    tables, views = _tables_and_views(engine)
    assert set(Base.metadata.tables) <= tables
    assert views == VIEWS
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0005"
    engine.dispose()


def test_migrations_are_found_without_an_ini_file() -> None:
    path = migrations_path()
    assert (path / "env.py").is_file()
    assert (path / "script.py.mako").is_file()
    names = sorted(p.name for p in (path / "versions").glob("0*.py"))
    assert names == [
        "0001_initial.py",
        "0002_datasets.py",
        "0003_analyst_views.py",
        "0004_exact_amounts.py",
        "0005_archive_validators.py",
    ]


def test_0002_keeps_every_row_of_a_0001_database_as_a_filing_version(
    database_url: str, amendment_chain_dir: Path
) -> None:
    """A database filled by the previous version upgrades in place and downgrades back."""
    engine = create_engine_for(database_url)
    upgrade(engine, "0001")
    # Ingest through 0001's schema with plain SQL is not possible with today's store (it writes the
    # source column), so fill the tables at 0002, go down to 0001 and come back up.
    upgrade(engine)
    ingest_paths(Store(engine), sorted(amendment_chain_dir.glob("*.txt")))
    downgrade(engine, "0001")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("filings")}
        assert "source" not in columns
        before = conn.execute(
            sa.text("SELECT accession_number, total_amount_sold FROM offering_versions ORDER BY version")
        ).all()
    assert len(before) == 3
    upgrade(engine)
    with engine.connect() as conn:
        after = conn.execute(
            sa.text(
                "SELECT accession_number, total_amount_sold, source, filing_id IS NOT NULL "
                "FROM offering_versions ORDER BY version"
            )
        ).all()
    assert [(a, int(s)) for a, s, *_ in after] == [(a, int(s)) for a, s in before]
    assert {(source, has_id) for *_, source, has_id in after} == {("filing", True)}
    engine.dispose()


def _row_counts(conn: sa.Connection) -> dict[str, int]:
    return {
        table: int(conn.scalar(sa.text(f"SELECT COUNT(*) FROM {table}")) or 0)
        for table in sorted(Base.metadata.tables)
    }


def test_0003_keeps_every_row_of_a_0002_database_and_adds_the_analyst_views(
    database_url: str, amendment_chain_dir: Path
) -> None:
    """0003 changes only views: a database filled by the previous version keeps every row."""
    engine = create_engine_for(database_url)
    upgrade(engine)
    ingest_paths(Store(engine), [amendment_chain_dir])
    downgrade(engine, "0002")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_view_names()) == {"offering_versions", "offerings_latest"}
        counts_before = _row_counts(conn)
        versions_before = conn.execute(sa.text("SELECT * FROM offering_versions ORDER BY version")).all()
        columns_before = list(conn.execute(sa.text("SELECT * FROM offering_versions")).keys())
    assert columns_before[-2:] == ["filing_id", "source"]
    assert (counts_before["filings"], counts_before["related_persons"]) == (3, 6)
    upgrade(engine)
    with engine.connect() as conn:
        assert _row_counts(conn) == counts_before
        versions_after = conn.execute(
            sa.text(f"SELECT {', '.join(columns_before)} FROM offering_versions ORDER BY version")
        ).all()
        persons = conn.scalar(sa.text("SELECT COUNT(*) FROM offering_related_persons"))
        issuers = conn.execute(sa.text("SELECT cik, filing_count FROM issuers_latest")).all()
    assert versions_after == versions_before
    assert persons == 2
    assert [tuple(r) for r in issuers] == [("0001999001", 3)]
    engine.dispose()


def test_a_migration_that_rebuilds_filings_keeps_the_rows_that_reference_it(
    database_url: str, amendment_chain_dir: Path
) -> None:
    """0002's downgrade rebuilds ``filings`` on SQLite (batch mode drops the old table): the rows of
    its child tables must survive, which they only do with foreign keys off during migrations."""
    engine = create_engine_for(database_url)
    upgrade(engine)
    ingest_paths(Store(engine), [amendment_chain_dir])
    with engine.connect() as conn:
        before = _row_counts(conn)
    assert (before["related_persons"], before["signatures"], before["filing_issuers"]) == (6, 3, 3)
    downgrade(engine, "0001")
    upgrade(engine)
    with engine.connect() as conn:
        assert _row_counts(conn) == before
        if engine.dialect.name == "sqlite":  # and the store's connections enforce them again
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_0004_converts_amounts_exactly_and_removes_a_version_whose_amount_was_not_whole(
    database_url: str, amendment_chain_dir: Path
) -> None:
    """A 0003 database (amounts NUMERIC) upgrades in place: whole amounts are kept exactly; a
    fraction stored by the old lenient parser is not rounded: its version goes to failures."""
    engine = create_engine_for(database_url)
    upgrade(engine)
    ingest_paths(Store(engine), [amendment_chain_dir])
    downgrade(engine, "0003")
    with engine.begin() as conn:
        types = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("filings")}
        assert isinstance(types["total_amount_sold"], sa.Numeric)
        conn.execute(
            sa.text("UPDATE filings SET total_amount_sold = 686000000.5 WHERE accession_number = :a"),
            {"a": "0001999001-24-000003"},
        )
        conn.execute(
            sa.text("UPDATE filings SET minimum_investment = 999999999999 WHERE accession_number = :a"),
            {"a": "0001999001-24-000001"},
        )
        before = _row_counts(conn)
    upgrade(engine)
    with engine.connect() as conn:
        after = _row_counts(conn)
        versions = conn.execute(
            sa.text(
                "SELECT accession_number, total_amount_sold, amount_sold_change, minimum_investment "
                "FROM offering_versions ORDER BY version"
            )
        ).all()
        failure = conn.execute(
            sa.text("SELECT failure_key, stage, reason, is_resolved, raw_document_id FROM failures")
        ).one()
        types = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("filings")}
    assert [tuple(v) for v in versions] == [
        ("0001999001-24-000001", 350_000_000, None, 999_999_999_999),
        ("0001999001-25-000002", 818_000_000, 468_000_000, 5_000_000),
    ]
    assert all(type(value) is int for v in versions for value in v[1:] if value is not None)
    assert (failure.failure_key, failure.stage, bool(failure.is_resolved)) == (
        "0001999001-24-000003",
        "parse",
        False,
    )
    assert "total_amount_sold was stored as 686000000.5" in failure.reason
    assert failure.raw_document_id is not None  # its document is kept, for reparse
    # Only the removed version's own rows are gone.
    assert after["filings"] == before["filings"] - 1
    assert after["related_persons"] == before["related_persons"] - 2
    assert after["raw_documents"] == before["raw_documents"]
    assert all(isinstance(types[c], sa.BigInteger) for c in ("total_amount_sold", "total_investors"))
    engine.dispose()
