"""The one place ollama-sync starts a subprocess: an argv list in, a typed result out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ollama_sync.errors import CommandError, Unsupported


@dataclass(frozen=True)
class Completed:
    """A finished command: argv, exit status and both streams as text."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout then stderr, for parsers that read whatever the tool printed."""
        return self.stdout + self.stderr


class Runner(Protocol):
    """Runs commands; the seam every adapter takes, so tests can script outputs and assert argv."""

    def run(
        self,
        argv: Sequence[str],
        *,
        ok_codes: Sequence[int] | None = (0,),
        timeout: float | None = 30.0,
        input_text: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Completed:
        """Run argv; raise CommandError when the status is not in ok_codes (None accepts any status)."""
        ...


class SubprocessRunner:
    """The real runner: `subprocess.run` with an argv list, never a shell string."""

    def run(
        self,
        argv: Sequence[str],
        *,
        ok_codes: Sequence[int] | None = (0,),
        timeout: float | None = 30.0,
        input_text: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Completed:
        """Run argv to completion; a missing program is Unsupported, a timeout a CommandError."""
        import subprocess  # noqa: PLC0415  # imported on first use: most commands run nothing

        args = [str(a) for a in argv]
        try:
            proc = subprocess.run(  # argv list, no shell
                args, capture_output=True, text=True, timeout=timeout, input=input_text,
                env=None if env is None else dict(env), check=False,
                stdin=None if input_text is not None else subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise Unsupported(f"{args[0]}: command not found", hint=f"install {args[0]} or put it on PATH") from None
        except subprocess.TimeoutExpired as exc:
            raise CommandError(args, -1, _text(exc.stdout), f"timed out after {timeout} s") from None
        done = Completed(tuple(args), proc.returncode, proc.stdout, proc.stderr)
        if ok_codes is not None and done.returncode not in ok_codes:
            raise CommandError(args, done.returncode, done.stdout, done.stderr)
        return done


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")
