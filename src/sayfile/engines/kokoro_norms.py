"""Kokoro's style norms as one `InstanceNormalization` each, the Snake activation after a norm
folded into it: an edit of the timed model (issue 27), no longer applied at install time since
it made Mandarin and Italian heard worse on a CPU without VNNI (docs/architecture.md); kept,
with its tests, for a model chosen by the CPU.

Kokoro's vocoder normalises its tensors before each convolution by the style (AdaIN: each
channel's mean and variance over time taken away, then the style's scale `1 + gamma` and shift
`beta`). The export spells each norm out in nine nodes, five of them passes over the
vocoder's largest tensors, and the Snake activation after it (`y + sin(alpha y)^2 / alpha`)
in five more. Once the products are cheap (engines/kokoro_convolutions.py), such passes are
most of what is left (docs/benchmarks.md, "On a CPU with VNNI again"). Each norm becomes
onnxruntime's `InstanceNormalization` with the style's scale and shift as its own, one
kernel. Where a Snake follows, its per-channel alpha goes into that scale and shift, so the
norm gives `z = alpha y`, and the Snake is `(z + sin(z)^2) / alpha`: four nodes. A norm that
three blocks share is made once for each of them, each with its own style.

The numbers are the same sums in another order, not the same bits. Values on the edge of a
rounding step of the dynamic quantisation after a norm can go either way. The samples are
about 12 dB SNR from the unedited model's, and the speech is heard the same (the Whisper
checks and the loudness tests; docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sayfile.engines.graph_edits import GraphEdits
from sayfile.errors import EngineError


def as_instance_norms(model: Any) -> int:
    """Edits `model` (an onnx ModelProto of Kokoro's graph) in place: each norm spelled out as
    above becomes an `InstanceNormalization`, with the Snake after it folded in where one
    follows. Gives how many norms were made; raises EngineError on a norm of an unknown
    form."""
    graph = _NormEdits(model)
    instead: dict[int, list[Any]] = {}
    count = 0
    for mean in list(graph.graph.node):
        spelled = graph.norm_from(mean)
        if spelled is None:
            continue
        x, divided, epsilon = spelled
        for scale in graph.readers[divided]:
            shift = graph.only(scale.output[0], "Add")
            if scale.op_type != "Mul" or shift is None:
                raise EngineError(f"Kokoro's norm {mean.name} has an unexpected form")
            gamma = next(name for name in scale.input if name != divided)
            beta = next(name for name in shift.input if name != scale.output[0])
            nodes, replaced = graph.norm(x, gamma, beta, epsilon, shift)
            instead[id(shift)] = nodes
            if replaced is not None:
                instead[id(replaced)] = []
            count += 1
    if count:
        graph.replace(instead)
    return count


class _NormEdits(GraphEdits):
    """The graph being edited, with the norms and Snakes found in it and made anew."""

    def norm_from(self, mean: Any) -> tuple[str, str, float] | None:
        """The input, the normalised tensor and epsilon of the norm spelled out from `mean`
        (ReduceMean, Sub, Mul, ReduceMean, Add epsilon, Sqrt, Div), or None if `mean` starts
        no such norm."""
        centred = self.only(mean.output[0], "Sub") if mean.op_type == "ReduceMean" else None
        if centred is None or list(centred.input) != [mean.input[0], mean.output[0]]:
            return None
        readers = self.readers[centred.output[0]]
        square = next((n for n in readers if n.op_type == "Mul"), None)
        divide = next((n for n in readers if n.op_type == "Div"), None)
        variance = self.only(square.output[0], "ReduceMean") if square else None
        plus = self.only(variance.output[0], "Add") if variance else None
        root = self.only(plus.output[0], "Sqrt") if plus else None
        if square is None or variance is None or plus is None or divide is None or root is None:
            return None
        if list(divide.input) != [centred.output[0], root.output[0]]:
            return None
        if list(square.input) != [centred.output[0]] * 2 or len(readers) != 2:
            return None
        epsilon = [self.constants[n] for n in plus.input if n in self.constants]
        axes = [self.constants.get(n) for n in (mean.input[1:2] + variance.input[1:2])]
        if len(epsilon) != 1 or any(a is None or a.tolist() != [2] for a in axes):
            raise EngineError(f"Kokoro's norm {mean.name} has an unexpected form")
        return mean.input[0], divide.output[0], float(epsilon[0])

    def norm(
        self, x: str, gamma: str, beta: str, epsilon: float, shift: Any
    ) -> tuple[list[Any], Any | None]:
        """The nodes of the norm of `x` whose scale and shift `shift` ends, with a Snake after
        it folded in where one follows; and the Snake's last node then (its output is made by
        these nodes instead), else None."""
        from onnx import helper

        name = shift.name + "/norm"
        flat = self.constant(name + "/flat", np.array([-1], np.int64))

        def node(op: str, inputs: list[str], output: str, **attributes: Any) -> Any:
            return helper.make_node(op, inputs, [output], name=output, **attributes)

        nodes = [
            node("Reshape", [gamma, flat], name + "/scale"),
            node("Reshape", [beta, flat], name + "/shift"),
        ]
        snake = self._snake_after(shift)
        if snake is None:
            nodes.append(
                node(
                    "InstanceNormalization",
                    [x, name + "/scale", name + "/shift"],
                    shift.output[0],
                    epsilon=epsilon,
                )
            )
            return nodes, None
        alpha, inverse, last = snake
        alpha_flat = self.constant(name + "/alpha", self.constants[alpha].reshape(-1))
        nodes += [
            node("Mul", [name + "/scale", alpha_flat], name + "/scale_alpha"),
            node("Mul", [name + "/shift", alpha_flat], name + "/shift_alpha"),
            node(
                "InstanceNormalization",
                [x, name + "/scale_alpha", name + "/shift_alpha"],
                name + "/z",
                epsilon=epsilon,
            ),
            node("Sin", [name + "/z"], name + "/sin"),
            node("Mul", [name + "/sin", name + "/sin"], name + "/sin2"),
            node("Add", [name + "/z", name + "/sin2"], name + "/sum"),
            node("Mul", [name + "/sum", inverse], last.output[0]),
        ]
        return nodes, last

    def _snake_after(self, shift: Any) -> tuple[str, str, Any] | None:
        """(alpha, 1 / alpha, the Snake's last node) of the Snake that alone reads the norm
        `shift` ends: Mul by alpha, Sin, Pow 2, Mul by 1 / alpha, Add the norm's output."""
        y = shift.output[0]
        readers = self.readers.get(y, [])
        scale = next((n for n in readers if n.op_type == "Mul"), None)
        alpha = next((n for n in scale.input if n in self.constants), None) if scale else None
        sine = self.only(scale.output[0], "Sin") if scale else None
        power = self.only(sine.output[0], "Pow") if sine else None
        over = self.only(power.output[0], "Mul") if power else None
        last = self.only(over.output[0], "Add") if over else None
        if alpha is None or power is None or over is None or last is None or len(readers) != 2:
            return None
        exponent = self.constants.get(power.input[1])
        inverse = next(n for n in over.input if n != power.output[0])
        if exponent is None or float(exponent) != 2.0 or inverse not in self.constants:
            return None
        if last not in readers or self.constants[alpha].shape != self.constants[inverse].shape:
            return None
        if not np.allclose(self.constants[inverse] * self.constants[alpha], 1, rtol=1e-5):
            return None
        return alpha, inverse, last
