"""One place that renders every error in API.md's shape: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from events.errors import N_, DomainError, RateLimited
from events.i18n import gettext, negotiate

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
STATUS_BY_CODE = {"idempotency_key_reused": 422, "invalid_input": 422}

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
) -> JSONResponse:
    params = params or {}
    locale = negotiate(request.headers.get("accept-language"))
    extra = {k: v for k, v in params.items() if k == "field"}
    return JSONResponse(
        error_body(code, gettext(locale, msgid, **params), **extra), status_code=status, headers=headers
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = STATUS_BY_CODE.get(exc.code, STATUS_BY_KIND[exc.kind])
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.params.get("retry_after", 1))
    elif exc.code == "idempotency_key_in_use":
        headers["Retry-After"] = "1"
    return error_response(request, status, exc.code, exc.message, headers=headers or None, params=exc.params)


def _describe_validation(errors: list[dict[str, Any]]) -> tuple[str, str]:
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    return ".".join(loc), str(first.get("msg", ""))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(request, 400, "invalid_json", N_("The body is not valid JSON."))
    field, detail = _describe_validation(errors)
    locale = negotiate(request.headers.get("accept-language"))
    message = gettext(locale, N_("Invalid value for %(field)s: %(detail)s"), field=field or "body", detail=detail)
    details = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")),
            "message": str(e.get("msg", "")),
            "type": e.get("type"),
        }
        for e in errors[:20]
    ]
    return JSONResponse(error_body("validation_error", message, field=field or None, details=details), 422)


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
