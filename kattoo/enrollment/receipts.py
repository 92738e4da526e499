"""A registration's receipt: its number and a one-page PDF the parent keeps (issue 14).

The words come from the caller in the page's language; the PDF uses the same library and the
same font as the class lists (``classes/pdf.py``: fpdf2 and ``KATTOO_PDF_FONT``, which has the
Kyrgyz letters ң, ө, ү).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from fpdf import FPDF

from .models import Application


def application_number(application: Application) -> str:
    """The registration's number as the parent quotes it: the first eight characters of its id
    (the id the pages, the API and the staff's records use), upper case."""
    return number_of(str(application.pk))


def number_of(application_id: str) -> str:
    """``application_number`` of the registration with this id (its text)."""
    return application_id.replace("-", "")[:8].upper()


def receipt_pdf(
    *,
    title: str,
    subtitle: str,
    rows: Sequence[tuple[str, str]],
    notes: Sequence[str],
    footer: str,
) -> bytes:
    """One A4 page: a title, a two-column table of (label, value), then paragraphs."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", settings.KATTOO_PDF_FONT)
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("DejaVu", size=16)
    pdf.multi_cell(0, 8, title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=11)
    pdf.multi_cell(0, 6, subtitle, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", size=10)
    with pdf.table(col_widths=(60, 120), text_align="LEFT", first_row_as_headings=False) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label)
            row.cell(value)
    pdf.ln(4)
    for note in notes:
        pdf.multi_cell(0, 6, note, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.ln(4)
    pdf.set_font("DejaVu", size=8)
    pdf.multi_cell(0, 5, footer, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
