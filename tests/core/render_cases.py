"""Declarations and targets the renderer tests share: the reference setup on each backend and scope."""

from __future__ import annotations

from dataclasses import replace

from ollama_sync.core.environment import render_environment
from ollama_sync.core.render import Rendered, render
from ollama_sync.core.settings import Backend, Declaration, OllamaSettings, Scope
from ollama_sync.core.target import Target

SOURCE = "/Users/jeridf/.config/ollama-sync/config.toml"

# The reference setup, plus free-table values that exercise quoting in every format.
REFERENCE = OllamaSettings(
    host="0.0.0.0", port=11434, models_path="/Users/jeridf/.ollama/models", flash_attention=True,
    kv_cache_type="q8_0",
    environment=(("OLLAMA_NUM_PARALLEL", "4"), ("OLLAMA_ORIGINS", "app://*, https://x.test/a b"),
                 ("HTTPS_PROXY", "http://user:p%40ss@proxy:3128"), ("NOTE", "it's 100% \\ $HOME & <ok>")),
)

TARGETS: dict[str, Target] = {
    "launchd-agent": Target(Backend.LAUNCHD, "/Users/jeridf/Library/LaunchAgents/com.github.ollama.plist",
                            "com.github.ollama", "/opt/homebrew/bin/ollama", Scope.USER,
                            "/Users/jeridf/Library/Logs/ollama-sync/com.github.ollama.log"),
    "launchd-daemon": Target(Backend.LAUNCHD, "/Library/LaunchDaemons/com.github.ollama.plist",
                             "com.github.ollama", "/opt/homebrew/bin/ollama", Scope.SYSTEM,
                             "/Library/Logs/ollama-sync/com.github.ollama.log", user="_ollama"),
    "systemd-user": Target(Backend.SYSTEMD, "/home/alice/.config/systemd/user/ollama.service", "ollama",
                           "/usr/local/bin/ollama", Scope.USER, None),
    "systemd-system": Target(Backend.SYSTEMD, "/etc/systemd/system/ollama.service", "ollama",
                             "/usr/local/bin/ollama", Scope.SYSTEM, "/var/log/ollama/ollama.log", user="ollama"),
    "systemd-dropin": Target(Backend.SYSTEMD, "/etc/systemd/system/ollama.service.d/ollama-sync.conf", "ollama",
                             "/usr/local/bin/ollama", Scope.SYSTEM, None, dropin=True, user="ollama"),
    "supervisord": Target(Backend.SUPERVISORD, "/etc/supervisor/conf.d/ollama.conf", "ollama",
                          "/usr/local/bin/ollama", Scope.SYSTEM, "/var/log/ollama/ollama.log", user="ollama"),
}

GOLDEN_NAMES = {
    "launchd-agent": "launchd-agent.plist",
    "launchd-daemon": "launchd-daemon.plist",
    "systemd-user": "systemd-user.service",
    "systemd-system": "systemd-system.service",
    "systemd-dropin": "systemd-dropin.conf",
    "supervisord": "supervisord-program.conf",
}


def declaration(settings: OllamaSettings = REFERENCE, *, env: dict[str, str] | None = None) -> Declaration:
    """A declaration of settings, with env (when given) as the whole free table."""
    if env is not None:
        settings = replace(settings, environment=tuple(sorted(env.items())))
    return Declaration(settings=settings, source=SOURCE)


def expected_env(decl: Declaration) -> dict[str, str]:
    """The environment the rendered file must carry."""
    return render_environment(decl.settings)


def render_with(target: Target, env: dict[str, str], **changes: object) -> Rendered:
    """Render just env (no named settings) for target, optionally with changed target fields."""
    return render(declaration(OllamaSettings(), env=env), replace(target, **changes))  # type: ignore[arg-type]
