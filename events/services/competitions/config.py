"""A competition's configuration: tracks, rounds (judges per entry, scoring window, advance rule),
criteria (weight, maximum), aggregation, tie-break rule and award tiers.

The structure (tracks, rounds, criteria, aggregation, tie-break) may change only until the first score
is written: a ranking must always be recomputable from the rule its scores were given under.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from events import clock
from events.db import dialect_of
from events.districts import is_known as is_known_district
from events.errors import N_, CompetitionLocked, CompetitionNotFound, InvalidInput, RoundNotFound
from events.models import (
    Aggregation,
    Assignment,
    Competition,
    CompetitionStatus,
    Criterion,
    Entry,
    Event,
    Round,
    RoundStatus,
    ScoreVersion,
    Track,
    TrackKind,
)
from events.services import activity, paging
from events.services.organizations import Scope

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
# Numbers a rule is made of: finite (no NaN or infinity sneaks into a weighted total).
Positive = Annotated[float, Field(gt=0, le=1_000_000, allow_inf_nan=False)]

# The tie-break keys, in the order a competition may list them (see ranking.TIE_BREAKS).
TIE_BREAK_KEYS = ("median", "scores_count", "earliest_submission", "highest_min")
DEFAULT_TIE_BREAK = ["median", "scores_count", "earliest_submission"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TrackInput(_Strict):
    code: Code
    name: Name
    kind: TrackKind = TrackKind.TECHNOLOGY
    district: Annotated[str, StringConstraints(max_length=32)] | None = None
    fields_of_interest: Annotated[list[Word], Field(max_length=20)] = []

    @field_validator("district")
    @classmethod
    def _district(cls, value: str | None) -> str | None:
        if value and not is_known_district(value):
            raise ValueError(f"unknown district {value[:40]}")
        return value or None


class AdvanceRule(_Strict):
    """Who goes through a round at its close: the best ``top`` overall, and the best ``top_per_track`` of
    each track, of those scoring at least ``min_score`` (each bound optional; none: nobody by rule)."""

    top: Annotated[int, Field(ge=1, le=100_000)] | None = None
    top_per_track: Annotated[int, Field(ge=1, le=100_000)] | None = None
    min_score: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


class RoundInput(_Strict):
    code: Code
    name: Name
    judges_per_entry: Annotated[int, Field(ge=1, le=50)]
    advance: AdvanceRule = AdvanceRule()
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    notice_days: Annotated[int, Field(ge=0, le=60)] = 7
    disagreement_gap: Positive | None = None

    @model_validator(mode="after")
    def _window(self) -> RoundInput:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class CriterionInput(_Strict):
    key: Code
    name: Name
    weight: Positive
    max: Positive
    description: Annotated[str, StringConstraints(max_length=2000)] = ""


class AwardTier(_Strict):
    code: Code
    name: Name
    count: Annotated[int, Field(ge=1, le=10_000)]


def _unique(values: list[Any], attr: str, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        key = getattr(value, attr).casefold()
        if key in seen:
            raise ValueError(f"{what} {getattr(value, attr)} is listed twice")
        seen.add(key)


def _unique_codes(values: list[Any], field_name: str | None) -> list[Any]:
    attr = "key" if field_name == "criteria" else "code"
    _unique(values, attr, {"tracks": "track", "rounds": "round", "criteria": "criterion"}.get(field_name or "", "item"))
    return values


class _Settings(_Strict):
    """What a competition's creation and its PATCH share."""

    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    series: Annotated[str, StringConstraints(max_length=50)] | None = None
    event_id: Annotated[int, Field(ge=1, lt=2**31)] | None = Field(default=None, description="The launch event.")
    final_event_id: Annotated[int, Field(ge=1, lt=2**31)] | None = None
    award_event_id: Annotated[int, Field(ge=1, lt=2**31)] | None = None
    entries_open_at: AwareDatetime | None = None
    entries_close_at: AwareDatetime | None = None
    award_tiers: Annotated[list[AwardTier], Field(max_length=20)] | None = None
    tie_break: (
        Annotated[list[Literal["median", "scores_count", "earliest_submission", "highest_min"]], Field(max_length=4)]
        | None
    ) = Field(default=None, description="Tried in order on equal scores; the entry id decides last.")

    @model_validator(mode="after")
    def _checks(self) -> _Settings:
        if self.entries_open_at and self.entries_close_at and self.entries_close_at <= self.entries_open_at:
            raise ValueError("entries_close_at must be after entries_open_at")
        if self.award_tiers:
            _unique(self.award_tiers, "code", "award tier")
        if self.tie_break and len(set(self.tie_break)) != len(self.tie_break):
            raise ValueError("a tie-break key is listed twice")
        return self


class _Structure(_Strict):
    tracks: Annotated[list[TrackInput], Field(min_length=1, max_length=100)]
    rounds: Annotated[list[RoundInput], Field(min_length=1, max_length=10)]
    criteria: Annotated[list[CriterionInput], Field(min_length=1, max_length=30)]

    @field_validator("tracks", "rounds", "criteria")
    @classmethod
    def _codes(cls, values: list[Any], info: ValidationInfo) -> list[Any]:
        return _unique_codes(values, info.field_name)


class CompetitionInput(_Settings, _Structure):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    aggregation: Aggregation = Aggregation.MEAN


class CompetitionPatch(_Settings):
    """Every field optional; ``tracks``, ``rounds``, ``criteria`` replace the whole list (matched by code)."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    aggregation: Aggregation | None = None
    tracks: Annotated[list[TrackInput], Field(min_length=1, max_length=100)] | None = None
    rounds: Annotated[list[RoundInput], Field(min_length=1, max_length=10)] | None = None
    criteria: Annotated[list[CriterionInput], Field(min_length=1, max_length=30)] | None = None

    @field_validator("tracks", "rounds", "criteria")
    @classmethod
    def _codes(cls, values: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
        return None if values is None else _unique_codes(values, info.field_name)


def ints(values: Iterable[Any]) -> list[int]:
    """Ids from a ``values_list(..., flat=True)`` (typed as tuples by the ORM's stubs)."""
    return [int(v) for v in values]


# What changes the ranking: refused once a score exists.
STRUCTURAL = frozenset({"tracks", "rounds", "criteria", "aggregation", "tie_break"})


@dataclass(frozen=True, slots=True)
class Config:
    """A competition with its tracks, rounds (by order) and criteria (by order), loaded together."""

    competition: Competition
    tracks: list[Track]
    rounds: list[Round]
    criteria: list[Criterion]

    def round(self, code: str) -> Round:
        """Raises ``round_not_found``."""
        for found in self.rounds:
            if found.code == code:
                return found
        raise RoundNotFound(round=code[:32])

    def track_code(self, track_id: int) -> str:
        return next(t.code for t in self.tracks if t.id == track_id)

    def next_round(self, current: Round) -> Round | None:
        later = [r for r in self.rounds if r.order > current.order]
        return later[0] if later else None

    @property
    def scale(self) -> float:
        """The highest weighted total a judge can give (Σ weight · max)."""
        return math.fsum(c.weight * c.max for c in self.criteria)

    @property
    def tie_break(self) -> list[str]:
        return list(self.competition.tie_break or DEFAULT_TIE_BREAK)


async def _linked_event(event_id: int | None, organization_id: int, field: str) -> int | None:
    if event_id is None:
        return None
    event = await Event.get_or_none(id=event_id)
    if event is None or event.organization_id != organization_id:
        raise InvalidInput(N_("No such event."), field=field)
    return event.id


async def _event_links(data: _Settings, organization_id: int, only: set[str] | None = None) -> dict[str, int | None]:
    links = {"event_id": "launch_event_id", "final_event_id": "final_event_id", "award_event_id": "award_event_id"}
    return {
        column: await _linked_event(getattr(data, name), organization_id, name)
        for name, column in links.items()
        if only is None or name in only
    }


def _round_row(data: RoundInput, order: int) -> dict[str, Any]:
    return {
        "name": data.name,
        "order": order,
        "judges_per_entry": data.judges_per_entry,
        "advance": data.advance.model_dump(exclude_none=True),
        "opens_at": data.opens_at,
        "closes_at": data.closes_at,
        "notice_days": data.notice_days,
        "disagreement_gap": data.disagreement_gap,
    }


def _track_row(data: TrackInput, order: int) -> dict[str, Any]:
    return {
        "name": data.name,
        "kind": data.kind,
        "district": data.district,
        "fields_of_interest": data.fields_of_interest,
        "order": order,
    }


def _criterion_row(data: CriterionInput, order: int) -> dict[str, Any]:
    return {"name": data.name, "weight": data.weight, "max": data.max, "description": data.description, "order": order}


async def create_competition(data: CompetitionInput, *, actor: str, organization_id: int) -> Config:
    """A new competition managed by ``organization_id``. Raises ``invalid_input`` (duplicate codes,
    weight or max not above 0, judges_per_entry below 1, unknown aggregation, an event of another
    organization).
    """
    links = await _event_links(data, organization_id)
    async with in_transaction() as conn:
        competition = await Competition.create(
            title=data.title,
            description=data.description or "",
            series=data.series or None,
            aggregation=data.aggregation,
            tie_break=data.tie_break or DEFAULT_TIE_BREAK,
            award_tiers=[tier.model_dump() for tier in data.award_tiers or []],
            entries_open_at=data.entries_open_at,
            entries_close_at=data.entries_close_at,
            managed_by_id=organization_id,
            created_by=actor[:100],
            using_db=conn,
            **links,
        )
        await _write_structure(conn, competition, data.tracks, data.rounds, data.criteria)
        await activity.record("competition.created", actor=actor, using_db=conn, competition_id=competition.id)
    return await load_config(competition.id)


async def _write_structure(
    conn: BaseDBAsyncClient,
    competition: Competition,
    tracks: list[TrackInput] | None,
    rounds: list[RoundInput] | None,
    criteria: list[CriterionInput] | None,
) -> None:
    """Create or replace (matched by code) the listed parts. A track with entries or a round with
    assignments cannot be removed."""
    cid = competition.id
    if tracks is not None:
        kept = {t.code for t in tracks}
        for old in await Track.filter(competition_id=cid).using_db(conn):
            if old.code not in kept:
                if await Entry.exists(track_id=old.id, using_db=conn):
                    raise InvalidInput(
                        N_("Track %(code)s has entries: it cannot be removed."), field="tracks", code=old.code
                    )
                await old.delete(using_db=conn)
        for i, track in enumerate(tracks):
            await Track.update_or_create(
                defaults=_track_row(track, i), competition_id=cid, code=track.code, using_db=conn
            )
    if rounds is not None:
        kept = {r.code for r in rounds}
        for stale in await Round.filter(competition_id=cid).using_db(conn):
            if stale.code not in kept:
                if await Assignment.exists(round_id=stale.id, using_db=conn):
                    raise InvalidInput(
                        N_("Round %(code)s has assignments: it cannot be removed."), field="rounds", code=stale.code
                    )
                await stale.delete(using_db=conn)
            else:  # out of the way of the new order (unique per competition)
                await Round.filter(id=stale.id).using_db(conn).update(order=-stale.id)
        for i, item in enumerate(rounds, start=1):
            await Round.update_or_create(
                defaults=_round_row(item, i), competition_id=cid, code=item.code, using_db=conn
            )
    if criteria is not None:
        kept = {c.key for c in criteria}
        await Criterion.filter(competition_id=cid).exclude(key__in=kept).using_db(conn).delete()
        for i, criterion in enumerate(criteria):
            await Criterion.update_or_create(
                defaults=_criterion_row(criterion, i), competition_id=cid, key=criterion.key, using_db=conn
            )


async def owned_competition(competition_id: int, scope: Scope | None) -> Competition:
    """``scope`` None: anyone's (judges, public pages). Raises ``competition_not_found`` (also for
    another organization's)."""
    competition = await Competition.get_or_none(id=competition_id)
    if competition is None or (scope is not None and not scope.covers(competition.managed_by_id)):
        raise CompetitionNotFound()
    return competition


async def load_config(competition_id: int, scope: Scope | None = None) -> Config:
    """The competition and its configuration; ``scope`` None skips the ownership check (judges, public
    pages). Raises ``competition_not_found``.
    """
    competition = await owned_competition(competition_id, scope)
    return Config(
        competition=competition,
        tracks=await Track.filter(competition_id=competition.id).order_by("order", "id"),
        rounds=await Round.filter(competition_id=competition.id).order_by("order"),
        criteria=await Criterion.filter(competition_id=competition.id).order_by("order", "id"),
    )


ORDER = ("-id",)


async def competition_page(*, scope: Scope, limit: int, cursor: str | None = None) -> paging.Page[Competition]:
    """The scope's competitions, newest first. Raises ``invalid_input`` (cursor)."""
    qs = Competition.all() if scope.everything else Competition.filter(managed_by_id=scope.organization_id)
    total = await qs.count()
    rows = await paging.after(qs, "competitions", ORDER, cursor).order_by(*ORDER).limit(limit + 1)
    return paging.page(rows, "competitions", ORDER, limit, total=total)


async def configs_of(competitions: list[Competition]) -> list[Config]:
    """Configurations of several competitions in four queries (a list page)."""
    ids = [c.id for c in competitions]
    tracks = await Track.filter(competition_id__in=ids).order_by("order", "id")
    rounds = await Round.filter(competition_id__in=ids).order_by("order")
    criteria = await Criterion.filter(competition_id__in=ids).order_by("order", "id")
    return [
        Config(
            competition=c,
            tracks=[t for t in tracks if t.competition_id == c.id],
            rounds=[r for r in rounds if r.competition_id == c.id],
            criteria=[k for k in criteria if k.competition_id == c.id],
        )
        for c in competitions
    ]


async def is_scored(competition_id: int, using_db: BaseDBAsyncClient | None = None) -> bool:
    return await ScoreVersion.filter(round__competition_id=competition_id).using_db(using_db).exists()


async def update_competition(competition_id: int, patch: CompetitionPatch, *, scope: Scope, actor: str) -> Config:
    """Change the given fields. Raises ``competition_not_found``, ``invalid_input``,
    ``competition_locked`` (tracks, rounds, criteria, aggregation or tie-break once a score exists).
    """
    competition = await owned_competition(competition_id, scope)
    values = patch.model_dump(exclude_unset=True)
    structural = STRUCTURAL & values.keys()
    links = await _event_links(
        patch, competition.managed_by_id, only=set(values) & {"event_id", "final_event_id", "award_event_id"}
    )
    opens = values.get("entries_open_at", competition.entries_open_at)
    closes = values.get("entries_close_at", competition.entries_close_at)
    if opens and closes and closes <= opens:
        raise InvalidInput(N_("The end of the period must be after its start."), field="entries_close_at")
    async with in_transaction() as conn:
        # The same lock scoring's first write checks under: a score and a rule change cannot cross.
        await lock_competition(conn, competition.id)
        if structural:
            # And every round's, the lock a score is written under: no score lands while this checks.
            for round_id in (
                await Round.filter(competition_id=competition.id).using_db(conn).values_list("id", flat=True)
            ):
                await lock_row(conn, "competition_round", ints([round_id])[0])
            if await is_scored(competition.id, conn):
                raise CompetitionLocked()
        if "title" in values:
            if not values["title"]:
                raise InvalidInput(N_("A competition needs a title."), field="title")
            competition.title = values["title"]
        if "aggregation" in values:
            if values["aggregation"] is None:
                raise InvalidInput(N_("Choose an aggregation."), field="aggregation")
            competition.aggregation = values["aggregation"]
        if "description" in values:
            competition.description = values["description"] or ""
        if "series" in values:
            competition.series = values["series"] or None
        if "entries_open_at" in values:
            competition.entries_open_at = values["entries_open_at"]
        if "entries_close_at" in values:
            competition.entries_close_at = values["entries_close_at"]
        if "tie_break" in values:
            competition.tie_break = values["tie_break"] or DEFAULT_TIE_BREAK
        if "award_tiers" in values:
            competition.award_tiers = values["award_tiers"] or []
        for column, value in links.items():
            setattr(competition, column, value)
        await competition.save(using_db=conn)
        await _write_structure(conn, competition, patch.tracks, patch.rounds, patch.criteria)
        await activity.record(
            "competition.changed", actor=actor, using_db=conn, competition_id=competition.id, fields=sorted(values)
        )
    return await load_config(competition.id)


async def lock_row(conn: BaseDBAsyncClient, table: str, row_id: int) -> None:
    """Take the row's write lock for the rest of ``conn``'s transaction (SQLite: the database's write
    lock, which an immediate write takes; PostgreSQL: ``FOR UPDATE``)."""
    if dialect_of(conn) == "sqlite":
        await conn.execute_query(f"UPDATE {table} SET id = id WHERE id = ?", [row_id])  # noqa: S608 (fixed names)
    else:
        await conn.execute_query(f"SELECT id FROM {table} WHERE id = $1 FOR UPDATE", [row_id])  # noqa: S608


async def lock_competition(conn: BaseDBAsyncClient, competition_id: int) -> None:
    await lock_row(conn, "competition", competition_id)


# What a competition's status may become, from what (see ``move_status``).
STATUS_FROM: dict[CompetitionStatus, tuple[CompetitionStatus, ...]] = {
    CompetitionStatus.JUDGING: (CompetitionStatus.OPEN,),
    CompetitionStatus.FINISHED: (CompetitionStatus.OPEN, CompetitionStatus.JUDGING),
}


async def move_status(
    conn: BaseDBAsyncClient, competition_id: int, new: CompetitionStatus, *, actor: str, why: str
) -> bool:
    """Move the competition's status forward inside the caller's transaction, recording
    ``competition.status_changed`` (old, new, why); a status already there or past is left alone.
    ``open`` → ``judging`` when its rounds are under way (the first close, or an assignment after the
    entry period); → ``finished`` when the last round's results are final. Returns whether it moved."""
    competition = await Competition.get(id=competition_id, using_db=conn)
    old = CompetitionStatus(competition.status)
    if old not in STATUS_FROM.get(new, ()):
        return False
    await Competition.filter(id=competition_id).using_db(conn).update(status=new, updated_at=clock.now())
    await activity.record(
        "competition.status_changed",
        actor=actor,
        using_db=conn,
        event_id=competition.launch_event_id,
        competition_id=competition_id,
        old=old.value,
        new=new.value,
        why=why,
    )
    return True


def round_is_open(rnd: Round, now: datetime) -> bool:
    """Scores are taken: the round is open and ``now`` is inside its window."""
    return (
        rnd.status == RoundStatus.OPEN
        and (rnd.opens_at is None or now >= rnd.opens_at)
        and (rnd.closes_at is None or now < rnd.closes_at)
    )
