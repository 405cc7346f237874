"""Reading an uploaded sheet (CSV or XLSX) into rows of text cells, the way people's files come.

CSV comes from Excel and WPS in UTF-8 (with or without a BOM) or in GBK/GB18030 (the default "CSV" of a
Chinese Windows); XLSX is read with openpyxl in read-only mode. Rows are numbered as people count data
rows: the header is not a row, the first row under it is row 1. Blank rows are skipped but keep their
number, so a reported row number is the one the person sees under the header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from events.errors import N_, InvalidInput

# The formula guard of our exports (api/exports.py) writes "'=…" for a cell starting with these;
# reading our own export back drops that quote.
_GUARDED = ("'=", "'+", "'-", "'@", "'\t", "'\r")


@dataclass(frozen=True, slots=True)
class Sheet:
    header: list[str]
    # (row number, cells by header, problem): a row with more cells than the header has a problem.
    rows: list[tuple[int, dict[str, str], str | None]]


def _bad_file() -> InvalidInput:
    return InvalidInput(N_("The file is not a CSV or XLSX sheet this service can read."), field="file")


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM dropped) when the bytes are UTF-8, else GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _bad_file() from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number cell holding 5 reads 5.0
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text[1:] if text.startswith(_GUARDED) else text


def _rows(header: list[str], records: Iterator[list[Any]]) -> list[tuple[int, dict[str, str], str | None]]:
    out: list[tuple[int, dict[str, str], str | None]] = []
    for number, record in enumerate(records, start=1):
        cells = [_cell_text(v) for v in record]
        while cells and cells[-1] == "" and len(cells) > len(header):
            cells.pop()  # trailing empty cells (a spreadsheet's ragged right edge)
        if not any(cells):
            continue
        problem = None
        if len(cells) > len(header):
            problem = N_("This row has %(cells)s cells but the header has %(columns)s columns.")
        out.append((number, dict(zip(header, cells, strict=False)), problem))
    return out


def read_csv(data: bytes) -> Sheet:
    """Raises ``invalid_input`` (field ``file``) for bytes that are no text, or no CSV."""
    text = decode_text(data)
    if "\x00" in text:
        raise _bad_file()
    # The delimiter is read off the header line (column names hold none): a sniffer guessing from data
    # rows is fooled by the commas and semicolons inside keyword cells.
    first_line = text.split("\n", 1)[0]
    delimiter = next((d for d in (",", "\t", ";") if d in first_line), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader, [])]
        rows = _rows(header, reader)
    except csv.Error:
        raise _bad_file() from None
    return Sheet(header=header, rows=rows)


def read_xlsx(data: bytes) -> Sheet:
    """The first sheet of a workbook. Raises ``invalid_input`` (field ``file``)."""
    # Imported here: openpyxl costs memory a server that never reads a workbook should not carry.
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        raise _bad_file() from None
    try:
        sheet = book.worksheets[0]
        records = sheet.iter_rows(values_only=True)
        header = [_cell_text(v) for v in next(records, ())]
        while header and header[-1] == "":
            header.pop()
        rows = _rows(header, (list(r) for r in records))
    finally:
        book.close()
    return Sheet(header=header, rows=rows)


def read_sheet(data: bytes, filename: str | None) -> Sheet:
    """CSV or XLSX, told apart by the content (an XLSX is a zip) rather than by the name alone."""
    if data[:4] == b"PK\x03\x04" or (filename or "").lower().endswith(".xlsx"):
        return read_xlsx(data)
    return read_csv(data)
