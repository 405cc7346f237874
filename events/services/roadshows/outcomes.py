"""After a meeting: each side's rating (没见成 / 兴趣不足 / 有收获但暂无合作 / 有合作可能), the follow-up months later
(无联系 / 洽谈中 / 已签约, "signed" with the contract recorded through the transfers service, which the
goals count), and the organizer's funnel per roadshow: interest → meetings → positive → signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from tortoise.transactions import in_transaction

from events import clock, localtime
from events.errors import N_, ContractNumberTaken, InvalidInput, MeetingNotHeld, NotYourMeeting
from events.models import (
    FollowUpAnswer,
    MeetingInterest,
    MeetingOutcome,
    MeetingRating,
    MeetingRequest,
    MeetingStatus,
    OutcomeStage,
    Participant,
    ParticipantRole,
    Transfer,
    TransferKind,
    TransferMode,
)
from events.services import activity, transfers
from events.services.organizations import EVERYTHING, Scope
from events.services.roadshows import sessions
from events.services.roadshows.requests import Acting, get_request

POSITIVE = frozenset({MeetingRating.PROMISING})
# One letter per answer, for a button's callback data (the outbox packs it, the bot reads it).
RATING_CODES: dict[str, MeetingRating] = {
    "n": MeetingRating.NO_SHOW,
    "l": MeetingRating.LOW_INTEREST,
    "u": MeetingRating.USEFUL,
    "p": MeetingRating.PROMISING,
}
FOLLOW_UP_CODES: dict[str, FollowUpAnswer] = {
    "n": FollowUpAnswer.NO_CONTACT,
    "t": FollowUpAnswer.IN_TALKS,
    "s": FollowUpAnswer.SIGNED,
}
RATING_LABELS: dict[MeetingRating, str] = {
    MeetingRating.NO_SHOW: N_("We did not meet"),  # 没见成
    MeetingRating.LOW_INTEREST: N_("Not much interest"),  # 兴趣不足
    MeetingRating.USEFUL: N_("Useful, no cooperation yet"),  # 有收获但暂无合作
    MeetingRating.PROMISING: N_("Cooperation likely"),  # 有合作可能
}
FOLLOW_UP_LABELS: dict[FollowUpAnswer, str] = {
    FollowUpAnswer.NO_CONTACT: N_("No contact"),  # 无联系
    FollowUpAnswer.IN_TALKS: N_("In talks"),  # 洽谈中
    FollowUpAnswer.SIGNED: N_("Signed"),  # 已签约
}


class RatingInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: Annotated[int, Field(ge=1, lt=2**31)] = Field(description="The side who rates.")
    rating: MeetingRating = Field(
        description="no_show 没见成 | low_interest 兴趣不足 | useful 有收获但暂无合作 | promising 有合作可能"
    )


class FollowUpInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: Annotated[int, Field(ge=1, lt=2**31)] = Field(description="The side who answers.")
    answer: FollowUpAnswer = Field(description="no_contact 无联系 | in_talks 洽谈中 | signed 已签约")
    transfer: transfers.TransferInput | None = Field(
        default=None, description="With signed: the contract, recorded as a transfer (counted in the goals)."
    )


def _side(request: MeetingRequest, participant_id: int, by: Acting) -> int:
    if participant_id not in (request.requester_id, request.recipient_id):
        raise InvalidInput(N_("This participant is not in this meeting."), field="participant_id")
    own = request.requester if participant_id == request.requester_id else request.recipient
    if by.person_id is not None and own.person_id != by.person_id:
        raise NotYourMeeting()
    return participant_id


def _held(request: MeetingRequest) -> None:
    """Only an accepted meeting whose slot has begun can be rated."""
    if request.status != MeetingStatus.ACCEPTED or request.slot.starts_at > clock.now():
        raise MeetingNotHeld()


async def _keep(
    request: MeetingRequest,
    participant_id: int,
    stage: OutcomeStage,
    answer: str,
    by: Acting,
    transfer_id: int | None = None,
) -> MeetingOutcome:
    now = clock.now()
    async with in_transaction() as conn:
        found = await MeetingOutcome.get_or_none(
            request_id=request.id, participant_id=participant_id, stage=stage, using_db=conn
        )
        if found is None:
            found = await MeetingOutcome.create(
                request_id=request.id, participant_id=participant_id, stage=stage, answer=answer,
                transfer_id=transfer_id, at=now, using_db=conn,
            )  # fmt: skip
        else:
            found.answer, found.at = answer, now
            if transfer_id is not None:
                found.transfer_id = transfer_id
            await found.save(using_db=conn)
        await activity.record(
            f"meeting.{stage.value}", actor=by.actor, event_id=request.session.event_id, using_db=conn,
            request_id=request.id, participant_id=participant_id, answer=answer, transfer_id=found.transfer_id,
        )  # fmt: skip
    return found


async def rate(request_id: int, participant_id: int, rating: MeetingRating, by: Acting) -> MeetingOutcome:
    """One side's rating of a meeting that has taken place (a second rating replaces the first). Raises
    ``meeting_not_found``, ``invalid_input``, ``not_your_meeting``, ``meeting_not_held``."""
    request = await get_request(request_id, scope=by.scope, person_id=by.person_id)
    _side(request, participant_id, by)
    _held(request)
    return await _keep(request, participant_id, OutcomeStage.RATING, rating.value, by)


async def follow_up(
    request_id: int,
    participant_id: int,
    answer: FollowUpAnswer,
    by: Acting,
    *,
    transfer: transfers.TransferInput | None = None,
    organization_id: int | None = None,
) -> MeetingOutcome:
    """The later answer. With ``signed`` an organizer may record the contract (``transfer``) at once: it
    is recorded by the transfers service (counted in the goals) and linked to the meeting. Raises as
    ``rate``, and whatever recording the transfer raises."""
    request = await get_request(request_id, scope=by.scope, person_id=by.person_id)
    _side(request, participant_id, by)
    _held(request)
    transfer_id = None
    if transfer is not None:
        if answer != FollowUpAnswer.SIGNED:
            raise InvalidInput(N_("A contract goes with the answer signed."), field="transfer")
        if by.scope is None or organization_id is None:
            raise InvalidInput(N_("Only an organizer records a contract."), field="transfer")
        made = await transfers.record_transfer(
            transfer, scope=by.scope, organization_id=organization_id, actor=by.actor
        )
        transfer_id = made.id
    return await _keep(request, participant_id, OutcomeStage.FOLLOW_UP, answer.value, by, transfer_id)


class DealInput(BaseModel):
    """What a side who answered 已签约 says was signed (the bot asks it): the amount in 万元 and, for an
    investment, its round."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount_wan: Annotated[Decimal, Field(gt=0, le=Decimal("100000000"), max_digits=12, decimal_places=2)]
    investment_round: Annotated[str, Field(max_length=16)] = ""


@dataclass(frozen=True, slots=True)
class Deal:
    transfer: Transfer
    recorded: bool  # False: the other side had recorded it already; this answer now points at it too
    investment: bool


def deal_kind(request: MeetingRequest) -> TransferKind:
    """A meeting with an investor ends in an investment; any other in a technology contract."""
    sides = (request.requester, request.recipient)
    return (
        TransferKind.INVESTMENT if any(s.role == ParticipantRole.INVESTOR for s in sides) else TransferKind.TECHNOLOGY
    )


def _parties(request: MeetingRequest) -> tuple[Participant, Participant]:
    """(the project side, the other side): the side that is not the investor, or that holds an achievement."""
    a, b = request.requester, request.recipient
    if a.role == ParticipantRole.INVESTOR or (b.achievement_id is not None and a.achievement_id is None):
        return b, a
    return a, b


async def deal_of(request_id: int) -> Transfer | None:
    """The contract or investment a meeting led to, if either side (or an organizer) recorded one."""
    linked = await MeetingOutcome.filter(request_id=request_id, transfer_id__isnull=False).first()
    return await Transfer.get_or_none(id=linked.transfer_id) if linked is not None else None


async def record_deal(request_id: int, participant_id: int, data: DealInput | None, by: Acting) -> Deal:
    """Record what a side who answered 已签约 signed: an investment (a meeting with an investor, with its
    round) or a technology contract about the project's achievement, for the event's organization, through
    the transfers service (so the goals count it) and linked to the meeting. Both sides may say it: the
    contract number ``meeting-<id>`` is unique per organization, so the meeting is recorded once however
    the two race, and the second answer points at the first (as it does at one an organizer recorded;
    ``data`` None: only that). Raises ``meeting_not_found``, ``invalid_input`` (not answered 已签约; a
    contract with no achievement on record; no amount and nothing recorded), ``not_your_meeting``,
    ``meeting_not_held``."""
    request = await get_request(request_id, scope=by.scope, person_id=by.person_id)
    _side(request, participant_id, by)
    _held(request)
    said = await MeetingOutcome.get_or_none(
        request_id=request.id, participant_id=participant_id, stage=OutcomeStage.FOLLOW_UP
    )
    if said is None or said.answer != FollowUpAnswer.SIGNED:
        raise InvalidInput(N_("Answer that you signed first."), field="answer")
    kind = deal_kind(request)
    project, other = _parties(request)
    number = f"meeting-{request.id}"
    event = request.session.event
    recorded = False
    transfer = await deal_of(request.id) or await Transfer.get_or_none(
        managed_by_id=event.organization_id, contract_no=number
    )
    if transfer is None:
        if data is None:
            raise InvalidInput(N_("Give the amount signed."), field="amount_wan")
        achievement_id = project.achievement_id or other.achievement_id
        if kind == TransferKind.TECHNOLOGY and achievement_id is None:
            raise InvalidInput(
                N_("No achievement of this meeting is on record; ask the organizer to record the contract."),
                field="transfer",
            )
        contract = transfers.TransferInput(
            kind=kind, mode=TransferMode.OTHER, amount_cny=data.amount_wan * 10_000,
            signed_on=localtime.local(clock.now()).date(), achievement_id=achievement_id,
            seller=project.organization_id, buyer=other.organization_id, contract_no=number,
            investment_round=data.investment_round if kind == TransferKind.INVESTMENT else "",
        )  # fmt: skip
        try:
            transfer = await transfers.record_transfer(
                contract, scope=EVERYTHING, organization_id=event.organization_id, actor=by.actor
            )
            recorded = True
        except ContractNumberTaken:  # the other side recorded it meanwhile
            transfer = await Transfer.get(managed_by_id=event.organization_id, contract_no=number)
    await _keep(request, participant_id, OutcomeStage.FOLLOW_UP, FollowUpAnswer.SIGNED.value, by, transfer.id)
    return Deal(transfer=transfer, recorded=recorded, investment=transfer.kind == TransferKind.INVESTMENT)


@dataclass(frozen=True, slots=True)
class Funnel:
    interest: int  # pairs where at least one side showed interest or asked for a meeting
    requests: int
    meetings: int  # accepted
    held: int  # accepted and begun
    rated: int
    positive: int  # a side said 有合作可能
    signed: int  # a side answered 已签约
    transfers: int
    transfer_amount_cny: Decimal


async def funnel(event_id: int, scope: Scope) -> Funnel:
    await sessions.roadshow(event_id, scope)
    now = clock.now()
    pairs: set[frozenset[int]] = {
        frozenset(pair)
        for pair in await MeetingInterest.filter(event_id=event_id).values_list("source_id", "target_id")
    }
    rows = await MeetingRequest.filter(session__event_id=event_id).values_list(
        "id", "requester_id", "recipient_id", "status", "slot__starts_at"
    )
    meetings = set()
    held = set()
    for rid, a, b, status, starts in rows:
        pairs.add(frozenset((a, b)))
        if status == MeetingStatus.ACCEPTED:
            meetings.add(rid)
            if starts <= now:
                held.add(rid)
    outcomes = await MeetingOutcome.filter(request__session__event_id=event_id).values_list(
        "request_id", "stage", "answer", "transfer_id"
    )
    rated = {rid for rid, stage, _, _ in outcomes if stage == OutcomeStage.RATING}
    positive = {rid for rid, stage, answer, _ in outcomes if stage == OutcomeStage.RATING and answer in POSITIVE}
    signed = {rid for rid, stage, answer, _ in outcomes if stage == OutcomeStage.FOLLOW_UP and answer == "signed"}
    transfer_ids = {tid for _, _, _, tid in outcomes if tid is not None}
    amounts = await Transfer.filter(id__in=list(transfer_ids)).values_list("amount_cny", flat=True)
    return Funnel(
        interest=len(pairs), requests=len(rows), meetings=len(meetings), held=len(held), rated=len(rated),
        positive=len(positive), signed=len(signed), transfers=len(transfer_ids),
        transfer_amount_cny=sum((Decimal(a) for a in amounts), Decimal(0)),
    )  # fmt: skip
