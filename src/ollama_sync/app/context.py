"""The adapters a use case needs, built once from the global options; tests build it with fakes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from ollama_sync.core.target import Machine
from ollama_sync.system.files import Files
from ollama_sync.system.machine import read_machine
from ollama_sync.system.runner import Runner, SubprocessRunner


@dataclass(frozen=True)
class GlobalOptions:
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
        self.runner: Runner = runner or SubprocessRunner()
        self.machine_override = machine_override

    @cached_property
    def files(self) -> Files:
        """Machine paths (service files, state, logs), placed under --root when given."""
        return Files(self.options.root)

    @cached_property
    def user_files(self) -> Files:
        """Paths the user names (config, declaration sources): read as given, relative to the cwd.

        Writes follow a symlinked file to its target (a declaration kept in a dotfiles repository). Under
        --root, writes (`set`, `unset`, `import --output`) go to a copy inside the root, which is then read.
        """
        return Files(None, follow_symlinks=True, overlay=self.options.root)

    @cached_property
    def machine(self) -> Machine:
        """This machine's facts."""
        if self.machine_override is not None:
            return self.machine_override

        return read_machine(self.environ)

    @property
    def sandboxed(self) -> bool:
        """True under --root: nothing outside the root is touched, no service manager is asked."""
        return self.options.root is not None
