"""Jobs for the rendering process in tests (``events.child``): importable there quickly, by reference."""

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


def shout(text: str) -> str:
    """A library's chatter: one line on stdout (the child sends it to stderr), one on stderr."""
    print(f"{text} on stdout", flush=True)
    print(f"{text} on stderr", file=sys.stderr, flush=True)
    return text
