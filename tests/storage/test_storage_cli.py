"""The storage commands through the real CLI: db upgrade, ingest, reparse, history."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from edgar_ingest.cli import build_parser, main

CHAIN = ["0001999001-24-000001", "0001999001-24-000003", "0001999001-25-000002"]


def run_cli(*args: str, database_url: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDGAR_INGEST_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "edgar_ingest", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_every_storage_command_has_help() -> None:
    sub = _subcommands(build_parser())
    helps = {choice.dest: choice.help for choice in sub._choices_actions}
    for name in ("db", "ingest", "reparse", "history"):
        assert helps[name], name
        assert sub.choices[name].description, name
    db = _subcommands(sub.choices["db"])
    assert {choice.dest: choice.help for choice in db._choices_actions}["upgrade"]


def test_amendment_chain_through_ingest_and_history(database_url: str, amendment_chain_dir: Path) -> None:
    first = run_cli("ingest", str(amendment_chain_dir), database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert "3 inserted, 0 updated, 0 unchanged, 0 failed" in first.stdout
    again = run_cli("ingest", str(amendment_chain_dir), database_url=database_url)
    assert "0 inserted, 0 updated, 3 unchanged, 0 failed" in again.stdout

    as_json = run_cli("history", "--file-number", "021-512345", "--format", "json", database_url=database_url)
    assert as_json.returncode == 0, as_json.stderr
    versions = json.loads(as_json.stdout)
    assert [v["accession_number"] for v in versions] == CHAIN
    assert [v["version"] for v in versions] == [1, 2, 3]
    # Amounts are strings, every one of them; counts are numbers.
    assert [v["total_amount_sold"] for v in versions] == ["350000000", "686000000", "818000000"]
    assert [v["amount_sold_change"] for v in versions] == [None, "336000000", "132000000"]
    assert [v["sales_commissions"] for v in versions] == ["3500000", "6860000", "8180000"]
    assert {v["finders_fees"] for v in versions} == {"0"}
    assert [v["total_investors"] for v in versions] == [40, 85, 112]
    assert [v["valid_to"] for v in versions] == ["2024-06-12", "2025-01-13", None]
    assert [v["is_latest"] for v in versions] == [False, False, True]
    assert versions[2]["accepted_at"] == "2025-01-10T23:05:00+00:00"

    as_csv = run_cli("history", "--cik", "1999001", "--format", "csv", database_url=database_url)
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["amount_sold_change"] for r in table] == ["", "336000000", "132000000"]
    assert [r["is_latest"] for r in table] == ["false", "false", "true"]

    as_table = run_cli("history", "--accession", CHAIN[1], database_url=database_url)
    assert as_table.returncode == 0
    lines = as_table.stdout.splitlines()
    assert lines[0].startswith("Offering 021-512345: Harborview Infrastructure Partners II, L.P.")
    assert "+336,000,000" in as_table.stdout
    assert "+132,000,000" in as_table.stdout
    assert len([line for line in lines if line.lstrip()[:1].isdigit()]) == 3

    missing = run_cli("history", "--cik", "42", database_url=database_url)
    assert missing.returncode == 1  # a query that matched nothing (DESIGN.md section 3)
    assert "no stored filing matches CIK 42" in missing.stderr


def test_ingest_records_failures_and_exits_zero(
    database_url: str, tmp_path: Path, amendment_chain_dir: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.xml").write_bytes((amendment_chain_dir / f"{CHAIN[0]}.txt").read_bytes())
    (folder / "broken.xml").write_text("<edgarSubmission><oops></edgarSubmission>")
    (folder / "notes.md").write_text("not a document")  # ignored: not .xml/.txt/.nc
    result = run_cli("ingest", str(folder), database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "2 documents: 1 inserted, 0 updated, 0 unchanged, 1 failed" in result.stdout
    assert "broken.xml" in result.stdout
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        failure = conn.execute(sa.text("SELECT source, stage, reason, raw_document_id FROM failures")).one()
        run = conn.execute(sa.text("SELECT command, status, inserted_count, failed_count FROM runs")).one()
        source_url = conn.scalar(
            sa.text("SELECT r.source_url FROM raw_documents r JOIN filings f ON f.raw_document_id = r.id")
        )
    engine.dispose()
    assert failure.source == (folder / "broken.xml").resolve().as_uri()
    assert failure.stage == "parse"
    assert failure.raw_document_id is not None
    assert tuple(run) == ("ingest", "completed", 1, 1)
    assert source_url == (folder / "a.xml").resolve().as_uri()


def test_reparse_needs_no_files(database_url: str, tmp_path: Path, amendment_chain_dir: Path) -> None:
    copy = tmp_path / "chain"
    copy.mkdir()
    for name in CHAIN:
        (copy / f"{name}.txt").write_bytes((amendment_chain_dir / f"{name}.txt").read_bytes())
    assert run_cli("ingest", str(copy), database_url=database_url).returncode == 0
    for path in copy.iterdir():
        path.unlink()
    result = run_cli("reparse", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "reparse: 3 documents: 0 inserted, 0 updated, 3 unchanged, 0 failed" in result.stdout


def test_db_upgrade_and_default_sqlite_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EDGAR_INGEST_DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "edgar_ingest", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "edgar_ingest.db").is_file()


def test_bad_inputs_exit_with_usage_or_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["ingest", str(tmp_path / "missing"), "--database-url", url]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["history", "--cik", "1", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}"]) == 1
    assert "edgar-ingest db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade", "--database-url", "not a url"]) == 2


@pytest.mark.corpus
def test_ingest_the_real_corpus(database_url: str, corpus_dir: Path) -> None:
    result = run_cli(
        "ingest",
        str(corpus_dir / "formd_xml"),
        str(corpus_dir / "submissions_txt"),
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    assert "52 documents: 46 inserted, 6 updated, 0 unchanged, 0 failed" in result.stdout
    again = run_cli("ingest", str(corpus_dir), database_url=database_url)
    # index/ and other/ hold files that are not Form D: recorded as failures, the rest unchanged.
    assert "0 inserted, 0 updated, 52 unchanged, 2 failed" in again.stdout
    reparse = run_cli("reparse", database_url=database_url)
    assert "0 inserted, 0 updated, 46 unchanged, 2 failed" in reparse.stdout


@pytest.mark.postgres
def test_postgres_scheme_urls_are_accepted(postgres_database_url: str, amendment_chain_dir: Path) -> None:
    url = postgres_database_url.replace("postgresql+psycopg://", "postgres://", 1)
    assert url.startswith("postgres://")
    result = run_cli("ingest", str(amendment_chain_dir), database_url=url)
    assert result.returncode == 0, result.stderr
    assert "3 inserted" in result.stdout
    history = run_cli("history", "--cik", "0001999001", "--format", "json", database_url=url)
    assert [v["version"] for v in json.loads(history.stdout)] == [1, 2, 3]
