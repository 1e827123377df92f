"""The layering rules, checked on the source: core is pure, subprocess lives in the runner, imports point inward."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "ollama_sync"

# What the pure core may import: the standard library's pure modules, tree-sitter, and itself.
FORBIDDEN_IN_CORE = {
    "subprocess", "socket", "urllib", "http", "os", "shutil", "tempfile", "pathlib", "time", "datetime",
    "platform", "getpass", "psutil", "filelock", "platformdirs", "requests", "httpx", "ollama", "gguf",
    "click", "rich", "watchfiles", "threading", "signal", "asyncio", "glob", "io",
}


def modules(folder: str) -> Iterator[Path]:
    yield from sorted((PACKAGE / folder).rglob("*.py"))


def imported(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def calls(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            yield "open", node.lineno


@pytest.mark.parametrize("path", list(modules("core")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_is_pure(path: Path) -> None:
    bad = [(name, line) for name, line in imported(path)
           if name.split(".")[0] in FORBIDDEN_IN_CORE
           or name.startswith(("ollama_sync.system", "ollama_sync.app", "ollama_sync.cli"))]
    bad += list(calls(path))
    assert not bad, f"{path.name} imports or calls I/O: {bad}"


def test_only_the_runner_starts_subprocesses() -> None:
    users = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
             if any(name == "subprocess" for name, _ in imported(p))]
    assert users == ["system/runner.py"]


@pytest.mark.parametrize("layer,forbidden", [
    ("system", ("ollama_sync.app", "ollama_sync.cli")),
    ("app", ("ollama_sync.cli",)),
])
def test_imports_point_inward(layer: str, forbidden: tuple[str, ...]) -> None:
    bad = [(str(p.relative_to(PACKAGE)), name, line) for p in modules(layer) for name, line in imported(p)
           if name.startswith(forbidden)]
    assert not bad, bad


def test_no_grab_bag_modules() -> None:
    names = {p.stem for p in PACKAGE.rglob("*.py")}
    assert not names & {"utils", "util", "common", "helpers", "misc"}


@pytest.mark.parametrize("layer", ["core", "system", "app", "cli"])
def test_module_names_are_unique_within_a_layer(layer: str) -> None:
    stems = [p.stem for p in modules(layer) if p.stem != "__init__"]
    assert sorted(stems) == sorted(set(stems)), f"two {layer} modules share a name: {stems}"


def test_src_imports_no_package_users_do_not_install() -> None:
    not_installed = {"gguf", "hypothesis", "pytest", "supervisor", "platformdirs"}  # test extra, or dropped
    bad = [(str(p.relative_to(PACKAGE)), name) for p in PACKAGE.rglob("*.py") for name, _ in imported(p)
           if name.split(".")[0] in not_installed]
    assert not bad, bad


def test_no_test_hooks_in_the_shipped_code() -> None:
    hooked = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "OLLAMA_SYNC_TEST" in p.read_text()]
    assert not hooked, hooked


def test_every_function_level_import_says_why() -> None:
    """A function-level import is kept only for a measured cost or an import cycle, written next to it."""
    bare = [f"{p.relative_to(PACKAGE)}:{n}" for p in PACKAGE.rglob("*.py")
            for n, line in enumerate(p.read_text().splitlines(), 1)
            if "noqa: PLC0415" in line and not line.split("noqa: PLC0415", 1)[1].strip(" #")]
    assert not bare, f"say why (cost in ms, or the cycle) after `# noqa: PLC0415  #`: {bare}"
