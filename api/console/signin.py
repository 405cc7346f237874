"""The organizer console's sign-in: ``/console/signin`` (a password, or a one-time link sent through
the bot or by e-mail), ``/console/signin/{token}`` (a link: a GET asks to confirm, only the POST signs
in, so a mail client's link scanner cannot spend it), ``/console/signout`` and ``/console``, the
signed-in landing page (who you are, your sessions and sign-ins, your API tokens, sign out everywhere).

Every rule is ``events.services.accounts``'s; this module reads forms, sets the cookie and renders.

The session cookie holds a random key (its SHA-256 is the session row): HttpOnly, SameSite=Lax,
Secure when PUBLIC_URL is https, path ``/console``. Forms are protected twice: the browser's Fetch
Metadata (a cross-site post is refused) and a synchronizer token: the session's forms carry
``form_guard.session_token`` of the session, the sign-in forms (no session yet: login CSRF) a signed
single-use ``form_guard`` token. A POST without its token is 403 before anything else is read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from api.console.common import (
    COOKIE,
    COOKIE_PATH,
    HEADERS,
    Page,
    field_text,
    forbidden,
    forget_cookie,
    frame_context,
    menu,
    message_of,
    parse_id,
    posted,
    redirect,
    secure,
    signed_in,
    stamp,
    status_of,
    texts,
)
from api.site import page_locale
from events.errors import N_, DomainError, FormExpired, RateLimited
from events.i18n import Locale, gettext
from events.models import Role, SigninOutcome
from events.services import accounts, form_guard
from notifications.signin import queue_signin_link

router = APIRouter(include_in_schema=False)

SIGNIN_SCOPE = "console-signin"
LINK_SCOPE = "console-link"
LABELS: dict[str, str] = {
    "console": N_("Organizer console"),
    "signin": N_("Sign in"),
    "signin_title": N_("Sign in to the console"),
    "login": N_("E-mail or mobile phone"),
    "password": N_("Password"),
    "or_link": N_("No password? Get a sign-in link"),
    "link_text": N_(
        "We send a link to your Telegram chat with the bot, or to your e-mail address. It works once, within 15 "
        "minutes."
    ),
    "send_link": N_("Send me a link"),
    "link_sent": N_(
        "If an account has that name, a sign-in link is on its way to its Telegram chat or mailbox. It works "
        "once, within 15 minutes."
    ),
    "confirm_title": N_("Sign in with this link?"),
    "confirm_text": N_("The link signs you in once. Press the button to continue."),
    "confirm": N_("Sign in"),
    "bad_link": N_("This link does not work"),
    "new_link": N_("Ask for a new link"),
    "signout": N_("Sign out"),
    "signout_everywhere": N_("Sign out everywhere"),
    "signout_everywhere_text": N_("Ends every session of your account, on every device, this one too."),
    "signed_out": N_("You are signed out."),
    "session_ended": N_("Your session has ended. Sign in again."),
    "cross_site": N_("This form can only be sent from this site."),
    "you": N_("You"),
    "name": N_("Name"),
    "organization": N_("Organization"),
    "role": N_("Role"),
    "account_login": N_("Sign-in name"),
    "sessions": N_("Your sessions"),
    "this_session": N_("this device"),
    "started": N_("Started"),
    "last_seen": N_("Last seen"),
    "address": N_("Address"),
    "device": N_("Device"),
    "method": N_("How"),
    "end": N_("End"),
    "history": N_("Sign-in history"),
    "when": N_("When"),
    "outcome": N_("Outcome"),
    "none": N_("None yet."),
    "tokens": N_("API tokens"),
    "password_title": N_("Password"),
    "password_text": N_("At least 10 characters, not your name, phone or e-mail address."),
    "current_password": N_("Current password"),
    "new_password": N_("New password"),
    "change_password": N_("Change password"),
    "set_password": N_("Set a password"),
    "password_changed": N_("Your password is changed."),
    "tokens_text": N_(
        "For integrations and scripts (Authorization: Bearer …). A token acts with your role for your organization."
    ),
    "token_name": N_("Token name"),
    "create_token": N_("Create a token"),
    "new_token": N_("Your new token. Copy it now: it is shown only this once."),
    "created": N_("Created"),
    "last_used": N_("Last used"),
    "status": N_("Status"),
    "revoke": N_("Revoke"),
    "revoked": N_("Revoked"),
    "active": N_("Active"),
    "never": N_("never"),
    "judge_tokens": N_("Judges score with their own link; they do not make API tokens."),
    "password_method": N_("password"),
    "link_method": N_("link"),
}
ROLE_LABELS = {"admin": N_("Administrator"), "organizer": N_("Organizer"), "judge": N_("Judge")}
OUTCOME_LABELS = {
    SigninOutcome.SUCCESS: N_("Signed in with the password"),
    SigninOutcome.FAILURE: N_("Wrong password"),
    SigninOutcome.LOCKED: N_("Refused: account locked"),
    SigninOutcome.RATE_LIMITED: N_("Refused: too many attempts"),
    SigninOutcome.LINK_SENT: N_("Sign-in link sent"),
    SigninOutcome.LINK: N_("Signed in with a link"),
    SigninOutcome.LINK_REFUSED: N_("Link refused"),
}


ALL_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.JUDGE)


def _texts(locale: Locale) -> dict[str, str]:
    return texts(locale, LABELS)


def _context(request: Request, locale: Locale, **extra: Any) -> dict[str, Any]:
    return frame_context(request, locale, LABELS, **extra)


def _render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    from api.pages import templates

    headers = dict(HEADERS)
    if status_code == 429 and (retry := context.get("retry_after")):
        headers["Retry-After"] = str(retry)
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)


def _message(locale: Locale, error: DomainError) -> str:
    return message_of(locale, error)


def _status_of(error: DomainError) -> int:
    return status_of(error)


def _client(request: Request) -> accounts.Client:
    return accounts.Client.of(request.client.host if request.client else None, request.headers.get("user-agent"))


def _text(form: FormData, name: str) -> str:
    return field_text(form, name)


def _password(form: FormData, name: str) -> str:
    """A password as typed (spaces are part of it, as at sign-in)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _cross_site(request: Request) -> bool:
    """A browser's own word that the form was posted from another site (Fetch Metadata)."""
    return request.headers.get("sec-fetch-site", "same-origin") == "cross-site"


def _redirect(path: str, locale: Locale) -> RedirectResponse:
    return redirect(path, locale)


def _signed_in(request: Request, locale: Locale, signed_in: accounts.SignedIn) -> RedirectResponse:
    response = _redirect("/console", locale)
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        signed_in.key,
        max_age=settings.session_max_days * 86400,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    return response


# --- signing in ---------------------------------------------------------------------------------------------


def _signin_page(
    request: Request,
    locale: Locale,
    *,
    status_code: int = 200,
    general: str | None = None,
    link_general: str | None = None,
    login: str = "",
    link_sent: bool = False,
    notice: str | None = None,
    retry_after: int | None = None,
) -> HTMLResponse:
    context = _context(
        request,
        locale,
        token=form_guard.issue(SIGNIN_SCOPE).token,
        link_token=form_guard.issue(SIGNIN_SCOPE).token,
        general=general,
        link_general=link_general,
        login=login,
        link_sent=link_sent,
        notice=notice,
        retry_after=retry_after,
    )
    return _render(request, "console_signin.html", context, status_code=status_code)


@router.get("/console/signin", response_class=HTMLResponse)
async def signin_page(request: Request) -> Response:
    locale = page_locale(request)
    try:
        await accounts.console_of(request.cookies.get(COOKIE))
    except DomainError:
        notice = None
        if request.query_params.get("ended"):
            notice = _texts(locale)["session_ended"]
        elif request.query_params.get("out"):
            notice = _texts(locale)["signed_out"]
        return _signin_page(request, locale, notice=notice)
    return _redirect("/console", locale)


async def _guard_signin_form(request: Request, form: FormData) -> None:
    """Raises ``form_expired`` (403): a cross-site post, no token, a forged or replayed one."""
    if _cross_site(request):
        raise FormExpired(N_("This form can only be sent from this site."))
    try:
        await form_guard.verify(SIGNIN_SCOPE, _text(form, "form_token"), challenge=False)
    except DomainError:
        raise FormExpired() from None


@router.post("/console/signin", response_class=HTMLResponse)
async def signin(request: Request) -> Response:
    """The password form."""
    locale = page_locale(request)
    form = await request.form()
    login = _text(form, "login")[:254]
    try:
        await _guard_signin_form(request, form)
        signed_in = await accounts.sign_in_password(
            login=login, password=str(form.get("password") or ""), client=_client(request)
        )
    except DomainError as error:
        retry = int(error.params.get("retry_after", 0)) if isinstance(error, RateLimited) else None
        return _signin_page(
            request,
            locale,
            status_code=_status_of(error),
            general=_message(locale, error),
            login=login,
            retry_after=retry,
        )
    return _signed_in(request, locale, signed_in)


@router.post("/console/signin/link", response_class=HTMLResponse)
async def send_link(request: Request) -> Response:
    """The "send me a link" form: the same answer whether or not the name has an account."""
    locale = page_locale(request)
    form = await request.form()
    login = _text(form, "login")[:254]
    try:
        await _guard_signin_form(request, form)
        await accounts.request_signin_link(login=login, client=_client(request), deliver=queue_signin_link)
    except DomainError as error:
        retry = int(error.params.get("retry_after", 0)) if isinstance(error, RateLimited) else None
        return _signin_page(
            request,
            locale,
            status_code=_status_of(error),
            link_general=_message(locale, error),
            login=login,
            retry_after=retry,
        )
    return _signin_page(request, locale, link_sent=True, login=login)


def _link_refused(request: Request, locale: Locale, error: DomainError) -> HTMLResponse:
    status_code = 410 if error.code == "signin_link_expired" else _status_of(error)
    context = _context(request, locale, refusal=_message(locale, error))
    return _render(request, "console_link.html", context, status_code=status_code)


@router.get("/console/signin/{token}", response_class=HTMLResponse)
async def link_page(request: Request, token: str) -> Response:
    """A one-time link: shows a button; nothing is spent by reading the page."""
    locale = page_locale(request)
    try:
        await accounts.check_signin_link(token)
    except DomainError as error:
        return _link_refused(request, locale, error)
    context = _context(request, locale, form_token=form_guard.issue(LINK_SCOPE).token)
    return _render(request, "console_link.html", context)


@router.post("/console/signin/{token}", response_class=HTMLResponse)
async def use_link(request: Request, token: str) -> Response:
    locale = page_locale(request)
    form = await request.form()
    if _cross_site(request):
        return _link_refused(request, locale, FormExpired(N_("This form can only be sent from this site.")))
    try:
        await form_guard.verify(LINK_SCOPE, _text(form, "form_token"), challenge=False)
    except DomainError:
        return _link_refused(request, locale, FormExpired())
    try:
        signed_in = await accounts.sign_in_link(token=token, client=_client(request))
    except DomainError as error:
        return _link_refused(request, locale, error)
    return _signed_in(request, locale, signed_in)


# --- signed in ------------------------------------------------------------------------------------------------


async def _console_form(request: Request) -> tuple[accounts.Console | None, FormData, Response | None]:
    """The session and the form of a console POST, or the response that refuses it (see ``posted``)."""
    answer = await posted(request, ALL_ROLES)
    if isinstance(answer, Response):
        return None, FormData(), answer
    page, form = answer
    return page.console, form, None


def _forbidden(request: Request, locale: Locale) -> HTMLResponse:
    return forbidden(request, locale)


def _stamp(moment: Any) -> str:
    return stamp(moment)


def _device(user_agent: str) -> str:
    return user_agent if len(user_agent) <= 80 else user_agent[:77] + "…"


async def _home(
    request: Request,
    console: accounts.Console,
    *,
    new_token: str | None = None,
    token_error: str | None = None,
    password_changed: bool = False,
    password_error: str | None = None,
) -> HTMLResponse:
    locale = page_locale(request)
    t = _texts(locale)
    sessions = await accounts.list_sessions(console.account)
    history = await accounts.signin_history(console.account)
    own_tokens = await accounts.list_own_tokens(console.account) if console.may_manage_tokens else []
    method = {"password": t["password_method"], "link": t["link_method"]}
    context = _context(
        request,
        locale,
        csrf=form_guard.session_token(console.csrf_binding),
        menu=menu(Page(console, locale, form_guard.session_token(console.csrf_binding))),
        me=console,
        person=console.person,
        account=console.account,
        organization=console.organization,
        roles=[gettext(locale, ROLE_LABELS[str(r)]) for r in console.roles],
        may_manage_tokens=console.may_manage_tokens,
        sessions=[
            {
                "id": s.id,
                "current": s.id == console.session.id,
                "started": _stamp(s.created_at),
                "seen": _stamp(s.last_seen_at),
                "ip": s.ip,
                "device": _device(s.user_agent),
                "method": method.get(s.method, s.method),
            }
            for s in sessions
        ],
        history=[
            {
                "when": _stamp(a.created_at),
                "outcome": gettext(locale, OUTCOME_LABELS[SigninOutcome(a.outcome)]),
                "ok": a.outcome in (SigninOutcome.SUCCESS, SigninOutcome.LINK, SigninOutcome.LINK_SENT),
                "ip": a.ip,
                "device": _device(a.user_agent),
            }
            for a in history
        ],
        tokens=[
            {
                "id": tk.id,
                "name": tk.name,
                "role": gettext(locale, ROLE_LABELS.get(str(tk.role), str(tk.role))),
                "created": _stamp(tk.created_at),
                "used": _stamp(tk.last_used_at) or t["never"],
                "live": tk.revoked_at is None,
            }
            for tk in own_tokens
        ],
        new_token=new_token,
        token_error=token_error,
        has_password=console.account.password_hash is not None,
        password_changed=password_changed,
        password_error=password_error,
    )
    return _render(request, "console_home.html", context, status_code=201 if new_token else 200)


@router.get("/console", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    """The signed-in landing page; without a live session, the sign-in page."""
    page = await signed_in(request, ALL_ROLES)
    if isinstance(page, Response):
        return page
    return await _home(request, page.console)


@router.post("/console/signout", response_class=HTMLResponse)
async def signout(request: Request) -> Response:
    console, _form, refusal = await _console_form(request)
    if refusal is not None:
        return refusal
    await accounts.sign_out(request.cookies.get(COOKIE))
    return forget_cookie(request, _redirect("/console/signin?out=1", page_locale(request)))


@router.post("/console/signout-everywhere", response_class=HTMLResponse)
async def signout_everywhere(request: Request) -> Response:
    console, _form, refusal = await _console_form(request)
    if refusal is not None or console is None:
        return refusal or _forbidden(request, page_locale(request))
    await accounts.sign_out_everywhere(console.account, actor=f"account:{console.account.id}")
    return forget_cookie(request, _redirect("/console/signin?out=1", page_locale(request)))


@router.post("/console/sessions/{session_id}/end", response_class=HTMLResponse)
async def end_session(request: Request, session_id: str) -> Response:
    console, _form, refusal = await _console_form(request)
    if refusal is not None or console is None:
        return refusal or _forbidden(request, page_locale(request))
    number = parse_id(session_id)
    if number is not None:
        try:
            await accounts.revoke_session(console.account, number)
        except DomainError:
            pass  # already ended, or not this account's: the page shows what is live
    return _redirect("/console", page_locale(request))


@router.post("/console/password", response_class=HTMLResponse)
async def change_password(request: Request) -> Response:
    """The holder changes their password (the current one first); an account that signs in by links
    only sets its first one, the session being the proof."""
    console, form, refusal = await _console_form(request)
    if refusal is not None or console is None:
        return refusal or _forbidden(request, page_locale(request))
    actor = f"account:{console.account.id}"
    try:
        if console.account.password_hash is None:
            await accounts.set_password(console.account, _password(form, "new"), actor=actor)
        else:
            await accounts.change_password(
                console.account, current=_password(form, "current"), new=_password(form, "new"), actor=actor
            )
    except DomainError as error:
        page = await _home(request, console, password_error=_message(page_locale(request), error))
        page.status_code = _status_of(error)
        return page
    return await _home(request, console, password_changed=True)


@router.post("/console/tokens", response_class=HTMLResponse)
async def create_token(request: Request) -> Response:
    """A new API token, shown on the page this once (never in a URL, never again)."""
    console, form, refusal = await _console_form(request)
    if refusal is not None or console is None:
        return refusal or _forbidden(request, page_locale(request))
    try:
        issued = await accounts.create_own_token(console, name=_text(form, "name"))
    except DomainError as error:
        page = await _home(request, console, token_error=_message(page_locale(request), error))
        page.status_code = _status_of(error)
        return page
    return await _home(request, console, new_token=issued.plaintext)


@router.post("/console/tokens/{token_id}/revoke", response_class=HTMLResponse)
async def revoke_token(request: Request, token_id: str) -> Response:
    console, _form, refusal = await _console_form(request)
    if refusal is not None or console is None:
        return refusal or _forbidden(request, page_locale(request))
    number = parse_id(token_id)
    if number is not None:
        try:
            await accounts.revoke_own_token(console.account, number)
        except DomainError:
            pass  # another's or revoked already: nothing to do, and nothing to tell
    return _redirect("/console", page_locale(request))
