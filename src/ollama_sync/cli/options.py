"""Options shared by several commands."""

from __future__ import annotations

import click

backend_option = click.option(
    "--backend", type=click.Choice(["launchd", "systemd", "supervisord"]), default=None,
    help="Render for this service manager instead of the configured or detected one.")

version_option = click.option(
    "--ollama-version", "version_text", metavar="X.Y.Z", default=None,
    help="Judge settings against this Ollama release instead of the installed one.")
