"""The monthly brief (每月简报) and its half-year and year summaries, as DOCX and as a printable page.

``/api/v1/briefs/{period}.docx|.html`` is made on request for the caller's scope (admins: the whole
programme; organizers: their organization's records). ``/briefs/{token}.docx`` is the office's stored
copy behind the capability link its members get by the bot.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import Caller, require_organizer
from api.schemas.common import AUTHED, errors, media
from api.training_pages import page_locale
from events.errors import N_, NotFound
from events.i18n import gettext
from events.services import brief
from events.services.organizations import EVERYTHING, Scope
from reports import html_brief
from reports.render import brief_docx, brief_html

router = APIRouter(tags=["briefs"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PERIOD_HELP = "`2026-11` (a month), `2026-H1` / `2026-H2` (a half-year) or `2026` (a year)."


def _download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"}


@router.get(
    "/api/v1/briefs/{period}.docx",
    response_class=Response,
    responses=media(200, "The brief as a Word document.", DOCX) | AUTHED,
    summary="The brief for a period (DOCX)",
    description=f"Period: {PERIOD_HELP} The KPI table against the plan's targets, the period's events with "
    "attendance, demands and contracts, districts, brokers certified, competitions, notable items and "
    "charts; `?lang=en` (or Accept-Language) for English. A malformed period → `400 invalid_period`.",
)
async def brief_as_docx(
    period: str, request: Request, lang: str | None = None, caller: Caller = Depends(require_organizer)
) -> Response:
    found = brief.parse_period(period)
    gathered = await brief.gather(found, scope=caller.reach)
    body = await brief_docx(gathered, page_locale(request, lang))
    return Response(body, media_type=DOCX, headers=_download(f"brief-{found.key}.docx"))


@router.get(
    "/api/v1/briefs/{period}.html",
    response_class=Response,
    responses=media(200, "The printable page.", "text/html") | AUTHED,
    summary="The brief for a period (printable HTML)",
    description=f"Period: {PERIOD_HELP} The same content as the DOCX on one self-contained page, charts "
    "inline, styled for print.",
)
async def brief_as_html(
    period: str, request: Request, lang: str | None = None, caller: Caller = Depends(require_organizer)
) -> HTMLResponse:
    return await _page(brief.parse_period(period), request, lang, caller.reach)


async def _page(period: brief.BriefPeriod, request: Request, lang: str | None, scope: Scope) -> HTMLResponse:
    locale = page_locale(request, lang)
    other = "en" if locale == "zh" else "zh"
    page = await brief_html(
        await brief.gather(period, scope=scope),
        locale,
        alternate=f"?lang={other}",
        alternate_label=gettext(locale, N_("English") if other == "en" else N_("中文")),
    )
    return HTMLResponse(page, headers=_page_headers())


def _page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": html_brief.CSP,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }


@router.get(
    "/briefs/{token}.docx",
    response_class=Response,
    responses=media(200, "The office's stored brief (Word).", DOCX) | errors(404, 422),
    summary="The office's stored brief, by its link",
    description="The capability link sent to the programme office's members when a month's brief is made. "
    "An unknown or forged token → `404`.",
)
async def stored_brief_docx(token: str) -> Response:
    stored = await brief.stored_by_token(token)
    if stored is None:
        raise NotFound()
    return Response(bytes(stored.docx), media_type=DOCX, headers=_download(f"brief-{stored.period}.docx"))


@router.get(
    "/briefs/{token}.html",
    response_class=Response,
    responses=media(200, "The printable page.", "text/html") | errors(404, 422),
    summary="The office's brief as a page, by its link",
    description="The same link as the stored DOCX, as the printable page (the whole programme's figures for "
    "that period, as they stand now). An unknown or forged token → `404`.",
)
async def stored_brief_html(token: str, request: Request, lang: str | None = None) -> HTMLResponse:
    stored = await brief.stored_by_token(token)
    if stored is None:
        raise NotFound()
    return await _page(brief.parse_period(stored.period), request, lang, EVERYTHING)
