"""Closing a round, the public notice (公示), objections, moving up (依序递补), finalize and awards, the
messages people get, and the round's papers (service and API)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from events import localtime
from events.models import (
    Activity,
    Category,
    Entry,
    Judge,
    Objection,
    OutboxMessage,
    Person,
    RoundAdvance,
)
from events.services.competitions import closing, ranking
from notifications.competitions import produce_judge_reminders
from notifications.producers import Producer
from tests.factories import bearer, make_token

T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Wuhan (the frozen clock's start)


def _config(advance: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "title": "武创源·2026",
        "tracks": [{"code": "a", "name": "人工智能"}, {"code": "b", "name": "生物医药"}],
        "rounds": [
            {"code": "r1", "name": "初赛", "judges_per_entry": 1, "advance": advance, "notice_days": 5},
            {"code": "r2", "name": "决赛", "judges_per_entry": 1},
        ],
        "criteria": [{"key": "tech", "name": "技术", "weight": 1, "max": 100}],
        "aggregation": "mean",
    } | extra


class Contest:
    """A competition of the caller's organization with one judge scoring every entry of a round."""

    def __init__(self, client: Any, org: dict[str, str], cid: int) -> None:
        self.client, self.org, self.cid = client, org, cid
        self.judge: dict[str, str] = {}
        self.judge_id = 0
        self.entries: dict[str, int] = {}

    @classmethod
    async def make(cls, client: Any, org: dict[str, str], advance: dict[str, Any], **extra: Any) -> Contest:
        made = await client.post("/api/v1/competitions", json=_config(advance, **extra), headers=org)
        assert made.status_code == 201, made.text
        contest = cls(client, org, made.json()["id"])
        judge = await client.post(
            f"/api/v1/competitions/{contest.cid}/judges",
            json={"name": "评委甲", "organization": "评审中心", "telegram_id": 9001},
            headers=org,
        )
        assert judge.status_code == 201, judge.text
        contest.judge, contest.judge_id = bearer(judge.json()["token"]), judge.json()["id"]
        return contest

    def url(self, tail: str) -> str:
        return f"/api/v1/competitions/{self.cid}{tail}"

    async def enter(self, name: str, track: str = "a", **extra: Any) -> int:
        body = {"title": name, "track": track, "leader_name": f"{name}负责人", "organization": f"{name}公司"} | extra
        made = await self.client.post(self.url("/entries"), json=body, headers=self.org)
        assert made.status_code == 201, made.text
        entry_id = made.json()["id"]
        accepted = await self.client.post(
            self.url(f"/entries/{entry_id}/review"), json={"decision": "accept"}, headers=self.org
        )
        assert accepted.status_code == 200, accepted.text
        self.entries[name] = entry_id
        return entry_id

    async def assign(self, rnd: str = "r1") -> None:
        run = await self.client.post(self.url(f"/rounds/{rnd}/assignments"), headers=self.org)
        assert run.status_code == 200 and not run.json()["infeasible"], run.text

    async def score(self, name: str, value: float, rnd: str = "r1") -> Any:
        return await self.client.put(
            self.url(f"/rounds/{rnd}/entries/{self.entries[name]}/score"),
            json={"scores": {"tech": value}, "comment": f"{name}评语"},
            headers=self.judge,
        )

    async def scored(self, marks: dict[str, float], rnd: str = "r1") -> None:
        for name in marks:
            if name not in self.entries:
                await self.enter(name, "b" if name.startswith("b") else "a")
        await self.assign(rnd)
        for name, value in marks.items():
            response = await self.score(name, value, rnd)
            assert response.status_code == 200, response.text

    async def close(self, rnd: str = "r1", **body: Any) -> Any:
        return await self.client.post(self.url(f"/rounds/{rnd}/close"), json=body or None, headers=self.org)

    async def status(self, name: str) -> str:
        return str((await Entry.get(id=self.entries[name])).status)

    def names(self, ids: list[int]) -> set[str]:
        return {name for name, i in self.entries.items() if i in ids}


@pytest.fixture
async def org(client):
    return bearer(await make_token(name="武创源组委会"))


# ---- pure parts ----------------------------------------------------------------------------------


def test_the_notice_ends_at_local_midnight_after_its_last_day():
    late = datetime(2026, 6, 1, 15, 30, tzinfo=UTC)  # 23:30 on 1 June in Wuhan
    early = datetime(2026, 6, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 June in Wuhan
    assert closing.notice_end(late, 5) == datetime(2026, 6, 6, 16, 0, tzinfo=UTC)  # 7 June 00:00 local
    assert closing.notice_end(early, 5) == datetime(2026, 6, 7, 16, 0, tzinfo=UTC)
    assert localtime.local(closing.notice_end(T0, 7)).isoformat() == "2026-06-09T00:00:00+08:00"


def test_award_tiers_go_by_place_and_a_tie_at_the_line_takes_the_better_tier():
    tiers = [{"code": "gold", "count": 1}, {"code": "silver", "count": 2}]
    places = [(1, 90.0), (2, 80.0), (3, 80.0), (4, 70.0)]
    assert closing.award_tiers(places, tiers) == {1: "gold", 2: "silver", 3: "silver"}
    tied_top = [(1, 90.0), (2, 90.0), (3, 80.0), (4, 70.0)]
    assert closing.award_tiers(tied_top, tiers) == {1: "gold", 2: "gold", 3: "silver"}
    assert closing.award_tiers([(5, 60.0)], []) == {}


# ---- close -------------------------------------------------------------------------------------


async def test_close_is_refused_with_unscored_entries_unless_forced_with_a_reason(client, org, frozen_clock):
    c = await Contest.make(client, org, {"top": 1})
    await c.scored({"甲": 90, "乙": 80})
    late = await c.enter("丙")
    await c.assign()
    refused = await c.close()
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "unscored_entries"
    assert error["unscored"] == [{"entry_id": late, "judge_ids": [c.judge_id]}]
    no_reason = await c.close(force=True)
    assert (no_reason.status_code, no_reason.json()["error"]["field"]) == (422, "reason")
    closed = await c.close(force=True, reason="评委丙因病缺席")
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["forced"] is True and body["forced_reason"] == "评委丙因病缺席"
    assert body["unscored"] == [{"entry_id": late, "judge_ids": [c.judge_id]}]
    assert [a["entry_id"] for a in body["advanced"]] == [c.entries["甲"]]
    assert set(body["eliminated"]) == {c.entries["乙"], late}
    assert (await c.status("甲"), await c.status("乙"), await c.status("丙")) == (
        "advanced",
        "eliminated",
        "eliminated",
    )
    assert (await Entry.get(id=c.entries["甲"])).current_round_id != (await Entry.get(id=late)).current_round_id
    again = await c.close(force=True, reason="x")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "round_not_open")
    late_score = await c.score("乙", 99)
    assert (late_score.status_code, late_score.json()["error"]["code"]) == (409, "round_closed")
    # The next round cannot close before this one's results are final.
    early = await c.close("r2", force=True, reason="x")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "previous_round_not_final")


@pytest.mark.parametrize(
    ("advance", "through"),
    [
        ({"top": 2}, {"a1", "b1"}),
        ({"top_per_track": 1}, {"a1", "b1"}),
        ({"top_per_track": 2}, {"a1", "a2", "b1", "b2"}),
        ({"min_score": 75}, {"a1", "b1", "a2"}),
        ({"top": 1, "top_per_track": 1}, {"a1", "b1"}),
        ({"top": 3, "min_score": 79}, {"a1", "b1", "a2"}),
        ({}, set()),
    ],
)
async def test_promotion_by_each_rule(client, org, frozen_clock, advance, through):
    c = await Contest.make(client, org, advance)
    await c.scored({"a1": 95, "b1": 85, "a2": 80, "a3": 70, "b2": 60})
    closed = await c.close()
    assert closed.status_code == 200, closed.text
    assert c.names([a["entry_id"] for a in closed.json()["advanced"]]) == through
    assert all(a["how"] == "rule" for a in closed.json()["advanced"])
    for name in c.entries:
        assert await c.status(name) == ("advanced" if name in through else "eliminated")


async def test_a_wildcard_goes_through_beside_the_rule(client, org, frozen_clock):
    c = await Contest.make(client, org, {"top": 1})
    await c.scored({"a1": 95, "a2": 80, "a3": 70})
    missing_reason = await client.post(
        c.url("/rounds/r1/wildcards"), json={"entry_id": c.entries["a3"], "reason": " "}, headers=org
    )
    assert missing_reason.status_code == 422
    named = await client.post(
        c.url("/rounds/r1/wildcards"), json={"entry_id": c.entries["a3"], "reason": "填补区域空白"}, headers=org
    )
    assert named.status_code == 201, named.text
    listed = (await client.get(c.url("/rounds/r1/wildcards"), headers=org)).json()["items"]
    assert [(w["entry_id"], w["reason"]) for w in listed] == [(c.entries["a3"], "填补区域空白")]
    # The ranking still previews the rule while the round is open.
    board = (await client.get(c.url("/rounds/r1/ranking"), headers=org)).json()
    assert board["preview"] is True
    closed = (await c.close()).json()
    how = {a["entry_id"]: (a["how"], a["reason"]) for a in closed["advanced"]}
    assert how == {c.entries["a1"]: ("rule", ""), c.entries["a3"]: ("wildcard", "填补区域空白")}
    after = await client.post(
        c.url("/rounds/r1/wildcards"), json={"entry_id": c.entries["a2"], "reason": "x"}, headers=org
    )
    assert (after.status_code, after.json()["error"]["code"]) == (409, "round_not_open")


async def test_every_score_is_in_the_close_or_refused(client, org):
    """Judges submit while the round closes: what the close decided equals the rule applied to every score
    accepted, and each other score was refused (round_closed)."""
    c = await Contest.make(
        client, org, {"top": 3}, rounds=[{"code": "r1", "name": "初赛", "judges_per_entry": 1, "advance": {"top": 3}}]
    )
    names = [f"项目{i}" for i in range(12)]
    for name in names:
        await c.enter(name)
    await c.assign()
    answers: list[int] = []

    async def score(i: int, name: str) -> None:
        await asyncio.sleep(0.002 * i)
        answers.append((await c.score(name, 50 + 3 * i)).status_code)

    async def close() -> None:
        await asyncio.sleep(0.01)
        response = await c.close(force=True, reason="时间到")
        assert response.status_code == 200, response.text

    await asyncio.gather(close(), *(score(i, name) for i, name in enumerate(names)))
    assert set(answers) <= {200, 409}
    result = await ranking.round_ranking(c.cid, "r1", scope=None)
    decided = set(await RoundAdvance.filter(round__competition_id=c.cid).values_list("entry_id", flat=True))
    assert decided == ranking.advancing(result.items, {"top": 3})
    assert sum(1 for a in answers if a == 200) == sum(1 for r in result.items if r.score is not None)


# ---- the notice, objections, moving up -----------------------------------------------------------


async def _object(client, c: Contest, name: str, **extra: Any) -> Any:
    body = {"name": "王实名", "contact": "13800000001", "reason": "数据造假", "evidence": "https://example.com/proof"}
    return await client.post(c.url(f"/entries/{c.entries[name]}/objections"), json=body | extra)


async def test_the_notice_window_objections_and_finalize(client, org, frozen_clock):
    c = await Contest.make(client, org, {"top": 2})
    await c.scored({"a1": 95, "a2": 85, "a3": 75})
    before = await _object(client, c, "a1")
    assert (before.status_code, before.json()["error"]["code"]) == (409, "notice_closed")
    closed = (await c.close()).json()
    # Closed on 1 June (local): five whole days, to local midnight ending 6 June.
    assert closed["notice"] == {
        "starts_at": "2026-06-01T10:00:00+08:00",
        "ends_at": "2026-06-07T00:00:00+08:00",
        "last_day": "2026-06-06",
        "open": True,
    }
    bad_contact = await _object(client, c, "a1", contact="not a phone")
    assert (bad_contact.status_code, bad_contact.json()["error"]["field"]) == (422, "contact")
    filed = await _object(client, c, "a1")
    assert filed.status_code == 201, filed.text
    assert filed.json()["round"] == "r1" and filed.json()["status"] == "pending"
    early = await client.post(c.url("/rounds/r1/finalize"), headers=org)
    assert (early.status_code, early.json()["error"]["code"]) == (409, "notice_open")

    frozen_clock.set(datetime(2026, 6, 6, 15, 59, tzinfo=UTC))  # 23:59 on the last day: still open
    assert (await _object(client, c, "a2")).status_code == 201
    frozen_clock.set(datetime(2026, 6, 6, 16, 0, tzinfo=UTC))
    late = await _object(client, c, "a2")
    assert (late.status_code, late.json()["error"]["code"]) == (409, "notice_closed")
    pending = await client.post(c.url("/rounds/r1/finalize"), headers=org)
    assert (pending.status_code, pending.json()["error"]["code"]) == (409, "objections_pending")

    listed = (await client.get(c.url("/objections?status=pending"), headers=org)).json()
    assert listed["total"] == 2 and listed["items"][0]["objector_contact"] == "+8613800000001"
    assert listed["items"][0]["evidence"] == "https://example.com/proof"
    for item in listed["items"]:
        decided = await client.post(
            c.url(f"/objections/{item['id']}/decision"),
            json={"decision": "dismissed", "reason": "查无实据"},
            headers=org,
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["moved_up"] == [] and decided.json()["objection"]["status"] == "dismissed"
    twice = await client.post(
        c.url(f"/objections/{listed['items'][0]['id']}/decision"),
        json={"decision": "upheld", "reason": "x"},
        headers=org,
    )
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "objection_decided")
    final = await client.post(c.url("/rounds/r1/finalize"), headers=org)
    assert final.status_code == 200, final.text
    assert final.json()["status"] == "final" and final.json()["awarded"] == []  # not the last round


async def test_an_upheld_objection_moves_the_next_ranked_entry_up(client, org, frozen_clock):
    c = await Contest.make(client, org, {"top": 2})
    await c.scored({"a1": 95, "b1": 90, "a2": 85, "b2": 80})
    await c.close()
    objection = (await _object(client, c, "a1")).json()
    decided = await client.post(
        c.url(f"/objections/{objection['id']}/decision"),
        json={"decision": "upheld", "reason": "成果权属不清"},
        headers=org,
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["revoked"] == [c.entries["a1"]]
    assert [(m["entry_id"], m["how"], m["rank"], m["reason"]) for m in body["moved_up"]] == [
        (c.entries["a2"], "moved_up", 3, "成果权属不清")
    ]
    assert (await c.status("a1"), await c.status("a2")) == ("eliminated", "advanced")
    revoked = await RoundAdvance.get(entry_id=c.entries["a1"])
    assert revoked.revoked_at is not None and revoked.revoked_reason == "成果权属不清"
    results = (await client.get(c.url("/results"))).json()
    shown = [(e["entry_id"], e["how"]) for e in results["rounds"][0]["entries"]]
    assert shown == [(c.entries["b1"], "rule"), (c.entries["a2"], "moved_up")]
    # An objection upheld against an entry that did not go through moves nobody.
    other = (await _object(client, c, "b2")).json()
    nothing = await client.post(
        c.url(f"/objections/{other['id']}/decision"), json={"decision": "upheld", "reason": "材料不全"}, headers=org
    )
    assert nothing.json()["moved_up"] == [] and nothing.json()["revoked"] == []


async def test_a_per_track_seat_is_refilled_from_its_track(client, org, frozen_clock):
    c = await Contest.make(client, org, {"top_per_track": 1})
    await c.scored({"a1": 95, "b1": 90, "b2": 88, "a2": 70})
    await c.close()
    objection = (await _object(client, c, "a1")).json()
    decided = await client.post(
        c.url(f"/objections/{objection['id']}/decision"), json={"decision": "upheld", "reason": "违规"}, headers=org
    )
    # b2 ranks higher overall, but the seat was track a's.
    assert [m["entry_id"] for m in decided.json()["moved_up"]] == [c.entries["a2"]]


async def test_a_withdrawal_moves_the_next_up_and_a_wildcard_seat_is_not_refilled(client, org, frozen_clock):
    c = await Contest.make(client, org, {"top": 1, "min_score": 60})
    await c.scored({"a1": 95, "a2": 85, "a3": 75, "a4": 50})
    await client.post(c.url("/rounds/r1/wildcards"), json={"entry_id": c.entries["a3"], "reason": "外卡"}, headers=org)
    await c.close()
    withdrawn = await client.post(
        c.url(f"/entries/{c.entries['a1']}/withdraw"), json={"reason": "团队解散"}, headers=org
    )
    assert withdrawn.status_code == 200, withdrawn.text
    up = await RoundAdvance.get(entry_id=c.entries["a2"])
    # A withdrawn entry leaves the ranking: a2 is first of those still in it.
    assert (up.how, up.rank, up.reason) == ("moved_up", 1, "团队解散")
    assert (await c.status("a2"), (await Entry.get(id=c.entries["a2"])).current_round_id) == (
        "advanced",
        (await Entry.get(id=c.entries["a3"])).current_round_id,
    )
    # The wildcard leaves: its seat was not the rule's; a4 is under min_score anyway.
    await client.post(c.url(f"/entries/{c.entries['a3']}/withdraw"), headers=org)
    assert await RoundAdvance.filter(round__competition_id=c.cid, revoked_at=None).count() == 1
    assert await c.status("a4") == "eliminated"
    # a2 leaves too: nobody eligible is left above min_score.
    await client.post(c.url(f"/entries/{c.entries['a2']}/withdraw"), headers=org)
    assert await RoundAdvance.filter(round__competition_id=c.cid, revoked_at=None).count() == 0


async def test_the_last_round_awards_its_tiers(client, org, frozen_clock):
    tiers = [{"code": "tupo", "name": "突破", "count": 1}, {"code": "yinling", "name": "引领", "count": 2}]
    c = await Contest.make(
        client,
        org,
        {},
        rounds=[{"code": "final", "name": "决赛", "judges_per_entry": 1, "notice_days": 5}],
        award_tiers=tiers,
    )
    await c.scored({"a1": 95, "a2": 90, "b1": 90, "b2": 70, "b3": 60}, rnd="final")
    assert (await client.get(c.url(""), headers=org)).json()["status"] == "open"
    closed = (await c.close("final")).json()
    # The close puts the competition into judging: its rounds are under way, the public form is shut.
    assert (await client.get(c.url(""), headers=org)).json()["status"] == "judging"
    assert len(closed["advanced"]) == 5  # the last round without a rule: every ranked entry into the results
    assert all(e["award_tier"] is None for e in (await client.get(c.url("/results"))).json()["rounds"][0]["entries"])
    frozen_clock.set(datetime(2026, 6, 7, 0, 0, tzinfo=UTC))
    final = await client.post(c.url("/rounds/final/finalize"), headers=org)
    assert final.status_code == 200, final.text
    won = {a["entry_id"]: a["award_tier"] for a in final.json()["awarded"]}
    # a2 and b1 tie on 90 for the second place: both 引领; b2 is fourth, past the tiers.
    assert won == {c.entries["a1"]: "tupo", c.entries["a2"]: "yinling", c.entries["b1"]: "yinling"}
    assert [await c.status(n) for n in ("a1", "a2", "b1", "b2")] == ["awarded", "awarded", "awarded", "advanced"]
    results = (await client.get(c.url("/results"))).json()
    assert results["status"] == "finished"
    moves = await Activity.filter(kind="competition.status_changed").order_by("id").values_list("payload", flat=True)
    assert [(m["old"], m["new"], m["why"]) for m in moves] == [  # type: ignore[index]
        ("open", "judging", "closed:final"),
        ("judging", "finished", "finalized:final"),
    ]
    rows = {e["entry_id"]: (e["award_tier"], e["award_name"]) for e in results["rounds"][0]["entries"]}
    assert rows[c.entries["a1"]] == ("tupo", "突破") and rows[c.entries["b2"]] == (None, None)
    assert results["rounds"][0]["notice"]["open"] is False
    # Unpublished rounds are not shown; an unknown competition is a 404.
    assert (await client.get("/api/v1/competitions/999999/results")).status_code == 404


async def test_results_show_nothing_before_a_close(client, org, frozen_clock):
    c = await Contest.make(client, org, {"top": 1})
    await c.scored({"a1": 90})
    results = (await client.get(c.url("/results"))).json()
    assert results["rounds"] == [] and results["title"] == "武创源·2026"


# ---- telling people ------------------------------------------------------------------------------


async def _messages(person_id: int) -> list[str]:
    rows = await OutboxMessage.filter(person_id=person_id, category=Category.COMPETITION).order_by("id")
    return [r.text for r in rows]


async def test_entrants_judges_and_objectors_are_told(client, org, frozen_clock):
    c = await Contest.make(client, org, {"top": 1})
    for i, name in enumerate(("a1", "a2")):
        await c.enter(name, contact_email=f"{name}@example.com")
        entry = await Entry.get(id=c.entries[name])
        await Person.filter(id=entry.leader_id).update(telegram_id=7000 + i)
    await client.patch(
        c.url(""), json={"rounds": [
            {"code": "r1", "name": "初赛", "judges_per_entry": 1, "advance": {"top": 1}, "notice_days": 5,
             "closes_at": "2026-06-02T18:00:00+08:00"},
            {"code": "r2", "name": "决赛", "judges_per_entry": 1},
        ]}, headers=org,
    )  # fmt: skip
    await c.assign()
    judge = await Judge.get(id=c.judge_id)
    assert judge.person_id is not None
    producer = Producer()
    await producer.drain()
    told = await _messages(judge.person_id)
    assert len(told) == 1 and "初赛" in told[0] and "2026-06-02 18:00" in told[0]
    leaders = {n: (await Entry.get(id=c.entries[n])).leader_id for n in ("a1", "a2")}
    for n in leaders:
        assert ["资格审查" in t and "已通过" in t for t in await _messages(leaders[n])] == [True]

    # The reminder comes once the deadline is within a day, once, and only to a judge who owes scores.
    assert (await produce_judge_reminders()).queued == 0
    frozen_clock.set(datetime(2026, 6, 1, 11, 0, tzinfo=UTC))  # 19:00 the day before the deadline
    assert (await produce_judge_reminders()).queued == 1
    assert (await produce_judge_reminders()).queued == 0
    reminder = (await _messages(judge.person_id))[-1]
    assert "2 " in reminder and "初赛" in reminder and "2026-06-02 18:00" in reminder

    for name, value in (("a1", 90), ("a2", 80)):
        await c.score(name, value)
    await c.close()
    await producer.drain()
    assert "晋级" in (await _messages(leaders["a1"]))[-1] and "初赛" in (await _messages(leaders["a1"]))[-1]
    assert "未能晋级" in (await _messages(leaders["a2"]))[-1]

    objection = (await _object(client, c, "a1")).json()
    objector = await Objection.get(id=objection["id"])
    await Person.filter(id=objector.objector_id).update(telegram_id=7100)
    await client.post(
        c.url(f"/objections/{objection['id']}/decision"),
        json={"decision": "upheld", "reason": "成果权属不清"},
        headers=org,
    )
    await producer.drain()
    assert "成立" in (await _messages(objector.objector_id))[-1]
    a1 = await _messages(leaders["a1"])
    assert any("异议" in t and "成果权属不清" in t for t in a1)
    assert "递补" in (await _messages(leaders["a2"]))[-1]
    # Facts re-read after a crash make no second message.
    before = await OutboxMessage.filter(category=Category.COMPETITION).count()
    fact = await Activity.filter(kind="competition.round_result").first()
    assert fact is not None
    await producer.competitions.handle(fact, None)
    assert await OutboxMessage.filter(category=Category.COMPETITION).count() == before


# ---- papers --------------------------------------------------------------------------------------


async def test_the_papers_open_and_hold_the_numbers(client, org, frozen_clock):
    from openpyxl import load_workbook

    c = await Contest.make(client, org, {"top": 1})
    await c.scored({"a1": 91.5, "a2": 77})
    sheets_url = c.url("/rounds/r1/exports/judge-sheets")
    xlsx = await client.get(sheets_url, headers=org)
    assert xlsx.status_code == 200, xlsx.text
    book = load_workbook(io.BytesIO(xlsx.content))
    cells = [v for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert 91.5 in cells and 77 in cells and "a1评语" in cells and any("评委甲" in str(v) for v in cells)
    assert any("签字" in str(v) for v in cells)
    html = await client.get(sheets_url, params={"format": "html"}, headers=org)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "91.5" in html.text and "评委甲" in html.text and "签字" in html.text
    english = await client.get(sheets_url, params={"format": "html", "lang": "en"}, headers=org)
    assert "signature" in english.text
    one = await client.get(
        c.url("/rounds/r1/exports/entry-sheets"), params={"entry_id": c.entries["a2"], "format": "html"}, headers=org
    )
    assert one.status_code == 200 and "77" in one.text and "a1" not in one.text.split("<body>")[1].split("a2")[0]
    missing = await client.get(c.url("/rounds/r1/exports/entry-sheets"), params={"entry_id": 999999}, headers=org)
    assert missing.status_code == 404
    await c.close()
    results = await client.get(c.url("/rounds/r1/exports/results"), headers=org)
    rows = list(load_workbook(io.BytesIO(results.content)).worksheets[0].iter_rows(values_only=True))
    data = [r for r in rows if r and r[2] in (c.entries["a1"], c.entries["a2"])]
    assert [(r[0], r[6]) for r in data] == [(1, 91.5), (2, 77)]
    assert data[0][8] == "按规则"
