"""The role × page matrix rows of the door view, door staff, downloads and broadcasts
(api/console/door.py, api/console/broadcasts.py)."""

from __future__ import annotations

from datetime import timedelta

from events.services import broadcasts, catalog, courses, door_links, organizations
from tests.console_kit import ConsoleWorld
from tests.test_console_matrix import ANY, OWN, Call, Maker, Rows, fixed, posting


def _event(w: ConsoleWorld) -> int:
    return int(w.event.id)


def _a_link() -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        issued = await door_links.create_door_link(
            w.event.id, f"门{w.next()}", scope=organizations.Scope(w.a), actor="t"
        )
        return Call(path={"event_id": w.event.id, "token_id": issued.token.id})

    return make


def _a_broadcast(*, post: bool = False) -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        made = await broadcasts.create_broadcast(w.event.id, f"通知{w.next()}", actor="t")
        return Call(path={"broadcast_id": made.id}, data={} if post else None)

    return make


def _a_course_event() -> Maker:
    async def make(w: ConsoleWorld) -> Call:
        if "course_event" not in w.cache:
            start = catalog.clock.now() + timedelta(days=3)
            course = await courses.create_course(
                courses.CourseInput(
                    code=f"D-{w.next()}",
                    event=catalog.EventInput(
                        title="A 的课程",
                        kind="training",
                        venue="光谷",
                        starts_at=start,
                        ends_at=start + timedelta(hours=3),
                    ),
                    items=[courses.ItemInput(kind="module", code="M1", title="在线课", hours=2)],
                ),
                actor="test",
                organization_id=w.a,
            )
            w.cache["course_event"] = course.event_id  # type: ignore[attr-defined]
        return Call(path={"event_id": w.cache["course_event"]}, params={"format": "xlsx"})

    return make


def _send(w: ConsoleWorld) -> dict[str, str]:
    return {"text": "会场改到 B 厅", "key": f"matrix-{w.next()}"}


ROWS: Rows = {
    ("GET", "/console/events/{event_id}/door"): (OWN, fixed(event_id=_event)),
    ("GET", "/console/events/{event_id}/door/live"): (OWN, fixed(event_id=_event)),
    ("GET", "/console/events/{event_id}/staff"): (OWN, fixed(event_id=_event)),
    ("POST", "/console/events/{event_id}/staff"): (OWN, posting({"name": "东门"}, event_id=_event)),
    ("POST", "/console/events/{event_id}/staff/{token_id}/revoke"): (OWN, _a_link()),
    ("GET", "/console/events/{event_id}/exports"): (OWN, fixed(event_id=_event)),
    ("GET", "/console/events/{event_id}/exports/registrations"): (OWN, fixed(event_id=_event)),
    ("GET", "/console/events/{event_id}/exports/attendance"): (OWN, _a_course_event()),
    ("GET", "/console/events/{event_id}/broadcasts"): (OWN, fixed(event_id=_event)),
    ("POST", "/console/events/{event_id}/broadcasts/preview"): (OWN, posting({"text": "预览"}, event_id=_event)),
    ("POST", "/console/events/{event_id}/broadcasts"): (OWN, posting(_send, event_id=_event)),
    ("GET", "/console/broadcasts"): (ANY, fixed()),
    ("GET", "/console/broadcasts/{broadcast_id}"): (OWN, _a_broadcast()),
    ("GET", "/console/broadcasts/{broadcast_id}/progress"): (OWN, _a_broadcast()),
    ("POST", "/console/broadcasts/{broadcast_id}/cancel"): (OWN, _a_broadcast(post=True)),
}
