"""Alembic is the only way the schema is made: the models agree with it, and it reverses cleanly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from edgar_ingest.models import Base
from edgar_ingest.store import alembic_config, create_engine_for, downgrade, migrations_path, upgrade

VIEWS = {"offering_versions", "offerings_latest"}


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
        assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0001"
    engine.dispose()


def test_migrations_are_found_without_an_ini_file() -> None:
    path = migrations_path()
    assert (path / "env.py").is_file()
    assert (path / "script.py.mako").is_file()
    assert sorted(p.name for p in (path / "versions").glob("0*.py")) == ["0001_initial.py"]
