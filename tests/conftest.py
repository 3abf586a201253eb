"""Shared test fixtures: the real-data corpus and the PostgreSQL server found by environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_edgar import fake_edgar  # noqa: F401  (fixture: the fake EDGAR server, tests/fake_edgar.py)
from throwaway_postgres import throwaway_postgres  # noqa: F401  (fixture: a cluster a test may restart)

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# ../shared/corpus beside the project root (CI has it; a user's clone may not).
CORPUS_DIR = Path(os.environ.get("EDGAR_INGEST_CORPUS_DIR", REPO_ROOT.parent / "shared" / "corpus"))
POSTGRES_ENV = "EDGAR_INGEST_TEST_POSTGRES_URL"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real EDGAR files of ../shared/corpus; skips when absent (fails in CI)."""
    if not (CORPUS_DIR / "PROVENANCE.tsv").is_file():
        if running_in_ci():
            pytest.fail(f"CI=true but the real-data corpus is missing at {CORPUS_DIR}")
        pytest.skip(f"real-data corpus not found at {CORPUS_DIR} (it sits beside the repo in CI)")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """URL of a PostgreSQL server's maintenance database; skips when absent (fails in CI)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if running_in_ci():
            pytest.fail(f"CI=true but {POSTGRES_ENV} is not set: PostgreSQL tests must not skip in CI")
        pytest.skip(f"set {POSTGRES_ENV}=postgresql://user@host:port/db to run PostgreSQL tests")
    return url


@pytest.fixture
def postgres_database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import sqlalchemy as sa

    from edgar_ingest.settings import normalise_database_url

    admin_url = normalise_database_url(postgres_server_url)
    name = f"edgar_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test runs twice: on a temporary SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'edgar.db'}"
    url: str = request.getfixturevalue("postgres_database_url")
    return url
