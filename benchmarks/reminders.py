"""Time to compute due reminders for 60 events × 300 confirmed registrants (18,000 rows).

Run: .venv/bin/python -m benchmarks.reminders [--postgres URL]. Prints the first pass (every
reminder queued) and a second pass (nothing new: the dedup keys hold), beside the issue's figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._common import render_table, throwaway_postgres_database
from benchmarks.registration import build_schema
from events import clock
from events.db import close_db, init_db
from events.models import Event, OutboxMessage, Person, Registration
from events.services import organizations
from events.settings import load_settings
from notifications.scheduler import produce_reminders

EVENTS, PER_EVENT = 60, 300


async def measure(database_url: str | None, data_dir: Path) -> list[list[object]]:
    settings = load_settings(database_url=database_url, data_dir=data_dir)
    build_schema(settings)
    await init_db(settings)
    try:
        now = datetime.now(UTC)
        start = now + timedelta(hours=20)  # every event's 24 h reminder is due
        events = [
            Event(
                public_id=f"bench{i:05d}",
                title=f"武创荟·专场（第{i}期）",
                kind="session",
                venue="光谷科技会展中心",
                starts_at=start + timedelta(minutes=i),
                ends_at=start + timedelta(hours=3),
                capacity=None,
                status="published",
                reminder_minutes=[1440, 120],
            )
            for i in range(EVENTS)
        ]
        owner = await organizations.default_organization_id()  # events belong to an organization
        for event in events:
            event.organization_id = owner
        await Event.bulk_create(events)
        events = await Event.all().order_by("id")
        people = [
            Person(name=f"参会者{i}", telegram_id=800_000_000 + i, language="zh" if i % 4 else "en")
            for i in range(PER_EVENT)
        ]
        await Person.bulk_create(people)
        people = await Person.all().order_by("id")
        await Registration.bulk_create(
            [
                Registration(
                    event_id=e.id,
                    person_id=p.id,
                    status="confirmed",
                    name=p.name,
                    telegram_id=p.telegram_id,
                    ticket_version=1,
                )
                for e in events
                for p in people
            ],
            batch_size=2000,
        )
        clock.set_clock(lambda: now)
        rows = []
        for label in ("first pass (all queued)", "second pass (nothing new)"):
            began = time.perf_counter()
            result = await produce_reminders()
            rows.append([settings.dialect, label, result.queued, f"{time.perf_counter() - began:.2f}"])
        assert await OutboxMessage.all().count() == EVENTS * PER_EVENT
        return rows
    finally:
        clock.set_clock(None)
        await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=os.environ.get("WUCHUANG_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += asyncio.run(measure(None, Path(tmp)))
    if args.postgres:
        from tortoise.backends.base.executor import EXECUTOR_CACHE

        EXECUTOR_CACHE.clear()
        with (
            throwaway_postgres_database(args.postgres, "wuchuang_bench_reminders") as url,
            tempfile.TemporaryDirectory() as tmp,
        ):
            rows += asyncio.run(measure(url, Path(tmp)))
    print(
        render_table(
            f"Reminders for {EVENTS} events × {PER_EVENT} registrants", ["backend", "pass", "queued", "seconds"], rows
        )
    )
    print("target: computing them must not hold up the minute-by-minute schedule (no figure in TARGETS.md)")


if __name__ == "__main__":
    main()
