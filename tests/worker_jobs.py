"""Jobs for the rendering process in tests (``reports.worker``): importable there quickly, by reference."""

from __future__ import annotations

import os
import sys
import time


def loaded(*names: str) -> list[str]:
    """Which of ``names`` the process has imported."""
    return [name for name in names if name in sys.modules]


def crash(*_: object) -> None:
    os._exit(3)


def stall(*_: object) -> None:
    time.sleep(60)
