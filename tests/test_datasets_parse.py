"""The data-set reader: a quarter's archive of six tables -> the records the XML parser makes.

The key test reads tables typed by hand from the XML of eight fixture filings
(tests/fixtures/datasets/2024Q1_d/, written as the SEC publishes them: DD-MON-YYYY filing dates,
unpadded CIKs, YES/NO primary flags, "06b, 3C" exemption lists, "None" placeholders, rows out of
order) and compares every record with ``parse_document`` of the filing, field by field. The other
tests start from archives that ``tests/dataset_builder.py`` writes, changed one cell at a time.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from edgar_ingest import dataset_spool, datasets
from edgar_ingest.datasets import (
    DatasetArchiveError,
    DatasetItem,
    DatasetNotice,
    DatasetRowFailure,
    count_dataset_filings,
    read_dataset_archive,
)
from edgar_ingest.parse import parse_document
from edgar_ingest.records import SOURCE_DATASET, Filer, FormDFiling, SecHeader
from tests.dataset_builder import (
    OLD_LAYOUT_DROPPED,
    Cells,
    filing_rows,
    write_dataset_archive,
    write_dataset_tables,
)

FIXTURES = Path(__file__).parent / "fixtures"
HAND_TYPED = FIXTURES / "datasets" / "2024Q1_d"

# The hand-typed tables' filings: accession -> (the filing's own document, the header facts the
# tables give: file number, filing date). The amendment chain's full submissions carry their own.
HAND_TYPED_FILINGS: dict[str, tuple[Path, str | None, date | None]] = {
    "0009990001-24-000101": (FIXTURES / "formd/form_d_complete.xml", "021-700001", date(2024, 2, 5)),
    "0009990001-24-000102": (FIXTURES / "formd/co_issuers.xml", "021-700002", date(2024, 2, 6)),
    "0009990001-24-000103": (
        FIXTURES / "formd/quirk_placeholder_recipient.xml",
        "021-700003",
        date(2024, 2, 7),
    ),
    "0009990001-24-000104": (FIXTURES / "formd/quirk_unticked_checkboxes_absent.xml", None, date(2024, 2, 8)),
    "0009990001-24-000105": (
        FIXTURES / "formd/indefinite_amounts.xml",
        "021-700005",
        date(2024, 2, 9),
    ),
    "0001999001-24-000001": (FIXTURES / "amendment_chain/0001999001-24-000001.txt", None, None),
    "0001999001-24-000003": (FIXTURES / "amendment_chain/0001999001-24-000003.txt", None, None),
    "0001999001-25-000002": (FIXTURES / "amendment_chain/0001999001-25-000002.txt", None, None),
}


# ----------------------------------------------------------------------------- helpers


def zip_folder(folder: Path, archive: Path, *, inside: str = "2024Q1_d") -> Path:
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member in sorted(folder.iterdir()):
            zf.write(member, f"{inside}/{member.name}" if inside else member.name)
    return archive


def write_members(archive: Path, members: dict[str, str | bytes]) -> Path:
    """An archive of the given members (name -> text, or bytes written as they are)."""
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content.encode("utf-8") if isinstance(content, str) else content)
    return archive


def hand_typed_tables() -> dict[str, str]:
    return {member.name: member.read_text(encoding="utf-8") for member in sorted(HAND_TYPED.iterdir())}


def first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """The path of the first field where two records differ ("document.offering.is_debt")."""
    if dataclasses.is_dataclass(expected) and type(expected) is type(actual):
        for field in dataclasses.fields(expected):
            found = first_difference(
                getattr(expected, field.name), getattr(actual, field.name), f"{path}.{field.name}"
            )
            if found:
                return found
        return None
    if isinstance(expected, tuple) and isinstance(actual, tuple) and len(expected) == len(actual):
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    if expected != actual or type(expected) is not type(actual):
        return f"{path.lstrip('.')}: expected {expected!r}, read {actual!r}"
    return None


def read_all(archive: Path, **kwargs: Any) -> list[DatasetItem]:
    return list(read_dataset_archive(archive, **kwargs))


def filings_of(items: Iterable[DatasetItem]) -> dict[str, FormDFiling]:
    return {
        item.accession_number: item
        for item in items
        if isinstance(item, FormDFiling) and item.accession_number
    }


def failures_of(items: Iterable[DatasetItem]) -> list[DatasetRowFailure]:
    return [item for item in items if isinstance(item, DatasetRowFailure)]


def notices_of(items: Iterable[DatasetItem]) -> list[DatasetNotice]:
    return [item for item in items if isinstance(item, DatasetNotice)]


def as_dataset_record(
    filing: FormDFiling, accession: str, filed: date, file_number: str | None
) -> FormDFiling:
    """What the data set gives for ``filing``: its document, and the header the data set knows."""
    primary = filing.document.primary_issuer
    assert primary.cik is not None
    header = SecHeader(
        accession_number=accession,
        submission_type=filing.document.submission_type,
        filed_as_of_date=filed,
        accepted_at=None,
        filers=(Filer(cik=primary.cik, name=primary.entity_name, file_number=file_number),),
    )
    return dataclasses.replace(filing, header=header, source=SOURCE_DATASET)


def sample_filings(count: int, *, first_day: date = date(2024, 1, 2)) -> list[FormDFiling]:
    """``count`` distinct filings made from the complete fixture, a day apart."""
    template = parse_document((FIXTURES / "formd/form_d_complete.xml").read_bytes())
    filings = []
    for number in range(count):
        filed = date.fromordinal(first_day.toordinal() + number)
        filings.append(
            as_dataset_record(template, f"0009990001-24-{number + 1:06d}", filed, f"021-{number + 1}")
        )
    return filings


def rows_of(filings: Iterable[FormDFiling]) -> list[dict[str, list[Cells]]]:
    return [filing_rows(filing) for filing in filings]


# ----------------------------------------------------------------------------- the key test


@pytest.fixture(scope="module")
def hand_typed_items(tmp_path_factory: pytest.TempPathFactory) -> list[DatasetItem]:
    archive = zip_folder(HAND_TYPED, tmp_path_factory.mktemp("hand") / "2024q1_d.zip")
    return read_all(archive)


@pytest.mark.parametrize("accession", list(HAND_TYPED_FILINGS))
def test_hand_typed_tables_give_the_record_of_the_filings_own_xml(
    hand_typed_items: list[DatasetItem], accession: str
) -> None:
    source, file_number, filed = HAND_TYPED_FILINGS[accession]
    from_xml = parse_document(source.read_bytes())
    read = filings_of(hand_typed_items)[accession]

    assert first_difference(from_xml.document, read.document) is None
    assert read.document == from_xml.document
    assert read.source == SOURCE_DATASET
    assert read.header is not None
    assert read.header.accepted_at is None  # the data sets carry no acceptance time
    assert read.header.filers == (
        Filer(
            cik=from_xml.document.primary_issuer.cik or "",
            name=from_xml.document.primary_issuer.entity_name,
            file_number=read.file_number,
        ),
    )
    if from_xml.header is not None:  # a full submission: the SEC header's facts agree
        assert read.header.accession_number == from_xml.header.accession_number
        assert read.header.submission_type == from_xml.header.submission_type
        assert read.header.filed_as_of_date == from_xml.header.filed_as_of_date
        assert read.file_number == from_xml.file_number
    else:
        assert (read.accession_number, read.file_number, read.header.filed_as_of_date) == (
            accession,
            file_number,
            filed,
        )
        assert read.header.submission_type == from_xml.document.submission_type


def test_hand_typed_archive_holds_those_filings_and_nothing_else(
    hand_typed_items: list[DatasetItem], tmp_path: Path
) -> None:
    assert sorted(filings_of(hand_typed_items)) == sorted(HAND_TYPED_FILINGS)
    assert [item for item in hand_typed_items if not isinstance(item, FormDFiling)] == []
    assert count_dataset_filings(zip_folder(HAND_TYPED, tmp_path / "2024q1_d.zip")) == len(HAND_TYPED_FILINGS)


def test_first_difference_names_the_field_that_differs() -> None:
    filing = parse_document((FIXTURES / "formd/form_d_complete.xml").read_bytes())
    changed = dataclasses.replace(
        filing.document,
        offering=dataclasses.replace(filing.document.offering, is_debt=False),
    )
    assert first_difference(filing.document, changed) == "offering.is_debt: expected True, read False"
    assert first_difference(filing.document, filing.document) is None


# ----------------------------------------------------------------------------- layouts


def test_round_trip_through_the_builder_for_every_fixture(tmp_path: Path) -> None:
    sources = sorted((FIXTURES / "formd").glob("*.xml")) + sorted(
        (FIXTURES / "amendment_chain").glob("*.txt")
    )
    expected: dict[str, FormDFiling] = {}
    for number, source in enumerate(sources, start=1):
        filing = parse_document(source.read_bytes())
        accession = filing.accession_number or f"0009990001-24-{number:06d}"
        filed = filing.header.filed_as_of_date if filing.header else date(2024, 1, number)
        expected[accession] = as_dataset_record(filing, accession, filed, filing.file_number or "021-99")
    items = read_all(write_dataset_archive(tmp_path / "2024q1_d.zip", expected.values()))

    assert failures_of(items) == []
    read = filings_of(items)
    assert len(read) == len(expected)
    for accession, filing in read.items():
        assert first_difference(expected[accession], filing) is None
        assert filing == expected[accession]
    assert notices_of(items) == []


def test_an_older_layout_reads_its_absent_columns_as_none_or_false(tmp_path: Path) -> None:
    [filing] = sample_filings(1)
    document = dataclasses.replace(
        filing.document,
        has_over_100_issuers=True,  # OVER100ISSUERFLAG is absent from the old layout...
        offering=dataclasses.replace(filing.document.offering, has_over_100_recipients=True),
    )
    archive = write_dataset_archive(
        tmp_path / "2009q2_d_0.zip", [dataclasses.replace(filing, document=document)], layout="old"
    )
    [read] = read_all(archive)

    assert isinstance(read, FormDFiling)
    offering = read.document.offering
    assert read.document.has_over_100_issuers is False  # ...so it reads False
    assert read.document.primary_issuer.entity_type_other_description is None
    assert (offering.is_40_act, offering.has_over_100_recipients, offering.sales_amounts_clarification) == (
        None,
        False,
        None,
    )
    assert offering.sales_compensation_recipients[0].is_foreign_solicitation is False
    assert read.document.related_persons[0].relationship_clarification is None
    # Everything the old layout has is read as in the 2026 layout.
    assert offering.total_offering_amount == Decimal(1500000)
    assert read.document.primary_issuer.issuer_previous_names == (
        "Example Widget Fund, L.P.",
        "Widget Partners I",
    )
    assert set(OLD_LAYOUT_DROPPED["OFFERING"]) == {
        "IS40ACT",
        "OVER100RECIPIENTFLAG",
        "SALESAMTCLARIFICATIONOFRESP",
    }


def test_columns_are_matched_by_name_in_any_order_and_unknown_ones_ignored(tmp_path: Path) -> None:
    tables = hand_typed_tables()
    for name in ("SIGNATURES.tsv", "RELATEDPERSONS.tsv"):
        lines = tables[name].splitlines()
        # Columns reversed, and one the reader does not know added in the middle.
        rows = [line.split("\t")[::-1] for line in lines]
        rows = [
            row[:3] + (["NEWCOLUMN"] if index == 0 else ["whatever"]) + row[3:]
            for index, row in enumerate(rows)
        ]
        tables[name] = "\n".join("\t".join(row) for row in rows) + "\n"
    as_is = read_all(
        write_members(tmp_path / "as_is.zip", {f"2024Q1_d/{k}": v for k, v in hand_typed_tables().items()})
    )
    shuffled = read_all(
        write_members(tmp_path / "shuffled.zip", {f"2024Q1_d/{k}": v for k, v in tables.items()})
    )

    assert filings_of(shuffled) == filings_of(as_is)
    assert len(filings_of(shuffled)) == len(HAND_TYPED_FILINGS)


# ----------------------------------------------------------------------------- text


def test_quoted_fields_hold_quotes_tabs_and_line_ends(tmp_path: Path) -> None:
    first, second = sample_filings(2)
    tricky = dataclasses.replace(
        first.document.related_persons[0],
        last_name='Example "the Elder"',
        relationship_clarification="Managing member\tof the GP\nsince 2020",
    )
    persons = (tricky, *first.document.related_persons[1:])
    first = dataclasses.replace(first, document=dataclasses.replace(first.document, related_persons=persons))
    archive = write_dataset_archive(tmp_path / "2024q1_d.zip", [first, second])
    with zipfile.ZipFile(archive) as zf:
        written = zf.read("2024Q1_d/RELATEDPERSONS.tsv").decode()
    assert '\t"Example ""the Elder"""\t' in written
    assert '\t"Managing member\tof the GP\nsince 2020"\n' in written

    read = filings_of(read_all(archive))
    assert read[first.accession_number or ""] == first
    assert read[second.accession_number or ""] == second


def test_text_is_stripped_and_none_placeholders_are_none_as_in_the_xml(tmp_path: Path) -> None:
    [filing] = sample_filings(1)
    rows = rows_of([filing])
    person = rows[0]["RELATEDPERSONS"][0]
    person.update(FIRSTNAME="  Jane ", MIDDLENAME="None", ZIPCODE="62701\t", RELATIONSHIP_2=" NONE ")
    rows[0]["FORMDSUBMISSION"][0]["FILE_NUM"] = "021-1      "  # CHAR-padded, as the SEC writes it
    [read] = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    assert isinstance(read, FormDFiling)
    jane = read.document.related_persons[0]
    assert (jane.first_name, jane.middle_name, jane.relationships) == (
        "Jane",
        None,
        ("Executive Officer", "Promoter"),
    )
    assert jane.address is not None
    assert jane.address.zip_code == "62701"
    assert read.file_number == "021-1"


def test_line_numbers_count_physical_lines_after_a_record_with_a_line_end(tmp_path: Path) -> None:
    first, second = sample_filings(2)
    rows = rows_of([first, second])
    rows[0]["SIGNATURES"][0]["SIGNATURETITLE"] = "Managing Member\nof the General Partner"
    rows[1]["SIGNATURES"][0]["SIGNATUREDATE"] = "2024-02-30"
    items = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    [failure] = failures_of(items)
    # Header line 1, the first signature on lines 2-3, the second on line 4.
    assert (failure.table, failure.line, failure.accession_number) == (
        "SIGNATURES",
        4,
        second.accession_number,
    )
    assert failure.reason == "SIGNATUREDATE holds '2024-02-30', which is not a date (YYYY-MM-DD)"
    signature = filings_of(items)[first.accession_number or ""].document.signatures[0]
    assert signature.title == "Managing Member\nof the General Partner"


def test_a_byte_that_is_not_utf8_fails_its_filing_and_names_the_column(tmp_path: Path) -> None:
    tables = hand_typed_tables()
    persons = tables.pop("RELATEDPERSONS.tsv").encode("utf-8")
    # A cp1252 "é" (0xE9) in the first amendment's second person, as an old export might hold.
    persons = persons.replace(
        b"Harborview Infrastructure GP II,", b"Harborview Infrastructure GP II \xe9,", 1
    )
    members: dict[str, str | bytes] = {f"2024Q1_d/{name}": text for name, text in tables.items()}
    members["2024Q1_d/RELATEDPERSONS.tsv"] = persons
    items = read_all(write_members(tmp_path / "2024q1_d.zip", members))

    [failure] = failures_of(items)
    assert (failure.table, failure.line, failure.accession_number) == (
        "RELATEDPERSONS",
        13,
        "0001999001-24-000001",
    )
    assert failure.reason.startswith(
        "FIRSTNAME holds bytes that are not UTF-8 (b'Harborview Infrastructure GP II \\xe9,')"
    )
    assert len(filings_of(items)) == len(HAND_TYPED_FILINGS) - 1


def test_a_byte_order_mark_and_crlf_line_ends_are_read_as_plain_utf8(tmp_path: Path) -> None:
    members: dict[str, str | bytes] = {
        f"2024Q1_d/{name}": b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")
        for name, text in hand_typed_tables().items()
    }
    items = read_all(write_members(tmp_path / "2024q1_d.zip", members))

    assert filings_of(items) == filings_of(read_all(zip_folder(HAND_TYPED, tmp_path / "plain.zip")))
    assert failures_of(items) == []
    assert notices_of(items) == []


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("table", "column", "value", "reason"),
    [
        (
            "OFFERING",
            "TOTALAMOUNTSOLD",
            "1,000",
            "TOTALAMOUNTSOLD holds '1,000', which is not a whole number",
        ),
        (
            "OFFERING",
            "TOTALAMOUNTSOLD",
            "1500.5",
            "TOTALAMOUNTSOLD holds '1500.5', which is not a whole number",
        ),
        (
            "OFFERING",
            "MINIMUMINVESTMENTACCEPTED",
            "1000000000000",
            "MINIMUMINVESTMENTACCEPTED holds '1000000000000'",
        ),
        (
            "OFFERING",
            "SALESCOMM_DOLLARAMOUNT",
            "١٢",
            "SALESCOMM_DOLLARAMOUNT holds '١٢', which is not a whole number",
        ),
        (
            "OFFERING",
            "TOTALOFFERINGAMOUNT",
            "lots",
            "TOTALOFFERINGAMOUNT holds 'lots', which is not a whole number",
        ),
        ("OFFERING", "TOTALNUMBERALREADYINVESTED", "12.5", "TOTALNUMBERALREADYINVESTED holds '12.5'"),
        (
            "OFFERING",
            "SALE_DATE",
            "2024-13-01",
            "SALE_DATE holds '2024-13-01', which is not a date (YYYY-MM-DD)",
        ),
        (
            "OFFERING",
            "ISEQUITYTYPE",
            "maybe",
            "ISEQUITYTYPE holds 'maybe', which is not true or false (or YES or NO)",
        ),
        (
            "FORMDSUBMISSION",
            "FILING_DATE",
            "31-FEB-2024",
            "FILING_DATE holds '31-FEB-2024', which is not a date",
        ),
        ("FORMDSUBMISSION", "SUBMISSIONTYPE", "10-K", "SUBMISSIONTYPE holds '10-K', which is not D or D/A"),
        ("FORMDSUBMISSION", "SUBMISSIONTYPE", "", "SUBMISSIONTYPE holds '', which is not D or D/A"),
        (
            "FORMDSUBMISSION",
            "SCHEMAVERSION",
            "X0708-draft",
            "SCHEMAVERSION holds 'X0708-draft', which is not at most 5",
        ),
        ("FORMDSUBMISSION", "TESTORLIVE", "LIVELY", "TESTORLIVE holds 'LIVELY', which is not at most 4"),
        ("ISSUERS", "CIK", "12AB", "CIK holds '12AB', which is not a CIK of 1 to 10 digits"),
        # 11 digits: more than the schema's CIK (and the store's column) holds.
        ("ISSUERS", "CIK", "12345678901", "CIK holds '12345678901', which is not a CIK of 1 to 10 digits"),
        ("ISSUERS", "CIK", "\uff11\uff12", "CIK holds '\uff11\uff12', which is not a CIK"),
        # The texts the store keeps in columns of bounded length: no longer than the schema allows.
        (
            "ISSUERS",
            "ZIPCODE",
            "12345-67890",
            "ZIPCODE holds '12345-67890', which is not at most 10 characters",
        ),
        (
            "RELATEDPERSONS",
            "ZIPCODE",
            "12345-67890",
            "ZIPCODE holds '12345-67890', which is not at most 10 characters",
        ),
        ("ISSUERS", "ISSUERPHONENUMBER", "1" * 21, "ISSUERPHONENUMBER holds '111111111111111111111'"),
        (
            "ISSUERS",
            "YEAROFINC_VALUE_ENTERED",
            "20240",
            "YEAROFINC_VALUE_ENTERED holds '20240', which is not at most 4",
        ),
        (
            "OFFERING",
            "INDUSTRYGROUPTYPE",
            "X" * 37,
            "INDUSTRYGROUPTYPE holds 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'",
        ),
        (
            "OFFERING",
            "FEDERALEXEMPTIONS_ITEMS_LIST",
            "06b, 3C.100",
            "FEDERALEXEMPTIONS_ITEMS_LIST holds '3C.100'",
        ),
        ("OFFERING", "PREVIOUSACCESSIONNUMBER", "0009990001-24-0000011", "PREVIOUSACCESSIONNUMBER holds"),
        ("RECIPIENTS", "RECIPIENTCRDNUMBER", "1234567890", "RECIPIENTCRDNUMBER holds '1234567890'"),
        ("ISSUERS", "YEAROFINC_TIMESPAN_CHOICE", "someday", "YEAROFINC_TIMESPAN_CHOICE holds 'someday'"),
        ("RECIPIENTS", "FOREIGNSOLICITATION", "perhaps", "FOREIGNSOLICITATION holds 'perhaps'"),
        ("RELATEDPERSONS", "RELATEDPERSON_SEQ_KEY", "first", "RELATEDPERSON_SEQ_KEY holds 'first'"),
    ],
)
def test_a_value_the_schema_refuses_fails_only_its_filing(
    tmp_path: Path, table: str, column: str, value: str, reason: str
) -> None:
    filings = sample_filings(3)
    rows = rows_of(filings)
    rows[1][table][0][column] = value
    items = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows), archive_name="2024q1_d.zip")

    [failure] = failures_of(items)
    assert (failure.archive, failure.table, failure.accession_number) == (
        "2024q1_d.zip",
        table,
        "0009990001-24-000002",
    )
    # The second filing's row of that table: after the header and the first filing's rows.
    assert failure.line == 1 + len(rows[0][table]) + 1
    assert failure.reason.startswith(reason)
    assert str(failure) == f"2024q1_d.zip {table} line {failure.line}: {failure.reason}"
    assert sorted(filings_of(items)) == ["0009990001-24-000001", "0009990001-24-000003"]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("TOTALAMOUNTSOLD", "250000.00", Decimal(250000)),
        ("TOTALAMOUNTSOLD", "250000.0", Decimal(250000)),
        ("TOTALAMOUNTSOLD", "999999999999", Decimal(999999999999)),
        ("TOTALOFFERINGAMOUNT", "indefinite", None),
        ("TOTALAMOUNTSOLD", " 250000 ", Decimal(250000)),
    ],
)
def test_whole_numbers_written_long_are_read_exactly(
    tmp_path: Path, column: str, value: str, expected: Any
) -> None:
    rows = rows_of(sample_filings(1))
    rows[0]["OFFERING"][0][column] = value
    [read] = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    assert isinstance(read, FormDFiling)
    offering = read.document.offering
    if column == "TOTALOFFERINGAMOUNT":
        assert (offering.total_offering_amount, offering.is_offering_amount_indefinite) == (None, True)
    else:
        assert offering.total_amount_sold == expected
        assert isinstance(offering.total_amount_sold, Decimal)


@pytest.mark.parametrize(
    ("column", "value", "field", "expected"),
    [
        ("ISDEBTTYPE", "YES", "is_debt", True),
        ("ISDEBTTYPE", "no", "is_debt", False),
        ("ISDEBTTYPE", "True", "is_debt", True),
        ("ISDEBTTYPE", "", "is_debt", False),  # an unticked box
        ("IS40ACT", "", "is_40_act", None),  # asked of pooled funds only
        ("SALE_DATE", "29-FEB-2024", "first_sale_date", date(2024, 2, 29)),
        ("FEDERALEXEMPTIONS_ITEMS_LIST", "06b,3C. 7, None", "federal_exemptions", ("06b", "3C.7")),
        (
            "PREVIOUSACCESSIONNUMBER",
            "000999000124000001",
            "previous_accession_number",
            "0009990001-24-000001",
        ),
        ("DESCRIPTIONOFOTHERTYPE", "NONE", "other_security_description", None),
    ],
)
def test_the_data_sets_spellings_read_as_the_xml_parser_reads_the_xml(
    tmp_path: Path, column: str, value: str, field: str, expected: object
) -> None:
    rows = rows_of(sample_filings(1))
    rows[0]["OFFERING"][0][column] = value
    [read] = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    assert isinstance(read, FormDFiling)
    assert getattr(read.document.offering, field) == expected


def test_filing_dates_in_the_readmes_two_digit_year_form(tmp_path: Path) -> None:
    rows = rows_of(sample_filings(1))
    rows[0]["FORMDSUBMISSION"][0]["FILING_DATE"] = "31-mar-26"
    [read] = read_all(write_dataset_tables(tmp_path / "2026q1_d.zip", rows))

    assert isinstance(read, FormDFiling)
    assert read.header is not None
    assert read.header.filed_as_of_date == date(2026, 3, 31)


# ----------------------------------------------------------------------------- joins


def test_a_repeated_accession_is_kept_once_with_a_notice(tmp_path: Path) -> None:
    filings = sample_filings(2)
    rows = rows_of(filings)
    repeat = rows_of(filings[:1])[0]
    repeat["OFFERING"][0]["TOTALAMOUNTSOLD"] = "999"
    rows.append({"FORMDSUBMISSION": repeat["FORMDSUBMISSION"], "OFFERING": repeat["OFFERING"]})
    items = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    read = filings_of(items)
    assert read[filings[0].accession_number or ""] == filings[0]  # the first rows, not the repeat
    assert len(read) == 2
    assert failures_of(items) == []
    assert [(notice.table, notice.line, notice.accession_number) for notice in notices_of(items)] == [
        ("FORMDSUBMISSION", 4, "0009990001-24-000001"),
        ("OFFERING", 4, "0009990001-24-000001"),
    ]
    assert all("repeats an ACCESSIONNUMBER" in notice.message for notice in notices_of(items))


def test_rows_come_in_sequence_key_order_by_number_not_by_text(tmp_path: Path) -> None:
    [filing] = sample_filings(1)
    jane, john = filing.document.related_persons
    third = dataclasses.replace(john, first_name="Jim")
    document = dataclasses.replace(filing.document, related_persons=(jane, john, third))
    rows = rows_of([dataclasses.replace(filing, document=document)])
    first, second, last = rows[0]["RELATEDPERSONS"]
    second["RELATEDPERSON_SEQ_KEY"], last["RELATEDPERSON_SEQ_KEY"] = "2", "10"
    rows[0]["RELATEDPERSONS"] = [first, last, second]  # 1, 10, 2: in order as text, not as numbers
    [read] = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    assert isinstance(read, FormDFiling)
    assert read.document.related_persons == (jane, john, third)


def test_an_accession_number_written_otherwise_joins_its_filing(tmp_path: Path) -> None:
    filings = sample_filings(2)
    rows = rows_of(filings)
    for table in ("ISSUERS", "RELATEDPERSONS"):
        for row in rows[1][table]:
            row["ACCESSIONNUMBER"] = "000999000124000002"
    rows[1]["OFFERING"][0]["ACCESSIONNUMBER"] = " 0009990001-24-000002 "
    repeat = rows_of(filings[1:])[0]["FORMDSUBMISSION"]
    repeat[0]["ACCESSIONNUMBER"] = "000999000124000002"
    rows.append({"FORMDSUBMISSION": repeat})  # the same filing again, in the other spelling
    items = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    assert filings_of(items) == {filing.accession_number: filing for filing in filings}
    [notice] = notices_of(items)
    assert (notice.table, notice.line, notice.accession_number) == (
        "FORMDSUBMISSION",
        4,
        "0009990001-24-000002",
    )


def test_a_repeated_sequence_key_is_kept_once_and_keys_order_numerically(tmp_path: Path) -> None:
    [filing] = sample_filings(1)
    rows = rows_of([filing])
    jane, john = rows[0]["RELATEDPERSONS"]
    john["RELATEDPERSON_SEQ_KEY"] = "10"
    jane["RELATEDPERSON_SEQ_KEY"] = "9"
    rows[0]["RELATEDPERSONS"] = [john, jane, dict(jane)]  # in the file: 10, 9, 9
    items = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    [read] = filings_of(items).values()
    assert read.document.related_persons == filing.document.related_persons  # 9 (Jane), then 10
    [notice] = notices_of(items)
    assert (notice.table, notice.line) == ("RELATEDPERSONS", 4)
    assert notice.message == "repeats RELATEDPERSON_SEQ_KEY 9 of this filing: kept once"


@pytest.mark.parametrize(
    ("change", "table", "line", "reason"),
    [
        ("no offering", "FORMDSUBMISSION", 3, "no OFFERING row has this filing's ACCESSIONNUMBER"),
        ("no issuer", "FORMDSUBMISSION", 3, "no ISSUERS row has this filing's ACCESSIONNUMBER"),
        (
            "no primary",
            "FORMDSUBMISSION",
            3,
            "none of the filing's 1 ISSUERS rows has IS_PRIMARYISSUER_FLAG YES",
        ),
        ("two primaries", "ISSUERS", 4, "a second issuer has IS_PRIMARYISSUER_FLAG YES for this filing"),
        ("primary without cik", "ISSUERS", 3, "the primary issuer's CIK is empty"),
        ("primary without name", "ISSUERS", 3, "the primary issuer's ENTITYNAME is empty"),
        ("no amount sold", "OFFERING", 3, "TOTALAMOUNTSOLD is empty, where every Form D gives an amount"),
    ],
)
def test_a_filing_without_its_offering_or_primary_issuer_fails(
    tmp_path: Path, change: str, table: str, line: int, reason: str
) -> None:
    filings = sample_filings(3)
    rows = rows_of(filings)
    second = rows[1]
    if change == "no offering":
        second["OFFERING"] = []
    elif change == "no issuer":
        second["ISSUERS"] = []
    elif change == "no primary":
        second["ISSUERS"][0]["IS_PRIMARYISSUER_FLAG"] = "NO"
    elif change == "two primaries":
        second["ISSUERS"].append(dict(second["ISSUERS"][0], ISSUER_SEQ_KEY="2"))
    elif change == "primary without name":
        second["ISSUERS"][0]["ENTITYNAME"] = "None"  # the placeholder: no name
    elif change == "no amount sold":
        second["OFFERING"][0]["TOTALAMOUNTSOLD"] = ""
    else:
        second["ISSUERS"][0]["CIK"] = ""
    items = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    [failure] = failures_of(items)
    assert (failure.table, failure.line, failure.accession_number, failure.reason) == (
        table,
        line,
        "0009990001-24-000002",
        reason,
    )
    assert len(filings_of(items)) == 2


def test_rows_of_an_accession_that_formdsubmission_lacks_are_noted_once_per_table(tmp_path: Path) -> None:
    filings = sample_filings(2)
    rows = rows_of(filings)
    orphan = rows_of(sample_filings(3)[2:])[0]
    del orphan["FORMDSUBMISSION"]
    rows.append(orphan)
    items = read_all(write_dataset_tables(tmp_path / "2024q1_d.zip", rows))

    assert filings_of(items) == {filing.accession_number: filing for filing in filings}
    assert sorted((notice.table, notice.accession_number) for notice in notices_of(items)) == [
        (table, "0009990001-24-000003")
        for table in ("ISSUERS", "OFFERING", "RECIPIENTS", "RELATEDPERSONS", "SIGNATURES")
    ]
    persons_notice = next(notice for notice in notices_of(items) if notice.table == "RELATEDPERSONS")
    assert persons_notice.line == 6  # the first of its two rows, after the header and four rows
    assert "FORMDSUBMISSION lacks" in persons_notice.message


def test_a_row_with_too_few_fields_fails_its_filing(tmp_path: Path) -> None:
    tables = hand_typed_tables()
    signatures = tables["SIGNATURES.tsv"].splitlines()
    signatures[2] = signatures[2].rsplit("\t", 1)[0]  # the second filing's: its date column lost
    tables["SIGNATURES.tsv"] = "\n".join(signatures) + "\n"
    items = read_all(
        write_members(tmp_path / "2024q1_d.zip", {f"2024Q1_d/{k}": v for k, v in tables.items()})
    )

    [failure] = failures_of(items)
    assert (failure.table, failure.line, failure.accession_number) == (
        "SIGNATURES",
        3,
        "0009990001-24-000102",
    )
    assert failure.reason.startswith("the row has 6 fields where the header of SIGNATURES has 7")


# ----------------------------------------------------------------------------- the archive


def test_members_are_found_by_file_name_in_any_folder_and_any_case(tmp_path: Path) -> None:
    names = {"OFFERING": "offering.TSV", "RELATEDPERSONS": "RelatedPersons.tsv"}
    rows = rows_of(sample_filings(2))
    for folder in ("2009Q2_d", "", "nested/deeper"):
        archive = write_dataset_tables(tmp_path / "2009q2_d_0.zip", rows, folder=folder, member_names=names)
        items = read_all(archive)
        assert len(filings_of(items)) == 2
        assert failures_of(items) == []
        assert {item.archive for item in items if not isinstance(item, FormDFiling)} <= {"2009q2_d_0.zip"}


def test_optional_tables_may_be_missing_and_read_as_no_rows(tmp_path: Path) -> None:
    tables = hand_typed_tables()
    for name in ("RECIPIENTS.tsv", "RELATEDPERSONS.tsv", "SIGNATURES.tsv"):
        del tables[name]
    items = read_all(
        write_members(tmp_path / "2024q1_d.zip", {f"2024Q1_d/{k}": v for k, v in tables.items()})
    )

    read = filings_of(items)
    assert len(read) == len(HAND_TYPED_FILINGS)
    document = read["0009990001-24-000101"].document
    assert (
        document.related_persons,
        document.signatures,
        document.offering.sales_compensation_recipients,
    ) == (
        (),
        (),
        (),
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("not a zip", "is not a readable zip file"),
        ("truncated", "is not a readable zip file"),
        ("no offering", "has no OFFERING.tsv: it is not a Form D data set"),
        ("no accession column", "has a ISSUERS table without the column ACCESSIONNUMBER"),
        ("corrupt member", "is damaged: its member 2024Q1_d/RELATEDPERSONS.tsv cannot be read"),
        ("unclosed quote", "has a SIGNATURES table that is not readable tab-separated text"),
        ("two tables", "holds two FORMDSUBMISSION tables"),
    ],
)
def test_an_unusable_archive_is_refused_whole_with_one_sentence(
    tmp_path: Path, damage: str, message: str
) -> None:
    archive = zip_folder(HAND_TYPED, tmp_path / "2024q1_d.zip")
    content = archive.read_bytes()
    tables: dict[str, str | bytes] = {f"2024Q1_d/{k}": v for k, v in hand_typed_tables().items()}
    if damage == "not a zip":
        archive.write_text("<html>Request Rate Threshold Exceeded</html>")
    elif damage == "truncated":
        archive.write_bytes(content[: len(content) // 2])
    elif damage == "no offering":
        del tables["2024Q1_d/OFFERING.tsv"]
        write_members(archive, tables)
    elif damage == "no accession column":
        text = str(tables["2024Q1_d/ISSUERS.tsv"])
        tables["2024Q1_d/ISSUERS.tsv"] = text.replace("ACCESSIONNUMBER", "ACCESSION", 1)
        write_members(archive, tables)
    elif damage == "corrupt member":
        with zipfile.ZipFile(archive) as zf:
            info = zf.getinfo("2024Q1_d/RELATEDPERSONS.tsv")
        middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
        archive.write_bytes(content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1 :])
    elif damage == "unclosed quote":
        text = str(tables["2024Q1_d/SIGNATURES.tsv"])
        tables["2024Q1_d/SIGNATURES.tsv"] = text.replace("/s/ Margaret", '"/s/ Margaret', 1)
        write_members(archive, tables)
    else:
        tables["2024Q1_d/copy/FORMDSUBMISSION.tsv"] = tables["2024Q1_d/FORMDSUBMISSION.tsv"]
        write_members(archive, tables)

    reading = read_dataset_archive(archive)
    with pytest.raises(DatasetArchiveError) as caught:
        next(reading)  # nothing is yielded before the whole archive has been read
    sentence = str(caught.value)
    assert sentence.startswith("The Form D data set archive 2024q1_d.zip ")
    assert message in sentence
    assert sentence.endswith(".")
    assert "\n" not in sentence


def test_counting_a_damaged_archive_is_refused_too(tmp_path: Path) -> None:
    archive = tmp_path / "2024q1_d.zip"
    archive.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DatasetArchiveError, match="is not a readable zip file"):
        count_dataset_filings(archive)


# ----------------------------------------------------------------------------- ranges and sizes


def test_only_filings_in_the_half_open_date_range_are_read(tmp_path: Path) -> None:
    filings = sample_filings(10)  # filed 2024-01-02 .. 2024-01-11
    archive = write_dataset_archive(tmp_path / "2024q1_d.zip", filings)

    items = read_all(archive, start=date(2024, 1, 4), end=date(2024, 1, 7))
    assert sorted(filings_of(items)) == [filing.accession_number for filing in filings[2:5]]
    assert [item for item in items if not isinstance(item, FormDFiling)] == []  # no orphans of the others
    assert len(filings_of(read_all(archive, start=date(2024, 1, 10)))) == 2
    assert len(filings_of(read_all(archive, end=date(2024, 1, 3)))) == 1
    assert count_dataset_filings(archive) == 10  # the archive's rows
    assert count_dataset_filings(archive, date(2024, 1, 4), date(2024, 1, 7)) == 3  # those read
    assert count_dataset_filings(archive, start=date(2024, 1, 10)) == 2
    assert count_dataset_filings(archive, end=date(2024, 1, 3)) == 1


def _many(count: int) -> Iterator[FormDFiling]:
    """Filings of seven filer agents over 90 days, in no order of accession number."""
    template = sample_filings(1)[0]
    assert template.header is not None
    for number in range(count):
        header = dataclasses.replace(
            template.header,
            accession_number=f"{9990001 + number % 7:010d}-24-{number:06d}",
            filed_as_of_date=date.fromordinal(date(2024, 1, 1).toordinal() + number % 90),
        )
        yield dataclasses.replace(template, header=header)


def test_partitioned_reading_gives_what_reading_in_memory_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = write_dataset_archive(tmp_path / "2024q1_d.zip", _many(400))
    start, end = date(2024, 1, 15), date(2024, 3, 1)
    in_memory = read_all(archive, start=start, end=end)  # a small archive: joined in memory

    # Partitions of ~4 kB and blocks of 300 characters: ~100 temporary files, records split
    # across blocks, spooled in many chunks.
    monkeypatch.setattr(dataset_spool, "PARTITION_BYTES", 4096)
    monkeypatch.setattr(datasets, "_BLOCK_CHARS", 300)
    monkeypatch.setattr(dataset_spool, "SPOOL_FLUSH_ROWS", 50)
    partitioned = read_all(archive, start=start, end=end)

    in_range = [filing for filing in _many(400) if start <= filing.header.filed_as_of_date < end]  # type: ignore[union-attr]
    assert (
        filings_of(partitioned)
        == filings_of(in_memory)
        == {filing.accession_number: filing for filing in in_range}
    )
    assert len(in_range) == 210  # 46 days: 26 of them five times in 400, 20 four times
    assert [item for item in partitioned if not isinstance(item, FormDFiling)] == []


def test_small_blocks_read_quoted_records_that_cross_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = hand_typed_tables()
    tables["SIGNATURES.tsv"] = tables["SIGNATURES.tsv"].replace(
        "Managing Partner of the General Partner", '"Managing Partner\nof the ""General"" Partner"'
    )
    archive = write_members(tmp_path / "2024q1_d.zip", {f"2024Q1_d/{k}": v for k, v in tables.items()})
    whole = read_all(archive)
    monkeypatch.setattr(datasets, "_BLOCK_CHARS", 16)
    in_pieces = read_all(archive)

    assert filings_of(in_pieces) == filings_of(whole)
    titles = {filing.document.signatures[0].title for filing in filings_of(whole).values()}
    assert 'Managing Partner\nof the "General" Partner' in titles
    assert failures_of(whole) == []
    assert notices_of(whole) == []
