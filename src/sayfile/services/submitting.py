"""A planned job entering the system, and leaving it: the finished file of an identical request
reused, the client's limit, the storage quota, the record, the queue; and cancelling."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from sayfile.books.parts import BookFolder, BookManifest
from sayfile.jobs.answers import Answer
from sayfile.jobs.download_names import speech_stem
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.jobs.quota import StorageQuota, estimate_bytes
from sayfile.link_errors import JobNotFound
from sayfile.queue import JobQueue
from sayfile.services.limits import ActiveLimit
from sayfile.settings import Settings
from sayfile.speech.plan import SpeechPlan
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles
from sayfile.store.records import Job, JobStatus, cache_key, is_job_id, new_job_id


class Submissions:
    """Submits planned jobs and books (or reuses a finished identical file), and cancels
    them."""

    def __init__(
        self,
        settings: Settings,
        limit: ActiveLimit,
        store: JobStore,
        lifecycle: JobLifecycle,
        files: AudioFiles,
        quota: StorageQuota,
        queue: JobQueue,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.limit = limit
        self.store = store
        self.lifecycle = lifecycle
        self.files = files
        self.quota = quota
        self.queue = queue
        self._clock = clock

    def reuse_key(self, plan: SpeechPlan, client: str | None) -> str:
        """The key under which identical requests find each other's audio."""
        # Sentences routed to their languages' voices differ from the same text in one voice.
        routed = [plan.voices] if plan.routed else []
        variant = json.dumps([plan.loudness, plan.lexicon, *routed], sort_keys=True)
        return cache_key(
            plan.text, plan.voice.id, plan.format.name, plan.speed, self._owner(client), variant
        )

    def _owner(self, client: str | None) -> str:
        """Whose finished files a request may reuse. With API keys, each key's own: a file
        made at once would tell one key what another asked for. Without keys, everyone's."""
        return (client or "") if self.settings.api_keys else ""

    def new_job(
        self, plan: SpeechPlan, client: str | None, one_time: bool, interactive: bool
    ) -> Job:
        """The record of a job for `plan`, queued, not yet stored."""
        now = self._clock()
        return Job(
            id=new_job_id(),
            status=JobStatus.queued,
            format=plan.format.name,
            voice=plan.voice.id,
            key=self.reuse_key(plan, client),
            stem=speech_stem(plan.words, plan.title),
            created_at=now,
            expires_at=now + self.settings.ttl_seconds,
            one_time=one_time,
            client=client,
            interactive=interactive,
            chars=len(plan.words),
        )

    async def submit(
        self,
        job: Job,
        plan: SpeechPlan,
        book: BookManifest | None = None,
        cover: bytes | None = None,
    ) -> Job:
        """Store `job` and queue it (a book with its manifest and cover in its folder), or
        give it the file of a done identical job at once. Raises TooManyActive, StorageFull,
        Busy, StoreUnavailable; nothing of the job is left when it raises."""
        reused = await self._reuse(job)
        if reused is not None:
            return reused
        if job.client is not None:
            await self.limit.check(job.client)
        if book is None:
            estimate = estimate_bytes(
                plan.words, plan.format, plan.voice.sample_rate, plan.speed, plan.silence_s
            )
        else:  # a book's millions of characters are counted off the event loop
            estimate = await asyncio.to_thread(
                estimate_bytes,
                plan.words,
                plan.format,
                plan.voice.sample_rate,
                plan.speed,
                plan.silence_s,
            )
        # The record, which holds the reservation for every process, exists before any file
        # or worker can refer to it.
        job = job.evolve(reserved_bytes=estimate)
        async with self.quota.admitting(estimate):
            await self.lifecycle.add(job)
        try:
            if book is None:
                await self.queue.enqueue(job, plan)
            else:
                folder = BookFolder(self.files.book_dir(job.id))
                await asyncio.to_thread(folder.create, book, cover)
                await self.queue.enqueue_book(job, self.settings.book_turns)
        except BaseException:
            await self.lifecycle.delete(job.id)
            if book is not None:
                await asyncio.to_thread(self.files.remove_book, job.id)
            raise
        return job

    async def _reuse(self, job: Job) -> Job | None:
        """A done, unexpired job with the same text, voice, format and speed gives its file
        (a hard link, so each job still owns its file)."""
        previous = await self.store.find_done(job.key, self._clock())
        if previous is None:
            return None
        done = job.evolve(
            status=JobStatus.done,
            progress=1.0,
            bytes=previous.bytes,
            duration_s=previous.duration_s,
        )
        # Record first, then the file: a sweep in between must not see a file without a job.
        await self.lifecycle.add(done)
        ext = job.extension
        if self.files.link(self.files.path(previous.id, ext), self.files.path(job.id, ext)):
            self.files.link(self.files.timings_path(previous.id), self.files.timings_path(job.id))
            return done
        await self.lifecycle.delete(job.id)
        return None

    async def reused_answer(self, key: str, plan: SpeechPlan, now: float) -> Answer | None:
        """The finished file of a job under `key` done and unexpired at `now`, read into
        memory (short text only), or None when there is none or it has gone meanwhile."""
        previous = await self.store.find_done(key, now)
        if previous is None:
            return None
        path = self.files.path(previous.id, plan.format.extension)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None
        return Answer(data, plan.format, previous.stem, previous.duration_s or 0.0)

    async def cancel(self, job_id: str) -> None:
        """Stop a queued or running job (wherever it runs), or delete a finished one; its
        record and file go too. Raises JobNotFound."""
        job = await self.store.get(job_id) if is_job_id(job_id) else None
        if job is None:
            raise JobNotFound()
        await self.lifecycle.delete(job.id)
        self.queue.cancel(job.id)
        self.files.remove(job.id, job.extension)
        if job.book:
            await asyncio.to_thread(self.files.remove_book, job.id)
