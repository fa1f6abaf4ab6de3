"""Job records in Redis for several API processes and workers: JSON records, keys built in one
place, expiry kept in sorted sets (no keyspace notifications needed)."""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
import weakref
from collections.abc import Callable, Collection, Coroutine
from typing import Any, ParamSpec, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, FullJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sayfile.errors import StoreUnavailable
from sayfile.store.records import Job, JobStatus

P = ParamSpec("P")
T = TypeVar("T")
# A change that lost its record to another writer waits a random while before it reads the
# record again, up to twice as long each time it loses (1 ms at first, 20 ms at most): 81
# writers of one record at once took 1.0-1.2 s all retrying at once, near the store's 2 s
# bound (tests/test_store.py failed so on a loaded machine), and 0.4-0.6 s with the wait.
_CONTENDED = FullJitterBackoff(cap=0.02, base=0.0005)
# Connections a client keeps to Redis at most (redis-py's own default). A call that finds them
# all in use waits for one to come back, within the store's timeout: redis-py's plain pool
# refuses it instead ("Too many connections"), which a busy server process reached with 101
# calls at once (tests/test_store.py).
_CONNECTIONS = 100


class Keys:
    """Every Redis key sayfile uses, and nothing else builds one."""

    def __init__(self, prefix: str = "sayfile") -> None:
        self.prefix = prefix
        self.ids = f"{prefix}:ids"  # set of every job id
        self.unfinished = f"{prefix}:unfinished"  # set of queued and running ids
        self.due = f"{prefix}:due"  # zset: done and failed ids by expires_at
        self.expired = f"{prefix}:expired"  # zset: expired ids by expires_at
        self.sizes = f"{prefix}:bytes"  # hash: done id -> bytes
        self.active = f"{prefix}:active"  # hash: client -> its queued and running jobs
        self.counted = f"{prefix}:active-counted"  # set when `active` covers every job
        self.queue = f"{prefix}:queue"  # list: Taskiq messages
        self.all_events = f"{prefix}:events:*"  # pattern of every job's event channel

    def job(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def done(self, key: str) -> str:
        return f"{self.prefix}:done:{key}"  # zset: done ids with this cache key by expires_at

    def lock(self, name: str) -> str:
        return f"{self.prefix}:lock:{name}"

    def events(self, job_id: str) -> str:
        return f"{self.prefix}:events:{job_id}"  # pub/sub channel of one job's events

    def job_of_channel(self, channel: str) -> str:
        return channel.removeprefix(f"{self.prefix}:events:")


def _guard(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Turn Redis being away into StoreUnavailable (503), never a traceback or a hang; the
    whole call, the client's retry and connection handshake included, within the store's
    timeout."""

    @functools.wraps(method)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        limit: float = getattr(args[0], "timeout", 2.0)
        try:
            async with asyncio.timeout(limit):
                return await method(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable("Redis") from exc
        except RedisError as exc:
            if "LOADING" in str(exc):
                raise StoreUnavailable("Redis") from exc
            raise

    return guarded


def _strings(values: Any) -> list[str]:
    return [str(v) for v in values]


def connect(url: str, timeout: float, blocking_reads: bool = False) -> Redis:
    """A client that gives up after `timeout` seconds in all: each of its two tries (one
    retry, since a restarted server leaves dead connections in the pool) has half, and a
    call waits up to `timeout` for a free connection (`_CONNECTIONS`)."""
    half = timeout / 2
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=_CONNECTIONS,
        timeout=timeout,
        decode_responses=True,
        socket_connect_timeout=half,
        socket_timeout=None if blocking_reads else half,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
        health_check_interval=30,
    )
    return Redis.from_pool(pool)


class RedisJobStore:
    """The JobStore contract on Redis (see store/base.py)."""

    def __init__(self, url: str, timeout: float = 2.0, keys: Keys | None = None) -> None:
        self.timeout = timeout
        self._redis = connect(url, timeout)
        self.keys = keys or Keys()
        # One change of a record at a time in this process: changes racing each other here
        # would only make each other's transactions fail and start again. Eighty-one at once
        # on one record (tests/test_store.py) lost their rounds until the store's time-out
        # on a busy machine; queued here, each takes one round (others' processes may still
        # race it, and WATCH settles that).
        self._changing: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        # Delete the lock only if it is still ours (it may have expired and been retaken).
        self._unlock = self._redis.register_script(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
            " return 0"
        )
        # Extend the lock only while it is still ours.
        self._extend = self._redis.register_script(
            "if redis.call('get', KEYS[1]) == ARGV[1] then"
            " return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
        )
        self._counted = False
        # Set the flag, and only if it was not set yet, count each unfinished record's client
        # (ARGV[1]: a record's key without its id).
        self._count_unfinished = self._redis.register_script(
            "if not redis.call('set', KEYS[1], '1', 'NX') then return 0 end"
            " for _, id in ipairs(redis.call('smembers', KEYS[2])) do"
            "  local raw = redis.call('get', ARGV[1] .. id)"
            "  if raw then"
            "   local client = cjson.decode(raw)['client']"
            "   if type(client) == 'string' and client ~= '' then"
            "    redis.call('hincrby', KEYS[3], client, 1) end end end"
            " return 1"
        )
        # One client's count down by one, its field gone at zero: the hash holds only the
        # clients with jobs unfinished, not everyone who ever asked.
        self._count_down = (
            "if redis.call('hincrby', KEYS[1], ARGV[1], -1) <= 0 then"
            " redis.call('hdel', KEYS[1], ARGV[1]) end return 0"
        )

    async def _count_earlier_jobs(self) -> None:
        """Records of a version from before per-client counts: count their unfinished jobs
        once, whichever process comes first, so that none is missed or counted twice. The
        flag and the count are one script, which Redis runs with nothing in between: a job
        added while the counting went on (by another process, or another call of this one
        that saw the flag already set) would otherwise be counted by its own add and by the
        count as well."""
        if self._counted:
            return
        k = self.keys
        await self._count_unfinished(keys=[k.counted, k.unfinished, k.active], args=[k.job("")])
        self._counted = True

    def _index(self, pipe: Pipeline, old: Job | None, new: Job | None) -> None:
        k = self.keys
        was_active = old is not None and old.client and not old.status.finished
        is_active = new is not None and new.client and not new.status.finished
        if was_active and not is_active:
            assert old is not None and old.client
            pipe.eval(self._count_down, 1, k.active, old.client)
        if is_active and not was_active:
            assert new is not None and new.client
            pipe.hincrby(k.active, new.client, 1)
        if old is not None:
            pipe.srem(k.unfinished, old.id)
            pipe.zrem(k.due, old.id)
            pipe.zrem(k.expired, old.id)
            pipe.zrem(k.done(old.key), old.id)
            pipe.hdel(k.sizes, old.id)
        if new is None:
            if old is not None:
                pipe.srem(k.ids, old.id)
                pipe.delete(k.job(old.id))
            return
        pipe.set(k.job(new.id), json.dumps(new.to_dict()))
        pipe.sadd(k.ids, new.id)
        if not new.status.finished:
            pipe.sadd(k.unfinished, new.id)
        elif new.status == JobStatus.expired:
            pipe.zadd(k.expired, {new.id: new.expires_at})
        else:
            pipe.zadd(k.due, {new.id: new.expires_at})
        if new.status == JobStatus.done:
            pipe.zadd(k.done(new.key), {new.id: new.expires_at})
            pipe.hset(k.sizes, new.id, str(new.bytes or 0))

    async def _change(self, job_id: str, change: Callable[[Job], Job | None]) -> Job | None:
        """Apply `change` to the record atomically (optimistic WATCH/MULTI, retried). A
        `change` that returns the record itself leaves it alone and gives None."""
        turn = self._changing.setdefault(job_id, asyncio.Lock())
        async with turn, self._redis.pipeline(transaction=True) as pipe:
            lost = 0
            while True:
                if lost:
                    await asyncio.sleep(_CONTENDED.compute(lost))
                try:
                    await pipe.watch(self.keys.job(job_id))
                    raw = await pipe.get(self.keys.job(job_id))
                    if raw is None:
                        await pipe.reset()  # type: ignore[no-untyped-call]
                        return None
                    old = Job.from_dict(json.loads(raw))
                    new = change(old)
                    if new is old:
                        await pipe.reset()  # type: ignore[no-untyped-call]
                        return None
                    pipe.multi()  # type: ignore[no-untyped-call]
                    self._index(pipe, old, new)
                    await pipe.execute()
                    return new
                except WatchError:
                    lost += 1

    async def _records(self, ids: list[str]) -> list[Job]:
        if not ids:
            return []
        raws = await self._redis.mget([self.keys.job(i) for i in ids])
        return [Job.from_dict(json.loads(r)) for r in raws if r is not None]

    @_guard
    async def add(self, job: Job) -> None:
        await self._count_earlier_jobs()
        async with self._redis.pipeline(transaction=True) as pipe:
            self._index(pipe, None, job)
            await pipe.execute()

    @_guard
    async def get(self, job_id: str) -> Job | None:
        raw = await self._redis.get(self.keys.job(job_id))
        return Job.from_dict(json.loads(raw)) if raw is not None else None

    @_guard
    async def change(
        self, job_id: str, expected: Collection[JobStatus], **fields: Any
    ) -> Job | None:
        # WATCH makes the check and the write one atomic step: a status changed by another
        # writer in between makes the transaction retry and see it.
        await self._count_earlier_jobs()
        return await self._change(
            job_id, lambda job: job.evolve(**fields) if job.status in expected else job
        )

    @_guard
    async def find_done(self, key: str, now: float) -> Job | None:
        ids = _strings(await self._redis.zrangebyscore(self.keys.done(key), f"({now}", "+inf"))
        found = await self._records(ids[-1:])
        return found[0] if found else None

    @_guard
    async def due(self, now: float) -> list[Job]:
        return await self._records(
            _strings(await self._redis.zrangebyscore(self.keys.due, "-inf", now))
        )

    @_guard
    async def stale_records(self, before: float) -> list[Job]:
        ids = await self._redis.zrangebyscore(self.keys.expired, "-inf", before)
        return await self._records(_strings(ids))

    @_guard
    async def unfinished(self) -> list[Job]:
        ids = await self._redis.smembers(self.keys.unfinished)
        return await self._records(sorted(str(i) for i in ids))

    @_guard
    async def active_count(self, client: str) -> int:
        await self._count_earlier_jobs()
        return int(await self._redis.hget(self.keys.active, client) or 0)

    @_guard
    async def stored_bytes(self, now: float) -> int:
        alive = await self._redis.zrangebyscore(self.keys.due, f"({now}", "+inf")
        if not alive:
            return 0
        sizes = await self._redis.hmget(self.keys.sizes, [str(i) for i in alive])
        return sum(int(s) for s in sizes if s)

    @_guard
    async def delete(self, job_id: str) -> None:
        await self._count_earlier_jobs()
        await self._change(job_id, lambda job: None)

    @_guard
    async def try_lock(self, name: str, seconds: float, token: str | None = None) -> str | None:
        token = token or secrets.token_hex(16)
        ok = await self._redis.set(self.keys.lock(name), token, nx=True, px=int(seconds * 1000))
        return token if ok else None

    @_guard
    async def unlock(self, name: str, token: str) -> None:
        await self._unlock(keys=[self.keys.lock(name)], args=[token])

    @_guard
    async def extend_lock(self, name: str, token: str, seconds: float) -> bool:
        done = await self._extend(keys=[self.keys.lock(name)], args=[token, int(seconds * 1000)])
        return bool(done)

    @_guard
    async def ping(self) -> None:
        await self._redis.ping()

    @_guard
    async def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys((s.value for s in JobStatus), 0)
        for job in await self.unfinished():
            counts[job.status.value] += 1
        done = int(await self._redis.hlen(self.keys.sizes))
        counts[JobStatus.done.value] = done
        counts[JobStatus.failed.value] = int(await self._redis.zcard(self.keys.due)) - done
        counts[JobStatus.expired.value] = int(await self._redis.zcard(self.keys.expired))
        return counts

    async def close(self) -> None:
        await self._redis.aclose()
