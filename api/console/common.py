"""What every console page shares: who is signed in (``signed_in`` for a GET, ``posted`` for a form),
the scope they act in, the page's texts and rendering, the CSRF token, redirects that keep the language.

A console page module declares its texts (``LABELS``, English msgids), its router, and for each route:

    page = await signed_in(request)            # a GET: a Page, or the redirect to the sign-in page
    if isinstance(page, Response): return page
    ...
    return render(request, page, "console/x.html", LABELS, rows=...)

    page = await posted(request)               # a POST: (Page, form), or the refusal (403, redirect)
    if isinstance(page, Response): return page
    page, form = page

Every rule is a service's: the page reads its inputs, calls the service with ``page.scope`` and
``page.actor``, and shows the result or the service's error (``message_of``, ``status_of``).
Organizer pages require the organizer or admin role (``ORGANIZER_ROLES``); a judge signed in is told
the page is not theirs (403), never shown another organization's objects (those are 404, as in the API).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from api.pages import PAGE_HEADERS, asset_url, templates
from api.site import page_locale, switch_link
from events import labels, localtime
from events.errors import N_, DomainError, FormExpired, InvalidInput
from events.i18n import Locale, gettext
from events.models import Role
from events.services import accounts, form_guard
from events.services.organizations import EVERYTHING, Scope

COOKIE = "wc_console"
COOKIE_PATH = "/console"
HEADERS = PAGE_HEADERS | {
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
ORGANIZER_ROLES = (Role.ADMIN, Role.ORGANIZER)
T = TypeVar("T")
BULK_LIMIT = 10_000  # rows one bulk action may touch (the bound); a form may carry this many ids

# The texts of the frame every page shares (the header, the menu, the refusals).
FRAME: dict[str, str] = {
    "console": N_("Organizer console"),
    "signout": N_("Sign out"),
    "nav_home": N_("Account"),
    "nav_events": N_("Events"),
    "nav_broadcasts": N_("Broadcasts"),
    "nav_training": N_("Courses and brokers"),
    "nav_competitions": N_("Competitions"),
    "nav_supply": N_("Demands and achievements"),
    "nav_dashboard": N_("Dashboard"),
    "nav_briefs": N_("Monthly brief"),
    "not_yours": N_("This page is for organizers. Your account cannot open it."),
    "not_found": N_("Not found, or not your organization's."),
    "back": N_("Back"),
    "previous": N_("Previous"),
    "next": N_("Next"),
    "save": N_("Save"),
    "cancel": N_("Cancel"),
    "search": N_("Search"),
    "filter": N_("Filter"),
    "all": N_("All"),
    "none": N_("None yet."),
    "done": N_("Done."),
    "stale": N_(
        "Someone else changed this since you opened the page. Here is what it holds now; make your change again."
    ),
}

# The menu: (the key of its text, its path, the roles that see it).
MENU: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("nav_events", "/console/events", ORGANIZER_ROLES),
    ("nav_broadcasts", "/console/broadcasts", ORGANIZER_ROLES),
    ("nav_training", "/console/courses", ORGANIZER_ROLES),
    ("nav_competitions", "/console/competitions", ORGANIZER_ROLES),
    ("nav_supply", "/console/demands", ORGANIZER_ROLES),
    ("nav_dashboard", "/console/dashboard", ORGANIZER_ROLES),
    ("nav_briefs", "/console/briefs", ORGANIZER_ROLES),
    ("nav_home", "/console", (Role.ADMIN, Role.ORGANIZER, Role.JUDGE)),
)


@dataclass(frozen=True, slots=True)
class Page:
    """A signed-in request: who, in which language, over whose objects."""

    console: accounts.Console
    locale: Locale
    csrf: str

    @property
    def scope(self) -> Scope:
        """Admins reach every organization's objects, everyone else their own organization's."""
        return EVERYTHING if Role.ADMIN in self.console.roles else Scope(self.console.organization.id)

    @property
    def organization_id(self) -> int:
        """The organization that owns what this person creates."""
        return self.console.organization.id

    @property
    def actor(self) -> str:
        """How the activity log names what this person did."""
        return f"account:{self.console.account.id}"

    def has(self, *roles: Role) -> bool:
        return any(role in self.console.roles for role in roles)


@lru_cache(maxsize=64)
def _texts(locale: Locale, msgids: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {key: gettext(locale, msgid) for key, msgid in msgids}


def texts(locale: Locale, own: dict[str, str] | None = None) -> dict[str, str]:
    """The frame's texts and a page's own, translated (cached per locale and table)."""
    table = FRAME | (own or {})
    return _texts(locale, tuple(table.items()))


def with_lang(path: str, locale: Locale, **params: Any) -> str:
    """A console link that keeps the page's language (and the given query, empty values dropped)."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    if locale == "en":
        query["lang"] = "en"
    return f"{path}?{urlencode(query)}" if query else path


def stamp(moment: Any) -> str:
    """A stored UTC moment in the one local timezone ("" for none)."""
    return localtime.stamp(moment) if moment is not None else ""


def message_of(locale: Locale, error: DomainError) -> str:
    return labels.message(locale, error.message, error.params)


def status_of(error: DomainError) -> int:
    from api.errors import STATUS_BY_CODE, STATUS_BY_KIND

    return STATUS_BY_CODE.get(error.code, STATUS_BY_KIND[error.kind])


def field_text(form: FormData, name: str, *, limit: int = 10_000) -> str:
    """A form field as text, stripped and cut at ``limit`` ("" when missing or a file)."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def field_ids(form: FormData, name: str, *, limit: int = BULK_LIMIT) -> list[int]:
    """The checked ids of a bulk form (each a positive number; others ignored). Raises ``invalid_input``
    beyond ``limit`` rows, before anything is done."""
    values = [v for v in form.getlist(name) if isinstance(v, str)]
    if len(values) > limit:
        raise InvalidInput(N_("Select at most %(limit)s rows at once."), field=name, limit=limit)
    return sorted({int(v) for v in values if v.isdigit() and 0 < len(v) <= 9})


def parse_id(text: str) -> int | None:
    """A path id, or None for anything that is not a plain positive number."""
    return int(text) if text.isdigit() and 0 < len(text) <= 9 else None


def cross_site(request: Request) -> bool:
    """A browser's own word that the form was posted from another site (Fetch Metadata)."""
    return request.headers.get("sec-fetch-site", "same-origin") == "cross-site"


def secure(request: Request) -> bool:
    return str(request.app.state.settings.base_url).startswith("https://")


def redirect(path: str, locale: Locale, **params: Any) -> RedirectResponse:
    """303 to a console page (after a form: the browser GETs the result, a reload posts nothing)."""
    return RedirectResponse(with_lang(path, locale, **params), status_code=303, headers=HEADERS)


def forget_cookie(request: Request, response: Response) -> Response:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure(request))
    return response


def frame_context(request: Request, locale: Locale, own: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """What the base template needs, for signed-in pages and the sign-in pages alike."""
    return {
        "lang": "en" if locale == "en" else "zh-CN",
        "locale": locale,
        "t": texts(locale, own),
        "asset": lambda name: asset_url(request, name),
        "switch": switch_link(request, locale),
        "url": lambda path, **params: with_lang(path, locale, **params),
        "path": request.url.path,
        **extra,
    }


def menu(page: Page) -> list[dict[str, Any]]:
    t = texts(page.locale)
    return [
        {"text": t[key], "href": with_lang(path, page.locale), "path": path}
        for key, path, roles in MENU
        if page.has(*roles)
    ]


def render(
    request: Request,
    page: Page | None,
    name: str,
    own: dict[str, str] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    locale: Locale | None = None,
    **extra: Any,
) -> HTMLResponse:
    """A console page: the frame (menu, CSRF token, language switch) around template ``name``."""
    locale = page.locale if page is not None else (locale or page_locale(request))
    context = frame_context(request, locale, own, **extra)
    if page is not None:
        context |= {"csrf": page.csrf, "menu": menu(page), "me": page.console}
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=HEADERS | (headers or {})
    )


def refusal(request: Request, locale: Locale, text: str, *, status_code: int, page: Page | None = None) -> HTMLResponse:
    """A short page that says why not, with the way back."""
    return render(request, page, "console/refusal.html", status_code=status_code, locale=locale, refusal=text)


def forbidden(request: Request, locale: Locale) -> HTMLResponse:
    """A form without its CSRF token, or from another site."""
    return refusal(request, locale, message_of(locale, FormExpired()), status_code=403)


async def _page_of(request: Request, roles: tuple[Role, ...]) -> Page | Response:
    locale = page_locale(request)
    try:
        console = await accounts.console_of(request.cookies.get(COOKIE))
    except DomainError:
        ended = "/console/signin?ended=1" if COOKIE in request.cookies else "/console/signin"
        return forget_cookie(request, redirect(ended, locale))
    page = Page(console, locale, form_guard.session_token(console.csrf_binding))
    if not page.has(*roles):
        return refusal(request, locale, texts(locale)["not_yours"], status_code=403, page=page)
    return page


async def signed_in(request: Request, roles: tuple[Role, ...] = ORGANIZER_ROLES) -> Page | Response:
    """A GET's signed-in person holding one of ``roles``; otherwise the response to send instead: the
    sign-in page (a redirect) without a live session, 403 for a role the page is not for."""
    return await _page_of(request, roles)


async def posted(request: Request, roles: tuple[Role, ...] = ORGANIZER_ROLES) -> tuple[Page, FormData] | Response:
    """A POST's page and form; refused first (403) without the session's CSRF token or from another
    site, then as ``signed_in``. Nothing of the form is acted on before these checks."""
    locale = page_locale(request)
    try:
        form = await request.form(max_fields=BULK_LIMIT + 100)
    except HTTPException:  # more fields than any bulk form may carry: refused before anything is read
        error = InvalidInput(N_("Select at most %(limit)s rows at once."), field="ids", limit=BULK_LIMIT)
        return refusal(request, locale, message_of(locale, error), status_code=413)
    sent = field_text(form, "csrf", limit=200)
    if cross_site(request) or not sent:
        return forbidden(request, locale)
    page = await _page_of(request, roles)
    if isinstance(page, Response):
        return page
    try:
        form_guard.verify_session_token(page.console.csrf_binding, sent)
    except DomainError:
        return forbidden(request, locale)
    return page, form


def not_found(request: Request, page: Page) -> HTMLResponse:
    return refusal(request, page.locale, texts(page.locale)["not_found"], status_code=404, page=page)


def error_page(request: Request, page: Page, error: DomainError) -> HTMLResponse:
    """A service's refusal as a page with its status (404 for another organization's object)."""
    return refusal(request, page.locale, message_of(page.locale, error), status_code=status_of(error), page=page)


def gettext_of(locale: Locale, msgid: str) -> str:
    return gettext(locale, msgid)


async def owned(request: Request, page: Page, raw_id: str, find: Callable[[int, Scope], Awaitable[T]]) -> T | Response:
    """The record a path names, if ``page``'s scope reaches it: ``find`` is the service's owner lookup
    (``ownership.owned_event``, ``config.load_config``, …). A path id that is not a number, and a record
    of another organization, are the same 404 page."""
    number = parse_id(raw_id)
    if number is None:
        return not_found(request, page)
    try:
        return await find(number, page.scope)
    except DomainError as error:
        return error_page(request, page, error)
