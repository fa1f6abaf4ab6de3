"""Graph edits of Kokoro's model, tried against the exact ones (issue 27): the CPU each costs
per audio second on one thread, and how far its samples are from the unedited model's.

    PYTHONPATH=src:bench .venv/bin/python bench/kokoro_edits.py [--repeats 5]

After the products (engines/kokoro_convolutions.py), the model spends most of the rest of its
time in passes over the vocoder's large tensors (docs/benchmarks.md, "On a CPU with VNNI
again"). Variants, each run in one process on the two long sentences of kokoro_profile.py:

- `exact`: the timed model's exact edits only (durations, window, products), built here from
  the joined model: the unedited model's samples, bit for bit, and since 2026-12-07 what is
  installed;
- `norms`: that model with its style norms also one `InstanceNormalization` each, the Snake
  folded in (engines/kokoro_norms.py; installed until 2026-12-07);
- `norms, time first`: that model with its residual blocks' tensors kept time first between
  their products, so that the products' turns to time first and back go. A turn is left where
  a block is entered and left. Each norm is spelled out over time, its means made as a
  `MatMul` with a row of ones: onnxruntime's `ReduceMean` over a time-first axis costs 15
  times more.

The norms and the time-first layout are not bit for bit: sums made in another order move
values across the dynamic quantisation's steps. The table gives the SNR against `exact`; an
edit that is kept needs the listening, loudness and timing checks again. The models built here
go to a temporary folder (`onnx`, which the install uses, edits them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from kokoro_profile import feeds, session
from listening import signal_to_noise
from sayfile.engines.graph_edits import GraphEdits, with_only_needed
from sayfile.engines.kokoro import KokoroEngine, assemble_model, default_folder
from sayfile.engines.kokoro_norms import as_instance_norms
from sayfile.engines.kokoro_timed_model import WHOLE, WINDOW_INPUT, exact_model

# Node names of the vocoder's residual blocks, and of the product nodes inside them.
BLOCKS = ("/decoder/decoder/generator/resblocks.", "/decoder/decoder/generator/noise_res.")
PRODUCT = "Conv_quant/matmul/"
TURNS = ("matmul/time_first", "matmul/back")


def _saved(model: Any, nodes: list[Any], target: Path) -> Path:
    """`model` with those of `nodes` its outputs need as its nodes, written to `target`."""
    import onnx

    with_only_needed(model.graph, nodes)
    onnx.save(model, str(target))
    return target


def time_first(source: Path, target: Path, shapes: dict[str, tuple[int, ...]]) -> Path:
    """`source` with its residual blocks' tensors time first between their products;
    `shapes`: each tensor's shape in a short run (`probe`)."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(source))
    graph = GraphEdits(model)
    moved: set[str] = set()  # tensors whose values are now time first
    turned: dict[str, str] = {}  # a tensor -> its turned copy
    skipped: dict[str, str] = {}  # a removed turn's output -> its input
    nodes: list[Any] = []

    def large(name: str) -> bool:
        shape = shapes.get(name, ())
        return len(shape) == 3 and shape[1] > 1 and shape[2] > 1

    def per_channel(name: str) -> bool:
        shape = shapes.get(name, graph.constants[name].shape if name in graph.constants else ())
        return len(shape) == 3 and shape[1] > 1 and shape[2] == 1

    def turn(name: str) -> str:
        if name not in turned:
            if name in graph.constants:
                value = graph.constants[name].transpose(0, 2, 1)
                turned[name] = graph.constant(name + "/time_first", value)
            else:
                turned[name] = name + "/turned"
                nodes.append(
                    helper.make_node(
                        "Transpose", [name], [turned[name]], name=turned[name], perm=[0, 2, 1]
                    )
                )
        return turned[name]

    for node in graph.graph.node:
        inputs = [skipped.get(name, name) for name in node.input]
        in_block = node.name.startswith(BLOCKS)
        if in_block and node.name.endswith(TURNS[1]):  # its input is time first already
            moved.add(inputs[0])
            skipped[node.output[0]] = inputs[0]
            continue
        if in_block and node.name.endswith(TURNS[0]) and inputs[0] in moved:
            skipped[node.output[0]] = inputs[0]
            continue
        if not in_block or PRODUCT in node.name:
            if not in_block:  # outside the blocks, every tensor is channels first again
                inputs = [turn(n) if n in moved and large(n) else n for n in inputs]
            del node.input[:]
            node.input.extend(inputs)
            nodes.append(node)
            continue
        if not any(n in moved or large(n) for n in inputs):
            nodes.append(node)  # the style's own small sums
            continue
        inputs = [n if n in moved else turn(n) if large(n) or per_channel(n) else n for n in inputs]
        moved.update(n for n in inputs if n.endswith(("/turned", "/time_first")))
        if node.op_type == "ReduceMean":
            nodes += _mean_over_time(graph, helper, TensorProto, inputs[0], node.output[0])
        elif node.op_type == "InstanceNormalization":  # `norms` made it: spelled out
            nodes += _norm_over_time(graph, helper, TensorProto, node, inputs)
        else:
            del node.input[:]
            node.input.extend(inputs)
            nodes.append(node)
        moved.update(node.output)
    return _saved(model, nodes, target)


def _norm_over_time(
    graph: GraphEdits, helper: Any, proto: Any, node: Any, inputs: list[str]
) -> list[Any]:
    """An `InstanceNormalization` of a time-first tensor: its means over time as products."""
    x, scale, shift = inputs
    (epsilon,) = (a.f for a in node.attribute if a.name == "epsilon")
    name = node.name + "/over_time"
    plus = graph.constant(name + "/epsilon", np.array(epsilon, np.float32))

    def step(op: str, ins: list[str], out: str) -> Any:
        return helper.make_node(op, ins, [out], name=out)

    return [
        *_mean_over_time(graph, helper, proto, x, name + "/mean"),
        step("Sub", [x, name + "/mean"], name + "/centred"),
        step("Mul", [name + "/centred", name + "/centred"], name + "/squares"),
        *_mean_over_time(graph, helper, proto, name + "/squares", name + "/variance"),
        step("Add", [name + "/variance", plus], name + "/plus"),
        step("Sqrt", [name + "/plus"], name + "/deviation"),
        step("Div", [scale, name + "/deviation"], name + "/factor"),
        step("Mul", [name + "/centred", name + "/factor"], name + "/scaled"),
        step("Add", [name + "/scaled", shift], node.output[0]),
    ]


def _mean_over_time(graph: GraphEdits, helper: Any, proto: Any, x: str, output: str) -> list[Any]:
    """`output`: a time-first tensor's mean over time, [1, 1, C], as a row of ones times it,
    over T."""
    name = output + "/over_time"
    ones_row = graph.constant(name + "/11", np.array([1, 1], np.int64))
    first, end = (graph.constant(name + f"/{k}", np.array([k], np.int64)) for k in (1, 2))
    return [
        helper.make_node("Shape", [x], [name + "/shape"], name=name + "/shape"),
        helper.make_node("Slice", [name + "/shape", first, end], [name + "/T"], name=name + "/T"),
        helper.make_node(
            "Concat", [ones_row, name + "/T"], [name + "/size"], name=name + "/size", axis=0
        ),
        helper.make_node(
            "ConstantOfShape",
            [name + "/size"],
            [name + "/ones"],
            name=name + "/ones",
            value=helper.make_tensor("one", proto.FLOAT, [1], [1.0]),
        ),
        helper.make_node("MatMul", [name + "/ones", x], [name + "/sum"], name=name + "/sum"),
        helper.make_node(
            "Cast", [name + "/T"], [name + "/count"], name=name + "/count", to=proto.FLOAT
        ),
        helper.make_node("Div", [name + "/sum", name + "/count"], [output], name=name),
    ]


def with_norms(exact: Path, target: Path) -> Path:
    """The `exact` model with its style norms as one kernel each (engines/kokoro_norms.py)."""
    import onnx

    model = onnx.load(str(exact))
    as_instance_norms(model)
    onnx.save(model, str(target))
    return target


def probe(model: Path) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor the residual blocks read or make, in a short sentence's run."""
    import onnx
    import onnxruntime
    from onnx import helper

    edited = onnx.load(str(model))
    graph = edited.graph
    made = {o.name for o in graph.output}
    constants = {t.name for t in graph.initializer}
    for node in graph.node:
        if node.name.startswith(BLOCKS):
            for name in [*node.input, *node.output]:
                if name and name not in made and name not in constants:
                    graph.output.append(helper.make_empty_tensor_value_info(name))
                    made.add(name)
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    run = onnxruntime.InferenceSession(
        edited.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feed = feeds(KokoroEngine(), {"en": ("kokoro:af_heart", "Hello there, my friend.")})["en"]
    feed[WINDOW_INPUT] = np.array(WHOLE, dtype=np.int64)
    values = run.run(None, feed)
    return {out.name: tuple(np.shape(v)) for out, v in zip(run.get_outputs(), values, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    inputs = feeds(KokoroEngine())
    for feed in inputs.values():
        feed[WINDOW_INPUT] = np.array(WHOLE, dtype=np.int64)
    with tempfile.TemporaryDirectory() as folder:
        exact = exact_model(assemble_model(default_folder()), Path(folder) / "exact.onnx")
        normed = with_norms(exact, Path(folder) / "norms.onnx")
        sessions = {
            "exact": session("current", exact),
            "norms": session("current", normed),
            "norms, time first": session(
                "current", time_first(normed, Path(folder) / "time-first.onnx", probe(normed))
            ),
        }
    spent: dict[tuple[str, str], list[float]] = defaultdict(list)
    apart: dict[tuple[str, str], float] = {}
    for language, feed in inputs.items():
        first = {name: run.run(None, feed)[0] for name, run in sessions.items()}
        for name, audio in first.items():
            apart[language, name] = signal_to_noise(first["exact"], audio)
    for _ in range(args.repeats):
        for language, feed in inputs.items():
            for name, run in sessions.items():
                began = time.process_time()
                audio = run.run(None, feed)[0]
                spent[language, name].append((time.process_time() - began) / (audio.size / 24_000))
    print("| model | en CPU-s per audio s | zh | against exact | SNR against exact (dB) |")
    print("| --- | ---: | ---: | --- | --- |")
    for name in sessions:
        costs = [statistics.median(spent[x, name]) for x in inputs]
        ratios = [
            c / statistics.median(spent[x, "exact"]) for c, x in zip(costs, inputs, strict=True)
        ]
        print(
            f"| {name} | {costs[0]:.3f} | {costs[1]:.3f} | "
            f"{' / '.join(f'{r:.2f}' for r in ratios)} | "
            f"{' / '.join(f'{apart[x, name]:.1f}' for x in inputs)} |"
        )


if __name__ == "__main__":
    main()
