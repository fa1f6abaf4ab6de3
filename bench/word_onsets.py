"""Where a word's sound begins in Kokoro's audio, judged by the audio itself, against where its
phonemes' durations put it (issue 25): held-out English, Mandarin and Spanish paragraphs said at
speed 1.0 and 1.5, each phoneme's span from the model's durations (engines/kokoro_run.py), and three
landmarks a listener's ear agrees with and no recognizer is needed for:

- after a pause, the first rise of the level out of the silence (as the heard test measures);
- a stop, an affricate, a nasal or a weak fricative after a vowel: the level above 400 Hz
  falls into its closure or murmur (halfway down, in dB);
- a sibilant after a vowel: the hiss (3.5-11 kHz over 0.1-1.5 kHz) rises (halfway up).

Each landmark is given against the consonant's own start and against the start of the space
before it (where sayfile times a word from), for word-initial consonants after a space and,
as a control, for the same consonants inside words (no space token between).

    PYTHONPATH=src .venv/bin/python bench/word_onsets.py [--speeds 1.0 1.5] [--engine piper]
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

RATE = 24_000  # Kokoro's; Piper's voice says its own
HOP_S = 0.002
WINDOW_S = 0.0107

ENGLISH = [
    # Herman Melville, Moby-Dick (1851), chapter 1.
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no "
    "money in my purse, and nothing particular to interest me on shore, I thought I would "
    "sail about a little and see the watery part of the world. It is a way I have of driving "
    "off the spleen and regulating the circulation.",
    # Abraham Lincoln, the Gettysburg Address (1863).
    "Four score and seven years ago our fathers brought forth on this continent, a new "
    "nation, conceived in Liberty, and dedicated to the proposition that all men are created "
    "equal. Now we are engaged in a great civil war, testing whether that nation, or any "
    "nation so conceived and so dedicated, can long endure.",
    # Charles Dickens, A Tale of Two Cities (1859), chapter 1.
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was "
    "the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it "
    "was the season of Light, it was the season of Darkness, it was the spring of hope, it "
    "was the winter of despair.",
]
SPANISH = [
    # Miguel de Cervantes, Don Quijote (1605), chapter 1.
    "En un lugar de la Mancha, de cuyo nombre no quiero acordarme, no ha mucho tiempo que "
    "vivía un hidalgo de los de lanza en astillero, adarga antigua, rocín flaco y galgo "
    "corredor. Una olla de algo más vaca que carnero, salpicón las más noches, duelos y "
    "quebrantos los sábados, lantejas los viernes, algún palomino de añadidura los domingos, "
    "consumían las tres partes de su hacienda.",
]
MANDARIN = [
    # Lu Xun, 孔乙己 (1919).
    "鲁镇的酒店的格局，是和别处不同的：都是当街一个曲尺形的大柜台，柜里面预备着热水，可以随时温酒。"
    "做工的人，傍午傍晚散了工，每每花四文铜钱，买一碗酒，靠柜外站着，热热的喝了休息。",
    # Zhu Ziqing, 背影 (1925).
    "我与父亲不相见已二年余了，我最不能忘记的是他的背影。那年冬天，祖母死了，父亲的差使也交卸了，"
    "正是祸不单行的日子。我从北京到徐州，打算跟着父亲奔丧回家。",
]

_VOWELS = set("aeiouyɑɐɒæəɘɚɛɜɞɨɪɯɵɔʊʌʏøœɤᵻː")
_TONES = set("↓↘↗→")
_STRESS = set("ˈˌ")
# Word-initial consonants by the landmark that shows where they begin.
_DROPS = {
    "p", "t", "k", "b", "d", "ɡ", "m", "n", "f", "θ", "ʧ", "ʤ", "ʨ", "ʦ", "ʈ",
}  # fmt: skip
_HISSES = {"s", "ʃ", "ʂ", "ɕ", "z"}


def _bands(audio: NDArray[np.float32], rate: int) -> dict[str, NDArray[np.float64]]:
    """Levels in dB every 2 ms (a 10.7 ms Hann window centred there)."""
    hop, window = round(HOP_S * rate), round(WINDOW_S * rate)
    padded = np.pad(audio.astype(np.float64), window // 2)
    count = 1 + (len(padded) - window) // hop
    frames = np.lib.stride_tricks.as_strided(
        padded, (count, window), (padded.strides[0] * hop, padded.strides[0])
    )
    power = np.abs(np.fft.rfft(frames * np.hanning(window), axis=1)) ** 2
    hz = np.fft.rfftfreq(window, 1 / rate)

    def level(low: float, high: float) -> NDArray[np.float64]:
        band = (hz >= low) & (hz < high)
        levels: NDArray[np.float64] = 10 * np.log10(power[:, band].sum(axis=1) + 1e-9)
        return levels

    return {
        "all": level(0, 12_000),
        "mid": level(400, 7_000),
        "hiss": level(3_500, 11_000) - level(100, 1_500),
    }


def _crossing(curve: NDArray[np.float64], at: int, falling: bool) -> int | None:
    """Where `curve` crosses halfway between its extremes near frame `at` (the closure's low
    or the hiss's high within 60 ms, the level before it within 100 ms before that); None
    when the change is under 10 dB."""
    sign = 1 if falling else -1
    near = slice(max(0, at - 30), min(len(curve), at + 30))
    if near.start >= near.stop:
        return None
    deep = near.start + int(np.argmin(sign * curve[near]))
    before = slice(max(0, deep - 50), deep + 1)
    high = before.start + int(np.argmax(sign * curve[before]))
    if sign * (curve[high] - curve[deep]) < 10:
        return None
    middle = (curve[high] + curve[deep]) / 2
    for frame in range(high, deep + 1):
        if sign * (curve[frame] - middle) < 0:
            return frame
    return None


def _onset_after_quiet(level: NDArray[np.float64], at: int) -> int | None:
    """The first frame within 100 ms of `at` louder than 35 dB below the loudest, after at
    least 150 ms quieter than that; None if the audio is not quiet there."""
    loud = level > level.max() - 35
    quiet = 0
    for frame in range(max(0, at - 125), min(len(loud), at + 50)):
        if loud[frame]:
            if quiet >= 75 and frame >= at - 50:
                return frame
            quiet = 0
        else:
            quiet += 1
    return None


def _end_before_quiet(level: NDArray[np.float64], at: int) -> int | None:
    """The end of the first frame from 400 ms before `at` to 150 ms after louder than 35 dB
    below the loudest that at least 150 ms quieter than that follow; None if there is none."""
    loud = level > level.max() - 35
    for frame in range(max(0, at - 200), min(len(loud) - 75, at + 75)):
        if loud[frame] and not loud[frame + 1 : frame + 76].any():
            return frame + 1
    return None


def landmarks(
    phonemes: str, spans: Sequence[tuple[int, int]], audio: NDArray[np.float32], rate: int
) -> list[tuple[str, str, float, float, float]]:
    """(context, consonant, landmark minus the consonant's start, landmark minus the space's
    start (or nan inside a word), the space's length), seconds. Contexts: "pause" (a word
    after silence, the landmark its onset), "word" (a consonant after a vowel and a space),
    "inside" (after a vowel inside a word), "end" (the last phoneme before a pause mark: where
    the sound falls silent minus that phoneme's end)."""
    bands = _bands(audio, rate)
    hop = round(HOP_S * rate)
    found = []
    for at, symbol in enumerate(phonemes):
        if symbol in ",.;:!?" and at > 0 and phonemes[at - 1] not in " ,.;:!?":
            ending = _end_before_quiet(bands["all"], round(spans[at - 1][1] / hop))
            if ending is not None:
                heard = ending * hop
                found.append(("end", phonemes[at - 1], (heard - spans[at - 1][1]) / rate,
                              float("nan"), 0.0))  # fmt: skip
        if symbol in " ,.;:!?" or at == 0:
            continue
        start = spans[at][0]
        space = at - 1 if phonemes[at - 1] == " " else None
        if space is not None and at >= 2 and phonemes[at - 2] in ",.;:!?—…":
            onset = _onset_after_quiet(bands["all"], round(spans[space][0] / hop))
            if onset is not None:
                heard = onset * hop
                found.append(
                    ("pause", symbol, (heard - start) / rate, (heard - spans[space][0]) / rate,
                     (start - spans[space][0]) / rate)
                )  # fmt: skip
            continue
        before = phonemes[at - 2] if space is not None and at >= 2 else phonemes[at - 1]
        if before in _TONES and at >= 3:
            before = phonemes[at - 3 if space is not None else at - 2]
        if before not in _VOWELS or symbol not in _DROPS | _HISSES:
            continue
        if symbol in _DROPS:
            frame = _crossing(bands["mid"], round(start / hop), falling=True)
        else:
            frame = _crossing(bands["hiss"], round(start / hop), falling=False)
        if frame is None:
            continue
        heard = frame * hop
        if space is None:
            found.append(("inside", symbol, (heard - start) / rate, float("nan"), 0.0))
        else:
            found.append(
                ("word", symbol, (heard - start) / rate, (heard - spans[space][0]) / rate,
                 (start - spans[space][0]) / rate)
            )  # fmt: skip
    return found


Said = list[tuple[str, str, list[tuple[int, int]], NDArray[np.float32], int]]


def _kokoro(speed: float) -> Said:
    """(voice, phonemes, each phoneme's span where its durations' sum puts it, audio) of
    each paragraph."""
    from sayfile.engines.kokoro import KokoroEngine, _espeak_phonemes
    from sayfile.engines.kokoro_blend import blended_style
    from sayfile.engines.kokoro_run import KokoroRun
    from sayfile.engines.kokoro_words import spaced_words

    engine = KokoroEngine(threads=2)
    voices = {voice.id: voice for voice in engine.voices()}
    model = engine._loaded()
    summed = KokoroRun(model.sess, model.tokenizer.vocab, lead=0)
    said = []
    paragraphs = (
        ("kokoro:af_heart", ENGLISH, "en-us"),
        ("kokoro:zf_xiaobei", MANDARIN, None),
        ("kokoro:ef_dora", SPANISH, "es"),
    )
    for voice, texts, language in paragraphs:
        style = blended_style(model, voices[voice].locator)
        for text in texts:
            if language is None:
                words = engine._phonemes_of_mandarin(model, text)
            else:
                words = spaced_words(text, _espeak_phonemes(model, text, language))
            phonemes = words.spaced().phonemes
            timed = summed(phonemes, style, speed)
            said.append((voice, phonemes, timed.spans.tolist(), timed.audio, RATE))
    return said


def _piper(speed: float) -> Said:
    """The same for Piper's bundled English voice, its phonemes one character each (a phoneme
    of several is heard on its first), sentence after sentence as engines/piper_words.py
    joins them."""
    from piper import SynthesisConfig

    from sayfile.engines.piper import PiperEngine
    from sayfile.engines.piper_words import SpokenSentence, phoneme_spans

    engine = PiperEngine()
    voice = next(v for v in engine.voices() if v.id == "piper:en_US-joe-medium")
    model = engine._model(voice)
    config = SynthesisConfig(length_scale=model.config.length_scale / speed, normalize_audio=False)
    said = []
    for text in ENGLISH:
        symbols: list[str] = []
        spans: list[tuple[int, int]] = []
        audio = []
        offset = 0
        for chunk in model.synthesize(text, config, include_alignments=True):
            sentence = SpokenSentence(
                chunk.phonemes,
                chunk.phoneme_ids,
                chunk.phoneme_id_samples,
                chunk.audio_int16_array.size,
            )
            found = phoneme_spans(sentence, model.config.phoneme_id_map)
            assert found is not None
            if symbols:
                symbols.append(" ")
                spans.append((offset, offset))
            for phoneme, (start, end) in zip(chunk.phonemes, found, strict=True):
                symbols.extend(phoneme)
                spans.append((offset + start, offset + end))
                spans.extend([(offset + end, offset + end)] * (len(phoneme) - 1))
            audio.append(chunk.audio_float_array)
            offset += sentence.length
        said.append((voice.id, "".join(symbols), spans, np.concatenate(audio), voice.sample_rate))
    return said


def _summary(values: list[float]) -> str:
    if not values:
        return "-"
    middle = statistics.median(values)
    low, high = np.percentile(values, [25, 75])
    return f"{middle * 1000:+.0f} ({low * 1000:+.0f} to {high * 1000:+.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speeds", type=float, nargs="+", default=[1.0, 1.5])
    parser.add_argument("--engine", choices=["kokoro", "piper"], default="kokoro")
    args = parser.parse_args()
    from sayfile.engines.kokoro_run import LEAD_SAMPLES

    lead = LEAD_SAMPLES / RATE if args.engine == "kokoro" else 0.0
    print("| voice | speed | context | n | landmark - consonant start, ms: median (IQR) | "
          "landmark - space start | space | sayfile's start - landmark |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for speed in args.speeds:
        rows: dict[tuple[str, str], list[tuple[str, str, float, float, float]]] = defaultdict(list)
        for voice, phonemes, spans, audio, rate in (_kokoro if args.engine == "kokoro" else _piper)(
            speed
        ):
            for row in landmarks(phonemes, spans, audio, rate):
                rows[(voice, row[0])].append(row)
        for (voice, context), found in sorted(rows.items()):
            # sayfile's start: Kokoro's the first phoneme after a pause, else the space, less
            # the lead; Piper's the space.
            after = "pause" if args.engine == "kokoro" else ""
            ours = [-lead - (r[2] if context == after else r[3]) for r in found]
            print(
                f"| {voice} | {speed} | {context} | {len(found)} | "
                f"{_summary([r[2] for r in found])} | "
                f"{_summary([r[3] for r in found if r[3] == r[3]])} | "
                f"{_summary([r[4] for r in found])} | "
                f"{_summary(ours) if context in ('pause', 'word') else '-'} |"
            )


if __name__ == "__main__":
    main()
