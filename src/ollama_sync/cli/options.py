"""Options shared by several commands, and the parameter types that validate them."""

from __future__ import annotations

import math
from typing import Any, Final

import click

MAX_SECONDS: Final = 7 * 24 * 3600.0  # a week: anything longer is a typo, and float('inf') never ends


class Seconds(click.ParamType[float]):
    """A finite number of seconds within [minimum, MAX_SECONDS]; nan, inf and negatives are refused."""

    name = "seconds"

    def __init__(self, minimum: float) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        """The value (text, or a default) as float seconds, or a usage error naming the option."""
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or not self.minimum <= seconds <= MAX_SECONDS:
            self.fail(f"{value} is not a number of seconds from {self.minimum:g} to {MAX_SECONDS:g}", param, ctx)
        return seconds


backend_option = click.option(
    "--backend", type=click.Choice(["launchd", "systemd", "supervisord"]), default=None,
    help="Render for this service manager instead of the configured or detected one.")

version_option = click.option(
    "--ollama-version", "version_text", metavar="X.Y.Z", default=None,
    help="Judge settings against this Ollama release instead of the installed one.")
