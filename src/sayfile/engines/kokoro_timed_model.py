"""Kokoro's model with each token's duration as a second output, made once from the joined
model at install time (`python -m sayfile.engines.kokoro`) and checked by hash.

The duration predictor's rounded durations (`/encoder/Cast_output_0`, int64 [1, T], the pads
included) are already computed inside the graph; naming them as an output changes no sample of
the audio, and `sum(durations) * 600` is the audio's length. Made once rather than in memory
per process: the edit costs 1.5 s more at every start and holds 150 MB more (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sayfile.errors import EngineError
from sayfile.whole_files import UNFINISHED

TIMED_MODEL_FILE = "kokoro-v1.0.int8.timed.onnx"
TIMED_MODEL_SHA256 = "596916a19ef0c8a555060228fc96da827d79a7f3992cff1b227b5d761dbbb334"
DURATIONS_OUTPUT = "/encoder/Cast_output_0"
# Samples of audio per unit of duration: 25 ms at 24 kHz.
SAMPLES_PER_UNIT = 600


def timed_model(plain: Path) -> Path:
    """The timed model beside `plain` (the joined, hash-checked model), made the first time
    (written to a temporary name and renamed once its hash is right). Raises EngineError when
    the result is not the pinned one."""
    target = plain.with_name(TIMED_MODEL_FILE)
    if target.is_file():
        return target
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(plain))
    model.graph.output.append(
        helper.make_tensor_value_info(DURATIONS_OUTPUT, TensorProto.INT64, None)
    )
    data = model.SerializeToString()
    del model
    if hashlib.sha256(data).hexdigest() != TIMED_MODEL_SHA256:
        raise EngineError("Kokoro's model with durations is not the pinned one")
    partial = target.with_name(f"{target.name}.{os.getpid()}{UNFINISHED}")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target
