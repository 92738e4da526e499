"""Report files speak the reader's language (issue 14): translated column names and words for
codes; a file another system reads (Kundoluk) keeps its own columns and codes."""

from __future__ import annotations

import csv
import io

from django.utils import translation
from openpyxl import load_workbook

from kattoo.reports.exports import rows_csv, rows_xlsx, sex_label

ROWS = [{"region": "Чүй облусу", "language": "ky", "sex": "F", "stage": "stage1", "registered": 12}]
COLUMNS = ["region", "language", "sex", "stage", "registered"]


def test_a_csv_in_russian_has_russian_headers_and_words() -> None:
    with translation.override("ru"):
        text = rows_csv(ROWS, COLUMNS).decode("utf-8-sig")
    (header, row) = list(csv.reader(io.StringIO(text)))
    assert all(not h.isascii() for h in header)
    assert row[1] != "ky" and row[2] != "F" and row[3] != "stage1" and row[4] == "12"
    assert not any(cell.isascii() and cell.isalpha() for cell in header + row)


def test_an_xlsx_in_kyrgyz_has_no_codes() -> None:
    with translation.override("ky"):
        book = load_workbook(io.BytesIO(rows_xlsx(ROWS, COLUMNS, "report")))
    header, row = list(book.active.iter_rows(values_only=True))
    assert all(isinstance(h, str) and not h.isascii() for h in header)
    assert row[1] not in ("ky", None) and row[2] != "F"


def test_unlabelled_files_keep_their_columns_and_codes() -> None:
    text = rows_csv(ROWS, COLUMNS, labelled=False).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == COLUMNS and row[1:4] == ["ky", "F", "stage1"]


def test_sex_in_words() -> None:
    with translation.override("en"):
        assert (sex_label("M"), sex_label("F")) == ("male", "female")
    with translation.override("ky"):
        assert sex_label("M") != "M"
