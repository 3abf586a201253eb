"""The latest-filings feed parser: Atom bytes -> the D and D/A filings listed, hardened like parse.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from fake_edgar import FeedItem, feed_page

from edgar_ingest.errors import FetchError, MalformedDocumentError, UnsafeDocumentError
from edgar_ingest.feed import MAX_FEED_PAGE_BYTES, feed_path, fetch_feed_page, parse_feed_page
from edgar_ingest.http import EdgarClient
from edgar_ingest.settings import Settings

EDT = timezone(timedelta(hours=-4))
EST = timezone(timedelta(hours=-5))


def item(n: int, form: str = "D", **kw: object) -> FeedItem:
    defaults: dict[str, object] = {
        "accession": f"0001900{n:03d}-24-{n:06d}",
        "cik": 1900000 + n,
        "company": f"Issuer {n} LP",
        "accepted_at": datetime(2024, 1, 2, 16, 0, tzinfo=EST) - timedelta(minutes=n),
        "form": form,
    }
    defaults.update(kw)
    return FeedItem(**defaults)  # type: ignore[arg-type]


def test_the_real_feed_page_lists_its_d_and_d_a_filings_and_skips_the_proxy_statements(
    corpus_dir: Path,
) -> None:
    page = parse_feed_page((corpus_dir / "other" / "getcurrent_formD_atom_20260703.xml").read_bytes())

    assert page.entry_count == 10
    assert [e.ref.form_type for e in page.entries] == ["D", "D", "D", "D/A", "D/A", "D/A", "D/A", "D/A"]
    assert "0001213900-26-075089" not in {e.accession_number for e in page.entries}  # a DEFA14A
    first = page.entries[0]
    assert first.accession_number == "0002132077-26-000001"
    assert first.ref.cik == "0002132077"
    assert first.ref.company_name == "Stonepeak Infrastructure Credit Fund II Rated Note Feeder LP"
    assert first.ref.filing_date == date(2026, 7, 2)
    assert first.ref.path == "/Archives/edgar/data/2132077/0002132077-26-000001.txt"
    assert first.accepted_at == datetime(2026, 7, 2, 17, 23, 57, tzinfo=EDT)
    assert page.oldest_accepted_at == datetime(2026, 7, 2, 17, 7, 43, tzinfo=EDT)
    assert page.problems == ()


def test_only_an_exact_d_or_d_a_category_is_kept() -> None:
    forms = ["D", "DEF 14A", "DEFA14A", "DRS", "DRSLTR", "D/A", "DEFM14A", "10-D"]
    page = parse_feed_page(feed_page([item(n, form) for n, form in enumerate(forms, 1)]))

    assert [(e.ref.form_type, e.accession_number) for e in page.entries] == [
        ("D", "0001900001-24-000001"),
        ("D/A", "0001900006-24-000006"),
    ]
    assert page.entry_count == len(forms)


def test_a_co_issued_filing_listed_once_per_filer_is_one_entry_under_the_first_filer() -> None:
    accepted = datetime(2024, 1, 2, 15, 0, tzinfo=EST)
    shared = "0001900001-24-000001"
    page = parse_feed_page(
        feed_page(
            [
                item(1, accession=shared, cik=1900001, company="Fund LP", accepted_at=accepted),
                item(2, accession=shared, cik=1999001, company="Fund Co-Issuer LP", accepted_at=accepted),
                item(3),
            ]
        )
    )

    assert [e.accession_number for e in page.entries] == [shared, "0001900003-24-000003"]
    assert page.entries[0].ref.cik == "0001900001"
    assert page.entries[0].ref.company_name == "Fund LP"


def test_a_name_with_dashes_parentheses_and_ampersands_is_read_whole() -> None:
    name = "Smith & Jones - Growth (II) Fund, L.P."
    page = parse_feed_page(feed_page([item(1, company=name)]))

    assert page.entries[0].ref.company_name == name
    assert page.entries[0].ref.cik == "0001900001"


def test_the_acceptance_time_keeps_its_offset_and_the_filing_date_comes_from_the_summary() -> None:
    late = datetime(2024, 1, 2, 17, 45, tzinfo=EST)  # after 17:30: filed the next business day
    page = parse_feed_page(feed_page([item(1, accepted_at=late, filed=date(2024, 1, 3))]))

    assert page.entries[0].accepted_at == late
    assert page.entries[0].accepted_at.astimezone(UTC) == datetime(2024, 1, 2, 22, 45, tzinfo=UTC)
    assert page.entries[0].ref.filing_date == date(2024, 1, 3)


def test_an_entry_that_cannot_be_read_is_reported_and_the_others_are_kept() -> None:
    content = feed_page([item(1), item(2)])
    broken = content.replace(b"accession-number=0001900001-24-000001", b"accession-number=").replace(
        b"AccNo:&lt;/b&gt; 0001900001-24-000001", b"AccNo:&lt;/b&gt; "
    )
    undated = feed_page([item(3)]).replace(b"<updated>2024-01-02T15:57:00-05:00</updated>", b"<updated/>")

    page = parse_feed_page(broken)
    undated_page = parse_feed_page(undated)

    assert [e.accession_number for e in page.entries] == ["0001900002-24-000002"]
    assert len(page.problems) == 1
    assert "no accession number" in page.problems[0]
    assert undated_page.entries == ()
    assert "acceptance time" in undated_page.problems[0]


def test_an_empty_feed_is_a_page_with_no_entries() -> None:
    page = parse_feed_page(feed_page([]))

    assert page.entries == ()
    assert page.entry_count == 0
    assert page.oldest_accepted_at is None


@pytest.mark.parametrize(
    "content",
    [
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>',
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b"<feed><title>&b;</title></feed>",
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE feed [<!ENTITY e "x">]><feed>&e;</feed>'.encode(
            "utf-16"
        ),
    ],
    ids=["xxe", "entity-expansion", "utf16-doctype"],
)
def test_a_page_with_a_doctype_or_entities_is_refused_unresolved(content: bytes) -> None:
    with pytest.raises(UnsafeDocumentError, match="DOCTYPE"):
        parse_feed_page(content)


def test_an_oversized_page_is_refused_before_parsing() -> None:
    with pytest.raises(UnsafeDocumentError, match="limit"):
        parse_feed_page(b"<feed>" + b" " * MAX_FEED_PAGE_BYTES + b"</feed>")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<html><body><h1>EDGAR is down for maintenance</h1></body></html>", "not an Atom <feed>"),
        (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>', "not well-formed"),
        (b"", "empty"),
    ],
    ids=["html-page", "cut-off", "empty"],
)
def test_a_page_that_is_not_a_feed_is_malformed(content: bytes, reason: str) -> None:
    with pytest.raises(MalformedDocumentError, match=reason):
        parse_feed_page(content)


def test_the_feed_url_is_edgars_getcurrent_atom_query_for_type_d() -> None:
    assert feed_path(100) == (
        "/cgi-bin/browse-edgar?action=getcurrent&type=D&company=&dateb=&owner=include"
        "&start=100&count=100&output=atom"
    )
    with pytest.raises(ValueError, match="count"):
        feed_path(0, 101)


def _client(handler: httpx.MockTransport) -> EdgarClient:
    settings = Settings(user_agent="edgar_ingest tests tests@example.com", base_url="https://edgar.test")
    return EdgarClient(settings, transport=handler, sleep=lambda _s: None)


def test_fetching_a_page_asks_the_archive_host_once() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=feed_page([item(1)]))

    with _client(httpx.MockTransport(answer)) as client:
        page = fetch_feed_page(client, start=200)

    assert [e.accession_number for e in page.entries] == ["0001900001-24-000001"]
    assert seen == ["https://edgar.test" + feed_path(200)]


def test_a_feed_answered_as_absent_is_an_error_naming_the_base_url() -> None:
    with (
        _client(httpx.MockTransport(lambda _r: httpx.Response(404))) as client,
        pytest.raises(FetchError, match="EDGAR_INGEST_BASE_URL"),
    ):
        fetch_feed_page(client)
