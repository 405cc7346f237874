"""The console's announcements: ``/console/events/{id}/broadcasts`` (compose, preview as the recipient
sees it, who it reaches by channel, send), ``/console/broadcasts`` (every announcement of the
organization), ``/console/broadcasts/{id}`` (its progress per channel, refreshing while messages are
queued; cancel what is still queued).

Rules are ``events.services.broadcasts``'s: who may be written to and until when
(``create_broadcast``), sending once per form (``send_broadcast``: the form's key makes a double
click or a reload that posts again answer the announcement already made), the progress; the reach by
channel is ``notifications.outbox.broadcast_reach`` (the producer's own rule for choosing a channel).
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from api.console.common import (
    Page,
    error_page,
    field_text,
    message_of,
    owned,
    parse_id,
    posted,
    redirect,
    render,
    signed_in,
    stamp,
    status_of,
    texts,
)
from events.errors import N_, DomainError, InvalidInput
from events.i18n import gettext, locale_of
from events.models import Account, Broadcast, Event, OutboxStatus
from events.services import broadcasts, ownership
from notifications import mail
from notifications.outbox import EMAIL, TELEGRAM, broadcast_reach
from notifications.render import render as render_message

router = APIRouter(include_in_schema=False)

LABELS: dict[str, str] = {
    "broadcasts": N_("Broadcasts"),
    "all_broadcasts": N_("All announcements"),
    "door": N_("Live door view"),
    "staff": N_("Door staff"),
    "exports": N_("Downloads"),
    "event_page": N_("Event page"),
    "compose": N_("New announcement"),
    "text": N_("Message"),
    "text_hint": N_("Up to 3500 characters. It goes out under the event's title."),
    "audience": N_("Sent to"),
    "audience_hint": N_("The counts below are for the audience chosen; press Preview after changing it."),
    "reach": N_("Who it reaches"),
    "by_telegram": N_("Telegram"),
    "by_email": N_("E-mail"),
    "unreachable": N_("Not reachable"),
    "unreachable_hint": N_("No Telegram chat and no working e-mail address, or they turned announcements off."),
    "preview": N_("Preview"),
    "preview_title": N_("As the recipient sees it"),
    "preview_chat": N_("In Telegram"),
    "preview_mail": N_("By e-mail"),
    "subject": N_("Subject"),
    "send": N_("Send to %(n)s people"),
    "sent": N_("The announcement is queued; the messages go out now."),
    "closed": N_("Announcements go only to a published event's registrants, until 6 hours after it ends."),
    "event": N_("Event"),
    "created": N_("Created"),
    "author": N_("By"),
    "status": N_("Status"),
    "progress": N_("Progress"),
    "channel": N_("Channel"),
    "not_chosen": N_("Not chosen yet"),
    "queued": N_("Pending"),
    "st_sent": N_("Sent"),
    "st_failed": N_("Failed"),
    "st_skipped": N_("Skipped"),
    "total": N_("Messages"),
    "finished": N_("Finished"),
    "in_progress": N_("Sending"),
    "cancelled": N_("Cancelled"),
    "cancel": N_("Stop what is still queued"),
    "cancelled_done": N_("Stopped: %(n)s queued messages will not go out."),
    "no_messages": N_("No messages yet: the notification worker queues them within a minute."),
    "refreshing": N_("Refreshes every 5 seconds while messages are pending."),
    "announcement": N_("Announcement"),
}
AUDIENCE_NAMES: dict[str, str] = {
    "registered": N_("Everyone registered (confirmed, waitlisted, awaiting approval)"),
    "confirmed": N_("Confirmed registrants"),
    "waitlisted": N_("The waitlist"),
    "checked_in": N_("Those who checked in"),
    "not_checked_in": N_("Confirmed, not checked in"),
}
CHANNELS: tuple[tuple[str | None, str], ...] = ((TELEGRAM, "by_telegram"), (EMAIL, "by_email"), (None, "not_chosen"))


def _t(page: Page) -> dict[str, str]:
    return texts(page.locale, LABELS)


async def _event(request: Request, page: Page, event_id: str) -> Event | Response:
    return await owned(request, page, event_id, ownership.owned_event)


async def _broadcast(request: Request, page: Page, broadcast_id: str) -> Broadcast | Response:
    return await owned(request, page, broadcast_id, ownership.owned_broadcast)


def _audience_name(page: Page, audience: str) -> str:
    names = texts(page.locale, AUDIENCE_NAMES)
    return names.get(audience, audience)


def _chat_html(text: str) -> Markup:
    """A Telegram HTML message as the chat shows it: its own tags (escaped values inside), line breaks."""
    return Markup("<br>".join(Markup(line) for line in text.split("\n")))


def _previews(event: Event, text: str) -> list[dict[str, Any]]:
    """The message in each language a recipient may have, in the chat and by mail."""
    shown = []
    for language in ("zh", "en"):
        chat = render_message("broadcast", language, event=event, text=text)
        # A broadcast's mail carries the chat text in the mail layout, under this subject (notifications/mail.py).
        subject = gettext(locale_of(language), mail.SUBJECTS["broadcast"], title=event.title)
        shown.append({"language": language, "chat": _chat_html(chat), "subject": subject})
    return shown


async def _compose(
    request: Request,
    page: Page,
    event: Event,
    *,
    text: str = "",
    key: str | None = None,
    audience: str = "registered",
    preview: bool = False,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    if audience not in broadcasts.AUDIENCES:
        audience = "registered"
    reach = await broadcast_reach(event.id, audience)
    found = await broadcasts.list_broadcasts(scope=page.scope, event_id=event.id, limit=20)
    names = texts(page.locale, AUDIENCE_NAMES)
    return render(
        request,
        page,
        "console/broadcast_compose.html",
        LABELS,
        status_code=status_code,
        event=event,
        open=broadcasts.in_window(event),
        text=text,
        audience=audience,
        audiences=[(key_, names[key_]) for key_ in broadcasts.AUDIENCES],
        key=key or secrets.token_urlsafe(16),
        previews=_previews(event, text) if preview and text.strip() else None,
        reach=reach,
        recipients=sum(reach.values()) - reach[None],
        problem=problem,
        rows=[await _row(page, b) for b in found.items],
        max_text=broadcasts.MAX_TEXT,
    )


async def _row(page: Page, broadcast: Broadcast) -> dict[str, Any]:
    progress = await broadcasts.progress(broadcast.id)
    return {
        "b": broadcast,
        "audience": _audience_name(page, broadcast.audience),
        "created": stamp(broadcast.created_at),
        "sent": progress.total(OutboxStatus.SENT),
        "pending": progress.pending,
        "failed": progress.total(OutboxStatus.FAILED),
        "total": progress.total(),
    }


@router.get("/console/events/{event_id}/broadcasts")
async def compose_page(request: Request, event_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    return await _compose(request, page, event, audience=request.query_params.get("audience", "registered"))


@router.post("/console/events/{event_id}/broadcasts/preview")
async def preview(request: Request, event_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    text = field_text(form, "text", limit=20_000)
    key = field_text(form, "key", limit=100) or None
    audience = field_text(form, "audience", limit=30) or "registered"
    problem = None
    if not text or len(text) > broadcasts.MAX_TEXT:
        problem = message_of(page.locale, _text_error())
    elif audience not in broadcasts.AUDIENCES:
        problem = message_of(page.locale, InvalidInput(N_("Unknown audience %(audience)s."), audience=audience))
    if problem:
        return await _compose(
            request, page, event, text=text, key=key, audience=audience, problem=problem, status_code=422
        )
    return await _compose(request, page, event, text=text, key=key, audience=audience, preview=True)


def _text_error() -> DomainError:
    return InvalidInput(N_("An announcement needs 1 to 3500 characters."), field="text")


@router.post("/console/events/{event_id}/broadcasts")
async def send(request: Request, event_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    event = await _event(request, page, event_id)
    if isinstance(event, Response):
        return event
    text = field_text(form, "text", limit=20_000)
    key = field_text(form, "key", limit=200)
    audience = field_text(form, "audience", limit=30) or "registered"
    try:
        broadcast, _ = await broadcasts.send_broadcast(event.id, text, actor=page.actor, key=key, audience=audience)
    except DomainError as error:
        return await _compose(
            request,
            page,
            event,
            text=text,
            key=None if error.code == "idempotency_key_reused" else key or None,
            audience=audience,
            problem=message_of(page.locale, error),
            status_code=status_of(error),
        )
    return redirect(f"/console/broadcasts/{broadcast.id}", page.locale, done="sent")


@router.get("/console/broadcasts")
async def all_broadcasts(request: Request, cursor: str | None = None) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    try:
        found = await broadcasts.list_broadcasts(scope=page.scope, limit=50, cursor=cursor[:1200] if cursor else None)
    except DomainError as error:
        return error_page(request, page, error)
    events = {e.id: e for e in await Event.filter(id__in={b.event_id for b in found.items})}
    rows = [await _row(page, b) | {"event": events.get(b.event_id)} for b in found.items]
    return render(
        request,
        page,
        "console/broadcast_list.html",
        LABELS,
        rows=rows,
        next_cursor=found.next_cursor,
        total=found.total,
    )


async def _progress_context(page: Page, broadcast: Broadcast) -> dict[str, Any]:
    progress = await broadcasts.progress(broadcast.id)
    t = _t(page)
    statuses = (
        (OutboxStatus.SENT, "st_sent"),
        (OutboxStatus.FAILED, "st_failed"),
        (OutboxStatus.SKIPPED, "st_skipped"),
    )
    lines = []
    for channel, label in CHANNELS if progress.total() else ():
        total = progress.total(channel=channel)
        if not total and channel is None:
            continue
        pending = progress.total(OutboxStatus.QUEUED, channel) + progress.total(OutboxStatus.SENDING, channel)
        lines.append(
            {
                "channel": t[label],
                "total": total,
                "pending": pending,
                "done": total - pending,
                "by": {key: progress.total(status, channel) for status, key in statuses},
            }
        )
    return {
        "broadcast": broadcast,
        "progress": progress,
        "lines": lines,
        "finished": progress.finished and progress.total() > 0 or broadcast.cancelled_at is not None,
    }


@router.get("/console/broadcasts/{broadcast_id}")
async def broadcast_page(request: Request, broadcast_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    broadcast = await _broadcast(request, page, broadcast_id)
    if isinstance(broadcast, Response):
        return broadcast
    event = await Event.get(id=broadcast.event_id)
    t = _t(page)
    done = request.query_params.get("done")
    notice = None
    if done == "sent":
        notice = t["sent"]
    elif done == "cancelled":
        stopped = parse_id(request.query_params.get("stopped", "")) or 0
        notice = t["cancelled_done"] % {"n": stopped}
    return render(
        request,
        page,
        "console/broadcast_page.html",
        LABELS,
        author=await _author(broadcast.author),
        audience=_audience_name(page, broadcast.audience),
        event=event,
        created=stamp(broadcast.created_at),
        cancelled=stamp(broadcast.cancelled_at),
        notice=notice,
        previews=_previews(event, broadcast.text),
        **await _progress_context(page, broadcast),
    )


async def _author(actor: str) -> str:
    """A console account's announcement by the person's name; an API token's by its name."""
    kind, _, rest = actor.partition(":")
    if kind == "account" and rest.isdigit():
        account = await Account.get_or_none(id=int(rest)).select_related("person")
        return account.person.name if account is not None else actor
    if kind == "token":
        return rest.partition(":")[2] or actor
    return actor


@router.get("/console/broadcasts/{broadcast_id}/progress")
async def progress_fragment(request: Request, broadcast_id: str) -> Response:
    """The refreshing part of an announcement's page (an HTML fragment the page's script swaps in)."""
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    broadcast = await _broadcast(request, page, broadcast_id)
    if isinstance(broadcast, Response):
        return broadcast
    return render(request, page, "console/broadcast_progress.html", LABELS, **await _progress_context(page, broadcast))


@router.post("/console/broadcasts/{broadcast_id}/cancel")
async def cancel(request: Request, broadcast_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, _ = answer
    broadcast = await _broadcast(request, page, broadcast_id)
    if isinstance(broadcast, Response):
        return broadcast
    try:
        stopped = await broadcasts.cancel_broadcast(broadcast.id, actor=page.actor)
    except DomainError as error:
        return error_page(request, page, error)
    return redirect(f"/console/broadcasts/{broadcast.id}", page.locale, done="cancelled", stopped=str(stopped))
