"""The process's Prometheus metrics: one object per fact, incremented in one place each.

Services (``events/``), the notification sender (``notifications/``) and the HTTP layer (``api/``)
import the objects from here, so the import graph stays one-way; ``/metrics`` (api/routers/ops.py)
renders the default registry, which also carries prometheus-client's process collectors (RSS, CPU,
open files) and the Python GC collector.

Labels hold closed sets only (an outcome, a result, a route *template*, a channel's name): a label
that took an id or a raw path would make a new series per value and grow without bound.

With several worker processes (``serve --workers N``) prometheus-client's multiprocess mode sums them:
each process writes its figures under PROMETHEUS_MULTIPROC_DIR and ``/metrics`` reads them all; each
gauge says how its workers' values combine (``multiprocess_mode``; ignored in one process).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Seconds, from a cached page (~1 ms) to a slow export; Prometheus' defaults stop at 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Waiting for an event's row lock: microseconds when free, the lock's hold time times the queue when hot.
LOCK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_SECONDS = Histogram(
    "wuchuang_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status class.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
REGISTRATIONS = Counter(
    "wuchuang_registrations",
    "Registrations asked for, by outcome (confirmed, waitlisted, pending, refused).",
    ["outcome"],
)
CHECKINS = Counter(
    "wuchuang_checkins",
    "Ticket scans redeemed, by result (ok, already_checked_in, wrong_event, cancelled, revoked, invalid, "
    "not_open_yet, closed); a replayed scan id is not counted again.",
    ["result"],
)
LOCK_WAIT_SECONDS = Histogram(
    "wuchuang_event_lock_wait_seconds",
    "Time spent waiting for an event's write lock (registrations, cancellations, promotions).",
    buckets=LOCK_BUCKETS,
)
OUTBOX_SENDS = Counter(
    "wuchuang_outbox_sends",
    "Outbox messages handed to a channel, by channel and outcome (ok, retry_after, blocked, permanent, transient).",
    ["channel", "outcome"],
)
OUTBOX_DEPTH = Gauge(
    "wuchuang_outbox_messages",
    "Outbox rows by status, counted when /metrics is read.",
    ["status"],
    multiprocess_mode="mostrecent",
)
TELEGRAM_FLOOD = Counter(
    "wuchuang_telegram_429",
    "Answers 429 (flood control, retry_after) from the Telegram Bot API to the outbox sender.",
)
RATE_LIMITED = Counter(
    "wuchuang_rate_limited",
    "Requests this server refused with 429 for a client over its rate limit, by limit.",
    ["limit"],
)
SENDER_ALIVE = Gauge(
    "wuchuang_outbox_sender_running",
    "1 while this process runs the outbox sender (the notification worker), 0 otherwise.",
    multiprocess_mode="livemax",
)
SCHEDULER_LEADING = Gauge(
    "wuchuang_scheduler_leading",
    "1 while this process runs the scheduler (producers, reminders); across workers the sum is 1.",
    multiprocess_mode="livesum",
)
LOOP_LAG_SECONDS = Histogram(
    "wuchuang_event_loop_lag_seconds",
    "How late this process's event loop ran a timer (events.loop_lag): a stop every request in flight waited behind.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
