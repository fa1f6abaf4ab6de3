"""Kokoro's int8 convolutions as matrix products, an edit of the timed model made at install
time (engines/kokoro_timed_model.py; issue 27).

Kokoro's int8 model is onnxruntime's dynamic quantisation: each convolution's input goes
through DynamicQuantizeLinear (uint8 and a zero point), `ConvInteger` sums it against uint8
weights into int32, and the nodes after it add the bias and scale back to float. On this
kind of CPU `ConvInteger` was 69% of the model's time (docs/benchmarks.md, "Kokoro's cost").
onnxruntime's `MatMulInteger` sums the same products with the weights packed once, when the
session is made, for its int8 kernels. Each convolution with a stride of 1 becomes:

    Transpose to [1, T, C] (time first)
    Pad with the input's zero point (what the convolution pads with)
    Gather the K taps of each output frame: frame t reads t + j x dilation, j < K
    Reshape to [1, T', K x C]
    MatMulInteger with the weights as [K x C, O], int8
    Transpose back to [1, O, T']

The sums are of integers either way, so the int32 output is the convolution's, number for
number, and the audio the same, bit for bit (tests/test_kokoro_words.py). The weights become
int8 by taking 128 from each and from their zero point, which leaves every `w - zero point`
as it was. The two strided convolutions (4 ms of a run) are left as they are.
"""

from __future__ import annotations

from typing import Any

from sayfile.errors import EngineError


def as_matrix_products(model: Any) -> int:
    """Edits `model` (an onnx ModelProto of Kokoro's int8 model) in place: each `ConvInteger`
    with a stride of 1 as the nodes above. Gives how many were rewritten; raises EngineError
    when one has a form this does not know."""
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    nodes: list[Any] = []
    added: list[Any] = []
    replaced: set[str] = set()
    count = 0
    for node in graph.node:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type != "ConvInteger" or attributes.get("strides", [1]) != [1]:
            nodes.append(node)
            continue
        quantised, weights_name, input_zero, weights_zero_name = node.input
        if attributes.get("group", 1) != 1 or weights_name not in constants:
            raise EngineError(f"Kokoro's convolution {node.name} has an unexpected form")
        weights = numpy_helper.to_array(constants[weights_name])
        weights_zero = numpy_helper.to_array(constants[weights_zero_name])
        if weights.dtype != np.uint8 or weights.ndim != 3 or weights_zero.shape != ():
            raise EngineError(f"Kokoro's convolution {node.name} has unexpected weights")
        outputs, channels, taps = weights.shape
        dilation = attributes.get("dilations", [1])[0]
        ahead, behind = attributes.get("pads", [0, 0])
        # Named after the convolution, so that the profiler's stages still find them.
        prefix = f"{node.name or node.output[0]}/matmul"

        def constant(name: str, value: Any, prefix: str = prefix) -> str:
            added.append(numpy_helper.from_array(value, f"{prefix}/{name}"))
            return f"{prefix}/{name}"

        def step(op: str, inputs: list[str], name: str, prefix: str = prefix, **kw: Any) -> str:
            output = f"{prefix}/{name}"
            nodes.append(helper.make_node(op, inputs, [output], name=output, **kw))
            return output

        # Row j x C + c of the product's weights is tap j of input channel c.
        matrix = weights.transpose(2, 1, 0).reshape(taps * channels, outputs)
        signed = constant("weights", _signed(np, matrix))
        signed_zero = constant("weights_zero", _signed(np, weights_zero))
        frames = step("Transpose", [quantised], "time_first", perm=[0, 2, 1])
        if ahead or behind:
            pads = constant("pads", np.array([0, ahead, 0, 0, behind, 0], np.int64))
            frames = step("Pad", [frames, pads, input_zero], "padded", mode="constant")
        if taps > 1:
            length = step("Shape", [frames], "length", start=1, end=2)
            span = constant("span", np.array([dilation * (taps - 1)], np.int64))
            made = step("Sub", [length, span], "made")
            zero = constant("zero", np.array(0, np.int64))
            one = constant("one", np.array(1, np.int64))
            last = step("Squeeze", [made], "made_scalar")
            each = step("Range", [zero, last, one], "each")
            column = step("Unsqueeze", [each, constant("axis1", np.array([1], np.int64))], "col")
            offsets = constant("offsets", (np.arange(taps, dtype=np.int64) * dilation)[None])
            reads = step("Add", [column, offsets], "reads")
            gathered = step("Gather", [frames, reads], "taps", axis=1)
            shape = constant("shape", np.array([1, -1, taps * channels], np.int64))
            frames = step("Reshape", [gathered, shape], "columns")
        product = step("MatMulInteger", [frames, signed, input_zero, signed_zero], "product")
        back = helper.make_node(
            "Transpose", [product], list(node.output), name=f"{prefix}/back", perm=[0, 2, 1]
        )
        nodes.append(back)
        replaced.update((weights_name, weights_zero_name))
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(added)
    read = {name for node in graph.node for name in node.input}
    for tensor in [constants[name] for name in replaced if name not in read]:
        graph.initializer.remove(tensor)
    return count


def _signed(np: Any, values: Any) -> Any:
    """uint8 `values` as int8, each less 128."""
    return (values.astype(np.int16) - 128).astype(np.int8)
