"""The command line's rough edges, through the real entry point (``python -m edgar_ingest``).

Global options go before or after the command; a database URL the tool cannot use, or a SQLite
file that is not there, is one sentence and an exit code, never a traceback or an empty file
created by a command that only reads; a reader that closes the pipe early gets no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_edgar import FakeEdgar
from test_pipeline_e2e import DAYS, USER_AGENT, publish, versions, week_of_filings

from edgar_ingest.cli import build_parser
from edgar_ingest.commands.options import GLOBAL_DEFAULTS, fill_global_defaults

REPO_ROOT = Path(__file__).resolve().parent.parent
CHAIN = REPO_ROOT / "tests" / "fixtures" / "amendment_chain"
FIXTURE = CHAIN / "0001999001-24-000003.txt"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
    env.update(PYTHONPATH=str(REPO_ROOT), **extra)
    return env


def cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgar_ingest", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(**env),
        timeout=120,
    )


def cli_without_psycopg(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI as installed without the postgres extra: ``import psycopg`` fails."""
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from edgar_ingest.cli import main\n"
        f"raise SystemExit(main({list(args)!r}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(**env),
        timeout=60,
    )


# --------------------------------------------------------------------------- global options


def test_the_database_url_goes_before_or_after_the_command(tmp_path: Path) -> None:
    before, after = tmp_path / "before.db", tmp_path / "after.db"

    first = cli(tmp_path, "--database-url", f"sqlite:///{before}", "ingest", str(FIXTURE))
    second = cli(tmp_path, "ingest", "--database-url", f"sqlite:///{after}", str(FIXTURE))

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert versions(f"sqlite:///{before}") == versions(f"sqlite:///{after}")
    assert len(versions(f"sqlite:///{before}")) == 1
    assert not (tmp_path / "edgar_ingest.db").exists()  # the default was not used


def test_network_settings_and_log_format_go_before_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    with FakeEdgar() as server:
        specs = week_of_filings()
        publish(server, specs)
        # fmt: off
        result = cli(
            tmp_path,
            "--user-agent", USER_AGENT, "--base-url", server.url, "--data-url", server.url,
            "--max-rps", "5", "--block-pause", "1", "--log-format", "json", "--database-url", url,
            "sync", "--since", DAYS[0].isoformat(), "--until", DAYS[0].isoformat(),
        )
        # fmt: on
        user_agents = {r.headers.get("User-Agent") for r in server.requests}

    assert result.returncode == 0, result.stderr
    assert user_agents == {USER_AGENT}
    assert json.loads(result.stdout)["status"] == "completed"  # the JSON report
    assert all(json.loads(line) for line in result.stderr.splitlines())  # JSON progress lines
    assert len(versions(url)) == 3


def test_an_option_given_after_the_command_wins_over_the_same_option_before_it() -> None:
    args = build_parser().parse_args(
        [
            "--database-url",
            "sqlite:///a.db",
            "--log-format",
            "json",
            "status",
            "--database-url",
            "sqlite:///b.db",
        ]
    )
    fill_global_defaults(args)
    assert (args.database_url, args.log_format) == ("sqlite:///b.db", "json")


@pytest.mark.parametrize("command", [["status"], ["history", "--cik", "1"], ["sync"], ["db", "upgrade"]])
def test_global_options_not_given_take_their_defaults(command: list[str]) -> None:
    args = build_parser().parse_args(command)
    fill_global_defaults(args)
    assert {name: getattr(args, name) for name in GLOBAL_DEFAULTS} == GLOBAL_DEFAULTS


def test_a_command_ignores_global_options_it_does_not_use(tmp_path: Path) -> None:
    result = cli(tmp_path, "--max-rps", "50", "--database-url", "mysql://x@h/db", "parse", str(FIXTURE))

    assert result.returncode == 0, result.stderr
    assert "0001999001-24-000003" in result.stdout


def test_every_global_option_has_help_text() -> None:
    parser = build_parser()
    undocumented = [a.dest for a in parser._actions if a.option_strings and not a.help]
    assert undocumented == []
    assert set(GLOBAL_DEFAULTS) <= {a.dest for a in parser._actions}


# --------------------------------------------------------------------------- database URLs


def test_postgresql_without_its_driver_names_the_extra_to_install(tmp_path: Path) -> None:
    result = cli_without_psycopg(tmp_path, "status", "--database-url", "postgresql://someone@127.0.0.1:1/db")

    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "psycopg" in result.stderr
    assert "'.[postgres]'" in result.stderr


def test_a_postgresql_url_in_the_environment_does_not_stop_an_offline_parse_without_the_driver(
    tmp_path: Path,
) -> None:
    result = cli_without_psycopg(
        tmp_path, "parse", str(FIXTURE), EDGAR_INGEST_DATABASE_URL="postgresql://someone@127.0.0.1:1/db"
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("url", ["mysql://someone:secret@db.example/edgar", "oracle+cx_oracle://h/db"])
def test_a_database_other_than_sqlite_or_postgresql_is_one_sentence_and_exit_code_2(
    tmp_path: Path, url: str
) -> None:
    result = cli(tmp_path, "ingest", str(FIXTURE), EDGAR_INGEST_DATABASE_URL=url)

    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "not supported" in result.stderr
    assert "secret" not in result.stderr


# --------------------------------------------------------------------------- no database yet


@pytest.mark.parametrize(
    "command", [["status"], ["status", "--format", "json"], ["failures"], ["history", "--cik", "1"]]
)
def test_a_command_that_only_reads_does_not_create_a_missing_database(
    tmp_path: Path, command: list[str]
) -> None:
    result = cli(tmp_path, *command)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"edgar-ingest: There is no database at {tmp_path.resolve() / 'edgar_ingest.db'}: create one with "
        "`edgar-ingest db upgrade`, fill one with `edgar-ingest ingest`, `sync` or `backfill`, or point "
        "--database-url (EDGAR_INGEST_DATABASE_URL) at an existing one."
    ]
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_command_that_writes_creates_the_database_and_status_then_reads_it(tmp_path: Path) -> None:
    assert cli(tmp_path, "db", "upgrade").returncode == 0

    result = cli(tmp_path, "status")

    assert result.returncode == 0, result.stderr
    assert "filings:             0" in result.stdout


# --------------------------------------------------------------------------- pipes


def run_into_a_closed_pipe(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI writing into a pipe whose reader has gone, as `... | head -1` does once it has read."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "edgar_ingest", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=clean_env(),
            timeout=60,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "command",
    [
        ["history", "--file-number", "021-512345"],
        ["history", "--file-number", "021-512345", "--format", "csv"],
        ["status", "--format", "json"],
        ["status"],
        ["failures", "--format", "json"],
    ],
)
def test_a_reader_that_stops_reading_gets_no_traceback(tmp_path: Path, command: list[str]) -> None:
    assert cli(tmp_path, "ingest", str(CHAIN)).returncode == 0

    result = run_into_a_closed_pipe(tmp_path, *command)

    assert result.stderr == ""
    assert result.returncode == 141  # as a process stopped by SIGPIPE (cli.EXIT_BROKEN_PIPE)
