"""Console accounts and sign-in (issue 17, item 1): passwords (argon2, lock-out, per-address limit),
one-time links through the outbox, sessions (sign out everywhere), CSRF on every console form, the
cookie's flags, escaping, and the landing page's API tokens. SQLite and PostgreSQL, frozen clock."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from events.errors import (
    AccountExists,
    AccountLocked,
    NoConsoleRole,
    SessionEnded,
    SigninFailed,
    SigninLinkExpired,
    SigninLinkUsed,
    SigninRateLimited,
    WeakPassword,
)
from events.models import (
    Account,
    AccountSession,
    ApiToken,
    Category,
    OutboxMessage,
    Person,
    Role,
    SigninAttempt,
    SigninOutcome,
)
from events.services import accounts, organizations, staff, tokens
from events.settings import get_settings
from notifications import signin
from notifications.signin import queue_signin_link
from tests.factories import bearer

pytestmark = pytest.mark.usefixtures("frozen_clock")

PASSWORD = "correct horse battery"
HERE = accounts.Client(ip="10.0.0.1", user_agent="pytest")


async def make_organizer(
    *,
    name: str = "王芳",
    email: str | None = "wang@example.cn",
    telegram_id: int | None = None,
    role: Role = Role.ORGANIZER,
    password: str | None = PASSWORD,
    organization: str = "东湖高新区管委会",
) -> Account:
    org = await organizations.find_or_create_organization(organization)
    person = await Person.create(name=name, email=email, telegram_id=telegram_id)
    await staff.grant_role(person, role=role, event_ids=None, actor="test", organization_id=org.id)
    return await accounts.create_account(person, actor="test", password=password)


def cookie_of(response: httpx.Response) -> str:
    header = response.headers["set-cookie"]
    found = re.match(r"wc_console=([^;]+);", header)
    assert found, header
    return found.group(1)


def form_token(html: str, name: str = "form_token", nth: int = 0) -> str:
    return re.findall(rf'name="{name}" value="([^"]+)"', html)[nth]


async def sign_in(client: httpx.AsyncClient, login: str = "wang@example.cn", password: str = PASSWORD) -> str:
    page = await client.get("/console/signin")
    response = await client.post(
        "/console/signin", data={"login": login, "password": password, "form_token": form_token(page.text)}
    )
    assert response.status_code == 303, response.text
    client.cookies.clear()  # each test names the session it acts in
    return cookie_of(response)


async def console_page(client: httpx.AsyncClient, key: str, **params: Any) -> httpx.Response:
    return await client.get("/console", cookies={"wc_console": key}, params=params)


# --- the service ------------------------------------------------------------------------------------------


async def test_an_account_needs_a_console_role_and_a_strong_password(db):
    plain = await Person.create(name="路人", email="someone@example.cn")
    with pytest.raises(NoConsoleRole):
        await accounts.create_account(plain, actor="test", password=PASSWORD)
    org = await organizations.find_or_create_organization("光谷")
    person = await Person.create(name="Li Lei", email="lilei@example.cn")
    await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test", organization_id=org.id)
    for weak in ("short1234", "lilei@example.cn", "Li Lei Li Lei", "LILEI12345678", "aaaaaaaaaaaa"):
        with pytest.raises(WeakPassword):
            await accounts.create_account(person, actor="test", password=weak)
    account = await accounts.create_account(person, actor="test", password=PASSWORD)
    assert account.login == "lilei@example.cn" and account.organization_id == org.id
    assert account.password_hash and account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    with pytest.raises(AccountExists):
        await accounts.create_account(person, actor="test", password=PASSWORD)


async def test_password_sign_in_and_a_wrong_password(db):
    account = await make_organizer()
    signed_in = await accounts.sign_in_password(login=" WANG@example.cn ", password=PASSWORD, client=HERE)
    assert signed_in.account.id == account.id
    session = await AccountSession.get(id=signed_in.session.id)
    assert session.key_hash != signed_in.key and len(session.key_hash) == 64
    console = await accounts.console_of(signed_in.key)
    assert console.roles == (Role.ORGANIZER,) and console.organization.name == "东湖高新区管委会"
    with pytest.raises(SigninFailed):
        await accounts.sign_in_password(login="wang@example.cn", password="wrong password!", client=HERE)
    with pytest.raises(SigninFailed):  # an unknown login gets the same answer
        await accounts.sign_in_password(login="nobody@example.cn", password=PASSWORD, client=HERE)
    outcomes = [a.outcome for a in await SigninAttempt.all().order_by("id")]
    assert outcomes == [SigninOutcome.SUCCESS, SigninOutcome.FAILURE, SigninOutcome.FAILURE]


async def test_twenty_guesses_lock_the_account_until_the_lock_expires(db, frozen_clock):
    await make_organizer()
    settings = get_settings()
    refusals: list[str] = []
    for n in range(20):
        try:
            await accounts.sign_in_password(login="wang@example.cn", password=f"guess number {n}", client=HERE)
        except (SigninFailed, AccountLocked) as error:
            refusals.append(error.code)
    assert refusals[: settings.signin_max_failures] == ["signin_failed"] * settings.signin_max_failures
    assert set(refusals[settings.signin_max_failures :]) == {"account_locked"}
    # Locked: even the right password is refused.
    with pytest.raises(AccountLocked) as locked:
        await accounts.sign_in_password(login="wang@example.cn", password=PASSWORD, client=HERE)
    assert 0 < locked.value.params["retry_after"] <= settings.signin_lockout_minutes * 60
    frozen_clock.set(frozen_clock.now + timedelta(minutes=settings.signin_lockout_minutes, seconds=1))
    signed_in = await accounts.sign_in_password(login="wang@example.cn", password=PASSWORD, client=HERE)
    assert (await Account.get(id=signed_in.account.id)).failed_attempts == 0


async def test_one_address_failing_too_often_is_refused_whatever_the_account(db, frozen_clock):
    settings = get_settings()
    await make_organizer()
    sprayer = accounts.Client(ip="203.0.113.9", user_agent="spray")
    for n in range(settings.signin_ip_max_failures):
        with pytest.raises(SigninFailed):
            await accounts.sign_in_password(login=f"user{n}@example.cn", password="Password123!", client=sprayer)
    with pytest.raises(SigninRateLimited):
        await accounts.sign_in_password(login="wang@example.cn", password=PASSWORD, client=sprayer)
    # Another address is not held up, and the account itself is not locked by the spray.
    await accounts.sign_in_password(login="wang@example.cn", password=PASSWORD, client=HERE)
    frozen_clock.set(frozen_clock.now + timedelta(minutes=settings.signin_ip_window_minutes, seconds=1))
    await accounts.sign_in_password(login="wang@example.cn", password=PASSWORD, client=sprayer)


async def _request_link(login: str = "wang@example.cn") -> str:
    found: list[str] = []

    async def deliver(person: Person, token: str, link: Any, conn: Any) -> bool:
        found.append(token)
        return await queue_signin_link(person, token, link, conn)

    assert await accounts.request_signin_link(login=login, client=HERE, deliver=deliver)
    return found[0]


async def test_a_link_is_queued_for_the_persons_channel_and_works_once_within_15_minutes(db, frozen_clock):
    await make_organizer(telegram_id=777001)
    token = await _request_link()
    row = await OutboxMessage.get(category=Category.SIGNIN)
    assert row.person_id == (await Account.get(login="wang@example.cn")).person_id and row.urgent
    # The stored row holds no working link; the one sent has it.
    assert token not in row.text and token not in str(row.mail) and signin.MARKER in row.text
    sent = await signin.materialize(row)
    assert f'/console/signin/{token}">' in sent.text
    assert token not in (await OutboxMessage.get(id=row.id)).text
    # Checking (the confirm page) does not spend it; using it does, once.
    await accounts.check_signin_link(token)
    await accounts.check_signin_link(token)
    signed_in = await accounts.sign_in_link(token=token, client=HERE)
    assert signed_in.session.method == "link"
    with pytest.raises(SigninLinkUsed):
        await accounts.sign_in_link(token=token, client=HERE)
    with pytest.raises(signin.LinkGone):  # a message still queued does not carry a spent link
        await signin.materialize(row)
    late = await _request_link()
    frozen_clock.set(frozen_clock.now + timedelta(minutes=15))
    with pytest.raises(SigninLinkExpired):
        await accounts.sign_in_link(token=late, client=HERE)


async def test_at_most_five_links_an_hour_go_to_one_account(db, frozen_clock):
    await make_organizer(telegram_id=777009)
    for _ in range(accounts.LINKS_PER_HOUR):
        await _request_link()
    assert not await accounts.request_signin_link(login="wang@example.cn", client=HERE, deliver=queue_signin_link)
    assert await OutboxMessage.filter(category=Category.SIGNIN).count() == accounts.LINKS_PER_HOUR
    frozen_clock.set(frozen_clock.now + timedelta(hours=1, seconds=1))
    await _request_link()


async def test_a_link_goes_by_mail_to_a_person_without_a_chat_and_nowhere_for_an_unknown_name(db):
    await make_organizer(email="mail.only@example.cn")
    await _request_link("mail.only@example.cn")
    row = await OutboxMessage.get(category=Category.SIGNIN)
    assert row.channel is None  # the dispatcher picks e-mail: the person has no chat

    async def never(*_: Any) -> bool:
        raise AssertionError("nothing is delivered for an unknown name")

    assert not await accounts.request_signin_link(login="ghost@example.cn", client=HERE, deliver=never)


async def test_sign_out_everywhere_ends_every_session(db):
    account = await make_organizer()
    first = await accounts.sign_in_password(login="wang@example.cn", password=PASSWORD, client=HERE)
    second = await accounts.sign_in_password(login="wang@example.cn", password=PASSWORD, client=HERE)
    assert len(await accounts.list_sessions(account)) == 2
    assert await accounts.sign_out_everywhere(account, actor="test") == 2
    for key in (first.key, second.key):
        with pytest.raises(SessionEnded):
            await accounts.console_of(key)


async def test_a_session_idle_too_long_ends(db, frozen_clock):
    await make_organizer()
    signed_in = await accounts.sign_in_password(login="wang@example.cn", password=PASSWORD, client=HERE)
    frozen_clock.set(frozen_clock.now + timedelta(hours=get_settings().session_idle_hours, minutes=1))
    with pytest.raises(SessionEnded):
        await accounts.console_of(signed_in.key)


# --- the pages ----------------------------------------------------------------------------------------------------


async def test_signing_in_on_the_page_sets_a_safe_cookie_and_shows_the_console(client, db):
    await make_organizer()
    page = await client.get("/console/signin")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    response = await client.post(
        "/console/signin",
        data={"login": "wang@example.cn", "password": PASSWORD, "form_token": form_token(page.text)},
    )
    assert response.status_code == 303 and response.headers["location"] == "/console"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie
    assert "secure" not in cookie  # PUBLIC_URL is http here
    key = cookie_of(response)
    assert not await AccountSession.filter(key_hash=key).exists()  # stored hashed, never as sent
    home = await console_page(client, key)
    assert home.status_code == 200
    assert "王芳" in home.text and "东湖高新区管委会" in home.text and "组织者" in home.text
    english = await console_page(client, key, lang="en")
    assert "Organizer" in english.text and "Sign out everywhere" in english.text


async def test_the_cookie_is_secure_behind_https(db, monkeypatch):
    from api.app import create_app

    await make_organizer()
    app = create_app(db.model_copy(update={"public_url": "https://wuchuang.example.cn"}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        key_response = await http.get("/console/signin")
        response = await http.post(
            "/console/signin",
            data={"login": "wang@example.cn", "password": PASSWORD, "form_token": form_token(key_response.text)},
        )
    assert response.status_code == 303 and "secure" in response.headers["set-cookie"].lower()


async def test_a_wrong_password_on_the_page_and_a_locked_account(client, db):
    await make_organizer()
    page = await client.get("/console/signin?lang=en")
    wrong = await client.post(
        "/console/signin?lang=en",
        data={"login": "wang@example.cn", "password": "not it at all", "form_token": form_token(page.text)},
    )
    assert wrong.status_code == 401 and "The account or the password is wrong." in wrong.text
    assert "set-cookie" not in wrong.headers
    for n in range(get_settings().signin_max_failures):
        page = await client.get("/console/signin?lang=en")
        last = await client.post(
            "/console/signin?lang=en",
            data={"login": "wang@example.cn", "password": f"guess {n} {n}", "form_token": form_token(page.text)},
        )
    assert last.status_code == 429 and "locked" in last.text and last.headers["retry-after"]


async def test_sign_in_forms_without_their_token_are_refused(client, db):
    await make_organizer()
    for path in ("/console/signin", "/console/signin/link"):
        bare = await client.post(path, data={"login": "wang@example.cn", "password": PASSWORD})
        assert bare.status_code == 403
        forged_form = {"login": "wang@example.cn", "password": PASSWORD, "form_token": "x.1.y.z"}
        forged = await client.post(path, data=forged_form)
        assert forged.status_code == 403
    page = await client.get("/console/signin")
    cross = await client.post(
        "/console/signin",
        data={"login": "wang@example.cn", "password": PASSWORD, "form_token": form_token(page.text)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert not await AccountSession.exists()


async def test_console_posts_need_the_sessions_csrf_token(client, db):
    account = await make_organizer()
    key = await sign_in(client)
    other_key = await sign_in(client)
    home = await console_page(client, key)
    csrf = form_token(home.text, "csrf")
    other_csrf = form_token((await console_page(client, other_key)).text, "csrf")
    assert csrf != other_csrf
    cookies = {"wc_console": key}
    for path in ("/console/signout-everywhere", "/console/signout", "/console/tokens"):
        missing = await client.post(path, data={"name": "x"}, cookies=cookies)
        assert missing.status_code == 403, path
        forged = await client.post(path, data={"name": "x", "csrf": other_csrf}, cookies=cookies)
        assert forged.status_code == 403, path
    assert len(await accounts.list_sessions(account)) == 2
    assert not await ApiToken.exists()


async def test_sign_out_everywhere_on_the_page(client, db):
    await make_organizer()
    key = await sign_in(client)
    other = await sign_in(client)
    csrf = form_token((await console_page(client, key)).text, "csrf")
    done = await client.post("/console/signout-everywhere", data={"csrf": csrf}, cookies={"wc_console": key})
    assert done.status_code == 303 and done.headers["location"].startswith("/console/signin")
    for ended in (key, other):
        response = await console_page(client, ended)
        assert response.status_code == 303 and response.headers["location"] == "/console/signin?ended=1"


async def test_a_revoked_or_unknown_cookie_goes_to_the_sign_in_page(client, db):
    await make_organizer()
    key = await sign_in(client)
    await accounts.sign_out(key)
    assert (await console_page(client, key)).headers["location"] == "/console/signin?ended=1"
    assert (await console_page(client, "made-up")).status_code == 303
    assert (await client.get("/console")).headers["location"] == "/console/signin"


async def test_signing_out_ends_this_session_only(client, db):
    await make_organizer()
    key = await sign_in(client)
    other = await sign_in(client)
    csrf = form_token((await console_page(client, key)).text, "csrf")
    out = await client.post("/console/signout", data={"csrf": csrf}, cookies={"wc_console": key})
    assert out.status_code == 303 and 'wc_console=""' in out.headers["set-cookie"]
    assert (await console_page(client, key)).status_code == 303
    assert (await console_page(client, other)).status_code == 200


async def test_a_link_on_the_page_a_get_does_not_spend_it(client, db, frozen_clock):
    await make_organizer(telegram_id=777002)
    page = await client.get("/console/signin")
    sent = await client.post(
        "/console/signin/link?lang=en", data={"login": "wang@example.cn", "form_token": form_token(page.text, nth=1)}
    )
    assert sent.status_code == 200 and "sign-in link is on its way" in sent.text
    row = await signin.materialize(await OutboxMessage.get(category=Category.SIGNIN))
    path = re.search(r"(/console/signin/[A-Za-z0-9_-]+)", row.text)
    assert path is not None
    # A mail client's scanner (or the person, twice) opening it changes nothing.
    for _ in range(3):
        confirm = await client.get(path.group(1))
        assert confirm.status_code == 200 and "form_token" in confirm.text
    used = await client.post(path.group(1), data={"form_token": form_token(confirm.text)})
    assert used.status_code == 303
    key = cookie_of(used)
    client.cookies.clear()
    assert (await console_page(client, key)).status_code == 200
    again = await client.get(path.group(1))
    assert again.status_code == 409
    replay = await client.post(path.group(1), data={"form_token": form_token(confirm.text)})
    assert replay.status_code in (403, 409) and "set-cookie" not in replay.headers
    # An unknown name gets the same page as a known one, and nothing is queued.
    page = await client.get("/console/signin")
    quiet = await client.post(
        "/console/signin/link", data={"login": "ghost@example.cn", "form_token": form_token(page.text, nth=1)}
    )
    assert quiet.status_code == 200 and await OutboxMessage.filter(category=Category.SIGNIN).count() == 1


async def test_an_expired_link_on_the_page_is_refused_clearly(client, db, frozen_clock):
    await make_organizer(telegram_id=777003)
    token = await _request_link()
    frozen_clock.set(frozen_clock.now + timedelta(minutes=16))
    response = await client.get(f"/console/signin/{token}?lang=en")
    assert response.status_code == 410 and "expired" in response.text


async def test_tokens_made_on_the_page_are_shown_once_listed_and_revocable(client, db):
    account = await make_organizer()
    key = await sign_in(client)
    cookies = {"wc_console": key}
    csrf = form_token((await console_page(client, key)).text, "csrf")
    made = await client.post("/console/tokens", data={"csrf": csrf, "name": "导出脚本"}, cookies=cookies)
    assert made.status_code == 201
    plaintext = re.search(r'id="new-token">(wch_[^<]+)<', made.text)
    assert plaintext is not None
    token = await ApiToken.get(account_id=account.id)
    assert token.role == Role.ORGANIZER and token.organization_id == account.organization_id
    # It works on the API, and the page lists it without its text.
    assert (await client.get("/api/v1/tokens", headers=bearer(plaintext.group(1)))).status_code == 403
    assert (await tokens.authenticate(plaintext.group(1))).id == token.id
    listed = await console_page(client, key)
    assert "导出脚本" in listed.text and plaintext.group(1) not in listed.text
    # Another account cannot revoke it.
    await make_organizer(name="赵六", email="zhao@example.cn", organization="江岸区科创局")
    other_key = await sign_in(client, "zhao@example.cn")
    other_csrf = form_token((await console_page(client, other_key)).text, "csrf")
    other_cookie = {"wc_console": other_key}
    await client.post(f"/console/tokens/{token.id}/revoke", data={"csrf": other_csrf}, cookies=other_cookie)
    assert (await ApiToken.get(id=token.id)).revoked_at is None
    revoked = await client.post(f"/console/tokens/{token.id}/revoke", data={"csrf": csrf}, cookies=cookies)
    assert revoked.status_code == 303 and (await ApiToken.get(id=token.id)).revoked_at is not None


async def test_every_value_on_the_console_is_escaped(client, db):
    await make_organizer(name="<script>alert(1)</script>", organization="<b>坏</b>组织")
    key = await sign_in(client)
    csrf = form_token((await console_page(client, key)).text, "csrf")
    made = await client.post(
        "/console/tokens", data={"csrf": csrf, "name": '"><img src=x onerror=alert(2)>'}, cookies={"wc_console": key}
    )
    page = await client.get("/console", cookies={"wc_console": key}, headers={"User-Agent": "<i>ua</i>"})
    for html in (made.text, page.text):
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>坏</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<i>ua</i>" not in page.text


async def test_a_judge_signs_in_but_makes_no_tokens(client, db):
    await make_organizer(role=Role.JUDGE, email="judge@example.cn")
    key = await sign_in(client, "judge@example.cn")
    home = await console_page(client, key)
    assert home.status_code == 200 and "评委" in home.text and 'action="/console/tokens"' not in home.text
    csrf = form_token(home.text, "csrf")
    refused = await client.post("/console/tokens", data={"csrf": csrf, "name": "x"}, cookies={"wc_console": key})
    assert refused.status_code == 403 and not await ApiToken.exists()


# --- the admin API ------------------------------------------------------------------------------------------------


async def test_admins_create_accounts_through_the_api(client, db):
    org = await organizations.find_or_create_organization("青山区科技局")
    person = await Person.create(name="刘洋", phone="13900000021", telegram_id=880001)
    await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test", organization_id=org.id)
    admin = bearer((await tokens.create_token(role="admin", name="ops")).plaintext)
    organizer = bearer((await tokens.create_token(role="organizer", name="org")).plaintext)
    body = {"telegram_id": 880001, "password": PASSWORD}
    assert (await client.post("/api/v1/accounts", json=body, headers=organizer)).status_code == 403
    weak = await client.post("/api/v1/accounts", json={"telegram_id": 880001, "password": "13900000021"}, headers=admin)
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    made = await client.post("/api/v1/accounts", json=body, headers=admin)
    assert made.status_code == 201, made.text
    answer = made.json()
    assert answer["login"] == "+8613900000021" and answer["organization_id"] == org.id and answer["has_password"]
    assert PASSWORD not in made.text and "argon2" not in made.text
    again = await client.post("/api/v1/accounts", json=body, headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "account_exists"
    stranger = await Person.create(name="路人甲", email="passer@example.cn")
    refused = await client.post("/api/v1/accounts", json={"person_id": stranger.id}, headers=admin)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "no_console_role"
    signed_in = await accounts.sign_in_password(login="139 0000 0021", password=PASSWORD, client=HERE)
    assert signed_in.account.id == answer["id"]


async def test_a_link_by_mail_reads_as_a_sign_in_mail_with_no_unsubscribe(db):
    from events.services.calendar import FeedRenderer
    from notifications import mail

    await make_organizer(email="mail.only@example.cn")
    token = await _request_link("mail.only@example.cn")
    row = await signin.materialize(await OutboxMessage.get(category=Category.SIGNIN))
    person = await Person.get(id=row.person_id)
    composed = await mail.compose(
        row,
        person,
        photo=None,
        base_url="http://testserver",
        calendar=FeedRenderer(base_url="http://testserver", timezone="Asia/Shanghai"),
    )
    assert composed.subject == "您的武创荟控制台登录链接"
    assert f"/console/signin/{token}" in composed.text and f"/console/signin/{token}" in composed.html
    assert composed.unsubscribe_url is None and composed.ics is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"person_id": 1, "telegram_id": 5},
        {"email": "not an address"},
        {"email": "x" * 300},
        {"telegram_id": 2**63},
        {"person_id": 0},
        {"person_id": 99999},
        {"telegram_id": 880002, "password": "x" * 300},
        {"telegram_id": 880002, "password": 12345678901},
        {"telegram_id": 880002, "organization": "没有这个单位"},
        {"telegram_id": 880002, "login": "@@@"},
        {"telegram_id": 880002, "role": "admin"},
        [],
        "text",
    ],
)
async def test_bad_account_bodies_are_4xx_never_5xx(client, db, body):
    person = await Person.create(name="周敏", telegram_id=880002)
    await staff.grant_role(person, role=Role.ORGANIZER, event_ids=None, actor="test")
    admin = bearer((await tokens.create_token(role="admin", name="ops")).plaintext)
    response = await client.post("/api/v1/accounts", json=body, headers=admin)
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()


async def test_the_dispatcher_sends_the_link_and_drops_a_spent_one(db):
    import io

    from events.models import OutboxStatus
    from notifications.channels import ConsoleChannel
    from notifications.dispatcher import Dispatcher

    await make_organizer(telegram_id=777010)
    token = await _request_link()
    spent = await _request_link()
    await accounts.sign_in_link(token=spent, client=HERE)
    out = io.StringIO()
    done = await Dispatcher(ConsoleChannel(stream=out), idle_interval=0.05).drain(timeout=10)
    assert done["sent"] == 1
    assert f"/console/signin/{token}" in out.getvalue() and spent not in out.getvalue()
    statuses = [row.status for row in await OutboxMessage.all().order_by("id")]
    assert statuses == [OutboxStatus.SENT, OutboxStatus.FAILED]
    assert not [row for row in await OutboxMessage.all() if token in row.text or spent in row.text]


async def test_no_table_holds_a_working_link_session_key_password_or_token(client, db):
    from tests.test_secrets_at_rest import _every_stored_value, _holds

    await make_organizer(telegram_id=777011)
    link = await _request_link()
    key = await sign_in(client)
    csrf = form_token((await console_page(client, key)).text, "csrf")
    made = await client.post("/console/tokens", data={"csrf": csrf, "name": "脚本"}, cookies={"wc_console": key})
    plaintext = re.search(r'id="new-token">(wch_[^<]+)<', made.text)
    assert plaintext is not None
    secrets_seen = {"link": link, "session": key, "password": PASSWORD, "token": plaintext.group(1), "csrf": csrf}
    for table, column, value in await _every_stored_value():
        for name, secret in secrets_seen.items():
            assert not _holds(value, secret), f"{table}.{column} holds the {name}"


async def test_erasing_a_person_removes_their_account_sessions_and_sign_in_audit(db):
    from events.services import privacy

    account = await make_organizer()
    signed_in = await accounts.sign_in_password(login="wang@example.cn", password=PASSWORD, client=HERE)
    with pytest.raises(SigninFailed):
        await accounts.sign_in_password(login="wang@example.cn", password="wrong password!", client=HERE)
    await privacy.erase_person(account.person_id, actor="test")
    assert not await Account.exists() and not await AccountSession.exists() and not await SigninAttempt.exists()
    with pytest.raises(SessionEnded):
        await accounts.console_of(signed_in.key)


async def test_a_password_is_changed_on_the_page_with_the_current_one_first(client, db):
    await make_organizer()
    key = await sign_in(client)
    cookies = {"wc_console": key}
    page = await console_page(client, key)
    assert 'name="current"' in page.text  # the account has a password: the current one is asked
    csrf = form_token(page.text, "csrf")
    wrong = await client.post(
        "/console/password",
        data={"csrf": csrf, "current": "not it at all", "new": "a brand new phrase"},
        cookies=cookies,
    )
    assert wrong.status_code == 401 and "notice error" in wrong.text
    weak = await client.post(
        "/console/password", data={"csrf": csrf, "current": PASSWORD, "new": "short"}, cookies=cookies
    )
    assert weak.status_code == 422
    no_csrf = await client.post(
        "/console/password", data={"current": PASSWORD, "new": "a brand new phrase"}, cookies=cookies
    )
    assert no_csrf.status_code == 403
    done = await client.post(
        "/console/password", data={"csrf": csrf, "current": PASSWORD, "new": "a brand new phrase"}, cookies=cookies
    )
    assert done.status_code == 200 and "notice ok" in done.text
    client.cookies.clear()
    page = await client.get("/console/signin")
    old = await client.post(
        "/console/signin", data={"login": "wang@example.cn", "password": PASSWORD, "form_token": form_token(page.text)}
    )
    assert old.status_code != 303  # the old password no longer signs in
    client.cookies.clear()
    assert await sign_in(client, password="a brand new phrase")
