"""How `make test` shares the suite between two pytest-xdist workers (`-n 2 --dist loadfile`).

A module whose tests or fixtures take a real voice or the recognizer in the test's own process
(`speech`, `voices`, `listener`: Kokoro and Whisper each keep both cores busy) is "heavy".
The heavy modules are one unit of work, so one worker runs them one after another: two of
them side by side would each take about twice as long. Every other module, which mostly
waits (servers starting, Redis, the browser, time-outs) or is quick, is a unit of its own,
run whole on one worker (its module-scoped servers start once) beside the heavy ones.

A module is found heavy by reading its source (the controller does not collect tests): a
function, test or fixture, with a parameter of one of those names."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest
from xdist.remote import Producer  # type: ignore[import-untyped]
from xdist.scheduler import LoadFileScheduling  # type: ignore[import-untyped]

HEAVY_FIXTURES = frozenset({"speech", "voices", "listener"})
HEAVY_UNIT = "the modules that run Kokoro or Whisper in process"


@cache
def is_heavy(module: Path) -> bool:
    """Whether a function of `module` takes one of HEAVY_FIXTURES."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return any(
        argument.arg in HEAVY_FIXTURES
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for argument in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
    )


class HeavyTogether(LoadFileScheduling):  # type: ignore[misc]
    """`--dist loadfile` with the heavy modules as one file. Units go out largest first (by
    count of tests), and the heavy unit is by far the largest, so it starts at once."""

    def __init__(self, config: pytest.Config, log: Producer | None = None) -> None:
        super().__init__(config, log)
        self._root = config.rootpath

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return HEAVY_UNIT if is_heavy(self._root / module) else module
