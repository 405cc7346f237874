"""During a pitch: the event's investors tap 感兴趣 (interested), 约谈 (let us meet) or 评分 (a score of 1–5)
for the pitch on stage now; the project's side answers with interest back; both sides saying yes connects
them at once.

A tap is a ``PitchReaction``, one per person, pitch and kind (tapping again changes nothing, a new score
replaces the old one). 感兴趣 and 约谈 also become ``MeetingInterest`` from the investor to the project (约谈
with strength "meet"), so the batch scheduler pairs them; the project's answer is the interest the other way.

Mutual interest must connect the pair exactly once however the two sides race: both sides' writes take the
project participant's row lock first, so of two concurrent "yes" calls the second sees the first's row and
is the one that finds the interest mutual. It opens the supply-chain ``Connection`` (achievement ↔
investor) through ``connections.open_connection``, which is itself idempotent per pair, so a retried tap
cannot open a second one either. A project without an achievement (a company, an entry without one) has no
record to connect; the mutual interest is still told to both sides (``pitch.mutual``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from events import clock
from events.db import dialect_of
from events.errors import N_, InvalidInput, NotAnInvestor, NotTheProject, PitchNotFound, PitchNotOnStage
from events.models import (
    Entry,
    Judge,
    MeetingInterest,
    Participant,
    ParticipantRole,
    Pitch,
    PitchReaction,
    PitchReactionKind,
    PitchStatus,
)
from events.services import activity, connections
from events.services.organizations import Scope
from events.services.roadshows import lineup

SCORES = range(1, 6)
STRENGTH = {PitchReactionKind.INTEREST: "interest", PitchReactionKind.MEET: "meet"}


@dataclass(frozen=True, slots=True)
class Tapped:
    reaction: PitchReaction
    created: bool  # False: the same tap again (or the same score)
    mutual: bool  # the project had said yes to this investor already
    connection_id: int | None


@dataclass(frozen=True, slots=True)
class Answered:
    created: bool
    mutual: bool
    connection_id: int | None


@dataclass(frozen=True, slots=True)
class InvestorInterest:
    participant: Participant
    interest: bool
    meet: bool
    score: int | None
    mutual: bool  # the project said yes back


@dataclass(frozen=True, slots=True)
class PitchInterest:
    pitch: Pitch
    interested: int  # investors who tapped 感兴趣 or 约谈
    meet: int
    scores: int
    average_score: float | None
    investors: list[InvestorInterest]
    judge_scores: int = 0  # at a scored roadshow: the judges' scores, apart from the investors'
    judge_average: float | None = None


async def _lock_participant(conn: BaseDBAsyncClient, participant_id: int) -> None:
    """Serialise the two sides' answers about one project (see the module's note)."""
    if dialect_of(conn) == "sqlite":
        await conn.execute_query("UPDATE meeting_participant SET id = id WHERE id = ?", [participant_id])
    else:
        await conn.execute_query("SELECT id FROM meeting_participant WHERE id = $1 FOR UPDATE", [participant_id])


async def pitch_on_stage(pitch_id: int) -> Pitch:
    """The pitch if it is on stage now. Raises ``pitch_not_found``, ``pitch_not_on_stage`` (with the pitch
    on stage instead, if any, as ``current``)."""
    pitch = await lineup.pitch_of(pitch_id)
    if pitch is None:
        raise PitchNotFound()
    if pitch.status != PitchStatus.ON_STAGE:
        current = await lineup.on_stage(pitch.event_id)
        raise PitchNotOnStage(current=current.id if current else None, event_id=pitch.event_id)
    return pitch


async def investor_at(event_id: int, person_id: int) -> Participant | None:
    return await Participant.get_or_none(event_id=event_id, person_id=person_id, role=ParticipantRole.INVESTOR)


async def judge_at(event_id: int, person_id: int) -> bool:
    """Whether the person judges a competition whose final is this event: a scored roadshow, where its
    judges may score the pitches (only score: interest and meetings are investors' acts)."""
    return await Judge.filter(person_id=person_id, active=True, competition__final_event_id=event_id).exists()


async def _achievement_of(project: Participant) -> int | None:
    if project.achievement_id is not None:
        return project.achievement_id
    if project.entry_id is not None:
        entry = await Entry.get_or_none(id=project.entry_id)
        return entry.achievement_id if entry else None
    return None


async def _connect(project: Participant, investor: Participant, *, actor: str) -> int | None:
    """Open the supply-chain connection of a mutual pair (once: the service answers the existing one)."""
    achievement_id = await _achievement_of(project)
    if achievement_id is None or investor.investor_id is None:
        return None
    # requested_by None: nobody asked alone, so ``connection.opened`` tells both sides.
    opened = await connections.open_connection(
        achievement_id=achievement_id, investor_id=investor.investor_id, requested_by=None, origin="pitch",
        actor=actor,
    )  # fmt: skip
    return opened.connection.id


async def _mutual(
    pitch: Pitch, project: Participant, investor: Participant, *, actor: str, conn: BaseDBAsyncClient
) -> int | None:
    connection_id = await _connect(project, investor, actor=actor)
    await activity.record(
        "pitch.mutual", actor=actor, event_id=pitch.event_id, using_db=conn, pitch_id=pitch.id,
        project_id=project.id, investor_id=investor.id, connection_id=connection_id,
    )  # fmt: skip
    return connection_id


async def react(
    pitch_id: int, *, person_id: int, kind: PitchReactionKind, score: int | None = None, origin: str, actor: str
) -> Tapped:
    """An investor's tap on the pitch on stage: 感兴趣, 约谈 or a score of 1–5. Idempotent per person, pitch
    and kind; a new score replaces the old. Interest reaches the scheduler and the project's side; when the
    project had said yes to this investor, they are connected at once. Raises ``pitch_not_found``,
    ``pitch_not_on_stage``, ``not_an_investor`` (neither an investor of the event nor, for a score, a judge
    of a competition whose final it is), ``invalid_input`` (a score outside 1–5)."""
    if kind == PitchReactionKind.SCORE:
        if score is None or score not in SCORES:
            raise InvalidInput(N_("A score is a whole number from 1 to 5."), field="score")
    else:
        score = None
    pitch = await pitch_on_stage(pitch_id)
    investor = await investor_at(pitch.event_id, person_id)
    if investor is None and (kind != PitchReactionKind.SCORE or not await judge_at(pitch.event_id, person_id)):
        raise NotAnInvestor()
    project = pitch.project
    now = clock.now()
    async with in_transaction() as conn:
        await _lock_participant(conn, project.id)
        before = await PitchReaction.get_or_none(pitch_id=pitch.id, person_id=person_id, kind=kind, using_db=conn)
        if before is not None:
            created = before.score != score
            if created:
                before.score, before.updated_at = score, now
                await before.save(update_fields=["score", "updated_at"], using_db=conn)
            reaction = before
        else:
            created = True
            reaction = await PitchReaction.create(
                pitch_id=pitch.id, person_id=person_id, participant_id=investor.id if investor else None, kind=kind,
                score=score,
                origin=origin[:16], created_at=now, updated_at=now, using_db=conn,
            )  # fmt: skip
        mutual, connection_id = False, None
        if kind in STRENGTH and investor is not None:
            new_interest = await _interest(investor.id, project, STRENGTH[kind], origin="pitch", conn=conn)
            mutual = await MeetingInterest.filter(source_id=project.id, target_id=investor.id).using_db(conn).exists()
            if mutual and new_interest:
                connection_id = await _mutual(pitch, project, investor, actor=actor, conn=conn)
        if created:
            await activity.record(
                "pitch.interest", actor=actor, event_id=pitch.event_id, person_id=project.person_id, using_db=conn,
                pitch_id=pitch.id, project_id=project.id, investor_id=investor.id if investor else None,
                judge=investor is None, tap=str(kind), score=score, mutual=mutual,
            )  # fmt: skip
    if (
        mutual and connection_id is None and investor is not None
    ):  # mutual before (a repeated tap): answer the connection it has
        connection_id = await _connect(project, investor, actor=actor)
    return Tapped(reaction, created, mutual, connection_id)


async def _interest(
    source_id: int, target: Participant, strength: str, *, origin: str, conn: BaseDBAsyncClient
) -> bool:
    """Insert (or strengthen to "meet") the interest; returns whether the row is new."""
    existing = await MeetingInterest.get_or_none(source_id=source_id, target_id=target.id, using_db=conn)
    if existing is None:
        await MeetingInterest.create(
            event_id=target.event_id, source_id=source_id, target_id=target.id, origin=origin, strength=strength,
            using_db=conn,
        )  # fmt: skip
        return True
    if strength == "meet" and existing.strength != "meet":
        existing.strength = "meet"
        await existing.save(update_fields=["strength"], using_db=conn)
    return False


async def answer_interest(
    pitch_id: int,
    investor_id: int,
    *,
    person_id: int | None = None,
    scope: Scope | None = None,
    origin: str,
    actor: str,
) -> Answered:
    """The project's side says yes to an investor (a participant of the event): interest from the project
    to them. When the investor had shown interest, the two are connected at once (exactly once). The
    project's own person (``person_id``, the bot) or an organizer whose ``scope`` reaches the event may
    answer. Raises ``pitch_not_found``, ``event_not_found``, ``not_the_project``, ``invalid_input`` (not an
    investor of this event)."""
    pitch = await lineup.pitch_of(pitch_id)
    if pitch is None:
        raise PitchNotFound()
    if scope is not None:
        pitch = await lineup.get_pitch(pitch.event_id, pitch_id, scope)
    project = pitch.project
    if person_id is not None and project.person_id != person_id:
        raise NotTheProject()
    investor = await Participant.get_or_none(id=investor_id, event_id=pitch.event_id, role=ParticipantRole.INVESTOR)
    if investor is None:
        raise InvalidInput(N_("No such investor in this event."), field="investor_id")
    async with in_transaction() as conn:
        await _lock_participant(conn, project.id)
        created = await _interest(project.id, investor, "interest", origin=origin[:16], conn=conn)
        mutual = await MeetingInterest.filter(source_id=investor.id, target_id=project.id).using_db(conn).exists()
        connection_id = None
        if created:
            await activity.record(
                "pitch.interest_back", actor=actor, event_id=pitch.event_id, using_db=conn, pitch_id=pitch.id,
                project_id=project.id, investor_id=investor.id, mutual=mutual,
            )  # fmt: skip
            if mutual:
                connection_id = await _mutual(pitch, project, investor, actor=actor, conn=conn)
    if mutual and connection_id is None:
        connection_id = await _connect(project, investor, actor=actor)
    return Answered(created, mutual, connection_id)


async def interest_in(event_id: int, pitch_id: int, scope: Scope) -> PitchInterest:
    """Who showed interest in a pitch and how: counts, the average score, and each investor with whether
    the project said yes back. Raises ``event_not_found``, ``pitch_not_found``."""
    pitch = await lineup.get_pitch(event_id, pitch_id, scope)
    return await interest_of(pitch)


async def interest_of(pitch: Pitch) -> PitchInterest:
    reactions = await PitchReaction.filter(pitch_id=pitch.id, participant_id__not_isnull=True).order_by("id")
    by: dict[int, dict[str, int | None]] = {}
    for r in reactions:
        assert r.participant_id is not None
        entry = by.setdefault(r.participant_id, {})
        entry[str(r.kind)] = r.score if r.kind == PitchReactionKind.SCORE else 1
    back: set[int] = set()
    for target_id in await MeetingInterest.filter(source_id=pitch.project_id, target_id__in=list(by)).values_list(
        "target_id", flat=True
    ):
        back.add(int(target_id))  # type: ignore[call-overload]
    people = {p.id: p for p in await Participant.filter(id__in=list(by)).select_related("person")}
    investors = [
        InvestorInterest(
            participant=people[pid],
            interest="interest" in taps,
            meet="meet" in taps,
            score=taps.get("score"),
            mutual=pid in back,
        )
        for pid, taps in by.items()
        if pid in people
    ]
    scores = [i.score for i in investors if i.score is not None]
    judged = [
        r.score
        for r in await PitchReaction.filter(
            pitch_id=pitch.id, participant_id__isnull=True, kind=PitchReactionKind.SCORE
        )
        if r.score is not None
    ]
    return PitchInterest(
        pitch=pitch,
        interested=sum(1 for i in investors if i.interest or i.meet),
        meet=sum(1 for i in investors if i.meet),
        scores=len(scores),
        average_score=round(sum(scores) / len(scores), 2) if scores else None,
        investors=investors,
        judge_scores=len(judged),
        judge_average=round(sum(judged) / len(judged), 2) if judged else None,
    )


async def projects_of(person_id: int) -> list[Pitch]:
    """Pitches whose project the person represents (newest event first): where interest reaches them."""
    return list(
        await Pitch.filter(project__person_id=person_id)
        .select_related("project__person", "event")
        .order_by("-event__starts_at", "position")
        .limit(20)
    )


async def on_stage_for(person_id: int) -> list[Pitch]:
    """The pitches on stage now at the roadshows where the person is a participant or a judge (usually one)."""
    events = set(await Participant.filter(person_id=person_id).values_list("event_id", flat=True))
    events |= set(
        await Judge.filter(person_id=person_id, active=True, competition__final_event_id__not_isnull=True).values_list(
            "competition__final_event_id", flat=True
        )
    )
    return list(
        await Pitch.filter(status=PitchStatus.ON_STAGE, event_id__in=list(events))
        .select_related("project__person", "event")
        .order_by("event_id")
    )
