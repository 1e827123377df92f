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
# The newest release the catalog was checked against; the v0.33.0-rc2 source reads the same variables.
NEWEST: Final = v("0.32.15")


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
    default: str  # the newest release's default ("" = unset / decided elsewhere)
    doc: str
    since: Version = FIRST_RELEASE
    removed: Version | None = None  # the first release on which setting it has no effect
    allowed: tuple[str, ...] = ()
    reader: Reader = Reader.SERVER
    history: tuple[tuple[Version, str], ...] = ()  # (release, default from that release on), oldest first
    raw: bool = False  # read with os.Getenv as written: no surrounding spaces or quotes stripped (envconfig.Var)

    def is_read_by(self, version: Version) -> bool:
        """True when this release's server reads the variable."""
        if self.reader is not Reader.SERVER or version < self.since:
            return False
        return self.removed is None or version < self.removed

    def default_at(self, version: Version) -> str:
        """The default this release uses when the variable is unset or invalid."""
        if not self.history:
            return self.default
        value = self.history[0][1]
        for changed, default in self.history:
            if version >= changed:
                value = default
        return value


def _srv(name: str, kind: VarKind, default: str, doc: str, since: str,  # noqa: PLR0917  # table rows
         removed: str | None = None, history: tuple[tuple[str, str], ...] = ()) -> Variable:
    return Variable(name, kind, default, doc, v(since), None if removed is None else v(removed),
                    history=tuple((v(at), value) for at, value in history))


def _cli(name: str, doc: str, since: str, reader: Reader = Reader.CLIENT, removed: str | None = None) -> Variable:
    return Variable(name, VarKind.STRING, "", doc, v(since), None if removed is None else v(removed),
                    reader=reader)


KV_CACHE_TYPES_CLASSIC: Final = ("f16", "q8_0", "q4_0")  # v0.5.0 – v0.24.x: fs/ggml SupportsKVCacheType
# v0.30.0+: passed verbatim to llama-server, whose common/arg.cpp accepts exactly these.
KV_CACHE_TYPES_LLAMA_SERVER: Final = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")
KV_CACHE_TYPES_SINCE: Final = v("0.5.0")
LLAMA_SERVER_ERA: Final = v("0.30.0")
_RUNTIME = "read by the GPU runtime the server loads"

CATALOG: Final[tuple[Variable, ...]] = (
    _srv("OLLAMA_HOST", VarKind.HOST, "http://127.0.0.1:11434", "address and port the server listens on", "0.0.1"),
    _srv("OLLAMA_PORT", VarKind.UINT, "11434", "port (before host:port in OLLAMA_HOST)", "0.0.1", "0.0.20"),
    _srv("OLLAMA_ORIGINS", VarKind.LIST, "", "extra allowed CORS origins, comma-separated", "0.0.14"),
    _srv("OLLAMA_MODELS", VarKind.PATH, "~/.ollama/models", "where models are stored", "0.1.6"),
    _srv("OLLAMA_KEEP_ALIVE", VarKind.DURATION, "5m", "how long a model stays loaded after use", "0.1.29"),
    _srv("OLLAMA_LOAD_TIMEOUT", VarKind.DURATION, "5m", "stall timeout while loading a model", "0.3.10"),
    _srv("OLLAMA_DEBUG", VarKind.LOGLEVEL, "INFO", "log level: 1 debug, 2 trace", "0.1.21"),
    _srv("OLLAMA_FLASH_ATTENTION", VarKind.BOOL, "", "flash attention (unset: the model's default)", "0.1.39",
         history=(("0.1.39", "false"), ("0.12.4", ""))),
    _srv("OLLAMA_KV_CACHE_TYPE", VarKind.ENUM, "f16", "KV cache type (accepted values: kv_cache_types)", "0.5.0"),
    _srv("OLLAMA_CONTEXT_LENGTH", VarKind.UINT, "0", "default context length per request (0: by VRAM, "
         "4096/32768/262144)", "0.5.13", history=(("0.5.13", "2048"), ("0.6.7", "4096"), ("0.15.5", "0"))),
    _srv("OLLAMA_NUM_PARALLEL", VarKind.UINT, "1", "parallel requests per loaded model", "0.1.33",
         history=(("0.1.33", "1"), ("0.2.0", "0"), ("0.10.0", "1"))),
    _srv("OLLAMA_MAX_LOADED_MODELS", VarKind.UINT, "0", "models loaded at once (0: 3 per GPU)", "0.1.33",
         history=(("0.1.33", "1"), ("0.2.0", "0"))),
    _srv("OLLAMA_MAX_QUEUE", VarKind.UINT, "512", "queued requests before 503", "0.1.34"),
    _srv("OLLAMA_MAX_TRANSFER_STREAMS", VarKind.UINT, "4", "pull/push concurrency (safetensors)", "0.23.3"),
    _srv("OLLAMA_GPU_OVERHEAD", VarKind.UINT, "0", "VRAM bytes reserved per GPU", "0.3.10"),
    _srv("OLLAMA_SCHED_SPREAD", VarKind.BOOL, "false", "always spread a model over all GPUs", "0.1.45"),
    _srv("OLLAMA_NOPRUNE", VarKind.BOOL, "false", "do not prune unused blobs at start", "0.0.19"),
    _srv("OLLAMA_LLM_LIBRARY", VarKind.STRING, "", "force a backend library (cpu, cuda_v12, …)", "0.1.21"),
    _srv("OLLAMA_VULKAN", VarKind.BOOL, "true", "Vulkan GPU support (not on macOS)", "0.12.11",
         history=(("0.12.11", "false"), ("0.30.0", "true"))),
    _srv("OLLAMA_IGPU_ENABLE", VarKind.BOOL, "", "allow integrated GPUs", "0.30.0"),
    _srv("OLLAMA_GO_TEMPLATE", VarKind.BOOL, "true", "Go TEMPLATE rendering of Modelfiles", "0.30.0"),
    _srv("OLLAMA_DEBUG_LOG_REQUESTS", VarKind.BOOL, "false", "dump request bodies to a temp dir", "0.18.3"),
    _srv("OLLAMA_NO_CLOUD", VarKind.BOOL, "false", "disable Ollama cloud features (also switched on by "
         "`disable_ollama_cloud` in ~/.ollama/server.json, which the desktop app writes)", "0.16.2"),
    _srv("OLLAMA_REMOTES", VarKind.LIST, "ollama.com", "hosts allowed for remote models", "0.12.0"),
    Variable("OLLAMA_EXPERIMENT", VarKind.LIST, "", "experiments, read as written: os.Getenv, split on ',' "
             "(server/routes.go useExperiment; client2 is gone)", v("0.6.0"), raw=True),
    _srv("OLLAMA_CLOUD_BASE_URL", VarKind.STRING, "", "cloud proxy base URL", "0.18.0"),
    # Parsed by envconfig until 0.6.8, but nothing uses the value after 0.1.44 (llm/memory.go, v0.1.45).
    _srv("OLLAMA_MAX_VRAM", VarKind.UINT, "0", "VRAM cap in bytes", "0.1.29", "0.1.45"),
    _srv("OLLAMA_TMPDIR", VarKind.PATH, "", "runner payload dir", "0.1.32", "0.6.6"),
    _srv("OLLAMA_RUNNERS_DIR", VarKind.PATH, "", "runner dir", "0.1.33", "0.3.11"),
    _srv("OLLAMA_INTEL_GPU", VarKind.BOOL, "false", "experimental oneAPI detection", "0.1.45", "0.12.11"),
    _srv("OLLAMA_MULTIUSER_CACHE", VarKind.BOOL, "false", "prompt cache for many users", "0.3.13", "0.30.0"),
    _srv("OLLAMA_NEW_ENGINE", VarKind.BOOL, "false", "run every model on the Ollama engine", "0.5.12", "0.30.0"),
    _srv("OLLAMA_NEW_ESTIMATES", VarKind.BOOL, "false", "new memory estimates (became default)", "0.11.5",
         "0.11.11"),
    _srv("OLLAMA_REGISTRY_MAXSTREAMS", VarKind.UINT, "0", "registry download streams", "0.5.13", "0.31.2"),
    _srv("OLLAMA_BACKEND", VarKind.STRING, "", "experimental backend choice", "0.14.0", "0.15.6"),
    _srv("OLLAMA_MLX_MTP_MAX_DRAFT_TOKENS", VarKind.UINT, "", "MLX speculative decoding", "0.23.1", "0.30.11"),
    _srv("OLLAMA_MLX_MTP_INITIAL_DRAFT_TOKENS", VarKind.UINT, "", "MLX speculative decoding", "0.23.1", "0.30.11"),
    _srv("OLLAMA_MLX_MTP_SERIAL_VALIDATE", VarKind.BOOL, "false", "MLX speculative decoding", "0.23.1", "0.30.11"),
    _srv("OLLAMA_MLX_MTP_DRAFT_SCHEDULE", VarKind.STRING, "", "MLX speculative decoding", "0.23.1", "0.30.11"),
    _srv("OLLAMA_MLX_MTP_COMPARE_SERIAL_VALIDATE", VarKind.BOOL, "false", "MLX speculative decoding", "0.23.1",
         "0.30.8"),
    _srv("LLAMA_ARG_FIT", VarKind.STRING, "on", "llama-server --fit", "0.30.0"),
    _srv("LLAMA_ARG_FIT_TARGET", VarKind.STRING, "", "llama-server --fit target (MiB)", "0.30.0"),
    _srv("CUDA_VISIBLE_DEVICES", VarKind.STRING, "", f"CUDA devices to use ({_RUNTIME})", "0.0.1"),
    _srv("HIP_VISIBLE_DEVICES", VarKind.STRING, "", f"ROCm devices to use ({_RUNTIME})", "0.0.1"),
    _srv("ROCR_VISIBLE_DEVICES", VarKind.STRING, "", f"ROCm devices to use ({_RUNTIME})", "0.0.1"),
    _srv("GPU_DEVICE_ORDINAL", VarKind.STRING, "", f"GPU devices to use ({_RUNTIME})", "0.0.1"),
    _srv("HSA_OVERRIDE_GFX_VERSION", VarKind.STRING, "", f"ROCm GFX version override ({_RUNTIME})", "0.0.1"),
    _srv("GGML_VK_VISIBLE_DEVICES", VarKind.STRING, "", "Vulkan devices to use", "0.12.6"),
    _srv("JETSON_JETPACK", VarKind.STRING, "", "Jetson version override", "0.1.30"),
    _srv("HTTPS_PROXY", VarKind.STRING, "", "proxy for registry pulls (Go net/http)", "0.0.1"),
    _srv("HTTP_PROXY", VarKind.STRING, "", "proxy (prefer HTTPS_PROXY)", "0.0.1"),
    _srv("NO_PROXY", VarKind.STRING, "", "hosts that bypass the proxy", "0.0.1"),
    # Go's net/http also reads the lower-case names; envconfig reads and logs them on non-Windows since 0.3.11.
    _srv("http_proxy", VarKind.STRING, "", "proxy, lower-case spelling (not on Windows)", "0.3.11"),
    _srv("https_proxy", VarKind.STRING, "", "proxy for registry pulls, lower-case spelling (not on Windows)",
         "0.3.11"),
    _srv("no_proxy", VarKind.STRING, "", "hosts that bypass the proxy, lower-case spelling (not on Windows)",
         "0.3.11"),
    _cli("OLLAMA_NOHISTORY", "CLI: do not keep readline history", "0.1.39"),
    _cli("OLLAMA_EDITOR", "CLI: editor for multi-line input", "0.16.0"),
    _cli("OLLAMA_AUTH", "client request signing", "0.8.0"),
    _cli("OLLAMA_API_KEY", "API key for launch integrations", "0.23.0"),
    _cli("OLLAMA_SKILLS", "CLI agent skills", "0.32.2"),
    _cli("OLLAMA_AGENT_DISABLE_SHELL", "CLI agent: no shell tool", "0.32.0"),
    _cli("OLLAMA_AGENT_DISABLE_BASH", "CLI agent: no bash tool", "0.14.0", removed="0.31.2"),
    _cli("OLLAMA_LAUNCH_DSH_API_KEY", "`ollama launch` DeepSeek Harness API key", "0.32.11"),
    _cli("OLLAMA_AGENT_DISABLE_WEBSEARCH", "CLI agent: no web search", "0.14.0"),
    _cli("OLLAMA_CORS", "desktop app setting", "0.12.10", Reader.APP),
    _cli("OLLAMA_DOT_COM_URL", "desktop app setting", "0.12.10", Reader.APP),
    _cli("OLLAMA_UPDATE_URL", "desktop app updater", "0.12.10", Reader.APP, removed="0.23.0"),
    _cli("OLLAMA_APP_DB_PATH", "desktop app database", "0.32.15", Reader.APP),
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
}

# Names people set for per-model options that no variable controls; what to do instead.
MODEL_OPTIONS: Final = {
    "OLLAMA_NUM_GPU": "num_gpu",
    "OLLAMA_NUM_THREAD": "num_thread",
    "OLLAMA_NUM_BATCH": "num_batch",
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
    if version < KV_CACHE_TYPES_SINCE:
        return ()
    return KV_CACHE_TYPES_LLAMA_SERVER if version >= LLAMA_SERVER_ERA else KV_CACHE_TYPES_CLASSIC
