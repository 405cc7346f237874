"""The role × route × owner matrix, generated from the app's routes.

Every route the app serves must have a row in ``MATRIX``: which kind of guard it has (a profile: what
each kind of caller gets) and how to build a request for it against objects owned by organization A.
The test calls every route as every kind of caller and checks the class of answer (2xx / 401 / 403 /
404). A route missing from the table fails the test ("add route X to the matrix"), so a new route
cannot ship without someone deciding who may call it; a route whose guard is missing or wrong fails
its row.
"""

from __future__ import annotations

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
from events.models import Category, Certification, OutboxMessage, OutboxStatus, Role
from events.services import (
    broadcasts,
    brokers,
    calendar,
    catalog,
    certification,
    courses,
    credits,
    organizations,
    registration,
    staff,
    tokens,
)
from events.services.people import person_for_telegram
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
TELEGRAM_SIGNED = ("401",) * 7  # guarded by Telegram initData, not a token: a forged one is refused


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


Maker = Callable[[World], Awaitable[Call]]


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


def body(make_json: Callable[[World], Any], **path: Any) -> Maker:
    async def make(w: World) -> Call:
        return Call(path={k: v(w) if callable(v) else v for k, v in path.items()}, json=make_json(w))

    return make


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
MATRIX: dict[tuple[str, str], tuple[tuple[str, ...], Maker]] = {
    ("GET", "/openapi.json"): (PUBLIC, fixed()),
    ("GET", "/health"): (PUBLIC, fixed()),
    ("GET", "/api/v1/districts"): (PUBLIC, fixed()),
    ("GET", "/api/v1/goals"): (PUBLIC, fixed()),
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
    ("POST", "/api/v1/tokens/{token_id}/revoke"): (ADMIN_ONLY, _new_token),
    ("GET", "/api/v1/people"): (ORGANIZER_ANY, query(lambda w: {"id": w.person_id})),
    ("GET", "/api/v1/roles"): (ORGANIZER_ANY, fixed()),
    ("GET", "/api/v1/people/{person_id}/roles"): (ORGANIZER_ANY, fixed(person_id=lambda w: w.person_id)),
    ("POST", "/api/v1/people/{person_id}/roles"): (
        ORGANIZER_OWN,
        body(lambda w: {"role": "checker", "event_ids": [w.event.id]}, person_id=lambda w: w.person_id),
    ),
    ("DELETE", "/api/v1/people/{person_id}/roles/{role}"): (ORGANIZER_OWN, _checker_grant),
    ("GET", "/api/v1/tickets/public-key"): (PUBLIC, fixed()),
    ("GET", "/api/v1/tickets/{code}.png"): (PUBLIC, fixed(code=lambda w: w.code)),
    ("GET", "/api/v1/tickets/{code}.svg"): (PUBLIC, fixed(code=lambda w: w.code)),
    ("POST", "/api/v1/registrations/{registration_id}/ticket"): (REGISTRANT_OWN, _reg_call()),
    ("POST", "/api/v1/registrations/{registration_id}/telegram-link"): (REGISTRANT_OWN, _reg_call()),
    ("POST", "/api/v1/checkins"): (DOOR_OWN, body(lambda w: {"code": w.code, "event_id": w.event.id})),
    ("GET", "/api/v1/events/{event_id}/stats"): (DOOR_OWN, fixed(event_id=event_id)),
    ("GET", "/api/v1/events/{event_id}/checkin-list"): (DOOR_OWN, fixed(event_id=event_id)),
    ("GET", "/api/v1/checkins/events"): (DOOR_ANY, fixed()),
    ("GET", "/scan"): (PUBLIC, fixed()),
    ("GET", "/calendar/events.ics"): (PUBLIC, fixed()),
    ("GET", "/calendar/series/{series}.ics"): (PUBLIC, fixed(series="wuchuanghui")),
    ("GET", "/calendar/districts/{district}.ics"): (PUBLIC, fixed(district="donghu_gaoxin")),
    ("GET", "/calendar/events/{event_id}.ics"): (PUBLIC, fixed(event_id=event_id)),
    ("GET", "/calendar/me/{token}.ics"): (PUBLIC, fixed(token=lambda w: w.calendar_token)),
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
    ("GET", "/docs"): (PUBLIC, fixed()),
    ("GET", "/docs/oauth2-redirect"): (PUBLIC, fixed()),
}


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, mounts (static files) aside; HEAD goes with GET."""
    found = []
    for route in iter_route_contexts(app.routes):
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, route.path))
    return found


def missing_from_matrix(app: FastAPI) -> list[str]:
    return [f"{method} {path}" for method, path in app_routes(app) if (method, path) not in MATRIX]


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
    wrong = await run_matrix(matrix_client, w, MATRIX)
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
