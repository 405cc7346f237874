"""Competitions core: configuration, entries, conflicts, assignment, scoring, ranking (service and API),
with the bad input the issue names."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from events.errors import InvalidInput, NotAssigned, RoundClosed
from events.models import (
    Activity,
    Aggregation,
    Assignment,
    Competition,
    ConflictRecord,
    Entry,
    Judge,
    Round,
    RoundStatus,
    ScoreVersion,
)
from events.services.competitions import assignment, conflicts, entries, ranking, scoring
from events.services.competitions.ranking import EntryFacts, JudgeScore, Rule
from events.services.organizations import Scope
from tests.factories import bearer, make_token

T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)

CONFIG = {
    "title": "英雄杯·2026",
    "tracks": [
        {"code": "donghu", "name": "东湖赛区", "kind": "district", "district": "donghu_gaoxin"},
        {"code": "ai", "name": "人工智能"},
    ],
    "rounds": [
        {"code": "r1", "name": "初赛", "judges_per_entry": 2, "advance": {"top": 2}, "disagreement_gap": 30},
        {"code": "r2", "name": "复赛", "judges_per_entry": 3},
    ],
    "criteria": [
        {"key": "tech", "name": "技术先进性", "weight": 0.5, "max": 100},
        {"key": "market", "name": "市场价值", "weight": 0.3, "max": 100},
        {"key": "landing", "name": "落地环境", "weight": 0.2, "max": 100},
    ],
    "aggregation": "mean",
}


# ---- pure parts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("武汉大学", "华中科技大学", False),
        ("武汉大学", "武汉大学计算机学院", True),
        ("小米科技（武汉）有限公司", "小米科技有限责任公司", True),
        ("ＡＢＣ科技股份有限公司", "ABC科技集团有限公司", True),
        ("Huawei Technologies Co., Ltd.", "huawei technologies", True),
        ("长江存储科技有限责任公司", "长江存储", False),
        ("烽火通信科技股份有限公司", "烽火科技", False),
    ],
)
def test_organization_names_are_normalised_not_confused(a, b, same):
    assert (conflicts.normalize_org(a) == conflicts.normalize_org(b)) is same


def test_each_rule_finds_its_conflict_and_webmail_is_no_tie():
    judge = conflicts.party("武汉大学", ["li@whu.edu.cn"], ["某某科技有限公司"])
    assert [f.rule for f in conflicts.find(judge, conflicts.party("某某科技", []))] == ["declared_tie"]
    assert [f.rule for f in conflicts.find(judge, conflicts.party("武汉大学 ", []))] == ["same_organization"]
    assert [f.rule for f in conflicts.find(judge, conflicts.party("其他", ["x@cs.whu.edu.cn"]))] == ["email_domain"]
    assert [f.rule for f in conflicts.find(judge, conflicts.party("其他", [], ["武汉大学"]))] == ["entrant_declared"]
    webmail = conflicts.party("甲", ["a@qq.com"]), conflicts.party("乙", ["b@vip.qq.com"])
    assert conflicts.find(*webmail) == []
    assert conflicts.find(judge, conflicts.party("华中科技大学", ["z@hust.edu.cn"])) == []


def test_indexed_conflict_search_equals_every_pair():
    rng = random.Random(7)
    orgs = ["武汉大学", "华中科技大学", "小米科技有限公司", "烽火通信", "某某集团"]
    domains = ["whu.edu.cn", "cs.whu.edu.cn", "hust.edu.cn", "qq.com", "xiaomi.com", "edu.cn"]

    def someone() -> conflicts.Party:
        return conflicts.party(
            rng.choice(orgs + [None]),  # type: ignore[operator]
            [f"x@{rng.choice(domains)}"] if rng.random() < 0.7 else [],
            rng.sample(orgs, rng.randint(0, 2)),
        )

    judges = {i: someone() for i in range(30)}
    entries = {i: someone() for i in range(60)}
    brute = {(j, e): conflicts.find(judges[j], entries[e]) for j in judges for e in entries}
    assert conflicts.conflict_pairs(judges, entries) == {k: v for k, v in brute.items() if v}


def _facts(n: int, tracks: str = "ab") -> list[EntryFacts]:
    return [EntryFacts(i, tracks[i % len(tracks)], T0 + timedelta(minutes=i)) for i in range(1, n + 1)]


def test_trimmed_mean_drops_one_highest_and_one_lowest_only_from_five_scores():
    totals = [50.0, 60.0, 70.0, 80.0, 100.0]
    five = [JudgeScore(1, j, t, T0) for j, t in enumerate(totals, start=1)]
    rule = Rule(Aggregation.TRIMMED_MEAN, 100, ["median"])
    (ranked,) = ranking.rank(_facts(1), five, rule)
    assert ranked.score == 70.0  # (60 + 70 + 80) / 3
    assert [p.dropped for p in ranked.parts] == [True, False, False, False, True]
    (four,) = ranking.rank(_facts(1), five[:4], rule)
    assert four.score == 65.0 and not any(p.dropped for p in four.parts)


def test_zscore_removes_a_judges_bias_and_stays_on_the_scale():
    # Judge 2 gives everyone 30 points less: with zscore the two judges count alike.
    scores = [JudgeScore(e, 1, 60.0 + 10 * e, T0) for e in (1, 2, 3)] + [
        JudgeScore(e, 2, 30.0 + 10 * e, T0) for e in (1, 2, 3)
    ]
    ranked = ranking.rank(_facts(3), scores, Rule(Aggregation.ZSCORE, 100, []))
    by_id = {r.entry_id: r for r in ranked}
    everything = [s.total for s in scores]
    mu = sum(everything) / 6
    sigma = (sum((t - mu) ** 2 for t in everything) / 6) ** 0.5
    # Entry 3 is each judge's best, z = +1.2247…: μ + σ·z for both judges.
    z = (80 - 70) / ((200 / 3) ** 0.5)
    assert by_id[3].score == pytest.approx(mu + sigma * z)
    assert by_id[2].score == pytest.approx(mu)
    assert [r.entry_id for r in ranked] == [3, 2, 1]
    assert all(0 <= r.score <= 100 for r in ranked if r.score is not None)


def test_ties_break_by_the_rule_then_share_a_rank_and_unscored_come_last():
    scores = [
        JudgeScore(1, 1, 80, T0),
        JudgeScore(1, 2, 60, T0),  # mean 70, median 70
        JudgeScore(2, 1, 70, T0),
        JudgeScore(2, 2, 70, T0),  # mean 70, median 70, submitted later than 1 → after it
        JudgeScore(3, 1, 90, T0),
    ]
    ranked = ranking.rank(_facts(4, "a"), scores, Rule(Aggregation.MEAN, 100, ["median", "earliest_submission"]))
    assert [(r.entry_id, r.rank) for r in ranked] == [(3, 1), (1, 2), (2, 3), (4, None)]
    tied = ranking.rank(_facts(4, "a"), scores, Rule(Aggregation.MEAN, 100, ["median"]))
    assert [(r.entry_id, r.rank) for r in tied] == [(3, 1), (1, 2), (2, 2), (4, None)]


def test_disagreement_and_the_advance_rule():
    scores = [JudgeScore(1, 1, 90, T0), JudgeScore(1, 2, 40, T0), JudgeScore(2, 1, 70, T0), JudgeScore(3, 1, 60, T0)]
    ranked = ranking.rank(_facts(4), scores, Rule(Aggregation.MEAN, 100, [], gap=30))
    assert {r.entry_id for r in ranked if r.disagreement} == {1}
    assert ranking.advancing(ranked, {"top": 1}) == {2}
    assert ranking.advancing(ranked, {"top_per_track": 1}) == {2, 1}  # tracks: 1→b, 2→a, 3→b
    assert ranking.advancing(ranked, {"min_score": 66}) == {2}
    assert ranking.advancing(ranked, {}) == set()


def _sum_squares(loads: dict[int, int]) -> int:
    return sum(n * n for n in loads.values())


@pytest.mark.parametrize("seed", range(40))
def test_assignment_is_conflict_free_complete_and_balanced(seed):
    rng = random.Random(seed)
    n_judges, n_entries, k = rng.randint(3, 9), rng.randint(1, 25), rng.randint(1, 3)
    judges = {j: frozenset() for j in range(n_judges)}
    needs = [assignment.Need(e, frozenset(j for j in judges if rng.random() > 0.25), have=0) for e in range(n_entries)]
    plan = assignment.plan(needs, judges, k)
    given: dict[int, set[int]] = {}
    for e, j in plan.new:
        assert j in needs[e].eligible
        given.setdefault(e, set()).add(j)
    for need in needs:
        assert len(given.get(need.entry_id, set())) == min(k, len(need.eligible))
    assert dict(plan.infeasible) == {n.entry_id: k - len(n.eligible) for n in needs if len(n.eligible) < k}
    # No chain of moves lowers Σ load²: compared with the best of every plan on small cases.
    if n_entries <= 6 and n_judges <= 5:
        options = [itertools.combinations(sorted(n.eligible), min(k, len(n.eligible))) for n in needs]
        best = min(
            _sum_squares({j: sum(j in c for c in combo) for j in judges}) for combo in itertools.product(*options)
        )
        assert _sum_squares(plan.loads) == best


@pytest.mark.parametrize("seed", range(10))
def test_assignment_loads_differ_by_at_most_one_with_sparse_conflicts(seed):
    rng = random.Random(100 + seed)
    judges = {j: frozenset({rng.choice(["ai", "bio", "chip"])}) for j in range(40)}
    needs = [
        assignment.Need(
            e,
            frozenset(j for j in judges if rng.random() > 0.05),
            have=0,
            topics=frozenset({rng.choice(["ai", "bio"])}),
        )
        for e in range(300)
    ]
    plan = assignment.plan(needs, judges, 5)
    assert not plan.infeasible
    assert max(plan.loads.values()) - min(plan.loads.values()) <= 1
    fits = sum(bool(judges[j] & needs[e].topics) for e, j in plan.new)
    assert fits > len(plan.new) * 0.38  # expertise is preferred where loads tie (1/3 of pairs fit by chance)


def test_balancing_repairs_what_the_greedy_leaves():
    # Greedy takes judge 0 for entries 0 and 1 (the lowest hash); only the chain 0 → 1 → 2 evens it out.
    judges = {0: frozenset(), 1: frozenset(), 2: frozenset()}
    needs = [
        assignment.Need(0, frozenset({0, 1}), 0),
        assignment.Need(1, frozenset({0, 1}), 0),
        assignment.Need(2, frozenset({0, 1, 2}), 0),
        assignment.Need(3, frozenset({1, 2}), 0),
    ]
    plan = assignment.plan(needs, judges, 1, loads={0: 3, 1: 0, 2: 0})
    assert sorted(plan.loads.values()) == [2, 2, 3]


# ---- service and API ---------------------------------------------------------------------------


@pytest.fixture
async def org(client):
    return bearer(await make_token(name="英雄杯组委会"))


async def _competition(client, org, **extra):
    response = await client.post("/api/v1/competitions", json=CONFIG | extra, headers=org)
    assert response.status_code == 201, response.text
    return response.json()


async def _entry(client, org, cid, **extra):
    body = {"title": "光子芯片", "track": "ai", "leader_name": "张三", "organization": "光谷科技有限公司"} | extra
    response = await client.post(f"/api/v1/competitions/{cid}/entries", json=body, headers=org)
    assert response.status_code == 201, response.text
    entry = response.json()
    accepted = await client.post(
        f"/api/v1/competitions/{cid}/entries/{entry['id']}/review", json={"decision": "accept"}, headers=org
    )
    assert accepted.status_code == 200, accepted.text
    return entry


async def _judge(client, org, cid, name, organization, **extra):
    response = await client.post(
        f"/api/v1/competitions/{cid}/judges", json={"name": name, "organization": organization} | extra, headers=org
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], bearer(body["token"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"criteria": [{"key": "a", "name": "A", "weight": 0, "max": 10}]}, "criteria.0.weight"),
        ({"criteria": [{"key": "a", "name": "A", "weight": 1, "max": -1}]}, "criteria.0.max"),
        (
            {
                "criteria": [
                    {"key": "a", "name": "A", "weight": 1, "max": 5},
                    {"key": "a", "name": "B", "weight": 1, "max": 5},
                ]
            },
            "criteria",
        ),
        ({"rounds": [{"code": "r1", "name": "初赛", "judges_per_entry": 0}]}, "rounds.0.judges_per_entry"),
        ({"tracks": [{"code": "x", "name": "X"}, {"code": "X", "name": "Y"}]}, "tracks"),
        ({"aggregation": "median"}, "aggregation"),
        ({"tracks": []}, "tracks"),
    ],
)
async def test_a_bad_configuration_is_refused_with_its_field(client, org, change, field):
    response = await client.post("/api/v1/competitions", json=CONFIG | change, headers=org)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["field"].startswith(field), response.text


async def test_a_whole_round_from_entries_to_ranking(client, org):
    comp = await _competition(client, org)
    cid = comp["id"]
    assert comp["scale"] == 100 and [r["code"] for r in comp["rounds"]] == ["r1", "r2"]
    e1 = await _entry(client, org, cid, title="甲")
    e2 = await _entry(client, org, cid, title="乙", track="donghu", organization="武汉大学")
    e3 = await _entry(
        client,
        org,
        cid,
        title="丙",
        organization="长江存储科技有限责任公司",
        contact_email="boss@xiaomi.com",
        declared_ties=["烽火通信有限公司"],
    )
    assert e1["status"] == "submitted" and e1["round"] == "r1" and e1["track"] == "ai"
    j1, h1 = await _judge(client, org, cid, "李评委", "武汉大学计算机学院")  # same organization as e2
    j2, h2 = await _judge(client, org, cid, "王评委", "烽火通信")  # the entrant of e3 declared it
    j3, h3 = await _judge(client, org, cid, "赵评委", "小米", email="zhao@xiaomi.com", conflicts=["光谷科技"])
    j4, h4 = await _judge(client, org, cid, "钱评委", "中科院")
    log = (await client.get(f"/api/v1/competitions/{cid}/conflicts", headers=org)).json()["items"]
    assert {(c["judge_id"], c["entry_id"], c["rule"]) for c in log} == {
        (j1, e2["id"], "same_organization"),
        (j2, e3["id"], "entrant_declared"),
        (j3, e3["id"], "email_domain"),
        (j3, e1["id"], "declared_tie"),
    }
    run = (await client.post(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=org)).json()
    assert run["created"] == 6 and run["infeasible"] == []
    loads = [x["assignments"] for x in run["loads"]]
    assert max(loads) - min(loads) <= 1
    again = (await client.post(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=org)).json()
    assert again["created"] == 0 and again["kept"] == 6
    rows = (await client.get(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=org)).json()["items"]
    pairs = {(a["judge_id"], a["entry_id"]) for a in rows}
    assert not pairs & {(j1, e2["id"]), (j2, e3["id"]), (j3, e3["id"]), (j3, e1["id"])}
    judges = {j1: h1, j2: h2, j3: h3, j4: h4}
    mine = (await client.get(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=h4)).json()["items"]
    assert mine and {a["judge_id"] for a in mine} == {j4}

    url = f"/api/v1/competitions/{cid}/rounds/r1/entries/{{}}/score"
    marks = {e1["id"]: 80, e2["id"]: 60, e3["id"]: 90}
    for judge_id, entry_id in sorted(pairs):
        body = {"scores": {"tech": marks[entry_id], "market": marks[entry_id], "landing": marks[entry_id]}}
        response = await client.put(url.format(entry_id), json=body, headers=judges[judge_id])
        assert response.status_code == 200, response.text
        assert response.json()["total"] == pytest.approx(marks[entry_id]) and response.json()["version"] == 1

    # The bad input.
    conflicted = await client.put(
        url.format(e2["id"]), json={"scores": {"tech": 1, "market": 1, "landing": 1}}, headers=h1
    )
    assert (conflicted.status_code, conflicted.json()["error"]["code"]) == (403, "conflict_of_interest")
    free_entry = next(e for e in (e1["id"], e2["id"], e3["id"]) if (j4, e) not in pairs)
    unassigned = await client.put(
        url.format(free_entry), json={"scores": {"tech": 1, "market": 1, "landing": 1}}, headers=h4
    )
    assert (unassigned.status_code, unassigned.json()["error"]["code"]) == (403, "not_assigned")
    some_pair = sorted(pairs)[0]
    for bad, field in (
        ({"tech": 101, "market": 1, "landing": 1}, "scores.tech"),
        ({"tech": -1, "market": 1, "landing": 1}, "scores.tech"),
        ({"tech": 1, "market": 1}, "scores.landing"),
        ({"tech": 1, "market": 1, "landing": 1, "luck": 5}, "scores.luck"),
    ):
        response = await client.put(url.format(some_pair[1]), json={"scores": bad}, headers=judges[some_pair[0]])
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
    other_comp = await _competition(client, org)
    foreign = await client.put(
        f"/api/v1/competitions/{other_comp['id']}/rounds/r1/entries/{some_pair[1]}/score",
        json={"scores": {"tech": 1, "market": 1, "landing": 1}},
        headers=judges[some_pair[0]],
    )
    assert foreign.status_code == 404

    # A change is a new version; the judge sees only their own.
    j, e = some_pair
    changed = await client.put(
        url.format(e),
        json={"scores": {"tech": 100, "market": 100, "landing": 100}, "comment": "复核"},
        headers=judges[j],
    )
    assert changed.json()["version"] == 2
    assert await ScoreVersion.filter(assignment__judge_id=j, assignment__entry_id=e).count() == 2
    own = (await client.get(f"/api/v1/competitions/{cid}/rounds/r1/my-scores", headers=judges[j])).json()["items"]
    assert {s["entry_id"] for s in own} == {ee for jj, ee in pairs if jj == j}
    assert next(s for s in own if s["entry_id"] == e)["submitted"]["version"] == 2

    board = (await client.get(f"/api/v1/competitions/{cid}/rounds/r1/ranking", headers=org)).json()
    assert board["preview"] is True
    items = {i["entry_id"]: i for i in board["items"]}
    assert items[e3["id"]]["rank"] == 1 and items[e3["id"]]["scores_count"] == 2
    assert sum(i["advanced"] for i in board["items"]) == 2  # top 2
    why = (await client.get(f"/api/v1/competitions/{cid}/rounds/r1/entries/{e}/explain", headers=org)).json()
    assert sorted(p["total"] for p in why["parts"]) == sorted([100.0, float(marks[e])])
    assert why["score"] == items[e]["score"]

    # The structure is fixed once scored; the title is not.
    locked = await client.patch(f"/api/v1/competitions/{cid}", json={"aggregation": "zscore"}, headers=org)
    assert (locked.status_code, locked.json()["error"]["code"]) == (409, "competition_locked")
    renamed = await client.patch(f"/api/v1/competitions/{cid}", json={"title": "英雄杯·2026（总决赛）"}, headers=org)
    assert renamed.status_code == 200 and renamed.json()["title"] == "英雄杯·2026（总决赛）"

    # Scoring after close.
    await Round.filter(competition_id=cid, code="r1").update(status=RoundStatus.CLOSED)
    late = await client.put(url.format(e), json={"scores": {"tech": 1, "market": 1, "landing": 1}}, headers=judges[j])
    assert (late.status_code, late.json()["error"]["code"]) == (409, "round_closed")


async def test_review_withdraw_and_the_facts_entrants_are_told(client, org):
    cid = (await _competition(client, org))["id"]
    made = await client.post(
        f"/api/v1/competitions/{cid}/entries",
        json={"title": "氢能", "track": "ai", "leader_name": "孙七", "contact_email": "sun@example.com"},
        headers=org,
    )
    entry = made.json()
    no_reason = await client.post(
        f"/api/v1/competitions/{cid}/entries/{entry['id']}/review", json={"decision": "reject"}, headers=org
    )
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    rejected = await client.post(
        f"/api/v1/competitions/{cid}/entries/{entry['id']}/review",
        json={"decision": "reject", "reason": "不在本市注册"},
        headers=org,
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["review_reason"] == "不在本市注册"
    withdrawn = await client.post(f"/api/v1/competitions/{cid}/entries/{entry['id']}/withdraw", headers=org)
    assert (withdrawn.status_code, withdrawn.json()["error"]["code"]) == (409, "invalid_transition")
    accepted = await client.post(
        f"/api/v1/competitions/{cid}/entries/{entry['id']}/review", json={"decision": "accept"}, headers=org
    )
    assert accepted.json()["status"] == "accepted"
    withdrawn = await client.post(
        f"/api/v1/competitions/{cid}/entries/{entry['id']}/withdraw", json={"reason": "团队解散"}, headers=org
    )
    assert withdrawn.json()["status"] == "withdrawn"
    facts = await Activity.filter(kind="competition.entry_status").order_by("id")
    assert [(f.payload["old"], f.payload["new"]) for f in facts] == [
        (None, "submitted"),
        ("submitted", "rejected"),
        ("rejected", "accepted"),
        ("accepted", "withdrawn"),
    ]
    assert all(f.person_id is not None and f.payload["entry_id"] == entry["id"] for f in facts)
    unknown_track = await client.post(
        f"/api/v1/competitions/{cid}/entries", json={"title": "x", "track": "nope", "leader_name": "y"}, headers=org
    )
    assert unknown_track.status_code == 422 and unknown_track.json()["error"]["field"] == "track"


async def test_recusal_replaces_the_judge_at_once(client, org):
    cid = (await _competition(client, org, rounds=[{"code": "r1", "name": "初赛", "judges_per_entry": 1}]))["id"]
    entry = await _entry(client, org, cid)
    j1, h1 = await _judge(client, org, cid, "甲", "单位一")
    j2, h2 = await _judge(client, org, cid, "乙", "单位二")
    await client.post(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=org)
    holder = await Assignment.get(entry_id=entry["id"])
    h, other = (h1, j2) if holder.judge_id == j1 else (h2, j1)
    done = await client.post(
        f"/api/v1/competitions/{cid}/rounds/r1/entries/{entry['id']}/recuse", json={"reason": "曾指导该团队"}, headers=h
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"entry_id": entry["id"], "status": "recused", "replacement_judge_id": other}
    again = await client.post(
        f"/api/v1/competitions/{cid}/rounds/r1/entries/{entry['id']}/recuse", json={"reason": "x"}, headers=h
    )
    assert again.json()["error"]["code"] == "already_recused"
    scored = await client.put(
        f"/api/v1/competitions/{cid}/rounds/r1/entries/{entry['id']}/score",
        json={"scores": {"tech": 1, "market": 1, "landing": 1}},
        headers=h,
    )
    assert scored.json()["error"]["code"] == "conflict_of_interest"
    assert await ConflictRecord.filter(judge_id=holder.judge_id, rule="recusal").count() == 1


async def test_an_infeasible_entry_is_reported_not_left_short(client, org):
    cid = (await _competition(client, org))["id"]
    entry = await _entry(client, org, cid, organization="武汉大学")
    await _judge(client, org, cid, "甲", "武汉大学")
    await _judge(client, org, cid, "乙", "华中科技大学")
    run = (await client.post(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=org)).json()
    assert run["infeasible"] == [{"entry_id": entry["id"], "missing": 1}]


async def test_each_score_is_either_ranked_or_refused_when_the_round_closes(client, org):
    """Judges submit while the round closes (under the lock closing takes): every accepted score is in the
    ranking taken at the close, every other one was refused with round_closed."""
    cid = (await _competition(client, org, rounds=[{"code": "r1", "name": "初赛", "judges_per_entry": 5}]))["id"]
    entries = [await _entry(client, org, cid, title=f"项目{i}") for i in range(6)]
    heads = [(await _judge(client, org, cid, f"评委{i}", f"单位{i}"))[1] for i in range(5)]
    await client.post(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=org)
    rnd = await Round.get(competition_id=cid, code="r1")
    answers: list[tuple[int, int]] = []

    async def score(h, entry_id):
        response = await client.put(
            f"/api/v1/competitions/{cid}/rounds/r1/entries/{entry_id}/score",
            json={"scores": {"tech": 50, "market": 50, "landing": 50}},
            headers=h,
        )
        answers.append((response.status_code, entry_id))
        await asyncio.sleep(0)
        assert response.status_code in (200, 409), response.text

    snapshot: list[JudgeScore] = []

    async def close():
        await asyncio.sleep(0.05)
        async with in_transaction() as conn:
            await scoring.lock_round(conn, rnd.id)
            await Round.filter(id=rnd.id).using_db(conn).update(status=RoundStatus.CLOSED)
        snapshot.extend(await ranking.current_scores(rnd.id))

    await asyncio.gather(close(), *(score(h, e["id"]) for h in heads for e in entries))
    accepted = sum(1 for status, _ in answers if status == 200)
    assert accepted == len(snapshot) == await ScoreVersion.filter(round_id=rnd.id).count()
    held = await Assignment.filter(round_id=rnd.id).first().prefetch_related("judge")
    assert held is not None
    with pytest.raises(RoundClosed):
        await scoring.submit_score(
            cid,
            "r1",
            held.entry_id,
            scoring.ScoreInput(scores={"tech": 1, "market": 1, "landing": 1}),
            judge=held.judge,
            actor="t",
        )


def test_values_are_checked_against_every_criterion():
    class C:
        def __init__(self, key: str, weight: float, maximum: float) -> None:
            self.key, self.name, self.weight, self.max = key, key, weight, maximum

    criteria = [C("a", 2, 10), C("b", 1, 5)]
    assert scoring.weighted_total(criteria, scoring.check_values(criteria, {"a": 10, "b": 5})) == 25  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        scoring.check_values(criteria, {"a": 10.5, "b": 1})  # type: ignore[arg-type]


async def test_a_judge_hands_in_a_stack_of_sheets_all_or_none(client, org):
    """``submit_sheets``: each sheet checked as one score is; one refused sheet keeps the whole stack out."""
    cid = (await _competition(client, org))["id"]
    entries = [(await _entry(client, org, cid, title=f"项目{i}"))["id"] for i in range(3)]
    ids = [(await _judge(client, org, cid, name, unit))[0] for name, unit in (("甲", "单位一"), ("乙", "单位二"))]
    await client.post(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=org)
    judge = await Judge.get(id=ids[0]).select_related("organization")

    def sheet(entry_id: int, tech: float = 80) -> scoring.Sheet:
        return scoring.Sheet(entry_id, scoring.ScoreInput(scores={"tech": tech, "market": 70, "landing": 60}))

    made = await scoring.submit_sheets(cid, "r1", [sheet(e) for e in entries], judge=judge, actor="t", via="web")
    assert [(v.assignment_id, v.version, v.total, v.via) for v in made] == [
        (a.id, 1, 73.0, "web")
        for a in [await Assignment.get(round__competition_id=cid, entry_id=e, judge_id=judge.id) for e in entries]
    ]
    assert all(v.id for v in made)
    assert await Activity.filter(kind="competition.score_saved").count() == 3
    # A value over the maximum, an entry not the judge's, an entry twice: nothing of the stack is kept.
    outsider = (await _entry(client, org, cid, title="迟到的项目"))["id"]
    for stack, error in (
        ([sheet(entries[0], 60), sheet(entries[1], 101)], InvalidInput),
        ([sheet(entries[0], 60), sheet(outsider)], NotAssigned),
        ([sheet(entries[0], 60), sheet(entries[0], 50)], InvalidInput),
    ):
        with pytest.raises(error):
            await scoring.submit_sheets(cid, "r1", stack, judge=judge, actor="t")
    assert await ScoreVersion.all().count() == 3
    again = await scoring.submit_sheets(cid, "r1", [sheet(entries[1], 90)], judge=judge, actor="t")
    assert again[0].version == 2
    scores = {
        s.entry_id: s.total for s in await ranking.current_scores((await Round.get(competition_id=cid, code="r1")).id)
    }
    assert scores[entries[1]] == 78.0 and scores[entries[0]] == 73.0


async def test_a_review_panel_decides_a_list_at_once(client, org):
    cid = (await _competition(client, org))["id"]
    made = []
    for i in range(3):
        response = await client.post(
            f"/api/v1/competitions/{cid}/entries",
            json={"title": f"项目{i}", "track": "ai", "organization": "光谷科技有限公司"},
            headers=org,
        )
        made.append(response.json()["id"])
    scope = Scope(organization_id=(await Competition.get(id=cid)).managed_by_id)
    with pytest.raises(InvalidInput):  # a refusal needs its reason: none of the list is decided
        await entries.review_entries(
            cid, [entries.Review(made[0], True), entries.Review(made[1], False)], scope=scope, actor="t"
        )
    assert set(await Entry.filter(competition_id=cid).values_list("status", flat=True)) == {"submitted"}
    decided = await entries.review_entries(
        cid,
        [entries.Review(made[0], True), entries.Review(made[1], False, "材料不全"), entries.Review(made[2], True)],
        scope=scope,
        actor="t",
    )
    assert decided == 3
    assert [(await Entry.get(id=i)).status for i in made] == ["accepted", "rejected", "accepted"]
    told = await Activity.filter(kind="competition.entry_status").values_list("payload", flat=True)
    assert sorted(p["new"] for p in told) == ["accepted", "accepted", "rejected", "submitted", "submitted", "submitted"]  # type: ignore[index]


def test_people_read_statuses_and_conflict_rules_not_codes():
    from events import labels
    from events.errors import ConflictOfInterest, InvalidTransition

    refused = ConflictOfInterest(rule="same_organization")
    assert "同一单位" in labels.message("zh", refused.message, refused.params)
    assert "same organization" in labels.message("en", refused.message, refused.params)
    late = InvalidTransition(status="eliminated")
    assert "未晋级" in labels.message("zh", late.message, late.params)
    for code in ("submitted", "accepted", "withdrawn", "advanced", "eliminated", "awarded", "notice", "final"):
        assert labels.status(code, "zh") != code
    for rule in ("declared_tie", "same_organization", "email_domain", "entrant_declared", "recusal"):
        assert labels.conflict_rule(rule, "zh") != rule


async def test_a_close_counts_the_score_it_waited_for_and_refuses_the_one_that_waited_for_it(client, org, monkeypatch):
    """Both outcomes of the race, forced in order on either database: judge A's score is inside its
    transaction when the close comes (the close waits for it, then counts it); judge B's score comes while
    the close holds the round (it waits, then is refused with round_closed). Neither is ever half in."""
    from events.models import Entry, Judge, RoundAdvance
    from events.services.competitions import closing
    from events.services.organizations import Scope

    cid = (
        await _competition(
            client, org, rounds=[{"code": "r1", "name": "初赛", "judges_per_entry": 1, "advance": {"top": 5}}]
        )
    )["id"]
    for i in range(2):
        await _entry(client, org, cid, title=f"项目{i}")
    ids = [(await _judge(client, org, cid, name, unit))[0] for name, unit in (("甲", "单位一"), ("乙", "单位二"))]
    await client.post(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=org)
    a, b = [await Judge.get(id=i).select_related("organization") for i in ids]
    a_entry = (await Assignment.get(judge_id=a.id)).entry_id
    b_entry = (await Assignment.get(judge_id=b.id)).entry_id
    sheet = scoring.ScoreInput(scores={"tech": 90, "market": 80, "landing": 70})

    a_inside, release_a, close_locked, release_close = (asyncio.Event() for _ in range(4))

    class PausedLog:  # A's score stops inside its transaction, after its version is written
        def __call__(self, **fields):  # noqa: ANN204
            return Activity(**fields)

        async def bulk_create(self, rows, **kwargs):  # noqa: ANN204
            if rows and rows[0].payload["judge_id"] == a.id:
                a_inside.set()
                await release_a.wait()
            return await Activity.bulk_create(rows, **kwargs)

    real_unscored = closing.unscored_entries

    async def paused_close(round_id: int):  # noqa: ANN202 — the close stops here holding the round, exclusive
        close_locked.set()
        await release_close.wait()
        return await real_unscored(round_id)

    monkeypatch.setattr(scoring, "Activity", PausedLog())
    monkeypatch.setattr(closing, "unscored_entries", paused_close)
    scope = Scope(organization_id=(await Competition.get(id=cid)).managed_by_id)

    async def close():  # noqa: ANN202
        return await closing.close_round(
            cid, "r1", closing.CloseInput(force=True, reason="时间到"), scope=scope, actor="t"
        )

    async def score(judge, entry_id):  # noqa: ANN001, ANN202
        return await scoring.submit_score(cid, "r1", entry_id, sheet, judge=judge, actor="t")

    first = asyncio.create_task(score(a, a_entry))
    await asyncio.wait_for(a_inside.wait(), 10)
    closer = asyncio.create_task(close())
    await asyncio.sleep(0.2)
    assert not close_locked.is_set(), "the close must wait for the score inside its transaction"
    release_a.set()
    counted = await asyncio.wait_for(first, 10)
    await asyncio.wait_for(close_locked.wait(), 10)
    second = asyncio.create_task(score(b, b_entry))
    await asyncio.sleep(0.2)
    assert not second.done(), "a score must wait while the close holds the round"
    release_close.set()
    closed = await asyncio.wait_for(closer, 10)
    with pytest.raises(RoundClosed):
        await asyncio.wait_for(second, 10)

    assert counted.version == 1 and counted.submitted
    assert [(v.assignment_id, v.version) for v in await ScoreVersion.all()] == [(counted.assignment_id, 1)]
    through = await RoundAdvance.get(round_id=closed.round.id)
    assert (through.entry_id, through.score) == (a_entry, counted.total)
    assert closed.eliminated == [b_entry] and (await Entry.get(id=b_entry)).status == "eliminated"


async def test_a_judge_sends_a_stack_of_sheets_over_the_api(client, org):
    cid = (await _competition(client, org))["id"]
    made = [(await _entry(client, org, cid, title=f"项目{i}"))["id"] for i in range(2)]
    (_, judge), _ = await _judge(client, org, cid, "甲", "单位一"), await _judge(client, org, cid, "乙", "单位二")
    await client.post(f"/api/v1/competitions/{cid}/rounds/r1/assignments", headers=org)
    url = f"/api/v1/competitions/{cid}/rounds/r1/scores"
    marks = {"tech": 80, "market": 70, "landing": 60}
    stack = [{"entry_id": made[0], "scores": marks}, {"entry_id": made[1], "scores": marks | {"tech": 101}}]
    over = await client.put(url, json={"sheets": stack}, headers=judge)
    assert over.status_code == 422 and over.json()["error"]["field"] == "scores.tech"
    assert await ScoreVersion.all().count() == 0
    sent = await client.put(
        url,
        json={"sheets": [{"entry_id": e, "scores": marks, "comment": "好"} for e in made], "submit": False},
        headers=judge,
    )
    assert sent.status_code == 200, sent.text
    assert [(i["entry_id"], i["version"], i["submitted"], i["total"]) for i in sent.json()["items"]] == [
        (made[0], 1, False, 73.0),
        (made[1], 1, False, 73.0),
    ]
    assert (await client.put(url, json={"sheets": []}, headers=judge)).status_code == 422
    organizer = await client.put(url, json={"sheets": stack[:1]}, headers=org)
    assert organizer.status_code == 403
