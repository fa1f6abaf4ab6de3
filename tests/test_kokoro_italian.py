"""The Italian voices' phonemes: espeak-ng's own (through kokoro-onnx's tokenizer, the library
in this process), with the verb è said as a stressed open ɛ, the present of avere stressed
(ho an open ɔ) and gl's ʎ long between vowels,
and every symbol one the model has (the Japanese voices once lost every /a/ to a symbol
outside it)."""

from __future__ import annotations

import unicodedata

import pytest
from kokoro_onnx.config import DEFAULT_VOCAB
from kokoro_onnx.tokenizer import Tokenizer

from sayfile.engines.kokoro_italian import italian_phonemes
from sayfile.text.normalisation import Normalisation
from test_normalisation import HELD_OUT_ITALIAN, ITALIAN


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


def said(tokenizer: Tokenizer, text: str) -> list[str]:
    """The phoneme words the Italian voices are given for `text`."""
    return italian_phonemes(text, tokenizer.phonemize(text, "it")).split()


@pytest.mark.parametrize(
    ("text", "verbs", "conjunctions"),
    [
        ("Mio nonno è nato in un piccolo paese.", [2], []),
        ("Lui è qui e lei è là.", [1, 5], [3]),
        ("È tardi, e piove.", [0], [2]),
        ("C'è un gatto in giardino.", [0], []),
        ("«È vero», disse lei.", [0], []),
        ("Perché è così difficile?", [1], []),
    ],
)
def test_the_verb_e_is_a_stressed_open_e_and_the_conjunction_is_not(
    tokenizer: Tokenizer, text: str, verbs: list[int], conjunctions: list[int]
) -> None:
    # espeak-ng alone says both as the conjunction's unstressed e (the first case's
    # phonemes were "mˌio nˈɔnno e nˈato"): a listener cannot tell "è nato" from "e nato".
    assert [w.strip(".,?!") for w in tokenizer.phonemize(text, "it").split()][verbs[0]][-1] == "e"
    words = [w.strip(".,?!—") for w in said(tokenizer, text)]
    assert all(words[i].endswith("ˈɛ") for i in verbs), words
    assert all(words[i] == "e" for i in conjunctions), words


@pytest.mark.parametrize(
    ("text", "index", "verb"),
    [
        ("Ho fame, ma non ho tempo.", 0, "ˈɔ"),
        ("Mia sorella ha due gatti.", 2, "ˈa"),
        ("Hai visto le chiavi?", 0, "ˈaj"),
        ("I vicini hanno una casa.", 2, "ˈanno"),
        ("Luca ha un fratello, e tu hai una sorella.", 1, "ˈa"),
    ],
)
def test_the_present_of_avere_is_stressed_and_ho_open(
    tokenizer: Tokenizer, text: str, index: int, verb: str
) -> None:
    # espeak-ng says ha as the preposition a and ho as the conjunction o, unstressed: Whisper
    # wrote "L'appartamento a 3 camere", "l'azienda assunto".
    assert tokenizer.phonemize(text, "it").split()[index].strip(",.?").lstrip("ˌ") != verb
    assert said(tokenizer, text)[index].strip(",.?") == verb


def test_the_preposition_a_and_the_conjunction_o_are_left_as_they_are(
    tokenizer: Tokenizer,
) -> None:
    for text in ("Vado a casa, o forse a scuola.", "O questo o quello.", "Ai ragazzi piace."):
        assert said(tokenizer, text) == tokenizer.phonemize(text, "it").split()


def test_words_that_end_in_a_stressed_e_keep_espeaks_reading(tokenizer: Tokenizer) -> None:
    # Said alone, or in words whose dictionary entry has it, espeak-ng already stresses it.
    for text in ("È.", "Che cos'è?", "Il caffè è buono.", "Dov'è la stazione?"):
        words = said(tokenizer, text)
        assert not any("ˈˈ" in w or "ˌˈ" in w for w in words), words
    assert said(tokenizer, "Il caffè è buono.")[1:3] == ["kaffˈɛ", "ˈɛ"]


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("Il biglietto del treno.", 1, "biʎʎˈetːo"),
        ("Mia figlia compie sette anni.", 1, "fˈiʎʎa"),
        ("Aglio e olio.", 0, "ˈaʎʎo"),
        ("Egli parte domani.", 0, "ˌeʎʎɪ"),
    ],
)
def test_gl_is_long_between_vowels_as_gn_is(
    tokenizer: Tokenizer, text: str, word: int, expected: str
) -> None:
    assert "ɲɲ" in tokenizer.phonemize("sogno", "it")  # espeak-ng's own long gn
    assert said(tokenizer, text)[word] == expected


def test_gl_at_the_start_of_a_word_stays_one_sound(tokenizer: Tokenizer) -> None:
    assert said(tokenizer, "Gli studenti e gli amici.")[0] == "ʎɪ"
    assert "ʎʎ" not in "".join(said(tokenizer, "Gli studenti."))


def test_when_the_words_do_not_pair_up_e_is_left_as_it_was() -> None:
    # Phonemes with a word more than the text: which one says "è" is not known.
    assert italian_phonemes("Lui è qui.", "lˌʊi e kwˈi ˈanke.") == "lˌʊi e kwˈi ˈanke."
    assert italian_phonemes("figlia è", "fˈiʎa e kwˈi") == "fˈiʎʎa e kwˈi"


def test_every_symbol_of_the_italian_sentences_is_one_the_model_has(
    tokenizer: Tokenizer,
) -> None:
    words = Normalisation()
    sentences = [*HELD_OUT_ITALIAN, *(written for written, _ in ITALIAN)]
    missing = set()
    for sentence in sentences:
        text = words.said(sentence, "it")
        with_all = italian_phonemes(text, _raw(text))
        missing |= {s for s in with_all if s not in DEFAULT_VOCAB and not s.isspace()}
    # Only marks that refine the sound before them (espeak-ng's dental d̪ in "PDF") may be
    # dropped: the sound itself is kept.
    assert all(unicodedata.combining(symbol) for symbol in missing), missing


def _raw(text: str) -> str:
    """espeak-ng's Italian phonemes before kokoro-onnx drops what the model lacks."""
    import phonemizer  # type: ignore[import-untyped]

    return str(phonemizer.phonemize(text, "it", preserve_punctuation=True, with_stress=True))
