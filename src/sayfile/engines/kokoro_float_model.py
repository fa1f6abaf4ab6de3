"""Kokoro's timed model with its int8 convolutions made float again, for OpenVINO
(engines/kokoro_openvino.py), made once from the timed model at install time and checked by
hash, like the timed model itself (engines/kokoro_timed_model.py).

The int8 model's convolutions are onnxruntime's dynamic quantisation: the input goes through
DynamicQuantizeLinear, ConvInteger multiplies it with uint8 weights, and a Cast and a Mul by
the two scales (after an Add of the bias, rounded to int32) bring the sums back to float. Each
such chain becomes one Conv on the float input, with the weights dequantised ((w - zero point)
x scale) and the float bias the int32 one was made from; the nodes nothing reads any more are
dropped. The durations output stays, so `sum(durations) * 600` is still the audio's length.
OpenVINO computes the float graph in bfloat16 on CPUs that have it (docs/benchmarks.md, "Kokoro
on OpenVINO").
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from sayfile.errors import EngineError
from sayfile.whole_files import UNFINISHED

FLOAT_MODEL_FILE = "kokoro-v1.0.timed.float-conv.onnx"
FLOAT_MODEL_SHA256 = "3797a8fa86f42cb648b4c1f002bbfc03f793b80c4b5054c3716582199c204132"


def float_model(timed: Path) -> Path:
    """The float model beside `timed` (the hash-checked timed model), made the first time
    (written to a temporary name and renamed once its hash is right). Raises EngineError when
    the result is not the pinned one."""
    target = timed.with_name(FLOAT_MODEL_FILE)
    if target.is_file():
        return target
    data = _float_graph(timed)
    if hashlib.sha256(data).hexdigest() != FLOAT_MODEL_SHA256:
        raise EngineError("Kokoro's float model is not the pinned one")
    partial = target.with_name(f"{target.name}.{os.getpid()}{UNFINISHED}")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _float_graph(source: Path) -> bytes:
    """The serialised model `source` with every ConvInteger chain as one float Conv."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
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
            raise EngineError(f"Kokoro's graph has an unexpected form after {name}")
        return found[0]

    replaced: dict[str, Any] = {}  # the Mul that ends a chain -> the Conv in its place
    added: list[Any] = []
    for node in graph.node:
        if node.op_type != "ConvInteger":
            continue
        quantised, weights, _, weights_zero = node.input
        quantiser = producer[quantised]
        if quantiser.op_type != "DynamicQuantizeLinear":
            raise EngineError(f"Kokoro's graph has an unexpected form before {node.name}")
        bias: str | None = None
        step = readers[node.output[0]][0]
        if step.op_type == "Add":  # the bias, as int32: its float original is upstream
            reshape = producer[next(name for name in step.input if name != node.output[0])]
            divide = producer[producer[producer[reshape.input[0]].input[0]].input[0]]
            if divide.op_type != "Div" or divide.input[0] not in constants:
                raise EngineError(f"Kokoro's graph has an unexpected bias at {node.name}")
            bias = divide.input[0]
            step = only_reader(step.output[0], "Cast")
        elif step.op_type != "Cast":
            raise EngineError(f"Kokoro's graph has an unexpected form after {node.name}")
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
    # Only what the outputs still need, working back from them.
    needed = {output.name for output in graph.output}
    kept = []
    for node in reversed(nodes):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    for tensor in [tensor for tensor in graph.initializer if tensor.name not in needed]:
        graph.initializer.remove(tensor)
    return bytes(model.SerializeToString())
