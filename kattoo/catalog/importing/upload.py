"""A catalog file as it arrives (bytes and a name, from the web page, the API or the shell)
turned into the JSON form ``catalog_import`` checks: JSON or the one-sheet CSV, by the file's
name or, without a telling name, by its content."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from django.utils.translation import gettext as _

from .csv_format import catalog_parse_csv
from .report import CatalogImportError, ImportProblem

_CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})


def catalog_file_format(name: str, text: str) -> str:
    """ "json" or "csv": the extension when it says, else what the text looks like."""
    suffix = PurePath(name or "").suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in _CSV_SUFFIXES:
        return "csv"
    return "json" if text.lstrip().startswith(("{", "[")) else "csv"


def catalog_file_read(*, name: str, content: bytes, fmt: str | None = None) -> dict[str, Any]:
    """The file's rows in the JSON form. Raises ``CatalogImportError`` (field "file") for a
    file that is not UTF-8 text or not valid JSON, and for a CSV sheet that cannot be read."""
    try:
        # utf-8-sig: spreadsheets save UTF-8 with a byte-order mark.
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogImportError(
            [ImportProblem("file", "not_utf8", _("The file is not UTF-8 text."))]
        ) from exc
    if fmt is None:
        fmt = catalog_file_format(name, text)
    if fmt == "csv":
        return catalog_parse_csv(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogImportError(
            [
                ImportProblem(
                    "file",
                    "invalid_json",
                    _("The file is not valid JSON (line %(line)d, column %(column)d).")
                    % {"line": exc.lineno, "column": exc.colno},
                    exc.lineno,
                )
            ]
        ) from exc
    except RecursionError as exc:
        raise CatalogImportError(
            [ImportProblem("file", "invalid_json", _("The file is nested too deeply."))]
        ) from exc
    if not isinstance(data, dict):
        raise CatalogImportError(
            [ImportProblem("file", "not_an_object", _("The file must hold one object."))]
        )
    return data
