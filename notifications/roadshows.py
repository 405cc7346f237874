"""Who hears about a roadshow's line-up while it runs: when a pitch goes on stage, the event's investors
(with its 感兴趣 / 约谈 / 评分 buttons); when an investor taps interest, the project's person (with a button to
say yes back); when both sides said yes, both of them.

These are live messages during the event, so they go at once (urgent: no quiet-hours hold).
"""

from __future__ import annotations

from typing import Any, ClassVar

from tortoise.expressions import Subquery

from events.errors import N_
from events.i18n import gettext, locale_of
from events.models import Activity, Category, Judge, Participant, ParticipantRole, Person, Pitch
from notifications.outbox import enqueue
from notifications.render import render

TAP_CODES = {"interest": "i", "meet": "m", "score": "s"}


def tap_data(kind: str, pitch_id: int, score: int = 0) -> str:
    """The callback data of a tap button, packed as ``bot.callbacks.PitchTap`` reads it (prefix ``pk``,
    fields kind, pitch_id, score; a test checks the two agree)."""
    return f"pk:{TAP_CODES[kind]}:{pitch_id}:{score}"


def back_data(pitch_id: int, investor_id: int) -> str:
    """The callback data of the project's "interested too" button (``bot.callbacks.PitchBack``)."""
    return f"pb:{pitch_id}:{investor_id}"


def tap_buttons(language: str | None, pitch_id: int, *, score_only: bool = False) -> list[list[dict[str, str]]]:
    """感兴趣 and 约谈 (investors), and the scores 1–5 (investors, and judges at a scored roadshow)."""
    locale = locale_of(language)
    scores = [
        {"text": f"{'⭐' if n == 1 else ''}{n}", "callback_data": tap_data("score", pitch_id, n)} for n in range(1, 6)
    ]
    if score_only:
        return [scores]
    return [
        [
            {"text": gettext(locale, N_("👍 Interested")), "callback_data": tap_data("interest", pitch_id)},
            {"text": gettext(locale, N_("🤝 Let's meet")), "callback_data": tap_data("meet", pitch_id)},
        ],
        scores,
    ]


class RoadshowProducer:
    """Turns line-up facts into outbox rows (called by ``Producer`` for the kinds it lists)."""

    KINDS: ClassVar[frozenset[str]] = frozenset({"pitch.on_stage", "pitch.interest", "pitch.mutual"})

    async def handle(self, fact: Activity, conn: Any) -> None:
        handler = {
            "pitch.on_stage": self._on_stage,
            "pitch.interest": self._interest,
            "pitch.mutual": self._mutual,
        }[fact.kind]
        await handler(fact, conn)

    async def _pitch(self, fact: Activity, conn: Any) -> Pitch | None:
        return (
            await Pitch.filter(id=fact.payload.get("pitch_id"))
            .select_related("project__person", "event")
            .using_db(conn)
            .first()
        )

    async def _on_stage(self, fact: Activity, conn: Any) -> None:
        pitch = await self._pitch(fact, conn)
        if pitch is None:
            return
        investors = (
            await Participant.filter(event_id=pitch.event_id, role=ParticipantRole.INVESTOR)
            .select_related("person")
            .using_db(conn)
        )
        told = {investor.person_id for investor in investors}
        # At a scored roadshow (a competition's final) its judges score the pitches too.
        judges = await Person.filter(
            id__in=Subquery(Judge.filter(competition__final_event_id=pitch.event_id, active=True).values("person_id"))
        ).using_db(conn)
        audience = [(i.person, False) for i in investors] + [(j, True) for j in judges if j.id not in told]
        for person, judge in audience:
            await enqueue(
                person,
                Category.MEETING,
                dedup_key=f"pitch:on_stage:{fact.id}:person:{person.id}",
                text=render("pitch_on_stage", person.language, pitch=pitch, event=pitch.event, judge=judge),
                buttons=tap_buttons(person.language, pitch.id, score_only=judge),
                urgent=True,
                event_id=pitch.event_id,
                using_db=conn,
            )

    async def _interest(self, fact: Activity, conn: Any) -> None:
        payload = fact.payload
        if payload.get("tap") not in ("interest", "meet"):
            return  # a score is for the organizers' tally, not a message
        pitch = await self._pitch(fact, conn)
        investor = (
            await Participant.filter(id=payload.get("investor_id")).select_related("person").using_db(conn).first()
        )
        if pitch is None or investor is None:
            return
        person = pitch.project.person
        mutual = bool(payload.get("mutual"))
        buttons = None
        if not mutual:
            label = gettext(locale_of(person.language), N_("👍 Interested too"))
            buttons = [[{"text": label, "callback_data": back_data(pitch.id, investor.id)}]]
        await enqueue(
            person,
            Category.MEETING,
            dedup_key=f"pitch:interest:{pitch.id}:{investor.id}:{payload.get('tap')}:person:{person.id}",
            text=render(
                "pitch_interest", person.language, pitch=pitch, investor=investor, meet=payload.get("tap") == "meet"
            ),
            buttons=buttons,
            urgent=True,
            event_id=pitch.event_id,
            using_db=conn,
        )

    async def _mutual(self, fact: Activity, conn: Any) -> None:
        payload = fact.payload
        pitch = await self._pitch(fact, conn)
        sides = {
            p.id: p
            for p in await Participant.filter(id__in=[payload.get("project_id"), payload.get("investor_id")])
            .select_related("person")
            .using_db(conn)
        }
        project, investor = (
            sides.get(int(payload.get("project_id") or 0)),
            sides.get(int(payload.get("investor_id") or 0)),
        )
        if pitch is None or project is None or investor is None:
            return
        for me, other in ((project, investor), (investor, project)):
            person: Person = me.person
            await enqueue(
                person,
                Category.MEETING,
                dedup_key=f"pitch:mutual:{project.id}:{investor.id}:person:{person.id}",
                text=render(
                    "pitch_mutual",
                    person.language,
                    pitch=pitch,
                    other=other,
                    connected=payload.get("connection_id") is not None,
                ),  # fmt: skip
                urgent=True,
                event_id=pitch.event_id,
                using_db=conn,
            )
