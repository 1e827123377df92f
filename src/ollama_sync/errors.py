"""The errors ollama-sync shows to users: one base class, caught once by the CLI.

    OllamaSyncError              exit 1  an expected failure; message shown without a traceback
    ├── ConfigError              exit 2  unreadable or invalid configuration (names file:line and the fix)
    │   └── UsageError           exit 2  a command-line mistake the option parser could not catch
    ├── CommandError             exit 1  a subprocess failed: argv, exit status, stdout, stderr
    ├── Unreachable              exit 1  the server's API did not answer
    ├── Unsupported              exit 2  a backend or feature not available here
    ├── LockTimeout              exit 1  another apply holds the lock
    └── StateError               exit 1  the state directory is unusable or untrusted (owner, mode, journal)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_sync.core.findings import Location


class OllamaSyncError(Exception):
    """An expected failure: its message is shown to the user as it is, without a traceback."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The text shown to the user: the message, then the hint on its own line."""
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(OllamaSyncError):
    """The configuration or declaration cannot be read or is invalid (exit 2)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        hint: str | None = None,
        excerpt: str | None = None,
    ) -> None:
        text = f"{location}: {message}" if location else message
        super().__init__(text, hint=hint)
        self.location = location
        self.excerpt = excerpt

    def render(self) -> str:
        """file:line: message, then the source line with a caret, then the hint."""
        lines = [self.message]
        if self.excerpt is not None:
            lines.append(f"  | {self.excerpt}")
            if self.location is not None and self.location.col is not None:
                lines.append("  | " + " " * (self.location.col - 1) + "^")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class UsageError(ConfigError):
    """A command-line mistake (exit 2)."""


class CommandError(OllamaSyncError):
    """A subprocess exited with a status its caller did not expect."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        detail = (stderr or stdout).strip()
        message = f"command failed with exit status {returncode}: {' '.join(self.argv)}"
        if detail:
            message += "\n" + "\n".join(f"  {line}" for line in detail.splitlines()[-10:])
        super().__init__(message)


class Unreachable(OllamaSyncError):
    """The Ollama server's API did not answer at an address."""


class Unsupported(OllamaSyncError):
    """A backend, platform or feature that is not available here (exit 2)."""

    exit_code = 2


class LockTimeout(OllamaSyncError):
    """Another ollama-sync process holds the state lock."""


class StateError(OllamaSyncError):
    """ollama-sync's state directory cannot be used or trusted (its owner or mode, a planted journal, a full disk)."""
