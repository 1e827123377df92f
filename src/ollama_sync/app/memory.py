"""`memory`: what the declared settings cost for the models on disk, and whether it fits this machine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from ollama_sync.app.context import Context
from ollama_sync.app.prepare import Prepared, prepare
from ollama_sync.core.environment import render_environment
from ollama_sync.core.findings import Finding, Location, Severity, sort_findings
from ollama_sync.core.memory.estimate import Device, Era, Estimate, era_for, estimate
from ollama_sync.core.memory.fit import Fit, HostMemory, Verdict, fit, loaded_together
from ollama_sync.core.memory.model_info import ModelInfo, ModelInfoError, model_info
from ollama_sync.core.memory.rules import Effective, Requested, effective, requested_from_env
from ollama_sync.core.paths import models_path
from ollama_sync.core.settings import Declaration
from ollama_sync.core.version import Version
from ollama_sync.errors import UsageError
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

    @property
    def ok(self) -> bool:
        """True when every model was read and fits."""
        return all(r.fit is not None and r.fit.fits for r in self.rows)


def run_memory(ctx: Context, names: tuple[str, ...] = (), what_if: WhatIf = WhatIf(), *,
               version_text: str | None = None, sweep: bool = False) -> MemoryReport:
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
    rows, findings = [], []
    for model in chosen:
        row, found = assess(model, requested, version, host, read_info=reader, sweep=sweep)
        rows.append(row)
        findings.extend(_locate_all(found, decl))
    together = _together(rows, requested, host)
    if together is not None and not together[2]:
        findings.append(_together_finding(together, host))
    return MemoryReport(version, models_dir, host, requested, tuple(rows), together, sort_findings(findings))


def installed_model_findings(ctx: Context, prepared: Prepared) -> tuple[Finding, ...]:
    """Findings for `plan`/`doctor`: installed models the declared settings would not fit (cheap without models)."""
    decl = prepared.declaration
    installed = list_models(ctx.files.real(models_path(decl.settings, ctx.machine.home)))
    if not installed:
        return ()
    host = _host(ctx, WhatIf())
    requested = requested_from_env(render_environment(decl.settings))
    found: list[Finding] = []
    reader = info_reader(ctx)
    for model in installed:
        _, model_findings = assess(model, requested, prepared.resolved.version, host, read_info=reader)
        found.extend(f for f in model_findings if f.code in ("memory-does-not-fit", "memory-spills-to-cpu"))
    return sort_findings(_locate_all(found, decl))


def assess(model: InstalledModel, requested: Requested, version: Version | None, host: HostMemory, *,
           read_info: InfoReader = _read_uncached, sweep: bool = False) -> tuple[ModelRow, list[Finding]]:
    """Read one model's header and estimate it; problems become findings naming the file."""
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
    era = era_for(version, info.architecture)
    eff = effective(info, requested, version, host.gpu_budget)
    est = estimate(info, eff, era, host.device, gpu_overhead=requested.gpu_overhead)
    placed = fit(est, host)
    points = _sweep(info, requested, version, host, era) if sweep else ()
    row = ModelRow(model.name, str(model.blob), era, info, eff, est, placed, points)
    return row, _row_findings(row, eff, est, placed)


def _row_findings(row: ModelRow, eff: Effective, est: Estimate, placed: Fit) -> list[Finding]:
    found = []
    size = f"{est.total / 2**30:.1f} GiB at context {eff.context} × {eff.parallel} parallel"
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


def _sweep(info: ModelInfo, requested: Requested, version: Version | None, host: HostMemory,
           era: Era) -> tuple[SweepPoint, ...]:
    """Totals from 2k to 128k tokens (doubling), stopping at the model's context_length."""
    limit = min(info.context_length or SWEEP_MAX, SWEEP_MAX)
    contexts, ctx = [], SWEEP_MIN
    while ctx < limit:
        contexts.append(ctx)
        ctx *= 2
    contexts.append(limit)
    points = []
    for context in contexts:
        eff = effective(info, replace(requested, context_length=context), version, host.gpu_budget)
        est = estimate(info, eff, era, host.device, gpu_overhead=requested.gpu_overhead)
        points.append(SweepPoint(context, est.total, fit(est, host)))
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
        context_length=w.context_length if w.context_length is not None else req.context_length,
        num_parallel=w.num_parallel if w.num_parallel is not None else req.num_parallel,
        kv_cache_type=w.kv_cache_type.lower() if w.kv_cache_type is not None else req.kv_cache_type,
        flash_attention=w.flash_attention if w.flash_attention is not None else req.flash_attention,
        max_loaded_models=req.max_loaded_models, gpu_overhead=req.gpu_overhead)


def _together(rows: list[ModelRow], req: Requested, host: HostMemory) -> tuple[int, int, bool] | None:
    totals = [r.estimate.total for r in rows if r.estimate is not None]
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

