"""Kokoro's int8 convolutions as matrix products (engines/kokoro_convolutions.py, issue 27):
on small graphs of the form the quantised model has, the rewritten graph gives the same
numbers as the convolution, bit for bit, for every tap count, dilation and padding the model
uses, with and without a bias, and for the largest products, which a 16-bit sum of two would
saturate. (The real model's audio: tests/test_kokoro_words.py, slow.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sayfile.engines.kokoro_convolutions import as_matrix_products, weights_offset
from sayfile.errors import EngineError


def quantised_convolution(
    channels: int,
    outputs: int,
    taps: int,
    dilation: int,
    stride: int,
    bias: bool,
    seed: int,
    weights: Any = None,
) -> Any:
    """A graph as onnxruntime's dynamic quantisation writes a Conv1d: DynamicQuantizeLinear,
    ConvInteger with uint8 weights (by default random in 0-127, as Kokoro's were quantised to 7
    bits), the int32 bias added, Cast and Mul by the scales."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    pad = dilation * (taps - 1) // 2
    if weights is None:
        weights = rng.integers(0, 128, (outputs, channels, taps), dtype=np.uint8)
    constants = [
        numpy_helper.from_array(weights, "w_quantized"),
        numpy_helper.from_array(np.array(rng.integers(40, 90), np.uint8), "w_zero"),
        numpy_helper.from_array(np.array(0.002, np.float32), "w_scale"),
        numpy_helper.from_array(rng.integers(-5000, 5000, outputs).astype(np.int32), "b"),
        numpy_helper.from_array(np.array([1, -1, 1], np.int64), "b_shape"),
    ]
    nodes = [
        helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "x_scale", "x_zero"]),
        helper.make_node(
            "ConvInteger",
            ["xq", "w_quantized", "x_zero", "w_zero"],
            ["sums"],
            name="/conv/Conv_quant",
            dilations=[dilation],
            kernel_shape=[taps],
            pads=[pad, pad],
            strides=[stride],
            group=1,
        ),
        helper.make_node("Mul", ["x_scale", "w_scale"], ["scale"]),
    ]
    if bias:
        nodes += [
            helper.make_node("Reshape", ["b", "b_shape"], ["b_column"]),
            helper.make_node("Add", ["sums", "b_column"], ["biased"]),
        ]
    nodes += [
        helper.make_node("Cast", ["biased" if bias else "sums"], ["floats"], to=1),
        helper.make_node("Mul", ["floats", "scale"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        constants,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])


def run(model: Any, x: Any) -> Any:
    import onnxruntime

    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"x": x})[0]


# (input channels, output channels, taps, dilation): forms Kokoro's vocoder has, made small.
FORMS = [(8, 8, 3, 1), (8, 8, 7, 3), (6, 8, 11, 5), (12, 4, 1, 1), (8, 8, 5, 1)]


@pytest.mark.parametrize(("channels", "outputs", "taps", "dilation"), FORMS)
@pytest.mark.parametrize("bias", [True, False])
def test_a_convolution_made_a_matrix_product_gives_the_same_numbers(
    channels: int, outputs: int, taps: int, dilation: int, bias: bool
) -> None:
    import onnx

    model = quantised_convolution(channels, outputs, taps, dilation, 1, bias, seed=taps)
    before = onnx.ModelProto()
    before.CopyFrom(model)
    assert as_matrix_products(model) == 1
    ops = [node.op_type for node in model.graph.node]
    assert "ConvInteger" not in ops and "MatMulInteger" in ops
    # No weights left that nothing reads: the file stays the model's size.
    read = {name for node in model.graph.node for name in node.input}
    assert all(tensor.name in read for tensor in model.graph.initializer)
    rng = np.random.default_rng(channels * taps)
    for frames in (1, 2, 37, 400):  # shorter than the taps' span, too
        x = rng.normal(0, 1, (1, channels, frames)).astype(np.float32)
        expected, got = run(before, x), run(model, x)
        assert got.shape == expected.shape == (1, outputs, frames)
        assert np.array_equal(got, expected)


def test_a_strided_convolution_is_left_as_it_is() -> None:
    model = quantised_convolution(4, 4, 3, 1, 2, True, seed=1)
    assert as_matrix_products(model) == 0
    assert [n.op_type for n in model.graph.node].count("ConvInteger") == 1


def test_a_convolution_of_another_form_is_refused_not_guessed() -> None:
    from onnx import helper

    model = quantised_convolution(4, 4, 3, 1, 1, True, seed=2)
    conv = next(node for node in model.graph.node if node.op_type == "ConvInteger")
    conv.attribute.append(helper.make_attribute("group", 2))
    del conv.attribute[[a.name for a in conv.attribute].index("group")]
    with pytest.raises(EngineError, match="unexpected form"):
        as_matrix_products(model)


def test_a_convolution_without_a_zero_point_for_its_weights_is_refused() -> None:
    model = quantised_convolution(4, 4, 3, 1, 1, True, seed=2)
    conv = next(node for node in model.graph.node if node.op_type == "ConvInteger")
    del conv.input[3]
    with pytest.raises(EngineError, match="unexpected form"):
        as_matrix_products(model)


def test_weights_that_are_not_uint8_are_refused_naming_the_convolution() -> None:
    signed = np.zeros((4, 4, 3), np.int8)
    model = quantised_convolution(4, 4, 3, 1, 1, True, seed=4, weights=signed)
    with pytest.raises(EngineError, match="/conv/Conv_quant has unexpected weights"):
        as_matrix_products(model)


def test_the_largest_products_are_summed_exactly() -> None:
    # Every activation quantised to 255 or near it, against weights at both ends of their 7
    # bits: as int8 less 128 (all negative), two such products add up to -65,280, and the
    # AVX2 kernel's 16-bit pair sums saturated (wrong sums on an AMD EPYC without VNNI).
    rng = np.random.default_rng(7)
    ends = rng.choice(np.array([0, 127], np.uint8), (16, 32, 3))
    model = quantised_convolution(32, 16, 3, 1, 1, True, seed=7, weights=ends)
    before = run(model, x := rng.uniform(0.95, 1.0, (1, 32, 50)).astype(np.float32))
    assert as_matrix_products(model) == 1
    assert np.array_equal(run(model, x), before)


def test_weights_of_more_than_7_bits_are_left_as_a_convolution() -> None:
    wide = np.random.default_rng(3).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    model = quantised_convolution(4, 4, 3, 1, 1, True, seed=3, weights=wide)
    assert as_matrix_products(model) == 0
    assert [n.op_type for n in model.graph.node].count("ConvInteger") == 1


@pytest.mark.parametrize(
    ("low", "high", "zero", "offset"),
    [
        (0, 127, 64, 64),  # Kokoro's weights: 64 is the only offset
        (0, 127, 50, 64),
        (10, 100, 60, 60),  # the zero point itself where it is allowed
        (10, 100, 80, 74),  # else as near it as allowed
        (200, 255, 230, 230),
        (0, 128, 64, None),  # 129 values: no offset puts them in [-64, 63]
        (200, 255, 0, None),  # the zero point less any allowed offset is below -128
    ],
)
def test_the_weights_offset_keeps_weights_and_zero_point_in_range(
    low: int, high: int, zero: int, offset: int | None
) -> None:
    weights = np.array([low, high], np.uint8).reshape(1, 1, 2)
    got = weights_offset(weights, np.array(zero, np.uint8))
    assert got == offset
    if got is not None:
        assert low - got >= -64 and high - got <= 63 and -128 <= zero - got <= 127
