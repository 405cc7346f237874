"""The rendering process: the child (``events.child``) that draws the briefs (``reports.draw``).

Charts and the Word document need matplotlib, numpy (and, through the view's labels, scipy) and
python-docx: ~60 MB that would stay in the server's memory for the rest of its life after one brief.
"""

from __future__ import annotations

from events import child
from events.child import JobFailed as RenderFailed

__all__ = ["RenderFailed", "Worker"]

# Long enough for a console user's next download (the Word file, then the page) to find it running.
IDLE_SECONDS = 60.0
# A brief takes well under a second of CPU and a fresh child ~2 s to import matplotlib; on a machine
# busy with other work that can grow tenfold, and past this the child is taken to be stuck.
TIMEOUT_SECONDS = 120.0


class Worker(child.Worker):
    def __init__(self, *, idle_seconds: float = IDLE_SECONDS, timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        super().__init__("rendering", idle_seconds=idle_seconds, timeout_seconds=timeout_seconds)
