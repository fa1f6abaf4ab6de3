"""Making a book in parts, by any number of processes at once: each turn takes one part no
one holds (a lock in the job store, kept while its heartbeat lasts), makes it into the book's
folder (`part_maker`), joins a chapter whose parts are all there, and the process that finds
every chapter there joins the book and records it done (`book_joining`). A process that dies
loses only the part it held."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket

from sayfile.books.parts import BookFolder, BookManifest
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.runners.book_joining import GONE, BookJoiner, remove_book_files
from sayfile.runners.book_leases import BookLeases, part_lock
from sayfile.runners.failures import Failure, classify, fail_then_remove, recorded_status
from sayfile.runners.lease import Lease, LeaseLost, Why
from sayfile.runners.part_maker import PartMaker
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles
from sayfile.store.records import FailureReason, JobStatus

log = logging.getLogger(__name__)


class BookRunner:
    """Takes turns at books for one process (the API's own, or a `sayfile worker`'s)."""

    def __init__(
        self,
        store: JobStore,
        lifecycle: JobLifecycle,
        files: AudioFiles,
        leases: BookLeases,
        maker: PartMaker,
        joiner: BookJoiner,
    ) -> None:
        """`leases` hold each part's lock (their terms also bound how long a failure is
        retried); `maker` makes a part and `joiner` joins chapters and the book, under the
        same leases (`wiring.build_book_runner` builds them together)."""
        self.store = store
        self.lifecycle = lifecycle
        self.files = files
        self.leases = leases
        self.maker = maker
        self.joiner = joiner
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    async def turn(self, job_id: str) -> bool:
        """Make one part of the book `job_id` that no process holds, or join the book when
        every part is there. True when the book needs another turn (the caller gives it
        one); False when this turn found nothing to take, or the book ended. Every turn logs
        once why it ended; a store that is away ends it, and the sweeper gives new turns."""
        try:
            more, why = await self._turn(job_id)
        except asyncio.CancelledError:
            log.info("a book's turn ended: this process is stopping")
            raise  # the book waits for the next process
        except LeaseLost as lost:
            more = lost.why in (Why.stalled, Why.lock_lost)
            why = f"its part was given up ({lost.why.value})"
        except Exception as exc:
            more, why = False, await self._failed(job_id, exc)
        level = logging.WARNING if why.startswith("!") else logging.INFO
        log.log(level, "a book's turn ended: %s", why.removeprefix("!"))
        return more

    async def _turn(self, job_id: str) -> tuple[bool, str]:
        folder = BookFolder(self.files.book_dir(job_id))
        try:
            manifest = await asyncio.to_thread(folder.manifest)
        except FileNotFoundError:
            job = await self.store.get(job_id)
            if job is None or job.status.finished:
                return False, "the book is finished or deleted"
            raise _Unusable("the book's folder is gone") from None
        except (ValueError, KeyError, TypeError):
            raise _Unusable("the book's manifest cannot be read") from None
        job = await self.store.get(job_id)
        if job is None or job.status.finished:
            return False, "the book is finished or deleted"
        if job.status == JobStatus.queued:
            await self.lifecycle.start(job_id, self._worker)
        # One look at the folder for the parts not done; each is checked again once held.
        unmade = await asyncio.to_thread(folder.unmade, manifest)
        for number in unmade:

            async def make(lease: Lease, number: int = number) -> bool:
                return await self.maker.make(job, folder, manifest, number, lease)

            lock = part_lock(job_id, number)
            made = await self.leases.hold(lock, job_id, folder, manifest, make, stalls=True)
            if made is None:
                continue  # another process makes it
            if made:
                chapter = manifest.parts[number].chapter
                await self.joiner.join_chapters(job_id, folder, manifest, [chapter])
            more = await asyncio.to_thread(_needs_turn, folder, manifest)
            return more, f"part {number + 1} of {len(manifest.parts)} was made"
        # Every part is done or held. A chapter whose parts are all there but that nobody
        # joined (its joiner died) is joined now; the last one to finish joins the book.
        ready = await asyncio.to_thread(folder.joinable, manifest)
        await self.joiner.join_chapters(job_id, folder, manifest, ready)
        if await asyncio.to_thread(folder.all_chapters_done, manifest):
            return False, await self.joiner.join_book(job, folder, manifest)
        return False, "every part left is being made by another turn"

    async def _failed(self, job_id: str, exc: Exception) -> str:
        """Record what `exc` means for the book (then its files go); why the turn ended."""
        if isinstance(exc, FileNotFoundError) and await recorded_status(self.store, job_id) in (
            *GONE,
            JobStatus.done,
        ):
            return "the book is finished or deleted"  # its folder went under this turn
        if isinstance(exc, FileNotFoundError) and not await asyncio.to_thread(
            self.files.book_dir(job_id).is_dir
        ):
            # Removed under this turn by another that is ending the book (a full disk frees
            # room before it records why): that one records the true reason. A folder gone
            # with nobody to say why is found by the next turn (`_Unusable`).
            return "the book's folder went under this turn; the turn that removed it says why"
        if isinstance(exc, _Unusable):
            failure: Failure | None = Failure(FailureReason.internal_error, str(exc))
        else:
            failure = classify(exc)
        if failure is None:
            return f"!the job store is away ({exc}); the sweeper gives the book new turns"
        remove = functools.partial(remove_book_files, self.files, job_id)
        await fail_then_remove(self.lifecycle, job_id, failure, remove, self.leases.terms.wait)
        return f"!the book failed: {failure.reason.value}"


def _needs_turn(folder: BookFolder, manifest: BookManifest) -> bool:
    """After a part: whether the book needs another turn, because a part is not made yet
    (perhaps held by another process: that turn then ends at once, having found nothing to
    take) or because every chapter is done and the book is to be joined."""
    return bool(folder.unmade(manifest)) or folder.all_chapters_done(manifest)


class _Unusable(Exception):
    """A book that is still queued or running has no folder, or a manifest that cannot be
    read: no turn will ever make it."""
