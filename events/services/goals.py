"""The plan's targets and the live figures the data gives for them. Nothing here is typed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Sum

from events import clock, localtime
from events.errors import N_
from events.models import (
    Achievement,
    AchievementStatus,
    AchievementTier,
    Broker,
    Certification,
    CertificationState,
    Demand,
    Event,
    EventStatus,
    Transfer,
    TransferKind,
)
from events.services.organizations import EVERYTHING, Scope
from events.services.ownership import broker_filter, event_filter

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
    """Every target and its figure over all the data, as of now (the public ``/api/v1/goals``)."""
    return await measure_goals()


@dataclass(frozen=True, slots=True)
class Span:
    """Which records a measurement counts: those of the scope's organizations dated in ``[since, until]``
    (``since`` None: from the beginning). Dates (a contract's ``signed_on``) compare in local time.
    """

    until: datetime
    since: datetime | None = None
    scope: Scope = EVERYTHING
    # False: records count whenever they were made (the live goals: a row is never "made after now",
    # and a row's creation stamp is the database's, not the controlled clock's).
    bounded_creation: bool = True

    def created(self, field: str = "created_at") -> Q:
        return self.moments(field) if self.bounded_creation else Q()

    def moments(self, field: str) -> Q:
        q = where(f"{field}__lte", self.until)
        return q if self.since is None else q & where(f"{field}__gte", self.since)

    def days(self, field: str) -> Q:
        q = where(f"{field}__lte", _local_date(self.until))
        return q if self.since is None else q & where(f"{field}__gte", _local_date(self.since))

    def managed(self) -> Q:
        return Q() if self.scope.everything else Q(managed_by_id=self.scope.organization_id)


def where(lookup: str, value: object) -> Q:
    """``Q(<lookup>=value)`` for a lookup built at run time."""
    condition: dict[str, Any] = {lookup: value}
    return Q(**condition)


def _local_date(moment: datetime) -> date:
    return localtime.local(moment).date()


def held_sessions(span: Span) -> Q:
    """武创荟 sessions held in the span: published (or finished) and over by its end."""
    return (
        event_filter(span.scope)
        & span.moments("ends_at")
        & Q(series=WUCHUANGHUI, status__in=[EventStatus.PUBLISHED, EventStatus.FINISHED])
    )


def trained_brokers(span: Span) -> Q:
    """Certifications that make a broker trained, certified in the span (filter on ``Certification``).

    Trained: holds at least one certificate the ledger (and the admins) still stand behind. An
    expired one counts: the plan counts brokers trained over its years, and a lapsed certificate
    was still earned. A suspended or revoked one does not: the hours behind it were not there, or
    it was withdrawn, so that broker was not (or not yet) trained.
    """
    q = Q(state=CertificationState.ACTIVE) & span.moments("certified_at")
    if not span.scope.everything:
        q &= Q(broker_id__in=Subquery(Broker.filter(broker_filter(span.scope)).values("id")))
    return q


def collected_demands(span: Span) -> Q:
    """Every demand gathered counts, whatever became of it."""
    return span.managed() & span.created()


def key_achievements(span: Span) -> Q:
    return span.managed() & span.created() & Q(tier=AchievementTier.KEY) & ~Q(status=AchievementStatus.WITHDRAWN)


def contracts(span: Span, kind: TransferKind = TransferKind.TECHNOLOGY) -> Q:
    return span.managed() & span.days("signed_on") & Q(kind=kind)


async def count_trained(span: Span) -> int:
    """Brokers certified in the span (each once, whatever number of certificates)."""
    row = (
        await Certification.filter(trained_brokers(span))
        .annotate(n=Count("broker_id", distinct=True))
        .first()
        .values("n")
    )
    return int(row["n"]) if row and row["n"] is not None else 0


async def measure_goals(span: Span | None = None) -> list[Goal]:
    """The targets and the figures of ``span`` (default: everything, up to now)."""
    span = span or Span(until=clock.now(), bounded_creation=False)
    held = await Event.filter(held_sessions(span)).count()
    certified = await count_trained(span)
    return [
        Goal("wuchuanghui_sessions", N_("武创荟 sessions held"), 60, held, N_("sessions"), True),
        Goal("brokers_trained", N_("Technology brokers trained"), 1000, certified, N_("brokers"), True),
        Goal(
            "demands_collected",
            N_("Demands collected (technology, talent, capital, scenario)"),
            5000,
            await Demand.filter(collected_demands(span)).count(),
            N_("demands"),
            True,
        ),
        Goal(
            "key_achievements",
            N_("Achievements in the key-results library"),
            1000,
            await Achievement.filter(key_achievements(span)).count(),
            N_("achievements"),
            True,
        ),
        Goal(
            "major_transfers",
            N_("Major achievements transferred"),
            30,
            await Transfer.filter(contracts(span), major=True).count(),
            N_("transfers"),
            True,
        ),
        Goal(
            "contract_turnover",
            N_("Technology contract turnover"),
            TURNOVER_TARGET_WAN,
            await _turnover_wan(span, TransferKind.TECHNOLOGY),
            N_("10,000 CNY"),
            True,
        ),
        # Investments recorded after roadshow meetings (已签约). The plan asks for more angel and venture
        # investment in transfer projects but names no figure: target 0 means no target set.
        Goal(
            "investment_raised",
            N_("Investment in projects after roadshow meetings"),
            0,
            await _turnover_wan(span, TransferKind.INVESTMENT),
            N_("10,000 CNY"),
            True,
        ),
    ]


# The plan: 技术合同成交额达到2700亿元, counted in 万元 (units of 10,000 yuan) like the plan's own tables.
TURNOVER_TARGET_WAN = 27_000_000


async def turnover_cny(span: Span, kind: TransferKind = TransferKind.TECHNOLOGY) -> Decimal:
    """The contracts (or investments) of the span, summed, in yuan."""
    row = await Transfer.filter(contracts(span, kind)).annotate(total=Sum("amount_cny")).first().values("total")
    return Decimal(str(row["total"])) if row and row["total"] is not None else Decimal(0)


async def _turnover_wan(span: Span, kind: TransferKind) -> int:
    """In whole 万元 (rounded down)."""
    return int(await turnover_cny(span, kind) // 10_000)
