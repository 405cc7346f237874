"""The privacy notice (``/privacy``) and a registrant's own requests from their web link: download my
data (``/r/{token}/data``) and delete my data (``/r/{token}/delete``). Server-rendered, no JavaScript,
Chinese first with English by ``?lang=`` or ``Accept-Language``.

The delete form carries the site's signed single-use form token (``events.services.form_guard``) scoped
to the registration: a page on another site cannot make one (CSRF), a replay is refused, and one older
than ``FORM_MAX_AGE`` is refused.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.pages import PAGE_HEADERS, asset_url, templates
from events import labels, localtime
from events.errors import N_, DomainError
from events.i18n import Locale, gettext, locale_of
from events.models import Registration
from events.privacy import NOTICE_VERSION
from events.services import access_links, form_guard, privacy

router = APIRouter(include_in_schema=False)

FORM_MAX_AGE = form_guard.TTL.total_seconds()  # how long a delete form stays valid

HEADERS = PAGE_HEADERS | {"Permissions-Policy": "camera=(), microphone=()"}
PRIVATE_HEADERS = HEADERS | {
    # A person's own page: not kept by caches, not indexed, and the link not sent on as a referrer.
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
}

LABELS: dict[str, str] = {
    "site": N_("Wuchuang · privacy"),
    "notice_title": N_("Privacy notice"),
    "notice_intro": N_(
        "This notice says what the platform collects when you register for an event, why, how long it keeps "
        "it, who sees it, and your rights under the Personal Information Protection Law (PIPL)."
    ),
    "what_title": N_("What we collect"),
    "what": N_(
        "Your name, mobile phone, e-mail address and organization; your answers to the event's questions; "
        "your Telegram account if you register in the bot; your check-ins at the door; for brokers in "
        "training, credit hours and certificates."
    ),
    "why_title": N_("Why"),
    "why": N_(
        "To hold your seat, issue your ticket, let you in at the door, tell you of changes to your events, "
        "count attendance towards the programme's targets and, for brokers, certify their training."
    ),
    "how_long_title": N_("How long"),
    "how_long_off": N_("This deployment keeps registration details until you ask us to delete them."),
    "who_title": N_("Who sees it"),
    "who": N_(
        "The organizers of the event you register for (their own organization's events only), the door staff "
        "who scan your ticket, and the programme office. Your data is not sold or given to anyone else. The "
        "QR code on your ticket holds a signed number only: no name, no phone."
    ),
    "rights_title": N_("Your rights"),
    "rights": N_(
        "You may see and download your data, have it corrected and have it deleted (PIPL articles 44 to 47). "
        "Deleting cancels your registrations for events still to come (your seat goes to the next person on "
        "the waitlist); past registrations stay without your details so that the events' counts add up, and "
        "training credits and certificates stay under a pseudonym."
    ),
    "how_title": N_("How to use them"),
    "how_web": N_(
        'On the web: open the link of your registration (in your confirmation) and choose "Download my data" '
        'or "Delete my data".'
    ),
    "how_bot": N_("In the Telegram bot: send /mydata for a file of your data, /delete to delete it."),
    "how_office": N_("Or write to the programme office: an administrator can export or delete your data for you."),
    "version": N_("Version of this notice"),
    "download": N_("Download my data"),
    "download_hint": N_("A JSON file of everything we hold about you."),
    "delete": N_("Delete my data"),
    "back": N_("Back to my registration"),
    "privacy_notice": N_("Privacy notice"),
    "delete_intro": N_(
        "This deletes what we hold about you, %(name)s: your name, contacts, answers, tickets and links."
    ),
    "effect_future": N_(
        "Your registrations for events still to come are cancelled; your seat goes to the next person on the waitlist."
    ),
    "effect_past": N_("Past registrations stay, without your details, so that the events' counts add up."),
    "effect_ledger": N_("Training credits and certificates, if you have any, stay under a pseudonym."),
    "effect_final": N_("This link stops working, and the deletion cannot be undone."),
    "download_first": N_("You may want to download your data first."),
    "confirm": N_("Yes, delete my data"),
    "done_title": N_("Your data has been deleted"),
    "done_cancelled": N_("Registrations for events still to come that were cancelled: %(count)s."),
    "done_pseudonym": N_("In our records you are now %(pseudonym)s."),
    "not_valid": N_("This link does not work"),
}
RETENTION_TEXT = N_(
    "The details on a registration (name, contacts, answers) are removed %(days)s days after its event ends; "
    "the registration stays without them for the event's counts."
)


def page_locale(request: Request) -> Locale:
    """``?lang=`` wins (a shared link can say its language), then Accept-Language; Chinese by default."""
    return locale_of(request.query_params.get("lang"), accept_language=request.headers.get("accept-language"))


def _context(request: Request, locale: Locale, **extra: Any) -> dict[str, Any]:
    other = "zh" if locale == "en" else "en"
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", other)])
    return {
        "lang": "en" if locale == "en" else "zh-CN",
        "t": {key: gettext(locale, msgid) for key, msgid in LABELS.items()},
        "asset": lambda name: asset_url(request, name),
        "switch": {"href": f"{request.url.path}?{query}", "text": "中文" if locale == "en" else "English"},
        "lang_query": f"?lang={locale}" if "lang" in request.query_params else "",
    } | extra


def _render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200, private: bool = True
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=PRIVATE_HEADERS if private else HEADERS
    )


def _refused(request: Request, locale: Locale, error: DomainError) -> HTMLResponse:
    message = labels.message(locale, error.message, error.params)
    status = 403 if error.kind == "forbidden" else 404
    return _render(request, "privacy_missing.html", _context(request, locale, message=message), status_code=status)


@router.get("/privacy", response_class=HTMLResponse)
async def notice(request: Request) -> HTMLResponse:
    """The privacy notice: what is collected, why, how long, who sees it, the person's rights."""
    locale = page_locale(request)
    days = request.app.state.settings.retention_days
    retention = gettext(locale, RETENTION_TEXT, days=days) if days else gettext(locale, LABELS["how_long_off"])
    context = _context(request, locale, retention=retention, version=NOTICE_VERSION)
    return _render(request, "privacy.html", context, private=False)


# --- the delete form's token ------------------------------------------------------------------


def _form_scope(registration: Registration) -> str:
    return f"erase:{registration.id}"


# --- the registrant's requests ----------------------------------------------------------------


@router.get("/r/{token}/data", response_model=None)
async def download_data(request: Request, token: str) -> Response:
    """Everything held about the registrant, as a JSON attachment."""
    locale = page_locale(request)
    try:
        registration = await access_links.registration_by_token(token)
    except DomainError as error:
        return _refused(request, locale, error)
    found = await privacy.export_person(registration.person_id)
    body = json.dumps(found.model_dump(mode="json"), ensure_ascii=False, indent=2)
    stamp = f"{localtime.local(found.exported_at):%Y%m%d}"
    return Response(
        body.encode(),
        media_type="application/json; charset=utf-8",
        headers=PRIVATE_HEADERS | {"Content-Disposition": f'attachment; filename="wuchuang-my-data-{stamp}.json"'},
    )


@router.get("/r/{token}/delete", response_class=HTMLResponse)
async def delete_page(request: Request, token: str) -> HTMLResponse:
    """What deleting does, and a form to confirm it."""
    locale = page_locale(request)
    try:
        registration = await access_links.registration_by_token(token)
    except DomainError as error:
        return _refused(request, locale, error)
    context = _context(
        request,
        locale,
        token=token,
        form_token=form_guard.issue(_form_scope(registration)).token,
        intro=gettext(locale, LABELS["delete_intro"], name=registration.name),
        event_title=registration.event.title,
    )
    return _render(request, "privacy_delete.html", context)


@router.post("/r/{token}/delete", response_model=None)
async def delete_data(request: Request, token: str) -> Response:
    """Erase the registrant's data (the person behind the link), then say what was done."""
    locale = page_locale(request)
    try:
        registration = await access_links.registration_by_token(token)
        sent = (await request.form()).get("form_token")
        await form_guard.verify(_form_scope(registration), sent if isinstance(sent, str) else "", challenge=False)
    except DomainError as error:
        return _refused(request, locale, error)
    done = await privacy.erase_person(registration.person_id, actor=f"registration:{registration.id}")
    context = _context(
        request,
        locale,
        cancelled=gettext(locale, LABELS["done_cancelled"], count=done.registrations_cancelled),
        pseudonym=gettext(locale, LABELS["done_pseudonym"], pseudonym=done.pseudonym),
        switch=None,  # the link is gone: this page cannot be asked for again in the other language
    )
    return _render(request, "privacy_done.html", context)
