"""The achievements library: enter, read, change, list, import (JSON, CSV, XLSX) and export.

An organizer reaches the achievements its organization entered (another's is ``404``); admins all.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from api.auth import Caller, require_organizer
from api.deps import Id, locale, presenter
from api.errors import validation_message
from api.exports import csv_response, xlsx_response
from api.schemas import Presenter
from api.schemas.common import AUTHED, AUTHED_WRITE, COMMON, Page, errors, media
from api.schemas.supply import AchievementPublic, ImportResult, ImportRowError, achievement_export_rows
from events import clock, labels
from events.errors import N_, InvalidInput
from events.i18n import Locale, gettext
from events.models import AchievementStatus, AchievementTier
from events.services import achievements, tables

router = APIRouter(prefix="/api/v1/achievements", tags=["achievements"])

SPREADSHEETS = media(
    200,
    "The list as a sheet (``format=csv|xlsx``).",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


@router.post(
    "",
    status_code=201,
    response_model=AchievementPublic,
    responses=AUTHED_WRITE,
    summary="Enter an achievement",
    description="A new achievement of your organization's library; only ``title`` is required. ``owner_organization`` "
    "by id or name (a new name is added to the directory); ``contact`` follows the people rules (only a "
    "Telegram id finds a known person). ``409 external_id_taken`` when your organization has the external id.",
)
async def create_achievement(
    data: achievements.AchievementInput,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    lang: Locale = Depends(locale),
) -> JSONResponse:
    assert caller.acts_for is not None
    found = await achievements.create_achievement(data, organization_id=caller.acts_for, actor=caller.actor)
    body = AchievementPublic.of(show, found, lang).model_dump(mode="json")
    return JSONResponse(body, status_code=201, headers={"Location": f"/api/v1/achievements/{found.id}"})


def _row_error(error: achievements.RowError, lang: Locale) -> ImportRowError:
    if error.detail is not None:
        message = validation_message(error.detail, lang)
    else:
        params = dict(error.params)
        if error.field:
            params["field"] = error.field
        message = labels.message(lang, error.msgid or N_("The request is not valid."), params)
    return ImportRowError(
        row=error.row, code=error.code, message=message, field=error.field, external_id=error.external_id
    )


async def _items_of(request: Request) -> list[Any]:
    """The rows of an import: ``{"items": [...]}`` as JSON, or the sheet of a multipart ``file`` field."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(N_("Send the sheet as the multipart field file."), field="file")
        data = await upload.read()
        sheet = tables.read_sheet(data, upload.filename)
        if len(sheet.rows) > achievements.MAX_IMPORT_ROWS:
            raise InvalidInput(N_("At most 10,000 rows per import; split the file."), field="file")
        columns = achievements.sheet_columns(sheet.header)
        items: list[Any] = []
        for number, cells, problem in sheet.rows:
            item: Any = achievements.row_from_cells(cells, columns)
            if problem is not None:
                item = _BrokenRow(number, problem, len(cells), len(sheet.header))
            items.append((number, item))
        return items
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise InvalidInput(N_("The body is not valid JSON."), field="body") from None
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise InvalidInput(N_('Send {"items": [...]} or a CSV/XLSX sheet as the multipart field file.'), field="items")
    return list(enumerate(body["items"], start=1))


class _BrokenRow:
    """A sheet row that cannot be read as a record (more cells than columns)."""

    def __init__(self, row: int, msgid: str, cells: int, columns: int) -> None:
        self.error = achievements.RowError(
            row=row, code="invalid_input", field=None, msgid=msgid, params={"cells": cells, "columns": columns}
        )


@router.post(
    "/import",
    response_model=ImportResult,
    responses=AUTHED_WRITE,
    summary="Import achievements",
    description='Upsert by ``external_id`` within your organization: JSON ``{"items": [Achievement input…]}``, '
    "or a multipart upload (field ``file``) of a CSV (UTF-8 with or without BOM, or GBK) or XLSX sheet with "
    "the export's columns (Chinese headings such as 成果名称, 关键词, 技术领域 are read too; lists in a cell "
    "split on ; ； , 、). Only ``title`` is required. Every bad row is reported with its 1-based data row "
    "(a sheet's header is not a row) and not written; every other row is written whole. Importing the same "
    "rows again creates 0 and reports them as ``updated`` (``unchanged`` says how many were the same). At "
    "most 10,000 rows per request.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["items"],
                        "properties": {
                            "items": {
                                "type": "array",
                                "maxItems": achievements.MAX_IMPORT_ROWS,
                                "items": {"$ref": "#/components/schemas/AchievementInput"},
                            }
                        },
                    }
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
async def import_achievements(
    request: Request, caller: Caller = Depends(require_organizer), lang: Locale = Depends(locale)
) -> ImportResult:
    assert caller.acts_for is not None
    numbered = await _items_of(request)
    broken = [item.error for _, item in numbered if isinstance(item, _BrokenRow)]
    rows = [(n, item) for n, item in numbered if not isinstance(item, _BrokenRow)]
    report = await achievements.import_numbered(rows, organization_id=caller.acts_for, actor=caller.actor)
    every = sorted([*broken, *report.errors], key=lambda e: e.row)
    return ImportResult(
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        errors=[_row_error(e, lang) for e in every],
    )


@router.get(
    "",
    response_model=Page[AchievementPublic],
    responses=errors(*COMMON, 401, 403) | SPREADSHEETS,
    summary="List achievements",
    description="Your organization's library (admins: everyone's), newest first. ``q`` searches the title, the "
    "abstract and the keywords; ``field``, ``tier``, ``district``, ``status``, ``owner_organization`` (id) "
    "filter. Keyset pages: pass ``next_cursor`` back as ``cursor``. ``format=csv|xlsx`` exports every match "
    "in the import's columns (re-importable).",
)
async def list_achievements(
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    lang: Locale = Depends(locale),
    q: Annotated[str | None, Query(max_length=100)] = None,
    field: Annotated[str | None, Query(max_length=40)] = None,
    tier: AchievementTier | None = None,
    district: Annotated[str | None, Query(max_length=40)] = None,
    status: AchievementStatus | None = None,
    owner_organization: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
) -> Response | Page[AchievementPublic]:
    whole = format != "json"
    query = achievements.AchievementQuery(
        q=q,
        field=field,
        tier=tier,
        district=district,
        status=status,
        owner_organization=owner_organization,
        limit=None if whole else limit,
        cursor=None if whole else cursor,
    )
    page = await achievements.list_achievements(query, scope=caller.reach)
    if format == "json":
        return Page[AchievementPublic].of(page, [AchievementPublic.of(show, a, lang) for a in page.items])
    stamp = clock.now().astimezone(show.tz).strftime("%Y%m%d")
    rows = achievement_export_rows(page.items)
    if format == "csv":
        return csv_response(f"achievements-{stamp}.csv", achievements.EXPORT_HEADER, rows, tz=show.tz)
    return await xlsx_response(
        f"achievements-{stamp}.xlsx", gettext(lang, N_("Achievements")), achievements.EXPORT_HEADER, rows, tz=show.tz
    )


@router.get(
    "/{achievement_id}",
    response_model=AchievementPublic,
    responses=AUTHED,
    summary="Read an achievement",
    description="One achievement of your organization's library (another organization's is ``404``).",
)
async def get_achievement(
    achievement_id: Id,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    lang: Locale = Depends(locale),
) -> AchievementPublic:
    return AchievementPublic.of(show, await achievements.get_achievement(achievement_id, caller.reach), lang)


@router.patch(
    "/{achievement_id}",
    response_model=AchievementPublic,
    responses=AUTHED_WRITE,
    summary="Change an achievement",
    description="The fields given change, the others stay; ``null`` clears a field (``tier`` back to general).",
)
async def update_achievement(
    achievement_id: Id,
    patch: achievements.AchievementPatch,
    caller: Caller = Depends(require_organizer),
    show: Presenter = Depends(presenter),
    lang: Locale = Depends(locale),
) -> AchievementPublic:
    found = await achievements.update_achievement(achievement_id, patch, scope=caller.reach, actor=caller.actor)
    return AchievementPublic.of(show, found, lang)
