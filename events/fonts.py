"""Where a font with Chinese glyphs lives on this machine: posters and the brief's charts need one.

fonts-noto-cjk (installed by .ci/run and the Debian image) is preferred; any font fontconfig knows
for ``:lang=zh`` is the fallback; None when the machine has none (callers say so and draw Latin).
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

CJK_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    for path in CJK_CANDIDATES:
        if Path(path).is_file():
            return path
    if shutil.which("fc-match"):
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", ":lang=zh"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
        # fc-match always answers something; only a font that claims Chinese is one.
        if (
            found
            and subprocess.run(
                ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5, check=False
            ).stdout.find(found)
            >= 0
        ):
            return found
    return None
