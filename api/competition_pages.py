"""The competitions' web pages: the judge's page (``/judge``), the public entry form, the hall's
scoreboard and the results (公示) page. Server-rendered, mobile-first, Chinese first with English by
``?lang=`` or ``Accept-Language``; every form works without JavaScript.

Forms are CSRF-safe twice over: cookies are ``SameSite`` (a cross-site POST carries none), and each
form carries the value of a ``wc_csrf`` cookie that a cross-site page can neither read nor set (the
double-submit check). The judge signs in by the link they were sent (``/judge?token=…``): the token
goes into an HttpOnly cookie and the address bar is cleared by a redirect.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from api.pages import PAGE_HEADERS, asset_url, templates
from api.ratelimit import PublicRateLimit
from api.schemas import Presenter
from api.schemas.competition_faces import ScoreboardPublic
from events import clock, labels, localtime
from events.errors import N_, DomainError, FormExpired, InvalidInput
from events.i18n import Locale, format_date, gettext, locale_of
from events.models import (
    ApiToken,
    AssignmentStatus,
    Entry,
    EntryAttachment,
    EntrySource,
    Judge,
    Role,
    Round,
    RoundStatus,
)
from events.services import tokens
from events.services.competitions import assignment, attachments, closing, entries, public, scoring
from events.services.competitions.config import Config, load_config, round_is_open
from events.services.competitions.storage import check_upload, storage_for
from events.settings import Settings

router = APIRouter(include_in_schema=False)

# The routes that take files: the body limit lets them have an attachment's size (api/app.py).
UPLOAD_PATHS = re.compile(r"/api/v1/competitions/\d+/entries/\d+/attachments|/competitions/\d+/enter(/\d+/files)?")

JUDGE_COOKIE = "wc_judge"
CSRF_COOKIE = "wc_csrf"
JUDGE_COOKIE_AGE = 14 * 24 * 3600
SCOREBOARD_POLL_SECONDS = 5
BOARD_CACHE_SECONDS = 2.0

PRIVATE_HEADERS = PAGE_HEADERS | {
    # A judge's page and an entrant's answer hold what only they should see: not kept by caches.
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Permissions-Policy": "camera=(), microphone=()",
}

LABELS: dict[str, str] = {
    "judge_title": N_("Judging"),
    "sign_in": N_("Sign in"),
    "sign_in_hint": N_("Open the link you were sent as a judge, or paste its token here."),
    "token": N_("Judge token"),
    "sign_out": N_("Sign out"),
    "bad_token": N_("This link is not valid or has been replaced. Ask the organizer for a new one."),
    "no_assignments": N_("Nothing is assigned to you yet."),
    "status_not_started": N_("Not started"),
    "status_saved": N_("Saved, not submitted"),
    "status_submitted": N_("Submitted"),
    "status_recused": N_("Stepped aside"),
    "status_replaced": N_("Reassigned"),
    "round_open": N_("Open for scoring"),
    "round_closed": N_("Closed: scores are final"),
    "submitted_count": N_("Submitted"),
    "closes": N_("Scoring closes"),
    "comment": N_("Comment"),
    "save": N_("Save draft"),
    "submit": N_("Submit"),
    "files": N_("Files"),
    "no_files": N_("No files."),
    "summary": N_("Summary"),
    "organization": N_("Organization"),
    "track": N_("Track"),
    "total": N_("Weighted total"),
    "recuse": N_("Step aside (conflict of interest)"),
    "recuse_reason": N_("Why you step aside"),
    "recuse_button": N_("Step aside from this entry"),
    "max": N_("max"),
    "saved_notice": N_("Draft saved."),
    "submitted_notice": N_("Score submitted. You can change it until the round closes."),
    "recused_notice": N_("You have stepped aside from this entry."),
    "entry_number": N_("Entry No."),
    # the entry form
    "enter_title": N_("Enter the competition"),
    "enter_intro": N_("Fields marked * are required. We tell you of every change in your entry's status."),
    "project": N_("Project name"),
    "leader": N_("Team leader"),
    "team": N_("Team members"),
    "team_hint": N_("One per line: name, then role (optional)."),
    "phone": N_("Mobile phone"),
    "email": N_("E-mail"),
    "contact_hint": N_("At least one of phone and e-mail."),
    "ties": N_("Organizations you hold shares in or work with"),
    "ties_hint": N_("One per line. Judges from them are never assigned to your entry."),
    "file": N_("Business plan or slides"),
    "file_hint": N_("PDF, PPTX, PPT, DOCX or DOC, up to %(mb)s MB."),
    "send": N_("Send the entry"),
    "closed": N_("This competition no longer takes entries."),
    "fix_errors": N_("Please correct the marked fields."),
    "thanks": N_("Your entry is in"),
    "thanks_text": N_("Keep your entry number. The organizers review every entry; you will hear about it."),
    "add_file": N_("Add another file"),
    "upload": N_("Upload"),
    "file_added": N_("File added."),
    # the scoreboard
    "scoreboard": N_("Scoreboard"),
    "rank": N_("Rank"),
    "score": N_("Score"),
    "judges": N_("Judges"),
    "on_stage": N_("On stage"),
    "scoring": N_("Scoring…"),
    "updated": N_("Updated"),
    "board_closed": N_("Scoring is closed."),
    "not_found": N_("Not found"),
    "board_missing": N_("This scoreboard is not public. Ask the organizer for the link."),
    # the results page
    "results": N_("Results"),
    "no_results": N_("No results have been published yet."),
    "notice_until": N_("Public notice until %(date)s"),
    "notice_over": N_("Public notice ended on %(date)s"),
    "final": N_("Final"),
    "how_rule": N_("By score"),
    "how_wildcard": N_("Wildcard"),
    "how_moved_up": N_("Moved up"),
    "award": N_("Award"),
    "objection_title": N_("Object to a result"),
    "objection_intro": N_(
        "During the public notice anyone may object to a result in writing, by real name. The organizers "
        "look into every objection and tell you their decision."
    ),
    "objection_entry": N_("The entry you object to"),
    "objection_link": N_("Object to a result (by real name)"),
    "entries_count": N_("%(count)s entries"),
    "objection_pick_entry": N_("Choose the entry you object to."),
    "objector_name": N_("Your real name"),
    "objector_contact": N_("Mobile phone or e-mail"),
    "objection_reason": N_("What is wrong"),
    "objection_evidence": N_("Evidence"),
    "objection_evidence_hint": N_("A description, or addresses (URLs) of documents."),
    "objection_send": N_("Send the objection"),
    "objection_filed": N_("Your objection No. %(number)s has been received. You will hear the decision."),
}
NOT_A_NUMBER = N_("Enter a number for %(name)s.")
NEED_CONTACT = N_("Give a mobile phone or an e-mail address.")
# The API and the bot may leave the leader to the sender; a web form has no sender to fall back on.
NEED_LEADER = N_("Give the team leader's name.")
SIGNED_IN_AS = N_("%(name)s · %(competition)s")
JUDGES_DONE = N_("%(done)s of %(total)s judges")


def page_locale(request: Request) -> Locale:
    """``?lang=`` wins (a shared link can say its language), then Accept-Language; Chinese by default."""
    return locale_of(request.query_params.get("lang"), accept_language=request.headers.get("accept-language"))


def _switch(request: Request, locale: Locale) -> dict[str, str]:
    other = "zh" if locale == "en" else "en"
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "token")])
    query = f"{query}&lang={other}" if query else f"lang={other}"
    return {"href": f"{request.url.path}?{query}", "text": "中文" if locale == "en" else "English"}


def _base_context(request: Request, locale: Locale, csrf: str | None = None) -> dict[str, Any]:
    return {
        "lang": "en" if locale == "en" else "zh-CN",
        "t": {key: gettext(locale, msgid) for key, msgid in LABELS.items()},
        "asset": lambda name: asset_url(request, name),
        "switch": _switch(request, locale),
        "csrf": csrf,
        "lang_query": "?lang=en" if locale == "en" else "",
    }


def _message(locale: Locale, error: DomainError) -> str:
    return labels.message(locale, error.message, error.params)


def _secure(request: Request) -> bool:
    return str(request.app.state.settings.base_url).startswith("https://")


# --- CSRF: the double-submit cookie -------------------------------------------------------------


def _csrf_value(request: Request) -> str:
    value = request.cookies.get(CSRF_COOKIE, "")
    return value if 20 <= len(value) <= 64 and value.isascii() else secrets.token_urlsafe(24)


def _with_csrf(request: Request, response: Response, value: str) -> Response:
    if request.cookies.get(CSRF_COOKIE) != value:
        response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return response


def _check_csrf(request: Request, form: FormData) -> None:
    """Raises ``form_expired`` when the form's value is not the cookie's."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get("csrf")
    if not cookie or not isinstance(sent, str) or not secrets.compare_digest(cookie.encode(), sent.encode()):
        raise FormExpired()


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    private: bool = True,
    csrf: str | None = None,
) -> Response:
    response = templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=PRIVATE_HEADERS if private else PAGE_HEADERS
    )
    return _with_csrf(request, response, csrf) if csrf else response


# --- the judge's page --------------------------------------------------------------------------


async def _judge_of_cookie(request: Request) -> tuple[Judge, ApiToken] | None:
    text = request.cookies.get(JUDGE_COOKIE)
    if not text:
        return None
    return await _judge_of_text(text)


async def _judge_of_text(text: str) -> tuple[Judge, ApiToken] | None:
    try:
        token = await tokens.authenticate(text)
    except DomainError:
        return None
    if token.role != Role.JUDGE:
        return None
    judge = await Judge.get_or_none(token_id=token.id, active=True).select_related("organization")
    return (judge, token) if judge is not None else None


@dataclass
class CriterionField:
    key: str
    name: str
    description: str
    max: str
    step: str
    value: str
    error: str | None = None


@dataclass
class EntryCard:
    round: str
    entry_id: int
    title: str
    track: str
    organization: str | None
    summary: str
    status: str  # not_started | saved | submitted | recused | replaced
    fields: list[CriterionField]
    comment: str
    total: str | None
    files: list[dict[str, Any]]
    editable: bool
    error: str | None = None
    notice: str | None = None
    on_stage: bool = False  # presenting now in an on-site final


@dataclass
class RoundSection:
    code: str
    name: str
    open: bool
    closes_at: str | None
    cards: list[EntryCard] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        return sum(1 for c in self.cards if c.status == "submitted")

    @property
    def active(self) -> int:
        return sum(1 for c in self.cards if c.status not in ("recused", "replaced"))


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _step(maximum: float) -> str:
    """Half points on a small scale, whole points on a large one."""
    return "0.5" if maximum <= 20 else "1"


@dataclass(frozen=True)
class Posted:
    """What the judge sent for one entry (shown again beside the error)."""

    round: str
    entry_id: int
    values: dict[str, str]
    comment: str
    error: str
    field: str | None


async def _judge_sections(judge: Judge, config: Config, locale: Locale, show: Presenter) -> list[RoundSection]:
    sections: list[RoundSection] = []
    now_open = {r.code: config_round_open(r) for r in config.rounds}
    for rnd in config.rounds:
        mine = await scoring.my_scores(config.competition.id, rnd.code, judge=judge)
        if not mine:
            continue
        files = await attachments.attachments_of([m.assignment.entry_id for m in mine])
        orgs = await _organizations([m.assignment.entry_id for m in mine])
        section = RoundSection(
            code=rnd.code,
            name=rnd.name,
            open=now_open[rnd.code],
            closes_at=localtime.stamp(rnd.closes_at) if rnd.closes_at else None,
        )
        for m in mine:
            a = m.assignment
            shown_version = m.latest
            if a.status == AssignmentStatus.RECUSED:
                status = "recused"
            elif a.status == AssignmentStatus.REPLACED:
                status = "replaced"
            elif m.submitted is not None and (m.latest is None or m.latest.version == m.submitted.version):
                status = "submitted"
            elif m.latest is not None:
                status = "saved"
            else:
                status = "not_started"
            values = shown_version.scores if shown_version else {}
            readable = a.status == AssignmentStatus.ACTIVE
            section.cards.append(
                EntryCard(
                    round=rnd.code,
                    entry_id=a.entry_id,
                    title=a.entry.title,
                    track=a.entry.track.name,
                    organization=orgs.get(a.entry_id),
                    summary=a.entry.summary if readable else "",
                    status=status,
                    fields=[
                        CriterionField(
                            key=c.key,
                            name=c.name,
                            description=c.description,
                            max=_number(c.max),
                            step=_step(c.max),
                            value=_number(values.get(c.key)),
                        )
                        for c in config.criteria
                    ],
                    comment=shown_version.comment if shown_version else "",
                    total=_number(round(shown_version.total, 2)) if shown_version else None,
                    files=[
                        {"name": f.filename, "href": f"/judge/files/{f.id}", "size": _size(f.size)}
                        for f in files.get(a.entry_id, [])
                    ]
                    if readable
                    else [],
                    editable=section.open and readable,
                    on_stage=readable and section.open and a.entry_id == rnd.on_stage_entry_id,
                )
            )
        # The entry on stage first: the judge scores it now.
        section.cards.sort(key=lambda card: not card.on_stage)
        sections.append(section)
    return sections


def config_round_open(rnd: Round) -> bool:
    return bool(round_is_open(rnd, clock.now()))


async def _organizations(entry_ids: list[int]) -> dict[int, str]:
    rows = await Entry.filter(id__in=entry_ids).values_list("id", "organization__name")
    return {int(i): str(o) for i, o in rows if o}


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, round(n / 1024))} KB"


def _apply_posted(sections: list[RoundSection], posted: Posted | None, notice: tuple[int, str] | None) -> None:
    for section in sections:
        for card in section.cards:
            if posted is not None and card.round == posted.round and card.entry_id == posted.entry_id:
                card.comment = posted.comment
                beside_field = False
                for f in card.fields:
                    f.value = posted.values.get(f.key, "")
                    if posted.field == f"scores.{f.key}":
                        f.error = posted.error
                        beside_field = True
                if not beside_field:  # said once: beside its field, else at the top of the card
                    card.error = posted.error
            if notice is not None and card.entry_id == notice[0] and posted is None:
                card.notice = notice[1]


async def _judge_page(
    request: Request,
    judge: Judge,
    *,
    posted: Posted | None = None,
    status_code: int = 200,
) -> Response:
    locale = page_locale(request)
    show: Presenter = request.app.state.presenter
    config = await load_config(judge.competition_id)
    sections = await _judge_sections(judge, config, locale, show)
    notice = _done_notice(request, locale)
    _apply_posted(sections, posted, notice)
    csrf = _csrf_value(request)
    context = _base_context(request, locale, csrf) | {
        "judge": judge,
        "heading": gettext(locale, SIGNED_IN_AS, name=judge.name, competition=config.competition.title),
        "competition": config.competition,
        "sections": sections,
    }
    return _render(request, "judge.html", context, status_code=status_code, csrf=csrf)


def _done_notice(request: Request, locale: Locale) -> tuple[int, str] | None:
    done = request.query_params.get("done", "")
    entry, _, how = done.partition(":")
    texts = {"saved": "saved_notice", "submitted": "submitted_notice", "recused": "recused_notice"}
    if not entry.isdigit() or how not in texts:
        return None
    return int(entry), gettext(locale, LABELS[texts[how]])


def _sign_in_page(request: Request, *, failed: bool = False) -> Response:
    locale = page_locale(request)
    context = _base_context(request, locale) | {"failed": failed}
    return _render(request, "judge_signin.html", context, status_code=401 if failed else 200)


@router.get("/judge", response_class=HTMLResponse)
async def judge_page(request: Request) -> Response:
    """The judge's page; ``?token=`` (the link a judge is sent) signs in and clears the address."""
    offered = request.query_params.get("token")
    if offered is not None:
        found = await _judge_of_text(offered.strip()[:200])
        if found is None:
            return _sign_in_page(request, failed=True)
        lang = request.query_params.get("lang")
        response = RedirectResponse("/judge" + (f"?lang={lang}" if lang in ("zh", "en") else ""), status_code=303)
        response.set_cookie(
            JUDGE_COOKIE,
            offered.strip(),
            max_age=JUDGE_COOKIE_AGE,
            httponly=True,
            samesite="lax",
            secure=_secure(request),
            path="/judge",
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    found = await _judge_of_cookie(request)
    if found is None:
        return _sign_in_page(request, failed=JUDGE_COOKIE in request.cookies)
    return await _judge_page(request, found[0])


def _back(request: Request, entry_id: int, rnd: str, how: str) -> RedirectResponse:
    lang = request.query_params.get("lang")
    query = urlencode({"done": f"{entry_id}:{how}"} | ({"lang": lang} if lang in ("zh", "en") else {}))
    return RedirectResponse(f"/judge?{query}#entry-{rnd}-{entry_id}", status_code=303)


def _posted_entry(form: FormData) -> tuple[str, int]:
    rnd = _text(form, "round")[:32]
    entry = _text(form, "entry_id")
    if not rnd or not entry.isdigit() or not 1 <= int(entry) < 2**31:
        raise InvalidInput(field="entry_id")
    return rnd, int(entry)


def _status_of(error: DomainError) -> int:
    from api.errors import STATUS_BY_CODE, STATUS_BY_KIND

    return STATUS_BY_CODE.get(error.code, STATUS_BY_KIND[error.kind])


@router.post("/judge/score", response_class=HTMLResponse)
async def judge_score(request: Request) -> Response:
    """Save (draft) or submit one entry's score through the scoring service, as the signed-in judge."""
    found = await _judge_of_cookie(request)
    if found is None:
        return _sign_in_page(request, failed=True)
    judge, token = found
    form = await request.form()
    locale = page_locale(request)
    _check_csrf(request, form)
    rnd, entry_id = _posted_entry(form)
    config = await load_config(judge.competition_id)
    raw = {c.key: _text(form, f"score.{c.key}") for c in config.criteria}
    comment = _text(form, "comment")
    submit = _text(form, "action") == "submit"
    try:
        values: dict[str, float] = {}
        for c in config.criteria:
            text = raw[c.key].replace("，", ".").replace(",", ".")
            if not text:
                continue  # the service names the missing criterion
            try:
                values[c.key] = float(text)
            except ValueError:
                raise InvalidInput(NOT_A_NUMBER, field=f"scores.{c.key}", name=c.name) from None
        data = scoring.ScoreInput(scores=values, comment=comment[:2000], submit=submit)
        await scoring.submit_score(
            judge.competition_id, rnd, entry_id, data, judge=judge, actor=f"token:{token.id}:{token.name}", via="web"
        )
    except DomainError as error:
        field_name = error.params.get("field") if isinstance(error.params.get("field"), str) else None
        posted = Posted(rnd, entry_id, raw, comment, _message(locale, error), field_name)
        return await _judge_page(request, judge, posted=posted, status_code=_status_of(error))
    return _back(request, entry_id, rnd, "submitted" if submit else "saved")


@router.post("/judge/recuse", response_class=HTMLResponse)
async def judge_recuse(request: Request) -> Response:
    """Step aside from an entry (with a reason) through the recusal service."""
    found = await _judge_of_cookie(request)
    if found is None:
        return _sign_in_page(request, failed=True)
    judge, token = found
    form = await request.form()
    locale = page_locale(request)
    _check_csrf(request, form)
    rnd, entry_id = _posted_entry(form)
    try:
        await assignment.recuse(
            judge.competition_id,
            rnd,
            entry_id,
            judge=judge,
            reason=_text(form, "reason"),
            actor=f"token:{token.id}:{token.name}",
        )
    except DomainError as error:
        posted = Posted(rnd, entry_id, {}, "", _message(locale, error), None)
        return await _judge_page(request, judge, posted=posted, status_code=_status_of(error))
    return _back(request, entry_id, rnd, "recused")


@router.post("/judge/signout", response_class=HTMLResponse)
async def judge_sign_out(request: Request) -> Response:
    form = await request.form()
    _check_csrf(request, form)
    response = RedirectResponse("/judge", status_code=303)
    response.delete_cookie(JUDGE_COOKIE, path="/judge")
    return response


@router.get("/judge/files/{attachment_id}")
async def judge_file(request: Request, attachment_id: int) -> Response:
    """An assigned judge's download of an entry's file (the cookie stands for the bearer token)."""
    from api.routers.competition_faces import content_disposition

    found = await _judge_of_cookie(request)
    if found is None:
        return _sign_in_page(request, failed=True)
    judge = found[0]
    attachment = await EntryAttachment.get_or_none(id=attachment_id).select_related("entry")
    if attachment is None or attachment.entry.competition_id != judge.competition_id:
        return _not_found(request)
    settings: Settings = request.app.state.settings
    try:
        meta, data = await attachments.read_attachment(
            judge.competition_id,
            attachment.entry_id,
            attachment.id,
            storage=storage_for(settings.data_dir),
            judge=judge,
        )
    except DomainError:
        return _not_found(request)
    headers = {
        "Content-Disposition": content_disposition(meta.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(data, media_type=meta.content_type, headers=headers)


def _not_found(request: Request, message_key: str = "not_found") -> Response:
    locale = page_locale(request)
    context = _base_context(request, locale) | {"message": gettext(locale, LABELS[message_key])}
    return _render(request, "competition_missing.html", context, status_code=404)


# --- the entry form ----------------------------------------------------------------------------


def _lines(text: str, limit: int) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()][:limit]


def _team(text: str) -> list[dict[str, str]]:
    team = []
    for line in _lines(text, 30):
        parts = line.replace("，", ",").replace("、", ",").split(",", 1)
        name = parts[0].strip()
        if not name:
            continue
        team.append({"name": name[:100], "role": parts[1].strip()[:50] if len(parts) > 1 else ""})
    return team


def _field_errors(error: ValidationError, locale: Locale) -> dict[str, str]:
    from api.errors import validation_message

    found: dict[str, str] = {}
    for problem in error.errors():
        top = str(problem["loc"][0]) if problem["loc"] else "title"
        found.setdefault(top, validation_message(problem, locale))
    return found


def _entries_open(config: Config) -> bool:
    return public.takes_entries(config.competition)


async def _entry_form(
    request: Request,
    config: Config,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    general: str | None = None,
    status_code: int = 200,
) -> Response:
    locale = page_locale(request)
    csrf = _csrf_value(request)
    settings: Settings = request.app.state.settings
    mb = f"{settings.attachment_max_bytes / 1_048_576:g}"
    context = _base_context(request, locale, csrf) | {
        "competition": config.competition,
        "tracks": config.tracks,
        "open": _entries_open(config),
        "values": values or {},
        "errors": errors or {},
        "general": general,
        "file_hint": gettext(locale, LABELS["file_hint"], mb=mb),
        "accept": ".pdf,.pptx,.ppt,.docx,.doc",
    }
    return _render(request, "enter.html", context, status_code=status_code, csrf=csrf)


@router.get("/competitions/{competition_id}/enter", response_class=HTMLResponse)
async def entry_form(request: Request, competition_id: int) -> Response:
    try:
        config = await load_config(competition_id)
    except DomainError:
        return _not_found(request)
    return await _entry_form(request, config)


FORM_FIELDS = (
    "track",
    "title",
    "summary",
    "leader_name",
    "organization",
    "team",
    "contact_phone",
    "contact_email",
    "declared_ties",
)


@router.post("/competitions/{competition_id}/enter", response_class=HTMLResponse)
async def submit_entry_form(request: Request, competition_id: int) -> Response:
    """The public form: the same entries service as the API and the bot (source ``web``)."""
    limiter: PublicRateLimit = request.app.state.rate_limit
    settings: Settings = request.app.state.settings
    try:
        config = await load_config(competition_id)
    except DomainError:
        return _not_found(request)
    locale = page_locale(request)
    form = await request.form()
    values = {name: _text(form, name) for name in FORM_FIELDS}
    try:
        _check_csrf(request, form)
        await limiter.check(request, "competition_entries")
    except DomainError as error:
        return await _entry_form(
            request, config, values=values, general=_message(locale, error), status_code=_status_of(error)
        )
    upload = form.get("file")
    file_bytes = await upload.read() if isinstance(upload, UploadFile) else b""
    filename = upload.filename if isinstance(upload, UploadFile) else None
    errors: dict[str, str] = {}
    try:
        data = entries.EntryInput(
            title=values["title"],
            track=values["track"],
            leader_name=values["leader_name"],
            organization=values["organization"] or None,
            summary=values["summary"],
            team=_team(values["team"]),
            contact_phone=values["contact_phone"] or None,
            contact_email=values["contact_email"] or None,
            declared_ties=_lines(values["declared_ties"], 20),
        )
    except ValidationError as error:
        errors = _field_errors(error, locale)
        data = None
    if not values["leader_name"].strip():
        errors.setdefault("leader_name", gettext(locale, NEED_LEADER))
    if not values["contact_phone"] and not values["contact_email"]:
        errors.setdefault("contact_phone", gettext(locale, NEED_CONTACT))
    if file_bytes:
        try:
            check_upload(filename, file_bytes, max_bytes=settings.attachment_max_bytes)
        except DomainError as error:
            errors["file"] = _message(locale, error)
    if errors or data is None:
        return await _entry_form(
            request,
            config,
            values=values,
            errors=errors,
            general=gettext(locale, LABELS["fix_errors"]),
            status_code=422,
        )
    try:
        entry = await entries.submit_entry(config.competition.id, data, actor="web", scope=None, source=EntrySource.WEB)
    except DomainError as error:
        where = error.params.get("field")
        if isinstance(where, str) and where in FORM_FIELDS:
            errors[where] = _message(locale, error)
            general = gettext(locale, LABELS["fix_errors"])
        else:
            general = _message(locale, error)
        return await _entry_form(
            request, config, values=values, errors=errors, general=general, status_code=_status_of(error)
        )
    key = attachments.entry_key(entry.id)
    if file_bytes:
        await attachments.add_attachment(
            config.competition.id,
            entry.id,
            filename=filename,
            data=file_bytes,
            who=attachments.Uploader(actor="web", key=key),
            storage=storage_for(settings.data_dir),
            max_bytes=settings.attachment_max_bytes,
        )
    return await _entered_page(request, config, entry.id, key, status_code=201)


async def _entered_page(
    request: Request,
    config: Config,
    entry_id: int,
    key: str,
    *,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    locale = page_locale(request)
    entry = await Entry.get(id=entry_id)
    files = (await attachments.attachments_of([entry_id]))[entry_id]
    csrf = _csrf_value(request)
    context = _base_context(request, locale, csrf) | {
        "competition": config.competition,
        "entry": entry,
        "status": labels.status(entry.status, locale),
        "key": key,
        "files": [{"name": f.filename, "size": _size(f.size)} for f in files],
        "notice": notice,
        "error": error,
        "accept": ".pdf,.pptx,.ppt,.docx,.doc",
    }
    return _render(request, "entered.html", context, status_code=status_code, csrf=csrf)


@router.post("/competitions/{competition_id}/enter/{entry_id}/files", response_class=HTMLResponse)
async def add_entry_file(request: Request, competition_id: int, entry_id: int) -> Response:
    """A later file for an entry, by its key (the answer page of the form holds it)."""
    settings: Settings = request.app.state.settings
    locale = page_locale(request)
    form = await request.form()
    key = _text(form, "key")
    if attachments.entry_id_of_key(key) != entry_id:
        return _not_found(request)
    try:
        config = await load_config(competition_id)
    except DomainError:
        return _not_found(request)
    upload = form.get("file")
    try:
        _check_csrf(request, form)
        if not isinstance(upload, UploadFile):
            raise InvalidInput(field="file")
        await attachments.add_attachment(
            competition_id,
            entry_id,
            filename=upload.filename,
            data=await upload.read(),
            who=attachments.Uploader(actor="web", key=key),
            storage=storage_for(settings.data_dir),
            max_bytes=settings.attachment_max_bytes,
        )
    except DomainError as error:
        return await _entered_page(
            request, config, entry_id, key, status_code=_status_of(error), error=_message(locale, error)
        )
    return await _entered_page(request, config, entry_id, key, notice=gettext(locale, LABELS["file_added"]))


# --- the scoreboard ----------------------------------------------------------------------------

# (competition, round) → (expires at, ETag, body). One process's memory: a hall's screens and phones
# polling every few seconds cost one ranking per round per two seconds, whoever asks.
_BOARDS: dict[tuple[int, str], tuple[float, str, bytes]] = {}


async def board_json(
    request: Request, competition_id: int, round_code: str, key: str | None, show: Presenter
) -> Response:
    """The scoreboard's JSON (the API route and the page's script), cached briefly, with an ETag."""
    config = await public.scoreboard_round(competition_id, round_code, key)
    cache_key = (config.competition.id, round_code)
    now = time.monotonic()
    cached = _BOARDS.get(cache_key)
    if cached is None or cached[0] <= now:
        board = await public.scoreboard(config, round_code)
        body = ScoreboardPublic.of(show, board).model_dump_json().encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        cached = (now + BOARD_CACHE_SECONDS, etag, body)
        if len(_BOARDS) > 256:
            _BOARDS.clear()
        _BOARDS[cache_key] = cached
    _, etag, body = cached
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={int(BOARD_CACHE_SECONDS)}"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/competitions/{competition_id}/rounds/{round_code}/scoreboard", response_class=HTMLResponse)
async def scoreboard_page(request: Request, competition_id: int, round_code: str) -> Response:
    """The hall's big screen; refreshes itself (a script polls the JSON; without it, a meta refresh)."""
    locale = page_locale(request)
    key = request.query_params.get("key")
    show: Presenter = request.app.state.presenter
    try:
        config = await public.scoreboard_round(competition_id, round_code[:32], key)
    except DomainError:
        return _not_found(request, "board_missing")
    board = await public.scoreboard(config, round_code)
    data = ScoreboardPublic.of(show, board)
    query = urlencode({"key": key}) if key else ""
    context = _base_context(request, locale) | {
        "board": data,
        "json_url": f"/api/v1/competitions/{competition_id}/rounds/{round_code}/scoreboard"
        + (f"?{query}" if query else ""),
        "poll": SCOREBOARD_POLL_SECONDS,
        "closed": board.status != RoundStatus.OPEN,
        "updated": localtime.local(board.at).strftime("%H:%M:%S"),
        "judges_done": {
            r.entry_id: gettext(locale, JUDGES_DONE, done=r.judges_done, total=r.judges_total) for r in data.items
        },
        "labels_json": json.dumps(
            {
                "scoring": gettext(locale, LABELS["scoring"]),
                "judges": gettext(locale, JUDGES_DONE),
            },
            ensure_ascii=False,
        ),
    }
    headers_private = bool(key)
    return _render(request, "scoreboard.html", context, private=headers_private)


# --- the results (公示) page and its objections -------------------------------------------------

OBJECTION_FIELDS = ("entry_id", "name", "contact", "reason", "evidence")


async def _results_page(
    request: Request,
    competition_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    general: str | None = None,
    filed: int | None = None,
    status_code: int = 200,
) -> Response:
    """Published rounds, latest first: who went through, how, with rank and score; the notice period in
    local time; while a round's notice is open, the objection form (实名异议) for its entries."""
    locale = page_locale(request)
    try:
        results = await closing.public_results(competition_id)
    except DomainError:
        return _not_found(request)
    how = {"rule": LABELS["how_rule"], "wildcard": LABELS["how_wildcard"], "moved_up": LABELS["how_moved_up"]}
    tiers = {str(t.get("code")): str(t.get("name")) for t in results.award_tiers}
    rounds = []
    for r in reversed(results.rounds):
        notice = None
        if r.notice_ends_at is not None:
            template = LABELS["notice_until"] if r.objections_open else LABELS["notice_over"]
            notice = gettext(locale, template, date=_local_day(r.notice_ends_at - timedelta(seconds=1), locale))
        rounds.append(
            {
                "code": r.code,
                "name": r.name,
                "final": r.status == RoundStatus.FINAL,
                "status": labels.status(r.status, locale),
                "notice": notice,
                "objections_open": r.objections_open,
                "count": gettext(locale, LABELS["entries_count"], count=len(r.entries)),
                "rows": [
                    {
                        "entry_id": row.entry_id,
                        "title": row.title,
                        "organization": row.organization or "",
                        "track": row.track_name,
                        "rank": row.rank,
                        "score": f"{row.score:.2f}" if row.score is not None else "",
                        # By score is the rule: only a wildcard or a moved-up entry says how it got there.
                        "how": gettext(locale, how[row.how.value]) if row.how.value != "rule" else "",
                        "moved_up": row.how.value == "moved_up",
                        "award": tiers.get(row.award_tier or "", row.award_tier or ""),
                    }
                    for row in r.entries
                ],
            }
        )
    csrf = _csrf_value(request)
    context = _base_context(request, locale, csrf) | {
        "competition_id": results.competition_id,
        "title": results.title,
        "rounds": rounds,
        # The form stands under the latest round whose notice is open (one at a time in practice).
        "objection_round": next((r["code"] for r in rounds if r["objections_open"]), None),
        "values": values or {},
        "errors": errors or {},
        "general": general,
        "filed": gettext(locale, LABELS["objection_filed"], number=filed) if filed is not None else None,
    }
    return _render(request, "results.html", context, status_code=status_code, private=False, csrf=csrf)


@router.get("/competitions/{competition_id}/results", response_class=HTMLResponse)
async def results_page(request: Request, competition_id: int) -> Response:
    return await _results_page(request, competition_id)


@router.post("/competitions/{competition_id}/results/objections", response_class=HTMLResponse)
async def file_objection_form(request: Request, competition_id: int) -> Response:
    """A real-name objection from the results page: the same closing service as the API's route, CSRF
    checked, rate-limited per client address like the other public forms."""
    limiter: PublicRateLimit = request.app.state.rate_limit
    locale = page_locale(request)
    form = await request.form()
    values = {name: _text(form, name) for name in OBJECTION_FIELDS}
    try:
        _check_csrf(request, form)
        await limiter.check(request, "objections")
    except DomainError as error:
        return await _results_page(
            request, competition_id, values=values, general=_message(locale, error), status_code=_status_of(error)
        )
    errors: dict[str, str] = {}
    entry_id = int(values["entry_id"]) if values["entry_id"].isdigit() and len(values["entry_id"]) < 10 else None
    if entry_id is None:
        errors["entry_id"] = gettext(locale, LABELS["objection_pick_entry"])
    try:
        data = closing.ObjectionInput(
            name=values["name"], contact=values["contact"], reason=values["reason"], evidence=values["evidence"]
        )
    except ValidationError as error:
        errors |= _field_errors(error, locale)
        data = None
    if "contact" not in errors:
        try:  # said now, beside the field, whatever else is missing
            closing.parse_contact(values["contact"])
        except DomainError as error:
            errors["contact"] = _message(locale, error)
    if errors or data is None or entry_id is None:
        return await _results_page(
            request,
            competition_id,
            values=values,
            errors=errors,
            general=gettext(locale, LABELS["fix_errors"]),
            status_code=422,
        )
    try:
        objection = await closing.file_objection(competition_id, entry_id, data, actor="web")
    except DomainError as error:
        where = "entry_id" if error.code == "entry_not_found" else error.params.get("field")
        general = None
        if isinstance(where, str) and where in OBJECTION_FIELDS:
            errors[where] = _message(locale, error)
            general = gettext(locale, LABELS["fix_errors"])
        else:  # the notice has ended (or never opened for that entry): a plain refusal
            general = _message(locale, error)
        return await _results_page(
            request, competition_id, values=values, errors=errors, general=general, status_code=_status_of(error)
        )
    return await _results_page(request, competition_id, filed=objection.id, status_code=201)


def _local_day(moment: datetime, locale: Locale) -> str:
    return format_date(moment, locale)
