"""The adapters a use case needs, built once from the global options; tests build it with fakes."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from ollama_sync.core.target import Machine
from ollama_sync.system.files import Files

if TYPE_CHECKING:
    from ollama_sync.system.runner import Completed, Runner


class LazySubprocessRunner:
    """The real runner, imported on first use: read-only commands such as `plan` never start a process."""

    def run(self, argv: Sequence[str], *, ok_codes: Sequence[int] | None = (0,), timeout: float | None = 30.0,
            input_text: str | None = None, env: Mapping[str, str] | None = None) -> Completed:
        """SubprocessRunner.run."""
        from ollama_sync.system.runner import SubprocessRunner  # noqa: PLC0415

        return SubprocessRunner().run(argv, ok_codes=ok_codes, timeout=timeout, input_text=input_text, env=env)


# NamedTuples and a plain class rather than dataclasses here and in the other per-command results on the
# `plan` path: on Python 3.11 each frozen dataclass costs ~1 ms of start-up (bench/bench_startup.py).
class GlobalOptions(NamedTuple):
    """The options every command takes."""

    config: str | None = None
    root: str | None = None
    json: bool = False
    debug: bool = False
    eval_mode: str | None = None  # "static" | "nix": how to read a .nix declaration (overrides the config)


class Context:
    """Global options plus the adapters; each adapter is created on first use."""

    def __init__(self, options: GlobalOptions | None = None, *, environ: Mapping[str, str] | None = None,
                 runner: Runner | None = None, machine_override: Machine | None = None) -> None:
        self.options = options or GlobalOptions()
        self.environ: Mapping[str, str] = dict(os.environ) if environ is None else environ
        self.runner: Runner = runner or LazySubprocessRunner()
        self.machine_override = machine_override

    @cached_property
    def files(self) -> Files:
        """Machine paths (service files, state, logs), placed under --root when given."""
        return Files(self.options.root)

    @cached_property
    def user_files(self) -> Files:
        """Paths the user names (config, declaration sources): read as given, relative to the cwd.

        Writes follow a symlinked file to its target (a declaration kept in a dotfiles repository).
        """
        return Files(None, follow_symlinks=True)

    @cached_property
    def machine(self) -> Machine:
        """This machine's facts."""
        if self.machine_override is not None:
            return self.machine_override
        from ollama_sync.system.machine import read_machine  # noqa: PLC0415  # platform probing is lazy

        return read_machine(self.environ)

    @property
    def sandboxed(self) -> bool:
        """True under --root: nothing outside the root is touched, no service manager is asked."""
        return self.options.root is not None
