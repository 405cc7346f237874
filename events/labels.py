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
    # Demands and connections (对接)
    "open": N_("open"),
    "matched": N_("matched"),
    "in_talks": N_("in talks"),
    "contracted": N_("contracted"),
    "closed": N_("closed"),
    # Competitions: entries (参赛项目), rounds (轮次) and the competition itself
    "submitted": N_("submitted"),
    "accepted": N_("eligible"),
    "withdrawn": N_("withdrawn"),
    "advanced": N_("advanced"),
    "eliminated": N_("not advanced"),
    "awarded": N_("awarded"),
    "notice": N_("under public notice"),
    "final": N_("final"),
    "judging": N_("judging"),
    "upheld": N_("upheld"),
    "dismissed": N_("dismissed"),
    "recused": N_("stepped aside"),
    "replaced": N_("reassigned"),
}

# A meeting request's state (its own words: an "accepted" entry and an accepted meeting read differently).
MEETING_REQUEST_STATUSES: dict[str, str] = {
    "pending": N_("waiting for an answer"),
    "accepted": N_("accepted (the meeting is on)"),
    "declined": N_("declined"),
    "withdrawn": N_("withdrawn by the one who asked"),
    "expired": N_("expired"),
    "cancelled": N_("called off"),
}

# The conflict-of-interest rules (利益冲突规则), as a person reads which one found a conflict.
CONFLICT_RULES: dict[str, str] = {
    "declared_tie": N_("a tie the judge declared"),
    "same_organization": N_("same organization"),
    "email_domain": N_("same e-mail domain"),
    "entrant_declared": N_("a tie the entrant declared"),
    "recusal": N_("the judge stepped aside"),
}

# Demand kinds (需求类型).
DEMAND_KINDS: dict[str, str] = {
    "technology": N_("Technology"),
    "talent": N_("Talent"),
    "capital": N_("Capital"),
    "scenario": N_("Application scenario"),
}

EVENT_KINDS: dict[str, str] = {
    "session": N_("Technology-transfer session"),
    "competition": N_("Competition"),
    "roadshow": N_("Roadshow"),
    "fair": N_("Matchmaking fair"),
    "training": N_("Broker training"),
}

# Event series people know by name (the bot's browse menu, the site's filter and series pages).
SERIES: dict[str, str] = {
    "wuchuanghui": N_("武创荟 sessions"),
    "wuchuangyuan": N_("武创源 disruptive-technology contest"),
    "yingxiongbei": N_("英雄杯 innovation contest"),
    "chanyi": N_("Industry–medicine matchmaking"),
    "luyan": N_("Project roadshows"),
    "jishu-jingliren": N_("Technology-broker training"),
}


def series(value: str, locale: Locale) -> str:
    """'武创荟系列活动' / '武创荟 sessions'; an unknown series is shown as its code."""
    msgid = SERIES.get(value)
    return gettext(locale, msgid) if msgid else value


# Field names as a person reads them in a message (request bodies, query and path parameters, and
# the fields the services name). A test walks /openapi.json so no request field is left out.
FIELDS: dict[str, str] = {
    "abstract": N_("abstract"),
    "achievement_id": N_("achievement id"),
    "address": N_("address"),
    "amount_cny": N_("amount (yuan)"),
    "answers": N_("answers"),
    "before_id": N_("before id"),
    "body": N_("request body"),
    "broadcast_id": N_("announcement id"),
    "broker": N_("broker"),
    "broker_id": N_("broker id"),
    "buyer": N_("buyer"),
    "budget_max_cny": N_("highest budget (CNY)"),
    "budget_min_cny": N_("lowest budget (CNY)"),
    "capacity": N_("capacity"),
    "category": N_("category"),
    "certification_id": N_("certificate id"),
    "checked_in": N_("checked in"),
    "choices": N_("choices"),
    "code": N_("code"),
    "collected_by": N_("collected by"),
    "completed_at": N_("completion time"),
    "contact": N_("contact"),
    "contract_no": N_("contract number"),
    "corrects": N_("corrected entry"),
    "course_id": N_("course id"),
    "credit_code": N_("unified social credit code"),
    "cursor": N_("page cursor"),
    "deadline": N_("deadline"),
    "demand_id": N_("demand id"),
    "description": N_("description"),
    "device": N_("device"),
    "direction": N_("direction"),
    "district": N_("district"),
    "districts": N_("districts"),
    "earned_at": N_("time earned"),
    "email": N_("e-mail address"),
    "email_domains": N_("mail domains"),
    "ends_at": N_("end time"),
    "entry_id": N_("ledger entry"),
    "event": N_("event"),
    "event_id": N_("event id"),
    "event_ids": N_("event ids"),
    "external_id": N_("external id"),
    "field": N_("technology field"),
    "fields_of_interest": N_("fields of interest"),
    "file": N_("file"),
    "follow_up_days": N_("days until the next follow-up"),
    "format": N_("format"),
    "from": N_("from date"),
    "gate": N_("gate"),
    "host": N_("host"),
    "hours": N_("hours"),
    "id": N_("id"),
    "indicators": N_("core indicators"),
    "init_data": N_("Telegram sign-in data"),
    "investor_id": N_("investor id"),
    "item_id": N_("session or module id"),
    "items": N_("items"),
    "key": N_("key"),
    "keywords": N_("keywords"),
    "kind": N_("kind"),
    "label": N_("label"),
    "label_en": N_("English label"),
    "lang": N_("language"),
    "language": N_("language"),
    "latitude": N_("latitude"),
    "level": N_("level"),
    "limit": N_("page size"),
    "longitude": N_("longitude"),
    "major": N_("major"),
    "message_id": N_("message id"),
    "min_stay_minutes": N_("minimum stay in minutes"),
    "min_trl": N_("minimum TRL"),
    "minutes": N_("minutes"),
    "mode": N_("transfer mode"),
    "name": N_("name"),
    "note": N_("note"),
    "offline": N_("offline"),
    "order": N_("order"),
    "organization": N_("organization"),
    "organization_id": N_("organization id"),
    "owner_organization": N_("owning organization"),
    "overdue": N_("follow-up overdue"),
    "past": N_("past events"),
    "patents": N_("patents"),
    "path": N_("path"),
    "person": N_("person"),
    "person_id": N_("person id"),
    "phone": N_("phone number"),
    "position": N_("position"),
    "price_max_cny": N_("highest price"),
    "price_min_cny": N_("lowest price"),
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
    "seller": N_("seller"),
    "series": N_("series"),
    "signed_on": N_("signing date"),
    "sort": N_("sort order"),
    "source": N_("source"),
    "specialties": N_("specialties"),
    "specialty": N_("specialty"),
    "stage": N_("stage"),
    "stages": N_("rounds"),
    "starts_at": N_("start time"),
    "status": N_("status"),
    "tags": N_("tags"),
    "team": N_("team"),
    "telegram_id": N_("Telegram id"),
    "text": N_("text"),
    "ticket_max_cny": N_("largest ticket"),
    "ticket_min_cny": N_("smallest ticket"),
    "tier": N_("library tier"),
    "title": N_("title"),
    "to": N_("to date"),
    "token": N_("token"),
    "token_id": N_("token id"),
    "transfer_id": N_("contract id"),
    "transfer_modes": N_("transfer modes"),
    "trl": N_("technology readiness level"),
    "venue": N_("venue"),
    "verified": N_("verified"),
    "waitlist_enabled": N_("waitlist"),
    "year": N_("year"),
    # competitions: the entry form, scores
    "comment": N_("comment"),
    "contact_email": N_("e-mail"),
    "contact_phone": N_("mobile phone"),
    "declared_ties": N_("declared ties"),
    "leader_name": N_("team leader"),
    "scores": N_("scores"),
    "sheets": N_("score sheets"),
    "summary": N_("summary"),
    "track": N_("track"),
}


def status(value: str, locale: Locale, *, capitalized: bool = False) -> str:
    """'草稿' / 'draft' for ``draft`` ('Draft' standing alone); an unknown value is shown as it is."""
    msgid = STATUSES.get(str(value))
    text = gettext(locale, msgid) if msgid else str(value)
    return text[:1].upper() + text[1:] if capitalized else text


def conflict_rule(value: str, locale: Locale) -> str:
    """'同一单位' / 'same organization' for ``same_organization``; an unknown value is shown as it is."""
    msgid = CONFLICT_RULES.get(str(value))
    return gettext(locale, msgid) if msgid else str(value)


def demand_kind(value: str, locale: Locale) -> str:
    """'技术需求' / 'Technology' for ``technology``; an unknown value is shown as it is."""
    msgid = DEMAND_KINDS.get(str(value))
    return gettext(locale, msgid) if msgid else str(value)


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
    if (key == "status" or key.endswith("_status")) and isinstance(value, str):
        return status(value, locale)
    if key == "rule" and isinstance(value, str):
        return conflict_rule(value, locale)
    if key == "meeting_request" and isinstance(value, str) and value in MEETING_REQUEST_STATUSES:
        return gettext(locale, MEETING_REQUEST_STATUSES[value])
    if key == "found" and isinstance(value, str):  # what a file was found to be: an English msgid
        return gettext(locale, value)
    return value


def params_for(locale: Locale, params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: shown(key, value, locale) for key, value in params.items()}


def message(locale: Locale, msgid: str, params: Mapping[str, Any] | None = None) -> str:
    """A domain message in ``locale`` with its parameters as a person reads them."""
    return gettext(locale, msgid, **params_for(locale, params or {}))
