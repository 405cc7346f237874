"""Signing people in to the console in tests, and calling its pages as them.

``ConsoleWorld``: organizations A and B, an account per kind of console user (admin, organizers of A
and of B, a judge), each signed in; A's published event with a registration and A's draft. A page's
tests add what they need with the services, owned by ``world.a``.

``as_`` sends a request as one of them: the session cookie in the header (not the client's jar, so
one client serves everyone), and, for a POST, the session's CSRF token in the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from typing import Any

import httpx

from events.models import Account, Person, Role
from events.services import accounts, catalog, form_guard, organizations, staff
from tests.factories import make_registration

PASSWORD = "correct horse battery"
USERS = ("anonymous", "admin", "organizer_a", "organizer_b", "judge")
_ip = count(1)


async def make_account(*, name: str, email: str, role: Role, organization_id: int, password: str = PASSWORD) -> Account:
    person = await Person.create(name=name, email=email)
    await staff.grant_role(person, role=role, event_ids=None, actor="test", organization_id=organization_id)
    return await accounts.create_account(person, actor="test", password=password)


async def session_of(account: Account, password: str = PASSWORD) -> tuple[str, str]:
    """A live session of the account: (cookie key, CSRF token of its forms)."""
    signed = await accounts.sign_in_password(
        login=account.login, password=password, client=accounts.Client(ip=f"10.9.{next(_ip) % 250}.1", user_agent="t")
    )
    return signed.key, form_guard.session_token(signed.session.key_hash)


@dataclass
class ConsoleWorld:
    a: int
    b: int
    sessions: dict[str, tuple[str, str]]  # user → (cookie key, csrf)
    accounts: dict[str, Account]
    event: Any  # A's, published, starts in 30 minutes
    draft: Any  # A's
    reg: Any  # a registration in ``event``
    n: count = field(default_factory=lambda: count(1))
    cache: dict[str, Any] = field(default_factory=dict)

    def next(self) -> int:
        return next(self.n)


async def a_event(organization_id: int, *, publish: bool = True, **extra: Any) -> Any:
    start = catalog.clock.now() + timedelta(minutes=30)
    data = {
        "title": "武创荟·A 专场",
        "kind": "session",
        "series": "wuchuanghui",
        "district": "donghu_gaoxin",
        "venue": "光谷",
        "starts_at": start,
        "ends_at": start + timedelta(hours=3),
    } | extra
    event = await catalog.create_event(catalog.EventInput(**data), actor="test", organization_id=organization_id)
    return await catalog.publish_event(event.id, actor="test") if publish else event


async def build_console_world() -> ConsoleWorld:
    a = (await organizations.find_or_create_organization("东湖高新区管委会", kind="government")).id
    b = (await organizations.find_or_create_organization("江岸区科技局", kind="government")).id
    made = {
        "admin": await make_account(name="管理员", email="admin@example.cn", role=Role.ADMIN, organization_id=a),
        "organizer_a": await make_account(name="王芳", email="wang@example.cn", role=Role.ORGANIZER, organization_id=a),
        "organizer_b": await make_account(name="李雷", email="li@example.cn", role=Role.ORGANIZER, organization_id=b),
        "judge": await make_account(name="赵评委", email="zhao@example.cn", role=Role.JUDGE, organization_id=a),
    }
    sessions = {user: await session_of(account) for user, account in made.items()}
    sessions["anonymous"] = ("", "")
    event = await a_event(a)
    draft = await a_event(a, publish=False, title="A 的草稿")
    reg = await make_registration(event, name="张三", phone="13900000001")
    return ConsoleWorld(a=a, b=b, sessions=sessions, accounts=made, event=event, draft=draft, reg=reg.registration)


async def as_(
    http: httpx.AsyncClient,
    world: ConsoleWorld,
    user: str,
    method: str,
    url: str,
    *,
    data: dict[str, Any] | list[tuple[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
    csrf: bool = True,
) -> httpx.Response:
    """``method url`` as ``user``: their cookie; on a POST their CSRF token (unless ``csrf`` is False)."""
    key, token = world.sessions[user]
    headers = {"cookie": f"wc_console={key}"} if key else {}
    if method == "GET":
        return await http.get(url, params=params, headers=headers)
    items = list(data.items()) if isinstance(data, dict) else list(data or [])
    if csrf and token:
        items.append(("csrf", token))
    form: dict[str, list[str]] = {}
    for name, value in items:
        for one in value if isinstance(value, list | tuple) else [value]:
            form.setdefault(name, []).append(str(one))
    return await http.request(method, url, data=form, params=params, headers=headers)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with the session's CSRF token"
    return found.group(1)
