"""Voices graded by listening, as the catalogue uses the grades: a voice heard far below the
best of its language is listed, marked, and never chosen by language; voices heard about as
well as the best are ordered by their authors' grade. Fast: engines of plain voices that beep."""

from __future__ import annotations

import json
from importlib import resources

from sayfile.engines.tone import ToneEngine
from sayfile.heard import Heard, measured
from sayfile.models import Quality, Voice
from sayfile.voices.catalogue import Catalogue


class GradedEngine(ToneEngine):
    """Beeps under the names of a few neural voices of two languages, graded by their authors
    like Kokoro's."""

    name = "graded"

    def voices(self) -> list[Voice]:
        def voice(name: str, language: str, score: int) -> Voice:
            return Voice(
                f"graded:{name}", "graded", name, language, 16_000, Quality.neural, score=score
            )

        return [
            voice("a", "zh-CN", 60),
            voice("b", "zh-CN", 50),
            voice("c", "zh-CN", 80),
            voice("d", "en-US", 95),
            voice("e", "en-US", 60),
        ]


HEARD = {
    "graded:a": Heard("cer", 0.07),
    "graded:b": Heard("cer", 0.05),
    "graded:c": Heard("cer", 0.48),
    "graded:d": Heard("wer", 0.03),
    "graded:e": Heard("wer", 0.00),
}


def catalogue(heard: dict[str, Heard]) -> Catalogue:
    return Catalogue([GradedEngine()], "graded:a", heard)


def test_a_voice_far_below_the_best_is_marked_and_never_chosen_by_language() -> None:
    graded = catalogue(HEARD)
    listed = {v.id: v for v in graded.voices()}
    assert listed["graded:c"].hard_to_understand
    assert listed["graded:c"].public()["heard"] == {"cer": 0.48}
    assert not any(listed[f"graded:{n}"].hard_to_understand for n in "abde")
    # Its authors graded it best, yet the language chooses another, and lists it last.
    assert graded.resolve(language="zh").id == "graded:a"
    assert [v.id for v in graded.voices("zh")][-1] == "graded:c"
    # By its id it is still there.
    assert graded.resolve(voice="graded:c").id == "graded:c"


def test_measured_score_goes_before_the_grade_and_near_ties_go_to_the_grade() -> None:
    graded = catalogue(HEARD)
    # a is 0.02 behind b (a tie at three sentences a voice): a's better grade wins...
    assert [v.id for v in graded.voices("zh-CN")] == ["graded:a", "graded:b", "graded:c"]
    # ...and d, 0.03 behind e, keeps its grade A over e's C.
    assert graded.resolve(language="en").id == "graded:d"
    # A voice 0.04 behind its language's best goes after it, whatever its grade.
    further = {**HEARD, "graded:d": Heard("wer", 0.04)}
    assert [v.id for v in catalogue(further).voices("en")] == ["graded:e", "graded:d"]


def test_ungraded_voices_are_ordered_by_grade_and_never_marked() -> None:
    plain = catalogue({})
    assert not any(v.hard_to_understand or v.heard for v in plain.voices())
    assert plain.resolve(language="zh").id == "graded:c"
    assert plain.voices()[0].public()["heard"] is None


def test_the_best_is_the_best_this_server_offers() -> None:
    # Only the two worst Mandarin voices graded: the better of them is the language's best.
    graded = catalogue({"graded:a": Heard("cer", 0.5), "graded:c": Heard("cer", 0.9)})
    assert graded.resolve(language="zh").id == "graded:a"
    assert [v.id for v in graded.voices() if v.hard_to_understand] == ["graded:c"]


def test_the_package_table_grades_every_kokoro_voice_with_its_command() -> None:
    table = json.loads((resources.files("sayfile") / "heard.json").read_text("utf-8"))
    assert table["command"].startswith("python bench/grading.py")
    assert table["date"]
    kokoro = [v for v in table["voices"] if v.startswith("kokoro:")]
    assert len(kokoro) == 54
    for voice, row in table["voices"].items():
        metric = "cer" if row["language"].split("-")[0] in {"zh", "ja", "cmn", "hi"} else "wer"
        assert row[metric] >= 0, voice
    assert measured()["kokoro:zf_xiaoni"].metric == "cer"


def test_the_mandarin_voice_people_found_hard_is_hard_by_the_table() -> None:
    heard = measured()
    zh = [h.error for k, h in heard.items() if k.startswith("kokoro:z")]
    assert heard["kokoro:zf_xiaoni"].error > min(zh) + 0.05
