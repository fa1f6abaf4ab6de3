"""Kokoro's int8 convolutions as matrix products (engines/kokoro_convolutions.py, issue 27):
on small graphs of the form the quantised model has, the rewritten graph gives the same
numbers as the convolution, bit for bit, for every tap count, dilation and padding the model
uses, with and without a bias. (The real model's audio: tests/test_kokoro_words.py, slow.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sayfile.engines.kokoro_convolutions import as_matrix_products, exact_int8_products
from sayfile.errors import EngineError


def quantised_convolution(
    channels: int, outputs: int, taps: int, dilation: int, stride: int, bias: bool, seed: int
) -> Any:
    """A graph as onnxruntime's dynamic quantisation writes a Conv1d: DynamicQuantizeLinear,
    ConvInteger with uint8 weights, the int32 bias added, Cast and Mul by the scales."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    pad = dilation * (taps - 1) // 2
    weights = rng.integers(0, 256, (outputs, channels, taps), dtype=np.uint8)
    constants = [
        numpy_helper.from_array(weights, "w_quantized"),
        numpy_helper.from_array(np.array(rng.integers(100, 156), np.uint8), "w_zero"),
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


@pytest.mark.parametrize(
    ("flags", "exact"),
    [
        ("fpu sse2 avx2 avx512f avx512_vnni avx512_bf16", True),  # this machine's kind
        ("fpu sse2 avx2 avx_vnni", True),  # AVX-VNNI without AVX-512
        ("fpu sse2 avx2 fma avx512f avx512bw", False),  # AVX2/AVX-512 without VNNI: saturates
        (None, False),  # ARM's /proc/cpuinfo has "Features", not "flags"
    ],
)
def test_products_are_made_only_where_the_cpu_sums_them_exactly(
    tmp_path: Path, flags: str | None, exact: bool
) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    text = "processor\t: 0\n"
    text += f"flags\t\t: {flags}\n" if flags else "Features\t: fp asimd asimddp i8mm\n"
    cpuinfo.write_text(text + "\nprocessor\t: 1\n")
    assert exact_int8_products(cpuinfo) is exact
    assert exact_int8_products(tmp_path / "missing") is False
