"""Assignment of judges to the entries of a round: k judges per entry, never a conflicted one, loads
balanced, expertise fit preferred; re-assignment on recusal.

The plan (``plan``, pure) works in two steps:

1. Greedy: entries with the fewest eligible judges first; each takes the judges it still needs among
   its eligible ones by (load, no expertise fit, a hash of the pair). An entry needs k *distinct*
   eligible judges and judges have no capacity, so an entry gets k iff it has k eligible judges:
   anything short is reported (``infeasible``), never silently left short.
2. Balancing: while some judge A carries at least two more than a judge Z it can reach by a chain of
   moves (A hands one of its new entries to B, B one of its to C, … to Z, each only to a judge eligible
   for that entry and not on it yet), apply the chain: A loses one, Z gains one, nobody else changes.
   Σ load² falls each time, so it ends; and it ends exactly when no such chain exists, which is the
   optimality condition of the convex-cost flow this is (no negative cycle in the residual graph): the
   loads then minimise Σ load², so max − min ≤ 1 whenever any plan reaches that. Tests check the plan
   against brute force on small cases and the property on random conflicts.

Assignments already made are kept and counted in the loads (a re-run only fills gaps).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from events import clock
from events.errors import N_, AlreadyRecused, InvalidInput, NotAssigned, RoundClosed
from events.models import (
    Assignment,
    AssignmentStatus,
    CompetitionStatus,
    ConflictRecord,
    Entry,
    Judge,
    Recusal,
    RoundStatus,
)
from events.services import activity, paging
from events.services.competitions import conflicts
from events.services.competitions.config import Config, ints, load_config, lock_row, move_status
from events.services.competitions.entries import IN_PLAY, entry_parties, judge_parties
from events.services.organizations import Scope


@dataclass(frozen=True, slots=True)
class Need:
    """An entry of the round: who may judge it, who already does, and what it is about."""

    entry_id: int
    eligible: frozenset[int]  # judges free of conflicts with it and not already on it in any status
    have: int  # active assignments it has
    topics: frozenset[str] = frozenset()


@dataclass(slots=True)
class Plan:
    new: list[tuple[int, int]]  # (entry id, judge id) to create
    loads: dict[int, int]  # judge id → active assignments after the plan
    infeasible: list[tuple[int, int]]  # (entry id, judges it still lacks)


def _spread(entry_id: int, judge_id: int) -> int:
    # A fixed hash of the pair: equal-load judges are not always chosen in id order, so the same
    # judges are not always paired on every entry.
    return (judge_id * 2654435761 + entry_id * 40503) % 4294967296


def plan(needs: Iterable[Need], judges: dict[int, frozenset[str]], k: int, loads: dict[int, int] | None = None) -> Plan:
    """Who judges what (pure). ``judges``: judge id → expertise; ``loads``: active assignments already
    held in the round. See the module for the method and why it balances."""
    load = dict.fromkeys(judges, 0) | dict(loads or {})
    ordered = sorted((n for n in needs if n.have < k), key=lambda n: (len(n.eligible), n.entry_id))
    holders: dict[int, list[int]] = {}  # entry → judges newly given it
    by_judge: dict[int, set[int]] = {j: set() for j in judges}  # judge → entries newly given
    eligible_of: dict[int, frozenset[int]] = {}
    infeasible = []
    for need in ordered:
        want = k - need.have
        pool = [j for j in need.eligible if j in judges]
        eligible_of[need.entry_id] = frozenset(pool)
        pool.sort(key=lambda j: (load[j], not (judges[j] & need.topics), _spread(need.entry_id, j)))
        chosen = pool[:want]
        for j in chosen:
            load[j] += 1
            by_judge[j].add(need.entry_id)
        holders[need.entry_id] = chosen
        if len(chosen) < want:
            infeasible.append((need.entry_id, want - len(chosen)))
    _balance(load, by_judge, holders, eligible_of)
    new = sorted((e, j) for e, js in holders.items() for j in js)
    return Plan(new=new, loads=load, infeasible=sorted(infeasible))


def _balance(
    load: dict[int, int],
    by_judge: dict[int, set[int]],
    holders: dict[int, list[int]],
    eligible_of: dict[int, frozenset[int]],
) -> None:
    while True:
        chain = _improving_chain(load, by_judge, holders, eligible_of)
        if chain is None:
            return
        # chain: [(giver, entry, taker), …] from the heavy judge to the light one.
        for giver, entry_id, taker in chain:
            by_judge[giver].discard(entry_id)
            by_judge[taker].add(entry_id)
            held = holders[entry_id]
            held[held.index(giver)] = taker
        load[chain[0][0]] -= 1
        load[chain[-1][2]] += 1


def _improving_chain(
    load: dict[int, int],
    by_judge: dict[int, set[int]],
    holders: dict[int, list[int]],
    eligible_of: dict[int, frozenset[int]],
) -> list[tuple[int, int, int]] | None:
    """A chain of moves from a judge to one carrying at least two less, or None (BFS from the heaviest)."""
    if not load:
        return None
    lightest = min(load.values())
    # A judge met in a failed search from a judge at least as heavy cannot find a chain either (what it
    # reaches, the heavier one reached; what it needs, the heavier one needed): skip it.
    hopeless: set[int] = set()
    for start in sorted(load, key=lambda j: (-load[j], j)):
        if load[start] - lightest < 2:
            return None
        if start in hopeless:
            continue
        came: dict[int, tuple[int, int] | None] = {start: None}
        queue = deque([start])
        while queue:
            judge = queue.popleft()
            if load[judge] <= load[start] - 2:
                chain = []
                at = judge
                while came[at] is not None:
                    previous, entry_id = came[at]  # type: ignore[misc]
                    chain.append((previous, entry_id, at))
                    at = previous
                return chain[::-1]
            for entry_id in by_judge[judge]:
                on_it = set(holders[entry_id])
                for other in eligible_of[entry_id]:
                    if other not in came and other not in on_it:
                        came[other] = (judge, entry_id)
                        queue.append(other)
        hopeless.update(j for j in came if load[j] <= load[start])
    return None


@dataclass(frozen=True, slots=True)
class AssignmentReport:
    round: str
    created: int
    kept: int
    # Entries that could not get k judges: (entry id, how many judges it still lacks).
    infeasible: list[tuple[int, int]]
    loads: dict[int, int] = field(default_factory=dict)  # judge id → active assignments in the round


def _open(config: Config, round_code: str) -> tuple[int, int]:
    rnd = config.round(round_code)
    if rnd.status != RoundStatus.OPEN:
        raise RoundClosed()
    return rnd.id, rnd.judges_per_entry


async def assign_round(competition_id: int, round_code: str, *, scope: Scope, actor: str) -> AssignmentReport:
    """Fill every entry in play in the round up to ``judges_per_entry`` active assignments, keeping those
    there are; conflicts are found (and logged) first. Records ``competition.judge_assigned`` per judge
    who got new entries (with the round's deadline). Raises ``competition_not_found``,
    ``round_not_found``, ``round_closed``.
    """
    config = await load_config(competition_id, scope)
    round_id, k = _open(config, round_code)
    rnd = config.round(round_code)
    cid = config.competition.id
    async with in_transaction() as conn:
        # One run at a time per round (two organizers pressing at once would both fill the gaps).
        await lock_row(conn, "competition_round", round_id)
        entries = (
            await Entry.filter(competition_id=cid, current_round_id=round_id, status__in=IN_PLAY)
            .using_db(conn)
            .select_related("track")
        )
        judge_rows = await Judge.filter(competition_id=cid, active=True).using_db(conn)
        judge_facts = await judge_parties(cid, conn)
        entry_facts = await entry_parties(cid, [e.id for e in entries], conn)
        found = conflicts.conflict_pairs({j.id: judge_facts[j.id] for j in judge_rows}, entry_facts)
        await conflicts.log(conn, cid, found)
        logged = await ConflictRecord.filter(competition_id=cid).using_db(conn).values_list("judge_id", "entry_id")
        barred = {(int(j), int(e)) for j, e in logged} | set(found)
        existing = (
            await Assignment.filter(round_id=round_id).using_db(conn).values_list("entry_id", "judge_id", "status")
        )
        on_entry: dict[int, set[int]] = {}
        have: dict[int, int] = {}
        loads: dict[int, int] = {}
        for entry_id, judge_id, status in existing:
            on_entry.setdefault(int(entry_id), set()).add(int(judge_id))
            if status == AssignmentStatus.ACTIVE:
                have[int(entry_id)] = have.get(int(entry_id), 0) + 1
                loads[int(judge_id)] = loads.get(int(judge_id), 0) + 1
        judge_ids = [j.id for j in judge_rows]
        needs = [
            Need(
                entry_id=e.id,
                eligible=frozenset(j for j in judge_ids if (j, e.id) not in barred and j not in on_entry.get(e.id, ())),
                have=have.get(e.id, 0),
                topics=frozenset(
                    t.casefold() for t in (e.track.code, *e.fields_of_technology, *e.track.fields_of_interest)
                ),
            )
            for e in entries
        ]
        expertise = {j.id: frozenset(x.casefold() for x in j.expertise) for j in judge_rows}
        result = plan(needs, expertise, k, {j: loads.get(j, 0) for j in judge_ids})
        now = clock.now()
        await Assignment.bulk_create(
            [Assignment(round_id=round_id, entry_id=e, judge_id=j, assigned_at=now) for e, j in result.new],
            batch_size=500,
            using_db=conn,
        )
        closes = config.competition.entries_close_at
        if closes is not None and now >= closes:  # the entries are in and judging is under way
            await move_status(conn, cid, CompetitionStatus.JUDGING, actor=actor, why=f"assigned:{rnd.code}")
        given: dict[int, list[int]] = {}
        for e, j in result.new:
            given.setdefault(j, []).append(e)
        persons = {j.id: j.person_id for j in judge_rows}
        for judge_id, entry_ids in sorted(given.items()):
            await activity.record(
                "competition.judge_assigned",
                actor=actor,
                using_db=conn,
                event_id=config.competition.launch_event_id,
                person_id=persons.get(judge_id),
                competition_id=cid,
                round=rnd.code,
                judge_id=judge_id,
                entry_ids=entry_ids,
                deadline=rnd.closes_at.isoformat() if rnd.closes_at else None,
            )
    return AssignmentReport(
        round=rnd.code,
        created=len(result.new),
        kept=sum(have.values()),
        infeasible=result.infeasible,
        loads=dict(sorted(result.loads.items())),
    )


ORDER = ("id",)


async def assignments_of(
    competition_id: int,
    round_code: str,
    *,
    scope: Scope | None,
    judge: Judge | None,
    limit: int = 200,
    cursor: str | None = None,
) -> paging.Page[Assignment]:
    """The round's assignments for the organizer (``scope``), or a judge's own (``judge``), oldest
    first, with entry (and its track) and judge loaded. Raises ``competition_not_found``,
    ``round_not_found``, ``invalid_input`` (cursor)."""
    config = await load_config(competition_id, scope)
    qs = Assignment.filter(round_id=config.round(round_code).id)
    if judge is not None:
        qs = qs.filter(judge_id=judge.id)
    total = await qs.count()
    rows = (
        await paging.after(qs, "competition_assignments", ORDER, cursor)
        .order_by(*ORDER)
        .limit(limit + 1)
        .select_related("entry__track", "judge")
    )
    return paging.page(rows, "competition_assignments", ORDER, limit, total=total)


class RecusalInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


@dataclass(frozen=True, slots=True)
class RecusalResult:
    assignment: Assignment
    replacement: Assignment | None


async def recuse(
    competition_id: int, round_code: str, entry_id: int, *, judge: Judge, reason: str, actor: str
) -> RecusalResult:
    """The judge steps aside (回避) from an entry: the assignment is recused, the recusal logged as a
    conflict (rule ``recusal``), and a free unconflicted judge with the lightest load replaces them at
    once when there is one (else the entry shows in the next assignment run's ``infeasible``). Raises
    ``round_not_found``, ``not_assigned``, ``already_recused``, ``round_closed``, ``invalid_input``.
    """
    text = reason.strip()
    if not text or len(text) > 1000:
        raise InvalidInput(N_("Give a reason."), field="reason")
    config = await load_config(competition_id, None)
    rnd = config.round(round_code)
    cid = config.competition.id
    async with in_transaction() as conn:
        await lock_row(conn, "competition_round", rnd.id)
        if (await type(rnd).get(id=rnd.id, using_db=conn)).status != RoundStatus.OPEN:
            raise RoundClosed()
        mine = await Assignment.get_or_none(round_id=rnd.id, entry_id=entry_id, judge_id=judge.id, using_db=conn)
        if mine is None or mine.status == AssignmentStatus.REPLACED:
            raise NotAssigned()
        if mine.status == AssignmentStatus.RECUSED:
            raise AlreadyRecused()
        now = clock.now()
        mine.status = AssignmentStatus.RECUSED
        mine.status_changed_at = now
        await mine.save(using_db=conn, update_fields=["status", "status_changed_at"])
        await conflicts.log(conn, cid, {(judge.id, entry_id): [conflicts.Found(conflicts.RECUSAL, text[:500])]})
        replacement = await _replace(conn, config, rnd.id, entry_id, now)
        recusal = await Recusal.create(
            assignment_id=mine.id,
            reason=text,
            replacement_id=replacement.id if replacement else None,
            at=now,
            using_db=conn,
        )
        await activity.record(
            "competition.judge_recused",
            actor=actor,
            using_db=conn,
            event_id=config.competition.launch_event_id,
            competition_id=cid,
            round=rnd.code,
            judge_id=judge.id,
            entry_id=entry_id,
            recusal_id=recusal.id,
            replacement_judge_id=replacement.judge_id if replacement else None,
        )
        if replacement is not None:
            substitute = await Judge.get(id=replacement.judge_id, using_db=conn)
            await activity.record(
                "competition.judge_assigned",
                actor=actor,
                using_db=conn,
                event_id=config.competition.launch_event_id,
                person_id=substitute.person_id,
                competition_id=cid,
                round=rnd.code,
                judge_id=substitute.id,
                entry_ids=[entry_id],
                deadline=rnd.closes_at.isoformat() if rnd.closes_at else None,
                replacing=judge.id,
            )
    return RecusalResult(assignment=mine, replacement=replacement)


async def _replace(
    conn: BaseDBAsyncClient, config: Config, round_id: int, entry_id: int, now: datetime
) -> Assignment | None:
    """The lightest-loaded active judge free of conflicts with the entry and not yet on it, assigned."""
    cid = config.competition.id
    entry = await Entry.get(id=entry_id, using_db=conn).select_related("track")
    judges = await Judge.filter(competition_id=cid, active=True).using_db(conn)
    facts = await judge_parties(cid, conn)
    entry_fact = (await entry_parties(cid, [entry_id], conn))[entry_id]
    live = conflicts.conflict_pairs(facts, {entry_id: entry_fact})
    await conflicts.log(conn, cid, live)
    barred = set(ints(await ConflictRecord.filter(entry_id=entry_id).using_db(conn).values_list("judge_id", flat=True)))
    barred |= set(
        ints(
            await Assignment.filter(round_id=round_id, entry_id=entry_id)
            .using_db(conn)
            .values_list("judge_id", flat=True)
        )
    )
    free = [j for j in judges if j.id not in barred and (j.id, entry_id) not in live]
    if not free:
        return None
    loads: dict[int, int] = {}
    for judge_id in ints(
        await Assignment.filter(round_id=round_id, status=AssignmentStatus.ACTIVE)
        .using_db(conn)
        .values_list("judge_id", flat=True)
    ):
        loads[judge_id] = loads.get(judge_id, 0) + 1
    topics = {t.casefold() for t in (entry.track.code, *entry.fields_of_technology, *entry.track.fields_of_interest)}
    best = min(
        free,
        key=lambda j: (loads.get(j.id, 0), not ({x.casefold() for x in j.expertise} & topics), _spread(entry_id, j.id)),
    )
    return await Assignment.create(
        round_id=round_id, entry_id=entry_id, judge_id=best.id, assigned_at=now, using_db=conn
    )
