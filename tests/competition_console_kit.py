"""A small competition of organization A for the console's competition pages (tests and the matrix):
two tracks, two rounds (初赛 with 2 judges per entry, 决赛), three judges (one with a declared tie to an
entrant's organization), four accepted entries and one submitted, built with the services."""

from __future__ import annotations

from dataclasses import dataclass

from events.models import Judge
from events.services.competitions import assignment, config, entries, judges, scoring
from events.services.organizations import Scope


@dataclass
class Contest:
    cid: int
    entries: dict[str, int]
    judges: dict[str, Judge]


async def make_contest(organization_id: int, *, title: str = "武创源·2026") -> Contest:
    made = await config.create_competition(
        config.CompetitionInput.model_validate(
            {
                "title": title,
                "tracks": [{"code": "ai", "name": "人工智能"}, {"code": "bio", "name": "生物医药"}],
                "rounds": [
                    {
                        "code": "r1",
                        "name": "初赛",
                        "judges_per_entry": 2,
                        "advance": {"top": 2},
                        "notice_days": 3,
                        "disagreement_gap": 20,
                    },
                    {"code": "r2", "name": "决赛", "judges_per_entry": 1},
                ],
                "criteria": [
                    {"key": "tech", "name": "技术先进性", "weight": 0.6, "max": 100},
                    {"key": "market", "name": "市场价值", "weight": 0.4, "max": 100},
                ],
                "aggregation": "mean",
            }
        ),
        actor="test",
        organization_id=organization_id,
    )
    cid = made.competition.id
    scope = Scope(organization_id)
    found: dict[str, int] = {}
    for title_, track, org in (
        ("光谷量子芯片", "ai", "光谷量子科技有限公司"),
        ("江城细胞治疗", "bio", "江城生物医药有限公司"),
        ("东湖智能驾驶", "ai", "东湖智驾有限公司"),
        ("珞珈新材料", "bio", "珞珈材料研究院"),
        ("待审项目", "ai", "待审公司"),
    ):
        entry = await entries.submit_entry(
            cid,
            entries.EntryInput(title=title_, track=track, leader_name=f"{title_[:2]}负责人", organization=org),
            actor="test",
            scope=scope,
        )
        found[title_] = entry.id
        if title_ != "待审项目":
            await entries.review_entry(cid, entry.id, accept=True, reason=None, scope=scope, actor="test")
    seated: dict[str, Judge] = {}
    for name, org, ties in (
        ("陈评委", "华中科技大学", ["光谷量子科技有限公司"]),
        ("刘评委", "武汉大学", []),
        ("周评委", "湖北省科技厅", []),
    ):
        issued = await judges.add_judge(
            cid, judges.JudgeInput(name=name, organization=org, conflicts=ties), scope=scope, actor="test"
        )
        seated[name] = issued.judge
    return Contest(cid, found, seated)


async def assign_and_score(contest: Contest, organization_id: int) -> None:
    """Run 初赛's assignment and let every judge score every entry they hold."""
    await assignment.assign_round(contest.cid, "r1", scope=Scope(organization_id), actor="test")
    await score_all(contest)


async def score_all(contest: Contest) -> None:
    """Every judge scores every entry they hold in 初赛 (东湖智能驾驶: far apart, a disagreement)."""
    marks = {"光谷量子芯片": 90, "江城细胞治疗": 80, "东湖智能驾驶": 40, "珞珈新材料": 60}
    ids = {v: k for k, v in contest.entries.items()}
    for n, judge in enumerate(contest.judges.values()):
        page = await assignment.assignments_of(contest.cid, "r1", scope=None, judge=judge)
        for a in page.items:
            base = marks[ids[a.entry_id]] + (n * 25 if ids[a.entry_id] == "东湖智能驾驶" else 0)
            await scoring.submit_score(
                contest.cid,
                "r1",
                a.entry_id,
                scoring.ScoreInput(scores={"tech": min(100, base), "market": base - 10}, comment="好"),
                judge=judge,
                actor="test",
            )
