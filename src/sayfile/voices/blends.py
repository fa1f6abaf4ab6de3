"""Mixed voices as people write them, `af_bella(2)+af_sky(1)` or
`kokoro:af_bella(2)+kokoro:af_sky(1)`: read, checked, and turned into one voice by the engine
whose voices they are (the arithmetic is the engine's: engines/kokoro_blend.py).

The weights are normalised by their sum into whole percent shares that add up to 100, so
`af_bella(2)+af_sky(1)`, `af_sky+af_bella(2)` and `kokoro:af_bella(67)+af_sky(33)` are one
voice with one id (`kokoro:af_bella(67)+af_sky(33)`: largest share first, then by name).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sayfile.engines import Engine
from sayfile.engines.base import Blending
from sayfile.errors import InvalidBlend
from sayfile.models import Voice
from sayfile.text.language_tags import primary

MAX_VOICES = 4
_PART = re.compile(
    r"\s*(?:(?P<engine>[A-Za-z][\w-]*):)?(?P<name>[^\s:()+]+)\s*(?:\((?P<weight>[^()]*)\))?\s*"
)
_SUBTRACTION = re.compile(r"\)\s*-|^\s*-")


def looks_like_blend(text: str) -> bool:
    """Whether `text` (not a voice id) is written as a mix."""
    return "+" in text or "(" in text or ")" in text


@dataclass(frozen=True, slots=True)
class BlendPart:
    """One voice of a mix as written: its engine when named, its name and its weight."""

    engine: str | None
    name: str
    weight: float


def read_blend(text: str) -> list[BlendPart]:
    """The parts of the mix `text`, in the order written. Raises InvalidBlend for more than
    MAX_VOICES parts, a part that cannot be read, or a weight that is not a positive number."""
    pieces = text.split("+")
    if len(pieces) > MAX_VOICES:
        raise InvalidBlend(
            text, f"it names {len(pieces)} voices, and at most {MAX_VOICES} can be mixed"
        )
    parts = []
    for piece in pieces:
        if not piece.strip():
            raise InvalidBlend(text, "a voice is missing next to a +")
        found = _PART.fullmatch(piece)
        if found is None:
            subtracting = _SUBTRACTION.search(piece) is not None
            why = " (taking a voice away, a-b, is not offered)" if subtracting else ""
            raise InvalidBlend(text, f"cannot read {piece.strip()!r}{why}")
        name = found["name"]
        parts.append(BlendPart(found["engine"], name, _weight(text, name, found["weight"])))
    return parts


def _weight(text: str, name: str, written: str | None) -> float:
    if written is None:
        return 1.0
    try:
        value = float(written)
    except ValueError:
        raise InvalidBlend(
            text, f"the weight {written.strip()!r} of {name} is not a number"
        ) from None
    if math.isnan(value):
        raise InvalidBlend(text, f"the weight {written.strip()!r} of {name} is not a number")
    if math.isinf(value) and value > 0:
        raise InvalidBlend(text, f"the weight {written.strip()!r} of {name} is too large")
    if value <= 0:
        raise InvalidBlend(text, f"the weight {written.strip()!r} of {name} is not above 0")
    return value


def percent_shares(weights: Mapping[str, float]) -> dict[str, int]:
    """`weights` normalised by their sum as whole percents adding up to 100 (the percents
    left after rounding down go to the largest remainders, ties to the first key in order,
    so the result does not depend on the order the weights were written in)."""
    total = sum(weights.values())
    exact = {key: weight * 100 / total for key, weight in weights.items()}
    shares = {key: math.floor(value) for key, value in exact.items()}
    left = 100 - sum(shares.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - shares[key]), key))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


class Mixer:
    """Turns a mix as written into a voice, among `voices` (by lower-case id) of `engines`."""

    def __init__(self, voices: Mapping[str, Voice], engines: Mapping[str, Engine]) -> None:
        self._voices = voices
        self._engines = engines

    def voice(self, text: str) -> Voice:
        """The voice `text` mixes: a voice of its own with a canonical id, or the one voice it
        names when it names one. Raises InvalidBlend naming the problem: too many voices, a
        weight, an unknown voice, voices of several engines or languages, or an engine that
        cannot mix."""
        parts = read_blend(text)
        named = {part.engine.lower() for part in parts if part.engine}
        # A part without an engine is of the engine the others name (kokoro:a(2)+b(1)).
        implied = next(iter(named)) if len(named) == 1 else None
        weights: dict[str, float] = {}
        for part in parts:
            voice = self._voice_of(text, part, implied)
            weights[voice.id.lower()] = weights.get(voice.id.lower(), 0.0) + part.weight
        voices = [self._voices[key] for key in weights]
        engines = sorted({voice.engine for voice in voices})
        if len(engines) > 1:
            raise InvalidBlend(
                text,
                f"it mixes voices of several engines ({', '.join(engines)}); a mix is of "
                "one engine's voices",
            )
        primaries = {primary(voice.language) for voice in voices}
        if len(primaries) > 1:
            spoken = ", ".join(f"{voice.id} {voice.language}" for voice in voices)
            raise InvalidBlend(
                text,
                f"its voices speak different languages ({spoken}); mixed voices share one "
                "language (regions may differ: en-US with en-GB)",
            )
        shares = percent_shares(dict(sorted(weights.items())))
        if len(shares) == 1:
            return voices[0]
        for key, share in shares.items():
            if share == 0:
                raise InvalidBlend(
                    text, f"{self._voices[key].id} gets less than 1% of the mix; give it more"
                )
        ordered = sorted(shares.items(), key=lambda item: (-item[1], item[0]))
        engine = self._engines[engines[0]]
        parts_made = [(self._voices[key], share) for key, share in ordered]
        made = engine.blend(parts_made) if isinstance(engine, Blending) else None
        if made is None:
            raise InvalidBlend(text, f"{engines[0]}'s voices cannot be mixed, only Kokoro's")
        return made

    def _voice_of(self, text: str, part: BlendPart, implied: str | None) -> Voice:
        engine = part.engine or implied
        found = self._voices.get(f"{engine}:{part.name}".lower()) if engine else None
        if found is None and part.engine is None:
            hits = [
                voice
                for voice in self._voices.values()
                if voice.id.split(":", 1)[1].lower() == part.name.lower()
            ]
            found = hits[0] if len(hits) == 1 else None
        if found is None:
            written = f"{part.engine}:{part.name}" if part.engine else part.name
            close = difflib.get_close_matches(
                f"{engine or 'kokoro'}:{part.name.lower()}", list(self._voices), n=3, cutoff=0.5
            )
            hint = f" (did you mean {', '.join(self._voices[c].id for c in close)}?)"
            raise InvalidBlend(text, f"no voice {written!r}{hint if close else ''}")
        return found
