"""Scoring: one function for the API, the judge page and the bot. Every save is a new version.

The race with closing: a score is written under the round row's lock, and the status is read again
under it; closing takes the same lock, sets the status, and ranks. So a score either commits before the
close (and is in its ranking) or sees the round closed and is refused (``round_closed``), never half.
On PostgreSQL scores take the lock shared (``FOR SHARE``: judges do not queue behind each other) and a
close takes it exclusive; SQLite has one writer at a time anyway.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Subquery
from tortoise.transactions import in_transaction

from events import clock
from events.db import dialect_of
from events.errors import (
    N_,
    ConflictOfInterest,
    EntryNotFound,
    InvalidInput,
    InvalidTransition,
    NotAssigned,
    RoundClosed,
    ScoringNotOpen,
)
from events.models import (
    Activity,
    Assignment,
    AssignmentStatus,
    ConflictRecord,
    Criterion,
    Entry,
    EntryStatus,
    Judge,
    Organization,
    Round,
    RoundStatus,
    ScoreVersion,
)
from events.services.competitions import conflicts
from events.services.competitions.config import Config, ints, load_config
from events.services.competitions.entries import NEVER_RANKED, entry_parties, judge_party


class ScoreInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scores: Annotated[
        dict[Annotated[str, StringConstraints(max_length=32)], Annotated[float, Field(allow_inf_nan=False)]],
        Field(max_length=30, description="A value for every criterion key, each from 0 to the criterion's max."),
    ]
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""
    submit: bool = Field(default=True, description="False saves a draft: kept, but not ranked until submitted.")


async def lock_round(conn: BaseDBAsyncClient, round_id: int, *, shared: bool = False) -> Round:
    """Lock the round row for the rest of the transaction and read it again under the lock. Closing
    takes it exclusive; scores shared (see the module). Raises nothing: the round exists."""
    if dialect_of(conn) == "sqlite":
        await conn.execute_query("UPDATE competition_round SET id = id WHERE id = ?", [round_id])
    else:
        mode = "SHARE" if shared else "UPDATE"
        await conn.execute_query(f"SELECT id FROM competition_round WHERE id = $1 FOR {mode}", [round_id])  # noqa: S608
    return await Round.get(id=round_id, using_db=conn)


def weighted_total(criteria: list[Criterion], values: dict[str, float]) -> float:
    """Σ weight · value over the criteria (exactly summed)."""
    return math.fsum(c.weight * values[c.key] for c in criteria)


def check_values(criteria: list[Criterion], values: dict[str, float]) -> dict[str, float]:
    """The values in criterion order. Raises ``invalid_input`` (field ``scores.<key>``): a missing or
    unknown criterion, a value outside 0..max."""
    keys = {c.key for c in criteria}
    for key in values:
        if key not in keys:
            raise InvalidInput(N_("There is no criterion %(key)s."), field=f"scores.{key[:32]}", key=key[:32])
    checked = {}
    for c in criteria:
        if c.key not in values:
            raise InvalidInput(N_("Give a score for %(name)s."), field=f"scores.{c.key}", name=c.name)
        value = float(values[c.key])
        if not math.isfinite(value) or value < 0 or value > c.max:
            raise InvalidInput(
                N_("The score for %(name)s must be from 0 to %(max)s."),
                field=f"scores.{c.key}",
                name=c.name,
                max=f"{c.max:g}",
            )
        checked[c.key] = value
    return checked


def _refuse_if_closed(rnd: Round) -> None:
    now = clock.now()
    if rnd.status != RoundStatus.OPEN or (rnd.closes_at is not None and now >= rnd.closes_at):
        raise RoundClosed()
    if rnd.opens_at is not None and now < rnd.opens_at:
        raise ScoringNotOpen(opens_at=rnd.opens_at.isoformat())


async def _live_conflict(config: Config, judge: Judge, entry_ids: list[int]) -> str | None:
    """A conflict the rules find now between the judge and one of the entries, first in ``entry_ids``
    order (the judge's or an entry's details may have changed since the assignment), logged in its own
    transaction: the refusal must not take the log with it."""
    if judge.organization_id is not None and not isinstance(judge.organization, Organization):
        await judge.fetch_related("organization")
    facts = await entry_parties(config.competition.id, entry_ids)
    found = conflicts.conflict_pairs({judge.id: judge_party(judge)}, facts)
    if not found:
        return None
    async with in_transaction() as conn:
        await conflicts.log(conn, config.competition.id, found)
    first = next(e for e in entry_ids if (judge.id, e) in found)
    return found[(judge.id, first)][0].rule


@dataclass(frozen=True, slots=True)
class Sheet:
    """One judge's score sheet for one entry (what ``submit_sheets`` takes)."""

    entry_id: int
    data: ScoreInput


class SheetInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    entry_id: Annotated[int, Field(ge=1, lt=2**31)]
    scores: Annotated[
        dict[Annotated[str, StringConstraints(max_length=32)], Annotated[float, Field(allow_inf_nan=False)]],
        Field(max_length=30, description="A value for every criterion key, each from 0 to the criterion's max."),
    ]
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


class SheetsInput(BaseModel):
    """A judge's stack of sheets for a round: all taken, or none."""

    model_config = ConfigDict(extra="forbid")

    sheets: Annotated[list[SheetInput], Field(min_length=1, max_length=500)]
    submit: bool = Field(default=True, description="False saves them all as drafts.")

    def as_sheets(self) -> list[Sheet]:
        return [
            Sheet(s.entry_id, ScoreInput(scores=s.scores, comment=s.comment, submit=self.submit)) for s in self.sheets
        ]


async def submit_score(
    competition_id: int,
    round_code: str,
    entry_id: int,
    data: ScoreInput,
    *,
    judge: Judge,
    actor: str,
    via: str = "api",
) -> ScoreVersion:
    """A new score version of the judge for the entry in the round (a draft when ``submit`` is false).
    Raises ``round_not_found``, ``entry_not_found``, ``invalid_input`` (value outside 0..max, missing or
    unknown criterion), ``conflict_of_interest``, ``not_assigned``, ``round_closed``,
    ``scoring_not_open``, ``invalid_transition`` (a withdrawn or rejected entry).
    """
    saved = await submit_sheets(competition_id, round_code, [Sheet(entry_id, data)], judge=judge, actor=actor, via=via)
    return saved[0]


async def submit_sheets(
    competition_id: int,
    round_code: str,
    sheets: Sequence[Sheet],
    *,
    judge: Judge,
    actor: str,
    via: str = "api",
) -> list[ScoreVersion]:
    """Several sheets of one judge in the round (a judge handing in a stack of paper sheets, the page's
    "submit all", a demo), each checked exactly as ``submit_score`` checks one, written in one
    transaction under the round's lock: all of them, or none when one is refused (the first refusal,
    in sheet order, is raised). Each sheet becomes a new version of its assignment's score and its own
    ``competition.score_saved`` fact. Returns the versions in sheet order. Raises what ``submit_score``
    raises, and ``invalid_input`` (an entry listed twice).
    """
    config = await load_config(competition_id, None)
    rnd = config.round(round_code)
    if not sheets:
        return []
    entry_ids = [s.entry_id for s in sheets]
    if len(set(entry_ids)) != len(entry_ids):
        raise InvalidInput(N_("An entry is listed twice."), field="entry_id")
    values = [check_values(config.criteria, s.data.scores) for s in sheets]
    totals = [weighted_total(config.criteria, v) for v in values]
    known = set(
        ints(await Entry.filter(id__in=entry_ids, competition_id=config.competition.id).values_list("id", flat=True))
    )
    if any(e not in known for e in entry_ids):
        raise EntryNotFound()
    rule = await _live_conflict(config, judge, entry_ids)
    if rule is not None:
        raise ConflictOfInterest(rule=rule)
    async with in_transaction() as conn:
        rnd = await lock_round(conn, rnd.id, shared=True)
        _refuse_if_closed(rnd)
        logged: dict[int, str] = {}
        for entry_id, found_rule in (
            await ConflictRecord.filter(judge_id=judge.id, entry_id__in=entry_ids)
            .using_db(conn)
            .order_by("id")
            .values_list("entry_id", "rule")
        ):
            logged.setdefault(int(entry_id), str(found_rule))
        held = {
            a.entry_id: a
            for a in await Assignment.filter(
                round_id=rnd.id, entry_id__in=entry_ids, judge_id=judge.id, status=AssignmentStatus.ACTIVE
            ).using_db(conn)
        }
        statuses = {
            int(i): EntryStatus(str(s))
            for i, s in await Entry.filter(id__in=entry_ids).using_db(conn).values_list("id", "status")
        }
        for entry_id in entry_ids:
            if entry_id in logged:  # found before, or a recusal
                raise ConflictOfInterest(rule=logged[entry_id])
            if entry_id not in held:
                raise NotAssigned()
            if statuses[entry_id] in NEVER_RANKED:
                raise InvalidTransition(status=statuses[entry_id].value)
        ids = [held[e].id for e in entry_ids]
        # The row locks this UPDATE takes order two saves of one judge for one entry: each gets its own number.
        await Assignment.filter(id__in=ids).using_db(conn).update(last_version=F("last_version") + 1)
        bumped = await Assignment.filter(id__in=ids).using_db(conn).values_list("id", "last_version")
        numbers = {int(i): int(v) for i, v in bumped}
        now = clock.now()
        rows = [
            ScoreVersion(
                assignment_id=assignment_id,
                round_id=rnd.id,
                version=numbers[assignment_id],
                scores=checked,
                total=total,
                comment=sheet.data.comment,
                submitted=sheet.data.submit,
                via=via[:8],
                at=now,
            )
            for assignment_id, sheet, checked, total in zip(ids, sheets, values, totals, strict=True)
        ]
        if len(rows) == 1:
            await rows[0].save(using_db=conn)
        else:
            await ScoreVersion.bulk_create(rows, batch_size=500, using_db=conn)
            made = {
                (v.assignment_id, v.version): v
                for v in await ScoreVersion.filter(assignment_id__in=ids).using_db(conn).order_by("version")
            }
            rows = [made[(r.assignment_id, r.version)] for r in rows]
        await Activity.bulk_create(
            [
                Activity(
                    kind="competition.score_saved",
                    actor=actor,
                    event_id=config.competition.launch_event_id,
                    payload={
                        "competition_id": config.competition.id,
                        "round": rnd.code,
                        "entry_id": entry_id,
                        "judge_id": judge.id,
                        "version": row.version,
                        "submitted": row.submitted,
                    },
                    created_at=now,
                )
                for entry_id, row in zip(entry_ids, rows, strict=True)
            ],
            batch_size=500,
            using_db=conn,
        )
    return rows


@dataclass(frozen=True, slots=True)
class MyScore:
    assignment: Assignment
    latest: ScoreVersion | None  # the judge's last save (a draft or submitted)
    submitted: ScoreVersion | None  # the one ranked


async def my_scores(competition_id: int, round_code: str, *, judge: Judge) -> list[MyScore]:
    """The judge's assignments in the round with their own last saved and last submitted versions
    (never another judge's). Raises ``round_not_found``."""
    config = await load_config(competition_id, None)
    rnd = config.round(round_code)
    assignments = (
        await Assignment.filter(round_id=rnd.id, judge_id=judge.id).order_by("entry_id").select_related("entry__track")
    )
    versions = await ScoreVersion.filter(assignment_id__in=[a.id for a in assignments]).order_by("version")
    latest: dict[int, ScoreVersion] = {}
    submitted: dict[int, ScoreVersion] = {}
    for v in versions:
        latest[v.assignment_id] = v
        if v.submitted:
            submitted[v.assignment_id] = v
    return [MyScore(a, latest.get(a.id), submitted.get(a.id)) for a in assignments]


async def history(assignment_id: int) -> list[ScoreVersion]:
    """Every version of an assignment's score, oldest first (the audit trail)."""
    return await ScoreVersion.filter(assignment_id=assignment_id).order_by("version")


async def unscored(round_id: int) -> int:
    """Active assignments of the round without a submitted score (closing refuses them unless forced)."""
    scored = ScoreVersion.filter(round_id=round_id, submitted=True).values("assignment_id")
    return (
        await Assignment.filter(round_id=round_id, status=AssignmentStatus.ACTIVE)
        .exclude(id__in=Subquery(scored))
        .count()
    )
