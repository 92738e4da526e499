"""The catalog file format ("kattoo-catalog/1", docs/data-formats.md): its kinds of rows, the
fields of each kind, and how rows refer to one another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy

from kattoo.catalog.models import (
    District,
    ExistingClassSet,
    GradeKind,
    House,
    Language,
    MicrodistrictAddress,
    Ownership,
    Parity,
    Region,
    School,
    Settlement,
    Street,
    Teacher,
)

FORMAT = "kattoo-catalog/1"

# The order rows are written in: every kind refers only to kinds before it.
KINDS: tuple[str, ...] = (
    "regions",
    "districts",
    "settlements",
    "streets",
    "houses",
    "schools",
    "microdistricts",
    "class_sets",
    "teachers",
)
KIND_LABELS: dict[str, Any] = {
    "regions": gettext_lazy("regions"),
    "districts": gettext_lazy("districts"),
    "settlements": gettext_lazy("settlements"),
    "streets": gettext_lazy("streets"),
    "houses": gettext_lazy("houses"),
    "schools": gettext_lazy("schools"),
    "microdistricts": gettext_lazy("microdistrict lines"),
    "class_sets": gettext_lazy("class-sets"),
    "teachers": gettext_lazy("teachers"),
}
# Top-level keys that carry no rows. "demo" is the demo data's list of interesting people.
OTHER_KEYS = frozenset({"format", "academic_year", "demo", "comment"})

MODELS: dict[str, type[models.Model]] = {
    "regions": Region,
    "districts": District,
    "settlements": Settlement,
    "streets": Street,
    "houses": House,
    "schools": School,
    "microdistricts": MicrodistrictAddress,
    "class_sets": ExistingClassSet,
    "teachers": Teacher,
}

# The natural key of the kinds other rows refer to; it is also a field of their model.
KEY_FIELD = {
    "regions": "soate",
    "districts": "soate",
    "settlements": "soate",
    "streets": "code",
    "schools": "code",
}
SINGULAR: dict[str, Any] = {
    "regions": gettext_lazy("region"),
    "districts": gettext_lazy("district"),
    "settlements": gettext_lazy("settlement"),
    "streets": gettext_lazy("street"),
    "schools": gettext_lazy("school"),
}

# The fields that name a row of another kind by its natural key, in KINDS order: a row may
# refer to a row of this file or to one the catalog already holds.
REFERENCES: dict[str, dict[str, str]] = {
    "districts": {"region": "regions"},
    "settlements": {"district": "districts"},
    "streets": {"settlement": "settlements"},
    "houses": {"street": "streets"},
    "schools": {"district": "districts", "settlement": "settlements"},
    "microdistricts": {"school": "schools", "street": "streets"},
    "class_sets": {"school": "schools"},
    "teachers": {"school": "schools"},
}


# A school's address in these languages is required: given as its own field, or through the
# one "address" of an older file, which is read but never stored as it is.
SCHOOL_ADDRESSES = ("address_ky", "address_ru")
LEGACY_ADDRESS = "address"
NOT_STORED: dict[str, frozenset[str]] = {"schools": frozenset({LEGACY_ADDRESS})}


def model_field(kind: str, name: str) -> str:
    """The model field a row field is stored in: a reference is stored as the row's id."""
    return f"{name}_id" if name in REFERENCES.get(kind, {}) else name


# -- field specifications ---------------------------------------------------------------------
def _max_length(model: type[models.Model], name: str) -> int:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.CharField) and model_field.max_length is not None
    return model_field.max_length


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str  # "text" | "soate" | "int" | "bool" | "choice" | "pin"
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    default: Any = None


def _text(model: type[models.Model], name: str, *, required: bool = True, as_: str = "") -> Field:
    return Field(
        as_ or name,
        "text",
        required=required,
        max_length=_max_length(model, name),
        default=None if required else "",
    )


def _soate(name: str, *, required: bool = True) -> Field:
    return Field(name, "soate", required=required)


SPECS: dict[str, tuple[Field, ...]] = {
    "regions": (
        _soate("soate"),
        _text(Region, "name_ky"),
        _text(Region, "name_ru"),
        _text(Region, "name_en", required=False),
    ),
    "districts": (
        _soate("soate"),
        _soate("region"),
        _text(District, "name_ky"),
        _text(District, "name_ru"),
        _text(District, "name_en", required=False),
    ),
    "settlements": (
        _soate("soate"),
        _soate("district"),
        _text(Settlement, "name_ky"),
        _text(Settlement, "name_ru"),
    ),
    "streets": (
        _text(Street, "code"),
        _soate("settlement"),
        _text(Street, "name_ky"),
        _text(Street, "name_ru"),
    ),
    "houses": (
        _text(Street, "code", as_="street"),
        _text(House, "number"),
        _text(House, "code", required=False),
    ),
    "schools": (
        _text(School, "code"),
        _text(School, "name_ky"),
        _text(School, "name_ru"),
        _text(School, "name_uz", required=False),
        _text(School, "name_en", required=False),
        _soate("district"),
        _soate("settlement", required=False),
        # Issue 14: the address in Kyrgyz and Russian (each required, see SCHOOL_ADDRESSES),
        # Uzbek and English optional; an older file's one "address" stands for both.
        _text(School, "address_ky", required=False),
        _text(School, "address_ru", required=False),
        _text(School, "address_uz", required=False),
        _text(School, "address_en", required=False),
        _text(School, "address_ru", required=False, as_="address"),
        Field("ownership", "choice", required=True, choices=tuple(Ownership.values)),
        Field("opted_in", "bool", default=False),
    ),
    "microdistricts": (
        _text(School, "code", as_="school"),
        _text(Street, "code", as_="street"),
        Field("house_from", "int"),
        Field("house_to", "int"),
        Field("parity", "choice", choices=tuple(Parity.values), default=Parity.ALL.value),
        _text(MicrodistrictAddress, "note", required=False),
    ),
    "class_sets": (
        _text(School, "code", as_="school"),
        Field("grade", "choice", required=True, choices=tuple(GradeKind.values)),
        _text(ExistingClassSet, "letter", required=False),
        Field("language", "choice", required=True, choices=tuple(Language.values)),
        Field("size", "int", required=True),
    ),
    "teachers": (
        _text(School, "code", as_="school"),
        Field("pin", "pin", required=True),
        _text(Teacher, "full_name", required=False),
    ),
}
