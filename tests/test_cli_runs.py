"""What a run tells its caller: exit codes, which stream, and never success when nothing was done.

A sync that finds no daily index at all where EDGAR surely has them is pointed at the wrong host:
it fails (exit 1) with the checkpoint unchanged, its report on stderr with the other
diagnostics; so does a backfill that finds no quarterly index at all. ``history`` that matches
nothing exits 1. ``ingest`` ends with the count of failed documents, names the files it skipped,
and with ``--strict`` exits 1 when any failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fake_edgar import FakeEdgar
from test_pipeline_e2e import USER_AGENT, publish, week_of_filings

REPO_ROOT = Path(__file__).resolve().parent.parent
CHAIN = REPO_ROOT / "tests" / "fixtures" / "amendment_chain"


def cli(tmp_path: Path, *args: str, server: FakeEdgar | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
    env.update(PYTHONPATH=str(REPO_ROOT), EDGAR_INGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'e.db'}")
    if server is not None:
        env.update(
            EDGAR_INGEST_BASE_URL=server.url,
            EDGAR_INGEST_DATA_URL=server.url,
            EDGAR_INGEST_USER_AGENT=USER_AGENT,
        )
    return subprocess.run(
        [sys.executable, "-m", "edgar_ingest", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


def status(tmp_path: Path) -> dict[str, Any]:
    result = cli(tmp_path, "status", "--format", "json")
    assert result.returncode == 0, result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


# --------------------------------------------------------------------------- sync on the wrong host


def test_a_sync_that_finds_no_daily_index_at_all_fails_and_suggests_the_base_url(tmp_path: Path) -> None:
    with FakeEdgar() as wrong_host:  # answers AccessDenied to everything, like a host that is not EDGAR
        result = cli(tmp_path, "sync", "--since", "2024-01-01", "--until", "2024-01-05", server=wrong_host)

    assert result.returncode == 1
    assert result.stdout == ""
    assert "sync failed:" in result.stderr  # the report goes with the other diagnostics
    assert (
        f"none of the 5 business days from 2024-01-01 to 2024-01-05 has a daily index at {wrong_host.url}, "
        "though EDGAR has one for every business day more than two days old: check EDGAR_INGEST_BASE_URL "
        "(--base-url)."
    ) in result.stderr
    assert "checkpoint None" not in result.stderr
    after = status(tmp_path)
    assert after["checkpoint"] is None
    assert [r["status"] for r in after["last_runs"]] == ["failed"]


def test_a_wrong_host_leaves_an_earlier_checkpoint_where_it_was(tmp_path: Path) -> None:
    with FakeEdgar() as edgar:
        publish(edgar, week_of_filings())
        assert (
            cli(tmp_path, "sync", "--since", "2024-01-01", "--until", "2024-01-05", server=edgar).returncode
            == 0
        )
    assert status(tmp_path)["checkpoint"] == "2024-01-04"

    with FakeEdgar() as wrong_host:
        result = cli(tmp_path, "sync", "--until", "2024-01-12", server=wrong_host)

    assert result.returncode == 1
    assert "check EDGAR_INGEST_BASE_URL" in result.stderr
    assert status(tmp_path)["checkpoint"] == "2024-01-04"


def test_two_absent_days_in_a_row_are_holidays_not_a_wrong_host(tmp_path: Path) -> None:
    with FakeEdgar() as edgar:  # 2024-12-24 and 25: closed (an executive order, then Christmas)
        result = cli(tmp_path, "sync", "--since", "2024-12-24", "--until", "2024-12-25", server=edgar)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "no checkpoint yet: no daily index of these days exists yet; the next run tries again"
    )


def test_days_too_recent_to_have_an_index_are_not_a_wrong_host(tmp_path: Path) -> None:
    today = datetime.now(ZoneInfo("America/New_York")).date()
    with FakeEdgar() as edgar:
        result = cli(
            tmp_path,
            "sync",
            "--since",
            (today - timedelta(days=2)).isoformat(),
            "--until",
            today.isoformat(),
            server=edgar,
        )

    assert result.returncode == 0, result.stderr
    assert status(tmp_path)["checkpoint"] is None


# --------------------------------------------------------------------------- backfill on the wrong host


def test_a_backfill_that_finds_no_quarterly_index_at_all_fails_and_suggests_the_base_url(
    tmp_path: Path,
) -> None:
    with FakeEdgar() as wrong_host:  # no data sets' page either: auto reads indexes for everything
        result = cli(tmp_path, "backfill", "--start", "2023-07-01", "--end", "2024-04-01", server=wrong_host)

    assert result.returncode == 1
    assert "backfill failed:" in result.stderr
    assert (
        f"none of the 3 quarters from 2023Q3 to 2024Q1 has a quarterly index at {wrong_host.url}, "
        "though EDGAR has one for every quarter since 1993: check EDGAR_INGEST_BASE_URL (--base-url)."
    ) in result.stderr
    assert [r["status"] for r in status(tmp_path)["last_runs"]] == ["failed"]


def test_a_quarter_begun_this_week_without_an_index_yet_is_not_a_wrong_host() -> None:
    from edgar_ingest.pipeline import QUARTER_INDEX_SURELY_BUILT_AFTER, wrong_host_quarters_problem

    url = "http://127.0.0.1:9"
    begun = datetime(2025, 1, 1).date()
    assert wrong_host_quarters_problem([(2025, 1)], 0, begun + timedelta(days=3), url) is None
    assert wrong_host_quarters_problem([(2025, 1)], 0, begun + QUARTER_INDEX_SURELY_BUILT_AFTER, url)
    # Some quarter had an index: the host is EDGAR (an absent one is its own problem, not the host).
    assert wrong_host_quarters_problem([(2024, 3)], 1, begun, url) is None


def test_a_completed_sync_that_moved_nothing_says_the_checkpoint_is_unchanged(tmp_path: Path) -> None:
    with FakeEdgar() as edgar:
        publish(edgar, week_of_filings())
        assert (
            cli(tmp_path, "sync", "--since", "2024-01-01", "--until", "2024-01-05", server=edgar).returncode
            == 0
        )
        again = cli(tmp_path, "sync", "--since", "2024-01-05", "--until", "2024-01-05", server=edgar)

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "checkpoint 2024-01-04 (unchanged)"


# --------------------------------------------------------------------------- history, ingest


def test_history_that_matches_nothing_exits_1_with_one_sentence(tmp_path: Path) -> None:
    assert cli(tmp_path, "ingest", str(CHAIN)).returncode == 0

    table = cli(tmp_path, "history", "--cik", "5")
    as_json = cli(tmp_path, "history", "--file-number", "021-000000", "--format", "json")
    found = cli(tmp_path, "history", "--file-number", "021-512345")

    assert (table.returncode, table.stdout, table.stderr) == (
        1,
        "",
        "edgar-ingest: no stored filing matches CIK 5.\n",
    )
    assert (as_json.returncode, json.loads(as_json.stdout)) == (1, [])
    assert found.returncode == 0


def a_folder_with_one_bad_document_and_a_note(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for path in CHAIN.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "not_form_d.xml").write_bytes(b"<?xml version='1.0'?><ownershipDocument/>")
    (folder / "README.md").write_text("where these came from\n")
    return folder


def test_ingest_ends_with_how_many_documents_failed_and_names_the_files_it_skipped(tmp_path: Path) -> None:
    folder = a_folder_with_one_bad_document_and_a_note(tmp_path)

    result = cli(tmp_path, "ingest", str(folder))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[-1] == "ingest: 4 documents: 3 inserted, 0 updated, 0 unchanged, 1 failed; 1 other file skipped"
    )
    assert f"  skipped (not .xml, .txt or .nc): {folder / 'README.md'}" in lines
    assert any(line.startswith(f"  failed: {(folder / 'not_form_d.xml').as_uri()}: ") for line in lines)


def test_ingest_strict_exits_1_when_any_document_failed_and_0_otherwise(tmp_path: Path) -> None:
    folder = a_folder_with_one_bad_document_and_a_note(tmp_path)

    with_failure = cli(tmp_path, "ingest", "--strict", str(folder))
    clean = cli(tmp_path, "ingest", "--strict", str(CHAIN / "0001999001-24-000001.txt"))

    assert with_failure.returncode == 1
    assert with_failure.stdout.splitlines()[-1].endswith("1 failed; 1 other file skipped")
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.splitlines() == ["ingest: 1 document: 0 inserted, 0 updated, 1 unchanged, 0 failed"]
