"""The one-sheet CSV form of a catalog file, as a ministry spreadsheet saves it."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils.translation import gettext as _

from .file_format import FORMAT, SPECS
from .report import CatalogImportError, ImportProblem

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
    {"kind", "academic_year"} | {spec.name for specs in SPECS.values() for spec in specs}
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
        fields = {spec.name for spec in SPECS[kind]}
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
