"""Writes synthetic SEC Form D data-set archives from ``FormDFiling`` records, for tests and benchmarks.

``write_dataset_archive(path, filings)`` writes what the SEC would publish for those filings: a
zip with the six tab-separated tables in a folder named for the quarter, in the 2026 column layout
(or the ``old`` one, without the columns in ``OLD_LAYOUT_DROPPED``), with the data sets' spellings:
FILING_DATE as ``31-MAR-2026``, booleans ``true``/``false``, IS_PRIMARYISSUER_FLAG ``YES``/``NO``,
exemptions ``06b, 3C``, states ``CA, NY`` or ``All States``, unpadded CIKs, csv quoting (a field
holding a quote, tab or newline is quoted, quotes doubled). Each filing needs its header: the
accession number, filing date, submission type and file number come from it.

The records are read once and the rows streamed through temporary files, so a benchmark can write
a 60,000-filing quarter from a generator without holding it.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Literal

from edgar_ingest.datasets import TABLES
from edgar_ingest.records import Address, FormDFiling, Issuer

Layout = Literal["2026", "old"]

# The columns the "old" layout lacks (a stand-in for older quarters: the reader must map columns
# by name and read absent ones as None/False). Their fields read back as None or False.
OLD_LAYOUT_DROPPED: dict[str, tuple[str, ...]] = {
    "FORMDSUBMISSION": ("SIC_CODE", "OVER100PERSONSFLAG", "OVER100ISSUERFLAG"),
    "ISSUERS": ("ENTITYTYPEOTHERDESC",),
    "OFFERING": ("IS40ACT", "OVER100RECIPIENTFLAG", "SALESAMTCLARIFICATIONOFRESP"),
    "RECIPIENTS": ("DESCRIPTIONS_LIST", "FOREIGNSOLICITATION"),
    "RELATEDPERSONS": ("RELATIONSHIPCLARIFICATION",),
    "SIGNATURES": (),
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_YEAR_OF_INC = {
    "over_five_years": "overFiveYears",
    "within_five_years": "withinFiveYears",
    "yet_to_be_formed": "yetToBeFormed",
}

Cells = dict[str, str]


def dd_mon_yyyy(day: date) -> str:
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year:04d}"


def _text(value: str | None) -> str:
    return "" if value is None else value


def _iso(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _bool(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _number(value: Decimal | int | None, indefinite: bool = False) -> str:
    if indefinite:
        return "Indefinite"
    if value is None:
        return ""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _up_to_three(values: tuple[str, ...], what: str, accession: str) -> list[str]:
    if len(values) > 3:
        raise ValueError(f"{accession}: a data set row holds at most 3 {what}, not {len(values)}")
    return [*values, "", "", ""][:3]


def _address(address: Address | None) -> Cells:
    address = address or Address()
    return {
        "STREET1": _text(address.street1),
        "STREET2": _text(address.street2),
        "CITY": _text(address.city),
        "STATEORCOUNTRY": _text(address.state_or_country),
        "STATEORCOUNTRYDESCRIPTION": _text(address.state_or_country_description),
        "ZIPCODE": _text(address.zip_code),
    }


def _issuer_row(accession: str, seq: int, issuer: Issuer, *, primary: bool) -> Cells:
    previous = _up_to_three(issuer.issuer_previous_names, "issuer previous names", accession)
    edgar_previous = _up_to_three(issuer.edgar_previous_names, "EDGAR previous names", accession)
    return {
        "ACCESSIONNUMBER": accession,
        "IS_PRIMARYISSUER_FLAG": "YES" if primary else "NO",
        "ISSUER_SEQ_KEY": str(seq),
        "CIK": "" if issuer.cik is None else str(int(issuer.cik)),  # the data sets do not pad
        "ENTITYNAME": _text(issuer.entity_name),
        **_address(issuer.address),
        "ISSUERPHONENUMBER": _text(issuer.phone_number),
        "JURISDICTIONOFINC": _text(issuer.jurisdiction_of_inc),
        **{f"ISSUER_PREVIOUSNAME_{n}": name for n, name in enumerate(previous, start=1)},
        **{f"EDGAR_PREVIOUSNAME_{n}": name for n, name in enumerate(edgar_previous, start=1)},
        "ENTITYTYPE": _text(issuer.entity_type),
        "ENTITYTYPEOTHERDESC": _text(issuer.entity_type_other_description),
        "YEAROFINC_TIMESPAN_CHOICE": _YEAR_OF_INC.get(issuer.year_of_inc_choice or "", ""),
        "YEAROFINC_VALUE_ENTERED": _number(issuer.year_of_inc),
    }


def filing_rows(filing: FormDFiling) -> dict[str, list[Cells]]:
    """The rows of one filing, per table, as column -> text."""
    header = filing.header
    if header is None:
        raise ValueError("a data set row needs the filing's header (accession number, filing date)")
    accession = header.accession_number
    document = filing.document
    offering = document.offering
    rows: dict[str, list[Cells]] = {table: [] for table in TABLES}
    rows["FORMDSUBMISSION"].append(
        {
            "ACCESSIONNUMBER": accession,
            "FILE_NUM": _text(filing.file_number),
            "FILING_DATE": dd_mon_yyyy(header.filed_as_of_date),
            "SIC_CODE": "",
            "SCHEMAVERSION": _text(document.schema_version),
            "SUBMISSIONTYPE": header.submission_type,
            "TESTORLIVE": _text(document.test_or_live),
            "OVER100PERSONSFLAG": "false",
            "OVER100ISSUERFLAG": _bool(document.has_over_100_issuers),
        }
    )
    rows["ISSUERS"].append(_issuer_row(accession, 1, document.primary_issuer, primary=True))
    for seq, issuer in enumerate(document.co_issuers, start=2):
        rows["ISSUERS"].append(_issuer_row(accession, seq, issuer, primary=False))
    rows["OFFERING"].append(
        {
            "ACCESSIONNUMBER": accession,
            "INDUSTRYGROUPTYPE": _text(offering.industry_group),
            "INVESTMENTFUNDTYPE": _text(offering.investment_fund_type),
            "IS40ACT": _bool(offering.is_40_act),
            "REVENUERANGE": _text(offering.revenue_range),
            "AGGREGATENETASSETVALUERANGE": _text(offering.aggregate_net_asset_value_range),
            "FEDERALEXEMPTIONS_ITEMS_LIST": ", ".join(offering.federal_exemptions),
            "ISAMENDMENT": _bool(offering.is_amendment),
            "PREVIOUSACCESSIONNUMBER": _text(offering.previous_accession_number),
            "SALE_DATE": _iso(offering.first_sale_date),
            "YETTOOCCUR": _bool(offering.is_first_sale_yet_to_occur),
            "MORETHANONEYEAR": _bool(offering.is_more_than_one_year),
            "ISEQUITYTYPE": _bool(offering.is_equity),
            "ISDEBTTYPE": _bool(offering.is_debt),
            "ISOPTIONTOACQUIRETYPE": _bool(offering.is_option_to_acquire),
            "ISSECURITYTOBEACQUIREDTYPE": _bool(offering.is_security_to_be_acquired),
            "ISPOOLEDINVESTMENTFUNDTYPE": _bool(offering.is_pooled_investment_fund_interest),
            "ISTENANTINCOMMONTYPE": _bool(offering.is_tenant_in_common),
            "ISMINERALPROPERTYTYPE": _bool(offering.is_mineral_property),
            "ISOTHERTYPE": _bool(offering.is_other_security),
            "DESCRIPTIONOFOTHERTYPE": _text(offering.other_security_description),
            "ISBUSINESSCOMBINATIONTRANS": _bool(offering.is_business_combination),
            "BUSCOMBCLARIFICATIONOFRESP": _text(offering.business_combination_clarification),
            "MINIMUMINVESTMENTACCEPTED": _number(offering.minimum_investment),
            "OVER100RECIPIENTFLAG": _bool(offering.has_over_100_recipients),
            "TOTALOFFERINGAMOUNT": _number(
                offering.total_offering_amount, offering.is_offering_amount_indefinite
            ),
            "TOTALAMOUNTSOLD": _number(offering.total_amount_sold),
            "TOTALREMAINING": _number(offering.total_remaining, offering.is_remaining_indefinite),
            "SALESAMTCLARIFICATIONOFRESP": _text(offering.sales_amounts_clarification),
            "HASNONACCREDITEDINVESTORS": _bool(offering.has_non_accredited_investors),
            "NUMBERNONACCREDITEDINVESTORS": _number(offering.non_accredited_investors),
            "TOTALNUMBERALREADYINVESTED": _number(offering.total_investors),
            "SALESCOMM_DOLLARAMOUNT": _number(offering.sales_commissions),
            "SALESCOMM_ISESTIMATE": _bool(offering.is_sales_commissions_estimate),
            "FINDERSFEE_DOLLARAMOUNT": _number(offering.finders_fees),
            "FINDERSFEE_ISESTIMATE": _bool(offering.is_finders_fees_estimate),
            "FINDERFEECLARIFICATIONOFRESP": _text(offering.commissions_clarification),
            "GROSSPROCEEDSUSED_DOLLARAMOUNT": _number(offering.gross_proceeds_used),
            "GROSSPROCEEDSUSED_ISESTIMATE": _bool(offering.is_gross_proceeds_estimate),
            "GROSSPROCEEDSUSED_CLAROFRESP": _text(offering.proceeds_clarification),
            "AUTHORIZEDREPRESENTATIVE": _bool(document.is_authorized_representative),
        }
    )
    for seq, recipient in enumerate(offering.sales_compensation_recipients, start=1):
        states = [*recipient.states_of_solicitation, *(["All States"] if recipient.is_all_states else [])]
        rows["RECIPIENTS"].append(
            {
                "ACCESSIONNUMBER": accession,
                "RECIPIENT_SEQ_KEY": str(seq),
                "RECIPIENTNAME": _text(recipient.name),
                "RECIPIENTCRDNUMBER": _text(recipient.crd_number),
                "ASSOCIATEDBDNAME": _text(recipient.associated_broker_dealer_name),
                "ASSOCIATEDBDCRDNUMBER": _text(recipient.associated_broker_dealer_crd_number),
                **_address(recipient.address),
                "STATES_OR_VALUE_LIST": ", ".join(states),
                "DESCRIPTIONS_LIST": "",
                "FOREIGNSOLICITATION": _bool(recipient.is_foreign_solicitation),
            }
        )
    for seq, person in enumerate(document.related_persons, start=1):
        relationships = _up_to_three(person.relationships, "relationships", accession)
        rows["RELATEDPERSONS"].append(
            {
                "ACCESSIONNUMBER": accession,
                "RELATEDPERSON_SEQ_KEY": str(seq),
                "FIRSTNAME": _text(person.first_name),
                "MIDDLENAME": _text(person.middle_name),
                "LASTNAME": _text(person.last_name),
                **_address(person.address),
                **{f"RELATIONSHIP_{n}": name for n, name in enumerate(relationships, start=1)},
                "RELATIONSHIPCLARIFICATION": _text(person.relationship_clarification),
            }
        )
    for seq, signature in enumerate(document.signatures, start=1):
        rows["SIGNATURES"].append(
            {
                "ACCESSIONNUMBER": accession,
                "SIGNATURE_SEQ_KEY": str(seq),
                "ISSUERNAME": _text(signature.issuer_name),
                "SIGNATURENAME": _text(signature.signature_name),
                "NAMEOFSIGNER": _text(signature.name_of_signer),
                "SIGNATURETITLE": _text(signature.title),
                "SIGNATUREDATE": _iso(signature.signature_date),
            }
        )
    return rows


def layout_columns(table: str, layout: Layout = "2026") -> tuple[str, ...]:
    columns = TABLES[table]
    if layout == "old":
        return tuple(column for column in columns if column not in OLD_LAYOUT_DROPPED[table])
    return columns


def write_dataset_archive(
    path: Path,
    filings: Iterable[FormDFiling],
    *,
    folder: str = "2024Q1_d",
    layout: Layout = "2026",
) -> Path:
    """Writes the archive of ``filings`` (each with its header) to ``path``; returns ``path``."""
    rows = (filing_rows(filing) for filing in filings)
    return write_dataset_tables(path, rows, folder=folder, layout=layout)


def write_dataset_tables(
    path: Path,
    rows: Iterable[dict[str, list[Cells]]],
    *,
    folder: str = "2024Q1_d",
    layout: Layout = "2026",
    member_names: dict[str, str] | None = None,
) -> Path:
    """Writes rows (per filing, per table, column -> text, as ``filing_rows`` makes them) as an
    archive: a test changes a cell of ``filing_rows`` and writes what the SEC might have.

    ``member_names`` replaces a table's member name (``{"OFFERING": "offering.TSV"}``).
    """
    names = {table: f"{table}.tsv" for table in TABLES} | (member_names or {})
    spools: dict[str, IO[str]] = {}
    writers = {}
    try:
        for table in TABLES:
            spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
            spools[table] = spool
            writer = csv.writer(spool, delimiter="\t", quotechar='"', lineterminator="\n")
            writer.writerow(layout_columns(table, layout))
            writers[table] = writer
        for filing in rows:
            for table, table_rows in filing.items():
                columns = layout_columns(table, layout)
                writers[table].writerows([[row.get(column, "") for column in columns] for row in table_rows])
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for table, spool in spools.items():
                spool.seek(0)
                with zf.open(f"{folder}/{names[table]}" if folder else names[table], "w") as member:
                    shutil.copyfileobj(_Utf8(spool), member, 1 << 20)
    finally:
        for spool in spools.values():
            spool.close()
    return path


class _Utf8:
    """A text file read as UTF-8 bytes, for ``shutil.copyfileobj``."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text

    def read(self, size: int = -1) -> bytes:
        return self._text.read(size).encode("utf-8")
