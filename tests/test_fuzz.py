"""schemathesis against sayfile's own OpenAPI schema, on a real server: generated requests,
valid and not, never get a 5xx and every answer matches the schema."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
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

from conftest import Server, start_server

# Real voices, server processes or the fuzzer: left out of `make test-fast`.
pytestmark = pytest.mark.slow

# Generated requests per operation: bounded, so the suite stays fast.
EXAMPLES = 50
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


def test_every_operation_is_fuzzed(fuzz_server: Server) -> None:
    labels = {op.label for op in _operations(fuzz_server)}
    assert {"POST /speech", "POST /jobs", "POST /v1/audio/speech", "GET /jobs/{job_id}/audio",
            "DELETE /jobs/{job_id}", "GET /voices"} <= labels  # fmt: skip


def _fuzz(operation: Any, mode: str, seen: list[str], session: requests.Session) -> None:
    """Send EXAMPLES generated requests for one operation and check every answer."""

    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call(session=session, timeout=60)
        seen.append(f"{operation.label} {response.status_code}")
        case.validate_response(response, checks=CHECKS)

    run()


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
