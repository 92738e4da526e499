"""Reports as files for further processing (§9): CSV (UTF-8 with BOM, opens in Excel) and XLSX.

A report file speaks the reader's language like the page it comes from (issue 14): its header
row names the columns in that language and codes in the cells (a language of instruction, a
sex, a stage, a route) read as words. A file whose format another system fixes (the Kundoluk
import) is written with ``labelled=False``: its own column names, its own codes."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from kattoo.catalog.models import District, Language, Region
from kattoo.catalog.selectors import localized_name
from kattoo.enrollment.models import Route

COLUMN_LABELS: dict[str, Any] = {
    "region": _("Region"),
    "district": _("District"),
    "school": _("School"),
    "language": _("Language"),
    "sex": _("Sex"),
    "birth_year": _("Year of birth"),
    "stage": _("Stage"),
    "route": _("Ground"),
    "registered": _("Waiting"),
    "admitted": _("Admitted"),
    "refused": _("Refused"),
    "cancelled": _("Cancelled"),
    "above_quota": _("Above quota"),
    "quota_seats": _("Quota seats"),
    "capacity": _("Seats"),
    "taken": _("Taken"),
    "free": _("Free"),
}

SEX_LABELS: dict[str, Any] = {"F": _("female"), "M": _("male")}
STAGE_LABELS: dict[str, Any] = {"stage1": _("stage 1"), "stage2": _("stage 2")}


def _choice(labels: Callable[[str], Any]) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        try:
            return str(labels(value))
        except (KeyError, ValueError):
            return value

    return read


VALUE_LABELS: dict[str, Callable[[Any], Any]] = {
    "language": _choice(lambda code: Language(code).label),
    "route": _choice(lambda code: Route(code).label),
    "sex": _choice(lambda code: SEX_LABELS[code]),
    "stage": _choice(lambda code: STAGE_LABELS[code]),
}


def localized_places(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Region and district names in the reader's language: reports group places by their
    Russian name (kattoo.reports.selectors), a page or a file shows each in its own."""
    names: dict[str, dict[str, str]] = {
        "region": {r.name_ru: localized_name(r) for r in Region.objects.all()},
        "district": {d.name_ru: localized_name(d) for d in District.objects.all()},
    }
    return [
        {k: names[k].get(v, v) if k in names and isinstance(v, str) else v for k, v in row.items()}
        for row in rows
    ]


def sex_label(code: str) -> str:
    """A child's sex in the reader's language (never a Latin letter on a Kyrgyz page)."""
    return str(SEX_LABELS.get(code, code))


def _cells(row: dict[str, Any], columns: list[str], labelled: bool) -> list[Any]:
    cells = []
    for key in columns:
        value = row.get(key)
        if labelled and value is not None and key in VALUE_LABELS:
            value = VALUE_LABELS[key](value)
        cells.append(value)
    return cells


def _header(columns: list[str], labelled: bool) -> list[str]:
    return [str(COLUMN_LABELS.get(k, k)) if labelled else k for k in columns]


def rows_csv(rows: list[dict[str, Any]], columns: list[str], *, labelled: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_header(columns, labelled))
    for row in rows:
        writer.writerow(["" if v is None else v for v in _cells(row, columns, labelled)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def rows_xlsx(
    rows: list[dict[str, Any]], columns: list[str], title: str, *, labelled: bool = True
) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=str(title)[:31])
    sheet.append(_header(columns, labelled))
    for row in rows:
        sheet.append(_cells(row, columns, labelled))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
