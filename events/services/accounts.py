"""Console accounts: creating them, passwords, signing in (by password or a one-time link), sessions.

An account is how a person who holds an organizer, admin or judge role (``PersonRole``) signs in to
the console; what they may do there is their roles', read each time (revoking the role takes effect
at once). pretix's control panel and Indico are the anchors: argon2id password hashes, a lock-out
after a run of wrong passwords, a per-address limit, sessions listed and revocable ("sign out
everywhere"), and an audit of every attempt (``SigninAttempt``).

No secret is kept that works: the session key (in the cookie) is stored as SHA-256 (256 random bits,
so a fast hash is enough), the password as argon2id, and a one-time link as a seed from which the
at-rest key makes its token (``events.secretbox``) when the link is sent.
The limits count rows in the database, by the service clock, so they hold across workers and restarts.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from events import clock, secretbox
from events.errors import (
    N_,
    AccountExists,
    AccountLocked,
    AccountNotFound,
    Forbidden,
    InvalidInput,
    NoConsoleRole,
    NotFound,
    PersonNotFound,
    SessionEnded,
    SigninFailed,
    SigninLinkExpired,
    SigninLinkInvalid,
    SigninLinkUsed,
    SigninRateLimited,
    WeakPassword,
)
from events.models import (
    Account,
    AccountSession,
    ApiToken,
    Organization,
    Person,
    PersonRole,
    Role,
    SigninAttempt,
    SigninLink,
    SigninOutcome,
)
from events.services import activity, organizations, tokens
from events.services.people import normalize_email, normalize_phone
from events.settings import get_settings

CONSOLE_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.JUDGE)
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # argon2 takes any length; a megabyte "password" would only cost us time
LINK_TTL = timedelta(minutes=15)
LINK_PURPOSE = "console-signin"
# Links sent to one account in an hour, at most: the form cannot be used to flood someone's chat or mailbox.
LINKS_PER_HOUR = 5
# Writing last_seen_at on every page would make each read a write; once a minute is enough.
_TOUCH_EVERY = timedelta(minutes=1)
FAILED = (SigninOutcome.FAILURE, SigninOutcome.LOCKED, SigninOutcome.LINK_REFUSED)


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults (RFC 9106's second recommendation: argon2id, 64 MiB, 3 passes).
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _hash_password(password: str) -> str:
    # Hashing takes ~50 ms of CPU by design: off the event loop, so other requests go on meanwhile.
    return await asyncio.to_thread(_hasher().hash, password)


async def _password_matches(stored: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            # An account without a password is checked against a dummy hash all the same, so the time
            # taken does not tell which logins exist.
            return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: ``key`` goes into the cookie (shown here only); the row keeps its hash."""

    account: Account
    session: AccountSession
    key: str


@dataclass(frozen=True, slots=True)
class IssuedLink:
    link: SigninLink
    token: str
    person: Person


@dataclass(frozen=True, slots=True)
class Console:
    """Who is signed in: the account, its person and organization, the console roles held for it."""

    account: Account
    session: AccountSession
    person: Person
    organization: Organization
    roles: tuple[Role, ...]

    @property
    def csrf_binding(self) -> str:
        return self.session.key_hash

    @property
    def may_manage_tokens(self) -> bool:
        return Role.ADMIN in self.roles or Role.ORGANIZER in self.roles


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request came from, for the audit and the per-address limit."""

    ip: str = ""
    user_agent: str = ""

    @classmethod
    def of(cls, ip: str | None, user_agent: str | None) -> Client:
        return cls(ip=(ip or "")[:64], user_agent=(user_agent or "")[:300])


# --- accounts and passwords ---------------------------------------------------------------------------------


def normalize_login(raw: str) -> str:
    """The stored form of a sign-in name: an e-mail address in lower case, a phone number in E.164.
    Raises ``invalid_input`` (field ``login``)."""
    text = (raw or "").strip()
    if not text or len(text) > 254:
        raise InvalidInput(N_("Give your e-mail address or mobile phone number."), field="login")
    try:
        found = normalize_email(text) if "@" in text else normalize_phone(text)
    except InvalidInput:
        raise InvalidInput(N_("Give your e-mail address or mobile phone number."), field="login") from None
    assert found is not None
    return found


def check_password_strength(password: str, *, person: Person, login: str) -> None:
    """Raises ``weak_password`` (field ``password``): fewer than ``MIN_PASSWORD`` characters, more than
    ``MAX_PASSWORD``, or the person's name, login, phone or e-mail address (or its part before the @)."""
    if not isinstance(password, str) or not (MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
        raise WeakPassword(field="password")
    folded = "".join(password.split()).casefold()
    known = {person.name, login, person.email or "", person.phone or "", login.partition("@")[0]}
    if (person.email or "").partition("@")[0]:
        known.add((person.email or "").partition("@")[0])
    for value in known:
        value = "".join(value.split()).casefold()
        if value and (folded == value or folded in value or (len(value) >= 4 and value in folded)):
            raise WeakPassword(field="password")
    if len(set(folded)) < 4:  # "aaaaaaaaaa", "ababababab"
        raise WeakPassword(field="password")


async def console_roles(person_id: int, organization_id: int) -> tuple[Role, ...]:
    """The console roles the person holds for the organization (admin: for any), strongest first."""
    held = await PersonRole.filter(person_id=person_id, role__in=list(CONSOLE_ROLES)).values_list(
        "role", "organization_id"
    )
    default_id: int | None = None
    found: set[Role] = set()
    for role, org_id in held:
        if org_id is None and role != Role.ADMIN:
            default_id = default_id or await organizations.default_organization_id()
            org_id = default_id
        if role == Role.ADMIN or org_id == organization_id:
            found.add(Role(role))
    return tuple(r for r in CONSOLE_ROLES if r in found)


async def _organization_for(person: Person, organization_id: int | None) -> int:
    held = await PersonRole.filter(person_id=person.id, role__in=list(CONSOLE_ROLES)).order_by("id")
    if not held:
        raise NoConsoleRole()
    if organization_id is None:
        non_admin = [h.organization_id for h in held if h.role != Role.ADMIN and h.organization_id]
        organization_id = non_admin[0] if non_admin else await organizations.default_organization_id()
    await organizations.get_organization(organization_id)
    if not await console_roles(person.id, organization_id):
        raise NoConsoleRole()
    return organization_id


async def create_account(
    person: Person,
    *,
    actor: str,
    password: str | None = None,
    login: str | None = None,
    organization_id: int | None = None,
) -> Account:
    """An account for a person who holds an organizer, admin or judge role; ``login`` defaults to the
    person's e-mail address, else their phone. Without a password the account signs in by one-time
    links only. Raises ``no_console_role``, ``account_exists``, ``weak_password``, ``invalid_input``,
    ``organization_not_found``."""
    organization_id = await _organization_for(person, organization_id)
    name = normalize_login(login or person.email or person.phone or "")
    if password is not None:
        check_password_strength(password, person=person, login=name)
    password_hash = await _hash_password(password) if password is not None else None
    if await Account.filter(person_id=person.id).exists() or await Account.filter(login=name).exists():
        raise AccountExists()
    now = clock.now()
    try:
        async with in_transaction() as conn:
            account = await Account.create(
                person_id=person.id,
                organization_id=organization_id,
                login=name,
                password_hash=password_hash,
                password_changed_at=now if password_hash else None,
                created_at=now,
                using_db=conn,
            )
            await activity.record(
                "account.created",
                actor=actor,
                person_id=person.id,
                using_db=conn,
                account_id=account.id,
                organization_id=organization_id,
            )
    except IntegrityError:  # the same person or login, by a concurrent request a moment ago
        raise AccountExists() from None
    return account


async def set_password(account: Account, password: str, *, actor: str) -> None:
    """Replace the password (and unlock). Raises ``weak_password``."""
    person = await Person.get(id=account.person_id)
    check_password_strength(password, person=person, login=account.login)
    hashed = await _hash_password(password)
    async with in_transaction() as conn:
        await (
            Account.filter(id=account.id)
            .using_db(conn)
            .update(password_hash=hashed, password_changed_at=clock.now(), failed_attempts=0, locked_until=None)
        )
        await activity.record(
            "account.password_set", actor=actor, person_id=account.person_id, using_db=conn, account_id=account.id
        )
    account.password_hash = hashed


async def change_password(account: Account, *, current: str, new: str, actor: str) -> None:
    """The holder's own change: the current password first. Raises ``signin_failed``, ``weak_password``."""
    if not await _password_matches(account.password_hash, current):
        raise SigninFailed(field="current")
    await set_password(account, new, actor=actor)


async def find_person(
    *, person_id: int | None = None, telegram_id: int | None = None, email: str | None = None
) -> Person:
    """The person named by exactly one of: id, Telegram id, e-mail address (the oldest person with it).
    Raises ``person_not_found``, ``invalid_input``."""
    given = [v for v in (person_id, telegram_id, email) if v is not None]
    if len(given) != 1:
        raise InvalidInput(N_("Name the person by one of: id, Telegram id, e-mail address."), field="person")
    if person_id is not None:
        person = await Person.get_or_none(id=person_id)
    elif telegram_id is not None:
        person = await Person.get_or_none(telegram_id=telegram_id)
    else:
        address = normalize_email(email)
        person = await Person.filter(email=address).order_by("id").first() if address else None
    if person is None:
        raise PersonNotFound()
    return person


async def account_by_login(login: str) -> Account:
    """Raises ``account_not_found``, ``invalid_input``."""
    found = await Account.get_or_none(login=normalize_login(login))
    if found is None:
        raise AccountNotFound()
    return found


async def get_account(account_id: int) -> Account:
    """Raises ``account_not_found``."""
    found = await Account.get_or_none(id=account_id)
    if found is None:
        raise AccountNotFound()
    return found


# --- signing in ----------------------------------------------------------------------------------------------


async def _audit(
    outcome: SigninOutcome, client: Client, account_id: int | None, conn: BaseDBAsyncClient | None = None
) -> None:
    await SigninAttempt.create(
        account_id=account_id,
        outcome=outcome,
        ip=client.ip,
        user_agent=client.user_agent,
        created_at=clock.now(),
        using_db=conn,
    )


async def _check_address(client: Client) -> None:
    """Raises ``signin_rate_limited`` once the address has failed the setting's number of times within
    the window (any accounts): a password sprayed over many accounts is stopped too."""
    settings = get_settings()
    window = timedelta(minutes=settings.signin_ip_window_minutes)
    now = clock.now()
    recent = (
        await SigninAttempt.filter(ip=client.ip, outcome__in=list(FAILED), created_at__gt=now - window)
        .order_by("-created_at")
        .limit(settings.signin_ip_max_failures)
        .values_list("created_at", flat=True)
    )
    if len(recent) >= settings.signin_ip_max_failures:
        oldest: datetime = recent[-1]  # type: ignore[assignment]
        await _audit(SigninOutcome.RATE_LIMITED, client, None)
        raise SigninRateLimited(retry_after=max(1, math.ceil((oldest + window - now).total_seconds())))


def _locked_for(account: Account) -> int | None:
    if account.locked_until is not None and account.locked_until > clock.now():
        return max(1, math.ceil((account.locked_until - clock.now()).total_seconds()))
    return None


async def _new_session(account: Account, client: Client, method: str, conn: BaseDBAsyncClient) -> SignedIn:
    key = secrets.token_urlsafe(32)
    now = clock.now()
    session = await AccountSession.create(
        key_hash=_sha256(key),
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
        user_agent=client.user_agent,
        ip=client.ip,
        method=method,
        using_db=conn,
    )
    await Account.filter(id=account.id).using_db(conn).update(failed_attempts=0, locked_until=None, last_signin_at=now)
    return SignedIn(account=account, session=session, key=key)


async def sign_in_password(*, login: str, password: str, client: Client) -> SignedIn:
    """A new session for the right login and password. Raises ``signin_rate_limited`` (the address
    failed too often), ``account_locked`` (too many wrong passwords in a row: refused, even the right
    one, until the lock ends), ``signin_failed`` (unknown login, wrong password, disabled account, no
    console role any more: one answer for all, so the page does not tell which logins exist)."""
    await _check_address(client)
    try:
        name = normalize_login(login)
    except InvalidInput:
        name = ""
    account = await Account.get_or_none(login=name) if name else None
    if account is not None and (retry_after := _locked_for(account)) is not None:
        await _audit(SigninOutcome.LOCKED, client, account.id)
        raise AccountLocked(retry_after=retry_after)
    matches = await _password_matches(account.password_hash if account else None, password[:MAX_PASSWORD])
    usable = (
        account is not None
        and matches
        and account.disabled_at is None
        and bool(await console_roles(account.person_id, account.organization_id))
    )
    if account is None or not usable:
        await _failed(account, client)
        raise SigninFailed()
    async with in_transaction() as conn:
        signed_in = await _new_session(account, client, "password", conn)
        await _audit(SigninOutcome.SUCCESS, client, account.id, conn)
    return signed_in


async def _failed(account: Account | None, client: Client) -> None:
    """Count a wrong password; the one that reaches the limit locks the account (and starts the count
    again, so the next run after the lock ends is as long)."""
    settings = get_settings()
    async with in_transaction() as conn:
        if account is not None:
            # One UPDATE adds one, so concurrent guesses are all counted (no read-modify-write).
            await Account.filter(id=account.id).using_db(conn).update(failed_attempts=F("failed_attempts") + 1)
            fresh = await Account.get(id=account.id, using_db=conn)
            if fresh.failed_attempts >= settings.signin_max_failures:
                await (
                    Account.filter(id=account.id)
                    .using_db(conn)
                    .update(
                        failed_attempts=0,
                        locked_until=clock.now() + timedelta(minutes=settings.signin_lockout_minutes),
                    )
                )
                await activity.record(
                    "account.locked",
                    actor="signin",
                    person_id=account.person_id,
                    using_db=conn,
                    account_id=account.id,
                    ip=client.ip,
                )
        await _audit(SigninOutcome.FAILURE, client, account.id if account else None, conn)


Deliver = Callable[[Person, str, SigninLink, BaseDBAsyncClient], Awaitable[bool]]


async def request_signin_link(*, login: str, client: Client, deliver: Deliver) -> bool:
    """Make a one-time link (valid ``LINK_TTL``, single use) for the account of ``login`` and hand its
    token to ``deliver`` (notifications queue it for the person's channel) in the same transaction:
    no link without its message, no message without its link. Returns whether one was queued; a page
    must show the same answer either way (it would tell which logins exist); an account sent
    ``LINKS_PER_HOUR`` links in the last hour gets no more until then. Raises
    ``signin_rate_limited`` (the address failed too often; asking counts as an attempt for the limit
    only when it leads nowhere)."""
    await _check_address(client)
    try:
        name = normalize_login(login)
    except InvalidInput:
        name = ""
    account = await Account.get_or_none(login=name).select_related("person") if name else None
    if account is None or account.disabled_at is not None:
        await _audit(SigninOutcome.FAILURE, client, None)
        return False
    sent = await SigninLink.filter(account_id=account.id, created_at__gt=clock.now() - timedelta(hours=1)).count()
    if sent >= LINKS_PER_HOUR:
        return False
    seed = secretbox.new_seed()
    token = link_token(seed)
    now = clock.now()
    try:
        async with in_transaction() as conn:
            link = await SigninLink.create(
                seed=seed,
                account_id=account.id,
                created_at=now,
                expires_at=now + LINK_TTL,
                using_db=conn,
            )
            if not await deliver(account.person, token, link, conn):
                raise _Unreachable()  # rolls the link back: nobody could get it
            await _audit(SigninOutcome.LINK_SENT, client, account.id, conn)
    except _Unreachable:
        await _audit(SigninOutcome.FAILURE, client, account.id)
        return False
    return True


class _Unreachable(Exception):
    """The person has no channel a link can go by (no chat, no mailbox)."""


def link_token(seed: str) -> str:
    """The token of the link with this seed (its URL's last part); made again when the message is sent."""
    return secretbox.current().capability(LINK_PURPOSE, seed)


async def link_for_sending(link_id: int) -> tuple[SigninLink, str] | None:
    """The link and its token while it can still be used (unused, unexpired), else None: a message
    sent late does not carry a dead link."""
    link = await SigninLink.get_or_none(id=link_id, used_at=None, expires_at__gt=clock.now())
    return (link, link_token(link.seed)) if link is not None else None


async def _link_of(token: str) -> SigninLink:
    seed = secretbox.current().seed_of(LINK_PURPOSE, token) if token and len(token) <= 100 else None
    link = await SigninLink.get_or_none(seed=seed) if seed else None
    if link is None:
        raise SigninLinkInvalid()
    if link.used_at is not None:
        raise SigninLinkUsed()
    if link.expires_at <= clock.now():
        raise SigninLinkExpired()
    return link


async def check_signin_link(token: str) -> SigninLink:
    """The link, unused and unexpired, without using it (the page that asks to confirm). Raises
    ``signin_link_invalid``, ``signin_link_used``, ``signin_link_expired``."""
    return await _link_of(token)


async def sign_in_link(*, token: str, client: Client) -> SignedIn:
    """Use a one-time link: a new session, and the link is spent. Raises ``signin_rate_limited``,
    ``signin_link_invalid``, ``signin_link_used`` (also when two tabs race: one wins),
    ``signin_link_expired``, ``account_locked`` is not raised (a link proves the mailbox or chat, and
    an attacker guessing passwords must not lock the holder out of their own link)."""
    await _check_address(client)
    try:
        link = await _link_of(token)
    except (SigninLinkInvalid, SigninLinkUsed, SigninLinkExpired):
        await _audit(SigninOutcome.LINK_REFUSED, client, None)
        raise
    account = await Account.get(id=link.account_id)
    if account.disabled_at is not None or not await console_roles(account.person_id, account.organization_id):
        await _audit(SigninOutcome.LINK_REFUSED, client, account.id)
        raise SigninLinkInvalid()
    async with in_transaction() as conn:
        # The conditional UPDATE is the single use: of two requests with one link, one changes the row.
        spent = await SigninLink.filter(id=link.id, used_at=None).using_db(conn).update(used_at=clock.now())
        if not spent:
            raise SigninLinkUsed()
        signed_in = await _new_session(account, client, "link", conn)
        await _audit(SigninOutcome.LINK, client, account.id, conn)
    return signed_in


# --- sessions ------------------------------------------------------------------------------------------------


async def console_of(key: str | None) -> Console:
    """Who the session key (the cookie) belongs to; marks it seen. Raises ``session_ended`` (unknown,
    revoked, idle longer than the setting, older than its maximum, or the account lost its roles)."""
    if not key or len(key) > 100:
        raise SessionEnded()
    session = await AccountSession.get_or_none(key_hash=_sha256(key), revoked_at=None)
    if session is None:
        raise SessionEnded()
    settings = get_settings()
    now = clock.now()
    if now - session.last_seen_at > timedelta(
        hours=settings.session_idle_hours
    ) or now - session.created_at > timedelta(days=settings.session_max_days):
        raise SessionEnded()
    account = await Account.get(id=session.account_id).select_related("person", "organization")
    roles = await console_roles(account.person_id, account.organization_id)
    if account.disabled_at is not None or not roles:
        raise SessionEnded()
    if now - session.last_seen_at > _TOUCH_EVERY:
        await AccountSession.filter(id=session.id).update(last_seen_at=now)
        session.last_seen_at = now
    return Console(account, session, account.person, account.organization, roles)


async def list_sessions(account: Account) -> list[AccountSession]:
    """The account's live sessions, last seen first."""
    return await AccountSession.filter(account_id=account.id, revoked_at=None).order_by("-last_seen_at", "-id")


async def revoke_session(account: Account, session_id: int) -> None:
    """End one of the account's sessions. Raises ``not_found`` (another account's, or ended)."""
    if not await AccountSession.filter(id=session_id, account_id=account.id, revoked_at=None).update(
        revoked_at=clock.now()
    ):
        raise NotFound()


async def sign_out(key: str | None) -> None:
    """End the session of this key (nothing when there is none)."""
    if key and len(key) <= 100:
        await AccountSession.filter(key_hash=_sha256(key), revoked_at=None).update(revoked_at=clock.now())


async def sign_out_everywhere(account: Account, *, actor: str) -> int:
    """End every session of the account, this one too; returns how many ended."""
    async with in_transaction() as conn:
        ended = (
            await AccountSession.filter(account_id=account.id, revoked_at=None)
            .using_db(conn)
            .update(revoked_at=clock.now())
        )
        await activity.record(
            "account.signed_out_everywhere",
            actor=actor,
            person_id=account.person_id,
            using_db=conn,
            account_id=account.id,
            sessions=ended,
        )
    return int(ended)


async def signin_history(account: Account, *, limit: int = 20) -> list[SigninAttempt]:
    """The account's latest sign-in attempts, newest first."""
    return await SigninAttempt.filter(account_id=account.id).order_by("-created_at", "-id").limit(limit)


# --- API tokens made in the console -----------------------------------------------------------------------------


async def create_own_token(console: Console, *, name: str) -> tokens.IssuedToken:
    """An API token acting for the console's organization with the holder's role (admin or organizer),
    listed as theirs. Raises ``forbidden`` (judges), ``invalid_input``."""
    if not console.may_manage_tokens:
        raise Forbidden()
    role = Role.ADMIN if Role.ADMIN in console.roles else Role.ORGANIZER
    return await tokens.create_token(
        role=role,
        name=name,
        organization_id=console.organization.id,
        account_id=console.account.id,
    )


async def list_own_tokens(account: Account) -> list[ApiToken]:
    """The tokens the account made, live ones first, newest first."""
    return await ApiToken.filter(account_id=account.id).order_by("-id")


async def revoke_own_token(account: Account, token_id: int) -> None:
    """Revoke one of the account's tokens. Raises ``not_found`` (another's, or revoked)."""
    if not await ApiToken.filter(id=token_id, account_id=account.id, revoked_at=None).exists():
        raise NotFound()
    await tokens.revoke_token(token_id)
