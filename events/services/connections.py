"""对接: connections between a demand and an achievement (or an investor), and answers to matched pushes.

A person answers a pushed match with 感兴趣 / 请技术经理人联系 / 不相关. Every answer is kept
(``MatchFeedback``, one per person and pair; "not relevant" also stops the pair from being pushed
again). "Interested" on a pair the person holds a side of opens a connection: the demand gets its first
response and moves open → matched, and the other side and the accountable broker hear of it through the
activity log (``connection.opened``). A third party (a broker, someone whose topics fit) who is
interested is a lead for the record's contact (``match.interest``). Organizers open connections by hand
and move them ``open → in_talks → contracted | closed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from events import clock
from events.db import dialect_of
from events.errors import (
    N_,
    ConnectionNotFound,
    InvalidInput,
    InvalidTransition,
    MatchNotAvailable,
    NotFound,
)
from events.models import (
    Achievement,
    Connection,
    ConnectionStatus,
    Demand,
    DemandStatus,
    Investor,
    MatchFeedback,
    MatchVerdict,
    OutboxMessage,
    Participant,
    Person,
)
from events.services import activity, demand_status, matching, paging
from events.services.matching import LIVE_ACHIEVEMENTS, OPEN_DEMANDS, Match
from events.services.organizations import Scope

# ---------------------------------------------------------------------------------------------- refs

# ``participant``: a project taking part in a roadshow, pushed to the investors there (matched pitches).
KINDS = {"d": "demand", "a": "achievement", "i": "investor", "b": "broker", "p": "person", "m": "participant"}
LETTERS = {name: letter for letter, name in KINDS.items()}
_REF = re.compile(r"^(?:(demand|achievement|investor|broker|person|participant):|([daibpm]))([1-9]\d{0,9})$")


@dataclass(frozen=True, slots=True, order=True)
class Ref:
    """One side of a pushed pair: ``demand:12`` (as MatchFeedback keeps it) or ``d12`` (in a button)."""

    kind: str
    id: int

    @classmethod
    def parse(cls, text: str) -> Ref:
        """Raises ``invalid_input``."""
        found = _REF.match(text or "")
        if found is None or int(found.group(3)) >= 2**31:
            raise InvalidInput(N_("%(value)s cannot be chosen here."), field="ref", value=(text or "")[:40])
        return cls(found.group(1) or KINDS[found.group(2)], int(found.group(3)))

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def short(self) -> str:
        return f"{LETTERS[self.kind]}{self.id}"


# The answers in a button's callback data (one letter each: the data must stay under 64 bytes).
VERDICT_CODES: dict[str, MatchVerdict] = {
    "i": MatchVerdict.INTERESTED,
    "b": MatchVerdict.WANTS_BROKER,
    "n": MatchVerdict.NOT_RELEVANT,
}
CODE_OF = {verdict: code for code, verdict in VERDICT_CODES.items()}

# A connection joins two of these; brokers and people are third parties (their interest is a lead).
RECORDS = frozenset({"demand", "achievement", "investor"})


def push_key(person_id: int, subject: Ref, item: Ref) -> str:
    """The outbox dedup key of the push of a pair to a person: the same whichever side it is told from,
    so a person hears of a pair once, ever (the key outlives the week and restarts)."""
    first, second = sorted((str(subject), str(item)))
    return f"matched:{first}:{second}:person:{person_id}"


# --------------------------------------------------------------------------------------- connections


@dataclass(frozen=True, slots=True)
class Opened:
    connection: Connection
    created: bool  # False: the pair was connected already (a second tap, a retried request)


@dataclass(frozen=True, slots=True)
class Sides:
    demand: Demand | None
    achievement: Achievement | None
    investor: Investor | None

    @property
    def managed_by(self) -> int:
        anchor = self.demand or self.achievement or self.investor
        assert anchor is not None
        return anchor.managed_by_id


async def _lock(conn: BaseDBAsyncClient, table: str, row_id: int) -> None:
    """Serialise openings of one pair. The unique key (demand, achievement, investor) cannot: one of the
    three is always null, and null never collides in a unique index (SQLite or PostgreSQL). So the anchor
    row (the demand, else the achievement) is locked first: FOR UPDATE on PostgreSQL, and on SQLite a
    write that makes the transaction the writer at once."""
    if dialect_of(conn) == "sqlite":
        await conn.execute_query(f'UPDATE "{table}" SET id = id WHERE id = ?', [row_id])
    else:
        await conn.execute_query(f'SELECT id FROM "{table}" WHERE id = $1 FOR UPDATE', [row_id])


async def _sides(demand_id: int | None, achievement_id: int | None, investor_id: int | None) -> Sides:
    """The two records a connection joins, each still open to one. Raises ``invalid_input`` (not two of
    them, or one missing), ``invalid_transition`` (a demand or achievement no longer open)."""
    given = [name for name, value in (("demand_id", demand_id), ("achievement_id", achievement_id),
                                      ("investor_id", investor_id)) if value is not None]  # fmt: skip
    if len(given) != 2:
        raise InvalidInput(N_("A connection joins two of a demand, an achievement and an investor."), field="body")
    demand = await Demand.get_or_none(id=demand_id) if demand_id is not None else None
    achievement = await Achievement.get_or_none(id=achievement_id) if achievement_id is not None else None
    investor = await Investor.get_or_none(id=investor_id) if investor_id is not None else None
    missing = {"demand_id": N_("No such demand."), "achievement_id": N_("No such achievement."),
               "investor_id": N_("No such investor.")}  # fmt: skip
    for name, value, row in (("demand_id", demand_id, demand), ("achievement_id", achievement_id, achievement),
                             ("investor_id", investor_id, investor)):  # fmt: skip
        if value is not None and row is None:
            raise InvalidInput(missing[name], field=name)
    if demand is not None and demand.status not in OPEN_DEMANDS:
        raise InvalidTransition(status=demand.status)
    if achievement is not None and achievement.status not in LIVE_ACHIEVEMENTS:
        raise InvalidTransition(status=achievement.status)
    return Sides(demand, achievement, investor)


async def _fitting_broker(demand: Demand) -> int | None:
    found = await matching.for_demand(demand.id, type="broker", limit=1)
    return found[0].id if found else None


async def open_connection(
    *,
    demand_id: int | None = None,
    achievement_id: int | None = None,
    investor_id: int | None = None,
    requested_by: int | None,
    wants_broker: bool = False,
    origin: str,
    actor: str,
    scope: Scope | None = None,
) -> Opened:
    """Connect a demand and an achievement, or either with an investor; the same pair again answers the
    connection it has (``created`` False). The demand's claimed broker is accountable; without one, when
    the person asked for a broker, a fitting broker is assigned. ``scope`` (organizers) must reach one
    side. Raises ``invalid_input``, ``invalid_transition``, ``not_found`` (neither side in scope).
    """
    sides = await _sides(demand_id, achievement_id, investor_id)
    if scope is not None and not any(
        row is not None and scope.covers(row.managed_by_id) for row in (sides.demand, sides.achievement, sides.investor)
    ):
        raise NotFound()
    demand = sides.demand
    broker_id = demand.broker_id if demand is not None else None
    if broker_id is None and wants_broker and demand is not None:
        broker_id = await _fitting_broker(demand)
    async with in_transaction() as conn:
        if demand is not None:
            await _lock(conn, "demand", demand.id)
            demand = await Demand.get(id=demand.id, using_db=conn)  # fresh, under the lock
        else:
            assert sides.achievement is not None
            await _lock(conn, "achievement", sides.achievement.id)
        existing = await Connection.get_or_none(
            demand_id=demand_id, achievement_id=achievement_id, investor_id=investor_id, using_db=conn
        )
        if existing is not None:
            return Opened(existing, created=False)
        connection = await Connection.create(
            demand_id=demand_id, achievement_id=achievement_id, investor_id=investor_id, requested_by_id=requested_by,
            broker_id=broker_id, wants_broker=wants_broker, origin=origin[:16], managed_by_id=sides.managed_by,
            using_db=conn,
        )  # fmt: skip
        if demand is not None:
            await demand_status.mark_first_response(demand, using_db=conn)
            if demand.status == DemandStatus.OPEN:
                await demand_status.transition(
                    demand, DemandStatus.MATCHED, actor=actor, using_db=conn, note=f"connection {connection.id}"
                )
        await activity.record(
            "connection.opened", actor=actor, person_id=requested_by, using_db=conn, connection_id=connection.id,
            managed_by=connection.managed_by_id, wants_broker=wants_broker, broker_id=broker_id,
            broker_assigned=broker_id is not None and (demand is None or demand.broker_id != broker_id),
        )  # fmt: skip
    return Opened(connection, created=True)


NEXT: dict[ConnectionStatus, frozenset[ConnectionStatus]] = {
    ConnectionStatus.OPEN: frozenset({ConnectionStatus.IN_TALKS, ConnectionStatus.CLOSED}),
    ConnectionStatus.IN_TALKS: frozenset({ConnectionStatus.CONTRACTED, ConnectionStatus.CLOSED}),
    ConnectionStatus.CONTRACTED: frozenset(),
    ConnectionStatus.CLOSED: frozenset(),
}


async def change_status(
    connection_id: int, to: ConnectionStatus, *, note: str = "", actor: str, scope: Scope
) -> Connection:
    """``open → in_talks → contracted | closed`` (``open → closed`` too); in talks moves the demand to
    in talks. Raises ``connection_not_found``, ``invalid_transition``."""
    await owned_connection(connection_id, scope)
    async with in_transaction() as conn:
        await _lock(conn, "connection", connection_id)
        connection = await Connection.get(id=connection_id, using_db=conn)
        if to not in NEXT[ConnectionStatus(connection.status)]:
            raise InvalidTransition(status=connection.status)
        before = connection.status
        connection.status = to
        await connection.save(update_fields=["status", "updated_at"], using_db=conn)
        if to == ConnectionStatus.IN_TALKS and connection.demand_id is not None:
            demand = await Demand.get(id=connection.demand_id, using_db=conn)
            if demand.status in (DemandStatus.OPEN, DemandStatus.MATCHED):
                await demand_status.transition(demand, DemandStatus.IN_TALKS, actor=actor, using_db=conn, note=note)
        await activity.record(
            "connection.status_changed", actor=actor, using_db=conn, connection_id=connection.id,
            managed_by=connection.managed_by_id, before=before, status=to.value, note=note[:500],
        )  # fmt: skip
    return await owned_connection(connection_id, scope)


def connection_filter(scope: Scope) -> Q:
    """Connections the scope reaches: those it entered, or whose demand or achievement it manages."""
    if scope.everything:
        return Q()
    org = scope.organization_id
    return (
        Q(managed_by_id=org)
        | Q(demand_id__in=Subquery(Demand.filter(managed_by_id=org).values("id")))
        | Q(achievement_id__in=Subquery(Achievement.filter(managed_by_id=org).values("id")))
    )


def sides_of(connection: Connection) -> list[tuple[str, str]]:
    """(kind, title) of each side of a loaded connection: demand, achievement, investor, in that order."""
    found: list[tuple[str, str]] = []
    if connection.demand is not None:
        found.append(("demand", connection.demand.title))
    if connection.achievement is not None:
        found.append(("achievement", connection.achievement.title))
    if connection.investor is not None:
        found.append(("investor", connection.investor.name))
    return found


RELATED = ("demand", "achievement", "investor", "broker__person", "requested_by")


async def owned_connection(connection_id: int, scope: Scope) -> Connection:
    """With both sides loaded. Raises ``connection_not_found``."""
    found = await Connection.filter(connection_filter(scope), id=connection_id).select_related(*RELATED).first()
    if found is None:
        raise ConnectionNotFound()
    return found


@dataclass(frozen=True, slots=True)
class ConnectionFilter:
    status: ConnectionStatus | None = None
    demand_id: int | None = None
    achievement_id: int | None = None


ORDER = ("-id",)


async def list_connections(
    found: ConnectionFilter, *, scope: Scope, limit: int = 50, cursor: str | None = None
) -> paging.Page[Connection]:
    """Newest first, a page at a time. Raises ``invalid_input`` (a cursor not of this list)."""
    qs = Connection.filter(connection_filter(scope))
    if found.status is not None:
        qs = qs.filter(status=found.status)
    if found.demand_id is not None:
        qs = qs.filter(demand_id=found.demand_id)
    if found.achievement_id is not None:
        qs = qs.filter(achievement_id=found.achievement_id)
    rows = (
        await paging.after(qs, "connections", ORDER, cursor).select_related(*RELATED).order_by(*ORDER).limit(limit + 1)
    )
    return paging.page(rows, "connections", ORDER, limit)


# ------------------------------------------------------------------------------------ push answers

Outcome = Literal["connected", "already_connected", "noted"]


@dataclass(frozen=True, slots=True)
class Answer:
    verdict: MatchVerdict
    outcome: Outcome
    connection: Connection | None = None


async def _item_open(ref: Ref) -> bool:
    if ref.kind == "demand":
        return await Demand.filter(id=ref.id, status__in=OPEN_DEMANDS).exists()
    if ref.kind == "achievement":
        return await Achievement.filter(id=ref.id, status__in=LIVE_ACHIEVEMENTS).exists()
    if ref.kind == "investor":
        return await Investor.filter(id=ref.id).exists()
    if ref.kind == "participant":
        return await Participant.filter(id=ref.id).exists()
    return True  # a broker or a person: the push's own recipient


async def _keep_feedback(person: Person, subject: Ref, item: Ref, verdict: MatchVerdict, score: float | None) -> bool:
    """One answer per person and pair, the latest kept. Returns whether it changed anything."""
    async with in_transaction() as conn:
        before = await MatchFeedback.get_or_none(
            person_id=person.id, subject=str(subject), item=str(item), using_db=conn
        )
        if before is not None:
            if before.verdict == verdict:
                return False
            await MatchFeedback.filter(id=before.id).using_db(conn).update(verdict=verdict, at=clock.now())
            return True
        # ON CONFLICT DO NOTHING: a double tap answered side by side keeps one row.
        await MatchFeedback.bulk_create(
            [MatchFeedback(person_id=person.id, subject=str(subject), item=str(item), verdict=verdict, score=score,
                           at=clock.now())],
            ignore_conflicts=True, using_db=conn,
        )  # fmt: skip
        return True


def _pair_ids(subject: Ref, item: Ref) -> tuple[int | None, int | None, int | None]:
    """(demand, achievement, investor) ids of a pair of records."""
    ids = {ref.kind: ref.id for ref in (subject, item)}
    return ids.get("demand"), ids.get("achievement"), ids.get("investor")


async def answer_push(person: Person, *, subject: Ref, item: Ref, verdict: MatchVerdict, actor: str) -> Answer:
    """A person's answer to a pushed match. Raises ``match_not_available`` (no such push to this person,
    or a side closed or gone since)."""
    if not await OutboxMessage.filter(person_id=person.id, dedup_key=push_key(person.id, subject, item)).exists():
        raise MatchNotAvailable()
    if not (await _item_open(subject) and await _item_open(item)):
        raise MatchNotAvailable()
    changed = await _keep_feedback(person, subject, item, verdict, None)
    if verdict == MatchVerdict.NOT_RELEVANT:
        return Answer(verdict, "noted")
    wants_broker = verdict == MatchVerdict.WANTS_BROKER
    if subject.kind in RECORDS and item.kind in RECORDS:
        try:
            demand_id, achievement_id, investor_id = _pair_ids(subject, item)
            opened = await open_connection(
                demand_id=demand_id,
                achievement_id=achievement_id,
                investor_id=investor_id,
                requested_by=person.id,
                wants_broker=wants_broker,
                origin="push",
                actor=actor,
            )
        except (InvalidInput, InvalidTransition):
            raise MatchNotAvailable() from None
        return Answer(verdict, "connected" if opened.created else "already_connected", opened.connection)
    if changed:  # a third party's interest: a lead for the record's contact (once per answer)
        broker_id = None
        if wants_broker and item.kind == "demand":
            demand = await Demand.get(id=item.id)
            broker_id = demand.broker_id or await _fitting_broker(demand)
        async with in_transaction() as conn:
            await activity.record(
                "match.interest", actor=actor, person_id=person.id, using_db=conn, subject=str(subject),
                item=str(item), wants_broker=wants_broker, broker_id=broker_id,
            )  # fmt: skip
    return Answer(verdict, "noted")


async def turned_down(person_id: int, subject: Ref, item: Ref) -> bool:
    """Whether the pair must not be pushed to this person: they answered it already, or someone said it
    is not relevant (either way round), or the pair is connected already."""
    pair = [(str(subject), str(item)), (str(item), str(subject))]
    for left, right in pair:
        answered = MatchFeedback.filter(subject=left, item=right)
        if await answered.filter(Q(person_id=person_id) | Q(verdict=MatchVerdict.NOT_RELEVANT)).exists():
            return True
    if subject.kind in RECORDS and item.kind in RECORDS:
        demand_id, achievement_id, investor_id = _pair_ids(subject, item)
        return await Connection.filter(
            demand_id=demand_id, achievement_id=achievement_id, investor_id=investor_id
        ).exists()
    return False


# ------------------------------------------------------------------------------------------ /matches


@dataclass(frozen=True, slots=True)
class HeldRecord:
    """A demand or achievement the person speaks for, with its best current matches."""

    ref: Ref
    title: str
    status: str
    matches: list[Match] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Overview:
    records: list[HeldRecord]
    connections: list[Connection]


PER_RECORD = 3
MAX_RECORDS = 30
MAX_CONNECTIONS = 30


async def _rejected_by(person_id: int) -> set[tuple[str, str]]:
    rows = await MatchFeedback.filter(person_id=person_id, verdict=MatchVerdict.NOT_RELEVANT).values_list(
        "subject", "item"
    )
    return {(str(s), str(i)) for s, i in rows}


async def overview(person: Person, *, locale: str, per_record: int = PER_RECORD) -> Overview:
    """What ``/matches`` shows: for each open demand the person posted, the best achievements; for each of
    their achievements, the demands that fit (pairs they called not relevant left out); and the
    connections they are part of, newest first."""
    rejected = await _rejected_by(person.id)
    records: list[HeldRecord] = []
    demands = await Demand.filter(contact_id=person.id, status__in=OPEN_DEMANDS).order_by("-id").limit(MAX_RECORDS)
    for demand in demands:
        ref = Ref("demand", demand.id)
        found = await matching.for_demand(demand.id, type="achievement", limit=per_record + 5, locale=locale)
        kept = [m for m in found if (str(ref), f"achievement:{m.id}") not in rejected][:per_record]
        records.append(HeldRecord(ref, demand.title, demand.status, kept))
    achievements = (
        await Achievement.filter(contact_id=person.id, status__in=LIVE_ACHIEVEMENTS).order_by("-id").limit(MAX_RECORDS)
    )
    for achievement in achievements:
        ref = Ref("achievement", achievement.id)
        found = await matching.for_achievement(achievement.id, type="demand", limit=per_record + 5, locale=locale)
        kept = [m for m in found if (str(ref), f"demand:{m.id}") not in rejected][:per_record]
        records.append(HeldRecord(ref, achievement.title, achievement.status, kept))
    mine = (
        Q(requested_by_id=person.id)
        | Q(demand__contact_id=person.id)
        | Q(achievement__contact_id=person.id)
        | Q(investor__person_id=person.id)
        | Q(broker__person_id=person.id)
    )
    connections = await Connection.filter(mine).select_related(*RELATED).order_by("-id").limit(MAX_CONNECTIONS)
    return Overview(records, list(connections))
