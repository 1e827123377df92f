"""Every variable `ollama serve` reads, by release: parser kind, default, allowed values, lifetime.

Facts from ollama/ollama `envconfig/config.go` and `git grep` of each release tag (see
shared/reference/ollama-server-facts.md §1); "since" is the first release that reads a variable,
"removed" the first that no longer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ollama_sync.core.version import Version, v

FIRST_RELEASE: Final = Version(0, 0, 1)
NEWEST: Final = v("0.33.0")  # the newest release the catalog was checked against (v0.33.0-rc2 source)


class VarKind(StrEnum):
    """How the server parses a variable's value (envconfig)."""

    BOOL = "bool"  # strconv.ParseBool; any other non-empty string is TRUE
    UINT = "uint"  # strconv.ParseUint base 10; invalid → warning + default
    DURATION = "duration"  # time.ParseDuration, else integer seconds; invalid → default, silently
    HOST = "host"  # envconfig.Host: scheme, host, port
    PATH = "path"
    LIST = "list"  # comma-separated
    ENUM = "enum"
    LOGLEVEL = "loglevel"  # OLLAMA_DEBUG: bool, or integer level
    STRING = "string"


class Reader(StrEnum):
    """Who reads a variable."""

    SERVER = "server"
    CLIENT = "client"  # the `ollama` CLI or API client only
    APP = "app"  # the desktop app only


@dataclass(frozen=True)
class Variable:
    """One environment variable and how each release treats it."""

    name: str
    kind: VarKind
    default: str
    doc: str
    since: Version = FIRST_RELEASE
    removed: Version | None = None
    allowed: tuple[str, ...] = ()
    reader: Reader = Reader.SERVER

    def is_read_by(self, version: Version) -> bool:
        """True when this release's server reads the variable."""
        if self.reader is not Reader.SERVER or version < self.since:
            return False
        return self.removed is None or version < self.removed


def _srv(name: str, kind: VarKind, default: str, doc: str, since: str,  # noqa: PLR0917  # table rows
         removed: str | None = None, allowed: tuple[str, ...] = ()) -> Variable:
    return Variable(name, kind, default, doc, v(since), None if removed is None else v(removed), allowed)


def _cli(name: str, doc: str, reader: Reader = Reader.CLIENT) -> Variable:
    return Variable(name, VarKind.STRING, "", doc, reader=reader)


KV_CACHE_TYPES_CLASSIC: Final = ("f16", "q8_0", "q4_0")  # v0.5.0 – v0.24.x
KV_CACHE_TYPES_LLAMA_SERVER: Final = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")
LLAMA_SERVER_ERA: Final = v("0.30.0")

CATALOG: Final[tuple[Variable, ...]] = (
    _srv("OLLAMA_HOST", VarKind.HOST, "http://127.0.0.1:11434", "address and port the server listens on", "0.0.1"),
    _srv("OLLAMA_PORT", VarKind.UINT, "11434", "port (before host:port in OLLAMA_HOST)", "0.0.1", "0.0.20"),
    _srv("OLLAMA_ORIGINS", VarKind.LIST, "", "extra allowed CORS origins, comma-separated", "0.0.14"),
    _srv("OLLAMA_MODELS", VarKind.PATH, "~/.ollama/models", "where models are stored", "0.1.6"),
    _srv("OLLAMA_KEEP_ALIVE", VarKind.DURATION, "5m0s", "how long a model stays loaded after use", "0.1.29"),
    _srv("OLLAMA_LOAD_TIMEOUT", VarKind.DURATION, "5m0s", "stall timeout while loading a model", "0.3.10"),
    _srv("OLLAMA_DEBUG", VarKind.LOGLEVEL, "INFO", "log level: 1 debug, 2 trace", "0.1.21"),
    _srv("OLLAMA_FLASH_ATTENTION", VarKind.BOOL, "", "flash attention (unset: the model's default)", "0.1.39"),
    _srv("OLLAMA_KV_CACHE_TYPE", VarKind.ENUM, "f16", "KV cache quantization", "0.5.0",
         allowed=KV_CACHE_TYPES_CLASSIC),
    _srv("OLLAMA_CONTEXT_LENGTH", VarKind.UINT, "4096", "default context length per request", "0.5.13"),
    _srv("OLLAMA_NUM_PARALLEL", VarKind.UINT, "1", "parallel requests per loaded model", "0.1.33"),
    _srv("OLLAMA_MAX_LOADED_MODELS", VarKind.UINT, "0", "models loaded at once (0: 3 per GPU)", "0.1.33"),
    _srv("OLLAMA_MAX_QUEUE", VarKind.UINT, "512", "queued requests before 503", "0.1.34"),
    _srv("OLLAMA_MAX_TRANSFER_STREAMS", VarKind.UINT, "4", "pull/push concurrency (safetensors)", "0.23.3"),
    _srv("OLLAMA_GPU_OVERHEAD", VarKind.UINT, "0", "VRAM bytes reserved per GPU", "0.3.10"),
    _srv("OLLAMA_SCHED_SPREAD", VarKind.BOOL, "false", "always spread a model over all GPUs", "0.1.45"),
    _srv("OLLAMA_NOPRUNE", VarKind.BOOL, "false", "do not prune unused blobs at start", "0.0.19"),
    _srv("OLLAMA_LLM_LIBRARY", VarKind.STRING, "", "force a backend library (cpu, cuda_v12, …)", "0.1.21"),
    _srv("OLLAMA_VULKAN", VarKind.BOOL, "true", "Vulkan GPU support", "0.12.11"),
    _srv("OLLAMA_IGPU_ENABLE", VarKind.BOOL, "", "allow integrated GPUs", "0.30.0"),
    _srv("OLLAMA_GO_TEMPLATE", VarKind.BOOL, "true", "Go TEMPLATE rendering of Modelfiles", "0.30.0"),
    _srv("OLLAMA_DEBUG_LOG_REQUESTS", VarKind.BOOL, "false", "dump request bodies to a temp dir", "0.18.3"),
    _srv("OLLAMA_NO_CLOUD", VarKind.BOOL, "false", "disable Ollama cloud features", "0.16.2"),
    _srv("OLLAMA_REMOTES", VarKind.LIST, "ollama.com", "hosts allowed for remote models", "0.12.0"),
    _srv("OLLAMA_EXPERIMENT", VarKind.LIST, "", "experiments (client2 is gone)", "0.6.0"),
    _srv("OLLAMA_CLOUD_BASE_URL", VarKind.STRING, "", "cloud proxy base URL", "0.18.0"),
    _srv("OLLAMA_MAX_VRAM", VarKind.UINT, "0", "VRAM cap in bytes (effective only up to 0.2.7)", "0.1.29", "0.7.0"),
    _srv("OLLAMA_TMPDIR", VarKind.PATH, "", "runner payload dir", "0.1.32", "0.6.6"),
    _srv("OLLAMA_RUNNERS_DIR", VarKind.PATH, "", "runner dir", "0.1.33", "0.3.11"),
    _srv("OLLAMA_INTEL_GPU", VarKind.BOOL, "false", "experimental oneAPI detection", "0.1.45", "0.12.11"),
    _srv("OLLAMA_MULTIUSER_CACHE", VarKind.BOOL, "false", "prompt cache for many users", "0.3.13", "0.30.0"),
    _srv("OLLAMA_NEW_ENGINE", VarKind.BOOL, "false", "run every model on the Ollama engine", "0.5.12", "0.30.0"),
    _srv("OLLAMA_NEW_ESTIMATES", VarKind.BOOL, "false", "new memory estimates (became default)", "0.11.5",
         "0.11.11"),
    _srv("OLLAMA_REGISTRY_MAXSTREAMS", VarKind.UINT, "0", "registry download streams", "0.5.13", "0.31.2"),
    _srv("OLLAMA_BACKEND", VarKind.STRING, "", "experimental backend choice", "0.14.0", "0.15.6"),
    _srv("LLAMA_ARG_FIT", VarKind.STRING, "on", "llama-server --fit", "0.30.0"),
    _srv("LLAMA_ARG_FIT_TARGET", VarKind.STRING, "", "llama-server --fit target (MiB)", "0.30.0"),
    _srv("CUDA_VISIBLE_DEVICES", VarKind.STRING, "", "CUDA devices to use", "0.1.45"),
    _srv("HIP_VISIBLE_DEVICES", VarKind.STRING, "", "ROCm devices to use", "0.1.45"),
    _srv("ROCR_VISIBLE_DEVICES", VarKind.STRING, "", "ROCm devices to use", "0.1.45"),
    _srv("GPU_DEVICE_ORDINAL", VarKind.STRING, "", "GPU devices to use", "0.1.45"),
    _srv("GGML_VK_VISIBLE_DEVICES", VarKind.STRING, "", "Vulkan devices to use", "0.12.6"),
    _srv("HSA_OVERRIDE_GFX_VERSION", VarKind.STRING, "", "ROCm GFX version override", "0.1.45"),
    _srv("JETSON_JETPACK", VarKind.STRING, "", "Jetson version override", "0.1.45"),
    _srv("HTTPS_PROXY", VarKind.STRING, "", "proxy for registry pulls", "0.0.1"),
    _srv("HTTP_PROXY", VarKind.STRING, "", "proxy (prefer HTTPS_PROXY)", "0.0.1"),
    _srv("NO_PROXY", VarKind.STRING, "", "hosts that bypass the proxy", "0.0.1"),
    _cli("OLLAMA_NOHISTORY", "CLI: do not keep readline history"),
    _cli("OLLAMA_EDITOR", "CLI: editor for multi-line input"),
    _cli("OLLAMA_AUTH", "client request signing"),
    _cli("OLLAMA_API_KEY", "API key for launch integrations"),
    _cli("OLLAMA_SKILLS", "CLI agent skills"),
    _cli("OLLAMA_CORS", "desktop app setting", Reader.APP),
    _cli("OLLAMA_DOT_COM_URL", "desktop app setting", Reader.APP),
    _cli("OLLAMA_UPDATE_URL", "desktop app updater", Reader.APP),
    _cli("OLLAMA_APP_DB_PATH", "desktop app database", Reader.APP),
)

# Names that look like server variables but never were; the variable the user most likely meant.
MISTAKES: Final = {
    "OLLAMA_NUM_CTX": "OLLAMA_CONTEXT_LENGTH",
    "OLLAMA_CTX": "OLLAMA_CONTEXT_LENGTH",
    "OLLAMA_CONTEXT_SIZE": "OLLAMA_CONTEXT_LENGTH",
    "OLLAMA_NUM_PARALLELS": "OLLAMA_NUM_PARALLEL",
    "OLLAMA_FLASH_ATTN": "OLLAMA_FLASH_ATTENTION",
    "OLLAMA_KV_CACHE": "OLLAMA_KV_CACHE_TYPE",
    "OLLAMA_ORIGIN": "OLLAMA_ORIGINS",
    "OLLAMA_MODEL_PATH": "OLLAMA_MODELS",
    "OLLAMA_MODELS_PATH": "OLLAMA_MODELS",
    "OLLAMA_NUM_GPU": "CUDA_VISIBLE_DEVICES",
}

_BY_NAME: Final = {var.name: var for var in CATALOG}


def lookup(name: str) -> Variable | None:
    """The catalog entry for a variable name, or None when no Ollama release knows it."""
    return _BY_NAME.get(name)


def server_variables(version: Version) -> tuple[Variable, ...]:
    """Every variable this release's server reads."""
    return tuple(var for var in CATALOG if var.is_read_by(version))


def kv_cache_types(version: Version) -> tuple[str, ...]:
    """The KV cache types this release accepts (empty before v0.5.0)."""
    if version < v("0.5.0"):
        return ()
    return KV_CACHE_TYPES_LLAMA_SERVER if version >= LLAMA_SERVER_ERA else KV_CACHE_TYPES_CLASSIC
