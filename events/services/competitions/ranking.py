"""Ranking: a pure function of the current scores and the round's rule (``rank``), and a loader
around it (``round_ranking``).

- A judge's *total* for an entry is Σ weight · value over the criteria (their current submitted version).
- ``mean``: the entry's score is the mean of its totals.
- ``trimmed_mean``: with at least 5 totals, one highest and one lowest are dropped (the lowest and the
  highest by (total, judge id), so which one is dropped is fixed), then the mean; below 5, the mean.
- ``zscore``: each judge's totals are standardised over that judge's own scored entries of the round,
  z = (t − μ_j) / σ_j (population σ; z = 0 when the judge gave one score or all equal), then put back on
  the round's scale as μ + σ · z, where μ and σ are the mean and population σ of every total of the
  round, clamped to [0, scale]; the entry's score is the mean of these. A severe and a lenient judge
  then count alike, and the score still reads in points.
- Disagreement: the spread (highest − lowest total) above the round's gap flags the entry for re-review.
- Order: score, higher first; then the competition's tie-break keys (``median`` of the totals higher
  first, ``scores_count`` more first, ``earliest_submission`` the entry submitted earlier first,
  ``highest_min`` the higher lowest total first). Entries equal on all of them share a rank (1, 2, 2,
  4); entries without scores come last, unranked. ``track_rank`` is the same within the entry's track.
- The advance rule (``advancing``): of the ranked entries scoring at least ``min_score``, those with
  rank ≤ ``top`` and those with track rank ≤ ``top_per_track`` (ties at the line go through together).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events.models import (
    AdvanceHow,
    Aggregation,
    Assignment,
    AssignmentStatus,
    Entry,
    Judge,
    Round,
    RoundAdvance,
    ScoreVersion,
)
from events.services.competitions.config import Config, ints, load_config
from events.services.competitions.entries import in_round_filter
from events.services.organizations import Scope

# Scores are compared rounded: float sums of the same marks in another order must tie.
_DIGITS = 9


@dataclass(frozen=True, slots=True)
class JudgeScore:
    entry_id: int
    judge_id: int
    total: float
    at: datetime


@dataclass(frozen=True, slots=True)
class EntryFacts:
    entry_id: int
    track: str
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class Part:
    """One judge's total in an entry's score, and what the aggregation made of it."""

    judge_id: int
    total: float
    counted: float  # the value averaged (zscore: rescaled; else the total)
    dropped: bool  # trimmed_mean: the highest or the lowest, left out


@dataclass(frozen=True, slots=True)
class Ranked:
    entry_id: int
    track: str
    score: float | None
    scores_count: int
    rank: int | None
    track_rank: int | None
    disagreement: bool
    spread: float | None
    median: float | None
    parts: list[Part] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rule:
    aggregation: Aggregation
    scale: float  # Σ weight · max: the highest total
    tie_break: list[str]
    gap: float | None = None


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _zscores(scores: list[JudgeScore], scale: float) -> dict[tuple[int, int], float]:
    """(judge, entry) → the judge's total standardised over the judge's totals and rescaled."""
    if not scores:
        return {}
    everything = [s.total for s in scores]
    mu = _mean(everything)
    sigma = statistics.pstdev(everything, mu) if len(everything) > 1 else 0.0
    per_judge: dict[int, list[JudgeScore]] = defaultdict(list)
    for s in scores:
        per_judge[s.judge_id].append(s)
    out = {}
    for judge_id, mine in per_judge.items():
        totals = [s.total for s in mine]
        m = _mean(totals)
        sd = statistics.pstdev(totals, m) if len(totals) > 1 else 0.0
        for s in mine:
            z = (s.total - m) / sd if sd > 0 else 0.0
            out[(judge_id, s.entry_id)] = min(max(mu + sigma * z, 0.0), scale)
    return out


def _aggregate(rule: Rule, mine: list[JudgeScore], z: dict[tuple[int, int], float]) -> tuple[float, list[Part]]:
    ordered = sorted(mine, key=lambda s: (s.total, s.judge_id))
    dropped: set[int] = set()
    if rule.aggregation == Aggregation.TRIMMED_MEAN and len(ordered) >= 5:
        dropped = {ordered[0].judge_id, ordered[-1].judge_id}
    parts = []
    for s in ordered:
        counted = z[(s.judge_id, s.entry_id)] if rule.aggregation == Aggregation.ZSCORE else s.total
        parts.append(Part(s.judge_id, s.total, counted, s.judge_id in dropped))
    score = _mean([p.counted for p in parts if not p.dropped])
    return score, parts


TIE_BREAKS: dict[str, Callable[[Ranked, EntryFacts], Any]] = {
    # Sort keys, ascending: negate what is better when higher.
    "median": lambda r, e: -(r.median or 0.0),
    "scores_count": lambda r, e: -r.scores_count,
    "earliest_submission": lambda r, e: e.submitted_at.timestamp(),
    "highest_min": lambda r, e: -min((p.total for p in r.parts), default=0.0),
}


def _ranks(items: list[Ranked], facts: dict[int, EntryFacts], tie_break: list[str]) -> dict[int, int]:
    """Entry id → competition rank (1, 2, 2, 4) over the scored items."""

    def key(r: Ranked) -> tuple[Any, ...]:
        assert r.score is not None
        e = facts[r.entry_id]
        return (-round(r.score, _DIGITS), *(round(TIE_BREAKS[t](r, e), _DIGITS) for t in tie_break))

    scored = sorted((r for r in items if r.score is not None), key=lambda r: (key(r), r.entry_id))
    ranks: dict[int, int] = {}
    previous: tuple[Any, ...] | None = None
    for position, r in enumerate(scored, start=1):
        k = key(r)
        ranks[r.entry_id] = ranks[scored[position - 2].entry_id] if previous == k else position
        previous = k
    return ranks


def rank(entries: list[EntryFacts], scores: list[JudgeScore], rule: Rule) -> list[Ranked]:
    """Rank the entries by their aggregated scores (pure; see the module for every rule). Best first,
    unscored entries last in id order."""
    facts = {e.entry_id: e for e in entries}
    scores = [s for s in scores if s.entry_id in facts]
    z = _zscores(scores, rule.scale) if rule.aggregation == Aggregation.ZSCORE else {}
    by_entry: dict[int, list[JudgeScore]] = defaultdict(list)
    for s in scores:
        by_entry[s.entry_id].append(s)
    first: list[Ranked] = []
    for e in entries:
        mine = by_entry.get(e.entry_id, [])
        if not mine:
            first.append(Ranked(e.entry_id, e.track, None, 0, None, None, False, None, None))
            continue
        score, parts = _aggregate(rule, mine, z)
        totals = [s.total for s in mine]
        spread = max(totals) - min(totals)
        first.append(
            Ranked(
                entry_id=e.entry_id,
                track=e.track,
                score=round(score, _DIGITS),
                scores_count=len(mine),
                rank=None,
                track_rank=None,
                disagreement=rule.gap is not None and len(mine) > 1 and spread > rule.gap,
                spread=round(spread, _DIGITS),
                median=statistics.median(totals),
                parts=parts,
            )
        )
    overall = _ranks(first, facts, rule.tie_break)
    per_track: dict[int, int] = {}
    tracks: dict[str, list[Ranked]] = defaultdict(list)
    for r in first:
        tracks[r.track].append(r)
    for items in tracks.values():
        per_track |= _ranks(items, facts, rule.tie_break)
    done = [
        Ranked(
            r.entry_id,
            r.track,
            r.score,
            r.scores_count,
            overall.get(r.entry_id),
            per_track.get(r.entry_id),
            r.disagreement,
            r.spread,
            r.median,
            r.parts,
        )
        for r in first
    ]
    done.sort(key=lambda r: (r.rank is None, r.rank or 0, r.entry_id))
    return done


def advancing(ranked: list[Ranked], advance: dict[str, Any]) -> set[int]:
    """The entries the advance rule takes through (pure; see the module)."""
    top, per_track, floor = advance.get("top"), advance.get("top_per_track"), advance.get("min_score")
    chosen: set[int] = set()
    for r in ranked:
        if r.score is None or r.rank is None or (floor is not None and r.score < floor):
            continue
        if top is None and per_track is None:
            if floor is not None:
                chosen.add(r.entry_id)
            continue
        if (top is not None and r.rank <= top) or (
            per_track is not None and r.track_rank is not None and r.track_rank <= per_track
        ):
            chosen.add(r.entry_id)
    return chosen


def rule_of(config: Config, rnd: Round) -> Rule:
    return Rule(
        aggregation=Aggregation(config.competition.aggregation),
        scale=config.scale,
        tie_break=config.tie_break,
        gap=rnd.disagreement_gap,
    )


async def current_scores(round_id: int) -> list[JudgeScore]:
    """Each active assignment's highest submitted version in the round (drafts and recused or replaced
    assignments do not count)."""
    rows = (
        await ScoreVersion.filter(round_id=round_id, submitted=True, assignment__status=AssignmentStatus.ACTIVE)
        .order_by("assignment_id", "version")
        .values_list("assignment_id", "assignment__entry_id", "assignment__judge_id", "total", "at")
    )
    latest: dict[int, JudgeScore] = {}
    for assignment_id, entry_id, judge_id, total, at in rows:
        latest[int(assignment_id)] = JudgeScore(int(entry_id), int(judge_id), float(total), at)
    return list(latest.values())


@dataclass(frozen=True, slots=True)
class RoundRanking:
    config: Config
    round: Round
    items: list[Ranked]
    advanced: dict[int, AdvanceHow]  # after a close: what it decided (revoked left out); before: the preview
    preview: bool
    titles: dict[int, str]
    judges: dict[int, str]  # judge id → name (the explanation names them; organizers only)


async def round_ranking(
    competition_id: int, round_code: str, *, scope: Scope | None, aggregation: Aggregation | None = None
) -> RoundRanking:
    """The round's ranking now. ``advanced`` is what the close decided once there was one, else the
    rule's preview. ``aggregation`` ranks by another aggregation than the competition's, to compare (a
    what-if: the close always ranks by the competition's own). Raises ``competition_not_found``,
    ``round_not_found``."""
    config = await load_config(competition_id, scope)
    rnd = config.round(round_code)
    entries = await Entry.filter(in_round_filter(rnd), competition_id=config.competition.id).values_list(
        "id", "track__code", "created_at", "title"
    )
    facts = [EntryFacts(int(i), str(t), at) for i, t, at, _ in entries]
    rule = rule_of(config, rnd)
    if aggregation is not None:
        rule = Rule(aggregation, rule.scale, rule.tie_break, rule.gap)
    ranked = rank(facts, await current_scores(rnd.id), rule)
    decided = await RoundAdvance.filter(round_id=rnd.id, revoked_at=None).values_list("entry_id", "how")
    if decided or rnd.closed_at is not None:
        advanced = {int(e): AdvanceHow(h) for e, h in decided}
        preview = False
    else:
        advanced = dict.fromkeys(advancing(ranked, rnd.advance or {}), AdvanceHow.RULE)
        preview = True
    judge_ids = {p.judge_id for r in ranked for p in r.parts}
    judges = dict(await Judge.filter(id__in=judge_ids).values_list("id", "name")) if judge_ids else {}
    return RoundRanking(
        config=config,
        round=rnd,
        items=ranked,
        advanced=advanced,
        preview=preview,
        titles={int(i): str(title) for i, _, _, title in entries},
        judges={int(k): str(v) for k, v in judges.items()},
    )


async def assigned_count(round_id: int) -> dict[int, int]:
    """Entry id → active assignments in the round (a scoreboard shows a score once all have come in)."""
    counts: dict[int, int] = defaultdict(int)
    for entry_id in ints(
        await Assignment.filter(round_id=round_id, status=AssignmentStatus.ACTIVE).values_list("entry_id", flat=True)
    ):
        counts[entry_id] += 1
    return dict(counts)
