"""Finding a font that draws Chinese, for images the platform makes (ticket cards, posters, the brief's charts).

Debian's fonts-noto-cjk (installed by .ci/run) puts every CJK language in one collection file; its first
face is the Japanese one, whose forms of some hanzi differ from the mainland's, so the Simplified Chinese
face is picked by name. Without any CJK font the images are still made, with Latin text only
(``drawable``): a ticket whose QR scans matters more than its caption.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from PIL import ImageFont

log = logging.getLogger(__name__)

CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
MAX_FACES = 16

# Pillow's built-in font has no typographic marks: their ASCII forms.
ASCII_MARKS = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."})

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True, slots=True)
class FontFile:
    path: str
    index: int


def _sc_face(path: str) -> FontFile | None:
    """The Simplified Chinese face of a font file (or its first face), None when it cannot be read."""
    first: FontFile | None = None
    for index in range(MAX_FACES):
        try:
            family = ImageFont.truetype(path, 20, index=index).getname()[0] or ""
        except OSError:
            break
        first = first or FontFile(path, index)
        if family.endswith(" SC") or "SC " in family or "Micro Hei" in family or "Zen Hei" in family:
            return FontFile(path, index)
    return first


def _fc_match() -> str | None:
    if not shutil.which("fc-match"):
        return None
    found = subprocess.run(
        ["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, timeout=5, check=False
    ).stdout.strip()
    return found or None


@lru_cache(maxsize=1)
def cjk_font() -> FontFile | None:
    """The font file (and face) to draw Chinese with; None when the machine has none."""
    for path in (*CANDIDATES, _fc_match()):
        if path and (face := _sc_face(path)) is not None:
            family = ImageFont.truetype(face.path, 20, index=face.index).getname()[0] or ""
            if path != CANDIDATES[0] and not any(mark in family for mark in ("CJK", "Hei", "Song", "Kai", "Ming")):
                continue  # fc-match falls back to any font at all when nothing covers Chinese
            return face
    log.warning("no font with Chinese glyphs found (install fonts-noto-cjk): images carry Latin text only")
    return None


def cjk_font_path() -> str | None:
    """The file of that font (for a caller that loads it itself, e.g. matplotlib); None without one."""
    face = cjk_font()
    return face.path if face else None


def font(size: int) -> Font:
    face = cjk_font()
    return ImageFont.truetype(face.path, size, index=face.index) if face else ImageFont.load_default(size)


def drawable(text: str) -> str:
    """``text`` as the available font can draw it: whole with a CJK font, else its Latin characters (an
    empty string when nothing readable is left)."""
    if cjk_font() is not None:
        return text
    kept = " ".join("".join(c if ord(c) < 0x250 else " " for c in text.translate(ASCII_MARKS)).split())
    kept = kept.strip(" ·-–—:,;")
    return kept if any(c.isalnum() for c in kept) else ""
