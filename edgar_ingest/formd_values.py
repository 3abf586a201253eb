"""The values of a Form D's XML leaves: their conversions, and the refusals that name the element.

Used by ``parse`` once a section's leaves are gathered into a dict keyed by tag (``Values``; the
repeatable ones in ``Lists``). A value the schema does not allow is refused with a
``MalformedDocumentError`` that quotes the element as filed (cut when long, escaped when it holds a
line break or a control character, so that every message stays one line), never rounded or cleaned
into a value. Pure: no I/O, no state.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from edgar_ingest.errors import MalformedDocumentError
from edgar_ingest.normalise import FALSE_TEXTS as _FALSE
from edgar_ingest.normalise import MAX_LENGTHS
from edgar_ingest.normalise import TRUE_TEXTS as _TRUE
from edgar_ingest.normalise import cik_digits as _cik_digits
from edgar_ingest.normalise import new_address as _new_address
from edgar_ingest.normalise import whole_number_digits as _whole_number_digits
from edgar_ingest.records import Address

Values = dict[str, str]
Lists = dict[str, list[str]]


# ----------------------------------------------------------------------------- tags


def local(tag: object) -> str:
    text = str(tag)
    return text.rpartition("}")[2] if text.startswith("{") else text


def namespace_note(tag: object) -> str:
    text = str(tag)
    return f" in namespace {text[1:].partition('}')[0]}" if text.startswith("{") else ""


# ----------------------------------------------------------------------------- refusals

_SHOWN = 40  # characters of a value quoted in a message
_NOT_SCHEMA = "the document does not follow the EDGAR Form D schema: fetch it again from EDGAR or report it."


def in_namespace(tag: str) -> MalformedDocumentError:
    return MalformedDocumentError(
        f"The Form D has <{local(tag)}>{namespace_note(tag)}, where every element of a Form D is in no "
        f"namespace; {_NOT_SCHEMA}"
    )


def shown_element(tag: str, text: str) -> str:
    """``<tag>text</tag>`` for a message: a long text cut, with how much was left out."""
    name = tag.rpartition("/")[2]
    shown = text[:_SHOWN]
    if not shown.isprintable():  # a line break or a control character: escaped, the message stays one line
        shown = repr(shown)[1:-1]
    if len(text) > _SHOWN:
        shown = f"{shown} [{len(text) - _SHOWN:,} more characters]"
    return f"<{name}>{shown}</{name}>"


def malformed_value(tag: str, text: str, expected: str) -> MalformedDocumentError:
    return MalformedDocumentError(
        f"The Form D has {shown_element(tag, text)}, which is not {expected}; {_NOT_SCHEMA}"
    )


def too_long(tag: str, text: str) -> MalformedDocumentError:
    limit = MAX_LENGTHS[tag]
    return MalformedDocumentError(
        f"The Form D has {shown_element(tag, text)}, which is longer than the schema allows there (at most "
        f"{limit} characters); {_NOT_SCHEMA}"
    )


def holds_elements(node: etree._Element) -> MalformedDocumentError:
    """An element with text and child elements (which no element of the schema has), or a leaf of
    the schema with child elements."""
    child = f"<{local(next(iter(node)).tag)}>"
    text = (node.text or "").strip()
    if text:
        return MalformedDocumentError(
            f"The Form D's <{local(node.tag)}> holds both text ({text[:_SHOWN]!r}) and a child element "
            f"({child}), which no element of the schema does; {_NOT_SCHEMA}"
        )
    return MalformedDocumentError(
        f"The Form D's <{local(node.tag)}> holds a child element ({child}) where the schema has a single "
        f"value; {_NOT_SCHEMA}"
    )


def repeated(tag: str) -> MalformedDocumentError:
    name = tag.rpartition("/")[2]
    return MalformedDocumentError(
        f"The Form D gives <{name}> more than once where the schema allows one; {_NOT_SCHEMA}"
    )


def missing(tag: str, section: str) -> MalformedDocumentError:
    return MalformedDocumentError(
        f"The Form D has no <{tag}> in <{section}>, which every Form D gives; the document is incomplete: "
        "fetch it again from EDGAR."
    )


def bounded(values: Values, tag: str) -> str | None:
    """A text the store keeps in a column of bounded length: longer than the schema allows is refused."""
    text = values.get(tag)
    if text is not None and len(text) > MAX_LENGTHS[tag]:
        raise too_long(tag, text)
    return text


# ----------------------------------------------------------------------------- values


def flag(values: Values, tag: str) -> bool:
    """A checkbox: absent or empty is False (EDGAR omits unticked boxes)."""
    text = values.get(tag)
    if text is None or text in _FALSE:
        return False
    if text in _TRUE:
        return True
    raise malformed_value(tag, text, "true or false")


def optional_flag(values: Values, tag: str) -> bool | None:
    text = values.get(tag)
    return None if text is None else flag(values, tag)


_ZERO = Decimal(0)  # over half the amounts filed are "0" (fees, commissions, minimum investment)


_WHOLE_DOLLARS = "a whole number of dollars from 0 to 999,999,999,999"


def decimal(tag: str, text: str) -> Decimal:
    """An amount as the schema allows it (whole dollars, at most 12 digits), else malformed: a
    fraction, ``1,000`` or 13 digits is refused naming the element, never rounded or cleaned."""
    if text == "0":  # Decimal is immutable: one shared instance, without the ~200 ns construction
        return _ZERO
    digits = _whole_number_digits(text)
    if digits is None:
        raise malformed_value(tag, text, _WHOLE_DOLLARS)
    return Decimal(digits)


def amount(values: Values, tag: str) -> Decimal | None:
    text = values.get(tag)
    if text is None:
        return None
    if text == "0":  # the usual amount, without the call below
        return _ZERO
    return decimal(tag, text)


def amount_or_indefinite(values: Values, tag: str) -> tuple[Decimal | None, bool]:
    """(amount, is_indefinite): "Indefinite" is None plus True, never 0."""
    text = values.get(tag)
    if text is None:
        return None, False
    if text.lower() == "indefinite":
        return None, True
    return decimal(tag, text), False


def integer(values: Values, tag: str) -> int | None:
    """A count (investors) or year: a whole number as the schema allows it, else malformed."""
    text = bounded(values, tag) if tag in MAX_LENGTHS else values.get(tag)
    if text is None:
        return None
    digits = _whole_number_digits(text)
    if digits is None:
        raise malformed_value(tag, text, "a whole number from 0 to 999,999,999,999")
    return int(digits)


def iso_date(values: Values, tag: str) -> date | None:
    text = values.get(tag)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise malformed_value(tag, text, "a date (YYYY-MM-DD)") from None


def issuer_cik(values: Values) -> str | None:
    text = values.get("cik")
    if text is None:
        return None
    cik = _cik_digits(text)
    if cik is None:
        raise malformed_value("cik", text, "a CIK of 1 to 10 digits")
    return cik


def texts(lists: Lists, *tags: str) -> tuple[str, ...]:
    if not lists:  # usually: most sections hold no list
        return ()
    if len(tags) == 1:
        return tuple(lists.get(tags[0], ()))
    return tuple(text for tag in tags for text in lists.get(tag, ()))


_MAX_ZIP_CODE = MAX_LENGTHS["zipCode"]


def address(values: Values) -> Address | None:
    """The one address of a record (issuer, person, recipient); None when none is given."""
    get = values.get
    street1 = get("street1")
    street2 = get("street2")
    city = get("city")
    state = get("stateOrCountry")
    description = get("stateOrCountryDescription")
    zip_code = get("zipCode")
    if zip_code is not None and len(zip_code) > _MAX_ZIP_CODE:
        raise too_long("zipCode", zip_code)
    # A chain of "is None", not a tuple comparison: it stops at street1, which is nearly always given.
    if (
        street1 is None
        and street2 is None
        and city is None
        and state is None
        and description is None
        and zip_code is None
    ):
        return None
    # Positional (in Address's field order) where a record is built per person: see _offering.
    return _new_address(street1, street2, city, state, description, zip_code)
