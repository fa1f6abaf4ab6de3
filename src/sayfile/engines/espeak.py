"""espeak-ng (Debian package `espeak-ng`): through its C library in helper processes kept
running (engines/espeak_helpers.py), which also say where each word is heard; through its
command, a process per piece and no word times, where the library is not found."""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import wave

import numpy as np

from sayfile.audio.formats import Samples, stretch
from sayfile.engines.base import WordSpan
from sayfile.engines.espeak_helpers import EspeakHelpers
from sayfile.engines.espeak_words import WordEvent, event_words
from sayfile.errors import EngineError, EngineTimeout
from sayfile.models import Quality, Voice

log = logging.getLogger(__name__)

# espeak-ng speaks 175 words a minute by default and will not go below 80; slower speeds are
# reached by stretching the 80 wpm audio afterwards.
_NORMAL_WPM = 175
_MIN_WPM = 80
_SAMPLE_RATE = 22050
# Linux's default largest pipe (/proc/sys/fs/pipe-max-size): 23 s of 22.05 kHz audio.
_PIPE_BYTES = 1 << 20
_GENDERS = {"M": "male", "F": "female"}
# Debian 12's espeak-ng reads Chinese characters as pinyin with tone numbers in English
# ("ni three hao three"): a speech recognizer understands nothing of it. These voices are
# never chosen by language, only by their id.
_UNINTELLIGIBLE = {"cmn", "cmn-latn-pinyin"}
_OTHER_LANGUAGE = re.compile(r"\(([\w-]+) (\d+)\)")


def _bcp47(code: str) -> str:
    """espeak-ng's `en-gb-x-rp` becomes `en-GB-x-rp`: regions upper-case, the rest as is."""
    parts = code.split("-")
    for i, part in enumerate(parts[1:], start=1):
        if part == "x":
            break
        if len(part) == 2 and part.isalpha():
            parts[i] = part.upper()
    return "-".join(parts)


class EspeakEngine:
    """Every voice the installed espeak-ng lists (`espeak-ng --voices`), its words timed
    (WordTimed) where its library is found. `helper_options` go to each helper (test hooks);
    `library=False` uses the command only."""

    name = "espeak"
    # Each call loads its voice (4 ms, more than it takes to speak ten words; the command
    # also starts a process): short sentences go together.
    join_below = 60

    def __init__(
        self,
        command: str = "espeak-ng",
        timeout: float = 60.0,
        helper_options: tuple[str, ...] = (),
        library: bool = True,
    ) -> None:
        self._command = command
        self._timeout = timeout
        self._voices: list[Voice] | None = None
        self._path: str | None = None
        # Nothing is started (nor the library looked for) until the first piece.
        self._helpers = EspeakHelpers(timeout, helper_options) if library else None

    @property
    def helpers(self) -> EspeakHelpers | None:
        """The helpers that speak through the library; None where the command speaks."""
        helpers = self._helpers
        return helpers if helpers is not None and helpers.available else None

    def _executable(self) -> str:
        # Looked up once, not for every sentence.
        if self._path is None:
            self._path = shutil.which(self._command)
        if self._path is None:
            raise EngineError(
                f"espeak-ng is not installed ({self._command!r} not found); "
                "install the Debian package espeak-ng (`make run` does)."
            )
        return self._path

    def voices(self) -> list[Voice]:
        if self._voices is None:
            listing = subprocess.run(
                [self._executable(), "--voices"], capture_output=True, text=True, check=True
            ).stdout
            self._voices = _parse_voice_listing(listing)
        return self._voices

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        return self._spoken(voice, text, speed)[1]

    def synthesize_timed(
        self, voice: Voice, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> tuple[Samples, list[WordSpan] | None]:
        """The piece's samples and its words' (WordTimed), from the library's word events;
        None for the words where the command speaks. `first` and `follows` change nothing."""
        said, samples, events = self._spoken(voice, text, speed)
        if events is None:
            return samples, None
        scale = samples.size / said.size if said.size else 1.0
        return samples, event_words(text, events, said, scale)

    def _spoken(
        self, voice: Voice, text: str, speed: float
    ) -> tuple[Samples, Samples, list[WordEvent] | None]:
        """The samples as espeak-ng said them, as stretched to `speed` (below its slowest
        rate), and the library's word events (None where the command speaks)."""
        wpm = max(_MIN_WPM, round(_NORMAL_WPM * speed))
        helpers = self.helpers
        if helpers is None:
            said, events = self._command_samples(voice, text, wpm), None
        else:
            heard = helpers.say(voice, wpm, text)
            said, events = np.frombuffer(heard.samples, dtype="<i2"), heard.words
        samples = said
        residual = _NORMAL_WPM * speed / wpm
        if abs(residual - 1.0) > 1e-3:
            samples = stretch(said, voice.sample_rate, residual)
        return said, samples.astype(np.int16), events

    def _command_samples(self, voice: Voice, text: str, wpm: int) -> Samples:
        # Text goes on stdin, never argv, so a sentence starting with "-" is not an option.
        try:
            result = subprocess.run(
                [self._executable(), "-v", voice.locator, "-s", str(wpm), "-b", "1", "--stdout"],
                input=text.encode("utf-8"),
                capture_output=True,
                check=False,
                timeout=self._timeout,  # a hung process is killed, and its thread freed
                # A sentence's WAV fits the pipe whole: espeak-ng never waits for this
                # process, whose thread may wait for the GIL each time it is to read.
                pipesize=_PIPE_BYTES,
            )
        except subprocess.TimeoutExpired:
            # The same time box as BoundedEngine's around it (whichever ends first says so);
            # this one also kills the process.
            raise EngineTimeout(
                f"the engine espeak took longer than {self._timeout:g} s for one piece of text "
                f"in voice {voice.id} (SAYFILE_ENGINE_TIMEOUT_SECONDS); its process was killed"
            ) from None
        if result.returncode != 0:
            log.warning("espeak-ng failed: %s", result.stderr.decode("utf-8", "replace").strip())
            raise EngineError(f"espeak-ng failed for voice {voice.id}")
        with wave.open(io.BytesIO(result.stdout)) as wav:
            return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        return None  # written words only

    def close(self) -> None:
        self._voices = None
        if self._helpers is not None:
            self._helpers.close()


def _parse_voice_listing(listing: str) -> list[Voice]:
    """Parse `espeak-ng --voices`: Pty, Language, Age/Gender, VoiceName, File, Other Languages."""
    rows = []
    for line in listing.splitlines()[1:]:
        fields = line.split(None, 5)
        if len(fields) < 5:
            continue
        pty, language, age_gender, name, file = fields[:5]
        others = _OTHER_LANGUAGE.findall(fields[5]) if len(fields) > 5 else []
        rows.append((int(pty), language, age_gender, name, file, others))
    taken: set[str] = set()
    voices = []
    for priority, language, age_gender, name, file, others in rows:
        # Two voices may share a language (yue and its Jyutping variant): the second is
        # named after its voice file instead.
        key = language if language not in taken else file.rsplit("/", 1)[-1].lower()
        taken.add(key)
        voices.append(
            Voice(
                id=f"espeak:{key}",
                engine="espeak",
                name=name.replace("_", " "),
                language=_bcp47(language),
                sample_rate=_SAMPLE_RATE,
                quality=Quality.formant,
                gender=_GENDERS.get(age_gender.rsplit("/", 1)[-1]),
                aliases=tuple((_bcp47(code), int(prio)) for code, prio in others),
                priority=priority,
                auto=key not in _UNINTELLIGIBLE,
                credit="espeak-ng (GPL-3.0+)",
                locator=file,
            )
        )
    return voices
