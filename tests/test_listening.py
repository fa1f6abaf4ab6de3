"""A small listening suite per language: two everyday sentences in each of Kokoro's nine
languages, spoken by the voice the catalogue chooses for the language and written down by
Whisper base, each language held to a bound; and no language ever chooses a voice marked
hard to understand."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import Speech
from listening import Listener, character_error_rate, simplified, word_error_rate

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ffmpeg")]

# language asked for, Whisper's language, the bound on the mean error (words, or characters for
# zh, ja and hi; Hindi's is loose because Whisper base spells Hindi loosely: 0.43 for the
# best voice in bench/grading.py), two sentences (others than bench/grading.py's and the issue's).
SUITE = [
    (
        "en-US",
        "en",
        0.10,
        (
            "The children are playing in the garden after school.",
            "I need to buy milk and eggs on the way home.",
        ),
    ),
    (
        "en-GB",
        "en",
        0.10,
        (
            "We usually have dinner at seven in the evening.",
            "She left her umbrella on the bus this morning.",
        ),
    ),
    (
        "es",
        "es",
        0.10,
        (
            "Hoy hace mucho calor, así que nos quedamos en casa.",
            "Los niños juegan en el parque después de la escuela.",
        ),
    ),
    (
        "fr",
        "fr",
        0.10,
        (
            "Ma mère prépare le dîner pour toute la famille.",
            "Mon frère travaille dans une banque au centre-ville.",
        ),
    ),
    (
        "it",
        "it",
        0.10,
        (
            "Mio padre legge il giornale ogni mattina.",
            "Questa sera andiamo a cena da mia nonna.",
        ),
    ),
    (
        "pt-BR",
        "pt",
        0.10,
        (
            "Hoje está muito calor, então vamos ficar em casa.",
            "As crianças brincam no parque depois da escola.",
        ),
    ),
    (
        "hi",
        "hi",
        0.70,
        (
            "हम कल सुबह बाज़ार जाएंगे और फल खरीदेंगे।",
            "बच्चे बगीचे में खेल रहे हैं।",
        ),
    ),
    (
        "zh",
        "zh",
        0.10,
        (
            "我妈妈每天早上做早饭。",
            # an acronym: English letters with English's aspirated T (bare, it was heard as d)
            "附近有没有ATM可以取钱？",
        ),
    ),
    (
        "ja",
        "ja",
        0.15,
        (
            "駅までバスで行きます。",
            "私の名前は田中です。",
        ),
    ),
]


@pytest.mark.parametrize(("language", "whisper", "bound", "sentences"), SUITE)
def test_each_language_is_understood_through_the_voice_it_chooses(
    voices: Speech,
    listener: Listener,
    tmp_path: Path,
    language: str,
    whisper: str,
    bound: float,
    sentences: tuple[str, str],
) -> None:
    errors, heard_all = [], []
    plan = voices.plan(sentences[0], language=language, format="wav")
    assert plan.voice.engine == "kokoro"
    # Both sentences in one request, each heard alone (cut out by the timings: the samples it
    # has made alone; heard together, Whisper's scores moved for Italian and Mandarin). A
    # Hindi text is one piece however many dandas it has: its sentences are made apart.
    joiner = "" if whisper in {"zh", "ja"} else " "
    groups = [[s] for s in sentences] if whisper == "hi" else [list(sentences)]
    target = tmp_path / "spoken.wav"
    clips = [c for g in groups for c in voices.apart(g, joiner, target, language=language)]
    for sentence, clip in zip(sentences, clips, strict=True):
        heard = listener.hear(clip, whisper)
        if whisper == "zh":
            heard = simplified(heard)
        rate = character_error_rate if whisper in {"zh", "ja", "hi"} else word_error_rate
        errors.append(rate(sentence, heard))
        heard_all.append(heard)
    assert sum(errors) / len(errors) <= bound, (plan.voice.id, errors, heard_all)


@pytest.mark.parametrize(
    "language", ["en-US", "en-GB", "es", "fr", "it", "pt-BR", "hi", "zh", "ja", "en", "pt", "cmn"]
)
def test_no_language_chooses_a_voice_hard_to_understand(voices: Speech, language: str) -> None:
    chosen = voices.catalogue.resolve(language=language)
    assert not chosen.hard_to_understand
    listed = voices.catalogue.voices(language)
    # The list is best first: those hard to understand, if any, come after every other voice of
    # their tag (a region asked for keeps its voices before the others' all the same).
    marks = [v.hard_to_understand for v in listed if v.language == chosen.language]
    assert marks == sorted(marks)
    assert chosen.heard is not None


def test_voices_show_their_scores_and_the_page_marks_the_hard_one(client: TestClient) -> None:
    voices = {v["id"]: v for v in client.get("/voices", params={"language": "zh"}).json()}
    assert voices["kokoro:zf_xiaoni"]["hard_to_understand"] is True
    assert voices["kokoro:zf_xiaoni"]["heard"]["cer"] > 0.15
    chosen = client.get("/voices", params={"language": "zh"}).json()[0]
    assert chosen["hard_to_understand"] is False
    assert set(chosen["heard"]) == {"cer"}
    assert set(client.get("/voices").json()[0]) >= {"heard", "hard_to_understand"}
    for lang, mark in (("en", "hard to understand"), ("zh", "不易听清")):
        page = client.get("/", params={"lang": lang}).text
        option = page[page.index('value="kokoro:zf_xiaoni"') :].split("</option>")[0]
        assert mark in option
        assert mark not in page[page.index('value="kokoro:zm_yunjian"') :].split("</option>")[0]
