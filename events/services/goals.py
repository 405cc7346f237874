"""The plan's targets and the live figures the data gives for them. Nothing here is typed in."""

from __future__ import annotations

from dataclasses import dataclass

from events import clock
from events.errors import N_
from events.models import Certification, CertificationState, Event, EventStatus

WUCHUANGHUI = "wuchuanghui"


@dataclass(frozen=True, slots=True)
class Goal:
    key: str
    title: str  # English msgid; transports translate
    target: int
    current: int
    unit: str
    # False while the platform holds no data of this kind yet: the 0 then means "not measured".
    tracked: bool


async def list_goals() -> list[Goal]:
    now = clock.now()
    held = await Event.filter(
        series=WUCHUANGHUI, status__in=[EventStatus.PUBLISHED, EventStatus.FINISHED], ends_at__lte=now
    ).count()
    # Trained: holds at least one certificate the ledger (and the admins) still stand behind. An
    # expired one counts: the plan counts brokers trained over its years, and a lapsed certificate
    # was still earned. A suspended or revoked one does not: the hours behind it were not there, or
    # it was withdrawn, so that broker was not (or not yet) trained.
    certified = len(
        set(await Certification.filter(state=CertificationState.ACTIVE).values_list("broker_id", flat=True))
    )
    return [
        Goal("wuchuanghui_sessions", N_("武创荟 sessions held"), 60, held, N_("sessions"), True),
        Goal("brokers_trained", N_("Technology brokers trained"), 1000, certified, N_("brokers"), True),
        Goal(
            "demands_collected",
            N_("Demands collected (technology, talent, capital, scenario)"),
            5000,
            0,
            N_("demands"),
            False,
        ),
        Goal("key_achievements", N_("Achievements in the key-results library"), 1000, 0, N_("achievements"), False),
        Goal("major_transfers", N_("Major achievements transferred"), 30, 0, N_("transfers"), False),
    ]
