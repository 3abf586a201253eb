"""The command line as a whole: every command documented, errors as one sentence and an exit code."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from edgar_ingest.cli import build_parser, main

REPO_ROOT = Path(__file__).resolve().parent.parent


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_of_the_design_contract_exists_and_has_help_text() -> None:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    expected = {"db", "parse", "sync", "backfill", "ingest", "reparse", "history", "status", "failures"}
    assert expected <= set(helps)
    assert all(helps[name] for name in helps), helps


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_has_a_description_for_its_own_help(name: str) -> None:
    description = _subcommands()[name].description or ""
    assert len(description.split()) >= 5, f"`edgar-ingest {name} --help` says too little: {description!r}"


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_option_of_every_command_has_help_text(name: str) -> None:
    sub = _subcommands()[name]
    undocumented = [
        a.dest
        for a in sub._actions
        if not a.help and a.dest != "help" and not isinstance(a, argparse._SubParsersAction)
    ]
    assert undocumented == []


def test_an_unreachable_database_is_one_sentence_and_exit_code_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGAR_INGEST_DATABASE_URL", raising=False)

    code = main(["status", "--database-url", "postgresql://someone:secret@127.0.0.1:1/edgar"])

    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "could not be used" in err
    assert "secret" not in err  # the password is never printed


def test_a_setting_out_of_range_stops_the_command_with_exit_code_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "edgar_ingest", "sync", "--max-rps", "20", "--user-agent", "A a@b.example"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "at most 10" in result.stderr


def test_an_offline_command_ignores_network_settings_it_does_not_use(tmp_path: Path) -> None:
    fixture = REPO_ROOT / "tests" / "fixtures" / "amendment_chain" / "0001999001-24-000003.txt"
    result = subprocess.run(
        [sys.executable, "-m", "edgar_ingest", "parse", str(fixture)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "EDGAR_INGEST_MAX_RPS": "50"},
    )
    assert result.returncode == 0, result.stderr
    assert "0001999001-24-000003" in result.stdout
