"""One of several processes runs the scheduler: the lock that elects it (notifications/leader.py), on
both databases — an advisory lock on PostgreSQL, a file lock on SQLite — with a standby taking over
when the leader stops, and a leader whose lock connection broke stepping down."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from events.settings import Settings
from notifications.leader import AdvisoryLock, FileLock, Lock, lock_for, run_as_leader
from notifications.worker import SCHEDULER_LOCK_KEY


async def eventually(check) -> None:  # noqa: ANN001
    """Poll the candidates' state (plain attributes, nothing to await) until ``check`` holds."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        if check():
            return
        assert asyncio.get_running_loop().time() < deadline, "still false after 10 s"
        await asyncio.sleep(0.02)


class Candidate:
    """A process's part: counts the passes its job makes while it leads."""

    def __init__(self, lock: Lock) -> None:
        self.lock = lock
        self.passes = 0
        self.leads = False
        self.stop = asyncio.Event()

    async def job(self, job_stop: asyncio.Event) -> None:
        while not job_stop.is_set():
            self.passes += 1
            await asyncio.sleep(0.01)

    def run(self) -> asyncio.Task[None]:
        def changed(leads: bool) -> None:
            self.leads = leads

        return asyncio.create_task(
            run_as_leader(
                "test", self.lock, self.job, self.stop, poll_interval=0.05, check_interval=0.05, on_change=changed
            )
        )


async def test_one_of_two_leads_and_the_other_takes_over(db: Settings, tmp_path: Path):
    first = Candidate(lock_for("scheduler", SCHEDULER_LOCK_KEY, tmp_path))
    second = Candidate(lock_for("scheduler", SCHEDULER_LOCK_KEY, tmp_path))
    assert isinstance(first.lock, AdvisoryLock if db.dialect == "postgres" else FileLock)
    running_first = first.run()
    await eventually(lambda: first.leads)
    running_second = second.run()
    try:
        await asyncio.sleep(0.4)  # several of the standby's polls
        assert (first.leads, second.leads, second.passes) == (True, False, 0)
        first.stop.set()
        await asyncio.wait_for(running_first, 10)
        assert not first.leads
        await eventually(lambda: second.leads and second.passes > 0)
    finally:
        first.stop.set()
        second.stop.set()
        await asyncio.gather(running_first, running_second)
    assert not second.leads


async def test_a_leader_whose_lock_connection_broke_steps_down(db: Settings, tmp_path: Path):
    if db.dialect != "postgres":
        pytest.skip("a file lock has no connection to lose")
    candidate = Candidate(lock_for("scheduler", SCHEDULER_LOCK_KEY, tmp_path))
    running = candidate.run()
    try:
        await eventually(lambda: candidate.leads)
        assert isinstance(candidate.lock, AdvisoryLock)
        # Another session ends this one (as a network cut or a restarted PostgreSQL would).
        connection = candidate.lock._conn  # the session the test kills
        pid = await connection.fetchval("SELECT pg_backend_pid()")
        from events.db import conn

        await conn().execute_query("SELECT pg_terminate_backend($1)", [pid])
        await eventually(lambda: not candidate.leads)
        passes = candidate.passes
        await eventually(lambda: candidate.leads)  # a new session takes the free lock again
        await eventually(lambda: candidate.passes > passes)
    finally:
        candidate.stop.set()
        await running
