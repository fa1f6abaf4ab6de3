"""Kokoro's style norms as `InstanceNormalization` with the Snake after each folded in
(engines/kokoro_norms.py, issue 27): on small graphs of the form the exported model has, the
edited graph gives the same numbers within float rounding, a norm three blocks share is made
for each, and a norm of another form is refused, not guessed. (The real model's audio:
tests/test_kokoro_words.py and the Whisper tests, slow.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sayfile.engines.kokoro_norms import as_instance_norms
from sayfile.errors import EngineError

CHANNELS = 6


def spelled_norms(styles: int, snake: bool, axis: int = 2, seed: int = 0) -> Any:
    """A graph as Kokoro's export writes AdaIN: the mean and variance over time spelled out in
    nine nodes, read by `styles` pairs of a scale `1 + gamma` and a shift `beta` (each
    [1, C, 1], made from an input as the style's are), each then through a Snake activation
    (`y + sin(alpha y)^2 / alpha`) if `snake`. The outputs: y0, y1, ..."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0.3, 2.0, (1, CHANNELS, 1)).astype(np.float32)
    constants = [
        numpy_helper.from_array(np.array([axis], np.int64), "axes"),
        numpy_helper.from_array(np.array(1e-5, np.float32), "epsilon"),
        numpy_helper.from_array(np.array(2.0, np.float32), "two"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(alpha, "alpha"),
        numpy_helper.from_array((1 / alpha).astype(np.float32), "inverse"),
    ]

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> Any:
        return helper.make_node(op, inputs, [output], name=output, **attributes)

    nodes = [
        node("ReduceMean", ["x", "axes"], "mean", keepdims=1),
        node("Sub", ["x", "mean"], "centred"),
        node("Mul", ["centred", "centred"], "squares"),
        node("ReduceMean", ["squares", "axes"], "variance", keepdims=1),
        node("Add", ["variance", "epsilon"], "plus"),
        node("Sqrt", ["plus"], "deviation"),
        node("Div", ["centred", "deviation"], "normed"),
    ]
    outputs = []
    for k in range(styles):
        nodes += [
            node("Add", [f"gamma{k}", "one"], f"scale{k}"),
            node("Mul", [f"scale{k}", "normed"], f"scaled{k}"),
            node("Add", [f"scaled{k}", f"beta{k}"], f"styled{k}"),
        ]
        last = f"styled{k}"
        if snake:
            nodes += [
                node("Mul", ["alpha", last], f"alpha_y{k}"),
                node("Sin", [f"alpha_y{k}"], f"sin{k}"),
                node("Pow", [f"sin{k}", "two"], f"sin2_{k}"),
                node("Mul", ["inverse", f"sin2_{k}"], f"over{k}"),
                node("Add", [last, f"over{k}"], f"snake{k}"),
            ]
            last = f"snake{k}"
        nodes.append(node("Identity", [last], f"y{k}"))
        outputs.append(helper.make_tensor_value_info(f"y{k}", TensorProto.FLOAT, None))
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, CHANNELS, None])]
    for k in range(styles):
        for name in (f"gamma{k}", f"beta{k}"):
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, CHANNELS, 1]))
    graph = helper.make_graph(nodes, "adain", inputs, outputs, constants)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])


def run(model: Any, feed: dict[str, Any]) -> list[Any]:
    import onnxruntime

    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return list(session.run(None, feed))


def feed(styles: int, seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    # Not centred, and channels of different sizes: as a convolution's output is.
    made = {"x": (rng.normal(0.4, 1, (1, CHANNELS, 300)) * rng.uniform(0.2, 3, (1, CHANNELS, 1)))}
    for k in range(styles):
        made[f"gamma{k}"] = rng.normal(0, 0.3, (1, CHANNELS, 1))
        made[f"beta{k}"] = rng.normal(0, 0.3, (1, CHANNELS, 1))
    return {name: value.astype(np.float32) for name, value in made.items()}


@pytest.mark.parametrize("snake", [True, False])
@pytest.mark.parametrize("styles", [1, 3])
def test_a_spelled_out_norm_becomes_one_and_gives_the_same_numbers(
    styles: int, snake: bool
) -> None:
    model = spelled_norms(styles, snake)
    inputs = feed(styles)
    before = run(model, inputs)
    assert as_instance_norms(model) == styles
    kinds = [node.op_type for node in model.graph.node]
    assert kinds.count("InstanceNormalization") == styles
    assert "ReduceMean" not in kinds and "Div" not in kinds
    assert kinds.count("Sin") == (styles if snake else 0) and "Pow" not in kinds
    after = run(model, inputs)
    for expected, got in zip(before, after, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_a_graph_without_such_norms_is_left_as_it_is() -> None:
    model = spelled_norms(1, True)
    for node in model.graph.node:
        if node.name == "centred":  # the variance of something else: not a norm
            node.input[1] = "x"
    before = model.SerializeToString()
    assert as_instance_norms(model) == 0
    assert model.SerializeToString() == before


def test_a_norm_over_another_axis_is_refused_not_guessed() -> None:
    model = spelled_norms(1, True, axis=1)
    with pytest.raises(EngineError, match="norm"):
        as_instance_norms(model)
