"""Judges of a competition and their tokens.

A judge token is an ``ApiToken`` of role ``judge`` linked one-to-one to a ``Judge`` seat: it reaches
that one competition (its entries, its scoring routes) and nothing else. The judge page's sign-in link
carries the same token, so the page and the API are one identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.transactions import in_transaction

from events import clock
from events.errors import CompetitionNotFound, Forbidden, JudgeNotFound
from events.models import ApiToken, Judge, Role
from events.services import activity, organizations, paging, tokens
from events.services.competitions import conflicts
from events.services.competitions.config import load_config
from events.services.competitions.entries import entry_parties, judge_party
from events.services.organizations import Scope
from events.services.people import find_or_create_person, normalize_email, normalize_phone

OrgName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class JudgeInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    organization: OrgName
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    telegram_id: Annotated[int, Field(gt=0, lt=2**53)] | None = None
    expertise: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=40)]], Field(max_length=20)] = (
        Field(default=[], description="Fields of technology or track codes: the assignment prefers a fit.")
    )
    conflicts: Annotated[list[OrgName], Field(max_length=30)] = Field(
        default=[], description="Organizations the judge declares ties to; their entries are never theirs to score."
    )


@dataclass(frozen=True, slots=True)
class IssuedJudge:
    judge: Judge
    token: str  # shown once


async def add_judge(competition_id: int, data: JudgeInput, *, scope: Scope, actor: str) -> IssuedJudge:
    """A judge with a new token scoped to this competition; conflicts with the entries already in are
    found and logged at once. The Telegram id is vouched for by the organizer (as for registrations).
    Raises ``competition_not_found``, ``invalid_input`` (a bad e-mail or phone).
    """
    config = await load_config(competition_id, scope)
    competition = config.competition
    email = normalize_email(data.email)
    phone = normalize_phone(data.phone)
    organization = await organizations.find_or_create_organization(data.organization)
    replaced: int | None = None  # the token of the same person named again, revoked
    async with in_transaction() as conn:
        person = await find_or_create_person(
            name=data.name,
            phone=phone,
            email=email,
            organization=organization.name,
            telegram_id=data.telegram_id,
            using_db=conn,
        )
        issued = await tokens.create_token(
            role=Role.JUDGE,
            name=f"judge {competition.id}: {data.name}"[:100],
            organization_id=competition.managed_by_id,
            using_db=conn,
        )
        existing = await Judge.get_or_none(competition_id=competition.id, person_id=person.id, using_db=conn)
        if existing is not None:
            # The same person named again (a Telegram id already a judge here): a fresh token, one seat.
            if existing.token_id is not None:
                await ApiToken.filter(id=existing.token_id).using_db(conn).update(revoked_at=clock.now())
                replaced = existing.token_id
            existing.token_id = issued.token.id
            existing.active = True
            await existing.save(using_db=conn, update_fields=["token_id", "active"])
            judge = existing
        else:
            judge = await Judge.create(
                competition_id=competition.id,
                person_id=person.id,
                name=data.name,
                organization_id=organization.id,
                email=email,
                phone=phone,
                expertise=list(dict.fromkeys(data.expertise)),
                conflicts=list(dict.fromkeys(data.conflicts)),
                token_id=issued.token.id,
                created_by=actor[:100],
                using_db=conn,
            )
        await judge.fetch_related("organization", using_db=conn)
        found = conflicts.conflict_pairs(
            {judge.id: judge_party(judge)}, await entry_parties(competition.id, None, conn)
        )
        await conflicts.log(conn, competition.id, found)
        await activity.record(
            "competition.judge_added",
            actor=actor,
            using_db=conn,
            event_id=competition.launch_event_id,
            person_id=person.id,
            competition_id=competition.id,
            judge_id=judge.id,
            conflicts_found=len(found),
        )
    tokens.forget([replaced])
    return IssuedJudge(judge=judge, token=issued.plaintext)


ORDER = ("id",)


async def judge_page(competition_id: int, *, scope: Scope, limit: int, cursor: str | None = None) -> paging.Page[Judge]:
    """With organization loaded. Raises ``competition_not_found``, ``invalid_input`` (cursor)."""
    config = await load_config(competition_id, scope)
    qs = Judge.filter(competition_id=config.competition.id)
    total = await qs.count()
    rows = (
        await paging.after(qs, "competition_judges", ORDER, cursor)
        .order_by(*ORDER)
        .limit(limit + 1)
        .select_related("organization")
    )
    return paging.page(rows, "competition_judges", ORDER, limit, total=total)


async def judge_of_token(token: ApiToken, competition_id: int) -> Judge:
    """The judge a judge token stands for in this competition. Raises ``forbidden`` (not a judge token,
    e.g. an admin's), ``competition_not_found`` (a judge of another competition: it does not exist for them).
    """
    if token.role != Role.JUDGE:
        raise Forbidden()
    judge = await Judge.get_or_none(token_id=token.id, active=True).select_related("organization")
    if judge is None or judge.competition_id != competition_id:
        raise CompetitionNotFound()
    return judge


async def judge_of_person(person_id: int, competition_id: int) -> Judge | None:
    """The active judge seat of a person (the bot's on-site scoring)."""
    return await Judge.get_or_none(person_id=person_id, competition_id=competition_id, active=True).select_related(
        "organization"
    )


async def get_judge(competition_id: int, judge_id: int, scope: Scope) -> Judge:
    """Raises ``competition_not_found``, ``judge_not_found``."""
    config = await load_config(competition_id, scope)
    judge = await Judge.get_or_none(id=judge_id, competition_id=config.competition.id).select_related("organization")
    if judge is None:
        raise JudgeNotFound()
    return judge


async def rotate_judge_token(competition_id: int, judge_id: int, *, scope: Scope, actor: str) -> IssuedJudge:
    """Revoke the judge's token and issue a new one (a lost link). Raises ``competition_not_found``,
    ``judge_not_found``."""
    judge = await get_judge(competition_id, judge_id, scope)
    competition = (await load_config(competition_id, scope)).competition
    async with in_transaction() as conn:
        issued = await tokens.create_token(
            role=Role.JUDGE,
            name=f"judge {competition.id}: {judge.name}"[:100],
            organization_id=competition.managed_by_id,
            using_db=conn,
        )
        replaced = judge.token_id
        if replaced is not None:
            await ApiToken.filter(id=replaced).using_db(conn).update(revoked_at=clock.now())
        judge.token_id = issued.token.id
        await judge.save(using_db=conn, update_fields=["token_id"])
        await activity.record(
            "competition.judge_token_rotated",
            actor=actor,
            using_db=conn,
            event_id=competition.launch_event_id,
            competition_id=competition.id,
            judge_id=judge.id,
        )
    tokens.forget([replaced])
    return IssuedJudge(judge=judge, token=issued.plaintext)
