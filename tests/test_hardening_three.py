"""Round three of the attacks (issue 28): one-time links, limits counted after markup,
bounded engine calls, SSML with a prologue, chapters and book readers. Each attack that
once got through is a test here."""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from conftest import TONES, Server, decode_in_process, wait_done


@pytest.mark.slow
def test_a_one_time_link_delivers_once_on_one_connection_and_at_once(
    server_factory: Callable[..., Server],
) -> None:
    """A second GET right after the first on the same connection, or three GETs at the same
    moment: one whole file, the others 410 (used up) or 409 (being downloaded)."""
    server = server_factory(engines="tone", default_voice="tone:beep")

    def one_time_link(client: httpx.Client) -> tuple[str, int]:
        job = client.post("/jobs", json={"text": "Only once.", "one_time": True}).json()
        done = wait_done(client, job["status_url"])
        return done["audio_url"], done["bytes"]

    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(15):
            url, size = one_time_link(client)
            first = client.get(url)
            second = client.get(url)  # the same keep-alive connection, at once
            assert first.status_code == 200 and len(first.content) == size
            assert second.status_code in (409, 410), second.status_code

    def get(url: str) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=30) as one:
            return one.get(url)

    with (
        httpx.Client(base_url=server.url, timeout=30) as client,
        concurrent.futures.ThreadPoolExecutor(3) as pool,
    ):
        for _ in range(15):
            url, size = one_time_link(client)
            answers = list(pool.map(get, [url] * 3))
            whole = [a for a in answers if a.status_code == 200 and len(a.content) == size]
            assert len(whole) == 1, [a.status_code for a in answers]
            assert all(a.status_code in (200, 409, 410) for a in answers)


def _ssml(inner: str) -> dict[str, str]:
    return {"text": f"<speak>{inner}</speak>"}


def _alias(term: str, replacement: str) -> list[dict[str, str]]:
    return [{"language": "*", "term": term, "replacement": replacement}]


def test_lexicon_replacements_count_against_the_limit_as_spoken(
    make_client: Callable[..., TestClient],
) -> None:
    """5,000 characters of `a ` with a 500-character replacement for `a` was 1.25 million
    characters said by POST /speech, and 8,000 a 37-hour job."""
    client = make_client(**TONES)
    lexicon = _alias("a", "b" * 500)
    r = client.post("/speech", json={"text": "a " * 2500, "lexicon": lexicon})
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert error["code"] == "text_too_long" and error["setting"] == "SAYFILE_MAX_CHARS_DIRECT"
    assert "as spoken" in error["message"] and error["size"] > 1_000_000
    r = client.post("/jobs", json={"text": _ssml("a " * 4000)["text"], "lexicon": lexicon})
    assert r.status_code == 413 and r.json()["error"]["setting"] == "SAYFILE_MAX_CHARS_JOB"
    assert r.json()["error"]["limit"] == 200_000
    # A replacement that keeps within the limit is said.
    said = client.post("/speech", json={"text": "a b", "lexicon": _alias("a", "c" * 50)})
    assert said.status_code == 200 and decode_in_process(said.content, "mp3").duration_s > 0


def test_breaks_cannot_make_audio_out_of_nothing(make_client: Callable[..., TestClient]) -> None:
    """1 word and 555 ten-second breaks was 92 minutes of WAV in one direct answer."""
    client = make_client(**TONES)
    many = _ssml("Hi " + '<break time="10s"/><mark name="m"/>' * 555)
    for path in ("/speech", "/jobs", "/speech?stream=true"):
        r = client.post(path, json={**many, "format": "wav"})
        assert r.status_code == 413, (path, r.status_code)
        error = r.json()["error"]
        assert error["code"] == "too_much_silence" and error["field"] == "text"
        assert "60 s" in error["message"] if path == "/speech" else "600 s" in error["message"]
    # A few breaks are what SSML is for: 3 x 10 s in a direct answer.
    some = client.post(
        "/speech",
        json={
            **_ssml('Hi <break time="10s"/> a <break time="10s"/> b <break time="10s"/> there'),
            "format": "wav",
        },
    )
    assert some.status_code == 200
    assert decode_in_process(some.content, "wav").duration_s > 30


def test_a_job_reserves_its_pauses_against_the_quota(
    make_client: Callable[..., TestClient],
) -> None:
    """With a 10 MiB quota one job of breaks wrote 158 MB: its pauses now count up front."""
    client = make_client(**TONES, storage_quota_bytes=2_000_000)
    pauses = _ssml("Hello there. " + '<break time="10s"/><mark name="m"/>' * 59)  # 590 s
    r = client.post("/jobs", json={**pauses, "format": "wav"})
    assert r.status_code == 507 and r.json()["error"]["code"] == "storage_full"
    assert client.post("/jobs", json={"text": "Hello there.", "format": "wav"}).status_code == 202


def test_a_phoneme_longer_than_a_sentence_is_refused(
    make_client: Callable[..., TestClient],
) -> None:
    """A 21,000-character <phoneme> was one engine call running for 17 minutes."""
    client = make_client(**TONES, max_sentence_chars=400)
    for path in ("/speech", "/jobs"):
        r = client.post(path, json=_ssml(f'<phoneme alphabet="ipa" ph="{"ə" * 2000}">x</phoneme>'))
        assert r.status_code == 422 and r.json()["error"]["field"] == "text"
        assert "SAYFILE_MAX_SENTENCE_CHARS" in r.json()["error"]["message"]
    r = client.post(
        "/speech", json={"text": "hello", "lexicon": _alias("hello", "ipa:" + "ə" * 401)}
    )
    assert r.status_code == 422 and "400" in r.json()["error"]["message"]
    ok = client.post("/speech", json=_ssml('<phoneme alphabet="ipa" ph="həˈloʊ">hello</phoneme>'))
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "inner",
    [
        '<say-as interpret-as="telephone">' + "1" * 4999 + "</say-as>",
        '<say-as interpret-as="characters">' + "a" * 4999 + "</say-as>",
    ],
)
def test_say_as_expansions_count_against_the_direct_limit(
    make_client: Callable[..., TestClient], inner: str
) -> None:
    r = make_client(**TONES).post("/speech", json=_ssml(inner))
    assert r.status_code == 413 and r.json()["error"]["size"] > 5000


@pytest.mark.parametrize(
    "inner",
    [
        '<say-as interpret-as="date" format="ymd">' + "1" * 20 + "-01-02</say-as>",
        '<say-as interpret-as="date" format="mdy">' + "1" * 4900 + "/01/2020</say-as>",
    ],
)
def test_dates_no_calendar_has_are_read_as_written(
    make_client: Callable[..., TestClient], inner: str
) -> None:
    """A 20-digit year or a 4,900-digit month was a 500 (OverflowError, int digits limit)."""
    r = make_client(**TONES).post("/jobs", json=_ssml(inner))
    assert r.status_code == 202, r.text


def test_ssml_after_an_xml_declaration_is_ssml_and_a_doctype_is_refused(
    make_client: Callable[..., TestClient],
) -> None:
    """ "Hello &xxe; there.</speak>" was what the timings said was spoken."""
    client = make_client(**TONES)
    job = client.post("/jobs", json={"text": '<?xml version="1.0"?>\n<speak>Hello there.</speak>'})
    done = wait_done(client, job.json()["status_url"])
    pieces = client.get(f"/jobs/{done['id']}/timings").json()["pieces"]
    assert [piece["text"] for piece in pieces] == ["Hello there."]
    for text in (
        '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY xxe "boo">]>'
        "<speak>Hello &xxe; there.</speak>",
        '<!DOCTYPE speak SYSTEM "http://127.0.0.1:9/x.dtd"><speak>Hello there.</speak>',
    ):
        for path in ("/speech", "/jobs"):
            r = client.post(path, json={"text": text})
            assert r.status_code == 422, (path, text)
            assert r.json()["error"]["field"] == "text" and "DTD" in r.json()["error"]["message"]
    # An HTML page with its DOCTYPE is still read as HTML, not taken for SSML.
    html = client.post("/speech", json={"text": "<!DOCTYPE html><p>Hello there.</p>"})
    assert html.status_code == 200


def test_a_lone_surrogate_inside_ssml_is_422(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    body = b'{"text": "<speak>Hi \\ud800 there</speak>"}'
    r = client.post("/speech", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "text"
    assert "U+D800" in r.json()["error"]["message"]


def test_voice_samples_need_the_key_and_are_made_once(
    make_client: Callable[..., TestClient],
) -> None:
    """40 unauthenticated sample requests for one voice made 24 jobs and filled the queue."""
    client = make_client(**TONES, api_keys=["k1"])
    url = "/voices/tone:beep/sample"
    refused = client.get(url)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    key = {"authorization": "Bearer k1"}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.get(url, headers=key), range(40)))
    assert [a.status_code for a in answers] == [200] * 40
    assert decode_in_process(answers[0].content, "mp3").duration_s > 0
    audio = client.app.state.settings.data_dir / "audio"  # type: ignore[attr-defined]
    made = {path.stat().st_ino for path in audio.iterdir() if path.suffix == ".mp3"}
    assert len(made) == 1  # one synthesis; every other answer links its file


@pytest.mark.slow  # Debian's ffprobe reads the chapters
def test_chapters_up_to_the_bound_are_made_and_more_are_refused_up_front(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """An SSML job with 256 `chapter:` marks (mp3) or 1,000 (opus), and a text of 400
    `Chapter N` lines, were accepted and then failed with an internal ValueError."""
    client = make_client(**TONES)

    def marked(count: int) -> str:
        return _ssml("".join(f'<mark name="chapter:Part {n}"/>Word {n}. ' for n in range(count)))[
            "text"
        ]

    job = client.post("/jobs", json={"text": marked(256), "format": "mp3"})
    assert job.status_code == 202, job.text
    done = wait_done(client, job.json()["status_url"])
    assert done["status"] == "done", done
    saved = tmp_path / "marked.mp3"
    saved.write_bytes(client.get(done["audio_url"]).content)
    assert len(_chapters_of(saved)) == 256

    for fmt in ("opus", "mp3"):
        r = client.post("/jobs", json={"text": marked(1000), "format": fmt})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == "text" and "500" in r.json()["error"]["message"]

    text = "".join(f"Chapter {n}\n\nIt was a quiet day number {n}.\n\n" for n in range(1, 401))
    job = client.post("/jobs", json={"text": text, "format": "mp3"})
    assert job.status_code == 202, job.text
    done = wait_done(client, job.json()["status_url"], timeout=120)
    assert done["status"] == "done", done
    saved.write_bytes(client.get(done["audio_url"]).content)
    titles = _chapters_of(saved)
    assert len(titles) == 400 and titles[-1] == "Chapter 400"


def _chapters_of(path: Path) -> list[str]:
    """The chapter titles ffprobe (and the players built on FFmpeg) find in a file."""
    command = ["ffprobe", "-v", "error", "-show_chapters", "-print_format", "json", str(path)]
    found = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
    return [chapter["tags"]["title"] for chapter in found["chapters"]]


@pytest.mark.parametrize(
    ("body", "field", "named"),
    [
        (_ssml('<phoneme alphabet="ipa" ph="123">x</phoneme>'), "text", "'1'"),
        (_ssml('<phoneme alphabet="ipa" ph="☃☃">x</phoneme>'), "text", "☃"),
        (_ssml('<phoneme alphabet="x-pinyin" ph="zhang3 zzz9">x</phoneme>'), "text", "zzz9"),
        ({"text": "hello", "lexicon": _alias("hello", "pinyin:zzz9")}, "lexicon", "zzz9"),
        ({"text": "hello", "lexicon": _alias("hello", "ipa:123")}, "lexicon", "'1'"),
    ],
)
def test_pronunciations_no_engine_can_read_are_422(
    make_client: Callable[..., TestClient], body: dict[str, object], field: str, named: str
) -> None:
    """Kokoro answered these with a 500; they are refused before any engine sees them."""
    client = make_client(**TONES)
    for path in ("/speech", "/jobs"):
        r = client.post(path, json=body)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["error"]["field"] == field and named in r.json()["error"]["message"]
    # Real ones pass.
    fine = _ssml(
        '<phoneme alphabet="x-pinyin" ph="zhang1 san1 lü4 nüe4">x</phoneme> and '
        '<phoneme alphabet="ipa" ph="ˈsaɪ.faɪl">sayfile</phoneme> '
        '<phoneme alphabet="ipa" ph="ʈʂ→ɑŋ˥ sɑn↗, həˈloʊ!">x</phoneme>'
    )
    assert client.post("/speech", json=fine).status_code == 200


def test_an_upload_with_the_key_as_a_form_field_is_accepted(
    make_client: Callable[..., TestClient],
) -> None:
    """The page's form sends the key as `api_key`: a multipart upload with it was a 500."""
    client = make_client(**TONES, api_keys=["k1"])
    upload = {"file": ("note.txt", b"Hello there, reader.", "text/plain")}
    r = client.post("/jobs", files=upload, data={"api_key": "k1"})
    assert r.status_code == 202, r.text
    assert wait_done(client, r.json()["status_url"])["status"] == "done"
    wrong = client.post("/jobs", files=upload, data={"api_key": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"


def test_a_long_text_with_a_noncharacter_is_made_as_a_book(
    make_client: Callable[..., TestClient],
) -> None:
    """U+FFFF in a long text (made as a book, through SSML) was "SSML is not well-formed"."""
    client = make_client(**TONES, book_above_chars=1000)
    r = client.post("/jobs", json={"text": "Hello there. \uffff\ufffe " * 100})
    assert r.status_code == 202, r.text
    assert wait_done(client, r.json()["status_url"])["status"] == "done"


def test_a_client_that_hangs_up_mid_body_is_no_500_in_the_metrics(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    body = json.dumps({"text": "Hello there. " * 50}).encode()
    messages: list[Message] = [
        {"type": "http.request", "body": body[:100], "more_body": True},
        {"type": "http.disconnect"},
    ]
    answered: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        answered.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/speech",
        "raw_path": b"/speech",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    assert client.portal is not None
    client.portal.call(client.app, scope, receive, send)
    assert not [m for m in answered if m["type"] == "http.response.start"]
    text = client.get("/metrics").text
    counted = {
        line.split("status=")[1][1:4]
        for line in text.splitlines()
        if line.startswith("sayfile_http_requests_total") and 'route="/speech"' in line
    }
    assert counted == {"499"}, text


def test_a_text_of_short_lines_counts_as_long_as_it_is(
    make_client: Callable[..., TestClient],
) -> None:
    """A 197,999-character text of short lines was refused as "211,199 characters". Each
    shape of short lines is counted as what it is, up to the limit and one past it; a text
    made as a book names the chapters to make (not a file) when it has too many for a file."""
    client = make_client(**TONES, max_chars_job=2000, book_above_chars=0)
    shapes = {
        "lines": "\n".join(f"Short line {n} here." for n in range(400)),
        "paragraphs": "\n\n".join(f"Short line {n} here." for n in range(400)),
        "unpunctuated": "\n".join("word word word" for _ in range(400)),
        "bullets": "\n".join(f"- item {n}" for n in range(400)),
    }
    for name, lines in shapes.items():
        # Cut to an exact length, ending on a letter (trailing spaces are not spoken).
        r = client.post("/jobs", json={"text": lines[:1999] + "x"})
        assert r.status_code == 202, (name, r.text)
        client.delete(r.json()["status_url"])
        # Over the limit: refused, counted as spoken (one space between lines), never more
        # than was typed.
        r = client.post("/jobs", json={"text": lines[:2999] + "x"})
        assert r.status_code == 413, (name, r.text)
        found = re.search(r"Text is ([0-9]+) characters", r.json()["error"]["message"])
        assert found is not None, r.text
        counted = int(found[1])
        assert 2000 < counted <= 3000, (name, counted)

    titles = "".join(f"Chapter {n}\nIt was short.\n" for n in range(1, 600))
    client = make_client(**TONES, book_above_chars=100)
    r = client.post("/jobs", json={"text": titles})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "chapters" and "chapters 1-500 first" in error["message"]
