"""SSML as users write it: pauses, voices, rates, say-as readings in English and Chinese,
pronunciations, and documents that are refused (unsafe, malformed, too big) with the line."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from sayfile.errors import InvalidSsml
from sayfile.text.spans import Span
from sayfile.text.ssml import (
    BREAK_STRENGTHS,
    MAX_PAUSE_S,
    PARAGRAPH_PAUSE_S,
    looks_like_ssml,
    parse_ssml,
)

SSML_NS = 'xmlns="http://www.w3.org/2001/10/synthesis"'


def _texts(spans: list[Span]) -> list[str]:
    return [span.text for span in spans]


def _say(content: str, language: str = "en-US") -> str:
    spans = parse_ssml(f'<speak xml:lang="{language}">{content}</speak>')
    assert len(spans) == 1
    return spans[0].text


@pytest.mark.parametrize(
    "text",
    [
        "<speak>Hello</speak>",
        "  \n<speak version='1.1' xml:lang='en-US'>Hello</speak>\n",
        '<?xml version="1.0" encoding="UTF-8"?>\n<speak>Hi</speak>',
        f"<speak {SSML_NS}>Hi</speak>",
        "\ufeff<speak/>",
    ],
)
def test_documents_starting_with_speak_are_ssml(text: str) -> None:
    assert looks_like_ssml(text)


@pytest.mark.parametrize(
    "text",
    [
        "Use a < b & c > d in the formula.",
        "Tom & Jerry",
        "<b>bold</b> is HTML",
        "<speaker> is not speak",
        "He said <speak>hello</speak>",
        "",
    ],
)
def test_plain_text_is_never_taken_as_ssml(text: str) -> None:
    assert not looks_like_ssml(text)


def test_breaks_become_pauses_before_the_next_words() -> None:
    spans = parse_ssml(
        "<speak>One<break time='2s'/>two<break time='500ms'/>three"
        "<break strength='strong'/>four<break/>five <break strength='none'/>six</speak>"
    )
    assert _texts(spans) == ["One", "two", "three", "four", "five six"]
    assert [span.pause_before_s for span in spans] == [0.0, 2.0, 0.5, 1.0, 0.5]
    assert BREAK_STRENGTHS["medium"] == 0.5


def test_breaks_are_capped_and_a_trailing_break_is_a_pure_pause() -> None:
    spans = parse_ssml(
        "<speak>Wait<break time='30s'/>for it<break time='8s'/><break time='8s'/></speak>"
    )
    assert spans == [Span("Wait"), Span("for it", pause_before_s=MAX_PAUSE_S), Span("", 10.0)]


def test_break_with_a_bad_time_names_its_line() -> None:
    with pytest.raises(InvalidSsml, match="line 2, column 3") as caught:
        parse_ssml("<speak>Hi\n  <break time='2 seconds'/></speak>")
    assert "500ms" in caught.value.message
    assert (caught.value.line, caught.value.field) == (2, "text")


def test_sentences_and_paragraphs_end_sentences_and_paragraphs_pause() -> None:
    spans = parse_ssml(
        "<speak><p><s>First one</s><s>Second one</s></p><p>Next paragraph</p>After</speak>"
    )
    assert _texts(spans) == ["First one", "Second one", "Next paragraph", "After"]
    assert [span.sentence_end for span in spans] == [True, True, True, False]
    assert [span.pause_before_s for span in spans] == [0.0, 0.0, PARAGRAPH_PAUSE_S, 0.0]


def test_voice_language_and_rate_apply_to_their_content() -> None:
    spans = parse_ssml(
        '<speak xml:lang="en-US">Hello <voice name="kokoro:af_bella">from Bella '
        '<prosody rate="slow" pitch="+2st">slowly</prosody></voice> '
        '<lang xml:lang="fr-FR">bonjour</lang> <emphasis>really</emphasis></speak>'
    )
    assert spans == [
        Span("Hello", language="en-US"),
        Span("from Bella", voice="kokoro:af_bella", language="en-US"),
        Span("slowly", voice="kokoro:af_bella", language="en-US", rate=0.75),
        Span("bonjour", language="fr-FR"),
        Span("really", language="en-US", rate=0.9),
    ]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        ("x-slow", 0.5),
        ("slow", 0.75),
        ("medium", 1.0),
        ("fast", 1.25),
        ("x-fast", 1.75),
        ("150%", 1.5),
        ("1.2", 1.2),
        ("+10%", 1.1),
        ("1000%", 4.0),
        ("5%", 0.25),
    ],
)
def test_prosody_rates(rate: str, expected: float) -> None:
    spans = parse_ssml(f'<speak>a <prosody rate="{rate}">b</prosody></speak>')
    assert spans[-1].rate == pytest.approx(expected)


def test_an_unknown_rate_is_refused() -> None:
    with pytest.raises(InvalidSsml, match=r"line 1, column 8.*not a rate"):
        parse_ssml('<speak><prosody rate="warp">b</prosody></speak>')


def test_words_spoken_alike_stay_in_one_span() -> None:
    spans = parse_ssml(
        "<speak>\n  Hello   <mark name='m1'/>there,\n  <sub alias='World Wide Web'>WWW</sub>"
        " fans <prosody rate='fast'> </prosody> and <emphasis level='none'>friends</emphasis>"
        "</speak>"
    )
    # A mark names the moment the words after it begin: they start a span of their own.
    assert _texts(spans) == ["Hello", "there, World Wide Web fans and friends"]
    assert [span.mark for span in spans] == [None, "m1"]


@pytest.mark.parametrize(
    ("content", "english"),
    [
        ('<say-as interpret-as="cardinal">123</say-as>', "one hundred and twenty-three"),
        (
            '<say-as interpret-as="cardinal">1,234</say-as>',
            "one thousand, two hundred and thirty-four",
        ),
        ('<say-as interpret-as="cardinal">-2.5</say-as>', "minus two point five"),
        ('<say-as interpret-as="ordinal">3</say-as>', "third"),
        ('<say-as interpret-as="ordinal">21st</say-as>', "twenty-first"),
        ('<say-as interpret-as="characters">ABC</say-as>', "A B C"),
        ('<say-as interpret-as="spell-out">sql</say-as>', "S Q L"),
        ('<say-as interpret-as="digits">2026</say-as>', "two zero two six"),
        (
            '<say-as interpret-as="date">2026-11-25</say-as>',
            "November twenty-fifth, twenty twenty-six",
        ),
        (
            '<say-as interpret-as="date" format="dmy">25/11/2026</say-as>',
            "the twenty-fifth of November, twenty twenty-six",
        ),
        ('<say-as interpret-as="date" format="md">11-25</say-as>', "November twenty-fifth"),
        ('<say-as interpret-as="date" format="ym">2026-11</say-as>', "November twenty twenty-six"),
        ('<say-as interpret-as="time">14:30</say-as>', "two thirty P M"),
        ('<say-as interpret-as="time">9:05 am</say-as>', "nine oh five A M"),
        ('<say-as interpret-as="time" format="hms24">14:00</say-as>', "fourteen hundred"),
        (
            '<say-as interpret-as="telephone">555-123-4567</say-as>',
            "five five five, one two three, four five six seven",
        ),
        (
            '<say-as interpret-as="telephone">+1 5551234567</say-as>',
            "plus one, five five five, one two three, four five six seven",
        ),
    ],
)
def test_say_as_in_english(content: str, english: str) -> None:
    assert _say(content) == english


@pytest.mark.parametrize(
    ("content", "chinese"),
    [
        ('<say-as interpret-as="cardinal">123</say-as>', "一百二十三"),
        ('<say-as interpret-as="ordinal">3</say-as>', "第三"),
        ('<say-as interpret-as="characters">你好</say-as>', "你 好"),
        ('<say-as interpret-as="digits">2026</say-as>', "二零二六"),
        ('<say-as interpret-as="date">2026-11-25</say-as>', "二零二六年十一月二十五日"),
        ('<say-as interpret-as="time">14:05</say-as>', "十四点零五分"),
        ('<say-as interpret-as="time">2:00</say-as>', "两点整"),
        ('<say-as interpret-as="telephone">13812345678</say-as>', "幺三八，幺二三四，五六七八"),
    ],
)
def test_say_as_in_chinese(content: str, chinese: str) -> None:
    assert _say(content, "zh-CN") == chinese
    assert _say(content, "cmn") == chinese


def test_say_as_that_does_not_fit_is_read_as_written() -> None:
    assert _say('It is <say-as interpret-as="date">someday</say-as>') == "It is someday"
    assert _say('<say-as interpret-as="date">2026-02-30</say-as>') == "2026-02-30"
    assert _say('<say-as interpret-as="cardinal">12abc</say-as>') == "12abc"
    assert _say('<say-as interpret-as="currency">$5</say-as>') == "$5"
    assert _say('<say-as interpret-as="cardinal">7</say-as>', "fr-FR") == "sept"


def test_phonemes_and_pinyin_are_spans_of_their_own() -> None:
    spans = parse_ssml(
        '<speak>I say <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme>, '
        '<phoneme alphabet="x-pinyin" ph="zhang3  san1">张三</phoneme> too. '
        '<phoneme alphabet="x-sampa" ph="t@\'mA:toU">potato</phoneme></speak>'
    )
    assert spans == [
        Span("I say"),
        Span("tomato", phonemes="təˈmɑːtoʊ"),
        Span(","),
        Span("张三", pinyin="zhang3 san1"),
        Span("too. potato"),
    ]


def test_unknown_elements_and_audio_speak_their_text_never_their_markup() -> None:
    spans = parse_ssml(
        '<speak>Start <widget color="red">inside <b>bold</b></widget> '
        '<audio src="https://example.com/bell.mp3">ding<desc>a bell</desc></audio>'
        '<mark name="here"/> end</speak>'
    )
    assert _texts(spans) == ["Start inside bold ding", "end"]
    assert spans[-1].mark == "here"


def test_marks_at_the_end_or_side_by_side_are_kept() -> None:
    spans = parse_ssml('<speak>Go<mark name="a"/><mark name="b"/> now.<mark name="end"/></speak>')
    assert [(span.text, span.mark) for span in spans] == [
        ("Go", None),
        ("", "a"),
        ("now.", "b"),
        ("", "end"),
    ]
    with pytest.raises(InvalidSsml, match="name"):
        parse_ssml("<speak>Go<mark/></speak>")


def test_the_namespaced_form_works() -> None:
    document = (
        '<?xml version="1.0"?>\n'
        f'<speak version="1.1" {SSML_NS} xml:lang="en-GB">\n'
        '  <s>Hello <break time="1s"/>there</s>\n'
        '  <s><say-as interpret-as="cardinal">2</say-as> items</s>\n'
        "</speak>"
    )
    spans = parse_ssml(document)
    assert spans == [
        Span("Hello", language="en-GB"),
        Span("there", pause_before_s=1.0, language="en-GB", sentence_end=True),
        Span("two items", language="en-GB", sentence_end=True),
    ]


def test_escaped_characters_are_spoken_and_white_space_folds() -> None:
    spans = parse_ssml("<speak>  Tom &amp; Jerry\n\n\t&lt;3  </speak>")
    assert _texts(spans) == ["Tom & Jerry <3"]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE speak [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<speak>&lol9;</speak>"""


@pytest.mark.slow  # a time limit: the slow layer
def test_billion_laughs_is_refused_without_expanding() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidSsml, match="DTD") as caught:
        parse_ssml(BILLION_LAUGHS)
    assert time.perf_counter() - started < 0.5
    assert caught.value.line == 2
    assert "lol" not in caught.value.message


def test_external_entities_are_refused_and_nothing_is_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the password")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("SSML parsing opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    for system in (secret.as_uri(), "http://example.com/entity.txt"):
        document = f'<!DOCTYPE speak [<!ENTITY x SYSTEM "{system}">]>\n<speak>&x;</speak>'
        with pytest.raises(InvalidSsml, match="DTD") as caught:
            parse_ssml(document)
        assert "password" not in str(caught.value)
    with pytest.raises(InvalidSsml, match="DTD"):
        parse_ssml('<!DOCTYPE speak SYSTEM "http://example.com/ssml.dtd"><speak>x</speak>')


def test_undefined_entities_are_refused() -> None:
    with pytest.raises(InvalidSsml, match="line 1, column 14: undefined entity"):
        parse_ssml("<speak>Hello &nbsp; there</speak>")


def test_malformed_xml_names_the_line_and_column() -> None:
    with pytest.raises(InvalidSsml) as caught:
        parse_ssml("<speak>\n  <s>Hello\n  </p>\n</speak>")
    assert caught.value.message == "SSML is not well-formed at line 3, column 5: mismatched tag."
    assert (caught.value.line, caught.value.column) == (3, 5)
    with pytest.raises(InvalidSsml, match="line 4, column 11: mismatched tag"):
        parse_ssml('\n <?xml version="1.0"?>\n<speak>\n<s>Hello</p>\n</speak>')


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("<voice>Hi</voice>", "must be a <speak> element"),
        ("<speak><sub>WWW</sub></speak>", "<sub> needs a alias"),
        ("<speak><say-as>12</say-as></speak>", "<say-as> needs a interpret-as"),
        ("<speak><phoneme>x</phoneme></speak>", "<phoneme> needs a ph"),
        ("<speak><break strength='huge'/></speak>", "not one of none, x-weak"),
        ("<speak>unclosed", "not well-formed at line 1"),
        ("", "not well-formed at line 1"),
    ],
)
def test_ssml_that_cannot_be_used_is_refused_saying_why(document: str, problem: str) -> None:
    with pytest.raises(InvalidSsml, match=problem):
        parse_ssml(document)


def test_documents_too_long_or_too_deep_are_refused() -> None:
    with pytest.raises(InvalidSsml, match="limit is 100"):
        parse_ssml("<speak>" + "word " * 50 + "</speak>", max_chars=100)
    deep = "<speak>" + "<s>" * 40 + "deep" + "</s>" * 40 + "</speak>"
    with pytest.raises(InvalidSsml, match="more than 32 elements deep at line 1"):
        parse_ssml(deep)
    assert _texts(parse_ssml(deep, max_depth=41)) == ["deep"]


@pytest.mark.slow  # a time limit: the slow layer
def test_a_document_of_the_longest_size_parses_quickly() -> None:
    sentence = '<s>Call <say-as interpret-as="telephone">555 1234</say-as> at once.</s> '
    document = "<speak><p>" + sentence * (199_000 // len(sentence)) + "</p></speak>"
    started = time.perf_counter()
    spans = parse_ssml(document)
    assert time.perf_counter() - started < 2
    assert spans[0] == Span("Call five five five, one two three four at once.", sentence_end=True)
