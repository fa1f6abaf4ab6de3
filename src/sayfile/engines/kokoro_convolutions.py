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
    then the convolution's own Add of its int32 bias (as a row) and Cast to float
    Transpose back to [1, O, T']

The sums are of integers either way, so the int32 output is the convolution's, number for
number, and the audio the same, bit for bit (tests/test_kokoro_words.py). The turn back is
made on the floats, after the bias and the cast, which change no number: onnxruntime turns
float tensors over 1.6 times faster than int32 ones (13 against 22 ms for [77760, 128]). The
weights become int8 by taking 128 from each and from their zero point, which leaves every
`w - zero point` as it was. The three strided convolutions (the decoder's two that halve
pitch and energy, and the noise branch's first; under 1% of a run) are left as they are.

Only on CPUs where onnxruntime sums uint8 x int8 products exactly (`exact_int8_products`):
x86 with VNNI adds each product into int32. Without VNNI its AVX2 kernel adds pairs of
products into 16 bits first (VPMADDUBSW), which saturates, as onnxruntime's quantisation
guide warns; there the convolutions stay `ConvInteger` (uint8 x uint8, exact everywhere).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sayfile.errors import EngineError

# CPU flags (Linux's /proc/cpuinfo) of the instructions that add uint8 x int8 products into
# int32 with nothing lost: AVX-512 VNNI, and AVX-VNNI on CPUs without AVX-512.
_EXACT_FLAGS = frozenset({"avx512_vnni", "avx_vnni"})


def exact_int8_products(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU sums onnxruntime's uint8 x int8 products exactly (see above); False
    where `cpuinfo` cannot be read or names no such instruction (ARM, older x86)."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & _EXACT_FLAGS)


def as_matrix_products(model: Any) -> int:
    """Edits `model` (an onnx ModelProto of Kokoro's int8 model) in place: each `ConvInteger`
    with a stride of 1 as the nodes above. Gives how many were rewritten; raises EngineError
    when one has a form this does not know."""
    from onnx import helper

    graph = model.graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    readers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    instead: dict[int, list[Any]] = {}  # id of a node -> the nodes that take its place
    added: list[Any] = []
    count = 0
    for node in graph.node:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type != "ConvInteger" or attributes.get("strides", [1]) != [1]:
            continue
        if attributes.get("group", 1) != 1 or node.input[1] not in constants:
            raise EngineError(f"Kokoro's convolution {node.name} has an unexpected form")
        edit = _Edit(node, added)
        instead[id(node)] = edit.product(constants, attributes)
        after = readers.get(node.output[0], [])
        bias = after[0] if len(after) == 1 and after[0].op_type == "Add" else None
        cast = readers.get(bias.output[0], []) if bias else after
        if len(cast) == 1 and cast[0].op_type == "Cast":
            if bias is not None:
                instead[id(bias)] = edit.add_bias(bias)
            instead[id(cast[0])] = edit.cast_and_turn(cast[0])
        else:  # not the form Kokoro's model has: the int32 sums turned back at once
            instead[id(node)].append(edit.turned(edit.made, node.output[0]))
        count += 1
    nodes = [made for node in graph.node for made in instead.get(id(node), [node])]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(added)
    read = {name for node in graph.node for name in node.input}
    read.update(output.name for output in graph.output)
    for tensor in [t for t in graph.initializer if t.name not in read]:
        graph.initializer.remove(tensor)
    return count


class _Edit:
    """The nodes and constants that take one convolution's place, named after it (so that the
    profiler's stages still find them); `made` is the last tensor made."""

    def __init__(self, node: Any, added: list[Any]) -> None:
        self.node = node
        self.prefix = f"{node.name or node.output[0]}/matmul"
        self.added = added
        self.nodes: list[Any] = []
        self.made = ""

    def constant(self, name: str, value: Any) -> str:
        from onnx import numpy_helper

        self.added.append(numpy_helper.from_array(value, f"{self.prefix}/{name}"))
        return f"{self.prefix}/{name}"

    def step(self, op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        from onnx import helper

        self.made = f"{self.prefix}/{name}"
        self.nodes.append(helper.make_node(op, inputs, [self.made], name=self.made, **attributes))
        return self.made

    def taken(self) -> list[Any]:
        """The nodes made since the last call."""
        taken, self.nodes = self.nodes, []
        return taken

    def product(self, constants: dict[str, Any], attributes: dict[str, Any]) -> list[Any]:
        """The convolution's int32 sums as [1, T', O], time first."""
        import numpy as np
        from onnx import numpy_helper

        quantised, weights_name, input_zero, weights_zero_name = self.node.input
        weights = numpy_helper.to_array(constants[weights_name])
        weights_zero = numpy_helper.to_array(constants[weights_zero_name])
        if weights.dtype != np.uint8 or weights.ndim != 3 or weights_zero.shape != ():
            raise EngineError(f"Kokoro's convolution {self.node.name} has unexpected weights")
        outputs, channels, taps = weights.shape
        dilation = attributes.get("dilations", [1])[0]
        ahead, behind = attributes.get("pads", [0, 0])
        # Row j x C + c of the product's weights is tap j of input channel c.
        matrix = weights.transpose(2, 1, 0).reshape(taps * channels, outputs)
        signed = self.constant("weights", _signed(np, matrix))
        signed_zero = self.constant("weights_zero", _signed(np, weights_zero))
        frames = self.step("Transpose", [quantised], "time_first", perm=[0, 2, 1])
        if ahead or behind:
            pads = self.constant("pads", np.array([0, ahead, 0, 0, behind, 0], np.int64))
            frames = self.step("Pad", [frames, pads, input_zero], "padded", mode="constant")
        if taps > 1:
            length = self.step("Shape", [frames], "length", start=1, end=2)
            span = self.constant("span", np.array([dilation * (taps - 1)], np.int64))
            count = self.step("Squeeze", [self.step("Sub", [length, span], "made")], "count")
            zero, one = (
                self.constant("zero", np.array(0, np.int64)),
                self.constant("one", np.array(1, np.int64)),
            )
            each = self.step("Range", [zero, count, one], "each")
            axis = self.constant("axis1", np.array([1], np.int64))
            column = self.step("Unsqueeze", [each, axis], "column")
            offsets = self.constant("offsets", (np.arange(taps, dtype=np.int64) * dilation)[None])
            reads = self.step("Add", [column, offsets], "reads")
            gathered = self.step("Gather", [frames, reads], "taps", axis=1)
            shape = self.constant("shape", np.array([1, -1, taps * channels], np.int64))
            frames = self.step("Reshape", [gathered, shape], "columns")
        self.step("MatMulInteger", [frames, signed, input_zero, signed_zero], "product")
        return self.taken()

    def add_bias(self, bias: Any) -> list[Any]:
        """The convolution's Add of its int32 bias ([1, O, 1]), as a row added to the sums."""
        import numpy as np

        product = self.made
        (values,) = [name for name in bias.input if name != self.node.output[0]]
        row = self.constant("row", np.array([1, 1, -1], np.int64))
        self.step("Add", [product, self.step("Reshape", [values, row], "bias_row")], "biased")
        return self.taken()

    def cast_and_turn(self, cast: Any) -> list[Any]:
        """The convolution's Cast, then the turn back to [1, O, T'] under the Cast's name."""
        from onnx import helper

        to = next(helper.get_attribute_value(a) for a in cast.attribute if a.name == "to")
        cast_made = self.step("Cast", [self.made], "cast", to=to)
        return [*self.taken(), self.turned(cast_made, cast.output[0])]

    def turned(self, tensor: str, output: str) -> Any:
        """`tensor` turned from [1, T', O] back to [1, O, T'], as `output`."""
        from onnx import helper

        return helper.make_node(
            "Transpose", [tensor], [output], name=f"{self.prefix}/back", perm=[0, 2, 1]
        )


def _signed(np: Any, values: Any) -> Any:
    """uint8 `values` as int8, each less 128."""
    return (values.astype(np.int16) - 128).astype(np.int8)
