"""How a person reads a code: statuses, kinds and field names in their language, and an error's
parameters rendered for them. One place for the API, the middleware and the bot.

Codes (``draft``, ``starts_at``) stay in machine fields (``code``, ``field``, ``status``); inside a
sentence a person reads a label (草稿, 开始时间) and a moment on the display zone's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from events import localtime
from events.errors import N_
from events.i18n import Locale, gettext

# Every status a message can name: events, registrations, outbox rows, certificates, broadcasts.
STATUSES: dict[str, str] = {
    "draft": N_("draft"),
    "published": N_("published"),
    "cancelled": N_("cancelled"),
    "finished": N_("finished"),
    "confirmed": N_("confirmed"),
    "waitlisted": N_("on the waitlist"),
    "pending": N_("awaiting approval"),
    "rejected": N_("not approved"),
    "queued": N_("queued"),
    "sending": N_("being sent"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
    "changed": N_("changed"),
    "active": N_("valid"),
    "suspended": N_("suspended"),
    "revoked": N_("revoked"),
    "expired": N_("expired"),
}

EVENT_KINDS: dict[str, str] = {
    "session": N_("Technology-transfer session"),
    "competition": N_("Competition"),
    "roadshow": N_("Roadshow"),
    "fair": N_("Matchmaking fair"),
    "training": N_("Broker training"),
}

# Field names as a person reads them in a message (request bodies, query and path parameters, and
# the fields the services name). A test walks /openapi.json so no request field is left out.
FIELDS: dict[str, str] = {
    "address": N_("address"),
    "answers": N_("answers"),
    "before_id": N_("before id"),
    "body": N_("request body"),
    "broadcast_id": N_("announcement id"),
    "broker_id": N_("broker id"),
    "capacity": N_("capacity"),
    "category": N_("category"),
    "certification_id": N_("certificate id"),
    "checked_in": N_("checked in"),
    "choices": N_("choices"),
    "code": N_("code"),
    "completed_at": N_("completion time"),
    "corrects": N_("corrected entry"),
    "course_id": N_("course id"),
    "cursor": N_("page cursor"),
    "description": N_("description"),
    "device": N_("device"),
    "direction": N_("direction"),
    "district": N_("district"),
    "earned_at": N_("time earned"),
    "email": N_("e-mail address"),
    "ends_at": N_("end time"),
    "entry_id": N_("ledger entry"),
    "event": N_("event"),
    "event_id": N_("event id"),
    "event_ids": N_("event ids"),
    "external_id": N_("external id"),
    "format": N_("format"),
    "from": N_("from date"),
    "gate": N_("gate"),
    "host": N_("host"),
    "hours": N_("hours"),
    "id": N_("id"),
    "init_data": N_("Telegram sign-in data"),
    "item_id": N_("session or module id"),
    "items": N_("items"),
    "key": N_("key"),
    "kind": N_("kind"),
    "label": N_("label"),
    "label_en": N_("English label"),
    "lang": N_("language"),
    "language": N_("language"),
    "latitude": N_("latitude"),
    "level": N_("level"),
    "limit": N_("page size"),
    "longitude": N_("longitude"),
    "message_id": N_("message id"),
    "min_stay_minutes": N_("minimum stay in minutes"),
    "minutes": N_("minutes"),
    "name": N_("name"),
    "offline": N_("offline"),
    "order": N_("order"),
    "organization": N_("organization"),
    "past": N_("past events"),
    "path": N_("path"),
    "person": N_("person"),
    "person_id": N_("person id"),
    "phone": N_("phone number"),
    "position": N_("position"),
    "q": N_("search text"),
    "query": N_("query"),
    "questions": N_("questions"),
    "quiet_hours": N_("quiet hours"),
    "reason": N_("reason"),
    "registration_closes_at": N_("registration closing time"),
    "registration_id": N_("registration id"),
    "registration_opens_at": N_("registration opening time"),
    "reminder_minutes": N_("reminder lead time in minutes"),
    "required": N_("required"),
    "requires_approval": N_("needs approval"),
    "requires_checkout": N_("needs check-out"),
    "role": N_("role"),
    "scan_id": N_("scan id"),
    "scanned_at": N_("scan time"),
    "series": N_("series"),
    "sort": N_("sort order"),
    "specialties": N_("specialties"),
    "specialty": N_("specialty"),
    "starts_at": N_("start time"),
    "status": N_("status"),
    "tags": N_("tags"),
    "telegram_id": N_("Telegram id"),
    "text": N_("text"),
    "title": N_("title"),
    "to": N_("to date"),
    "token": N_("token"),
    "token_id": N_("token id"),
    "venue": N_("venue"),
    "waitlist_enabled": N_("waitlist"),
    "year": N_("year"),
}


def status(value: str, locale: Locale, *, capitalized: bool = False) -> str:
    """'草稿' / 'draft' for ``draft`` ('Draft' standing alone); an unknown value is shown as it is."""
    msgid = STATUSES.get(str(value))
    text = gettext(locale, msgid) if msgid else str(value)
    return text[:1].upper() + text[1:] if capitalized else text


def kind(value: str, locale: Locale) -> str:
    """An event kind: '科技成果转化专场' / 'Technology-transfer session' for ``session``."""
    msgid = EVENT_KINDS.get(str(value))
    return gettext(locale, msgid) if msgid else str(value)


def field(path: str, locale: Locale) -> str:
    """'开始时间' / 'start time' for ``starts_at``; a path (``questions.0.label``) reads part by part
    ('问题 第1项 标签'); a part no label knows (a question's own key) is shown as it is.
    """
    parts: list[str] = []
    for part in str(path).split("."):
        if part.isdigit():
            parts.append(gettext(locale, N_("item %(n)s"), n=int(part) + 1))
        elif part in FIELDS:
            parts.append(gettext(locale, FIELDS[part]))
        elif part:
            parts.append(part)
    return " ".join(parts) or gettext(locale, FIELDS["body"])


def shown(key: str, value: Any, locale: Locale) -> Any:
    """A message parameter as a person reads it: moments local, fields and statuses as labels."""
    if isinstance(value, datetime):
        return localtime.stamp(value)
    if key == "field" and isinstance(value, str):
        return field(value, locale)
    if key == "status" and isinstance(value, str):
        return status(value, locale)
    return value


def params_for(locale: Locale, params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: shown(key, value, locale) for key, value in params.items()}


def message(locale: Locale, msgid: str, params: Mapping[str, Any] | None = None) -> str:
    """A domain message in ``locale`` with its parameters as a person reads them."""
    return gettext(locale, msgid, **params_for(locale, params or {}))
