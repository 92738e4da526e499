"""Loading the school catalog from a ministry file: regions down to houses, schools,
microdistricts, last year's class-sets and teacher rosters.

The district officer verifies the school list and microdistricts and the operator keeps them
current (§15, §17); loading them from the ministry's own spreadsheet is how that starts each
year. The file format ("kattoo-catalog/1", JSON or CSV) is documented in docs/data-formats.md.

Rules of the import:
- It is an upsert keyed by natural keys (SOATE codes, street code, school code, (street, house
  number), (school, teacher PIN)), so loading the same file twice changes nothing.
- The whole file is checked before anything is written; any bad row refuses the whole file
  (``CatalogImportError``, a ``FieldError`` naming the first bad field, with every problem in
  ``problems``), so a half-loaded catalog never exists.
- A school listed in ``microdistricts`` gets exactly the lines the file gives it (§19);
  a school listed in ``class_sets`` gets exactly the class-sets the file gives it for the
  campaign (§11). Schools not listed keep theirs. Teachers are only added or renamed, never
  removed: the school keeps its roster between imports (§24).
- One transaction, one audit record (§7).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import FieldError
from kattoo.integrations.registry.pin import InvalidPin, pin_parse

from .models import (
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
_OTHER_KEYS = frozenset({"format", "academic_year", "demo", "comment"})

# A class-set bigger than this is a typing error, not a class (§11 caps seats at 42 anyway).
CLASS_SIZE_LIMIT = 100
# Bulk writes and IN lists stay below SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500

_SOATE = re.compile(r"\d{14}")
# Yes/no as a Russian or Kyrgyz spreadsheet may write them.
_TRUE = frozenset({"true", "yes", "y", "1", "да", "ооба", "x", "+"})
_FALSE = frozenset({"false", "no", "n", "0", "нет", "жок", "-"})

M = TypeVar("M", bound=models.Model)
K = TypeVar("K")


# -- the report -------------------------------------------------------------------------------
@dataclass(slots=True)
class KindCount:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One bad field: ``field`` is a path into the file ("schools[3].district"); ``line`` is
    the CSV line the row came from, when it came from a CSV file."""

    field: str
    code: str
    message: str
    line: int | None = None

    def describe(self) -> str:
        if self.line is None:
            return f"{self.field}: {self.message}"
        return _("line %(line)d, %(field)s: %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


class CatalogImportError(FieldError):
    """The file was refused; nothing was written. Names the first problem, holds them all."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        if not problems:
            raise ValueError("CatalogImportError needs at least one problem")
        first = problems[0]
        super().__init__(first.field, first.code, first.message)
        self.problems = list(problems)
        self.line = first.line


@dataclass(slots=True)
class ImportReport:
    counts: dict[str, KindCount] = field(default_factory=lambda: {k: KindCount() for k in KINDS})
    campaign: str = ""
    errors: list[ImportProblem] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "campaign": self.campaign,
            "dry_run": self.dry_run,
            "counts": {
                kind: {
                    "created": c.created,
                    "updated": c.updated,
                    "unchanged": c.unchanged,
                    "deleted": c.deleted,
                }
                for kind, c in self.counts.items()
            },
            "errors": [
                {"field": e.field, "code": e.code, "message": e.message, "line": e.line}
                for e in self.errors
            ],
        }

    def lines(self) -> list[str]:
        """The report as translated sentences, one per kind present in the file."""
        out: list[str] = []
        for kind, c in self.counts.items():
            if not (c.created or c.updated or c.unchanged or c.deleted):
                continue
            out.append(
                _(
                    "%(kind)s: %(created)d created, %(updated)d updated, "
                    "%(unchanged)d unchanged, %(deleted)d deleted"
                )
                % {
                    "kind": KIND_LABELS[kind],
                    "created": c.created,
                    "updated": c.updated,
                    "unchanged": c.unchanged,
                    "deleted": c.deleted,
                }
            )
        if self.campaign:
            out.append(_("class-sets are for campaign %(year)s") % {"year": self.campaign})
        return out


# -- field specifications ---------------------------------------------------------------------
def _max_length(model: type[models.Model], name: str) -> int:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.CharField) and model_field.max_length is not None
    return model_field.max_length


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    type: str  # "text" | "soate" | "int" | "bool" | "choice" | "pin"
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    default: Any = None


def _text(model: type[models.Model], name: str, *, required: bool = True, as_: str = "") -> _Field:
    return _Field(
        as_ or name,
        "text",
        required=required,
        max_length=_max_length(model, name),
        default=None if required else "",
    )


def _soate(name: str, *, required: bool = True) -> _Field:
    return _Field(name, "soate", required=required)


_SPECS: dict[str, tuple[_Field, ...]] = {
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
        _text(School, "name_en", required=False),
        _soate("district"),
        _soate("settlement", required=False),
        _text(School, "address"),
        _Field("ownership", "choice", required=True, choices=tuple(Ownership.values)),
        _Field("opted_in", "bool", default=False),
    ),
    "microdistricts": (
        _text(School, "code", as_="school"),
        _text(Street, "code", as_="street"),
        _Field("house_from", "int"),
        _Field("house_to", "int"),
        _Field("parity", "choice", choices=tuple(Parity.values), default=Parity.ALL.value),
        _text(MicrodistrictAddress, "note", required=False),
    ),
    "class_sets": (
        _text(School, "code", as_="school"),
        _Field("grade", "choice", required=True, choices=tuple(GradeKind.values)),
        _text(ExistingClassSet, "letter", required=False),
        _Field("language", "choice", required=True, choices=tuple(Language.values)),
        _Field("size", "int", required=True),
    ),
    "teachers": (
        _text(School, "code", as_="school"),
        _Field("pin", "pin", required=True),
        _text(Teacher, "full_name", required=False),
    ),
}


# -- checking ---------------------------------------------------------------------------------
Row = dict[str, Any]
_KEY_FIELD = {
    "regions": "soate",
    "districts": "soate",
    "settlements": "soate",
    "streets": "code",
    "schools": "code",
}
# The field a repeated key is reported on: the last part of the key.
_DUPLICATE_FIELD = {
    **_KEY_FIELD,
    "houses": "number",
    "microdistricts": "street",
    "class_sets": "letter",
    "teachers": "pin",
}
_ROW_PATH = re.compile(r"(\w+)\[(\d+)\]")


@dataclass(slots=True)
class _Checked:
    rows: dict[str, list[Row]]
    campaign: Campaign | None


class _Checker:
    """Turns the raw file into clean rows, collecting every problem instead of stopping at the
    first, so the ministry can fix its spreadsheet in one pass."""

    def __init__(self) -> None:
        self.problems: list[ImportProblem] = []
        # Keys of rows refused for another reason: rows referring to them are not reported
        # again as "unknown", which would bury the real problem.
        self.rejected: dict[str, set[str]] = defaultdict(set)

    def problem(self, path: str, code: str, message: str, line: int | None = None) -> None:
        self.problems.append(ImportProblem(path, code, message, line))

    # one value
    def value(self, spec: _Field, raw: Any, path: str, line: int | None) -> tuple[bool, Any]:
        if isinstance(raw, str):
            raw = raw.strip()
        if raw is None or raw == "":
            if spec.required:
                self.problem(path, "required", _("This field is required."), line)
                return False, None
            return True, spec.default
        if spec.type in ("text", "soate", "pin"):
            if isinstance(raw, int) and not isinstance(raw, bool):
                raw = str(raw)  # a spreadsheet turned a code into a number
            if not isinstance(raw, str):
                self.problem(path, "invalid", _("Expected text."), line)
                return False, None
            if spec.type == "soate" and not _SOATE.fullmatch(raw):
                self.problem(path, "invalid_soate", _("A SOATE code is exactly 14 digits."), line)
                return False, None
            if spec.type == "pin":
                try:
                    pin_parse(raw)
                except InvalidPin:
                    self.problem(
                        path,
                        "invalid_pin",
                        _("A PIN is 14 digits: sex (1 or 2), birth date DDMMYYYY, 5 more digits."),
                        line,
                    )
                    return False, None
            if spec.max_length is not None and len(raw) > spec.max_length:
                self.problem(
                    path,
                    "too_long",
                    _("At most %(n)d characters.") % {"n": spec.max_length},
                    line,
                )
                return False, None
            return True, raw
        if spec.type == "int":
            if isinstance(raw, str) and raw.isdigit():
                raw = int(raw)
            if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
                self.problem(
                    path, "not_a_positive_integer", _("Expected a whole number of 1 or more."), line
                )
                return False, None
            return True, raw
        if spec.type == "bool":
            if isinstance(raw, bool):
                return True, raw
            text = str(raw).strip().lower()
            if text in _TRUE:
                return True, True
            if text in _FALSE:
                return True, False
            self.problem(path, "not_a_boolean", _("Expected true or false."), line)
            return False, None
        # choice
        text = str(raw).strip().lower()
        if text not in spec.choices:
            self.problem(
                path,
                "invalid_choice",
                _("%(value)s is not one of: %(choices)s.")
                % {"value": raw, "choices": ", ".join(spec.choices)},
                line,
            )
            return False, None
        return True, text

    # one row
    def row(self, kind: str, index: int, raw: Any) -> Row | None:
        """The row's clean values, or None when it is not even an object. A bad row is kept
        (``_ok`` false, bad values None) so that its other fields are still checked against the
        rest of the file; nothing is written while any problem exists."""
        path = f"{kind}[{index}]"
        if not isinstance(raw, dict):
            self.problem(path, "not_an_object", _("Each row must be an object."))
            return None
        line = raw.get("_line") if isinstance(raw.get("_line"), int) else None
        specs = _SPECS[kind]
        known = {s.name for s in specs}
        ok = True
        for key in raw:
            # "_line" and other "_…" keys are annotations (the CSV line, comments).
            if not (isinstance(key, str) and key.startswith("_")) and key not in known:
                self.problem(f"{path}.{key}", "unknown_field", _("Unknown field."), line)
                ok = False
        absent = {s.name for s in specs if not s.required and s.name not in raw}
        clean: Row = {"_path": path, "_line": line, "_absent": frozenset(absent)}
        for spec in specs:
            good, value = self.value(spec, raw.get(spec.name), f"{path}.{spec.name}", line)
            ok = ok and good
            clean[spec.name] = value
        clean["_ok"] = ok
        if not ok and kind in _KEY_FIELD:
            self.rejected[kind].add(str(raw.get(_KEY_FIELD[kind], "")).strip())
        return clean

    def sorted_problems(self) -> list[ImportProblem]:
        """In file order: by kind, then row, then as found."""

        def order(item: tuple[int, ImportProblem]) -> tuple[int, int, int]:
            seq, problem = item
            match = _ROW_PATH.match(problem.field)
            if match is None:
                return (-1, -1, seq)
            return (KINDS.index(match.group(1)), int(match.group(2)), seq)

        return [p for _, p in sorted(enumerate(self.problems), key=order)]

    def rows(self, data: dict[str, Any]) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        for kind in KINDS:
            raw_rows = data.get(kind, [])
            if raw_rows is None:
                raw_rows = []
            if not isinstance(raw_rows, list):
                self.problem(kind, "not_a_list", _("Expected a list of rows."))
                out[kind] = []
                continue
            cleaned = (self.row(kind, i, raw) for i, raw in enumerate(raw_rows))
            out[kind] = [r for r in cleaned if r is not None]
        return out

    def at(self, row: Row, name: str, code: str, message: str) -> None:
        self.problem(f"{row['_path']}.{name}", code, message, row["_line"])


def _key(kind: str, row: Row) -> Any:
    """The natural key a row is matched on; None where rows have no identity of their own."""
    if kind in ("regions", "districts", "settlements"):
        return row["soate"]
    if kind in ("streets", "schools"):
        return row["code"]
    if kind == "houses":
        return (row["street"], row["number"])
    if kind == "microdistricts":
        return (row["school"], row["street"], row["house_from"], row["house_to"], row["parity"])
    if kind == "class_sets":
        # Letters may be left out; two unlettered class-sets of one grade are both real.
        return (row["school"], row["grade"], row["letter"]) if row["letter"] else None
    if kind == "teachers":
        return (row["school"], row["pin"])
    raise AssertionError(kind)


def _chunks(values: Sequence[K]) -> Iterator[Sequence[K]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _existing_keys(model: type[models.Model], key_field: str, values: Iterable[str]) -> set[str]:
    wanted = sorted(set(values))
    found: set[str] = set()
    for chunk in _chunks(wanted):
        found.update(
            model._default_manager.filter(**{f"{key_field}__in": chunk}).values_list(
                key_field, flat=True
            )
        )
    return found


def _check(data: Any, campaign: Campaign | None) -> tuple[_Checked, list[ImportProblem]]:
    checker = _Checker()
    if not isinstance(data, dict):
        checker.problem("", "not_an_object", _("The file must hold one object."))
        return _Checked({k: [] for k in KINDS}, None), checker.problems
    fmt = data.get("format")
    if fmt is not None and fmt != FORMAT:
        checker.problem(
            "format", "unknown_format", _("The format must be %(format)s.") % {"format": FORMAT}
        )
    for key in data:
        if key not in KINDS and key not in _OTHER_KEYS:
            checker.problem(str(key), "unknown_key", _("Unknown section."))
    rows = checker.rows(data)

    # Two rows with one key would make the result depend on row order.
    for kind in KINDS:
        seen: set[Any] = set()
        for row in rows[kind]:
            key = _key(kind, row) if row["_ok"] else None
            if key is None:
                continue
            if key in seen:
                checker.at(
                    row,
                    _DUPLICATE_FIELD[kind],
                    "duplicate",
                    _("This row repeats an earlier row's key."),
                )
            seen.add(key)

    # References: to a row of this file, or to what the catalog already holds.
    def refs(
        kind: str, name: str, target_kind: str, model: type[models.Model], key_field: str
    ) -> set[Any]:
        in_file = {_key(target_kind, r) for r in rows[target_kind]} | checker.rejected[target_kind]
        asked = [r[name] for r in rows[kind] if r[name] and r[name] not in in_file]
        known = in_file | _existing_keys(model, key_field, asked)
        for row in rows[kind]:
            if row[name] and row[name] not in known:
                checker.at(
                    row,
                    name,
                    f"unknown_{target_kind[:-1]}",
                    _("No %(kind)s with the code %(code)s in this file or in the catalog.")
                    % {"kind": _SINGULAR[target_kind], "code": row[name]},
                )
        return known

    refs("districts", "region", "regions", Region, "soate")
    refs("settlements", "district", "districts", District, "soate")
    refs("streets", "settlement", "settlements", Settlement, "soate")
    refs("houses", "street", "streets", Street, "code")
    school_districts = refs("schools", "district", "districts", District, "soate")
    refs("schools", "settlement", "settlements", Settlement, "soate")
    refs("microdistricts", "school", "schools", School, "code")
    refs("microdistricts", "street", "streets", Street, "code")
    refs("class_sets", "school", "schools", School, "code")
    refs("teachers", "school", "schools", School, "code")

    # A school's settlement lies in the school's district: the district officer's scope (§17).
    settlement_district = {r["soate"]: r["district"] for r in rows["settlements"]}
    outside = [
        r["settlement"]
        for r in rows["schools"]
        if r["settlement"] and r["settlement"] not in settlement_district
    ]
    for chunk in _chunks(sorted(set(outside))):
        settlement_district.update(
            Settlement.objects.filter(soate__in=chunk).values_list("soate", "district__soate")
        )
    for row in rows["schools"]:
        owner = settlement_district.get(row["settlement"]) if row["settlement"] else None
        if owner is not None and row["district"] in school_districts and owner != row["district"]:
            checker.at(
                row,
                "settlement",
                "settlement_not_in_district",
                _("This settlement belongs to district %(district)s.") % {"district": owner},
            )

    # §19: a line is a whole street, or a range of house numbers (odd, even or all of them).
    for row in rows["microdistricts"]:
        if not row["_ok"]:
            continue
        low, high = row["house_from"], row["house_to"]
        if (low is None) != (high is None):
            name = "house_to" if high is None else "house_from"
            checker.at(
                row, name, "range_incomplete", _("Give both ends of the house range, or neither.")
            )
        elif low is not None and high is not None and low > high:
            checker.at(
                row,
                "house_from",
                "range_reversed",
                _("house_from must not be greater than house_to."),
            )
        elif low is None and row["parity"] != Parity.ALL:
            # The microdistrict match reads parity only inside a range (catalog.selectors).
            checker.at(
                row,
                "parity",
                "parity_needs_range",
                _("Odd or even numbers need a house range; give house_from and house_to."),
            )

    for row in rows["class_sets"]:
        if row["size"] is not None and row["size"] > CLASS_SIZE_LIMIT:
            checker.at(
                row,
                "size",
                "out_of_range",
                _("A class-set has at most %(n)d children.") % {"n": CLASS_SIZE_LIMIT},
            )

    # Class-sets belong to a campaign (§11: last year's 4th grades feed this year's quota).
    if rows["class_sets"] and campaign is None:
        year = data.get("academic_year")
        if year is None or str(year).strip() == "":
            checker.problem(
                "academic_year",
                "required",
                _("Class-sets need the academic year of their campaign."),
            )
        else:
            campaign, code = campaign_for_year(str(year).strip())
            if campaign is None:
                checker.problem("academic_year", code, campaign_message(code, str(year)))
    return _Checked(rows, campaign), checker.sorted_problems()


def campaign_for_year(value: str) -> tuple[Campaign | None, str]:
    """The campaign a file's "academic_year" names: by campaign code first, else the only
    campaign of that academic year. Returns (None, error code) when there is none or several."""
    found = Campaign.objects.filter(code=value).first()
    if found is not None:
        return found, ""
    matches = list(Campaign.objects.filter(academic_year=value)[:2])
    if len(matches) == 1:
        return matches[0], ""
    return None, "ambiguous_campaign" if matches else "unknown_campaign"


def campaign_message(code: str, year: str) -> str:
    if code == "ambiguous_campaign":
        return _(
            "Several campaigns have the academic year %(year)s; give the campaign code instead."
        ) % {"year": year}
    return _("There is no campaign for the academic year %(year)s.") % {"year": year}


_SINGULAR: dict[str, Any] = {
    "regions": gettext_lazy("region"),
    "districts": gettext_lazy("district"),
    "settlements": gettext_lazy("settlement"),
    "streets": gettext_lazy("street"),
    "schools": gettext_lazy("school"),
}


# -- writing ----------------------------------------------------------------------------------
# Row fields whose model field has another name.
_MODEL_FIELD = {"settlement": "settlement_id"}


def _upsert(
    model: type[M],
    existing: dict[Any, M],
    items: Iterable[tuple[Any, dict[str, Any], Row]],
    count: KindCount,
    *,
    on_create: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """Create what is new, update what differs. An optional field the row does not give keeps
    its stored value (a sheet without a name_en column must not erase English names); given
    empty, it is cleared."""
    new: list[M] = []
    changed: list[M] = []
    changed_fields: set[str] = set()
    for key, values, row in items:
        obj = existing.get(key)
        if obj is None:
            extra = on_create() if on_create else {}
            new.append(model(**values, **extra))
            count.created += 1
            continue
        keep = {_MODEL_FIELD.get(name, name) for name in row["_absent"]}
        diff = [
            name
            for name, value in values.items()
            if name not in keep and getattr(obj, name) != value
        ]
        if not diff:
            count.unchanged += 1
            continue
        for name in diff:
            setattr(obj, name, values[name])
        changed.append(obj)
        changed_fields.update(diff)
        count.updated += 1
    model._default_manager.bulk_create(new, batch_size=_CHUNK)
    if changed:
        model._default_manager.bulk_update(changed, sorted(changed_fields), batch_size=_CHUNK)


def _by_key(model: type[M], key_field: str, values: Iterable[Any]) -> dict[Any, M]:
    found: dict[Any, M] = {}
    for chunk in _chunks(sorted(set(values))):
        for obj in model._default_manager.filter(**{f"{key_field}__in": chunk}):
            found[getattr(obj, key_field)] = obj
    return found


def _ids(model: type[models.Model], key_field: str, values: Iterable[Any]) -> dict[Any, int]:
    found: dict[Any, int] = {}
    for chunk in _chunks(sorted({v for v in values if v})):
        found.update(
            model._default_manager.filter(**{f"{key_field}__in": chunk}).values_list(
                key_field, "pk"
            )
        )
    return found


def _replace_lines(
    model: type[M],
    existing: Iterable[M],
    wanted: dict[int, list[tuple[tuple[Any, ...], dict[str, Any]]]],
    count: KindCount,
) -> None:
    """Make each listed school's lines exactly ``wanted``: keep matching rows (updating their
    free fields), delete the rest, create what is missing. Keeps ids and history stable when
    a file is loaded again."""
    names = _IDENTITY[model]
    old: dict[int, dict[tuple[Any, ...], list[M]]] = defaultdict(lambda: defaultdict(list))
    for obj in existing:
        identity = tuple(getattr(obj, n) for n in names)
        old[getattr(obj, "school_id")][identity].append(obj)  # noqa: B009
    new: list[M] = []
    changed: list[M] = []
    changed_fields: set[str] = set()
    doomed: list[int] = []
    for school_id, lines in wanted.items():
        mine = old.get(school_id, {})
        for key, values in lines:
            matches = mine.get(key)
            if matches:
                obj = matches.pop(0)
                diff = [n for n, v in values.items() if getattr(obj, n) != v]
                if diff:
                    for name in diff:
                        setattr(obj, name, values[name])
                    changed.append(obj)
                    changed_fields.update(diff)
                    count.updated += 1
                else:
                    count.unchanged += 1
            else:
                new.append(
                    model(school_id=school_id, **dict(zip(names, key, strict=True)), **values)
                )
                count.created += 1
        for leftovers in mine.values():
            doomed.extend(obj.pk for obj in leftovers)
    for chunk in _chunks(doomed):
        model._default_manager.filter(pk__in=chunk).delete()
    count.deleted += len(doomed)
    model._default_manager.bulk_create(new, batch_size=_CHUNK)
    if changed:
        model._default_manager.bulk_update(changed, sorted(changed_fields), batch_size=_CHUNK)


# The fields that identify a line within its school; the rest of a line may be updated in place.
_IDENTITY: dict[type[models.Model], tuple[str, ...]] = {
    MicrodistrictAddress: ("street_id", "house_from", "house_to", "parity"),
    ExistingClassSet: ("campaign_id", "grade", "letter", "language", "size"),
}


def _write(checked: _Checked, report: ImportReport) -> None:
    rows = checked.rows
    counts = report.counts

    existing_regions = _by_key(Region, "soate", (r["soate"] for r in rows["regions"]))
    _upsert(
        Region,
        existing_regions,
        (
            (
                r["soate"],
                {
                    "soate": r["soate"],
                    "name_ky": r["name_ky"],
                    "name_ru": r["name_ru"],
                    "name_en": r["name_en"],
                },
                r,
            )
            for r in rows["regions"]
        ),
        counts["regions"],
    )

    region_ids = _ids(Region, "soate", (r["region"] for r in rows["districts"]))
    _upsert(
        District,
        _by_key(District, "soate", (r["soate"] for r in rows["districts"])),
        (
            (
                r["soate"],
                {
                    "soate": r["soate"],
                    "region_id": region_ids[r["region"]],
                    "name_ky": r["name_ky"],
                    "name_ru": r["name_ru"],
                    "name_en": r["name_en"],
                },
                r,
            )
            for r in rows["districts"]
        ),
        counts["districts"],
    )

    district_ids = _ids(District, "soate", (r["district"] for r in rows["settlements"]))
    _upsert(
        Settlement,
        _by_key(Settlement, "soate", (r["soate"] for r in rows["settlements"])),
        (
            (
                r["soate"],
                {
                    "soate": r["soate"],
                    "district_id": district_ids[r["district"]],
                    "name_ky": r["name_ky"],
                    "name_ru": r["name_ru"],
                },
                r,
            )
            for r in rows["settlements"]
        ),
        counts["settlements"],
    )

    settlement_ids = _ids(Settlement, "soate", (r["settlement"] for r in rows["streets"]))
    _upsert(
        Street,
        _by_key(Street, "code", (r["code"] for r in rows["streets"])),
        (
            (
                r["code"],
                {
                    "code": r["code"],
                    "settlement_id": settlement_ids[r["settlement"]],
                    "name_ky": r["name_ky"],
                    "name_ru": r["name_ru"],
                },
                r,
            )
            for r in rows["streets"]
        ),
        counts["streets"],
    )

    street_ids = _ids(
        Street,
        "code",
        [r["street"] for r in rows["houses"]] + [r["street"] for r in rows["microdistricts"]],
    )
    existing_houses: dict[tuple[int, str], House] = {}
    for chunk in _chunks(sorted({street_ids[r["street"]] for r in rows["houses"]})):
        for house in House.objects.filter(street_id__in=chunk):
            existing_houses[(house.street_id, house.number)] = house
    _upsert(
        House,
        existing_houses,
        (
            (
                (street_ids[r["street"]], r["number"]),
                {"street_id": street_ids[r["street"]], "number": r["number"], "code": r["code"]},
                r,
            )
            for r in rows["houses"]
        ),
        counts["houses"],
    )

    district_ids = _ids(District, "soate", (r["district"] for r in rows["schools"]))
    settlement_ids = _ids(Settlement, "soate", (r["settlement"] for r in rows["schools"]))
    _upsert(
        School,
        _by_key(School, "code", (r["code"] for r in rows["schools"])),
        (
            (
                r["code"],
                {
                    "code": r["code"],
                    "name_ky": r["name_ky"],
                    "name_ru": r["name_ru"],
                    "name_en": r["name_en"],
                    "district_id": district_ids[r["district"]],
                    "settlement_id": settlement_ids.get(r["settlement"])
                    if r["settlement"]
                    else None,
                    "address": r["address"],
                    "ownership": r["ownership"],
                    "opted_in": r["opted_in"],
                },
                r,
            )
            for r in rows["schools"]
        ),
        counts["schools"],
    )

    school_ids = _ids(
        School,
        "code",
        [r["school"] for kind in ("microdistricts", "class_sets", "teachers") for r in rows[kind]],
    )

    # §19: the file is the school's whole microdistrict; lines it no longer lists go.
    wanted_lines: dict[int, list[tuple[tuple[Any, ...], dict[str, Any]]]] = defaultdict(list)
    for r in rows["microdistricts"]:
        wanted_lines[school_ids[r["school"]]].append(
            (
                (street_ids[r["street"]], r["house_from"], r["house_to"], r["parity"]),
                {} if "note" in r["_absent"] else {"note": r["note"]},
            )
        )
    existing_lines = [
        line
        for chunk in _chunks(sorted(wanted_lines))
        for line in MicrodistrictAddress.objects.filter(school_id__in=chunk)
    ]
    _replace_lines(
        MicrodistrictAddress,
        existing_lines,
        wanted_lines,
        counts["microdistricts"],
    )

    # §11: the actual class-sets of the campaign the quota is computed for.
    campaign = checked.campaign
    if rows["class_sets"]:
        assert campaign is not None
        report.campaign = campaign.code
        wanted_sets: dict[int, list[tuple[tuple[Any, ...], dict[str, Any]]]] = defaultdict(list)
        for r in rows["class_sets"]:
            wanted_sets[school_ids[r["school"]]].append(
                ((campaign.pk, r["grade"], r["letter"], r["language"], r["size"]), {})
            )
        existing_sets = [
            cs
            for chunk in _chunks(sorted(wanted_sets))
            for cs in ExistingClassSet.objects.filter(campaign=campaign, school_id__in=chunk)
        ]
        _replace_lines(
            ExistingClassSet,
            existing_sets,
            wanted_sets,
            counts["class_sets"],
        )

    # §24: teachers' own children are admitted above quota at their school; the roster only
    # grows here — a school removes a teacher itself.
    existing_teachers: dict[tuple[int, str], Teacher] = {}
    teacher_schools = sorted({school_ids[r["school"]] for r in rows["teachers"]})
    for chunk in _chunks(teacher_schools):
        for teacher in Teacher.objects.filter(school_id__in=chunk):
            existing_teachers[(teacher.school_id, teacher.pin)] = teacher
    now = clock.now()
    _upsert(
        Teacher,
        existing_teachers,
        (
            (
                (school_ids[r["school"]], r["pin"]),
                {
                    "school_id": school_ids[r["school"]],
                    "pin": r["pin"],
                    "full_name": r["full_name"],
                },
                r,
            )
            for r in rows["teachers"]
        ),
        counts["teachers"],
        on_create=lambda: {"added_at": now},
    )


# -- the service ------------------------------------------------------------------------------
def catalog_import(
    *,
    data: dict[str, Any],
    actor: Actor,
    campaign: Campaign | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Load a catalog file (docs/data-formats.md) into the catalog.

    Raises ``CatalogImportError`` (a ``FieldError``) when any row is bad; nothing is written
    then. With ``dry_run`` the problems come back in ``report.errors`` instead, and a clean
    file is written and rolled back, so the counts say what a real import would do.
    """
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        checked, problems = _check(data, campaign)
        if problems:
            if dry_run:
                report.errors = problems
                return report
            raise CatalogImportError(problems)
        _write(checked, report)
        audit_record(
            actor=actor,
            action="catalog.import",
            object_type="catalog",
            object_id=report.campaign,
            data=report.as_dict(),
        )
        if dry_run:
            transaction.set_rollback(True)
    return report


# -- CSV --------------------------------------------------------------------------------------
# One sheet, one row per catalog row: the "kind" column says which kind, the other columns are
# that kind's JSON field names. See docs/data-formats.md.
CSV_KINDS: dict[str, str] = {
    "region": "regions",
    "district": "districts",
    "settlement": "settlements",
    "street": "streets",
    "house": "houses",
    "school": "schools",
    "microdistrict": "microdistricts",
    "class_set": "class_sets",
    "teacher": "teachers",
}
_CSV_COLUMNS: frozenset[str] = frozenset(
    {"kind", "academic_year"} | {spec.name for specs in _SPECS.values() for spec in specs}
)


def _is_comment(name: str) -> bool:
    return name.startswith(("#", "_"))


def _delimiter(text: str) -> str:
    """Spreadsheets in Russian locales save CSV with ";"; some users paste tab-separated."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def catalog_parse_csv(text: str) -> dict[str, Any]:
    """Read the one-sheet CSV form of a catalog file into the JSON form.

    Values stay text; ``catalog_import`` checks and converts them, and names the CSV line of a
    bad row through the ``_line`` annotation. Raises ``CatalogImportError`` for a sheet it
    cannot read (no "kind" column, unknown columns or kinds, a value in another kind's column).
    """
    text = text.removeprefix("\ufeff")  # the byte-order mark Excel writes
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    problems: list[ImportProblem] = []
    header: list[str] | None = None
    data: dict[str, Any] = {"format": FORMAT}
    years: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in record]
            for position, name in enumerate(header):
                if not name or _is_comment(name):
                    continue
                if name not in _CSV_COLUMNS:
                    problems.append(
                        ImportProblem(name, "unknown_column", _("Unknown column."), line)
                    )
                elif name in header[:position]:
                    problems.append(
                        ImportProblem(
                            name, "duplicate_column", _("This column appears twice."), line
                        )
                    )
            if "kind" not in header:
                problems.append(
                    ImportProblem(
                        "kind", "missing_column", _("The first row must name a kind column."), line
                    )
                )
            if problems:
                break
            continue
        # Some tools drop trailing empty cells; the header still says which columns exist.
        cells = {name: record[i] if i < len(record) else "" for i, name in enumerate(header)}
        if len(record) > len(header) and any(c.strip() for c in record[len(header) :]):
            problems.append(
                ImportProblem(f"line {line}", "too_many_cells", _("More cells than columns."), line)
            )
            continue
        kind_name = cells.get("kind", "").strip().lower()
        if kind_name.startswith("#"):
            continue  # a comment row
        kind = CSV_KINDS.get(kind_name)
        if kind is None:
            problems.append(
                ImportProblem(
                    f"line {line}.kind",
                    "unknown_kind",
                    _("The kind must be one of: %(kinds)s.") % {"kinds": ", ".join(CSV_KINDS)},
                    line,
                )
            )
            continue
        fields = {spec.name for spec in _SPECS[kind]}
        row: dict[str, Any] = {}
        for name, value in cells.items():
            value = value.strip()
            if not name or name == "kind" or _is_comment(name):
                continue
            if not value:
                # An empty cell in a column of this kind clears an optional field; a column the
                # sheet leaves out keeps what the catalog holds.
                if name in fields:
                    row[name] = ""
                continue
            if name == "academic_year" and kind == "class_sets":
                years.setdefault(value, line)
            elif name in fields:
                row[name] = value
            else:
                problems.append(
                    ImportProblem(
                        f"line {line}.{name}",
                        "not_for_kind",
                        _("This column is not used by rows of kind %(kind)s.")
                        % {"kind": kind_name},
                        line,
                    )
                )
        row["_line"] = line
        data.setdefault(kind, []).append(row)
    if header is None and not problems:
        problems.append(ImportProblem("kind", "missing_column", _("The file is empty.")))
    if len(years) > 1:
        second = sorted(years.items(), key=lambda item: item[1])[1]
        problems.append(
            ImportProblem(
                f"line {second[1]}.academic_year",
                "mixed_years",
                _("All class-set rows must have the same academic year."),
                second[1],
            )
        )
    elif years:
        data["academic_year"] = next(iter(years))
    if problems:
        raise CatalogImportError(problems)
    return data
