"""The process's C heap (glibc): keep large blocks out of it, and give back what a burst of work freed.

CPython takes memory for objects over 512 bytes, and for its own arenas' bookkeeping, from malloc; glibc
keeps freed pages in its arenas for reuse, so after a burst (a matching build, the demo's thousands of
confirmations sent with their ticket pictures) the process's RSS stays at its peak. ``trim`` hands the
free pages at the ends and in the middle of the arenas back to the system. Elsewhere than glibc both are
no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024
M_ARENA_MAX = -8
ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def keep_large_blocks_apart() -> None:
    """Blocks of 128 KiB and more straight from mmap, always. glibc otherwise raises the threshold after
    the first large block is freed (up to 32 MiB), so a build's big temporaries come from the heap, the
    index's long-lived arrays land between them, and the freed space cannot go back to the system
    (measured at 100,000 achievements: server RSS 418 MB without, 377 MB with)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def few_arenas() -> None:
    """At most two malloc arenas (``MALLOC_ARENA_MAX=2``, as is usual for Python servers). glibc gives each
    thread that allocates an arena of its own, up to eight per core, and an arena's freed pages serve only
    the threads using it: the server's helper threads (ticket cards, password hashing, the heap trim) each
    kept their arena's high-water mark in the process's RSS. The sending worker of ``benchmarks.rush
    --quick`` kept 146 MB (two runs) with them, 142 and 143 MB without. Arenas made before the call remain."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, ARENAS)


def trim() -> bool:
    """Give the free pages back to the system (``malloc_trim(0)``); whether any were."""
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    return bool(libc.malloc_trim(0))
