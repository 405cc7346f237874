"""The monthly brief (每月简报) in the console: ``/console/briefs`` picks a month (default: last month), a
half-year or a year; ``/console/briefs/{period}.docx`` downloads the Word document and
``/console/briefs/{period}.html`` opens the printable page, both made by ``events.services.brief`` and
``reports`` as ``GET /api/v1/briefs/{period}.docx|.html`` makes them, for the same scope (admins: the
whole programme; organizers: their organization's records), with the console's session instead of a token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console.common import HEADERS, Page, error_page, render, signed_in, with_lang
from events import clock, localtime
from events.errors import N_, DomainError
from events.i18n import gettext
from events.services import brief
from reports import html_brief
from reports.render import brief_docx, brief_html

router = APIRouter(include_in_schema=False)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LABELS: dict[str, str] = {
    "title": N_("Monthly brief"),
    "intro": N_(
        "The brief the plan asks for each month: the targets, the month's sessions with attendance, demands and "
        "matches, contracts, brokers certified, competitions and notable items, with charts. Download the Word "
        "document to edit and send it, or open the page to print it."
    ),
    "scope_all": N_("The whole programme: every organization's records."),
    "scope_own": N_("Your organization's records only."),
    "month": N_("Month"),
    "choose": N_("Show"),
    "period": N_("Period"),
    "docx": N_("Download (Word)"),
    "html": N_("Printable page"),
    "months": N_("Months"),
    "summaries": N_("Half-year and year summaries"),
    "half1": N_("First half-year"),
    "half2": N_("Second half-year"),
    "year": N_("Year"),
    "chosen": N_("The chosen brief"),
}


def _links(page: Page, key: str) -> dict[str, str]:
    return {
        "key": key,
        "docx": with_lang(f"/console/briefs/{key}.docx", page.locale),
        "html": with_lang(f"/console/briefs/{key}.html", page.locale),
    }


@router.get("/console/briefs")
async def briefs_page(request: Request, month: str | None = None) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    now = clock.now()
    try:
        chosen = brief.parse_period(month) if month else brief.previous_month(now)
    except DomainError as error:
        return error_page(request, page, error)
    today = localtime.local(now)
    recent = []
    year, number = today.year, today.month
    for _ in range(12):
        number -= 1
        if number == 0:
            year, number = year - 1, 12
        recent.append(_links(page, f"{year}-{number:02d}"))
    summaries: list[dict[str, Any]] = []
    for y in (today.year, today.year - 1):
        summaries.append(
            {
                "year": y,
                "items": [
                    (LABELS["half1"], _links(page, f"{y}-H1")),
                    (LABELS["half2"], _links(page, f"{y}-H2")),
                    (LABELS["year"], _links(page, str(y))),
                ],
            }
        )
    return render(
        request,
        page,
        "console/briefs_page.html",
        LABELS,
        chosen=_links(page, chosen.key),
        month_value=chosen.key,
        recent=recent,
        summaries=[
            {"year": s["year"], "items": [(gettext(page.locale, text), links) for text, links in s["items"]]}
            for s in summaries
        ],
        everything=page.scope.everything,
    )


@router.get("/console/briefs/{period}.docx")
async def brief_docx_download(request: Request, period: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    try:
        found = brief.parse_period(period)
    except DomainError as error:
        return error_page(request, page, error)
    body = await brief_docx(await brief.gather(found, scope=page.scope), page.locale)
    return Response(
        body,
        media_type=DOCX,
        headers={
            "Content-Disposition": f'attachment; filename="brief-{found.key}.docx"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/console/briefs/{period}.html")
async def brief_printable(request: Request, period: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    try:
        found = brief.parse_period(period)
    except DomainError as error:
        return error_page(request, page, error)
    other = "en" if page.locale == "zh" else "zh"
    body = await brief_html(
        await brief.gather(found, scope=page.scope),
        page.locale,
        alternate=f"?lang={other}",
        alternate_label=gettext(page.locale, N_("English") if other == "en" else N_("中文")),
    )
    # The printable page's own policy (its inline style and charts by hash and data: URIs), not the console's.
    headers = {k: v for k, v in HEADERS.items() if k != "Content-Security-Policy"}
    return HTMLResponse(body, headers=headers | {"Content-Security-Policy": html_brief.CSP})
