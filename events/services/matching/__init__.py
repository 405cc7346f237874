"""Matching: the best achievements, brokers, investors and events for a demand, and the best demands
and investors for an achievement, each with its reasons and what is missing.

This module stays light (a server that never matches loads no numpy): the engine and its index
(numpy, scipy) are imported on the first call. The index lives in the memory of the process that runs the
engine, is built from the database on the first query (or by ``rebuild``: ``wuchuang matching rebuild``)
and kept current by ``note_saved``, which the supply-chain services call (through ``supply_events``)
when a record changes.

A server runs the engine in a child process of its own (``use_process``, from the app's start-up): the
~55 MB of numpy and scipy and the index stay out of the process serving requests, and the child ends
after ``PROCESS_IDLE_SECONDS`` without a query. Elsewhere (the CLI, the demo loader, tests) and inside a
caller's transaction (whose writes the child cannot see), the engine runs in the calling process.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from events import child, clock
from events.i18n import Locale, normalize_locale
from events.models import AchievementStatus, DemandStatus
from events.services import supply_events
from events.services.organizations import Scope
from events.settings import Settings

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


# A busy producer or console asks every few seconds; after this long without a query the child ends and
# its memory goes back (the next query starts one, which builds its index again).
PROCESS_IDLE_SECONDS = 600.0
# A first query builds the index: seconds for a city's library, more on a loaded machine.
PROCESS_TIMEOUT_SECONDS = 300.0


@dataclass
class _Process:
    settings: Settings
    worker: child.Worker
    # One thread talks to the child, in the order the calls came (a note before the query after it).
    thread: ThreadPoolExecutor


_process: _Process | None = None


def use_process(settings: Settings) -> None:
    """Run the engine in a child process from now on (a server's start-up); ``stop_process`` ends it."""
    global _process
    if _process is None:
        worker = child.Worker("matching", idle_seconds=PROCESS_IDLE_SECONDS, timeout_seconds=PROCESS_TIMEOUT_SECONDS)
        _process = _Process(settings, worker, ThreadPoolExecutor(1, thread_name_prefix="matching"))


def stop_process() -> None:
    global _process
    process, _process = _process, None
    if process is not None:
        process.thread.shutdown(wait=False, cancel_futures=True)
        process.worker.close()  # after the query in flight, if one is


def process_pid() -> int | None:
    """The matching process's pid while one runs (tests, the logs)."""
    return _process.worker.pid if _process is not None else None


def _in_transaction() -> bool:
    return isinstance(connections.get("default"), TransactionalDBClient)


async def _engine(name: str, *args: Any, **kwargs: Any) -> Any:
    process = _process
    if process is None or _in_transaction():
        from events.services.matching import engine  # numpy and scipy: loaded on first use

        return await getattr(engine, name)(*args, **kwargs)
    from events.services.matching import process as job

    return await asyncio.get_running_loop().run_in_executor(
        process.thread, process.worker.call, job.query, process.settings, clock.now(), name, args, kwargs
    )


async def for_demand(
    demand_id: int, *, type: str = "achievement", limit: int = 10, locale: str = "zh", scope: Scope | None = None
) -> list[Match]:
    """The best ``type`` (achievement | broker | investor | event) for a demand, best first.

    ``scope`` (optional) limits the demand to those an organization manages. Raises
    ``demand_not_found``, ``demand_closed`` (contracted, closed, expired) and ``invalid_input``
    (an unknown ``type``, a ``limit`` outside 1–50).
    """
    result: list[Match] = await _engine(
        "for_demand", demand_id, type=type, limit=limit, locale=_locale(locale), scope=scope
    )
    return result


async def for_achievement(
    achievement_id: int, *, type: str = "demand", limit: int = 10, locale: str = "zh", scope: Scope | None = None
) -> list[Match]:
    """The best open demands (``type="demand"``) or investors for an achievement, best first.

    Raises ``achievement_not_found`` and ``invalid_input``.
    """
    result: list[Match] = await _engine(
        "for_achievement", achievement_id, type=type, limit=limit, locale=_locale(locale), scope=scope
    )
    return result


async def pitches_for_investor(
    investor_id: int, pitches: list[Pitch], *, limit: int = 10, locale: str = "zh"
) -> list[Match]:
    """The pitches that fit an investor's profile, best first (``type`` "pitch", ``id`` the pitch's), each with
    its reasons: shared keywords, field, stage against the rounds they fund, district, ticket size. Only
    pitches with something in common are returned. Raises ``investor_not_found``.
    """
    result: list[Match] = await _engine(
        "pitches_for_investor", investor_id, pitches, limit=limit, locale=_locale(locale)
    )
    return result


async def rebuild() -> IndexStats:
    """Build the index afresh from the database (refits the feature space)."""
    built: IndexStats = await _engine("rebuild")
    return built


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
    _tell_process("note", kind, list(ids))


def _tell_process(name: str, *args: Any) -> None:
    """Pass a note or a reset to the matching process if one runs (one that starts later reads
    everything); sent in order with the queries, not awaited."""
    process = _process
    if process is None:
        return
    from events.services.matching import process as job

    process.thread.submit(process.worker.call_if_running, getattr(job, name), *args)


def reset() -> None:
    """Forget the in-memory index (tests, a database swapped under a running process)."""
    from sys import modules

    engine = modules.get("events.services.matching.engine")
    if engine is not None:
        engine.reset()
    _tell_process("reset")


for _kind in KINDS:
    supply_events.on_saved(_kind, note_saved)
