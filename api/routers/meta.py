"""Health, reference lists and the plan's goals."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.deps import locale
from api.schemas.common import Items
from api.schemas.meta import District, Goal, Health
from api.schemas.supply import SupplyField
from events.db import conn
from events.districts import DISTRICTS
from events.i18n import Locale
from events.services.goals import list_goals
from events.supply_fields import FIELDS

router = APIRouter()


@router.get(
    "/health",
    tags=["meta"],
    response_model=Health,
    responses={503: {"model": Health, "description": "The database cannot be reached."}},
    summary="Health",
    description='`200 {"status": "ok", "database": "ok"}` while the database answers; `503` otherwise.',
)
async def health() -> Health | JSONResponse:
    try:
        await conn().execute_query("SELECT 1")
    except Exception:  # any failure to reach the database is "down", whatever its type
        down = Health(status="degraded", database="unavailable")
        return JSONResponse(down.model_dump(), status_code=503)
    return Health(status="ok", database="ok")


@router.get(
    "/api/v1/districts",
    tags=["reference"],
    response_model=Items[District],
    summary="Districts",
    description="Wuhan's districts and functional zones; events take the `code`, `name` is Chinese.",
)
async def districts() -> Items[District]:
    return Items[District](items=[District.of(d) for d in DISTRICTS])


@router.get(
    "/api/v1/fields",
    tags=["reference"],
    response_model=Items[SupplyField],
    summary="Technology fields",
    description="The plan's technology fields (光电子信息, 生物医药, 人工智能 …); achievements, demands and "
    "investors take the `code`; `name` is in the caller's language.",
)
async def supply_fields(lang: Locale = Depends(locale)) -> Items[SupplyField]:
    return Items[SupplyField](items=[SupplyField.of(f, lang) for f in FIELDS])


@router.get(
    "/api/v1/goals",
    tags=["goals"],
    response_model=Items[Goal],
    summary="The plan's goals",
    description="Each target of the plan and how far it is, counted live; titles in the caller's language.",
)
async def goals(lang: Locale = Depends(locale)) -> Items[Goal]:
    return Items[Goal](items=[Goal.of(g, lang) for g in await list_goals()])
