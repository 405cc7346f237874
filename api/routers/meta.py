"""Health, reference lists and the plan's goals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from api.deps import locale
from events.db import conn
from events.districts import DISTRICTS
from events.i18n import Locale, gettext
from events.services.goals import list_goals

router = APIRouter()


@router.get("/health", tags=["meta"])
async def health() -> JSONResponse:
    try:
        await conn().execute_query("SELECT 1")
    except Exception:  # any failure to reach the database is "down", whatever its type
        return JSONResponse({"status": "degraded", "database": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/api/v1/districts", tags=["reference"])
async def districts() -> dict[str, Any]:
    return {
        "items": [
            {"code": d.code, "name": d.name, "name_en": d.name_en, "kind": d.kind, "division_code": d.division_code}
            for d in DISTRICTS
        ]
    }


@router.get("/api/v1/goals", tags=["goals"])
async def goals(lang: Locale = Depends(locale)) -> dict[str, Any]:
    return {
        "items": [
            {
                "key": g.key,
                "title": gettext(lang, g.title),
                "target": g.target,
                "current": g.current,
                "unit": gettext(lang, g.unit),
                "tracked": g.tracked,
            }
            for g in await list_goals()
        ]
    }
