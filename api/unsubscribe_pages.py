"""The page behind a mail's unsubscribe link: ``GET`` asks (a button), ``POST`` opts out.

``POST`` is also what a mail program sends for ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
(RFC 8058): no cookie, no form token, so it needs none. The token in the path is the capability (a MAC of
the person and the category, see ``events.services.preferences.unsubscribe_token``): a cross-site page
cannot forge it, which is what a CSRF token would otherwise prove. ``GET`` changes nothing, so a mail
scanner that follows links does not unsubscribe anyone.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from api.competition_pages import PRIVATE_HEADERS, page_locale
from api.pages import asset_url, templates
from events import labels
from events.errors import N_, DomainError
from events.i18n import Locale, gettext
from events.services import preferences

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(max_length=120)]

CATEGORY_NAMES = {
    "invitation": N_("invitations to new events"),
    "reminder": N_("reminders before your events"),
    "matched_opportunity": N_("matched opportunities"),
    "credits": N_("credit hours"),
    "broadcast": N_("messages from event organizers"),
}
TEXTS = {
    "title": N_("Unsubscribe"),
    "ask": N_("Stop getting %(what)s by mail?"),
    "button": N_("Unsubscribe"),
    "done": N_("Done: you will no longer get %(what)s by mail."),
    "already": N_("You had unsubscribed already: you get no %(what)s by mail."),
    "essential": N_("Mails about your own registrations (confirmation, changes, cancellation) still reach you."),
    "invalid": N_("This unsubscribe link is not valid."),
}


def _context(request: Request, locale: Locale, **extra: Any) -> dict[str, Any]:
    other = "zh" if locale == "en" else "en"
    return {
        "lang": "en" if locale == "en" else "zh-CN",
        "t": {key: gettext(locale, text) for key, text in TEXTS.items()},
        "asset": lambda name: asset_url(request, name),
        "switch": {"href": f"{request.url.path}?lang={other}", "text": "中文" if locale == "en" else "English"},
        "lang_query": "?lang=en" if locale == "en" else "",
    } | extra


def _page(request: Request, locale: Locale, status_code: int = 200, **extra: Any) -> HTMLResponse:
    context = _context(request, locale, **extra)
    return templates.TemplateResponse(
        request, "unsubscribe.html", context, status_code=status_code, headers=PRIVATE_HEADERS
    )


def _said(locale: Locale, category: str) -> dict[str, str]:
    """The page's sentences that name the category."""
    what = gettext(locale, CATEGORY_NAMES.get(category, category))
    return {key: gettext(locale, TEXTS[key], what=what) for key in ("ask", "done", "already")}


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: Token) -> HTMLResponse:
    """Asks before opting out (a button that posts back here)."""
    locale = page_locale(request)
    try:
        person, category = await preferences.unsubscribe_target(token)
    except DomainError as error:
        return _page(request, locale, 404, error=labels.message(locale, error.message, error.params))
    done = category in person.opted_out
    return _page(request, locale, said=_said(locale, category), done=done, already=done, action=request.url.path)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe(request: Request, token: Token) -> HTMLResponse:
    """Opts out (one click from a mail program, or the page's button); again: no change."""
    locale = page_locale(request)
    try:
        result = await preferences.unsubscribe(token)
    except DomainError as error:
        return _page(request, locale, 404, error=labels.message(locale, error.message, error.params))
    return _page(request, locale, said=_said(locale, result.category), done=True, already=not result.changed)
