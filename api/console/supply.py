"""Demands and achievements in the console: lists with filters and keyset pages, and each record's
page: its review (a demand's status along its timeline; an achievement's status and the key-results
flag), a broker assigned to a demand (a claim), its matches, and its connections (open one with a
match, move one on towards a contract).

Every action is a service's, the same as the API's routers (``demands``, ``achievements``,
``connections``, ``matching``), with the page's scope: another organization's record is 404. A form
carries the record's ``updated_at`` as ``version``; when the record changed since the page was opened
the form is refused as stale (409) and the page shows what it holds now.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.console.common import (
    Page,
    error_page,
    field_text,
    message_of,
    not_found,
    parse_id,
    posted,
    redirect,
    render,
    signed_in,
    stamp,
    status_of,
    texts,
    with_lang,
)
from events import districts, labels, localtime, supply_fields
from events.errors import N_, DomainError, InvalidInput
from events.i18n import Locale, gettext
from events.models import (
    Achievement,
    AchievementStatus,
    AchievementTier,
    Connection,
    ConnectionStatus,
    Demand,
    DemandKind,
    DemandStatus,
)
from events.services import achievements, connections, demand_status, demands, matching, ownership

router = APIRouter(include_in_schema=False)

LABELS: dict[str, str] = {
    "demands": N_("Demands"),
    "achievements": N_("Achievements"),
    "status": N_("Status"),
    "kind": N_("Kind"),
    "district": N_("District"),
    "field": N_("Field"),
    "tier": N_("Library"),
    "q": N_("Text"),
    "from": N_("Entered from"),
    "to": N_("Entered to"),
    "title": N_("Title"),
    "broker": N_("Broker"),
    "entered": N_("Entered"),
    "updated": N_("Changed"),
    "results": N_("{n} found"),
    "description": N_("Description"),
    "indicators": N_("Indicators"),
    "organization": N_("Organization"),
    "contact": N_("Contact"),
    "deadline": N_("Deadline"),
    "follow_up": N_("Next follow-up"),
    "review": N_("Review"),
    "move_to": N_("Move to"),
    "note": N_("Note (needed to close)"),
    "apply": N_("Apply"),
    "final_status": N_("This status is final: nothing follows it."),
    "assign_broker": N_("Assign a broker"),
    "broker_id": N_("Broker number"),
    "assign": N_("Assign"),
    "release": N_("Release the broker"),
    "no_broker": N_("No broker yet."),
    "timeline": N_("Timeline"),
    "matches": N_("Matches"),
    "matched_achievements": N_("Achievements that fit"),
    "matched_brokers": N_("Brokers that fit"),
    "suggest_brokers": N_("Suggest brokers that fit"),
    "matched_demands": N_("Demands that fit"),
    "score": N_("Score"),
    "why": N_("Why"),
    "connect": N_("Connect"),
    "no_matches": N_("No matches: the record is closed, or nothing fits yet."),
    "connections": N_("Connections"),
    "other_side": N_("Other side"),
    "advance": N_("Advance"),
    "opened": N_("Opened"),
    "connect_by_id": N_("Connect with an achievement by its number"),
    "connect_demand_by_id": N_("Connect with a demand by its number"),
    "achievement_id": N_("Achievement number"),
    "demand_id": N_("Demand number"),
    "key_flag": N_("In the key-results library (counted in the plan's target)"),
    "abstract": N_("Abstract"),
    "keywords": N_("Keywords"),
    "trl": N_("Readiness (TRL)"),
    "owner": N_("Owner"),
    "bad_date": N_("Give the date as YYYY-MM-DD."),
    "done_status": N_("The status is changed."),
    "done_broker": N_("The broker is assigned."),
    "done_release": N_("The broker is released."),
    "done_connected": N_("The connection is opened."),
    "done_connection": N_("The connection is moved on."),
    "done_review": N_("The achievement is saved."),
    "no_district": N_("No district"),
    "investor": N_("Investor"),
}
ACHIEVEMENT_STATUSES: dict[str, str] = {
    "available": N_("available"),
    "negotiating": N_("negotiating"),
    "transferred": N_("transferred"),
    "withdrawn": N_("withdrawn"),
}
TIERS: dict[str, str] = {
    "general": N_("general library"),
    "concept": N_("proof-of-concept library"),
    "pilot": N_("pilot-scale library"),
    "key": N_("key-results library"),
}
DONE = {
    "status": "done_status",
    "broker": "done_broker",
    "release": "done_release",
    "connected": "done_connected",
    "connection": "done_connection",
    "review": "done_review",
}
PAGE_SIZE = 50


def _t(page: Page) -> dict[str, str]:
    return texts(page.locale, LABELS)


def status_label(locale: Locale, value: str) -> str:
    return gettext(locale, labels.STATUSES.get(value, value))


def version_of(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def _day(text: str) -> date | None:
    """``YYYY-MM-DD`` or nothing; raises ``invalid_input``."""
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(N_("Give the date as YYYY-MM-DD."), field="date") from None


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=localtime.zone())


def _options(locale: Locale) -> dict[str, Any]:
    return {
        "districts": [(d.code, districts.label(d.code, locale, short=True)) for d in districts.DISTRICTS],
        "fields": [(f.code, supply_fields.label(f.code, locale)) for f in supply_fields.FIELDS],
        "kinds": [(k.value, gettext(locale, labels.DEMAND_KINDS.get(k.value, k.value))) for k in DemandKind],
        "demand_statuses": [(s.value, status_label(locale, s.value)) for s in DemandStatus],
        "achievement_statuses": [(s.value, gettext(locale, ACHIEVEMENT_STATUSES[s.value])) for s in AchievementStatus],
        "tiers": [(s.value, gettext(locale, TIERS[s.value])) for s in AchievementTier],
    }


def _choice(value: str | None, allowed: type[Any]) -> Any:
    try:
        return allowed(value) if value else None
    except ValueError:
        return None


def _pick(value: str | None, codes: list[str]) -> str | None:
    return value if value in codes else None


# --- demands: list -------------------------------------------------------------------------------------


@router.get("/console/demands")
async def demand_list(request: Request) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    args = request.query_params
    options = _options(page.locale)
    chosen = {
        "status": _choice(args.get("status"), DemandStatus),
        "kind": _choice(args.get("kind"), DemandKind),
        "district": _pick(args.get("district"), [c for c, _ in options["districts"]]),
        "field": _pick(args.get("field"), [c for c, _ in options["fields"]]),
        "q": (args.get("q") or "").strip()[:100],
        "from": (args.get("from") or "").strip()[:10],
        "to": (args.get("to") or "").strip()[:10],
    }
    problem = ""
    try:
        since, until = _day(chosen["from"]), _day(chosen["to"])
        found = await demands.list_demands(
            demands.DemandQuery(
                kind=chosen["kind"],
                status=chosen["status"],
                district=chosen["district"],
                field=chosen["field"],
                q=chosen["q"] or None,
                limit=PAGE_SIZE,
                cursor=(args.get("cursor") or None),
                created_since=day_start(since) if since else None,
                created_before=day_start(until + timedelta(days=1)) if until else None,
            ),
            scope=page.scope,
        )
    except DomainError as error:
        problem = message_of(page.locale, error)
        found = await demands.list_demands(demands.DemandQuery(limit=PAGE_SIZE), scope=page.scope)
        chosen |= {"from": "", "to": "", "cursor": ""}
    kinds = dict(options["kinds"])
    rows = [
        {
            "id": d.id,
            "title": d.title,
            "href": with_lang(f"/console/demands/{d.id}", page.locale),
            "kind": kinds.get(d.kind, d.kind),
            "status": status_label(page.locale, d.status),
            "status_code": d.status,
            "district": districts.label(d.district, page.locale, short=True),
            "field": supply_fields.label(d.field, page.locale) if d.field else "",
            "broker": d.broker.person.name if d.broker_id and d.broker and d.broker.person else "",
            "entered": stamp(d.created_at),
        }
        for d in found.items
    ]
    filters = {k: (v.value if hasattr(v, "value") else v) for k, v in chosen.items() if v}
    return render(
        request,
        page,
        "console/supply_demands.html",
        LABELS,
        rows=rows,
        total=found.total,
        chosen=filters,
        options=options,
        problem=problem,
        next_href=with_lang("/console/demands", page.locale, **filters, cursor=found.next_cursor)
        if found.next_cursor
        else "",
        first_href=with_lang("/console/demands", page.locale, **filters) if args.get("cursor") else "",
    )


# --- demands: one --------------------------------------------------------------------------------------


async def _demand_page(
    request: Request,
    page: Page,
    demand_id: int,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    stale: bool = False,
    status_code: int = 200,
) -> Response:
    try:
        demand = await demands.get_demand(demand_id, page.scope)
    except DomainError:
        return not_found(request, page)
    locale = page.locale
    timeline = await demand_status.timeline(demand.id)
    # Brokers are suggested on request (``?brokers=1``): the matcher weighs every broker each time,
    # too slow for every opening of the page once there are a thousand.
    suggest = request.query_params.get("brokers") == "1"
    matches: dict[str, list[Any]] = {"achievement": [], "broker": []}
    if demand.status in matching.OPEN_DEMANDS:
        for kind in ("achievement", "broker") if suggest else ("achievement",):
            try:
                matches[kind] = await matching.for_demand(
                    demand.id, type=kind, limit=5, locale=locale, scope=page.scope
                )
            except DomainError:
                matches[kind] = []
    linked = await connections.list_connections(
        connections.ConnectionFilter(demand_id=demand.id), scope=page.scope, limit=50
    )
    moves = sorted(demand_status.GRAPH[DemandStatus(demand.status)], key=lambda s: list(DemandStatus).index(s))
    kinds = dict(_options(locale)["kinds"])
    return render(
        request,
        page,
        "console/supply_demand.html",
        LABELS,
        status_code=status_code,
        demand=demand,
        facts={
            "kind": kinds.get(demand.kind, demand.kind),
            "status": status_label(locale, demand.status),
            "district": districts.label(demand.district, locale),
            "field": supply_fields.label(demand.field, locale) if demand.field else "",
            "organization": demand.organization.name if demand.organization else "",
            "contact": demand.contact.name if demand.contact else "",
            "deadline": demand.deadline.isoformat() if demand.deadline else "",
            "entered": stamp(demand.created_at),
            "broker": demand.broker.person.name if demand.broker and demand.broker.person else "",
            "follow_up": stamp(demand.follow_up_due),
        },
        version=version_of(demand.updated_at),
        moves=[(s.value, status_label(locale, s.value)) for s in moves],
        timeline=[
            {
                "at": stamp(step.at),
                "to": status_label(locale, step.to_status),
                "note": step.note,
                "actor": step.actor,
            }
            for step in timeline
        ],
        matches=matches,
        suggest_href="" if suggest else with_lang(f"/console/demands/{demand.id}", locale, brokers="1") + "#broker-h",
        connections=[_connection_row(c, locale, back=f"d{demand.id}") for c in linked.items],
        errors=errors or {},
        typed=typed or {},
        stale=stale,
        done=_done(request, page),
    )


def _done(request: Request, page: Page) -> str:
    key = DONE.get(request.query_params.get("done", ""))
    return _t(page)[key] if key else ""


def _connection_row(c: Connection, locale: Locale, *, back: str) -> dict[str, Any]:
    if back.startswith("d"):
        other = (
            (c.achievement.title, with_lang(f"/console/achievements/{c.achievement_id}", locale))
            if c.achievement
            else ((c.investor.name if c.investor else ""), "")
        )
    else:
        other = (
            (c.demand.title, with_lang(f"/console/demands/{c.demand_id}", locale))
            if c.demand
            else (
                (c.investor.name if c.investor else ""),
                "",
            )
        )
    return {
        "id": c.id,
        "other": other[0],
        "other_href": other[1],
        "status": status_label(locale, c.status),
        "broker": c.broker.person.name if c.broker and c.broker.person else "",
        "opened": stamp(c.created_at),
        "moves": [
            (s.value, status_label(locale, s.value))
            for s in sorted(connections.NEXT[ConnectionStatus(c.status)], key=lambda s: list(ConnectionStatus).index(s))
        ],
        "back": back,
        "version": version_of(c.updated_at),
    }


@router.get("/console/demands/{demand_id}")
async def demand_page(request: Request, demand_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    found = parse_id(demand_id)
    if found is None:
        return not_found(request, page)
    return await _demand_page(request, page, found)


async def _posted_demand(request: Request, demand_id: str) -> tuple[Page, FormData, Demand] | Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    found = parse_id(demand_id)
    if found is None:
        return not_found(request, page)
    try:
        demand = await demands.get_demand(found, page.scope)
    except DomainError:
        return not_found(request, page)
    return page, form, demand


def _stale(form: FormData, moment: datetime | None) -> bool:
    return field_text(form, "version", limit=64) != version_of(moment)


@router.post("/console/demands/{demand_id}/status")
async def demand_status_change(request: Request, demand_id: str) -> Response:
    answer = await _posted_demand(request, demand_id)
    if isinstance(answer, Response):
        return answer
    page, form, demand = answer
    typed = {"to": field_text(form, "to", limit=20), "note": field_text(form, "note", limit=500)}
    if _stale(form, demand.updated_at):
        return await _demand_page(request, page, demand.id, typed=typed, stale=True, status_code=409)
    try:
        patch = demands.DemandPatch(status=typed["to"] or None, note=typed["note"] or None)
        if patch.status is None:
            raise InvalidInput(N_("Choose a status."), field="to")
        await demands.update_demand(demand.id, patch, actor=page.actor, scope=page.scope)
    except ValidationError:
        error = InvalidInput(N_("Choose a status."), field="to")
        return await _demand_page(
            request, page, demand.id, errors={"status": message_of(page.locale, error)}, typed=typed, status_code=422
        )
    except DomainError as error:
        return await _demand_page(
            request,
            page,
            demand.id,
            errors={"status": message_of(page.locale, error)},
            typed=typed,
            status_code=status_of(error),
        )
    return redirect(f"/console/demands/{demand.id}", page.locale, done="status")


@router.post("/console/demands/{demand_id}/broker")
async def demand_assign(request: Request, demand_id: str) -> Response:
    answer = await _posted_demand(request, demand_id)
    if isinstance(answer, Response):
        return answer
    page, form, demand = answer
    typed = {"broker_id": field_text(form, "broker_id", limit=12)}
    if _stale(form, demand.updated_at):
        return await _demand_page(request, page, demand.id, typed=typed, stale=True, status_code=409)
    try:
        broker_id = parse_id(typed["broker_id"])
        if broker_id is None:
            raise InvalidInput(N_("Give the broker's number."), field="broker_id")
        await ownership.owned_broker(broker_id, page.scope)
        config = request.app.state.settings
        await demands.claim_demand(
            demand.id,
            broker_id,
            actor=page.actor,
            scope=page.scope,
            follow_up=timedelta(days=config.demand_follow_up_days),
        )
    except DomainError as error:
        return await _demand_page(
            request,
            page,
            demand.id,
            errors={"broker": message_of(page.locale, error)},
            typed=typed,
            status_code=status_of(error),
        )
    return redirect(f"/console/demands/{demand.id}", page.locale, done="broker")


@router.post("/console/demands/{demand_id}/release")
async def demand_release(request: Request, demand_id: str) -> Response:
    answer = await _posted_demand(request, demand_id)
    if isinstance(answer, Response):
        return answer
    page, form, demand = answer
    if _stale(form, demand.updated_at):
        return await _demand_page(request, page, demand.id, stale=True, status_code=409)
    try:
        await demands.release_claim(demand.id, actor=page.actor, scope=page.scope)
    except DomainError as error:
        return await _demand_page(
            request, page, demand.id, errors={"broker": message_of(page.locale, error)}, status_code=status_of(error)
        )
    return redirect(f"/console/demands/{demand.id}", page.locale, done="release")


@router.post("/console/demands/{demand_id}/connections")
async def demand_connect(request: Request, demand_id: str) -> Response:
    answer = await _posted_demand(request, demand_id)
    if isinstance(answer, Response):
        return answer
    page, form, demand = answer
    typed = {"achievement_id": field_text(form, "achievement_id", limit=12)}
    try:
        achievement_id = parse_id(typed["achievement_id"])
        if achievement_id is None:
            raise InvalidInput(N_("Give the achievement's number."), field="achievement_id")
        await connections.open_connection(
            demand_id=demand.id,
            achievement_id=achievement_id,
            requested_by=None,
            origin="organizer",
            actor=page.actor,
            scope=page.scope,
        )
    except DomainError as error:
        return await _demand_page(
            request,
            page,
            demand.id,
            errors={"connect": message_of(page.locale, error)},
            typed=typed,
            status_code=status_of(error),
        )
    return redirect(f"/console/demands/{demand.id}", page.locale, done="connected")


# --- connections ---------------------------------------------------------------------------------------


@router.post("/console/connections/{connection_id}/status")
async def connection_status(request: Request, connection_id: str) -> Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    found = parse_id(connection_id)
    if found is None:
        return not_found(request, page)
    try:
        connection = await connections.owned_connection(found, page.scope)
    except DomainError:
        return not_found(request, page)
    back = field_text(form, "back", limit=12)
    kind, back_id = back[:1], parse_id(back[1:])
    if kind not in ("d", "a") or back_id is None:
        kind, back_id = ("d", connection.demand_id) if connection.demand_id else ("a", connection.achievement_id)
    to = _choice(field_text(form, "to", limit=20), ConnectionStatus)
    typed = {"note": field_text(form, "note", limit=500)}
    try:
        if to is None:
            raise InvalidInput(N_("Choose a status."), field="to")
        if _stale(form, connection.updated_at):
            raise _Stale()
        await connections.change_status(found, to, note=typed["note"], actor=page.actor, scope=page.scope)
    except (DomainError, _Stale) as error:
        errors = {} if isinstance(error, _Stale) else {f"connection{found}": message_of(page.locale, error)}
        code = 409 if isinstance(error, _Stale) else status_of(error)
        stale = isinstance(error, _Stale)
        if kind == "a" and back_id is not None:
            return await _achievement_page(
                request, page, back_id, errors=errors, typed=typed, stale=stale, status_code=code
            )
        if back_id is not None:
            return await _demand_page(request, page, back_id, errors=errors, typed=typed, stale=stale, status_code=code)
        return error_page(request, page, error) if isinstance(error, DomainError) else not_found(request, page)
    path = f"/console/demands/{back_id}" if kind == "d" else f"/console/achievements/{back_id}"
    return redirect(path, page.locale, done="connection")


class _Stale(Exception):
    """The form was opened before the record's last change."""


# --- achievements --------------------------------------------------------------------------------------


@router.get("/console/achievements")
async def achievement_list(request: Request) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    args = request.query_params
    options = _options(page.locale)
    chosen = {
        "status": _choice(args.get("status"), AchievementStatus),
        "tier": _choice(args.get("tier"), AchievementTier),
        "district": _pick(args.get("district"), [c for c, _ in options["districts"]]),
        "field": _pick(args.get("field"), [c for c, _ in options["fields"]]),
        "q": (args.get("q") or "").strip()[:100],
        "from": (args.get("from") or "").strip()[:10],
        "to": (args.get("to") or "").strip()[:10],
    }
    problem = ""
    try:
        since, until = _day(chosen["from"]), _day(chosen["to"])
        query = achievements.AchievementQuery(
            q=chosen["q"] or None,
            field=chosen["field"],
            tier=chosen["tier"],
            district=chosen["district"],
            status=chosen["status"],
            limit=PAGE_SIZE,
            cursor=args.get("cursor") or None,
            created_since=day_start(since) if since else None,
            created_before=day_start(until + timedelta(days=1)) if until else None,
        )
        found = await achievements.list_achievements(query, scope=page.scope)
    except DomainError as error:
        problem = message_of(page.locale, error)
        query = achievements.AchievementQuery(limit=PAGE_SIZE)
        found = await achievements.list_achievements(query, scope=page.scope)
        chosen |= {"from": "", "to": ""}
    statuses, tiers = dict(options["achievement_statuses"]), dict(options["tiers"])
    rows = [
        {
            "id": a.id,
            "title": a.title,
            "href": with_lang(f"/console/achievements/{a.id}", page.locale),
            "status": statuses.get(a.status, a.status),
            "tier": tiers.get(a.tier, a.tier),
            "key": a.tier == AchievementTier.KEY,
            "district": districts.label(a.district, page.locale, short=True),
            "field": supply_fields.label(a.field, page.locale) if a.field else "",
            "owner": a.owner_organization.name if a.owner_organization else "",
            "entered": stamp(a.created_at),
        }
        for a in found.items
    ]
    filters = {k: (v.value if hasattr(v, "value") else v) for k, v in chosen.items() if v}
    return render(
        request,
        page,
        "console/supply_achievements.html",
        LABELS,
        rows=rows,
        chosen=filters,
        options=options,
        problem=problem,
        next_href=with_lang("/console/achievements", page.locale, **filters, cursor=found.next_cursor)
        if found.next_cursor
        else "",
        first_href=with_lang("/console/achievements", page.locale, **filters) if args.get("cursor") else "",
    )


async def _achievement_page(
    request: Request,
    page: Page,
    achievement_id: int,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    stale: bool = False,
    status_code: int = 200,
) -> Response:
    try:
        achievement = await achievements.get_achievement(achievement_id, page.scope)
    except DomainError:
        return not_found(request, page)
    locale = page.locale
    matched: list[Any] = []
    if achievement.status in matching.LIVE_ACHIEVEMENTS:
        try:
            matched = await matching.for_achievement(
                achievement.id, type="demand", limit=5, locale=locale, scope=page.scope
            )
        except DomainError:
            matched = []
    linked = await connections.list_connections(
        connections.ConnectionFilter(achievement_id=achievement.id), scope=page.scope, limit=50
    )
    options = _options(locale)
    return render(
        request,
        page,
        "console/supply_achievement.html",
        LABELS,
        status_code=status_code,
        achievement=achievement,
        facts={
            "status": dict(options["achievement_statuses"]).get(achievement.status, achievement.status),
            "tier": dict(options["tiers"]).get(achievement.tier, achievement.tier),
            "district": districts.label(achievement.district, locale),
            "field": supply_fields.label(achievement.field, locale) if achievement.field else "",
            "owner": achievement.owner_organization.name if achievement.owner_organization else "",
            "contact": achievement.contact.name if achievement.contact else "",
            "keywords": "、".join(achievement.keywords or []),
            "trl": str(achievement.trl or ""),
            "entered": stamp(achievement.created_at),
        },
        options=options,
        version=version_of(achievement.updated_at),
        is_key=achievement.tier == AchievementTier.KEY,
        matched=matched,
        connections=[_connection_row(c, locale, back=f"a{achievement.id}") for c in linked.items],
        errors=errors or {},
        typed=typed or {},
        stale=stale,
        done=_done(request, page),
    )


@router.get("/console/achievements/{achievement_id}")
async def achievement_page(request: Request, achievement_id: str) -> Response:
    page = await signed_in(request)
    if isinstance(page, Response):
        return page
    found = parse_id(achievement_id)
    if found is None:
        return not_found(request, page)
    return await _achievement_page(request, page, found)


async def _posted_achievement(request: Request, achievement_id: str) -> tuple[Page, FormData, Achievement] | Response:
    answer = await posted(request)
    if isinstance(answer, Response):
        return answer
    page, form = answer
    found = parse_id(achievement_id)
    if found is None:
        return not_found(request, page)
    try:
        achievement = await achievements.get_achievement(found, page.scope)
    except DomainError:
        return not_found(request, page)
    return page, form, achievement


@router.post("/console/achievements/{achievement_id}/review")
async def achievement_review(request: Request, achievement_id: str) -> Response:
    answer = await _posted_achievement(request, achievement_id)
    if isinstance(answer, Response):
        return answer
    page, form, achievement = answer
    typed = {"status": field_text(form, "status", limit=20), "key": "1" if field_text(form, "key", limit=4) else ""}
    if _stale(form, achievement.updated_at):
        return await _achievement_page(request, page, achievement.id, typed=typed, stale=True, status_code=409)
    status = _choice(typed["status"], AchievementStatus)
    try:
        if status is None:
            raise InvalidInput(N_("Choose a status."), field="status")
        tier = achievement.tier
        if typed["key"]:
            tier = AchievementTier.KEY
        elif tier == AchievementTier.KEY:
            tier = AchievementTier.GENERAL
        patch = achievements.AchievementPatch(status=status, tier=tier)
        await achievements.update_achievement(achievement.id, patch, scope=page.scope, actor=page.actor)
    except DomainError as error:
        return await _achievement_page(
            request,
            page,
            achievement.id,
            errors={"review": message_of(page.locale, error)},
            typed=typed,
            status_code=status_of(error),
        )
    return redirect(f"/console/achievements/{achievement.id}", page.locale, done="review")


@router.post("/console/achievements/{achievement_id}/connections")
async def achievement_connect(request: Request, achievement_id: str) -> Response:
    answer = await _posted_achievement(request, achievement_id)
    if isinstance(answer, Response):
        return answer
    page, form, achievement = answer
    typed = {"demand_id": field_text(form, "demand_id", limit=12)}
    try:
        demand_id = parse_id(typed["demand_id"])
        if demand_id is None:
            raise InvalidInput(N_("Give the demand's number."), field="demand_id")
        await connections.open_connection(
            demand_id=demand_id,
            achievement_id=achievement.id,
            requested_by=None,
            origin="organizer",
            actor=page.actor,
            scope=page.scope,
        )
    except DomainError as error:
        return await _achievement_page(
            request,
            page,
            achievement.id,
            errors={"connect": message_of(page.locale, error)},
            typed=typed,
            status_code=status_of(error),
        )
    return redirect(f"/console/achievements/{achievement.id}", page.locale, done="connected")
