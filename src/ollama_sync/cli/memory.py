"""`ollama-sync memory [MODEL…]`: per-model memory at the declared settings, what-ifs, a context sweep, --json."""

from __future__ import annotations

import re
from typing import Final

import click

from ollama_sync.app.context import Context
from ollama_sync.app.memory import MemoryReport, ModelRow, WhatIf, run_memory
from ollama_sync.cli.options import version_option
from ollama_sync.cli.output import emit_json, print_findings
from ollama_sync.core.catalog import KV_CACHE_TYPES_CLASSIC, KV_CACHE_TYPES_LLAMA_SERVER
from ollama_sync.core.findings import has_errors
from ollama_sync.core.memory.fit import Verdict
from ollama_sync.core.memory.llama_cpp import DevicePlacement

_SIZE_RE: Final = re.compile(r"^\s*(\d{1,15}(?:\.\d{1,15})?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)
KV_CACHE_TYPES: Final = sorted({*KV_CACHE_TYPES_CLASSIC, *KV_CACHE_TYPES_LLAMA_SERVER})  # any release's
_UNITS: Final = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_BAR: Final = 40
_COLOURS: Final = {Verdict.GPU: "green", Verdict.CPU: "green", Verdict.SPILL: "yellow", Verdict.NO: "red"}


def parse_size(text: str) -> int:
    """"64G", "24GiB", "16384M", "1073741824" → bytes (binary units)."""
    match = _SIZE_RE.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not a size; write e.g. 64G, 24GiB or 16384M")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def human(n: int) -> str:
    """Binary units with one decimal, like Ollama's format.HumanBytes2."""
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


@click.command(name="memory")
@click.argument("models", nargs=-1, metavar="[MODEL]...")
@click.option("--context", "context", type=click.IntRange(min=1), help="What if: context length per request.")
@click.option("--parallel", type=click.IntRange(min=1), help="What if: parallel requests per model.")
@click.option("--kv-cache-type", type=click.Choice(KV_CACHE_TYPES, case_sensitive=False),
              help="What if: KV cache type.")
@click.option("--flash-attention/--no-flash-attention", "flash_attention", default=None,
              help="What if: flash attention on or off.")
@click.option("--sweep", type=click.Choice(["context"]), help="Chart the total across context lengths 2k…128k.")
@click.option("--ram", metavar="SIZE", help="What if: plan for a machine with this much RAM (e.g. 64G).")
@click.option("--gpu-memory", metavar="SIZE", help="What if: the GPU may use this much memory (e.g. 24G).")
@version_option
@click.pass_obj
def command(ctx: Context, models: tuple[str, ...], context: int | None, parallel: int | None,  # noqa: PLR0917  # click passes every option
            kv_cache_type: str | None, flash_attention: bool | None, sweep: str | None, ram: str | None,
            gpu_memory: str | None, version_text: str | None) -> int:
    """Estimate weights, KV cache, graph and total per installed model, and whether it fits this machine.

    Exit 0 when every model fits, 1 when one does not fit or cannot be read, 2 on usage or config errors.
    """
    what_if = WhatIf(context, parallel, kv_cache_type, flash_attention,
                     None if ram is None else parse_size(ram), None if gpu_memory is None else parse_size(gpu_memory))
    report = run_memory(ctx, models, what_if, version_text=version_text, sweep=sweep is not None)
    if ctx.options.json:
        emit_json("memory", _json(report))
    else:
        _print(report)
    return 0 if report.ok and not has_errors(report.findings) else 1


def _print(report: MemoryReport) -> None:
    version = f"Ollama {report.version}" if report.version else "Ollama version unknown (newest rules)"
    eras = sorted({r.era for r in report.rows if r.era is not None})
    click.echo(f"{version}: no model read" if not eras else "\n".join(f"{version}: {e.description}" for e in eras))
    host = report.host
    gpu = host.gpu_source
    if host.gpu_budget:
        gpu = f"{host.gpu_name}: {human(host.gpu_budget)} usable ({host.gpu_source})"
    click.echo(f"machine: {human(host.total)} RAM, {human(host.available)} available; {gpu}")
    click.echo(f"models: {report.models_dir}")
    if not report.rows:
        click.echo("no models installed")
    else:
        click.echo("")
        _table(report.rows)
        for row in report.rows:
            if row.sweep:
                click.echo("")
                _chart(row, report)
    if report.together is not None:
        count, combined, fits = report.together
        state = "fit together" if fits else "do not fit together"
        era = any(r.estimate is not None and r.estimate.preflight is not None for r in report.rows)
        how = " by Ollama's pre-flight (what its scheduler evicts by)" if era else ""
        click.echo(f"\nthe {count} largest models loaded at once (OLLAMA_MAX_LOADED_MODELS){how}: "
                   f"{human(combined)}, {state}")
    if report.findings:
        click.echo("")
        print_findings(report.findings)


def _table(rows: tuple[ModelRow, ...]) -> None:
    header = ("MODEL", "CONTEXT", "KV TYPE", "FA", "WEIGHTS", "KV CACHE", "GRAPH", "OVERHEAD", "TOTAL", "FITS?")
    lines = [header]
    for r in rows:
        if r.not_estimated:
            lines.append((r.name, "-", "-", "-", "-", "-", "-", "-", "-", "not estimated: " + r.not_estimated))
            continue
        if r.estimate is None or r.effective is None or r.fit is None:
            lines.append((r.name, "-", "-", "-", "-", "-", "-", "-", "-", "unreadable (see below)"))
            continue
        e, eff = r.estimate, r.effective
        lines.append((r.name, f"{eff.context}×{eff.parallel}", eff.kv_type, "on" if eff.flash_attention else "off",
                      human(e.weights), human(e.kv), human(r.fit.graph(e)), human(e.overhead), human(r.fit.total),
                      r.fit.describe()))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        text = "  ".join(cell.ljust(widths[i]) if i < 1 or i == len(line) - 1 or n == 0 else cell.rjust(widths[i])
                         for i, cell in enumerate(line)).rstrip()
        click.echo(click.style(text, bold=True) if n == 0 else text)
    for r in rows:
        for note in _notes(r):
            click.echo(f"  {r.name}: {note}")


def _notes(r: ModelRow) -> list[str]:
    """The lines under the table for one model: where the context came from, the era's details, the live check."""
    e, eff = r.estimate, r.effective
    if e is None or eff is None or r.fit is None:
        return []
    notes = [f"context {eff.context} from {eff.context_source}", *eff.notes]
    if e.server is not None:
        parts = ", ".join(f"{p.name + ' ' if p.name else ''}{p.streams}×{p.cells} cells × {len(p.layers)} layers"
                          for p in e.server.kv_parts)
        if e.server.recurrent:  # mamba/rwkv layers and the recurrent layers of hybrid models
            parts += f"{', ' if parts else ''}recurrent state {human(e.server.recurrent)}"
        compute = f"compute buffer ≈{human(e.server.compute)} (graph)"
        if r.fit.compute is not None:  # split: the GRAPH column sums each device's buffer and the CPU's
            compute = f"compute buffer ≈{human(e.server.compute)} on one backend (graph: per device, as placed below)"
        notes.append(f"llama-server: KV {human(e.server.kv)} ({parts}), {compute}, "
                     f"output buffer {human(e.server.output)} (overhead)")
        if e.preflight is not None:
            notes.append(f"Ollama's pre-flight (file size + f16 KV, decides evictions): {human(e.preflight)}")
    if e.projector:
        notes.append(_projector_note(r))
    if len(r.fit.devices) > 1 or (r.fit.devices and r.fit.verdict.name == "SPILL") or r.fit.host_name:
        notes.append("per device: " + ", ".join(_device(d, bool(r.fit.host_name)) for d in r.fit.devices)
                     + (f"; {r.fit.host_name} compute buffer {human(r.fit.host_compute)} in system memory"
                        if r.fit.host_name else ""))
    if r.live is not None:
        notes.append(f"running server (/api/ps): size {human(r.live.size)}, in GPU {human(r.live.size_vram)}; "
                     f"estimate {human(r.live.estimate)} ({r.live.difference:+.0%})")
    return notes


def _device(d: DevicePlacement, with_compute: bool) -> str:
    compute = f" (compute {human(d.compute)})" if with_compute else ""
    return f"{d.name} {d.layers} layers {human(d.bytes)}{compute} of {human(d.budget)}"


def _projector_note(r: ModelRow) -> str:
    """What the projector adds: its weights, and in the llama-server era its compute buffer or why it is not known."""
    e = r.estimate
    assert e is not None  # only estimated rows have notes
    text = f"projector weights {human(e.projector)}"
    p = r.projector
    if p is not None and p.bytes:
        text += (f" + compute buffer {human(p.bytes)} (warm-up image {p.warmup_image}×{p.warmup_image}, flash "
                 f"attention {'on' if r.effective and r.effective.flash_attention else 'off'})")
    text += " counted"
    if p is not None and p.note:
        text += f"; {p.note}"
    return text + (" (llama-server keeps 1 GiB more free on the GPU)" if e.server else "")


def _chart(row: ModelRow, report: MemoryReport) -> None:
    eff = row.effective
    assert eff is not None  # rows with a sweep were estimated
    budget = report.host.gpu_budget or report.host.available
    label = "GPU budget" if report.host.gpu_budget else "available RAM"
    click.echo(click.style(f"{row.name}: total by context length ({eff.kv_type} KV, {eff.parallel} parallel); "
                           f"┊ = {label} {human(budget)}", bold=True))
    top = max([p.total for p in row.sweep] + [budget])
    mark = min(round(budget / top * _BAR), _BAR - 1)
    for p in row.sweep:
        length = max(round(p.total / top * _BAR), 1)
        cells = ["█" if i < length else ("┊" if i == mark else " ") for i in range(_BAR)]
        bar = click.style("".join(cells), fg=_COLOURS[p.fit.verdict])
        click.echo(f"{_tokens(p.context):>6} {bar} {human(p.total):>10}  {p.fit.describe()}")


def _tokens(n: int) -> str:
    return f"{n // 1024}k" if n % 1024 == 0 else str(n)


def _json(report: MemoryReport) -> dict[str, object]:
    host = report.host
    return {
        "ok": report.ok and not has_errors(report.findings),
        "ollama_version": None if report.version is None else str(report.version),
        "models_path": report.models_dir,
        "host": {"ram_total": host.total, "ram_available": host.available, "device": host.device.value,
                 "gpu_budget": host.gpu_budget, "gpu_source": host.gpu_source,
                 "gpus": [{"device": g.device, "name": g.name, "total": g.total, "free": g.free, "source": g.source}
                          for g in host.gpus]},
        "models": [_row_json(r) for r in report.rows],
        "loaded_together": None if report.together is None else dict(zip(("models", "total", "fits"),
                                                                          report.together, strict=True)),
        "findings": [f.to_json() for f in report.findings],
    }


def _row_json(r: ModelRow) -> dict[str, object]:
    doc: dict[str, object] = {"name": r.name, "file": r.file, "readable": r.estimate is not None}
    if r.not_estimated:
        doc["not_estimated"] = r.not_estimated
    if r.estimate is None or r.effective is None or r.fit is None or r.info is None:
        return doc
    e, eff = r.estimate, r.effective
    doc.update({
        "architecture": r.info.architecture, "era": e.era.value, "device": e.device.value,
        "context": eff.context, "parallel": eff.parallel, "kv_cache_type": eff.kv_type,
        "flash_attention": eff.flash_attention, "weights": e.weights, "kv_cache": e.kv, "graph": r.fit.graph(e),
        "overhead": e.overhead, "total": r.fit.total, "kv_allocated": e.kv_allocated,
        "fits": r.fit.fits, "verdict": r.fit.verdict.name.lower(), "gpu_layers": r.fit.gpu_layers,
        "layers": r.fit.layers, "notes": list(eff.notes), "context_source": eff.context_source,
        "preflight": e.preflight, "projector": e.projector, "projector_compute": e.projector_compute,
        "projector_note": r.projector.note if r.projector is not None else "",
        "server": None if e.server is None else {
            "kv_caches": [{"name": p.name, "cells": p.cells, "layers": len(p.layers), "k": p.k_bytes, "v": p.v_bytes}
                          for p in e.server.kv_parts],
            "recurrent": e.server.recurrent, "output_buffer": e.server.output, "compute_buffer": e.server.compute},
        "devices": [{"name": d.name, "layers": d.layers, "bytes": d.bytes, "budget": d.budget, "compute": d.compute}
                    for d in r.fit.devices],
        "host_compute": None if not r.fit.host_name else {"name": r.fit.host_name, "bytes": r.fit.host_compute},
        "live": None if r.live is None else {"size": r.live.size, "size_vram": r.live.size_vram,
                                             "context_length": r.live.context_length, "estimate": r.live.estimate,
                                             "difference": round(r.live.difference, 4)},
        "sweep": [{"context": p.context, "total": p.total, "verdict": p.fit.verdict.name.lower()} for p in r.sweep],
    })
    return doc
