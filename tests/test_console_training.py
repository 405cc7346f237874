"""The console's courses and brokers (api/console/training.py): lists scoped to the organization, a
course's enrolments with hours per item, enrol / withdraw / record a module, a broker's standing and
ledger, admins' grants and certificate revocation; bad input is a 4xx page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest

from events import localtime
from events.models import Certification, CreditEntry, Registration, RegistrationStatus
from events.services import brokers, catalog, certification, courses
from events.settings import LevelRule
from tests.console_kit import ConsoleWorld, as_, build_console_world
from tests.test_console_matrix import console_client  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def rules():  # type: ignore[no-untyped-def]
    certification.use_rules([LevelRule(level="junior", hours=4, valid_years=1, renewal_hours=2)])
    yield
    certification.use_rules(None)


async def make_course(organization_id: int, code: str = "A-201") -> courses.Course:
    start = catalog.clock.now() + timedelta(days=3)
    course = await courses.create_course(
        courses.CourseInput(
            code=code,
            event=catalog.EventInput(
                title=f"{code} 技术经理人初级班",
                kind="training",
                venue="光谷",
                starts_at=start,
                ends_at=start + timedelta(hours=3),
            ),
            items=[courses.ItemInput(kind="module", code="M1", title="技术转移概论", hours=5)],
        ),
        actor="test",
        organization_id=organization_id,
    )
    await catalog.publish_event(course.event_id, actor="test")
    return course


async def make_broker(w: ConsoleWorld, organization_id: int, name: str, n: int) -> brokers.Broker:
    data = brokers.BrokerInput(name=name, phone=f"1370000{n:04d}", organization="光谷技术转移中心")
    return await brokers.create_broker(data, actor="test", organization_id=organization_id)


async def test_courses_enrol_record_a_module_and_withdraw(console_client: httpx.AsyncClient, rules) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    w = await build_console_world()
    course = await make_course(w.a)
    await make_course(w.b, "B-301")  # B's, published: not in A's console list
    li = await make_broker(w, w.a, "李四", 1)
    wang = await make_broker(w, w.a, "王五", 2)
    theirs = await make_broker(w, w.b, "赵六", 3)

    listed = await as_(console_client, w, "organizer_a", "GET", "/console/courses")
    assert listed.status_code == 200 and "A-201" in listed.text and "B-301" not in listed.text
    url = f"/console/courses/{course.id}"
    enrolled = await as_(console_client, w, "organizer_a", "POST", url + "/enrollments", data={"broker_id": li.id})
    assert enrolled.status_code == 303 and "done=enrolled" in enrolled.headers["location"]
    await as_(console_client, w, "organizer_a", "POST", url + "/enrollments", data={"broker_id": wang.id})
    again = await as_(console_client, w, "organizer_a", "POST", url + "/enrollments", data={"broker_id": li.id})
    assert again.status_code == 409  # already enrolled: the service's refusal, shown on the page
    other = await as_(console_client, w, "organizer_a", "POST", url + "/enrollments", data={"broker_id": theirs.id})
    assert other.status_code == 404  # B's broker is not A's to enrol
    for bad in ("", "abc", "-1"):
        answer = await as_(console_client, w, "organizer_a", "POST", url + "/enrollments", data={"broker_id": bad})
        assert answer.status_code == 422 and "经理人编号" in answer.text

    page = await as_(console_client, w, "organizer_a", "GET", url)
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key and "李四" in page.text and "王五" in page.text
    form = {"broker_id": li.id, "code": "M1", "key": key[1]}
    first = await as_(console_client, w, "organizer_a", "POST", url + "/completions", data=form)
    second = await as_(console_client, w, "organizer_a", "POST", url + "/completions", data=form)  # a double click
    assert first.status_code == second.status_code == 303
    assert await CreditEntry.filter(broker_id=li.id).count() == 1
    assert [c.level for c in await Certification.filter(broker_id=li.id)] == ["junior"]  # 5 h ≥ 4 h: certified
    wrong = await as_(
        console_client, w, "organizer_a", "POST", url + "/completions", data=form | {"code": "M9", "key": "k2"}
    )
    assert wrong.status_code == 404 or wrong.status_code == 422

    sheet = await as_(console_client, w, "organizer_a", "GET", url)
    row = re.search(r"李四</a></td>.*?</tr>", sheet.text, re.S)
    assert row and '<td class="num">5</td>' in row.group(0) and "<td>是</td>" in row.group(0)

    out = await as_(console_client, w, "organizer_a", "POST", f"{url}/enrollments/{wang.id}/withdraw")
    assert out.status_code == 303
    assert (
        await Registration.get(event_id=course.event_id, person_id=wang.person_id)
    ).status == RegistrationStatus.CANCELLED
    assert (await as_(console_client, w, "organizer_b", "GET", url)).status_code == 404
    assert (await as_(console_client, w, "organizer_a", "GET", "/console/courses/abc")).status_code == 404
    assert (
        await as_(console_client, w, "organizer_a", "GET", "/console/courses", params={"cursor": "x"})
    ).status_code == 422


async def test_brokers_search_their_page_and_admin_actions(console_client: httpx.AsyncClient, rules) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    w = await build_console_world()
    li = await make_broker(w, w.a, "李四", 1)
    await make_broker(w, w.a, "王五", 2)
    await make_broker(w, w.b, "赵六", 3)
    found = await as_(console_client, w, "organizer_a", "GET", "/console/brokers", params={"q": "李"})
    assert "李四" in found.text and "王五" not in found.text and "赵六" not in found.text
    everyone = await as_(console_client, w, "organizer_a", "GET", "/console/brokers")
    assert "王五" in everyone.text and "赵六" not in everyone.text
    bad = await as_(console_client, w, "organizer_a", "GET", "/console/brokers", params={"status": "famous"})
    assert bad.status_code == 422

    url = f"/console/brokers/{li.id}"
    page = await as_(console_client, w, "organizer_a", "GET", url)
    assert page.status_code == 200 and "李四" in page.text and "授予学时" not in page.text  # grants: admins only
    assert (await as_(console_client, w, "organizer_b", "GET", url)).status_code == 404
    refused = await as_(console_client, w, "organizer_a", "POST", url + "/credits", data={"hours": "5", "reason": "x"})
    assert refused.status_code == 403

    granted = await as_(console_client, w, "admin", "POST", url + "/credits", data={"hours": "4.5", "reason": "省培训"})
    assert granted.status_code == 303
    cert = await Certification.get(broker_id=li.id)
    shown = await as_(console_client, w, "admin", "GET", url)
    assert (
        "省培训" in shown.text
        and "4.5" in shown.text
        and "授予学时" in shown.text
        and (cert.number or "") in shown.text
    )
    for hours in ("", "abc", "-3", "99999"):
        answer = await as_(console_client, w, "admin", "POST", url + "/credits", data={"hours": hours, "reason": "x"})
        assert answer.status_code == 422, hours
    no_reason = await as_(
        console_client, w, "admin", "POST", f"{url}/certifications/{cert.id}/revoke", data={"reason": ""}
    )
    assert no_reason.status_code == 422
    revoked = await as_(
        console_client, w, "admin", "POST", f"{url}/certifications/{cert.id}/revoke", data={"reason": "材料造假"}
    )
    assert revoked.status_code == 303 and (await Certification.get(id=cert.id)).state == "revoked"
    twice = await as_(
        console_client, w, "admin", "POST", f"{url}/certifications/{cert.id}/revoke", data={"reason": "再次"}
    )
    assert twice.status_code == 409
    back = await as_(
        console_client, w, "admin", "POST", f"{url}/certifications/{cert.id}/reinstate", data={"reason": "复核"}
    )
    assert back.status_code == 303 and (await Certification.get(id=cert.id)).state == "active"
    missing = await as_(console_client, w, "admin", "POST", f"{url}/certifications/999999/revoke", data={"reason": "x"})
    assert missing.status_code == 404


def _course_form(**extra: str) -> dict[str, str]:
    return {
        "code": "C-501",
        "title": "技术经理人中级班",
        "venue": "光谷会议中心",
        "starts_at": "2030-05-01T09:00",
        "ends_at": "2030-05-01T17:30",
        "item0_kind": "module",
        "item0_code": "M1",
        "item0_title": "知识产权运营",
        "item0_hours": "3.5",
        "item2_kind": "module",  # row 1 is left blank: skipped
        "item2_code": "M2",
        "item2_title": "技术合同",
        "item2_hours": "2",
        "item3_kind": "module",  # a blank row whose kind select still says "module": skipped
    } | extra


async def test_create_a_course_publish_it_and_add_an_item(console_client: httpx.AsyncClient) -> None:  # noqa: F811
    from events.models import Course, CourseItem, Event

    w = await build_console_world()
    blank = await as_(console_client, w, "organizer_a", "GET", "/console/courses/new")
    assert blank.status_code == 200 and 'name="item4_code"' in blank.text and 'name="starts_at"' in blank.text

    made = await as_(console_client, w, "organizer_a", "POST", "/console/courses/new", data=_course_form())
    assert made.status_code == 303 and "done=created" in made.headers["location"]
    course = await Course.get(code="C-501").select_related("event")
    assert course.title == "技术经理人中级班" and course.event.organization_id == w.a
    assert course.event.kind == "training" and course.event.status == "draft" and course.event.venue == "光谷会议中心"
    # the form's times are local (events.localtime), stored as the same moments
    assert course.event.starts_at == datetime(2030, 5, 1, 9, 0, tzinfo=localtime.zone())
    assert course.event.ends_at == datetime(2030, 5, 1, 17, 30, tzinfo=localtime.zone())
    items = await CourseItem.filter(course_id=course.id).order_by("position")
    assert [(i.kind, i.code, i.title, i.hours_tenths) for i in items] == [
        ("module", "M1", "知识产权运营", 35),
        ("module", "M2", "技术合同", 20),
    ]

    url = f"/console/courses/{course.id}"
    page = await as_(console_client, w, "organizer_a", "GET", url, params={"done": "created"})
    assert page.status_code == 200 and f"{url}/publish" in page.text and "知识产权运营" in page.text
    published = await as_(console_client, w, "organizer_a", "POST", url + "/publish")
    assert published.status_code == 303 and (await Event.get(id=course.event_id)).status == "published"
    assert f"{url}/publish" not in (await as_(console_client, w, "organizer_a", "GET", url)).text
    again = await as_(console_client, w, "organizer_a", "POST", url + "/publish")
    assert again.status_code == 303  # publishing twice: the service's answer (it is idempotent), not a 500

    item = {"kind": "module", "code": "M3", "title": "路演实务", "hours": "1.5"}
    added = await as_(console_client, w, "organizer_a", "POST", url + "/items", data=item)
    assert added.status_code == 303 and "done=item_added" in added.headers["location"]
    assert (await CourseItem.get(course_id=course.id, code="M3")).hours_tenths == 15
    taken = await as_(console_client, w, "organizer_a", "POST", url + "/items", data=item | {"title": "重复的代码"})
    assert taken.status_code == 409 and 'value="重复的代码"' in taken.text and 'id="problem-item-code"' in taken.text
    for bad in ({"hours": "abc"}, {"hours": "-1"}, {"title": ""}, {"event_id": "x"}):
        answer = await as_(console_client, w, "organizer_a", "POST", url + "/items", data=item | {"code": "M9"} | bad)
        assert answer.status_code == 422, bad
        assert 'value="M9"' in answer.text and 'class="problem"' in answer.text
    assert not await CourseItem.exists(course_id=course.id, code="M9")

    # Organizer B: A's course routes are not found, and nothing changes.
    for method, path, data in (
        ("GET", url, None),
        ("POST", url + "/publish", {}),
        ("POST", url + "/items", item | {"code": "M4"}),
    ):
        assert (await as_(console_client, w, "organizer_b", method, path, data=data)).status_code == 404
    assert not await CourseItem.exists(course_id=course.id, code="M4")


async def test_a_bad_new_course_keeps_what_was_typed(console_client: httpx.AsyncClient) -> None:  # noqa: F811
    from events.models import Course

    w = await build_console_world()
    cases = [
        ({"ends_at": "2030-05-01T08:00"}, "problem-ends_at"),  # ends before it starts (the catalog's rule)
        ({"title": ""}, "problem-title"),
        ({"starts_at": "tomorrow"}, "problem-starts_at"),
        ({"code": "有空格 的代码"}, "problem-code"),
        ({"item2_title": ""}, "problem-items-2"),  # a module without a title: its row
        ({"item0_hours": "x"}, "problem-"),
    ]
    for change, marker in cases:
        answer = await as_(
            console_client, w, "organizer_a", "POST", "/console/courses/new", data=_course_form(**change)
        )
        assert 400 <= answer.status_code < 500, change
        assert marker in answer.text, change
        assert 'value="光谷会议中心"' in answer.text and 'value="知识产权运营"' in answer.text, change
    assert not await Course.exists()
    await as_(console_client, w, "organizer_a", "POST", "/console/courses/new", data=_course_form())
    taken = await as_(console_client, w, "organizer_a", "POST", "/console/courses/new", data=_course_form())
    assert taken.status_code == 409 and "problem-code" in taken.text
    assert await Course.filter(code="C-501").count() == 1
