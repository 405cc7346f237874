"""Matched opportunities: a new or changed demand or achievement becomes pushes to the people it fits.

For a demand: its contact hears of the best achievements, each of those achievements' contacts hears of
the demand, and so do fitting investors (capital demands), fitting brokers and people whose /prefs topics
it names. For an achievement, the same the other way round (demands that fit; their posters hear of
it). Each push carries the three answers (感兴趣 / 请技术经理人联系 / 不相关) as buttons.

What keeps this from becoming noise: a score threshold, at most ``matches_per_fact`` pushes for one fact,
at most ``matches_per_week`` per person, never a pair twice to a person (the dedup key names the pair,
and outlives the week), never a pair someone called not relevant or already connected, and opt-outs.
The fact's batch and the producer's cursor commit together, so re-reading a batch after a crash finds
every key taken and adds nothing.

Answers come back as facts too: ``connection.opened`` tells the other side and the accountable broker,
``match.interest`` tells a record's contact (and a broker, when asked for) that someone is interested.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from events import clock, labels
from events.errors import N_, DomainError
from events.i18n import Locale, gettext, locale_of
from events.models import (
    Achievement,
    Activity,
    Broker,
    Category,
    Connection,
    Demand,
    DemandKind,
    Event,
    Investor,
    MatchVerdict,
    OutboxMessage,
    Person,
)
from events.services import connections, matching
from events.services.connections import CODE_OF, Ref, push_key
from events.services.matching import LIVE_ACHIEVEMENTS, OPEN_DEMANDS, Match
from events.services.people import display_phone
from notifications.limits import Limits
from notifications.outbox import enqueue, reachable
from notifications.render import render

Finder = Callable[[str], Awaitable[list[Match]]]  # the matches of one kind, with reasons in a language
Found = tuple[Match, dict[Locale, list[str]]]  # a match with its reasons in each language
# How many of its best matches a record's own contact hears of at once; the rest wait for /matches.
BEST = 3
CANDIDATES = 10
KIND_LABELS = {
    "demand": N_("Demand"),
    "achievement": N_("Achievement"),
    "investor": N_("Investor"),
    "broker": N_("Broker"),
    "person": N_("You"),
    "participant": N_("Roadshow project"),
}
ANSWER_LABELS = {
    MatchVerdict.INTERESTED: N_("Interested"),
    MatchVerdict.WANTS_BROKER: N_("Ask a broker to contact me"),
    MatchVerdict.NOT_RELEVANT: N_("Not relevant"),
}


def answer_data(verdict: MatchVerdict, subject: Ref, item: Ref) -> str:
    """The callback data of an answer button, packed as ``bot.callbacks.MatchAnswer`` reads it
    (prefix ``mt``, fields verdict, subject, item; a test checks the two agree)."""
    return f"mt:{CODE_OF[verdict]}:{subject.short}:{item.short}"


WANT_MEETING = N_("Request a meeting")  # 想约谈


def pitch_interest_data(source_id: int, target_id: int) -> str:
    """The callback data of 想约谈 on a matched pitch, packed as ``bot.callbacks.PitchInterest`` reads it
    (prefix ``pi``: the investor's participant, the project's; a test checks the two agree)."""
    return f"pi:{source_id}:{target_id}"


def pitch_buttons(locale: Locale, source_id: int, subject: Ref, item: Ref) -> list[list[dict[str, str]]]:
    """想约谈 (a meeting wish the scheduler reads) and 不相关 (never pushed again)."""
    want = {"text": gettext(locale, WANT_MEETING), "callback_data": pitch_interest_data(source_id, item.id)}
    no = {
        "text": gettext(locale, ANSWER_LABELS[MatchVerdict.NOT_RELEVANT]),
        "callback_data": answer_data(MatchVerdict.NOT_RELEVANT, subject, item),
    }
    return [[want, no]]


def answer_buttons(locale: Locale, subject: Ref, item: Ref) -> list[list[dict[str, str]]]:
    def button(verdict: MatchVerdict) -> dict[str, str]:
        return {"text": gettext(locale, ANSWER_LABELS[verdict]), "callback_data": answer_data(verdict, subject, item)}

    rows = [[button(MatchVerdict.INTERESTED), button(MatchVerdict.NOT_RELEVANT)]]
    if subject.kind != "broker":  # a broker is the one who would be asked
        rows.append([button(MatchVerdict.WANTS_BROKER)])
    return rows


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A pair told to one person: ``subject`` is what they hold (or themselves), ``item`` what fits it."""

    subject: Ref
    item: Ref
    title: str
    subject_title: str | None
    reasons: dict[Locale, list[str]]  # in each language (the person's is shown)
    score: float | None = None


async def pushes_this_week(person_id: int, *, using_db: BaseDBAsyncClient | None = None) -> int:
    """Matched opportunities queued for the person in the last 7 days (the notices of connections and
    interest that follow an answer do not count: the person asked for them)."""
    return (
        await OutboxMessage.filter(
            person_id=person_id,
            category=Category.MATCHED_OPPORTUNITY,
            dedup_key__startswith="matched:",
            created_at__gte=clock.now() - timedelta(days=7),
        )
        .using_db(using_db)
        .count()
    )


async def enqueue_matched_opportunity(
    person: Person,
    opportunity: Opportunity,
    *,
    limits: Limits | None = None,
    using_db: BaseDBAsyncClient | None = None,
    buttons: Callable[[Locale], list[list[dict[str, str]]]] | None = None,
) -> bool:
    """Queue one matched opportunity with its reasons and answer buttons, unless the person cannot or does
    not want to get it, has had their weekly allowance, has heard of the pair already (ever) or it was
    turned down. The one way a matched opportunity reaches the outbox. Returns whether it was queued.
    ``buttons`` (by locale) replace the three answers (a matched pitch's 想约谈 / 不相关).
    """
    limits = limits or Limits()
    category = Category.MATCHED_OPPORTUNITY
    if not reachable(person, category):
        return False
    key = push_key(person.id, opportunity.subject, opportunity.item)
    if await OutboxMessage.filter(dedup_key=key).using_db(using_db).exists():
        return False
    if await connections.turned_down(person.id, opportunity.subject, opportunity.item):
        return False
    if await pushes_this_week(person.id, using_db=using_db) >= limits.matches_per_week:
        return False
    locale = locale_of(person.language)
    text = render(
        "matched_opportunity",
        locale,
        title=opportunity.title,
        kind=gettext(locale, KIND_LABELS[opportunity.item.kind]),
        subject_title=opportunity.subject_title,
        subject_kind=gettext(locale, KIND_LABELS[opportunity.subject.kind]),
        reasons=opportunity.reasons.get(locale) or opportunity.reasons.get("zh") or [],
    )
    rows = buttons(locale) if buttons else answer_buttons(locale, opportunity.subject, opportunity.item)
    return await enqueue(person, category, dedup_key=key, text=text, buttons=rows, using_db=using_db)


@dataclass(frozen=True, slots=True)
class _Push:
    person: Person | None
    opportunity: Opportunity


def _fits_topics(person: Person, terms: set[str], text: str) -> list[str]:
    return [topic for topic in person.pref_topics if topic in terms or topic in text]


class OpportunityProducer:
    """Turns ``demand.*``, ``achievement.*``, ``connection.opened`` and ``match.interest`` facts into outbox rows."""

    KINDS = frozenset(
        {"demand.created", "demand.updated", "achievement.created", "achievement.updated", "connection.opened",
         "match.interest", "roadshow.pitches_matched"}
    )  # fmt: skip

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        # Pushes found for facts before the producer's transaction opened (``prepare``), by fact id.
        self._prepared: dict[int, list[_Push]] = {}

    async def prepare(self, facts: list[Activity]) -> None:
        """Find the pushes of a batch's ``demand.*`` / ``achievement.*`` facts, outside any transaction.

        Matching reads the library through the shared connection and waits for the index's lock; on SQLite
        a transaction holds the one connection, so matching inside the producer's transaction could wait on
        a request that waits on that transaction.
        """
        self._prepared = {}
        for fact in facts:
            if fact.kind.startswith("demand."):
                self._prepared[fact.id] = await self._for_demand(fact.payload.get("demand_id"))
            elif fact.kind.startswith("achievement."):
                self._prepared[fact.id] = await self._for_achievement(fact.payload.get("achievement_id"))

    async def handle(self, fact: Activity, conn: BaseDBAsyncClient) -> None:
        kind = fact.kind
        if kind.startswith(("demand.", "achievement.")):
            # A fact not prepared (a caller that did not prepare) is matched here, in the caller's transaction.
            pushes = self._prepared.pop(fact.id, None)
            if pushes is None:
                found = self._for_demand if kind.startswith("demand.") else self._for_achievement
                pushes = await found(fact.payload.get("demand_id" if kind.startswith("demand.") else "achievement_id"))
            await self._send(pushes, conn)
        elif kind == "connection.opened":
            await self._connection_opened(fact, conn)
        elif kind == "match.interest":
            await self._interest(fact, conn)
        elif kind == "roadshow.pitches_matched":
            await self._pitches(fact, conn)

    async def _send(self, pushes: list[_Push], conn: BaseDBAsyncClient) -> None:
        sent = 0
        for push in pushes:
            if sent >= self.limits.matches_per_fact:
                return
            if push.person is None:
                continue
            score = push.opportunity.score
            if score is not None and score < self.limits.match_min_score:
                continue
            if await enqueue_matched_opportunity(push.person, push.opportunity, limits=self.limits, using_db=conn):
                sent += 1

    async def _found(self, find: Finder) -> list[Found]:
        """The strong matches, best first, each with its reasons in both languages (the matcher writes
        them in one; shared keywords, field and district read the same from either side)."""
        english = {m.id: m.reasons for m in await find("en")}
        return [(m, {"zh": m.reasons, "en": english.get(m.id, m.reasons)}) for m in await find("zh")
                if m.score >= self.limits.match_min_score]  # fmt: skip

    async def _for_demand(self, demand_id: Any) -> list[_Push]:
        found = Demand.get_or_none(id=demand_id).select_related("contact") if isinstance(demand_id, int) else None
        demand = await found if found is not None else None
        if demand is None or demand.status not in OPEN_DEMANDS:
            return []
        # The fact may be read before the service's after-commit note reaches the index: note it here too.
        matching.note_saved("demand", [demand.id])
        me = Ref("demand", demand.id)
        pushes: list[_Push] = []

        def find(type: str) -> Finder:
            return lambda locale: matching.for_demand(demand.id, type=type, limit=CANDIDATES, locale=locale)

        best = await self._found(find("achievement"))
        rows = await Achievement.filter(id__in=[m.id for m, _ in best]).select_related("contact")
        by_id = {a.id: a for a in rows}
        for match, reasons in best[:BEST]:
            item = Ref("achievement", match.id)
            pushes.append(_Push(demand.contact, Opportunity(me, item, match.title, demand.title, reasons, match.score)))
        for match, reasons in best:
            if (achievement := by_id.get(match.id)) is not None:
                subject = Ref("achievement", achievement.id)
                told = Opportunity(subject, me, demand.title, achievement.title, reasons, match.score)
                pushes.append(_Push(achievement.contact, told))
        if demand.kind == DemandKind.CAPITAL:
            pushes += await self._investors(await self._found(find("investor")), me, demand.title)
        brokers = await self._found(find("broker"))
        by_broker = {b.id: b for b in await Broker.filter(id__in=[m.id for m, _ in brokers]).select_related("person")}
        for match, reasons in brokers:
            if (broker := by_broker.get(match.id)) is not None:
                told = Opportunity(Ref("broker", broker.id), me, demand.title, None, reasons, match.score)
                pushes.append(_Push(broker.person, told))
        text = f"{demand.title}\n{demand.description}"
        pushes += await self._by_topics(me, demand.title, {*demand.tags, demand.field or ""}, text, demand.contact_id)
        return pushes

    async def _for_achievement(self, achievement_id: Any) -> list[_Push]:
        achievement = (
            await Achievement.get_or_none(id=achievement_id).select_related("contact")
            if isinstance(achievement_id, int)
            else None
        )
        if achievement is None or achievement.status not in LIVE_ACHIEVEMENTS:
            return []
        matching.note_saved("achievement", [achievement.id])
        me = Ref("achievement", achievement.id)
        pushes: list[_Push] = []

        def find(type: str) -> Finder:
            return lambda locale: matching.for_achievement(achievement.id, type=type, limit=CANDIDATES, locale=locale)

        best = await self._found(find("demand"))
        by_id = {d.id: d for d in await Demand.filter(id__in=[m.id for m, _ in best]).select_related("contact")}
        for match, reasons in best[:BEST]:
            told = Opportunity(me, Ref("demand", match.id), match.title, achievement.title, reasons, match.score)
            pushes.append(_Push(achievement.contact, told))
        for match, reasons in best:
            if (demand := by_id.get(match.id)) is not None:
                told = Opportunity(Ref("demand", demand.id), me, achievement.title, demand.title, reasons, match.score)
                pushes.append(_Push(demand.contact, told))
        pushes += await self._investors(await self._found(find("investor")), me, achievement.title)
        terms = {*achievement.keywords, achievement.field or ""}
        text = f"{achievement.title}\n{achievement.abstract}"
        pushes += await self._by_topics(me, achievement.title, terms, text, achievement.contact_id)
        return pushes

    async def _investors(self, found: list[Found], item: Ref, title: str) -> list[_Push]:
        rows = {i.id: i for i in await Investor.filter(id__in=[m.id for m, _ in found]).select_related("person")}
        pushes = []
        for match, reasons in found:
            if (investor := rows.get(match.id)) is not None:
                told = Opportunity(Ref("investor", investor.id), item, title, investor.name, reasons, match.score)
                pushes.append(_Push(investor.person, told))
        return pushes

    async def _by_topics(self, item: Ref, title: str, terms: set[str], text: str, own: int | None) -> list[_Push]:
        """People whose /prefs topics the record names (its keywords, tags or field, or its text)."""
        terms.discard("")
        pushes = []
        for person in await Person.filter(telegram_id__not_isnull=True, telegram_blocked_at__isnull=True).exclude(
            pref_topics=[]
        ):
            if person.id == own:
                continue
            if topics := _fits_topics(person, terms, text):
                reasons: dict[Locale, list[str]] = {
                    locale: [gettext(locale, N_("Your topics: %(topics)s"), topics=" · ".join(topics))]
                    for locale in ("zh", "en")
                }
                pushes.append(_Push(person, Opportunity(Ref("person", person.id), item, title, None, reasons)))
        return pushes

    async def _pitches(self, fact: Activity, conn: BaseDBAsyncClient) -> None:
        """A roadshow's pitches that fit an investor taking part (``events.services.roadshows.pitches``), best
        first: pushed like every matched opportunity (cap, threshold, once per investor × project)."""
        person = await Person.get_or_none(id=fact.person_id, using_db=conn) if fact.person_id else None
        investor = await Investor.get_or_none(id=fact.payload.get("investor_id"), using_db=conn)
        event = await Event.get_or_none(id=fact.event_id, using_db=conn) if fact.event_id else None
        source = fact.payload.get("participant_id")
        if person is None or investor is None or event is None or not isinstance(source, int):
            return
        subject = Ref("investor", investor.id)
        sent = 0
        for pitch in fact.payload.get("pitches") or []:
            if sent >= self.limits.matches_per_fact:
                return
            score = float(pitch.get("score") or 0)
            if score < self.limits.match_min_score:
                continue
            reasons = pitch.get("reasons") or {}
            item = Ref("participant", int(pitch["participant_id"]))
            why: dict[Locale, list[str]] = {"zh": list(reasons.get("zh") or []), "en": list(reasons.get("en") or [])}
            told = Opportunity(
                subject, item, str(pitch.get("title", "")), f"{investor.name} · {event.title}", why, score
            )

            def buttons(locale: Locale, item: Ref = item) -> list[list[dict[str, str]]]:
                return pitch_buttons(locale, source, subject, item)

            if await enqueue_matched_opportunity(person, told, limits=self.limits, using_db=conn, buttons=buttons):
                sent += 1

    async def _connection_opened(self, fact: Activity, conn: BaseDBAsyncClient) -> None:
        connection = (
            await Connection.filter(id=fact.payload.get("connection_id"))
            .select_related(
                "demand__contact", "achievement__contact", "investor__person", "broker__person", "requested_by"
            )  # fmt: skip
            .using_db(conn)
            .first()
        )
        if connection is None or connection.origin == "pitch":
            # Both sides said yes during a pitch: the roadshow producer tells them (``pitch.mutual``).
            return
        sides = [
            side.contact if isinstance(side, (Demand, Achievement)) else side.person
            for side in (connection.demand, connection.achievement, connection.investor)
            if side is not None
        ]
        requester = connection.requested_by
        for person in sides:
            if person is None or person.id == connection.requested_by_id:
                continue
            await self._connection_notice(connection, person, "side", requester, conn)
        broker = connection.broker
        if broker is not None and broker.person_id != connection.requested_by_id:
            await self._connection_notice(connection, broker.person, "broker", requester, conn)

    async def _connection_notice(
        self, connection: Connection, person: Person, role: str, requester: Person | None, conn: BaseDBAsyncClient
    ) -> None:
        locale = locale_of(person.language)
        titles = [
            gettext(locale, N_("%(kind)s: %(title)s"), kind=gettext(locale, KIND_LABELS[kind]), title=title)
            for kind, title in connections.sides_of(connection)
        ]
        text = render(
            "connection_opened",
            locale,
            role=role,
            titles=titles,
            requester=_who(requester, locale, with_phone=role == "broker"),
            wants_broker=connection.wants_broker,
            status=labels.status(connection.status, locale),
        )
        await enqueue(
            person,
            Category.MATCHED_OPPORTUNITY,
            dedup_key=f"connection:{connection.id}:person:{person.id}",
            text=text,
            using_db=conn,
        )

    async def _interest(self, fact: Activity, conn: BaseDBAsyncClient) -> None:
        """Someone a record was pushed to (a broker, a person whose topics fit) is interested in it."""
        try:
            item = Ref.parse(str(fact.payload.get("item")))
        except DomainError:  # a fact written by a later version: not ours to tell
            return
        interested = await Person.get_or_none(id=fact.person_id, using_db=conn) if fact.person_id else None
        record: Demand | Achievement | None
        if item.kind == "demand":
            record = await Demand.get_or_none(id=item.id, using_db=conn).select_related("contact")
        elif item.kind == "achievement":
            record = await Achievement.get_or_none(id=item.id, using_db=conn).select_related("contact")
        else:
            return
        if record is None or interested is None:
            return
        told: list[tuple[Person, str]] = []
        if record.contact is not None and record.contact.id != interested.id:
            told.append((record.contact, "contact"))
        broker_id = fact.payload.get("broker_id") or (record.broker_id if isinstance(record, Demand) else None)
        broker = await Broker.get_or_none(id=broker_id, using_db=conn).select_related("person") if broker_id else None
        if broker is not None and broker.person_id != interested.id:
            told.append((broker.person, "broker"))
        for person, role in told:
            locale = locale_of(person.language)
            text = render(
                "match_interest",
                locale,
                role=role,
                kind=gettext(locale, KIND_LABELS[item.kind]),
                title=record.title,
                who=_who(interested, locale, with_phone=role == "broker"),
                wants_broker=bool(fact.payload.get("wants_broker")),
            )
            await enqueue(
                person,
                Category.MATCHED_OPPORTUNITY,
                dedup_key=f"interest:{fact.id}:person:{person.id}",
                text=text,
                using_db=conn,
            )


def _who(person: Person | None, locale: Locale, *, with_phone: bool) -> str:
    """A name with the organization, and for the broker who is to call them, the phone."""
    if person is None:
        return gettext(locale, N_("an organizer"))
    parts = [person.name]
    if person.organization:
        parts.append(person.organization)
    if with_phone and (phone := display_phone(person.phone)):
        parts.append(phone)
    return " · ".join(parts)
