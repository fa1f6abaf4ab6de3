"""schemathesis against sayfile's own OpenAPI schema: generated requests, valid and not,
never get a 5xx and every answer matches the schema. Every operation is fuzzed in-process
(the fast layer, the tone engine); the real server with real voices is fuzzed in the slow
layer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.python import asgi

from conftest import TONES, Server, start_server
from sayfile.app import create_app
from sayfile.settings import Settings

# Generated requests per operation: bounded, so the suite stays fast.
EXAMPLES = 30
# In-process, for every operation in each mode: enough to reach every parameter.
EXAMPLES_IN_PROCESS = 6
# The generous limits a fuzzer needs (one client sends every request).
FUZZ_LIMITS: dict[str, Any] = {
    "rate_limit": "",
    "max_active_per_client": 1000,
    "max_chars_job": 2000,
    "max_chars_direct": 500,
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(
        tmp_path_factory.mktemp("fuzz"),
        rate_limit="",
        max_active_per_client="1000",
        max_chars_job="2000",
        max_chars_direct="500",
    )
    yield server
    server.stop()


def _operations(server: Server) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), "the schema does not load"
    return [result.ok() for result in results if isinstance(result, Ok)]


@pytest.fixture
def app_schema(tmp_path: Path) -> Iterator[tuple[Any, asgi.ASGIClient]]:
    """The app's schema and a client that reaches the app in-process (its lifespan entered
    once, left at the end)."""
    app = create_app(Settings(data_dir=tmp_path / "data", **TONES, **FUZZ_LIMITS))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    with asgi.get_client(app) as client:  # type: ignore[arg-type]  # FastAPI is an ASGI app
        yield schema, client
    asgi.shutdown_lifespans()


def test_every_operation_is_fuzzed(app_schema: tuple[Any, asgi.ASGIClient]) -> None:
    schema, client = app_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"POST /speech", "POST /jobs", "POST /v1/audio/speech", "GET /jobs/{job_id}/audio",
            "DELETE /jobs/{job_id}", "GET /voices"} <= labels  # fmt: skip
    sent: Counter[str] = Counter()
    for operation in operations:
        # Invalid path parameters cost seconds each to generate: the server's fuzzing (slow
        # layer) covers them; here every other operation gets invalid requests too.
        modes = ["positive"] if len(operation.path_parameters) else ["positive", "negative"]
        for mode in modes:
            try:
                _fuzz(operation, mode, sent, client, EXAMPLES_IN_PROCESS)
            except Unsatisfiable:
                assert mode == "negative", operation.label  # nothing invalid can be made
        assert sent[operation.label] > 0, f"{operation.label} got no request"
    print(f"{sum(sent.values())} requests over {len(sent)} operations: {sorted(sent.items())}")


def _fuzz(
    operation: Any,
    mode: str,
    seen: list[str] | Counter[str],
    session: requests.Session,
    examples: int = EXAMPLES,
) -> None:
    """Send `examples` generated requests for one operation and check every answer."""

    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call(session=session, timeout=60)
        if isinstance(seen, Counter):
            seen[operation.label] += 1
        else:
            seen.append(f"{operation.label} {response.status_code}")
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.slow  # a real server process with real voices
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_generated_requests_never_fail_the_server(fuzz_server: Server, mode: str) -> None:
    seen: list[str] = []
    with requests.Session() as session:
        for operation in _operations(fuzz_server):
            try:
                _fuzz(operation, mode, seen, session)
            except Unsatisfiable:
                # Nothing invalid can be made for it (no parameters, no body): positive
                # covers it.
                assert mode == "negative", operation.label
    print(f"{mode}: {len(seen)} requests, statuses {sorted(Counter(seen).items())}")
    assert len(seen) >= 100
