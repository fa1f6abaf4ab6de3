"""Apps built on engines someone else built (the tests' apps share one set) speak with them
and leave them open; an app that built its own closes them. The tests' sharing keys engines by
ENGINE_SETTINGS, which must name every setting the engines are built from."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from conftest import ENGINE_SETTINGS, TONES
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
    """Every engine built (none loads a model until used) reads only ENGINE_SETTINGS."""
    settings = Settings(engines=list(ENGINES))
    read: set[str] = set()

    class Reading:
        def __getattr__(self, name: str) -> object:
            read.add(name)
            return getattr(settings, name)

    for engine in build_engines(cast(Settings, Reading())):
        engine.close()
    assert {"engines", "voices_dir", "kokoro_dir"} <= read <= set(ENGINE_SETTINGS), read
