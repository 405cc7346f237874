"""Matching: the best achievements, brokers, investors and events for a demand, and the best demands
and investors for an achievement, each with its reasons and what is missing.

This module stays light (a server that never matches loads no numpy): the engine and its index
(numpy, scipy) are imported on the first call. The index lives in this process's memory, is built from the
database on the first query (or by ``rebuild``: ``wuchuang matching rebuild``) and kept current by
``note_saved``, which the supply-chain services call (through ``supply_events``) when a record changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.i18n import Locale, normalize_locale
from events.models import AchievementStatus, DemandStatus
from events.services import supply_events
from events.services.organizations import Scope

KINDS = ("achievement", "demand", "broker", "investor", "event")
# What is still matched: demands not yet contracted or ended, achievements still on offer.
OPEN_DEMANDS = (DemandStatus.OPEN, DemandStatus.MATCHED, DemandStatus.IN_TALKS)
LIVE_ACHIEVEMENTS = (AchievementStatus.AVAILABLE, AchievementStatus.NEGOTIATING)


@dataclass(frozen=True, slots=True)
class Match:
    type: str  # "achievement" | "broker" | "investor" | "event" | "demand"
    id: int
    title: str
    score: float  # higher is better, comparable within one answer
    reasons: list[str]  # never empty, in the caller's locale
    missing: list[str]  # unmet hard-ish requirements ("TRL unknown, the demand asks ≥ 6")
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class Pitch:
    """A project pitched at a roadshow, as the matcher reads it (the caller's ``id``: a participant's)."""

    id: int
    title: str
    text: str  # the title with the abstract or summary
    keywords: tuple[str, ...] = ()
    field: str | None = None
    district: str | None = None
    stage: str | None = None  # an achievement's stage (research, lab, pilot, sample, production)
    price_min_cny: int | None = None
    price_max_cny: int | None = None


@dataclass(frozen=True, slots=True)
class IndexStats:
    achievements: int
    demands: int
    features: int
    latent_dims: int
    seconds: float


def _locale(locale: str) -> Locale:
    return normalize_locale(locale) or "zh"


async def for_demand(
    demand_id: int, *, type: str = "achievement", limit: int = 10, locale: str = "zh", scope: Scope | None = None
) -> list[Match]:
    """The best ``type`` (achievement | broker | investor | event) for a demand, best first.

    ``scope`` (optional) limits the demand to those an organization manages. Raises
    ``demand_not_found``, ``demand_closed`` (contracted, closed, expired) and ``invalid_input``
    (an unknown ``type``, a ``limit`` outside 1–50).
    """
    from events.services.matching import engine  # numpy and scipy: loaded on first use

    return await engine.for_demand(demand_id, type=type, limit=limit, locale=_locale(locale), scope=scope)


async def for_achievement(
    achievement_id: int, *, type: str = "demand", limit: int = 10, locale: str = "zh", scope: Scope | None = None
) -> list[Match]:
    """The best open demands (``type="demand"``) or investors for an achievement, best first.

    Raises ``achievement_not_found`` and ``invalid_input``.
    """
    from events.services.matching import engine

    return await engine.for_achievement(achievement_id, type=type, limit=limit, locale=_locale(locale), scope=scope)


async def pitches_for_investor(
    investor_id: int, pitches: list[Pitch], *, limit: int = 10, locale: str = "zh"
) -> list[Match]:
    """The pitches that fit an investor's profile, best first (``type`` "pitch", ``id`` the pitch's), each with
    its reasons: shared keywords, field, stage against the rounds they fund, district, ticket size. Only
    pitches with something in common are returned. Raises ``investor_not_found``.
    """
    from events.services.matching import engine

    return await engine.pitches_for_investor(investor_id, pitches, limit=limit, locale=_locale(locale))


async def rebuild() -> IndexStats:
    """Build the index afresh from the database (refits the feature space)."""
    from events.services.matching import engine

    built = await engine.rebuild()
    return IndexStats(built.achievements, built.demands, built.features, built.latent_dims, built.seconds)


def note_saved(kind: str, ids: list[int]) -> None:
    """A record of ``kind`` (achievement | demand | broker | investor | event) was created, changed or
    removed: the index catches up before the next query. Brokers, investors and events are read per
    query, so only achievements and demands are noted. Cheap and safe to call at any time.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    from sys import modules

    engine = modules.get("events.services.matching.engine")
    if engine is not None:  # without an engine loaded there is no index to keep current yet
        engine.note(kind, ids)


def reset() -> None:
    """Forget the in-memory index (tests, a database swapped under a running process)."""
    from sys import modules

    engine = modules.get("events.services.matching.engine")
    if engine is not None:
        engine.reset()


for _kind in KINDS:
    supply_events.on_saved(_kind, note_saved)
