"""The training programme's spreadsheets: the broker list and a course's attendance sheet.

CSV keeps codes and stable column keys (for scripts); XLSX has titles and names in the reader's
language (for people). Times are local: ``localtime.stamp`` text in CSV, local date cells in XLSX.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api import training_pages as names
from api.exports import XLSX_MEDIA_TYPE
from events import localtime
from events.errors import N_
from events.i18n import Locale, gettext
from events.models import CourseItem, ItemKind
from events.services import courses, paging
from events.services.transcripts import BrokerRow

# Column keys (the CSV's header, stable for scripts), their titles (the XLSX's header) and widths.
BROKER_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", N_("ID"), 8),
    ("name", N_("Name"), 14),
    ("organization", N_("Organization"), 28),
    ("district", N_("District"), 18),
    ("specialties", N_("Specialties"), 24),
    ("hours", N_("Total hours"), 10),
    ("year_hours", N_("Hours in %(year)s"), 12),
    ("level", N_("Level"), 10),
    ("highest_level", N_("Highest level held"), 12),
    ("status", N_("Standing"), 12),
    ("certified_at", N_("Certified on"), 18),
    ("expires_at", N_("Valid until"), 18),
)


def _when(moment: datetime | None, locale: Locale | None) -> datetime | str | None:
    """CSV: the local time as people write it; XLSX: the moment (written as a local date cell)."""
    return localtime.stamp(moment) if locale is None else moment


def broker_columns(year: int | None) -> list[tuple[str, str, int]]:
    return [c for c in BROKER_COLUMNS if c[0] != "year_hours" or year is not None]


def broker_header(year: int | None, locale: Locale | None) -> list[str]:
    columns = broker_columns(year)
    if locale is None:
        return [key for key, _, _ in columns]
    return [
        gettext(locale, title, year=year) if key == "year_hours" else gettext(locale, title)
        for key, title, _ in columns
    ]


def broker_rows(page: paging.Page[BrokerRow], locale: Locale | None, year: int | None) -> list[list[Any]]:
    """One row per broker; ``locale`` None keeps codes (CSV), a locale shows names (XLSX)."""
    rows = []
    for row in page.items:
        values: dict[str, Any] = {
            "id": row.broker.id,
            "name": row.person.name,
            "organization": row.broker.organization,
            "district": row.broker.district if locale is None else names.district_name(locale, row.broker.district),
            "specialties": ("; " if locale is None else "、").join(row.broker.specialties or []),
            "hours": row.hours,
            "year_hours": row.year_hours,
            "level": row.level if locale is None else names.level_name(locale, row.level),
            "highest_level": row.highest_level if locale is None else names.level_name(locale, row.highest_level),
            "status": row.status if locale is None else names.standing_name(locale, row.status),
            "certified_at": _when(row.certified_at, locale),
            "expires_at": _when(row.expires_at, locale),
        }
        rows.append([values[key] for key, _, _ in broker_columns(year)])
    return rows


# The attendance sheet's fixed columns: (CSV key, XLSX title).
SHEET_LEAD: tuple[tuple[str, str], ...] = (
    ("broker_id", N_("Broker ID")),
    ("registration_id", N_("Registration ID")),
    ("name", N_("Name")),
    ("organization", N_("Organization")),
    ("status", N_("Enrollment")),
)
SHEET_TAIL: tuple[tuple[str, str], ...] = (("total", N_("Total hours")), ("completed", N_("Completed")))
CHECK_IN = N_("Check-in")
CHECK_OUT = N_("Check-out")
HOURS = N_("Hours")


def sheet_header(items: list[CourseItem], locale: Locale | None) -> list[str]:
    """CSV (``locale`` None): stable keys such as ``S12.hours``; XLSX: titles in the reader's language."""

    def say(msgid: str) -> str:
        return gettext(locale, msgid) if locale else msgid

    header = [key if locale is None else say(title) for key, title in SHEET_LEAD]
    for item in items:
        if locale is None:
            header.append(f"{item.code}.hours")
            if item.kind == ItemKind.SESSION:
                header += [f"{item.code}.checked_in_at", f"{item.code}.checked_out_at"]
        else:
            header.append(f"{item.code} {item.title[:40]} · {say(HOURS)}")
            if item.kind == ItemKind.SESSION:
                header += [f"{item.code} · {say(CHECK_IN)}", f"{item.code} · {say(CHECK_OUT)}"]
    header += [key if locale is None else say(title) for key, title in SHEET_TAIL]
    return header


def sheet_widths(items: list[CourseItem]) -> list[int]:
    return (
        [10, 10, 14, 28, 12]
        + [width for item in items for width in ((12, 17, 17) if item.kind == ItemKind.SESSION else (12,))]
        + [10, 8]
    )


def sheet_rows(sheet: courses.AttendanceSheet, locale: Locale | None) -> list[list[Any]]:
    rows = []
    for row in sheet.rows:
        status = row.status if locale is None else names.enrollment_name(locale, row.status)
        values: list[Any] = [row.broker_id, row.registration_id, row.name, row.organization, status]
        for item in sheet.items:
            cell = row.cells.get(item.id, courses.SheetCell())
            values.append(cell.hours if locale else names.number(cell.hours))
            if item.kind == ItemKind.SESSION:
                values += [_when(cell.checked_in_at, locale), _when(cell.checked_out_at, locale)]
        if locale is None:
            values += [names.number(row.total), "true" if row.completed else "false"]
        else:
            values += [row.total, gettext(locale, N_("Yes") if row.completed else N_("No"))]
        rows.append(values)
    return rows


# ``responses=`` for a route that also answers with a spreadsheet (``format=csv|xlsx``).
SPREADSHEETS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON by default; ``format=csv`` (UTF-8 with a BOM) or ``format=xlsx`` for a spreadsheet.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
