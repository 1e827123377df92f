"""Options shared by several commands."""

from __future__ import annotations

import math
from typing import Any

import click

backend_option = click.option(
    "--backend", type=click.Choice(["launchd", "systemd", "supervisord"]), default=None,
    help="Render for this service manager instead of the configured or detected one.")

version_option = click.option(
    "--ollama-version", "version_text", metavar="X.Y.Z", default=None,
    help="Judge settings against this Ollama release instead of the installed one.")


class Seconds(click.FloatRange):
    """A finite number of seconds in a range (click's FloatRange lets `nan` and `inf` through)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The float, or a usage error naming the option."""
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!s} is not a finite number of seconds", param, ctx)
        return number


lock_timeout_option = click.option(
    "--lock-timeout", type=Seconds(min=0), default=30.0, show_default=True, metavar="SECONDS",
    help="How long to wait for another apply to finish.")
