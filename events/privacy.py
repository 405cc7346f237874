"""The privacy notice's version. A registration's consent is stored with the time and this version,
so a later change of the notice can tell who agreed to which text (PIPL art. 14, 17)."""

from __future__ import annotations

NOTICE_VERSION = "2026-12-01"
