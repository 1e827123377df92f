"""Processes the tests start: a Ctrl-C that works whatever the test runner inherited, output read with a
deadline, and a stop that always ends the process (by pid) when it does not end by itself."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

# The CLI with Python's own Ctrl-C handler installed explicitly: a test runner started as a background
# job inherits SIGINT ignored, and a child that inherits that would never see the test's Ctrl-C.
CLI_WITH_CTRL_C = [sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
                   " from ollama_sync.cli import main; main()"]


class Lines:
    """A text pipe's lines, collected by a thread as they arrive."""

    def __init__(self, pipe: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            self.lines.append(line)

    def wait_for(self, wanted: Callable[[str], bool], timeout: float = 30.0) -> str:
        """The first line for which wanted is true, waiting at most timeout seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((line for line in list(self.lines) if wanted(line)), None)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(f"no such line within {timeout} s; got {self.lines!r}")
            time.sleep(0.02)

    @property
    def text(self) -> str:
        """Everything read so far."""
        return "".join(self.lines)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "the condition") -> None:
    """Poll condition until it holds; AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(0.02)


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGINT, timeout: float = 15.0) -> int:
    """Send sig and wait; SIGKILL by pid when it has not ended within timeout. The exit status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    return proc.returncode
