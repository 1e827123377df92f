"""`memory`: what the declared settings cost for the models on disk, and whether it fits this machine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import Prepared, prepare
from ollama_sync.core.environment import render_environment
from ollama_sync.core.findings import Finding, Location, Severity, sort_findings
from ollama_sync.core.memory.estimate import Device, Era, Estimate, era_for, estimate
from ollama_sync.core.memory.fit import Fit, HostMemory, Verdict, fit, loaded_together
from ollama_sync.core.memory.live import LiveCheck, live_check
from ollama_sync.core.memory.model_info import ModelInfo, ModelInfoError, model_info
from ollama_sync.core.memory.projector import ProjectorCompute, ProjectorInfo, projector_compute, projector_info
from ollama_sync.core.memory.rules import Effective, Requested, effective, requested_from_env
from ollama_sync.core.paths import models_path
from ollama_sync.core.settings import Declaration
from ollama_sync.core.version import Version
from ollama_sync.errors import OllamaSyncError, UsageError
from ollama_sync.system.gguf_header import GgufError, read_header
from ollama_sync.system.models import InstalledModel, cached_model_info, find_model, list_models

SWEEP_MIN: Final = 2048
SWEEP_MAX: Final = 131072


InfoReader = Callable[[Path], ModelInfo]


def _read_uncached(blob: Path) -> ModelInfo:
    return model_info(read_header(blob))


def info_reader(ctx: Context) -> InfoReader:
    """Model facts by blob, cached in the state directory (blobs are content-addressed)."""
    state = ctx.machine.state_dir
    return lambda blob: cached_model_info(blob, ctx.files, state)


@dataclass(frozen=True)
class WhatIf:
    """Overrides of the declared settings and of this machine's memory (None: as declared / as measured)."""

    context_length: int | None = None
    num_parallel: int | None = None
    kv_cache_type: str | None = None
    flash_attention: bool | None = None
    ram: int | None = None
    gpu_memory: int | None = None


@dataclass(frozen=True)
class SweepPoint:
    """The total at one context length."""

    context: int
    total: int
    fit: Fit


@dataclass(frozen=True)
class ModelRow:
    """One model's figures, or why there are none."""

    name: str
    file: str
    era: Era | None = None
    info: ModelInfo | None = None
    effective: Effective | None = None
    estimate: Estimate | None = None
    fit: Fit | None = None
    sweep: tuple[SweepPoint, ...] = ()
    not_estimated: str = ""  # why there are no figures although nothing is wrong (cloud, not GGUF)
    live: LiveCheck | None = None  # the running server's /api/ps figures for this model, when loaded
    projector: ProjectorCompute | None = None  # llama-server era: the projector blob's compute buffer, or why not


@dataclass(frozen=True)
class MemoryReport:
    """Everything `memory` shows."""

    version: Version | None
    models_dir: str
    host: HostMemory
    requested: Requested
    rows: tuple[ModelRow, ...]
    together: tuple[int, int, bool] | None  # (models, combined total, fits) under OLLAMA_MAX_LOADED_MODELS
    findings: tuple[Finding, ...]
    live_source: str = ""  # where /api/ps was read, or why not

    @property
    def ok(self) -> bool:
        """True when every model that can be estimated was read and fits."""
        return all(r.not_estimated or (r.fit is not None and r.fit.fits) for r in self.rows)


def run_memory(ctx: Context, names: tuple[str, ...] = (), what_if: WhatIf = WhatIf(), *,
               version_text: str | None = None, sweep: bool = False, live: bool = True) -> MemoryReport:
    """Estimate every (or each named) installed model at the declared settings with the what-ifs applied."""
    prepared = prepare(ctx, version_text=version_text)
    decl = prepared.declaration
    models_dir = models_path(decl.settings, ctx.machine.home)
    installed = list_models(ctx.files.real(models_dir))
    chosen = _choose(installed, names, models_dir)
    host = _host(ctx, what_if)
    requested = _apply(requested_from_env(render_environment(decl.settings)), what_if)
    version = prepared.resolved.version
    reader = info_reader(ctx)
    loaded, live_source = _loaded_models(ctx, decl, live)
    rows, findings = [], []
    for model in chosen:
        row, found = assess(model, requested, version, host, read_info=reader, sweep=sweep)
        entry = find_loaded(row.name, loaded)
        if entry is not None:
            row = with_live(row, entry, model, requested, version, host, reader)
        rows.append(row)
        findings.extend(_locate_all(found, decl))
    together = _together(rows, requested, host)
    if together is not None and not together[2]:
        findings.append(_together_finding(together, host))
    return MemoryReport(version, models_dir, host, requested, tuple(rows), together, sort_findings(findings),
                        live_source)


def _loaded_models(ctx: Context, decl: Declaration, live: bool) -> tuple[tuple[dict[str, Any], ...], str]:
    """/api/ps from the declared server address, when it answers (never under --root)."""
    if not live or ctx.sandboxed:
        return (), ""
    from ollama_sync.app.models import server_url  # noqa: PLC0415  # 60 ms (the models use case): only with a live server to ask
    from ollama_sync.system.ollama_api import OllamaApi  # noqa: PLC0415  # as above

    url = server_url(decl)
    try:
        return tuple(m for m in OllamaApi(url, timeout=2.0).ps() if isinstance(m, dict)), url
    except OllamaSyncError:
        return (), ""


def find_loaded(name: str, loaded: tuple[dict[str, Any], ...]) -> dict[str, Any] | None:
    """The /api/ps entry for an installed model ("gemma3" matches "gemma3:latest")."""
    for entry in loaded:
        other = str(entry.get("name") or entry.get("model") or "")
        if name in (other, f"{other}:latest"):
            return entry
    return None


def with_live(row: ModelRow, entry: dict[str, Any], model: InstalledModel, requested: Requested,  # noqa: PLR0917  # the estimate's inputs, each needed
              version: Version | None, host: HostMemory, reader: InfoReader) -> ModelRow:
    """The row with /api/ps's figures beside an estimate at the context the server really loaded it with."""
    if row.estimate is None or row.fit is None or row.effective is None:
        return row
    placed = row.fit
    context = entry.get("context_length")
    if isinstance(context, int) and context > 0 and context != row.effective.context:
        again, _ = assess(model, replace(requested, request_context=context), version, host, read_info=reader)
        if again.fit is not None:
            placed = again.fit
    check = live_check(row.name, entry, placed.total, placed.gpu_bytes)
    return replace(row, live=check) if check is not None else row


def installed_model_findings(ctx: Context, prepared: Prepared, loaded: tuple[dict[str, Any], ...] = ()
                             ) -> tuple[Finding, ...]:
    """Findings for `plan`/`doctor`: installed models the declared settings would not fit (cheap without models);
    for loaded models (doctor passes /api/ps), a note when the estimate is far from the server's own figure."""
    decl = prepared.declaration
    installed = list_models(ctx.files.real(models_path(decl.settings, ctx.machine.home)))
    if not installed:
        return ()
    host = _host(ctx, WhatIf())
    requested = requested_from_env(render_environment(decl.settings))
    found: list[Finding] = []
    reader = info_reader(ctx)
    version = prepared.resolved.version
    for model in installed:
        row, model_findings = assess(model, requested, version, host, read_info=reader)
        found.extend(f for f in model_findings if f.code in ("memory-does-not-fit", "memory-spills-to-cpu"))
        entry = find_loaded(model.name, loaded)
        if entry is not None:
            check = with_live(row, entry, model, requested, version, host, reader).live
            if check is not None and check.noteworthy:
                found.append(_live_finding(check))
    return sort_findings(_locate_all(found, decl))


def live_checks(ctx: Context, prepared: Prepared, loaded: tuple[dict[str, Any], ...],
                version: Version | None) -> tuple[LiveCheck, ...]:
    """For `status`: each loaded model's /api/ps figures beside the estimate at the context it was loaded with."""
    decl = prepared.declaration
    installed = list_models(ctx.files.real(models_path(decl.settings, ctx.machine.home)))
    if not loaded or not installed:
        return ()
    host = _host(ctx, WhatIf())
    requested = requested_from_env(render_environment(decl.settings))
    reader = info_reader(ctx)
    out = []
    for entry in loaded:
        model = find_model(installed, str(entry.get("name") or entry.get("model") or ""))
        if model is None:
            continue
        row, _ = assess(model, requested, version, host, read_info=reader)
        check = with_live(row, entry, model, requested, version, host, reader).live
        if check is not None:
            out.append(check)
    return tuple(out)


def _live_finding(check: LiveCheck) -> Finding:
    gib = 2**30
    return Finding("memory-estimate-differs", Severity.INFO,
                   f"{check.name}: the running server reports {check.size / gib:.1f} GiB (/api/ps size), the "
                   f"estimate is {check.estimate / gib:.1f} GiB ({check.difference:+.0%})",
                   "the estimate follows the declared settings; a request with other options (num_ctx, "
                   "num_batch) or another server release explains a difference — ollama-sync memory shows both")


def assess(model: InstalledModel, requested: Requested, version: Version | None, host: HostMemory, *,
           read_info: InfoReader = _read_uncached, sweep: bool = False) -> tuple[ModelRow, list[Finding]]:
    """Read one model's header and estimate it; problems become findings naming the file."""
    if model.not_estimated:
        return ModelRow(model.name, str(model.manifest), not_estimated=model.not_estimated), []
    if model.blob is None or model.problem:
        code = "memory-blob-missing" if "missing" in model.problem else "memory-bad-manifest"
        return ModelRow(model.name, str(model.manifest)), [Finding(
            code, Severity.ERROR, f"{model.name}: {model.problem}", "re-pull it: ollama pull " + model.name,
            Location(str(model.manifest)))]
    try:
        info = read_info(model.blob)
    except (GgufError, OSError) as exc:
        return ModelRow(model.name, str(model.blob)), [Finding(
            "memory-bad-gguf", Severity.ERROR, f"{model.name}: cannot read the GGUF header: {exc}",
            "the blob is truncated or corrupt; re-pull it: ollama pull " + model.name, Location(str(model.blob)))]
    except ModelInfoError as exc:
        return ModelRow(model.name, str(model.blob)), [Finding(
            "memory-unknown-architecture", Severity.ERROR, f"{model.name}: {exc}",
            "this model's architecture is unknown to the estimator", Location(str(model.blob)))]
    try:
        projector = _projector(model.projector)
    except (GgufError, OSError) as exc:
        return ModelRow(model.name, str(model.projector)), [Finding(
            "memory-bad-gguf", Severity.ERROR, f"{model.name}: cannot read its projector's GGUF header: {exc}",
            "the blob is truncated or corrupt; re-pull it: ollama pull " + model.name,
            Location(str(model.projector)))]
    era = era_for(version, info.architecture)
    gpu_total = sum(g.total for g in host.gpus) if host.gpus else host.gpu_budget
    eff = effective(info, requested, version, gpu_total, model.num_ctx)
    weights = projector.weights if projector is not None else 0
    compute = projector_compute(projector, eff.flash_attention) if projector is not None and \
        era is Era.LLAMA_SERVER else None
    cost = (weights, compute.bytes if compute is not None else 0)
    est = estimate(info, eff, era, host.device, gpu_overhead=requested.gpu_overhead, version=version,
                   projector=cost[0], projector_compute=cost[1])
    placed = fit(est, host)
    points = _sweep(info, requested, version, host, era, model.num_ctx, cost) if sweep else ()
    row = ModelRow(model.name, str(model.blob), era, info, eff, est, placed, points, projector=compute)
    return row, _row_findings(row, eff, est, placed)


def _projector(path: Path | None) -> ProjectorInfo | None:
    """A separate projector blob's facts (its weights are Ollama's mmprojMemoryRequirement); None without one."""
    if path is None:
        return None
    return projector_info(read_header(path))


def _row_findings(row: ModelRow, eff: Effective, est: Estimate, placed: Fit) -> list[Finding]:
    found = []
    size = f"{placed.total / 2**30:.1f} GiB at context {eff.context} × {eff.parallel} parallel"
    if placed.verdict is Verdict.NO:
        found.append(Finding("memory-does-not-fit", Severity.ERROR, f"{row.name} needs {size}: it does not fit "
                             "this machine's memory", "lower context_length or num_parallel, or use a "
                             "quantized KV cache with flash attention (ollama-sync memory --sweep context)",
                             variable="OLLAMA_CONTEXT_LENGTH"))
    elif placed.verdict is Verdict.SPILL:
        found.append(Finding("memory-spills-to-cpu", Severity.WARNING, f"{row.name} needs {size}: "
                             f"{placed.describe()}, which runs many times slower",
                             "lower context_length or num_parallel until it fits on the GPU "
                             "(ollama-sync memory --sweep context)", variable="OLLAMA_CONTEXT_LENGTH"))
    if eff.kv_type_ignored:
        can_fa = row.info is not None and row.info.supports_flash_attention
        found.append(Finding("memory-kv-cache-type-ignored", Severity.WARNING, f"{row.name}: {eff.notes[-1]}",
                             "set flash_attention = true" if can_fa else "this model always uses an f16 KV cache",
                             variable="OLLAMA_KV_CACHE_TYPE"))
    if eff.clamped_from is not None:
        found.append(Finding("memory-context-clamped", Severity.INFO, f"{row.name}: {eff.notes[0]}",
                             variable="OLLAMA_CONTEXT_LENGTH"))
    return found


def _sweep(info: ModelInfo, requested: Requested, version: Version | None, host: HostMemory,  # noqa: PLR0917  # the estimate's inputs, each needed
           era: Era, num_ctx: int | None, projector: tuple[int, int]) -> tuple[SweepPoint, ...]:
    """Totals from 2k to 128k tokens (doubling), stopping at the model's context_length."""
    limit = min(info.context_length or SWEEP_MAX, SWEEP_MAX)
    contexts, ctx = [], SWEEP_MIN
    while ctx < limit:
        contexts.append(ctx)
        ctx *= 2
    contexts.append(limit)
    points = []
    for context in contexts:
        eff = effective(info, replace(requested, request_context=context), version, host.gpu_budget, num_ctx)
        est = estimate(info, eff, era, host.device, gpu_overhead=requested.gpu_overhead, version=version,
                       projector=projector[0], projector_compute=projector[1])
        placed = fit(est, host)
        points.append(SweepPoint(context, placed.total, placed))
    return tuple(points)


def _choose(installed: tuple[InstalledModel, ...], names: tuple[str, ...], models_dir: str
            ) -> tuple[InstalledModel, ...]:
    if not names:
        return installed
    chosen = []
    for name in names:
        model = find_model(installed, name)
        if model is None:
            known = ", ".join(m.name for m in installed) or "none"
            raise UsageError(f"model {name!r} is not installed under {models_dir} (installed: {known})",
                             hint="pull it first (ollama pull NAME) or check models_path")
        chosen.append(model)
    return tuple(chosen)


def _host(ctx: Context, what_if: WhatIf) -> HostMemory:
    from ollama_sync.system.host_memory import apple_gpu_budget, read_host_memory  # noqa: PLC0415  # 13-47 ms (psutil): only the memory questions need it

    if what_if.gpu_memory is not None or what_if.ram is not None:
        ram = what_if.ram
        if ram is None:
            measured = read_host_memory(ctx.machine.system, ctx.runner)
            ram = measured.total
        if what_if.gpu_memory is not None:
            unified = ctx.machine.system == "Darwin"
            device = Device.METAL if unified else Device.GPU
            return HostMemory(ram, ram, device, what_if.gpu_memory, "GPU (--gpu-memory)", "--gpu-memory", unified)
        if ctx.machine.system == "Darwin":
            budget, source = apple_gpu_budget(ram, 0)
            return HostMemory(ram, ram, Device.METAL, budget, "Apple Silicon GPU (Metal)", source, unified=True)
        return HostMemory(ram, ram, Device.CPU, None, "", "no GPU (--ram without --gpu-memory)")
    return read_host_memory(ctx.machine.system, ctx.runner)


def _apply(req: Requested, w: WhatIf) -> Requested:
    return Requested(
        context_length=req.context_length, request_context=w.context_length,
        num_parallel=w.num_parallel if w.num_parallel is not None else req.num_parallel,
        kv_cache_type=w.kv_cache_type.lower() if w.kv_cache_type is not None else req.kv_cache_type,
        flash_attention=w.flash_attention if w.flash_attention is not None else req.flash_attention,
        max_loaded_models=req.max_loaded_models, gpu_overhead=req.gpu_overhead)


def _together(rows: list[ModelRow], req: Requested, host: HostMemory) -> tuple[int, int, bool] | None:
    # llama-server era: the scheduler decides evictions on its pre-flight figure (PredictServerVRAM)
    totals = [r.estimate.preflight if r.estimate.preflight is not None else r.estimate.total
              for r in rows if r.estimate is not None]
    if len(totals) < 2:
        return None
    return loaded_together(totals, req.max_loaded_models, host)


def _together_finding(together: tuple[int, int, bool], host: HostMemory) -> Finding:
    count, combined, _ = together
    where = "the GPU budget" if host.gpu_budget is not None else "available RAM"
    return Finding("memory-models-evicted", Severity.INFO,
                   f"the {count} largest models loaded at once need {combined / 2**30:.1f} GiB, more than "
                   f"{where}: Ollama unloads one to load another", "lower max_loaded_models to what fits",
                   variable="OLLAMA_MAX_LOADED_MODELS")


_KEYS: Final = {"OLLAMA_CONTEXT_LENGTH": "context_length", "OLLAMA_KV_CACHE_TYPE": "kv_cache_type",
                "OLLAMA_MAX_LOADED_MODELS": "max_loaded_models", "OLLAMA_NUM_PARALLEL": "num_parallel"}


def _locate_all(found: list[Finding], decl: Declaration) -> list[Finding]:
    """Point setting-related findings at where the setting was declared (files keep their own location)."""
    out = []
    for finding in found:
        var = finding.variable
        if finding.location is None and var is not None:
            loc = decl.location_of(_KEYS.get(var, "")) or decl.location_of(f"environment.{var}")
            out.append(replace(finding, location=loc))
        else:
            out.append(finding)
    return out

