"""Issue 28's attacks that are about load, against a real `sayfile serve` (espeak-ng): the
slowest `/healthz` answer during each, and the server's peak resident memory for each single
request (the kernel's high-water mark, reset before each attack).

    .venv/bin/python bench/attacks.py [--seconds 20]

Prints a table: attack, status, peak RSS, the growth over the idle server, slowest /healthz.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from harness import load_env, start_sayfile, stop

MIB = 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str
    peak_mib: float
    grown_mib: float
    healthz_s: float


def peak_rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def reset_peak(pid: int) -> None:
    # Writing 5 to clear_refs sets the high-water mark back to the memory in use now.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class HealthProbe:
    """Asks /healthz again and again from a thread of its own; keeps the slowest answer."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._stop = threading.Event()
        self.slowest = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self._url, timeout=60) as client:
            while not self._stop.is_set():
                began = time.perf_counter()
                client.get("/healthz")
                self.slowest = max(self.slowest, time.perf_counter() - began)
                time.sleep(0.05)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def said(answer: httpx.Response) -> str:
    """The status, with the error's code for a refusal."""
    if answer.status_code < 400:
        return str(answer.status_code)
    try:
        return f"{answer.status_code} {answer.json()['error']['code']}"
    except (ValueError, KeyError, TypeError):
        return str(answer.status_code)


def ssml_jobs(client: httpx.Client, seconds: float) -> str:
    """4 SSML jobs of 99,000 `<s>` at once, watched for `seconds`, then cancelled."""
    document = "<speak>" + "<s>a</s>" * 99_000 + "</speak>"
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client.post("/jobs", json={"text": document}), range(4)))
    time.sleep(seconds)
    for answer in answers:
        if answer.status_code == 202:
            client.delete(answer.json()["status_url"])
    return ",".join(str(a.status_code) for a in answers)


def breaks_direct(client: httpx.Client, _: float) -> str:
    text = "<speak>word" + '<break time="10s"/><mark name="m"/>' * 555 + "</speak>"
    return said(client.post("/speech", json={"text": text, "format": "wav"}))


def breaks_stream(client: httpx.Client, _: float) -> str:
    text = "<speak>word" + '<break time="10s"/>' * 720 + "</speak>"
    body = {"text": text, "format": "pcm"}
    with client.stream("POST", "/speech", params={"stream": "true"}, json=body) as answer:
        size = sum(len(chunk) for chunk in answer.iter_bytes())
        if answer.status_code >= 400:
            return said(answer)
    return f"{answer.status_code} ({size / 1024:,.0f} KiB, {size / 2 / 22_050:.0f} s at 22,050 Hz)"


def long_phoneme(client: httpx.Client, _: float) -> str:
    text = f'<speak><phoneme alphabet="ipa" ph="{"ə" * 21_000}">a</phoneme></speak>'
    return said(client.post("/speech", json={"text": text}))


def alias_multiplied(client: httpx.Client, _: float) -> str:
    entries = [{"language": "en", "term": "a", "replacement": "b" * 499 + "."}]
    body = {"text": "a " * 2_500, "lexicon": entries}
    return said(client.post("/speech", json=body))


def telephone(client: httpx.Client, _: float) -> str:
    text = f'<speak><say-as interpret-as="telephone">{"5" * 4_999}</say-as></speak>'
    return said(client.post("/speech", json={"text": text}))


def _epub(chapter: bytes, itemrefs: int) -> bytes:
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title>'
        "<dc:language>en</dc:language></metadata>"
        '<manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/></manifest>'
        "<spine>" + '<itemref idref="c"/>' * itemrefs + "</spine></package>"
    )
    container = (
        '<?xml version="1.0"?><container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        '<rootfile full-path="content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml", container)
        book.writestr("content.opf", opf)
        book.writestr("c.xhtml", chapter)
    return buffer.getvalue()


def _upload(client: httpx.Client, name: str, data: bytes, media_type: str) -> str:
    answer = client.post("/jobs", files={"file": (name, data, media_type)})
    if answer.status_code == 202:
        client.delete(answer.json()["status_url"])
    return said(answer)


def epub_repeated_spine(client: httpx.Client, _: float) -> str:
    chapter = b"<html><body><p>" + b"Some words of a chapter. " * 4_000 + b"</p></body></html>"
    return _upload(client, "spine.epub", _epub(chapter, 100_000), "application/epub+zip")


def epub_elements(client: httpx.Client, _: float) -> str:
    chapter = b"<html><body>" + b"<span>a</span>" * (49 * MIB // 14) + b"</body></html>"
    return _upload(client, "elements.epub", _epub(chapter, 1), "application/epub+zip")


def big_text(client: httpx.Client, _: float) -> str:
    data = b"All work and no play makes a dull day. " * (200 * MIB // 39)
    return _upload(client, "big.txt", data, "text/plain")


ATTACKS: list[tuple[str, Callable[[httpx.Client, float], str]]] = [
    ("4 SSML jobs of 99,000 <s> at once", ssml_jobs),
    ("1 word + 555 x <break time=10s/><mark/>, direct WAV", breaks_direct),
    ("1 word + 720 x <break time=10s/>, pcm stream", breaks_stream),
    ("<phoneme> of 21,000 IPA characters", long_phoneme),
    ("5,000 characters of 'a ' with a 500-character alias", alias_multiplied),
    ("say-as telephone of 4,999 digits", telephone),
    ("EPUB whose spine lists one chapter 100,000 times", epub_repeated_spine),
    ("EPUB of 49 MB of elements", epub_elements),
    ("200 MiB text upload", big_text),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    outcomes = []
    with tempfile.TemporaryDirectory() as folder:
        env = load_env(Path(folder), SAYFILE_ENGINES="espeak", SAYFILE_DEFAULT_VOICE="espeak:en-us")
        process, url = start_sayfile(env)
        try:
            with httpx.Client(base_url=url, timeout=600) as client:
                client.post("/speech", json={"text": "Warm up."})
                for name, attack in ATTACKS:
                    idle = rss(process.pid)
                    reset_peak(process.pid)
                    with HealthProbe(url) as probe:
                        status = attack(client, args.seconds)
                    peak = peak_rss(process.pid)
                    outcomes.append(Outcome(name, status, peak, peak - idle, probe.slowest))
                    print(f"{name}: {status}", flush=True)
        finally:
            stop(process)
    print("| attack | status | peak RSS (MiB) | over idle (MiB) | slowest /healthz (s) |")
    print("| --- | --- | --- | --- | --- |")
    for o in outcomes:
        print(
            f"| {o.name} | {o.status} | {o.peak_mib:.0f} | {o.grown_mib:.0f} | {o.healthz_s:.2f} |"
        )


if __name__ == "__main__":
    main()
