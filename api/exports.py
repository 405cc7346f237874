"""Spreadsheet downloads shared by the routers: CSV (UTF-8 with a BOM) and XLSX.

Both are written so that opening them is safe: a cell that looks like a formula stays text.
Times go out as local wall-clock time (the deployment's zone), which is what people read in a sheet.
"""

from __future__ import annotations

import asyncio
import csv
import io
import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi.responses import Response

# openpyxl is imported where a spreadsheet is written: it costs ~16 MB of memory that a server
# which never exports should not carry (the RSS target with the demo is 150 MB).

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting with these is run as a formula by spreadsheet programs (CSV injection).
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def _attachment(filename: str) -> dict[str, str]:
    # Filenames are built from ASCII codes and dates by the callers, so the plain form is enough.
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _csv_value(value: Any, tz: zoneinfo.ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, tz: zoneinfo.ZoneInfo
) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(_csv_value(v, tz)) for v in row])
    # BOM so that Excel opens the Chinese names as UTF-8.
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8", headers=_attachment(filename))


def _xlsx_cell(sheet: Any, value: Any, tz: zoneinfo.ZoneInfo) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, datetime):
        # Excel has no time zones: write the local wall-clock time, as a real date cell.
        cell = WriteOnlyCell(sheet, value=value.astimezone(tz).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, str):
        # Control characters make openpyxl refuse the whole file; a leading "=" would become a formula.
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"
        return cell
    if isinstance(value, Decimal):
        return float(value)
    return value


def xlsx_bytes(
    sheet_title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    tz: zoneinfo.ZoneInfo,
    widths: Sequence[int] | None = None,
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    # Sheet titles: at most 31 characters, none of []:*?/\ .
    sheet = book.create_sheet(title="".join(c for c in sheet_title if c not in "[]:*?/\\")[:31] or "Sheet")
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    titles = []
    for title in header:
        cell = _xlsx_cell(sheet, title, tz)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v, tz) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def xlsx_response(
    filename: str,
    sheet_title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    tz: zoneinfo.ZoneInfo,
    widths: Sequence[int] | None = None,
) -> Response:
    # Zipping a few thousand rows takes tens of milliseconds: not on the event loop.
    body = await asyncio.to_thread(xlsx_bytes, sheet_title, header, rows, tz=tz, widths=widths)
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers=_attachment(filename))


# For writers of their own workbooks (several sheets: api/competition_exports.py).
xlsx_cell = _xlsx_cell
