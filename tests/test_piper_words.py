"""Piper's phoneme ids back to its phonemes and to the words of the text, with hand-made
durations, and its models given their durations as a second output (a small real model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from sayfile.engines.piper_words import (
    SpokenSentence,
    phoneme_spans,
    sentence_words,
    timed_model,
    with_durations,
)

# Piper's default numbering, in part: start, end, pad after each phoneme, a space.
IDS = {"^": [1], "$": [2], "_": [0], " ": [3], ",": [8], ".": [10], "!": [4]}
IDS |= {letter: [14 + n] for n, letter in enumerate("abcdefghijklmnopqrstuvwxyz")}
HOP = 256


def spoken(phonemes: str, hops: dict[str, int] | None = None) -> SpokenSentence:
    """`phonemes` as Piper numbers them, each phoneme heard for `hops` (by phoneme; 2 by
    default) and each pad for 1, the start and end marks for 4."""
    hops = hops or {}
    ids, units = [1, 0], [4, 1]
    for phoneme in phonemes:
        if phoneme in IDS:
            ids += [*IDS[phoneme], 0]
            units += [hops.get(phoneme, 2), 1]
    ids.append(2)
    units.append(4)
    samples = np.array(units, dtype=np.int64) * HOP
    return SpokenSentence(list(phonemes), ids, samples, int(samples.sum()))


def test_each_phoneme_is_heard_for_its_ids_and_the_pad_after_them() -> None:
    spans = phoneme_spans(spoken("ab c", {"b": 5}), IDS)
    start = 5 * HOP  # the start mark and its pad
    assert spans == [
        (start, start + 3 * HOP),
        (start + 3 * HOP, start + 9 * HOP),
        (start + 9 * HOP, start + 12 * HOP),
        (start + 12 * HOP, start + 15 * HOP),
    ]


def test_a_phoneme_piper_does_not_know_is_empty_where_the_next_begins() -> None:
    spans = phoneme_spans(spoken("aQb"), IDS)
    assert spans is not None
    assert spans[1] == (spans[0][1], spans[0][1]) == (spans[2][0], spans[2][0])


def test_ids_that_are_not_the_phonemes_give_no_spans() -> None:
    sentence = spoken("ab")
    assert phoneme_spans(SpokenSentence(["a", "c"], *_rest(sentence)), IDS) is None
    shorter = SpokenSentence(["a"], *_rest(sentence))
    assert phoneme_spans(shorter, IDS) is None


def _rest(sentence: SpokenSentence) -> tuple[list[int], np.ndarray, int]:
    return list(sentence.ids), sentence.samples, sentence.length


def test_words_are_timed_from_the_space_before_them_or_after_a_pause_their_first_phoneme() -> None:
    text = "Ab cd. Efg!"
    first, second = spoken("ab cd."), spoken("efg!")
    words = sentence_words(text, [first, second], IDS)
    lead = 5 * HOP
    # "cd" from the space before it; "Efg", after the full stop, from its first phoneme.
    assert words == [
        (0, 2, lead, lead + 6 * HOP),
        (3, 5, lead + 6 * HOP, lead + 15 * HOP),
        (7, 10, first.length + lead, first.length + lead + 9 * HOP),
    ]
    assert [text[a:b] for a, b, _, _ in words] == ["Ab", "cd", "Efg"]


def test_words_follow_the_audio_stretched_after() -> None:
    plain = sentence_words("ab cd", [spoken("ab cd")], IDS)
    slower = sentence_words("ab cd", [spoken("ab cd")], IDS, scale=1.5)
    assert plain is not None and slower is not None
    assert [(a, b, round(c * 1.5), round(d * 1.5)) for a, b, c, d in plain] == slower


def test_a_number_espeak_reads_as_two_words_stays_one_word() -> None:
    # "21" said "twenty one": both phoneme words are the text's one word.
    text = "we are 21 now"
    words = sentence_words(text, [spoken("wi ar twenti wan naw")], IDS)
    assert words is not None
    assert [text[a:b] for a, b, _, _ in words] == ["we", "are", "21", "now"]
    assert all(start < end for _, _, start, end in words)
    assert words[2][3] - words[2][2] > words[1][3] - words[1][2]


def test_a_sentence_whose_ids_do_not_match_gives_no_words() -> None:
    broken = SpokenSentence(["a", "b"], [1, 0, 14, 0, 2], np.full(5, HOP, np.int64), 5 * HOP)
    assert sentence_words("ab", [spoken("a"), broken], IDS) is None


def _model(path: Path, ceils: int, name: str = "small") -> Path:
    """A model like Piper's in small (its graph called `name`): the audio is the input
    doubled, through `ceils` Ceil nodes on the way (the durations)."""
    # Imported here: onnx takes a second to import, in every worker that collects the suite.
    import onnx
    from onnx import TensorProto, helper

    nodes, value = [], "input"
    for n in range(ceils):
        nodes.append(helper.make_node("Ceil", [value], [f"ceil{n}"]))
        value = f"ceil{n}"
    nodes.append(helper.make_node("Add", [value, value], ["output"]))
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, str(path))
    return path


def test_a_model_gives_its_durations_as_a_second_output_and_the_same_first(
    tmp_path: Path,
) -> None:
    path = _model(tmp_path / "voice.onnx", ceils=1)
    data = with_durations(path)
    assert data is not None
    given = np.array([0.2, 1.5, 2.0], dtype=np.float32)
    plain = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    timed = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    (audio,) = plain.run(None, {"input": given})
    timed_audio, durations = timed.run(None, {"input": given})
    assert np.array_equal(audio, timed_audio)
    assert durations.tolist() == [1.0, 2.0, 2.0]


def test_a_model_without_one_ceil_is_loaded_as_it_is(tmp_path: Path) -> None:
    assert with_durations(_model(tmp_path / "none.onnx", ceils=0)) is None
    assert with_durations(_model(tmp_path / "two.onnx", ceils=2)) is None


def test_an_edited_model_is_kept_and_made_again_when_its_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing onnx and editing took 1.8 s of every process that loaded a Piper voice."""
    from sayfile.engines import piper_words

    path = _model(tmp_path / "voice.onnx", ceils=1)
    folder = tmp_path / "cache"
    kept = timed_model(path, folder)
    assert isinstance(kept, str) and Path(kept).parent == folder
    assert Path(kept).read_bytes() == with_durations(path)
    edits: list[Path] = []

    def counted(model: Path) -> bytes | None:
        edits.append(model)
        return with_durations(model)

    monkeypatch.setattr(piper_words, "with_durations", counted)
    assert timed_model(path, folder) == kept
    assert edits == []
    # A voice file replaced under the same name is edited again.
    _model(path, ceils=1, name="replaced")
    again = timed_model(path, folder)
    assert edits == [path] and again != kept
    # A model loaded as it is is remembered as such.
    plain = _model(tmp_path / "plain.onnx", ceils=0)
    assert timed_model(plain, folder) == str(plain) == timed_model(plain, folder)
    assert edits == [path, plain]
    assert not list(folder.glob("*.part"))


def test_a_folder_that_cannot_be_written_gives_the_edited_model_in_memory(
    tmp_path: Path,
) -> None:
    path = _model(tmp_path / "voice.onnx", ceils=1)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert timed_model(path, blocked / "cache") == with_durations(path)
    assert timed_model(path, None) == with_durations(path)
    assert timed_model(_model(tmp_path / "plain.onnx", ceils=0), None) == str(
        tmp_path / "plain.onnx"
    )
