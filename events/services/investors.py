"""Investor profiles: a fund or an angel, what they fund (fields, rounds, ticket sizes, districts).

A profile is managed by the organization that entered it (another organization's is not found) and
may name the person behind it and the investing organization (made as kind ``investor`` when new).
``verified`` is set only by ``verify_investor``: matching may prefer verified investors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events.db import conn, dialect_of
from events.errors import N_, InvalidInput, InvestorNotFound
from events.models import Investor, Organization, OrganizationKind, Person
from events.services import activity, organizations, paging, supply_events
from events.services.achievements import check_district, check_field
from events.services.organizations import Scope

# Investment rounds, in order: what an investor says it funds.
ROUNDS: dict[str, str] = {
    "angel": N_("Angel"),  # 天使轮
    "pre_a": N_("Pre-A"),
    "a": N_("Series A"),
    "b": N_("Series B"),
    "c_plus": N_("Series C and later"),
    "strategic": N_("Strategic"),  # 战略投资
}
_ROUND_ALIASES = {
    "天使": "angel",
    "天使轮": "angel",
    "pre-a": "pre_a",
    "a轮": "a",
    "b轮": "b",
    "c+": "c_plus",
    "战略": "strategic",
}
MAX_TICKET = 10**13
# The rounds that usually fund an achievement at each stage of its development (研发 … 量产): how a
# project's stage meets an investor's rounds when pitches are matched.
ROUNDS_FOR_STAGE: dict[str, tuple[str, ...]] = {
    "research": ("angel",),
    "lab": ("angel", "pre_a"),
    "pilot": ("angel", "pre_a", "a"),
    "sample": ("pre_a", "a", "b"),
    "production": ("a", "b", "c_plus", "strategic"),
}
# What a person changing their own profile must have checked again (who they are, not what they fund).
IDENTITY = frozenset({"name", "organization_id", "person_id"})

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Ticket = Annotated[int, Field(ge=0, le=MAX_TICKET)]


class _InvestorFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    organization: Annotated[int, Field(ge=1, lt=2**31)] | Annotated[str, StringConstraints(max_length=200)] | None = (
        Field(default=None, description="The investing organization by id, or by name (added as an investor).")
    )
    person_id: Annotated[int, Field(ge=1, lt=2**31)] | None = None
    fields_of_interest: Annotated[list[Code], Field(max_length=20)] | None = Field(
        default=None, description="Codes of ``GET /api/v1/fields``."
    )
    stages: Annotated[list[Code], Field(max_length=6)] | None = Field(
        default=None, description="Rounds: " + " | ".join(ROUNDS) + "."
    )
    ticket_min_cny: Ticket | None = None
    ticket_max_cny: Ticket | None = None
    districts: Annotated[list[Code], Field(max_length=20)] | None = None


class InvestorInput(_InvestorFields):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class InvestorPatch(_InvestorFields):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


def check_round(text: str) -> str:
    """A round's code from its code or a usual name (天使轮, Pre-A). Raises ``invalid_input``."""
    key = text.strip().lower()
    code = key if key in ROUNDS else _ROUND_ALIASES.get(key)
    if code is None:
        raise InvalidInput(
            N_("Unknown investment round %(value)s (one of %(expected)s)."),
            field="stages",
            value=text[:40],
            expected=", ".join(ROUNDS),
        )
    return code


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


async def _values(data: _InvestorFields) -> dict[str, Any]:
    given = data.model_fields_set
    values: dict[str, Any] = {}
    name = getattr(data, "name", None)
    if "name" in given and name is not None:
        values["name"] = name
    if "description" in given:
        values["description"] = data.description or ""
    if "fields_of_interest" in given:
        values["fields_of_interest"] = _unique(
            [c for c in (check_field(f) for f in data.fields_of_interest or []) if c]
        )
    if "stages" in given:
        values["stages"] = _unique([check_round(s) for s in data.stages or []])
    if "districts" in given:
        values["districts"] = _unique([c for c in (check_district(d) for d in data.districts or []) if c])
    for key in ("ticket_min_cny", "ticket_max_cny"):
        if key in given:
            values[key] = getattr(data, key)
    if "person_id" in given:
        if data.person_id is not None and not await Person.exists(id=data.person_id):
            raise InvalidInput(N_("No such person."), field="person_id")
        values["person_id"] = data.person_id
    if "organization" in given:
        ref = data.organization
        if ref is None or (isinstance(ref, str) and not ref.strip()):
            values["organization_id"] = None
        elif isinstance(ref, int) or ref.strip().isdigit():
            if not await Organization.exists(id=int(ref)):
                raise InvalidInput(N_("No such organization."), field="organization")
            values["organization_id"] = int(ref)
        else:
            org = await organizations.find_or_create_organization(ref, kind=OrganizationKind.INVESTOR)
            values["organization_id"] = org.id
    return values


def _check_tickets(low: int | None, high: int | None) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            N_("The largest ticket must not be below the smallest (%(low)s yuan)."), field="ticket_max_cny", low=low
        )


async def create_investor(data: InvestorInput, *, organization_id: int, actor: str) -> Investor:
    """A new profile managed by ``organization_id``. Raises ``invalid_input``."""
    values = await _values(data)
    _check_tickets(values.get("ticket_min_cny"), values.get("ticket_max_cny"))
    async with in_transaction() as conn:
        investor = await Investor.create(**values, managed_by_id=organization_id, created_by=actor[:100], using_db=conn)
        await activity.record(
            "investor.created",
            actor=actor,
            person_id=investor.person_id,
            using_db=conn,
            investor_id=investor.id,
            managed_by=organization_id,
        )
    await supply_events.saved("investor", [investor.id])
    return await get_investor(investor.id, organizations.EVERYTHING)


async def get_investor(investor_id: int, scope: Scope) -> Investor:
    """With its organization loaded. Raises ``investor_not_found``."""
    found = await Investor.get_or_none(id=investor_id).select_related("organization")
    if found is None or not scope.covers(found.managed_by_id):
        raise InvestorNotFound()
    return found


async def update_investor(investor_id: int, patch: InvestorPatch, *, scope: Scope, actor: str) -> Investor:
    """Raises ``investor_not_found``, ``invalid_input``."""
    investor = await get_investor(investor_id, scope)
    values = await _values(patch)
    _check_tickets(
        values.get("ticket_min_cny", investor.ticket_min_cny), values.get("ticket_max_cny", investor.ticket_max_cny)
    )
    async with in_transaction() as conn:
        for key, value in values.items():
            setattr(investor, key, value)
        await investor.save(using_db=conn)
        await activity.record(
            "investor.updated",
            actor=actor,
            person_id=investor.person_id,
            using_db=conn,
            investor_id=investor.id,
            managed_by=investor.managed_by_id,
            fields=sorted(values),
        )
    await supply_events.saved("investor", [investor.id])
    return await get_investor(investor.id, organizations.EVERYTHING)


async def investor_of_person(person_id: int) -> Investor | None:
    """The profile a person registered for themselves (the bot's ``/investor``), the newest if several."""
    return await Investor.filter(person_id=person_id).select_related("organization").order_by("-id").first()


async def save_own_investor(data: InvestorInput, *, person: Person, actor: str) -> tuple[Investor, bool]:
    """A person's own profile, entered in the bot: made unverified, linked to the person and managed by the
    default organization (whose organizers verify it); when they have one already it is changed instead,
    and a change of name or organization makes it unverified again. Returns the profile and whether it is
    new. Raises ``invalid_input`` (an unknown field, round or district, a ticket minimum above the maximum).
    """
    data = data.model_copy(update={"person_id": person.id})
    found = await investor_of_person(person.id)
    if found is None:
        managed_by = await organizations.default_organization_id()
        return await create_investor(data, organization_id=managed_by, actor=actor), True
    values = await _values(data)
    _check_tickets(values.get("ticket_min_cny"), values.get("ticket_max_cny"))
    changed = {k for k, v in values.items() if getattr(found, k) != v}
    async with in_transaction() as conn:
        for key, value in values.items():
            setattr(found, key, value)
        unverified = found.verified and bool(changed & IDENTITY)
        if unverified:
            found.verified = False
        await found.save(using_db=conn)
        await activity.record(
            "investor.updated", actor=actor, person_id=person.id, using_db=conn, investor_id=found.id,
            managed_by=found.managed_by_id, fields=sorted(changed), unverified=unverified,
        )  # fmt: skip
    await supply_events.saved("investor", [found.id])
    return await get_investor(found.id, organizations.EVERYTHING), False


async def verify_investor(investor_id: int, *, scope: Scope, actor: str, verified: bool = True) -> Investor:
    """Mark a profile as checked (or not); the person behind it is told (``investor.verified``). Saying the
    same again changes nothing and tells nobody. Raises ``investor_not_found``."""
    investor = await get_investor(investor_id, scope)
    if investor.verified == verified:
        return investor
    async with in_transaction() as conn:
        investor.verified = verified
        await investor.save(update_fields=["verified", "updated_at"], using_db=conn)
        await activity.record(
            "investor.verified" if verified else "investor.unverified",
            actor=actor,
            person_id=investor.person_id,
            using_db=conn,
            investor_id=investor.id,
            managed_by=investor.managed_by_id,
        )
    await supply_events.saved("investor", [investor.id])
    return investor


@dataclass(frozen=True, slots=True)
class InvestorQuery:
    q: str | None = None
    field: str | None = None
    district: str | None = None
    verified: bool | None = None
    limit: int = 50
    cursor: str | None = None


ORDER = ("-id",)


async def _json_has(column: str, code: str) -> Q:
    """Rows whose JSON list ``column`` holds ``code``: jsonb containment on PostgreSQL, json_each on
    SQLite (Tortoise has no JSON filter there)."""
    connection = conn()
    if dialect_of(connection) != "sqlite":
        condition: dict[str, Any] = {f"{column}__contains": [code]}
        return Q(**condition)
    assert column in ("fields_of_interest", "districts")  # never text from a request
    _, rows = await connection.execute_query(
        f"SELECT id FROM investor WHERE EXISTS (SELECT 1 FROM json_each(investor.{column}) WHERE value = ?)", [code]
    )
    return Q(id__in=[row["id"] for row in rows])


async def list_investors(query: InvestorQuery, *, scope: Scope) -> paging.Page[Investor]:
    """Profiles the scope reaches, newest first. Raises ``invalid_input`` (field, district, cursor)."""
    qs = Investor.all().select_related("organization")
    if not scope.everything:
        qs = qs.filter(managed_by_id=scope.organization_id)
    if query.q and query.q.strip():
        text = query.q.strip()
        qs = qs.filter(Q(name__icontains=text) | Q(description__icontains=text) | Q(organization__name__icontains=text))
    if query.field:
        code = check_field(query.field)
        assert code is not None
        qs = qs.filter(await _json_has("fields_of_interest", code))
    if query.district:
        code = check_district(query.district)
        assert code is not None
        qs = qs.filter(await _json_has("districts", code))
    if query.verified is not None:
        qs = qs.filter(verified=query.verified)
    rows = await paging.after(qs, "investors", ORDER, query.cursor).order_by(*ORDER).limit(query.limit + 1)
    return paging.page(rows, "investors", ORDER, query.limit)
