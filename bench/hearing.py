"""What a listener hears of everyday sentences with numbers, money, dates, units, phone numbers,
abbreviations and acronyms (issue 22): Whisper base (language forced) on the default Mandarin
and English voices, with sayfile's normalisation and as before it (Mandarin through wetext
alone, English as written), scored as character (Mandarin) and word (English) error rates.

Both the written sentence and what Whisper writes are put in words by the same normaliser
before they are compared, so that "$45.99" and "forty-five dollars and ninety-nine cents"
count as the same; the score is about what was heard, not how it was written.

    PYTHONPATH=src .venv/bin/python bench/hearing.py [--before] [--show]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from listening import Listener, character_error_rate, simplified, word_error_rate
from sayfile.models import SpeechRequest
from sayfile.normalisation import Normalisation
from sayfile.plans import validate
from sayfile.scheduler import Lane
from sayfile.settings import Settings
from sayfile.wiring import build_synthesizer
from test_normalisation import HELD_OUT_ENGLISH, HELD_OUT_MANDARIN, canonical

VOICES = {"zh": "kokoro:zm_yunjian", "en": "kokoro:af_heart"}


class _Before:
    """What sayfile did before normalisation was a stage: wetext on Mandarin (inside the
    Kokoro engine), English left to espeak-ng."""

    def said(self, text: str, language: str) -> str:
        if not language.startswith("zh"):
            return text
        from wetext import Normalizer

        return str(Normalizer(lang="zh", operator="tn").normalize(text.replace("\u2212", "-")))


def heard_all(before: bool) -> dict[str, list[tuple[str, str]]]:
    """Each held-out sentence with what Whisper heard of it, per language."""
    import asyncio

    settings = Settings()
    synthesizer = build_synthesizer(settings)
    if before:
        synthesizer.normalisation = _Before()  # type: ignore[assignment]
    listener = Listener()
    heard: dict[str, list[tuple[str, str]]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "spoken.wav"
            for language, sentences in (("zh", HELD_OUT_MANDARIN), ("en", HELD_OUT_ENGLISH)):
                rows = heard[language] = []
                for text in sentences:
                    request = SpeechRequest(text, voice=VOICES[language], format="wav")
                    plan = validate(request, synthesizer, settings, None)
                    turn = synthesizer.executor.turn(Lane.interactive)
                    asyncio.run(synthesizer.write(plan, target, turn))
                    words = listener.hear(target.read_bytes(), language)
                    rows.append((text, simplified(words) if language == "zh" else words))
    finally:
        synthesizer.executor.close()
    return heard


def scores(heard: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str, float]]]:
    """Each sentence's error rate, written and heard both put in words first."""
    words = Normalisation()
    scored: dict[str, list[tuple[str, str, float]]] = {}
    for language, rows in heard.items():
        tag = "zh-CN" if language == "zh" else "en-US"
        rate: Any = character_error_rate if language == "zh" else word_error_rate
        scored[language] = [
            (text, said, rate(canonical(words, text, tag), canonical(words, said, tag)))
            for text, said in rows
        ]
    return scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", action="store_true", help="as before the stage")
    parser.add_argument("--show", action="store_true", help="each sentence and what was heard")
    args = parser.parse_args()
    # Everything is heard before anything is scored: scoring loads sayfile's normaliser,
    # whose Mandarin readings would otherwise change what "before" says.
    scored = scores(heard_all(args.before))
    label = "before" if args.before else "after"
    print(f"| language | voice | sentences | {label}: mean error rate |")
    print("| --- | --- | --- | --- |")
    for language, rows in scored.items():
        mean = statistics.mean(rate for _, _, rate in rows)
        kind = "CER" if language == "zh" else "WER"
        print(f"| {language} | {VOICES[language]} | {len(rows)} | {kind} {mean:.3f} |")
    if args.show:
        for rows in scored.values():
            for text, said, rate in rows:
                print(f"{rate:.3f}  {text}  ->  {said}")


if __name__ == "__main__":
    main()
