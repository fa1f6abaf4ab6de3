"""Text nobody labelled goes, sentence by sentence, to a voice of its own language: Latin-script
languages told apart by the identifier, Chinese by its script, short sentences kept with their
neighbours, and each timed piece naming the voice that spoke it."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import sayfile.text.sentences as textmod
from conftest import Speech, decode, sayfile_cli, wait_done
from listening import Listener, character_error_rate, simplified, word_error_rate
from sayfile.books.reading import CHAPTER_PAUSE_MS
from sayfile.engines.bounded import BoundedEngine
from sayfile.engines.kokoro import KokoroEngine
from sayfile.speech.plan import SpeechPlan

# Openings of public-domain books (Proust 1913, Cervantes 1605, Kafka 1915, Collodi 1883,
# Machado de Assis 1899), a few sentences each.
PARAGRAPHS = {
    "fr": "Longtemps, je me suis couché de bonne heure. Parfois, à peine ma bougie éteinte, "
    "mes yeux se fermaient si vite que je n'avais pas le temps de me dire : je m'endors.",
    "es": "En un lugar de la Mancha, de cuyo nombre no quiero acordarme, no ha mucho tiempo "
    "que vivía un hidalgo de los de lanza en astillero. Una olla de algo más vaca que "
    "carnero consumían las tres partes de su hacienda.",
    "de": "Als Gregor Samsa eines Morgens aus unruhigen Träumen erwachte, fand er sich in "
    "seinem Bett zu einem ungeheueren Ungeziefer verwandelt. Was ist mit mir geschehen?",
    "it": "C'era una volta un pezzo di legno. Non era un legno di lusso, ma un semplice pezzo "
    "da catasta, di quelli che d'inverno si mettono nelle stufe e nei caminetti.",
    "pt": "Uma noite destas, vindo da cidade para o Engenho Novo, encontrei no trem da Central "
    "um rapaz aqui do bairro, que eu conheço de vista e de chapéu. Cumprimentou-me, "
    "sentou-se ao pé de mim, falou da lua e dos ministros.",
}
# A bilingual note as people write them: it starts in English and goes on in Chinese, with
# English words inside the Chinese sentences.
MIXED = (
    "Thanks for the notes from yesterday's meeting. The budget for the next quarter is "
    "approved. 接下来我们讨论一下 API 的设计。这个 endpoint 需要支持分页和过滤。好的。"
    "Let me know what you think about the schedule before Friday."
)


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def _said(speech: Speech, plan: SpeechPlan) -> list[tuple[str, str]]:
    """Each sentence of the plan with the primary language of the voice that says it."""
    out: list[tuple[str, str]] = []
    for span in plan.script:
        voice = speech.synthesizer.planner.voice_of(span, plan.voice)
        language = _primary(voice.language)
        out.extend((s, language) for s in textmod.sentences(span.text))
    return out


@pytest.mark.parametrize("language", sorted(PARAGRAPHS))
def test_a_latin_script_paragraph_goes_to_a_voice_of_its_language(
    speech: Speech, language: str
) -> None:
    plan = speech.plan(PARAGRAPHS[language])
    assert _primary(plan.voice.language) == language, plan.voice
    assert {lang for _, lang in _said(speech, plan)} == {language}
    if language != "de":  # Kokoro speaks the other four; German only espeak-ng
        assert plan.voice.engine == "kokoro", plan.voice


def test_every_sentence_of_a_bilingual_note_goes_to_its_language(speech: Speech) -> None:
    plan = speech.plan(MIXED)
    said = _said(speech, plan)
    for sentence, language in said:
        expected = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in sentence) else "en"
        assert language == expected, (sentence, language)
    assert {language for _, language in said} == {"en", "zh"}
    # English stays with the default voice; Chinese gets the one Mandarin voice.
    voices = {speech.synthesizer.planner.voice_of(span, plan.voice).id for span in plan.script}
    assert voices == {"piper:en_US-joe-medium", "kokoro:zm_yunjian"}


def test_english_words_inside_a_chinese_sentence_stay_in_it(speech: Speech) -> None:
    plan = speech.plan("我们用 Python 写了一个 API 服务，部署在 Kubernetes 上。效果很好。")
    assert plan.spans == () and plan.voice.id == "kokoro:zm_yunjian"


@pytest.mark.parametrize(
    "text",
    [
        "我用 iPhone 看 YouTube 影片。",
        "我用 iPhone 看 YouTube 视频。",
        "這個 App 的 Dark Mode 很好看。",
    ],
)
def test_a_short_chinese_sentence_naming_english_products_gets_the_mandarin_voice(
    speech: Speech, text: str
) -> None:
    # It went to the English voice: its Latin letters outnumbered its Han characters
    # three to one, though it is five Chinese words and two English ones.
    assert speech.plan(text).voice.id == "kokoro:zm_yunjian"


@pytest.mark.parametrize("text", ["Say 謝謝 when you leave.", "The word 你好 means hello."])
def test_an_english_sentence_naming_a_chinese_word_stays_english(speech: Speech, text: str) -> None:
    assert speech.plan(text).voice.language.startswith("en")


@pytest.mark.parametrize(
    ("voice", "text", "mandarin"),
    [
        ("kokoro:af_heart", "Say 謝謝 when you leave.", "ɕje↘ɕje↘"),
        ("kokoro:ff_siwis", "Il a dit 你好 en souriant.", "ni↓xau↓"),
    ],
)
def test_han_in_a_sentence_of_another_language_is_read_as_mandarin_by_its_voice(
    speech: Speech, voice: str, text: str, mandarin: str
) -> None:
    # espeak-ng's reading had said "Chinese letter" for each character (tʃˈaɪniːzlˌɛɾɚ).
    spoken_by = speech.plan(text, voice=voice).voice
    bounded = speech.catalogue.engine(spoken_by)
    assert isinstance(bounded, BoundedEngine) and isinstance(bounded.engine, KokoroEngine)
    phonemes = bounded.engine.phonemes(spoken_by, text)
    assert mandarin in phonemes and "ɛɾɚ" not in phonemes, phonemes


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_a_chinese_dish_in_an_english_sentence_is_heard_by_its_name(
    speech: Speech, listener: Listener, tmp_path: Path
) -> None:
    text = "My favourite dish is 红烧肉, my mother's recipe."
    plan = speech.plan(text, voice="kokoro:af_heart", format="wav", loudness="off")
    result = speech.write(plan, tmp_path / "dish.wav")
    heard = listener.hear((tmp_path / "dish.wav").read_bytes(), "en").casefold()
    # Heard "Hong Shao Rou" (Whisper writes what it hears in English in pinyin), where it had
    # been "Chinese letter, Chinese letter, Chinese letter".
    assert "hong" in heard and "letter" not in heard, heard
    assert [word.text for word in result.timings.words or ()][4] == "红烧肉"


@pytest.mark.parametrize(
    "text",
    [
        PARAGRAPHS["fr"] + " OK. Paris. Vielen Dank. " + PARAGRAPHS["fr"],
        "The meeting moved to Thursday afternoon. Merci. Gracias. Ciao! "
        "Please bring the printed agenda with you.",
        "You can use it from the command line or over HTTP. It works with JavaScript off.",
    ],
)
def test_short_or_unsure_sentences_keep_the_voice_of_their_neighbours(
    speech: Speech, text: str
) -> None:
    plan = speech.plan(text)
    assert plan.spans == () and not plan.routed, plan.spans


def test_after_chinese_english_comes_back_not_a_rare_language(speech: Speech) -> None:
    # The quick identifier is sure the last sentence is Maori; confirmed against the English
    # before the Chinese one, it stays English.
    plan = speech.plan(
        "The service reads text aloud and saves the audio. 这是一个测试。"
        "You can use it from the command line or over HTTP."
    )
    said = [(sentence[:8], language) for sentence, language in _said(speech, plan)]
    assert [language for _, language in said] == ["en", "zh", "en"], said


def test_a_named_voice_or_language_is_obeyed_for_all_it_can_read(speech: Speech) -> None:
    named = speech.plan(MIXED + " " + PARAGRAPHS["fr"], voice="piper:en_US-joe-medium")
    assert named.voice.id == "piper:en_US-joe-medium"
    # English and French stay with the voice named; the Chinese sentences, which an English
    # voice would say as "Chinese letter, Chinese letter", go to the Mandarin voice.
    for sentence, language in _said(speech, named):
        expected = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in sentence) else "en"
        assert language == expected, (sentence, language)
    spanish = speech.plan(PARAGRAPHS["fr"], language="es")
    assert spanish.spans == () and _primary(spanish.voice.language) == "es"
    mandarin = speech.plan("我们用 Python 写了一个 API 服务。", voice="kokoro:zf_xiaobei")
    assert mandarin.spans == () and mandarin.voice.id == "kokoro:zf_xiaobei"


def test_a_sentence_in_a_script_the_named_voice_cannot_read_goes_to_its_language(
    speech: Speech,
) -> None:
    # Kokoro's Mandarin voices have no sound for kana or hangul: these sentences had failed
    # the request (500) or been silent.
    plan = speech.plan(
        "这是中文。ありがとうございます。안녕하세요. 好的。", voice="kokoro:zm_yunjian"
    )
    assert plan.voice.id == "kokoro:zm_yunjian"
    said = [(sentence, language) for sentence, language in _said(speech, plan)]
    assert said == [
        ("这是中文。", "zh"),
        ("ありがとうございます。", "ja"),
        ("안녕하세요.", "ko"),
        ("好的。", "zh"),
    ]
    # A Japanese voice reads kanji as Japanese: a sentence of Han alone stays with it; so do
    # Chinese sentences with espeak-ng's Mandarin (cmn) and Cantonese (yue).
    japanese = speech.plan("東京都新宿区。ありがとう。", voice="kokoro:jf_alpha")
    assert japanese.spans == ()
    for voice in ("espeak:cmn", "espeak:yue"):
        assert speech.plan("音乐让人快乐。", voice=voice).spans == ()


@pytest.mark.slow  # real voices
def test_each_timed_piece_names_the_voice_that_spoke_it(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(engines="espeak", default_voice="espeak:en-us")
    text = (
        "The first chapter begins in English on a quiet morning. "
        + PARAGRAPHS["fr"]
        + " And then the narrator goes back to English for the ending."
    )
    r = client.post("/jobs", json={"text": text, "format": "wav"})
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done", job
    pieces = client.get(f"/jobs/{job['id']}/timings").json()["pieces"]
    said = [(piece["text"], piece["voice"]) for piece in pieces]
    french = set(textmod.sentences(PARAGRAPHS["fr"]))
    for words, voice in said:
        in_french = any(words.startswith(sentence[:20]) for sentence in french)
        assert voice == ("espeak:fr-fr" if in_french else "espeak:en-us"), said
    assert said[0][1] == said[-1][1] == "espeak:en-us", said
    assert "espeak:fr-fr" in {voice for _, voice in said}, said


@pytest.mark.slow  # real voices
def test_a_long_text_made_as_a_book_routes_each_part(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(
        engines="espeak",
        default_voice="espeak:en-us",
        book_above_chars=300,
        book_part_chars=200,
    )
    english = (
        "The first chapter begins in English on a quiet morning by the river. "
        "The narrator walks along the bank and remembers the summer he spent there."
    )
    text = f"{english} {PARAGRAPHS['fr']} {english}"
    r = client.post("/jobs", json={"text": text, "format": "mp3"})
    assert r.status_code == 202, r.text
    assert r.json()["chapters"], r.json()  # made as a book, in parts
    job = wait_done(client, r.json()["status_url"], timeout=120)
    assert job["status"] == "done", job
    pieces = client.get(f"/jobs/{job['id']}/timings").json()["pieces"]
    french = set(textmod.sentences(PARAGRAPHS["fr"]))
    for piece in pieces:
        in_french = any(piece["text"].startswith(sentence[:20]) for sentence in french)
        assert piece["voice"] == ("espeak:fr-fr" if in_french else "espeak:en-us"), pieces
    assert "espeak:fr-fr" in {piece["voice"] for piece in pieces}
    audio = client.get(f"/jobs/{job['id']}/audio")
    assert decode(audio.content, "mp3").duration_s > pieces[-1]["end"] - 0.5


@pytest.mark.slow  # real voices
def test_voices_say_which_languages_get_a_neural_voice(client: TestClient) -> None:
    languages = {entry["language"]: entry for entry in client.get("/voices/languages").json()}
    assert languages["fr"]["neural"] and languages["fr"]["voice"].startswith("kokoro:")
    assert languages["de"] == {
        "language": "de",
        "voice": "espeak:de",
        "neural": False,
        "detected": True,
    }
    assert languages["zh"]["neural"] and languages["zh"]["detected"]
    assert languages["en"]["voice"] == "piper:en_US-joe-medium"


@pytest.mark.slow  # the command line in a process of its own
def test_the_command_line_lists_the_languages() -> None:
    result = sayfile_cli("voices", "--languages", "--json", engines="espeak")
    assert result.returncode == 0, result.stderr
    languages = {entry["language"]: entry for entry in json.loads(result.stdout)}
    assert languages["fr"] == {
        "language": "fr",
        "voice": "espeak:fr-fr",
        "neural": False,
        "detected": True,
    }


@pytest.mark.slow  # the command line in a process of its own
def test_the_command_line_routes_sentences_and_names_the_voices(tmp_path: Path) -> None:
    text = "We read the opening of a French novel aloud tonight. " + PARAGRAPHS["fr"]
    result = sayfile_cli("say", text, "-o", str(tmp_path / "novel.wav"), engines="espeak")
    assert result.returncode == 0, result.stderr
    assert "voices espeak:en-us, espeak:fr-fr" in result.stderr, result.stderr


@pytest.mark.slow  # real voices
def test_the_page_download_with_any_voice_is_routed(
    make_client: Callable[..., TestClient],
) -> None:
    # The page's Download is a plain form post; "Any" language and voice send empty fields.
    client = make_client(engines="espeak", default_voice="espeak:en-us", max_chars_in_memory=0)
    text = "We read the opening of a French novel aloud tonight. " + PARAGRAPHS["fr"]
    form = {"text": text, "voice": "", "language": "", "format": "wav"}
    r = client.post("/speech", data=form)
    assert r.status_code == 200, r.text
    job_id = r.headers["Content-Location"].split("/")[2]
    pieces = client.get(f"/jobs/{job_id}/timings").json()["pieces"]
    assert pieces[0]["voice"] == "espeak:en-us", pieces
    assert pieces[-1]["voice"] == "espeak:fr-fr", pieces


# -- heard by a speech recognizer, with the real voices -------------------------------------


def _han(text: str) -> str:
    return "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")


def _cut(audio: bytes, start: float, end: float) -> bytes:
    """The part of a WAV file from `start` to `end` seconds, as a WAV file."""
    with wave.open(io.BytesIO(audio)) as source:
        rate = source.getframerate()
        source.setpos(int(start * rate))
        frames = source.readframes(int((end - start) * rate))
        params = source.getparams()
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setparams(params)
        target.writeframes(frames)
    return out.getvalue()


@pytest.mark.slow
def test_a_french_paragraph_with_no_hint_is_heard_as_french(
    client: TestClient, listener: Listener
) -> None:
    r = client.post("/speech", json={"text": PARAGRAPHS["fr"], "format": "wav"})
    assert r.status_code == 200, r.text
    heard = listener.hear(r.content, "fr")
    assert word_error_rate(PARAGRAPHS["fr"], heard) < 0.35, heard


@pytest.mark.slow
def test_a_bilingual_note_is_heard_in_both_languages(
    client: TestClient, listener: Listener
) -> None:
    r = client.post("/jobs", json={"text": MIXED, "format": "wav"})
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"], timeout=300)
    assert job["status"] == "done", job
    audio = client.get(f"/jobs/{job['id']}/audio").content
    pieces = client.get(f"/jobs/{job['id']}/timings").json()["pieces"]
    chinese = [p for p in pieces if any("\u4e00" <= ch <= "\u9fff" for ch in p["text"])]
    english = [p for p in pieces if p not in chinese]
    assert chinese and english
    assert {piece["voice"] for piece in chinese} == {"kokoro:zm_yunjian"}, chinese
    # The Chinese sentences together (Whisper base mishears single short ones); read by the
    # English voice they come out as "Chinese letter" and no Chinese at all.
    said = simplified(listener.hear(_cut(audio, chinese[0]["start"], chinese[-1]["end"]), "zh"))
    expected = "".join(_han(piece["text"]) for piece in chinese)
    assert character_error_rate(expected, _han(said)) < 0.5, (expected, said)
    for piece in english:
        said = listener.hear(_cut(audio, piece["start"], piece["end"]), "en")
        assert word_error_rate(piece["text"], said) < 0.35, (piece, said)


@pytest.mark.slow
def test_the_command_line_reads_spanish_with_a_spanish_voice(
    tmp_path: Path, listener: Listener
) -> None:
    target = tmp_path / "quijote.wav"
    result = sayfile_cli(
        "say",
        PARAGRAPHS["es"],
        "-o",
        str(target),
        engines="kokoro,piper,espeak",
        voice="piper:en_US-joe-medium",
    )
    assert result.returncode == 0, result.stderr
    heard = listener.hear(target.read_bytes(), "es")
    assert word_error_rate(PARAGRAPHS["es"], heard) < 0.35, heard


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_a_bilingual_book_joins_voices_of_two_rates(
    make_client: Callable[..., TestClient], listener: Listener
) -> None:
    # Piper's English voice speaks at 22,050 Hz and Kokoro's Mandarin one at 24,000 Hz: the
    # Chinese part is made at the English voice's rate, so the parts join without encoding.
    client = make_client(book_above_chars=200, book_part_chars=200)
    english = (
        "Thanks for the notes from yesterday's meeting. The budget for the next quarter is "
        "approved, and the new office opens in March, right after the spring holidays, when "
        "most of the team is back."
    )
    # Parts of at most 200 characters: the Chinese sentences make the last part, alone.
    chinese = "接下来我们讨论一下新办公室的安排。大家觉得三月份搬家可以吗？我们下周再开会决定。"
    r = client.post("/jobs", json={"text": f"{english} {chinese}", "format": "wav"})
    assert r.status_code == 202, r.text
    assert r.json()["chapters"], r.json()  # made as a book, in parts
    job = wait_done(client, r.json()["status_url"], timeout=300)
    assert job["status"] == "done", job
    audio = client.get(f"/jobs/{job['id']}/audio").content
    pieces = client.get(f"/jobs/{job['id']}/timings").json()["pieces"]
    assert {piece["voice"] for piece in pieces} == {"piper:en_US-joe-medium", "kokoro:zm_yunjian"}
    # The book ends with the pause after its chapter.
    duration = decode(audio, "wav").duration_s
    assert duration == pytest.approx(pieces[-1]["end"] + CHAPTER_PAUSE_MS / 1000, abs=0.3)
    spoken = [p for p in pieces if _han(p["text"])]
    said = simplified(listener.hear(_cut(audio, spoken[0]["start"], spoken[-1]["end"]), "zh"))
    expected = "".join(_han(piece["text"]) for piece in spoken)
    assert character_error_rate(expected, _han(said)) < 0.5, (expected, said)
