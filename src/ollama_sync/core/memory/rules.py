"""Which settings the server really uses for a model: defaults by release, context clamp, KV type and flash attention.

Rules from shared/reference/ollama-server-facts.md §1.6 and §2, checked against ollama/ollama source
(`envconfig/config.go`, `llm/server.go`, `fs/ggml/ggml.go SupportsKVCacheType/SupportsFlashAttention`,
`server/routes.go` VRAM-tier default context).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ollama_sync.core.memory.model_info import ModelInfo
from ollama_sync.core.version import Version, v

GIB: Final = 1024 ** 3
DEFAULT_BATCH: Final = 512
QUANTIZED_CLASSIC: Final = ("q8_0", "q4_0")
# strconv.ParseBool's false spellings; envconfig.Bool treats every other non-empty value as true.
_FALSE: Final = frozenset({"0", "f", "F", "false", "FALSE", "False"})
OLLAMA_ENGINE_ARCHS: Final = frozenset({
    "gemma3", "gemma3n", "gptoss", "gpt-oss", "llama4", "mistral3", "mllama", "qwen25vl", "qwen3", "qwen3moe",
    "qwen3vl", "qwen3vlmoe"})  # ggml.go OllamaEngineRequired, v0.12.10
# Architectures whose flash attention Ollama turns on by default (ggml.go FlashAttention), by release.
_FA_DEFAULT_ON: Final = (("0.11.8", ("gptoss", "gpt-oss")), ("0.12.4", ("qwen3", "qwen3moe")),
                         ("0.12.6", ("gemma3",)), ("0.12.8", ("qwen3vl", "qwen3vlmoe")),
                         ("0.13.2", ("mistral3",)), ("0.13.4", ("olmo3",)))
FA_AUTO_FROM: Final = v("0.13.4")  # llama-engine models: flash attention "auto" when the variable is unset
LLAMA_SERVER_FROM: Final = v("0.30.0")
GPTOSS: Final = ("gptoss", "gpt-oss")
GPTOSS_MIN_CONTEXT: Final = 8192
LOW_VRAM: Final = 20 * GIB


@dataclass(frozen=True)
class Requested:
    """The settings as declared (or given as what-ifs); None means the server's default."""

    context_length: int | None = None
    num_parallel: int | None = None
    kv_cache_type: str | None = None
    flash_attention: bool | None = None
    max_loaded_models: int | None = None
    gpu_overhead: int = 0
    request_context: int | None = None  # a request's options.num_ctx (the --context what-if): beats the Modelfile


@dataclass(frozen=True)
class Effective:
    """The settings the server would use for one model, with the reasons for any change."""

    context: int  # per sequence, after the clamp to the model's context_length
    parallel: int
    kv_type: str  # the KV cache type the estimate counts
    flash_attention: bool
    batch: int = DEFAULT_BATCH
    notes: tuple[str, ...] = ()
    clamped_from: int | None = None  # the requested context, when the model's limit cut it
    kv_type_ignored: str | None = None  # a requested quantized type the server would not use
    context_source: str = "default"  # which setting decided the context (see context_from)


def requested_from_env(env: Mapping[str, str]) -> Requested:
    """The memory-relevant variables, parsed as envconfig parses them (invalid numbers → default)."""
    return Requested(
        context_length=_uint(env.get("OLLAMA_CONTEXT_LENGTH")),
        num_parallel=_uint(env.get("OLLAMA_NUM_PARALLEL")),
        kv_cache_type=(env.get("OLLAMA_KV_CACHE_TYPE") or "").strip().lower() or None,
        flash_attention=_bool(env.get("OLLAMA_FLASH_ATTENTION")),
        max_loaded_models=_uint(env.get("OLLAMA_MAX_LOADED_MODELS")),
        gpu_overhead=_uint(env.get("OLLAMA_GPU_OVERHEAD")) or 0,
    )


def _bool(text: str | None) -> bool | None:
    value = (text or "").strip().strip("\"'")  # envconfig.Var trims spaces and quotes
    return None if not value else value not in _FALSE


def _uint(text: str | None) -> int | None:
    if text is None or not text.strip().isdigit():
        return None
    return int(text.strip())


def default_context(version: Version | None, gpu_total: int | None) -> int:
    """The server's default context length for a release (and, from v0.15.5, the GPU memory tier)."""
    if version is not None and version < v("0.6.7"):
        return 2048
    if version is not None and version < v("0.15.5"):
        return 4096
    vram = gpu_total or 0
    return 262144 if vram >= 47 * GIB else 32768 if vram >= 23 * GIB else 4096


def default_parallel(version: Version | None) -> int:
    """OLLAMA_NUM_PARALLEL's default: 1 from v0.10.0 (before that the scheduler's automatic 4, then 2)."""
    if version is None or version >= v("0.10.0") or version < v("0.2.0"):
        return 1
    return 4 if version < v("0.6.7") else 2


def context_from(req: Requested, model_num_ctx: int | None, version: Version | None,
                 gpu_total: int | None) -> tuple[int, str]:
    """(context, which setting won): request options.num_ctx > the Modelfile's num_ctx > OLLAMA_CONTEXT_LENGTH >
    the release's default (server/routes.go modelOptions: DefaultOptions, then model.Options, then the request)."""
    if req.request_context:
        return req.request_context, "request (--context)"
    if model_num_ctx:
        return model_num_ctx, "Modelfile num_ctx"
    if req.context_length:
        return req.context_length, "OLLAMA_CONTEXT_LENGTH"
    return default_context(version, gpu_total), "default"


def effective(info: ModelInfo, req: Requested, version: Version | None, gpu_total: int | None,
              model_num_ctx: int | None = None) -> Effective:
    """The settings the server would use for this model on this release."""
    notes: list[str] = []
    wanted, source = context_from(req, model_num_ctx, version, gpu_total)
    if _gptoss_min_context(info, version, gpu_total) and wanted < GPTOSS_MIN_CONTEXT:
        notes.append(f"gpt-oss: context {wanted} raised to {GPTOSS_MIN_CONTEXT} (server/routes.go, v0.11.0–v0.15.4)")
        wanted, source = GPTOSS_MIN_CONTEXT, f"{source}, raised for gpt-oss"
    context, clamped = wanted, None
    if info.context_length and wanted > info.context_length:
        context, clamped = info.context_length, wanted
        notes.append(f"context {wanted} clamped to the model's context_length {info.context_length}")
    parallel = max(req.num_parallel or default_parallel(version), 1)  # 0 means 1 (v0.10.0+)
    fa = _flash_attention(info, req.flash_attention, version)
    kv_type, ignored, why = _kv_type(info, req, fa, version)
    if why:
        notes.append(why)
    legacy_total = version is not None and version < v("0.11.5")
    batch = min(context * parallel if legacy_total else context, DEFAULT_BATCH)
    return Effective(context, parallel, kv_type, fa, batch, tuple(notes), clamped, ignored, source)


def _gptoss_min_context(info: ModelInfo, version: Version | None, gpu_total: int | None) -> bool:
    """v0.11.0–v0.15.4 raise gpt-oss's num_ctx to 8192, except in low-VRAM mode (< 20 GiB, from v0.11.4)."""
    if version is None or not v("0.11.0") <= version < v("0.15.5") or info.architecture not in GPTOSS:
        return False
    return not (version >= v("0.11.4") and (gpu_total or 0) < LOW_VRAM)


def supports_flash_attention(info: ModelInfo, version: Version | None) -> bool:
    """Ollama's SupportsFlashAttention for the release: v0.11.2–v0.11.4 also exclude gpt-oss (8253ad4d2)."""
    if version is not None and v("0.11.2") <= version < v("0.11.5") and info.architecture in GPTOSS:
        return False
    return info.supports_flash_attention


def _flash_attention(info: ModelInfo, declared: bool | None, version: Version | None) -> bool:
    if version is None or version >= LLAMA_SERVER_FROM:  # --flash-attn on|off|auto; llama.cpp's auto turns it on
        return True if declared is None else declared
    if not supports_flash_attention(info, version):
        return False
    if declared is not None:
        return declared
    if version is None or version >= FA_AUTO_FROM:
        return True  # "auto": on wherever the GPU supports it
    return any(version >= v(since) and info.architecture in archs for since, archs in _FA_DEFAULT_ON)


def _kv_type(info: ModelInfo, req: Requested, fa: bool, version: Version | None) -> tuple[str, str | None, str]:
    """(type counted, requested type ignored or None, why)."""
    wanted = req.kv_cache_type or "f16"
    if wanted == "f16":
        return "f16", None, ""
    if version is not None and version < v("0.5.0"):
        return "f16", wanted, f"OLLAMA_KV_CACHE_TYPE={wanted} needs Ollama v0.5.0 or later: f16 is used"
    if version is None or version >= LLAMA_SERVER_FROM:
        if not fa and wanted not in ("f32", "bf16"):
            return "f16", wanted, (f"llama-server refuses a quantized V cache ({wanted}) with flash attention off "
                                   "('quantized V cache requires flash_attn'): the model would not load")
        return wanted, None, ""
    if wanted not in QUANTIZED_CLASSIC:
        return "f16", wanted, f"OLLAMA_KV_CACHE_TYPE={wanted} is not supported before v0.30.0: f16 is used"
    if not fa:
        why = ("flash attention is off" if supports_flash_attention(info, version)
               else f"the model ({info.architecture}) does not support flash attention")
        return "f16", wanted, f"{wanted} KV cache ignored: {why}; f16 is used"
    if v("0.11.5") <= version < v("0.12.4") and info.architecture in ("gptoss", "gpt-oss"):
        return "f16", wanted, "gpt-oss only supports an f16 KV cache in v0.11.5–v0.12.3"
    if version >= FA_AUTO_FROM and req.flash_attention is not True and info.architecture not in OLLAMA_ENGINE_ARCHS:
        return "f16", wanted, (f"{wanted} KV cache ignored: v0.13.4–v0.24.x need OLLAMA_FLASH_ATTENTION=1 set "
                               "explicitly for llama-engine models; f16 is used")
    return wanted, None, ""
