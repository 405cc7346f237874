"""The brief as a Word document (python-docx): an editable file the office revises and sends on."""

from __future__ import annotations

import io

from reports.view import BriefView, Table

# Office documents in Chinese set an East Asian font of their own; Word otherwise substitutes one.
EAST_ASIAN_FONT = "Noto Sans CJK SC"
LATIN_FONT = "Calibri"


def render_docx(view: BriefView) -> bytes:
    """The view as DOCX bytes: title, period, then each section's text, tables and charts."""
    from docx import Document  # imported on first use: a brief is rare, the API starts often
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        style = document.styles[style_name]
        style.font.name = LATIN_FONT
        properties = style.element.get_or_add_rPr()
        fonts = properties.find(qn("w:rFonts"))
        if fonts is None:
            fonts = properties.makeelement(qn("w:rFonts"), {})
            properties.append(fonts)
        fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    document.styles["Normal"].font.size = Pt(10.5)
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(2)

    document.add_heading(view.title, level=0)
    period = document.add_paragraph()
    period.add_run(view.period).bold = True
    period.alignment = WD_ALIGN_PARAGRAPH.LEFT
    document.add_paragraph(view.generated).runs[0].font.size = Pt(8)

    for part in view.sections:
        document.add_heading(part.heading, level=1)
        for text in part.paragraphs:
            document.add_paragraph(text)
        for table in part.tables:
            _table(document, table)
        for chart in part.charts:
            document.add_picture(io.BytesIO(chart.png), width=Cm(16))
            caption = document.add_paragraph(chart.alt)
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption.runs[0].font.size = Pt(8)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _table(document: object, table: Table) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    grid = document.add_table(rows=1, cols=len(table.header))  # type: ignore[attr-defined]
    grid.style = "Table Grid"
    for i, text in enumerate(table.header):
        cell = grid.rows[0].cells[i]
        cell.text = text
        run = cell.paragraphs[0].runs[0]
        run.bold = True
        run.font.size = Pt(9)
    for row in table.rows:
        cells = grid.add_row().cells
        for i, text in enumerate(row):
            cells[i].text = text
            paragraph = cells[i].paragraphs[0]
            if paragraph.runs:
                paragraph.runs[0].font.size = Pt(9)
            if i in table.numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_paragraph()  # type: ignore[attr-defined]
