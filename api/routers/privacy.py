"""A person's data under PIPL, for admins: everything held about them, and erasure at their request.

People ask for themselves through their web access link (``/r/{token}/data``, ``/r/{token}/delete``)
and the bot (``/mydata``, ``/delete``); these routes serve a request that reached the programme office
another way (a letter, a call), after it checked who is asking.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.auth import Caller, require
from api.deps import Id
from api.schemas.common import AUTHED, AUTHED_WRITE
from events.models import Role
from events.services import privacy
from events.services.privacy import ErasureResult, PersonExport

router = APIRouter(prefix="/api/v1", tags=["privacy"])
require_admin = require(Role.ADMIN)


@router.get(
    "/people/{person_id}/export",
    response_model=PersonExport,
    responses=AUTHED,
    summary="Everything held about a person",
    description="Admins only: the person's profile, registrations (with answers and consent), check-ins, "
    "training credits and certificates, demands, competition entries, meeting requests, messages sent to "
    "them (kind, time, channel; never their text) and the activity about them. `404` for an unknown id.",
)
async def export_person(person_id: Id, _: Caller = Depends(require_admin)) -> PersonExport:
    return await privacy.export_person(person_id)


@router.post(
    "/people/{person_id}/erase",
    response_model=ErasureResult,
    responses=AUTHED_WRITE,
    summary="Erase a person's data",
    description="Admins only, at the person's request: their name becomes a pseudonym, contacts, answers, "
    "links and message texts are removed, registrations of events to come are cancelled (the waitlist "
    "moves up), past ones stay for the counts without details, and the credit ledger stays with the "
    "pseudonym. Idempotent: a second call answers `already_erased: true`. `404` for an unknown id.",
)
async def erase_person(person_id: Id, caller: Caller = Depends(require_admin)) -> ErasureResult:
    return await privacy.erase_person(person_id, actor=caller.actor)
