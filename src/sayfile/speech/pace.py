"""How long speech takes to make on this machine: each voice's pace (wall-clock seconds of
work per character of text), learned from the jobs this process finished, a measured prior
per engine until then, and from those and a job's progress the seconds it has left."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from sayfile.models import Voice
from sayfile.text.language_tags import primary

# Seconds per character of a whole job (sentences, levels, mp3 encoding, the file written)
# with the default two sentence threads on a quiet 2-core machine, then rounded up by about
# half: an estimate that turns out long disappoints less than one that runs over. Measured
# with bench/pace.py and the long-job benchmarks (docs/benchmarks.md, "Time left"). A
# character of Chinese says about three times as much as one of English, hence two columns.
PRIORS: dict[str, tuple[float, float]] = {
    # engine: (other scripts, Han/kana/hangul)
    # bench/pace.py, 2026-12-05, with the convolutions as matrix products (issue 27): 0.0103
    # and 0.0362.
    "kokoro": (0.015, 0.055),
    "piper": (0.002, 0.006),
    "espeak": (0.0008, 0.005),
    # tone:slow: 50 ms per piece of a sentence or so (tone:beep is at once).
    "tone": (0.005, 0.005),
}
_DENSE = frozenset({"zh", "ja", "ko", "yue", "cmn"})
# A job's own pace counts fully once this share of it is made; before, it is blended with the
# voice's pace (a job's first seconds include loading the voice).
_TRUST_FROM = 0.25
# How much one finished job moves a voice's pace (an exponential average).
_LEARNING = 0.3
_MAX_VOICES = 64


@dataclass(frozen=True, slots=True)
class JobPace:
    """What the estimate of one job rests on: its characters, how much is made (0..1), and
    how long it has been running (None while queued)."""

    chars: int
    progress: float
    elapsed: float | None


class PaceBook:
    """Each voice's pace in this process: bounded (the voices used last), learned from
    finished jobs, with `PRIORS` for voices not measured yet."""

    def __init__(
        self,
        priors: dict[str, tuple[float, float]] | None = None,
        max_voices: int = _MAX_VOICES,
    ) -> None:
        self._priors = PRIORS if priors is None else priors
        self._max = max_voices
        self._measured: OrderedDict[str, float] = OrderedDict()

    def learn(self, voice_id: str, chars: int, seconds: float) -> None:
        """A job of `chars` characters in `voice_id` took `seconds` from start to done."""
        if chars <= 0 or seconds <= 0:
            return
        pace = seconds / chars
        old = self._measured.pop(voice_id, None)
        self._measured[voice_id] = pace if old is None else old + _LEARNING * (pace - old)
        while len(self._measured) > self._max:
            self._measured.popitem(last=False)

    def per_char(self, voice: Voice) -> float | None:
        """Seconds per character for `voice`: measured here, else its engine's prior, else
        None (an engine nobody measured)."""
        measured = self._measured.get(voice.id)
        if measured is not None:
            return measured
        prior = self._priors.get(voice.engine)
        if prior is None:
            return None
        dense = primary(voice.language) in _DENSE
        return prior[1] if dense else prior[0]

    def seconds_left(self, voice: Voice | None, job: JobPace) -> float | None:
        """The seconds `job` still needs, or None when nothing tells. Queued: all of it at
        the voice's pace (the wait for its turn is not counted). Running: what is left at a
        blend of the voice's pace and the job's own so far, the job's own counting more as
        it goes."""
        if job.chars <= 0:
            return None
        known = self.per_char(voice) if voice is not None else None
        progress = min(max(job.progress, 0.0), 1.0)
        own = None
        if job.elapsed is not None and progress > 0:
            own = max(job.elapsed, 0.0) / (job.chars * progress)
        if own is None:
            pace = known
        elif known is None:
            pace = own
        else:
            trust = min(1.0, progress / _TRUST_FROM)
            pace = trust * own + (1 - trust) * known
        if pace is None:
            return None
        return job.chars * (1 - progress) * pace
