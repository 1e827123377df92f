"""Settings → the environment `ollama serve` is started with (the seed document's mapping table)."""

from __future__ import annotations

from ollama_sync.core.hostport import split_host_port
from ollama_sync.core.settings import DEFAULT_PORT, OllamaSettings


def format_host(host: str | None, port: int | None) -> str | None:
    """host and port as one OLLAMA_HOST value ("0.0.0.0:11434", "[::1]:11434"); None when neither is set.

    A host written with its own port ("0.0.0.0:11434") or as a URL is kept as written when no port is set.
    """
    if host is None and port is None:
        return None
    name = host if host is not None else "127.0.0.1"
    if "://" in name:  # a URL: kept as written; the port goes in only if one is set
        return name if port is None else f"{name.rstrip('/')}:{port}"
    if port is None and split_host_port(name) is not None:
        return name  # already host:port
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # a bare IPv6 address
    return f"{name}:{port if port is not None else DEFAULT_PORT}"


def render_environment(settings: OllamaSettings) -> dict[str, str]:
    """The variables to pass to the server, sorted by name; declared settings first, the free table verbatim.

    A variable set both by a setting and in the free table takes the setting's value here; validation
    reports the clash (code `duplicate-variable`).
    """
    env = dict(settings.environment)
    derived: dict[str, str | None] = {
        "OLLAMA_HOST": format_host(settings.host, settings.port),
        "OLLAMA_MODELS": settings.models_path,
        "OLLAMA_FLASH_ATTENTION": None if settings.flash_attention is None else
        ("1" if settings.flash_attention else "0"),
        "OLLAMA_KV_CACHE_TYPE": settings.kv_cache_type,
        "OLLAMA_CONTEXT_LENGTH": _num(settings.context_length),
        "OLLAMA_NUM_PARALLEL": _num(settings.num_parallel),
        "OLLAMA_KEEP_ALIVE": settings.keep_alive,
        "OLLAMA_ORIGINS": None if settings.origins is None else ",".join(settings.origins),
        "OLLAMA_MAX_LOADED_MODELS": _num(settings.max_loaded_models),
    }
    env.update({k: v for k, v in derived.items() if v is not None})
    return dict(sorted(env.items()))


def _num(value: int | None) -> str | None:
    return None if value is None else str(value)


def duplicated_variables(settings: OllamaSettings) -> tuple[str, ...]:
    """Variables set both by a named setting and in the free environment table."""
    free = settings.environment_dict()
    bare = OllamaSettings(environment=(), **{
        k: getattr(settings, k) for k in ("host", "port", "models_path", "flash_attention", "kv_cache_type",
                                          "context_length", "num_parallel", "keep_alive", "origins",
                                          "max_loaded_models")})
    return tuple(sorted(set(free) & set(render_environment(bare))))
