"""A poison filing is a recorded failure, never a stuck pipeline (issue 13, item 1).

A document whose values the parser or the database cannot take is recorded in ``failures`` with
its reason (stage ``parse`` or ``store``); the other filings of its day, quarter, folder or poll
are stored, the sync checkpoint moves, and a rerun fetches nothing again (``failures --retry`` is
how a user tries it again). The end-to-end tests run the real CLI against the fake EDGAR with a
day of 11 filings, one of them poison, on SQLite and PostgreSQL.

Which stage refuses a poison depends on how strict the parser is (a value the parser lets through
must be refused by the store, naming the column): the tests accept either stage, but always
require the reason to name the offending element or column.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import sqlalchemy as sa
from fake_edgar import FakeEdgar, FeedItem, master_index
from formd_builder import FilingSpec, full_submission, master_index_rows
from test_pipeline_e2e import REPO_ROOT, cli_env, run_cli, versions

from edgar_ingest.errors import MalformedDocumentError
from edgar_ingest.offline import parse_and_store
from edgar_ingest.parse import PARSER_VERSION, parse_document
from edgar_ingest.records import FormDFiling, RawDocument, RunCounts
from edgar_ingest.store import OutcomeStatus, Store
from edgar_ingest.store.prepare import is_document_error

DAY = date(2024, 1, 2)
ET = ZoneInfo("America/New_York")


@pytest.fixture
def server() -> Iterator[FakeEdgar]:
    with FakeEdgar() as fake:
        yield fake


@dataclass(frozen=True)
class Poison:
    """A way to spoil one full submission, and the words one of which its failure reason names."""

    name: str
    spoil: Callable[[bytes, FilingSpec], bytes]
    named: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


def _xml_cik(value: str) -> Callable[[bytes, FilingSpec], bytes]:
    def spoil(content: bytes, spec: FilingSpec) -> bytes:
        return content.replace(f"<cik>{spec.cik10}</cik>".encode(), f"<cik>{value}</cik>".encode())

    return spoil


def _replace(old: bytes, new: bytes) -> Callable[[bytes, FilingSpec], bytes]:
    def spoil(content: bytes, spec: FilingSpec) -> bytes:
        assert old in content, f"{old!r} is not in the document"
        return content.replace(old, new, 1)

    return spoil


POISONS = [
    Poison(
        "investors_5000_digits",
        _replace(b"<totalNumberAlreadyInvested>7<", b"<totalNumberAlreadyInvested>" + b"9" * 5000 + b"<"),
        ("totalNumberAlreadyInvested",),
    ),
    Poison("cik_11_digits", _xml_cik("12345678901"), ("cik",)),
    Poison("cik_not_numeric", _xml_cik("ABCDEFG"), ("cik",)),
    Poison(
        "state_code_too_long",
        _replace(b"<stateOrCountry>CA</stateOrCountry>", b"<stateOrCountry>CALIFORNIA-XYZ</stateOrCountry>"),
        ("stateOrCountry", "state_or_country"),
    ),
    Poison(
        "entity_type_too_long",
        _replace(b"<entityType>Corporation</entityType>", b"<entityType>" + b"C" * 150 + b"</entityType>"),
        ("entityType", "entity_type"),
    ),
]
# The poison every command's test serves: a header value the parser lets through (the SEC header
# sets no length on a file number) and the store must refuse, the same way on both databases.
STORE_POISON = Poison(
    "header_file_number_too_long",
    _replace(b"SEC FILE NUMBER:\t021-", b"SEC FILE NUMBER:\t021-" + b"4" * 60),
    ("filings.file_number holds at most 40 characters",),
)


def day_of_filings(count: int = 11, day: date = DAY) -> list[FilingSpec]:
    return [
        FilingSpec(
            accession=f"0001800{n:03d}-24-{n:06d}",
            cik=str(1800000 + n),
            name=f"Poison Day {n} LLC",
            file_number=f"021-80{n:04d}",
            filed=day,
            accepted_at=datetime(day.year, day.month, day.day, 9 + n // 60, n % 60),
            total_sold=str(10_000 * n),
        )
        for n in range(1, count + 1)
    ]


def documents(specs: list[FilingSpec], poison: Poison, poisoned: int = 5) -> dict[str, bytes]:
    """The full submission of each spec by accession, the ``poisoned``-th one spoilt."""
    docs = {s.accession: full_submission(s) for s in specs}
    target = specs[poisoned]
    docs[target.accession] = poison.spoil(docs[target.accession], target)
    assert docs[target.accession] != full_submission(target)
    return docs


def serve_day(server: FakeEdgar, specs: list[FilingSpec], docs: dict[str, bytes]) -> None:
    for spec in specs:
        server.add(spec.path, docs[spec.accession])
    server.add_daily_index(DAY, master_index(master_index_rows(specs), day=DAY))


def failures_of(env: dict[str, str]) -> list[dict[str, object]]:
    listed = run_cli(env, "failures", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    result: list[dict[str, object]] = json.loads(listed.stdout)
    return result


def assert_recorded(env: dict[str, str], accession: str, poison: Poison) -> None:
    """The poison, and it alone, is an open failure whose reason names what is wrong."""
    failures = failures_of(env)
    assert [f["accession_number"] for f in failures] == [accession]
    failure = failures[0]
    assert failure["stage"] in ("parse", "store")
    reason = str(failure["reason"])
    assert any(word in reason for word in poison.named), reason
    assert len(reason) < 1000, "the reason quotes the value, not all 5,000 digits of it"


@pytest.mark.parametrize("poison", [*POISONS, STORE_POISON], ids=str)
def test_sync_records_a_poison_filing_stores_the_rest_of_the_day_and_moves_on(
    server: FakeEdgar, database_url: str, poison: Poison
) -> None:
    specs = day_of_filings()
    bad = specs[5]
    serve_day(server, specs, documents(specs, poison))
    env = cli_env(server, database_url)

    result = run_cli(env, "sync", "--since", DAY.isoformat(), "--until", DAY.isoformat())

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "failed 1" in result.stdout
    stored = {r["accession_number"] for r in versions(database_url)}
    assert stored == {s.accession for s in specs} - {bad.accession}
    assert_recorded(env, bad.accession, poison)
    status = json.loads(run_cli(env, "status", "--format", "json").stdout)
    assert status["checkpoint"] == DAY.isoformat()

    server.reset_log()
    again = run_cli(env, "sync", "--since", DAY.isoformat(), "--until", DAY.isoformat())

    assert again.returncode == 0, again.stderr
    assert [r.path for r in server.requests if r.path.endswith(".txt")] == [], "nothing is fetched again"
    assert_recorded(env, bad.accession, poison)


def test_backfill_records_a_poison_filing_stores_the_rest_of_the_quarter_and_a_rerun_fetches_nothing(
    server: FakeEdgar, database_url: str
) -> None:
    specs = day_of_filings()
    bad = specs[5]
    docs = documents(specs, STORE_POISON)
    for spec in specs:
        server.add(spec.path, docs[spec.accession])
    server.add_quarterly_index(2024, 1, master_index(master_index_rows(specs, quarterly=True)))
    env = cli_env(server, database_url)
    args = ("backfill", "--source", "indexes", "--start", "2024-01-01", "--end", "2024-04-01")

    result = run_cli(env, *args)

    assert result.returncode == 0, result.stderr
    assert "failed 1" in result.stdout
    assert {r["accession_number"] for r in versions(database_url)} == {s.accession for s in specs} - {
        bad.accession
    }
    assert_recorded(env, bad.accession, STORE_POISON)
    server.reset_log()
    again = run_cli(env, *args)
    assert again.returncode == 0, again.stderr
    assert [r.path for r in server.requests if r.path.endswith(".txt")] == []


def test_ingest_of_a_folder_with_a_poison_stores_the_others(tmp_path: Path, database_url: str) -> None:
    specs = day_of_filings()
    bad = specs[5]
    folder = tmp_path / "filings"
    folder.mkdir()
    for accession, content in documents(specs, STORE_POISON).items():
        (folder / f"{accession}.txt").write_bytes(content)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
    env.update(EDGAR_INGEST_DATABASE_URL=database_url, PYTHONPATH=str(REPO_ROOT))

    result = run_cli(env, "ingest", str(folder))

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[-1].endswith("10 inserted, 0 updated, 0 unchanged, 1 failed")
    assert f"{bad.accession}.txt" in result.stdout
    assert len(versions(database_url)) == 10
    assert_recorded(env, bad.accession, STORE_POISON)


@pytest.fixture
def watched_server() -> Iterator[FakeEdgar]:
    """The fake EDGAR with the last two weeks' daily indexes (empty), for the watcher's catch-up."""
    with FakeEdgar() as fake:
        today = datetime.now(ET).date()
        for back in range(15):
            day = today - timedelta(days=back)
            fake.add_daily_index(day, master_index([], day=day))
        yield fake


def test_watch_once_records_a_poison_from_the_feed_and_stores_the_others(
    watched_server: FakeEdgar, database_url: str
) -> None:
    accepted = datetime.now(ET).replace(tzinfo=None) - timedelta(minutes=5)
    specs = [
        replace(s, filed=accepted.date(), accepted_at=accepted + timedelta(seconds=n))
        for n, s in enumerate(day_of_filings(4))
    ]
    docs = documents(specs, STORE_POISON, poisoned=1)
    for spec in specs:
        watched_server.add(spec.path, docs[spec.accession])
    watched_server.add_feed_entries(
        FeedItem(s.accession, s.cik, s.name, s.accepted_at.replace(tzinfo=ET)) for s in specs
    )
    env = cli_env(watched_server, database_url)

    result = run_cli(env, "watch", "--once")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert {r["accession_number"] for r in versions(database_url)} == {
        s.accession for s in specs if s is not specs[1]
    }
    assert_recorded(env, specs[1].accession, STORE_POISON)
    watched_server.reset_log()
    again = run_cli(env, "watch", "--once")
    assert again.returncode == 0, again.stderr
    assert [r.path for r in watched_server.requests if r.path.endswith(".txt")] == []


# --------------------------------------------------------------------------- the store


def _parsed(spec: FilingSpec) -> tuple[RawDocument, FormDFiling]:
    content = full_submission(spec)
    url = f"https://www.sec.gov{spec.path}"
    return RawDocument.of(content, url, datetime(2024, 1, 3, tzinfo=UTC)), parse_document(content)


def _with_issuer(filing: FormDFiling, **changes: object) -> FormDFiling:
    issuer = replace(filing.document.primary_issuer, **changes)  # type: ignore[arg-type]
    return replace(filing, document=replace(filing.document, primary_issuer=issuer))


def _with_address(filing: FormDFiling, **changes: object) -> FormDFiling:
    address = filing.document.primary_issuer.address
    assert address is not None
    return _with_issuer(filing, address=replace(address, **changes))  # type: ignore[arg-type]


def _with_offering(filing: FormDFiling, **changes: object) -> FormDFiling:
    offering = replace(filing.document.offering, **changes)  # type: ignore[arg-type]
    return replace(filing, document=replace(filing.document, offering=offering))


def _with_file_number(filing: FormDFiling, number: str) -> FormDFiling:
    assert filing.header is not None
    filers = tuple(replace(f, file_number=number) for f in filing.header.filers)
    return replace(filing, header=replace(filing.header, filers=filers))


@dataclass(frozen=True)
class BadRecord:
    """A record whose values a parser might let through, and the words its reason must hold."""

    name: str
    spoil: Callable[[FormDFiling], FormDFiling]
    named: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


BAD_RECORDS = [
    BadRecord("cik_11_digits", lambda f: _with_issuer(f, cik="12345678901"), ("cik", "at most 10")),
    BadRecord(
        "state_code_too_long",
        lambda f: _with_address(f, state_or_country="CALIFORNIA-XYZ"),
        ("filing_issuers.state_or_country", "at most 10", "got 14"),
    ),
    BadRecord("zip_code_too_long", lambda f: _with_address(f, zip_code="9" * 30), ("zip_code", "at most 20")),
    BadRecord(
        "file_number_too_long",
        lambda f: _with_file_number(f, "021-" + "4" * 60),
        ("file_number", "at most 40"),
    ),
    BadRecord(
        "entity_type_too_long",
        lambda f: _with_issuer(f, entity_type="C" * 150),
        ("filing_issuers.entity_type",),
    ),
    # PostgreSQL's INTEGER stops at 2,147,483,647; SQLite would store it.
    BadRecord("year_of_inc_past_32_bits", lambda f: _with_issuer(f, year_of_inc=2**40), ("year_of_inc",)),
    # Past 64 bits: SQLite raises OverflowError, PostgreSQL NumericValueOutOfRange.
    BadRecord(
        "investors_past_64_bits", lambda f: _with_offering(f, total_investors=10**30), ("total_investors",)
    ),
    # Past Python's 4,300-digit limit for str(int): the record's digest itself cannot be made.
    BadRecord(
        "investors_5000_digits",
        lambda f: _with_offering(f, total_investors=10**5000),
        ("total_investors", "5,00"),
    ),
    BadRecord(
        "amount_not_a_number",
        lambda f: _with_offering(f, total_amount_sold=Decimal("NaN")),
        ("filings.total_amount_sold: NaN is not a whole number of dollars",),
    ),
    # Not a value a parser makes (amounts are Decimal): the checks must not trip over it either.
    BadRecord(
        "amount_as_a_float",
        lambda f: _with_offering(f, total_amount_sold=1.5),
        ("amounts must be Decimal, not float",),
    ),
    BadRecord(
        "nul_in_a_name", lambda f: _with_issuer(f, entity_name="Bad\x00Name LLC"), ("entity_name", "NUL")
    ),
]


@pytest.mark.parametrize("bad", BAD_RECORDS, ids=str)
def test_a_value_its_column_cannot_hold_fails_its_document_alone_and_the_same_on_both_databases(
    database_url: str, bad: BadRecord
) -> None:
    specs = day_of_filings()
    items = [_parsed(s) for s in specs]
    raw, filing = items[5]
    items[5] = (raw, bad.spoil(filing))
    store = Store.from_url(database_url)
    try:
        outcomes = store.save_many(items, PARSER_VERSION)

        assert [o.status for o in outcomes] == [OutcomeStatus.INSERTED] * 5 + [OutcomeStatus.FAILED] + [
            OutcomeStatus.INSERTED
        ] * 5
        reason = outcomes[5].reason or ""
        assert all(word in reason for word in bad.named), reason
        assert len(reason) < 300
        [failure] = store.list_failures()
        assert (failure.accession_number, failure.stage, failure.reason) == (
            specs[5].accession,
            "store",
            reason,
        )
        assert failure.has_raw_document, "the bytes are kept: a reparse with a fixed parser needs no network"
        stored = store.known_accessions(s.accession for s in specs)
        assert stored == {s.accession for s in specs}, (
            "stored, or failed with its bytes: none is fetched again"
        )
        assert len(versions(database_url)) == 10
    finally:
        store.close()


def test_a_batch_of_many_with_one_bad_record_in_the_middle_stores_all_the_others(database_url: str) -> None:
    specs = day_of_filings(60)
    items = [_parsed(s) for s in specs]
    raw, filing = items[30]
    items[30] = (raw, _with_address(filing, state_or_country="X" * 11))
    store = Store.from_url(database_url)
    try:
        outcomes = store.save_many(items, PARSER_VERSION)
    finally:
        store.close()

    assert [i for i, o in enumerate(outcomes) if o.status is OutcomeStatus.FAILED] == [30]
    assert len(versions(database_url)) == 59


def test_the_next_save_of_a_corrected_document_resolves_its_failure(database_url: str) -> None:
    raw, filing = _parsed(day_of_filings(1)[0])
    store = Store.from_url(database_url)
    try:
        [failed] = store.save_many([(raw, _with_issuer(filing, cik="1" * 11))], PARSER_VERSION)
        [stored] = store.save_many([(raw, filing)], PARSER_VERSION)
        open_failures = store.list_failures()
    finally:
        store.close()

    assert (failed.status, stored.status) == (OutcomeStatus.FAILED, OutcomeStatus.INSERTED)
    assert open_failures == []


def test_a_string_too_big_for_sqlite_is_a_document_error(tmp_path: Path) -> None:
    """SQLite's "string or blob too big" (its length limit, lowered here) fails one document."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    store = Store.from_url(url)

    @sa.event.listens_for(store.engine, "connect")
    def lower_the_limit(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 200_000)

    store.engine.dispose()  # connections opened from now on have the limit
    try:
        specs = day_of_filings(3)
        items = [_parsed(s) for s in specs]
        raw, filing = items[1]
        items[1] = (raw, _with_offering(filing, sales_amounts_clarification="x" * 300_000))
        outcomes = store.save_many(items, PARSER_VERSION)
    finally:
        store.close()

    assert [o.status for o in outcomes] == [
        OutcomeStatus.INSERTED,
        OutcomeStatus.FAILED,
        OutcomeStatus.INSERTED,
    ]
    assert "string or blob too big" in (outcomes[1].reason or "")


@pytest.mark.parametrize(
    ("error", "is_document"),
    [
        (sa.exc.DataError("INSERT", {}, psycopg.errors.NumericValueOutOfRange("out of range")), True),
        (sa.exc.DataError("INSERT", {}, psycopg.errors.StringDataRightTruncation("too long")), True),
        (sa.exc.DataError("INSERT", {}, sqlite3.DataError("string or blob too big")), True),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), True),
        (ValueError("Exceeds the limit (4300 digits) for integer string conversion"), True),
        (sa.exc.IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate")), True),
        (sa.exc.OperationalError("INSERT", {}, psycopg.errors.DiskFull("no space left")), False),
        (sa.exc.OperationalError("INSERT", {}, psycopg.errors.AdminShutdown("terminating")), False),
        (sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")), False),
        (sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")), False),
        (sa.exc.InterfaceError("INSERT", {}, psycopg.InterfaceError("the connection is closed")), False),
    ],
    ids=lambda v: type(getattr(v, "orig", v)).__name__ if isinstance(v, Exception) else str(v),
)
def test_only_errors_of_the_database_itself_stop_a_batch(error: Exception, is_document: bool) -> None:
    assert is_document_error(error) is is_document


# --------------------------------------------------------------------------- the parse step


def test_a_parser_that_fails_unexpectedly_on_one_document_records_it_and_stores_the_rest(
    database_url: str,
) -> None:
    specs = day_of_filings(5)
    raws = [_parsed(s)[0] for s in specs]
    poison = raws[2].content

    def parser(content: bytes) -> FormDFiling:
        if content == poison:
            raise RecursionError("maximum recursion depth exceeded")  # not a ParseError: a parser bug
        return parse_document(content)

    store = Store.from_url(database_url)
    counts = RunCounts()
    try:
        parse_and_store(
            store, [(r, s.accession) for r, s in zip(raws, specs, strict=True)], counts, parser=parser
        )
        [failure] = store.list_failures()
    finally:
        store.close()

    assert (counts.inserted, counts.failed) == (4, 1)
    assert (failure.accession_number, failure.stage) == (specs[2].accession, "parse")
    assert "RecursionError: maximum recursion depth exceeded" in failure.reason
    assert failure.has_raw_document


def test_a_refusal_that_quotes_a_nul_character_is_still_recorded(database_url: str) -> None:
    """PostgreSQL's text cannot hold NUL: a reason quoting the bad value must not fail in its turn."""
    [spec] = day_of_filings(1)
    raw = _parsed(spec)[0]

    def parser(content: bytes) -> FormDFiling:
        raise MalformedDocumentError("The Form D has <cik>12\x0034</cik>, which is not a numeric CIK")

    store = Store.from_url(database_url)
    counts = RunCounts()
    try:
        parse_and_store(store, [(raw, spec.accession)], counts, parser=parser)
        [failure] = store.list_failures()
    finally:
        store.close()

    assert counts.failed == 1
    assert failure.reason == "The Form D has <cik>12\\x0034</cik>, which is not a numeric CIK"
