"""fetch_filing: one request per filing, the exact bytes with URL, fetched-at and sha256."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from fake_clock import FakeClock

from edgar_ingest.errors import FetchError
from edgar_ingest.fetch import fetch_filing, is_complete_submission
from edgar_ingest.http import EdgarClient
from edgar_ingest.records import FilingRef
from edgar_ingest.settings import Settings

SETTINGS = Settings(user_agent="Acme data@acme.example", base_url="https://www.sec.test")
REF = FilingRef(
    accession_number="0001800001-24-000001",
    cik="0001800001",
    form_type="D",
    filing_date=date(2024, 1, 3),
    path="/Archives/edgar/data/1800001/0001800001-24-000001.txt",
)
URL = "https://www.sec.test/Archives/edgar/data/1800001/0001800001-24-000001.txt"
BODY = (
    b"<SEC-DOCUMENT>0001800001-24-000001.txt : 20240103\n<XML>\n<edgarSubmission/>\n</XML>\n</SEC-DOCUMENT>\n"
)
FIXED_NOW = datetime(2024, 1, 4, 3, 0, tzinfo=timezone(timedelta(hours=-5)))


def client_answering(*bodies: bytes | None) -> tuple[EdgarClient, list[str]]:
    seen: list[str] = []
    answers = list(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        body = answers.pop(0) if len(answers) > 1 else answers[0]
        if body is None:
            return httpx.Response(403, content=b"<Error><Code>AccessDenied</Code></Error>")
        return httpx.Response(200, content=body)

    clock = FakeClock()
    return EdgarClient(SETTINGS, transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep), seen


def test_one_request_returns_the_exact_bytes_with_url_time_and_digest() -> None:
    client, seen = client_answering(BODY)
    raw = fetch_filing(client, REF, now=lambda: FIXED_NOW)
    assert raw is not None
    assert seen == [URL]
    assert raw.content == BODY
    assert raw.source_url == URL
    assert raw.sha256 == hashlib.sha256(BODY).hexdigest()
    assert raw.fetched_at == FIXED_NOW
    assert raw.fetched_at.utcoffset() == timedelta(0)  # converted to UTC


def test_fetched_at_defaults_to_now_in_utc() -> None:
    client, _ = client_answering(BODY)
    before = datetime.now(UTC)
    raw = fetch_filing(client, REF)
    assert raw is not None
    assert raw.fetched_at.tzinfo is UTC
    assert before <= raw.fetched_at <= datetime.now(UTC)


def test_absent_filing_is_none() -> None:
    client, seen = client_answering(None)
    assert fetch_filing(client, REF) is None
    assert len(seen) == 1


def test_a_cut_off_submission_is_fetched_again() -> None:
    client, seen = client_answering(BODY[:40], BODY)
    raw = fetch_filing(client, REF)
    assert raw is not None
    assert raw.content == BODY
    assert len(seen) == 2


def test_a_submission_still_cut_off_after_the_retries_is_an_error() -> None:
    client, seen = client_answering(BODY[:40])
    with pytest.raises(FetchError, match="cut off"):
        fetch_filing(client, REF)
    assert len(seen) == client.max_attempts


def test_completeness_accepts_the_2009_privacy_enhanced_envelope() -> None:
    assert is_complete_submission(BODY)
    assert is_complete_submission(BODY + b"-----END PRIVACY-ENHANCED MESSAGE-----\n")
    assert not is_complete_submission(BODY[:-20])
    assert not is_complete_submission(b"")


@pytest.mark.corpus
def test_real_full_submissions_are_complete(corpus_dir: Path) -> None:
    files = sorted((corpus_dir / "submissions_txt").glob("*.txt"))
    assert len(files) == 4
    for file in files:
        content = file.read_bytes()
        assert is_complete_submission(content), file.name
        client, _ = client_answering(content)
        raw = fetch_filing(client, REF)
        assert raw is not None
        assert raw.content == content
