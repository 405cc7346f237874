"""The competitions demo data (pure tables): the two competitions' shape, entries spread over tracks,
judges with the planted conflicts (checked here with a normalisation written independently of the
conflict service), and the score generator.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from statistics import mean

import pytest

from events import districts
from wuchuang import demo_competition_data as comp


@pytest.fixture(scope="module")
def demo() -> comp.CompetitionDemo:
    return comp.build()


def _org_key(name: str) -> str:
    for suffix in ("集团有限公司", "股份有限公司", "有限公司"):
        name = name.removesuffix(suffix)
    return name[: name.index("大学") + 2] if "大学" in name else name


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[1]


def test_competitions_have_the_brief_shape() -> None:
    hero, wcy = comp.HERO_CUP, comp.WUCHUANGYUAN
    assert len(hero.tracks) == 9 and all(
        t.kind == "district" and districts.is_known(t.district or "") for t in hero.tracks
    )
    assert [(r.name, r.judges_per_entry, r.advance) for r in hero.rounds[:2]] == [
        ("初赛", 3, {"top_per_track": 10}),
        ("复赛", 5, {"top": 33}),
    ]
    assert [(c.name, c.weight, c.max) for c in hero.criteria] == [
        ("技术创新性", 0.30, 10),
        ("市场前景", 0.25, 10),
        ("团队能力", 0.20, 10),
        ("落地条件", 0.15, 10),
        ("社会效益", 0.10, 10),
    ]
    assert sum(t.count for t in hero.award_tiers) == 33
    assert {t.name for t in wcy.award_tiers} == {"引领奖", "突破奖"} and sum(t.count for t in wcy.award_tiers) == 26
    assert all(t.kind == "technology" for t in wcy.tracks)
    assert wcy.rounds[-1].demo_state == "open" and wcy.rounds[0].advance == {"top": 30}
    for spec in comp.COMPETITIONS:
        assert math.isclose(sum(c.weight for c in spec.criteria), 1.0)
        assert spec.aggregation in ("mean", "trimmed_mean", "zscore")
        assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code) for code in [t.code for t in spec.tracks])


def test_entries(demo: comp.CompetitionDemo) -> None:
    per = Counter(e.competition for e in demo.entries)
    assert 250 <= per["hero"] <= 400 and 60 <= per["wuchuangyuan"] <= 120
    assert len({e.key for e in demo.entries}) == len(demo.entries)
    for spec in comp.COMPETITIONS:
        tracks = Counter(e.track for e in demo.entries if e.competition == spec.key)
        assert set(tracks) == {t.code for t in spec.tracks}
        # Enough entries for every round's rule to promote the full number.
        if spec.key == "hero":
            assert min(tracks.values()) >= 10 and sum(tracks.values()) >= 9 * 10
    for e in demo.entries:
        assert e.team[0].name == e.leader_name and 3 <= len(e.team) <= 6
        assert re.fullmatch(r"[a-z.]+@[a-z0-9.-]+\.example\.(org|com|net)", e.contact_email), e.contact_email
        assert 0.2 <= e.quality <= 0.95 and e.summary.count("。") == 3


def test_planted_conflicts_are_what_their_rule_says(demo: comp.CompetitionDemo) -> None:
    judges = {j.key: j for j in demo.judges}
    entries = {e.key: e for e in demo.entries}
    assert 30 <= len(judges) <= 45 and len(judges) == len(demo.judges)
    assert {c.rule for c in demo.conflict_cases} == {
        "same_organization",
        "email_domain",
        "declared_tie",
        "entrant_declared",
    }
    for case in demo.conflict_cases:
        judge, entry = judges[case.judge], entries[case.entry]
        assert entry.competition in judge.competitions
        if case.rule == "same_organization":
            assert judge.organization != entry.organization
            assert _org_key(judge.organization) == _org_key(entry.organization)
        elif case.rule == "email_domain":
            assert _domain(judge.email) == _domain(entry.contact_email)
            assert _org_key(judge.organization) != _org_key(entry.organization)
        elif case.rule == "declared_tie":
            assert entry.organization in judge.conflicts
        else:
            assert judge.organization in entry.declared_ties


def test_scores_follow_quality_and_leniency(demo: comp.CompetitionDemo) -> None:
    rng = random.Random(7)
    criteria = comp.HERO_CUP.criteria
    entries = [e for e in demo.entries if e.competition == "hero"]
    judge = demo.judges[0]
    sheets = [comp.judge_scores(rng, criteria, e, judge) for e in entries]
    for sheet in sheets:
        assert set(sheet) == {c.key for c in criteria}
        assert all(0 <= v <= c.max and round(v, 1) == v for c, v in zip(criteria, sheet.values(), strict=True))
    total = [sum(c.weight * s[c.key] for c in criteria) for s in sheets]
    strong = mean(t for t, e in zip(total, entries, strict=True) if e.quality > 0.65)
    weak = mean(t for t, e in zip(total, entries, strict=True) if e.quality < 0.45)
    assert strong > weak + 1.5
    lenient = comp.JudgeSpec("l", "甲", "某单位", "a@x.example.org", (), (), ("hero",), 0.1, 0.05)
    severe = comp.JudgeSpec("s", "乙", "某单位", "b@x.example.org", (), (), ("hero",), -0.1, 0.05)

    def avg(j: comp.JudgeSpec) -> float:
        return mean(comp.judge_scores(rng, criteria, e, j)["innovation"] for e in entries)

    assert avg(lenient) > avg(severe) + 1.0


def test_the_same_seed_gives_the_same_competitions() -> None:
    assert comp.build() == comp.build()
    assert comp.build(comp.SEED + 1).entries != comp.build().entries
