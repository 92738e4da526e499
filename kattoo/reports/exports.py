"""Reports as files for further processing (§9): CSV (UTF-8 with BOM, opens in Excel) and XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook


def rows_csv(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def rows_xlsx(rows: list[dict[str, Any]], columns: list[str], title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(k) for k in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
