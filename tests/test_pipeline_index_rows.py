"""One bad index row is one failure, not a dead run (issue 13, item 4), through the real CLI.

A daily index row that cannot be read is skipped and recorded (stage ``discover``, its source the
index URL with the line, its reason naming file and line); the rest of the day is stored and the
checkpoint moves. A corrupt ``master.idx.gz`` falls back to the plain ``master.idx``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fake_edgar import FakeEdgar, master_index
from formd_builder import FilingSpec, full_submission, master_index_rows
from test_pipeline_e2e import cli_env, run_cli, versions

DAY = date(2024, 1, 2)
INDEX_PATH = "/Archives/edgar/daily-index/2024/QTR1/master.20240102.idx"


@pytest.fixture
def server() -> Iterator[FakeEdgar]:
    with FakeEdgar() as fake:
        yield fake


def _specs(count: int) -> list[FilingSpec]:
    return [
        FilingSpec(accession=f"0001810{n:03d}-24-{n:06d}", cik=str(1810000 + n), file_number=f"021-81{n:04d}")
        for n in range(1, count + 1)
    ]


def test_sync_records_a_bad_daily_index_row_and_stores_the_rest_of_the_day(
    server: FakeEdgar, database_url: str
) -> None:
    specs = _specs(4)
    for spec in specs:
        server.add(spec.path, full_submission(spec))
    rows = master_index_rows(specs)
    # The third row's CIK has 11 digits: which filer it names cannot be trusted.
    cik, name, form, filed, file_name = rows[2]
    rows[2] = ("1" + cik.zfill(10), name, form, filed, file_name)
    server.add_daily_index(DAY, master_index(rows, day=DAY))
    env = cli_env(server, database_url)

    result = run_cli(env, "sync", "--since", DAY.isoformat(), "--until", DAY.isoformat())

    assert result.returncode == 0, result.stderr
    assert "failed 1" in result.stdout
    stored = {r["accession_number"] for r in versions(database_url)}
    assert stored == {specs[0].accession, specs[1].accession, specs[3].accession}
    [failure] = json.loads(run_cli(env, "failures", "--format", "json").stdout)
    # The header of fake_edgar.master_index is 7 lines long: the third row is line 10.
    assert failure["stage"] == "discover"
    assert failure["source"] == f"{server.url}{INDEX_PATH}#L10"
    assert str(failure["reason"]).startswith("master.20240102.idx line 10: the CIK '1")
    assert "has 11 digits, more than 10" in str(failure["reason"])
    assert json.loads(run_cli(env, "status", "--format", "json").stdout)["checkpoint"] == DAY.isoformat()
    listed = run_cli(env, "failures")
    assert "master.20240102.idx line 10" in listed.stdout


@pytest.mark.parametrize(
    "spoil",
    [lambda gz: gz[: len(gz) // 2], lambda gz: gz[:10] + b"\x00" * 40 + gz[50:]],
    ids=["truncated", "corrupt"],
)
def test_backfill_reads_master_idx_when_master_idx_gz_is_corrupt(
    server: FakeEdgar, database_url: str, spoil: Callable[[bytes], bytes]
) -> None:
    specs = _specs(3)
    for spec in specs:
        server.add(spec.path, full_submission(spec))
    index = master_index(master_index_rows(specs, quarterly=True))
    gz_path = server.add_quarterly_index(2024, 1, index)
    server.add(gz_path, spoil(gzip.compress(index)))
    server.add_quarterly_index(2024, 1, index, gz=False)
    env = cli_env(server, database_url)

    result = run_cli(env, "backfill", "--source", "indexes", "--start", "2024-01-01", "--end", "2024-04-01")

    assert result.returncode == 0, result.stderr
    assert {r["accession_number"] for r in versions(database_url)} == {s.accession for s in specs}
    assert server.count("/Archives/edgar/full-index/2024/QTR1/master.idx") == 1
    assert "corrupt gzip data" in result.stderr
