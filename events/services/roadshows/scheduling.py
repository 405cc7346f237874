"""The organizer's batch scheduler: fill a session's remaining slots from interest, fairly.

It reads what exists — participants, their blocked slots, the meetings and pending requests that hold
slots already, interest (``MeetingInterest``, requests made, and ``Connection`` rows between an
investor and an achievement taking part) — hands it to ``planner.plan`` and writes the plan as accepted
meetings (origin ``scheduler``) with their claims, all in one transaction: a request that took a slot
meanwhile makes the insert fail on the claims' unique keys, and the whole run is planned again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from events import clock
from events.errors import ScheduleBusy
from events.models import (
    LIVE_MEETING_STATUSES,
    Activity,
    Connection,
    MeetingClaim,
    MeetingInterest,
    MeetingRequest,
    MeetingSession,
    MeetingSlot,
    MeetingStatus,
    Participant,
    ParticipantRole,
)
from events.services.organizations import Scope
from events.services.roadshows import planner, requests, sessions

ATTEMPTS = 3


class ScheduleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_meetings: Annotated[int, Field(ge=0, le=96)] = Field(
        default=2, description="Every project gets at least this many meetings when the slots allow (fair share)."
    )
    allow_without_interest: bool = Field(
        default=False, description="Also pair projects and investors neither of whom showed interest."
    )
    dry_run: bool = Field(default=False, description="Return the plan without writing it.")


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    created: int
    meetings: list[tuple[int, int, int]]  # (project participant, investor participant, slot)
    quota_bound: int
    short: dict[int, int]
    projects: int
    investors: int
    slots: int


async def interest_weights(event_id: int) -> dict[tuple[int, int], int]:
    """(project, investor) participant pairs → 3 when both sides showed interest, 2 when one side asked to
    meet (约谈 during a pitch), 1 when one side showed interest."""
    people = await Participant.filter(event_id=event_id).values_list("id", "role", "investor_id", "achievement_id")
    role = {pid: r for pid, r, _, _ in people}
    by_investor = {inv: pid for pid, _, inv, _ in people if inv is not None}
    by_achievement = {ach: pid for pid, _, _, ach in people if ach is not None}
    said: set[tuple[int, int]] = set()  # (who, about whom)
    asked_to_meet: set[tuple[int, int]] = set()
    for source, target, strength in await MeetingInterest.filter(event_id=event_id).values_list(
        "source_id", "target_id", "strength"
    ):
        said.add((source, target))
        if strength == "meet":
            asked_to_meet.add((source, target))
    declined: set[frozenset[int]] = set()
    for source, target, status in await MeetingRequest.filter(session__event_id=event_id).values_list(
        "requester_id", "recipient_id", "status"
    ):
        if status == MeetingStatus.DECLINED:
            declined.add(frozenset((source, target)))
        else:
            said.add((source, target))
    if by_investor and by_achievement:
        rows = await Connection.filter(
            investor_id__in=list(by_investor), achievement_id__in=list(by_achievement)
        ).values_list("investor_id", "achievement_id", "requested_by_id")
        person_of = dict(await Participant.filter(event_id=event_id).values_list("id", "person_id"))
        for investor_id, achievement_id, requested_by in rows:
            i, p = by_investor[investor_id], by_achievement[achievement_id]
            if requested_by is None or requested_by == person_of.get(i):
                said.add((i, p))
            if requested_by is None or requested_by == person_of.get(p):
                said.add((p, i))
    weights: dict[tuple[int, int], int] = {}
    for a, b in said:
        project, investor = (a, b) if role.get(a) == ParticipantRole.PROJECT else (b, a)
        if role.get(project) != ParticipantRole.PROJECT or role.get(investor) != ParticipantRole.INVESTOR:
            continue
        if frozenset((project, investor)) in declined:
            continue
        weight = 3 if (b, a) in said else 2 if (a, b) in asked_to_meet else 1
        weights[(project, investor)] = max(weights.get((project, investor), 0), weight)
    return weights


async def _problem(session: MeetingSession, data: ScheduleInput) -> tuple[planner.Problem, dict[int, int]]:
    now = clock.now()
    slots = await MeetingSlot.filter(session_id=session.id, starts_at__gt=now).order_by("number")
    slot_ids = [s.id for s in slots]
    participants = await Participant.filter(event_id=session.event_id).values_list("id", "role", "person_id")
    projects = [pid for pid, role, _ in participants if role == ParticipantRole.PROJECT]
    investors = [pid for pid, role, _ in participants if role == ParticipantRole.INVESTOR]
    person_of = {pid: person for pid, _, person in participants}
    by_person = {person: pid for pid, person in person_of.items()}
    busy: dict[int, set[int]] = defaultdict(set)
    taken_tables: dict[int, int] = defaultdict(int)
    for slot_id, person_id, table_no in await MeetingClaim.filter(slot_id__in=slot_ids).values_list(
        "slot_id", "person_id", "table_no"
    ):
        if person_id is not None and person_id in by_person:
            busy[by_person[person_id]].add(slot_id)
        if table_no is not None:
            taken_tables[slot_id] += 1
    existing: dict[int, int] = defaultdict(int)
    live: set[tuple[int, int]] = set()
    for a, b in await MeetingRequest.filter(session_id=session.id, status__in=LIVE_MEETING_STATUSES).values_list(
        "requester_id", "recipient_id"
    ):
        existing[a] += 1
        existing[b] += 1
        live.add((a, b))
        live.add((b, a))
    weights = await interest_weights(session.event_id)
    pairs = {pair: w for pair, w in weights.items() if pair not in live}
    if data.allow_without_interest:
        for p in projects:
            for i in investors:
                if (p, i) not in live and (p, i) not in pairs:
                    pairs[(p, i)] = 0
    # Pairs someone declined never come back, even cold.
    for a, b in await MeetingRequest.filter(
        session__event_id=session.event_id, status=MeetingStatus.DECLINED
    ).values_list("requester_id", "recipient_id"):
        pairs.pop((a, b), None)
        pairs.pop((b, a), None)
    problem = planner.Problem(
        projects=projects,
        investors=investors,
        slots=slot_ids,
        tables={s: session.tables - taken_tables[s] for s in slot_ids},
        busy=dict(busy),
        existing=dict(existing),
        pairs=pairs,
        min_meetings=data.min_meetings,
    )
    return problem, person_of


async def schedule(event_id: int, session_id: int, data: ScheduleInput, *, scope: Scope, actor: str) -> ScheduleResult:
    """Plan the session's remaining slots and (unless ``dry_run``) book the plan as accepted meetings.
    Raises ``event_not_found``, ``meeting_session_not_found``, ``schedule_busy`` (slots kept changing)."""
    session = await sessions.get_session(event_id, session_id, scope)
    for _ in range(ATTEMPTS):
        await requests.expire_due()
        problem, person_of = await _problem(session, data)
        found = planner.plan(problem)
        result = ScheduleResult(
            created=0, meetings=found.meetings, quota_bound=found.quota_bound, short=found.short,
            projects=len(problem.projects), investors=len(problem.investors), slots=len(problem.slots),
        )  # fmt: skip
        if data.dry_run or not found.meetings:
            return result
        try:
            created = await _write(session, found.meetings, problem, person_of, actor)
        except IntegrityError:
            continue
        return ScheduleResult(
            created=created, meetings=found.meetings, quota_bound=found.quota_bound, short=found.short,
            projects=result.projects, investors=result.investors, slots=result.slots,
        )  # fmt: skip
    raise ScheduleBusy()


async def _write(
    session: MeetingSession,
    meetings: list[tuple[int, int, int]],
    problem: planner.Problem,
    person_of: dict[int, int],
    actor: str,
) -> int:
    now = clock.now()
    taken: dict[int, set[int]] = defaultdict(set)
    for slot_id, table_no in await MeetingClaim.filter(slot_id__in=problem.slots, table_no__isnull=False).values_list(
        "slot_id", "table_no"
    ):
        taken[slot_id].add(table_no)
    async with in_transaction() as conn:
        claims: list[MeetingClaim] = []
        facts: list[Activity] = []
        for project, investor, slot_id in meetings:
            table = next(t for t in range(1, session.tables + 1) if t not in taken[slot_id])
            taken[slot_id].add(table)
            request = await MeetingRequest.create(
                session_id=session.id, slot_id=slot_id, requester_id=project, recipient_id=investor, table_no=table,
                status=MeetingStatus.ACCEPTED, origin="scheduler", decided_at=now, created_by=actor[:100],
                created_at=now, using_db=conn,
            )  # fmt: skip
            claims += [
                MeetingClaim(slot_id=slot_id, person_id=person_of[project], request_id=request.id),
                MeetingClaim(slot_id=slot_id, person_id=person_of[investor], request_id=request.id),
                MeetingClaim(slot_id=slot_id, table_no=table, request_id=request.id),
            ]
            facts.append(
                Activity(
                    kind="meeting.scheduled",
                    actor=actor[:100],
                    event_id=session.event_id,
                    created_at=now,
                    payload={"request_id": request.id, "requester_id": project, "recipient_id": investor},
                )  # fmt: skip
            )
        await MeetingClaim.bulk_create(claims, using_db=conn, batch_size=1000)
        await Activity.bulk_create(facts, using_db=conn, batch_size=1000)
    return len(meetings)
