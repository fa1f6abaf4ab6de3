"""Kokoro's model with each token's duration as a second output and a window of frames for its
vocoder, made once from the joined model at install time (`python -m sayfile.engines.kokoro`)
and checked by hash.

The duration predictor's rounded durations (`/encoder/Cast_output_0`, int64 [1, T], the pads
included) are already computed inside the graph; naming them as an output changes no sample of
the audio, and `sum(durations) * 600` is the whole audio's length.

The window: an input `window` (int64 [4]; `WHOLE` for all of the audio) names which frames
the vocoder makes, in tokens, since the durations are known only inside the run: `(first,
before, end, after)` keeps the frames from `before` frames ahead of token `first`'s start to
`after` frames past token `end`'s start (`end` -1: the end of the audio), within the audio.
Durations, pitch and energy are predicted over the whole alignment first, then the vocoder's
three inputs (the aligned text features on axis 2, pitch and energy on axis 1 with two values a
frame) are sliced, so the kept frames are said as in the whole run and only they are paid for:
the vocoder is 93% of the model's time and follows the frames it makes (docs/benchmarks.md,
"Kokoro's cost"). The third output `window_frames` (int64 [2]) is the window's first frame and
its end; the audio is `(end - first) * 600` samples. The whole window gives the unedited model's
audio, bit for bit (tests/test_kokoro_window.py).

Its int8 convolutions are made matrix products as well (engines/kokoro_convolutions.py): the
same audio, bit for bit, on every CPU, in a sixth (AVX2) to a third (VNNI) less time. Then its
style norms are made one `InstanceNormalization` each, with the Snake after each folded in
(engines/kokoro_norms.py): 6% less time again on a CPU with VNNI. The durations stay the same,
and the samples come near, not to the bit: the speech is heard the same (docs/benchmarks.md).

Made once rather than in memory per process: the edit costs 1.5 s more at every start and holds
150 MB more (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sayfile.engines.kokoro_convolutions import as_matrix_products
from sayfile.errors import EngineError
from sayfile.whole_files import UNFINISHED

# The timed model's file and SHA-256.
TIMED_MODEL = (
    "kokoro-v1.0.int8.timed-window-products.onnx",
    "86fb80cac3f5fbb4aba2c37715c11ee9849f947707fd4fa46ab940f3a2b77cc1",
)
DURATIONS_OUTPUT = "/encoder/Cast_output_0"
WINDOW_INPUT = "window"
WINDOW_OUTPUT = "window_frames"
# The window of every frame: from token 0's start to the end of the audio.
WHOLE = (0, 0, -1, 0)
# Samples of audio per unit of duration (a frame): 25 ms at 24 kHz.
SAMPLES_PER_UNIT = 600
# The vocoder's frame inputs, with the axis their frames are on and values per frame there.
FRAME_INPUTS = {
    "/encoder/MatMul_1_output_0": (2, 1),
    "/encoder/Reshape_output_0": (1, 2),
    "/encoder/Reshape_1_output_0": (1, 2),
}


def timed_model(plain: Path) -> Path:
    """The timed model beside `plain` (the joined, hash-checked model), made the first time
    (written to a temporary name and renamed once its hash is right). Raises EngineError when
    the result is not the pinned one."""
    name, pinned = TIMED_MODEL
    target = plain.with_name(name)
    if target.is_file():
        return target
    import onnx

    model = onnx.load(str(plain))
    exact_edits(model)
    data = model.SerializeToString()
    del model
    if hashlib.sha256(data).hexdigest() != pinned:
        raise EngineError("Kokoro's model with durations is not the pinned one")
    partial = target.with_name(f"{target.name}.{os.getpid()}{UNFINISHED}")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    remove_older_models(target)
    return target


def exact_edits(model: Any) -> None:
    """Edits `model` (an onnx ModelProto of Kokoro v1.0) in place with the timed model's exact
    edits, whose audio is the joined model's bit for bit: the durations and the window
    (`windowed`), the convolutions as products: all the timed model has. (The style norms as
    one kernel each, engines/kokoro_norms.py, are not applied: docs/architecture.md.)"""
    windowed(model)
    as_matrix_products(model)


def exact_model(plain: Path, target: Path) -> Path:
    """`plain` (the joined model) with the exact edits only, not the norms, written to
    `target`: the joined model's audio bit for bit, which bench/kokoro_edits.py compares its
    variants with (the installed timed model has these edits only)."""
    import onnx

    model = onnx.load(str(plain))
    exact_edits(model)
    onnx.save(model, str(target))
    return target


def remove_older_models(current: Path) -> list[Path]:
    """Remove the timed models earlier versions made beside `current` (each as large as the
    model, about 90 MB, and read by nothing now); the paths removed."""
    stem = current.name.split(".timed")[0]
    older = [p for p in current.parent.glob(f"{stem}.timed*.onnx") if p.name != current.name]
    for path in older:
        path.unlink(missing_ok=True)
    return older


def windowed(model: Any) -> None:
    """Edits `model` (an onnx ModelProto of Kokoro v1.0) in place: the durations as an
    output, the `window` input and the vocoder's inputs sliced to it, `window_frames` out."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    constants = {"zero": [0], "two": [2], "last": [-1], "axis1": [1], "axis2": [2]}
    constants.update({"at0": [0], "at1": [1], "at2": [2], "at3": [3]})
    for name, value in constants.items():
        graph.initializer.append(numpy_helper.from_array(np.array(value, np.int64), f"/w/{name}"))
    graph.initializer.append(numpy_helper.from_array(np.array(0, np.int64), "/w/axis0"))
    graph.input.append(helper.make_tensor_value_info(WINDOW_INPUT, TensorProto.INT64, [4]))

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> Any:
        return helper.make_node(op, inputs, [output], name=output, **attributes)

    added = [
        # starts[i]: the frame token i starts at; starts[T]: the end of the audio.
        node("Squeeze", [DURATIONS_OUTPUT, "/w/zero"], "/w/durations"),
        node("CumSum", ["/w/durations", "/w/axis0"], "/w/ends"),
        node("Concat", ["/w/zero", "/w/ends"], "/w/starts", axis=0),
        node("Gather", ["/w/ends", "/w/last"], "/w/total", axis=0),
    ]
    for at, part in enumerate(("first", "before", "end", "after")):
        added.append(node("Gather", [WINDOW_INPUT, f"/w/at{at}"], f"/w/{part}", axis=0))
    added += [
        node("Gather", ["/w/starts", "/w/first"], "/w/first_start", axis=0),
        node("Sub", ["/w/first_start", "/w/before"], "/w/early"),
        node("Max", ["/w/early", "/w/zero"], "/w/from"),
        node("Gather", ["/w/starts", "/w/end"], "/w/end_start", axis=0),
        node("Add", ["/w/end_start", "/w/after"], "/w/late"),
        node("Min", ["/w/late", "/w/total"], "/w/late_in"),
        node("Max", ["/w/late_in", "/w/from"], "/w/to"),
        node("Concat", ["/w/from", "/w/to"], WINDOW_OUTPUT, axis=0),
        node("Mul", ["/w/from", "/w/two"], "/w/from2"),
        node("Mul", ["/w/to", "/w/two"], "/w/to2"),
    ]
    kept = {}
    for tensor, (axis, per_frame) in FRAME_INPUTS.items():
        kept[tensor] = f"/w/kept{tensor}"
        bounds = ["/w/from", "/w/to"] if per_frame == 1 else ["/w/from2", "/w/to2"]
        added.append(node("Slice", [tensor, *bounds, f"/w/axis{axis}"], kept[tensor]))
    for reader in graph.node:
        for at, name in enumerate(reader.input):
            if name in kept:
                reader.input[at] = kept[name]
    graph.node.extend(added)
    _sort(graph)
    graph.output.append(helper.make_tensor_value_info(DURATIONS_OUTPUT, TensorProto.INT64, None))
    graph.output.append(helper.make_tensor_value_info(WINDOW_OUTPUT, TensorProto.INT64, [2]))


def _sort(graph: Any) -> None:
    """`graph`'s nodes in an order where each comes after the nodes it reads from (ONNX asks
    for it); nodes already in order keep it."""
    made = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    waiting = list(graph.node)
    ordered = []
    while waiting:
        left = []
        for candidate in waiting:
            if all(name in made for name in candidate.input):
                ordered.append(candidate)
                made.update(candidate.output)
            else:
                left.append(candidate)
        if len(left) == len(waiting):
            raise EngineError("Kokoro's model has a cycle or a missing input")
        waiting = left
    del graph.node[:]
    graph.node.extend(ordered)
