"""The role × route × owner matrix, generated from the app's routes.

Every route the app serves must have a row in ``MATRIX``: which kind of guard it has (a profile: what
each kind of caller gets) and how to build a request for it against objects owned by organization A.
The test calls every route as every kind of caller and checks the class of answer (2xx / 401 / 403 /
404). A route missing from the table fails the test ("add route X to the matrix"), so a new route
cannot ship without someone deciding who may call it; a route whose guard is missing or wrong fails
its row.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from api.app import create_app
from events.models import (
    Achievement,
    Assignment,
    Category,
    Certification,
    Demand,
    Judge,
    OutboxMessage,
    OutboxStatus,
    Person,
    Role,
    Round,
)
from events.services import (
    achievements,
    broadcasts,
    brokers,
    calendar,
    catalog,
    certification,
    connections,
    courses,
    credits,
    demands,
    investors,
    organizations,
    registration,
    staff,
    tokens,
    transfers,
)
from events.services.competitions import attachments as comp_attachments
from events.services.competitions import closing as comp_closing
from events.services.competitions import config as comp_config
from events.services.competitions import entries as comp_entries
from events.services.competitions import judges as comp_judges
from events.services.competitions import public as comp_public
from events.services.competitions.storage import storage_for
from events.services.people import person_for_telegram
from events.services.preferences import unsubscribe_token
from events.services.tickets import ticket_code
from events.settings import Settings
from tests.factories import bearer, make_registration

CALLERS = ("anonymous", "admin", "organizer_a", "organizer_b", "checker_a", "judge", "registrant")

# What each kind of caller gets, in the order of CALLERS.
PUBLIC = ("2xx",) * 7
ORGANIZER_OWN = ("401", "2xx", "2xx", "404", "403", "403", "401")  # organizer routes on A's objects
ORGANIZER_ANY = ("401", "2xx", "2xx", "2xx", "403", "403", "401")  # organizer routes of one's own (lists, create)
ADMIN_ONLY = ("401", "2xx", "403", "403", "403", "403", "401")
DOOR_OWN = ("401", "2xx", "2xx", "404", "2xx", "403", "401")  # check-in routes on A's event
DOOR_ANY = ("401", "2xx", "2xx", "2xx", "2xx", "403", "401")
REGISTRANT_OWN = ("401", "2xx", "2xx", "404", "403", "403", "2xx")  # a registration in A's event
DRAFT_OF_A = ("404", "2xx", "2xx", "404", "404", "404", "404")  # reading A's draft event
# An organizer route whose body names A's objects: B is told they do not exist (422 invalid_input).
ORGANIZER_REFERS_TO_OWN = ("401", "2xx", "2xx", "422", "403", "403", "401")
TELEGRAM_SIGNED = ("401",) * 7  # guarded by Telegram initData, not a token: a forged one is refused
JUDGE_COOKIE = ("401",) * 7  # the judge's page: its cookie (set by the judge's link), never a bearer token
FORM_GUARDED = ("403",) * 7  # a public form's POST without its CSRF value is refused, whoever sends it
KEY_GUARDED = ("404",) * 7  # an entrant's page addressed by the entry's key: none given, nothing there
JUDGE_READ = ("401", "2xx", "2xx", "404", "403", "2xx", "401")  # A's competition: its organizers and its judge
JUDGE_ONLY = ("401", "403", "403", "403", "403", "2xx", "401")  # a judge's own acts (scoring, recusal)
# The console: its session cookie, never a bearer token; without one, the sign-in page (a redirect).
CONSOLE_SESSION = ("303",) * 7


@dataclass
class World:
    """Organizations A and B, a token per kind of caller, and objects owned by A."""

    app: FastAPI
    a: int
    b: int
    headers: dict[str, dict[str, str]]
    event: Any  # published, door open soon
    draft: Any
    approval_event: Any
    reg: Any  # a registration in ``event`` and its secret
    reg_secret: str
    code: str
    person_id: int
    calendar_token: str
    course: Any
    item_id: int
    broker: Any
    competition_id: int = 0
    entry_id: int = 0  # accepted, assigned to the world's judge in round r1
    n: count = field(default_factory=lambda: count(1))

    def next(self) -> int:
        return next(self.n)


@dataclass(frozen=True)
class Call:
    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    params: dict[str, Any] | None = None
    # The registrant caller's secret, when the call is about another registration than the world's.
    secret: str | None = None
    # A multipart upload: {"file": (name, bytes, type)} (sent instead of ``json``).
    files: dict[str, Any] | None = None


Maker = Callable[[World], Awaitable[Call]]


async def _access_link(w: World) -> Call:
    from events.services import access_links

    return Call(path={"token": await access_links.access_token(w.reg)})


def fixed(**path: Any) -> Maker:
    async def make(w: World) -> Call:
        return Call(path={k: v(w) if callable(v) else v for k, v in path.items()})

    return make


async def _fresh_registration(w: World, event: Any = None) -> tuple[Any, str]:
    n = w.next()
    result = await make_registration(event or w.event, name=f"新人{n}", phone=f"1360000{n:04d}")
    assert result.access_secret is not None
    return result.registration, result.access_secret


async def _fresh_event(w: World) -> Any:
    start = w.event.starts_at + timedelta(days=w.next())
    data = catalog.EventInput(
        title="A 的活动", kind="session", venue="光谷", starts_at=start, ends_at=start + timedelta(hours=2)
    )
    return await catalog.create_event(data, actor="test", organization_id=w.a)


async def _fresh_broker(w: World) -> Any:
    n = w.next()
    data = brokers.BrokerInput(name=f"经理人{n}", phone=f"1350000{n:04d}")
    return await brokers.create_broker(data, actor="test", organization_id=w.a)


async def _certificate(w: World, *, revoked: bool = False) -> Any:
    """A fresh broker of A certified by an admin's grant (and revoked, for reinstating)."""
    broker = await _fresh_broker(w)
    await credits.grant(broker.id, hours=40, reason="外部培训", actor="test")
    cert = await Certification.filter(broker_id=broker.id).first()
    assert cert is not None
    if revoked:
        await certification.revoke_certificate(broker.id, cert.id, reason="材料不实", actor="test")
    return cert


def _certificate_call(*, revoked: bool = False) -> Maker:
    async def make(w: World) -> Call:
        cert = await _certificate(w, revoked=revoked)
        return Call(
            path={"broker_id": cert.broker_id, "certification_id": cert.id},  # type: ignore[attr-defined]
            json={"reason": "复核"},
        )

    return make


async def _certificate_page(w: World) -> Call:
    return Call(path={"number": (await _certificate(w)).number})


def _reg_call(make_json: Callable[[World], Any] | None = None) -> Maker:
    async def make(w: World) -> Call:
        reg, secret = await _fresh_registration(w)
        return Call(path={"registration_id": reg.id}, json=make_json(w) if make_json else None, secret=secret)

    return make


async def _erasable(w: World) -> Call:
    reg, _ = await _fresh_registration(w)
    return Call(path={"person_id": reg.person_id})


async def _access_link(w: World) -> Call:
    from events.services import access_links

    reg, _ = await _fresh_registration(w)
    return Call(path={"token": await access_links.access_token(reg)})


async def _pending(w: World) -> Call:
    reg, secret = await _fresh_registration(w, w.approval_event)
    return Call(path={"registration_id": reg.id}, secret=secret)


async def _publish(w: World) -> Call:
    return Call(path={"event_id": (await _fresh_event(w)).id})


async def _new_token(w: World) -> Call:
    issued = await tokens.create_token(role=Role.CHECKER, name=f"door {w.next()}")
    return Call(path={"token_id": issued.token.id})


async def _failed_message(w: World) -> Call:
    row = await OutboxMessage.create(
        person_id=w.person_id,
        category=Category.BROADCAST,
        status=OutboxStatus.FAILED,
        event_id=w.event.id,
        text="x",
        locale="zh",
        not_before=catalog.clock.now(),
        dedup_key=f"matrix:{w.next()}",
    )
    return Call(path={"message_id": row.id})


async def _broadcast(w: World) -> Call:
    made = await broadcasts.create_broadcast(w.event.id, "通知", actor="test")
    return Call(path={"broadcast_id": made.id})


async def _new_item(w: World) -> Call:
    n = w.next()
    item = await courses.add_item(
        w.course.id, courses.ItemInput(kind="module", code=f"X{n}", title="选修", hours=1), actor="test"
    )
    return Call(path={"course_id": w.course.id, "item_id": item.id})


async def _enroll(w: World) -> Call:
    return Call(path={"course_id": w.course.id}, json={"broker_id": (await _fresh_broker(w)).id})


async def _withdraw(w: World) -> Call:
    broker = await _fresh_broker(w)
    await courses.enroll(w.course.id, broker.id, actor="test")
    return Call(path={"course_id": w.course.id, "broker_id": broker.id})


async def _completion(w: World) -> Call:
    broker = await _fresh_broker(w)
    await courses.enroll(w.course.id, broker.id, actor="test")
    return Call(
        path={"course_id": w.course.id, "code": "M1"}, json={"broker_id": broker.id, "external_id": f"lms-{broker.id}"}
    )


async def _checker_grant(w: World) -> Call:
    person = await person_for_telegram(telegram_id=900_000 + w.next(), name="门岗", language_code="zh")
    await staff.grant_role(person, role=Role.CHECKER, event_ids=[w.event.id], actor="test")
    return Call(path={"person_id": person.id, "role": "checker"})


async def _achievement(w: World) -> Any:
    data = achievements.AchievementInput(title=f"A 的成果{w.next()}", field="ai", trl=5)
    return await achievements.create_achievement(data, organization_id=w.a, actor="test")


async def _achievement_call(w: World) -> Call:
    return Call(path={"achievement_id": (await _achievement(w)).id}, json={"trl": 6})


def _investor_call(json: dict[str, Any]) -> Maker:
    async def make(w: World) -> Call:
        data = investors.InvestorInput(name=f"光谷基金{w.next()}", fields_of_interest=["ai"])
        investor = await investors.create_investor(data, organization_id=w.a, actor="test")
        return Call(path={"investor_id": investor.id}, json=json)

    return make


async def _demand_of_a(w: World, *, claimed: bool = False) -> Any:
    data = demands.DemandInput(kind="technology", title=f"A 的需求 {w.next()}", description="激光器散热")
    demand = await demands.create_demand(data, actor="test", managed_by=w.a)
    if claimed:
        await demands.claim_demand(demand.id, w.broker.id, actor="test")
    return demand


def _demand_call(make_json: Callable[[World], Any] | None = None, *, claimed: bool = False) -> Maker:
    async def make(w: World) -> Call:
        demand = await _demand_of_a(w, claimed=claimed)
        return Call(path={"demand_id": demand.id}, json=make_json(w) if make_json else None)

    return make


async def _pair(w: World) -> dict[str, int]:
    """A fresh demand and achievement of A, not connected yet."""
    n = w.next()
    need = await Demand.create(kind="technology", title=f"需求{n}", managed_by_id=w.a, created_by="test")
    offer = await Achievement.create(title=f"成果{n}", managed_by_id=w.a, created_by="test")
    return {"demand_id": need.id, "achievement_id": offer.id}


async def _pair_body(w: World) -> Call:
    return Call(json=await _pair(w))


def _connection(make_json: Callable[[World], Any] | None = None) -> Maker:
    async def make(w: World) -> Call:
        opened = await connections.open_connection(**await _pair(w), requested_by=None, origin="api", actor="test")
        return Call(path={"connection_id": opened.connection.id}, json=make_json(w) if make_json else None)

    return make


async def _transfer_body(w: World) -> Call:
    achievement = await _achievement(w)
    return Call(
        json={"achievement_id": achievement.id, "mode": "license", "amount_cny": "100000", "signed_on": "2026-05-01"}
    )


async def _transfer_call(w: World) -> Call:
    achievement = await _achievement(w)
    data = transfers.TransferInput(
        achievement_id=achievement.id, mode="transfer", amount_cny="5", signed_on="2026-05-01"
    )
    made = await transfers.record_transfer(data, scope=organizations.EVERYTHING, organization_id=w.a, actor="test")
    return Call(path={"transfer_id": made.id})


async def _demand_for_matches(w: World) -> Call:
    demand = await Demand.create(
        kind="technology", title="A 的需求", description="光纤传感", managed_by_id=w.a, created_by="t"
    )
    return Call(path={"demand_id": demand.id})


async def _achievement_of_a(w: World) -> Call:
    made = await Achievement.create(title="A 的成果", abstract="光纤传感器", managed_by_id=w.a, created_by="t")
    return Call(path={"achievement_id": made.id})


def body(make_json: Callable[[World], Any], **path: Any) -> Maker:
    async def make(w: World) -> Call:
        return Call(path={k: v(w) if callable(v) else v for k, v in path.items()}, json=make_json(w))

    return make


async def _account_for(w: World) -> Call:
    """A new person with an organizer role for A (made fresh for each caller: one account per person)."""
    person = await Person.create(name=f"组织者{w.next()}")
    await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="matrix", organization_id=w.a)
    return Call(json={"person_id": person.id, "login": f"org{person.id}@example.cn"})


def query(params: Callable[[World], dict[str, Any]], **path: Any) -> Maker:
    async def make(w: World) -> Call:
        return Call(path={k: v(w) if callable(v) else v for k, v in path.items()}, params=params(w))

    return make


def event_id(w: World) -> int:
    return w.event.id


def course_id(w: World) -> int:
    return w.course.id


def broker_id(w: World) -> int:
    return w.broker.id


def reg_id(w: World) -> int:
    return w.reg.id


def _course_body(w: World) -> dict[str, Any]:
    start = w.event.starts_at + timedelta(days=30)
    return {
        "code": f"C-{w.next()}",
        "event": {
            "title": "新课",
            "venue": "光谷",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
        },
    }


# (method, path) → (profile, how to call it). Keep in the order the app declares its routes.
COMPETITION = {
    "title": "英雄杯",
    "tracks": [{"code": "ai", "name": "人工智能"}],
    "rounds": [{"code": "r1", "name": "初赛", "judges_per_entry": 1}],
    "criteria": [{"key": "tech", "name": "技术", "weight": 1, "max": 10}],
    "aggregation": "mean",
}


async def _competition_of_a(a: int) -> tuple[int, int, str]:
    """A's competition with an accepted entry and a judge assigned to it: (competition, entry, judge token)."""
    made = await comp_config.create_competition(
        comp_config.CompetitionInput(**COMPETITION), actor="test", organization_id=a
    )
    cid = made.competition.id
    issued = await comp_judges.add_judge(
        cid, comp_judges.JudgeInput(name="评委甲", organization="评审中心"), scope=organizations.Scope(a), actor="test"
    )
    entry_id = await _accepted_entry(cid, a, issued.judge.id)
    return cid, entry_id, issued.token


async def _accepted_entry(cid: int, a: int, judge_id: int | None = None, *, accept: bool = True) -> int:
    scope = organizations.Scope(a)
    entry = await comp_entries.submit_entry(
        cid,
        comp_entries.EntryInput(title="项目", track="ai", leader_name="王五", organization="某公司"),
        actor="test",
        scope=scope,
    )
    if accept:
        await comp_entries.review_entry(cid, entry.id, accept=True, reason=None, scope=scope, actor="test")
    if judge_id is not None:
        rnd = (await comp_config.load_config(cid)).round("r1")
        await Assignment.create(round_id=rnd.id, entry_id=entry.id, judge_id=judge_id, assigned_at=catalog.clock.now())
    return entry.id


def _comp(json_of: Callable[[World], Any] | None = None, **extra: Any) -> Maker:
    async def make(w: World) -> Call:
        if json_of is not None:
            extra["json"] = json_of(w)
        return Call(path={"competition_id": w.competition_id, "round": "r1", "entry_id": w.entry_id}, **extra)

    return make


PDF = b"%PDF-1.4\n%%EOF\n"


async def _upload(w: World) -> Call:
    return Call(
        path={"competition_id": w.competition_id, "entry_id": await _accepted_entry(w.competition_id, w.a)},
        files={"file": ("plan.pdf", PDF, "application/pdf")},
    )


async def _attachment(w: World) -> Call:
    """A file of a fresh entry assigned to the world's judge."""
    judge = await Judge.get(competition_id=w.competition_id, name="评委甲")
    entry_id = await _accepted_entry(w.competition_id, w.a, judge.id)
    added = await comp_attachments.add_attachment(
        w.competition_id,
        entry_id,
        filename="plan.pdf",
        data=PDF,
        who=comp_attachments.Uploader(actor="test", scope=organizations.Scope(w.a)),
        storage=storage_for(w.app.state.settings.data_dir),
        max_bytes=1_000_000,
    )
    return Call(path={"competition_id": w.competition_id, "entry_id": entry_id, "attachment_id": added.id})


async def _board(w: World) -> Call:
    """The scoreboard by the organizer's link (the round's board is not public)."""
    rnd = (await comp_config.load_config(w.competition_id)).round("r1")
    return Call(
        path={"competition_id": w.competition_id, "round": "r1", "round_code": "r1"},
        params={"key": comp_public.scoreboard_key(rnd.id)},
    )


async def _fresh_entry(w: World) -> Call:
    return Call(path={"competition_id": w.competition_id, "entry_id": await _accepted_entry(w.competition_id, w.a)})


async def _submitted(w: World) -> Call:
    entry_id = await _accepted_entry(w.competition_id, w.a, accept=False)
    return Call(path={"competition_id": w.competition_id, "entry_id": entry_id}, json={"decision": "accept"})


async def _recusable(w: World) -> Call:
    judge = await Judge.get(competition_id=w.competition_id, name="评委甲")
    entry_id = await _accepted_entry(w.competition_id, w.a, judge.id)
    return Call(path={"competition_id": w.competition_id, "round": "r1", "entry_id": entry_id}, json={"reason": "亲属"})


async def _noticed(w: World, *, ended: bool = False) -> tuple[int, int]:
    """A fresh competition of A whose one round is closed (under notice), with one entry: (competition, entry)."""
    made = await comp_config.create_competition(
        comp_config.CompetitionInput(**COMPETITION), actor="test", organization_id=w.a
    )
    cid = made.competition.id
    entry_id = await _accepted_entry(cid, w.a)
    await comp_closing.close_round(
        cid, "r1", comp_closing.CloseInput(force=True, reason="矩阵"), scope=organizations.Scope(w.a), actor="test"
    )
    if ended:
        await Round.filter(competition_id=cid).update(notice_ends_at=catalog.clock.now() - timedelta(seconds=1))
    return cid, entry_id


async def _closable(w: World) -> Call:
    made = await comp_config.create_competition(
        comp_config.CompetitionInput(**COMPETITION), actor="test", organization_id=w.a
    )
    return Call(path={"competition_id": made.competition.id, "round": "r1"})


async def _finalizable(w: World) -> Call:
    cid, _ = await _noticed(w, ended=True)
    return Call(path={"competition_id": cid, "round": "r1"})


async def _objectable(w: World) -> Call:
    cid, entry_id = await _noticed(w)
    body = {"name": "王实名", "contact": "13800000009", "reason": "数据不实"}
    return Call(path={"competition_id": cid, "entry_id": entry_id}, json=body)


async def _objection(w: World) -> Call:
    cid, entry_id = await _noticed(w)
    objection = await comp_closing.file_objection(
        cid, entry_id, comp_closing.ObjectionInput(name="王实名", contact="13800000009", reason="数据不实"), actor="t"
    )
    return Call(
        path={"competition_id": cid, "objection_id": objection.id}, json={"decision": "dismissed", "reason": "查无实据"}
    )


async def _wildcard(w: World) -> Call:
    entry_id = await _accepted_entry(w.competition_id, w.a)
    return Call(path={"competition_id": w.competition_id, "round": "r1"}, json={"entry_id": entry_id, "reason": "外卡"})


async def _roadshow(w: World) -> dict[str, Any]:
    """A fresh roadshow of A with a session, an investor and a project, and a pending request between them."""

    from events.services.roadshows import requests as meeting_requests
    from events.services.roadshows import sessions as meeting_sessions

    n = w.next()
    start = w.event.starts_at + timedelta(days=n)
    data = catalog.EventInput(
        title=f"A 的路演{n}", kind="roadshow", venue="光谷", starts_at=start, ends_at=start + timedelta(hours=3)
    )
    event = await catalog.create_event(data, actor="test", organization_id=w.a)
    session = await meeting_sessions.create_session(
        event.id,
        meeting_sessions.SessionInput(starts_at=start, ends_at=start + timedelta(hours=1), slot_minutes=20, tables=3),
        scope=organizations.EVERYTHING, actor="test",
    )  # fmt: skip
    sides = []
    for role in ("investor", "project"):
        person = await Person.create(name=f"{role}{n}")
        sides.append(
            await meeting_sessions.add_participant(
                event.id,
                meeting_sessions.ParticipantInput(
                    role=role, person_id=person.id, organization=f"公司{n}" if role == "project" else None
                ),
                scope=organizations.EVERYTHING,
                actor="test",
            )  # fmt: skip
        )
    slots = await session.slots.all().order_by("number")
    made = await meeting_requests.request_meeting(
        meeting_requests.MeetingRequestInput(slot_id=slots[0].id, requester_id=sides[1].id, recipient_id=sides[0].id),
        actor="test",
    )
    return {"event_id": event.id, "session_id": session.id, "meeting_id": made.id, "slot_id": slots[1].id,
            "investor": sides[0].id, "project": sides[1].id, "participant_id": sides[0].id}  # fmt: skip


def _roadshow_call(make_json: Callable[[dict[str, Any]], Any] | None = None, *keys: str) -> Maker:
    async def make(w: World) -> Call:
        made = await _roadshow(w)
        return Call(path={k: made[k] for k in keys}, json=make_json(made) if make_json else None)

    return make


async def _new_participant(w: World) -> Call:
    from events.models import Person

    made = await _roadshow(w)
    person = await Person.create(name=f"嘉宾{w.next()}")
    return Call(path={"event_id": made["event_id"]}, json={"role": "guest", "person_id": person.id})


async def _meeting_request_body(w: World) -> Call:
    from events.services.roadshows import requests as meeting_requests

    made = await _roadshow(w)
    everything = meeting_requests.Acting(actor="t", scope=organizations.EVERYTHING)
    await meeting_requests.withdraw(made["meeting_id"], everything)  # the pair may ask again
    return Call(json={"slot_id": made["slot_id"], "requester_id": made["investor"], "recipient_id": made["project"]})


async def _accepted_meeting(w: World) -> Call:
    from events.services.roadshows import requests as meeting_requests

    made = await _roadshow(w)
    await meeting_requests.accept(
        made["meeting_id"], meeting_requests.Acting(actor="t", scope=organizations.EVERYTHING)
    )
    return Call(path={"meeting_id": made["meeting_id"]}, json={"reason": "时间冲突"})


def _held_meeting(make_json: Callable[[dict[str, Any]], Any]) -> Maker:
    """An accepted meeting whose slot has passed (moved back a day), ready to be rated."""

    async def make(w: World) -> Call:
        from events.models import MeetingRequest, MeetingSlot
        from events.services.roadshows import requests as meeting_requests

        made = await _roadshow(w)
        await meeting_requests.accept(
            made["meeting_id"], meeting_requests.Acting(actor="t", scope=organizations.EVERYTHING)
        )
        meeting = await MeetingRequest.get(id=made["meeting_id"]).select_related("slot")
        past = timedelta(days=400)
        await MeetingSlot.filter(id=meeting.slot_id).update(
            starts_at=meeting.slot.starts_at - past, ends_at=meeting.slot.ends_at - past
        )
        return Call(path={"meeting_id": made["meeting_id"]}, json=make_json(made))

    return make


def _pitch_call(make_json: Callable[[dict[str, Any]], Any] | None = None) -> Maker:
    """A fresh roadshow of A whose project is in the line-up (on stage), and the call about that pitch."""

    async def make(w: World) -> Call:
        from events.services.roadshows import lineup

        made = await _roadshow(w)
        pitch = await lineup.add_pitch(
            made["event_id"], lineup.PitchInput(participant_id=made["project"]), scope=organizations.EVERYTHING,
            actor="test",
        )  # fmt: skip
        await lineup.set_on_stage(made["event_id"], pitch.id, scope=organizations.EVERYTHING, actor="test")
        return Call(
            path={"event_id": made["event_id"], "pitch_id": pitch.id}, json=make_json(made) if make_json else None
        )

    return make


MATRIX: dict[tuple[str, str], tuple[tuple[str, ...], Maker]] = {
    ("GET", "/openapi.json"): (PUBLIC, fixed()),
    ("GET", "/health"): (PUBLIC, fixed()),
    # Public, and the same for every caller: the test schema is generated, not migrated, so "behind".
    ("GET", "/ready"): (("503",) * 7, fixed()),
    # Every caller here is on loopback (the default); a stranger and the token: tests/test_metrics.py.
    ("GET", "/metrics"): (PUBLIC, fixed()),
    ("GET", "/api/v1/districts"): (PUBLIC, fixed()),
    ("GET", "/api/v1/goals"): (PUBLIC, fixed()),
    ("GET", "/api/v1/dashboard"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/briefs/{period}.docx"): (ORGANIZER_ANY, fixed(period="2026-05")),
    ("GET", "/api/v1/briefs/{period}.html"): (ORGANIZER_ANY, fixed(period="2026-05")),
    # A capability link: whoever holds it reads the office's stored brief (the matrix's world has none: 404).
    ("GET", "/briefs/{token}.docx"): (("404",) * 7, fixed(token="not-a-token")),
    ("GET", "/briefs/{token}.html"): (("404",) * 7, fixed(token="not-a-token")),
    ("GET", "/api/v1/events"): (PUBLIC, fixed()),
    ("POST", "/api/v1/events"): (
        ORGANIZER_ANY,
        body(
            lambda w: {
                "title": "新活动",
                "kind": "session",
                "venue": "光谷",
                "starts_at": w.event.starts_at.isoformat(),
                "ends_at": w.event.ends_at.isoformat(),
            }
        ),
    ),
    ("GET", "/api/v1/events/{event_id}"): (DRAFT_OF_A, fixed(event_id=lambda w: w.draft.id)),
    ("PATCH", "/api/v1/events/{event_id}"): (ORGANIZER_OWN, body(lambda w: {"venue": "新馆"}, event_id=event_id)),
    ("POST", "/api/v1/events/{event_id}/publish"): (ORGANIZER_OWN, _publish),
    ("POST", "/api/v1/events/{event_id}/cancel"): (ORGANIZER_OWN, _publish),
    ("GET", "/api/v1/events/{event_id}/invite"): (ORGANIZER_OWN, fixed(event_id=event_id)),
    ("GET", "/api/v1/events/{event_id}/invite.png"): (ORGANIZER_OWN, fixed(event_id=event_id)),
    ("POST", "/api/v1/events/{event_id}/registrations"): (
        PUBLIC,
        body(lambda w: {"name": "报名者", "phone": f"1380000{w.next():04d}"}, event_id=event_id),
    ),
    ("GET", "/api/v1/registrations/{registration_id}"): (REGISTRANT_OWN, fixed(registration_id=reg_id)),
    ("POST", "/api/v1/registrations/{registration_id}/cancel"): (REGISTRANT_OWN, _reg_call()),
    ("POST", "/api/v1/registrations/{registration_id}/approve"): (ORGANIZER_OWN, _pending),
    ("POST", "/api/v1/registrations/{registration_id}/reject"): (ORGANIZER_OWN, _pending),
    ("GET", "/api/v1/events/{event_id}/registrations"): (ORGANIZER_OWN, fixed(event_id=event_id)),
    ("POST", "/api/v1/tokens"): (ADMIN_ONLY, body(lambda w: {"role": "checker", "name": "门岗", "organization": w.a})),
    ("GET", "/api/v1/tokens"): (ADMIN_ONLY, fixed()),
    ("POST", "/api/v1/accounts"): (ADMIN_ONLY, _account_for),
    ("POST", "/api/v1/tokens/{token_id}/revoke"): (ADMIN_ONLY, _new_token),
    ("GET", "/api/v1/people"): (ORGANIZER_ANY, query(lambda w: {"id": w.person_id})),
    ("GET", "/api/v1/roles"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/people/{person_id}/roles"): (ORGANIZER_ANY, fixed(person_id=lambda w: w.person_id)),
    ("POST", "/api/v1/people/{person_id}/roles"): (
        ORGANIZER_OWN,
        body(lambda w: {"role": "checker", "event_ids": [w.event.id]}, person_id=lambda w: w.person_id),
    ),
    ("DELETE", "/api/v1/people/{person_id}/roles/{role}"): (ORGANIZER_OWN, _checker_grant),
    ("GET", "/api/v1/people/{person_id}/export"): (ADMIN_ONLY, fixed(person_id=lambda w: w.person_id)),
    ("POST", "/api/v1/people/{person_id}/erase"): (ADMIN_ONLY, _erasable),
    ("GET", "/api/v1/tickets/public-key"): (PUBLIC, fixed()),
    ("GET", "/api/v1/tickets/{code}.png"): (PUBLIC, fixed(code=lambda w: w.code)),
    ("GET", "/api/v1/tickets/{code}.svg"): (PUBLIC, fixed(code=lambda w: w.code)),
    ("GET", "/api/v1/tickets/{code}/card.png"): (PUBLIC, fixed(code=lambda w: w.code)),
    ("POST", "/api/v1/registrations/{registration_id}/ticket"): (REGISTRANT_OWN, _reg_call()),
    ("POST", "/api/v1/registrations/{registration_id}/telegram-link"): (REGISTRANT_OWN, _reg_call()),
    ("POST", "/api/v1/checkins"): (DOOR_OWN, body(lambda w: {"code": w.code, "event_id": w.event.id})),
    ("GET", "/api/v1/events/{event_id}/stats"): (DOOR_OWN, fixed(event_id=event_id)),
    ("GET", "/api/v1/events/{event_id}/checkin-list"): (DOOR_OWN, fixed(event_id=event_id)),
    ("GET", "/api/v1/checkins/events"): (DOOR_ANY, fixed()),
    ("GET", "/scan"): (PUBLIC, fixed()),
    ("GET", "/privacy"): (PUBLIC, fixed()),
    ("GET", "/r/{token}/data"): (PUBLIC, _access_link),
    ("GET", "/r/{token}/delete"): (PUBLIC, _access_link),
    ("POST", "/r/{token}/delete"): (FORM_GUARDED, _access_link),
    ("GET", "/calendar/events.ics"): (PUBLIC, fixed()),
    ("GET", "/calendar/series/{series}.ics"): (PUBLIC, fixed(series="wuchuanghui")),
    ("GET", "/calendar/districts/{district}.ics"): (PUBLIC, fixed(district="donghu_gaoxin")),
    ("GET", "/calendar/events/{event_id}.ics"): (PUBLIC, fixed(event_id=event_id)),
    ("GET", "/calendar/me/{token}.ics"): (PUBLIC, fixed(token=lambda w: w.calendar_token)),
    # A mail's unsubscribe link: the token is the capability (anyone holding it may use it, as a mail program does).
    ("GET", "/unsubscribe/{token}"): (PUBLIC, fixed(token=lambda w: unsubscribe_token(w.person_id, "broadcast"))),
    ("POST", "/unsubscribe/{token}"): (PUBLIC, fixed(token=lambda w: unsubscribe_token(w.person_id, "reminder"))),
    ("GET", "/api/v1/registrations/{registration_id}/calendar"): (REGISTRANT_OWN, fixed(registration_id=reg_id)),
    ("POST", "/api/v1/registrations/{registration_id}/calendar/rotate"): (REGISTRANT_OWN, _reg_call()),
    ("PUT", "/api/v1/registrations/{registration_id}/calendar/alarm"): (
        REGISTRANT_OWN,
        body(lambda w: {"minutes": 30}, registration_id=reg_id),
    ),
    ("GET", "/scan/telegram"): (PUBLIC, fixed()),
    ("POST", "/api/v1/webapp/checkins"): (
        TELEGRAM_SIGNED,
        body(lambda w: {"init_data": "user=%7B%22id%22%3A1%7D&hash=00", "code": w.code, "event_id": w.event.id}),
    ),
    ("GET", "/pitch/telegram"): (PUBLIC, fixed()),
    ("POST", "/api/v1/webapp/pitch"): (
        TELEGRAM_SIGNED,
        body(lambda w: {"init_data": "user=%7B%22id%22%3A1%7D&hash=00"}),
    ),
    ("POST", "/api/v1/webapp/pitch-taps"): (
        TELEGRAM_SIGNED,
        body(lambda w: {"init_data": "user=%7B%22id%22%3A1%7D&hash=00", "pitch_id": 1, "kind": "interest"}),
    ),
    ("GET", "/events/{event_id}/lineup"): (PUBLIC, fixed(event_id=lambda w: w.event.id)),
    ("GET", "/api/v1/notifications"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/notifications/stats"): (ORGANIZER_ANY, fixed()),
    ("POST", "/api/v1/notifications/{message_id}/retry"): (ORGANIZER_OWN, _failed_message),
    ("POST", "/api/v1/events/{event_id}/broadcasts"): (
        ORGANIZER_OWN,
        body(lambda w: {"text": "通知"}, event_id=event_id),
    ),
    ("POST", "/api/v1/broadcasts/{broadcast_id}/cancel"): (ORGANIZER_OWN, _broadcast),
    ("GET", "/api/v1/broadcasts"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/activity"): (ORGANIZER_ANY, fixed()),
    ("POST", "/api/v1/brokers"): (ORGANIZER_ANY, body(lambda w: {"name": "经理人", "phone": f"1330000{w.next():04d}"})),
    ("GET", "/api/v1/brokers"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/brokers/{broker_id}"): (ORGANIZER_OWN, fixed(broker_id=broker_id)),
    ("PATCH", "/api/v1/brokers/{broker_id}"): (
        ORGANIZER_OWN,
        body(lambda w: {"specialties": ["人工智能"]}, broker_id=broker_id),
    ),
    ("GET", "/api/v1/brokers/{broker_id}/transcript"): (ORGANIZER_OWN, fixed(broker_id=broker_id)),
    ("POST", "/api/v1/brokers/{broker_id}/transcript-link"): (ORGANIZER_OWN, fixed(broker_id=broker_id)),
    ("POST", "/api/v1/brokers/{broker_id}/credits"): (
        ADMIN_ONLY,
        body(lambda w: {"hours": 1, "reason": "外部培训"}, broker_id=broker_id),
    ),
    ("POST", "/api/v1/brokers/{broker_id}/certifications/{certification_id}/revoke"): (ADMIN_ONLY, _certificate_call()),
    ("POST", "/api/v1/brokers/{broker_id}/certifications/{certification_id}/reinstate"): (
        ADMIN_ONLY,
        _certificate_call(revoked=True),
    ),
    ("GET", "/certificates/{number}"): (PUBLIC, _certificate_page),
    ("GET", "/transcripts/{token}"): (PUBLIC, fixed(token=lambda w: brokers.transcript_token(w.broker))),
    ("POST", "/api/v1/courses"): (ORGANIZER_ANY, body(_course_body)),
    ("GET", "/api/v1/courses"): (PUBLIC, fixed()),
    ("GET", "/api/v1/courses/{course_id}"): (PUBLIC, fixed(course_id=course_id)),
    ("POST", "/api/v1/courses/{course_id}/items"): (
        ORGANIZER_OWN,
        body(lambda w: {"kind": "module", "code": f"Y{w.next()}", "title": "选修", "hours": 1}, course_id=course_id),
    ),
    ("PATCH", "/api/v1/courses/{course_id}/items/{item_id}"): (
        ORGANIZER_OWN,
        body(lambda w: {"hours": 2}, course_id=course_id, item_id=lambda w: w.item_id),
    ),
    ("DELETE", "/api/v1/courses/{course_id}/items/{item_id}"): (ORGANIZER_OWN, _new_item),
    ("POST", "/api/v1/courses/{course_id}/enrollments"): (ORGANIZER_OWN, _enroll),
    ("POST", "/api/v1/courses/{course_id}/enrollments/{broker_id}/withdraw"): (ORGANIZER_OWN, _withdraw),
    ("POST", "/api/v1/courses/{course_id}/modules/{code}/completions"): (ORGANIZER_OWN, _completion),
    ("GET", "/api/v1/courses/{course_id}/attendance"): (ORGANIZER_OWN, fixed(course_id=course_id)),
    ("GET", "/api/v1/fields"): (PUBLIC, fixed()),
    ("POST", "/api/v1/organizations"): (
        ORGANIZER_ANY,
        body(lambda w: {"name": f"新单位{w.next()}", "kind": "company"}),
    ),
    ("GET", "/api/v1/organizations"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/organizations/{organization_id}"): (ORGANIZER_ANY, fixed(organization_id=lambda w: w.a)),
    ("PATCH", "/api/v1/organizations/{organization_id}"): (
        ORGANIZER_OWN,
        body(lambda w: {"district": "hongshan"}, organization_id=lambda w: w.a),
    ),
    ("POST", "/api/v1/achievements"): (ORGANIZER_ANY, body(lambda w: {"title": f"新成果{w.next()}"})),
    ("POST", "/api/v1/achievements/import"): (
        ORGANIZER_ANY,
        body(lambda w: {"items": [{"external_id": f"m-{w.next()}", "title": "导入的成果"}]}),
    ),
    ("GET", "/api/v1/achievements"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/achievements/{achievement_id}"): (ORGANIZER_OWN, _achievement_call),
    ("PATCH", "/api/v1/achievements/{achievement_id}"): (ORGANIZER_OWN, _achievement_call),
    ("POST", "/api/v1/investors"): (ORGANIZER_ANY, body(lambda w: {"name": f"天使{w.next()}", "stages": ["angel"]})),
    ("GET", "/api/v1/investors"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/investors/{investor_id}"): (ORGANIZER_OWN, _investor_call({})),
    ("PATCH", "/api/v1/investors/{investor_id}"): (ORGANIZER_OWN, _investor_call({"description": "早期投资"})),
    ("POST", "/api/v1/investors/{investor_id}/verify"): (ORGANIZER_OWN, _investor_call({"verified": True})),
    ("POST", "/api/v1/transfers"): (ORGANIZER_REFERS_TO_OWN, _transfer_body),
    ("GET", "/api/v1/transfers"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/transfers/{transfer_id}"): (ORGANIZER_OWN, _transfer_call),
    ("POST", "/api/v1/roadshows/{event_id}/sessions"): (
        ORGANIZER_OWN,
        _roadshow_call(
            lambda m: {
                "starts_at": "2030-01-01T14:00:00+08:00",
                "ends_at": "2030-01-01T15:00:00+08:00",
                "slot_minutes": 15,
                "tables": 4,
            },
            "event_id",
        ),
    ),  # fmt: skip
    ("GET", "/api/v1/roadshows/{event_id}/sessions"): (ORGANIZER_OWN, _roadshow_call(None, "event_id")),
    ("POST", "/api/v1/roadshows/{event_id}/participants"): (
        ORGANIZER_OWN,
        _new_participant,
    ),
    ("GET", "/api/v1/roadshows/{event_id}/participants"): (ORGANIZER_OWN, _roadshow_call(None, "event_id")),
    ("POST", "/api/v1/roadshows/{event_id}/sessions/{session_id}/schedule"): (
        ORGANIZER_OWN,
        _roadshow_call(lambda m: {"min_meetings": 1, "dry_run": True}, "event_id", "session_id"),
    ),
    ("GET", "/api/v1/roadshows/{event_id}/funnel"): (ORGANIZER_OWN, _roadshow_call(None, "event_id")),
    ("POST", "/api/v1/roadshows/{event_id}/match-investors"): (ORGANIZER_OWN, _roadshow_call(None, "event_id")),
    ("GET", "/api/v1/roadshows/{event_id}/meetings"): (ORGANIZER_OWN, _roadshow_call(None, "event_id")),
    ("POST", "/api/v1/meetings"): (ORGANIZER_REFERS_TO_OWN, _meeting_request_body),
    ("GET", "/api/v1/meetings/{meeting_id}"): (ORGANIZER_OWN, _roadshow_call(None, "meeting_id")),
    ("POST", "/api/v1/meetings/{meeting_id}/accept"): (ORGANIZER_OWN, _roadshow_call(None, "meeting_id")),
    ("POST", "/api/v1/meetings/{meeting_id}/decline"): (
        ORGANIZER_OWN,
        _roadshow_call(lambda m: {"reason": "已有安排"}, "meeting_id"),
    ),
    ("POST", "/api/v1/meetings/{meeting_id}/withdraw"): (ORGANIZER_OWN, _roadshow_call(None, "meeting_id")),
    ("POST", "/api/v1/meetings/{meeting_id}/cancel"): (ORGANIZER_OWN, _accepted_meeting),
    ("POST", "/api/v1/meetings/{meeting_id}/rating"): (
        ORGANIZER_OWN,
        _held_meeting(lambda m: {"participant_id": m["project"], "rating": "promising"}),
    ),
    ("POST", "/api/v1/meetings/{meeting_id}/follow-up"): (
        ORGANIZER_OWN,
        _held_meeting(lambda m: {"participant_id": m["investor"], "answer": "in_talks"}),
    ),
    ("GET", "/api/v1/roadshows/{event_id}/participants/{participant_id}/unavailable"): (
        ORGANIZER_OWN,
        _roadshow_call(None, "event_id", "participant_id"),
    ),
    ("PUT", "/api/v1/roadshows/{event_id}/participants/{participant_id}/unavailable"): (
        ORGANIZER_OWN,
        _roadshow_call(lambda m: {"slot_ids": [m["slot_id"]]}, "event_id", "participant_id"),
    ),
    ("POST", "/api/v1/roadshows/{event_id}/interest"): (
        ORGANIZER_OWN,
        _roadshow_call(lambda m: {"source_id": m["project"], "target_id": m["investor"]}, "event_id"),
    ),
    ("POST", "/api/v1/roadshows/{event_id}/lineup"): (
        ORGANIZER_OWN,
        _roadshow_call(lambda m: {"participant_id": m["project"], "minutes": 8}, "event_id"),
    ),
    ("GET", "/api/v1/roadshows/{event_id}/lineup"): (ORGANIZER_OWN, _roadshow_call(None, "event_id")),
    ("GET", "/api/v1/roadshows/{event_id}/lineup/{pitch_id}"): (ORGANIZER_OWN, _pitch_call()),
    ("PATCH", "/api/v1/roadshows/{event_id}/lineup/{pitch_id}"): (
        ORGANIZER_OWN,
        _pitch_call(lambda m: {"presenter_name": "王博士", "minutes": 12}),
    ),
    ("DELETE", "/api/v1/roadshows/{event_id}/lineup/{pitch_id}"): (ORGANIZER_OWN, _pitch_call()),
    ("POST", "/api/v1/roadshows/{event_id}/lineup/{pitch_id}/move"): (
        ORGANIZER_OWN,
        _pitch_call(lambda m: {"position": 1, "recompute_times": True}),
    ),
    ("POST", "/api/v1/roadshows/{event_id}/lineup/{pitch_id}/on-stage"): (ORGANIZER_OWN, _pitch_call()),
    ("GET", "/api/v1/roadshows/{event_id}/lineup/{pitch_id}/interest"): (ORGANIZER_OWN, _pitch_call()),
    ("POST", "/api/v1/roadshows/{event_id}/lineup/{pitch_id}/interest-back"): (
        ORGANIZER_OWN,
        _pitch_call(lambda m: {"investor_id": m["investor"]}),
    ),
    ("GET", "/api/v1/connections"): (ORGANIZER_ANY, fixed()),
    ("POST", "/api/v1/connections"): (ORGANIZER_OWN, _pair_body),
    ("GET", "/api/v1/connections/{connection_id}"): (ORGANIZER_OWN, _connection()),
    ("PATCH", "/api/v1/connections/{connection_id}"): (ORGANIZER_OWN, _connection(lambda w: {"status": "in_talks"})),
    ("GET", "/api/v1/demands/{demand_id}/matches"): (ORGANIZER_OWN, _demand_for_matches),
    ("GET", "/api/v1/achievements/{achievement_id}/matches"): (ORGANIZER_OWN, _achievement_of_a),
    ("POST", "/api/v1/demands"): (ORGANIZER_ANY, body(lambda w: {"kind": "talent", "title": f"招聘 {w.next()}"})),
    ("GET", "/api/v1/demands"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/demands/{demand_id}"): (ORGANIZER_OWN, _demand_call()),
    ("PATCH", "/api/v1/demands/{demand_id}"): (ORGANIZER_OWN, _demand_call(lambda w: {"indicators": "热阻降低 30%"})),
    ("GET", "/api/v1/demands/{demand_id}/timeline"): (ORGANIZER_OWN, _demand_call()),
    ("POST", "/api/v1/demands/{demand_id}/claim"): (ORGANIZER_OWN, _demand_call(lambda w: {"broker_id": w.broker.id})),
    ("DELETE", "/api/v1/demands/{demand_id}/claim"): (ORGANIZER_OWN, _demand_call(claimed=True)),
    ("POST", "/api/v1/demands/{demand_id}/follow-up"): (
        ORGANIZER_OWN,
        _demand_call(lambda w: {"note": "已电话沟通"}, claimed=True),
    ),
    ("GET", "/docs"): (PUBLIC, fixed()),
    ("GET", "/docs/oauth2-redirect"): (PUBLIC, fixed()),
    ("POST", "/api/v1/competitions"): (ORGANIZER_ANY, body(lambda w: COMPETITION)),
    ("GET", "/api/v1/competitions"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/competitions/{competition_id}"): (JUDGE_READ, _comp()),
    ("PATCH", "/api/v1/competitions/{competition_id}"): (ORGANIZER_OWN, _comp(json={"title": "英雄杯 2026"})),
    ("POST", "/api/v1/competitions/{competition_id}/entries"): (
        ORGANIZER_OWN,
        _comp(json={"title": "新项目", "track": "ai", "leader_name": "赵六"}),
    ),
    ("GET", "/api/v1/competitions/{competition_id}/entries"): (ORGANIZER_OWN, _comp()),
    ("GET", "/api/v1/competitions/{competition_id}/entries/{entry_id}"): (ORGANIZER_OWN, _comp()),
    ("POST", "/api/v1/competitions/{competition_id}/entries/{entry_id}/review"): (ORGANIZER_OWN, _submitted),
    ("POST", "/api/v1/competitions/{competition_id}/entries/{entry_id}/withdraw"): (ORGANIZER_OWN, _fresh_entry),
    ("POST", "/api/v1/competitions/{competition_id}/judges"): (
        ORGANIZER_OWN,
        _comp(json={"name": "评委乙", "organization": "另一中心"}),
    ),
    ("GET", "/api/v1/competitions/{competition_id}/judges"): (ORGANIZER_OWN, _comp()),
    ("GET", "/api/v1/competitions/{competition_id}/conflicts"): (ORGANIZER_OWN, _comp()),
    ("POST", "/api/v1/competitions/{competition_id}/rounds/{round}/assignments"): (ORGANIZER_OWN, _comp()),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/assignments"): (JUDGE_READ, _comp()),
    ("PUT", "/api/v1/competitions/{competition_id}/rounds/{round}/entries/{entry_id}/score"): (
        JUDGE_ONLY,
        _comp(json={"scores": {"tech": 8}}),
    ),
    ("PUT", "/api/v1/competitions/{competition_id}/rounds/{round}/scores"): (
        JUDGE_ONLY,
        _comp(json_of=lambda w: {"sheets": [{"entry_id": w.entry_id, "scores": {"tech": 8}}]}),
    ),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/my-scores"): (JUDGE_ONLY, _comp()),
    ("POST", "/api/v1/competitions/{competition_id}/rounds/{round}/entries/{entry_id}/recuse"): (
        JUDGE_ONLY,
        _recusable,
    ),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/ranking"): (ORGANIZER_OWN, _comp()),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/entries/{entry_id}/explain"): (
        ORGANIZER_OWN,
        _comp(),
    ),
    ("POST", "/api/v1/competitions/{competition_id}/entries/{entry_id}/attachments"): (ORGANIZER_OWN, _upload),
    ("GET", "/api/v1/competitions/{competition_id}/entries/{entry_id}/attachments"): (JUDGE_READ, _comp()),
    ("GET", "/api/v1/competitions/{competition_id}/entries/{entry_id}/attachments/{attachment_id}"): (
        JUDGE_READ,
        _attachment,
    ),
    ("POST", "/api/v1/competitions/{competition_id}/rounds/{round}/current-entry"): (
        ORGANIZER_OWN,
        _comp(json_of=lambda w: {"entry_id": w.entry_id}),
    ),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/current-entry"): (JUDGE_READ, _comp()),
    ("POST", "/api/v1/competitions/{competition_id}/rounds/{round}/scoreboard"): (
        ORGANIZER_OWN,
        _comp(json_of=lambda w: {"public": False}),
    ),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/scoreboard"): (PUBLIC, _board),
    ("GET", "/judge"): (PUBLIC, fixed()),
    ("POST", "/judge/score"): (JUDGE_COOKIE, fixed()),
    ("POST", "/judge/recuse"): (JUDGE_COOKIE, fixed()),
    ("POST", "/judge/signout"): (FORM_GUARDED, fixed()),
    ("GET", "/judge/files/{attachment_id}"): (JUDGE_COOKIE, _attachment),
    ("GET", "/competitions/{competition_id}/enter"): (PUBLIC, _comp()),
    ("POST", "/competitions/{competition_id}/enter"): (FORM_GUARDED, _comp()),
    ("POST", "/competitions/{competition_id}/enter/{entry_id}/files"): (KEY_GUARDED, _comp()),
    ("GET", "/competitions/{competition_id}/rounds/{round_code}/scoreboard"): (PUBLIC, _board),
    ("GET", "/competitions/{competition_id}/results"): (PUBLIC, _comp()),
    ("POST", "/competitions/{competition_id}/results/objections"): (FORM_GUARDED, _comp()),
    # The public site (api/site.py): pages for anyone; its forms refused without their signed token; the
    # registrant's page is reached by its link (a capability), whoever holds it.
    ("GET", "/"): (PUBLIC, fixed()),
    ("GET", "/events/{event_id}"): (PUBLIC, fixed(event_id=lambda w: w.event.id)),
    ("POST", "/events/{event_id}/register"): (FORM_GUARDED, fixed(event_id=lambda w: w.event.id)),
    ("GET", "/series/{series}"): (PUBLIC, fixed(series="wuchuanghui")),
    ("GET", "/districts/{code}"): (PUBLIC, fixed(code="donghu_gaoxin")),
    ("GET", "/r/lost"): (PUBLIC, fixed()),
    ("POST", "/r/lost"): (FORM_GUARDED, fixed()),
    ("GET", "/r/{token}"): (PUBLIC, _access_link),
    ("GET", "/r/{token}/cancel"): (PUBLIC, _access_link),
    ("POST", "/r/{token}/cancel"): (FORM_GUARDED, _access_link),
    ("POST", "/r/{token}/answers"): (FORM_GUARDED, _access_link),
    # The console's sign-in (api/console.py): the pages are anyone's, every form refused without its
    # token (sign-in forms: a signed single-use one; signed-in forms: the session's); a one-time link that
    # does not exist is 404 to everyone; the landing page is the session's.
    ("GET", "/console/signin"): (PUBLIC, fixed()),
    ("POST", "/console/signin"): (FORM_GUARDED, fixed()),
    ("POST", "/console/signin/link"): (FORM_GUARDED, fixed()),
    ("GET", "/console/signin/{token}"): (KEY_GUARDED, fixed(token="no-such-link")),
    ("POST", "/console/signin/{token}"): (FORM_GUARDED, fixed(token="no-such-link")),
    ("GET", "/console"): (CONSOLE_SESSION, fixed()),
    ("POST", "/console/signout"): (FORM_GUARDED, fixed()),
    ("POST", "/console/signout-everywhere"): (FORM_GUARDED, fixed()),
    ("POST", "/console/sessions/{session_id}/end"): (FORM_GUARDED, fixed(session_id=1)),
    ("POST", "/console/tokens"): (FORM_GUARDED, fixed()),
    ("POST", "/console/password"): (FORM_GUARDED, fixed()),
    ("POST", "/console/tokens/{token_id}/revoke"): (FORM_GUARDED, fixed(token_id=1)),
    ("POST", "/api/v1/competitions/{competition_id}/rounds/{round}/close"): (ORGANIZER_OWN, _closable),
    ("POST", "/api/v1/competitions/{competition_id}/rounds/{round}/wildcards"): (ORGANIZER_OWN, _wildcard),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/wildcards"): (ORGANIZER_OWN, _comp()),
    ("POST", "/api/v1/competitions/{competition_id}/rounds/{round}/finalize"): (ORGANIZER_OWN, _finalizable),
    ("POST", "/api/v1/competitions/{competition_id}/entries/{entry_id}/objections"): (PUBLIC, _objectable),
    ("GET", "/api/v1/competitions/{competition_id}/objections"): (ORGANIZER_OWN, _comp()),
    ("POST", "/api/v1/competitions/{competition_id}/objections/{objection_id}/decision"): (ORGANIZER_OWN, _objection),
    ("GET", "/api/v1/competitions/{competition_id}/results"): (PUBLIC, _comp()),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/exports/judge-sheets"): (ORGANIZER_OWN, _comp()),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/exports/entry-sheets"): (ORGANIZER_OWN, _comp()),
    ("GET", "/api/v1/competitions/{competition_id}/rounds/{round}/exports/results"): (ORGANIZER_OWN, _comp()),
}


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, mounts (static files) aside; HEAD goes with GET."""
    found = []
    for route in iter_route_contexts(app.routes):
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, route.path))
    return found


def _console_page(path: str) -> bool:
    """The console's signed-in pages: their role × page matrix is tests/test_console_matrix.py; here
    each is only checked to refuse bearer tokens (a GET sends to the sign-in page, a POST is 403)."""
    return path.startswith("/console/") and not path.startswith("/console/signin")


def console_rows(app: FastAPI) -> dict[tuple[str, str], tuple[tuple[str, ...], Maker]]:
    rows: dict[tuple[str, str], tuple[tuple[str, ...], Maker]] = {}
    for method, path in app_routes(app):
        if _console_page(path) and (method, path) not in MATRIX:
            params = dict.fromkeys(re.findall(r"{(\w+)(?::\w+)?}", path), 1)
            rows[(method, path)] = (CONSOLE_SESSION if method == "GET" else FORM_GUARDED, fixed(**params))
    return rows


def missing_from_matrix(app: FastAPI) -> list[str]:
    return [
        f"{method} {path}"
        for method, path in app_routes(app)
        if (method, path) not in MATRIX and not _console_page(path)
    ]


async def build_world(app: FastAPI) -> World:
    a = (await organizations.find_or_create_organization("武汉大学", kind="university")).id
    b = (await organizations.find_or_create_organization("华中科技大学", kind="university")).id
    minted = {
        "admin": await tokens.create_token(role=Role.ADMIN, name="admin"),
        "organizer_a": await tokens.create_token(role=Role.ORGANIZER, name="a", organization_id=a),
        "organizer_b": await tokens.create_token(role=Role.ORGANIZER, name="b", organization_id=b),
        "checker_a": await tokens.create_token(role=Role.CHECKER, name="door a", organization_id=a),
        "judge": await tokens.create_token(role=Role.JUDGE, name="judge"),
    }
    now = w_start = catalog.clock.now() + timedelta(minutes=30)

    async def event(**extra: Any) -> Any:
        data = {
            "title": "A 的专场",
            "kind": "session",
            "series": "wuchuanghui",
            "district": "donghu_gaoxin",
            "venue": "光谷",
            "starts_at": w_start,
            "ends_at": w_start + timedelta(hours=3),
        } | extra
        return await catalog.create_event(catalog.EventInput(**data), actor="test", organization_id=a)

    published = await catalog.publish_event((await event()).id, actor="test")
    draft = await event()
    approval = await catalog.publish_event((await event(requires_approval=True)).id, actor="test")
    reg = await make_registration(published, name="张三", phone="13900000001", telegram_id=555_001)
    assert reg.access_secret is not None
    start = now + timedelta(days=3)
    course = await courses.create_course(
        courses.CourseInput(
            code="A-101",
            event=catalog.EventInput(
                title="A 的课程", kind="training", venue="光谷", starts_at=start, ends_at=start + timedelta(hours=3)
            ),
            items=[courses.ItemInput(kind="module", code="M1", title="在线课", hours=2)],
        ),
        actor="test",
        organization_id=a,
    )
    await catalog.publish_event(course.event_id, actor="test")  # type: ignore[attr-defined]
    item = (await courses.items_of(course.id))[0]
    broker = await brokers.create_broker(
        brokers.BrokerInput(name="李四", phone="13700000001"), actor="test", organization_id=a
    )
    await courses.enroll(course.id, broker.id, actor="test")
    headers = {name: bearer(issued.plaintext) for name, issued in minted.items()}
    headers["anonymous"] = {}
    headers["registrant"] = bearer(reg.access_secret)
    # The world's judge is a judge of A's competition (a judge token reaches its own competition only).
    competition_id, entry_id, judge_token = await _competition_of_a(a)
    headers["judge"] = bearer(judge_token)
    return World(
        app=app,
        a=a,
        b=b,
        headers=headers,
        event=published,
        draft=draft,
        approval_event=approval,
        reg=reg.registration,
        reg_secret=reg.access_secret,
        code=ticket_code(reg.registration, app.state.signer) or "",
        person_id=reg.registration.person_id,  # type: ignore[attr-defined]
        calendar_token=await calendar.calendar_token(reg.registration.person_id),  # type: ignore[attr-defined]
        course=course,
        item_id=item.id,
        broker=broker,
        competition_id=competition_id,
        entry_id=entry_id,
    )


def answer_class(status: int) -> str:
    return "2xx" if 200 <= status < 300 or status == 304 else str(status)


async def run_matrix(
    http: httpx.AsyncClient, w: World, rows: dict[tuple[str, str], tuple[tuple[str, ...], Maker]]
) -> list[str]:
    wrong = []
    for (method, path), (profile, make) in rows.items():
        for caller, expected in zip(CALLERS, profile, strict=True):
            call = await make(w)
            headers = dict(w.headers[caller])
            if caller == "registrant" and call.secret is not None:
                headers = bearer(call.secret)
            url = path.format(**call.path)
            if call.files is not None:
                response = await http.request(method, url, files=call.files, params=call.params, headers=headers)
            else:
                response = await http.request(method, url, json=call.json, params=call.params, headers=headers)
            got = answer_class(response.status_code)
            if got != expected:
                wrong.append(f"{method} {path} as {caller}: expected {expected}, got {got} {response.text[:160]}")
    return wrong


@pytest.fixture
async def matrix_client(db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db.model_copy(update={"bot_username": "wuchuang_test_bot"}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


def test_every_route_is_in_the_matrix() -> None:
    app = create_app(manage_db=False)
    missing = missing_from_matrix(app)
    assert not missing, "add these routes to the matrix in tests/test_ownership_matrix.py: " + ", ".join(missing)
    served = set(app_routes(app))
    stale = [f"{m} {p}" for m, p in MATRIX if (m, p) not in served]
    assert not stale, "the matrix names routes the app no longer serves: " + ", ".join(stale)


def test_a_new_route_is_named_until_it_is_in_the_matrix() -> None:
    app = create_app(manage_db=False)

    async def leak(event_id: int) -> dict[str, int]:
        return {"event_id": event_id}

    app.add_api_route("/api/v1/events/{event_id}/leak", leak, methods=["GET"])
    assert missing_from_matrix(app) == ["GET /api/v1/events/{event_id}/leak"]


async def test_role_route_owner_matrix(matrix_client: httpx.AsyncClient) -> None:
    w = await build_world(matrix_client.app)  # type: ignore[attr-defined]
    wrong = await run_matrix(matrix_client, w, MATRIX | console_rows(matrix_client.app))  # type: ignore[attr-defined]
    assert not wrong, "\n".join(wrong)


async def test_the_matrix_catches_a_route_without_a_guard(matrix_client: httpx.AsyncClient) -> None:
    """A control: an organizer route that forgot its guard fails its row."""
    app: FastAPI = matrix_client.app  # type: ignore[attr-defined]

    async def unguarded(event_id: int) -> dict[str, Any]:
        event = await catalog.get_event(event_id, include_unpublished=True)
        return {"id": event.id, "registrations": [r.id for r in await registration.list_registrations(event.id)]}

    app.add_api_route("/api/v1/events/{event_id}/unguarded", unguarded, methods=["GET"])
    w = await build_world(app)
    wrong = await run_matrix(
        matrix_client, w, {("GET", "/api/v1/events/{event_id}/unguarded"): (ORGANIZER_OWN, fixed(event_id=event_id))}
    )
    assert [line.split(":")[0] for line in wrong] == [
        f"GET /api/v1/events/{{event_id}}/unguarded as {caller}"
        for caller in ("anonymous", "organizer_b", "checker_a", "judge", "registrant")
    ]
