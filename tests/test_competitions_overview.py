"""The organizer's read models of a competition (events/services/competitions/overview.py), the entry
search and the ranking by another aggregation (a comparison that changes nothing)."""

from __future__ import annotations

import pytest

from events.errors import CompetitionNotFound, EntryNotFound, RoundNotFound
from events.models import Aggregation, Competition
from events.services import organizations
from events.services.competitions import assignment, entries, overview, ranking
from events.services.organizations import Scope
from tests.competition_console_kit import assign_and_score, make_contest

pytestmark = pytest.mark.usefixtures("frozen_clock")


async def _orgs() -> tuple[int, int]:
    a = await organizations.find_or_create_organization("东湖高新区管委会", kind="government")
    b = await organizations.find_or_create_organization("江岸区科技局", kind="government")
    return a.id, b.id


async def test_overview_and_coverage_count_what_is_there(db) -> None:
    a, b = await _orgs()
    c = await make_contest(a)
    seen = await overview.overview(c.cid, scope=Scope(a))
    assert seen.entries == 5 and seen.judges == 3
    assert [(r.round.code, r.in_play, r.assignments, r.scored) for r in seen.rounds] == [
        ("r1", 4, 0, 0),
        ("r2", 0, 0, 0),
    ]
    before = await overview.coverage(c.cid, "r1", scope=Scope(a))
    assert [e.short for e in before.entries] == [2, 2, 2, 2] and len(before.short) == 4
    await assign_and_score(c, a)
    after = await overview.coverage(c.cid, "r1", scope=Scope(a))
    assert not after.short and all(len(e.judges) == 2 and all(s for _, s in e.judges) for e in after.entries)
    loads = {ld.name: (ld.active, ld.scored, ld.conflicts) for ld in after.loads}
    assert sum(v[0] for v in loads.values()) == 8 and loads["陈评委"][2] == 1
    again = await overview.overview(c.cid, scope=Scope(a))
    assert (again.rounds[0].assignments, again.rounds[0].scored) == (8, 8)
    with pytest.raises(CompetitionNotFound):
        await overview.overview(c.cid, scope=Scope(b))
    with pytest.raises(CompetitionNotFound):
        await overview.coverage(c.cid, "r1", scope=Scope(b))
    with pytest.raises(RoundNotFound):
        await overview.coverage(c.cid, "zz", scope=Scope(a))


async def test_the_entry_file_and_each_judges_conflicts(db) -> None:
    a, b = await _orgs()
    c = await make_contest(a)
    await assign_and_score(c, a)
    target = c.entries["光谷量子芯片"]
    found = await overview.entry_file(c.cid, target, scope=Scope(a))
    assert {s.judge for s in found.scores} == {"刘评委", "周评委"}
    assert all(s.total == pytest.approx(86) and s.version == 1 for s in found.scores)
    assert [(k.judge, k.rule) for k in found.conflicts] == [("陈评委", "declared_tie")]
    chen = c.judges["陈评委"].id
    by_judge = await overview.judge_conflicts(c.cid, [chen, c.judges["刘评委"].id], scope=Scope(a))
    assert by_judge == {chen: [(target, "光谷量子芯片", "declared_tie", by_judge[chen][0][3])]}
    with pytest.raises(EntryNotFound):
        await overview.entry_file(c.cid, 999_999, scope=Scope(a))
    with pytest.raises(CompetitionNotFound):
        await overview.entry_file(c.cid, target, scope=Scope(b))


async def test_entries_are_found_by_words_of_title_leader_or_organization(db) -> None:
    a, _ = await _orgs()
    c = await make_contest(a)

    async def titles(search: str) -> list[str]:
        page = await entries.entry_page(c.cid, scope=Scope(a), search=search, limit=50)
        return [e.title for e in page.items]

    assert await titles("细胞") == ["江城细胞治疗"]
    assert await titles("珞珈材料") == ["珞珈新材料"]  # the organization
    assert await titles("东湖 负责人") == ["东湖智能驾驶"]  # every word must match
    assert await titles("光谷 细胞") == []
    assert len(await titles("")) == 5


async def test_ranking_by_another_aggregation_compares_without_changing_anything(db) -> None:
    a, _ = await _orgs()
    c = await make_contest(a)
    await assign_and_score(c, a)
    own = await ranking.round_ranking(c.cid, "r1", scope=Scope(a))
    z = await ranking.round_ranking(c.cid, "r1", scope=Scope(a), aggregation=Aggregation.ZSCORE)
    same = await ranking.round_ranking(c.cid, "r1", scope=Scope(a), aggregation=Aggregation.MEAN)
    assert [r.score for r in same.items] == [r.score for r in own.items]
    assert [r.score for r in z.items] != [r.score for r in own.items]
    assert any(p.counted != p.total for r in z.items for p in r.parts)  # rescaled per judge
    assert (await Competition.get(id=c.cid)).aggregation == Aggregation.MEAN
    assert (await assignment.assign_round(c.cid, "r1", scope=Scope(a), actor="t")).created == 0
