"""Class lists as a PDF for the school's notice board and records (§19)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from fpdf import FPDF
from fpdf.fonts import FontFace

# Millimetres of an A4 page's 190 mm line: №, surname, name, patronymic, sex, date of birth.
# The text of a cell wraps inside its column (fpdf2's table), so a long heading in any
# language ("Туулган күнү", "Дата рождения") takes two lines instead of running over the next.
COLUMN_WIDTHS = (10, 50, 34, 42, 20, 34)


def class_lists_pdf(
    *, title: str, header: Sequence[str], classes: list[tuple[str, list[list[str]]]]
) -> bytes:
    """One page per class: its name as a heading, then a numbered table of its children. The
    caller gives every text in the page's language (headings, the sex, the dates)."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", settings.KATTOO_PDF_FONT)
    heading = FontFace(emphasis=None, fill_color=(235, 235, 235))
    for name, rows in classes:
        pdf.add_page()
        pdf.set_font("DejaVu", size=14)
        pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=12)
        pdf.multi_cell(0, 8, name, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("DejaVu", size=9)
        with pdf.table(
            col_widths=COLUMN_WIDTHS,
            width=sum(COLUMN_WIDTHS),
            align="LEFT",
            line_height=5,
            headings_style=heading,
            repeat_headings=1,
            text_align="LEFT",
        ) as table:
            table.row(list(header))
            for values in rows:
                table.row(list(values))
    return bytes(pdf.output())
