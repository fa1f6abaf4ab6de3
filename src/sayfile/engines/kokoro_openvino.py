"""Kokoro's model on OpenVINO's CPU plugin: the float timed graph (engines/kokoro_float_model.py)
compiled for `threads` threads, in bfloat16 where the CPU has it, behind the one call of an
onnxruntime session that sayfile makes (`run(None, feed)`), so that the engine's runner
(engines/kokoro_run.py) does not know which runtime it drives.

OpenVINO's telemetry is kept off: `import openvino` imports its model conversion tools, whose
package sends an "import" event to Google Analytics (and writes a client id into ~/intel)
unless the user has opted out or runs in CI, through its `openvino-telemetry` dependency.
Those tools fall back to a stub that sends nothing when that package cannot be imported, so
sayfile makes it unimportable in its process before importing OpenVINO (`_openvino`). The
compiled model is cached under the data folder, never the source tree.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# What a call computes in: bfloat16 where the CPU has it (OpenVINO falls back to float32 where
# it does not); "f32" keeps float32.
PRECISION = "bf16"


def compiled(
    model: Path, threads: int, precision: str = PRECISION, cache: Path | None = None
) -> Any:
    """`model` compiled by OpenVINO for its CPU plugin, each call on `threads` threads; with
    `cache`, the compiled form is kept in that folder and read back by the next process."""
    core = _openvino().Core()
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        core.set_property({"CACHE_DIR": str(cache)})
    return core.compile_model(
        str(model),
        "CPU",
        {
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": precision,
            "PERFORMANCE_HINT": "LATENCY",
            # Threads pinned to cores fight the other sentence's on a small shared machine.
            "ENABLE_CPU_PINNING": False,
        },
    )


def _openvino() -> Any:
    """The `openvino` package, imported with its telemetry package unimportable (a None in
    `sys.modules` makes `import openvino_telemetry` raise ImportError), so that OpenVINO's
    conversion tools take their stub, which sends nothing."""
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    import openvino

    return openvino


class OpenVinoSession:
    """A compiled model with onnxruntime's `run`: the outputs in the graph's order, as numpy
    arrays. Each call takes an infer request of its own (a request serves one call at a time,
    and sentences run side by side on one engine)."""

    def __init__(self, model: Path, threads: int, cache: Path | None) -> None:
        self._compiled = compiled(model, threads, cache=cache)

    def run(self, names: None, feed: dict[str, Any]) -> list[Any]:
        result = self._compiled.create_infer_request().infer(feed)
        return [result[output] for output in self._compiled.outputs]
