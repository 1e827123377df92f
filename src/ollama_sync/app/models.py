"""Declared models: compare the declaration's `models` with `/api/tags`, pull the missing ones, prune extras.

`sync_models` is what `ollama-sync models sync` runs, and what `apply` runs after a successful apply.
Pulls go through the server (it downloads from the registry), one model at a time, each retried a
bounded number of times with exponential backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from ollama_sync.app.context import Context
from ollama_sync.core.environment import render_environment
from ollama_sync.core.hostport import parse_host
from ollama_sync.core.models import ModelDiff, compare_models, is_prunable
from ollama_sync.core.settings import Declaration
from ollama_sync.errors import Unsupported, UsageError
from ollama_sync.system.models import ModelClient, OllamaModelClient, Progress, PullFailed
from ollama_sync.system.ollama_api import OllamaApi, base_url

ATTEMPTS: Final = 3
BACKOFF: Final = 2.0  # seconds before the second attempt; doubled for each further one
_REGISTRY_WORDS: Final = ("registry", "dial tcp", "no such host", "i/o timeout", "tls:", "connection reset",
                          "network is unreachable", "proxyconnect")


class HasDeclaration(Protocol):
    """A loaded or prepared declaration (app.declaration.Loaded, app.prepare.Prepared)."""

    @property
    def declaration(self) -> Declaration:
        """The declaration."""
        ...


class PullReporter(Protocol):
    """Where pull progress goes (a progress bar per model on a terminal, plain lines otherwise)."""

    def started(self, name: str, attempt: int) -> None:
        """A pull attempt began."""
        ...

    def advanced(self, name: str, progress: Progress) -> None:
        """A progress line arrived."""
        ...

    def finished(self, name: str, error: str | None) -> None:
        """The attempt ended: error is None on success."""
        ...


class SilentReporter:
    """Reports nothing (for callers without output)."""

    def started(self, name: str, attempt: int) -> None:
        """Nothing."""

    def advanced(self, name: str, progress: Progress) -> None:
        """Nothing."""

    def finished(self, name: str, error: str | None) -> None:
        """Nothing."""


@dataclass(frozen=True)
class PullOutcome:
    """One declared model's pull: how many attempts it took, and the last error if it never finished."""

    name: str
    attempts: int
    error: str | None = None
    hint: str | None = None

    @property
    def ok(self) -> bool:
        """True when the model was pulled."""
        return self.error is None


@dataclass(frozen=True)
class ModelsResult:
    """What sync found and did."""

    url: str
    diff: ModelDiff
    pulled: tuple[PullOutcome, ...]
    removed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every missing model was pulled."""
        return all(p.ok for p in self.pulled)


@dataclass(frozen=True)
class SyncOptions:
    """How to sync: prune extras (after confirm says yes), attempts and backoff."""

    prune: bool = False
    confirm: Callable[[tuple[str, ...]], bool] = lambda names: False
    attempts: int = ATTEMPTS
    backoff: float = BACKOFF
    sleep: Callable[[float], None] = time.sleep


def server_url(decl: Declaration) -> str:
    """The URL a client uses for the declared listen address."""
    return base_url(parse_host(render_environment(decl.settings).get("OLLAMA_HOST", "")))


def sync_models(ctx: Context, prepared: HasDeclaration, *, options: SyncOptions | None = None,
                reporter: PullReporter | None = None, client: ModelClient | None = None) -> ModelsResult:
    """Pull the declared models the server lacks; with options.prune, remove the undeclared ones once confirmed."""
    if ctx.sandboxed:
        raise Unsupported("models sync talks to the running server; it does not run under --root",
                          hint="run it without --root")
    opts = options or SyncOptions()
    decl = prepared.declaration
    url = server_url(decl)
    if opts.prune and not decl.settings.models:
        raise UsageError("no models are declared; refusing to prune every installed model",
                         hint='declare models = ["…"] first, or run without --prune')
    tags = OllamaApi(url, timeout=5.0).tags()
    diff = compare_models(decl.settings.models, (m.get("name", "") for m in tags),
                          keep=(m.get("name", "") for m in tags if not is_prunable(m)))
    models = client or OllamaModelClient(url)
    out = reporter or SilentReporter()
    pulled = tuple(pull_with_retries(models, name, out, opts) for name in diff.missing)
    removed = _prune(models, diff.extra, opts) if opts.prune and diff.extra else ()
    return ModelsResult(url, diff, pulled, removed)


def sync_after_apply(ctx: Context, prepared: HasDeclaration, *, reporter: PullReporter | None = None
                     ) -> ModelsResult | None:
    """After a successful apply: pull the declared models (None: none declared, service disabled, or --root)."""
    settings = prepared.declaration.settings
    if ctx.sandboxed or not settings.models or not settings.enable:
        return None
    return sync_models(ctx, prepared, reporter=reporter)


def pull_with_retries(client: ModelClient, name: str, reporter: PullReporter, opts: SyncOptions) -> PullOutcome:
    """Pull one model, retrying a failed attempt after a growing pause; Unreachable is not retried."""
    error = ""
    for attempt in range(1, opts.attempts + 1):
        reporter.started(name, attempt)
        try:
            for progress in client.pull(name):
                reporter.advanced(name, progress)
        except PullFailed as exc:
            error = exc.message
            reporter.finished(name, error)
            if attempt < opts.attempts:
                opts.sleep(opts.backoff * 2 ** (attempt - 1))
            continue
        reporter.finished(name, None)
        return PullOutcome(name, attempt)
    return PullOutcome(name, opts.attempts, error, _hint(error))


def _hint(error: str) -> str:
    lowered = error.lower()
    if any(word in lowered for word in _REGISTRY_WORDS):
        return ("the Ollama server could not reach the model registry: check this machine's network; behind a "
                "proxy, declare HTTPS_PROXY in the environment table (the server downloads, not ollama-sync)")
    if "not found" in lowered or "does not exist" in lowered:
        return "check the model's name and tag at https://ollama.com/library"
    return "run `ollama-sync models sync` again; the server's log may say more (ollama-sync status)"


def _prune(client: ModelClient, extra: Iterable[str], opts: SyncOptions) -> tuple[str, ...]:
    names = tuple(extra)
    if not opts.confirm(names):
        return ()
    for name in names:
        client.delete(name)
    return names
