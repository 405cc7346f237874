"""Where attachments' bytes live, and what an upload must be before it gets there.

``Storage`` is the interface (put, get, delete, url by key); ``FileStorage`` keeps the files under
``DATA_DIR/attachments/``. An S3-like store replaces it by implementing the same four methods (its
``url`` then gives a pre-signed address, so the bytes need not pass through the app).

``check_upload`` decides what a file *is* from its bytes, never from the name or the browser's
``Content-Type``: a business plan named ``.pdf`` that is a renamed executable is refused
(``attachment_type_mismatch``). Keys are made here from ids and a random part; a client's file name
is kept only as a display name, cleaned (``safe_filename``).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from events.errors import (
    N_,
    AttachmentNotFound,
    AttachmentTooLarge,
    AttachmentTypeMismatch,
    AttachmentTypeNotAllowed,
    InvalidInput,
)

# Keys are ours (see ``new_key``): lower-case ids, slashes and a random hex part with an extension.
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_.-]*)*$")


class Storage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes:
        """Raises ``attachment_not_found``."""
        ...

    async def delete(self, key: str) -> None: ...

    def url(self, key: str) -> str | None:
        """A direct address for the bytes (a pre-signed URL), or None: the app serves them itself."""
        ...


class FileStorage:
    """Files under one directory; writes go to a temporary file first, so a reader never sees half."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key) or ".." in key:
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / PurePosixPath(key)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError as exc:
            raise AttachmentNotFound() from exc

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    def url(self, key: str) -> str | None:
        return None


def storage_for(data_dir: Path) -> FileStorage:
    """The deployment's store: ``DATA_DIR/attachments``."""
    return FileStorage(data_dir.resolve() / "attachments")


def new_key(competition_id: int, entry_id: int, extension: str) -> str:
    return f"competitions/{competition_id}/entries/{entry_id}/{secrets.token_hex(16)}.{extension}"


@dataclass(frozen=True, slots=True)
class FileType:
    extension: str
    content_type: str
    label: str  # what a person calls it, in a refusal


PDF = FileType("pdf", "application/pdf", "PDF")
PPTX = FileType("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PPTX")
DOCX = FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX")
PPT = FileType("ppt", "application/vnd.ms-powerpoint", "PPT")
DOC = FileType("doc", "application/msword", "DOC")
ALLOWED = {t.extension: t for t in (PDF, PPTX, DOCX, PPT, DOC)}

_OLE = bytes.fromhex("d0cf11e0a1b11ae1")
# The main part's content type names what an Office Open XML package is (ECMA-376 part 2).
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
}
_CONTENT_TYPES_LIMIT = 1_048_576  # [Content_Types].xml is a few KB; more is a zip bomb's work
# Stream names in an OLE compound file's directory (UTF-16LE): which Office program wrote it.
_OLE_STREAMS = {"PowerPoint Document".encode("utf-16-le"): PPT, "WordDocument".encode("utf-16-le"): DOC}


def sniff(data: bytes) -> FileType | str:
    """What the bytes are: an allowed type, or a short description (a msgid) of what else they are."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if data.startswith(_OLE):
        for name, kind in _OLE_STREAMS.items():
            if name in data:
                return kind
        return N_("an OLE compound file (not PPT or DOC)")
    if data.startswith(b"MZ"):
        return N_("a Windows program")
    if data.startswith(b"\x7fELF"):
        return N_("a program")
    if data[:8].startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return N_("an image")
    return N_("not a document")


def _sniff_zip(data: bytes) -> FileType | str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_LIMIT:
                return N_("a ZIP archive")
            types = archive.read(info).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError):
        return N_("a ZIP archive")
    for main, kind in _OOXML_MAIN.items():
        if main in types:
            return kind
    return N_("an Office file of another kind")


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def safe_filename(name: str | None, extension: str) -> str:
    """A display name without paths, control or shell characters, at most 200 characters, ending in
    the extension the content was found to have."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip(" .")
    stem = text.rsplit(".", 1)[0] if "." in text else text
    stem = stem.strip(" .")[:190] or "file"
    return f"{stem}.{extension}"


def claimed_extension(name: str | None) -> str | None:
    """The extension a file name claims, lower-cased (None: no extension)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in base.strip("."):
        return None
    return base.rsplit(".", 1)[1].strip().lower() or None


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    kind: FileType
    filename: str
    sha256: str
    size: int


def check_upload(filename: str | None, data: bytes, *, max_bytes: int) -> CheckedUpload:
    """Size, type from the bytes, the name's extension against it. Raises ``invalid_input`` (empty),
    ``attachment_too_large``, ``attachment_type_not_allowed``, ``attachment_type_mismatch``."""
    if not data:
        raise InvalidInput(field="file")
    if len(data) > max_bytes:
        raise AttachmentTooLarge(limit=f"{max_bytes / 1_048_576:g}")
    found = sniff(data)
    claimed = claimed_extension(filename)
    if isinstance(found, str):
        if claimed in ALLOWED:
            raise AttachmentTypeMismatch(filename=safe_filename(filename, claimed), found=found)
        raise AttachmentTypeNotAllowed()
    if claimed is not None and claimed != found.extension:
        raise AttachmentTypeMismatch(filename=safe_filename(filename, claimed), found=found.label)
    return CheckedUpload(
        kind=found,
        filename=safe_filename(filename, found.extension),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
