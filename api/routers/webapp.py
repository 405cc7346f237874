"""The bot's Mini Apps: door staff's check-in, and investors' taps on the pitch on stage at a roadshow; each page
and the calls it makes with Telegram's initData."""

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
from events.models import PitchReactionKind
from events.services import catalog, checkin, staff
from events.services.people import person_for_telegram
from events.services.roadshows import pitch_interest
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


# --------------------------------------------------------------------------- the pitch on stage (roadshows)


class WebAppIdentity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    init_data: Annotated[str, Field(max_length=8192)]


class WebAppTap(WebAppIdentity):
    pitch_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    kind: PitchReactionKind = Field(description="interest (感兴趣) | meet (约谈) | score (评分)")
    score: Annotated[int, Field(ge=-1000, le=1000)] | None = Field(default=None, description="1–5 with ``score``.")


class OnStageItem(BaseModel):
    pitch_id: int
    event_id: int
    event_title: str
    title: str
    presenter_name: str
    investor: bool = Field(description="Whether the caller may tap (an investor of that roadshow).")
    judge: bool = Field(description="Whether the caller may score it (a judge of the competition whose final it is).")


class OnStageList(BaseModel):
    items: list[OnStageItem]


class WebAppTapAnswer(BaseModel):
    created: bool
    mutual: bool = Field(description="The project had said yes to this investor: they are connected.")
    connection_id: int | None


@router.get("/pitch/telegram", response_class=HTMLResponse, include_in_schema=False)
async def pitch_app(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "telegram_pitch.html", {})


@router.post(
    "/api/v1/webapp/pitch",
    response_model=OnStageList,
    responses=errors(400, 401, 413, 422),
    summary="The pitch on stage now, for the Mini App",
    description="The pitches on stage now at the roadshows where the Telegram user its signed ``init_data`` proves "
    "takes part (``401`` when it does not verify).",
)
async def webapp_on_stage(body: WebAppIdentity, config: Settings = Depends(settings)) -> OnStageList:
    user = verify_init_data(config, body.init_data)
    person = await person_for_telegram(telegram_id=user.id, name=user.name, language_code=user.language_code)
    items = []
    for pitch in await pitch_interest.on_stage_for(person.id):
        investor = await pitch_interest.investor_at(pitch.event_id, person.id) is not None
        judge = not investor and await pitch_interest.judge_at(pitch.event_id, person.id)
        items.append(
            OnStageItem(
                pitch_id=pitch.id,
                event_id=pitch.event_id,
                event_title=pitch.event.title,
                title=pitch.project.title,
                presenter_name=pitch.presenter_name,
                investor=investor,
                judge=judge,
            )
        )
    return OnStageList(items=items)


@router.post(
    "/api/v1/webapp/pitch-taps",
    response_model=WebAppTapAnswer,
    responses=errors(400, 401, 403, 404, 409, 413, 422),
    summary="Tap 感兴趣 / 约谈 / 评分 from the Mini App",
    description="The same tap as the bot's buttons, by the Telegram user its signed ``init_data`` proves. ``409 "
    "pitch_not_on_stage`` (with ``current``, the pitch on stage instead), ``403 not_an_investor``, ``422`` a score "
    "outside 1–5.",
)
async def webapp_tap(body: WebAppTap, config: Settings = Depends(settings)) -> WebAppTapAnswer:
    user = verify_init_data(config, body.init_data)
    person = await person_for_telegram(telegram_id=user.id, name=user.name, language_code=user.language_code)
    tapped = await pitch_interest.react(
        body.pitch_id, person_id=person.id, kind=body.kind, score=body.score, origin="webapp",
        actor=f"telegram:{user.id}",
    )  # fmt: skip
    return WebAppTapAnswer(created=tapped.created, mutual=tapped.mutual, connection_id=tapped.connection_id)
