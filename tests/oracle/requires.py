"""What the oracle tier needs: llama-cpp-python built by `make oracle` (with libmtmd and the RPC backend).

Without it a test is skipped on a developer's machine and fails in CI (`CI=true`), naming the command that builds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import pytest

from tests.conftest import IN_CI


def require_llama_cpp(library: str = "", what: str = "") -> None:
    """llama-cpp-python, and when named one of its shared libraries (`libmtmd`, `libggml-rpc`) described as `what`."""
    try:
        import llama_cpp  # noqa: PLC0415  # the oracle extra: absent outside `make oracle`
    except ImportError:
        _missing("llama-cpp-python is not installed")
    if library and not (Path(llama_cpp.__file__).parent / "lib" / f"{library}.so.0").exists():
        _missing(f"llama-cpp-python was built without {what or library}")


def _missing(why: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{why}: CI needs it (.ci/run runs `make oracle`)")
    pytest.skip(f"{why} (run `make oracle`)")
