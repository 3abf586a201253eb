"""Rows of the SEC's Form D data sets -> the records ``parse`` makes from the filing's XML.

``datasets`` reads the archive and joins the six tables; this module turns one filing's joined
rows into its ``FormDFiling``. Each table's row arrives as a tuple in the 2026 column order below
(columns an older quarter lacks are None), already cleaned: text stripped, and empty fields and
the ``None`` placeholder (``normalise.PLACEHOLDERS``) are None, exactly as the XML parser treats
element texts. Every value that the Form D schema would refuse raises ``RowError`` naming the
table, line and column: the filing fails, nothing is rounded or guessed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import cast

from edgar_ingest.normalise import (
    FALSE_TEXTS,
    MAX_LENGTHS,
    PLACEHOLDERS,
    TRUE_TEXTS,
    cik_digits,
    new_address,
    new_filer,
    new_form_d_document,
    new_form_d_filing,
    new_issuer,
    new_offering,
    new_recipient,
    new_related_person,
    new_sec_header,
    new_signature,
    previous_accession,
    whole_number_digits,
)
from edgar_ingest.records import (
    SOURCE_DATASET,
    Address,
    FormDFiling,
    Issuer,
    Offering,
    RelatedPerson,
    SalesCompensationRecipient,
    Signature,
)

__all__ = [
    "ISSUER_COLUMNS",
    "OFFERING_COLUMNS",
    "PERSON_COLUMNS",
    "RECIPIENT_COLUMNS",
    "SIGNATURE_COLUMNS",
    "SUBMISSION_COLUMNS",
    "BadValue",
    "Entry",
    "Row",
    "RowBuilder",
    "RowError",
]

SUBMISSION_COLUMNS = (
    "ACCESSIONNUMBER",
    "FILE_NUM",
    "FILING_DATE",
    "SIC_CODE",
    "SCHEMAVERSION",
    "SUBMISSIONTYPE",
    "TESTORLIVE",
    "OVER100PERSONSFLAG",
    "OVER100ISSUERFLAG",
)
ISSUER_COLUMNS = (
    "ACCESSIONNUMBER",
    "IS_PRIMARYISSUER_FLAG",
    "ISSUER_SEQ_KEY",
    "CIK",
    "ENTITYNAME",
    "STREET1",
    "STREET2",
    "CITY",
    "STATEORCOUNTRY",
    "STATEORCOUNTRYDESCRIPTION",
    "ZIPCODE",
    "ISSUERPHONENUMBER",
    "JURISDICTIONOFINC",
    "ISSUER_PREVIOUSNAME_1",
    "ISSUER_PREVIOUSNAME_2",
    "ISSUER_PREVIOUSNAME_3",
    "EDGAR_PREVIOUSNAME_1",
    "EDGAR_PREVIOUSNAME_2",
    "EDGAR_PREVIOUSNAME_3",
    "ENTITYTYPE",
    "ENTITYTYPEOTHERDESC",
    "YEAROFINC_TIMESPAN_CHOICE",
    "YEAROFINC_VALUE_ENTERED",
)
OFFERING_COLUMNS = (
    "ACCESSIONNUMBER",
    "INDUSTRYGROUPTYPE",
    "INVESTMENTFUNDTYPE",
    "IS40ACT",
    "REVENUERANGE",
    "AGGREGATENETASSETVALUERANGE",
    "FEDERALEXEMPTIONS_ITEMS_LIST",
    "ISAMENDMENT",
    "PREVIOUSACCESSIONNUMBER",
    "SALE_DATE",
    "YETTOOCCUR",
    "MORETHANONEYEAR",
    "ISEQUITYTYPE",
    "ISDEBTTYPE",
    "ISOPTIONTOACQUIRETYPE",
    "ISSECURITYTOBEACQUIREDTYPE",
    "ISPOOLEDINVESTMENTFUNDTYPE",
    "ISTENANTINCOMMONTYPE",
    "ISMINERALPROPERTYTYPE",
    "ISOTHERTYPE",
    "DESCRIPTIONOFOTHERTYPE",
    "ISBUSINESSCOMBINATIONTRANS",
    "BUSCOMBCLARIFICATIONOFRESP",
    "MINIMUMINVESTMENTACCEPTED",
    "OVER100RECIPIENTFLAG",
    "TOTALOFFERINGAMOUNT",
    "TOTALAMOUNTSOLD",
    "TOTALREMAINING",
    "SALESAMTCLARIFICATIONOFRESP",
    "HASNONACCREDITEDINVESTORS",
    "NUMBERNONACCREDITEDINVESTORS",
    "TOTALNUMBERALREADYINVESTED",
    "SALESCOMM_DOLLARAMOUNT",
    "SALESCOMM_ISESTIMATE",
    "FINDERSFEE_DOLLARAMOUNT",
    "FINDERSFEE_ISESTIMATE",
    "FINDERFEECLARIFICATIONOFRESP",
    "GROSSPROCEEDSUSED_DOLLARAMOUNT",
    "GROSSPROCEEDSUSED_ISESTIMATE",
    "GROSSPROCEEDSUSED_CLAROFRESP",
    "AUTHORIZEDREPRESENTATIVE",
)
RECIPIENT_COLUMNS = (
    "ACCESSIONNUMBER",
    "RECIPIENT_SEQ_KEY",
    "RECIPIENTNAME",
    "RECIPIENTCRDNUMBER",
    "ASSOCIATEDBDNAME",
    "ASSOCIATEDBDCRDNUMBER",
    "STREET1",
    "STREET2",
    "CITY",
    "STATEORCOUNTRY",
    "STATEORCOUNTRYDESCRIPTION",
    "ZIPCODE",
    "STATES_OR_VALUE_LIST",
    "DESCRIPTIONS_LIST",
    "FOREIGNSOLICITATION",
)
PERSON_COLUMNS = (
    "ACCESSIONNUMBER",
    "RELATEDPERSON_SEQ_KEY",
    "FIRSTNAME",
    "MIDDLENAME",
    "LASTNAME",
    "STREET1",
    "STREET2",
    "CITY",
    "STATEORCOUNTRY",
    "STATEORCOUNTRYDESCRIPTION",
    "ZIPCODE",
    "RELATIONSHIP_1",
    "RELATIONSHIP_2",
    "RELATIONSHIP_3",
    "RELATIONSHIPCLARIFICATION",
)
SIGNATURE_COLUMNS = (
    "ACCESSIONNUMBER",
    "SIGNATURE_SEQ_KEY",
    "ISSUERNAME",
    "SIGNATURENAME",
    "NAMEOFSIGNER",
    "SIGNATURETITLE",
    "SIGNATUREDATE",
)

Row = list[str | None]  # one cleaned row in its table's 2026 column order
Entry = tuple[int, Row]  # (first physical line in the member, row)

_FORM_D_TYPES = frozenset({"D", "D/A"})  # as parse.FORM_D_TYPES (parse imports lxml; this needs not)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
# The XML parser's checkbox texts, plus YES/NO and TRUE/FALSE in any case (the data sets' spellings).
_BOOLEANS = dict.fromkeys(TRUE_TEXTS, True) | dict.fromkeys(FALSE_TEXTS, False)
_BOOLEANS_ANY_CASE = {"true": True, "yes": True, "false": False, "no": False}
_YEAR_OF_INC = {
    "overfiveyears": "over_five_years",
    "withinfiveyears": "within_five_years",
    "yettobeformed": "yet_to_be_formed",
}
_ZERO = Decimal(0)
_YEAR = "YEAROFINC_VALUE_ENTERED"
_ZIP = "ZIPCODE"
_MAX_ZIP_CODE = MAX_LENGTHS["zipCode"]


class BadValue(Exception):
    """A value the Form D schema does not allow; the caller adds the table and line."""

    def __init__(self, column: str, value: str, expected: str) -> None:
        shown = value if len(value) <= 60 else value[:57] + "..."
        super().__init__(f"{column} holds {shown!r}, which is not {expected}")
        self.reason = str(self)


class RowError(Exception):
    """The filing cannot be built: ``reason`` names the column (or the missing row) and value."""

    def __init__(self, table: str, line: int, reason: str) -> None:
        super().__init__(reason)
        self.table = table
        self.line = line
        self.reason = reason


# ----------------------------------------------------------------------------- values


def flag(value: str | None, column: str) -> bool:
    """A checkbox: absent (None) is False, as in the XML (EDGAR omits unticked boxes)."""
    if value is None:
        return False
    result = _BOOLEANS.get(value)
    if result is None:
        result = _BOOLEANS_ANY_CASE.get(value.lower())
        if result is None:
            raise BadValue(column, value, "true or false (or YES or NO)")
    return result


def _optional_flag(value: str | None, column: str) -> bool | None:
    return None if value is None else flag(value, column)


def _whole_number(value: str, column: str) -> str:
    """The digits of a whole number the schema allows (as the XML parser's), else ``BadValue``."""
    digits = whole_number_digits(value)
    if digits is None:
        raise BadValue(column, value, "a whole number of at most 12 ASCII digits")
    return digits


def _amount(value: str | None, column: str) -> Decimal | None:
    if value is None:
        return None
    if value == "0":  # half the amounts filed (fees, commissions): one shared instance
        return _ZERO
    return Decimal(_whole_number(value, column))


def _amount_or_indefinite(value: str | None, column: str) -> tuple[Decimal | None, bool]:
    """(amount, is_indefinite): "Indefinite" (any case) is None plus True, never 0."""
    if value is None:
        return None, False
    if value.lower() == "indefinite":
        return None, True
    return _amount(value, column), False


def _count(value: str | None, column: str) -> int | None:
    return None if value is None else int(_whole_number(value, column))


def _cik(value: str | None) -> str | None:
    if value is None:
        return None
    cik = cik_digits(value)
    if cik is None:
        raise BadValue("CIK", value, "a CIK of 1 to 10 digits")
    return cik


def _bounded(value: str | None, column: str, element: str) -> str | None:
    """A text no longer than the schema allows its XML element (``normalise.MAX_LENGTHS``)."""
    if value is not None and len(value) > MAX_LENGTHS[element]:
        raise BadValue(column, value, f"at most {MAX_LENGTHS[element]} characters long, as the schema allows")
    return value


def _address(
    street1: str | None,
    street2: str | None,
    city: str | None,
    state: str | None,
    description: str | None,
    zip_code: str | None,
) -> Address | None:
    """None when no part is given, as the XML parser's ``_address``."""
    if (
        street1 is None
        and street2 is None
        and city is None
        and state is None
        and description is None
        and zip_code is None
    ):
        return None
    return new_address(street1, street2, city, state, description, zip_code)


def _names(first: str | None, second: str | None, third: str | None) -> tuple[str, ...]:
    """The given ones of up to three columns (previous names, relationships), in order."""
    if third is None:
        if second is None:
            return () if first is None else (first,)
        if first is not None:
            return (first, second)
    elif first is not None and second is not None:
        return (first, second, third)
    return tuple([name for name in (first, second, third) if name is not None])


def _items(value: str | None) -> list[str]:
    """A comma-separated list ("06b, 3C.7"), items stripped, empty ones and placeholders dropped."""
    if value is None:
        return []
    items = [item.strip() for item in value.split(",")]
    return [item for item in items if item and item not in PLACEHOLDERS]


def _exemptions(value: str | None) -> tuple[str, ...]:
    # Spaces inside a code removed, as the XML parser does ("3C. 7" is "3C.7").
    codes = tuple(["".join(item.split()) for item in _items(value)])
    for code in codes:
        _bounded(code, "FEDERALEXEMPTIONS_ITEMS_LIST", "item")
    return codes


def _states(value: str | None) -> tuple[tuple[str, ...], bool]:
    """(state codes in order, is_all_states): "All States" is the flag, not a state."""
    states = []
    is_all_states = False
    for item in _items(value):
        if item.lower() == "all states":
            is_all_states = True
        else:
            states.append(item)
    return tuple(states), is_all_states


def _year_of_inc_choice(value: str | None) -> str | None:
    if value is None:
        return None
    choice = _YEAR_OF_INC.get(value.lower())
    if choice is None:
        raise BadValue("YEAROFINC_TIMESPAN_CHOICE", value, "overFiveYears, withinFiveYears or yetToBeFormed")
    return choice


def _seq(value: str | None, column: str) -> int | None:
    if value is None:
        return None
    if not (value.isdigit() and value.isascii()):
        raise BadValue(column, value, "a sequence number")
    return int(value)


# ----------------------------------------------------------------------------- records


class RowBuilder:
    """Builds each filing's record from its rows; keeps the (small) caches of one archive."""

    def __init__(self) -> None:
        # Dates repeat: a quarter has ~65 filing dates and few thousand distinct others.
        self._dates: dict[str, date] = {}
        self.notices: list[tuple[str, int, str]] = []  # (table, line, message), drained by the caller

    # -- dates

    def filing_date(self, value: str | None) -> date:
        """FILING_DATE: ``31-MAR-2026`` or ``31-MAR-26`` (the readme's form); ISO accepted too."""
        if value is None:
            raise BadValue("FILING_DATE", "", "a date (DD-MON-YYYY)")
        found = self._dates.get(value)
        if found is None:
            found = self._parse_date(value, "FILING_DATE", two_digit_years=True)
        return found

    def any_date(self, value: str | None, column: str) -> date | None:
        """SALE_DATE, SIGNATUREDATE: ISO ``2024-02-29`` as in the XML; ``29-FEB-2024`` accepted."""
        if value is None:
            return None
        found = self._dates.get(value)
        if found is None:
            found = self._parse_date(value, column, two_digit_years=False)
        return found

    def _parse_date(self, value: str, column: str, *, two_digit_years: bool) -> date:
        parsed: date | None = None
        try:
            parsed = date.fromisoformat(value)  # as the XML parser reads dates
        except ValueError:
            day, _, rest = value.partition("-")
            month, _, year = rest.partition("-")
            number = _MONTHS.get(month.upper())
            digits = (4, 2) if two_digit_years else (4,)
            if (
                number is not None
                and day.isdigit()
                and day.isascii()
                and len(year) in digits
                and year.isdigit()
                and year.isascii()
            ):
                # DD-MON-YY: electronic Form D began in 2009, so a two-digit year is 20YY.
                full_year = int(year) + (2000 if len(year) == 2 else 0)
                try:
                    parsed = date(full_year, number, int(day))
                except ValueError:  # 30-FEB-2024
                    parsed = None
        if parsed is None:
            expected = "a date (DD-MON-YYYY)" if two_digit_years else "a date (YYYY-MM-DD)"
            raise BadValue(column, value, expected)
        if len(self._dates) < 100_000:  # bounded: a hostile archive cannot grow it without end
            self._dates[value] = parsed
        return parsed

    # -- the filing

    def filing(
        self,
        accession: str,
        submission: Entry,
        offering: Entry | None,
        issuers: list[Entry],
        persons: list[Entry],
        recipients: list[Entry],
        signatures: list[Entry],
    ) -> FormDFiling:
        """One filing's record; ``RowError`` names the table, line and column that prevent it."""
        sub_line, sub = submission
        (_, file_number, filed, _sic, schema, submission_type, test_or_live, _, over_100) = sub
        try:
            filed_as_of = self.filing_date(filed)
            if submission_type not in _FORM_D_TYPES:
                raise BadValue("SUBMISSIONTYPE", submission_type or "", "D or D/A (a Form D)")
            has_over_100_issuers = flag(over_100, "OVER100ISSUERFLAG")
            schema = _bounded(schema, "SCHEMAVERSION", "schemaVersion")
            test_or_live = _bounded(test_or_live, "TESTORLIVE", "testOrLive")
        except BadValue as exc:
            raise RowError("FORMDSUBMISSION", sub_line, exc.reason) from None
        if offering is None:
            raise RowError("FORMDSUBMISSION", sub_line, "no OFFERING row has this filing's ACCESSIONNUMBER")
        primary, co_issuers = self._issuers(issuers, sub_line)
        assert primary.cik is not None, "checked by _issuers"
        offer, is_authorized_representative = self._offering(offering, self._recipients(recipients))
        document = new_form_d_document(
            schema_version=schema,
            submission_type=submission_type,
            test_or_live=test_or_live,
            primary_issuer=primary,
            co_issuers=co_issuers,
            has_over_100_issuers=has_over_100_issuers,
            related_persons=self._persons(persons),
            offering=offer,
            is_authorized_representative=is_authorized_representative,
            signatures=self._signatures(signatures),
        )
        header = new_sec_header(
            accession_number=accession,
            submission_type=submission_type,
            filed_as_of_date=filed_as_of,
            accepted_at=None,  # the data sets carry no acceptance time
            filers=(new_filer(primary.cik, primary.entity_name, file_number),),
        )
        return new_form_d_filing(document, header, SOURCE_DATASET)

    def _ordered(self, entries: list[Entry], table: str, column: str, at: int = 1) -> list[Entry]:
        """Rows in SEQ_KEY (``row[at]``) order; a repeated SEQ_KEY is kept once.

        Nearly always the rows come in order with distinct keys: that is checked with a few C
        calls for the whole list, and only other lists are sorted row by row.
        """
        if len(entries) == 1:
            seq = entries[0][1][at]
            if seq is not None and not (seq.isdigit() and seq.isascii()):
                raise RowError(table, entries[0][0], BadValue(column, seq, "a sequence number").reason)
            return entries
        texts = [row[at] for _, row in entries]
        if None not in texts:
            keys = cast(list[str], texts)
            joined = "".join(keys)
            if joined.isdigit() and joined.isascii():
                numbers = list(map(int, keys))
                if numbers == sorted(set(numbers)):  # increasing: in order, no repeats
                    return entries
        return self._sorted(entries, table, column, at)

    def _sorted(self, entries: list[Entry], table: str, column: str, at: int) -> list[Entry]:
        """``_ordered``'s general case: SEQ_KEY order, line order for rows without one."""
        keyed = []
        for line, row in entries:
            try:
                seq = _seq(row[at], column)
            except BadValue as exc:
                raise RowError(table, line, exc.reason) from None
            keyed.append(((0, seq, line) if seq is not None else (1, line, line), line, row))
        keyed.sort(key=lambda item: item[0])
        ordered: list[Entry] = []
        previous: int | None = None
        for (unnumbered, seq, _), line, row in keyed:
            if not unnumbered and seq == previous:
                self.notices.append((table, line, f"repeats {column} {seq} of this filing: kept once"))
                continue
            previous = None if unnumbered else seq
            ordered.append((line, row))
        return ordered

    def _issuers(self, entries: list[Entry], sub_line: int) -> tuple[Issuer, tuple[Issuer, ...]]:
        primary: Issuer | None = None
        co_issuers: list[Issuer] = []
        for line, row in self._ordered(entries, "ISSUERS", "ISSUER_SEQ_KEY", 2):
            (
                _,
                is_primary,
                _,
                cik,
                name,
                street1,
                street2,
                city,
                state,
                description,
                zip_code,
                phone,
                jurisdiction,
                previous_1,
                previous_2,
                previous_3,
                edgar_previous_1,
                edgar_previous_2,
                edgar_previous_3,
                entity_type,
                entity_other,
                choice,
                year,
            ) = row
            try:
                issuer = new_issuer(
                    _cik(cik),  # cik
                    name,  # entity_name
                    _address(
                        street1, street2, city, state, description, _bounded(zip_code, _ZIP, "zipCode")
                    ),  # address
                    _bounded(phone, "ISSUERPHONENUMBER", "issuerPhoneNumber"),  # phone_number
                    jurisdiction,  # jurisdiction_of_inc
                    _names(previous_1, previous_2, previous_3),  # issuer_previous_names
                    _names(edgar_previous_1, edgar_previous_2, edgar_previous_3),  # edgar_previous_names
                    _bounded(entity_type, "ENTITYTYPE", "entityType"),  # entity_type
                    entity_other,  # entity_type_other_description
                    _year_of_inc_choice(choice),  # year_of_inc_choice
                    _count(_bounded(year, _YEAR, "yearOfInc/value"), _YEAR),  # year_of_inc
                )
                is_primary_issuer = flag(is_primary, "IS_PRIMARYISSUER_FLAG")
            except BadValue as exc:
                raise RowError("ISSUERS", line, exc.reason) from None
            if not is_primary_issuer:
                co_issuers.append(issuer)
            elif primary is not None:
                reason = "a second issuer has IS_PRIMARYISSUER_FLAG YES for this filing"
                raise RowError("ISSUERS", line, reason)
            elif issuer.cik is None:
                raise RowError("ISSUERS", line, "the primary issuer's CIK is empty")
            elif issuer.entity_name is None:  # as the XML parser: every Form D names its issuer
                raise RowError("ISSUERS", line, "the primary issuer's ENTITYNAME is empty")
            else:
                primary = issuer
        if primary is None:
            reason = (
                f"none of the filing's {len(entries)} ISSUERS rows has IS_PRIMARYISSUER_FLAG YES"
                if entries
                else "no ISSUERS row has this filing's ACCESSIONNUMBER"
            )
            raise RowError("FORMDSUBMISSION", sub_line, reason)
        return primary, tuple(co_issuers)

    def _persons(self, entries: list[Entry]) -> tuple[RelatedPerson, ...]:
        persons = []
        for line, row in self._ordered(entries, "RELATEDPERSONS", "RELATEDPERSON_SEQ_KEY"):
            (
                _,
                _,
                first,
                middle,
                last,
                street1,
                street2,
                city,
                state,
                description,
                zip_code,
                relationship_1,
                relationship_2,
                relationship_3,
                clarification,
            ) = row
            if zip_code is not None and len(zip_code) > _MAX_ZIP_CODE:  # as the XML parser refuses it
                try:
                    _bounded(zip_code, _ZIP, "zipCode")
                except BadValue as exc:
                    raise RowError("RELATEDPERSONS", line, exc.reason) from None
            # _address inlined: the most frequent record of a quarter (~10 a filing).
            if (
                street1 is None
                and street2 is None
                and city is None
                and state is None
                and description is None
                and zip_code is None
            ):
                address = None
            else:
                address = new_address(street1, street2, city, state, description, zip_code)
            persons.append(
                new_related_person(
                    first,
                    middle,
                    last,
                    address,
                    _names(relationship_1, relationship_2, relationship_3),
                    clarification,
                )
            )
        return tuple(persons)

    def _recipients(self, entries: list[Entry]) -> tuple[SalesCompensationRecipient, ...]:
        recipients = []
        for line, row in self._ordered(entries, "RECIPIENTS", "RECIPIENT_SEQ_KEY"):
            (
                _,
                _,
                name,
                crd,
                broker_dealer,
                broker_dealer_crd,
                street1,
                street2,
                city,
                state,
                description,
                zip_code,
                states_list,
                _descriptions,  # the names of the states' codes, as the XML's <description>
                foreign,
            ) = row
            states, is_all_states = _states(states_list)
            try:
                is_foreign = flag(foreign, "FOREIGNSOLICITATION")
                crd = _bounded(crd, "RECIPIENTCRDNUMBER", "recipientCRDNumber")
                broker_dealer_crd = _bounded(
                    broker_dealer_crd, "ASSOCIATEDBDCRDNUMBER", "associatedBDCRDNumber"
                )
                zip_code = _bounded(zip_code, _ZIP, "zipCode")
            except BadValue as exc:
                raise RowError("RECIPIENTS", line, exc.reason) from None
            recipients.append(
                new_recipient(
                    name,
                    crd,
                    broker_dealer,
                    broker_dealer_crd,
                    _address(street1, street2, city, state, description, zip_code),
                    states,
                    is_all_states,
                    is_foreign,
                )
            )
        return tuple(recipients)

    def _signatures(self, entries: list[Entry]) -> tuple[Signature, ...]:
        signatures = []
        for line, row in self._ordered(entries, "SIGNATURES", "SIGNATURE_SEQ_KEY"):
            (_, _, issuer_name, signature_name, signer, title, signed) = row
            try:
                signature_date = self.any_date(signed, "SIGNATUREDATE")
            except BadValue as exc:
                raise RowError("SIGNATURES", line, exc.reason) from None
            signatures.append(new_signature(issuer_name, signature_name, signer, title, signature_date))
        return tuple(signatures)

    def _offering(
        self, entry: Entry, recipients: tuple[SalesCompensationRecipient, ...]
    ) -> tuple[Offering, bool]:
        line, row = entry
        (
            _,
            industry_group,
            fund_type,
            is_40_act,
            revenue_range,
            nav_range,
            exemptions,
            is_amendment,
            previous,
            sale_date,
            yet_to_occur,
            more_than_one_year,
            is_equity,
            is_debt,
            is_option,
            is_security_to_be_acquired,
            is_pooled,
            is_tenant_in_common,
            is_mineral,
            is_other,
            other_description,
            is_business_combination,
            business_combination_clarification,
            minimum_investment,
            over_100_recipients,
            total_offering,
            total_sold,
            total_remaining,
            sales_clarification,
            has_non_accredited,
            non_accredited,
            total_investors,
            commissions,
            commissions_estimate,
            finders_fees,
            finders_estimate,
            fees_clarification,
            proceeds,
            proceeds_estimate,
            proceeds_clarification,
            authorized_representative,
        ) = row
        if total_sold is None:  # as the XML parser: every Form D says how much was sold
            raise RowError("OFFERING", line, "TOTALAMOUNTSOLD is empty, where every Form D gives an amount")
        try:
            amount, amount_indefinite = _amount_or_indefinite(total_offering, "TOTALOFFERINGAMOUNT")
            remaining, remaining_indefinite = _amount_or_indefinite(total_remaining, "TOTALREMAINING")
            # The texts stored in columns of bounded length, no longer than the schema allows.
            nav_range = _bounded(nav_range, "AGGREGATENETASSETVALUERANGE", "aggregateNetAssetValueRange")
            previous = _bounded(previous, "PREVIOUSACCESSIONNUMBER", "previousAccessionNumber")
            # Positional, in Offering's field order, each argument named by its comment (as in
            # parse._offering); the round-trip tests set every field to a distinct value.
            offering = new_offering(
                _bounded(industry_group, "INDUSTRYGROUPTYPE", "industryGroupType"),  # industry_group
                _bounded(fund_type, "INVESTMENTFUNDTYPE", "investmentFundType"),  # investment_fund_type
                _optional_flag(is_40_act, "IS40ACT"),  # is_40_act
                _bounded(revenue_range, "REVENUERANGE", "revenueRange"),  # revenue_range
                nav_range,  # aggregate_net_asset_value_range
                _exemptions(exemptions),  # federal_exemptions
                flag(is_amendment, "ISAMENDMENT"),  # is_amendment
                previous_accession(previous),  # previous_accession_number
                self.any_date(sale_date, "SALE_DATE"),  # first_sale_date
                flag(yet_to_occur, "YETTOOCCUR"),  # is_first_sale_yet_to_occur
                flag(more_than_one_year, "MORETHANONEYEAR"),  # is_more_than_one_year
                flag(is_equity, "ISEQUITYTYPE"),  # is_equity
                flag(is_debt, "ISDEBTTYPE"),  # is_debt
                flag(is_option, "ISOPTIONTOACQUIRETYPE"),  # is_option_to_acquire
                flag(is_security_to_be_acquired, "ISSECURITYTOBEACQUIREDTYPE"),  # is_security_to_be_acquired
                flag(is_pooled, "ISPOOLEDINVESTMENTFUNDTYPE"),  # is_pooled_investment_fund_interest
                flag(is_tenant_in_common, "ISTENANTINCOMMONTYPE"),  # is_tenant_in_common
                flag(is_mineral, "ISMINERALPROPERTYTYPE"),  # is_mineral_property
                flag(is_other, "ISOTHERTYPE"),  # is_other_security
                other_description,  # other_security_description
                flag(is_business_combination, "ISBUSINESSCOMBINATIONTRANS"),  # is_business_combination
                business_combination_clarification,  # business_combination_clarification
                _amount(minimum_investment, "MINIMUMINVESTMENTACCEPTED"),  # minimum_investment
                recipients,  # sales_compensation_recipients
                flag(over_100_recipients, "OVER100RECIPIENTFLAG"),  # has_over_100_recipients
                amount,  # total_offering_amount
                amount_indefinite,  # is_offering_amount_indefinite
                _amount(total_sold, "TOTALAMOUNTSOLD"),  # total_amount_sold
                remaining,  # total_remaining
                remaining_indefinite,  # is_remaining_indefinite
                sales_clarification,  # sales_amounts_clarification
                flag(has_non_accredited, "HASNONACCREDITEDINVESTORS"),  # has_non_accredited_investors
                _count(non_accredited, "NUMBERNONACCREDITEDINVESTORS"),  # non_accredited_investors
                _count(total_investors, "TOTALNUMBERALREADYINVESTED"),  # total_investors
                _amount(commissions, "SALESCOMM_DOLLARAMOUNT"),  # sales_commissions
                flag(commissions_estimate, "SALESCOMM_ISESTIMATE"),  # is_sales_commissions_estimate
                _amount(finders_fees, "FINDERSFEE_DOLLARAMOUNT"),  # finders_fees
                flag(finders_estimate, "FINDERSFEE_ISESTIMATE"),  # is_finders_fees_estimate
                fees_clarification,  # commissions_clarification
                _amount(proceeds, "GROSSPROCEEDSUSED_DOLLARAMOUNT"),  # gross_proceeds_used
                flag(proceeds_estimate, "GROSSPROCEEDSUSED_ISESTIMATE"),  # is_gross_proceeds_estimate
                proceeds_clarification,  # proceeds_clarification
            )
            return offering, flag(authorized_representative, "AUTHORIZEDREPRESENTATIVE")
        except BadValue as exc:
            raise RowError("OFFERING", line, exc.reason) from None
