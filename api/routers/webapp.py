"""The bot's Mini App for door staff: its page and the check-in call it makes with Telegram's initData."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from api.deps import locale, presenter, settings, signer
from api.routers.checkins import checkin_answer
from api.schemas import Presenter
from api.schemas.checkins import CheckinAnswer
from api.schemas.common import errors
from api.telegram_auth import verify_init_data
from events.errors import EventOutOfScope
from events.i18n import Locale
from events.services import catalog, checkin, staff
from events.services.people import person_for_telegram
from events.services.tickets import TicketSigner
from events.settings import Settings

router = APIRouter(tags=["telegram mini app"])
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))


class WebAppCheckin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    init_data: Annotated[str, Field(max_length=8192)]
    code: Annotated[str, Field(max_length=65_536)]
    event_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    scan_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


@router.get("/scan/telegram", response_class=HTMLResponse, include_in_schema=False)
async def mini_app(request: Request, event: int = 0) -> HTMLResponse:
    return templates.TemplateResponse(request, "telegram_scan.html", {"event_id": event})


@router.post(
    "/api/v1/webapp/checkins",
    response_model=CheckinAnswer,
    responses=errors(400, 401, 403, 404, 409, 413, 422),
    summary="Check a ticket in from the Mini App",
    description="Redeem a code scanned in the bot's Mini App; the caller is the Telegram user its signed "
    "`init_data` proves (`401` when it does not verify), who must hold a checker role for the event (`403`).",
)
async def webapp_checkin(
    body: WebAppCheckin,
    config: Settings = Depends(settings),
    keys: TicketSigner = Depends(signer),
    show: Presenter = Depends(presenter),
    lang: Locale = Depends(locale),
) -> CheckinAnswer:
    user = verify_init_data(config, body.init_data)
    person = await person_for_telegram(telegram_id=user.id, name=user.name, language_code=user.language_code)
    await catalog.get_event(body.event_id, include_unpublished=True)
    if not await staff.may_check_in(person, body.event_id):
        raise EventOutOfScope()
    outcome = await checkin.redeem(
        checkin.Scan(
            code=body.code, event_id=body.event_id, scan_id=body.scan_id, gate="telegram", device=f"telegram:{user.id}"
        ),
        signer=keys,
        actor=f"telegram:{user.id}",
        tz=show.tz,
    )
    return checkin_answer(outcome, lang)
