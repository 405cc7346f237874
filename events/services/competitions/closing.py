"""Closing a round, the public notice (公示), objections, moving up (依序递补), award tiers and results.

- **Close** (``close_round``): under the round's exclusive lock (``scoring.lock_round``; a score takes
  it shared and reads the status again under it), so a score is in the ranking the close takes or is
  refused with ``round_closed``, never half. Refused while an active assignment has no submitted score
  (or an entry in play has no judge) unless forced with a reason. The round's ``advance`` rule picks
  who goes through (``ranking.advancing``) plus the organizer's wildcards; in the last round an empty
  rule takes every ranked entry into the results. The rest of the entries in play are eliminated. The
  notice opens at once and runs ``notice_days`` whole local days after the day of the close: it ends at
  local midnight (stored in UTC).
- **Objections** (``file_objection``): real name, contact, reason, evidence, only while the notice of
  a round the entry was ranked in is open. The organizer upholds or dismisses with a reason.
- **Moving up** (``vacate``): an upheld objection against an entry that went through, or its
  withdrawal, revokes its advance and takes the next-ranked entry eliminated in that round (scoring at
  least the rule's ``min_score``, never one removed by an objection or a withdrawal) — from the same
  track when the seat was a per-track one (``top_per_track``, outside the overall ``top``). A wildcard's
  seat was never the rule's: nobody moves up for it. Moving up happens while the next round is still
  open (for the last round: until its results are final).
- **Finalize** (``finalize_round``): after the notice, with no objection pending; for the last round the
  award tiers (``Competition.award_tiers``, best first, each ``count`` places) go to the entries through
  it in rank order, ties at a tier's line sharing the better tier.

Every change is an activity fact in the same transaction: ``competition.round_closed``,
``competition.round_result`` (advanced or eliminated, per entry), ``competition.moved_up``,
``competition.objection_filed``, ``competition.objection_decided``, ``competition.round_finalized``,
``competition.entry_awarded``; entry status changes go through ``entries.set_entry_status``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from events import clock, localtime
from events.errors import (
    N_,
    EntryNotFound,
    InvalidInput,
    InvalidTransition,
    NoticeClosed,
    NoticeOpen,
    NotInNotice,
    ObjectionDecided,
    ObjectionNotFound,
    ObjectionsPending,
    PreviousRoundNotFinal,
    RoundNotOpen,
    UnscoredEntries,
)
from events.models import (
    AdvanceHow,
    Assignment,
    AssignmentStatus,
    CompetitionStatus,
    Entry,
    EntryStatus,
    Objection,
    ObjectionStatus,
    Round,
    RoundAdvance,
    RoundStatus,
    ScoreVersion,
    Wildcard,
)
from events.services import activity, paging
from events.services.competitions import ranking
from events.services.competitions.config import Config, ints, load_config, lock_row, move_status
from events.services.competitions.entries import IN_PLAY, set_entry_status
from events.services.competitions.scoring import lock_round
from events.services.organizations import Scope
from events.services.people import find_or_create_person, normalize_email, normalize_phone

Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
RequiredReason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CloseInput(_Strict):
    force: bool = Field(default=False, description="Close although judges still owe scores (needs a reason).")
    reason: Reason | None = Field(default=None, description="Why the round is closed by force (kept).")
    notice_days: Annotated[int, Field(ge=0, le=60)] | None = Field(
        default=None, description="Days of public notice (公示) after the close; the round's own setting if left out."
    )


class WildcardInput(_Strict):
    entry_id: Annotated[int, Field(ge=1, lt=2**31)]
    reason: RequiredReason


class ObjectionInput(_Strict):
    """A real-name written objection (实名书面异议)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    contact: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)] = Field(
        description="A phone number or an e-mail address: how the decision reaches the objector."
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    evidence: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = Field(
        default="", description="The evidence: a text, or addresses (URLs) of documents."
    )


class DecisionInput(_Strict):
    decision: Literal["upheld", "dismissed"]
    reason: RequiredReason


# ---- the notice period ---------------------------------------------------------------------------


def notice_end(closed_at: datetime, days: int) -> datetime:
    """Local midnight ending the ``days``-th local day after the day of ``closed_at``, in UTC."""
    last_day = localtime.local(closed_at).date() + timedelta(days=days)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=localtime.zone()).astimezone(closed_at.tzinfo)


def notice_is_open(rnd: Round, now: datetime) -> bool:
    return rnd.status == RoundStatus.NOTICE and rnd.notice_ends_at is not None and now < rnd.notice_ends_at


# ---- wildcards -----------------------------------------------------------------------------------


async def add_wildcard(
    competition_id: int, round_code: str, data: WildcardInput, *, scope: Scope, actor: str
) -> Wildcard:
    """Name an entry in play in the round as the organizer's wildcard (before the close), with a reason;
    naming it again replaces the reason. Raises ``competition_not_found``, ``round_not_found``,
    ``round_not_open``, ``entry_not_found``, ``invalid_transition`` (not in play in this round)."""
    config = await load_config(competition_id, scope)
    rnd = config.round(round_code)
    async with in_transaction() as conn:
        rnd = await lock_round(conn, rnd.id)
        if rnd.status != RoundStatus.OPEN:
            raise RoundNotOpen()
        entry = await Entry.get_or_none(id=data.entry_id, competition_id=config.competition.id, using_db=conn)
        if entry is None:
            raise EntryNotFound()
        if entry.current_round_id != rnd.id or entry.status not in IN_PLAY:
            raise InvalidTransition(status=EntryStatus(entry.status).value)
        wildcard, made = await Wildcard.get_or_create(
            round_id=rnd.id,
            entry_id=entry.id,
            defaults={"reason": data.reason, "by": actor[:100], "at": clock.now()},
            using_db=conn,
        )
        if not made:
            wildcard.reason, wildcard.by, wildcard.at = data.reason, actor[:100], clock.now()
            await wildcard.save(using_db=conn)
        await activity.record(
            "competition.wildcard",
            actor=actor,
            using_db=conn,
            event_id=config.competition.launch_event_id,
            competition_id=config.competition.id,
            round=rnd.code,
            entry_id=entry.id,
            reason=data.reason,
        )
    return wildcard


async def wildcards_of(competition_id: int, round_code: str, *, scope: Scope) -> list[Wildcard]:
    """The round's wildcards in the order they were named. Raises ``competition_not_found``,
    ``round_not_found``."""
    config = await load_config(competition_id, scope)
    return await Wildcard.filter(round_id=config.round(round_code).id).order_by("id")


# ---- close ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unscored:
    entry_id: int
    judge_ids: list[int]  # the judges who owe a submitted score (empty: the entry has no judge at all)


@dataclass(frozen=True, slots=True)
class CloseResult:
    round: Round
    advanced: list[RoundAdvance]
    eliminated: list[int]
    unscored: list[Unscored]


async def unscored_entries(round_id: int) -> list[Unscored]:
    """Entries in play in the round that lack a submitted score: an active assignment without one, or
    no active assignment at all."""
    scored = ScoreVersion.filter(round_id=round_id, submitted=True).values("assignment_id")
    owing = (
        await Assignment.filter(round_id=round_id, status=AssignmentStatus.ACTIVE)
        .exclude(id__in=Subquery(scored))
        .order_by("entry_id", "judge_id")
        .values_list("entry_id", "judge_id")
    )
    by_entry: dict[int, list[int]] = {}
    for entry_id, judge_id in owing:
        by_entry.setdefault(int(entry_id), []).append(int(judge_id))
    judged = set(
        ints(
            await Assignment.filter(round_id=round_id, status=AssignmentStatus.ACTIVE).values_list(
                "entry_id", flat=True
            )
        )
    )
    in_play = ints(await Entry.filter(current_round_id=round_id, status__in=IN_PLAY).values_list("id", flat=True))
    for entry_id in in_play:
        if entry_id not in judged:
            by_entry[entry_id] = []
    return [Unscored(e, by_entry[e]) for e in sorted(by_entry)]


def _through_last_round(ranked: list[ranking.Ranked], advance: dict[str, Any]) -> set[int]:
    """The last round's rule; with none, every ranked entry goes into the results."""
    if not advance:
        return {r.entry_id for r in ranked if r.rank is not None}
    return ranking.advancing(ranked, advance)


async def close_round(
    competition_id: int, round_code: str, data: CloseInput, *, scope: Scope, actor: str
) -> CloseResult:
    """Close the round: promote by its advance rule and the wildcards, eliminate the rest, open the
    notice. Raises ``competition_not_found``, ``round_not_found``, ``round_not_open``,
    ``previous_round_not_final``, ``unscored_entries`` (unless ``force``), ``invalid_input`` (force
    without a reason).
    """
    config = await load_config(competition_id, scope)
    rnd = config.round(round_code)
    if data.force and not data.reason:
        raise InvalidInput(N_("Give a reason."), field="reason")
    previous = [r for r in config.rounds if r.order < rnd.order]
    async with in_transaction() as conn:
        # Exclusive: scores wait (or were committed before): the ranking below is the one the close decides on.
        rnd = await lock_round(conn, rnd.id)
        if rnd.status != RoundStatus.OPEN:
            raise RoundNotOpen()
        if previous:
            before = await Round.get(id=previous[-1].id, using_db=conn)
            if before.status != RoundStatus.FINAL:
                raise PreviousRoundNotFinal(round=before.name)
        owing = await unscored_entries(rnd.id)
        if owing and not data.force:
            raise UnscoredEntries(
                count=len(owing), unscored=[{"entry_id": u.entry_id, "judge_ids": u.judge_ids} for u in owing]
            )
        # Inside the transaction: the queries of the ranking run on this connection (and under the lock).
        result = await ranking.round_ranking(config.competition.id, rnd.code, scope=None)
        following = config.next_round(rnd)
        advance = rnd.advance or {}
        chosen = ranking.advancing(result.items, advance) if following else _through_last_round(result.items, advance)
        wildcards = {w.entry_id: w for w in await Wildcard.filter(round_id=rnd.id).using_db(conn)}
        now = clock.now()
        days = data.notice_days if data.notice_days is not None else rnd.notice_days
        ends = notice_end(now, days)
        await (
            Round.filter(id=rnd.id)
            .using_db(conn)
            .update(
                status=RoundStatus.NOTICE,
                closed_at=now,
                closed_by=actor[:100],
                forced_reason=data.reason if owing else None,
                notice_days=days,
                notice_ends_at=ends,
            )
        )
        ranked = {r.entry_id: r for r in result.items}
        in_play = await Entry.filter(current_round_id=rnd.id, status__in=IN_PLAY).using_db(conn).order_by("id")
        advanced: list[RoundAdvance] = []
        eliminated: list[int] = []
        for entry in sorted(in_play, key=lambda e: _order(ranked.get(e.id), e.id)):
            r = ranked.get(entry.id)
            how = AdvanceHow.RULE if entry.id in chosen else AdvanceHow.WILDCARD if entry.id in wildcards else None
            if how is None:
                eliminated.append(entry.id)
                await set_entry_status(
                    conn, entry, EntryStatus.ELIMINATED, reason=None, actor=actor, competition=config.competition
                )
                await _result_fact(conn, config, rnd, entry, "eliminated", None, r, following, actor)
                continue
            advanced.append(
                await RoundAdvance.create(
                    round_id=rnd.id,
                    entry_id=entry.id,
                    how=how,
                    rank=r.rank if r else None,
                    score=r.score if r else None,
                    reason=wildcards[entry.id].reason if how == AdvanceHow.WILDCARD else "",
                    at=now,
                    by=actor[:100],
                    using_db=conn,
                )
            )
            await set_entry_status(
                conn, entry, EntryStatus.ADVANCED, reason=None, actor=actor, competition=config.competition
            )
            if following is not None:
                await Entry.filter(id=entry.id).using_db(conn).update(current_round_id=following.id)
            await _result_fact(conn, config, rnd, entry, "advanced", how, r, following, actor)
        # Its rounds are under way: no entry joins a round that has closed.
        await move_status(conn, config.competition.id, CompetitionStatus.JUDGING, actor=actor, why=f"closed:{rnd.code}")
        await activity.record(
            "competition.round_closed",
            actor=actor,
            using_db=conn,
            event_id=config.competition.launch_event_id,
            competition_id=config.competition.id,
            round=rnd.code,
            advanced=len(advanced),
            eliminated=len(eliminated),
            forced=bool(owing),
            reason=data.reason if owing else None,
            unscored=[u.entry_id for u in owing],
            notice_ends_at=ends.isoformat(),
        )
        rnd = await Round.get(id=rnd.id, using_db=conn)
    return CloseResult(rnd, advanced, eliminated, owing)


def _order(r: ranking.Ranked | None, entry_id: int) -> tuple[bool, int, int]:
    return (r is None or r.rank is None, (r.rank or 0) if r else 0, entry_id)


async def _result_fact(
    conn: BaseDBAsyncClient,
    config: Config,
    rnd: Round,
    entry: Entry,
    outcome: str,
    how: AdvanceHow | None,
    r: ranking.Ranked | None,
    following: Round | None,
    actor: str,
    **more: Any,
) -> None:
    """What a round decided for one entry, as the entrant is told it."""
    await activity.record(
        "competition.round_result",
        actor=actor,
        using_db=conn,
        event_id=config.competition.launch_event_id,
        person_id=entry.submitted_by_id or entry.leader_id,
        competition_id=config.competition.id,
        round=rnd.code,
        entry_id=entry.id,
        outcome=outcome,
        how=how.value if how else None,
        rank=r.rank if r else None,
        score=r.score if r else None,
        next_round=following.code if following else None,
        **more,
    )


# ---- objections ----------------------------------------------------------------------------------


def parse_contact(raw: str) -> tuple[str | None, str | None]:
    """(phone, e-mail) from the objector's contact. Raises ``invalid_input`` (field ``contact``)."""
    try:
        if "@" in raw:
            return None, normalize_email(raw)
        return normalize_phone(raw), None
    except InvalidInput as exc:
        raise InvalidInput(N_("Give a phone number or an e-mail address."), field="contact") from exc


async def _notice_round(conn: BaseDBAsyncClient, config: Config, entry: Entry) -> Round | None:
    """The latest round under notice in which the entry was ranked (assigned, decided or in play)."""
    for rnd in sorted(config.rounds, key=lambda r: -r.order):
        if rnd.status != RoundStatus.NOTICE:
            continue
        if (
            entry.current_round_id == rnd.id
            or await RoundAdvance.exists(round_id=rnd.id, entry_id=entry.id, using_db=conn)
            or await Assignment.exists(round_id=rnd.id, entry_id=entry.id, using_db=conn)
        ):
            return rnd
    return None


async def file_objection(
    competition_id: int,
    entry_id: int,
    data: ObjectionInput,
    *,
    actor: str,
    person_id: int | None = None,
) -> Objection:
    """A real-name objection to an entry's result while the notice of its round is open (anyone may
    file one; ``person_id`` when the bot knows the objector, else a person is kept for the contact so
    the decision can reach them). Raises ``competition_not_found``, ``entry_not_found``,
    ``notice_closed``, ``invalid_input`` (contact).
    """
    config = await load_config(competition_id, None)
    phone, email = parse_contact(data.contact)
    entry = await Entry.get_or_none(id=entry_id, competition_id=config.competition.id)
    if entry is None:
        raise EntryNotFound()
    async with in_transaction() as conn:
        rnd = await _notice_round(conn, config, entry)
        # Read under the round's lock: an objection is either inside the notice or refused.
        if rnd is not None:
            rnd = await lock_round(conn, rnd.id, shared=True)
        if rnd is None or not notice_is_open(rnd, clock.now()):
            raise NoticeClosed()
        if person_id is None:
            person = await find_or_create_person(
                name=data.name, phone=phone, email=email, organization=None, telegram_id=None, using_db=conn
            )
            person_id = person.id
        objection = await Objection.create(
            competition_id=config.competition.id,
            entry_id=entry.id,
            round_id=rnd.id,
            objector_name=data.name,
            objector_contact=email or phone or data.contact,
            objector_id=person_id,
            reason=data.reason,
            evidence=data.evidence,
            created_at=clock.now(),
            using_db=conn,
        )
        await activity.record(
            "competition.objection_filed",
            actor=actor,
            using_db=conn,
            event_id=config.competition.launch_event_id,
            competition_id=config.competition.id,
            round=rnd.code,
            entry_id=entry.id,
            objection_id=objection.id,
        )
    return objection


OBJECTION_ORDER = ("id",)


async def objection_page(
    competition_id: int,
    *,
    scope: Scope,
    status: ObjectionStatus | None = None,
    round_code: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> paging.Page[Objection]:
    """The competition's objections in the order they came, with entry and round loaded. Raises
    ``competition_not_found``, ``round_not_found``, ``invalid_input`` (cursor)."""
    config = await load_config(competition_id, scope)
    qs = Objection.filter(competition_id=config.competition.id)
    if status is not None:
        qs = qs.filter(status=status)
    if round_code:
        qs = qs.filter(round_id=config.round(round_code).id)
    total = await qs.count()
    rows = (
        await paging.after(qs, "competition_objections", OBJECTION_ORDER, cursor)
        .order_by(*OBJECTION_ORDER)
        .limit(limit + 1)
        .select_related("entry", "round")
    )
    return paging.page(rows, "competition_objections", OBJECTION_ORDER, limit, total=total)


@dataclass(frozen=True, slots=True)
class Decision:
    objection: Objection
    revoked: list[RoundAdvance] = field(default_factory=list)
    moved_up: list[RoundAdvance] = field(default_factory=list)


async def decide_objection(
    competition_id: int, objection_id: int, data: DecisionInput, *, scope: Scope, actor: str
) -> Decision:
    """Uphold or dismiss a pending objection, with a reason. Upheld against an entry that went through
    the round: its advance is revoked, it is eliminated, and the next-ranked entry moves up (see the
    module). Raises ``competition_not_found``, ``objection_not_found``, ``objection_decided``,
    ``round_not_in_notice``.
    """
    config = await load_config(competition_id, scope)
    found = await Objection.get_or_none(id=objection_id, competition_id=config.competition.id)
    if found is None:
        raise ObjectionNotFound()
    async with in_transaction() as conn:
        # The entry first, then the round: the order a withdrawal takes them in.
        await lock_row(conn, "competition_entry", found.entry_id)
        rnd = await lock_round(conn, found.round_id)
        objection = await Objection.get(id=objection_id, using_db=conn)
        if objection.status != ObjectionStatus.PENDING:
            raise ObjectionDecided()
        if rnd.status != RoundStatus.NOTICE:
            raise NotInNotice()
        upheld = data.decision == "upheld"
        now = clock.now()
        objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        objection.decided_reason, objection.decided_at, objection.decided_by = data.reason, now, actor[:100]
        await objection.save(using_db=conn)
        revoked: list[RoundAdvance] = []
        moved: list[RoundAdvance] = []
        if upheld:
            entry = await Entry.get(id=objection.entry_id, using_db=conn)
            advance = await RoundAdvance.get_or_none(round_id=rnd.id, entry_id=entry.id, revoked_at=None, using_db=conn)
            if advance is not None:
                # The entry leaves the results of this round (and the next round it had entered).
                await _leave_next_round(conn, config, rnd, entry)
                await set_entry_status(conn, entry, EntryStatus.ELIMINATED, reason=data.reason, actor=actor)
                revoked, moved = await _revoke_and_move_up(
                    conn, config, [advance], reason=data.reason, cause="objection", actor=actor
                )
        await activity.record(
            "competition.objection_decided",
            actor=actor,
            using_db=conn,
            event_id=config.competition.launch_event_id,
            competition_id=config.competition.id,
            round=rnd.code,
            entry_id=objection.entry_id,
            objection_id=objection.id,
            decision=data.decision,
            reason=data.reason,
            revoked=bool(revoked),
            moved_up=[a.entry_id for a in moved],
        )
    return Decision(objection, revoked, moved)


async def _leave_next_round(conn: BaseDBAsyncClient, config: Config, rnd: Round, entry: Entry) -> None:
    following = config.next_round(rnd)
    if following is None:
        return
    await Entry.filter(id=entry.id).using_db(conn).update(current_round_id=rnd.id)
    await (
        Assignment.filter(round_id=following.id, entry_id=entry.id, status=AssignmentStatus.ACTIVE)
        .using_db(conn)
        .update(status=AssignmentStatus.REPLACED, status_changed_at=clock.now())
    )


# ---- moving up (依序递补) --------------------------------------------------------------------------


async def vacate(conn: BaseDBAsyncClient, entry: Entry, *, reason: str | None, actor: str) -> list[RoundAdvance]:
    """The entry left the competition (withdrawn, inside the caller's transaction): revoke its advances
    and move the next-ranked entry up where the seat is still worth filling. Returns who moved up."""
    advances = await RoundAdvance.filter(entry_id=entry.id, revoked_at=None).using_db(conn).order_by("round_id")
    if not advances:
        return []
    config = await load_config(entry.competition_id, None)
    return (await _revoke_and_move_up(conn, config, advances, reason=reason or "", cause="withdrawal", actor=actor))[1]


def _seat_is_per_track(advance: dict[str, Any], rank: int | None) -> bool:
    """A seat taken through ``top_per_track`` (not inside the overall ``top``) is refilled from its track."""
    if advance.get("top_per_track") is None:
        return False
    top = advance.get("top")
    return top is None or rank is None or rank > top


def _may_move_up(config: Config, rnd: Round) -> bool:
    """Seats are refilled while the round is published and its successor has not closed (the last round:
    until its results are final)."""
    following = config.next_round(rnd)
    if following is None:
        return rnd.status == RoundStatus.NOTICE
    return rnd.status in (RoundStatus.NOTICE, RoundStatus.FINAL) and following.status == RoundStatus.OPEN


async def _revoke_and_move_up(
    conn: BaseDBAsyncClient,
    config: Config,
    advances: Sequence[RoundAdvance],
    *,
    reason: str,
    cause: str,
    actor: str,
) -> tuple[list[RoundAdvance], list[RoundAdvance]]:
    now = clock.now()
    revoked: list[RoundAdvance] = []
    moved: list[RoundAdvance] = []
    for advance in advances:
        rnd = await lock_round(conn, advance.round_id)
        await RoundAdvance.filter(id=advance.id).using_db(conn).update(revoked_at=now, revoked_reason=reason or cause)
        revoked.append(advance)
        # The rounds as they are now (read under the lock): has the next one closed since?
        config = await load_config(config.competition.id, None)
        if advance.how == AdvanceHow.WILDCARD or not _may_move_up(config, rnd):
            continue
        up = await _move_up(conn, config, rnd, advance, reason=reason, cause=cause, actor=actor)
        if up is not None:
            moved.append(up)
    return revoked, moved


async def _move_up(
    conn: BaseDBAsyncClient,
    config: Config,
    rnd: Round,
    removed: RoundAdvance,
    *,
    reason: str,
    cause: str,
    actor: str,
) -> RoundAdvance | None:
    result = await ranking.round_ranking(config.competition.id, rnd.code, scope=None)
    rule = rnd.advance or {}
    floor = rule.get("min_score")
    # Anyone who ever went through this round, and anyone an objection was upheld against, is not taken.
    taken = set(ints(await RoundAdvance.filter(round_id=rnd.id).using_db(conn).values_list("entry_id", flat=True)))
    taken |= set(
        ints(
            await Objection.filter(round_id=rnd.id, status=ObjectionStatus.UPHELD)
            .using_db(conn)
            .values_list("entry_id", flat=True)
        )
    )
    eliminated = set(
        ints(
            await Entry.filter(
                competition_id=config.competition.id, current_round_id=rnd.id, status=EntryStatus.ELIMINATED
            )
            .using_db(conn)
            .values_list("id", flat=True)
        )
    )
    removed_track = next((r.track for r in result.items if r.entry_id == removed.entry_id), None)
    if removed_track is None:  # a withdrawn entry has left the ranking: its track from the entry
        entry = await Entry.get(id=removed.entry_id, using_db=conn)
        removed_track = config.track_code(entry.track_id)
    per_track = _seat_is_per_track(rule, removed.rank)
    candidate = next(
        (
            r
            for r in result.items
            if r.rank is not None
            and r.score is not None
            and r.entry_id in eliminated
            and r.entry_id not in taken
            and (floor is None or r.score >= floor)
            and (not per_track or r.track == removed_track)
        ),
        None,
    )
    if candidate is None:
        return None
    entry = await Entry.get(id=candidate.entry_id, using_db=conn)
    up = await RoundAdvance.create(
        round_id=rnd.id,
        entry_id=entry.id,
        how=AdvanceHow.MOVED_UP,
        rank=candidate.rank,
        score=candidate.score,
        reason=reason,
        at=clock.now(),
        by=actor[:100],
        using_db=conn,
    )
    await set_entry_status(conn, entry, EntryStatus.ADVANCED, reason=reason or None, actor=actor)
    following = config.next_round(rnd)
    if following is not None:
        await Entry.filter(id=entry.id).using_db(conn).update(current_round_id=following.id)
    await _result_fact(
        conn,
        config,
        rnd,
        entry,
        "moved_up",
        AdvanceHow.MOVED_UP,
        candidate,
        following,
        actor,
        replaces=removed.entry_id,
        cause=cause,
        reason=reason,
    )
    return up


# ---- finalize and awards -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FinalizeResult:
    round: Round
    awarded: list[RoundAdvance]  # the last round's tiers (empty for the other rounds)


def award_tiers(places: list[tuple[int, float | None]], tiers: list[dict[str, Any]]) -> dict[int, str]:
    """Entry id → tier code (pure). ``places``: the entries through the last round, best first, with
    their scores; equal scores share a place (1, 2, 2, 4), and a tie at a tier's line takes the better
    tier. Tiers are best first, each ``count`` places."""
    bounds: list[tuple[int, str]] = []
    total = 0
    for tier in tiers:
        total += int(tier["count"])
        bounds.append((total, str(tier["code"])))
    out: dict[int, str] = {}
    place = 0
    previous: float | None = None
    for position, (entry_id, score) in enumerate(places, start=1):
        if position == 1 or score is None or previous is None or round(score, 9) != round(previous, 9):
            place = position
        previous = score
        won = next((code for bound, code in bounds if place <= bound), None)
        if won is not None:
            out[entry_id] = won
    return out


async def finalize_round(competition_id: int, round_code: str, *, scope: Scope, actor: str) -> FinalizeResult:
    """Make the round's results final after its notice. For the last round, award the tiers and finish
    the competition. Raises ``competition_not_found``, ``round_not_found``, ``round_not_in_notice``,
    ``notice_open``, ``objections_pending``.
    """
    config = await load_config(competition_id, scope)
    rnd = config.round(round_code)
    async with in_transaction() as conn:
        rnd = await lock_round(conn, rnd.id)
        if rnd.status != RoundStatus.NOTICE or rnd.notice_ends_at is None:
            raise NotInNotice()
        now = clock.now()
        if now < rnd.notice_ends_at:
            raise NoticeOpen(ends_at=rnd.notice_ends_at)
        pending = await Objection.filter(round_id=rnd.id, status=ObjectionStatus.PENDING).using_db(conn).count()
        if pending:
            raise ObjectionsPending(count=pending)
        await Round.filter(id=rnd.id).using_db(conn).update(status=RoundStatus.FINAL, finalized_at=now)
        awarded: list[RoundAdvance] = []
        if config.next_round(rnd) is None:
            awarded = await _award(conn, config, rnd, actor)
            await move_status(
                conn, config.competition.id, CompetitionStatus.FINISHED, actor=actor, why=f"finalized:{rnd.code}"
            )
        await activity.record(
            "competition.round_finalized",
            actor=actor,
            using_db=conn,
            event_id=config.competition.launch_event_id,
            competition_id=config.competition.id,
            round=rnd.code,
            awarded=len(awarded),
        )
        rnd = await Round.get(id=rnd.id, using_db=conn)
    return FinalizeResult(rnd, awarded)


async def _award(conn: BaseDBAsyncClient, config: Config, rnd: Round, actor: str) -> list[RoundAdvance]:
    tiers = list(config.competition.award_tiers or [])
    if not tiers:
        return []
    names = {str(t["code"]): str(t["name"]) for t in tiers}
    through = await RoundAdvance.filter(round_id=rnd.id, revoked_at=None).using_db(conn)
    # Best first by score (the close's ranking); wildcards below the line take their own score's place.
    through.sort(key=lambda a: (a.score is None, -(a.score or 0.0), a.rank or 0, a.entry_id))
    won = award_tiers([(a.entry_id, a.score) for a in through], tiers)
    awarded = []
    for advance in through:
        code = won.get(advance.entry_id)
        if code is None:
            continue
        await RoundAdvance.filter(id=advance.id).using_db(conn).update(award_tier=code)
        advance.award_tier = code
        entry = await Entry.get(id=advance.entry_id, using_db=conn)
        await set_entry_status(conn, entry, EntryStatus.AWARDED, reason=names[code], actor=actor)
        await activity.record(
            "competition.entry_awarded",
            actor=actor,
            using_db=conn,
            event_id=config.competition.launch_event_id,
            person_id=entry.submitted_by_id or entry.leader_id,
            competition_id=config.competition.id,
            round=rnd.code,
            entry_id=entry.id,
            tier=code,
            tier_name=names[code],
        )
        awarded.append(advance)
    return awarded


# ---- public results ------------------------------------------------------------------------------

PUBLISHED = (RoundStatus.NOTICE, RoundStatus.FINAL)


@dataclass(frozen=True, slots=True)
class ResultEntry:
    entry_id: int
    title: str
    organization: str | None
    track: str  # code
    track_name: str
    rank: int | None  # in the round when it went through
    score: float | None
    how: AdvanceHow
    award_tier: str | None  # published with the last round's final results


@dataclass(frozen=True, slots=True)
class RoundResult:
    code: str
    name: str
    status: RoundStatus
    advance: dict[str, Any]
    notice_starts_at: datetime | None
    notice_ends_at: datetime | None
    objections_open: bool
    entries: list[ResultEntry]


@dataclass(frozen=True, slots=True)
class PublicResults:
    competition_id: int
    title: str
    status: CompetitionStatus
    award_tiers: list[dict[str, Any]]  # [{"code", "name", "count"}] best first
    rounds: list[RoundResult]  # published rounds only, in round order


async def public_results(competition_id: int) -> PublicResults:
    """What the public may see: for each round under notice or final, the entries through it (never
    the revoked ones) with title, organization, track, rank and score, how each went through, the notice
    period, and the award tiers once the last round is final. Raises ``competition_not_found``."""
    config = await load_config(competition_id, None)
    now = clock.now()
    tracks = {t.id: t for t in config.tracks}
    rounds = []
    for rnd in config.rounds:
        if rnd.status not in PUBLISHED:
            continue
        through = await RoundAdvance.filter(round_id=rnd.id, revoked_at=None).select_related("entry__organization")
        through.sort(key=lambda a: (a.rank is None, a.rank or 0, a.entry_id))
        final = rnd.status == RoundStatus.FINAL
        rounds.append(
            RoundResult(
                code=rnd.code,
                name=rnd.name,
                status=RoundStatus(rnd.status),
                advance=dict(rnd.advance or {}),
                notice_starts_at=rnd.closed_at,
                notice_ends_at=rnd.notice_ends_at,
                objections_open=notice_is_open(rnd, now),
                entries=[
                    ResultEntry(
                        entry_id=a.entry_id,
                        title=a.entry.title,
                        organization=a.entry.organization.name if a.entry.organization else None,
                        track=tracks[a.entry.track_id].code,
                        track_name=tracks[a.entry.track_id].name,
                        rank=a.rank,
                        score=a.score,
                        how=AdvanceHow(a.how),
                        award_tier=a.award_tier if final else None,
                    )
                    for a in through
                ],
            )
        )
    competition = config.competition
    return PublicResults(
        competition_id=competition.id,
        title=competition.title,
        status=CompetitionStatus(competition.status),
        award_tiers=list(competition.award_tiers or []),
        rounds=rounds,
    )
