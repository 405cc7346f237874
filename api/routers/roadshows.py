"""Roadshows and fairs: meeting sessions, participants, 1:1 meeting requests, the batch scheduler and the
funnel. Organizers act for their own organization's events (another's is ``404``) and answer requests on
a participant's behalf; people answer in the bot. Every rule is in ``events.services.roadshows``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.auth import Caller, require_organizer
from api.deps import Id
from api.schemas.common import AUTHED, AUTHED_WRITE, Page
from api.schemas.roadshows import (
    FunnelPublic,
    InterestPublic,
    LineupPublic,
    MeetingPublic,
    OnStagePublic,
    OutcomePublic,
    ParticipantList,
    ParticipantPublic,
    PitchAnswerPublic,
    PitchInterestPublic,
    PitchPublic,
    ScheduleResultPublic,
    SessionList,
    SessionPublic,
    UnavailablePublic,
)
from events.models import MeetingStatus, ParticipantRole
from events.services.roadshows import lineup, outcomes, pitch_interest, requests, scheduling, sessions
from events.services.roadshows.requests import Acting

router = APIRouter(tags=["roadshows"])
ROADSHOW = "/api/v1/roadshows/{event_id}"


@router.post(
    ROADSHOW + "/sessions",
    status_code=201,
    response_model=SessionPublic,
    responses=AUTHED_WRITE,
    summary="Add a meeting session",
    description="A block of 1:1 meetings at a roadshow or fair, cut into slots of ``slot_minutes`` (15, 20, 30) with "
    "``tables`` meetings at once. ``409 not_a_roadshow`` for another kind of event; sessions of one event never "
    "overlap (``422``).",
)
async def create_session(
    event_id: Id, data: sessions.SessionInput, caller: Caller = Depends(require_organizer)
) -> JSONResponse:
    session = await sessions.create_session(event_id, data, scope=caller.reach, actor=caller.actor)
    body = SessionPublic.of(session, await sessions.slot_loads(session)).model_dump(mode="json")
    return JSONResponse(body, status_code=201, headers={"Location": f"{ROADSHOW.format(event_id=event_id)}/sessions"})


@router.get(
    ROADSHOW + "/sessions",
    response_model=SessionList,
    responses=AUTHED,
    summary="List meeting sessions",
    description="The event's sessions in time order, each slot with its meetings, pending requests and free tables.",
)
async def list_sessions(event_id: Id, caller: Caller = Depends(require_organizer)) -> SessionList:
    found = await sessions.list_sessions(event_id, caller.reach)
    return SessionList(items=[SessionPublic.of(s, await sessions.slot_loads(s)) for s in found])


@router.post(
    ROADSHOW + "/participants",
    status_code=201,
    response_model=ParticipantPublic,
    responses=AUTHED_WRITE,
    summary="Add a participant",
    description="Someone who takes meetings: an investor (``investor_id``), a project (``achievement_id``, "
    "``entry_id`` or a company by ``organization``) or a guest, with the person who takes the meetings "
    "(``person_id``, defaulting to the record's person). ``409 already_participant``.",
)
async def add_participant(
    event_id: Id, data: sessions.ParticipantInput, caller: Caller = Depends(require_organizer)
) -> JSONResponse:
    made = await sessions.add_participant(event_id, data, scope=caller.reach, actor=caller.actor)
    found = await sessions.get_participant(event_id, made.id, caller.reach)
    return JSONResponse(ParticipantPublic.of(found).model_dump(mode="json"), status_code=201)


@router.get(
    ROADSHOW + "/participants",
    response_model=ParticipantList,
    responses=AUTHED,
    summary="List participants",
    description="The event's participants, optionally of one ``role``.",
)
async def list_participants(
    event_id: Id, caller: Caller = Depends(require_organizer), role: ParticipantRole | None = None
) -> ParticipantList:
    found = await sessions.list_participants(event_id, caller.reach, role)
    return ParticipantList(items=[ParticipantPublic.of(p) for p in found])


@router.post(
    ROADSHOW + "/sessions/{session_id}/schedule",
    response_model=ScheduleResultPublic,
    responses=AUTHED_WRITE,
    summary="Fill the session's slots",
    description="The batch scheduler: books accepted meetings in the remaining slots from mutual, then one-sided "
    "interest (and every pair with ``allow_without_interest``), honouring blocked slots, meetings and pending "
    "requests, giving every project at least ``min_meetings`` when the slots allow. ``dry_run`` only plans.",
)
async def schedule(
    event_id: Id, session_id: Id, data: scheduling.ScheduleInput, caller: Caller = Depends(require_organizer)
) -> ScheduleResultPublic:
    result = await scheduling.schedule(event_id, session_id, data, scope=caller.reach, actor=caller.actor)
    return ScheduleResultPublic.of(result)


@router.get(
    ROADSHOW + "/funnel",
    response_model=FunnelPublic,
    responses=AUTHED,
    summary="The roadshow's funnel",
    description="Interest → requests → meetings → held → rated → positive (有合作可能) → signed (已签约), with the "
    "contracts recorded from follow-ups.",
)
async def funnel(event_id: Id, caller: Caller = Depends(require_organizer)) -> FunnelPublic:
    return FunnelPublic.of(await outcomes.funnel(event_id, caller.reach))


@router.get(
    ROADSHOW + "/meetings",
    response_model=Page[MeetingPublic],
    responses=AUTHED,
    summary="List meetings and requests",
    description="Oldest first, filtered by ``status``, ``session_id``, ``participant_id``; keyset pages.",
)
async def list_meetings(
    event_id: Id,
    caller: Caller = Depends(require_organizer),
    status: MeetingStatus | None = None,
    session_id: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
    participant_id: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[MeetingPublic]:
    await sessions.roadshow(event_id, caller.reach)
    found = requests.MeetingFilter(status=status, session_id=session_id, participant_id=participant_id)
    page = await requests.list_requests(event_id, found, limit=limit, cursor=cursor)
    return Page[MeetingPublic].of(page, [MeetingPublic.of(r) for r in page.items])


@router.post(
    "/api/v1/meetings",
    status_code=201,
    response_model=MeetingPublic,
    responses=AUTHED_WRITE,
    summary="Request a meeting",
    description="On a participant's behalf: a meeting in ``slot_id`` with another participant of the same event. "
    "It holds the slot for both and a table until answered or expired. ``409 slot_taken`` (either is booked then, "
    "also when two requests race), ``no_table_free``, ``slot_passed``, ``already_requested``; ``422`` asking "
    "oneself or someone outside the session.",
)
async def request_meeting(
    data: requests.MeetingRequestInput, caller: Caller = Depends(require_organizer)
) -> JSONResponse:
    made = await requests.request_meeting(data, actor=caller.actor, scope=caller.reach)
    found = await requests.get_request(made.id)
    return JSONResponse(
        MeetingPublic.of(found).model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/api/v1/meetings/{made.id}"},
    )


@router.get(
    "/api/v1/meetings/{meeting_id}",
    response_model=MeetingPublic,
    responses=AUTHED,
    summary="Read a meeting or request",
    description="One request (a meeting once accepted) of your organization's events.",
)
async def get_meeting(meeting_id: Id, caller: Caller = Depends(require_organizer)) -> MeetingPublic:
    return MeetingPublic.of(await requests.get_request(meeting_id, scope=caller.reach))


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=500)] = ""


def _acting(caller: Caller) -> Acting:
    return Acting(actor=caller.actor, scope=caller.reach)


@router.post(
    "/api/v1/meetings/{meeting_id}/accept",
    response_model=MeetingPublic,
    responses=AUTHED_WRITE,
    summary="Accept a request",
    description="On the recipient's behalf. ``409 request_not_pending`` (withdrawn, declined, accepted already — "
    "also the second of two accepts at once), ``request_expired``.",
)
async def accept(meeting_id: Id, caller: Caller = Depends(require_organizer)) -> MeetingPublic:
    await requests.get_request(meeting_id, scope=caller.reach)
    return MeetingPublic.of(await requests.accept(meeting_id, _acting(caller)))


@router.post(
    "/api/v1/meetings/{meeting_id}/decline",
    response_model=MeetingPublic,
    responses=AUTHED_WRITE,
    summary="Decline a request",
    description="On the recipient's behalf; the slot is free again for both. The scheduler never pairs them again.",
)
async def decline(
    meeting_id: Id, body: Reason | None = None, caller: Caller = Depends(require_organizer)
) -> MeetingPublic:
    await requests.get_request(meeting_id, scope=caller.reach)
    reason = body.reason if body else ""
    return MeetingPublic.of(await requests.decline(meeting_id, _acting(caller), reason=reason))


@router.post(
    "/api/v1/meetings/{meeting_id}/withdraw",
    response_model=MeetingPublic,
    responses=AUTHED_WRITE,
    summary="Withdraw a request",
    description="On the requester's behalf, before an answer; the slot is free again for both.",
)
async def withdraw(meeting_id: Id, caller: Caller = Depends(require_organizer)) -> MeetingPublic:
    await requests.get_request(meeting_id, scope=caller.reach)
    return MeetingPublic.of(await requests.withdraw(meeting_id, _acting(caller)))


@router.post(
    "/api/v1/meetings/{meeting_id}/cancel",
    response_model=MeetingPublic,
    responses=AUTHED_WRITE,
    summary="Cancel a meeting",
    description="An accepted meeting that has not begun is called off; the slot is free again.",
)
async def cancel(
    meeting_id: Id, body: Reason | None = None, caller: Caller = Depends(require_organizer)
) -> MeetingPublic:
    await requests.get_request(meeting_id, scope=caller.reach)
    reason = body.reason if body else ""
    return MeetingPublic.of(await requests.cancel(meeting_id, _acting(caller), reason=reason))


@router.post(
    "/api/v1/meetings/{meeting_id}/rating",
    response_model=OutcomePublic,
    responses=AUTHED_WRITE,
    summary="Rate a meeting",
    description="On one side's behalf, after the meeting has begun: ``no_show`` 没见成, ``low_interest`` 兴趣不足, "
    "``useful`` 有收获但暂无合作, ``promising`` 有合作可能. A second rating by the same side replaces the first. "
    "``409 meeting_not_held`` (not accepted, or not begun yet); ``422`` a participant not in the meeting.",
)
async def rate(
    meeting_id: Id, data: outcomes.RatingInput, caller: Caller = Depends(require_organizer)
) -> OutcomePublic:
    return OutcomePublic.of(await outcomes.rate(meeting_id, data.participant_id, data.rating, _acting(caller)))


@router.post(
    "/api/v1/meetings/{meeting_id}/follow-up",
    response_model=OutcomePublic,
    responses=AUTHED_WRITE,
    summary="Answer a meeting's follow-up",
    description="On one side's behalf, months later: ``no_contact`` 无联系, ``in_talks`` 洽谈中, ``signed`` 已签约. "
    "With ``signed`` the contract may come along (``transfer``, as ``POST /api/v1/transfers`` takes it): it is "
    "recorded for the event's organization, counted in the goals and in the funnel. ``409 meeting_not_held``.",
)
async def follow_up(
    meeting_id: Id, data: outcomes.FollowUpInput, caller: Caller = Depends(require_organizer)
) -> OutcomePublic:
    meeting = await requests.get_request(meeting_id, scope=caller.reach)
    made = await outcomes.follow_up(
        meeting_id, data.participant_id, data.answer, _acting(caller), transfer=data.transfer,
        organization_id=meeting.session.event.organization_id,
    )  # fmt: skip
    return OutcomePublic.of(made)


PARTICIPANT = ROADSHOW + "/participants/{participant_id}"


@router.get(
    PARTICIPANT + "/unavailable",
    response_model=UnavailablePublic,
    responses=AUTHED,
    summary="A participant's blocked slots",
    description="The slots of the event's sessions in which the participant cannot meet.",
)
async def unavailable(
    event_id: Id, participant_id: Id, caller: Caller = Depends(require_organizer)
) -> UnavailablePublic:
    participant = await sessions.get_participant(event_id, participant_id, caller.reach)
    return UnavailablePublic(participant_id=participant.id, slot_ids=await sessions.unavailable_slots(participant))


@router.put(
    PARTICIPANT + "/unavailable",
    response_model=UnavailablePublic,
    responses=AUTHED_WRITE,
    summary="Block a participant's slots",
    description="Exactly ``slot_ids`` become blocked for the participant (the others they had blocked open again): "
    "nobody can book them then and the scheduler leaves them out. ``409 slot_taken`` when they have a meeting or a "
    "pending request in one of them; ``422`` a slot of another event.",
)
async def set_unavailable(
    event_id: Id, participant_id: Id, data: sessions.UnavailableInput, caller: Caller = Depends(require_organizer)
) -> UnavailablePublic:
    blocked = await sessions.set_unavailable(
        event_id, participant_id, data.slot_ids, scope=caller.reach, actor=caller.actor
    )
    return UnavailablePublic(participant_id=participant_id, slot_ids=blocked)


@router.post(
    ROADSHOW + "/interest",
    status_code=201,
    response_model=InterestPublic,
    responses=AUTHED_WRITE,
    summary="Record interest in a meeting",
    description="``source_id`` wants to meet ``target_id`` (both participants of the event): the batch scheduler "
    "pairs mutual interest first, then one-sided. ``201`` when new, ``200`` when it was recorded before; ``422`` "
    "the same participant twice or one of another event.",
)
async def add_interest(
    event_id: Id, data: sessions.InterestInput, caller: Caller = Depends(require_organizer)
) -> JSONResponse:
    created = await sessions.add_interest(
        event_id, data.source_id, data.target_id, origin="api", actor=caller.actor, scope=caller.reach
    )
    body = InterestPublic(
        source_id=data.source_id, target_id=data.target_id, created=created,
        mutual=await sessions.interested(data.target_id, data.source_id),
    )  # fmt: skip
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if created else 200)


# ------------------------------------------------------------------------------------------- line-up

LINEUP = ROADSHOW + "/lineup"


@router.post(
    LINEUP,
    status_code=201,
    response_model=PitchPublic,
    responses=AUTHED_WRITE,
    summary="Add a pitch to the line-up",
    description="A project (``participant_id``, or ``achievement_id``, ``entry_id`` or a company by ``organization``, "
    "made a project participant when it is not one yet) pitching at ``position`` (the end when left out; the "
    "ones after it move down), with its presenter, ``starts_at`` and ``minutes``. ``409 already_in_lineup``, "
    "``not_a_roadshow``.",
)
async def add_pitch(event_id: Id, data: lineup.PitchInput, caller: Caller = Depends(require_organizer)) -> JSONResponse:
    pitch = await lineup.add_pitch(event_id, data, scope=caller.reach, actor=caller.actor)
    return JSONResponse(
        PitchPublic.of(pitch).model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"{LINEUP.format(event_id=event_id)}/{pitch.id}"},
    )


@router.get(
    LINEUP,
    response_model=Page[PitchPublic],
    responses=AUTHED,
    summary="The line-up",
    description="The pitches in order (positions 1..n); keyset pages.",
)
async def list_lineup(
    event_id: Id,
    caller: Caller = Depends(require_organizer),
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[PitchPublic]:
    page = await lineup.list_pitches(event_id, scope=caller.reach, limit=limit, cursor=cursor)
    return Page[PitchPublic].of(page, [PitchPublic.of(p) for p in page.items])


@router.get(
    LINEUP + "/{pitch_id}",
    response_model=PitchPublic,
    responses=AUTHED,
    summary="One pitch",
    description="Its project, presenter, time, length and status.",
)
async def get_pitch(event_id: Id, pitch_id: Id, caller: Caller = Depends(require_organizer)) -> PitchPublic:
    return PitchPublic.of(await lineup.get_pitch(event_id, pitch_id, caller.reach))


@router.patch(
    LINEUP + "/{pitch_id}",
    response_model=PitchPublic,
    responses=AUTHED_WRITE,
    summary="Change a pitch",
    description="Its presenter, ``starts_at``, ``minutes`` or ``status`` (``planned``, ``done``, ``skipped``; put a "
    "pitch on stage with ``…/on-stage``).",
)
async def update_pitch(
    event_id: Id, pitch_id: Id, data: lineup.PitchUpdate, caller: Caller = Depends(require_organizer)
) -> PitchPublic:
    return PitchPublic.of(await lineup.update_pitch(event_id, pitch_id, data, scope=caller.reach, actor=caller.actor))


@router.post(
    LINEUP + "/{pitch_id}/move",
    response_model=LineupPublic,
    responses=AUTHED_WRITE,
    summary="Move a pitch",
    description="To ``position`` (clamped to the line-up); the others close up so positions stay 1..n, also when "
    "two moves race. ``recompute_times``: each pitch then starts when the one before ends, from the event's start. "
    "Answers the whole line-up.",
)
async def move_pitch(
    event_id: Id, pitch_id: Id, data: lineup.MoveInput, caller: Caller = Depends(require_organizer)
) -> LineupPublic:
    pitches = await lineup.move_pitch(
        event_id, pitch_id, data.position, recompute_times=data.recompute_times, scope=caller.reach, actor=caller.actor
    )
    return LineupPublic(items=[PitchPublic.of(p) for p in pitches])


@router.delete(
    LINEUP + "/{pitch_id}",
    status_code=204,
    responses=AUTHED_WRITE,
    summary="Remove a pitch",
    description="The ones after it move up; the project stays a participant of the roadshow.",
)
async def remove_pitch(event_id: Id, pitch_id: Id, caller: Caller = Depends(require_organizer)) -> Response:
    await lineup.remove_pitch(event_id, pitch_id, scope=caller.reach, actor=caller.actor)
    return Response(status_code=204)


@router.post(
    LINEUP + "/{pitch_id}/on-stage",
    response_model=OnStagePublic,
    responses=AUTHED_WRITE,
    summary="Put a pitch on stage",
    description="The pitch is on stage now and the one before it is done (one pitch on stage per event). The "
    "event's investors with Telegram get its 感兴趣 / 约谈 / 评分 buttons.",
)
async def on_stage(event_id: Id, pitch_id: Id, caller: Caller = Depends(require_organizer)) -> OnStagePublic:
    change = await lineup.set_on_stage(event_id, pitch_id, scope=caller.reach, actor=caller.actor)
    return OnStagePublic(
        pitch=PitchPublic.of(change.pitch), previous_id=change.previous.id if change.previous else None
    )


@router.get(
    LINEUP + "/{pitch_id}/interest",
    response_model=PitchInterestPublic,
    responses=AUTHED,
    summary="Interest in a pitch",
    description="How many investors tapped 感兴趣 / 约谈, the scores, and each investor with whether the project "
    "said yes back (mutual: they are connected).",
)
async def pitch_interest_of(
    event_id: Id, pitch_id: Id, caller: Caller = Depends(require_organizer)
) -> PitchInterestPublic:
    return PitchInterestPublic.of(await pitch_interest.interest_in(event_id, pitch_id, caller.reach))


class InterestBack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    investor_id: Annotated[int, Field(ge=1, lt=2**31, description="An investor participant of the event.")]


@router.post(
    LINEUP + "/{pitch_id}/interest-back",
    response_model=PitchAnswerPublic,
    responses=AUTHED_WRITE,
    summary="The project says yes to an investor",
    description="On the project's behalf: interest back in ``investor_id`` (an investor participant). When the "
    "investor had tapped 感兴趣 or 约谈, both sides said yes: the achievement and the investor are connected at "
    "once (a supply-chain connection, exactly once) and both are told.",
)
async def interest_back(
    event_id: Id, pitch_id: Id, data: InterestBack, caller: Caller = Depends(require_organizer)
) -> PitchAnswerPublic:
    await lineup.get_pitch(event_id, pitch_id, caller.reach)
    answer = await pitch_interest.answer_interest(
        pitch_id, data.investor_id, scope=caller.reach, origin="api", actor=caller.actor
    )
    return PitchAnswerPublic(created=answer.created, mutual=answer.mutual, connection_id=answer.connection_id)
