"""Test doubles for the adapters: a scripted runner that records every argv it is given."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ollama_sync.errors import CommandError
from ollama_sync.system.runner import Completed

Response = Completed | Callable[[tuple[str, ...]], Completed]


def completed(argv: Sequence[str], rc: int = 0, stdout: str = "", stderr: str = "") -> Completed:
    """A Completed for argv."""
    return Completed(tuple(argv), rc, stdout, stderr)


def recorded(argv: Sequence[str], rc: int, fixture: Path, *, stream: str = "stderr") -> Completed:
    """A Completed whose stdout or stderr is a recorded real output file."""
    text = fixture.read_text()
    return Completed(tuple(argv), rc, text if stream == "stdout" else "", text if stream == "stderr" else "")


@dataclass
class FakeRunner:
    """Answers each argv from a script (a queue per argv, the last answer repeating); records calls."""

    script: dict[tuple[str, ...], list[Response]] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, argv: Sequence[str], *responses: Response) -> None:
        """Queue responses for argv."""
        self.script.setdefault(tuple(argv), []).extend(responses)

    def run(self, argv: Sequence[str], *, ok_codes: Sequence[int] | None = (0,), timeout: float | None = 30.0,
            input_text: str | None = None, env: Mapping[str, str] | None = None) -> Completed:
        """Answer from the script; an unscripted argv fails the test."""
        key = tuple(str(a) for a in argv)
        self.calls.append(key)
        queue = self.script.get(key)
        if not queue:
            raise AssertionError(f"unexpected command: {key}")
        response = queue.pop(0) if len(queue) > 1 else queue[0]
        done = response(key) if callable(response) else response
        if ok_codes is not None and done.returncode not in ok_codes:
            raise CommandError(key, done.returncode, done.stdout, done.stderr)
        return done
