"""Apps built on engines someone else built (the tests' apps share one set) speak with them
and leave them open; an app that built its own closes them. The tests' sharing keys engines by
the settings they are built from, found by building them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TONES, EnginesFor, engine_settings
from sayfile.app import create_app
from sayfile.engines import ENGINES, build_engines
from sayfile.engines.tone import ToneEngine
from sayfile.settings import Settings


class _Recorded(ToneEngine):
    closed: list[_Recorded]

    def close(self) -> None:
        self.closed.append(self)


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> list[_Recorded]:
    """The `tone` engine's instances, each put in the list when it is closed."""
    found: list[_Recorded] = []
    monkeypatch.setattr(_Recorded, "closed", found, raising=False)
    monkeypatch.setitem(ENGINES, "tone", lambda settings: _Recorded())
    return found


def _speaks(app: Any) -> None:
    with TestClient(app) as client:
        answer = client.post("/speech", json={"text": "Hello there.", "format": "wav"})
        assert answer.status_code == 200, answer.text


def test_an_app_closes_the_engines_it_built(closed: list[_Recorded], tmp_path: Path) -> None:
    _speaks(create_app(Settings(data_dir=tmp_path, **TONES)))
    assert len(closed) == 1


def test_an_app_given_engines_speaks_with_them_and_leaves_them_open(
    closed: list[_Recorded], tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, **TONES)
    engines = build_engines(settings)
    for data in ("first", "second"):
        _speaks(create_app(settings.model_copy(update={"data_dir": tmp_path / data}), engines))
    assert closed == []
    engines[0].close()
    assert len(closed) == 1


def test_engines_are_built_from_the_settings_the_tests_share_them_by() -> None:
    """The settings read while every engine is built (none loads a model until used)."""
    assert {
        "engines",
        "engine_timeout_seconds",
        "voices_dir",
        "kokoro_dir",
        "synthesis_threads",
        "first_piece_threads",
        "max_loaded_voices",
        "espeak_command",
        "espeak_library",
    } == engine_settings()


def test_apps_share_engines_only_where_those_settings_agree(
    shared_engines: EnginesFor, tmp_path: Path
) -> None:
    engines = shared_engines(Settings(data_dir=tmp_path / "one", **TONES))
    assert engines is not None
    assert shared_engines(Settings(data_dir=tmp_path / "two", **TONES, max_queue=3)) is engines
    for other in ({"engine_timeout_seconds": 7.0}, {"voices_dir": tmp_path / "voices"}):
        assert shared_engines(Settings(data_dir=tmp_path, **TONES, **other)) is not engines
    assert shared_engines(Settings(data_dir=tmp_path, engines=["nothing"])) is None


def test_only_an_app_that_built_its_engines_readies_its_routes_before_the_first_request(
    tmp_path: Path,
) -> None:
    """A server builds its OpenAPI document (and so every route's models) at start, so that
    its first request builds nothing on the event loop; the tests' apps, hundreds on engines
    built once, skip it (0.15 s each)."""
    settings = Settings(data_dir=tmp_path / "own", **TONES)
    own = create_app(settings)
    with TestClient(own):
        assert own.openapi_schema is not None
    engines = build_engines(settings)
    given = create_app(settings.model_copy(update={"data_dir": tmp_path / "given"}), engines)
    with TestClient(given) as client:
        assert given.openapi_schema is None
        assert client.get("/openapi.json").json()["info"]["title"] == "sayfile"
    engines[0].close()
