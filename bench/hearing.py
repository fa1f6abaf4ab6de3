"""What a listener hears of everyday sentences with numbers, money, dates, units, phone numbers,
abbreviations and acronyms (issue 22): Whisper base (language forced) on the default Mandarin,
English and Italian voices, with sayfile's normalisation and as before it (Mandarin through
wetext alone, English and Italian as written), scored as character (Mandarin) and word
(English, Italian) error rates.

Both the written sentence and what Whisper writes are put in words by the same normaliser
before they are compared, so that "$45.99" and "forty-five dollars and ninety-nine cents"
(or "12,50€" and "dodici euro e cinquanta") count as the same, and an Italian word written
two ways for one sound (ha and a, d' and di) is written one way on both sides; the score is
about what was heard, not how it was written. `--show` prints, per sentence, the error, the
sentence, the words said, the phonemes the voice was given and what Whisper wrote.

    PYTHONPATH=src .venv/bin/python bench/hearing.py [--before] [--show] [--languages zh it]
        [--voice it=kokoro:im_nicola]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from listening import Listener, character_error_rate, simplified, word_error_rate
from sayfile.models import SpeechRequest
from sayfile.settings import Settings
from sayfile.speech.plan import validate
from sayfile.speech.scheduler import Lane
from sayfile.text.normalisation import Normalisation
from sayfile.wiring import build_synthesizer
from test_normalisation import HELD_OUT_ENGLISH, HELD_OUT_ITALIAN, HELD_OUT_MANDARIN, canonical

VOICES = {"zh": "kokoro:zm_yunjian", "en": "kokoro:af_heart", "it": "kokoro:if_sara"}
SENTENCES = {"zh": HELD_OUT_MANDARIN, "en": HELD_OUT_ENGLISH, "it": HELD_OUT_ITALIAN}
TAGS = {"zh": "zh-CN", "en": "en-US", "it": "it"}


class _Before:
    """What sayfile did before normalisation was a stage: wetext on Mandarin (inside the
    Kokoro engine), English and Italian left to espeak-ng."""

    def said(self, text: str, language: str) -> str:
        if not language.startswith("zh"):
            return text
        from wetext import Normalizer

        return str(Normalizer(lang="zh", operator="tn").normalize(text.replace("\u2212", "-")))


def heard_all(before: bool, languages: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Each held-out sentence with the phonemes its voice was given and what Whisper heard of
    it, per language."""
    import asyncio

    settings = Settings()
    synthesizer = build_synthesizer(settings)
    if before:
        synthesizer.pipeline.audio.normalisation = _Before()  # type: ignore[assignment]
    listener = Listener()
    heard: dict[str, list[tuple[str, str, str]]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "spoken.wav"
            for language in languages:
                rows = heard[language] = []
                for text in SENTENCES[language]:
                    request = SpeechRequest(text, voice=VOICES[language], format="wav")
                    plan = validate(request, synthesizer, settings, None)
                    turn = synthesizer.executor.turn(Lane.interactive)
                    asyncio.run(synthesizer.write(plan, target, turn))
                    words = listener.hear(target.read_bytes(), language)
                    phonemes = _phonemes(synthesizer, plan.voice, text)
                    rows.append((text, phonemes, simplified(words) if language == "zh" else words))
    finally:
        synthesizer.executor.close()
    return heard


def _phonemes(synthesizer: Any, voice: Any, text: str) -> str:
    """What the Kokoro voice was given for `text` (words as said, then its phonemes)."""
    said = synthesizer.pipeline.audio.normalisation.said(text, voice.language)
    engine = synthesizer.catalogue.engine(voice)
    phonemes = getattr(engine, "phonemes", None)
    return f"{said}  /{phonemes(voice, said)}/" if phonemes else said


def scores(
    heard: dict[str, list[tuple[str, str, str]]],
) -> dict[str, list[tuple[str, str, str, float]]]:
    """Each sentence's error rate, written and heard both put in words first."""
    words = Normalisation()
    scored: dict[str, list[tuple[str, str, str, float]]] = {}
    for language, rows in heard.items():
        tag = TAGS[language]
        rate: Any = character_error_rate if language == "zh" else word_error_rate
        scored[language] = [
            (text, phonemes, said, rate(canonical(words, text, tag), canonical(words, said, tag)))
            for text, phonemes, said in rows
        ]
    return scored


def letters(language: str, rows: list[tuple[str, str, str]]) -> float:
    """Italian as heard letter by letter, the written side and Whisper's both put in words:
    the mean character error rate with word boundaries, apostrophes and the silent h of ha,
    ho, hanno left out. Whisper base writes sounds that are one and the same in Italian as
    different words ("ha assunto" as "assunto", "Mio nonno" as "Miononno", "al litro" as
    "all'itro"); this second number shows how much of the word error rate that is. The
    word error rate stays the measure the target is set in."""
    words = Normalisation()
    tag = TAGS[language]

    def sounds(text: str) -> str:
        return re.sub(r"\bh", "", canonical(words, text, tag).lower())

    return statistics.mean(
        character_error_rate(sounds(text), sounds(said)) for text, _, said in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", action="store_true", help="as before the stage")
    parser.add_argument("--show", action="store_true", help="each sentence and what was heard")
    parser.add_argument("--languages", nargs="*", default=list(SENTENCES), choices=list(SENTENCES))
    parser.add_argument("--voice", action="append", default=[], help="LANG=VOICE, another voice")
    parser.add_argument("--save", type=Path, help="also write what was heard to this JSON file")
    parser.add_argument("--load", type=Path, help="score what a --save run heard; hear nothing")
    args = parser.parse_args()
    VOICES.update(choice.split("=", 1) for choice in args.voice)
    # Everything is heard before anything is scored: scoring loads sayfile's normaliser,
    # whose Mandarin readings would otherwise change what "before" says. A run saved from
    # another checkout (--save) is scored by this one's scorer (--load), so that two versions
    # of the voices are compared by one measure.
    if args.load:
        saved = json.loads(args.load.read_text("utf-8"))
        VOICES.update(saved["voices"])
        heard = {
            language: [tuple(row) for row in rows] for language, rows in saved["heard"].items()
        }
    else:
        heard = heard_all(args.before, args.languages)
    if args.save:
        document = {"voices": VOICES, "heard": heard}
        args.save.write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
    scored = scores(heard)
    label = "before" if args.before else "after"
    print(f"| language | voice | sentences | {label}: mean error rate | letters |")
    print("| --- | --- | --- | --- | --- |")
    for language, rows in scored.items():
        mean = statistics.mean(rate for *_, rate in rows)
        kind = "CER" if language == "zh" else "WER"
        sounds = f"CER {letters(language, heard[language]):.3f}" if language == "it" else ""
        print(f"| {language} | {VOICES[language]} | {len(rows)} | {kind} {mean:.3f} | {sounds} |")
    if args.show:
        for rows in scored.values():
            for text, phonemes, said, rate in rows:
                print(f"{rate:.3f}  {text}\n       said: {phonemes}\n      heard: {said}")


if __name__ == "__main__":
    main()
