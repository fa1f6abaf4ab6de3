"""What the operations routes (GET /readyz, GET /metrics) read about this process: whether the
store answers, where the data folder is, the places taken, the jobs by status, the storage
used."""

from __future__ import annotations

from pathlib import Path

from sayfile.jobs.admission import Admission
from sayfile.jobs.quota import StorageQuota
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles


class ServerStatus:
    """Reads the state of the store, the data folder, admission and the quota."""

    def __init__(
        self, store: JobStore, files: AudioFiles, admission: Admission, quota: StorageQuota
    ) -> None:
        self.store = store
        self.files = files
        self.admission = admission
        self.quota = quota

    async def ping(self) -> None:
        """Raises StoreUnavailable (a SayfileError) when the job store does not answer."""
        await self.store.ping()

    @property
    def data_dir(self) -> Path:
        """The folder the audio files are written in."""
        return self.files.root

    @property
    def queue_depth(self) -> int:
        """The places taken in this process now (`Admission.depth`)."""
        return self.admission.depth

    async def status_counts(self) -> dict[str, int]:
        """How many jobs the store holds in each status."""
        return await self.store.status_counts()

    async def storage_used(self) -> int:
        """The bytes the storage quota counts as used, for the whole cluster."""
        return await self.quota.used()
