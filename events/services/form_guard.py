"""Public forms without accounts: a signed single-use token per form, and a challenge a person passes
without noticing and a script pays for.

``issue`` signs ``(scope, nonce, expiry, answer MAC)`` with a subkey of the deployment's at-rest key;
the page puts the token and a small sum ("3 + 4") in the form. The page's script (``site.js``) finds
a ``pow`` such that SHA-256(token ":" pow) starts with ``POW_BITS`` zero bits (about 65,000 hashes:
a fraction of a second on a phone, a real cost for whoever sends thousands); without JavaScript the
person answers the sum. ``verify`` checks the signature, the scope, the expiry and one of the two,
then spends the nonce by inserting it (``FormNonce``'s primary key): a second insert of it fails in
every worker at once, so a replayed form is refused. Nothing here calls an outside service.

Why not a cookie bound to the form (double submit): these forms act for nobody signed in, so a
cross-site post could only do what its author could do from their own browser; the page checks
``Sec-Fetch-Site`` for that case anyway. A cached event page stays cacheable: only the token and the
question are filled in per request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from tortoise.exceptions import IntegrityError

from events import clock, secretbox
from events.errors import ChallengeFailed, FormExpired, FormReplayed
from events.models import FormNonce

TTL = timedelta(hours=2)
POW_BITS = 16
MAX_POW_LENGTH = 24
_SWEEP_EVERY = 64


@dataclass(frozen=True, slots=True)
class Challenge:
    token: str
    question: str  # "3 + 4", asked where the script cannot run
    bits: int


@lru_cache(maxsize=4)
def _key(box: secretbox.SecretBox) -> bytes:
    return box.subkey(b"site-forms")


def _mac(data: str) -> str:
    digest = hmac.new(_key(secretbox.current()), data.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def issue(scope: str) -> Challenge:
    """A new token for one form of ``scope`` (e.g. ``register:42``), valid for ``TTL``."""
    nonce = secrets.token_urlsafe(12)
    first, second = 1 + secrets.randbelow(9), 1 + secrets.randbelow(9)
    expires = int((clock.now() + TTL).timestamp())
    answer = _mac(f"answer|{nonce}|{first + second}")[:8]
    payload = f"{nonce}.{expires}.{answer}"
    return Challenge(token=f"{payload}.{_mac(f'{scope}|{payload}')}", question=f"{first} + {second}", bits=POW_BITS)


def _leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def solve(token: str, bits: int = POW_BITS) -> str:
    """What the page's script computes (benchmarks and tests use it): the first counter that works."""
    counter = 0
    while _leading_zero_bits(hashlib.sha256(f"{token}:{counter}".encode()).digest()) < bits:
        counter += 1
    return str(counter)


def check(scope: str, token: str) -> tuple[str, datetime, str]:
    """The token's nonce, expiry and answer MAC when it is this form's, signed here and not expired;
    nothing is spent (a form with errors is shown again). Raises ``form_expired``."""
    parts = token.split(".") if isinstance(token, str) and len(token) <= 120 else []
    if len(parts) != 4:
        raise FormExpired()
    nonce, expires_text, answer_mac, mac = parts
    payload = f"{nonce}.{expires_text}.{answer_mac}"
    if not hmac.compare_digest(mac, _mac(f"{scope}|{payload}")) or not expires_text.isdigit():
        raise FormExpired()
    expires_at = datetime.fromtimestamp(int(expires_text), tz=UTC)
    if expires_at <= clock.now():
        raise FormExpired()
    return nonce, expires_at, answer_mac


async def verify(scope: str, token: str, *, pow: str = "", answer: str = "", challenge: bool = True) -> None:
    """Accept a sent form once. Raises ``form_expired`` (forged, another form's, or older than ``TTL``),
    ``challenge_failed`` (neither the work nor the sum is right), ``form_replayed`` (sent before).
    ``challenge=False`` for forms behind a capability link (cancel, change answers): replay only.
    """
    nonce, expires_at, answer_mac = check(scope, token)
    if challenge:
        worked = (
            0 < len(pow) <= MAX_POW_LENGTH
            and _leading_zero_bits(hashlib.sha256(f"{token}:{pow}".encode()).digest()) >= POW_BITS
        )
        sum_text = answer.strip()
        answered = (
            sum_text.isdigit()
            and len(sum_text) <= 3
            and hmac.compare_digest(answer_mac, _mac(f"answer|{nonce}|{int(sum_text)}")[:8])
        )
        if not (worked or answered):
            raise ChallengeFailed(field="challenge")
    try:
        await FormNonce.create(nonce=nonce, expires_at=expires_at)
    except IntegrityError as exc:
        raise FormReplayed() from exc
    if secrets.randbelow(_SWEEP_EVERY) == 0:
        await FormNonce.filter(expires_at__lt=clock.now()).delete()


# --- forms of a signed-in session (the console) ----------------------------------------------------------
# A synchronizer token bound to the session: the MAC of the session's stored key hash under this module's
# key, with its own label. Every form of the session carries it; a page of another site can neither read
# it nor compute it, and it dies with the session (a new sign-in, a new token). Nothing is stored: the
# session row is what a token is checked against.


def session_token(binding: str) -> str:
    """The CSRF value of every form of the session ``binding`` (its stored key hash)."""
    return _mac(f"session|{binding}")


def verify_session_token(binding: str, token: str) -> None:
    """Raises ``form_expired`` unless ``token`` is the session's CSRF value."""
    if not isinstance(token, str) or not token or len(token) > 64:
        raise FormExpired()
    if not hmac.compare_digest(token.encode(), session_token(binding).encode()):
        raise FormExpired()
