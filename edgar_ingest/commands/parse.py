"""``edgar-ingest parse FILE``: the normalised record of one local document, offline."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from edgar_ingest.commands.options import EXIT_OK, EXIT_USAGE
from edgar_ingest.parse import MAX_DOCUMENT_BYTES, filing_to_dict, oversize_error, parse_document
from edgar_ingest.records import Address, FormDFiling
from edgar_ingest.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "parse",
        help="print the normalised record of one local Form D .xml, .txt or .nc file (offline)",
        description="Parse one local Form D document (bare XML, or a full submission .txt/.nc) and "
        "print its normalised record. Touches neither the network nor the database.",
    )
    parser.add_argument("file", metavar="FILE", type=Path, help="a primary_doc.xml, .txt or .nc file")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: a readable summary (default); json: the full record, amounts as exact decimal strings",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.file
    try:
        with path.open("rb") as handle:
            # One byte over the cap is enough for the parser to refuse an oversized file, and
            # memory stays bounded whatever the file's size.
            content = handle.read(MAX_DOCUMENT_BYTES + 1)
            if len(content) > MAX_DOCUMENT_BYTES:
                # Say the file's real size, not the bytes read (exit 2 through cli.main).
                raise oversize_error(os.fstat(handle.fileno()).st_size)
    except FileNotFoundError:
        print(
            f"edgar-ingest: {path} does not exist; pass the path of a local .xml, .txt or .nc file.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except IsADirectoryError:
        print(f"edgar-ingest: {path} is a folder; pass one .xml, .txt or .nc file.", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"edgar-ingest: cannot read {path} ({exc.strerror}); check its permissions.", file=sys.stderr)
        return EXIT_USAGE
    filing = parse_document(content)  # a ParseError goes to cli.main: one sentence, exit code 2
    if args.format == "json":
        print(json.dumps(filing_to_dict(filing), indent=2, ensure_ascii=False))
    else:
        print(summary(filing))
    return EXIT_OK


def summary(filing: FormDFiling) -> str:
    """A readable summary of the main fields (the JSON format has every field)."""
    document = filing.document
    issuer = document.primary_issuer
    offering = document.offering
    header = filing.header
    rows: list[tuple[str, object]] = [
        ("Accession number", filing.accession_number or "(bare XML: not in the document)"),
        ("Submission type", filing.submission_type),
    ]
    if header is not None:
        rows.append(("Filed as of", header.filed_as_of_date.isoformat()))
        rows.append(("Accepted at", header.accepted_at.isoformat() if header.accepted_at else "-"))
        rows.append(("File number", filing.file_number or "-"))
    rows.append(("Issuer", f"{issuer.entity_name or '-'} (CIK {issuer.cik or '-'})"))
    rows.append(("Address", _address(issuer.address)))
    for co_issuer in document.co_issuers:
        rows.append(("Co-issuer", f"{co_issuer.entity_name or '-'} (CIK {co_issuer.cik or '-'})"))
    industry = offering.industry_group or "-"
    if offering.investment_fund_type:
        industry += f" ({offering.investment_fund_type})"
    rows.append(("Industry group", industry))
    rows.append(("Exemptions", ", ".join(offering.federal_exemptions) or "-"))
    if offering.is_amendment:
        rows.append(("Amendment of", offering.previous_accession_number or "(previous accession not given)"))
    if offering.is_first_sale_yet_to_occur:
        first_sale = "yet to occur"
    else:
        first_sale = offering.first_sale_date.isoformat() if offering.first_sale_date else "-"
    rows.append(("First sale", first_sale))
    rows.append(
        ("Offering amount", _money(offering.total_offering_amount, offering.is_offering_amount_indefinite))
    )
    rows.append(("Amount sold", _money(offering.total_amount_sold, False)))
    rows.append(("Remaining", _money(offering.total_remaining, offering.is_remaining_indefinite)))
    rows.append(("Minimum investment", _money(offering.minimum_investment, False)))
    investors = "-" if offering.total_investors is None else str(offering.total_investors)
    if offering.has_non_accredited_investors:
        investors += f" ({offering.non_accredited_investors or 0} non-accredited)"
    rows.append(("Investors", investors))
    rows.append(("Related persons", len(document.related_persons)))
    rows.append(("Sales recipients", len(offering.sales_compensation_recipients)))
    for signature in document.signatures:
        signed_on = signature.signature_date.isoformat() if signature.signature_date else "-"
        rows.append(("Signed", f"{signature.name_of_signer or '-'}, {signature.title or '-'}, {signed_on}"))
    width = max(len(label) for label, _ in rows) + 1
    return "\n".join(f"{label + ':':<{width}} {value}" for label, value in rows)


def _money(amount: object, indefinite: bool) -> str:
    if indefinite:
        return "Indefinite"
    return "-" if amount is None else f"${amount:,}"


def _address(address: Address | None) -> str:
    if address is None:
        return "-"
    parts = [address.street1, address.street2, address.city, address.state_or_country, address.zip_code]
    return ", ".join(part for part in parts if part) or "-"
