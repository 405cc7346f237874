"""Certification: where a broker stands against the level rules, certifying when a line is crossed,
and certificates that follow the ledger.

``assess`` is a pure function of the ledger lines, the certifications held and the rules, used both
after every ledger write (to certify) and by the views (to show progress). Rules come from the
settings (``WUCHUANG_TRAINING_LEVELS``).

A certificate is held only while the ledger still supports it: every ledger write re-assesses the
broker's certificates in its own transaction (``reassess``). One that the ledger no longer supports
(a correction took the hours or a required course away) is *suspended*, naming the line; the write
that brings the broker back over the line *reinstates* it, with its number and dates unchanged. An
admin may *revoke* a certificate (the ledger then leaves it alone) and *reinstate* it. *Expired* is
no state of its own: it is read from the dates.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from events import clock, localtime
from events.errors import (
    N_,
    CertificateNotFound,
    CertificationAlreadyRevoked,
    CertificationNotFound,
    CertificationNotRevoked,
    InvalidInput,
)
from events.models import (
    LEVEL_ORDER,
    Activity,
    Broker,
    BrokerLevel,
    Certification,
    CertificationState,
    CourseItem,
    CreditEntry,
    hours_of,
)
from events.services import activity
from events.services.brokers import lock_broker
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
    state: CertificationState = CertificationState.ACTIVE


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
        hours = float(min(Decimal(1), self.hours_have / self.hours_required)) if self.hours_required else 1.0
        if not self.courses_required:
            return hours
        courses = len(self.courses_done) / len(self.courses_required)
        return min(hours, courses)


@dataclass(frozen=True, slots=True)
class Assessment:
    total: Decimal
    # The highest level whose latest certification is still valid.
    level: BrokerLevel | None
    status: str  # "certified" | "expired" | "suspended" | "revoked" | "in_training"
    certified_at: datetime | None
    expires_at: datetime | None
    next: Progress | None
    due: list[tuple[BrokerLevel, int]] = field(default_factory=list)  # (level, round) to certify now


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at <= now


def certificate_status(state: CertificationState | str, expires_at: datetime | None, now: datetime) -> str:
    """What a certificate is worth today: ``revoked``, ``suspended``, ``expired`` or ``valid`` (in that order)."""
    if state != CertificationState.ACTIVE:
        return str(state)
    return "expired" if is_expired(expires_at, now) else "valid"


def latest_per_level(held: Iterable[Held]) -> dict[BrokerLevel, Held]:
    """Each level's latest round: the certificate that speaks for that level now."""
    latest: dict[BrokerLevel, Held] = {}
    for cert in held:
        if cert.level not in latest or cert.round > latest[cert.level].round:
            latest[cert.level] = cert
    return latest


def standing(held: Iterable[Held], now: datetime) -> tuple[BrokerLevel | None, str, datetime | None, datetime | None]:
    """Level, status and the dates that go with it, from the certifications alone (no ledger needed).

    Certified: the latest certificate of some level is active and not expired. Otherwise the status is
    that of the highest level's latest certificate: revoked, suspended or expired.
    """
    latest = latest_per_level(held)
    if not latest:
        return None, "in_training", None, None
    valid = [c for c in latest.values() if c.state == CertificationState.ACTIVE and not is_expired(c.expires_at, now)]
    if valid:
        top = max(valid, key=lambda c: LEVEL_ORDER.index(c.level))
        return top.level, "certified", top.certified_at, top.expires_at
    top = max(latest.values(), key=lambda c: LEVEL_ORDER.index(c.level))
    status = "expired" if top.state == CertificationState.ACTIVE else str(top.state)
    return None, status, top.certified_at, top.expires_at


def assess(
    lines: Sequence[Line],
    held: Sequence[Held],
    completed_courses: set[str],
    rules: Sequence[LevelRule],
    now: datetime,
) -> Assessment:
    total_tenths = sum(line.tenths for line in lines)
    latest = latest_per_level(held)
    due: list[tuple[BrokerLevel, int]] = []
    progress: Progress | None = None
    for rule in rules:
        level = BrokerLevel(rule.level)
        below = LEVEL_ORDER[LEVEL_ORDER.index(level) - 1] if level != LEVEL_ORDER[0] else None
        if below is not None and below not in latest and (below, 1) not in due:
            break  # each level needs the one below it
        cert = latest.get(level)
        if cert is not None and cert.state == CertificationState.REVOKED:
            break  # only an admin brings it back; the ledger cannot
        if cert is not None and cert.state == CertificationState.SUSPENDED:
            # Toward getting it back: the line it no longer meets.
            progress = _regain(rule, cert, held, lines, total_tenths, completed_courses)
            break
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
    top, status, certified_at, expires_at = standing([*held, *(Held(lv, rd, now, None) for lv, rd in due)], now)
    return Assessment(hours_of(total_tenths), top, status, certified_at, expires_at, progress, due)


def _regain(
    rule: LevelRule,
    cert: Held,
    held: Sequence[Held],
    lines: Sequence[Line],
    total_tenths: int,
    completed_courses: set[str],
) -> Progress:
    """What a suspended certificate misses: the level's own line, else the renewal's hours."""
    missing = [code for code in rule.courses if code not in completed_courses]
    previous = _previous_round(cert, held)
    if total_tenths >= _tenths(rule.hours) and not missing and previous is not None:
        since = sum(line.tenths for line in lines if line.earned_at > previous.certified_at)
        return Progress(cert.level, True, Decimal(str(rule.renewal_hours)), hours_of(since), [], [])
    return Progress(
        cert.level,
        False,
        Decimal(str(rule.hours)),
        hours_of(total_tenths),
        list(rule.courses),
        [code for code in rule.courses if code in completed_courses],
    )


def _previous_round(cert: Held, held: Sequence[Held]) -> Held | None:
    return next((h for h in held if h.level == cert.level and h.round == cert.round - 1), None)


def supported(
    cert: Held, held: Sequence[Held], lines: Sequence[Line], completed_courses: set[str], rule: LevelRule
) -> bool:
    """Does the ledger still carry this certificate? A first certification needs the level's line
    (hours and required courses); a renewal also the renewal hours earned since the round before it.
    Each certificate answers to its own level's line (the level below is not re-checked through it).
    """
    total = sum(line.tenths for line in lines)
    if total < _tenths(rule.hours) or any(code not in completed_courses for code in rule.courses):
        return False
    previous = _previous_round(cert, held)
    if cert.round > 1 and previous is not None:
        since = sum(line.tenths for line in lines if line.earned_at > previous.certified_at)
        return since >= _tenths(rule.renewal_hours)
    return True


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


def held_of(cert: Certification) -> Held:
    return Held(BrokerLevel(cert.level), cert.round, cert.certified_at, cert.expires_at, CertificationState(cert.state))


async def held_by(broker_id: int, using_db: BaseDBAsyncClient | None = None) -> list[Held]:
    rows = await (
        Certification.filter(broker_id=broker_id)
        .using_db(using_db)
        .values_list("level", "round", "certified_at", "expires_at", "state")
    )
    return [
        Held(BrokerLevel(level), rnd, at, expires, CertificationState(state)) for level, rnd, at, expires, state in rows
    ]


async def assess_broker(broker_id: int, using_db: BaseDBAsyncClient | None = None) -> Assessment:
    lines = await lines_of(broker_id, using_db)
    held = await held_by(broker_id, using_db)
    items = await required_items_of({line.course_id for line in lines if line.course_id}, using_db)
    return assess(lines, held, completed_course_codes(lines, items), current_rules(), clock.now())


async def assessment_after(entry_id: int, using_db: BaseDBAsyncClient | None = None) -> Assessment | None:
    """Where the broker stood right after ledger line ``entry_id`` was written, with the certifications
    that line brought: what a message about the line should say, however late it is read. None: no such line.
    """
    entry = await CreditEntry.get_or_none(id=entry_id, using_db=using_db).select_related("broker")
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
    # Their states then likewise: the changes logged before that next line.
    facts = await (
        Activity.filter(person_id=broker.person_id, kind__in=("credit.granted", "broker.certified", *STATE_FACTS))
        .using_db(using_db)
        .order_by("id")
        .values_list("kind", "payload")
    )
    then: dict[tuple[str, int], CertificationState] = {}
    for kind, payload in facts:
        if payload.get("broker_id") != broker.id:
            continue
        if kind == "credit.granted" and payload.get("entry_id", 0) > entry_id:
            break
        key = (str(payload.get("level")), int(payload.get("round", 1)))
        if kind == "broker.certified":
            then[key] = CertificationState.ACTIVE
        elif kind in STATE_FACTS and key in then:
            then[key] = STATE_FACTS[kind]
    held = [
        Held(h.level, h.round, h.certified_at, h.expires_at, then[(str(h.level), h.round)])
        for h in await held_by(broker.id, using_db)
        if (str(h.level), h.round) in then
    ]
    items = await required_items_of({line.course_id for line in lines if line.course_id}, using_db)
    return assess(lines, held, completed_course_codes(lines, items), current_rules(), clock.now())


@dataclass(frozen=True, slots=True)
class Reassessed:
    """What a ledger write did to the broker's certificates."""

    certified: list[Certification] = field(default_factory=list)
    suspended: list[Certification] = field(default_factory=list)
    reinstated: list[Certification] = field(default_factory=list)


# The facts that change a certificate's state, and the state each leaves it in.
STATE_FACTS: dict[str, CertificationState] = {
    "certification.suspended": CertificationState.SUSPENDED,
    "certification.reinstated": CertificationState.ACTIVE,
    "certification.revoked": CertificationState.REVOKED,
}
NUMBER_PREFIX = "WH-JSJL"  # 武汉 · 技术经理人
NUMBER_SHAPE = re.compile(r"[A-Z0-9-]{1,32}")


def certificate_number(cert_id: int, certified_at: datetime, tz: zoneinfo.ZoneInfo) -> str:
    """``WH-JSJL-2026-000123``: the year issued (local) and the certificate's id, so it is unique and
    stable without a counter to contend for (numbers run across years, with gaps where ids went to
    other years' certificates)."""
    return f"{NUMBER_PREFIX}-{local_year(certified_at, tz)}-{cert_id:06d}"


async def reassess(conn: BaseDBAsyncClient, broker: Broker, *, entry: CreditEntry, actor: str) -> Reassessed:
    """After the ledger line ``entry`` was written, under the broker's lock and in its transaction:
    suspend each certificate the ledger no longer carries and reinstate each suspended one it carries
    again (both logged with the line, which tells the broker), then certify each level whose line is
    now crossed (``broker.certified``). The unique (broker, level, round) key is the last guard
    against certifying twice.
    """
    lines = await lines_of(broker.id, conn)
    items = await required_items_of({line.course_id for line in lines if line.course_id}, conn)
    completed = completed_course_codes(lines, items)
    rules = {BrokerLevel(rule.level): rule for rule in current_rules()}
    certs = await Certification.filter(broker_id=broker.id).using_db(conn).order_by("level", "round")
    held = [held_of(cert) for cert in certs]
    now = clock.now()
    total = hours_of(sum(line.tenths for line in lines))
    suspended: list[Certification] = []
    reinstated: list[Certification] = []
    for cert in certs:
        rule = rules.get(BrokerLevel(cert.level))
        if rule is None or cert.state == CertificationState.REVOKED:
            continue  # a level no rule names any more is left as it was; a revocation is the admin's
        carried = supported(held_of(cert), held, lines, completed, rule)
        if carried == (cert.state == CertificationState.ACTIVE):
            continue
        state = CertificationState.ACTIVE if carried else CertificationState.SUSPENDED
        await _set_state(conn, cert, state, reason=entry.reason, actor=actor, entry_id=entry.id, now=now)
        await activity.record(
            "certification.reinstated" if carried else "certification.suspended",
            actor=actor,
            person_id=broker.person_id,
            using_db=conn,
            **_fact_payload(cert),
            entry_id=entry.id,
            by="ledger",
            hours=str(total),
            hours_required=_plain(rule.hours),
            reason=entry.reason,
        )
        (reinstated if carried else suspended).append(cert)
    certified = await _certify_due(conn, broker, actor=actor, lines=lines, completed=completed, now=now)
    return Reassessed(certified, suspended, reinstated)


async def _certify_due(
    conn: BaseDBAsyncClient, broker: Broker, *, actor: str, lines: list[Line], completed: set[str], now: datetime
) -> list[Certification]:
    held = await held_by(broker.id, conn)
    assessment = assess(lines, held, completed, current_rules(), now)
    if not assessment.due:
        return []
    rules = {BrokerLevel(rule.level): rule for rule in current_rules()}
    tz = localtime.zone()
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
        cert.number = certificate_number(cert.id, cert.certified_at, tz)
        await cert.save(using_db=conn, update_fields=["number"])
        await activity.record(
            "broker.certified",
            actor=actor,
            person_id=broker.person_id,
            using_db=conn,
            broker_id=broker.id,
            certification_id=cert.id,
            number=cert.number,
            level=str(level),
            round=rnd,
            hours=str(assessment.total),
            expires_at=cert.expires_at.isoformat() if cert.expires_at else None,
        )
        made.append(cert)
    return made


def _plain(hours: float) -> str:
    """40, 12.5 (as the ledger writes hours in facts: no trailing zeros)."""
    return format(Decimal(str(hours)).normalize(), "f")


def _fact_payload(cert: Certification) -> dict[str, Any]:
    return {
        "broker_id": cert.broker_id,
        "certification_id": cert.id,
        "number": cert.number,
        "level": str(cert.level),
        "round": cert.round,
    }


async def _set_state(
    conn: BaseDBAsyncClient,
    cert: Certification,
    state: CertificationState,
    *,
    reason: str,
    actor: str,
    entry_id: int | None,
    now: datetime,
) -> None:
    cert.state = state
    cert.state_reason = reason
    cert.state_entry_id = entry_id
    cert.state_changed_by = actor[:100]
    cert.state_changed_at = now
    await cert.save(
        using_db=conn,
        update_fields=["state", "state_reason", "state_entry_id", "state_changed_by", "state_changed_at"],
    )


MAX_REASON = 500


def reason_text(reason: str | None) -> str:
    """A required reason, trimmed. Raises ``invalid_input`` when it is missing or too long."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(N_("A reason is required."), field="reason")
    if len(text) > MAX_REASON:
        raise InvalidInput(N_("The reason is too long (at most %(max)s characters)."), field="reason", max=MAX_REASON)
    return text


async def _locked_certificate(conn: BaseDBAsyncClient, broker_id: int, certification_id: int) -> Certification:
    # The broker's lock, as for a ledger write: a revocation and a ledger write on the same
    # broker cannot interleave (neither undoes the other's state change unseen).
    await lock_broker(conn, broker_id)
    cert = await Certification.get_or_none(id=certification_id, broker_id=broker_id, using_db=conn)
    if cert is None:
        raise CertificationNotFound(certification_id=certification_id)
    return cert


async def revoke_certificate(broker_id: int, certification_id: int, *, reason: str | None, actor: str) -> Certification:
    """An admin withdraws a certificate (e.g. obtained by fraud); the ledger no longer touches it.
    Logged as ``certification.revoked``, which tells the broker. Raises ``broker_not_found``,
    ``certification_not_found``, ``certification_already_revoked``, ``invalid_input`` (the reason).
    """
    text = reason_text(reason)
    async with in_transaction() as conn:
        cert = await _locked_certificate(conn, broker_id, certification_id)
        if cert.state == CertificationState.REVOKED:
            raise CertificationAlreadyRevoked()
        await _set_state(
            conn, cert, CertificationState.REVOKED, reason=text, actor=actor, entry_id=None, now=clock.now()
        )
        broker = await Broker.get(id=broker_id, using_db=conn)
        await activity.record(
            "certification.revoked",
            actor=actor,
            person_id=broker.person_id,
            using_db=conn,
            **_fact_payload(cert),
            by="admin",
            reason=text,
        )
    return cert


async def reinstate_certificate(
    broker_id: int, certification_id: int, *, reason: str | None, actor: str
) -> Certification:
    """An admin undoes a revocation. The certificate comes back as the ledger has it: active when the
    broker still meets its line, else suspended until the hours come back (the admin restores the
    decision, not hours that are not there). Logged as ``certification.reinstated`` (and
    ``certification.suspended`` when it comes back suspended), which tells the broker. Raises
    ``broker_not_found``, ``certification_not_found``, ``certification_not_revoked``, ``invalid_input``.
    """
    text = reason_text(reason)
    async with in_transaction() as conn:
        cert = await _locked_certificate(conn, broker_id, certification_id)
        if cert.state != CertificationState.REVOKED:
            raise CertificationNotRevoked()
        broker = await Broker.get(id=broker_id, using_db=conn)
        lines = await lines_of(broker_id, conn)
        items = await required_items_of({line.course_id for line in lines if line.course_id}, conn)
        held = await held_by(broker_id, conn)
        rule = next((r for r in current_rules() if r.level == str(cert.level)), None)
        carried = rule is None or supported(held_of(cert), held, lines, completed_course_codes(lines, items), rule)
        now = clock.now()
        state = CertificationState.ACTIVE if carried else CertificationState.SUSPENDED
        await _set_state(conn, cert, state, reason=text, actor=actor, entry_id=None, now=now)
        person_id: int = broker.person_id
        await activity.record(
            "certification.reinstated",
            actor=actor,
            person_id=person_id,
            using_db=conn,
            **_fact_payload(cert),
            by="admin",
            reason=text,
            suspended=not carried,
        )
        if not carried:
            await activity.record(
                "certification.suspended",
                actor=actor,
                person_id=person_id,
                using_db=conn,
                **_fact_payload(cert),
                by="ledger",
                entry_id=None,
                reason="",  # the reinstatement said why; this says only that the hours are short
                hours=str(hours_of(sum(line.tenths for line in lines))),
                hours_required=_plain(rule.hours) if rule else "",
            )
    return cert


@dataclass(frozen=True, slots=True)
class Verification:
    """What the public verification page may show of a certificate: nothing else about the person."""

    number: str
    name: str
    level: BrokerLevel
    certified_at: datetime
    expires_at: datetime | None
    status: str  # valid | expired | suspended | revoked


async def verify_certificate(number: str) -> Verification:
    """The public check of a certificate number (case and spaces around it do not matter).
    Raises ``certificate_not_found``.
    """
    wanted = number.strip().upper()
    if not NUMBER_SHAPE.fullmatch(wanted):  # nothing that could not be a number reaches the database
        raise CertificateNotFound()
    cert = await Certification.get_or_none(number=wanted).select_related("broker__person")
    if cert is None or cert.number is None:
        raise CertificateNotFound()
    return Verification(
        cert.number,
        cert.broker.person.name,
        BrokerLevel(cert.level),
        cert.certified_at,
        cert.expires_at,
        certificate_status(cert.state, cert.expires_at, clock.now()),
    )


def local_year(moment: datetime, tz: zoneinfo.ZoneInfo) -> int:
    return moment.astimezone(tz).year
