"""Kokoro on OpenVINO against onnxruntime (issue 27; tried and not kept, docs/benchmarks.md):
CPU per audio second on one thread, a stream's first piece on two threads, two sentences at
once, loudness, load time and memory.

    .venv/bin/pip install openvino==2026.4.1 onnx==1.19.0
    PYTHONPATH=src:bench .venv/bin/python bench/kokoro_openvino.py [--repeats 3]
        [--only cost|first|loudness|load]
    PYTHONPATH=src:bench .venv/bin/python bench/kokoro_openvino.py --hearing --languages zh en

The runtimes, each on a model with the durations output word timings need:

- "onnxruntime int8": sayfile's, the int8 timed model on onnxruntime (engines/kokoro_sessions.py);
- "openvino float, f32" and "... bf16": the timed model with its int8 convolutions made float
  again (bench/kokoro_profile.py's `float_conv_graph`, written to a temporary folder) on
  OpenVINO's CPU plugin, computing in float32 or in bfloat16 (this CPU has avx512_bf16);
- "openvino int8, f32": the int8 timed model as it is, on OpenVINO.

The inputs are the two long sentences of bench/kokoro_profile.py and the first pieces of
bench/first_byte.py, made by sayfile's engine. CPU time and runs interleaved in one process,
medians of `--repeats`; the loudness (pyloudnorm) of what sayfile's engine makes of the same
sentences on either runtime; load time and memory in a fresh process per runtime (`--load`),
without a compile cache, with an empty one and with it warm. OpenVINO is imported with its
telemetry stubbed out (`openvino_module`).
"""

from __future__ import annotations

import argparse
import atexit
import functools
import importlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import kokoro_profile as kp
from sayfile.engines.kokoro import KokoroEngine, assemble_model, default_folder
from sayfile.engines.kokoro_run import KokoroRun
from sayfile.engines.kokoro_timed_model import WHOLE, timed_model

FIRST_PIECES = {
    "en": ("kokoro:af_heart", "It was a bright cold day in"),
    "zh": ("kokoro:zf_xiaobei", "今天天气很好，"),
}
Run = Callable[[dict[str, Any]], tuple[Any, Any]]


@functools.cache
def float_model() -> Path:
    """The timed model with its int8 convolutions made float again (bench/kokoro_profile.py's
    `float_conv_graph`; the durations output stays), in a temporary folder of this process."""
    folder = Path(tempfile.mkdtemp(prefix="kokoro-openvino-"))
    atexit.register(shutil.rmtree, folder, True)
    return kp.float_conv_graph(int8_model(), folder)


def timed_feeds(engine: KokoroEngine, *sentences: Any) -> dict[str, dict[str, Any]]:
    """`kokoro_profile.feeds` for the timed model: every frame made (its whole window)."""
    window = np.array(WHOLE, dtype=np.int64)
    return {key: {**feed, "window": window} for key, feed in kp.feeds(engine, *sentences).items()}


def int8_model() -> Path:
    return timed_model(assemble_model(default_folder()))


def openvino_module() -> Any:
    """The `openvino` package (not one of sayfile's dependencies: `pip install
    openvino==2026.4.1`), imported with its telemetry package unimportable. `import openvino`
    imports its conversion tools, which send an "import" event to Google Analytics and write
    a client id into ~/intel unless the user opted out or runs in CI; they fall back to a stub
    that sends nothing when `openvino_telemetry` cannot be imported (a None in sys.modules)."""
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    openvino = importlib.import_module("openvino")
    tools = importlib.import_module("openvino.tools.ovc.telemetry_utils")
    assert tools.tm.__name__.endswith("telemetry_stub"), "OpenVINO's telemetry is on"
    return openvino


def compiled(model: Path, threads: int, precision: str, cache: Path | None = None) -> Any:
    """`model` compiled by OpenVINO's CPU plugin, each call on `threads` threads, computing in
    `precision` ("bf16" or "f32"); with `cache`, its compiled form kept in that folder."""
    core = openvino_module().Core()
    if cache is not None:
        core.set_property({"CACHE_DIR": str(cache)})
    return core.compile_model(
        str(model),
        "CPU",
        {
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": precision,
            "PERFORMANCE_HINT": "LATENCY",
            "ENABLE_CPU_PINNING": False,  # pinned threads fight the other sentence's
        },
    )


class OpenVinoSession:
    """A compiled model with onnxruntime's `run` (what engines/kokoro_run.py calls); each
    call takes an infer request of its own (a request serves one call at a time)."""

    def __init__(self, model: Path, threads: int, precision: str, cache: Path | None) -> None:
        self._compiled = compiled(model, threads, precision, cache)

    def run(self, names: None, feed: dict[str, Any]) -> list[Any]:
        result = self._compiled.create_infer_request().infer(feed)
        return [result[output] for output in self._compiled.outputs]


class OpenVinoKokoro:
    """What sayfile's engine uses of kokoro-onnx's `Kokoro` (tokenizer, styles, `.timed`),
    over the float timed model on OpenVINO in bfloat16."""

    def __init__(self, styles: Path, threads: int) -> None:
        from kokoro_onnx.tokenizer import Tokenizer

        self.tokenizer = Tokenizer()  # the model carries no vocabulary: the default one
        self.voices = np.load(styles)
        session = OpenVinoSession(float_model(), threads, "bf16", None)
        self.timed = KokoroRun(session, self.tokenizer.vocab)

    def get_voice_style(self, name: str) -> Any:
        return self.voices[name]


class OpenVinoEngine(KokoroEngine):
    """sayfile's Kokoro engine with its sessions on OpenVINO."""

    def _load(self, threads: int) -> Any:
        return OpenVinoKokoro(self._styles_file(), threads)


def onnxruntime_run(threads: int) -> Run:
    session = kp.session("2 threads" if threads == 2 else "current", int8_model())
    return lambda feed: tuple(session.run(None, feed))


def openvino_run(graph: str, precision: str, threads: int, cache: Path | None = None) -> Run:
    """A run of `graph` ("float" or "int8") compiled by OpenVINO; each call takes an infer
    request of its own (a request is not for two threads at once)."""
    session = OpenVinoSession(
        float_model() if graph == "float" else int8_model(), threads, precision, cache
    )
    return lambda feed: tuple(session.run(None, feed))


def variants(threads: int) -> dict[str, Run]:
    return {
        "onnxruntime int8": onnxruntime_run(threads),
        "openvino float, bf16": openvino_run("float", "bf16", threads),
        "openvino float, f32": openvino_run("float", "f32", threads),
        "openvino int8, f32": openvino_run("int8", "f32", threads),
    }


def cost(repeats: int) -> None:
    """CPU-s per audio s on one thread, and each graph's output checked: durations x 600 is
    the audio's length."""
    engine = KokoroEngine()
    inputs = timed_feeds(engine)
    runs = variants(1)
    spent: dict[tuple[str, str], list[float]] = defaultdict(list)
    for language, feed in inputs.items():
        for name, run in runs.items():
            audio, durations = run(feed)
            ok = int(np.asarray(durations).sum()) * 600 == np.asarray(audio).size
            print(f"{language} {name}: {np.asarray(audio).size / 24_000:.2f} s, timings {ok}")
        for _ in range(repeats):
            for name, run in runs.items():
                began = time.process_time()
                audio, _ = run(feed)
                spent[language, name].append(
                    (time.process_time() - began) / (np.asarray(audio).size / 24_000)
                )
    print()
    print("| runtime, graph, precision | en CPU-s per audio s | zh | against onnxruntime |")
    print("| --- | ---: | ---: | --- |")
    base = {x: statistics.median(spent[x, "onnxruntime int8"]) for x in inputs}
    for name in runs:
        medians = {x: statistics.median(spent[x, name]) for x in inputs}
        ratios = " / ".join(f"{medians[x] / base[x]:.2f}" for x in inputs)
        print(f"| {name} | {medians['en']:.3f} | {medians['zh']:.3f} | {ratios} |")


def first_piece(repeats: int) -> None:
    """The wall time of a stream's first piece on two threads, and of two long sentences at
    once on one thread each (two calls side by side, as two workers make them)."""
    engine = KokoroEngine()
    pieces = timed_feeds(engine, FIRST_PIECES)
    longs = timed_feeds(engine)
    two = {
        "onnxruntime int8": onnxruntime_run(2),
        "openvino float, bf16": openvino_run("float", "bf16", 2),
    }
    one = {
        "onnxruntime int8": onnxruntime_run(1),
        "openvino float, bf16": openvino_run("float", "bf16", 1),
    }
    walls: dict[tuple[str, str], list[float]] = defaultdict(list)
    seconds: dict[str, float] = {}
    for language, feed in pieces.items():
        for run in [*two.values(), *one.values()]:
            run(feed)  # warm
        for _ in range(repeats):
            for name in two:
                for threads, runs in (("2", two), ("1", one)):
                    clock = time.perf_counter()
                    audio, _ = runs[name](feed)
                    walls[language, f"{name}|{threads}"].append(time.perf_counter() - clock)
                    seconds[language] = np.asarray(audio).size / 24_000
    together: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        for name, run in one.items():
            made: list[float] = []

            def speak(feed: dict[str, Any], run: Run = run, made: list[float] = made) -> None:
                audio, _ = run(feed)
                made.append(np.asarray(audio).size / 24_000)

            both = [threading.Thread(target=speak, args=(feed,)) for feed in longs.values()]
            clock = time.perf_counter()
            for thread in both:
                thread.start()
            for thread in both:
                thread.join()
            together[name].append((time.perf_counter() - clock) / sum(made))
    print()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(
        "| runtime | en first piece, wall s (2 threads / 1) | zh first piece (2 threads / 1) "
        "| two long sentences at once, wall s per audio s |"
    )
    print("| --- | ---: | ---: | ---: |")
    for name in two:
        cells = [
            f"{statistics.median(walls[x, name + '|2']):.3f} / "
            f"{statistics.median(walls[x, name + '|1']):.3f}"
            for x in pieces
        ]
        print(f"| {name} | {' | '.join(cells)} | {statistics.median(together[name]):.3f} |")
    print(f"(first pieces' audio as the model makes it: {seconds})")


def loudness() -> None:
    """The integrated loudness (pyloudnorm, as tests/test_loudness.py measures) of what the
    engine makes of each sentence on either runtime, before sayfile's levelling."""
    import pyloudnorm

    meter = pyloudnorm.Meter(24_000)
    sentences = {**kp.SENTENCES, **{f"{x}, first piece": v for x, v in FIRST_PIECES.items()}}
    engines = {
        "onnxruntime int8": KokoroEngine(),
        "openvino float, bf16": OpenVinoEngine(),
    }
    print()
    print("| sentence | " + " | ".join(f"{name}, LUFS" for name in engines) + " | difference |")
    print("| --- |" + " ---: |" * (len(engines) + 1))
    for name, (voice_id, text) in sentences.items():
        levels = []
        for engine in engines.values():
            voice = next(v for v in engine.voices() if v.id == voice_id)
            samples = engine.synthesize(voice, text, 1.0)
            levels.append(float(meter.integrated_loudness(samples / 32768.0)))
        cells = " | ".join(f"{level:.2f}" for level in levels)
        print(f"| {name} ({voice_id}) | {cells} | {levels[1] - levels[0]:+.2f} |")


def hearing(arguments: list[str]) -> None:
    """bench/hearing.py (its `arguments`) with sayfile's Kokoro engine on OpenVINO in
    bfloat16: the held-out sentences heard by Whisper, as that bench hears onnxruntime's."""
    import hearing as bench
    import sayfile.engines as engines

    engines.ENGINES["kokoro"] = lambda settings: OpenVinoEngine(
        settings.kokoro_dir, settings.synthesis_threads, settings.first_piece_threads
    )
    sys.argv = ["hearing.py", *arguments]
    bench.main()


def load(runtime: str, cache: Path | None, inputs: Path) -> dict[str, float]:
    """In this process: the runtime's model loaded (the graph already on disk), one run of
    the long English sentence (its model input read from `inputs`); CPU and wall seconds to
    load, resident MB after loading and at most."""
    feed = dict(np.load(inputs))
    int8_model(), float_model()  # on disk already: not part of the load
    before = _resident_mb()
    began, clock = time.process_time(), time.perf_counter()
    run = (
        onnxruntime_run(1) if runtime == "onnxruntime" else openvino_run("float", "bf16", 1, cache)
    )
    spent, wall = time.process_time() - began, time.perf_counter() - clock
    loaded = _resident_mb()
    run(feed)
    return {
        "cpu": spent,
        "wall": wall,
        "loaded_mb": loaded - before,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before,
    }


def _resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def loads() -> None:
    inputs = Path(tempfile.mkdtemp()) / "feed.npz"
    np.savez(inputs, **timed_feeds(KokoroEngine())["en"])

    def measured(runtime: str, cache: Path | None) -> dict[str, float]:
        command = [sys.executable, __file__, "--load", runtime, "--inputs", str(inputs)]
        if cache is not None:
            command += ["--cache", str(cache)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        return dict(json.loads(out.strip().splitlines()[-1]))

    with tempfile.TemporaryDirectory() as folder:
        rows = {
            "onnxruntime int8": measured("onnxruntime", None),
            "openvino float bf16, no cache": measured("openvino", None),
            "openvino float bf16, cache empty": measured("openvino", Path(folder)),
            "openvino float bf16, cache warm": measured("openvino", Path(folder)),
        }
        size = sum(path.stat().st_size for path in Path(folder).iterdir()) / 1e6
    print()
    print("| runtime | load CPU-s | load wall s | resident MB after load | at most, after a run |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, row in rows.items():
        print(
            f"| {name} | {row['cpu']:.2f} | {row['wall']:.2f} | {row['loaded_mb']:.0f} "
            f"| {row['peak_mb']:.0f} |"
        )
    print(f"(the compile cache holds {size:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-load", action="store_true", help="not the load table")
    parser.add_argument(
        "--only", choices=["cost", "first", "load", "loudness"], help="one table only"
    )
    parser.add_argument("--load", choices=["onnxruntime", "openvino"], help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--hearing", action="store_true", help="bench/hearing.py on OpenVINO (its options after)"
    )
    args, rest = parser.parse_known_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    if args.hearing:
        hearing(rest)
        return
    if rest:
        parser.error(f"unknown options: {' '.join(rest)}")
    if args.load:
        print(json.dumps(load(args.load, args.cache, args.inputs)))
        return
    if args.only in (None, "cost"):
        cost(args.repeats)
    if args.only in (None, "first"):
        first_piece(args.repeats)
    if args.only in (None, "loudness"):
        loudness()
    if args.only in (None, "load") and not args.skip_load:
        loads()
    if "openvino" in sys.modules:
        tools = importlib.import_module("openvino.tools.ovc.telemetry_utils")
        assert tools.tm.__name__.endswith("telemetry_stub"), "OpenVINO's telemetry is on"


if __name__ == "__main__":
    main()
