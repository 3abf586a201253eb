"""Shared test fixtures: the real-data corpus and the PostgreSQL server found by environment."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_edgar import fake_edgar  # noqa: F401  (fixture: the fake EDGAR server, tests/fake_edgar.py)

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


# --------------------------------------------------------------------------- a throw-away PostgreSQL


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL cluster of one test's own, which the test may restart (never the shared one)."""

    bindir: Path
    folder: Path  # data/, the log and the Unix socket
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def socket_url(self) -> str:
        """The same database through the Unix socket (pg_hba.conf tells the two apart)."""
        return f"postgresql://postgres@/postgres?host={self.folder}&port={self.port}"

    def pg_ctl(self, *args: str) -> None:
        _as_postgres(self.bindir / "pg_ctl", "-D", str(self.folder / "data"), *args)

    def start(self) -> None:
        """Start; returns once it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-l", str(self.folder / "log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop: every session ends (``fast``: told so; ``immediate``: cut)."""
        self.pg_ctl("-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def refuse_tcp(self, refuse: bool) -> None:
        """Refuse (or accept again) connections over TCP; the Unix socket stays open."""
        hba = self.folder / "data" / "pg_hba.conf"
        text = hba.read_text()
        old, new = ("trust", "reject") if refuse else ("reject", "trust")
        lines = [
            line.replace(old, new) if line.startswith("host") and "replication" not in line else line
            for line in text.splitlines()
        ]
        hba.write_text("\n".join(lines) + "\n")
        if (self.folder / "data" / "postmaster.pid").exists():  # running: read it again now
            self.pg_ctl("reload")


def _postgres_bindir() -> Path | None:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(pg_ctl).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(found.stdout.strip())
        if found.returncode == 0 and (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _as_postgres(program: Path, *args: str) -> None:
    # As root, PostgreSQL refuses to run: run it as the postgres user, from / (see .ci/run: it
    # cannot enter root's private folders, and says "Permission denied" from one).
    command = [str(program), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, cwd="/", check=True, capture_output=True, timeout=120)


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A fresh PostgreSQL cluster on a free port (fsync off), stopped -m immediate afterwards.

    Skips when initdb and pg_ctl are not installed (fails under CI=true).
    """
    bindir = _postgres_bindir()
    problem = None
    if bindir is None:
        problem = "PostgreSQL's initdb and pg_ctl were not found on PATH or in pg_config --bindir"
    elif os.geteuid() == 0 and subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
        problem = "running as root, and there is no postgres user to run PostgreSQL as"
    if problem is not None or bindir is None:
        if running_in_ci():
            pytest.fail(f"CI=true but {problem}: the restart tests must not skip in CI")
        pytest.skip(str(problem))
    folder = Path(tempfile.mkdtemp(prefix="edgar-ingest-test-pg."))  # not under root's private tmp
    if os.geteuid() == 0:
        shutil.chown(folder, user="postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cluster = ThrowawayPostgres(bindir=bindir, folder=folder, port=port)
    try:
        _as_postgres(
            bindir / "initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust", "--encoding=UTF8"
        )
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
