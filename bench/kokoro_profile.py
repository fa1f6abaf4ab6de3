"""Where Kokoro's time goes (issue 27): onnxruntime's profiler on one long English and one
long Mandarin sentence through sayfile's Kokoro engine, operator time summed by the stage of
the model it belongs to, sayfile's own share beside it, and session variants measured
against the current one.

    PYTHONPATH=src .venv/bin/python bench/kokoro_profile.py [--repeats 3] [--ab | --lengths]

The stages are named by the graph's node names: `encoder/bert` and `encoder/text_encoder`
read the phonemes, `encoder/predictor`, `encoder/shared`, `encoder/F0`, `encoder/N` predict
durations, pitch and energy, `decoder/decoder/{encode,decode,...}` is the decoder, and
`decoder/decoder/generator` the vocoder (its residual blocks, the noise branch, upsampling,
the harmonic source, the inverse STFT). Every figure is CPU time (the machine is shared), and
each comparison is a ratio from runs interleaved in one process, medians of `--repeats`.

`--ab --products` also runs the graph with its convolutions as matrix products, which the
engine's timed model has (engines/kokoro_convolutions.py), against the graph as joined
(`current`): `--ab --products --variants current` for that pair alone. `--ab --graphs` also
tries two rewritten graphs (needs the `onnx` package: `pip install
onnx==1.19.0`), written to a temporary folder: the convolutions' uint8 weights as int8, and
the int8 convolutions made float again.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sayfile.engines.graph_edits import with_only_needed
from sayfile.engines.kokoro import KokoroEngine, assemble_model, default_folder
from sayfile.engines.kokoro_convolutions import as_matrix_products
from sayfile.models import Voice
from sayfile.text.normalisation import Normalisation

SENTENCES = {
    "en": (
        "kokoro:af_heart",
        "When the last of the evening trains had gone, the old stationmaster walked slowly "
        "along the empty platform, turning off the lamps one by one, and thinking about the "
        "letter he had received that morning from his daughter, who lived in a city far to "
        "the north and wrote to him only twice a year.",
    ),
    "zh": (
        "kokoro:zm_yunjian",
        "最后一班晚车开走以后，老站长沿着空荡荡的站台慢慢地走着，一盏一盏地关掉路灯，"
        "心里想着早上收到的那封信，那是住在北方一座遥远城市里的女儿写来的，她一年只写两次信。",
    ),
}
# Node name prefixes (after the leading slash, dots read as slashes), first match wins.
STAGES = [
    ("text: BERT", "encoder/bert"),
    ("text: encoder", "encoder/text_encoder"),
    ("durations, pitch, energy", "encoder/"),
    ("vocoder: residual blocks", "decoder/decoder/generator/resblocks"),
    ("vocoder: noise branch", "decoder/decoder/generator/noise_"),
    ("vocoder: upsampling", "decoder/decoder/generator/ups"),
    ("vocoder: harmonic source", "decoder/decoder/generator/m_source"),
    ("vocoder: (i)STFT", "decoder/decoder/generator/STFT"),
    ("vocoder: rest", "decoder/decoder/generator"),
    ("decoder", "decoder/"),
]
VARIANTS = ["current", "arena off", "spinning on", "2 threads", "2 threads, spinning", "basic"]
FLOAT_CONV_FILE = "kokoro-v1.0.int8-float-conv.onnx"


def stage_of(node: str) -> str:
    path = node.replace(".", "/").strip("/")
    for stage, prefix in STAGES:
        if path.startswith(prefix):
            return stage
    return "other"


class ProfiledEngine(KokoroEngine):
    """sayfile's engine with onnxruntime's profiler on, writing into `folder`."""

    def __init__(self, profile: Path) -> None:
        super().__init__(default_folder())
        self._profile = profile

    def _session_options(self, threads: int) -> Any:
        options = super()._session_options(threads)
        options.enable_profiling = True
        options.profile_file_prefix = str(self._profile / "kokoro")
        return options


def cpu(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def profile(repeats: int) -> None:
    normalisation = Normalisation()
    with tempfile.TemporaryDirectory() as folder:
        engine = ProfiledEngine(Path(folder))
        model = engine._loaded()
        run_cpu = [0.0]
        real_run = model.sess.run

        def timed_run(*args: Any, **kwargs: Any) -> Any:
            spent, result = cpu(lambda: real_run(*args, **kwargs))
            run_cpu[0] += spent
            return result

        model.sess.run = timed_run
        shares: dict[str, dict[str, float]] = {}
        runs: dict[str, tuple[int, int]] = {}  # language -> (first, last) model_run index
        count = 0
        for language, (voice_id, text) in SENTENCES.items():
            voice = next(v for v in engine.voices() if v.id == voice_id)
            said = normalisation.said(text, voice.language)
            engine.synthesize(voice, said, 1.0)  # the readers load, the session warms up
            count += 1
            spent: dict[str, list[float]] = defaultdict(list)
            first = count
            for _ in range(repeats):
                began = time.process_time()
                normalisation.said(text, voice.language)
                spent["normalisation"].append(time.process_time() - began)
                began = time.process_time()
                engine.phonemes(voice, said)
                spent["phonemes"].append(time.process_time() - began)
                run_cpu[0] = 0.0
                began = time.process_time()
                samples = engine.synthesize(voice, said, 1.0)
                total = time.process_time() - began
                count += 1
                spent["model"].append(run_cpu[0])
                spent["sayfile, after the model"].append(total - run_cpu[0] - spent["phonemes"][-1])
                spent["audio s"].append(len(samples) / 24_000)
            runs[language] = (first, count - 1)
            shares[language] = {name: statistics.median(v) for name, v in spent.items()}
        events = json.loads(Path(model.sess.end_profiling()).read_text())
    stages, ops = operator_time(events, runs)
    print_tables(shares, stages, ops)


def operator_time(
    events: list[dict[str, Any]], runs: dict[str, tuple[int, int]]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Kernel time by stage and by operator type, per language, as shares of that language's
    kernel time (the runs after the first of each)."""
    bounds = sorted(
        (event["ts"], event["ts"] + event["dur"])
        for event in events
        if event.get("cat") == "Session" and event["name"] == "model_run"
    )
    stages: dict[str, dict[str, float]] = {}
    ops: dict[str, dict[str, float]] = {}
    for language, (first, last) in runs.items():
        start, end = bounds[first][0], bounds[last][1]
        by_stage: dict[str, float] = defaultdict(float)
        by_op: dict[str, float] = defaultdict(float)
        for event in events:
            name = event.get("name", "")
            if event.get("cat") != "Node" or not name.endswith("_kernel_time"):
                continue
            if not start <= event["ts"] <= end:
                continue
            by_stage[stage_of(name[: -len("_kernel_time")])] += event["dur"]
            by_op[event["args"].get("op_name", "?")] += event["dur"]
        total = sum(by_stage.values())
        stages[language] = {k: v / total for k, v in by_stage.items()}
        ops[language] = {k: v / total for k, v in by_op.items()}
    return stages, ops


def print_tables(
    shares: dict[str, dict[str, float]],
    stages: dict[str, dict[str, float]],
    ops: dict[str, dict[str, float]],
) -> None:
    languages = list(shares)
    print("| CPU-s (median) | " + " | ".join(languages) + " |")
    print("| --- |" + " --- |" * len(languages))
    for name in ["normalisation", "phonemes", "model", "sayfile, after the model", "audio s"]:
        print(f"| {name} | " + " | ".join(f"{shares[x][name]:.3f}" for x in languages) + " |")
    print(
        "| CPU-s per audio s | "
        + " | ".join(
            f"{sum(v for k, v in shares[x].items() if k != 'audio s') / shares[x]['audio s']:.3f}"
            for x in languages
        )
        + " |"
    )
    print()
    print("| stage (share of the model's kernel time) | " + " | ".join(languages) + " |")
    print("| --- |" + " --- |" * len(languages))
    for stage in [name for name, _ in STAGES] + ["other"]:
        print(
            f"| {stage} | " + " | ".join(f"{stages[x].get(stage, 0):.1%}" for x in languages) + " |"
        )
    print()
    top = sorted(ops[languages[0]], key=lambda k: -ops[languages[0]][k])[:8]
    print("| operator | " + " | ".join(languages) + " |")
    print("| --- |" + " --- |" * len(languages))
    for op in top:
        print(f"| {op} | " + " | ".join(f"{ops[x].get(op, 0):.1%}" for x in languages) + " |")


def session(variant: str, model: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2 if variant.startswith("2 threads") else 1
    options.inter_op_num_threads = 1
    spinning = "1" if "spinning" in variant else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
    if variant == "arena off":
        options.enable_cpu_mem_arena = False
    if variant == "basic":
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return onnxruntime.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )


def feeds(
    engine: KokoroEngine, sentences: dict[str, tuple[str, str]] = SENTENCES
) -> dict[str, dict[str, Any]]:
    """Each sentence's model input, as the engine makes it."""
    normalisation = Normalisation()
    model = engine._loaded()
    made = {}
    for language, (voice_id, text) in sentences.items():
        voice: Voice = next(v for v in engine.voices() if v.id == voice_id)
        tokens = model.tokenizer.tokenize(
            engine.phonemes(voice, normalisation.said(text, voice.language))
        )
        style = model.get_voice_style(voice.locator)[len(tokens) - 1]
        made[language] = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, dtype=np.float32),
            "speed": np.array([1.0], dtype=np.float32),
        }
    return made


def compare(repeats: int, graphs: bool, products: bool, variants: list[str]) -> None:
    engine = KokoroEngine()
    inputs = feeds(engine)
    model = assemble_model(default_folder())
    sessions: dict[str, Any] = {}
    for variant in ["current", *(v for v in variants if v != "current")]:
        began = time.process_time()
        sessions[variant] = session(variant, model)
        loaded = time.process_time() - began
        print(f"{variant}: session made in {loaded:.2f} CPU-s")
    if products:
        with tempfile.TemporaryDirectory() as folder:
            sessions["convolutions as matrix products"] = session(
                "current", matrix_products_graph(model, Path(folder))
            )
    if graphs:
        with tempfile.TemporaryDirectory() as folder:
            signed = signed_weights_graph(model, Path(folder))
            sessions["signed int8 weights"] = session("current", signed)
            sessions["float convolutions"] = session(
                "current", float_conv_graph(model, Path(folder))
            )
    results: dict[tuple[str, str], list[float]] = defaultdict(list)
    differences: dict[str, float] = defaultdict(float)
    for language, feed in inputs.items():
        first = {name: made.run(None, feed)[0] for name, made in sessions.items()}  # warm
        for name, audio in first.items():
            current = first["current"]
            if audio.shape != current.shape:
                differences[name] = float("inf")
            else:
                largest = float(np.abs(audio - current).max())
                differences[name] = max(differences[name], largest)
        for _ in range(repeats):
            for variant, made in sessions.items():
                began = time.process_time()
                out = made.run(None, feed)
                spent = time.process_time() - began
                results[language, variant].append(spent / (out[0].size / 24_000))
    print()
    print(
        "| variant | "
        + " | ".join(f"{x} CPU-s per audio s" for x in inputs)
        + " | against current | largest sample difference |"
    )
    print("| --- |" + " --- |" * (len(inputs) + 2))
    for variant in sessions:
        medians = [statistics.median(results[x, variant]) for x in inputs]
        ratios = [
            statistics.median(results[x, variant]) / statistics.median(results[x, "current"])
            for x in inputs
        ]
        difference = differences[variant]
        print(
            f"| {variant} | "
            + " | ".join(f"{m:.3f}" for m in medians)
            + f" | {' / '.join(f'{r:.2f}' for r in ratios)}"
            + (" | length differs |" if difference == float("inf") else f" | {difference:.4f} |")
        )


def lengths(repeats: int) -> None:
    """The English sentence's first 4, 8, 16, 32 and all words as one piece each: CPU per
    audio second on one thread, and the wall time of one piece on one and on two threads
    (what a stream's first piece waits)."""
    voice_id, text = SENTENCES["en"]
    words = text.split()
    pieces = {
        str(count): (voice_id, " ".join(words[:count]))
        for count in (4, 8, 16, 32, len(words))
        if count <= len(words)
    }
    inputs = feeds(KokoroEngine(), pieces)
    model = assemble_model(default_folder())
    sessions = {"1 thread": session("current", model), "2 threads": session("2 threads", model)}
    spent: dict[tuple[str, str], list[float]] = defaultdict(list)
    walls: dict[tuple[str, str], list[float]] = defaultdict(list)
    seconds: dict[str, float] = {}
    for count, feed in inputs.items():
        for made in sessions.values():
            made.run(None, feed)  # warm
        for _ in range(repeats):
            for name, made in sessions.items():
                began, clock = time.process_time(), time.perf_counter()
                out = made.run(None, feed)
                walls[count, name].append(time.perf_counter() - clock)
                spent[count, name].append(time.process_time() - began)
                seconds[count] = out[0].size / 24_000
    print(
        "| words | tokens | audio s | CPU-s per audio s, 1 thread | wall s, 1 thread | "
        "wall s, 2 threads | 2 threads: wall / CPU against 1 |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for count, feed in inputs.items():
        one, two = (statistics.median(walls[count, n]) for n in sessions)
        cpu_one, cpu_two = (statistics.median(spent[count, n]) for n in sessions)
        print(
            f"| {count} | {feed['tokens'].size - 2} | {seconds[count]:.2f} "
            f"| {cpu_one / seconds[count]:.3f} | {one:.2f} | {two:.2f} "
            f"| {two / one:.2f} / {cpu_two / cpu_one:.2f} |"
        )


def onnx_modules() -> tuple[Any, Any, Any]:
    """The `onnx` package (not one of sayfile's dependencies: `pip install onnx==1.19.0`)."""
    onnx = importlib.import_module("onnx")
    return (
        onnx,
        importlib.import_module("onnx.helper"),
        importlib.import_module("onnx.numpy_helper"),
    )


def matrix_products_graph(source: Path, folder: Path) -> Path:
    """The model `source` with its convolutions as matrix products, as the timed model has
    them (engines/kokoro_convolutions.py), written into `folder`."""
    onnx, _, _ = onnx_modules()
    graph_model = onnx.load(str(source))
    as_matrix_products(graph_model)
    target = folder / "kokoro-v1.0.int8-matmul.onnx"
    onnx.save(graph_model, str(target))
    return target


def signed_weights_graph(source: Path, folder: Path) -> Path:
    """The model `source` with its convolutions' uint8 weights as int8 (each weight and its
    zero point less 128: the same products, so the same samples), written into `folder`.
    onnxruntime's int8 kernels on CPUs with VNNI take a uint8 input and int8 weights."""
    onnx, _, numpy_helper = onnx_modules()

    graph_model = onnx.load(str(source))
    graph = graph_model.graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    shifted: set[str] = set()
    for node in graph.node:
        if node.op_type != "ConvInteger":
            continue
        for name in (node.input[1], node.input[3]):
            values = numpy_helper.to_array(constants[name])
            if name in shifted or values.dtype != np.uint8:
                continue
            signed = (values.astype(np.int16) - 128).astype(np.int8)
            constants[name].CopyFrom(numpy_helper.from_array(signed, name))
            shifted.add(name)
    target = folder / "kokoro-v1.0.int8-signed.onnx"
    onnx.save(graph_model, str(target))
    return target


def float_conv_graph(source: Path, folder: Path) -> Path:
    """The model `source` with every int8 convolution as a float one, written into `folder`.

    The int8 model's convolutions are onnxruntime's dynamic quantisation: the input goes
    through DynamicQuantizeLinear, ConvInteger multiplies it with uint8 weights, and a Cast
    and a Mul by the two scales (after an Add of the bias, rounded to int32) bring it back to
    float. Each such chain becomes one Conv on the float input with the weights dequantised
    ((w - zero point) x scale) and the float bias; the nodes nothing reads any more are
    dropped. The other int8 operators (MatMul, LSTM, Gather) stay as they are."""
    target = folder / FLOAT_CONV_FILE
    onnx, helper, numpy_helper = onnx_modules()

    graph_model = onnx.load(str(source))
    graph = graph_model.graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    producer = {name: node for node in graph.node for name in node.output}
    readers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    def array(name: str) -> Any:
        return numpy_helper.to_array(constants[name])

    def only_reader(name: str, op_type: str) -> Any:
        found = readers.get(name, [])
        if len(found) != 1 or found[0].op_type != op_type:
            raise ValueError(f"Kokoro's graph has an unexpected form after {name}")
        return found[0]

    replaced: dict[str, Any] = {}  # the Mul that ends a chain -> the Conv that replaces it
    added: list[Any] = []
    for node in graph.node:
        if node.op_type != "ConvInteger":
            continue
        quantised_input, weights, _, weights_zero = node.input
        quantiser = producer[quantised_input]
        if quantiser.op_type != "DynamicQuantizeLinear":
            raise ValueError(f"Kokoro's graph has an unexpected form before {node.name}")
        bias: str | None = None
        step = readers[node.output[0]][0]
        if step.op_type == "Add":  # the bias, as int32: its float original is upstream
            reshape = producer[next(name for name in step.input if name != node.output[0])]
            divide = producer[producer[producer[reshape.input[0]].input[0]].input[0]]
            if divide.op_type != "Div" or divide.input[0] not in constants:
                raise ValueError(f"Kokoro's graph has an unexpected bias at {node.name}")
            bias = divide.input[0]
            step = only_reader(step.output[0], "Cast")
        elif step.op_type != "Cast":
            raise ValueError(f"Kokoro's graph has an unexpected form after {node.name}")
        scale = only_reader(step.output[0], "Mul")
        zero = array(weights_zero).astype(np.float32)
        weight_scale = array(weights[: -len("_quantized")] + "_scale")
        dequantised = (array(weights).astype(np.float32) - zero) * weight_scale
        name = f"{node.name}_float"
        added.append(numpy_helper.from_array(dequantised.astype(np.float32), f"{name}_weight"))
        inputs = [quantiser.input[0], f"{name}_weight"] + ([bias] if bias else [])
        conv = helper.make_node("Conv", inputs, [scale.output[0]], name=name)
        conv.attribute.extend(node.attribute)
        replaced[scale.name] = conv
    nodes = [replaced.get(node.name, node) for node in graph.node]
    graph.initializer.extend(added)
    with_only_needed(graph, nodes)  # only what the outputs still need
    onnx.save(graph_model, str(target))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ab", action="store_true", help="compare session variants instead")
    parser.add_argument(
        "--lengths", action="store_true", help="cost by piece length, 1 and 2 threads"
    )
    parser.add_argument(
        "--graphs", action="store_true", help="with --ab: the rewritten graphs too (needs onnx)"
    )
    parser.add_argument(
        "--products",
        action="store_true",
        help="with --ab: the convolutions as matrix products (what sayfile runs) too",
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"with --ab: which session variants, comma-separated (of {', '.join(VARIANTS)})",
    )
    args = parser.parse_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    if args.lengths:
        lengths(args.repeats)
    elif args.ab:
        compare(args.repeats, args.graphs, args.products, args.variants.split(","))
    else:
        profile(args.repeats)


if __name__ == "__main__":
    main()
