"""A child process that runs jobs for the server, so the server never loads what they need.

Drawing a brief needs matplotlib, numpy, scipy and python-docx (``reports.render``); matching needs
numpy, scipy and its index (``events.services.matching``): tens of MB that would stay in the server's
memory for the rest of its life after one use. Each ``Worker`` is one child, a fresh interpreter
(``python -m events.child``: nothing inherited from the server's heap, its connections or its
``__main__``) started on the first job; it takes jobs one at a time and is ended after ``idle_seconds``
without one, so its memory is held only while it is in use.

A job that fails in the child raises ``JobFailed`` here with the child's traceback, except a domain
error (``events.errors.DomainError``), which is raised here as it was there (a matching query's
``demand_not_found``); a child that dies (killed, out of memory) or does not answer within
``timeout_seconds`` is ended and reported as ``JobFailed``, and the next job starts a new one. A
request never waits on a lost child.

The pipe carries pickles (a module-level function and plain data one way, the result back), each
after its length; both ends are this code, started by this process.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from events.errors import DomainError

log = logging.getLogger(__name__)
T = TypeVar("T")

# The tree holding ``events``: the child runs from it, so it imports the same code as its parent.
ROOT = Path(__file__).resolve().parent.parent
HEADER = struct.Struct("!Q")


class JobFailed(RuntimeError):
    """A job failed in the child, or the child died or hung; the message says which (with its traceback)."""


def _write(stream: IO[bytes], payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    """``size`` bytes from ``fd``; EOFError when the other end closes, TimeoutError past ``deadline``."""
    chunks: list[bytes] = []
    while size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read(fd: int, deadline: float | None = None) -> bytes:
    (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size, deadline))
    return _read_exactly(fd, size, deadline)


def main() -> None:
    """The child's loop: run each job and answer ``("ok", result)`` or ``("error", traceback)``; ends
    when its input closes (the parent ended it or is gone)."""
    # Ctrl-C in a terminal reaches the whole process group: the parent decides when this one ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The answers get the real stdout to themselves; whatever a library prints goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    jobs = sys.stdin.fileno()
    while True:
        try:
            message = _read(jobs)
        except EOFError:
            return
        try:
            function, args = pickle.loads(message)
            payload = pickle.dumps(("ok", function(*args)))
        except DomainError as exc:
            payload = pickle.dumps(("raise", exc))
        except Exception:  # an unpicklable result fails here too: reported, not a silent hang
            payload = pickle.dumps(("error", traceback.format_exc()))
        _write(answers, payload)


def _relay(stream: IO[bytes], name: str, pid: int) -> None:
    """What the child writes to stderr (a library's warning, a crash's last words) goes through this
    process's logging, so it comes out in the server's log format (JSON lines when configured)."""
    with stream:
        for raw in stream:
            if line := raw.decode(errors="replace").rstrip():
                log.warning("%s process %s: %s", name, pid, line)


class Worker:
    """The child and the pipes to it. ``call`` blocks (run it off the event loop); jobs are serialised
    by a lock, so one child is ever running and its memory is bounded to one job's. ``name`` says
    whose child it is in messages and logs ("rendering", "matching")."""

    def __init__(self, name: str, *, idle_seconds: float, timeout_seconds: float) -> None:
        self.name = name
        self.idle_seconds = idle_seconds
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._jobs = 0  # counts calls, so an idle timer knows whether one came after it was armed
        self._timer: threading.Timer | None = None

    @property
    def pid(self) -> int | None:
        """The running child's pid (None when there is none): for tests and the logs."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in the child (both picklable: a module-level function and plain data)."""
        job = pickle.dumps((function, args))
        with self._lock:
            process = self._running()
            assert process.stdin is not None  # both are pipes: Popen(stdin=PIPE, stdout=PIPE)
            assert process.stdout is not None
            try:
                _write(process.stdin, job)
                kind, value = pickle.loads(_read(process.stdout.fileno(), time.monotonic() + self.timeout_seconds))
            except TimeoutError:
                self._end(kill=True)
                raise JobFailed(
                    f"the {self.name} process did not answer within {self.timeout_seconds:.0f} s (ended)"
                ) from None
            except (EOFError, OSError) as exc:  # it died before or during the job: say how
                code = self._end()
                raise JobFailed(f"the {self.name} process ended unexpectedly (exit code {code})") from exc
            finally:
                self._jobs += 1
                if self._process is not None:
                    self._arm_idle_timer()
        if kind == "raise":
            raise value
        if kind == "error":
            raise JobFailed(f"{self.name} failed in its process:\n{value}")
        result: T = value
        return result

    def call_if_running(self, function: Callable[..., Any], *args: Any) -> bool:
        """``function(*args)`` in the child if one is running (a note it should have); False if none is
        (a new one starts from nothing: there is nothing to tell it)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                return False
        self.call(function, *args)
        return True

    def close(self) -> None:
        """End the child now (tests, shutdown). Without it the child still ends with the server: its
        input closes when the server exits."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._end()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is not None:
            self._end()
        if self._process is None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "events.child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=ROOT,
            )
            log.debug("%s process %s started", self.name, self._process.pid)
            assert self._process.stderr is not None
            relay = (self._process.stderr, self.name, self._process.pid)
            threading.Thread(target=_relay, args=relay, daemon=True).start()
        return self._process

    def _end(self, *, kill: bool = False) -> int | None:
        """Close the child's input (it leaves), kill it if it does not (or at once: ``kill``, a stuck one);
        forget it; its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:  # a broken pipe to a dead child
                    pass
        if kill:
            process.kill()
        try:
            return process.wait(2)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def _arm_idle_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(self.idle_seconds, self._end_if_idle, args=(self._jobs,))
        self._timer.daemon = True
        self._timer.start()

    def _end_if_idle(self, jobs: int) -> None:
        # A timer that fired while a job ran (or just before one) finds the count moved on: that job's
        # own timer ends the child later.
        with self._lock:
            if self._jobs == jobs:
                self._end()


if __name__ == "__main__":
    main()
