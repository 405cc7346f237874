"""Who hears about a competition, and what: entrants (every change of their entry's status, what a round
decided for it, an award, an objection's outcome for it), judges (assigned, with the scoring deadline,
and reminded before it while scores are owed) and objectors (the decision).

Each message is told as the fact says it was at that moment (the payload), whatever happened since.
People with a Telegram chat get it in the bot; others wait for the e-mail channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from tortoise.expressions import Subquery

from events import clock, localtime
from events.i18n import locale_of
from events.models import (
    Activity,
    Assignment,
    AssignmentStatus,
    Category,
    Competition,
    Entry,
    Judge,
    Objection,
    OutboxMessage,
    Person,
    Round,
    RoundStatus,
    ScoreVersion,
)
from events.services.competitions.config import ints
from notifications.outbox import enqueue
from notifications.render import render

# How long before a round's scoring deadline judges who still owe scores are reminded.
JUDGE_REMINDER_BEFORE = timedelta(hours=24)


def _deadline(value: Any) -> str:
    """The deadline as the judge reads it (local), or "" when the round has none."""
    if not value:
        return ""
    return localtime.stamp(datetime.fromisoformat(str(value)))


class CompetitionProducer:
    """Turns competition facts into outbox rows (called by ``Producer`` for the kinds it lists)."""

    KINDS: ClassVar[frozenset[str]] = frozenset(
        {
            "competition.entry_status",
            "competition.round_result",
            "competition.entry_awarded",
            "competition.objection_decided",
            "competition.judge_assigned",
        }
    )

    async def handle(self, fact: Activity, conn: Any) -> None:
        handler = {
            "competition.entry_status": self._entry_status,
            "competition.round_result": self._round_result,
            "competition.entry_awarded": self._awarded,
            "competition.objection_decided": self._objection_decided,
            "competition.judge_assigned": self._judge_assigned,
        }[fact.kind]
        await handler(fact, conn)

    async def _context(self, fact: Activity, conn: Any) -> tuple[Competition, Entry | None] | None:
        competition = await Competition.get_or_none(id=fact.payload.get("competition_id"), using_db=conn)
        if competition is None:
            return None
        entry_id = fact.payload.get("entry_id")
        entry = await Entry.get_or_none(id=entry_id, using_db=conn) if isinstance(entry_id, int) else None
        return competition, entry

    async def _round_name(self, competition: Competition, code: Any, conn: Any) -> str:
        found = await Round.get_or_none(competition_id=competition.id, code=str(code or ""), using_db=conn)
        return found.name if found else str(code or "")

    async def _tell_entrant(self, fact: Activity, conn: Any, template: str, dedup: str, **context: Any) -> None:
        person = await Person.get_or_none(id=fact.person_id, using_db=conn) if fact.person_id else None
        found = await self._context(fact, conn)
        if person is None or found is None or found[1] is None:
            return
        competition, entry = found
        await enqueue(
            person,
            Category.COMPETITION,
            dedup_key=dedup,
            text=render(template, person.language, competition=competition, entry=entry, **context),
            using_db=conn,
        )

    async def _entry_status(self, fact: Activity, conn: Any) -> None:
        """Review and withdrawal; what a round decides is told by ``competition.round_result``."""
        new = fact.payload.get("new")
        if new not in ("accepted", "rejected", "withdrawn"):
            return
        await self._tell_entrant(
            fact,
            conn,
            "competition_entry_status",
            f"competition:entry_status:{fact.id}",
            status=new,
            reason=str(fact.payload.get("reason") or "")[:500],
        )

    async def _round_result(self, fact: Activity, conn: Any) -> None:
        found = await self._context(fact, conn)
        if found is None:
            return
        competition = found[0]
        payload = fact.payload
        next_round = payload.get("next_round")
        score = payload.get("score")
        await self._tell_entrant(
            fact,
            conn,
            "competition_round_result",
            f"competition:round_result:{fact.id}",
            outcome=payload.get("outcome"),
            how=payload.get("how") or "",
            round=await self._round_name(competition, payload.get("round"), conn),
            next_round=await self._round_name(competition, next_round, conn) if next_round else "",
            rank=payload.get("rank") or "",
            score=f"{score:.2f}" if isinstance(score, int | float) else "",
            reason=str(payload.get("reason") or "")[:500],
        )

    async def _awarded(self, fact: Activity, conn: Any) -> None:
        await self._tell_entrant(
            fact,
            conn,
            "competition_awarded",
            f"competition:awarded:{fact.id}",
            tier=str(fact.payload.get("tier_name") or fact.payload.get("tier") or ""),
        )

    async def _objection_decided(self, fact: Activity, conn: Any) -> None:
        """The objector hears the decision; the entrant hears what it means for their entry."""
        found = await self._context(fact, conn)
        objection = await Objection.get_or_none(id=fact.payload.get("objection_id"), using_db=conn)
        if found is None or found[1] is None or objection is None:
            return
        competition, entry = found
        assert entry is not None
        payload = fact.payload
        context = {
            "competition": competition,
            "entry": entry,
            "upheld": payload.get("decision") == "upheld",
            "revoked": bool(payload.get("revoked")),
            "reason": str(payload.get("reason") or "")[:500],
            "round": await self._round_name(competition, payload.get("round"), conn),
        }
        objector = await Person.get_or_none(id=objection.objector_id, using_db=conn) if objection.objector_id else None
        if objector is not None:
            await enqueue(
                objector,
                Category.COMPETITION,
                dedup_key=f"competition:objection:{objection.id}:objector",
                text=render("competition_objection_objector", objector.language, **context),
                using_db=conn,
            )
        entrant_id = entry.submitted_by_id or entry.leader_id
        entrant = await Person.get_or_none(id=entrant_id, using_db=conn) if entrant_id else None
        if entrant is not None:
            await enqueue(
                entrant,
                Category.COMPETITION,
                dedup_key=f"competition:objection:{objection.id}:entrant",
                text=render("competition_objection_entrant", entrant.language, **context),
                using_db=conn,
            )

    async def _judge_assigned(self, fact: Activity, conn: Any) -> None:
        person = await Person.get_or_none(id=fact.person_id, using_db=conn) if fact.person_id else None
        found = await self._context(fact, conn)
        if person is None or found is None:
            return
        competition = found[0]
        entry_ids = fact.payload.get("entry_ids") or []
        await enqueue(
            person,
            Category.COMPETITION,
            dedup_key=f"competition:judge_assigned:{fact.id}",
            text=render(
                "competition_judge_assigned",
                person.language,
                competition=competition,
                round=await self._round_name(competition, fact.payload.get("round"), conn),
                count=len(entry_ids),
                deadline=_deadline(fact.payload.get("deadline")),
                replacing=fact.payload.get("replacing") is not None,
            ),
            using_db=conn,
        )


@dataclass(frozen=True, slots=True)
class JudgeReminderPass:
    queued: int


async def produce_judge_reminders() -> JudgeReminderPass:
    """Remind each judge who still owes submitted scores in an open round whose deadline is within
    ``JUDGE_REMINDER_BEFORE``: one message per judge and round (keyed), however many passes run."""
    now = clock.now()
    rounds = await Round.filter(
        status=RoundStatus.OPEN, closes_at__gt=now, closes_at__lte=now + JUDGE_REMINDER_BEFORE
    ).select_related("competition")
    queued = 0
    for rnd in rounds:
        scored = ScoreVersion.filter(round_id=rnd.id, submitted=True).values("assignment_id")
        owing: dict[int, int] = {}
        for judge_id in ints(
            await Assignment.filter(round_id=rnd.id, status=AssignmentStatus.ACTIVE)
            .exclude(id__in=Subquery(scored))
            .values_list("judge_id", flat=True)
        ):
            owing[judge_id] = owing.get(judge_id, 0) + 1
        if not owing:
            continue
        keys = {f"competition:judge_reminder:{rnd.id}:{judge_id}": judge_id for judge_id in owing}
        sent = set(await OutboxMessage.filter(dedup_key__in=list(keys)).values_list("dedup_key", flat=True))
        judges = {
            j.id: j for j in await Judge.filter(id__in=[j for k, j in keys.items() if k not in sent], active=True)
        }
        people = {p.id: p for p in await Person.filter(id__in=[j.person_id for j in judges.values() if j.person_id])}
        for key, judge_id in keys.items():
            judge = judges.get(judge_id)
            person = people.get(judge.person_id) if judge and judge.person_id else None
            if key in sent or person is None:
                continue
            assert rnd.closes_at is not None
            text = render(
                "competition_judge_reminder",
                locale_of(person.language),
                competition=rnd.competition,
                round=rnd.name,
                count=owing[judge_id],
                deadline=localtime.stamp(rnd.closes_at),
            )
            if await enqueue(person, Category.COMPETITION, dedup_key=key, text=text, urgent=True):
                queued += 1
    return JudgeReminderPass(queued=queued)
