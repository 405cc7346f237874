"""Certification: where a broker stands against the level rules, and certifying when a line is crossed.

``assess`` is a pure function of the ledger lines, the certifications held and the rules, used both
after every ledger write (to certify) and by the views (to show progress). Rules come from the
settings (``WUCHUANG_TRAINING_LEVELS``).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient

from events import clock
from events.errors import N_
from events.models import (
    LEVEL_ORDER,
    Activity,
    Broker,
    BrokerLevel,
    Certification,
    CourseItem,
    CreditEntry,
    hours_of,
)
from events.services import activity
from events.settings import LevelRule, get_settings

_rules: list[LevelRule] | None = None

# What every transport calls the levels (初级, 中级, 高级), as msgids.
LEVEL_NAMES: dict[BrokerLevel, str] = {
    BrokerLevel.JUNIOR: N_("Junior"),
    BrokerLevel.INTERMEDIATE: N_("Intermediate"),
    BrokerLevel.SENIOR: N_("Senior"),
}


def use_rules(rules: Sequence[LevelRule] | None) -> None:
    """Set the rules in force (the app does this from its settings); None falls back to the environment."""
    global _rules
    _rules = None if rules is None else sorted(rules, key=lambda r: LEVEL_ORDER.index(BrokerLevel(r.level)))


def current_rules() -> list[LevelRule]:
    return _rules if _rules is not None else get_settings().training_levels


def _tenths(hours: float) -> int:
    return int((Decimal(str(hours)) * 10).to_integral_value())


def _years_later(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


@dataclass(frozen=True, slots=True)
class Line:
    """What assessing needs of a ledger line."""

    earned_at: datetime
    tenths: int
    course_id: int | None
    item_id: int | None


@dataclass(frozen=True, slots=True)
class Held:
    level: BrokerLevel
    round: int
    certified_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Progress:
    """Toward the next certification: a first one at ``level``, or its renewal."""

    level: BrokerLevel
    renewal: bool
    hours_required: Decimal
    hours_have: Decimal
    courses_required: list[str]
    courses_done: list[str]

    @property
    def hours_missing(self) -> Decimal:
        return max(Decimal(0), self.hours_required - self.hours_have)

    @property
    def ratio(self) -> float:
        hours = float(min(1, self.hours_have / self.hours_required)) if self.hours_required else 1.0
        if not self.courses_required:
            return hours
        courses = len(self.courses_done) / len(self.courses_required)
        return min(hours, courses)


@dataclass(frozen=True, slots=True)
class Assessment:
    total: Decimal
    # The highest level whose latest certification is still valid.
    level: BrokerLevel | None
    status: str  # "certified" | "expired" | "in_training"
    certified_at: datetime | None
    expires_at: datetime | None
    next: Progress | None
    due: list[tuple[BrokerLevel, int]] = field(default_factory=list)  # (level, round) to certify now


def standing(held: Iterable[Held], now: datetime) -> tuple[BrokerLevel | None, str, datetime | None, datetime | None]:
    """Level, status and the dates that go with it, from the certifications alone (no ledger needed)."""
    latest: dict[BrokerLevel, Held] = {}
    for cert in held:
        if cert.level not in latest or cert.round > latest[cert.level].round:
            latest[cert.level] = cert
    if not latest:
        return None, "in_training", None, None
    valid = [c for c in latest.values() if c.expires_at is None or c.expires_at > now]
    if valid:
        top = max(valid, key=lambda c: LEVEL_ORDER.index(c.level))
        return top.level, "certified", top.certified_at, top.expires_at
    top = max(latest.values(), key=lambda c: LEVEL_ORDER.index(c.level))
    return None, "expired", top.certified_at, top.expires_at


def assess(
    lines: Sequence[Line],
    held: Sequence[Held],
    completed_courses: set[str],
    rules: Sequence[LevelRule],
    now: datetime,
) -> Assessment:
    total_tenths = sum(line.tenths for line in lines)
    latest: dict[BrokerLevel, Held] = {}
    for cert in held:
        if cert.level not in latest or cert.round > latest[cert.level].round:
            latest[cert.level] = cert
    due: list[tuple[BrokerLevel, int]] = []
    progress: Progress | None = None
    for rule in rules:
        level = BrokerLevel(rule.level)
        below = LEVEL_ORDER[LEVEL_ORDER.index(level) - 1] if level != LEVEL_ORDER[0] else None
        if below is not None and below not in latest and (below, 1) not in due:
            break  # each level needs the one below it
        cert = latest.get(level)
        if cert is None:
            missing = [code for code in rule.courses if code not in completed_courses]
            if total_tenths >= _tenths(rule.hours) and not missing:
                due.append((level, 1))
                continue
            progress = Progress(
                level,
                False,
                Decimal(str(rule.hours)),
                hours_of(total_tenths),
                list(rule.courses),
                [code for code in rule.courses if code in completed_courses],
            )
            break
        if cert.expires_at is not None and cert.expires_at <= now:
            since = sum(line.tenths for line in lines if line.earned_at > cert.certified_at)
            if since >= _tenths(rule.renewal_hours):
                due.append((level, cert.round + 1))
                continue
            progress = Progress(level, True, Decimal(str(rule.renewal_hours)), hours_of(since), [], [])
            break
    level, status, certified_at, expires_at = standing([*held, *(Held(lv, rd, now, None) for lv, rd in due)], now)
    return Assessment(hours_of(total_tenths), level, status, certified_at, expires_at, progress, due)


def completed_course_codes(lines: Iterable[Line], required_items: dict[int, tuple[str, set[int]]]) -> set[str]:
    """Codes of the courses whose every required item carries net credit.

    ``required_items``: course id → (course code, ids of its required items).
    """
    net: dict[int, int] = {}
    for line in lines:
        if line.item_id is not None:
            net[line.item_id] = net.get(line.item_id, 0) + line.tenths
    return {
        code for code, items in required_items.values() if items and all(net.get(item_id, 0) > 0 for item_id in items)
    }


async def required_items_of(
    course_ids: Iterable[int], using_db: BaseDBAsyncClient | None = None
) -> dict[int, tuple[str, set[int]]]:
    ids = set(course_ids)
    if not ids:
        return {}
    rows = await (
        CourseItem.filter(course_id__in=ids, required=True)
        .using_db(using_db)
        .values_list("course_id", "course__code", "id")
    )
    result: dict[int, tuple[str, set[int]]] = {}
    for course_id, code, item_id in rows:
        result.setdefault(course_id, (code, set()))[1].add(item_id)
    return result


async def lines_of(broker_id: int, using_db: BaseDBAsyncClient | None = None) -> list[Line]:
    rows = await (
        CreditEntry.filter(broker_id=broker_id)
        .using_db(using_db)
        .values_list("earned_at", "hours_tenths", "course_id", "item_id")
    )
    return [Line(*row) for row in rows]


async def held_by(broker_id: int, using_db: BaseDBAsyncClient | None = None) -> list[Held]:
    rows = await (
        Certification.filter(broker_id=broker_id)
        .using_db(using_db)
        .values_list("level", "round", "certified_at", "expires_at")
    )
    return [Held(BrokerLevel(level), rnd, at, expires) for level, rnd, at, expires in rows]


async def assess_broker(broker_id: int, using_db: BaseDBAsyncClient | None = None) -> Assessment:
    lines = await lines_of(broker_id, using_db)
    held = await held_by(broker_id, using_db)
    items = await required_items_of({line.course_id for line in lines if line.course_id}, using_db)
    return assess(lines, held, completed_course_codes(lines, items), current_rules(), clock.now())


async def assessment_after(entry_id: int, using_db: BaseDBAsyncClient | None = None) -> Assessment | None:
    """Where the broker stood right after ledger line ``entry_id`` was written, with the certifications
    that line brought: what a message about the line should say, however late it is read. None: no such line.
    """
    entry = await CreditEntry.get_or_none(id=entry_id).using_db(using_db).select_related("broker")
    if entry is None:
        return None
    broker: Broker = entry.broker
    rows = await (
        CreditEntry.filter(broker_id=broker.id, id__lte=entry_id)
        .using_db(using_db)
        .values_list("earned_at", "hours_tenths", "course_id", "item_id")
    )
    lines = [Line(*row) for row in rows]
    # Ledger writes are serialised per broker and a certification is logged in the transaction of the
    # line that brought it, so the ones held then are those logged before the broker's next line.
    facts = await (
        Activity.filter(person_id=broker.person_id, kind__in=("credit.granted", "broker.certified"))  # type: ignore[attr-defined]
        .using_db(using_db)
        .order_by("id")
        .values_list("kind", "payload")
    )
    then: set[tuple[str, int]] = set()
    for kind, payload in facts:
        if kind == "credit.granted" and payload.get("broker_id") == broker.id and payload.get("entry_id", 0) > entry_id:
            break
        if kind == "broker.certified" and payload.get("broker_id") == broker.id:
            then.add((str(payload.get("level")), int(payload.get("round", 1))))
    held = [h for h in await held_by(broker.id, using_db) if (str(h.level), h.round) in then]
    items = await required_items_of({line.course_id for line in lines if line.course_id}, using_db)
    return assess(lines, held, completed_course_codes(lines, items), current_rules(), clock.now())


async def certify_if_due(conn: BaseDBAsyncClient, broker: Broker, *, actor: str) -> list[Certification]:
    """After a ledger write, under the broker's lock: certify each level whose line is now crossed.

    Logged as ``broker.certified``, which tells the broker. The unique (broker, level, round) key
    is the last guard against certifying twice.
    """
    assessment = await assess_broker(broker.id, conn)
    if not assessment.due:
        return []
    rules = {BrokerLevel(rule.level): rule for rule in current_rules()}
    now = clock.now()
    made: list[Certification] = []
    for level, rnd in assessment.due:
        cert = await Certification.create(
            broker_id=broker.id,
            level=level,
            round=rnd,
            certified_at=now,
            expires_at=_years_later(now, rules[level].valid_years),
            hours_tenths=int(assessment.total * 10),
            using_db=conn,
        )
        await activity.record(
            "broker.certified",
            actor=actor,
            person_id=broker.person_id,  # type: ignore[attr-defined]
            using_db=conn,
            broker_id=broker.id,
            level=str(level),
            round=rnd,
            hours=str(assessment.total),
            expires_at=cert.expires_at.isoformat() if cert.expires_at else None,
        )
        made.append(cert)
    return made


def local_year(moment: datetime, tz: zoneinfo.ZoneInfo) -> int:
    return moment.astimezone(tz).year
