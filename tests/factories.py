"""Keyword-only async factories for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from events import clock
from events.models import Event, Role
from events.services import catalog, tokens
from events.services.registration import Applicant, RegistrationResult, register

BASE_TIME = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Wuhan
_seq = count(1)


async def make_event(
    *, publish: bool = True, capacity: int | None = 100, starts_in: timedelta = timedelta(days=7), **overrides: Any
) -> Event:
    starts_at = overrides.pop("starts_at", clock.now() + starts_in)
    data: dict[str, Any] = {
        "title": f"武创荟·人工智能专场（第{next(_seq)}期）",
        "kind": "session",
        "series": "wuchuanghui",
        "district": "donghu_gaoxin",
        "venue": "光谷科技会展中心",
        "starts_at": starts_at,
        "ends_at": overrides.pop("ends_at", starts_at + timedelta(hours=3)),
        "capacity": capacity,
        "tags": ["人工智能"],
    } | overrides
    event = await catalog.create_event(catalog.EventInput(**data), actor="test")
    if publish:
        event = await catalog.publish_event(event.id, actor="test")
    return event


async def make_registration(event: Event, *, n: int | None = None, **fields: Any) -> RegistrationResult:
    n = n if n is not None else next(_seq)
    data = {"name": f"测试者{n}", "phone": f"139{n:08d}"} | fields
    return await register(event.id, Applicant(**data), actor="test")


async def make_token(*, role: Role | str = Role.ORGANIZER, name: str = "test") -> str:
    return (await tokens.create_token(role=role, name=name)).plaintext


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
