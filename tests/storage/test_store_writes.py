"""Store writes on SQLite and PostgreSQL: idempotency, re-derivation, isolation, keys, failures."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from formd_factory import filing, issuer, raw_for, with_offering

from edgar_ingest.records import Filer
from edgar_ingest.store import OutcomeStatus, Store

TABLES = (
    "filings",
    "filing_filers",
    "filing_issuers",
    "issuer_previous_names",
    "related_persons",
    "related_person_relationships",
    "sales_compensation_recipients",
    "recipient_states",
    "filing_exemptions",
    "signatures",
    "raw_documents",
    "failures",
)


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t: int(conn.scalar(sa.text(f"SELECT COUNT(*) FROM {t}")) or 0) for t in TABLES}


def rows(store: Store, sql: str, **params: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def statuses(outcomes: list[Any]) -> list[str]:
    return [str(o.status) for o in outcomes]


def test_save_stores_every_part_of_the_filing(store: Store) -> None:
    record = filing()
    raw = raw_for(record)
    assert store.save(raw, record, "1").status == OutcomeStatus.INSERTED
    assert counts(store) == {
        "filings": 1,
        "filing_filers": 1,
        "filing_issuers": 1,
        "issuer_previous_names": 1,
        "related_persons": 2,
        "related_person_relationships": 3,
        "sales_compensation_recipients": 1,
        "recipient_states": 2,
        "filing_exemptions": 1,
        "signatures": 1,
        "raw_documents": 1,
        "failures": 0,
    }
    (row,) = rows(store, "SELECT * FROM filings")
    assert row["accession_number"] == "0001234567-24-000001"
    assert row["filing_key"] == "0001234567-24-000001"
    assert row["offering_key"] == "021-400001"
    assert row["file_number"] == "021-400001"
    assert row["cik"] == "0001234567"
    assert row["parser_version"] == "1"
    assert Decimal(str(row["total_offering_amount"])) == Decimal("10000000")
    assert bool(row["is_option_to_acquire"]) is True
    (raw_back,) = store.iter_raw_documents()
    assert raw_back.content == raw.content
    assert raw_back.sha256 == raw.sha256
    assert raw_back.source_url == raw.source_url
    assert raw_back.fetched_at == raw.fetched_at


def test_storing_the_same_document_twice_changes_nothing(store: Store) -> None:
    record = filing()
    raw = raw_for(record)
    store.save(raw, record, "1")
    before = rows(store, "SELECT id, updated_at, raw_document_id FROM filings")
    children = rows(store, "SELECT * FROM related_persons ORDER BY person_index")
    assert statuses(store.save_many([(raw, record), (raw, record)], "1")) == ["unchanged", "unchanged"]
    assert rows(store, "SELECT id, updated_at, raw_document_id FROM filings") == before
    assert rows(store, "SELECT * FROM related_persons ORDER BY person_index") == children
    assert counts(store)["raw_documents"] == 1


def test_other_bytes_of_the_same_record_are_unchanged(store: Store) -> None:
    """E.g. the .nc and .txt dissemination variants of one filing."""
    record = filing()
    store.save(raw_for(record), record, "1")
    assert store.save(raw_for(record, salt="nc"), record, "1").status == OutcomeStatus.UNCHANGED
    assert counts(store)["raw_documents"] == 1


def test_newer_parser_version_rederives_the_rows(store: Store) -> None:
    record = filing(persons=3)
    raw = raw_for(record)
    store.save(raw, record, "1")
    (old,) = rows(store, "SELECT id, created_at FROM filings")
    improved = replace(
        record, document=replace(record.document, related_persons=record.document.related_persons[:1])
    )
    improved = with_offering(improved, federal_exemptions=("06b", "3C", "3C.1"))
    assert store.save(raw, improved, "2").status == OutcomeStatus.UPDATED
    (new,) = rows(store, "SELECT id, created_at, parser_version FROM filings")
    assert new["id"] == old["id"]
    assert new["created_at"] == old["created_at"]
    assert new["parser_version"] == "2"
    assert counts(store)["related_persons"] == 1
    assert counts(store)["related_person_relationships"] == 2
    codes = rows(store, "SELECT exemption_code FROM filing_exemptions ORDER BY exemption_index")
    assert [r["exemption_code"] for r in codes] == ["06b", "3C", "3C.1"]
    assert counts(store)["raw_documents"] == 1
    # The same version again: nothing to do.
    assert store.save(raw, improved, "2").status == OutcomeStatus.UNCHANGED


def test_corrected_bytes_replace_the_raw_document(store: Store) -> None:
    record = filing()
    store.save(raw_for(record), record, "1")
    corrected = with_offering(record, total_amount_sold=Decimal("3000000"))
    new_raw = raw_for(corrected, salt="corrected")
    assert store.save(new_raw, corrected, "1").status == OutcomeStatus.UPDATED
    assert counts(store)["raw_documents"] == 1  # the replaced bytes are not kept
    assert [r.sha256 for r in store.iter_raw_documents()] == [new_raw.sha256]


def test_a_failing_document_rolls_back_alone(store: Store) -> None:
    good1 = filing("0001234567-24-000001")
    broken = replace(
        filing("0001234567-24-000002"),
        header=replace(filing("0001234567-24-000002").header, submission_type=None),  # type: ignore[arg-type]
    )
    broken = replace(broken, document=replace(broken.document, submission_type=None))  # type: ignore[arg-type]
    good2 = filing("0001234567-24-000003", file_number="021-400002")
    outcomes = store.save_many(
        [(raw_for(good1), good1), (raw_for(broken), broken), (raw_for(good2), good2)], "1"
    )
    assert statuses(outcomes) == ["inserted", "failed", "inserted"]
    assert outcomes[1].reason is not None
    assert "could not be stored" in outcomes[1].reason
    stored = rows(store, "SELECT accession_number FROM filings ORDER BY accession_number")
    assert [r["accession_number"] for r in stored] == ["0001234567-24-000001", "0001234567-24-000003"]
    (failure,) = store.list_failures()
    assert failure.accession_number == "0001234567-24-000002"
    assert failure.stage == "store"
    assert failure.has_raw_document
    assert counts(store)["related_persons"] == 4  # no half-stored children of the broken one


def test_a_naive_acceptance_time_is_refused_not_guessed(store: Store) -> None:
    bad = filing(accepted_at=datetime(2024, 3, 4, 16, 30))
    outcome = store.save(raw_for(bad), bad, "1")
    assert outcome.status == OutcomeStatus.FAILED
    assert outcome.reason is not None
    assert "naive datetime" in outcome.reason
    assert counts(store)["filings"] == 0


def test_failures_are_counted_and_resolved_by_a_later_save(store: Store) -> None:
    record = filing()
    raw = raw_for(record)
    first = store.record_failure(
        "https://www.sec.gov/x.txt", "timed out", stage="fetch", accession_number="0001234567-24-000001"
    )
    second = store.record_failure(
        "https://www.sec.gov/x.txt",
        "bad XML",
        stage="parse",
        accession_number="0001234567-24-000001",
        raw=raw,
    )
    assert first == second
    (failure,) = store.list_failures()
    assert failure.attempt_count == 2
    assert failure.reason == "bad XML"
    assert failure.stage == "parse"
    assert failure.first_seen_at <= failure.last_seen_at
    assert failure.has_raw_document
    assert store.raw_document_of_failure(failure.id) is not None
    store.save(raw, record, "1")
    assert store.list_failures() == []
    (resolved,) = store.list_failures(include_resolved=True)
    assert resolved.is_resolved


def test_resolve_failure_by_hand(store: Store) -> None:
    failure_id = store.record_failure("file:///x.xml", "not a Form D", stage="parse")
    assert store.resolve_failure(failure_id)
    assert not store.resolve_failure(failure_id)
    assert store.list_failures() == []


def test_a_failure_quoting_the_value_that_failed_is_recorded_whatever_that_value(store: Store) -> None:
    # The reason may quote the poison itself: a NUL (PostgreSQL text refuses it) or 5,000 digits.
    store.record_failure("file:///a\x00b.xml", "<cik>1\x002</cik> " + "9" * 5000, stage="parse")

    (failure,) = store.list_failures()
    assert failure.reason.startswith("<cik>1\\x002</cik> 999")
    assert failure.reason.endswith("...")
    assert len(failure.reason) <= 1000
    assert failure.source == "file:///a\\x00b.xml"


def test_known_accessions(store: Store) -> None:
    stored = filing("0001234567-24-000001")
    store.save(raw_for(stored), stored, "1")
    parse_failed = filing("0001234567-24-000002")
    store.record_failure(
        "u", "bad", stage="parse", accession_number="0001234567-24-000002", raw=raw_for(parse_failed)
    )
    store.record_failure("u", "timeout", stage="fetch", accession_number="0001234567-24-000003")
    candidates = [f"0001234567-24-00000{i}" for i in range(1, 5)]
    assert store.known_accessions(candidates) == {"0001234567-24-000001", "0001234567-24-000002"}
    assert store.known_accessions([]) == set()


def test_co_issued_filing_is_one_row_keyed_by_the_primary_file_number(store: Store) -> None:
    co = issuer("0007654321", "Example Robotics Parallel Fund, LP")
    record = filing(
        co_issuers=(co,),
        # The co-issuer's FILER block comes first: the primary issuer's file number still wins.
        filers=(
            Filer("0007654321", "PARALLEL", "021-400001-01"),
            Filer("0001234567", "EXAMPLE", "021-400001"),
        ),
    )
    store.save(raw_for(record), record, "1")
    (row,) = rows(store, "SELECT offering_key, file_number, cik FROM filings")
    assert row == {"offering_key": "021-400001", "file_number": "021-400001", "cik": "0001234567"}
    issuers = rows(
        store, "SELECT issuer_index, is_primary, cik, entity_name FROM filing_issuers ORDER BY issuer_index"
    )
    assert [(i["issuer_index"], bool(i["is_primary"]), i["cik"]) for i in issuers] == [
        (0, True, "0001234567"),
        (1, False, "0007654321"),
    ]
    filers = rows(store, "SELECT cik, file_number FROM filing_filers ORDER BY filer_index")
    assert [f["file_number"] for f in filers] == ["021-400001-01", "021-400001"]
    (version,) = store.offering_versions(cik="7654321")
    assert version["issuer_name"] == "Example Robotics, Inc."


def test_bare_xml_gets_a_stable_fallback_key(store: Store) -> None:
    bare = filing(None)
    raw = raw_for(bare)
    store.save(raw, bare, "1")
    (row,) = rows(
        store, "SELECT filing_key, accession_number, offering_key, filing_date, accepted_at FROM filings"
    )
    assert row["filing_key"] == f"sha256:{raw.sha256}"
    assert row["offering_key"] == f"sha256:{raw.sha256}"
    assert row["accession_number"] is None
    assert row["filing_date"] is None
    assert row["accepted_at"] is None
    assert store.save(raw, bare, "1").status == OutcomeStatus.UNCHANGED


def test_full_submission_without_file_number_stands_alone(store: Store) -> None:
    record = filing(file_number=None)
    store.save(raw_for(record), record, "1")
    (row,) = rows(store, "SELECT offering_key FROM filings")
    assert row["offering_key"] == "accession:0001234567-24-000001"


def test_keyless_amendment_joins_the_offering_of_its_previous_filing(store: Store) -> None:
    original = filing("0001234567-24-000001")
    store.save(raw_for(original), original, "1")
    amendment = filing(None, submission_type="D/A", previous_accession="0001234567-24-000001")
    store.save(raw_for(amendment), amendment, "1")
    keys = rows(store, "SELECT offering_key FROM filings")
    assert {r["offering_key"] for r in keys} == {"021-400001"}
    versions = store.offering_versions(file_number="021-400001")
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["accession_number"] is None


def test_keyless_amendment_is_rekeyed_when_its_previous_filing_arrives(store: Store) -> None:
    amendment = filing(None, submission_type="D/A", previous_accession="0001234567-24-000001")
    raw = raw_for(amendment)
    store.save(raw, amendment, "1")
    assert rows(store, "SELECT offering_key FROM filings")[0]["offering_key"] == f"sha256:{raw.sha256}"
    original = filing("0001234567-24-000001")
    store.save(raw_for(original), original, "1")
    assert {r["offering_key"] for r in rows(store, "SELECT offering_key FROM filings")} == {"021-400001"}


def chain() -> list[Any]:
    """An original and two keyless amendments, each naming the one before."""
    original = filing("0007777777-24-000001", file_number="021-777777")
    first = filing(
        "0007777777-24-000002",
        file_number=None,
        submission_type="D/A",
        previous_accession=original.accession_number,
    )
    second = filing(None, submission_type="D/A", previous_accession=first.accession_number)
    return [original, first, second]


def offering_keys(store: Store) -> list[str]:
    return [r["offering_key"] for r in rows(store, "SELECT offering_key FROM filings ORDER BY id")]


def test_a_chain_of_keyless_amendments_joins_the_original_arriving_last(store: Store) -> None:
    original, first, second = chain()
    store.save(raw_for(second), second, "1")
    store.save(raw_for(first), first, "1")
    assert offering_keys(store) == ["accession:0007777777-24-000002"] * 2
    store.save(raw_for(original), original, "1")
    assert offering_keys(store) == ["021-777777"] * 3


def test_a_chain_of_keyless_amendments_in_one_batch_in_reverse_order(store: Store) -> None:
    records = list(reversed(chain()))
    outcomes = store.save_many([(raw_for(r), r) for r in records], "1")
    assert statuses(outcomes) == ["inserted"] * 3
    assert offering_keys(store) == ["021-777777"] * 3


def test_keyless_amendments_follow_their_original_to_another_file_number(store: Store) -> None:
    original, first, second = chain()
    store.save_many([(raw_for(r), r) for r in (original, first, second)], "1")
    assert header_of(original).filers[0].file_number == "021-777777"
    corrected = replace(
        original, header=replace(header_of(original), filers=(Filer("0001234567", "EXAMPLE", "021-888888"),))
    )
    assert store.save(raw_for(corrected, salt="corrected"), corrected, "1").status == OutcomeStatus.UPDATED
    assert offering_keys(store) == ["021-888888"] * 3


def header_of(record: Any) -> Any:
    assert record.header is not None
    return record.header


def test_bare_xml_and_full_submission_of_one_filing_are_one_row(store: Store) -> None:
    full = filing("0001234567-24-000001")
    bare = replace(full, header=None)
    # Bare XML first: the full submission takes its row over.
    assert store.save(raw_for(bare, salt="xml"), bare, "1").status == OutcomeStatus.INSERTED
    assert store.save(raw_for(full), full, "1").status == OutcomeStatus.UPDATED
    (row,) = rows(store, "SELECT filing_key, accession_number, offering_key FROM filings")
    assert row == {
        "filing_key": "0001234567-24-000001",
        "accession_number": "0001234567-24-000001",
        "offering_key": "021-400001",
    }
    assert counts(store)["raw_documents"] == 1
    # Bare XML again, after the full submission: nothing new.
    assert store.save(raw_for(bare, salt="xml"), bare, "1").status == OutcomeStatus.UNCHANGED
    assert counts(store)["filings"] == 1


def test_same_batch_duplicates_are_written_in_order(store: Store) -> None:
    record = filing()
    newer = with_offering(record, total_amount_sold=Decimal("4000000"))
    outcomes = store.save_many(
        [(raw_for(record), record), (raw_for(record), record), (raw_for(newer, salt="2"), newer)], "1"
    )
    assert statuses(outcomes) == ["inserted", "unchanged", "updated"]
    (row,) = store.offering_versions()
    assert row["total_amount_sold"] == Decimal("4000000")


def test_runs_state_and_status(store: Store) -> None:
    from datetime import date

    from edgar_ingest.records import RunCounts

    run_id = store.start_run("backfill", range_start_date=date(2024, 1, 1), range_end_date=date(2024, 2, 1))
    store.update_run(run_id, RunCounts(discovered=5))
    store.finish_run(
        run_id,
        RunCounts(discovered=5, fetched=4, inserted=3, failed=1, requests=6, retries=2),
        message="done",
    )
    (run,) = store.last_runs()
    assert run.status == "completed"
    assert run.counts["inserted"] == 3
    assert run.counts["retries"] == 2
    assert run.range_start_date == date(2024, 1, 1)
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at
    assert store.get_checkpoint() is None
    store.set_checkpoint(date(2024, 5, 6))
    store.set_checkpoint(date(2024, 5, 7))
    assert store.get_checkpoint() == date(2024, 5, 7)
    record = filing()
    store.save(raw_for(record), record, "1")
    status = store.status()
    assert (status.filings, status.offerings, status.raw_documents, status.unresolved_failures) == (
        1,
        1,
        1,
        0,
    )
    assert status.checkpoint == date(2024, 5, 7)
    assert status.last_runs[0].id == run_id
