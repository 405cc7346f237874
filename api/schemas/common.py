"""What every response shares: pages of a list, and the error shape (API.md) with its statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi.encoders import jsonable_encoder
from fastapi.openapi.models import Schema
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from events import localtime
from events.services.paging import Page as DomainPage

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list. Pass ``next_cursor`` back as ``cursor`` for the next; null on the last."""

    items: list[T]
    next_cursor: str | None = Field(description="Opaque; valid for this list and sort only.")
    total: int | None = Field(default=None, description="How many match, where counting is cheap.")

    @classmethod
    def of(cls, page: DomainPage[Any], items: list[T]) -> Page[T]:
        return cls(items=items, next_cursor=page.next_cursor, total=page.total)


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable snake_case; clients switch on it.", examples=["event_full"])
    message: str = Field(description="For people, in the caller's language (Accept-Language).")
    field: str | None = Field(default=None, description="The input the error is about, when there is one.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


_DESCRIPTIONS = {
    400: "The request could not be read (not JSON, a bad header).",
    401: "A valid token is required.",
    403: "The caller's role does not allow this.",
    404: "No such object, or it belongs to another organization.",
    409: "Conflicts with the current state (e.g. already registered, closed).",
    413: "The body is too large.",
    422: "A value is not valid; `field` names it.",
    429: "Too many requests; retry after `Retry-After` seconds.",
}


# The error shape in the OpenAPI document, by reference: given as ``model``, FastAPI would build a
# serializer for it per status per route (~1,800, 6.7 MB and 0.6 s of a process's first requests) that
# only the document reads. ``error_schemas`` puts the shape itself in the document's components.
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status it can answer with the error shape."""
    return {status: {"description": _DESCRIPTIONS[status], "content": _ERROR_CONTENT} for status in statuses}


def error_schemas() -> dict[str, Any]:
    """The components the ``$ref`` of ``errors`` names, as FastAPI would have written them: through the
    document's own model (which leaves out a null default)."""
    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    shape = {"ErrorResponse": schema, **schema.pop("$defs", {})}
    return {name: jsonable_encoder(Schema(**part), by_alias=True, exclude_none=True) for name, part in shape.items()}


# The statuses any route can answer: an unreadable body, a body over the limit, a bad value.
COMMON = (400, 413, 422)
READ = errors(*COMMON, 404)
PUBLIC_WRITE = errors(*COMMON, 404, 409, 429)
AUTHED = errors(*COMMON, 401, 403, 404)
AUTHED_WRITE = errors(*COMMON, 401, 403, 404, 409)


class Items(BaseModel, Generic[T]):
    """A whole list, short by nature (reference lists, goals): no paging."""

    items: list[T]


def media(status: int, description: str, *media_types: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entry for an answer that is not JSON (an image, a spreadsheet, a calendar)."""
    return {
        status: {
            "description": description,
            "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in media_types},
        }
    }


def _local_moment(moment: datetime) -> datetime:
    return localtime.local(moment) if moment.tzinfo is not None else moment


# A moment in a response, on the local clock (ISO 8601 with the local offset, as events show theirs).
LocalTime = Annotated[datetime, AfterValidator(_local_moment)]
