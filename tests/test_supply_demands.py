"""Demands: the service (near-duplicates, timeline, claims, follow-ups, expiry) and the API, with the
issue's bad input: empty or 100 KB descriptions, unknown kind/field/district, a past deadline, a
claim on a demand someone else holds (and two at once), transitions the graph refuses.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from events import clock
from events.errors import AlreadyClaimed, DemandNotFound, DemandTransitionRefused, InvalidInput, NotClaimed
from events.models import Activity, Category, Demand, DemandStatus, DemandStatusChange, OutboxMessage, Person, Role
from events.services import brokers, demand_status, demands, near_duplicates, organizations, supply_events, tokens
from events.services.organizations import Scope
from notifications.producers import Producer
from tests.factories import bearer

LASER = (
    "寻求高功率半导体激光器散热技术",
    "我公司生产的高功率半导体激光器在连续工作时温升过高，需要新的散热方案，要求热阻降低30%。",
)
LASER_AGAIN = (
    "高功率半导体激光器散热方案需求",
    "公司的高功率半导体激光器连续工作温升过高，寻求新的散热技术，热阻需降低30%以上。",
)
COUPLING = ("激光器光纤耦合效率提升", "需要提升半导体激光器与光纤的耦合效率，目标耦合效率达到90%以上。")

SAME = [
    (LASER, LASER_AGAIN),
    (
        ("动力电池低温快充技术", "新能源汽车动力电池在零下20度充电速度慢，希望实现低温条件下30分钟充至80%。"),
        ("电池低温快速充电需求", "零下20℃时动力电池充电很慢，寻求低温快充技术，30分钟充电到80%电量。"),
    ),
    (
        ("医学影像AI辅助诊断", "需要基于深度学习的肺结节CT影像辅助诊断系统，敏感度不低于95%。"),
        ("肺结节CT影像智能诊断", "寻找深度学习肺结节CT辅助诊断算法，要求敏感度95%以上。"),
    ),
    (
        ("Low-temperature fast charging", "Our EV battery packs charge slowly below -20C; we need 80% in 30 minutes."),
        (
            "Fast charging at low temperature",
            "EV battery packs charge slowly below -20C: we need 80% within 30 minutes.",
        ),
    ),
]
DIFFERENT = [
    (LASER, COUPLING),
    (
        ("动力电池低温快充技术", "新能源汽车动力电池在零下20度充电速度慢，希望实现低温条件下30分钟充至80%。"),
        ("动力电池回收梯次利用", "寻求退役动力电池梯次利用与回收技术，需要电池健康状态快速检测方法。"),
    ),
    (
        ("医学影像AI辅助诊断", "需要基于深度学习的肺结节CT影像辅助诊断系统，敏感度不低于95%。"),
        ("AI药物筛选平台", "寻求基于人工智能的小分子药物虚拟筛选平台合作。"),
    ),
    (
        ("寻求技术合作", "我公司需要技术合作，希望解决相关问题。"),
        ("征集解决方案", "企业需求：寻求合作方案，解决技术问题。"),
    ),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_rephrased_demands_are_near_duplicates(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert near_duplicates.similarity(*a, *b) >= near_duplicates.THRESHOLD


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_demands_are_not(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert near_duplicates.similarity(*a, *b) < near_duplicates.THRESHOLD


def test_similarity_edges() -> None:
    assert near_duplicates.similarity("", "", "激光", "") == 0.0
    assert near_duplicates.similarity(*LASER, *LASER) == pytest.approx(1.0)
    # Full-width and half-width, case: one text.
    assert near_duplicates.similarity("ＧａＮ功率器件", "", "gan功率器件", "") == pytest.approx(1.0)


def demand_input(title: str = "寻求激光器散热技术", description: str = "", **extra: Any) -> demands.DemandInput:
    return demands.DemandInput(kind=extra.pop("kind", "technology"), title=title, description=description, **extra)


async def new_broker(n: int, organization_id: int | None = None) -> Any:
    data = brokers.BrokerInput(name=f"经理人{n}", phone=f"1350000{n:04d}", telegram_id=700_000 + n)
    return await brokers.create_broker(data, actor="test", organization_id=organization_id)


async def test_create_flags_a_near_duplicate_of_an_open_demand_in_the_same_place(db):
    first = await demands.create_demand(demand_input(*LASER, district="donghu_gaoxin"), actor="test")
    again = await demands.create_demand(demand_input(*LASER_AGAIN, district="donghu_gaoxin"), actor="test")
    assert again.duplicate_of_id == first.id and again.duplicate_score is not None and again.duplicate_score > 0.8
    assert again.status == DemandStatus.OPEN  # flagged, never merged
    other = await demands.create_demand(demand_input(*COUPLING, district="donghu_gaoxin"), actor="test")
    assert other.duplicate_of_id is None
    # Another kind, another district, another managing organization, or a closed one: not a duplicate.
    assert (await demands.create_demand(demand_input(*LASER_AGAIN, kind="talent"), actor="t")).duplicate_of_id is None
    elsewhere = await demands.create_demand(demand_input(*LASER_AGAIN, district="hanyang"), actor="test")
    assert elsewhere.duplicate_of_id is None
    org = await organizations.find_or_create_organization("江夏区科技局")
    theirs = await demands.create_demand(
        demand_input(*LASER_AGAIN, district="donghu_gaoxin"), actor="t", managed_by=org.id
    )
    assert theirs.duplicate_of_id is None
    for demand in (first, again):
        await demands.update_demand(demand.id, demands.DemandPatch(status="closed", note="已解决"), actor="t")
    late = await demands.create_demand(demand_input(*LASER_AGAIN, district="donghu_gaoxin"), actor="test")
    assert late.duplicate_of_id is None


async def test_the_candidate_search_stays_cheap_with_thousands_of_demands(db):
    default = await organizations.default_organization_id()
    now = clock.now()
    await Demand.bulk_create(
        [
            Demand(kind="technology", title=f"需求{i} 材料表面处理工艺", description="常规" * 50, district="hongshan",
                   managed_by_id=default, created_by="bulk", created_at=now, status="open")
            for i in range(5000)
        ]
    )  # fmt: skip
    started = asyncio.get_running_loop().time()
    made = await demands.create_demand(demand_input(*LASER, district="hongshan"), actor="test")
    assert asyncio.get_running_loop().time() - started < 3.0  # a few hundred candidates compared, not 5,000
    assert made.duplicate_of_id is None


async def test_bad_input_is_refused_with_the_field(db):
    with pytest.raises(ValueError, match="title"):
        demands.DemandInput(kind="technology", title="   ")
    with pytest.raises(ValueError, match="description"):
        demand_input(description="很" * 100_000)
    with pytest.raises(ValueError, match="kind"):
        demands.DemandInput(kind="magic", title="x")
    with pytest.raises(ValueError, match="min_trl"):
        demand_input(min_trl=10)
    cases = [
        (demand_input(field="alchemy"), "field"),
        (demand_input(district="atlantis"), "district"),
        (demand_input(deadline=clock.now().date() - timedelta(days=2)), "deadline"),
        (demand_input(budget_min_cny=500, budget_max_cny=100), "budget_max_cny"),
        (demand_input(source="collected"), "collected_by"),
        (demand_input(source="collected", collected_by=999), "collected_by"),
        (demand_input(organization=99999), "organization"),
    ]
    for data, field in cases:
        with pytest.raises(InvalidInput) as caught:
            await demands.create_demand(data, actor="test")
        assert caught.value.params["field"] == field
    assert await Demand.all().count() == 0


async def test_creation_is_the_first_step_of_the_timeline_and_the_graph_refuses_other_moves(db):
    heard: list[list[int]] = []

    async def observer(kind, ids):  # noqa: ANN001, ANN202
        heard.append(list(ids))

    supply_events.on_saved("demand", observer)
    try:
        contact = demands.ContactInput(name="王工", phone="13800001111")
        demand = await demands.create_demand(
            demand_input(contact=contact, organization="武汉光谷激光有限公司", field="optoelectronics"), actor="t"
        )
    finally:
        supply_events.off_saved("demand", observer)
    assert heard == [[demand.id]]
    assert demand.contact is not None and demand.contact.phone == "+8613800001111"
    assert demand.organization is not None and demand.organization.name == "武汉光谷激光有限公司"
    fact = await Activity.get(kind="demand.created")
    assert fact.payload == {"demand_id": demand.id, "managed_by": demand.managed_by_id}
    assert demand_status.minutes_to_first_response(demand) is None
    with pytest.raises(DemandTransitionRefused) as same:
        await demands.update_demand(demand.id, demands.DemandPatch(status="open"), actor="t")
    assert same.value.code == "invalid_transition" and same.value.params == {"status": "open", "to_status": "open"}
    with pytest.raises(InvalidInput):  # closing needs a note
        await demands.update_demand(demand.id, demands.DemandPatch(status="closed"), actor="t")
    await demands.update_demand(demand.id, demands.DemandPatch(status="matched"), actor="t")
    await demands.update_demand(demand.id, demands.DemandPatch(status="in_talks"), actor="t")
    with pytest.raises(DemandTransitionRefused):
        await demands.update_demand(demand.id, demands.DemandPatch(status="matched"), actor="t")
    await demands.update_demand(demand.id, demands.DemandPatch(status="contracted"), actor="t")
    with pytest.raises(DemandTransitionRefused):
        await demands.update_demand(demand.id, demands.DemandPatch(status="expired"), actor="t")
    done = await demands.update_demand(demand.id, demands.DemandPatch(status="closed", note="合同履行完毕"), actor="t")
    with pytest.raises(DemandTransitionRefused):
        await demands.update_demand(demand.id, demands.DemandPatch(status="open"), actor="t")
    steps = await demand_status.timeline(demand.id)
    assert [(s.from_status, s.to_status) for s in steps] == [
        (None, "open"), ("open", "matched"), ("matched", "in_talks"), ("in_talks", "contracted"),
        ("contracted", "closed"),
    ]  # fmt: skip
    assert steps[-1].note == "合同履行完毕"
    assert done.first_response_at is not None and demand_status.minutes_to_first_response(done) == 0
    assert await Activity.filter(kind="demand.status_changed").count() == 4


async def test_expiry_pass_leaves_contracted_and_closed_demands_alone(db, frozen_clock):
    soon = clock.now().date() + timedelta(days=1)
    open_one = await demands.create_demand(demand_input("甲", deadline=soon), actor="t")
    talks = await demands.create_demand(demand_input("乙", deadline=soon), actor="t")
    await demands.update_demand(talks.id, demands.DemandPatch(status="in_talks"), actor="t")
    signed = await demands.create_demand(demand_input("丙", deadline=soon), actor="t")
    await demands.update_demand(signed.id, demands.DemandPatch(status="contracted"), actor="t")
    undated = await demands.create_demand(demand_input("丁"), actor="t")
    assert await demand_status.expire_due_demands() == 0  # the deadline day itself still counts
    frozen_clock.set(frozen_clock.now + timedelta(days=2))
    assert await demand_status.expire_due_demands() == 2
    assert await demand_status.expire_due_demands() == 0
    statuses = {d.id: d.status for d in await Demand.all()}
    assert statuses == {open_one.id: "expired", talks.id: "expired", signed.id: "contracted", undated.id: "open"}
    last = await DemandStatusChange.filter(demand_id=open_one.id).order_by("-id").first()
    assert last is not None and last.actor == demand_status.SYSTEM_ACTOR


async def test_claims_follow_ups_and_the_overdue_reminder(db, frozen_clock):
    first, second = await new_broker(1), await new_broker(2)
    demand = await demands.create_demand(demand_input(), actor="t")
    claimed = await demands.claim_demand(demand.id, first.id, actor="t", follow_up=timedelta(days=7))
    assert claimed.broker_id == first.id and claimed.first_response_at is not None
    assert claimed.follow_up_due == frozen_clock.now + timedelta(days=7)
    assert (await demands.claim_demand(demand.id, first.id, actor="t")).claimed_at == claimed.claimed_at  # again: no-op
    with pytest.raises(AlreadyClaimed):
        await demands.claim_demand(demand.id, second.id, actor="t")
    with pytest.raises(AlreadyClaimed):
        await demands.record_follow_up(demand.id, "我来跟进", actor="t", broker_id=second.id)
    with pytest.raises(InvalidInput):
        await demands.record_follow_up(demand.id, "  ", actor="t")

    frozen_clock.set(frozen_clock.now + timedelta(days=8))
    assert [d.id for d in (await demands.list_demands(demands.DemandQuery(overdue=True))).items] == [demand.id]
    assert await demands.flag_overdue_follow_ups(period=timedelta(days=7)) == 1
    assert await demands.flag_overdue_follow_ups(period=timedelta(days=7)) == 0  # once per period
    await Producer().drain()
    (message,) = await OutboxMessage.filter(category=Category.DEMAND_FOLLOW_UP)
    assert message.person_id == first.person_id and demand.title in message.text and "跟进" in message.text
    frozen_clock.set(frozen_clock.now + timedelta(days=7))
    assert await demands.flag_overdue_follow_ups(period=timedelta(days=7)) == 1  # the next period: again

    followed = await demands.record_follow_up(demand.id, "已与企业电话沟通", actor="t", follow_up=timedelta(days=3))
    assert followed.follow_up_due == frozen_clock.now + timedelta(days=3) and not demands.overdue(followed)
    assert (await Activity.filter(kind="demand.follow_up").first()).payload["note"] == "已与企业电话沟通"  # type: ignore[union-attr]
    released = await demands.release_claim(demand.id, actor="t")
    assert released.broker_id is None and released.follow_up_due is None
    with pytest.raises(NotClaimed):
        await demands.release_claim(demand.id, actor="t")
    assert (await demands.claim_demand(demand.id, second.id, actor="t")).broker_id == second.id
    # The first response stays the first one.
    assert (await Demand.get(id=demand.id)).first_response_at == claimed.first_response_at


async def test_two_brokers_claiming_at_once_exactly_one_wins(db):
    demand = await demands.create_demand(demand_input(), actor="t")
    contenders = [await new_broker(n) for n in range(1, 9)]
    results = await asyncio.gather(
        *(demands.claim_demand(demand.id, b.id, actor="t") for b in contenders), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, Demand)]
    lost = [r for r in results if isinstance(r, AlreadyClaimed)]
    assert len(won) == 1 and len(lost) == len(contenders) - 1, results
    assert (await Demand.get(id=demand.id)).broker_id == won[0].broker_id
    assert await Activity.filter(kind="demand.claimed").count() == 1


async def test_the_race_control_an_unconditional_update_would_let_both_win(db):
    """A control: claims written without the condition each 'succeed', so the test above can fail."""
    demand = await demands.create_demand(demand_input(), actor="t")
    a, b = await new_broker(1), await new_broker(2)
    outcomes = await asyncio.gather(*(Demand.filter(id=demand.id).update(broker_id=x.id) for x in (a, b)))
    assert outcomes == [1, 1]


async def test_another_organizations_demand_is_not_found(db):
    org = await organizations.find_or_create_organization("洪山区科技局")
    demand = await demands.create_demand(demand_input(), actor="t", managed_by=org.id)
    other = Scope(organization_id=(await organizations.find_or_create_organization("汉阳区科技局")).id)
    with pytest.raises(DemandNotFound):
        await demands.get_demand(demand.id, other)
    with pytest.raises(DemandNotFound):
        await demands.claim_demand(demand.id, (await new_broker(1)).id, actor="t", scope=other)
    assert (await demands.list_demands(demands.DemandQuery(), scope=other)).items == []


# The API ------------------------------------------------------------------------------------------


async def organizer(name: str = "光谷") -> tuple[dict[str, str], int]:
    org = await organizations.find_or_create_organization(f"{name}科技局")
    issued = await tokens.create_token(role=Role.ORGANIZER, name=name, organization_id=org.id)
    return bearer(issued.plaintext), org.id


async def test_api_create_read_list_patch_and_timeline(client: httpx.AsyncClient):
    headers, org_id = await organizer()
    body = {
        "kind": "technology",
        "title": LASER[0],
        "description": LASER[1],
        "indicators": "热阻降低30%",
        "tags": ["激光", "散热", "激光"],
        "field": "optoelectronics",
        "min_trl": 6,
        "transfer_modes": ["license", "joint_development"],
        "budget_min_cny": 500_000,
        "budget_max_cny": 2_000_000,
        "deadline": (clock.now().date() + timedelta(days=90)).isoformat(),
        "district": "donghu_gaoxin",
        "organization": "武汉锐光激光有限公司",
        "contact": {"name": "王工", "phone": "138 0000 1111"},
    }
    made = await client.post("/api/v1/demands", json=body, headers=headers)
    assert made.status_code == 201, made.text
    demand = made.json()
    assert made.headers["location"] == f"/api/v1/demands/{demand['id']}"
    assert demand["status"] == "open" and demand["created_at"].endswith("+08:00")
    assert demand["tags"] == ["激光", "散热"] and demand["field_name"] == "光电子信息"
    assert demand["district_name"] == "东湖新技术开发区" and demand["managed_by"] == org_id
    assert demand["contact"]["phone_display"] == "138 0000 1111" and demand["duplicate_of"] is None
    assert demand["time_to_first_response_minutes"] is None and demand["source"] == "api"
    again = (await client.post("/api/v1/demands", json=body | {"title": LASER_AGAIN[0], "description": LASER_AGAIN[1]},
                               headers=headers)).json()  # fmt: skip
    assert again["duplicate_of"]["id"] == demand["id"] and again["duplicate_of"]["title"] == LASER[0]
    assert again["duplicate_of"]["score"] >= near_duplicates.THRESHOLD

    listed = (await client.get("/api/v1/demands", params={"limit": 1}, headers=headers)).json()
    assert [d["id"] for d in listed["items"]] == [again["id"]] and listed["total"] == 2
    rest = await client.get("/api/v1/demands", params={"limit": 1, "cursor": listed["next_cursor"]}, headers=headers)
    assert [d["id"] for d in rest.json()["items"]] == [demand["id"]] and rest.json()["next_cursor"] is None
    found = await client.get("/api/v1/demands", params={"q": "耦合", "field": "optoelectronics"}, headers=headers)
    assert found.json()["items"] == []

    moved = await client.patch(f"/api/v1/demands/{demand['id']}", json={"status": "matched", "min_trl": None},
                               headers=headers)  # fmt: skip
    assert moved.status_code == 200 and moved.json()["status"] == "matched" and moved.json()["min_trl"] is None
    assert moved.json()["time_to_first_response_minutes"] == 0
    refused = await client.patch(f"/api/v1/demands/{demand['id']}", json={"status": "open"}, headers=headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_transition"
    assert "已匹配" in refused.json()["error"]["message"] or "matched" in refused.json()["error"]["message"]
    timeline = (await client.get(f"/api/v1/demands/{demand['id']}/timeline", headers=headers)).json()["items"]
    assert [(s["from_status"], s["to_status"]) for s in timeline] == [(None, "open"), ("open", "matched")]
    assert timeline[0]["at"].endswith("+08:00")

    csv = await client.get("/api/v1/demands", params={"format": "csv"}, headers=headers)
    assert csv.status_code == 200 and csv.text.startswith("\ufeffid,kind,title") and LASER[0] in csv.text
    xlsx = await client.get("/api/v1/demands", params={"format": "xlsx"}, headers=headers)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": ""}, None),
        ({"description": "很" * 100_000}, "description"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"kind": "magic"}, "kind"),
        ({"field": "alchemy"}, "field"),
        ({"district": "atlantis"}, "district"),
        ({"min_trl": 0}, "min_trl"),
        ({"deadline": "2020-01-01"}, "deadline"),
        ({"budget_min_cny": 10, "budget_max_cny": 5}, "budget_max_cny"),
        ({"budget_min_cny": -1}, "budget_min_cny"),
        ({"transfer_modes": ["gift"]}, "transfer_modes"),
        ({"contact": {"name": "王工"}}, "contact"),
        ({"organization": 99999}, "organization"),
    ],
)
async def test_api_bad_input_is_a_422_naming_the_field(client: httpx.AsyncClient, change: dict[str, Any], field):
    headers, _ = await organizer()
    answer = await client.post(
        "/api/v1/demands", json={"kind": "technology", "title": "散热"} | change, headers=headers
    )
    if field is None:  # an empty description is allowed: the title may say it all
        assert answer.status_code == 201
        return
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    # Schema checks answer validation_error, the service's own checks invalid_input; both name the field.
    assert error["code"] in ("validation_error", "invalid_input")
    assert error["field"].split(".")[0] == field, error


async def test_api_claims_race_and_ownership(client: httpx.AsyncClient, db):
    headers, org_id = await organizer()
    other_headers, other_id = await organizer("汉阳")
    a, b = await new_broker(1, org_id), await new_broker(2, org_id)
    theirs = await new_broker(3, other_id)
    demand = (await client.post("/api/v1/demands", json={"kind": "scenario", "title": "智慧园区场景开放"},
                                headers=headers)).json()  # fmt: skip
    url = f"/api/v1/demands/{demand['id']}"
    assert (await client.get(url, headers=other_headers)).status_code == 404
    assert (await client.post(f"{url}/claim", json={"broker_id": theirs.id}, headers=headers)).status_code == 404
    answers = await asyncio.gather(
        *(client.post(f"{url}/claim", json={"broker_id": x.id}, headers=headers) for x in (a, b))
    )
    assert sorted(r.status_code for r in answers) == [200, 409]
    loser = next(r for r in answers if r.status_code == 409)
    assert loser.json()["error"]["code"] == "already_claimed"
    held = next(r for r in answers if r.status_code == 200).json()
    assert held["broker"]["id"] in (a.id, b.id) and held["time_to_first_response_minutes"] == 0
    followed = await client.post(f"{url}/follow-up", json={"note": "已上门调研", "follow_up_days": 14}, headers=headers)
    assert followed.status_code == 200 and followed.json()["follow_up_overdue"] is False
    overdue = await client.get("/api/v1/demands", params={"overdue": "true"}, headers=headers)
    assert overdue.json()["items"] == []
    released = await client.delete(f"{url}/claim", headers=headers)
    assert released.status_code == 200 and released.json()["broker"] is None
    again = await client.delete(f"{url}/claim", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_claimed"
    await client.patch(url, json={"status": "closed", "note": "企业自行解决"}, headers=headers)
    closed = await client.post(f"{url}/claim", json={"broker_id": a.id}, headers=headers)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "demand_not_active"


async def test_the_contact_is_never_an_existing_person_found_by_phone(db):
    known = await Person.create(name="张三", phone="+8613800002222", telegram_id=42)
    demand = await demands.create_demand(
        demand_input(contact=demands.ContactInput(name="冒名者", phone="13800002222")), actor="t"
    )
    assert demand.contact_id != known.id
