"""Matched opportunities pushed from new and changed demands and achievements, the answers to them, and
connections (对接) through the service and the API.

Records are written as the demand and achievement services write them (the row and its fact), and
matching is whatever ranks records that share keywords: the tests hold with any sensible ranking.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from bot.callbacks import MatchAnswer
from events.errors import DomainError, MatchNotAvailable
from events.models import (
    Achievement,
    Activity,
    Broker,
    Category,
    Connection,
    ConnectionStatus,
    Cursor,
    Demand,
    DemandStatus,
    DemandStatusChange,
    Investor,
    MatchFeedback,
    MatchVerdict,
    OutboxMessage,
    Person,
    Role,
)
from events.services import activity, connections, organizations, tokens
from events.services.connections import Ref, push_key
from notifications.opportunities import answer_data
from notifications.producers import Limits, Producer
from tests.factories import bearer

_n = iter(range(1, 10**6))


async def person(**fields: Any) -> Person:
    n = next(_n)
    fields.setdefault("name", f"用户{n}")
    return await Person.create(telegram_id=880_000 + n, organization="测试单位", **fields)


async def fact(kind: str, **payload: Any) -> None:
    async with in_transaction() as conn:
        await activity.record(kind, actor="test", using_db=conn, **payload)


async def org_id(name: str = "武汉市科技局") -> int:
    return (await organizations.find_or_create_organization(name)).id


async def demand(contact: Person | None, *, managed_by: int | None = None, **fields: Any) -> Demand:
    data: dict[str, Any] = {
        "kind": "technology",
        "title": "高分辨率光刻胶国产化",
        "description": "需要可用于 KrF 工艺的光刻胶，替代进口。",
        "tags": ["光刻胶", "集成电路"],
        "field": "集成电路",
        "district": "donghu_gaoxin",
    } | fields
    made = await Demand.create(contact=contact, managed_by_id=managed_by or await org_id(), created_by="test", **data)
    await fact("demand.created", demand_id=made.id, managed_by=made.managed_by_id)
    return made


async def achievement(contact: Person | None, *, managed_by: int | None = None, **fields: Any) -> Achievement:
    data: dict[str, Any] = {
        "title": "KrF 光刻胶配方与纯化工艺",
        "abstract": "面向集成电路制造的光刻胶材料。",
        "keywords": ["光刻胶", "纯化"],
        "field": "集成电路",
        "district": "donghu_gaoxin",
        "trl": 6,
    } | fields
    made = await Achievement.create(
        contact=contact, managed_by_id=managed_by or await org_id(), created_by="test", **data
    )
    await fact("achievement.created", achievement_id=made.id, managed_by=made.managed_by_id)
    return made


async def broker(specialties: list[str], **fields: Any) -> Broker:
    who = await person(**fields)
    return await Broker.create(person=who, specialties=specialties, transcript_token=f"t{who.id}", created_by="test")


async def pushes(to: Person | None = None) -> list[OutboxMessage]:
    qs = OutboxMessage.filter(dedup_key__startswith="matched:").order_by("id")
    return await (qs.filter(person_id=to.id) if to else qs)


async def notices(to: Person) -> list[OutboxMessage]:
    return await OutboxMessage.filter(person_id=to.id).exclude(dedup_key__startswith="matched:").order_by("id")


def callbacks(row: OutboxMessage) -> list[str]:
    return [b["callback_data"] for line in row.buttons or [] for b in line]


async def test_a_new_achievement_pushes_to_the_fitting_demands_poster_once(db, frozen_clock):
    poster, owner = await person(), await person(language="en")
    needed = await demand(poster)
    unrelated = await demand(await person(), title="冷链物流调度", description="", tags=["冷链"], field="物流")
    producer = Producer()
    await producer.drain()
    assert await pushes() == []  # nothing in the library fits yet
    offered = await achievement(owner)
    await producer.drain()
    (to_poster,) = await pushes(poster)
    assert to_poster.dedup_key == push_key(poster.id, Ref("demand", needed.id), Ref("achievement", offered.id))
    assert to_poster.category == Category.MATCHED_OPPORTUNITY and not to_poster.urgent
    assert offered.title in to_poster.text and needed.title in to_poster.text and "光刻胶" in to_poster.text
    assert [b["text"] for line in to_poster.buttons or [] for b in line] == ["感兴趣", "不相关", "请技术经理人联系"]
    assert callbacks(to_poster)[0] == f"mt:i:d{needed.id}:a{offered.id}"
    (to_owner,) = await pushes(owner)  # the other side hears of the demand, in English
    assert needed.title in to_owner.text and "A matched opportunity for you" in to_owner.text
    assert [b["text"] for line in to_owner.buttons or [] for b in line] == [
        "Interested", "Not relevant", "Ask a broker to contact me"
    ]  # fmt: skip
    assert "Shared keywords: 光刻胶" in to_owner.text
    assert unrelated.id not in {int(k.split("demand:")[1].split(":")[0]) for k in [r.dedup_key for r in await pushes()]}

    # The same records changed, the batch read again after a "crash": nobody hears of the pair twice.
    await fact("achievement.updated", achievement_id=offered.id, managed_by=offered.managed_by_id)
    await fact("demand.updated", demand_id=needed.id, managed_by=needed.managed_by_id)
    await producer.drain()
    await Cursor.filter(name="notifications").update(position=0)
    await Producer().drain()
    assert len(await pushes()) == 2


async def test_the_weekly_cap_and_never_the_same_pair_twice_after_the_week(db, frozen_clock):
    poster = await person()
    await demand(poster)
    producer = Producer(limits=Limits(matches_per_week=2))
    offered = [await achievement(None, title=f"光刻胶样品 {i}") for i in range(4)]
    await producer.drain()
    first = {r.dedup_key for r in await pushes(poster)}
    assert len(first) == 2  # the cap held; the other two wait

    frozen_clock.set(frozen_clock.now + timedelta(days=8))
    for made in offered:  # every achievement changes again a week later
        await fact("achievement.updated", achievement_id=made.id, managed_by=made.managed_by_id)
    await producer.drain()
    after = [r.dedup_key for r in await pushes(poster)]
    assert len(after) == 4 and len(set(after)) == 4 and first <= set(after)  # only the two not told before


async def test_opt_out_threshold_and_pushes_per_fact(db, frozen_clock):
    quiet = await person(opted_out=["matched_opportunity"])
    posters = [await person() for _ in range(3)]
    await demand(quiet)
    for who in posters:
        await demand(who)
    await Producer().drain()
    await achievement(None)
    await Producer(limits=Limits(match_min_score=1.01)).drain()
    assert await pushes() == []  # below the threshold: nothing
    made = await Activity.get(kind="achievement.created")
    await Cursor.filter(name="notifications").update(position=made.id - 1)  # read the fact again
    await Producer(limits=Limits(matches_per_fact=2)).drain()
    told = await pushes()
    assert len(told) == 2 and quiet.id not in {r.person_id for r in told}


async def test_brokers_and_people_whose_topics_fit_hear_of_a_demand(db, frozen_clock):
    fitting = await broker(["光刻胶"])
    other = await broker(["生物医药"])
    fan = await person(pref_topics=["集成电路"])
    elsewhere = await person(pref_topics=["生物医药"])
    poster = await person(pref_topics=["集成电路"])
    posted = await demand(poster)
    await Producer().drain()
    keys = {r.person_id: r.dedup_key for r in await pushes()}
    assert keys[fitting.person_id] == push_key(fitting.person_id, Ref("broker", fitting.id), Ref("demand", posted.id))
    assert keys[fan.id] == push_key(fan.id, Ref("person", fan.id), Ref("demand", posted.id))
    assert other.person_id not in keys and elsewhere.id not in keys and poster.id not in keys
    (row,) = await pushes(await Person.get(id=fitting.person_id))
    assert [b["text"] for line in row.buttons or [] for b in line] == ["感兴趣", "不相关"]  # no "ask a broker"
    assert "你关注的主题：集成电路" in (await pushes(fan))[0].text


async def test_interested_opens_one_connection_and_tells_the_other_side_and_the_broker(db, frozen_clock):
    poster, owner = await person(), await person(language="en")
    accountable = await broker(["区块链"])
    needed = await demand(poster)
    await Demand.filter(id=needed.id).update(broker_id=accountable.id)
    offered = await achievement(owner)
    producer = Producer()
    await producer.drain()
    subject, item = Ref("demand", needed.id), Ref("achievement", offered.id)

    answer = await connections.answer_push(poster, subject=subject, item=item, verdict=MatchVerdict.INTERESTED,
                                           actor="telegram")  # fmt: skip
    assert answer.outcome == "connected" and answer.connection is not None
    again = await connections.answer_push(poster, subject=subject, item=item, verdict=MatchVerdict.INTERESTED,
                                          actor="telegram")  # fmt: skip
    assert again.outcome == "already_connected" and again.connection is not None
    assert again.connection.id == answer.connection.id
    (made,) = await Connection.all()
    assert (made.demand_id, made.achievement_id, made.status) == (needed.id, offered.id, ConnectionStatus.OPEN)
    assert made.broker_id == accountable.id and made.requested_by_id == poster.id and made.origin == "push"
    now = await Demand.get(id=needed.id)
    assert now.status == DemandStatus.MATCHED and now.first_response_at is not None
    assert await DemandStatusChange.filter(demand_id=needed.id, to_status="matched").count() == 1
    (kept,) = await MatchFeedback.all()
    assert (kept.person_id, kept.subject, kept.item, kept.verdict) == (
        poster.id, str(subject), str(item), MatchVerdict.INTERESTED
    )  # fmt: skip

    await producer.drain()
    (to_owner,) = await notices(owner)
    assert "Someone wants to connect" in to_owner.text and needed.title in to_owner.text
    assert poster.name in to_owner.text
    (to_broker,) = await notices(await Person.get(id=accountable.person_id))
    assert "技术经理人" in to_broker.text and offered.title in to_broker.text
    assert await notices(poster) == []  # the one who asked is answered in the chat
    assert await Activity.filter(kind="connection.opened").count() == 1


async def test_asking_for_a_broker_assigns_a_fitting_one(db, frozen_clock):
    poster = await person()
    fitting = await broker(["光刻胶"])
    needed = await demand(poster)
    offered = await achievement(None)
    await Producer().drain()
    answer = await connections.answer_push(
        poster, subject=Ref("demand", needed.id), item=Ref("achievement", offered.id),
        verdict=MatchVerdict.WANTS_BROKER, actor="telegram",
    )  # fmt: skip
    assert answer.connection is not None and answer.connection.broker_id == fitting.id
    assert answer.connection.wants_broker
    await Producer().drain()
    (told,) = await notices(await Person.get(id=fitting.person_id))
    assert "请技术经理人联系" in told.text or "技术经理人" in told.text


async def test_not_relevant_is_kept_and_the_pair_is_never_pushed_again(db, frozen_clock):
    poster, owner = await person(opted_out=["matched_opportunity"]), await person()
    needed = await demand(poster)
    offered = await achievement(owner)
    await Producer().drain()
    assert await pushes(poster) == [] and len(await pushes(owner)) == 1
    answer = await connections.answer_push(
        owner, subject=Ref("achievement", offered.id), item=Ref("demand", needed.id),
        verdict=MatchVerdict.NOT_RELEVANT, actor="telegram",
    )  # fmt: skip
    assert answer.outcome == "noted" and answer.connection is None
    assert await MatchFeedback.filter(verdict=MatchVerdict.NOT_RELEVANT).count() == 1
    await Person.filter(id=poster.id).update(opted_out=[])
    await fact("demand.updated", demand_id=needed.id, managed_by=needed.managed_by_id)
    await Producer().drain()
    assert await pushes(poster) == []  # the achievement's side said it is not relevant
    assert await Connection.all().count() == 0


async def test_an_answer_to_a_push_not_made_or_no_longer_open_is_refused(db, frozen_clock):
    poster, owner, stranger = await person(), await person(), await person()
    needed = await demand(poster)
    offered = await achievement(owner)
    await Producer().drain()
    with pytest.raises(MatchNotAvailable):  # the owner's push, answered by someone it was not pushed to
        await connections.answer_push(stranger, subject=Ref("achievement", offered.id), item=Ref("demand", needed.id),
                                      verdict=MatchVerdict.INTERESTED, actor="x")  # fmt: skip
    await Demand.filter(id=needed.id).update(status=DemandStatus.CLOSED)
    with pytest.raises(MatchNotAvailable):
        await connections.answer_push(poster, subject=Ref("demand", needed.id), item=Ref("achievement", offered.id),
                                      verdict=MatchVerdict.INTERESTED, actor="x")  # fmt: skip
    assert await Connection.all().count() == 0 and await MatchFeedback.all().count() == 0


async def test_a_third_partys_interest_is_a_lead_for_the_records_contact(db, frozen_clock):
    poster = await person(language="en")
    fan = await person(pref_topics=["集成电路"], name="王工")
    posted = await demand(poster)
    await Producer().drain()
    answer = await connections.answer_push(fan, subject=Ref("person", fan.id), item=Ref("demand", posted.id),
                                           verdict=MatchVerdict.INTERESTED, actor="telegram")  # fmt: skip
    assert answer.outcome == "noted"
    await connections.answer_push(fan, subject=Ref("person", fan.id), item=Ref("demand", posted.id),
                                  verdict=MatchVerdict.INTERESTED, actor="telegram")  # fmt: skip
    await Producer().drain()
    (lead,) = await notices(poster)
    assert "Someone is interested in your record" in lead.text and "王工" in lead.text


def test_the_push_buttons_are_what_the_bot_reads():
    data = answer_data(MatchVerdict.WANTS_BROKER, Ref("demand", 12), Ref("achievement", 3456789))
    unpacked = MatchAnswer.unpack(data)
    assert (unpacked.verdict, unpacked.subject, unpacked.item) == ("b", "d12", "a3456789")
    assert connections.VERDICT_CODES[unpacked.verdict] == MatchVerdict.WANTS_BROKER
    assert Ref.parse(unpacked.item) == Ref("achievement", 3456789) and len(data.encode()) <= 64
    longest = answer_data(MatchVerdict.NOT_RELEVANT, Ref("investor", 2**31 - 1), Ref("achievement", 2**31 - 1))
    assert len(longest.encode()) <= 64
    for bad in ("x12", "d0", "demand:-1", "d99999999999", ""):
        with pytest.raises(DomainError):
            Ref.parse(bad)


# ---------------------------------------------------------------------------------------------- API


async def organizer(org: int, name: str) -> dict[str, str]:
    return bearer((await tokens.create_token(role=Role.ORGANIZER, name=name, organization_id=org)).plaintext)


async def test_connections_through_the_api_with_ownership(client, frozen_clock):
    a, b = await org_id("武汉大学"), await org_id("华中科技大学")
    as_a, as_b = await organizer(a, "a"), await organizer(b, "b")
    needed = await demand(await person(), managed_by=a)
    offered = await achievement(None, managed_by=b)
    body = {"demand_id": needed.id, "achievement_id": offered.id}

    made = await client.post("/api/v1/connections", json=body, headers=as_a)
    assert made.status_code == 201, made.text
    connection = made.json()
    assert connection["status"] == "open" and connection["origin"] == "organizer"
    assert [s["type"] for s in connection["sides"]] == ["demand", "achievement"]
    assert made.headers["location"] == f"/api/v1/connections/{connection['id']}"
    again = await client.post("/api/v1/connections", json=body, headers=as_b)  # B manages the achievement
    assert again.status_code == 200 and again.json()["id"] == connection["id"]
    assert (await Demand.get(id=needed.id)).status == DemandStatus.MATCHED

    listed = await client.get("/api/v1/connections", params={"demand_id": needed.id}, headers=as_a)
    assert [c["id"] for c in listed.json()["items"]] == [connection["id"]]
    other_org = await org_id("武汉理工大学")
    as_c = await organizer(other_org, "c")
    assert (await client.get("/api/v1/connections", headers=as_c)).json()["items"] == []
    hidden = await client.get(f"/api/v1/connections/{connection['id']}", headers=as_c)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "connection_not_found"
    foreign = await client.post("/api/v1/connections", json=body, headers=as_c)
    assert foreign.status_code == 404

    url = f"/api/v1/connections/{connection['id']}"
    talks = await client.patch(url, json={"status": "in_talks", "note": "已约见面"}, headers=as_a)
    assert talks.status_code == 200 and talks.json()["status"] == "in_talks"
    assert (await Demand.get(id=needed.id)).status == DemandStatus.IN_TALKS
    assert (await client.patch(url, json={"status": "contracted"}, headers=as_b)).json()["status"] == "contracted"
    refused = await client.patch(
        url,
        json={"status": "closed"},
        headers=as_a,
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_transition"
    done = await client.get("/api/v1/connections", params={"status": "contracted"}, headers=as_a)
    assert len(done.json()["items"]) == 1


async def test_bad_connection_requests_are_clear_4xx(client, frozen_clock):
    a = await org_id("武汉大学")
    as_a = await organizer(a, "a")
    needed = await demand(None, managed_by=a)
    one_side = await client.post("/api/v1/connections", json={"demand_id": needed.id}, headers=as_a)
    assert one_side.status_code == 422 and one_side.json()["error"]["code"] == "invalid_input"
    missing = await client.post("/api/v1/connections", json={"demand_id": needed.id, "achievement_id": 999},
                                headers=as_a)  # fmt: skip
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "achievement_id"
    offered = await achievement(None, managed_by=a)
    await Demand.filter(id=needed.id).update(status=DemandStatus.CLOSED)
    closed = await client.post("/api/v1/connections", json={"demand_id": needed.id, "achievement_id": offered.id},
                               headers=as_a)  # fmt: skip
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "invalid_transition"
    bad_status = await client.get("/api/v1/connections", params={"status": "nope"}, headers=as_a)
    assert bad_status.status_code == 422
    forged = await client.get("/api/v1/connections", params={"cursor": "abc.def"}, headers=as_a)
    assert forged.status_code == 422 and forged.json()["error"]["field"] == "cursor"
    anonymous = await client.get("/api/v1/connections")
    assert anonymous.status_code == 401


async def test_a_capital_demand_reaches_a_fitting_investor_who_can_connect(db, frozen_clock):
    poster, backer = await person(), await person()
    fund = await Investor.create(
        person=backer, name="光谷半导体基金", fields_of_interest=["集成电路"], managed_by_id=await org_id(),
        created_by="test",
    )  # fmt: skip
    elsewhere = await Investor.create(
        person=await person(), name="生物医药基金", fields_of_interest=["生物医药"], managed_by_id=await org_id(),
        created_by="test",
    )  # fmt: skip
    needed = await demand(poster, kind="capital", title="光刻胶产线扩产融资")
    await demand(await person(), title="光刻胶检测设备")  # a technology demand: not an investor's business
    await Producer().drain()
    (row,) = await pushes(backer)
    assert row.dedup_key == push_key(backer.id, Ref("investor", fund.id), Ref("demand", needed.id))
    assert "光谷半导体基金" in row.text and needed.title in row.text
    assert await pushes(await Person.get(id=elsewhere.person_id)) == []
    answer = await connections.answer_push(backer, subject=Ref("investor", fund.id), item=Ref("demand", needed.id),
                                           verdict=MatchVerdict.INTERESTED, actor="telegram")  # fmt: skip
    assert answer.connection is not None
    assert (answer.connection.demand_id, answer.connection.investor_id) == (needed.id, fund.id)
    await Producer().drain()
    (told,) = await notices(poster)
    assert "投资方：光谷半导体基金" in told.text


async def test_the_producer_matches_outside_its_transaction(db, frozen_clock, monkeypatch):
    """On SQLite a transaction holds the one connection: matching inside the producer's transaction could wait
    on the index's lock held by a request that waits on that connection (a deadlock seen with the demo)."""
    from tortoise import connections as tortoise_connections
    from tortoise.backends.base.client import TransactionalDBClient

    from events.services import matching

    inside: list[bool] = []
    real_for_demand, real_for_achievement = matching.for_demand, matching.for_achievement

    async def for_demand(*args: Any, **kwargs: Any) -> Any:
        inside.append(isinstance(tortoise_connections.get("default"), TransactionalDBClient))
        return await real_for_demand(*args, **kwargs)

    async def for_achievement(*args: Any, **kwargs: Any) -> Any:
        inside.append(isinstance(tortoise_connections.get("default"), TransactionalDBClient))
        return await real_for_achievement(*args, **kwargs)

    monkeypatch.setattr(matching, "for_demand", for_demand)
    monkeypatch.setattr(matching, "for_achievement", for_achievement)
    poster = await person()
    await demand(poster)
    await achievement(await person())
    await Producer().drain()
    assert inside and not any(inside)
    assert await pushes(poster)  # and the pushes were still made
