"""The role × page matrix rows of courses and brokers (api/console/training.py)."""

from __future__ import annotations

from datetime import timedelta

from events.models import Certification
from events.services import brokers, catalog, courses, credits
from tests.console_kit import ConsoleWorld
from tests.test_console_matrix import ADMIN, ANY, OWN, Call, Maker, Rows, fixed, posting


async def _course(w: ConsoleWorld) -> int:
    if "course" not in w.cache:
        start = catalog.clock.now() + timedelta(days=3)
        course = await courses.create_course(
            courses.CourseInput(
                code=f"T-{w.next()}",
                event=catalog.EventInput(
                    title="A 的课程", kind="training", venue="光谷", starts_at=start, ends_at=start + timedelta(hours=3)
                ),
                items=[courses.ItemInput(kind="module", code="M1", title="在线课", hours=2)],
            ),
            actor="test",
            organization_id=w.a,
        )
        await catalog.publish_event(course.event_id, actor="test")
        w.cache["course"] = course.id
    return int(w.cache["course"])


async def _broker(w: ConsoleWorld, *, enrolled: bool = False) -> int:
    n = w.next()
    data = brokers.BrokerInput(name=f"经理人{n}", phone=f"1371{n:07d}")
    broker = await brokers.create_broker(data, actor="test", organization_id=w.a)
    if enrolled:
        await courses.enroll(await _course(w), broker.id, actor="test")
    return broker.id


def _on_course() -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        return Call(path={"course_id": await _course(w)})

    return make


def _enrol() -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        return Call(path={"course_id": await _course(w)}, data={"broker_id": await _broker(w)})

    return make


def _withdraw() -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        broker_id = await _broker(w, enrolled=True)
        return Call(path={"course_id": await _course(w), "broker_id": broker_id}, data={})

    return make


def _complete() -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        broker_id = await _broker(w, enrolled=True)
        data = {"broker_id": broker_id, "code": "M1", "key": f"matrix-{w.next()}"}
        return Call(path={"course_id": await _course(w)}, data=data)

    return make


def _a_broker(data: dict[str, str] | None = None) -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        return Call(path={"broker_id": await _broker(w)}, data=data)

    return make


def _a_certificate(*, revoked: bool) -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        broker_id = await _broker(w)
        await credits.grant(broker_id, hours=40, reason="矩阵", actor="test")
        cert = await Certification.get(broker_id=broker_id)
        if revoked:
            from events.services import certification

            await certification.revoke_certificate(broker_id, cert.id, reason="矩阵", actor="test")
        return Call(path={"broker_id": broker_id, "certification_id": cert.id}, data={"reason": "矩阵"})

    return make


def _new_course(w: ConsoleWorld) -> dict[str, str]:
    return {
        "code": f"N-{w.next()}",
        "title": "新课程",
        "venue": "光谷",
        "starts_at": "2030-05-01T09:00",
        "ends_at": "2030-05-01T17:00",
        "item0_kind": "module",
        "item0_code": "M1",
        "item0_title": "在线课",
        "item0_hours": "2",
    }


async def _draft_course(w: ConsoleWorld) -> int:
    start = catalog.clock.now() + timedelta(days=3)
    course = await courses.create_course(
        courses.CourseInput(
            code=f"D-{w.next()}",
            event=catalog.EventInput(
                title="A 的草稿课程", kind="training", venue="光谷", starts_at=start, ends_at=start + timedelta(hours=3)
            ),
        ),
        actor="test",
        organization_id=w.a,
    )
    return course.id


def _publish() -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        return Call(path={"course_id": await _draft_course(w)}, data={})

    return make


def _add_item() -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        n = w.next()
        data = {"kind": "module", "code": f"M{n}", "title": "新模块", "hours": "1.5"}
        return Call(path={"course_id": await _course(w)}, data=data)

    return make


ROWS: Rows = {
    ("GET", "/console/courses"): (ANY, fixed()),
    ("GET", "/console/courses/new"): (ANY, fixed()),
    ("POST", "/console/courses/new"): (ANY, posting(_new_course)),
    ("POST", "/console/courses/{course_id}/publish"): (OWN, _publish()),
    ("POST", "/console/courses/{course_id}/items"): (OWN, _add_item()),
    ("GET", "/console/courses/{course_id}"): (OWN, _on_course()),
    ("POST", "/console/courses/{course_id}/enrollments"): (OWN, _enrol()),
    ("POST", "/console/courses/{course_id}/enrollments/{broker_id}/withdraw"): (OWN, _withdraw()),
    ("POST", "/console/courses/{course_id}/completions"): (OWN, _complete()),
    ("GET", "/console/brokers"): (ANY, fixed()),
    ("GET", "/console/brokers/{broker_id}"): (OWN, _a_broker()),
    ("POST", "/console/brokers/{broker_id}/credits"): (ADMIN, _a_broker({"hours": "2", "reason": "矩阵"})),
    ("POST", "/console/brokers/{broker_id}/certifications/{certification_id}/revoke"): (
        ADMIN,
        _a_certificate(revoked=False),
    ),
    ("POST", "/console/brokers/{broker_id}/certifications/{certification_id}/reinstate"): (
        ADMIN,
        _a_certificate(revoked=True),
    ),
}
