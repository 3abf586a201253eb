"""End-to-end: ``backfill --source`` and ``reconcile`` through the real CLI against the fake EDGAR.

The fake serves the data sets' index page, quarterly archives built in the SEC's column layout
(``tests/dataset_builder.py``) from the same filings it also serves as full submissions, and the
quarterly indexes, so that the two roads to the same filings can be compared.
"""

from __future__ import annotations

import io
import json
import signal
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fake_edgar import FakeEdgar, master_index
from formd_builder import FilingSpec, full_submission, master_index_rows
from test_pipeline_e2e import cli_env, run_cli, scalar, start_cli

from edgar_ingest.bulk import run_dataset_backfill
from edgar_ingest.http import EdgarClient
from edgar_ingest.parse import parse_document
from edgar_ingest.pipeline import PipelineContext
from edgar_ingest.progress import Progress
from edgar_ingest.records import FormDFiling
from edgar_ingest.settings import Settings, normalise_database_url
from edgar_ingest.store import Store, create_engine_for
from tests.dataset_builder import write_dataset_archive

NEW_FOLDER = "/files/datastandardsinnovation/data/form-d-data-sets/"
OLD_FOLDER = "/files/structureddata/data/form-d-data-sets/"


@pytest.fixture
def server() -> Iterator[FakeEdgar]:
    with FakeEdgar() as fake:
        yield fake


def quarter_specs(year: int, quarter: int, count: int, *, first: int = 1) -> list[FilingSpec]:
    start = date(year, 3 * quarter - 2, 2)
    return [
        FilingSpec(
            accession=f"00{year % 100:02d}{quarter}{n:05d}-{year % 100:02d}-{n:06d}",
            cik=str(3_000_000 + year * 10 + quarter * 100_000 + n),
            name=f"Quarter {year}Q{quarter} Issuer {n} LLC",
            file_number=f"021-{quarter}{year % 100:02d}{n:04d}",
            filed=start + timedelta(days=n % 60),
            accepted_at=datetime(start.year, start.month, start.day, 8, 0)
            + timedelta(days=n % 60, minutes=n),
            total_offering="100000000000",
            total_sold=str(10_000 * n),
        )
        for n in range(first, first + count)
    ]


def records_of(specs: Sequence[FilingSpec]) -> list[FormDFiling]:
    """What the data set says of these filings: the records of their own documents."""
    return [parse_document(full_submission(s)) for s in specs]


def archive_bytes(
    tmp_path: Path, name: str, records: Sequence[FormDFiling], *, layout: str = "2026"
) -> bytes:
    folder = name.split("_")[0].upper() + "_d"
    path = write_dataset_archive(tmp_path / name, records, folder=folder, layout=layout)  # type: ignore[arg-type]
    return path.read_bytes()


def page(*paths: str) -> bytes:
    links = "\n".join(f'<li><a href="{p}">{p.rsplit("/", 1)[-1]}</a></li>' for p in paths)
    return f"<html><body><h1>Form D Data Sets</h1><ul>{links}</ul></body></html>".encode()


def publish_filings(server: FakeEdgar, specs: Sequence[FilingSpec], year: int, quarter: int) -> None:
    """The filings' own documents and the quarter's index (the indexes road)."""
    for spec in specs:
        server.add(spec.path, full_submission(spec))
    server.add_quarterly_index(year, quarter, master_index(master_index_rows(list(specs), quarterly=True)))


def rows(database_url: str, sql: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]
    finally:
        engine.dispose()


def execute(database_url: str, sql: str, **params: object) -> None:
    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def by_source(database_url: str) -> dict[str, int]:
    found = rows(database_url, "SELECT source, count(*) AS n FROM offering_versions GROUP BY source")
    return {r["source"]: int(r["n"]) for r in found}


BACKFILL_2024H1 = ("backfill", "--start", "2024-01-01", "--end", "2024-07-01")
BACKFILL_2024Q1 = ("backfill", "--start", "2024-01-01", "--end", "2024-04-01")


def test_auto_loads_published_quarters_from_archives_and_the_rest_from_indexes(
    tmp_path: Path, server: FakeEdgar, database_url: str
) -> None:
    q1 = quarter_specs(2024, 1, 40)
    q2 = quarter_specs(2024, 2, 12)
    # 2024Q1 comes in two parts, linked from the new folder; 2023Q4 (outside the range) from the old.
    part1 = server.add_dataset_archive(
        "2024q1_d_1.zip", archive_bytes(tmp_path, "2024q1_d_1.zip", records_of(q1[:25])), folder=NEW_FOLDER
    )
    part2 = server.add_dataset_archive(
        "2024q1_d_2.zip", archive_bytes(tmp_path, "2024q1_d_2.zip", records_of(q1[25:])), folder=NEW_FOLDER
    )
    other = server.add_dataset_archive(
        "2023q4_d.zip", archive_bytes(tmp_path, "2023q4_d.zip", []), folder=OLD_FOLDER
    )
    server.add_dataset_page(page(part1, other, part2))
    for spec in q1:  # served too, but the archive road must not fetch them
        server.add(spec.path, full_submission(spec))
    publish_filings(server, q2, 2024, 2)

    result = run_cli(cli_env(server, database_url), *BACKFILL_2024H1)

    assert result.returncode == 0, result.stderr
    assert by_source(database_url) == {"dataset": 40, "filing": 12}
    fetched = {r.path for r in server.requests}
    assert {part1, part2} <= fetched
    assert other not in fetched, "an archive of a quarter outside the range is not downloaded"
    assert not fetched & {s.path for s in q1}, "filings loaded from an archive are not fetched one by one"
    assert {s.path for s in q2} <= fetched
    dataset_rows = rows(database_url, "SELECT accepted_at FROM offering_versions WHERE source = 'dataset'")
    assert {r["accepted_at"] for r in dataset_rows} == {None}
    assert "quarterly indexes: 2024Q2" in result.stdout
    # The archive is kept once as a raw document with its URL and digest.
    archives = rows(
        database_url, "SELECT archive_name, url, completed_at FROM dataset_archives ORDER BY archive_name"
    )
    assert [a["archive_name"] for a in archives] == ["2024q1_d_1.zip", "2024q1_d_2.zip"]
    assert all(a["completed_at"] is not None and a["url"].endswith(a["archive_name"]) for a in archives)


def test_an_unreadable_page_means_indexes_for_everything_with_auto_and_a_failed_run_with_datasets(
    tmp_path: Path, server: FakeEdgar
) -> None:
    q1 = quarter_specs(2024, 1, 5)
    publish_filings(server, q1, 2024, 1)
    url = f"sqlite:///{tmp_path / 'e.db'}"
    args = ("backfill", "--start", "2024-01-01", "--end", "2024-04-01")

    auto = run_cli(cli_env(server, url), *args)
    assert auto.returncode == 0, auto.stderr
    assert "data sets' index page could not be read" in auto.stderr + auto.stdout
    assert by_source(url) == {"filing": 5}

    datasets_only = run_cli(cli_env(server, f"sqlite:///{tmp_path / 'd.db'}"), *args, "--source", "datasets")
    assert datasets_only.returncode == 1
    assert "index page could not be read" in datasets_only.stdout + datasets_only.stderr


def test_datasets_only_reports_a_quarter_not_published_and_loads_the_rest(
    tmp_path: Path, server: FakeEdgar
) -> None:
    q1 = quarter_specs(2024, 1, 6)
    path = server.add_dataset_archive("2024q1_d.zip", archive_bytes(tmp_path, "2024q1_d.zip", records_of(q1)))
    server.add_dataset_page(page(path))
    url = f"sqlite:///{tmp_path / 'e.db'}"
    result = run_cli(cli_env(server, url), *BACKFILL_2024H1, "--source", "datasets")
    assert result.returncode == 0, result.stderr
    assert "not published in the data sets yet" in result.stdout
    assert "2024Q2" in result.stdout
    assert by_source(url) == {"dataset": 6}


def test_cik_with_datasets_is_a_usage_error(tmp_path: Path, server: FakeEdgar) -> None:
    result = run_cli(
        cli_env(server, f"sqlite:///{tmp_path / 'e.db'}"),
        *BACKFILL_2024H1,
        "--cik",
        "320193",
        "--source",
        "datasets",
    )
    assert result.returncode == 2
    assert "--cik" in result.stderr
    assert server.requests == []


def test_a_rerun_skips_an_archive_already_loaded_and_a_republished_one_updates_only_what_changed(
    tmp_path: Path, server: FakeEdgar, database_url: str
) -> None:
    q1 = quarter_specs(2024, 1, 30)
    records = records_of(q1)
    path = server.add_dataset_archive("2024q1_d.zip", archive_bytes(tmp_path, "2024q1_d.zip", records))
    server.add_dataset_page(page(path))
    env = cli_env(server, database_url)
    args = (
        "backfill",
        "--start",
        "2024-01-01",
        "--end",
        "2024-04-01",
        "--source",
        "datasets",
        "--log-format",
        "json",
    )
    assert run_cli(env, *args).returncode == 0

    again = run_cli(env, *args)
    report = json.loads(again.stdout.splitlines()[0])
    assert report["inserted"] == report["updated"] == report["unchanged"] == 0
    assert report["discovered"] == report["skipped"] == 30, "found again, and skipped as stored"
    assert scalar(database_url, "SELECT count(*) FROM dataset_archives") == 1

    changed = [_with_sold(r, "123456") if i in (3, 7) else r for i, r in enumerate(records)]
    server.add_dataset_archive("2024q1_d.zip", archive_bytes(tmp_path, "republished.zip", changed))
    republished = json.loads(run_cli(env, *args).stdout.splitlines()[0])
    assert (republished["inserted"], republished["updated"], republished["unchanged"]) == (0, 2, 28)
    sold = rows(
        database_url, f"SELECT total_amount_sold FROM filings WHERE accession_number = '{q1[3].accession}'"
    )
    assert Decimal(str(sold[0]["total_amount_sold"])) == Decimal("123456")


def loaded_once(
    tmp_path: Path, server: FakeEdgar, database_url: str, count: int
) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """A 2024Q1 archive of ``count`` filings published and loaded once by the CLI: the archive's
    path on the server, the CLI's environment and the arguments that loaded it."""
    specs = quarter_specs(2024, 1, count)
    path = server.add_dataset_archive(
        "2024q1_d.zip", archive_bytes(tmp_path, "2024q1_d.zip", records_of(specs))
    )
    server.add_dataset_page(page(path))
    env = cli_env(server, database_url)
    args = (*BACKFILL_2024Q1, "--source", "datasets", "--log-format", "json")
    assert run_cli(env, *args).returncode == 0
    return path, env, args


def test_a_rerun_downloads_no_archive_the_server_says_is_unchanged(
    tmp_path: Path, server: FakeEdgar, database_url: str
) -> None:
    path, env, args = loaded_once(tmp_path, server, database_url, 30)
    (etag,) = [r["etag"] for r in rows(database_url, "SELECT etag FROM dataset_archives")]
    assert etag is not None

    server.reset_log()
    again = run_cli(env, *args)
    assert again.returncode == 0, again.stderr
    (request,) = [r for r in server.requests if r.path == path]
    assert (request.headers["If-None-Match"], request.answer) == (etag, "304")
    report = json.loads(again.stdout.splitlines()[0])
    assert report["discovered"] == report["skipped"] == 30
    assert report["inserted"] == report["updated"] == report["unchanged"] == 0
    assert "not modified (304)" in again.stderr
    assert scalar(database_url, "SELECT count(*) FROM dataset_archives") == 1

    # A load that did not complete (a killed run) is done again from the stored copy.
    execute(database_url, "UPDATE dataset_archives SET completed_at = NULL")
    server.reset_log()
    resumed = run_cli(env, *args)
    assert resumed.returncode == 0, resumed.stderr
    assert [r.answer for r in server.requests if r.path == path] == ["304"]
    report = json.loads(resumed.stdout.splitlines()[0])
    assert (report["inserted"], report["updated"], report["unchanged"]) == (0, 0, 30)
    loads = rows(database_url, "SELECT etag, completed_at FROM dataset_archives ORDER BY id")
    assert [(load["etag"], load["completed_at"] is not None) for load in loads] == [
        (etag, False),
        (etag, True),
    ]

    # A server that ignores conditional requests sends the archive again: skipped as before.
    server.conditional_get = False
    server.reset_log()
    third = run_cli(env, *args)
    assert [r.answer for r in server.requests if r.path == path] == ["ok"]
    assert json.loads(third.stdout.splitlines()[0])["skipped"] == 30

    # Loads kept no validators (a database upgraded from revision 0004): the archive is
    # downloaded once more, found loaded, and its validators kept for the next rerun.
    server.conditional_get = True
    execute(database_url, "UPDATE dataset_archives SET etag = NULL, last_modified = NULL")
    server.reset_log()
    assert json.loads(run_cli(env, *args).stdout.splitlines()[0])["skipped"] == 30
    assert json.loads(run_cli(env, *args).stdout.splitlines()[0])["skipped"] == 30
    assert [r.answer for r in server.requests if r.path == path] == ["ok", "304"]
    assert {r["etag"] for r in rows(database_url, "SELECT etag FROM dataset_archives")} == {etag}


def test_a_stored_copy_that_is_not_the_archive_vouched_for_is_never_read(
    tmp_path: Path, server: FakeEdgar, database_url: str
) -> None:
    path, env, args = loaded_once(tmp_path, server, database_url, 10)
    execute(
        database_url,
        "UPDATE raw_documents SET content_zlib = :other "
        "WHERE id = (SELECT raw_document_id FROM dataset_archives)",
        other=zlib.compress(b"other bytes"),
    )

    server.reset_log()
    again = run_cli(env, *args)
    assert again.returncode == 0, again.stderr
    assert [r.answer for r in server.requests if r.path == path] == ["304", "ok"], "downloaded again"
    assert "does not match its digest" in again.stderr
    assert json.loads(again.stdout.splitlines()[0])["skipped"] == 10, "the archive is the one loaded"


def _with_sold(record: FormDFiling, sold: str) -> FormDFiling:
    offering = replace(record.document.offering, total_amount_sold=Decimal(sold))
    return replace(record, document=replace(record.document, offering=offering))


def test_the_filing_wins_over_the_data_set_in_both_orders(
    tmp_path: Path, server: FakeEdgar, database_url: str
) -> None:
    q1 = quarter_specs(2024, 1, 10)
    planted = [_with_sold(r, "1") for r in records_of(q1)]  # the data set disagrees on every amount
    path = server.add_dataset_archive("2024q1_d.zip", archive_bytes(tmp_path, "2024q1_d.zip", planted))
    server.add_dataset_page(page(path))
    publish_filings(server, q1, 2024, 1)
    q1_args = ("backfill", "--start", "2024-01-01", "--end", "2024-04-01", "--log-format", "json")

    # Data set first, then the filings: each version is replaced and counted as updated.
    env = cli_env(server, database_url)
    assert run_cli(env, *q1_args, "--source", "datasets").returncode == 0
    assert by_source(database_url) == {"dataset": 10}
    indexes = json.loads(run_cli(env, *q1_args, "--source", "indexes").stdout.splitlines()[0])
    assert (indexes["fetched"], indexes["updated"], indexes["inserted"]) == (10, 10, 0)
    assert by_source(database_url) == {"filing": 10}
    assert scalar(database_url, "SELECT min(total_amount_sold) FROM filings") == 10_000

    # Filings first, then the data set: nothing is overwritten.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    env2 = cli_env(server, other)
    assert run_cli(env2, *q1_args, "--source", "indexes").returncode == 0
    loaded = json.loads(run_cli(env2, *q1_args, "--source", "datasets").stdout.splitlines()[0])
    assert (loaded["inserted"], loaded["updated"], loaded["unchanged"]) == (0, 0, 10)
    assert by_source(other) == {"filing": 10}
    assert scalar(other, "SELECT min(total_amount_sold) FROM filings") == 10_000


def test_reconcile_finds_the_planted_disagreements_and_keeps_them(
    tmp_path: Path, server: FakeEdgar, database_url: str
) -> None:
    q1 = quarter_specs(2024, 1, 12)
    records = records_of(q1)
    records[2] = _with_sold(records[2], "777")
    person = replace(records[5].document.related_persons[0], last_name="Misspelt")
    records[5] = replace(
        records[5],
        document=replace(
            records[5].document, related_persons=(person, *records[5].document.related_persons[1:])
        ),
    )
    path = server.add_dataset_archive("2024q1_d.zip", archive_bytes(tmp_path, "2024q1_d.zip", records))
    server.add_dataset_page(page(path))
    publish_filings(server, q1, 2024, 1)
    env = cli_env(server, database_url)
    q1_args = ("backfill", "--start", "2024-01-01", "--end", "2024-04-01")
    assert run_cli(env, *q1_args, "--source", "datasets").returncode == 0

    nothing_yet = json.loads(run_cli(env, "reconcile", "--format", "json").stdout)
    assert nothing_yet["filings_compared"] == 0

    sampled = run_cli(env, "reconcile", "--sample", "4", "--format", "json")
    assert sampled.returncode == 0, sampled.stderr
    assert json.loads(sampled.stdout)["documents_fetched"] == 4
    assert by_source(database_url) == {"dataset": 8, "filing": 4}

    assert run_cli(env, *q1_args, "--source", "indexes").returncode == 0
    report = json.loads(run_cli(env, "reconcile", "--format", "json").stdout)
    assert report["filings_compared"] == 12
    assert report["filings_disagreeing"] == 2
    fields = {f["field"]: f for f in report["fields"]}
    assert fields["offering.total_amount_sold"]["disagreed"] == 1
    assert fields["related_persons.last_name"]["disagreed"] == 1
    assert fields["primary_issuer.entity_name"]["agreed"] == 12
    kept = rows(
        database_url,
        "SELECT accession_number, field_name, dataset_value, filing_value FROM source_disagreements "
        "ORDER BY accession_number",
    )
    assert kept == [
        {
            "accession_number": q1[2].accession,
            "field_name": "offering.total_amount_sold",
            "dataset_value": "777",
            "filing_value": "30000",
        },
        {
            "accession_number": q1[5].accession,
            "field_name": "related_persons[0].last_name",
            "dataset_value": "Misspelt",
            "filing_value": records_of([q1[5]])[0].document.related_persons[0].last_name,
        },
    ]
    # A rerun replaces, never duplicates, what it found.
    assert run_cli(env, "reconcile").returncode == 0
    assert scalar(database_url, "SELECT count(*) FROM source_disagreements") == 2
    table = run_cli(env, "reconcile").stdout
    assert "offering.total_amount_sold" in table
    assert "91.67%" in table


def test_a_damaged_archive_is_retried_then_recorded_and_the_other_part_loads(
    tmp_path: Path, server: FakeEdgar
) -> None:
    """In process, with short backoffs: a download retried until whole, another never whole."""
    q1 = quarter_specs(2024, 1, 8)
    records = records_of(q1)
    good = server.add_dataset_archive("2024q1_d_1.zip", archive_bytes(tmp_path, "a.zip", records[:4]))
    broken = server.add_dataset_archive("2024q1_d_2.zip", archive_bytes(tmp_path, "b.zip", records[4:]))
    server.add_dataset_page(page(good, broken))
    server.inject(good, ["truncate", "corrupt"])  # whole at the third attempt
    server.inject(broken, ["corrupt"] * 3)  # never whole in 3 attempts
    url = f"sqlite:///{tmp_path / 'e.db'}"
    settings = Settings.from_env(
        {}, database_url=url, user_agent="tests tests@example.com", base_url=server.url
    )
    store = Store.from_url(url)
    client = EdgarClient(settings, max_attempts=3, backoff_initial_s=0.01, backoff_jitter_s=0.0)
    ctx = PipelineContext(client=client, store=store, progress=Progress(stream=io.StringIO(), is_tty=False))
    try:
        run_dataset_backfill(ctx, date(2024, 1, 1), date(2024, 4, 1), source="datasets")
    finally:
        client.close()
        store.close()
    assert server.count(good) == 3
    assert server.count(broken) == 3
    assert by_source(url) == {"dataset": 4}
    assert ctx.counts.failed == 1
    failures = rows(url, "SELECT source, stage, reason FROM failures")
    assert len(failures) == 1
    assert failures[0]["source"].endswith("2024q1_d_2.zip")
    assert "3 attempts" in failures[0]["reason"]
    assert scalar(url, "SELECT count(*) FROM dataset_archives") == 1
    assert list(tmp_path.glob("**/*.part")) == []


def test_a_row_that_cannot_be_read_is_a_failure_naming_archive_table_and_line(
    tmp_path: Path, server: FakeEdgar
) -> None:
    q1 = quarter_specs(2024, 1, 5)
    archive = tmp_path / "2024q1_d.zip"
    write_dataset_archive(archive, records_of(q1), folder="2024Q1_d")
    bad = _rewrite_member(archive, "OFFERING.tsv", "30000", "3O,OOO")  # the third filing's amount sold
    path = server.add_dataset_archive("2024q1_d.zip", bad)
    server.add_dataset_page(page(path))
    url = f"sqlite:///{tmp_path / 'e.db'}"
    result = run_cli(cli_env(server, url), *BACKFILL_2024H1, "--source", "datasets")
    assert result.returncode == 0, result.stderr
    assert by_source(url) == {"dataset": 4}
    failure = rows(url, "SELECT accession_number, stage, reason FROM failures")
    assert len(failure) == 1
    assert failure[0]["accession_number"] == q1[2].accession
    assert "2024q1_d.zip OFFERING line 4" in failure[0]["reason"]


def _rewrite_member(archive: Path, member: str, old: str, new: str) -> bytes:
    import zipfile

    out = archive.with_suffix(".bad.zip")
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(member):
                data = data.replace(old.encode(), new.encode(), 1)
            dst.writestr(info, data)
    return out.read_bytes()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_load_killed_mid_way_and_rerun_gives_the_database_of_one_clean_run(
    tmp_path: Path, server: FakeEdgar, database_url: str
) -> None:
    q1 = quarter_specs(2024, 1, 6000)
    path = server.add_dataset_archive("2024q1_d.zip", archive_bytes(tmp_path, "2024q1_d.zip", records_of(q1)))
    server.add_dataset_page(page(path))
    args = ("backfill", "--start", "2024-01-01", "--end", "2024-04-01", "--source", "datasets")
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    assert run_cli(cli_env(server, reference), *args).returncode == 0
    sql = (
        "SELECT accession_number, offering_key, version, total_amount_sold, source "
        "FROM offering_versions ORDER BY accession_number"
    )
    expected = rows(reference, sql)

    env = cli_env(server, database_url)
    assert run_cli(env, "db", "upgrade").returncode == 0
    first = start_cli(env, *args)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and scalar(database_url, "SELECT count(*) FROM filings") < 1000:
        time.sleep(0.05)
    workers = _children(first.pid)  # the process reading the archive for it
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert 1000 <= scalar(database_url, "SELECT count(*) FROM filings") < 6000
    assert workers, "the archive is read by a worker process"
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "a worker outlived its loader"
    assert scalar(database_url, "SELECT count(*) FROM dataset_archives WHERE completed_at IS NULL") == 1

    second = run_cli(env, *args)
    assert second.returncode == 0, second.stderr
    assert rows(database_url, sql) == expected
    runs = json.loads(run_cli(env, "status", "--format", "json").stdout)
    assert [r["status"] for r in runs["last_runs"][:2]] == ["completed", "abandoned"]
    assert runs["dataset_only_filings"] == 6000


def test_reparse_rebuilds_data_set_versions_from_the_stored_archive_without_the_network(
    tmp_path: Path, server: FakeEdgar
) -> None:
    q1 = quarter_specs(2024, 1, 7)
    path = server.add_dataset_archive("2024q1_d.zip", archive_bytes(tmp_path, "2024q1_d.zip", records_of(q1)))
    server.add_dataset_page(page(path))
    url = f"sqlite:///{tmp_path / 'e.db'}"
    env = cli_env(server, url)
    assert run_cli(env, *BACKFILL_2024H1, "--source", "datasets").returncode == 0
    before = rows(url, "SELECT * FROM offering_versions ORDER BY accession_number")
    engine = create_engine_for(url)  # foreign keys on: the parts of each filing go with it
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM filings WHERE source = 'dataset'"))
    engine.dispose()
    server.stop()

    result = run_cli(env, "reparse")

    assert result.returncode == 0, result.stderr
    assert "7 inserted" in result.stdout
    after = rows(url, "SELECT * FROM offering_versions ORDER BY accession_number")
    assert [{k: v for k, v in r.items() if k != "filing_id"} for r in after] == [
        {k: v for k, v in r.items() if k != "filing_id"} for r in before
    ]


def test_with_auto_a_quarter_whose_archive_cannot_be_loaded_comes_from_its_index(
    tmp_path: Path, server: FakeEdgar
) -> None:
    q1 = quarter_specs(2024, 1, 6)
    path = server.add_dataset_archive("2024q1_d.zip", archive_bytes(tmp_path, "2024q1_d.zip", records_of(q1)))
    server.add_dataset_page(page(path))
    server.inject(path, ["corrupt"] * 2)
    publish_filings(server, q1, 2024, 1)
    url = f"sqlite:///{tmp_path / 'e.db'}"
    settings = Settings.from_env(
        {}, database_url=url, user_agent="tests tests@example.com", base_url=server.url
    )
    store = Store.from_url(url)
    client = EdgarClient(settings, max_attempts=2, backoff_initial_s=0.01, backoff_jitter_s=0.0)
    ctx = PipelineContext(client=client, store=store, progress=Progress(stream=io.StringIO(), is_tty=False))
    try:
        message = run_dataset_backfill(ctx, date(2024, 1, 1), date(2024, 4, 1), source="auto")
    finally:
        client.close()
        store.close()
    assert message is not None
    assert "read through the indexes: 2024Q1" in message
    assert by_source(url) == {"filing": 6}
    assert ctx.counts.failed == 1  # the archive, recorded; every filing is stored all the same


def test_reconcile_without_a_database_says_so_and_creates_none(tmp_path: Path, server: FakeEdgar) -> None:
    path = tmp_path / "missing.db"
    result = run_cli(cli_env(server, f"sqlite:///{path}"), "reconcile")
    assert result.returncode == 1
    assert "There is no database" in result.stderr
    assert not path.exists()


def test_a_range_that_cuts_a_quarter_counts_only_its_filings_when_it_loads_and_when_it_skips(
    tmp_path: Path, server: FakeEdgar
) -> None:
    q1 = quarter_specs(2024, 1, 30)  # filed 2024-01-03 .. 2024-02-01
    path = server.add_dataset_archive("2024q1_d.zip", archive_bytes(tmp_path, "2024q1_d.zip", records_of(q1)))
    server.add_dataset_page(page(path))
    env = cli_env(server, f"sqlite:///{tmp_path / 'e.db'}")
    args = ("backfill", "--start", "2024-01-15", "--end", "2024-04-01", "--source", "datasets")
    in_range = sum(1 for spec in q1 if spec.filed >= date(2024, 1, 15))

    first = run_cli(env, *args, "--log-format", "json")
    assert first.returncode == 0, first.stderr
    progress = [json.loads(line) for line in first.stderr.splitlines()]
    assert {p["total"] for p in progress if p["event"] == "archive"} == {in_range}, "the ETA's total"
    again = json.loads(run_cli(env, *args, "--log-format", "json").stdout.splitlines()[0])
    assert again["discovered"] == again["skipped"] == in_range
