"""One part of a book made into the book's folder: planned from the book's manifest, spoken
under a name of its own, and renamed into place (its timings last, which say it is done) only
while the lease on it still holds."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import replace

from sayfile.audio.formats import with_bitrate
from sayfile.books.parts import BookFolder, BookManifest
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.runners.lease import Lease
from sayfile.settings import Settings
from sayfile.speech.plan import validate
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import Synthesizer
from sayfile.store.records import Job
from sayfile.whole_files import own_unfinished_name, put_in_place, remove_files


class PartMaker:
    """Makes a book's parts in this process, on the sentence executor's background lane."""

    def __init__(
        self, synthesizer: Synthesizer, settings: Settings, lifecycle: JobLifecycle
    ) -> None:
        self.synthesizer = synthesizer
        self.settings = settings
        self.lifecycle = lifecycle

    async def make(
        self, job: Job, folder: BookFolder, manifest: BookManifest, number: int, lease: Lease
    ) -> bool:
        """Make part `number` under a name of its own, then (the lease confirmed) rename it
        into place, its timings last (they say it is done). False when it was done already.
        Raises FileNotFoundError when the book's folder is gone."""
        if await asyncio.to_thread(folder.made, manifest, number):
            return False
        part = manifest.parts[number]
        synthesizer = self.synthesizer
        # Off the loop: finding the part's sentence languages takes a while.
        plan = await synthesizer.executor.run(
            functools.partial(validate, manifest.request(part), synthesizer, self.settings, None),
            Lane.background,
        )
        if manifest.routed:
            plan = plan.at_rate_of(synthesizer.catalogue.resolve(voice=manifest.voice))
        plan = replace(plan, format=with_bitrate(plan.format, manifest.bitrate))
        turn = synthesizer.executor.turn(Lane.background, job.client or "")
        target = folder.part_audio(number, plan.format.extension)
        if not folder.path.is_dir():
            raise FileNotFoundError(folder.path)
        staged = own_unfinished_name(target)
        timings = own_unfinished_name(folder.part_timings(number))

        async def report(fraction: float) -> None:
            lease.advanced()

        try:
            result = await synthesizer.write(plan, staged, turn, report)
            await asyncio.to_thread(folder.write_timings, timings, result.timings)
            await lease.confirm()
            await asyncio.to_thread(
                put_in_place, [(staged, target), (timings, folder.part_timings(number))]
            )
        finally:
            await asyncio.to_thread(remove_files, [staged, timings])
        progress = await asyncio.to_thread(folder.progress, manifest)
        lease.advanced(progress)
        await self.lifecycle.progress(job.id, progress)
        return True
