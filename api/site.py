"""The public site: anyone finds an event, reads it, registers, and manages their registration from
the link they get, with no account and no Telegram. pretix's shop and Indico's event pages are the
anchors; this is smaller: one server-rendered page per step, a few KB of our own CSS, a script only
for the form's proof of work (the page works without it).

Every rule is a service's: the home page lists through ``catalog.list_events`` (the API's list),
the form registers through ``registration.register`` (the API's and the bot's), the registrant's
page reads ``access_links.registration_by_token`` and cancels through ``cancel_registration``.

Chinese first, English by ``?lang=en`` or ``Accept-Language``; a switch link on every page. Every
page carries the CSP of ``api.pages``; every value is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData
from tortoise.signals import post_save

from api.pages import PAGE_HEADERS, asset_url, templates
from api.ratelimit import PublicRateLimit
from api.schemas import Presenter
from events import districts, labels, localtime, privacy
from events.errors import N_, DomainError, EventNotFound, FormReplayed, InvalidInput
from events.i18n import Locale, format_when, gettext, locale_of
from events.models import Event, EventKind, EventStatus, Registration, RegistrationStatus
from events.services import access_links, calendar, catalog, form_guard
from events.services import registration as registrations
from events.services.competitions import public as competitions_public
from events.services.posters import deep_link
from events.services.tickets import ticket_code
from events.services.waitlist import waitlist_position

router = APIRouter(include_in_schema=False)

SITE_HEADERS = PAGE_HEADERS | {"Permissions-Policy": "camera=(), microphone=(), geolocation=()"}
# A registrant's page holds their name, contacts and ticket: never kept by a shared cache.
PRIVATE_HEADERS = SITE_HEADERS | {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow"}

PAGE_SIZE = 12
MAX_QUERY = 100
FORM_FIELDS = ("name", "phone", "email", "organization")

LABELS: dict[str, str] = {
    "site": N_("Wuhan innovation events"),
    "tagline": N_("武创荟 sessions, competitions, roadshows and broker training: find one and register."),
    "upcoming": N_("Upcoming events"),
    "search": N_("Search"),
    "search_hint": N_("Title, topic, host"),
    "filters": N_("Filters"),
    "kind": N_("Kind"),
    "series": N_("Series"),
    "district": N_("District"),
    "topic": N_("Topic"),
    "from": N_("From"),
    "to": N_("To"),
    "any": N_("Any"),
    "apply": N_("Show events"),
    "clear": N_("Clear"),
    "more": N_("More events"),
    "none": N_("No events match. Try fewer filters."),
    "seats_left": N_("%(count)s seats left"),
    "open_seats": N_("Open to all"),
    "waitlist": N_("Full · waitlist (候补) open"),
    "full": N_("Full"),
    "approval": N_("Registration needs approval"),
    "cancelled": N_("Cancelled"),
    "cancelled_notice": N_("This event has been cancelled. Registrations are void; everyone registered is told."),
    "finished": N_("This event is over."),
    "when": N_("When"),
    "where": N_("Where"),
    "map": N_("Map"),
    "host": N_("Host"),
    "about": N_("About"),
    "tags": N_("Topics"),
    "calendar": N_("Add to calendar"),
    "subscribe": N_("Subscribe (webcal)"),
    "subscribe_series": N_("Subscribe to the series"),
    "share": N_("Share this page"),
    "register": N_("Register"),
    "join_waitlist": N_("Join the waitlist"),
    "in_bot": N_("Or register in Telegram"),
    "lineup": N_("Line-up"),
    "competition": N_("Competition"),
    "enter": N_("Enter the competition"),
    "results": N_("Results and public notice (公示)"),
    "name": N_("Name"),
    "phone": N_("Mobile phone"),
    "email": N_("E-mail"),
    "organization": N_("Organization"),
    "contact_hint": N_("At least one of phone and e-mail. Your link comes by e-mail."),
    "required": N_("required"),
    "consent": N_("I have read the privacy notice and agree that my details are used for this event."),
    "privacy": N_("Privacy notice"),
    "check": N_("Check question: %(question)s = ?"),
    "check_js": N_("Checking your browser…"),
    "check_done": N_("Ready."),
    "fix_errors": N_("Please correct the marked fields."),
    "need_contact": N_("Give a mobile phone or an e-mail address."),
    "need_consent": N_("Please agree to the privacy notice to register."),
    "too_long": N_("Too long: at most %(max)s characters."),
    "choose": N_("Choose…"),
    "registered_title": N_("You are registered. Keep your link below; show the ticket at the door."),
    "waitlisted_title": N_("You are on the waitlist"),
    "pending_title": N_("Your registration awaits approval"),
    "status": N_("Status"),
    "confirmed": N_("Confirmed"),
    "waitlisted": N_("On the waitlist: number %(position)s"),
    "pending": N_("Awaiting the organizer's approval"),
    "rejected": N_("Not accepted"),
    "cancelled_reg": N_("Cancelled"),
    "filled_up": N_(
        "The event filled up while you were filling in the form, so you are on the waitlist (number "
        "%(position)s). If a seat frees up it is yours in turn, and you are told."
    ),
    "waitlist_text": N_("If a seat frees up it goes to the first in the queue; you are told when it is yours."),
    "pending_text": N_("The organizer reviews registrations; you are told of the decision."),
    "ticket": N_("Your ticket"),
    "ticket_text": N_("Show this QR code at the door. It holds no name or phone number."),
    "your_link": N_("Your link"),
    "your_link_text": N_(
        "Keep this address: it shows your registration and ticket and lets you cancel. Anyone with it can "
        "do the same, so do not share it."
    ),
    "event_page": N_("Event page"),
    "answers": N_("Your answers"),
    "change_answers": N_("Save answers"),
    "answers_saved": N_("Your answers are saved."),
    "cancel": N_("Cancel my registration"),
    "your_data": N_("Your data"),
    "your_data_text": N_("Download what we hold about you, or have it deleted (privacy notice)."),
    "download_data": N_("Download my data"),
    "delete_data": N_("Delete my data"),
    "ticket_card": N_("Ticket card (image to save)"),
    "cancel_confirm": N_("Cancel your registration for this event?"),
    "cancel_confirm_text": N_("Your seat goes to the next person on the waitlist. This cannot be undone."),
    "cancel_yes": N_("Yes, cancel it"),
    "cancel_no": N_("No, keep it"),
    "cancel_done": N_("Your registration is cancelled."),
    "lost": N_("Lost your link?"),
    "lost_title": N_("Get your link again"),
    "lost_text": N_("Give the e-mail address you registered with. We send the links of its registrations to it."),
    "lost_send": N_("Send me my links"),
    "lost_done": N_(
        "If that address is registered for an upcoming event, we have sent its link to it. Check your mailbox "
        "(and its spam folder)."
    ),
    "bad_link": N_("This link does not work"),
    "not_found": N_("Not found"),
    "not_found_text": N_("There is no such page, or the event is not public."),
    "all_events": N_("All events"),
    "past": N_("Over"),
    "cross_site": N_("This form can only be sent from this site."),
    "sessions_count": N_("%(count)s events"),
    "district_page": N_("Events in %(district)s"),
}


@lru_cache(maxsize=2)
def _texts(locale: Locale) -> dict[str, str]:
    return {key: gettext(locale, msgid) for key, msgid in LABELS.items()}


def page_locale(request: Request) -> Locale:
    """``?lang=`` wins (a shared link can say its language), then Accept-Language; Chinese by default."""
    return locale_of(request.query_params.get("lang"), accept_language=request.headers.get("accept-language"))


def _with_lang(path: str, locale: Locale, **params: Any) -> str:
    """A link on the site that keeps the page's language when it was asked for in English."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    if locale == "en":
        query["lang"] = "en"
    return f"{path}?{urlencode(query)}" if query else path


def switch_link(request: Request, locale: Locale, keep: dict[str, str] | None = None) -> dict[str, str]:
    """The link to the page in the other language. ``keep``: the parameters a cached page is keyed by
    (the request's own would be served to everyone who gets the cached copy)."""
    other = "zh" if locale == "en" else "en"
    params = list(keep.items()) if keep is not None else list(request.query_params.multi_items())
    query = urlencode([(k, v) for k, v in params if k != "lang"] + [("lang", other)])
    return {"href": f"{request.url.path}?{query}", "text": "中文" if locale == "en" else "English"}


def _context(request: Request, locale: Locale, *, keep: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "lang": "en" if locale == "en" else "zh-CN",
        "locale": locale,
        "t": _texts(locale),
        "asset": lambda name: asset_url(request, name),
        "switch": switch_link(request, locale, keep),
        "home": _with_lang("/", locale),
        "privacy_url": _with_lang("/privacy", locale),
        "lost_url": _with_lang("/r/lost", locale),
        "pow_bits": form_guard.POW_BITS,
        **extra,
    }


def _render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200, private: bool = False
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=PRIVATE_HEADERS if private else SITE_HEADERS
    )


def _message(locale: Locale, error: DomainError) -> str:
    return labels.message(locale, error.message, error.params)


def _status_of(error: DomainError) -> int:
    from api.errors import STATUS_BY_CODE, STATUS_BY_KIND

    return STATUS_BY_CODE.get(error.code, STATUS_BY_KIND[error.kind])


def _not_found(request: Request, *, status_code: int = 404) -> HTMLResponse:
    locale = page_locale(request)
    return _render(request, "site_missing.html", _context(request, locale), status_code=status_code)


# --- what a card or a page shows of an event ----------------------------------------------------


def seats_text(event: Event, locale: Locale) -> tuple[str, str]:
    """(text, css class): seats left, open to all, 候补 (waitlist) or full."""
    t = _texts(locale)
    if event.capacity is None:
        return t["open_seats"], "open"
    left = event.capacity - event.seats_taken
    if left > 0:
        return gettext(locale, LABELS["seats_left"], count=left), "open" if left > 5 else "few"
    return (t["waitlist"], "waitlist") if event.waitlist_enabled else (t["full"], "full")


def _when(starts: datetime, ends: datetime, locale: Locale) -> str:
    """``format_when``, remembered: Babel's formatting is most of a card's cost (profiled)."""
    return _when_in(starts, ends, locale, localtime.zone().key)


@lru_cache(maxsize=4096)
def _when_in(starts: datetime, ends: datetime, locale: Locale, zone: str) -> str:
    return format_when(starts, ends, locale)


def _card(event: Event, locale: Locale) -> dict[str, Any]:
    seats, seats_class = seats_text(event, locale)
    status = catalog.effective_status(event)
    return {
        "id": event.id,
        "href": _with_lang(catalog.event_page_path(event.id), locale),
        "title": event.title,
        "when": _when(event.starts_at, event.ends_at, locale),
        "venue": event.venue,
        "district": districts.label(event.district, locale, short=True),
        "kind": labels.kind(str(event.kind), locale),
        "tags": list(event.tags or [])[:4],
        "seats": seats,
        "seats_class": seats_class,
        "past": status == EventStatus.FINISHED,
        "cancelled": status == EventStatus.CANCELLED,
        "month_key": localtime.local(event.starts_at).strftime("%Y-%m"),
    }


# --- a render cache for the anonymous pages -----------------------------------------------------

_generation = 0


async def _event_saved(*_: Any, **__: Any) -> None:
    global _generation
    _generation += 1


post_save(Event)(_event_saved)
post_save(Registration)(_event_saved)


class RenderCache:
    """Rendered anonymous pages (home, event, series, district), reused while nothing changed here and
    for at most ``ttl`` seconds (``WUCHUANG_SITE_CACHE_SECONDS``): an event or registration saved by
    this process drops them at once (the ``post_save`` hooks above); another worker's change shows
    within ``ttl``. 0 turns the cache off."""

    def __init__(self, ttl: float, size: int = 512) -> None:
        self._items: OrderedDict[tuple[Any, ...], tuple[int, float, str]] = OrderedDict()
        self._size = size
        self.ttl = ttl

    def get(self, key: tuple[Any, ...]) -> str | None:
        if self.ttl <= 0:
            return None
        found = self._items.get(key)
        if found is None or found[0] != _generation or found[1] < time.monotonic():
            return None
        return found[2]

    def put(self, key: tuple[Any, ...], body: str) -> None:
        if self.ttl <= 0:
            return
        self._items[key] = (_generation, time.monotonic() + self.ttl, body)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


def _cache(request: Request) -> RenderCache:
    cache: RenderCache = request.app.state.site_cache
    return cache


def install(app: Any, settings: Any) -> None:
    """The site's routes and its render cache (one per app) on ``app``."""
    app.state.site_cache = RenderCache(settings.site_cache_seconds)
    app.include_router(router)


# Filled in per request in a cached page: the form's single-use token and its sum.
TOKEN_SLOT = "\x00form-token\x00"
QUESTION_SLOT = "\x00form-question\x00"


def _html(body: str, *, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers=SITE_HEADERS)


# --- home ---------------------------------------------------------------------------------------


def _local_day(text: str, *, end: bool = False) -> datetime | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day, dtime.max if end else dtime.min, tzinfo=localtime.zone())


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    series: str = ""
    district: str = ""
    tag: str = ""
    start: str = ""
    end: str = ""
    q: str = ""

    @classmethod
    def of(cls, request: Request) -> Filters:
        params = request.query_params

        def one(name: str, limit: int = 50) -> str:
            value = params.get(name, "").strip()
            return value if len(value) <= limit else ""

        kind = one("kind")
        district = one("district")
        return cls(
            kind=kind if kind in EventKind._value2member_map_ else "",
            series=one("series"),
            district=district if districts.is_known(district) else "",
            tag=one("tag", 30),
            start=one("from", 10),
            end=one("to", 10),
            q=one("q", MAX_QUERY),
        )

    def query(self, cursor: str | None, *, limit: int = PAGE_SIZE) -> catalog.EventQuery:
        starts_from = _local_day(self.start) if self.start else None
        starts_to = _local_day(self.end, end=True) if self.end else None
        return catalog.EventQuery(
            kind=EventKind(self.kind) if self.kind else None,
            series=self.series or None,
            district=self.district or None,
            tag=self.tag or None,
            starts_from=starts_from,
            starts_to=starts_to,
            q=self.q or None,
            # Dates narrow the upcoming list; they never bring back events that are over.
            when="upcoming",
            limit=limit,
            cursor=cursor,
        )

    def params(self) -> dict[str, str]:
        return {
            k: v
            for k, v in {
                "kind": self.kind,
                "series": self.series,
                "district": self.district,
                "tag": self.tag,
                "from": self.start,
                "to": self.end,
                "q": self.q,
            }.items()
            if v
        }


def _choices(locale: Locale) -> dict[str, list[tuple[str, str]]]:
    return {
        "kinds": [(k, labels.kind(k, locale)) for k in labels.EVENT_KINDS],
        "series": [(s, labels.series(s, locale)) for s in labels.SERIES],
        "districts": [(d.code, districts.label(d.code, locale, short=True)) for d in districts.DISTRICTS],
    }


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    """Upcoming published events, soonest first, filtered and searched, a keyset page at a time."""
    locale = page_locale(request)
    filters = Filters.of(request)
    cursor = request.query_params.get("cursor") or None
    if cursor is not None and len(cursor) > 200:
        cursor = None
    key = ("home", locale, filters, cursor)
    cached = _cache(request).get(key)
    if cached is not None:
        return _html(cached)
    try:
        page = await catalog.list_events(filters.query(cursor))
    except InvalidInput:  # a cursor of another list, or forged: start at the top
        page = await catalog.list_events(filters.query(None))
    more = _with_lang("/", locale, **filters.params(), cursor=page.next_cursor) if page.next_cursor else None
    context = _context(
        request,
        locale,
        keep=filters.params() | ({"cursor": cursor} if cursor else {}),
        cards=[_card(e, locale) for e in page.items],
        filters=filters,
        choices=_choices(locale),
        more=more,
        total=page.total,
        filtered=bool(filters.params()),
        feed_url="/calendar/events.ics",
    )
    body = templates.get_template("site_home.html").render(context)
    _cache(request).put(key, body)
    return _html(body)


# --- the event page and its form ----------------------------------------------------------------


def _bot_username(request: Request) -> str | None:
    username = getattr(request.app.state, "bot_username", None) or request.app.state.settings.bot_username
    return str(username) if username else None


def _questions(event: Event, locale: Locale) -> list[dict[str, Any]]:
    return [
        {
            "key": q["key"],
            "label": (q.get("label_en") or q["label"]) if locale == "en" else q["label"],
            "required": q.get("required", True),
            "choices": q.get("choices") or [],
        }
        for q in event.questions or []
    ]


async def _event_context(request: Request, event: Event, locale: Locale) -> dict[str, Any]:
    show: Presenter = request.app.state.presenter
    status = catalog.effective_status(event)
    seats, seats_class = seats_text(event, locale)
    open_error: str | None = None
    try:
        registrations.check_open(event)
    except DomainError as error:
        open_error = _message(locale, error)
    full = event.capacity is not None and event.seats_taken >= event.capacity
    feed = calendar.feed_links(show.public_url, calendar.event_feed_path(event.id))
    series_feed = calendar.feed_links(show.public_url, f"/calendar/series/{event.series}.ics") if event.series else None
    bot = _bot_username(request)
    competitions = [
        {
            "title": c.title,
            "results": _with_lang(f"/competitions/{c.id}/results", locale),
            "enter": _with_lang(f"/competitions/{c.id}/enter", locale) if takes else None,
        }
        for c, takes in await competitions_public.competitions_of_event(event.id)
    ]
    return {
        "event": event,
        "status": str(status),
        "when": format_when(event.starts_at, event.ends_at, locale),
        "zone": localtime.zone().key,
        "district": districts.label(event.district, locale),
        "district_href": _with_lang(f"/districts/{event.district}", locale) if event.district else None,
        "series_label": labels.series(event.series, locale) if event.series else None,
        "series_href": _with_lang(f"/series/{event.series}", locale) if event.series else None,
        "kind": labels.kind(str(event.kind), locale),
        "map_url": catalog.map_url(event),
        "seats": seats,
        "seats_class": seats_class,
        "paragraphs": [p.strip() for p in event.description.split("\n\n") if p.strip()],
        "open_error": open_error,
        "submit_label": _texts(locale)["join_waitlist"]
        if full and event.waitlist_enabled
        else _texts(locale)["register"],
        "questions": _questions(event, locale),
        "ics_url": calendar.event_feed_path(event.id),
        "webcal_url": feed["webcal_url"],
        "series_webcal": series_feed["webcal_url"] if series_feed else None,
        "share_url": show.public_url + catalog.event_page_path(event.id),
        "bot_link": deep_link(bot, event) if bot and status == EventStatus.PUBLISHED else None,
        "lineup_href": _with_lang(f"/events/{event.id}/lineup", locale)
        if event.kind in (EventKind.ROADSHOW, EventKind.FAIR)
        else None,
        "competitions": competitions,
        # The answer page opens at the form (a browser keeps the action's fragment): errors are in view.
        "action": _with_lang(f"/events/{event.id}/register", locale) + "#register",
        "tag_href": lambda tag: _with_lang("/", locale, tag=tag),
        "lost_event_url": _with_lang("/r/lost", locale, event=event.id),
    }


def _fill_form(body: str, scope: str) -> str:
    challenge = form_guard.issue(scope)
    return body.replace(TOKEN_SLOT, challenge.token).replace(QUESTION_SLOT, challenge.question)


async def _public_event(event_id: int) -> Event | None:
    try:
        return await catalog.get_event(event_id)
    except EventNotFound:
        return None


def _id(text: str) -> int | None:
    """A path's event id; anything else (letters, a sign, a huge number) is a page that is not there."""
    return int(text) if text.isdigit() and 0 < len(text) < 10 and int(text) > 0 else None


@router.get("/events/{event_id}", response_class=HTMLResponse)
async def event_page(request: Request, event_id: str) -> Response:
    """A published (or cancelled, or finished) event: everything about it and the registration form."""
    locale = page_locale(request)
    number = _id(event_id)
    if number is None:
        return _not_found(request)
    key = ("event", number, locale, _bot_username(request))
    cached = _cache(request).get(key)
    if cached is None:
        event = await _public_event(number)
        if event is None:
            return _not_found(request)
        context = _context(request, locale, keep={}, **await _event_context(request, event, locale))
        context |= {"values": {}, "errors": {}, "general": None, "token": TOKEN_SLOT, "question": QUESTION_SLOT}
        cached = templates.get_template("site_event.html").render(context)
        _cache(request).put(key, cached)
    return _html(_fill_form(cached, f"register:{number}"))


async def _event_form_again(
    request: Request,
    event: Event,
    locale: Locale,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    general: str | None,
    status_code: int,
) -> HTMLResponse:
    challenge = form_guard.issue(f"register:{event.id}")
    context = _context(request, locale, **await _event_context(request, event, locale))
    context |= {
        "values": values,
        "errors": errors,
        "general": general,
        "token": challenge.token,
        "question": challenge.question,
        "anchor": "register",
    }
    return _render(request, "site_event.html", context, status_code=status_code, private=True)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _cross_site(request: Request) -> bool:
    """A browser's own word that the form was posted from another site (Fetch Metadata)."""
    return request.headers.get("sec-fetch-site", "same-origin") == "cross-site"


def _field_errors(error: ValidationError, locale: Locale) -> dict[str, str]:
    from api.errors import validation_message

    found: dict[str, str] = {}
    for problem in error.errors():
        top = str(problem["loc"][0]) if problem["loc"] else "name"
        if problem["type"] == "string_too_long":
            found.setdefault(top, gettext(locale, LABELS["too_long"], max=problem["ctx"]["max_length"]))
        else:
            found.setdefault(top, validation_message(problem, locale))
    return found


@router.post("/events/{event_id}/register", response_class=HTMLResponse)
async def register_form(request: Request, event_id: str) -> Response:
    """The form: checked here field by field, then the same ``register`` as the API (source ``web``)."""
    locale = page_locale(request)
    number = _id(event_id)
    event = await _public_event(number) if number is not None else None
    if event is None:
        return _not_found(request)
    form = await request.form()
    values: dict[str, Any] = {name: _text(form, name) for name in FORM_FIELDS}
    answers = {q["key"]: _text(form, f"q_{q['key']}") for q in event.questions or []}
    values["answers"] = answers
    values["consent"] = _text(form, "consent") == "yes"
    t = _texts(locale)
    if _cross_site(request):
        return await _event_form_again(
            request, event, locale, values=values, errors={}, general=t["cross_site"], status_code=403
        )
    try:  # a forged or stale form first: its fields are not worth checking
        form_guard.check(f"register:{event.id}", _text(form, "form_token"))
    except DomainError as error:
        return await _event_form_again(
            request, event, locale, values=values, errors={}, general=_message(locale, error), status_code=403
        )
    errors: dict[str, str] = {}
    applicant = None
    try:
        applicant = registrations.Applicant(
            name=values["name"],
            phone=values["phone"] or None,
            email=values["email"] or None,
            organization=values["organization"] or None,
            answers={k: v for k, v in answers.items() if v},
        )
    except ValidationError as error:
        errors = _field_errors(error, locale)
    if not values["phone"] and not values["email"]:
        errors.setdefault("phone", t["need_contact"])
    for question in _questions(event, locale):
        text = answers.get(question["key"], "")
        if len(text) > 500:
            errors[f"q_{question['key']}"] = gettext(locale, LABELS["too_long"], max=500)
        elif not text and question["required"]:
            errors[f"q_{question['key']}"] = gettext(locale, N_("Please answer: %(label)s"), label=question["label"])
    if not values["consent"]:
        errors["consent"] = t["need_consent"]
    if errors or applicant is None:
        return await _event_form_again(
            request, event, locale, values=values, errors=errors, general=t["fix_errors"], status_code=422
        )
    limiter: PublicRateLimit = request.app.state.rate_limit
    try:
        await form_guard.verify(
            f"register:{event.id}", _text(form, "form_token"), pow=_text(form, "pow"), answer=_text(form, "answer")
        )
        await limiter.check(request, "register")
        result = await registrations.register(
            event.id, applicant, actor="web", source="web", issue_secret=False, consent_version=privacy.NOTICE_VERSION
        )
    except DomainError as error:
        where = error.params.get("field")
        if error.code == "challenge_failed":
            errors["answer"] = _message(locale, error)
        elif isinstance(where, str) and where.startswith("answers."):
            errors[f"q_{where.removeprefix('answers.')}"] = _message(locale, error)
        elif isinstance(where, str) and where in FORM_FIELDS:
            errors[where] = _message(locale, error)
        general = t["fix_errors"] if errors else _message(locale, error)
        if isinstance(error, FormReplayed):
            general = _message(locale, error)
        return await _event_form_again(
            request, event, locale, values=values, errors=errors, general=general, status_code=_status_of(error)
        )
    registration = result.registration
    token = await access_links.access_token(registration)
    # The form said seats were left (it did not say "join the waitlist"), and the answer is the waitlist.
    late = registration.status == RegistrationStatus.WAITLISTED and _text(form, "seen") == "open"
    target = _with_lang(f"{access_links.PATH_PREFIX}{token}", locale, new="late" if late else "1")
    return RedirectResponse(target, status_code=303, headers=PRIVATE_HEADERS)


# --- series and district pages ------------------------------------------------------------------


async def _all_events(query: catalog.EventQuery, limit: int = 300) -> list[Event]:
    found: list[Event] = []
    cursor = None
    while len(found) < limit:
        page = await catalog.list_events(
            catalog.EventQuery(series=query.series, district=query.district, when=query.when, limit=100, cursor=cursor)
        )
        found += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def _months(cards: list[dict[str, Any]], locale: Locale) -> list[dict[str, Any]]:
    months: list[dict[str, Any]] = []
    for card in cards:
        if not months or months[-1]["key"] != card["month_key"]:
            first = localtime.local(datetime.fromisoformat(card["month_key"] + "-01T12:00:00+08:00"))
            title = f"{first.year}年{first.month}月" if locale == "zh" else first.strftime("%B %Y")
            months.append({"key": card["month_key"], "title": title, "cards": []})
        months[-1]["cards"].append(card)
    return months


async def _listing_page(
    request: Request, key: tuple[Any, ...], title: str, query: catalog.EventQuery, feed: str, *, empty_ok: bool
) -> Response:
    locale = page_locale(request)
    cached = _cache(request).get(key)
    if cached is not None:
        return _html(cached)
    events = await _all_events(query)
    if not events and not empty_ok:
        return _not_found(request)
    show: Presenter = request.app.state.presenter
    cards = [_card(e, locale) for e in events]
    context = _context(
        request,
        locale,
        keep={},
        title=title,
        months=_months(cards, locale),
        count=gettext(locale, LABELS["sessions_count"], count=len(cards)),
        webcal_url=calendar.feed_links(show.public_url, feed)["webcal_url"],
        ics_url=feed,
    )
    body = templates.get_template("site_listing.html").render(context)
    _cache(request).put(key, body)
    return _html(body)


@router.get("/series/{series}", response_class=HTMLResponse)
async def series_page(request: Request, series: str) -> Response:
    """A series' published events of every date (the 60 武创荟 sessions), by month."""
    if len(series) > 50:
        return _not_found(request)
    locale = page_locale(request)
    return await _listing_page(
        request,
        ("series", series, locale),
        labels.series(series, locale),
        catalog.EventQuery(series=series, when="all"),
        f"/calendar/series/{quote(series)}.ics",
        empty_ok=series in labels.SERIES,
    )


@router.get("/districts/{code}", response_class=HTMLResponse)
async def district_page(request: Request, code: str) -> Response:
    """A district's upcoming events, by month."""
    if not districts.is_known(code):
        return _not_found(request)
    locale = page_locale(request)
    title = gettext(locale, LABELS["district_page"], district=districts.label(code, locale))
    return await _listing_page(
        request,
        ("district", code, locale),
        title,
        catalog.EventQuery(district=code, when="upcoming"),
        f"/calendar/districts/{code}.ics",
        empty_ok=True,
    )


# --- "lost my link" ------------------------------------------------------------------------------


def _event_param(request: Request, form: FormData | None = None) -> int | None:
    raw = (_text(form, "event") if form is not None else "") or request.query_params.get("event", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _lost_context(request: Request, locale: Locale, **extra: Any) -> dict[str, Any]:
    challenge = form_guard.issue("lost")
    defaults: dict[str, Any] = {
        "token": challenge.token,
        "question": challenge.question,
        "event_id": _event_param(request),
        "action": _with_lang("/r/lost", locale),
        "values": {},
        "errors": {},
        "general": None,
        "done": False,
        "bad_link": None,
    }
    return _context(request, locale, **(defaults | extra))


@router.get("/r/lost", response_class=HTMLResponse)
async def lost_link(request: Request) -> Response:
    locale = page_locale(request)
    return _render(request, "site_lost.html", _lost_context(request, locale), private=True)


@router.post("/r/lost", response_class=HTMLResponse)
async def lost_link_send(request: Request) -> Response:
    """The same answer whether or not the address is registered; the links go only to the address."""
    locale = page_locale(request)
    form = await request.form()
    email = _text(form, "email")
    t = _texts(locale)
    values = {"email": email}
    if _cross_site(request):
        context = _lost_context(request, locale, values=values, general=t["cross_site"])
        return _render(request, "site_lost.html", context, status_code=403, private=True)
    from events.services.people import normalize_email

    try:
        form_guard.check("lost", _text(form, "form_token"))
        if len(email) > 254:
            raise InvalidInput(field="email")
        if normalize_email(email) is None:
            raise InvalidInput(N_("Give the e-mail address you registered with."), field="email")
        limiter: PublicRateLimit = request.app.state.rate_limit
        await form_guard.verify("lost", _text(form, "form_token"), pow=_text(form, "pow"), answer=_text(form, "answer"))
        await limiter.check(request, "lost_link")
    except DomainError as error:
        errors = {"email": _message(locale, error)} if error.params.get("field") == "email" else {}
        if error.code == "challenge_failed":
            errors["answer"] = _message(locale, error)
        context = _lost_context(
            request, locale, values=values, errors=errors, general=_message(locale, error) if not errors else None
        )
        return _render(request, "site_lost.html", context, status_code=_status_of(error), private=True)
    await access_links.request_link(email, _event_param(request, form), actor="web")
    return _render(request, "site_lost.html", _lost_context(request, locale, done=True), private=True)


# --- my registration ------------------------------------------------------------------------------


async def _by_token(request: Request, token: str) -> Registration | HTMLResponse:
    locale = page_locale(request)
    try:
        return await access_links.registration_by_token(token)
    except access_links.AccessLinkExpired as error:
        status_code, message = 410, _message(locale, error)
    except access_links.AccessLinkInvalid as error:
        status_code, message = 404, _message(locale, error)
    context = _lost_context(request, locale, bad_link=message)
    return _render(request, "site_lost.html", context, status_code=status_code, private=True)


async def _mine_page(
    request: Request,
    registration: Registration,
    token: str,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
    confirm_cancel: bool = False,
) -> HTMLResponse:
    locale = page_locale(request)
    t = _texts(locale)
    event: Event = registration.event
    show: Presenter = request.app.state.presenter
    status = RegistrationStatus(registration.status)
    position = await waitlist_position(registration)
    code = ticket_code(registration, show.signer)
    new = request.query_params.get("new")
    banner = None
    if new == "late" and position is not None:
        banner = gettext(locale, LABELS["filled_up"], position=position)
    elif new:
        banner = {
            RegistrationStatus.CONFIRMED: t["registered_title"],
            RegistrationStatus.WAITLISTED: t["waitlisted_title"],
            RegistrationStatus.PENDING: t["pending_title"],
        }.get(status)
    status_text = {
        RegistrationStatus.CONFIRMED: t["confirmed"],
        RegistrationStatus.WAITLISTED: gettext(locale, LABELS["waitlisted"], position=position or "?"),
        RegistrationStatus.PENDING: t["pending"],
        RegistrationStatus.REJECTED: t["rejected"],
        RegistrationStatus.CANCELLED: t["cancelled_reg"],
    }[status]
    active = status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING)
    editable = active and catalog.effective_status(event) == EventStatus.PUBLISHED
    base = f"{access_links.PATH_PREFIX}{token}"
    shown_answers = values if values is not None else {k: str(v) for k, v in (registration.answers or {}).items()}
    context = _context(
        request,
        locale,
        registration=registration,
        event=event,
        status=str(status),
        status_text=status_text,
        banner=banner,
        new=bool(new),
        position=position,
        ticket_svg=f"/api/v1/tickets/{code}.svg" if code else None,
        ticket_png=f"/api/v1/tickets/{code}.png" if code else None,
        when=format_when(event.starts_at, event.ends_at, locale),
        zone=localtime.zone().key,
        map_url=catalog.map_url(event),
        event_href=_with_lang(catalog.event_page_path(event.id), locale),
        event_cancelled=event.status == EventStatus.CANCELLED,
        ics_url=calendar.event_feed_path(event.id),
        link=f"{show.public_url}{base}",
        questions=_questions(event, locale) if editable else [],
        answers=shown_answers,
        errors=errors or {},
        notice=notice,
        active=active,
        editable=editable,
        cancel_href=_with_lang(f"{base}/cancel", locale),
        cancel_action=_with_lang(f"{base}/cancel", locale),
        answers_action=_with_lang(f"{base}/answers", locale),
        self_href=_with_lang(base, locale),
        data_href=_with_lang(f"{base}/data", locale),
        delete_href=_with_lang(f"{base}/delete", locale),
        ticket_card=f"/api/v1/tickets/{code}/card.png?lang={locale}" if code else None,
        token=form_guard.issue(f"mine:{registration.id}").token,
        confirm_cancel=confirm_cancel,
    )
    return _render(request, "site_mine.html", context, status_code=status_code, private=True)


@router.get("/r/{token}", response_class=HTMLResponse)
async def my_registration(request: Request, token: str) -> Response:
    """The registrant's page from their link: status, place in the queue, ticket, cancel, answers."""
    found = await _by_token(request, token)
    if isinstance(found, HTMLResponse):
        return found
    locale = page_locale(request)
    notice = {"cancelled": _texts(locale)["cancel_done"], "saved": _texts(locale)["answers_saved"]}.get(
        request.query_params.get("done", "")
    )
    return await _mine_page(request, found, token, notice=notice)


@router.get("/r/{token}/cancel", response_class=HTMLResponse)
async def confirm_cancel(request: Request, token: str) -> Response:
    """The confirm step: the same page with "cancel your registration? yes / no"."""
    found = await _by_token(request, token)
    if isinstance(found, HTMLResponse):
        return found
    return await _mine_page(request, found, token, confirm_cancel=True)


@router.post("/r/{token}/cancel", response_class=HTMLResponse)
async def cancel(request: Request, token: str) -> Response:
    """Cancel through the same service as the API: the seat goes to the head of the waitlist."""
    found = await _by_token(request, token)
    if isinstance(found, HTMLResponse):
        return found
    locale = page_locale(request)
    form = await request.form()
    try:
        if _cross_site(request):
            raise FormReplayed()
        await form_guard.verify(f"mine:{found.id}", _text(form, "form_token"), challenge=False)
        await registrations.cancel_registration(found.id, actor=f"web:registration:{found.id}", reason="web")
    except DomainError as error:
        return await _mine_page(request, found, token, notice=_message(locale, error), status_code=_status_of(error))
    return RedirectResponse(
        _with_lang(f"{access_links.PATH_PREFIX}{token}", locale, done="cancelled"),
        status_code=303,
        headers=PRIVATE_HEADERS,
    )


@router.post("/r/{token}/answers", response_class=HTMLResponse)
async def change_answers(request: Request, token: str) -> Response:
    """New answers to the event's questions, checked by the service as at registration."""
    found = await _by_token(request, token)
    if isinstance(found, HTMLResponse):
        return found
    locale = page_locale(request)
    form = await request.form()
    event: Event = found.event
    answers = {q["key"]: _text(form, f"q_{q['key']}") for q in event.questions or []}
    try:
        if _cross_site(request):
            raise FormReplayed()
        if any(len(v) > 500 for v in answers.values()):
            raise InvalidInput(N_("The answers are too long."), field="answers")
        await form_guard.verify(f"mine:{found.id}", _text(form, "form_token"), challenge=False)
        await registrations.change_answers(
            found.id, {k: v for k, v in answers.items() if v}, actor=f"web:registration:{found.id}"
        )
    except DomainError as error:
        where = error.params.get("field")
        errors = {f"q_{where.removeprefix('answers.')}": _message(locale, error)} if isinstance(where, str) else {}
        fresh = await access_links.registration_by_token(token)
        return await _mine_page(
            request,
            fresh,
            token,
            notice=None if errors else _message(locale, error),
            errors=errors,
            values=answers,
            status_code=_status_of(error),
        )
    return RedirectResponse(
        _with_lang(f"{access_links.PATH_PREFIX}{token}", locale, done="saved"), status_code=303, headers=PRIVATE_HEADERS
    )
