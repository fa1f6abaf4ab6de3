"""The silence an SSML <mark>, or a pronunciation (<phoneme>, a lexicon's IPA), inside a
sentence leaves in the audio. Marks: each text below said by a
real voice (Kokoro's English and Mandarin, Piper's, espeak-ng's) through the synthesizer, as a
request is, and for each the engine calls it took (the pieces), the longest silence between
the word before the mark and the word after it (levels every 2 ms over 10.7 ms, quieter than
35 dB below the loudest; from the middle of the word before to the middle of the word after)
beside the same text said without the mark, and the mark's time against where the word after
it begins. Pronunciations: the engine calls, and the longest silence into the term (from the
middle of the word before to 30 ms into the term) and out of it (from its middle to 30 ms into
the word after), as Whisper base hears the sentence with --hear.

    PYTHONPATH=src:bench:tests .venv/bin/python bench/mark_gaps.py [--voices kokoro:af_heart ...]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import wave

import numpy as np
from numpy.typing import NDArray

from sayfile.models import SpeechRequest
from sayfile.settings import Settings
from sayfile.speech.plan import validate
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import RenderedAudio, Synthesizer
from sayfile.wiring import build_synthesizer

HOP_S = 0.002
WINDOW_S = 0.0107
QUIET_DB = 35.0
# (words before the mark, words after it, the rest of the sentence): the mark goes between.
ENGLISH = [
    ("The weather today is", "bright", "and warm, so we walk to the river."),
    ("Please open the", "second", "drawer on the left before you leave."),
    ("We met our friends at the", "station", "and took the train home together."),
]
MANDARIN = [
    ("今天的天气", "非常", "好，我们去河边散步吧。"),
    ("请你打开左边的", "第二个", "抽屉，然后再走。"),
]
# (voice, text, the term, a lexicon): a pronunciation inside a sentence.
PRONOUNCED = [
    (
        "kokoro:af_heart",
        '<speak>Please ask <phoneme alphabet="ipa" ph="wˈɪn">Nguyen</phoneme> to call me back '
        "tomorrow.</speak>",
        "Nguyen",
        [],
    ),
    (
        "kokoro:af_heart",
        "Please ask Nguyen to call me back tomorrow.",
        "Nguyen",
        [{"language": "en", "term": "Nguyen", "replacement": "ipa:wˈɪn"}],
    ),
    (
        "kokoro:zf_xiaobei",
        '<speak>我们<phoneme alphabet="x-pinyin" ph="zui4 chang2">最长</phoneme>'
        "的河是长江。</speak>",
        "最长",
        [],
    ),
    (
        "piper:en_US-joe-medium",
        '<speak>Please ask <phoneme alphabet="ipa" ph="wˈɪn">Nguyen</phoneme> to call me back '
        "tomorrow.</speak>",
        "Nguyen",
        [],
    ),
]
VOICES = ["kokoro:af_heart", "kokoro:zf_xiaobei", "piper:en_US-joe-medium", "espeak:en-us"]


def levels(samples: NDArray[np.int16], rate: int) -> NDArray[np.float64]:
    """The level in dB of each HOP_S frame, over WINDOW_S."""
    hop, window = round(HOP_S * rate), round(WINDOW_S * rate)
    audio = samples.astype(np.float64)
    frames = [audio[at : at + window] for at in range(0, max(1, audio.size - window), hop)]
    return np.array([10 * np.log10(np.mean(frame**2) + 1e-9) for frame in frames])


def longest_quiet(level: NDArray[np.float64], loudest: float, start: int, end: int) -> float:
    """Seconds of the longest run of frames in [start, end) quieter than QUIET_DB below
    `loudest`."""
    quiet = level[start:end] < loudest - QUIET_DB
    best = run = 0
    for frame in quiet:
        run = run + 1 if frame else 0
        best = max(best, run)
    return best * HOP_S


def said(
    synthesizer: Synthesizer, text: str, voice: str, lexicon: list[dict[str, str]] | None = None
) -> RenderedAudio:
    request = SpeechRequest(
        text, voice=voice, format="wav", loudness="off", lexicon=tuple(lexicon or ())
    )
    plan = validate(request, synthesizer, Settings(), None)

    async def render() -> RenderedAudio:
        return await synthesizer.render(plan, synthesizer.executor.turn(Lane.interactive))

    return asyncio.run(render())


def measured(rendered: RenderedAudio, before: str, after: str) -> tuple[int, float, float]:
    """The pieces, the silence between `before`'s last word and `after`'s first, and the
    mark's time less where the word after begins (0 where there is no mark)."""
    with wave.open(io.BytesIO(rendered.data)) as audio:
        rate = audio.getframerate()
        samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    timings = rendered.timings
    words = list(timings.words or ())
    last = before.split()[-1] if " " in before else before
    first = after.split()[0]
    word_before = next(w for w in words if last.endswith(w.text) or w.text.endswith(last))
    word_after = next(w for w in words if w.start >= word_before.end - 1e-6 and first in w.text)
    level = levels(samples, rate)
    middle_before = (word_before.start + word_before.end) / 2
    middle_after = (word_after.start + word_after.end) / 2
    gap = longest_quiet(
        level, float(level.max()), round(middle_before / HOP_S), round(middle_after / HOP_S)
    )
    mark = timings.marks[0].start if timings.marks else word_after.start
    return len(timings.pieces), gap, mark - word_after.start


def pronounced(synthesizer: Synthesizer, hear: bool) -> None:
    """The table of pronunciations inside sentences."""
    listener = None
    if hear:
        from listening import Listener

        listener = Listener()
    print("| voice | text | pieces | silence into the term (s) | out of it (s) | heard |")
    print("| --- | --- | --- | --- | --- | --- |")
    for voice, text, term, lexicon in PRONOUNCED:
        rendered = said(synthesizer, text, voice, lexicon)
        with wave.open(io.BytesIO(rendered.data)) as audio:
            rate = audio.getframerate()
            samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
        words = list(rendered.timings.words or ())
        at = next(n for n, word in enumerate(words) if word.text == term)
        before, heard, after = words[at - 1], words[at], words[at + 1]
        level = levels(samples, rate)
        loudest = float(level.max())
        into = longest_quiet(
            level,
            loudest,
            round((before.start + before.end) / 2 / HOP_S),
            round((heard.start + 0.03) / HOP_S),
        )
        out = longest_quiet(
            level,
            loudest,
            round((heard.start + heard.end) / 2 / HOP_S),
            round((after.start + 0.03) / HOP_S),
        )
        language = "zh" if voice.startswith("kokoro:z") else "en"
        heard_text = listener.hear(rendered.data, language) if listener else ""
        shown = "lexicon" if lexicon else text.replace("<speak>", "").replace("</speak>", "")
        pieces = len(rendered.timings.pieces)
        print(f"| {voice} | {shown} | {pieces} | {into:.3f} | {out:.3f} | {heard_text} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voices", nargs="*", default=VOICES)
    parser.add_argument("--hear", action="store_true", help="Whisper base hears each")
    args = parser.parse_args()
    synthesizer = build_synthesizer(Settings())
    try:
        pronounced(synthesizer, args.hear)
        print()
        print(
            "| voice | text | pieces | silence at the mark (s) | without the mark (s) "
            "| mark - next word's start (s) |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for voice in args.voices:
            texts = MANDARIN if voice.startswith("kokoro:z") else ENGLISH
            gap = "" if voice.startswith("kokoro:z") else " "
            for before, after, rest in texts:
                ssml = f'<speak>{before}{gap}<mark name="m"/>{after}{gap}{rest}</speak>'
                pieces, silence, offset = measured(said(synthesizer, ssml, voice), before, after)
                plain = f"{before}{gap}{after}{gap}{rest}"
                _, control, _ = measured(said(synthesizer, plain, voice), before, after)
                print(
                    f"| {voice} | {before} · {after} | {pieces} | {silence:.3f} | {control:.3f} "
                    f"| {offset:+.3f} |"
                )
    finally:
        synthesizer.executor.close()
        synthesizer.catalogue.close()


if __name__ == "__main__":
    main()
