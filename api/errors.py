"""One place that renders every error in API.md's shape: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas.common import error_schemas
from events import labels
from events.errors import N_, DomainError, RateLimited
from events.i18n import Locale, gettext, negotiate

log = logging.getLogger(__name__)

STATUS_BY_KIND = {
    "invalid": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
}
# Codes whose status differs from their kind's default.
STATUS_BY_CODE = {
    "idempotency_key_reused": 422,
    "invalid_input": 422,
    "weak_password": 422,
    "challenge_failed": 422,
    "attachment_type_mismatch": 422,
    "attachment_type_not_allowed": 422,
    "attachment_too_large": 413,
}

_HTTP_CODES = {
    400: ("bad_request", N_("The request could not be read.")),
    401: ("unauthorized", N_("A valid access token is required.")),
    403: ("forbidden", N_("Your role does not allow this.")),
    404: ("not_found", N_("Not found.")),
    405: ("method_not_allowed", N_("This method is not allowed here.")),
    406: ("not_acceptable", N_("This format is not available.")),
    413: ("payload_too_large", N_("The request body is too large.")),
    415: ("unsupported_media_type", N_("Send the body as JSON (Content-Type: application/json).")),
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def error_response(
    request: Request,
    status: int,
    code: str,
    msgid: str,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    exposed: tuple[str, ...] = (),
) -> JSONResponse:
    params = params or {}
    locale = negotiate(request.headers.get("accept-language"))
    extra = {k: v for k, v in params.items() if k == "field" or k in exposed}
    return JSONResponse(
        error_body(code, labels.message(locale, msgid, params), **extra), status_code=status, headers=headers
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return domain_error_response(request, exc)


def domain_error_response(request: Request, exc: DomainError) -> JSONResponse:
    """A domain error as API.md's error (its status from its kind or code, Retry-After where due)."""
    status = STATUS_BY_CODE.get(exc.code, STATUS_BY_KIND[exc.kind])
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.params.get("retry_after", 1))
    elif exc.code == "idempotency_key_in_use":
        headers["Retry-After"] = "1"
    return error_response(
        request, status, exc.code, exc.message, headers=headers or None, params=exc.params, exposed=exc.exposed
    )


# Pydantic's error types as sentences of our own (its English ``msg`` never reaches a person); the
# limits come from the error's ctx. Types not listed read "… is not valid".
_NUMBER = N_("%(field)s must be a number.")
_WHOLE = N_("%(field)s must be a whole number.")
_DATETIME = N_("%(field)s must be a date and time with its offset, like 2026-12-10T14:00:00+08:00.")
_DATE = N_("%(field)s must be a date, like 2026-12-10.")
_TIME = N_("%(field)s must be a time of day, like 14:00.")
_TEXT = N_("%(field)s must be text.")
_LIST = N_("%(field)s must be a list.")
_OBJECT = N_("%(field)s must be an object.")
_TRUTH = N_("%(field)s must be true or false.")
_URL = N_("%(field)s must be a web address.")
_INVALID = N_("%(field)s is not valid.")
_PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": N_("%(field)s is required."),
    "extra_forbidden": N_("%(field)s is not a field of this request."),
    "string_too_short": N_("%(field)s needs at least %(min_length)s characters."),
    "string_too_long": N_("%(field)s can have at most %(max_length)s characters."),
    "too_short": N_("%(field)s needs at least %(min_length)s items."),
    "too_long": N_("%(field)s can have at most %(max_length)s items."),
    "greater_than": N_("%(field)s must be greater than %(gt)s."),
    "greater_than_equal": N_("%(field)s must be at least %(ge)s."),
    "less_than": N_("%(field)s must be less than %(lt)s."),
    "less_than_equal": N_("%(field)s must be at most %(le)s."),
    "multiple_of": N_("%(field)s must be a multiple of %(multiple_of)s."),
    "enum": N_("%(field)s must be one of: %(expected)s."),
    "literal_error": N_("%(field)s must be one of: %(expected)s."),
    "string_pattern_mismatch": N_("%(field)s is not in the expected format."),
    "timezone_aware": N_("%(field)s needs a time-zone offset, like 2026-12-10T14:00:00+08:00."),
    "timezone_naive": N_("%(field)s must be given without a time-zone offset."),
    "decimal_max_places": N_("%(field)s can have at most %(decimal_places)s decimal places."),
    "decimal_max_digits": N_("%(field)s can have at most %(max_digits)s digits."),
    "int_type": _WHOLE,
    "int_parsing": _WHOLE,
    "int_parsing_size": _WHOLE,
    "int_from_float": _WHOLE,
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_whole_digits": _NUMBER,
    "bool_type": _TRUTH,
    "bool_parsing": _TRUTH,
    "string_type": _TEXT,
    "string_sub_type": _TEXT,
    "string_unicode": _TEXT,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "time_type": _TIME,
    "time_parsing": _TIME,
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "iterable_type": _LIST,
    "dict_type": _OBJECT,
    "mapping_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "url_type": _URL,
    "url_parsing": _URL,
    "url_syntax_violation": _URL,
    "url_scheme": _URL,
    "url_too_long": _URL,
}
_LOCATIONS = ("body", "query", "path", "header", "cookie")


def _field_of(error: Mapping[str, Any]) -> str:
    """The machine name of the field an error is about: ``starts_at``, ``questions.0.label``."""
    return ".".join(str(p) for p in error.get("loc", ()) if p not in _LOCATIONS)


def _choices(expected: str, locale: Locale) -> str:
    """Pydantic's "'a', 'b' or 'c'" without its English "or": the codes a client may send."""
    codes = re.findall(r"'([^']*)'", expected) or [expected]
    return ("、" if locale == "zh" else ", ").join(codes)


def validation_message(error: Mapping[str, Any], locale: Locale) -> str:
    """One pydantic error as a sentence wholly in ``locale``: field label, our wording, its limits."""
    kind = str(error.get("type", ""))
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    params: dict[str, Any] = {k: v for k, v in ctx.items() if isinstance(v, str | int | float | Decimal)}
    params["field"] = _field_of(error) or "body"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return labels.message(locale, N_("%(field)s cannot be empty."), params)
    if kind in ("enum", "literal_error"):
        params["expected"] = _choices(str(ctx.get("expected", "")), locale)
    if kind in ("value_error", "assertion_error"):
        # A validator of ours speaks an English msgid; shown when the catalogue has it in this language.
        reason = str(ctx.get("error", "")).strip()
        if reason and (locale == "en" or gettext(locale, reason) != reason):
            return labels.message(locale, N_("%(field)s: %(reason)s"), {**params, "reason": gettext(locale, reason)})
    return labels.message(locale, _PYDANTIC_MESSAGES.get(kind, _INVALID), params)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(request, 400, "invalid_json", N_("The body is not valid JSON."))
    locale = negotiate(request.headers.get("accept-language"))
    details = [
        {"field": _field_of(e), "message": validation_message(e, locale), "type": e.get("type")} for e in errors[:20]
    ]
    body = error_body("validation_error", details[0]["message"], field=details[0]["field"] or None, details=details)
    return JSONResponse(body, 422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, msgid = _HTTP_CODES.get(exc.status_code, ("http_error", N_("The request could not be handled.")))
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        code, msgid = "invalid_body", N_("The body could not be read (is it UTF-8 JSON?).")
    return error_response(request, exc.status_code, code, msgid, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal_error", N_("Something went wrong on our side; please retry."))


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    _document_the_error_shape(app)


def _document_the_error_shape(app: FastAPI) -> None:
    """The error shape's schemas in the OpenAPI document: routes name it by reference (``errors``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            components = build().setdefault("components", {})
            schemas = components.get("schemas", {}) | error_schemas()
            components["schemas"] = dict(sorted(schemas.items()))  # sorted, as FastAPI writes them
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
