"""A PostgreSQL cluster of one test's own, for tests that stop or restart the server under a run
(the shared server of ``EDGAR_INGEST_TEST_POSTGRES_URL`` must stay up for the other tests).

The ``throwaway_postgres`` fixture (registered in conftest.py) runs ``initdb`` and ``pg_ctl`` found
on PATH or in ``pg_config --bindir``, as CI does (.ci/run): on a free port, ``fsync=off``, stopped
``-m immediate`` afterwards. It skips when PostgreSQL is not installed, and fails under CI=true.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _running_in_ci() -> bool:  # as conftest.running_in_ci (this module cannot import conftest)
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


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
        if _running_in_ci():
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
