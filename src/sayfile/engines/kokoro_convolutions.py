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
three strided convolutions (the decoder's two that halve pitch and energy, and the noise
branch's first; under 1% of a run) are left as they are.

The int8 weights are the uint8 ones less an offset chosen per convolution, which leaves every
`w - zero point` as it was, so that each lies in [-64, 63]: Kokoro's weights were quantised to
7 bits (0 to 127). That keeps the sums exact on x86 CPUs without VNNI too: onnxruntime's
kernels for AVX2 and AVX-512 without VNNI add each pair of products into 16 bits first
(VPMADDUBSW), which saturates past 32,767, as its quantisation guide warns, and two products
of a uint8 (at most 255) and a weight in [-64, 63] add up to at most 32,640. (With VNNI each
product goes into 32 bits; weights less 128, [-128, -1], gave wrong sums on an AVX2 CPU.) A
convolution whose weights span more than 128 values, or whose zero point the offset would put
outside int8, is left as it is.
"""

from __future__ import annotations

from typing import Any

from sayfile.engines.graph_edits import GraphEdits
from sayfile.errors import EngineError

# The int8 weights' range (see above): any two products of a uint8 and one of these add up to
# at most 255 x 64 x 2 = 32,640, within a 16-bit sum.
_WEIGHTS_LOW, _WEIGHTS_HIGH = -64, 63


def as_matrix_products(model: Any) -> int:
    """Edits `model` (an onnx ModelProto of Kokoro's int8 model) in place: each `ConvInteger`
    with a stride of 1 and weights that fit (see above) as the nodes above. Gives how many
    were rewritten; raises EngineError when one has a form this does not know."""
    import numpy as np
    from onnx import helper

    edits = GraphEdits(model)
    constants, readers = edits.constants, edits.readers
    instead: dict[int, list[Any]] = {}  # id of a node -> the nodes that take its place
    count = 0
    for node in edits.graph.node:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type != "ConvInteger" or attributes.get("strides", [1]) != [1]:
            continue
        weights_and_zero = node.input[1:4:2]  # both constants, as quantize_dynamic writes them
        known = len(node.input) == 4 and all(n in constants for n in weights_and_zero)
        if attributes.get("group", 1) != 1 or not known:
            raise EngineError(f"Kokoro's convolution {node.name} has an unexpected form")
        weights, zero = (constants[n] for n in weights_and_zero)
        if weights.dtype != np.uint8 or weights.ndim != 3 or zero.shape != ():
            raise EngineError(f"Kokoro's convolution {node.name} has unexpected weights")
        offset = weights_offset(weights, zero)
        if offset is None:
            continue
        edit = _Edit(node, edits)
        instead[id(node)] = edit.product(weights, zero, offset, attributes)
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
    edits.replace(instead)
    return count


def weights_offset(weights: Any, zero: Any) -> int | None:
    """What to take from a convolution's uint8 `weights` and their zero point `zero` so that
    the weights lie in [-64, 63] and the zero point in int8 (see above); None when no offset
    does."""
    least, most = int(weights.max()) - _WEIGHTS_HIGH, int(weights.min()) - _WEIGHTS_LOW
    if least > most:
        return None
    offset = min(max(int(zero), least), most)  # the zero point itself where it can be
    return offset if -128 <= int(zero) - offset <= 127 else None


class _Edit:
    """The nodes and constants that take one convolution's place, named after it (so that the
    profiler's stages still find them); `made` is the last tensor made."""

    def __init__(self, node: Any, edits: GraphEdits) -> None:
        self.node = node
        self.prefix = f"{node.name or node.output[0]}/matmul"
        self.edits = edits
        self.nodes: list[Any] = []
        self.made = ""

    def constant(self, name: str, value: Any) -> str:
        return self.edits.constant(f"{self.prefix}/{name}", value)

    def step(self, op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        from onnx import helper

        self.made = f"{self.prefix}/{name}"
        self.nodes.append(helper.make_node(op, inputs, [self.made], name=self.made, **attributes))
        return self.made

    def taken(self) -> list[Any]:
        """The nodes made since the last call."""
        taken, self.nodes = self.nodes, []
        return taken

    def product(
        self, weights: Any, zero: Any, offset: int, attributes: dict[str, Any]
    ) -> list[Any]:
        """The convolution's int32 sums as [1, T', O], time first: its uint8 `weights` and
        their `zero` point less `offset` (`weights_offset`) as int8."""
        import numpy as np

        quantised, _, input_zero, _ = self.node.input
        outputs, channels, taps = weights.shape
        dilation = attributes.get("dilations", [1])[0]
        ahead, behind = attributes.get("pads", [0, 0])
        # Row j x C + c of the product's weights is tap j of input channel c.
        matrix = weights.transpose(2, 1, 0).reshape(taps * channels, outputs)
        signed = self.constant("weights", _less(np, matrix, offset))
        signed_zero = self.constant("weights_zero", _less(np, zero, offset))
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


def _less(np: Any, values: Any, offset: int) -> Any:
    """uint8 `values` less `offset`, as int8 (`weights_offset` has checked that they fit)."""
    return (values.astype(np.int16) - offset).astype(np.int8)
