"""Matched pitches: before a roadshow, each verified investor taking part hears of the projects that fit
their profile, with the reasons, and can ask to meet them (想约谈), which the batch scheduler reads.

Who hears: the investors *taking part* (participants of the event with a verified ``Investor`` profile),
not every verified investor of the organization: the answer 想约谈 is a ``MeetingInterest`` between two
participants, and only participants get meetings. Unverified profiles are skipped (and counted).

Which projects: the event's project participants, read as the matcher reads an achievement (a project
backed by an achievement), a competition entry (its summary and fields) or a company (its name).

The service only finds the matches and writes them as one activity fact per investor
(``roadshow.pitches_matched``, with the reasons in both languages); ``notifications`` turns each fact into
``matched_opportunity`` pushes like every other match, so the weekly cap per person, the score threshold
and "never the same pair twice" (the dedup key names investor × project) apply. Running it again is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from events import clock
from events.errors import N_, InvalidInput, ParticipantNotFound
from events.models import Activity, Event, EventStatus, Participant, ParticipantRole, Person
from events.services import activity, matching
from events.services.matching import Pitch
from events.services.organizations import EVERYTHING, Scope
from events.services.roadshows import sessions

FACT = "roadshow.pitches_matched"
MAX_PITCHES = 10  # the best pitches kept per investor and run (the push cap decides how many are sent)


@dataclass(frozen=True, slots=True)
class InvestorPitches:
    participant_id: int
    investor_id: int
    name: str
    pitches: list[matching.Match]  # best first, reasons in the caller's language


@dataclass(frozen=True, slots=True)
class MatchRun:
    event_id: int
    projects: int
    investors: list[InvestorPitches]
    unverified: int  # investors taking part whose profile is not verified yet (not told)

    @property
    def pairs(self) -> int:
        return sum(len(i.pitches) for i in self.investors)


async def project_pitches(event_id: int) -> list[Pitch]:
    """The event's project participants as the matcher reads them (``Pitch.id``: the participant's id)."""
    projects = await Participant.filter(event_id=event_id, role=ParticipantRole.PROJECT).select_related(
        "achievement", "entry", "organization"
    ).order_by("id")  # fmt: skip
    pitches = []
    for p in projects:
        if (a := p.achievement) is not None:
            pitches.append(Pitch(
                id=p.id, title=p.title, text=f"{a.title}\n{' '.join(a.keywords or [])}\n{a.abstract}",
                keywords=tuple(a.keywords or []), field=a.field, district=a.district,
                stage=str(a.stage) if a.stage else None, price_min_cny=a.price_min_cny, price_max_cny=a.price_max_cny,
            ))  # fmt: skip
        elif (e := p.entry) is not None:
            fields = list(e.fields_of_technology or [])
            pitches.append(Pitch(
                id=p.id, title=p.title, text=f"{e.title}\n{e.summary}", keywords=tuple(fields),
                field=fields[0] if fields else None,
            ))  # fmt: skip
        else:
            org = p.organization
            district = org.district if org is not None else None
            pitches.append(Pitch(id=p.id, title=p.title, text=p.title, district=district))
    return pitches


async def match_investors(
    event_id: int, *, scope: Scope, actor: str, limit: int = MAX_PITCHES, locale: str = "zh"
) -> MatchRun:
    """Find the pitches that fit each verified investor taking part and record them for the pushes (the
    result's reasons in ``locale``). Raises ``event_not_found``, ``not_a_roadshow``."""
    event = await sessions.roadshow(event_id, scope)
    pitches = await project_pitches(event.id)
    investors = await Participant.filter(
        event_id=event.id, role=ParticipantRole.INVESTOR, investor_id__not_isnull=True
    ).select_related("investor").order_by("id")  # fmt: skip
    found: list[InvestorPitches] = []
    chinese: dict[int, list[matching.Match]] = {}
    english: dict[int, dict[int, list[str]]] = {}
    unverified = 0
    for participant in investors:
        investor = participant.investor
        if investor is None or not investor.verified:
            unverified += 1
            continue
        zh = await matching.pitches_for_investor(investor.id, pitches, limit=limit, locale="zh")
        en = await matching.pitches_for_investor(investor.id, pitches, limit=limit, locale="en")
        chinese[participant.id] = zh
        english[participant.id] = {m.id: m.reasons for m in en}
        found.append(InvestorPitches(participant.id, investor.id, investor.name, en if locale == "en" else zh))
    async with in_transaction() as conn:
        for one in found:
            if not one.pitches:
                continue
            participant = next(p for p in investors if p.id == one.participant_id)
            items = [
                {"participant_id": m.id, "title": m.title, "score": m.score,
                 "reasons": {"zh": m.reasons, "en": english[one.participant_id].get(m.id, m.reasons)}}
                for m in chinese[one.participant_id]
            ]  # fmt: skip
            await activity.record(
                FACT, actor=actor, event_id=event.id, person_id=participant.person_id, using_db=conn,
                participant_id=participant.id, investor_id=one.investor_id, pitches=items,
            )  # fmt: skip
    return MatchRun(event.id, len(pitches), found, unverified)


async def match_due(*, days_before: int, again_after: timedelta = timedelta(days=1)) -> int:
    """The scheduled pass: every published roadshow or fair starting within ``days_before`` days has its pitches
    matched, unless it was matched less than ``again_after`` ago (projects added since are matched on the next
    day; the pushes' dedup keys make repeating harmless). Returns the pairs found."""
    now = clock.now()
    due = await Event.filter(
        kind__in=sessions.ROADSHOW_KINDS, status=EventStatus.PUBLISHED, starts_at__gt=now,
        starts_at__lte=now + timedelta(days=days_before),
    ).order_by("starts_at")  # fmt: skip
    pairs = 0
    for event in due:
        if await Activity.filter(kind=FACT, event_id=event.id, created_at__gt=now - again_after).exists():
            continue
        pairs += (await match_investors(event.id, scope=EVERYTHING, actor="scheduler")).pairs
    return pairs


async def want_meeting(person: Person, source_id: int, target_id: int, *, actor: str) -> bool:
    """想约谈 on a matched pitch: the person's investor participation wants to meet the project. Returns whether
    the interest is new. Raises ``participant_not_found`` (not the person's, or gone), ``invalid_input``."""
    source = await Participant.get_or_none(id=source_id)
    if source is None or source.person_id != person.id:
        raise ParticipantNotFound()
    target = await Participant.get_or_none(id=target_id, event_id=source.event_id)
    if target is None or target.role != ParticipantRole.PROJECT:
        raise InvalidInput(N_("No such participant in this event."), field="target_id")
    return await sessions.add_interest(source.event_id, source.id, target.id, origin="push", actor=actor)
