"""Every voice graded by listening: a fixed set of everyday sentences per language is spoken by
each voice through the real pipeline and written down by Whisper base (tests/listening.py,
language forced); the error rate (characters for Mandarin and Japanese, words for the rest) is
the voice's score. Prints a table and writes the scores into src/sayfile/heard.json, the one
table the catalogue reads (voices not graded in this run keep their earlier rows).

    make grade                                              # the same as the next line
    .venv/bin/python bench/grading.py                      # every voice below
    .venv/bin/python bench/grading.py --voices 'kokoro:j*'  # re-grade the Japanese voices
    .venv/bin/python bench/grading.py --sentences 5         # all five sentences per voice
    .venv/bin/python bench/grading.py --show                # the table, by language

The sentences are held out: the tests' sentences and the issue's are others. Not part of
`make bench` (it writes into the package).
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import Pipeline
from listening import (
    Listener,
    character_error_rate,
    simplified,
    word_error_rate,
)
from sayfile.heard import HARD_MARGIN
from sayfile.settings import Settings

TABLE = Path(__file__).resolve().parent.parent / "src" / "sayfile" / "heard.json"

# Everyday sentences, written for this grading, by the primary language Whisper is told.
SENTENCES = {
    "en": (
        "Please close the window before you leave the house.",
        "We walked to the market and bought fresh bread and apples.",
        "My sister is learning to play the piano this winter.",
        "The train was late, so we took a taxi to the airport.",
        "Could you call me back when you have a free moment?",
    ),
    "es": (
        "Mañana vamos a visitar a mis abuelos en el campo.",
        "Por favor, cierra la puerta cuando salgas de casa.",
        "El café de esta tienda es muy bueno y barato.",
        "Mi hermano trabaja en un hospital cerca del río.",
        "¿Puedes ayudarme a llevar estas cajas a la cocina?",
    ),
    "fr": (
        "Demain matin, nous allons au marché acheter des légumes.",
        "Ma sœur habite dans une petite maison près de la mer.",
        "Pouvez-vous me dire où se trouve la gare, s'il vous plaît ?",
        "Il fait très beau aujourd'hui, alors nous mangeons dehors.",
        "Les enfants jouent dans le jardin après l'école.",
    ),
    "it": (
        "Domani mattina andiamo al mercato a comprare la frutta.",
        "Mia sorella lavora in una scuola vicino alla stazione.",
        "Scusi, sa dov'è la fermata dell'autobus?",
        "Oggi fa molto caldo, quindi restiamo a casa.",
        "I bambini giocano nel parco dopo la scuola.",
    ),
    "pt": (
        "Amanhã vamos visitar meus avós no interior.",
        "Por favor, feche a janela antes de sair de casa.",
        "O café desta padaria é muito bom e barato.",
        "Minha irmã trabalha em um hospital perto do rio.",
        "Você pode me ajudar a levar estas caixas para a cozinha?",
    ),
    "de": (
        "Morgen früh gehen wir auf den Markt und kaufen Gemüse.",
        "Meine Schwester wohnt in einem kleinen Haus am See.",
        "Können Sie mir bitte sagen, wo der Bahnhof ist?",
        "Heute ist das Wetter schön, also essen wir draußen.",
        "Die Kinder spielen nach der Schule im Garten.",
    ),
    "hi": (
        "आज मौसम बहुत अच्छा है।",
        "मैं हर सुबह पार्क में टहलने जाता हूँ।",
        "कृपया दरवाज़ा बंद कर दीजिए।",
        "हम कल बाज़ार से सब्ज़ियाँ खरीदेंगे।",
        "मेरी बहन एक स्कूल में पढ़ाती है।",
    ),
    "ja": (
        "明日の朝、駅の前で会いましょう。",
        "この店のコーヒーはとてもおいしいです。",
        "私は毎日電車で会社に行きます。",
        "週末は家族と一緒に公園へ行きました。",
        "すみません、トイレはどこですか。",
    ),
    "zh": (
        "明天早上我们在学校门口见面吧。",
        "这家店的咖啡又便宜又好喝。",
        "我每天坐地铁去公司上班。",
        "周末我和家人一起去公园散步了。",
        "请问，最近的医院怎么走？",
    ),
}
# Errors over characters where words are not separated by spaces, and for Hindi, whose words
# Whisper base spells loosely (a vowel's length, a nasal): characters judge the sounds there.
BY_CHARACTER = {"zh", "ja", "hi"}
# Every Kokoro voice, Piper's joe, and the espeak-ng voices of languages people use most.
DEFAULT_VOICES = (
    "kokoro:*",
    "piper:en_US-joe-medium",
    "espeak:en-us",
    "espeak:es",
    "espeak:fr-fr",
    "espeak:de",
    "espeak:it",
    "espeak:pt-br",
    "espeak:cmn",
)


def whisper_language(tag: str) -> str:
    """The language Whisper is told for a voice's tag (cmn and zh-CN are both zh)."""
    primary = tag.split("-", 1)[0].lower()
    return "zh" if primary == "cmn" else primary


def grade(
    pipeline: Pipeline, listener: Listener, voice: str, sentences: tuple[str, ...], work: Path
) -> tuple[str, float, list[str]]:
    """(metric, mean error rate, what was heard) for `voice` speaking `sentences`."""
    plan = pipeline.plan(sentences[0], voice=voice, format="wav")
    language = whisper_language(plan.voice.language)
    metric = "cer" if language in BY_CHARACTER else "wer"
    errors, heard = [], []
    for sentence in sentences:
        target = work / "spoken.wav"
        pipeline.write(pipeline.plan(sentence, voice=voice, format="wav"), target)
        words = listener.hear(target.read_bytes(), language)
        if language == "zh":
            words = simplified(words)
        rate = character_error_rate if metric == "cer" else word_error_rate
        errors.append(rate(sentence, words))
        heard.append(words)
    return metric, sum(errors) / len(errors), heard


def show(table: dict[str, dict[str, object]]) -> None:
    """The whole table as docs/benchmarks.md has it: by language, best first, with how far
    each voice is behind its language's best and whether that makes it hard to understand."""
    rows = []
    for voice, row in table.items():
        metric = "cer" if "cer" in row else "wer"
        rows.append((str(row["language"]), float(str(row[metric])), voice, metric))
    best: dict[str, float] = {}
    for language, error, _, _ in rows:
        best[language] = min(best.get(language, error), error)
    print("| language | voice | error | behind the best | |")
    print("| --- | --- | --- | --- | --- |")
    for language, error, voice, metric in sorted(rows):
        behind = round(error - best[language], 3)
        mark = "hard to understand" if behind > HARD_MARGIN else ""
        print(f"| {language} | `{voice}` | {metric} {error:.3f} | {behind:.3f} | {mark} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", nargs="*", default=list(DEFAULT_VOICES), help="ids or globs")
    parser.add_argument("--sentences", type=int, default=3, help="per voice (1-5)")
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--show", action="store_true", help="print the table; grade nothing")
    args = parser.parse_args()
    if args.show:
        show(json.loads(args.table.read_text("utf-8"))["voices"])
        return

    pipeline = Pipeline(Settings())
    known = [v.id for v in pipeline.synthesizer.catalogue.voices()]
    chosen = [v for pattern in args.voices for v in known if fnmatch.fnmatch(v, pattern)]
    listener = Listener()
    table = json.loads(args.table.read_text("utf-8")) if args.table.is_file() else {}
    rows: dict[str, dict[str, object]] = table.get("voices", {})
    table["how"] = (
        "Whisper base (tests/listening.py), language forced, on held-out everyday sentences "
        "(bench/grading.py); cer for zh, ja and hi, wer for the others; lower is better"
    )
    table["command"] = "python bench/grading.py " + shlex.join(sys.argv[1:])
    print("| voice | language | metric | error | seconds |")
    print("| --- | --- | --- | --- | --- |")
    try:
        with tempfile.TemporaryDirectory() as folder:
            for voice in dict.fromkeys(chosen):
                tag = pipeline.plan("x", voice=voice, format="wav").voice.language
                sentences = SENTENCES.get(whisper_language(tag))
                if sentences is None:
                    continue
                started = time.perf_counter()
                metric, error, heard = grade(
                    pipeline, listener, voice, sentences[: args.sentences], Path(folder)
                )
                seconds = time.perf_counter() - started
                rows[voice] = {
                    "language": tag,
                    metric: round(error, 3),
                    "sentences": min(args.sentences, len(sentences)),
                    "graded": datetime.date.today().isoformat(),
                }
                print(f"| {voice} | {tag} | {metric} | {error:.3f} | {seconds:.0f} |", flush=True)
                for line in heard:
                    print(f"<!-- heard: {line} -->", file=sys.stderr, flush=True)
                table["voices"] = dict(sorted(rows.items()))
                table["date"] = datetime.date.today().isoformat()
                args.table.write_text(
                    json.dumps(table, ensure_ascii=False, indent=1) + "\n", "utf-8"
                )
    finally:
        pipeline.close()


if __name__ == "__main__":
    main()
