"""The package's layout targets (issue 24), checked on the source: modules of one concern stay
short, classes hold few collaborators, and every folder says what it owns and may import. The
import layers themselves are checked by `lint-imports` in `make check`."""

from __future__ import annotations

import ast
from pathlib import Path

import sayfile

PACKAGE = Path(sayfile.__file__).parent
MAX_LINES = 400
MAX_COLLABORATORS = 6
# Annotations that are values, not parts of the system (settings, records, plain data).
_VALUES = frozenset(
    {
        "Settings",
        "Voice",
        "SpeechRequest",
        "AudioFormat",
        "Job",
        "JobStatus",
        "FailureReason",
        "LeaseTerms",
        "Lane",
    }
)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _classes_defined() -> set[str]:
    return {
        node.name
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.ClassDef)
    }


def _names(annotation: ast.expr | None) -> set[str]:
    found: set[str] = set()
    if annotation is None:
        return found
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= _names(ast.parse(node.value, mode="eval").body)
    return found


def collaborators(node: ast.ClassDef, ours: set[str]) -> set[str]:
    """The system's classes a class is given: its `__init__` parameters and its annotated
    fields (a dataclass's), where the annotation names one of sayfile's own classes."""
    annotations: list[ast.expr | None] = []
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            arguments = item.args.args[1:] + item.args.kwonlyargs
            annotations += [argument.annotation for argument in arguments]
        elif isinstance(item, ast.AnnAssign):
            annotations.append(item.annotation)
    return {name for a in annotations for name in _names(a) & ours} - _VALUES


def test_no_module_is_over_the_line_limit() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in _modules()
        if (n := len(path.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_class_holds_more_than_six_collaborators() -> None:
    ours = _classes_defined()
    crowded = {
        f"{path.relative_to(PACKAGE)}:{node.name}": sorted(found)
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.ClassDef)
        and len(found := collaborators(node, ours)) > MAX_COLLABORATORS
    }
    assert crowded == {}


def test_the_check_sees_a_crowded_class() -> None:
    source = (
        "class Hub:\n    def __init__(self, "
        + ", ".join(f"p{i}: Part{i}" for i in range(7))
        + ") -> None: ...\n"
    )
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ClassDef)
    assert len(collaborators(node, {f"Part{i}" for i in range(7)})) == 7


def test_every_folder_says_what_it_owns_and_may_import() -> None:
    folders = sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert {p.name for p in folders} >= {"api", "audio", "books", "engines", "jobs", "queue"}
    silent = [
        p.name
        for p in folders
        if "May import" not in (ast.get_docstring(ast.parse((p / "__init__.py").read_text())) or "")
    ]
    assert silent == []
