"""Per-client request rates (the `limits` library's moving window), kept in memory or, when
job records live in Redis, shared by every API process through Redis."""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from sayfile.errors import RateLimited
from sayfile.settings import Settings

log = logging.getLogger(__name__)


class RequestLimiter:
    """`hit(client)` counts one request that creates work; raises RateLimited when over."""

    def __init__(self, settings: Settings) -> None:
        spec = settings.rate_limit.strip()
        self._items: list[RateLimitItem] = parse_many(spec) if spec else []
        self._spec = spec
        storage: Storage
        if settings.store_url and settings.store_url.startswith("redis"):
            storage = storage_from_string(  # type: ignore[assignment]
                f"async+{settings.store_url}",
                implementation="redispy",
                socket_timeout=settings.redis_timeout_seconds,
                socket_connect_timeout=settings.redis_timeout_seconds,
            )
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)
        key_spec = settings.key_failure_limit.strip()
        self._key_items: list[RateLimitItem] = parse_many(key_spec) if key_spec else []
        self._key_spec = key_spec

    async def hit(self, client: str) -> None:
        for item in self._items:
            try:
                allowed = await self._limiter.hit(item, "sayfile", client)
                if allowed:
                    continue
                stats = await self._limiter.get_window_stats(item, "sayfile", client)
            except Exception as exc:  # the limiter must never take the service down
                log.warning("rate limiter unavailable (%s); request let through", exc)
                return
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise RateLimited(self._spec, retry_after)

    async def check_key_failures(self, address: str) -> None:
        """Raise RateLimited while `address` is over its allowance of wrong API keys."""
        for item in self._key_items:
            try:
                if await self._limiter.test(item, "sayfile-key", address):
                    continue
                stats = await self._limiter.get_window_stats(item, "sayfile-key", address)
            except Exception as exc:
                log.warning("rate limiter unavailable (%s); key check let through", exc)
                return
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise RateLimited(f"{self._key_spec} wrong API keys", retry_after)

    async def key_failed(self, address: str) -> None:
        """Count one wrong API key from `address`."""
        for item in self._key_items:
            try:
                await self._limiter.hit(item, "sayfile-key", address)
            except Exception as exc:
                log.warning("rate limiter unavailable (%s); wrong key not counted", exc)
