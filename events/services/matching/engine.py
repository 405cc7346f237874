"""The in-process index and the queries over it (imported lazily: numpy and scipy load here).

State: one feature space fitted on the library, the library's collection and the active demands'
collection, held in one immutable ``State`` swapped as a whole. It is built from the database on the
first query (or by ``rebuild``) and kept current by ``note_saved``: changed ids wait in ``_pending``
(each with the number of the note that named it) and are applied before the next query, and soon
after the change by a task of their own. Many changes to the library since the last fit
(``REFIT_SHARE``) refit the space in the background, so its vocabulary and topics follow the library
as it grows; queries meanwhile use the incrementally updated state. Brokers, investors and events
are few: read per query.

Concurrency: no lock is held across a database read. Reads happen first, without the lock; the lock
(one per event loop) covers only the CPU work of applying them and the swap of the state, and a
change noted again while it was being read is applied by the next catch-up rather than overwritten
by an older read (the note numbers decide). The catch-up task runs outside any transaction of the
code that noted the change (its context is a copy of the caller's with each transaction replaced by
its root connection): it must neither read uncommitted rows nor hold a connection its caller needs.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from tortoise.expressions import Q
from tortoise.functions import Count

from events import changes, clock
from events.errors import N_, AchievementNotFound, DemandClosed, DemandNotFound, InvalidInput, InvestorNotFound
from events.heap import keep_large_blocks_apart
from events.heap import trim as trim_heap
from events.i18n import Locale, format_date
from events.models import (
    Achievement,
    AchievementStatus,
    Broker,
    Demand,
    DemandKind,
    DemandStatus,
    Event,
    EventStatus,
    Investor,
)
from events.services import supply_events
from events.services.matching import IndexStats, Match, Pitch, explain
from events.services.matching.index import (
    Collection,
    Doc,
    Space,
    fit_and_build,
    mode_bits,
    prepare,
)
from events.services.matching.rank import best, embed, scores
from events.services.organizations import Scope

log = logging.getLogger(__name__)
REFIT_SHARE = 0.2  # refit the space once this share of the library changed since the last fit
FIELD_BOOST = 0.05
DISTRICT_BOOST = 0.05
OUT_OF_INDEX = (AchievementStatus.WITHDRAWN, AchievementStatus.TRANSFERRED)
ACTIVE_DEMANDS = (DemandStatus.OPEN, DemandStatus.MATCHED, DemandStatus.IN_TALKS)
CLOSED_DEMANDS = (DemandStatus.CONTRACTED, DemandStatus.CLOSED, DemandStatus.EXPIRED)
# Which demand kinds each match type serves.
KINDS_FOR = {
    "achievement": (DemandKind.TECHNOLOGY, DemandKind.SCENARIO),
    "investor": (DemandKind.CAPITAL,),
}
DEMAND_TYPES = ("achievement", "broker", "investor", "event")
ACHIEVEMENT_TYPES = ("demand", "investor")
LOAD_PENALTY = 0.03
READ_BATCH = 5_000  # rows read at a time when building (100,000 ORM objects at once weigh ~1 GB)
ACHIEVEMENT_COLUMNS = ("id", "title", "keywords", "abstract", "trl", "district", "field", "transfer_modes")
DEMAND_COLUMNS = (
    "id",
    "title",
    "description",
    "indicators",
    "tags",
    "min_trl",
    "district",
    "field",
    "transfer_modes",
    "kind",
    "deadline",
)


@dataclass(frozen=True)
class State:
    space: Space
    achievements: Collection
    demands: Collection
    changed_since_fit: int = 0


_state: State | None = None
_generation = 0  # bumped by reset: a build or catch-up begun before it installs nothing
_seq = 0  # notes so far
_pending: dict[str, dict[int, int]] = {"achievement": {}, "demand": {}}  # id → number of its last note
# Applied by a catch-up while a build was reading: put back if that build's read may predate them.
_applied_during_builds: dict[str, dict[int, int]] = {"achievement": {}, "demand": {}}
_builds_running = 0
_locks: dict[int, asyncio.Lock] = {}
_building: dict[int, asyncio.Future[None]] = {}  # per event loop: the build under way
_soon: set[int] = set()  # event loops with a catch-up task scheduled and not yet started
_notes_at: str | None = None  # where this process has read the other processes' notes to (Redis)


def _lock() -> asyncio.Lock:
    # One lock per event loop (tests run each in a loop of its own).
    loop = asyncio.get_running_loop()
    return _locks.setdefault(id(loop), asyncio.Lock())


def reset() -> None:
    """Forget the index (a new database, tests): the next query builds it afresh."""
    global _state, _generation, _notes_at
    _state = None
    _generation += 1
    _notes_at = None
    for ids in (*_pending.values(), *_applied_during_builds.values()):
        ids.clear()
    _locks.clear()
    _building.clear()
    _soon.clear()


def note(kind: str, ids: Iterable[int]) -> None:
    global _seq
    if kind not in _pending:
        return
    _seq += 1
    for i in ids:
        _pending[kind][i] = _seq
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # no loop (a script): applied before the next query
    if id(loop) not in _soon and _state is not None:
        _soon.add(id(loop))
        loop.create_task(_apply_soon(), context=_outside_transactions())


def _outside_transactions() -> contextvars.Context:
    """A copy of the current context in which every connection alias is its root connection, not a
    transaction the caller happens to be in (a task outlives it, and must not read through it)."""
    context = contextvars.copy_context()
    context.run(_leave_transactions)
    return context


def _leave_transactions() -> None:
    from tortoise import connections
    from tortoise.backends.base.client import TransactionalDBClient

    try:
        aliases = list(connections.db_config)
    except Exception:  # not initialised (a script without a database): nothing to leave
        return
    for alias in aliases:
        current = connections.get(alias)
        root = current
        while isinstance(root, TransactionalDBClient):
            root = root._parent
        if root is not current:
            connections.set(alias, root)


async def _apply_soon() -> None:
    _soon.discard(id(asyncio.get_running_loop()))
    try:
        await ready()
    except Exception:  # a failed refresh is retried by the next query, which reports it
        return


# --- Loading ---------------------------------------------------------------------------------


def achievement_text(title: str, keywords: Sequence[str] | None, abstract: str | None) -> str:
    return " ".join([title, " ".join(keywords or []), abstract or ""])


def _achievement_doc(a: Achievement) -> Doc:
    return Doc(
        id=a.id,
        text=achievement_text(a.title, a.keywords, a.abstract),
        trl=a.trl,
        district=a.district,
        field=a.field,
        modes=tuple(a.transfer_modes or ()),
    )


def demand_text(d: Demand) -> str:
    return " ".join([d.title, d.description or "", d.indicators or "", " ".join(d.tags or [])])


def _demand_doc(d: Demand) -> Doc:
    return Doc(
        id=d.id,
        text=demand_text(d),
        trl=d.min_trl,
        district=d.district,
        field=d.field,
        modes=tuple(d.transfer_modes or ()),
        kind=str(d.kind),
        deadline=d.deadline.toordinal() if d.deadline else 0,
    )


async def _achievement_docs(ids: Sequence[int] | None = None) -> list[Doc]:
    """The indexed achievements (all, or those of ``ids``) as documents (texts prepared), read a batch
    at a time."""
    docs: list[Doc] = []
    after = 0
    while True:
        qs = Achievement.exclude(status__in=OUT_OF_INDEX).filter(id__gt=after)
        if ids is not None:
            qs = qs.filter(id__in=list(ids))
        rows = await qs.order_by("id").limit(READ_BATCH).values_list(*ACHIEVEMENT_COLUMNS)
        for id_, title, keywords, abstract, trl, district, field, modes in rows:
            text = prepare(achievement_text(title, keywords, abstract))
            docs.append(Doc(id=id_, text=text, trl=trl, district=district, field=field, modes=tuple(modes or ())))
        if len(rows) < READ_BATCH:
            return docs
        after = rows[-1][0]


async def _demand_docs(ids: Sequence[int] | None = None) -> list[Doc]:
    docs: list[Doc] = []
    after = 0
    while True:
        qs = Demand.filter(status__in=ACTIVE_DEMANDS, id__gt=after)
        if ids is not None:
            qs = qs.filter(id__in=list(ids))
        rows = await qs.order_by("id").limit(READ_BATCH).values_list(*DEMAND_COLUMNS)
        for id_, title, description, indicators, tags, min_trl, district, field, modes, kind, deadline in rows:
            docs.append(
                Doc(
                    id=id_,
                    text=prepare(" ".join([title, description or "", indicators or "", " ".join(tags or [])])),
                    trl=min_trl,
                    district=district,
                    field=field,
                    modes=tuple(modes or ()),
                    kind=str(kind),
                    deadline=deadline.toordinal() if deadline else 0,
                )
            )
        if len(rows) < READ_BATCH:
            return docs
        after = rows[-1][0]


def _fit(achievements: list[Doc], demands: list[Doc]) -> State:
    library = fit_and_build(achievements, prepared=True)
    return State(
        space=library.space,
        achievements=library,
        demands=Collection.build(library.space, demands, smooth=False, prepared=True),
    )


async def _build() -> IndexStats:
    """Read everything (no lock held), fit in a thread, then swap the state in under the lock."""
    global _state, _builds_running
    started = time.perf_counter()
    generation, seq = _generation, _seq
    _builds_running += 1
    keep_large_blocks_apart()
    try:
        achievements = await _achievement_docs()
        demands = await _demand_docs()
        state = await asyncio.to_thread(_fit, achievements, demands)
        del achievements, demands
        async with _lock():
            if generation == _generation:
                _state = state
                for kind, pending in _pending.items():
                    for i in [i for i, s in pending.items() if s <= seq]:
                        del pending[i]  # noted before this build read: it holds them
                    for i, s in _applied_during_builds[kind].items():
                        if s > seq:
                            pending.setdefault(i, s)  # applied to the state this build replaces
    finally:
        _builds_running -= 1
        if not _builds_running:
            for ids in _applied_during_builds.values():
                ids.clear()
    await asyncio.to_thread(trim_heap)
    return IndexStats(
        achievements=state.achievements.size,
        demands=state.demands.size,
        features=state.space.features,
        latent_dims=0 if state.space.basis is None else int(state.space.basis.shape[1]),
        seconds=time.perf_counter() - started,
    )


async def rebuild() -> IndexStats:
    """A build in the caller's context (a loader may rebuild inside its own transaction)."""
    return await _build()


async def _build_once() -> None:
    """Build, or wait for the build another caller has under way in this event loop."""
    loop = asyncio.get_running_loop()
    running = _building.get(id(loop))
    if running is not None:
        await asyncio.wait([running])
        if _state is not None:
            return
    done: asyncio.Future[None] = loop.create_future()
    _building[id(loop)] = done
    try:
        await _build()
    finally:
        if _building.get(id(loop)) is done:
            del _building[id(loop)]
        done.set_result(None)


def _refit_soon() -> None:
    loop = asyncio.get_running_loop()
    if id(loop) not in _building:
        loop.create_task(_refit(), context=_outside_transactions())


async def _refit() -> None:
    try:
        await _build_once()
    except Exception:  # the next query's catch-up asks again
        return


async def ready() -> State:
    """The current state: built if there is none, with every noted change applied (with REDIS_URL,
    the deployment's other processes' changes too)."""
    if changes.shared():
        await _notes_from_others()
    for _ in range(3):
        if _state is None:
            await _build_once()
        if _pending["achievement"] or _pending["demand"]:
            await _catch_up()
        if _state is not None:
            return _state
    raise RuntimeError("the matching index was reset while it was being built")


async def _notes_from_others() -> None:
    """Note what the other processes saved since we last looked (``supply_events.saved`` publishes it).
    Before the first build, only where the notes end now: the build reads everything before it."""
    global _notes_at
    if _state is None or _notes_at is None:
        _notes_at = await changes.position(supply_events.NOTES)
        return
    try:
        _notes_at, notes = await changes.notes_since(supply_events.NOTES, _notes_at)
    except Exception:  # Redis did not answer: what the others saved meanwhile is read once it does
        log.warning("matching: could not read the other processes' changes", exc_info=True)
        return
    for kind, ids in notes:
        note(kind, ids)


async def _catch_up() -> None:
    """Apply the noted changes: read them (no lock held), then apply and swap under the lock."""
    global _state
    base, generation = _state, _generation
    if base is None:
        return
    taken = {kind: dict(pending) for kind, pending in _pending.items()}
    if taken["achievement"] and base.space.basis is None:
        await _build_once()  # a small library (no latent space yet): refitting is cheap
        return
    achievements = await _achievement_docs(sorted(taken["achievement"])) if taken["achievement"] else []
    demands = await _demand_docs(sorted(taken["demand"])) if taken["demand"] else []
    async with _lock():
        state = _state
        if state is None or generation != _generation:
            return
        # Only what was not noted again meanwhile (a newer read of it comes later).
        fresh = {kind: {i for i, s in ids.items() if _pending[kind].get(i) == s} for kind, ids in taken.items()}
        if not (fresh["achievement"] or fresh["demand"]):
            return
        work = len(fresh["achievement"]) + len(fresh["demand"])
        if work > 50 or state.achievements.size > 20_000:
            state = await asyncio.to_thread(_applied, state, fresh, achievements, demands)
        else:
            state = _applied(state, fresh, achievements, demands)
        _state = state
        for kind, ids in fresh.items():
            for i in ids:
                s = taken[kind][i]
                if _pending[kind].get(i) == s:
                    del _pending[kind][i]
                if _builds_running:
                    _applied_during_builds[kind][i] = s
    if state.changed_since_fit >= REFIT_SHARE * max(state.achievements.size, 1):
        _refit_soon()


def _applied(state: State, fresh: dict[str, set[int]], achievements: list[Doc], demands: list[Doc]) -> State:
    ach_docs = [d for d in achievements if d.id in fresh["achievement"]]
    dem_docs = [d for d in demands if d.id in fresh["demand"]]
    present = {d.id for d in ach_docs}
    library = state.achievements.without([i for i in fresh["achievement"] if i not in present]).with_docs(ach_docs)
    present = {d.id for d in dem_docs}
    open_demands = state.demands.without([i for i in fresh["demand"] if i not in present]).with_docs(dem_docs)
    return replace(
        state,
        achievements=library,
        demands=open_demands,
        changed_since_fit=state.changed_since_fit + len(fresh["achievement"]),
    )


# --- Queries ---------------------------------------------------------------------------------


def _check(type_: str, allowed: Sequence[str], limit: int) -> None:
    if type_ not in allowed:
        raise InvalidInput(
            N_("Unknown match type %(type)s (one of %(allowed)s)."),
            field="type",
            type=type_[:30],
            allowed=", ".join(allowed),
        )
    if not 1 <= limit <= 50:
        raise InvalidInput(N_("limit must be between 1 and 50."), field="limit")


async def _demand(demand_id: int, scope: Scope | None) -> Demand:
    demand = await Demand.get_or_none(id=demand_id)
    if demand is None or (scope is not None and not scope.covers(demand.managed_by_id)):
        raise DemandNotFound()
    return demand


async def _achievement(achievement_id: int, scope: Scope | None) -> Achievement:
    achievement = await Achievement.get_or_none(id=achievement_id)
    if achievement is None or (scope is not None and not scope.covers(achievement.managed_by_id)):
        raise AchievementNotFound()
    return achievement


async def for_demand(demand_id: int, *, type: str, limit: int, locale: Locale, scope: Scope | None) -> list[Match]:
    _check(type, DEMAND_TYPES, limit)
    demand = await _demand(demand_id, scope)
    if demand.status in CLOSED_DEMANDS:
        raise DemandClosed(status=str(demand.status))
    kinds = KINDS_FOR.get(type)
    if kinds is not None and demand.kind not in kinds:
        return []
    state = await ready()
    if type == "achievement":
        return await _achievements_for(state, demand, limit, locale)
    if type == "broker":
        return await _brokers_for(state, demand, limit, locale)
    if type == "investor":
        return await _investors_for(
            state,
            demand_text(demand),
            demand.field,
            demand.district,
            demand.budget_min_cny,
            demand.budget_max_cny,
            None,
            limit,
            locale,
        )
    return await _events_for(state, demand, limit, locale)


async def for_achievement(
    achievement_id: int, *, type: str, limit: int, locale: Locale, scope: Scope | None
) -> list[Match]:
    _check(type, ACHIEVEMENT_TYPES, limit)
    achievement = await _achievement(achievement_id, scope)
    state = await ready()
    doc = _achievement_doc(achievement)
    if type == "demand":
        return await _demands_for(state, achievement, doc, limit, locale)
    return await _investors_for(
        state,
        doc.text,
        achievement.field,
        achievement.district,
        achievement.price_min_cny,
        achievement.price_max_cny,
        str(achievement.stage) if achievement.stage else None,
        limit,
        locale,
    )


def _boosted(score: np.ndarray, col: Collection, field: str | None, district: str | None) -> np.ndarray:
    if field:
        score = score + FIELD_BOOST * (col.field == col.labels.code(field))
    if district:
        score = score + DISTRICT_BOOST * (col.district == col.labels.code(district))
    return score


def _reasons(found: list[str | None], similarity: float, locale: Locale) -> list[str]:
    reasons = [r for r in found if r]
    return reasons or [explain.topic_reason(similarity, locale)]


async def _achievements_for(state: State, demand: Demand, limit: int, locale: Locale) -> list[Match]:
    col = state.achievements
    text = demand_text(demand)
    score = scores(col, embed(col, text))
    if demand.min_trl:
        score = np.where((col.trl >= demand.min_trl) | (col.trl < 0), score, -np.inf)
    wanted = mode_bits(demand.transfer_modes or [])
    if wanted:
        score = np.where(((col.modes & wanted) > 0) | (col.modes == 0), score, -np.inf)
    score = _boosted(score, col, demand.field, demand.district)
    rows = best(score, limit)
    found = {a.id: a for a in await Achievement.filter(id__in=[int(col.ids[r]) for r in rows])}
    matches: list[Match] = []
    for r in rows:
        a = found.get(int(col.ids[r]))
        if a is None or a.status in OUT_OF_INDEX:
            continue  # changed a moment ago; the next query sees it applied
        reasons: list[str | None] = [
            explain.terms_reason(state.space, text, _achievement_doc(a).text, locale, a.keywords or [])
        ]
        missing: list[str] = []
        if demand.field and a.field:
            if a.field == demand.field:
                reasons.append(explain.same_field(a.field, locale))
            else:
                missing.append(explain.field_differs(a.field, demand.field, locale))
        if demand.district and a.district == demand.district:
            reasons.append(explain.same_district(a.district, locale))
        if a.trl:
            reasons.append(explain.trl_fits(a.trl, demand.min_trl, locale))
        elif demand.min_trl:
            missing.append(explain.trl_unknown(demand.min_trl, locale))
        if wanted:
            if a.transfer_modes:
                reasons.append(
                    explain.modes_fit([m for m in a.transfer_modes if m in (demand.transfer_modes or [])], locale)
                )
            else:
                missing.append(explain.modes_unknown(demand.transfer_modes or [], locale))
        matches.append(
            Match(
                "achievement",
                a.id,
                a.title,
                round(float(score[r]), 4),
                _reasons(reasons, float(score[r]), locale),
                missing,
                a.external_id,
            )
        )
    return matches


async def _demands_for(state: State, achievement: Achievement, doc: Doc, limit: int, locale: Locale) -> list[Match]:
    col = state.demands
    score = scores(col, embed(col, doc.text), feedback=False)
    score = np.where(col.is_one_of(col.kind, [str(k) for k in KINDS_FOR["achievement"]]), score, -np.inf)
    today = clock.now().date().toordinal()
    score = np.where((col.deadline == 0) | (col.deadline >= today), score, -np.inf)
    if achievement.trl:
        score = np.where((col.trl <= achievement.trl) | (col.trl < 0), score, -np.inf)
    bits = mode_bits(achievement.transfer_modes or [])
    if bits:
        score = np.where(((col.modes & bits) > 0) | (col.modes == 0), score, -np.inf)
    score = _boosted(score, col, achievement.field, achievement.district)
    rows = best(score, limit)
    found = {d.id: d for d in await Demand.filter(id__in=[int(col.ids[r]) for r in rows])}
    matches: list[Match] = []
    for r in rows:
        d = found.get(int(col.ids[r]))
        if d is None or d.status not in ACTIVE_DEMANDS:
            continue
        reasons: list[str | None] = [
            explain.terms_reason(state.space, demand_text(d), doc.text, locale, achievement.keywords or [])
        ]
        missing: list[str] = []
        if d.field and achievement.field:
            if d.field == achievement.field:
                reasons.append(explain.same_field(d.field, locale))
            else:
                missing.append(explain.field_differs(achievement.field, d.field, locale))
        if d.district and d.district == achievement.district:
            reasons.append(explain.same_district(d.district, locale))
        if d.min_trl:
            if achievement.trl:
                reasons.append(explain.trl_fits(achievement.trl, d.min_trl, locale))
            else:
                missing.append(explain.trl_unknown(d.min_trl, locale))
        matches.append(
            Match(
                "demand",
                d.id,
                d.title,
                round(float(score[r]), 4),
                _reasons(reasons, float(score[r]), locale),
                missing,
                d.external_id,
            )
        )
    return matches


def _similarities(state: State, query: str, texts: Sequence[str]) -> np.ndarray:
    """Query-to-text relevance for a handful of texts (brokers, investors, events): no index needed."""
    if not texts:
        return np.zeros(0, np.float32)
    col = Collection.build(state.space, [Doc(id=i, text=t) for i, t in enumerate(texts)], smooth=False)
    similarity: np.ndarray = np.maximum(scores(col, embed(col, query), feedback=False), 0.0)
    return similarity


def _mentioned(items: Iterable[str], text: str, tags: Iterable[str] = ()) -> list[str]:
    lowered = text.casefold()
    tagset = {t.casefold() for t in tags}
    return [s for s in items if s and (s.casefold() in lowered or s.casefold() in tagset)]


async def _brokers_for(state: State, demand: Demand, limit: int, locale: Locale) -> list[Match]:
    text = demand_text(demand)
    brokers = await Broker.all().select_related("person").order_by("id")
    loads = dict(
        await Demand.filter(broker_id__in=[b.id for b in brokers], status__in=ACTIVE_DEMANDS)
        .annotate(n=Count("id"))
        .group_by("broker_id")
        .values_list("broker_id", "n")
    )
    similarity = _similarities(state, text, [" ".join(b.specialties or []) for b in brokers])
    scored: list[tuple[float, Broker, list[str]]] = []
    for i, b in enumerate(brokers):
        shared = _mentioned(b.specialties or [], text + " " + (demand.field or ""), demand.tags or [])
        same_district = bool(demand.district and b.district == demand.district)
        base = float(similarity[i]) + 0.3 * len(shared) + (0.1 if same_district else 0.0)
        if base <= 0:
            continue
        scored.append((base - LOAD_PENALTY * loads.get(b.id, 0), b, shared))
    scored.sort(key=lambda t: (-t[0], t[1].id))
    matches: list[Match] = []
    for score, b, shared in scored[:limit]:
        reasons: list[str | None] = [explain.specialties(shared, locale) if shared else None]
        if not shared:
            reasons.append(explain.terms_reason(state.space, text, " ".join(b.specialties or []), locale))
        if demand.district and b.district == demand.district:
            reasons.append(explain.same_district(b.district, locale))
        reasons.append(explain.load(loads.get(b.id, 0), locale))
        missing = (
            [explain.district_differs(b.district, demand.district, locale)]
            if (demand.district and b.district != demand.district)
            else []
        )
        matches.append(
            Match(
                "broker", b.id, b.person.name, round(float(score), 4), _reasons(reasons, float(score), locale), missing
            )
        )
    return matches


def _ticket_overlaps(low: int | None, high: int | None, budget_low: int | None, budget_high: int | None) -> bool | None:
    """Whether an investor's ticket range meets a budget (None: either side unknown)."""
    if (low is None and high is None) or (budget_low is None and budget_high is None):
        return None
    return (low or 0) <= (budget_high or budget_low or 0) and (budget_low or budget_high or 0) <= (high or 10**15)


async def _investors_for(
    state: State,
    text: str,
    field: str | None,
    district: str | None,
    budget_low: int | None,
    budget_high: int | None,
    stage: str | None,
    limit: int,
    locale: Locale,
) -> list[Match]:
    from events.services.investors import ROUNDS

    investors = await Investor.all().order_by("id")
    similarity = _similarities(
        state, text, [" ".join([i.name, i.description or "", " ".join(i.fields_of_interest or [])]) for i in investors]
    )
    scored: list[tuple[float, Investor, bool | None]] = []
    for n, inv in enumerate(investors):
        field_fit = bool(field and field in (inv.fields_of_interest or []))
        district_fit = bool(district and district in (inv.districts or []))
        # An achievement's stage (中试 …) is not a round (Pre-A …): it fits the rounds that usually fund it.
        stage_fit = bool(_rounds_for(stage, inv.stages or []))
        ticket = _ticket_overlaps(inv.ticket_min_cny, inv.ticket_max_cny, budget_low, budget_high)
        score = float(similarity[n]) + 0.3 * field_fit + 0.1 * district_fit + 0.1 * stage_fit
        score += 0.1 if ticket else (-0.1 if ticket is False else 0.0)
        if score > 0:
            scored.append((score, inv, ticket))
    scored.sort(key=lambda t: (-t[0], t[1].id))
    matches: list[Match] = []
    for score, inv, ticket in scored[:limit]:
        shared_fields = [field] if field and field in (inv.fields_of_interest or []) else []
        reasons: list[str | None] = [explain.fields_of_interest(shared_fields, locale) if shared_fields else None]
        reasons.append(
            explain.terms_reason(
                state.space, text, " ".join([inv.description or "", " ".join(inv.fields_of_interest or [])]), locale
            )
        )
        if stage and (rounds := _rounds_for(stage, inv.stages or [])):
            reasons.append(explain.stage_fits(stage, rounds, ROUNDS, locale))
        if district and district in (inv.districts or []):
            reasons.append(explain.same_district(district, locale))
        missing: list[str] = []
        if ticket:
            reasons.append(explain.ticket_fits(inv.ticket_min_cny, inv.ticket_max_cny, locale))
        elif ticket is False:
            missing.append(explain.ticket_outside(inv.ticket_min_cny, inv.ticket_max_cny, locale))
        matches.append(
            Match(
                "investor", inv.id, inv.name, round(float(score), 4), _reasons(reasons, float(score), locale), missing
            )
        )
    return matches


def _rounds_for(stage: str | None, rounds: Sequence[str]) -> list[str]:
    """The rounds an investor funds that usually fund a project at ``stage``."""
    from events.services.investors import ROUNDS_FOR_STAGE

    usual = ROUNDS_FOR_STAGE.get(stage or "", ())
    return [r for r in rounds if r in usual]


async def pitches_for_investor(
    investor_id: int, pitches: Sequence[Pitch], *, limit: int, locale: Locale
) -> list[Match]:
    from events.services.investors import ROUNDS

    investor = await Investor.get_or_none(id=investor_id)
    if investor is None:
        raise InvestorNotFound()
    if not pitches:
        return []
    state = await ready()
    interests = list(investor.fields_of_interest or [])
    profile = " ".join([investor.name, investor.description or "", *(explain.field_label(f, "zh") for f in interests)])
    similarity = _similarities(state, profile, [p.text for p in pitches])
    scored: list[tuple[float, Pitch, list[str], bool | None]] = []
    for n, pitch in enumerate(pitches):
        field_fit = bool(pitch.field and pitch.field in interests)
        district_fit = bool(pitch.district and pitch.district in (investor.districts or []))
        rounds = _rounds_for(pitch.stage, investor.stages or [])
        ticket = _ticket_overlaps(investor.ticket_min_cny, investor.ticket_max_cny, pitch.price_min_cny,
                                  pitch.price_max_cny)  # fmt: skip
        if not (similarity[n] > 0 or field_fit or district_fit or rounds):
            continue
        score = float(similarity[n]) + 0.3 * field_fit + 0.1 * district_fit + 0.1 * bool(rounds)
        score += 0.1 if ticket else (-0.1 if ticket is False else 0.0)
        scored.append((score, pitch, rounds, ticket))
    scored.sort(key=lambda t: (-t[0], t[1].id))
    matches: list[Match] = []
    for score, pitch, rounds, ticket in scored[:limit]:
        reasons: list[str | None] = [
            explain.terms_reason(state.space, profile, pitch.text, locale, pitch.keywords),
            explain.fields_of_interest([pitch.field], locale) if pitch.field and pitch.field in interests else None,
            explain.stage_fits(pitch.stage, rounds, ROUNDS, locale) if pitch.stage and rounds else None,
        ]
        if pitch.district and pitch.district in (investor.districts or []):
            reasons.append(explain.same_district(pitch.district, locale))
        missing: list[str] = []
        if ticket:
            reasons.append(explain.ticket_fits(investor.ticket_min_cny, investor.ticket_max_cny, locale))
        elif ticket is False:
            missing.append(explain.ticket_outside(investor.ticket_min_cny, investor.ticket_max_cny, locale))
        matches.append(
            Match(
                "pitch", pitch.id, pitch.title, round(float(score), 4), _reasons(reasons, float(score), locale), missing
            )
        )
    return matches


async def _events_for(state: State, demand: Demand, limit: int, locale: Locale) -> list[Match]:
    text = demand_text(demand)
    events = await Event.filter(Q(status=EventStatus.PUBLISHED), starts_at__gt=clock.now()).order_by("starts_at", "id")
    similarity = _similarities(
        state, text, [" ".join([e.title, e.description or "", " ".join(e.tags or [])]) for e in events]
    )
    scored: list[tuple[float, Event]] = []
    for n, event in enumerate(events):
        score = float(similarity[n]) + (0.1 if demand.district and event.district == demand.district else 0.0)
        if similarity[n] > 0:
            scored.append((score, event))
    scored.sort(key=lambda t: (-t[0], t[1].starts_at, t[1].id))
    matches: list[Match] = []
    for score, event in scored[:limit]:
        reasons: list[str | None] = [
            explain.terms_reason(
                state.space, text, " ".join([event.title, event.description or "", " ".join(event.tags or [])]), locale
            )
        ]
        if demand.district and event.district == demand.district:
            reasons.append(explain.same_district(event.district, locale))
        reasons.append(explain.event_when(format_date(event.starts_at, locale), locale))
        matches.append(
            Match("event", event.id, event.title, round(float(score), 4), _reasons(reasons, float(score), locale), [])
        )
    return matches
