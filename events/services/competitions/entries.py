"""Entries: submission (the organizer's API, the bot's ``/enter``, the web form: one function),
eligibility review, withdrawal.

Every change of status is an activity fact ``competition.entry_status`` (entry id, old, new, reason,
the entrant as ``person_id``) that notifications turn into a message to the entrant. An entry is
judged in its ``current_round`` while its status is ``accepted`` (first round) or ``advanced`` (a
later one); withdrawn and rejected entries are never ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from events import clock
from events.errors import N_, CompetitionNotFound, EntriesClosed, EntryNotFound, InvalidInput, InvalidTransition
from events.models import (
    Achievement,
    Assignment,
    Competition,
    CompetitionStatus,
    Entry,
    EntrySource,
    EntryStatus,
    Judge,
    Person,
    Round,
)
from events.services import activity, organizations, paging
from events.services.competitions import conflicts
from events.services.competitions.config import Config, load_config
from events.services.organizations import Scope
from events.services.people import find_or_create_person, normalize_email, normalize_phone

Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
OrgName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

# Statuses an entry is judged in (its current round's ranking and assignment read them).
IN_PLAY = (EntryStatus.ACCEPTED, EntryStatus.ADVANCED)
NEVER_RANKED = (EntryStatus.WITHDRAWN, EntryStatus.REJECTED)


class TeamMember(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text100
    role: Annotated[str, StringConstraints(max_length=50)] = ""


class EntryInput(BaseModel):
    """An entry: the project, its team and leader, the organization it comes from, its track."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    track: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    # Optional (the contract's entry is a title, a track and an organization); forms and the bot ask for it.
    leader_name: Annotated[str, StringConstraints(max_length=100)] = ""
    organization: OrgName | None = None
    summary: Annotated[str, StringConstraints(max_length=5000)] = ""
    team: Annotated[list[TeamMember], Field(max_length=30)] = []
    contact_email: Annotated[str, StringConstraints(max_length=254)] | None = None
    contact_phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    achievement_id: Annotated[int, Field(ge=1, lt=2**31)] | None = None
    fields_of_technology: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=40)]], Field(max_length=10)
    ] = []
    declared_ties: Annotated[list[OrgName], Field(max_length=20)] = Field(
        default=[],
        description="Organizations the entrant holds shares in or is affiliated with (conflict rules read them).",
    )


def _may_take_entries(competition: Competition, *, organizer: bool) -> None:
    if competition.status in (CompetitionStatus.FINISHED, CompetitionStatus.CANCELLED):
        raise EntriesClosed()
    if organizer:
        return  # an organizer may enter late entries (paper forms, a district's batch)
    now = clock.now()
    if competition.status != CompetitionStatus.OPEN:
        raise EntriesClosed()
    if (competition.entries_open_at and now < competition.entries_open_at) or (
        competition.entries_close_at and now >= competition.entries_close_at
    ):
        raise EntriesClosed()


async def entry_party(entry: Entry, organization_name: str | None, org_domains: list[str]) -> conflicts.Party:
    return conflicts.party(organization_name, [entry.contact_email], entry.declared_ties, org_domains)


async def judge_parties(competition_id: int, using_db: BaseDBAsyncClient | None = None) -> dict[int, conflicts.Party]:
    # Plain values, not model instances: every entry submitted reads the whole panel.
    rows = (
        await Judge.filter(competition_id=competition_id)
        .using_db(using_db)
        .values("id", "email", "conflicts", "organization__name", "organization__email_domains")
    )
    return {
        int(r["id"]): conflicts.party(
            r["organization__name"], [r["email"]], r["conflicts"] or [], list(r["organization__email_domains"] or [])
        )
        for r in rows
    }


def judge_party(judge: Judge) -> conflicts.Party:
    org = judge.organization
    return conflicts.party(
        org.name if org else None, [judge.email], judge.conflicts, list(org.email_domains) if org else []
    )


async def entry_parties(
    competition_id: int, entry_ids: list[int] | None = None, using_db: BaseDBAsyncClient | None = None
) -> dict[int, conflicts.Party]:
    qs = Entry.filter(competition_id=competition_id)
    if entry_ids is not None:
        qs = qs.filter(id__in=entry_ids)
    rows = await qs.using_db(using_db).select_related("organization")
    return {
        e.id: conflicts.party(
            e.organization.name if e.organization else None,
            [e.contact_email],
            e.declared_ties,
            list(e.organization.email_domains) if e.organization else [],
        )
        for e in rows
    }


async def submit_entry(
    competition_id: int,
    data: EntryInput,
    *,
    actor: str,
    scope: Scope | None,
    source: EntrySource = EntrySource.API,
    submitted_by_person_id: int | None = None,
) -> Entry:
    """A new entry in the competition's first round (status ``submitted``). ``scope`` is the organizer's
    (None: an entrant through the bot or the web form, only while entries are open; the entrant is
    ``submitted_by_person_id``). Conflicts with the judges already named are found and logged. Raises
    ``competition_not_found``, ``invalid_input`` (unknown track or achievement, a bad e-mail or phone),
    ``entries_closed``.
    """
    config = await load_config(competition_id, scope)
    _may_take_entries(config.competition, organizer=scope is not None)
    track = next((t for t in config.tracks if t.code.casefold() == data.track.casefold()), None)
    if track is None:
        raise InvalidInput(N_("This competition has no track %(code)s."), field="track", code=data.track[:32])
    if data.achievement_id is not None and not await Achievement.exists(id=data.achievement_id):
        raise InvalidInput(N_("No such achievement."), field="achievement_id")
    email = normalize_email(data.contact_email)
    phone = normalize_phone(data.contact_phone)
    organization = await organizations.find_or_create_organization(data.organization) if data.organization else None
    first_round = config.rounds[0]
    async with in_transaction() as conn:
        leader_id = submitted_by_person_id
        if leader_id is None and (email or phone):
            # The leader is told of every change of status: a person the outbox can reach.
            leader = await find_or_create_person(
                name=data.leader_name or data.title[:100],
                phone=phone,
                email=email,
                organization=data.organization,
                telegram_id=None,
                using_db=conn,
            )
            leader_id = leader.id
        elif leader_id is not None and not await Person.exists(id=leader_id, using_db=conn):
            raise InvalidInput(N_("No such person."), field="submitted_by")
        entry = await Entry.create(
            competition_id=config.competition.id,
            title=data.title,
            summary=data.summary,
            team=[m.model_dump() for m in data.team],
            leader_id=leader_id,
            leader_name=data.leader_name,
            organization_id=organization.id if organization else None,
            track_id=track.id,
            achievement_id=data.achievement_id,
            fields_of_technology=list(dict.fromkeys(data.fields_of_technology)),
            status=EntryStatus.SUBMITTED,
            current_round_id=first_round.id,
            declared_ties=list(dict.fromkeys(data.declared_ties)),
            contact_email=email,
            contact_phone=phone,
            email_domain=conflicts.email_domain(email),
            source=source,
            submitted_by_id=submitted_by_person_id,
            created_by=actor[:100],
            using_db=conn,
        )
        party = conflicts.party(
            organization.name if organization else None,
            [email],
            entry.declared_ties,
            list(organization.email_domains) if organization else [],
        )
        found = conflicts.conflict_pairs(await judge_parties(config.competition.id, conn), {entry.id: party})
        await conflicts.log(conn, config.competition.id, found)
        await _record_status(conn, config, entry, None, EntryStatus.SUBMITTED, reason=None, actor=actor)
    return await get_entry(config.competition.id, entry.id, None)


async def _record_status(
    conn: BaseDBAsyncClient,
    config: Config | Competition,
    entry: Entry,
    old: EntryStatus | None,
    new: EntryStatus,
    *,
    reason: str | None,
    actor: str,
) -> None:
    competition = config.competition if isinstance(config, Config) else config
    await activity.record(
        "competition.entry_status",
        actor=actor,
        using_db=conn,
        event_id=competition.launch_event_id,
        person_id=entry.submitted_by_id or entry.leader_id,
        competition_id=competition.id,
        entry_id=entry.id,
        old=old.value if old is not None else None,
        new=new.value,
        reason=reason,
    )


async def set_entry_status(
    conn: BaseDBAsyncClient,
    entry: Entry,
    new: EntryStatus,
    *,
    reason: str | None,
    actor: str,
    competition: Competition | None = None,
) -> None:
    """Change the status inside the caller's transaction and record ``competition.entry_status``
    (closing uses it for advanced, eliminated, awarded; a close of thousands passes its ``competition``)."""
    old = EntryStatus(entry.status)
    entry.status = new
    await Entry.filter(id=entry.id).using_db(conn).update(status=new, updated_at=clock.now())
    if competition is None or competition.id != entry.competition_id:
        competition = await Competition.get(id=entry.competition_id, using_db=conn)
    await _record_status(conn, competition, entry, old, new, reason=reason, actor=actor)


async def get_entry(competition_id: int, entry_id: int, scope: Scope | None) -> Entry:
    """With track, organization and current round loaded. Raises ``competition_not_found``,
    ``entry_not_found``."""
    competition = await Competition.get_or_none(id=competition_id)
    if competition is None or (scope is not None and not scope.covers(competition.managed_by_id)):
        raise CompetitionNotFound()
    entry = await Entry.get_or_none(id=entry_id, competition_id=competition_id).select_related(
        "track", "organization", "current_round"
    )
    if entry is None:
        raise EntryNotFound()
    return entry


ORDER = ("id",)


async def entry_page(
    competition_id: int,
    *,
    scope: Scope,
    status: EntryStatus | None = None,
    track: str | None = None,
    round_code: str | None = None,
    search: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> paging.Page[Entry]:
    """In order of submission, with track, organization and round loaded; ``search`` finds words in the
    title, the leader's name or the organization's name. Raises ``competition_not_found``,
    ``round_not_found``, ``invalid_input`` (cursor)."""
    config = await load_config(competition_id, scope)
    qs = Entry.filter(competition_id=config.competition.id)
    if status is not None:
        qs = qs.filter(status=status)
    if track:
        qs = qs.filter(track__code=track)
    if round_code:
        qs = qs.filter(current_round_id=config.round(round_code).id)
    for word in (search or "").split()[:5]:
        qs = qs.filter(
            Q(title__icontains=word) | Q(leader_name__icontains=word) | Q(organization__name__icontains=word)
        )
    total = await qs.count()
    rows = (
        await paging.after(qs, "competition_entries", ORDER, cursor)
        .order_by(*ORDER)
        .limit(limit + 1)
        .select_related("track", "organization", "current_round")
    )
    return paging.page(rows, "competition_entries", ORDER, limit, total=total)


async def _locked_entry(conn: BaseDBAsyncClient, competition_id: int, entry_id: int) -> Entry:
    from events.services.competitions.config import lock_row

    await lock_row(conn, "competition_entry", entry_id)
    entry = await Entry.get_or_none(id=entry_id, competition_id=competition_id, using_db=conn)
    if entry is None:
        raise EntryNotFound()
    return entry


def _reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if len(text) > 1000:
        raise InvalidInput(N_("Keep the reason under 1000 characters."), field="reason")
    if required and not text:
        raise InvalidInput(N_("Give a reason."), field="reason")
    return text or None


async def review_entry(
    competition_id: int, entry_id: int, *, accept: bool, reason: str | None, scope: Scope, actor: str
) -> Entry:
    """Eligibility review (资格审查): ``submitted`` → ``accepted`` | ``rejected``. A reason is required to
    reject; a rejected entry may be accepted on a second look, and an accepted one rejected until it is
    scored. Raises ``competition_not_found``, ``entry_not_found``, ``invalid_transition``,
    ``invalid_input`` (no reason to reject).
    """
    config = await load_config(competition_id, scope)
    await _review(config, [Review(entry_id, accept, reason)], actor=actor)
    return await get_entry(config.competition.id, entry_id, None)


@dataclass(frozen=True, slots=True)
class Review:
    """One decision of an eligibility review."""

    entry_id: int
    accept: bool
    reason: str | None = None


async def review_entries(competition_id: int, decisions: Sequence[Review], *, scope: Scope, actor: str) -> int:
    """A batch of eligibility decisions (a review panel's list), each checked as ``review_entry`` checks
    one, in one transaction: all of them, or none when one is refused. Returns how many were decided.
    Raises what ``review_entry`` raises, and ``invalid_input`` (an entry listed twice).
    """
    config = await load_config(competition_id, scope)
    ids = [d.entry_id for d in decisions]
    if len(set(ids)) != len(ids):
        raise InvalidInput(N_("An entry is listed twice."), field="entry_id")
    await _review(config, decisions, actor=actor)
    return len(decisions)


async def _review(config: Config, decisions: Sequence[Review], *, actor: str) -> None:
    reasons = [_reason(d.reason, required=not d.accept) for d in decisions]
    async with in_transaction() as conn:
        for decision, why in zip(decisions, reasons, strict=True):
            entry = await _locked_entry(conn, config.competition.id, decision.entry_id)
            old = EntryStatus(entry.status)
            allowed = (
                (EntryStatus.SUBMITTED, EntryStatus.REJECTED)
                if decision.accept
                else (EntryStatus.SUBMITTED, EntryStatus.ACCEPTED)
            )
            if old not in allowed or (not decision.accept and await _is_scored(conn, entry.id)):
                raise InvalidTransition(status=old.value)
            new = EntryStatus.ACCEPTED if decision.accept else EntryStatus.REJECTED
            now = clock.now()
            await (
                Entry.filter(id=entry.id)
                .using_db(conn)
                .update(status=new, review_reason=why, reviewed_at=now, reviewed_by=actor[:100], updated_at=now)
            )
            await _record_status(conn, config, entry, old, new, reason=why, actor=actor)


async def _is_scored(conn: BaseDBAsyncClient, entry_id: int) -> bool:
    from events.models import ScoreVersion

    return await ScoreVersion.filter(assignment__entry_id=entry_id).using_db(conn).exists()


async def withdraw_entry(
    competition_id: int,
    entry_id: int,
    *,
    reason: str | None,
    actor: str,
    scope: Scope | None,
    person_id: int | None = None,
) -> Entry:
    """The organizer (``scope``) or the entrant (``person_id``: who submitted it or leads it) withdraws
    the entry; from then on it is never ranked (the next-ranked entry moves up in a ranking). Raises
    ``competition_not_found``, ``entry_not_found`` (also an entry of someone else for an entrant),
    ``invalid_transition`` (already withdrawn, rejected, eliminated).
    """
    config = await load_config(competition_id, scope)
    why = _reason(reason, required=False)
    async with in_transaction() as conn:
        entry = await _locked_entry(conn, config.competition.id, entry_id)
        if scope is None and (person_id is None or person_id not in (entry.submitted_by_id, entry.leader_id)):
            raise EntryNotFound()
        old = EntryStatus(entry.status)
        if old in (EntryStatus.WITHDRAWN, EntryStatus.REJECTED, EntryStatus.ELIMINATED):
            raise InvalidTransition(status=old.value)
        now = clock.now()
        await (
            Entry.filter(id=entry.id)
            .using_db(conn)
            .update(status=EntryStatus.WITHDRAWN, withdrawn_at=now, updated_at=now)
        )
        await _record_status(conn, config, entry, old, EntryStatus.WITHDRAWN, reason=why, actor=actor)
        # 依序递补: a seat the entry held through a round goes to the next-ranked entry, in this transaction.
        from events.services.competitions import closing  # closing builds on this module

        await closing.vacate(conn, entry, reason=why, actor=actor)
    return await get_entry(config.competition.id, entry_id, None)


def in_round_filter(rnd: Round) -> Q:
    """Entries of a round: in play there now, or judged there before (assigned) and not withdrawn or rejected."""
    assigned = Assignment.filter(round_id=rnd.id).values("entry_id")
    return (Q(current_round_id=rnd.id, status__in=IN_PLAY) | Q(id__in=Subquery(assigned))) & ~Q(status__in=NEVER_RANKED)
