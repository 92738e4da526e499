"""Checking the whole catalog file into clean rows before anything is written: a file with any
problem is refused whole, so a half-loaded catalog never exists."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import Parity, Settlement
from kattoo.integrations.registry.pin import InvalidPin, pin_parse

from .batches import chunks, ids_by_key
from .file_format import (
    FORMAT,
    KEY_FIELD,
    KINDS,
    LEGACY_ADDRESS,
    MODELS,
    OTHER_KEYS,
    REFERENCES,
    SCHOOL_ADDRESSES,
    SINGULAR,
    SPECS,
    Field,
)
from .report import ImportProblem

# A class-set bigger than this is a typing error, not a class (§11 caps seats at 42 anyway).
CLASS_SIZE_LIMIT = 100

_SOATE = re.compile(r"[0-9]{14}")
# Yes/no as a Russian or Kyrgyz spreadsheet may write them.
_TRUE = frozenset({"true", "yes", "y", "1", "да", "ооба", "x", "+"})
_FALSE = frozenset({"false", "no", "n", "0", "нет", "жок", "-"})

# A checked row: the clean values by field name, and "_path", "_line", "_absent" (the optional
# fields the file does not give) and "_ok".
Row = dict[str, Any]
# The field a repeated key is reported on: the last part of the key.
_DUPLICATE_FIELD = {
    **KEY_FIELD,
    "houses": "number",
    "microdistricts": "street",
    "class_sets": "letter",
    "teachers": "pin",
}
_ROW_PATH = re.compile(r"(\w+)\[([0-9]+)\]")


@dataclass(slots=True)
class Checked:
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
    def value(self, spec: Field, raw: Any, path: str, line: int | None) -> tuple[bool, Any]:
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
            if isinstance(raw, str) and raw.isascii() and raw.isdigit():
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
        specs = SPECS[kind]
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
        if not ok and kind in KEY_FIELD:
            self.rejected[kind].add(str(raw.get(KEY_FIELD[kind], "")).strip())
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
    if kind in KEY_FIELD:
        return row[KEY_FIELD[kind]]
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


def check(data: Any, campaign: Campaign | None) -> tuple[Checked, list[ImportProblem]]:
    checker = _Checker()
    if not isinstance(data, dict):
        checker.problem("", "not_an_object", _("The file must hold one object."))
        return Checked({k: [] for k in KINDS}, None), checker.problems
    fmt = data.get("format")
    if fmt is not None and fmt != FORMAT:
        checker.problem(
            "format", "unknown_format", _("The format must be %(format)s.") % {"format": FORMAT}
        )
    for key in data:
        if key not in KINDS and key not in OTHER_KEYS:
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
    def refs(kind: str, name: str, target_kind: str) -> set[Any]:
        in_file = {_key(target_kind, r) for r in rows[target_kind]} | checker.rejected[target_kind]
        asked = [r[name] for r in rows[kind] if r[name] and r[name] not in in_file]
        known = in_file | set(ids_by_key(MODELS[target_kind], KEY_FIELD[target_kind], asked))
        for row in rows[kind]:
            if row[name] and row[name] not in known:
                checker.at(
                    row,
                    name,
                    f"unknown_{target_kind[:-1]}",
                    _("No %(kind)s with the code %(code)s in this file or in the catalog.")
                    % {"kind": SINGULAR[target_kind], "code": row[name]},
                )
        return known

    known = {
        (kind, name): refs(kind, name, target_kind)
        for kind, fields in REFERENCES.items()
        for name, target_kind in fields.items()
    }
    school_districts = known["schools", "district"]

    # A school's settlement lies in the school's district: the district officer's scope (§17).
    settlement_district = {r["soate"]: r["district"] for r in rows["settlements"]}
    outside = [
        r["settlement"]
        for r in rows["schools"]
        if r["settlement"] and r["settlement"] not in settlement_district
    ]
    for chunk in chunks(sorted(set(outside))):
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

    # Issue 14: a school's address in Kyrgyz and in Russian; an older file's one "address"
    # stands for the language it does not give separately.
    for row in rows["schools"]:
        legacy = row[LEGACY_ADDRESS]
        for name in SCHOOL_ADDRESSES:
            if row[name] is None or row[name] or legacy is None:
                continue  # given, or a bad value already reported
            if legacy:
                row[name] = legacy
                row["_absent"] = row["_absent"] - {name}
            else:
                checker.at(
                    row,
                    name,
                    "required",
                    _(
                        "Give the school's address in Kyrgyz and in Russian (%(ky)s, %(ru)s), "
                        "or one address for both (%(one)s)."
                    )
                    % {"ky": "address_ky", "ru": "address_ru", "one": "address"},
                )
                row["_ok"] = False

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
    # A file sent to a campaign must not carry another year's class-sets into it.
    file_year = str(data.get("academic_year") or "").strip()
    if (
        rows["class_sets"]
        and campaign is not None
        and file_year not in ("", campaign.code, campaign.academic_year)
    ):
        checker.problem(
            "academic_year",
            "campaign_mismatch",
            _(
                "The file's class-sets are for %(year)s, not for the campaign "
                "%(campaign)s (academic year %(campaign_year)s)."
            )
            % {
                "year": file_year,
                "campaign": campaign.code,
                "campaign_year": campaign.academic_year,
            },
        )
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
    return Checked(rows, campaign), checker.sorted_problems()


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
