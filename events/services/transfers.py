"""Technology contracts (技术合同): recording a signed transfer, and what it changes.

Recording one is one transaction: the contract, the achievement's status (``transferred``, except
under a licence: a licensed achievement can be licensed again, so it stays available), the demand's
step to ``contracted`` through ``demand_status.transition`` (the one owner of that timeline), and a
``transfer.recorded`` fact. The goals count contracts live, so nothing else is kept in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from events import clock, localtime
from events.db import dialect_of
from events.errors import N_, ContractNumberTaken, InvalidInput, TransferNotFound
from events.models import (
    Achievement,
    AchievementStatus,
    Broker,
    Demand,
    DemandStatus,
    Organization,
    OrganizationKind,
    Transfer,
    TransferKind,
    TransferMode,
)
from events.services import activity, demand_status, organizations, paging, supply_events
from events.services.organizations import Scope

MAX_AMOUNT = Decimal("1000000000000")  # one trillion yuan
OrganizationRef = Annotated[int, Field(ge=1, lt=2**31)] | Annotated[str, StringConstraints(max_length=200)]


class TransferInput(BaseModel):
    """A signed technology contract, or (``kind`` investment) an investment in a project."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: TransferKind = Field(
        default=TransferKind.TECHNOLOGY,
        description="technology (a contract, counted in the contract turnover) | investment (counted on its own).",
    )
    investment_round: Annotated[str, StringConstraints(max_length=16)] = Field(
        default="", description="An investment's round: 天使, Pre-A, A, B, …"
    )

    achievement_id: Annotated[int, Field(ge=1, lt=2**31)] | None = None
    demand_id: Annotated[int, Field(ge=1, lt=2**31)] | None = None
    seller: OrganizationRef | None = Field(
        default=None, description="By id or name; defaults to the achievement's owner."
    )
    buyer: OrganizationRef | None = Field(default=None, description="By id or name; defaults to the demand's company.")
    mode: TransferMode
    amount_cny: Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, max_digits=15, decimal_places=2)]
    signed_on: date = Field(description="The day it was signed; not in the future.")
    broker_id: Annotated[int, Field(ge=1, lt=2**31)] | None = None
    major: bool = Field(default=False, description="A major achievement transferred (counted in the goals).")
    contract_no: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="The contract's registration number; unique within your organization."
    )


async def _organization(ref: int | str | None, field: str, fallback: int | None) -> int | None:
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        return fallback
    if isinstance(ref, int) or ref.strip().isdigit():
        if not await Organization.exists(id=int(ref)):
            raise InvalidInput(N_("No such organization."), field=field)
        return int(ref)
    return (await organizations.find_or_create_organization(ref, kind=OrganizationKind.COMPANY)).id


async def _lock_demand(conn: BaseDBAsyncClient, demand_id: int) -> Demand:
    """The demand's row, locked until commit (SQLite: the write lock, taken by a no-op update)."""
    if dialect_of(conn) == "sqlite":
        await conn.execute_query("UPDATE demand SET id = id WHERE id = ?", [demand_id])
        return await Demand.get(id=demand_id, using_db=conn)
    found = await Demand.filter(id=demand_id).select_for_update().using_db(conn).first()
    assert found is not None  # checked before the transaction; demands are never deleted
    return found


async def record_transfer(data: TransferInput, *, scope: Scope, organization_id: int, actor: str) -> Transfer:
    """Record a contract managed by ``organization_id``; the achievement and the demand must be within
    ``scope``. Raises ``invalid_input`` (unknown or unreachable achievement, demand or broker, a
    date in the future, no achievement and no demand), ``contract_no_taken``, ``invalid_transition``
    (a demand already closed or expired).
    """
    if data.signed_on > localtime.local(clock.now()).date():
        raise InvalidInput(N_("A contract cannot be signed in the future."), field="signed_on")
    if data.kind == TransferKind.TECHNOLOGY and data.achievement_id is None and data.demand_id is None:
        raise InvalidInput(N_("Name the achievement or the demand the contract is about."), field="achievement_id")
    achievement = demand = None
    if data.achievement_id is not None:
        achievement = await Achievement.get_or_none(id=data.achievement_id)
        if achievement is None or not scope.covers(achievement.managed_by_id):
            raise InvalidInput(N_("No such achievement."), field="achievement_id")
    if data.demand_id is not None:
        demand = await Demand.get_or_none(id=data.demand_id)
        if demand is None or not scope.covers(demand.managed_by_id):
            raise InvalidInput(N_("No such demand."), field="demand_id")
    if data.broker_id is not None and not await Broker.exists(id=data.broker_id):
        raise InvalidInput(N_("No such broker."), field="broker_id")
    seller_id = await _organization(data.seller, "seller", achievement.owner_organization_id if achievement else None)
    buyer_id = await _organization(data.buyer, "buyer", demand.organization_id if demand else None)
    async with in_transaction() as conn:
        if data.contract_no and await Transfer.exists(
            managed_by_id=organization_id, contract_no=data.contract_no, using_db=conn
        ):
            raise ContractNumberTaken(contract_no=data.contract_no)
        try:
            transfer = await Transfer.create(
                kind=data.kind,
                investment_round=data.investment_round if data.kind == TransferKind.INVESTMENT else "",
                contract_no=data.contract_no,
                achievement_id=data.achievement_id,
                demand_id=data.demand_id,
                seller_id=seller_id,
                buyer_id=buyer_id,
                mode=data.mode,
                amount_cny=data.amount_cny,
                signed_on=data.signed_on,
                broker_id=data.broker_id,
                major=data.major,
                managed_by_id=organization_id,
                created_by=actor[:100],
                using_db=conn,
            )
        except IntegrityError:  # the same number recorded by a concurrent request
            raise ContractNumberTaken(contract_no=data.contract_no) from None
        note = f"transfer {transfer.id}" + (f" ({data.contract_no})" if data.contract_no else "")
        # An investment buys into the project; the achievement stays the project's.
        if achievement is not None and data.mode != TransferMode.LICENSE and data.kind == TransferKind.TECHNOLOGY:
            await (
                Achievement.filter(id=achievement.id)
                .using_db(conn)
                .update(status=AchievementStatus.TRANSFERRED, updated_at=clock.now())
            )
        if demand is not None:
            # Locked so two contracts for one demand cannot both step it (the second sees it contracted).
            locked = await _lock_demand(conn, demand.id)
            if locked.status != DemandStatus.CONTRACTED:
                await demand_status.transition(locked, DemandStatus.CONTRACTED, actor=actor, using_db=conn, note=note)
        await activity.record(
            "transfer.recorded",
            actor=actor,
            using_db=conn,
            transfer_id=transfer.id,
            achievement_id=data.achievement_id,
            demand_id=data.demand_id,
            managed_by=organization_id,
            amount_cny=str(data.amount_cny),
            major=data.major,
        )
    if achievement is not None:
        await supply_events.saved("achievement", [achievement.id])
    if demand is not None:
        await supply_events.saved("demand", [demand.id])
    return await get_transfer(transfer.id, scope=organizations.EVERYTHING)


async def get_transfer(transfer_id: int, *, scope: Scope) -> Transfer:
    """With achievement, demand, parties and broker loaded. Raises ``transfer_not_found``."""
    found = await Transfer.get_or_none(id=transfer_id).select_related(
        "achievement", "demand", "seller", "buyer", "broker__person"
    )
    if found is None or not scope.covers(found.managed_by_id):
        raise TransferNotFound()
    return found


@dataclass(frozen=True, slots=True)
class TransferQuery:
    achievement_id: int | None = None
    demand_id: int | None = None
    mode: TransferMode | None = None
    major: bool | None = None
    signed_from: date | None = None  # inclusive
    signed_to: date | None = None  # inclusive
    q: str | None = None  # in the contract number or a party's name
    limit: int | None = 50
    cursor: str | None = None


ORDER = ("-signed_on", "-id")


async def list_transfers(query: TransferQuery, *, scope: Scope) -> paging.Page[Transfer]:
    """Contracts the scope reaches, latest signed first. Raises ``invalid_input`` (period, cursor)."""
    if query.signed_from and query.signed_to and query.signed_to < query.signed_from:
        raise InvalidInput(N_("The end of the period must be after its start."), field="to")
    qs = Transfer.all().select_related("achievement", "demand", "seller", "buyer", "broker__person")
    if not scope.everything:
        qs = qs.filter(managed_by_id=scope.organization_id)
    filters: dict[str, Any] = {
        "achievement_id": query.achievement_id,
        "demand_id": query.demand_id,
        "mode": query.mode,
        "major": query.major,
        "signed_on__gte": query.signed_from,
        "signed_on__lte": query.signed_to,
    }
    qs = qs.filter(**{k: v for k, v in filters.items() if v is not None})
    if query.q and query.q.strip():
        text = query.q.strip()
        qs = qs.filter(
            Q(contract_no__icontains=text) | Q(seller__name__icontains=text) | Q(buyer__name__icontains=text)
        )
    if query.limit is None:
        return paging.Page(items=await qs.order_by(*ORDER), next_cursor=None)
    rows = await paging.after(qs, "transfers", ORDER, query.cursor).order_by(*ORDER).limit(query.limit + 1)
    return paging.page(rows, "transfers", ORDER, query.limit)
