"""Competitions: configuration, entries and their review, judges and the conflicts found, assignment,
scoring (judges), the ranking and why an entry ranks where it does.

Organizer routes reach the caller's organization's competitions (another's → 404). Judge routes take a
judge token, which reaches its own competition only (another competition → 404, any other token → 403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from api.auth import Caller, require, require_organizer
from api.deps import Id, presenter
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, Items, Page
from api.schemas.competitions import (
    AssignmentPublic,
    AssignmentRun,
    CompetitionPublic,
    ConflictPublic,
    EntryPublic,
    Explanation,
    JudgeIssued,
    JudgePublic,
    MyScorePublic,
    Ranking,
    RecusalDone,
    ScorePublic,
)
from events.errors import EntryNotFound
from events.models import EntryStatus, Judge, Role
from events.services.competitions import assignment, config, entries, judges, ranking, scoring
from events.services.competitions import conflicts as conflict_log

router = APIRouter(prefix="/api/v1/competitions", tags=["competitions"])

require_judge = require(Role.JUDGE)
require_organizer_or_judge = require(Role.ORGANIZER, Role.JUDGE)

RoundCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=500)]


async def _judge(caller: Caller, competition_id: int) -> Judge:
    assert caller.token is not None
    return await judges.judge_of_token(caller.token, competition_id)


def _created(body: BaseModel, location: str) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json"), status_code=201, headers={"Location": location})


@router.post(
    "",
    status_code=201,
    response_model=CompetitionPublic,
    responses=AUTHED_WRITE,
    summary="Create a competition",
    description="Tracks, rounds (judges per entry, scoring window, advance rule ``top`` / ``top_per_track`` / "
    "``min_score``), criteria (weight and maximum), the aggregation (``mean``; ``trimmed_mean`` drops one highest "
    "and one lowest total when an entry has at least 5; ``zscore`` standardises each judge's totals and rescales "
    "them to the scale), the tie-break keys and award tiers. Codes must be unique, weights and maxima above 0, "
    "``judges_per_entry`` at least 1 (else ``422 invalid_input``). It belongs to the caller's organization.",
)
async def create_competition(
    data: config.CompetitionInput, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> JSONResponse:
    assert caller.acts_for is not None
    made = await config.create_competition(data, actor=caller.actor, organization_id=caller.acts_for)
    return _created(CompetitionPublic.of(show, made), f"/api/v1/competitions/{made.competition.id}")


@router.get(
    "",
    response_model=Page[CompetitionPublic],
    responses=AUTHED,
    summary="List competitions",
    description="The caller's organization's competitions, newest first, a keyset page at a time.",
)
async def list_competitions(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CompetitionPublic]:
    page = await config.competition_page(scope=caller.reach, limit=limit, cursor=cursor)
    made = await config.configs_of(page.items)
    return Page[CompetitionPublic].of(page, [CompetitionPublic.of(show, c) for c in made])


@router.get(
    "/{competition_id}",
    response_model=CompetitionPublic,
    responses=AUTHED,
    summary="Get a competition",
    description="With its tracks, rounds and criteria. Organizers of its organization and its own judges.",
)
async def get_competition(
    competition_id: Id, caller: Caller = Depends(require_organizer_or_judge), show: Presenter = Depends(presenter)
) -> CompetitionPublic:
    if caller.has(Role.ORGANIZER):
        return CompetitionPublic.of(show, await config.load_config(competition_id, caller.reach))
    await _judge(caller, competition_id)
    return CompetitionPublic.of(show, await config.load_config(competition_id))


@router.patch(
    "/{competition_id}",
    response_model=CompetitionPublic,
    responses=AUTHED_WRITE,
    summary="Change a competition",
    description="Only the fields sent change; ``tracks``, ``rounds`` and ``criteria`` replace their lists (matched "
    "by code). Once a score exists the structure (tracks, rounds, criteria, aggregation, tie-break) is fixed: "
    "``409 competition_locked``; the title, texts, events, entry window and award tiers still change.",
)
async def update_competition(
    competition_id: Id,
    patch: config.CompetitionPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> CompetitionPublic:
    changed = await config.update_competition(competition_id, patch, scope=caller.reach, actor=caller.actor)
    return CompetitionPublic.of(show, changed)


@router.post(
    "/{competition_id}/entries",
    status_code=201,
    response_model=EntryPublic,
    responses=AUTHED_WRITE,
    summary="Enter an entry",
    description="An entry in the competition's first round, status ``submitted`` (eligibility review comes next). "
    "``track`` is a track's code. ``declared_ties`` lists organizations the entrant holds shares in or works with: "
    "their judges are never assigned. ``409 entries_closed`` for a finished or cancelled competition.",
)
async def submit_entry(
    competition_id: Id,
    data: entries.EntryInput,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> JSONResponse:
    entry = await entries.submit_entry(competition_id, data, actor=caller.actor, scope=caller.reach)
    return _created(EntryPublic.of(show, entry), f"/api/v1/competitions/{competition_id}/entries/{entry.id}")


@router.get(
    "/{competition_id}/entries",
    response_model=Page[EntryPublic],
    responses=AUTHED,
    summary="List entries",
    description="In order of submission, filtered by status, track code or the round they are in now.",
)
async def list_entries(
    competition_id: Id,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    status: EntryStatus | None = None,
    track: Annotated[str | None, Query(max_length=32)] = None,
    round: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[EntryPublic]:
    page = await entries.entry_page(
        competition_id,
        scope=caller.reach,
        status=status,
        track=track or None,
        round_code=round or None,
        limit=limit,
        cursor=cursor,
    )
    return Page[EntryPublic].of(page, [EntryPublic.of(show, e) for e in page.items])


@router.get(
    "/{competition_id}/entries/{entry_id}",
    response_model=EntryPublic,
    responses=AUTHED,
    summary="Get an entry",
    description="An entry of the caller's organization's competition.",
)
async def get_entry(
    competition_id: Id, entry_id: Id, caller: Caller = Depends(require_organizer), show: Presenter = Depends(presenter)
) -> EntryPublic:
    return EntryPublic.of(show, await entries.get_entry(competition_id, entry_id, caller.reach))


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Annotated[str, StringConstraints(pattern="^(accept|reject)$")]
    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None


class WithdrawBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None


@router.post(
    "/{competition_id}/entries/{entry_id}/review",
    response_model=EntryPublic,
    responses=AUTHED_WRITE,
    summary="Review an entry's eligibility",
    description="``accept`` (``submitted`` or ``rejected`` → ``accepted``) or ``reject`` with a reason "
    "(``submitted`` or a not yet scored ``accepted`` → ``rejected``); else ``409 invalid_transition``. The "
    "entrant is told.",
)
async def review_entry(
    competition_id: Id,
    entry_id: Id,
    body: ReviewBody,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> EntryPublic:
    entry = await entries.review_entry(
        competition_id,
        entry_id,
        accept=body.decision == "accept",
        reason=body.reason,
        scope=caller.reach,
        actor=caller.actor,
    )
    return EntryPublic.of(show, entry)


@router.post(
    "/{competition_id}/entries/{entry_id}/withdraw",
    response_model=EntryPublic,
    responses=AUTHED_WRITE,
    summary="Withdraw an entry",
    description="From then on it is never ranked (the next-ranked entry moves up). ``409 invalid_transition`` "
    "when already withdrawn, rejected or eliminated. The entrant is told.",
)
async def withdraw_entry(
    competition_id: Id,
    entry_id: Id,
    body: Annotated[WithdrawBody | None, Body()] = None,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
) -> EntryPublic:
    entry = await entries.withdraw_entry(
        competition_id, entry_id, reason=body.reason if body else None, actor=caller.actor, scope=caller.reach
    )
    return EntryPublic.of(show, entry)


@router.post(
    "/{competition_id}/judges",
    status_code=201,
    response_model=JudgeIssued,
    responses=AUTHED_WRITE,
    summary="Add a judge",
    description="A judge with their organization, contact, expertise and declared conflicts (organizations). The "
    "answer holds the judge's token, scoped to this competition, shown only now. Conflicts with the entries "
    "already in are found and logged at once.",
)
async def add_judge(
    competition_id: Id, data: judges.JudgeInput, caller: Caller = Depends(require_organizer)
) -> JSONResponse:
    issued = await judges.add_judge(competition_id, data, scope=caller.reach, actor=caller.actor)
    return _created(
        JudgeIssued(id=issued.judge.id, token=issued.token),
        f"/api/v1/competitions/{competition_id}/judges/{issued.judge.id}",
    )


@router.get(
    "/{competition_id}/judges",
    response_model=Page[JudgePublic],
    responses=AUTHED,
    summary="List judges",
    description="The competition's judges (never their tokens), in the order they were added.",
)
async def list_judges(
    competition_id: Id, caller: Caller = Depends(require_organizer), limit: Limit = 50, cursor: Cursor = None
) -> Page[JudgePublic]:
    page = await judges.judge_page(competition_id, scope=caller.reach, limit=limit, cursor=cursor)
    return Page[JudgePublic].of(page, [JudgePublic.of(j) for j in page.items])


@router.get(
    "/{competition_id}/conflicts",
    response_model=Page[ConflictPublic],
    responses=AUTHED,
    summary="The conflicts of interest found",
    description="Every judge–entry conflict found, by which rule (``declared_tie``, ``same_organization``, "
    "``email_domain``, ``entrant_declared``, ``recusal``) and what matched.",
)
async def list_conflicts(
    competition_id: Id,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    judge_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ConflictPublic]:
    found = await config.owned_competition(competition_id, caller.reach)
    page = await conflict_log.conflict_page(found.id, judge_id=judge_id, limit=limit, cursor=cursor)
    return Page[ConflictPublic].of(page, [ConflictPublic.of(show, c) for c in page.items])


@router.post(
    "/{competition_id}/rounds/{round}/assignments",
    response_model=AssignmentRun,
    responses=AUTHED_WRITE,
    summary="Assign judges to the round's entries",
    description="Gives each entry in play in the round ``judges_per_entry`` judges, never a conflicted one, with "
    "the judges' loads balanced and expertise fit preferred. Assignments already made are kept (a re-run fills "
    "gaps). Entries that cannot get enough conflict-free judges are listed in ``infeasible``. "
    "``409 round_closed`` once the round is closed.",
)
async def assign_round(
    competition_id: Id, round: RoundCode, caller: Caller = Depends(require_organizer)
) -> AssignmentRun:
    report = await assignment.assign_round(competition_id, round, scope=caller.reach, actor=caller.actor)
    return AssignmentRun.of(report)


@router.get(
    "/{competition_id}/rounds/{round}/assignments",
    response_model=Page[AssignmentPublic],
    responses=AUTHED,
    summary="The round's assignments",
    description="Organizers see all; a judge sees their own.",
)
async def list_assignments(
    competition_id: Id,
    round: RoundCode,
    caller: Caller = Depends(require_organizer_or_judge),
    show: Presenter = Depends(presenter),
    limit: Limit = 200,
    cursor: Cursor = None,
) -> Page[AssignmentPublic]:
    if caller.has(Role.ORGANIZER):
        page = await assignment.assignments_of(
            competition_id, round, scope=caller.reach, judge=None, limit=limit, cursor=cursor
        )
    else:
        judge = await _judge(caller, competition_id)
        page = await assignment.assignments_of(
            competition_id, round, scope=None, judge=judge, limit=limit, cursor=cursor
        )
    return Page[AssignmentPublic].of(page, [AssignmentPublic.of(show, a) for a in page.items])


@router.put(
    "/{competition_id}/rounds/{round}/entries/{entry_id}/score",
    response_model=ScorePublic,
    responses=AUTHED_WRITE,
    summary="Score an entry (judge)",
    description="A value for every criterion, from 0 to its maximum, and an optional comment. Replaces the judge's "
    "earlier score for the entry until the round closes; every version is kept. ``403 conflict_of_interest``, "
    "``403 not_assigned``, ``422 invalid_input`` (a value outside 0..max, a missing or unknown criterion; "
    "``field`` names it), ``409 round_closed``. ``submit: false`` saves a draft that does not rank yet.",
)
async def score_entry(
    competition_id: Id,
    round: RoundCode,
    entry_id: Id,
    data: scoring.ScoreInput,
    caller: Caller = Depends(require_judge),
    show: Presenter = Depends(presenter),
) -> ScorePublic:
    judge = await _judge(caller, competition_id)
    saved = await scoring.submit_score(competition_id, round, entry_id, data, judge=judge, actor=caller.actor)
    return ScorePublic.of(show, entry_id, saved)


@router.put(
    "/{competition_id}/rounds/{round}/scores",
    response_model=Items[ScorePublic],
    responses=AUTHED_WRITE,
    summary="Score several entries at once (judge)",
    description="A judge's stack of sheets for the round (``sheets``: each an ``entry_id`` with ``scores`` and an "
    "optional ``comment``), each checked as the single score is, written together: all of them, or none when one "
    "is refused (the first refusal in sheet order is the answer: ``403 conflict_of_interest``, ``403 not_assigned``, "
    "``422 invalid_input`` with its ``field``, ``409 round_closed``; an entry listed twice is ``422``). Each sheet "
    "is a new version of that entry's score. ``submit: false`` saves them as drafts.",
)
async def score_entries(
    competition_id: Id,
    round: RoundCode,
    data: scoring.SheetsInput,
    caller: Caller = Depends(require_judge),
    show: Presenter = Depends(presenter),
) -> Items[ScorePublic]:
    judge = await _judge(caller, competition_id)
    sheets = data.as_sheets()
    saved = await scoring.submit_sheets(competition_id, round, sheets, judge=judge, actor=caller.actor)
    return Items[ScorePublic](items=[ScorePublic.of(show, s.entry_id, v) for s, v in zip(sheets, saved, strict=True)])


@router.get(
    "/{competition_id}/rounds/{round}/my-scores",
    response_model=Page[MyScorePublic],
    responses=AUTHED,
    summary="A judge's own scores",
    description="The judge's assignments in the round with their last save and the version that counts; never "
    "another judge's scores. One page (a judge's load is small).",
)
async def my_scores(
    competition_id: Id,
    round: RoundCode,
    caller: Caller = Depends(require_judge),
    show: Presenter = Depends(presenter),
) -> Page[MyScorePublic]:
    judge = await _judge(caller, competition_id)
    mine = await scoring.my_scores(competition_id, round, judge=judge)
    return Page[MyScorePublic](items=[MyScorePublic.of(show, m) for m in mine], next_cursor=None, total=len(mine))


class RecuseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


@router.post(
    "/{competition_id}/rounds/{round}/entries/{entry_id}/recuse",
    response_model=RecusalDone,
    responses=AUTHED_WRITE,
    summary="Step aside from an entry (judge)",
    description="The judge recuses (回避) with a reason: the assignment ends, the recusal is logged as a conflict, "
    "and a free judge without conflicts takes the entry over at once when there is one. ``403 not_assigned``, "
    "``409 already_recused``, ``409 round_closed``.",
)
async def recuse(
    competition_id: Id,
    round: RoundCode,
    entry_id: Id,
    body: RecuseBody,
    caller: Caller = Depends(require_judge),
) -> RecusalDone:
    judge = await _judge(caller, competition_id)
    done = await assignment.recuse(competition_id, round, entry_id, judge=judge, reason=body.reason, actor=caller.actor)
    return RecusalDone(
        entry_id=entry_id,
        status=done.assignment.status,
        replacement_judge_id=done.replacement.judge_id if done.replacement else None,
    )


@router.get(
    "/{competition_id}/rounds/{round}/ranking",
    response_model=Ranking,
    responses=AUTHED,
    summary="The round's ranking",
    description="Every entry of the round, best first: ``score`` is the aggregation of the judges' weighted totals "
    "(Σ weight · value), ``rank`` over the round and ``track_rank`` within the track (equal on score and every "
    "tie-break key: one rank). ``advanced``: what the close decided, or while the round is open what the advance "
    "rule would do now (``preview``). ``disagreement`` flags a spread above the round's gap.",
)
async def round_ranking(
    competition_id: Id,
    round: RoundCode,
    caller: Caller = Depends(require_organizer),
    track: Annotated[str | None, Query(max_length=32)] = None,
) -> Ranking:
    result = await ranking.round_ranking(competition_id, round, scope=caller.reach)
    items = [r for r in result.items if track is None or r.track == track]
    return Ranking.of(result, items)


@router.get(
    "/{competition_id}/rounds/{round}/entries/{entry_id}/explain",
    response_model=Explanation,
    responses=AUTHED,
    summary="Why an entry ranks where it does",
    description="Each judge's total, what entered the average (rescaled for ``zscore``) and what was dropped "
    "(``trimmed_mean``), the median and spread the tie-break and the disagreement flag read, and the advance rule.",
)
async def explain_entry(
    competition_id: Id, round: RoundCode, entry_id: Id, caller: Caller = Depends(require_organizer)
) -> Explanation:
    result = await ranking.round_ranking(competition_id, round, scope=caller.reach)
    found = next((r for r in result.items if r.entry_id == entry_id), None)
    if found is None:
        raise EntryNotFound()
    return Explanation.of(result, found)
