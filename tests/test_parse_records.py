"""The parser's fast record constructors build exactly what calling the record class builds.

``normalise.fast_constructor`` (used by ``parse``) fills a twin class with the same slots and then
gives the object its real class (see its docstring). These tests pin down that nothing of that
shows: the type, the values, equality, hashing, pickling, ``dataclasses.replace`` and frozenness
are those of ``cls(...)``, for every record class the parser builds, with every field set to a
distinct value.
"""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass
from typing import Any

import pytest

from edgar_ingest import normalise
from edgar_ingest.records import (
    Address,
    Filer,
    FormDDocument,
    FormDFiling,
    Issuer,
    Offering,
    RelatedPerson,
    SalesCompensationRecipient,
    SecHeader,
    Signature,
)

CONSTRUCTORS: dict[type, Any] = {
    Address: normalise.new_address,
    Filer: normalise.new_filer,
    FormDDocument: normalise.new_form_d_document,
    FormDFiling: normalise.new_form_d_filing,
    Issuer: normalise.new_issuer,
    Offering: normalise.new_offering,
    RelatedPerson: normalise.new_related_person,
    SalesCompensationRecipient: normalise.new_recipient,
    SecHeader: normalise.new_sec_header,
    Signature: normalise.new_signature,
}


def distinct_values(cls: type) -> dict[str, object]:
    """A value per field that no other field has: a value stored in the wrong slot shows."""
    return {field.name: (index, field.name) for index, field in enumerate(dataclasses.fields(cls))}


@pytest.mark.parametrize("cls", list(CONSTRUCTORS), ids=lambda cls: cls.__name__)
def test_a_fast_constructor_builds_what_the_class_builds(cls: type) -> None:
    values = distinct_values(cls)
    built: Any = CONSTRUCTORS[cls](**values)
    expected: Any = cls(**values)

    assert {name: getattr(built, name) for name in values} == values
    assert built == expected
    assert hash(built) == hash(expected)
    assert repr(built) == repr(expected)
    assert pickle.loads(pickle.dumps(built)) == expected
    first = dataclasses.fields(cls)[0].name
    changed = {first: "changed"}
    assert dataclasses.replace(built, **changed) == dataclasses.replace(expected, **changed)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, first, "changed")
    assert not hasattr(built, "__dict__")
    assert type(built) is cls


def test_a_fast_constructor_keeps_the_defaults_of_the_class() -> None:
    assert normalise.new_address() == Address()
    assert normalise.new_address(city="Rye") == Address(city="Rye")


def test_a_fast_constructor_is_refused_for_a_class_it_cannot_build_exactly() -> None:
    @dataclass(slots=True)
    class Mutable:
        value: int

    @dataclass(frozen=True)
    class WithoutSlots:
        value: int

    @dataclass(frozen=True, slots=True)
    class WithDefaultFactory:
        values: list[int] = dataclasses.field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class Base:
        value: int

    @dataclass(frozen=True, slots=True)
    class Derived(Base):
        other: int

    for cls in (Mutable, WithoutSlots, WithDefaultFactory, Derived, int):
        with pytest.raises(TypeError):
            normalise.fast_constructor(cls)
