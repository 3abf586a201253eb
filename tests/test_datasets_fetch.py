"""The SEC's Form D data sets: finding the archives on their index page and downloading them.

The page parser is pure; everything else runs the real client against the fake EDGAR server on
127.0.0.1 (real sockets, short real waits), like tests/test_fake_edgar.py.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import io
import random
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fake_clock import FakeClock
from fake_edgar import DATASETS_FOLDER, FakeEdgar

from edgar_ingest.discover import DATASETS_PAGE_PATH, list_dataset_archives, parse_dataset_index_page
from edgar_ingest.errors import DatasetsPageError, FetchError, UndeclaredUserAgentError
from edgar_ingest.fetch import fetch_dataset_archive, zip_problem
from edgar_ingest.http import EdgarClient
from edgar_ingest.records import DatasetArchiveRef, DownloadResult, HttpValidators, NotModified
from edgar_ingest.settings import Settings

PAGE_URL = "https://www.sec.gov/data-research/sec-markets-data/form-d-data-sets"
OLD = "/files/structureddata/data/form-d-data-sets/"
NEW = DATASETS_FOLDER  # /files/datastandardsinnovation/data/form-d-data-sets/
BLOCK_PAUSE_S = 0.3
TABLES = ("FORMDSUBMISSION", "ISSUERS", "OFFERING", "RECIPIENTS", "RELATEDPERSONS", "SIGNATURES")


def quarter_archive(quarter: str = "2024Q1", rows: int = 2000, seed: int = 1) -> bytes:
    """A data-set archive like the SEC's: six deflated TSV files in a folder named for the quarter."""
    rng = random.Random(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in TABLES:
            lines = ["ACCESSIONNUMBER\tVALUE"]
            lines += [
                f"0001{rng.randrange(10**6):06d}-24-{n:06d}\t{rng.getrandbits(64):x}" for n in range(rows)
            ]
            archive.writestr(f"{quarter}_d/{table}.tsv", "\n".join(lines) + "\n")
    return buffer.getvalue()


def page(*hrefs: str, extra: str = "") -> bytes:
    links = "\n".join(f'<li><a href="{href}">{href}</a></li>' for href in hrefs)
    return (
        "<!DOCTYPE html><html><head><title>Form D Data Sets | SEC.gov</title></head><body>"
        f"<h1>Form D Data Sets</h1><ul>{links}</ul>{extra}</body></html>"
    ).encode()


def make_client(server: FakeEdgar, **kwargs: object) -> EdgarClient:
    settings = Settings(
        user_agent="Acme Research data@acme.example",
        base_url=server.url,
        data_url=server.url,
        max_rps=10,
        block_pause_s=BLOCK_PAUSE_S,
    )
    options: dict[str, object] = {
        "backoff_initial_s": 0.02,
        "backoff_jitter_s": 0.02,
        "timeout": httpx.Timeout(5.0),
        "recovery_s": 1.0,
    }
    options.update(kwargs)
    return EdgarClient(settings, **options)  # type: ignore[arg-type]


def ref_for(server: FakeEdgar, path: str) -> DatasetArchiveRef:
    name = path.rsplit("/", 1)[1]
    return DatasetArchiveRef(url=server.url + path, name=name, year=int(name[:4]), quarter=int(name[5]))


def files_in(folder: Path) -> list[str]:
    """Every entry of the folder, hidden temporary files included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- the index page (pure)


def test_every_quarter_archive_linked_is_found_whatever_the_link_form() -> None:
    content = page(
        f"{OLD}2012q3_d_0.zip",  # root-relative, the old folder, 2008Q2-2013Q4 naming
        f"https://www.sec.gov{NEW}2024q1_d.zip",  # absolute, the new folder
        f"{NEW}2024q1_d.zip",  # the same URL again, root-relative: listed once
        f"https://www.sec.gov{NEW}2024q1_d.zip#top",  # and again: the fragment is never sent
        "../../files/datastandardsinnovation/data/form-d-data-sets/2019Q4_D_2.zip",  # relative, upper case
        "2019q4_d_1.zip",  # relative to the page's folder: a quarter in several parts
        f"{NEW}2015Q2_D.ZIP",  # upper-case extension
        f"{NEW}2023q4_d.zip?download=1&amp;v=2#files",  # query kept in the URL, not in the name
        f"{NEW}form-d-readme.pdf",  # not a zip
        f"{NEW}2020q1_d.csv",  # not a zip
        f"{NEW}formd-all.zip",  # a zip without a quarter
        f"{NEW}2020q5_d.zip",  # no such quarter
        f"{NEW}2020q1.zip",  # no "_d"
        f"{NEW}2020q1_ds.zip",  # not "_d" then a part suffix
        "javascript:get('2021q1_d.zip')",  # not a link to a file
        "",
        extra=(
            f'<!-- <a href="{NEW}2009q1_d_0.zip">withdrawn</a> -->'  # commented out: not a link
            f"<script>var next = '<a href=\"{NEW}2026q2_d.zip\">';</script>"  # a script's text
            f"<a name=top>no href</a><a href={NEW}2010q2_d_0.zip>unquoted</a>"
        ),
    )
    refs = parse_dataset_index_page(content, PAGE_URL)
    assert [(r.year, r.quarter, r.name, r.url) for r in refs] == [
        (2010, 2, "2010q2_d_0.zip", f"https://www.sec.gov{NEW}2010q2_d_0.zip"),
        (2012, 3, "2012q3_d_0.zip", f"https://www.sec.gov{OLD}2012q3_d_0.zip"),
        (2015, 2, "2015Q2_D.ZIP", f"https://www.sec.gov{NEW}2015Q2_D.ZIP"),
        (2019, 4, "2019Q4_D_2.zip", f"https://www.sec.gov{NEW}2019Q4_D_2.zip"),
        (
            2019,
            4,
            "2019q4_d_1.zip",
            "https://www.sec.gov/data-research/sec-markets-data/2019q4_d_1.zip",
        ),
        (2023, 4, "2023q4_d.zip", f"https://www.sec.gov{NEW}2023q4_d.zip?download=1&v=2"),
        (2024, 1, "2024q1_d.zip", f"https://www.sec.gov{NEW}2024q1_d.zip"),
    ]


def test_a_base_element_moves_where_relative_links_point() -> None:
    content = page("2011q1_d.zip", extra="").replace(
        b"<head>", b'<head><base href="https://www.sec.gov/files/structureddata/data/form-d-data-sets/">'
    )
    (ref,) = parse_dataset_index_page(content, PAGE_URL)
    assert ref.url == f"https://www.sec.gov{OLD}2011q1_d.zip"


def test_entities_are_not_expanded_and_a_percent_encoded_name_is_decoded() -> None:
    content = (
        b'<!DOCTYPE html [<!ENTITY q "2018q1_d.zip">]><html><body>'
        b'<a href="&q;">entity</a><a href="/files/2018q2%5Fd.zip">encoded</a></body></html>'
    )
    refs = parse_dataset_index_page(content, PAGE_URL)
    assert [(r.name, r.url) for r in refs] == [("2018q2_d.zip", "https://www.sec.gov/files/2018q2%5Fd.zip")]


@pytest.mark.parametrize(
    "content",
    [
        page(f"{NEW}form-d-readme.pdf", f"{NEW}formd-all.zip"),
        b"<html><body><p>This page has moved.</p></body></html>",
        b"",
        b"plain text, not a page",
    ],
    ids=["no-quarter-links", "moved", "empty", "text"],
)
def test_a_page_without_archives_is_an_error_not_an_empty_list(content: bytes) -> None:
    with pytest.raises(
        DatasetsPageError, match=r"^The Form D data sets page \S+ lists no archives: has it moved\?$"
    ):
        parse_dataset_index_page(content, PAGE_URL)
    # A FetchError: the run stops saying so, as when the page cannot be fetched at all.
    assert issubclass(DatasetsPageError, FetchError)


def test_a_huge_page_is_refused_before_parsing() -> None:
    content = page(f"{NEW}2024q1_d.zip") + b" " * (5 * 1024 * 1024)
    with pytest.raises(DatasetsPageError, match="has it moved"):
        parse_dataset_index_page(content, PAGE_URL)


# --------------------------------------------------------------------------- the page on the server


def test_the_page_is_read_from_the_archive_host(fake_edgar: FakeEdgar) -> None:
    fake_edgar.add_dataset_page(page(f"{NEW}2024q1_d.zip", f"{fake_edgar.url}{OLD}2012q3_d_0.zip"))
    with make_client(fake_edgar) as client:
        refs = list_dataset_archives(client)
    assert refs is not None
    assert [r.url for r in refs] == [
        f"{fake_edgar.url}{OLD}2012q3_d_0.zip",
        f"{fake_edgar.url}{NEW}2024q1_d.zip",
    ]
    assert [r.path for r in fake_edgar.requests] == [DATASETS_PAGE_PATH]


@pytest.mark.parametrize("missing_status", [403, 404])
def test_an_absent_page_is_none(missing_status: int) -> None:
    with FakeEdgar(missing_status=missing_status) as server, make_client(server) as client:
        assert list_dataset_archives(client) is None
        assert server.count(DATASETS_PAGE_PATH) == 1  # absent is an answer: not retried


def test_a_page_listing_nothing_raises_through_the_client(fake_edgar: FakeEdgar) -> None:
    fake_edgar.add_dataset_page(b"<html><body>Moved to the new data portal.</body></html>")
    with make_client(fake_edgar) as client, pytest.raises(DatasetsPageError, match="lists no archives"):
        list_dataset_archives(client)


# --------------------------------------------------------------------------- downloads


def test_an_archive_downloads_whole_with_its_digest_and_stats(fake_edgar: FakeEdgar, tmp_path: Path) -> None:
    archive = quarter_archive()
    path = fake_edgar.add_dataset_archive("2024q1_d.zip", archive)
    with make_client(fake_edgar) as client:
        result = fetch_dataset_archive(client, ref_for(fake_edgar, path), tmp_path / "archives")
        stats = client.stats.snapshot()
    assert result is not None
    assert result.path == tmp_path / "archives" / "2024q1_d.zip"
    assert result.path.read_bytes() == archive
    assert result.sha256 == hashlib.sha256(archive).hexdigest()
    assert result.size_bytes == len(archive)
    assert files_in(tmp_path / "archives") == ["2024q1_d.zip"]  # no temporary file left
    assert (stats.requests, stats.retries, stats.bytes) == (1, 0, len(archive))
    (request,) = fake_edgar.requests
    assert request.headers["User-Agent"] == "Acme Research data@acme.example"


def test_a_gzip_encoded_body_is_written_decoded(fake_edgar: FakeEdgar, tmp_path: Path) -> None:
    text = b"ACCESSIONNUMBER\tFILE_NUM\n" + b"0001800001-24-000001\t021-999999\n" * 20000
    path = "/files/notes.tsv"
    fake_edgar.add(path, text)
    with make_client(fake_edgar) as client:
        result = client.download(fake_edgar.url + path, tmp_path / "notes.tsv", max_bytes=len(text))
        stats = client.stats.snapshot()
    assert result is not None
    assert result.path.read_bytes() == text
    assert result.sha256 == hashlib.sha256(text).hexdigest()
    assert result.size_bytes == len(text)
    # What crossed the wire was the gzip copy.
    assert stats.bytes == len(gzip.compress(text, mtime=0)) < len(text)


def downloaded_once(server: FakeEdgar, tmp_path: Path) -> tuple[bytes, DatasetArchiveRef, DownloadResult]:
    """An archive served and downloaded once, unconditionally: its bytes, ref and result."""
    archive = quarter_archive()
    ref = ref_for(server, server.add_dataset_archive("2024q1_d.zip", archive))
    with make_client(server) as client:
        first = fetch_dataset_archive(client, ref, tmp_path / "first")
    assert isinstance(first, DownloadResult)
    return archive, ref, first


def test_an_archive_comes_with_its_validators_and_is_not_sent_again_while_unchanged(
    fake_edgar: FakeEdgar, tmp_path: Path
) -> None:
    _, ref, first = downloaded_once(fake_edgar, tmp_path)
    with make_client(fake_edgar) as client:
        again = fetch_dataset_archive(client, ref, tmp_path / "again", if_changed_since=first.validators)
        stats = client.stats.snapshot()
    assert first.validators.etag is not None
    assert first.validators.last_modified is not None
    assert isinstance(again, NotModified)
    assert files_in(tmp_path / "again") == [], "nothing written, not even a temporary file"
    unconditional, conditional = fake_edgar.requests
    assert "If-None-Match" not in unconditional.headers
    assert "If-Modified-Since" not in unconditional.headers
    assert conditional.headers["If-None-Match"] == first.validators.etag
    assert conditional.headers["If-Modified-Since"] == first.validators.last_modified
    assert [r.answer for r in fake_edgar.requests] == ["ok", "304"]
    assert (stats.requests, stats.retries, stats.bytes) == (1, 0, 0), "the 304 has no body"


def test_a_changed_archive_is_sent_whole_to_a_conditional_get(fake_edgar: FakeEdgar, tmp_path: Path) -> None:
    _, ref, first = downloaded_once(fake_edgar, tmp_path)
    republished = quarter_archive(seed=2)
    fake_edgar.add_dataset_archive("2024q1_d.zip", republished)  # in the same second: the ETag tells
    with make_client(fake_edgar) as client:
        again = fetch_dataset_archive(client, ref, tmp_path / "again", if_changed_since=first.validators)
    assert isinstance(again, DownloadResult)
    assert again.path.read_bytes() == republished
    assert again.sha256 == hashlib.sha256(republished).hexdigest()
    assert again.validators.etag not in (None, first.validators.etag)


OLDER_DATE = "Thu, 01 Jan 2015 00:00:00 GMT"


@pytest.mark.parametrize(
    ("case", "answer"),
    [
        ("its date only", "304"),  # no ETag held: the date decides
        ("an older date", "ok"),  # the copy held predates the file
        ("its ETag, to a server that ignores it", "ok"),
    ],
)
def test_a_conditional_get_sends_what_is_held_and_takes_what_the_server_answers(
    fake_edgar: FakeEdgar, tmp_path: Path, case: str, answer: str
) -> None:
    archive, ref, first = downloaded_once(fake_edgar, tmp_path)
    held = {
        "its date only": HttpValidators(last_modified=first.validators.last_modified),
        "an older date": HttpValidators(last_modified=OLDER_DATE),
        "its ETag, to a server that ignores it": HttpValidators(etag=first.validators.etag),
    }[case]
    fake_edgar.conditional_get = case != "its ETag, to a server that ignores it"
    with make_client(fake_edgar) as client:
        again = fetch_dataset_archive(client, ref, tmp_path / "again", if_changed_since=held)
    sent = fake_edgar.requests[-1].headers
    assert sent.get("If-None-Match") == held.etag
    assert sent.get("If-Modified-Since") == held.last_modified
    assert fake_edgar.requests[-1].answer == answer
    if answer == "304":
        assert isinstance(again, NotModified)
    else:
        assert isinstance(again, DownloadResult)
        assert again.path.read_bytes() == archive


def test_an_absent_archive_is_none_and_leaves_nothing(fake_edgar: FakeEdgar, tmp_path: Path) -> None:
    ref = ref_for(fake_edgar, f"{NEW}2031q1_d.zip")
    with make_client(fake_edgar) as client:
        assert fetch_dataset_archive(client, ref, tmp_path) is None
    assert files_in(tmp_path) == []
    assert fake_edgar.count() == 1


@pytest.mark.parametrize("fault", ["truncate", "reset-mid", "reset", "503", "cut"])
def test_a_broken_transfer_is_retried(fake_edgar: FakeEdgar, tmp_path: Path, fault: str) -> None:
    archive = quarter_archive()
    path = fake_edgar.add_dataset_archive("2024q1_d.zip", archive)
    fake_edgar.inject(path, [fault])
    with make_client(fake_edgar) as client:
        result = fetch_dataset_archive(client, ref_for(fake_edgar, path), tmp_path)
        stats = client.stats.snapshot()
    assert result is not None
    assert result.path.read_bytes() == archive
    assert [r.answer for r in fake_edgar.requests] == [fault, "ok"]
    assert (stats.requests, stats.retries) == (2, 1)
    assert files_in(tmp_path) == ["2024q1_d.zip"]


def test_a_corrupt_archive_is_fetched_again(fake_edgar: FakeEdgar, tmp_path: Path) -> None:
    archive = quarter_archive()
    path = fake_edgar.add_dataset_archive("2024q1_d.zip", archive)
    fake_edgar.inject(path, ["corrupt", "corrupt"])
    with make_client(fake_edgar) as client:
        result = fetch_dataset_archive(client, ref_for(fake_edgar, path), tmp_path)
    assert result is not None
    assert result.path.read_bytes() == archive
    assert result.sha256 == hashlib.sha256(archive).hexdigest()
    assert [r.answer for r in fake_edgar.requests] == ["corrupt", "corrupt", "ok"]
    assert files_in(tmp_path) == ["2024q1_d.zip"]


def test_a_body_shorter_than_its_content_length_is_retried(tmp_path: Path) -> None:
    # h11 reports a connection closed early; this is the check on a body that ended quietly.
    archive = quarter_archive()
    answers = [
        httpx.Response(200, content=archive[:1000], headers={"Content-Length": str(len(archive))}),
        httpx.Response(200, content=archive),
    ]
    clock = FakeClock()
    settings = Settings(user_agent="Acme data@acme.example", base_url="https://www.sec.test")
    transport = httpx.MockTransport(lambda request: answers.pop(0))
    with EdgarClient(settings, transport=transport, clock=clock, sleep=clock.sleep) as client:
        result = client.download("https://www.sec.test/x/2024q1_d.zip", tmp_path / "a.zip", max_bytes=10**7)
        stats = client.stats.snapshot()
    assert result is not None
    assert result.path.read_bytes() == archive
    assert (stats.requests, stats.retries) == (2, 1)
    assert len(clock.sleeps) == 1  # one backoff before the second attempt
    assert files_in(tmp_path) == ["a.zip"]


def test_an_archive_corrupt_every_time_fails_naming_url_and_reason_and_keeps_the_old_file(
    fake_edgar: FakeEdgar, tmp_path: Path
) -> None:
    path = fake_edgar.add_dataset_archive("2024q1_d.zip", quarter_archive())
    fake_edgar.inject(path, ["corrupt"] * 10)
    (tmp_path / "2024q1_d.zip").write_bytes(b"the copy from last month")
    ref = ref_for(fake_edgar, path)
    with make_client(fake_edgar, max_attempts=3) as client, pytest.raises(FetchError) as caught:
        fetch_dataset_archive(client, ref, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"GET {ref.url} failed after 3 attempts: ")
    assert "CRC error in member 2024Q1_d/" in message or "damaged zip archive" in message
    assert fake_edgar.count(path) == 3
    # No temporary file left, and the file already there is untouched: a new copy replaces it
    # only once whole and sound.
    assert files_in(tmp_path) == ["2024q1_d.zip"]
    assert (tmp_path / "2024q1_d.zip").read_bytes() == b"the copy from last month"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("ok", r"announced \d+ bytes, more than the 10000 allowed"),
        ("nolength", "sent more than the 10000 bytes"),
    ],
    ids=["content-length", "counted"],
)
def test_an_archive_over_max_bytes_fails_at_once(
    fake_edgar: FakeEdgar, tmp_path: Path, fault: str, reason: str
) -> None:
    path = fake_edgar.add_dataset_archive("2024q1_d.zip", quarter_archive())
    fake_edgar.inject(path, [fault])
    with make_client(fake_edgar) as client, pytest.raises(FetchError, match=reason):
        fetch_dataset_archive(client, ref_for(fake_edgar, path), tmp_path, max_bytes=10_000)
    assert fake_edgar.count() == 1  # not retried: it will be as large next time
    assert client.stats.snapshot().retries == 0
    assert files_in(tmp_path) == []


def test_max_bytes_counts_decoded_bytes_of_a_gzip_body(fake_edgar: FakeEdgar, tmp_path: Path) -> None:
    path = "/files/bomb.txt"
    fake_edgar.add(path, b"\0" * 2_000_000)  # ~2 KB on the wire
    with (
        make_client(fake_edgar) as client,
        pytest.raises(FetchError, match="sent more than the 100000 bytes"),
    ):
        client.download(fake_edgar.url + path, tmp_path / "bomb.txt", max_bytes=100_000)
    assert fake_edgar.count() == 1
    assert files_in(tmp_path) == []


def test_a_block_page_during_a_download_pauses_then_resumes(fake_edgar: FakeEdgar, tmp_path: Path) -> None:
    archive = quarter_archive()
    path = fake_edgar.add_dataset_archive("2024q1_d.zip", archive)
    fake_edgar.inject(path, ["block403"])
    with make_client(fake_edgar) as client:
        result = fetch_dataset_archive(client, ref_for(fake_edgar, path), tmp_path)
        stats = client.stats.snapshot()
    assert result is not None
    assert result.path.read_bytes() == archive
    blocked, retried = fake_edgar.arrival_times(path)
    assert retried - blocked >= BLOCK_PAUSE_S
    assert stats.block_pauses == 1


def test_an_undeclared_user_agent_page_stops_a_download_at_once(
    fake_edgar: FakeEdgar, tmp_path: Path
) -> None:
    path = fake_edgar.add_dataset_archive("2024q1_d.zip", quarter_archive())
    fake_edgar.inject(path, ["ua403"])
    with make_client(fake_edgar) as client, pytest.raises(UndeclaredUserAgentError):
        fetch_dataset_archive(client, ref_for(fake_edgar, path), tmp_path)
    assert fake_edgar.count() == 1
    assert files_in(tmp_path) == []


def test_close_stops_a_download_in_progress_within_a_second(fake_edgar: FakeEdgar, tmp_path: Path) -> None:
    archive = quarter_archive(rows=20000)  # ~1.4 MB: ~22 pieces of 64 KiB, 2 s apart
    assert len(archive) > 1_000_000
    path = fake_edgar.add_dataset_archive("2024q1_d.zip", archive)
    fake_edgar.inject(path, ["drip:2"])
    client = make_client(fake_edgar)
    outcome: list[BaseException | object] = []

    def download() -> None:
        try:
            outcome.append(fetch_dataset_archive(client, ref_for(fake_edgar, path), tmp_path))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=download)
    worker.start()
    deadline = time.monotonic() + 5
    while not any(p.stat().st_size > 0 for p in tmp_path.glob(".2024q1_d.zip.*.part")):
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.01)
    time.sleep(0.1)  # now waiting for the next piece, 2 s away
    closed_at = time.monotonic()
    client.close()
    worker.join(5)
    assert not worker.is_alive()
    assert time.monotonic() - closed_at < 1.0
    (error,) = outcome
    assert isinstance(error, FetchError)
    assert "closed" in str(error)
    assert files_in(tmp_path) == []
    assert fake_edgar.count() == 1  # nothing was sent after close()
    assert client.stats.snapshot().retries == 0  # a connection cut by close() is not retried


def test_close_is_seen_between_two_chunks_however_fast_they_come(tmp_path: Path) -> None:
    # Through httpx.MockTransport there is no socket to shut down: only the check between chunks
    # can stop the body, which here keeps coming without a pause.
    clock = FakeClock()
    client: EdgarClient | None = None
    chunks_sent = 0

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            nonlocal chunks_sent
            for n in range(100):
                if n == 3:
                    assert client is not None
                    client.close()
                chunks_sent += 1
                yield b"x" * 1000

    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=Body()))
    settings = Settings(user_agent="Acme data@acme.example", base_url="https://www.sec.test")
    client = EdgarClient(settings, transport=transport, clock=clock, sleep=clock.sleep)
    with pytest.raises(FetchError, match="closed"):
        client.download("https://www.sec.test/files/2024q1_d.zip", tmp_path / "a.zip", max_bytes=10**6)
    assert chunks_sent == 4  # the chunk in flight when close() came, then nothing
    assert files_in(tmp_path) == []
    assert client.stats.snapshot().requests == 1


def test_a_large_archive_streams_to_disk_without_being_held_in_memory(
    fake_edgar: FakeEdgar, tmp_path: Path
) -> None:
    size = 32 * 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("2024Q1_d/FORMDSUBMISSION.tsv", random.Random(7).randbytes(size))
    content = buffer.getvalue()
    path = fake_edgar.add_dataset_archive("2024q1_d.zip", content)
    with make_client(fake_edgar, timeout=httpx.Timeout(30.0)) as client:
        tracemalloc.start()
        try:
            result = fetch_dataset_archive(client, ref_for(fake_edgar, path), tmp_path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result is not None
    assert result.size_bytes == len(content)
    assert result.sha256 == hashlib.sha256(content).hexdigest()
    # Chunks of the socket and of the zip check (1 MiB), never the 32 MiB body.
    assert peak < 8 * 1024 * 1024


def test_fetch_refuses_a_ref_whose_name_is_not_a_plain_file_name(
    fake_edgar: FakeEdgar, tmp_path: Path
) -> None:
    ref = DatasetArchiveRef(url=fake_edgar.url + "/x.zip", name="../2024q1_d.zip", year=2024, quarter=1)
    with make_client(fake_edgar) as client, pytest.raises(ValueError, match="plain file name"):
        fetch_dataset_archive(client, ref, tmp_path)
    assert fake_edgar.count() == 0


def test_zip_problem_tells_sound_archives_from_damaged_ones(tmp_path: Path) -> None:
    sound = tmp_path / "sound.zip"
    sound.write_bytes(quarter_archive())
    assert zip_problem(sound) is None
    html = tmp_path / "html.zip"
    html.write_bytes(b"<html>Service Unavailable</html>")
    assert (zip_problem(html) or "").startswith("not a zip archive")
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("2024Q1_d/ISSUERS.tsv", b"CIK\tENTITYNAME\n" * 1000)
    damaged = bytearray(stored.getvalue())
    damaged[len(damaged) // 2] ^= 0xFF
    crc = tmp_path / "crc.zip"
    crc.write_bytes(bytes(damaged))
    assert zip_problem(crc) == "CRC error in member 2024Q1_d/ISSUERS.tsv"


# --------------------------------------------------------------------------- politeness


@pytest.fixture
def strict_server() -> Iterator[FakeEdgar]:
    # As in test_fake_edgar.py: the server enforces the SEC's limit, and no garbage collection
    # may stop it (and the client with it) during the test.
    gc.collect()
    gc.disable()
    try:
        with FakeEdgar(enforce_rate=10) as server:
            yield server
    finally:
        gc.enable()


def test_the_limit_holds_at_the_server_across_page_archives_and_retries(
    strict_server: FakeEdgar, tmp_path: Path
) -> None:
    server = strict_server
    server.latency = 0.02
    names = [
        f"{year}q{quarter}_d{'_0' if year < 2014 else ''}.zip"
        for year in (2012, 2024)
        for quarter in range(1, 5)
    ]
    archives = {name: quarter_archive(name[:6].upper(), rows=300, seed=n) for n, name in enumerate(names)}
    paths = {name: server.add_dataset_archive(name, content) for name, content in archives.items()}
    for name, fault in zip(names[::2], ["503", "truncate", "corrupt", "reset-mid"], strict=True):
        server.inject(paths[name], [fault])
    server.add_dataset_page(page(*paths.values()))
    with make_client(server, backoff_initial_s=0.0, backoff_jitter_s=0.0) as client:
        refs = list_dataset_archives(client)
        assert refs is not None
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda ref: fetch_dataset_archive(client, ref, tmp_path), refs))
    assert [r.path.read_bytes() if r else None for r in results] == [archives[ref.name] for ref in refs]
    assert server.count() == 1 + len(names) + 4
    assert server.max_requests_in_any_sliding_second() <= 10
    assert server.block_pages_served == 0
