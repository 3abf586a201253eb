"""Builds realistic Form D full submissions (SEC header + XML) for pipeline tests and benchmarks.

The documents follow the layout of real EDGAR ``.txt`` submissions: the header with
``<ACCEPTANCE-DATETIME>`` and one FILER block per issuer, then the XML between ``<XML>`` and
``</XML>`` starting with a newline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class FilingSpec:
    accession: str  # 0001234567-24-000001
    cik: str  # digits, any padding
    name: str = "Example Ventures Inc."
    form: str = "D"
    file_number: str | None = "021-400001"
    filed: date = date(2024, 1, 2)
    accepted_at: datetime = datetime(2024, 1, 2, 10, 0, 0)  # US/Eastern wall time, as in the header
    total_offering: str = "10000000"
    total_sold: str = "2500000"
    total_investors: int = 7
    previous_accession: str | None = None
    co_issuer_ciks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cik10(self) -> str:
        return f"{int(self.cik):010d}"

    @property
    def path(self) -> str:
        return f"/Archives/edgar/data/{int(self.cik)}/{self.accession}.txt"


def _remaining(spec: FilingSpec) -> str:
    if spec.total_offering == "Indefinite":
        return "Indefinite"
    return str(int(spec.total_offering) - int(spec.total_sold))


def form_d_xml(spec: FilingSpec) -> str:
    amendment = (
        f"<isAmendment>true</isAmendment><previousAccessionNumber>{spec.previous_accession}"
        "</previousAccessionNumber>"
        if spec.form == "D/A"
        else "<isAmendment>false</isAmendment>"
    )
    co_issuers = ""
    if spec.co_issuer_ciks:
        co_issuers = (
            "<issuerList>"
            + "".join(
                f"<issuer><cik>{int(c):010d}</cik><entityName>Co-Issuer {int(c)} LP</entityName>"
                "<issuerAddress><street1>1 Main St</street1><city>Boston</city>"
                "<stateOrCountry>MA</stateOrCountry><stateOrCountryDescription>MASSACHUSETTS"
                "</stateOrCountryDescription><zipCode>02110</zipCode></issuerAddress>"
                "<issuerPhoneNumber>617-555-0100</issuerPhoneNumber><jurisdictionOfInc>DELAWARE"
                "</jurisdictionOfInc><entityType>Limited Partnership</entityType>"
                "<yearOfInc><withinFiveYears>true</withinFiveYears><value>2023</value></yearOfInc></issuer>"
                for c in spec.co_issuer_ciks
            )
            + "</issuerList>"
        )
    return f"""<?xml version="1.0"?>
<edgarSubmission>
    <schemaVersion>X0708</schemaVersion>
    <submissionType>{spec.form}</submissionType>
    <testOrLive>LIVE</testOrLive>
    <primaryIssuer>
        <cik>{spec.cik10}</cik>
        <entityName>{spec.name}</entityName>
        <issuerAddress>
            <street1>100 Market Street</street1>
            <city>San Francisco</city>
            <stateOrCountry>CA</stateOrCountry>
            <stateOrCountryDescription>CALIFORNIA</stateOrCountryDescription>
            <zipCode>94105</zipCode>
        </issuerAddress>
        <issuerPhoneNumber>415-555-0100</issuerPhoneNumber>
        <jurisdictionOfInc>DELAWARE</jurisdictionOfInc>
        <issuerPreviousNameList><value>None</value></issuerPreviousNameList>
        <edgarPreviousNameList><value>None</value></edgarPreviousNameList>
        <entityType>Corporation</entityType>
        <yearOfInc><overFiveYears>true</overFiveYears></yearOfInc>
    </primaryIssuer>
    {co_issuers}
    <relatedPersonsList>
        <relatedPersonInfo>
            <relatedPersonName><firstName>Ada</firstName><lastName>Lovelace</lastName></relatedPersonName>
            <relatedPersonAddress><street1>100 Market Street</street1><city>San Francisco</city>
                <stateOrCountry>CA</stateOrCountry><stateOrCountryDescription>CALIFORNIA</stateOrCountryDescription>
                <zipCode>94105</zipCode></relatedPersonAddress>
            <relatedPersonRelationshipList><relationship>Executive Officer</relationship>
                <relationship>Director</relationship></relatedPersonRelationshipList>
            <relationshipClarification/>
        </relatedPersonInfo>
    </relatedPersonsList>
    <offeringData>
        <industryGroup><industryGroupType>Other Technology</industryGroupType></industryGroup>
        <issuerSize><revenueRange>Decline to Disclose</revenueRange></issuerSize>
        <federalExemptionsExclusions><item>06b</item></federalExemptionsExclusions>
        <typeOfFiling>
            <newOrAmendment>{amendment}</newOrAmendment>
            <dateOfFirstSale><value>2023-12-15</value></dateOfFirstSale>
        </typeOfFiling>
        <durationOfOffering><moreThanOneYear>false</moreThanOneYear></durationOfOffering>
        <typesOfSecuritiesOffered><isEquityType>true</isEquityType></typesOfSecuritiesOffered>
        <businessCombinationTransaction>
            <isBusinessCombinationTransaction>false</isBusinessCombinationTransaction>
        </businessCombinationTransaction>
        <minimumInvestmentAccepted>0</minimumInvestmentAccepted>
        <salesCompensationList/>
        <offeringSalesAmounts>
            <totalOfferingAmount>{spec.total_offering}</totalOfferingAmount>
            <totalAmountSold>{spec.total_sold}</totalAmountSold>
            <totalRemaining>{_remaining(spec)}</totalRemaining>
        </offeringSalesAmounts>
        <investors>
            <hasNonAccreditedInvestors>false</hasNonAccreditedInvestors>
            <totalNumberAlreadyInvested>{spec.total_investors}</totalNumberAlreadyInvested>
        </investors>
        <salesCommissionsFindersFees>
            <salesCommissions><dollarAmount>0</dollarAmount></salesCommissions>
            <findersFees><dollarAmount>0</dollarAmount></findersFees>
        </salesCommissionsFindersFees>
        <useOfProceeds><grossProceedsUsed><dollarAmount>0</dollarAmount></grossProceedsUsed></useOfProceeds>
        <signatureBlock>
            <authorizedRepresentative>false</authorizedRepresentative>
            <signature>
                <issuerName>{spec.name}</issuerName>
                <signatureName>/s/ Ada Lovelace</signatureName>
                <nameOfSigner>Ada Lovelace</nameOfSigner>
                <signatureTitle>Chief Executive Officer</signatureTitle>
                <signatureDate>{spec.filed.isoformat()}</signatureDate>
            </signature>
        </signatureBlock>
    </offeringData>
</edgarSubmission>
"""


def _filer_block(cik10: str, name: str, form: str, file_number: str | None) -> str:
    number = f"\t\tSEC FILE NUMBER:\t{file_number}\n" if file_number else ""
    return (
        "FILER:\n\n\tCOMPANY DATA:\t\n"
        f"\t\tCOMPANY CONFORMED NAME:\t\t\t{name}\n"
        f"\t\tCENTRAL INDEX KEY:\t\t\t{cik10}\n"
        "\t\tSTATE OF INCORPORATION:\t\t\tDE\n\n"
        f"\tFILING VALUES:\n\t\tFORM TYPE:\t\t{form}\n\t\tSEC ACT:\t\t1933 Act\n{number}\n"
    )


def full_submission(spec: FilingSpec) -> bytes:
    """The ``.txt`` full submission EDGAR serves at ``spec.path``."""
    filed = spec.filed.strftime("%Y%m%d")
    filers = _filer_block(spec.cik10, spec.name, spec.form, spec.file_number)
    for index, co in enumerate(spec.co_issuer_ciks):
        number = f"021-5{index:05d}" if spec.file_number else None
        filers += _filer_block(f"{int(co):010d}", f"Co-Issuer {int(co)} LP", spec.form, number)
    text = (
        f"<SEC-DOCUMENT>{spec.accession}.txt : {filed}\n"
        f"<SEC-HEADER>{spec.accession}.hdr.sgml : {filed}\n"
        f"<ACCEPTANCE-DATETIME>{spec.accepted_at:%Y%m%d%H%M%S}\n"
        f"ACCESSION NUMBER:\t\t{spec.accession}\n"
        f"CONFORMED SUBMISSION TYPE:\t{spec.form}\n"
        "PUBLIC DOCUMENT COUNT:\t\t1\n"
        f"FILED AS OF DATE:\t\t{filed}\n"
        f"DATE AS OF CHANGE:\t\t{filed}\n\n"
        f"{filers}"
        "</SEC-HEADER>\n<DOCUMENT>\n"
        f"<TYPE>{spec.form}\n<SEQUENCE>1\n<FILENAME>primary_doc.xml\n<TEXT>\n<XML>\n"
        f"{form_d_xml(spec)}</XML>\n</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>\n"
    )
    return text.encode()


def master_index_rows(
    specs: list[FilingSpec], *, quarterly: bool = False
) -> list[tuple[str, str, str, str, str]]:
    """Rows for ``fake_edgar.master_index``: one per filer, as EDGAR lists co-issued filings.

    Daily indexes date rows YYYYMMDD, quarterly ones YYYY-MM-DD.
    """
    rows = []
    for spec in specs:
        filed = spec.filed.isoformat() if quarterly else spec.filed.strftime("%Y%m%d")
        file_name = f"edgar/data/{int(spec.cik)}/{spec.accession}.txt"
        rows.append((str(int(spec.cik)), spec.name, spec.form, filed, file_name))
        for co in spec.co_issuer_ciks:
            rows.append((str(int(co)), f"Co-Issuer {int(co)} LP", spec.form, filed, file_name))
    return rows
