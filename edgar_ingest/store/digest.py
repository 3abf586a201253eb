"""Digests of a record: ``sha256`` of its ``repr``, with the text built about twice as fast.

``filings.record_sha256`` and ``filings.document_sha256`` have always been the sha256 of the
record's ``repr`` (see ``record_digests``); they are stored, and a changed value makes a reparse
rewrite the filing, so the text hashed must stay exactly what ``repr`` gives. The ``__repr__`` that
``dataclasses`` generates guards every call against recursion (a set insert and removal keyed by
the thread id), which is most of its cost for a Form D tree of ~20 records. ``record_repr`` builds
the same text with one generated function per record class (the same f-string the dataclass repr
uses, without the guard, which records cannot need: they are frozen trees, never cycles). A value
of any other type, subclasses of records included, goes through the builtin ``repr``; the tests
check the text equals ``repr`` for every record of the corpus.
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from collections.abc import Callable
from typing import Any, Final

from edgar_ingest import records
from edgar_ingest.records import SOURCE_FILING, FormDFiling

_Repr = Callable[[Any], str]

# The record classes of a parsed filing, whose repr is built here (``FormDFiling`` itself is not:
# its digest covers the header and the document separately).
_RECORD_CLASSES: Final = (
    records.Address,
    records.Issuer,
    records.RelatedPerson,
    records.SalesCompensationRecipient,
    records.Signature,
    records.Offering,
    records.FormDDocument,
    records.Filer,
    records.SecHeader,
)

_FAST: dict[type, _Repr] = {}


def record_repr(value: object) -> str:
    """``repr(value)``, built faster for the records of a filing (and tuples of them)."""
    fast = _FAST.get(type(value))
    if fast is not None:
        return fast(value)
    if type(value) is tuple:
        if not value:
            return "()"
        if len(value) == 1:
            return f"({record_repr(value[0])},)"
        return "(" + ", ".join(map(record_repr, value)) + ")"
    return repr(value)


def _may_hold_record(annotation: object) -> bool:
    """True when a field typed ``annotation`` can hold a record (or a tuple of records)."""
    if annotation in _RECORD_CLASSES:
        return True
    origin = typing.get_origin(annotation)
    if origin is tuple or origin is typing.Union or origin is types.UnionType:
        return any(_may_hold_record(arg) for arg in typing.get_args(annotation))
    return False


def _repr_function(cls: type) -> _Repr:
    """A function returning exactly the text of the dataclass ``__repr__`` of ``cls``.

    Generated like the dataclass's own (``exec`` of source built from the field names only):
    fields that may hold records call ``record_repr``, the others are formatted with ``!r``.
    """
    hints = typing.get_type_hints(cls)
    parts = []
    for field in dataclasses.fields(cls):
        if not field.repr:
            continue
        if _may_hold_record(hints[field.name]):
            parts.append(f"{field.name}={{_record_repr(self.{field.name})}}")
        else:
            parts.append(f"{field.name}={{self.{field.name}!r}}")
    source = (
        "def _outer(_record_repr):\n"
        "    def fast_repr(self):\n"
        f"        return f'{cls.__qualname__}({', '.join(parts)})'\n"
        "    return fast_repr\n"
    )
    scope: dict[str, Callable[[_Repr], _Repr]] = {}
    exec(source, {}, scope)  # the source is built from the dataclass's own name and field names
    fast_repr = scope["_outer"](record_repr)
    fast_repr.__qualname__ = fast_repr.__name__ = f"_repr_{cls.__name__}"
    return fast_repr


for _cls in _RECORD_CLASSES:
    _FAST[_cls] = _repr_function(_cls)


def record_digests(filing: FormDFiling) -> tuple[str, str]:
    """``(record_sha256, document_sha256)`` of a filing, as stored in ``filings``.

    The document digest is the sha256 of the document's repr: a bare XML and the full submission
    it came from share it. The record digest covers the header too, and a data-set record's
    origin (a filing record's digest has no origin prefix: it is what it always was).
    """
    document_digest = hashlib.sha256(record_repr(filing.document).encode("utf-8")).hexdigest()
    origin = "" if filing.source == SOURCE_FILING else f"{filing.source}|"
    text = f"{origin}{record_repr(filing.header)}|{document_digest}"
    return hashlib.sha256(text.encode()).hexdigest(), document_digest
