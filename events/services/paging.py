"""One way to page every list: keyset cursors over an ordering that ends in a unique column.

A cursor carries the list's name, its ordering and the last row's sort values, signed with the
deployment's at-rest key. So a cursor from another list or another sort ("foreign"), an edited or
made-up one ("forged") is refused with ``invalid_input`` (field ``cursor``), while one whose row has
since changed or gone ("stale") still pages on from where it was: keyset pages never skip or repeat
rows that stay put, however the table grows.

Usage in a service::

    ORDER = ("-starts_at", "id")
    qs = paging.after(qs, "events", ORDER, cursor)          # rows after the cursor's position
    rows = await qs.order_by(*ORDER).limit(limit + 1)
    return paging.page(rows, "events", ORDER, limit)        # items + next_cursor
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from events import secretbox
from events.errors import N_, InvalidInput

T = TypeVar("T")
M = TypeVar("M", bound=Model)

MAX_LIMIT = 200
_MAC_BYTES = 12


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; ``next_cursor`` is None on the last page. ``total`` where it is cheap."""

    items: list[T]
    next_cursor: str | None
    total: int | None = None


def _bad_cursor() -> InvalidInput:
    return InvalidInput(N_("The cursor is not valid for this list; start again without it."), field="cursor")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):  # enums
        return value.value
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((kind, text),) = value.items()
        if not isinstance(text, str):
            raise ValueError(text)
        if kind == "t":
            return datetime.fromisoformat(text)
        if kind == "d":
            return date.fromisoformat(text)
        if kind == "n":
            return Decimal(text)
        raise ValueError(kind)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(value)


def _mac(payload: bytes) -> str:
    key = secretbox.current().subkey(b"cursor")
    return base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]).decode()


def encode_cursor(list_name: str, order: Sequence[str], values: Sequence[Any]) -> str:
    payload = json.dumps([list_name, list(order), [_plain(v) for v in values]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _mac(payload)


def decode_cursor(list_name: str, order: Sequence[str], cursor: str) -> list[Any]:
    """The sort values a cursor holds. Raises ``invalid_input`` (field ``cursor``) unless it was made
    by this deployment for this list and this ordering."""
    body, _, mac = cursor.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, TypeError):
        raise _bad_cursor() from None
    if not mac or not hmac.compare_digest(mac.encode(), _mac(payload).encode()):
        raise _bad_cursor()
    try:
        name, made_for, values = json.loads(payload)
        if name != list_name or made_for != list(order) or len(values) != len(order):
            raise ValueError(name)
        return [_typed(v) for v in values]
    except (ValueError, TypeError):
        raise _bad_cursor() from None


def _field(spec: str) -> tuple[str, bool]:
    return (spec[1:], True) if spec.startswith("-") else (spec, False)


def after(qs: QuerySet[M], list_name: str, order: Sequence[str], cursor: str | None) -> QuerySet[M]:
    """``qs`` narrowed to the rows after the cursor's position in ``order`` (the last field must be
    unique, e.g. ``id``). Sort columns must not be null."""
    if not cursor:
        return qs
    values = decode_cursor(list_name, order, cursor)
    condition: Q | None = None
    for i, spec in enumerate(order):
        name, descending = _field(spec)
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[i]})
        for prior, value in zip(order[:i], values[:i], strict=False):
            step &= Q(**{_field(prior)[0]: value})
        condition = step if condition is None else condition | step
    assert condition is not None
    return qs.filter(condition)


def sort_values(row: Any, order: Sequence[str]) -> list[Any]:
    return [getattr(row, _field(spec)[0]) for spec in order]


def page(rows: list[T], list_name: str, order: Sequence[str], limit: int, *, total: int | None = None) -> Page[T]:
    """The first ``limit`` of ``rows`` (fetched with ``limit + 1``) and the cursor to the next page."""
    items = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_cursor(list_name, order, sort_values(items[-1], order)) if more and items else None
    return Page(items=items, next_cursor=next_cursor, total=total)
