"""Editing an ONNX graph in place: its constants, who reads each tensor, nodes put in place of
others, and what nothing needs any more taken out. Shared by the install-time edits of
Kokoro's timed model (engines/kokoro_convolutions.py, engines/kokoro_norms.py) and the
benches that try others."""

from __future__ import annotations

from typing import Any

import numpy as np


class GraphEdits:
    """A graph being edited (an onnx ModelProto's): its constants as arrays, who reads each
    tensor, and constants added to it."""

    def __init__(self, model: Any) -> None:
        from onnx import numpy_helper

        self.graph = model.graph
        self.constants = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.readers: dict[str, list[Any]] = {}
        for node in self.graph.node:
            for name in dict.fromkeys(node.input):
                self.readers.setdefault(name, []).append(node)

    def only(self, name: str, op_type: str) -> Any | None:
        """The node that alone reads `name`, if it is an `op_type`."""
        found = self.readers.get(name, [])
        return found[0] if len(found) == 1 and found[0].op_type == op_type else None

    def constant(self, name: str, value: Any) -> str:
        """`name`, now a constant of the graph holding `value`."""
        from onnx import numpy_helper

        self.graph.initializer.append(numpy_helper.from_array(np.asarray(value, order="C"), name))
        self.constants[name] = value
        return name

    def replace(self, instead: dict[int, list[Any]]) -> None:
        """Each node whose `id` is in `instead` by its nodes there (by identity: a graph's
        nodes need not have names), and the nodes and constants nothing reads any more taken
        out."""
        with_only_needed(
            self.graph, [n for node in self.graph.node for n in instead.get(id(node), [node])]
        )


def with_only_needed(graph: Any, nodes: list[Any]) -> None:
    """`graph` (an onnx GraphProto) with those of `nodes` its outputs need (in their order) as
    its nodes, and the constants nothing reads any more taken out."""
    needed = {output.name for output in graph.output}
    kept = []
    for node in reversed(nodes):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    unused = [t for t in graph.initializer if t.name not in needed]
    for tensor in unused:
        graph.initializer.remove(tensor)
