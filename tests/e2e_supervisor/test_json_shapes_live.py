"""The `--json` shapes of the commands that need a live service: verify, and apply with a real restart."""

from __future__ import annotations

import json

import pytest

from ollama_sync.cli import json_shapes as shapes
from tests.cli.test_json_shapes import assert_shape
from tests.e2e_supervisor.conftest import Setup

pytestmark = pytest.mark.slow


def test_apply_and_verify_documents(setup: Setup) -> None:
    rc, applied = setup.apply_json()
    assert rc == 0 and applied["outcome"]["attempt"]["ok"] is True
    assert_shape(applied, "apply", shapes.ApplyDoc)
    done = setup.run("--json", "verify")
    assert done.returncode == 0, done.stderr
    verified = json.loads(done.stdout)
    assert verified["ok"] is True and verified["pid"] == setup.pid()
    assert_shape(verified, "verify", shapes.VerifyDoc)
