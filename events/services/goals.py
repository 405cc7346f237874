"""The plan's targets and the live figures the data gives for them. Nothing here is typed in."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tortoise.functions import Sum

from events import clock
from events.errors import N_
from events.models import (
    Achievement,
    AchievementStatus,
    AchievementTier,
    Certification,
    CertificationState,
    Demand,
    Event,
    EventStatus,
    Transfer,
    TransferKind,
)

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
            await Demand.all().count(),  # every demand gathered counts, whatever became of it
            N_("demands"),
            True,
        ),
        Goal(
            "key_achievements",
            N_("Achievements in the key-results library"),
            1000,
            await Achievement.filter(tier=AchievementTier.KEY).exclude(status=AchievementStatus.WITHDRAWN).count(),
            N_("achievements"),
            True,
        ),
        Goal(
            "major_transfers",
            N_("Major achievements transferred"),
            30,
            await Transfer.filter(major=True, kind=TransferKind.TECHNOLOGY).count(),
            N_("transfers"),
            True,
        ),
        Goal(
            "contract_turnover",
            N_("Technology contract turnover"),
            TURNOVER_TARGET_WAN,
            await _turnover_wan(TransferKind.TECHNOLOGY),
            N_("10,000 CNY"),
            True,
        ),
        # Investments recorded after roadshow meetings (已签约). The plan asks for more angel and venture
        # investment in transfer projects but names no figure: target 0 means no target set.
        Goal(
            "investment_raised",
            N_("Investment in projects after roadshow meetings"),
            0,
            await _turnover_wan(TransferKind.INVESTMENT),
            N_("10,000 CNY"),
            True,
        ),
    ]


# The plan: 技术合同成交额达到2700亿元, counted in 万元 (units of 10,000 yuan) like the plan's own tables.
TURNOVER_TARGET_WAN = 27_000_000


async def _turnover_wan(kind: TransferKind) -> int:
    """The contracts (or investments) recorded here, summed, in whole 万元 (rounded down)."""
    row = await Transfer.filter(kind=kind).annotate(total=Sum("amount_cny")).first().values("total")
    total = Decimal(str(row["total"])) if row and row["total"] is not None else Decimal(0)
    return int(total // 10_000)
