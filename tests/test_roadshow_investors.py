"""Investors at roadshows: profiles entered by organizers or by investors themselves (verification, the
notice, what makes a profile unverified again), and matched pitches — the projects of a roadshow pushed to
the verified investors taking part, with reasons, capped, once per investor × project, and 想约谈."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.callbacks import PitchInterest
from events.errors import InvalidInput, ParticipantNotFound
from events.models import (
    Achievement,
    Activity,
    Category,
    Investor,
    MatchVerdict,
    MeetingInterest,
    OutboxMessage,
    Participant,
    Person,
    Role,
)
from events.services import connections, investors, matching, organizations, tokens
from events.services.connections import Ref, push_key
from events.services.roadshows import pitches, sessions
from notifications.opportunities import pitch_interest_data
from notifications.producers import Limits, Producer
from tests.factories import bearer, make_event

EVERYTHING = organizations.EVERYTHING
_n = iter(range(1, 10**6))


async def person(**fields: Any) -> Person:
    n = next(_n)
    return await Person.create(name=fields.pop("name", f"投资人{n}"), telegram_id=770_000 + n, **fields)


PROJECTS: list[dict[str, Any]] = [
    {"title": "钙钛矿叠层太阳能电池中试线", "keywords": ["钙钛矿", "光伏"], "field": "green", "stage": "pilot",
     "district": "donghu_gaoxin", "price_min_cny": 3_000_000, "price_max_cny": 8_000_000,
     "abstract": "钙钛矿与晶硅叠层电池，转换效率 30%。"},
    {"title": "手术机器人力反馈系统", "keywords": ["手术机器人", "力反馈"], "field": "medical_devices",
     "stage": "sample", "district": "donghu_gaoxin", "price_min_cny": 5_000_000, "price_max_cny": 20_000_000,
     "abstract": "微创手术机器人的高精度力反馈。"},
    {"title": "CAR-T 细胞治疗新靶点", "keywords": ["CAR-T", "细胞治疗"], "field": "biomedicine", "stage": "lab",
     "district": "jiangxia", "abstract": "实体瘤 CAR-T 新靶点的临床前研究。"},
]  # fmt: skip


async def roadshow(projects: list[dict[str, Any]] = PROJECTS) -> tuple[Any, list[Participant]]:
    event = await make_event(kind="roadshow", title="武创荟 产医融合对接会")
    made = []
    for data in projects:
        contact = await person(name="项目负责人")
        achievement = await Achievement.create(
            contact=contact, managed_by_id=event.organization_id, created_by="t", **data
        )
        join = sessions.ParticipantInput(achievement_id=achievement.id)
        made.append(await sessions.add_participant(event.id, join, scope=EVERYTHING, actor="t"))
    return event, made


async def investor_at(event: Any, *, verified: bool = True, language: str = "zh", **fields: Any) -> Participant:
    who = await person(language=language)
    data = investors.InvestorInput(name=fields.pop("name", f"基金{who.id}"), person_id=who.id, **fields)
    profile = await investors.create_investor(data, organization_id=event.organization_id, actor="t")
    if verified:
        await investors.verify_investor(profile.id, scope=EVERYTHING, actor="t")
    join = sessions.ParticipantInput(investor_id=profile.id)
    return await sessions.add_participant(event.id, join, scope=EVERYTHING, actor="t")


async def pushes(to: int) -> list[OutboxMessage]:
    return await OutboxMessage.filter(person_id=to, dedup_key__startswith="matched:").order_by("id")


# ------------------------------------------------------------------------------------------ profiles


async def test_a_persons_own_profile_is_unverified_until_checked_and_identity_changes_uncheck_it(db, frozen_clock):
    who = await person()
    data = investors.InvestorInput(
        name="光谷天使", organization="光谷创投", fields_of_interest=["ai"], stages=["天使轮"],
        ticket_min_cny=500_000, ticket_max_cny=5_000_000, districts=["donghu_gaoxin"],
    )  # fmt: skip
    made, created = await investors.save_own_investor(data, person=who, actor="bot")
    assert created and not made.verified and made.person_id == who.id and made.stages == ["angel"]
    assert made.managed_by_id == await organizations.default_organization_id()
    assert made.organization is not None and made.organization.name == "光谷创投"
    with pytest.raises(InvalidInput) as bad:
        await investors.save_own_investor(
            data.model_copy(update={"ticket_min_cny": 9_000_000}), person=who, actor="bot"
        )
    assert bad.value.params["field"] == "ticket_max_cny"
    await investors.verify_investor(made.id, scope=EVERYTHING, actor="org")
    # What they fund changes: still verified. Who they are changes: checked again.
    again, created = await investors.save_own_investor(
        data.model_copy(update={"stages": ["a", "b"]}), person=who, actor="bot"
    )
    assert not created and again.id == made.id and again.verified and again.stages == ["a", "b"]
    renamed, _ = await investors.save_own_investor(data.model_copy(update={"name": "光谷天使二期"}), person=who,
                                                   actor="bot")  # fmt: skip
    assert not renamed.verified and await Investor.filter(person_id=who.id).count() == 1


async def test_verifying_tells_the_investor_once(client, frozen_clock):
    org = (await organizations.find_or_create_organization("东湖高新区科创局")).id
    headers = bearer((await tokens.create_token(role=Role.ORGANIZER, name="o", organization_id=org)).plaintext)
    who = await person(language="en")
    made = await client.post("/api/v1/investors", json={"name": "Optics Valley Angels", "person_id": who.id},
                             headers=headers)  # fmt: skip
    investor_id = made.json()["id"]
    bad = await client.patch(f"/api/v1/investors/{investor_id}", json={"ticket_min_cny": 9, "ticket_max_cny": 1},
                             headers=headers)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    for _ in range(2):
        ok = await client.post(f"/api/v1/investors/{investor_id}/verify", headers=headers)
        assert ok.status_code == 200 and ok.json()["verified"] is True
    await Producer().drain()
    (notice,) = await OutboxMessage.filter(person_id=who.id)
    assert notice.category == Category.MEETING and "Your investor profile is verified" in notice.text
    assert "Optics Valley Angels" in notice.text
    # Keyset pages over the organization's investors.
    await client.post("/api/v1/investors", json={"name": "第二家"}, headers=headers)
    first = (await client.get("/api/v1/investors", params={"limit": 1}, headers=headers)).json()
    second = (
        await client.get("/api/v1/investors", params={"limit": 1, "cursor": first["next_cursor"]}, headers=headers)
    ).json()
    assert [i["name"] for i in first["items"] + second["items"]] == ["第二家", "Optics Valley Angels"]


# ------------------------------------------------------------------------------------- matched pitches


async def test_pitches_that_fit_reach_the_verified_investors_taking_part_with_reasons(db, frozen_clock):
    event, (solar, robot, cart) = await roadshow()
    green = await investor_at(
        event, name="绿色能源基金", description="专注光伏、钙钛矿与储能", fields_of_interest=["green"],
        stages=["pre_a", "a"], districts=["donghu_gaoxin"], ticket_min_cny=2_000_000, ticket_max_cny=10_000_000,
    )  # fmt: skip
    medtech = await investor_at(event, name="Med Device Capital", language="en", fields_of_interest=["medical_devices"],
                                stages=["b"], description="手术机器人 医疗器械")  # fmt: skip
    unchecked = await investor_at(event, verified=False, fields_of_interest=["green"])
    run = await pitches.match_investors(event.id, scope=EVERYTHING, actor="org")
    assert run.projects == 3 and run.unverified == 1
    by_investor = {i.participant_id: i for i in run.investors}
    assert set(by_investor) == {green.id, medtech.id}
    best = by_investor[green.id].pitches[0]
    assert best.id == solar.id
    reasons = " · ".join(best.reasons)
    assert "钙钛矿" in reasons and "节能环保" in reasons and "东湖" in reasons and "万元" in reasons
    assert "中试" in reasons  # the stage against the rounds they fund
    assert by_investor[medtech.id].pitches[0].id == robot.id

    await Producer().drain()
    green_person = (await Participant.get(id=green.id)).person_id
    (push, *_rest) = await pushes(green_person)
    assert push.dedup_key == push_key(
        green_person, Ref("investor", green.investor_id or 0), Ref("participant", solar.id)
    )
    assert (
        "钙钛矿叠层太阳能电池中试线" in push.text and "武创荟 产医融合对接会" in push.text and "路演项目" in push.text
    )
    labels = [b["text"] for line in push.buttons or [] for b in line]
    assert labels == ["想约谈", "不相关"]
    want = push.buttons[0][0]["callback_data"]  # type: ignore[index]
    assert want == pitch_interest_data(green.id, solar.id)
    (english, *_) = await pushes((await Participant.get(id=medtech.id)).person_id)
    assert "Request a meeting" in english.text or english.buttons[0][0]["text"] == "Request a meeting"  # type: ignore[index]
    assert not await pushes((await Participant.get(id=unchecked.id)).person_id)

    # Matched again (the line-up changed, a second call): nobody hears of a pair twice.
    before = await OutboxMessage.filter(dedup_key__startswith="matched:").count()
    await pitches.match_investors(event.id, scope=EVERYTHING, actor="org")
    await Producer().drain()
    assert await OutboxMessage.filter(dedup_key__startswith="matched:").count() == before

    # 想约谈: a meeting wish the scheduler reads; only the investor's own participation can say it.
    tapped = PitchInterest.unpack(want)
    owner = await Person.get(id=green_person)
    assert await pitches.want_meeting(owner, tapped.source, tapped.target, actor="bot") is True
    assert await pitches.want_meeting(owner, tapped.source, tapped.target, actor="bot") is False
    interest = await MeetingInterest.get(source_id=green.id, target_id=solar.id)
    assert interest.origin == "push" and interest.event_id == event.id
    with pytest.raises(ParticipantNotFound):
        await pitches.want_meeting(await person(), tapped.source, tapped.target, actor="bot")
    with pytest.raises(InvalidInput):
        await pitches.want_meeting(owner, green.id, medtech.id, actor="bot")  # not a project
    # 不相关 goes through the usual answer: kept, never pushed again.
    answer = await connections.answer_push(
        owner, subject=Ref("investor", green.investor_id or 0), item=Ref("participant", solar.id),
        verdict=MatchVerdict.NOT_RELEVANT, actor="bot",
    )  # fmt: skip
    assert answer.outcome == "noted"


async def test_matched_pitches_respect_the_weekly_cap(db, frozen_clock):
    many = [
        {"title": f"钙钛矿光伏组件 {n}", "keywords": ["钙钛矿", "光伏"], "field": "green", "abstract": "钙钛矿光伏"}
        for n in range(6)
    ]
    event, _ = await roadshow(many)
    fund = await investor_at(event, name="光伏基金", fields_of_interest=["green"], description="钙钛矿 光伏")
    run = await pitches.match_investors(event.id, scope=EVERYTHING, actor="org")
    assert len(run.investors[0].pitches) == 6
    await Producer(limits=Limits(matches_per_week=4)).drain()
    assert len(await pushes((await Participant.get(id=fund.id)).person_id)) == 4


def test_the_pitch_button_is_what_the_bot_reads():
    data = pitch_interest_data(2**31 - 1, 2**31 - 1)
    unpacked = PitchInterest.unpack(data)
    assert (unpacked.source, unpacked.target) == (2**31 - 1, 2**31 - 1) and len(data.encode()) <= 64
    assert Ref.parse("m12") == Ref("participant", 12) and Ref("participant", 12).short == "m12"


async def test_match_investors_route(client, frozen_clock):
    event, (solar, *_) = await roadshow()
    await investor_at(event, name="绿色能源基金", fields_of_interest=["green"], description="钙钛矿")
    org = event.organization_id
    mine = bearer((await tokens.create_token(role=Role.ORGANIZER, name="o", organization_id=org)).plaintext)
    other_org = (await organizations.find_or_create_organization("别的单位")).id
    theirs = bearer((await tokens.create_token(role=Role.ORGANIZER, name="x", organization_id=other_org)).plaintext)
    found = await client.post(f"/api/v1/roadshows/{event.id}/match-investors", headers=mine | {"Accept-Language": "en"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert (
        body["projects"] == 3
        and body["pairs"] >= 1
        and body["investors"][0]["pitches"][0]["participant_id"] == solar.id
    )
    assert "Invests in" in " ".join(body["investors"][0]["pitches"][0]["reasons"])
    missing = await client.post(f"/api/v1/roadshows/{event.id}/match-investors", headers=theirs)
    assert missing.status_code == 404
    plain = await make_event()
    wrong = await client.post(f"/api/v1/roadshows/{plain.id}/match-investors", headers=mine)
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "not_a_roadshow"


async def test_the_scheduled_pass_matches_roadshows_starting_soon_once_a_day(db, frozen_clock):
    event, _ = await roadshow()  # starts in seven days
    await investor_at(event, name="绿色能源基金", fields_of_interest=["green"], description="钙钛矿")
    facts = Activity.filter(kind=pitches.FACT, event_id=event.id)
    assert await pitches.match_due(days_before=3) == 0 and not await facts.exists()
    assert await pitches.match_due(days_before=10) > 0 and await facts.count() == 1
    assert await pitches.match_due(days_before=10) == 0  # matched today already
    frozen_clock.set(frozen_clock.now + timedelta(days=2))
    assert await pitches.match_due(days_before=10) > 0 and await facts.count() == 2
    await Producer().drain()
    fund = await Participant.get(event_id=event.id, role="investor")
    assert len({r.dedup_key for r in await pushes(fund.person_id)}) == len(await pushes(fund.person_id)) >= 1


async def test_an_achievements_stage_meets_the_rounds_that_fund_it(db, frozen_clock):
    event, (solar, *_) = await roadshow()
    fund = await investor_at(event, name="绿色能源基金", fields_of_interest=["green"], stages=["pre_a"])
    late = await investor_at(event, name="并购基金", fields_of_interest=["green"], stages=["c_plus"])
    found = {m.id: m for m in await matching.for_achievement(solar.achievement_id or 0, type="investor")}
    assert any("中试" in r and "Pre-A" in r for r in found[fund.investor_id or 0].reasons)
    assert not any("中试" in r for r in found[late.investor_id or 0].reasons)
    assert found[fund.investor_id or 0].score > found[late.investor_id or 0].score
