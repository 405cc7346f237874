"""The deployment's at-rest key: what keeps secrets out of the database.

One random 32-byte key, made on first use in ``DATA_DIR`` (mode 0600, like the ticket signing key),
serves two purposes, each with its own subkey:

- ``seal``/``unseal``: AES-GCM for stored replies (idempotency records), bound to the row they belong
  to, so a database dump or backup without the data dir reveals no token.
- ``capability``: the URL tokens of calendar feeds and transcripts. The database keeps only a random
  *seed*; the token is ``seed ‖ HMAC(key, purpose, seed)``. It can be shown again at any time (the bot
  and the API re-display links), a dump does not contain it, and a presented token is checked with
  ``hmac.compare_digest``. Rotating is replacing the seed.

``init_db`` loads the key of the data dir it connects, so every process that reaches the database
holds the matching key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_FILE = "at-rest.key"
SEED_LENGTH = 16  # characters of token_urlsafe(12)
_MAC_BYTES = 24  # → 32 characters; token = 16 + 32 = 48 characters
_NONCE_BYTES = 12
_FORMAT = b"\x01"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self._aead = AESGCM(_subkey(key, b"seal"))
        self._mac_key = _subkey(key, b"capability")

    def subkey(self, label: bytes) -> bytes:
        """A key of its own for one use (e.g. signing list cursors), derived from the at-rest key."""
        return _subkey(self._key, label)

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        """Encrypt ``plaintext``; ``context`` (e.g. the row's identity) must be given again to open it."""
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def unseal(self, sealed: bytes, *, context: str) -> bytes | None:
        """The plaintext, or None when it was sealed with another key or for another context."""
        if len(sealed) < 1 + _NONCE_BYTES or sealed[:1] != _FORMAT:
            return None
        nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ciphertext, context.encode())
        except InvalidTag:
            return None

    def capability(self, purpose: str, seed: str) -> str:
        """The URL token for a stored ``seed``."""
        return seed + self._mac(purpose, seed)

    def seed_of(self, purpose: str, token: str) -> str | None:
        """The seed to look up when ``token`` is genuine (compared in constant time), else None."""
        if not isinstance(token, str) or len(token) != SEED_LENGTH + 32 or not token.isascii():
            return None
        seed, mac = token[:SEED_LENGTH], token[SEED_LENGTH:]
        return seed if hmac.compare_digest(mac, self._mac(purpose, seed)) else None

    def _mac(self, purpose: str, seed: str) -> str:
        digest = hmac.new(self._mac_key, f"{purpose}:{seed}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).decode()


def new_seed() -> str:
    return secrets.token_urlsafe(12)


def _subkey(key: bytes, label: bytes) -> bytes:
    return hmac.new(key, b"wuchuang-at-rest:" + label, hashlib.sha256).digest()


def _load_or_create_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            # O_EXCL: when several processes start at once, the first key written wins and all read it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(base64.b64encode(os.urandom(32)) + b"\n")
                out.flush()
                os.fsync(out.fileno())
    raw = b""
    for _ in range(50):
        raw = path.read_bytes().strip()
        if raw:
            break
        time.sleep(0.01)  # another process is still writing it
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise RuntimeError(f"{path} is not a wuchuang at-rest key (32 random bytes in base64)")
    return key


@lru_cache(maxsize=8)
def box_for(data_dir: Path) -> SecretBox:
    return SecretBox(_load_or_create_key(Path(data_dir).resolve() / KEY_FILE))


_current: SecretBox | None = None


def use(data_dir: Path) -> SecretBox:
    """Make the key of ``data_dir`` the process's key (called when the database is connected)."""
    global _current
    _current = box_for(data_dir)
    return _current


def current() -> SecretBox:
    if _current is None:
        raise RuntimeError("no at-rest key loaded: connect the database with events.db.init_db first")
    return _current
