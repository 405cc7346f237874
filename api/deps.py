"""Request-scoped access to what the app was built with (settings, presenter, rate limiter)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from api.ratelimit import PublicRateLimit
from api.schemas import Presenter
from events.i18n import Locale, negotiate
from events.services.tickets import TicketSigner
from events.settings import Settings


async def settings(request: Request) -> Settings:
    return request.app.state.settings


async def presenter(request: Request) -> Presenter:
    return request.app.state.presenter


async def signer(request: Request) -> TicketSigner:
    return request.app.state.signer


async def rate_limit(request: Request) -> PublicRateLimit:
    return request.app.state.rate_limit


async def locale(request: Request) -> Locale:
    return negotiate(request.headers.get("accept-language"))


# Ids are 32-bit in the database; a larger number cannot name anything.
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
