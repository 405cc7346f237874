"""Ticket codes: compact tokens signed with Ed25519, so a scanner holding only the public key can
verify them offline. The QR carries the code and nothing else: no name, no phone.

Code layout: ``WC1.`` + base64url(payload ‖ signature), payload = version byte, registration id,
event id (uint32 each) and ticket version (uint16), big-endian; the signature covers a context
string and the payload. 75 bytes → a 104-character code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import os
import re
import struct
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import zxingcpp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from PIL import Image, ImageOps
from tortoise.transactions import in_transaction

from events.errors import InvalidTransition, RegistrationNotFound
from events.models import Registration, RegistrationStatus
from events.services import activity

PREFIX = "WC1."
_PAYLOAD = struct.Struct(">BIIH")
_FORMAT_VERSION = 1
_CONTEXT = b"wuchuang-ticket-v1:"
_SIGNATURE_BYTES = 64
MAX_CODE_LENGTH = 200
# The url-safe alphabet without padding, and nothing else: the standard alphabet's '+' '/', '=',
# and whitespace would all be skipped or accepted by a lenient decoder (so one ticket had many codes).
_BODY = re.compile(r"[A-Za-z0-9_-]+")
KEY_FILE = "ticket-signing-key.pem"


@dataclass(frozen=True, slots=True)
class TicketClaims:
    registration_id: int
    event_id: int
    version: int


class TicketSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        self.public_raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = hashlib.sha256(self.public_raw).hexdigest()[:16]

    def sign(self, claims: TicketClaims) -> str:
        payload = _PAYLOAD.pack(_FORMAT_VERSION, claims.registration_id, claims.event_id, claims.version)
        signature = self._private.sign(_CONTEXT + payload)
        return PREFIX + base64.urlsafe_b64encode(payload + signature).decode().rstrip("=")

    def verify(self, code: str) -> TicketClaims | None:
        """The claims of a genuine code; None for anything unreadable, truncated or forged.

        Strict: ``WC1.`` and the url-safe base64 alphabet without padding, as ``sign`` writes it; the
        one newline (or CR LF) a keyboard-wedge scanner ends a code with is trimmed, nothing else.
        """
        if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
            return None
        code = strip_scanner_newline(code)
        if not code.startswith(PREFIX):
            return None
        body = code[len(PREFIX) :]
        if not _BODY.fullmatch(body):
            return None
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            return None
        if base64.urlsafe_b64encode(raw).decode().rstrip("=") != body:  # unused low bits set: not canonical
            return None
        if len(raw) != _PAYLOAD.size + _SIGNATURE_BYTES:
            return None
        payload, signature = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
        # Ed25519 signs deterministically (RFC 8032): this key has one signature for a payload, the one
        # ``sign`` wrote. Making it again and comparing costs a third of checking it against the public
        # key (~50 against ~150 µs), on every scan at the door; a door app offline checks with the key.
        if not hmac.compare_digest(self._private.sign(_CONTEXT + payload), signature):
            return None
        fmt, registration_id, event_id, version = _PAYLOAD.unpack(payload)
        if fmt != _FORMAT_VERSION:
            return None
        return TicketClaims(registration_id, event_id, version)

    def public_key_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


def strip_scanner_newline(code: str) -> str:
    """The code without the one line ending (LF or CR LF) a keyboard-wedge scanner sends after it."""
    if code.endswith("\r\n"):
        return code[:-2]
    if code.endswith("\n"):
        return code[:-1]
    return code


def _load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            # O_EXCL: when several workers start at once, the first key written wins and all read it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
    for _ in range(50):
        data = path.read_bytes()
        if data:
            break
        time.sleep(0.01)  # another process is still writing it
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


@lru_cache(maxsize=4)
def signer_for(data_dir: Path) -> TicketSigner:
    """The deployment's signer; the key pair is made on first use and kept in the data dir."""
    return TicketSigner(_load_or_create_key(Path(data_dir) / KEY_FILE))


def ticket_code(registration: Registration, signer: TicketSigner) -> str | None:
    """The current code of a registration's ticket, if it holds one (confirmed)."""
    if registration.status != RegistrationStatus.CONFIRMED or registration.ticket_version < 1:
        return None
    return signer.sign(TicketClaims(registration.id, registration.event_id, registration.ticket_version))


QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks


def qr_modules(code: str) -> Image.Image:
    """The ticket's QR, one pixel per module ("L": 0 dark, 255 light) with its quiet zone; error
    correction M. Drawn by zxing-cpp (~0.5 ms) where qrcode's pure-Python mask search took ~16 ms, and
    every confirmation carries one."""
    symbol = zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    pixels = symbol.to_image(scale=1, add_quiet_zones=False)
    height, width = pixels.shape
    modules = Image.frombytes("L", (width, height), bytes(memoryview(cast(Any, pixels))))  # a buffer, untyped
    return ImageOps.expand(modules, border=QUIET_ZONE, fill=255)


def qr_png(code: str, *, box_size: int = 10) -> bytes:
    modules = qr_modules(code)
    image = modules.resize((modules.width * box_size, modules.height * box_size), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.convert("1").save(out, format="PNG")
    return out.getvalue()


def qr_svg(code: str) -> bytes:
    # Here, not at the top: qrcode's SVG images load lxml (~4 MB of the server's memory) for a format
    # asked for far less often than the PNG.
    import qrcode.image.svg

    image = qrcode.make(
        code, image_factory=qrcode.image.svg.SvgPathImage, error_correction=qrcode.constants.ERROR_CORRECT_M
    )
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


async def reissue_ticket(registration_id: int, *, actor: str) -> Registration:
    """A new code for a lost ticket; every older code then answers ``revoked`` at the door.
    Raises ``registration_not_found``, ``invalid_transition`` (no ticket to re-issue).
    """
    async with in_transaction() as conn:
        registration = await Registration.filter(id=registration_id).select_for_update().using_db(conn).first()
        if registration is None:
            raise RegistrationNotFound()
        if registration.status != RegistrationStatus.CONFIRMED:
            raise InvalidTransition(status=str(registration.status))
        registration.ticket_version += 1
        await registration.save(update_fields=["ticket_version", "updated_at"], using_db=conn)
        await activity.record(
            "ticket.reissued",
            actor=actor,
            event_id=registration.event_id,
            registration_id=registration.id,
            person_id=registration.person_id,
            using_db=conn,
            version=registration.ticket_version,
        )
    return registration
