"""Storage fixtures: each test gets a database migrated with the real Alembic migrations.

``database_url`` (tests/conftest.py) runs a test on a temporary SQLite file and on a fresh
PostgreSQL database (skipped without EDGAR_INGEST_TEST_POSTGRES_URL, except under CI=true).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgar_ingest.store import Store, create_engine_for, upgrade


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'edgar.db'}"


def open_store(url: str) -> Store:
    engine = create_engine_for(url)
    upgrade(engine)
    return Store(engine)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = open_store(database_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def amendment_chain_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / "amendment_chain"
