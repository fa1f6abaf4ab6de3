"""Kokoro's model with each token's duration as a second output, and the silence at the ends
of what the vocoder makes capped, made once from the joined model at install time
(`python -m sayfile.engines.kokoro`) and checked by hash.

The duration predictor's rounded durations (`/encoder/Cast_output_0`, int64 [1, T], the pads
included) are already computed inside the graph. The edit adds an input `duration_caps`
(int64 [1, T]) and takes from the vocoder's inputs (the aligned text features, pitch and
energy, all already predicted over the whole alignment) the frames that a token's duration
has beyond its cap: those of the first token from the start, those of the others from the end,
so caps are meant for the leading pad and the tokens at the end only. Pitch and energy are
predicted as before, so the kept frames are said as before; the vocoder, whose cost follows the
frames it makes, makes fewer. The second output `durations` is `min(durations, caps)`, the
durations heard, and `sum(durations) * 600` is the audio's length. With caps no smaller than
the durations the audio is the unedited model's (docs/benchmarks.md, "Kokoro's silence").

Made once rather than in memory per process: the edit costs 1.5 s more at every start and holds
150 MB more (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sayfile.errors import EngineError
from sayfile.whole_files import UNFINISHED

TIMED_MODEL_FILE = "kokoro-v1.0.int8.timed-capped.onnx"
TIMED_MODEL_SHA256 = "660dcb38e09718439e72e4f243460961978b81e416f3078a878a3b3e3bc91689"
CAPS_INPUT = "duration_caps"
DURATIONS_OUTPUT = "durations"
# Samples of audio per unit of duration: 25 ms at 24 kHz.
SAMPLES_PER_UNIT = 600
# The graph's tensors the edit reads: durations, and the vocoder's frame inputs with the axis
# their frames are on and how many values a frame has on it (pitch and energy: two).
_DURATIONS = "/encoder/Cast_output_0"
_FRAMES = {
    "/encoder/MatMul_1_output_0": (2, "one"),
    "/encoder/Reshape_output_0": (1, "two"),
    "/encoder/Reshape_1_output_0": (1, "two"),
}


def timed_model(plain: Path) -> Path:
    """The timed model beside `plain` (the joined, hash-checked model), made the first time
    (written to a temporary name and renamed once its hash is right). Raises EngineError when
    the result is not the pinned one."""
    target = plain.with_name(TIMED_MODEL_FILE)
    if target.is_file():
        return target
    import onnx

    model = onnx.load(str(plain))
    capped(model)
    data = model.SerializeToString()
    del model
    if hashlib.sha256(data).hexdigest() != TIMED_MODEL_SHA256:
        raise EngineError("Kokoro's model with durations is not the pinned one")
    partial = target.with_name(f"{target.name}.{os.getpid()}{UNFINISHED}")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def capped(model: Any) -> None:
    """Edits `model` (an onnx ModelProto of Kokoro v1.0) in place: the caps input, the frames
    beyond the caps left out of the vocoder's inputs, the durations heard as an output."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    for name, value in {"one": 1, "two": 2, "zero": 0, "to_end": 2**62}.items():
        graph.initializer.append(
            numpy_helper.from_array(np.array([value], np.int64), f"/caps/{name}")
        )
    for axis in (1, 2):
        graph.initializer.append(
            numpy_helper.from_array(np.array([axis], np.int64), f"/caps/axis{axis}")
        )

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> Any:
        return helper.make_node(op, inputs, [output], name=output, **attributes)

    added = [
        node("Min", [_DURATIONS, CAPS_INPUT], DURATIONS_OUTPUT),
        node("Sub", [_DURATIONS, DURATIONS_OUTPUT], "/caps/beyond"),
        node("Slice", ["/caps/beyond", "/caps/zero", "/caps/one", "/caps/axis1"], "/caps/lead"),
        node("ReduceSum", ["/caps/lead", "/caps/axis1"], "/caps/head", keepdims=0),
        node("Slice", ["/caps/beyond", "/caps/one", "/caps/to_end", "/caps/axis1"], "/caps/rest"),
        node("ReduceSum", ["/caps/rest", "/caps/axis1"], "/caps/tail", keepdims=0),
        node("ReduceSum", [_DURATIONS, "/caps/axis1"], "/caps/frames", keepdims=0),
        node("Sub", ["/caps/frames", "/caps/tail"], "/caps/end"),
    ]
    for per_frame in ("one", "two"):
        added.append(node("Mul", ["/caps/head", f"/caps/{per_frame}"], f"/caps/head_{per_frame}"))
        added.append(node("Mul", ["/caps/end", f"/caps/{per_frame}"], f"/caps/end_{per_frame}"))
    kept = {}
    for tensor, (axis, per_frame) in _FRAMES.items():
        kept[tensor] = f"/caps/kept{tensor}"
        bounds = [f"/caps/head_{per_frame}", f"/caps/end_{per_frame}", f"/caps/axis{axis}"]
        added.append(node("Slice", [tensor, *bounds], kept[tensor]))
    for reader in graph.node:
        for at, name in enumerate(reader.input):
            if name in kept:
                reader.input[at] = kept[name]
    graph.node.extend(added)
    graph.input.append(helper.make_tensor_value_info(CAPS_INPUT, TensorProto.INT64, [1, "T"]))
    _sort(graph)
    graph.output.append(
        helper.make_tensor_value_info(DURATIONS_OUTPUT, TensorProto.INT64, [1, "T"])
    )


def _sort(graph: Any) -> None:
    """`graph`'s nodes in an order where each comes after the nodes it reads from (ONNX asks
    for it); nodes already in order keep it."""
    made = {name for name in (*(i.name for i in graph.input), *(i.name for i in graph.initializer))}
    made.add("")
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
