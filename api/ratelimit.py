"""Per-address limit on anonymous registrations (WUCHUANG_PUBLIC_RATE_LIMIT), memory or Redis."""

from __future__ import annotations

import math
import time
from typing import cast

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from events import metrics
from events.errors import RateLimited


class PublicRateLimit:
    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        self.item: RateLimitItem | None = None if rate == "0" else parse(rate)
        # redis-py (a dependency already) rather than limits' default async client, coredis, which is not installed.
        storage = (
            cast(Storage, storage_from_string(f"async+{redis_url}", implementation="redispy"))
            if redis_url
            else MemoryStorage()
        )
        self.limiter = MovingWindowRateLimiter(storage)

    async def check(self, request: Request, scope: str) -> None:
        """Raises ``rate_limited`` with the seconds to wait once the address is over its limit."""
        if self.item is None:
            return
        address = request.client.host if request.client else "unknown"
        if not await self.limiter.hit(self.item, scope, address):
            metrics.RATE_LIMITED.labels(scope).inc()
            stats = await self.limiter.get_window_stats(self.item, scope, address)
            raise RateLimited(retry_after=max(1, math.ceil(stats.reset_time - time.time())))
