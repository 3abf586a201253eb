"""Index files and the submissions API -> FilingRefs: own fixtures, the real corpus, the fetchers."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import httpx
import pytest
from fake_clock import FakeClock

from edgar_ingest.discover import (
    IndexListing,
    daily_index_path,
    list_cik,
    list_day,
    list_quarter,
    parse_company_index,
    parse_form_index,
    parse_index,
    parse_master_index,
    parse_submissions_json,
    quarterly_index_path,
    read_company_index,
    read_day,
    read_form_index,
    read_master_index,
    read_quarter,
)
from edgar_ingest.errors import FetchError, MalformedDocumentError
from edgar_ingest.http import EdgarClient
from edgar_ingest.records import FilingRef
from edgar_ingest.settings import Settings

MASTER_HEADER = (
    "Description:           Daily Index of EDGAR Dissemination Feed\n"
    "Last Data Received:    Jan  3, 2024\n"
    "Comments:              webmaster@sec.gov\n"
    "Anonymous FTP:         ftp://ftp.sec.gov/edgar/\n"
    " \n"
    "CIK|Company Name|Form Type|Date Filed|File Name\n"
    "--------------------------------------------------------------------------------\n"
)
MASTER_DAILY = MASTER_HEADER + (
    "1000045|NICHOLAS FINANCIAL INC|DEF 14A|20240103|edgar/data/1000045/0001000045-24-000001.txt\n"
    "1000046|DEFENSE CO|DEFA14A|20240103|edgar/data/1000046/0001000046-24-000001.txt\n"
    "1000047|DRS CO|DRS/A|20240103|edgar/data/1000047/0001000047-24-000001.txt\n"
    "1000048|D D CO|D-X|20240103|edgar/data/1000048/0001000048-24-000001.txt\n"
    "1800001|ALPHA FUND I, LP|D|20240103|edgar/data/1800001/0001800001-24-000001.txt\n"
    "1800002|ALPHA FUND I PARALLEL, LP|D|20240103|edgar/data/1800002/0001800001-24-000001.txt\n"
    "1800003|ALPHA FUND I OFFSHORE|D|20240103|edgar/data/1800003/0001800001-24-000001.txt\n"
    "1800004|BETA | GAMMA LLC|D/A|20240103|edgar/data/1800004/0001800004-24-000002.txt\n"
    "1800005|FORM 4 FILER|4|20240103|edgar/data/1800005/0001800005-24-000001.txt\n"
)
MASTER_QUARTERLY = MASTER_HEADER.replace("Daily", "Full") + (
    "1800001|ALPHA FUND I, LP|D|2024-01-03|edgar/data/1800001/0001800001-24-000001.txt\n"
    "1800006|OMEGA LLC|D/A|2024-02-29|edgar/data/1800006/0001800006-24-000003.txt\n"
)
FORM_HEADER = (
    "Description:           Daily Index of EDGAR Dissemination Feed by Form Type\n"
    "Last Data Received:    Jan  3, 2024\n\n\n"
    "Form Type   Company Name                                                  CIK         Date Filed  File Name\n"  # noqa: E501
    + "-" * 141
    + "\n"
)
FORM_WIDE = FORM_HEADER + (
    # Labels are narrower than the columns: a form type that overflows its column, a long name.
    "D           ALPHA FUND I, LP                                              1800001     20240103    edgar/data/1800001/0001800001-24-000001.txt\n"  # noqa: E501
    "D           ALPHA FUND I PARALLEL, LP                                     1800002     20240103    edgar/data/1800002/0001800001-24-000001.txt\n"  # noqa: E501
    "D/A         A VERY LONG NAME OF A FUND THAT FILLS THE WHOLE COLUMN AND MORE 1800007  20240103    edgar/data/1800007/0001800007-24-000001.txt\n"  # noqa: E501
    "DEF 14A     NICHOLAS FINANCIAL INC                                        1000045     20240103    edgar/data/1000045/0001000045-24-000001.txt\n"  # noqa: E501
    "SCHEDULE 13G/A  D HOLDINGS                                                1000049     20240103    edgar/data/1000049/0001000049-24-000001.txt\n"  # noqa: E501
    "D 1800008 20240103 edgar/data/1800008/0001800008-24-000001.txt\n"
)
COMPANY_WIDE = (
    "Description:           Daily Index of EDGAR Dissemination Feed by Company Name\n\n"
    "Company Name                                                  Form Type   CIK\n"
    "      Date Filed  File Name\n" + "-" * 145 + "\n"
    "ALPHA FUND I, LP                                              D           1800001     20240103    edgar/data/1800001/0001800001-24-000001.txt\n"  # noqa: E501
    "D HOLDINGS                                                    SC 13G      1000049     20240103    edgar/data/1000049/0001000049-24-000001.txt\n"  # noqa: E501
    "FUND D                                                        4           1000050     20240103    edgar/data/1000050/0001000050-24-000001.txt\n"  # noqa: E501
    "NICHOLAS FINANCIAL INC                                        DEF 14A     1000045     20240103    edgar/data/1000045/0001000045-24-000001.txt\n"  # noqa: E501
    "A VERY LONG NAME OF A FUND THAT FILLS THE WHOLE COLUMN AND MORE D/A 1800007 20240103 edgar/data/1800007/0001800007-24-000001.txt\n"  # noqa: E501
)


# --------------------------------------------------------------------------- paths


def test_daily_index_path_names_the_quarter_and_the_day() -> None:
    assert daily_index_path(date(2020, 1, 3)) == "/Archives/edgar/daily-index/2020/QTR1/master.20200103.idx"
    assert daily_index_path(date(2018, 12, 31)) == "/Archives/edgar/daily-index/2018/QTR4/master.20181231.idx"
    assert daily_index_path(date(2024, 4, 1)) == "/Archives/edgar/daily-index/2024/QTR2/master.20240401.idx"


def test_quarterly_index_path() -> None:
    assert quarterly_index_path(2021, 3) == "/Archives/edgar/full-index/2021/QTR3/master.idx"
    with pytest.raises(ValueError, match="quarter"):
        quarterly_index_path(2021, 5)


# --------------------------------------------------------------------------- own fixtures


def test_master_index_keeps_exact_d_and_d_a_and_dedupes_co_issuers() -> None:
    refs = parse_master_index(MASTER_DAILY.encode())
    assert refs == [
        FilingRef(
            accession_number="0001800001-24-000001",
            cik="0001800001",  # the first co-issuer row wins
            form_type="D",
            filing_date=date(2024, 1, 3),
            company_name="ALPHA FUND I, LP",
            path="/Archives/edgar/data/1800001/0001800001-24-000001.txt",
        ),
        FilingRef(
            accession_number="0001800004-24-000002",
            cik="0001800004",
            form_type="D/A",
            filing_date=date(2024, 1, 3),
            company_name="BETA | GAMMA LLC",  # a '|' inside the name does not shift the fields
            path="/Archives/edgar/data/1800004/0001800004-24-000002.txt",
        ),
    ]


def test_master_index_reads_quarterly_dates_and_str_input() -> None:
    refs = parse_master_index(MASTER_QUARTERLY)
    assert [(r.accession_number, r.filing_date) for r in refs] == [
        ("0001800001-24-000001", date(2024, 1, 3)),
        ("0001800006-24-000003", date(2024, 2, 29)),
    ]


def test_header_only_index_has_no_filings() -> None:
    assert parse_master_index(MASTER_HEADER.encode()) == []
    assert parse_form_index(FORM_HEADER.encode()) == []


def test_a_file_without_the_dashed_header_line_is_refused() -> None:
    with pytest.raises(MalformedDocumentError, match="dashed line"):
        parse_master_index(b"<html>Service Unavailable</html>")


def test_form_index_with_columns_wider_than_their_labels() -> None:
    refs = parse_form_index(FORM_WIDE.encode())
    assert [(r.accession_number, r.cik, r.form_type, r.company_name) for r in refs] == [
        ("0001800001-24-000001", "0001800001", "D", "ALPHA FUND I, LP"),
        (
            "0001800007-24-000001",
            "0001800007",
            "D/A",
            "A VERY LONG NAME OF A FUND THAT FILLS THE WHOLE COLUMN AND MORE",
        ),
        ("0001800008-24-000001", "0001800008", "D", None),
    ]


def test_company_index_with_a_name_that_overflows_its_column() -> None:
    refs = parse_company_index(COMPANY_WIDE.encode())
    assert [(r.accession_number, r.form_type, r.company_name) for r in refs] == [
        ("0001800001-24-000001", "D", "ALPHA FUND I, LP"),
        ("0001800007-24-000001", "D/A", "A VERY LONG NAME OF A FUND THAT FILLS THE WHOLE COLUMN AND MORE"),
    ]


def test_parse_index_dispatches_by_name_and_unzips() -> None:
    expected = parse_master_index(MASTER_DAILY)
    assert parse_index(MASTER_DAILY.encode(), "master.20240103.idx") == expected
    assert parse_index(gzip.compress(MASTER_DAILY.encode()), "/x/master.idx.gz") == expected
    # Already decoded by the HTTP layer (served with Content-Encoding: gzip): taken as is.
    assert parse_index(MASTER_DAILY.encode(), "master.idx.gz") == expected
    assert parse_index(FORM_WIDE.encode(), "form.20240103.idx") == parse_form_index(FORM_WIDE)
    assert parse_index(COMPANY_WIDE.encode(), "company.idx") == parse_company_index(COMPANY_WIDE)
    with pytest.raises(ValueError, match="crawler"):
        parse_index(b"", "crawler.idx")


# --------------------------------------------------------------------------- bad rows
# The header of MASTER_HEADER ends on line 7: the first row is line 8.
MASTER_WITH_BAD_ROWS = MASTER_HEADER + (
    "1800001|GOOD FUND I, LP|D|20240103|edgar/data/1800001/0001800001-24-000001.txt\n"  # 8
    "1800002|MISSING FILE NAME LP|D|20240103\n"  # 9: a missing field
    "1800003|BAD DATE LP|D|20241399|edgar/data/1800003/0001800003-24-000001.txt\n"  # 10
    "18OOOO4|LETTER O CIK LP|D/A|20240103|edgar/data/1800004/0001800004-24-000001.txt\n"  # 11
    "12345678901|ELEVEN DIGITS LP|D|20240103|edgar/data/1800005/0001800005-24-000001.txt\n"  # 12
    "1800006|TRAILING JUNK LP|D|20240103|edgar/data/1800006/0001800006-24-000001.txt|x7\n"  # 13
    "1800007|GLUED JUNK LP|D|20240103|edgar/data/1800007/0001800007-24-000001.txt x7\n"  # 14
    "garbage\n"  # 15: what filing this was cannot be told
    "1000045|NOT A FORM D INC|10-K|2024-99-99|edgar/data/1000045/0001000045-24-000001.txt|junk\n"  # 16
    "1800008|GOOD FUND II, LP|D/A|20240103|edgar/data/1800008/0001800008-24-000001.txt\n"  # 17
)


FULL_SUBMISSION = "edgar/data/CIK/ACCESSION.txt"


def test_a_bad_master_index_row_is_a_problem_with_its_line_and_the_other_rows_are_read() -> None:
    listing = read_master_index(MASTER_WITH_BAD_ROWS.encode(), "https://www.sec.gov/x/master.20240103.idx")

    assert [r.accession_number for r in listing.refs] == ["0001800001-24-000001", "0001800008-24-000001"]
    assert [(p.line, p.reason) for p in listing.problems] == [
        (9, "the row has 4 fields, not 5"),
        (10, "the date '20241399' is not a date (YYYYMMDD or YYYY-MM-DD)"),
        (11, "the CIK '18OOOO4' is not a number"),
        (12, "the CIK '12345678901' has 11 digits, more than 10"),
        (13, "the row has 'x7' after its file name"),
        (14, "the file name 'edgar/data/1800007/0001800007-24-000001.txt x7' is not " + FULL_SUBMISSION),
        (15, "the row has 1 field, not 5"),
    ]
    problem = listing.problems[3]
    assert problem.source == "https://www.sec.gov/x/master.20240103.idx#L12"
    assert problem.describe() == (
        "master.20240103.idx line 12: the CIK '12345678901' has 11 digits, more than 10; the row is "
        "skipped: '12345678901|ELEVEN DIGITS LP|D|20240103|edgar/data/1800005/0001800005-24-000001.txt'"
    )


def test_a_row_of_another_form_type_is_ignored_whatever_is_wrong_with_it() -> None:
    content = MASTER_HEADER + (
        "1000045|NOT A FORM D INC|10-K|2024-99-99|edgar/data/1000045/0001000045-24-000001.txt\n"
        "ABC|ANOTHER|DEF 14A|20240103|nowhere\n"
        "1000046|JUNK AFTER|4|20240103|edgar/data/1000046/0001000046-24-000001.txt|junk\n"
    )
    assert read_master_index(content) == IndexListing(refs=[], problems=[])


def test_a_quarterly_row_with_an_impossible_date_is_a_problem() -> None:
    content = (
        MASTER_QUARTERLY + "1800009|FEB 30 LP|D|2024-02-30|edgar/data/1800009/0001800009-24-000001.txt\n"
    )
    listing = read_master_index(content)
    assert len(listing.refs) == 2
    assert [(p.line, p.reason) for p in listing.problems] == [
        (10, "the date '2024-02-30' is not a date (YYYYMMDD or YYYY-MM-DD)")
    ]


def test_the_strict_parsers_refuse_the_first_bad_row_naming_its_line() -> None:
    with pytest.raises(MalformedDocumentError, match=r"master.idx line 9: the row has 4 fields"):
        parse_master_index(MASTER_WITH_BAD_ROWS)
    with pytest.raises(MalformedDocumentError, match=r"line 9: the row has 4 fields"):
        parse_index(MASTER_WITH_BAD_ROWS.encode(), "master.20240103.idx")


def test_bad_rows_of_the_fixed_width_indexes_are_problems_too() -> None:
    rows = (
        "D           GOOD FUND I, LP                                               1800001     20240103    edgar/data/1800001/0001800001-24-000001.txt\n"  # noqa: E501
        "D           ELEVEN DIGITS LP                                              12345678901 20240103    edgar/data/1800005/0001800005-24-000001.txt\n"  # noqa: E501
        "D/A         BAD DATE LP                                                   1800003     2024013     edgar/data/1800003/0001800003-24-000001.txt\n"  # noqa: E501
        "D           TRAILING JUNK LP                                              1800006     20240103    edgar/data/1800006/0001800006-24-000001.txt  x7\n"  # noqa: E501
        "D           NO FILE NAME LP                                               1800010     20240103\n"
        "10-K        JUNK AFTER A 10-K INC                                         1000045     20240103    edgar/data/1000045/0001000045-24-000001.txt  x\n"  # noqa: E501
    )
    listing = read_form_index(FORM_HEADER + rows, "form.20240103.idx")

    assert [r.accession_number for r in listing.refs] == ["0001800001-24-000001"]
    header_lines = FORM_HEADER.count("\n")
    assert [(p.line - header_lines, p.reason) for p in listing.problems] == [
        (2, "the CIK '12345678901' has 11 digits, more than 10"),
        (3, "the date '2024013' is not a date (YYYYMMDD or YYYY-MM-DD)"),
        (4, "the row has 'x7' after its file name"),
        (5, "the row is not FORM/NAME, CIK, DATE and FILE NAME"),
    ]
    company = COMPANY_WIDE + (
        "ELEVEN DIGITS LP                                              D           12345678901 20240103    edgar/data/1800005/0001800005-24-000001.txt\n"  # noqa: E501
    )
    listing = read_company_index(company)
    assert len(listing.refs) == 2
    assert [p.reason for p in listing.problems] == ["the CIK '12345678901' has 11 digits, more than 10"]


# --------------------------------------------------------------------------- the real corpus
# Expected counts were computed independently with grep on the files (rows whose form type field is
# exactly D or D/A, then distinct accessions), e.g. for a master file
#   grep -c '|D|' FILE; grep -c '|D/A|' FILE; and `cut -d'|' -f5 | sort -u | wc -l` over both,
# and for the fixed-width files grep -cE '^D  ' / '^D/A ' (form) or '  D +[0-9]+ +[0-9]{8} ' and
# '  D/A +[0-9]+ +[0-9]{8} ' (company), de-duplicated the same way. Co-issuer duplicates found:
# master.20130104 Fifth Cinven Fund 5 rows (D/A 67 -> 63); company.20200102 Yukon Capital 4 rows
# (D 165 -> 162); company.20221003 two Bitterblue pairs (D 123 -> 121).
CORPUS_COUNTS = {
    # file: (D, D/A) after de-duplication
    "master.20130104.idx": (139, 63),
    "master.20181231.idx": (127, 52),
    "master.20200103.idx": (157, 90),
    "form.20200318.idx": (87, 89),  # the corpus README: 176 D and D/A rows
    "company.20200102.idx": (162, 51),
    "company.20221003.idx": (121, 58),
    "form.2021QTR1_excerpt_badform.idx.txt": (0, 0),
    "form_header_only_20250329.idx": (0, 0),
}


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "counts"), sorted(CORPUS_COUNTS.items()))
def test_real_index_files(corpus_dir: Path, name: str, counts: tuple[int, int]) -> None:
    refs = parse_index((corpus_dir / "index" / name).read_bytes(), name)
    assert (sum(r.form_type == "D" for r in refs), sum(r.form_type == "D/A" for r in refs)) == counts
    assert len({r.accession_number for r in refs}) == len(refs)
    for ref in refs:
        assert ref.path == f"/Archives/edgar/data/{int(ref.cik)}/{ref.accession_number}.txt"
        assert len(ref.cik) == 10


@pytest.mark.corpus
def test_real_master_index_rows_in_detail(corpus_dir: Path) -> None:
    refs = parse_index((corpus_dir / "index" / "master.20130104.idx").read_bytes(), "master.20130104.idx")
    cinven = [r for r in refs if r.accession_number == "0001538517-13-000001"]
    assert cinven == [
        FilingRef(
            accession_number="0001538517-13-000001",
            cik="0001538517",
            form_type="D/A",
            filing_date=date(2013, 1, 4),
            company_name="Fifth Cinven Fund (No. 1) Limited Partnership",
            path="/Archives/edgar/data/1538517/0001538517-13-000001.txt",
        )
    ]
    form = parse_index((corpus_dir / "index" / "form.20200318.idx").read_bytes(), "form.20200318.idx")
    assert form[0] == FilingRef(
        accession_number="0001806494-20-000001",
        cik="0001806494",
        form_type="D",
        filing_date=date(2020, 3, 18),
        company_name="100 Acre Cred Opportunities Fund Ltd",
        path="/Archives/edgar/data/1806494/0001806494-20-000001.txt",
    )


@pytest.mark.corpus
def test_real_submissions_json(corpus_dir: Path) -> None:
    content = (corpus_dir / "other" / "submissions_CIK0001766140.json").read_bytes()
    refs, pages = parse_submissions_json(content, "1766140")
    assert pages == []
    # The file lists 5 D among 297 filings, next to DEF 14A, DEFA14A, DRS, DRS/A and DRSLTR.
    assert [(r.accession_number, r.filing_date) for r in refs] == [
        ("0001213900-24-024422", date(2024, 3, 20)),
        ("0001213900-23-019602", date(2023, 3, 13)),
        ("0001213900-20-014033", date(2020, 6, 3)),
        ("0001213900-19-016191", date(2019, 8, 16)),
        ("0001213900-19-003518", date(2019, 3, 4)),
    ]
    assert refs[0] == FilingRef(
        accession_number="0001213900-24-024422",
        cik="0001766140",
        form_type="D",
        filing_date=date(2024, 3, 20),
        company_name="Unicycive Therapeutics, Inc.",
        path="/Archives/edgar/data/1766140/0001213900-24-024422.txt",
        primary_document="primary_doc.xml",
    )
    refs, pages = parse_submissions_json(
        (corpus_dir / "other" / "submissions_CIK0001800903.json").read_bytes(), 1800903
    )
    assert [(r.accession_number, r.form_type, r.company_name) for r in refs] == [
        ("0001800903-20-000001", "D", "&VEST Domestic Fund II LP")
    ]


# --------------------------------------------------------------------------- submissions API


def _arrays(rows: list[tuple[str, str, str, str]]) -> dict[str, list[str]]:
    return {
        "accessionNumber": [r[0] for r in rows],
        "form": [r[1] for r in rows],
        "filingDate": [r[2] for r in rows],
        "primaryDocument": [r[3] for r in rows],
        "acceptanceDateTime": ["2024-01-03T16:00:00.000Z"] * len(rows),
        "fileNumber": ["021-1"] * len(rows),
    }


MAIN_DOC = {
    "cik": "0001800001",
    "name": "ALPHA FUND I, LP",
    "filings": {
        "recent": _arrays(
            [
                ("0001800001-24-000002", "D/A", "2024-02-01", "xslFormDX01/primary_doc.xml"),
                ("0001800001-24-000001", "D", "2024-01-03", "xslFormDX01/primary_doc.xml"),
                ("0001800001-23-000009", "DEF 14A", "2023-05-01", "def14a.htm"),
            ]
        ),
        "files": [{"name": "CIK0001800001-submissions-001.json", "filingCount": 2}],
    },
}
OLD_PAGE = _arrays(
    [
        ("0001800001-15-000001", "D", "2015-06-30", "primary_doc.xml"),
        ("0001800001-15-000000", "REGDEX", "2015-01-30", ""),
    ]
)


def test_submissions_json_recent_arrays_and_older_pages() -> None:
    refs, pages = parse_submissions_json(json.dumps(MAIN_DOC).encode(), "CIK0001800001")
    assert pages == ["CIK0001800001-submissions-001.json"]
    assert [(r.accession_number, r.form_type, r.primary_document, r.path) for r in refs] == [
        (
            "0001800001-24-000002",
            "D/A",
            "primary_doc.xml",
            "/Archives/edgar/data/1800001/0001800001-24-000002.txt",
        ),
        (
            "0001800001-24-000001",
            "D",
            "primary_doc.xml",
            "/Archives/edgar/data/1800001/0001800001-24-000001.txt",
        ),
    ]
    refs, pages = parse_submissions_json(json.dumps(OLD_PAGE).encode(), 1800001)
    assert pages == []
    assert [(r.accession_number, r.company_name, r.cik) for r in refs] == [
        ("0001800001-15-000001", None, "0001800001")
    ]


def test_submissions_json_that_is_not_one_is_refused() -> None:
    with pytest.raises(MalformedDocumentError):
        parse_submissions_json(b"<html>", 1)
    broken = {"filings": {"recent": {"accessionNumber": ["a"], "form": [], "filingDate": []}}}
    with pytest.raises(MalformedDocumentError, match="lengths"):
        parse_submissions_json(json.dumps(broken).encode(), 1)


# --------------------------------------------------------------------------- fetchers


def _client(files: dict[str, bytes], seen: list[str]) -> EdgarClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        body = files.get(request.url.path)
        if body is None:
            return httpx.Response(403, content=b"<Error><Code>AccessDenied</Code></Error>")
        return httpx.Response(200, content=body)

    clock = FakeClock()
    settings = Settings(
        user_agent="Acme data@acme.example", base_url="https://www.sec.test", data_url="https://data.sec.test"
    )
    return EdgarClient(settings, transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep)


def test_list_day_reads_the_daily_master_index_or_none_when_absent() -> None:
    seen: list[str] = []
    client = _client({daily_index_path(date(2024, 1, 3)): MASTER_DAILY.encode()}, seen)
    refs = list_day(client, date(2024, 1, 3))
    assert refs is not None
    assert [r.accession_number for r in refs] == ["0001800001-24-000001", "0001800004-24-000002"]
    assert list_day(client, date(2024, 1, 6)) is None  # a Saturday: 403 AccessDenied
    assert seen == [
        "https://www.sec.test/Archives/edgar/daily-index/2024/QTR1/master.20240103.idx",
        "https://www.sec.test/Archives/edgar/daily-index/2024/QTR1/master.20240106.idx",
    ]


def test_list_quarter_prefers_the_gz_and_falls_back_to_the_plain_file() -> None:
    seen: list[str] = []
    gz = quarterly_index_path(2024, 1) + ".gz"
    plain = quarterly_index_path(2023, 4)
    client = _client({gz: gzip.compress(MASTER_QUARTERLY.encode()), plain: MASTER_QUARTERLY.encode()}, seen)
    refs = list_quarter(client, 2024, 1)
    assert refs is not None
    assert len(refs) == 2
    assert seen == ["https://www.sec.test" + gz]
    assert list_quarter(client, 2023, 4) == refs
    assert list_quarter(client, 2030, 1) is None


@pytest.mark.parametrize(
    "gz",
    [b"\x1f\x8b\x08\x00not gzip at all", gzip.compress(MASTER_QUARTERLY.encode())[:-20]],
    ids=["corrupt", "truncated"],
)
def test_a_corrupt_quarterly_gz_falls_back_to_the_plain_master_idx(gz: bytes) -> None:
    seen: list[str] = []
    path = quarterly_index_path(2024, 1)
    client = _client({path + ".gz": gz, path: MASTER_QUARTERLY.encode()}, seen)

    listing = read_quarter(client, 2024, 1)

    assert listing is not None
    assert [r.accession_number for r in listing.refs] == ["0001800001-24-000001", "0001800006-24-000003"]
    assert listing.fallback is not None
    assert "corrupt gzip data" in listing.fallback
    assert seen == ["https://www.sec.test" + path + ".gz", "https://www.sec.test" + path]


def test_a_corrupt_quarterly_gz_without_a_plain_file_is_an_unreadable_index() -> None:
    path = quarterly_index_path(2024, 1)
    client = _client({path + ".gz": b"\x1f\x8b\x08\x00not gzip at all"}, [])

    with pytest.raises(MalformedDocumentError, match=r"corrupt gzip data.*master.idx is absent"):
        read_quarter(client, 2024, 1)


def test_read_day_names_the_index_url_in_its_problems() -> None:
    path = daily_index_path(date(2024, 1, 3))
    client = _client({path: MASTER_WITH_BAD_ROWS.encode()}, [])

    listing = read_day(client, date(2024, 1, 3))

    assert listing is not None
    assert len(listing.refs) == 2
    assert {p.file for p in listing.problems} == {"https://www.sec.test" + path}
    with pytest.raises(MalformedDocumentError, match="line 9"):
        list_day(client, date(2024, 1, 3))


def test_list_cik_reads_every_page_of_the_submissions_api() -> None:
    seen: list[str] = []
    client = _client(
        {
            "/submissions/CIK0001800001.json": json.dumps(MAIN_DOC).encode(),
            "/submissions/CIK0001800001-submissions-001.json": json.dumps(OLD_PAGE).encode(),
        },
        seen,
    )
    refs = list_cik(client, 1800001)
    assert [(r.accession_number, r.company_name) for r in refs] == [
        ("0001800001-24-000002", "ALPHA FUND I, LP"),
        ("0001800001-24-000001", "ALPHA FUND I, LP"),
        ("0001800001-15-000001", "ALPHA FUND I, LP"),
    ]
    assert seen == [
        "https://data.sec.test/submissions/CIK0001800001.json",
        "https://data.sec.test/submissions/CIK0001800001-submissions-001.json",
    ]
    assert list_cik(client, "0000000042") == []


def test_list_cik_refuses_a_listed_page_that_is_missing() -> None:
    client = _client({"/submissions/CIK0001800001.json": json.dumps(MAIN_DOC).encode()}, [])
    with pytest.raises(FetchError, match="submissions-001"):
        list_cik(client, 1800001)
