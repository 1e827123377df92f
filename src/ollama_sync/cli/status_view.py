"""`status` output: the documented JSON object, and the same content as text (rich on a terminal, plain piped)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from ollama_sync.app.status import StatusResult
from ollama_sync.core.drift import Cell, Mark

_SYMBOL = {Mark.IN_SYNC: "✓", Mark.DIFFERENT: "✗", Mark.MISSING: "✗", Mark.EXTRA: "+", Mark.UNKNOWN: "?",
           Mark.NOT_REPORTED: "–", Mark.UNREAD: "!"}
_STYLE = {Mark.IN_SYNC: "green", Mark.DIFFERENT: "red", Mark.MISSING: "red", Mark.EXTRA: "yellow",
          Mark.UNKNOWN: "dim", Mark.NOT_REPORTED: "dim", Mark.UNREAD: "yellow"}


def status_json(result: StatusResult) -> dict[str, Any]:
    """The status document (README "status --json")."""
    obs = result.observation
    return {
        "ok": result.ok, "in_sync": result.in_sync, "healthy": result.healthy,
        "source": obs.prepared.declaration.source, "recovered": result.recovered,
        "recovery_error": result.recovery_error,
        "service": result.service_json(),
        "settings": [row.to_json() for row in result.rows],
        "server": _server_json(result),
        "loaded_models": None if obs.loaded is None else [_loaded(m, result) for m in obs.loaded],
        "installed_models": None if obs.installed is None else [_installed(m) for m in obs.installed],
        "problems": result.problems(), "warnings": result.warnings(),
        "disabled": not obs.prepared.declaration.settings.enable,
        "watch": None if result.watch is None else result.watch.to_json(),
    }


def _server_json(result: StatusResult) -> dict[str, Any]:
    obs = result.observation
    config = obs.server_config
    ts = obs.tailscale
    return {
        "checked": obs.live, "listen": obs.listen.listen, "version": obs.api_version,
        "declared_address_answered": result.declared_address_answered if obs.live else None,
        "config_logged": config is not None, "config_version": config.version if config else None,
        "answered_on": [p.address.ip for p in obs.answered],
        "addresses": [{"address": p.address.ip, "interface": p.address.interface, "kind": p.address.kind.value,
                       "url": p.url, "answered": p.answered, "version": p.version, "error": p.error,
                       "elapsed_ms": round(p.elapsed * 1000, 1)} for p in obs.probes],
        "tailscale": None if obs.tailscale_cli is None else {
            "installed": True, "running": bool(ts and ts.running), "backend_state": ts.backend_state if ts else None,
            "ips": list(ts.ips) if ts else [], "dns_name": ts.dns_name if ts else None},
    }


def _loaded(model: dict[str, Any], result: StatusResult) -> dict[str, Any]:
    name = str(model.get("name") or "")
    check = next((c for c in result.memory if c.name in (name, f"{name}:latest")), None)
    return {"name": model.get("name"), "size": model.get("size"), "size_vram": model.get("size_vram"),
            "context_length": model.get("context_length"), "expires_at": model.get("expires_at"),
            "estimate": None if check is None else check.estimate,
            "estimate_difference": None if check is None else round(check.difference, 4)}


def _estimate(model: dict[str, Any]) -> str:
    """`memory`'s estimate and its difference from /api/ps size: "4.9 GiB (+3%)"."""
    if model["estimate"] is None:
        return "–"
    return f"{_size(model['estimate'])} ({model['estimate_difference']:+.0%})"


def _installed(model: dict[str, Any]) -> dict[str, Any]:
    details = model.get("details") or {}
    return {"name": model.get("name"), "size": model.get("size"), "modified_at": model.get("modified_at"),
            "parameter_size": details.get("parameter_size"), "quantization_level": details.get("quantization_level")}


@dataclass(frozen=True)
class Block:
    """A titled table: headers and rows of (text, style) cells; or lines of text when headers is empty."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[tuple[str, str], ...], ...]


def _cell(cell: Cell) -> tuple[str, str]:
    symbol = _SYMBOL[cell.mark]
    if cell.mark is Mark.IN_SYNC:
        return symbol, _STYLE[cell.mark]
    detail = {Mark.MISSING: "missing", Mark.UNKNOWN: "", Mark.NOT_REPORTED: "",
              Mark.UNREAD: "not read by this server"}.get(cell.mark, cell.value or "")
    return f"{symbol} {detail}".rstrip(), _STYLE[cell.mark]


def blocks(doc: dict[str, Any], result: StatusResult) -> list[Block]:
    """The human view of the document, as titled tables."""
    out = [_service_block(doc["service"])]
    rows = tuple(((row.variable, "bold"), (row.declared if row.declared is not None else "(not declared)", ""),
                  _cell(row.file), _cell(row.manager), _cell(row.server)) for row in result.rows)
    out.append(Block("settings", ("variable", "declared", "file", "manager", "server"), rows))
    out.extend(_server_block(doc["server"]))
    if doc["loaded_models"] is not None:
        out.append(Block(f"loaded models ({len(doc['loaded_models'])})", ("name", "size", "in GPU", "context",
                                                                          "estimate", "expires"),
                         tuple(((m["name"] or "", ""), (_size(m["size"]), ""), (_size(m["size_vram"]), ""),
                                (str(m["context_length"] or "–"), ""), (_estimate(m), ""),
                                (str(m["expires_at"] or "–"), ""))
                               for m in doc["loaded_models"])))
    if doc["installed_models"] is not None:
        out.append(Block(f"installed models ({len(doc['installed_models'])})", ("name", "size", "parameters",
                                                                                "quantization", "modified"),
                         tuple(((m["name"] or "", ""), (_size(m["size"]), ""), (m["parameter_size"] or "–", ""),
                                (m["quantization_level"] or "–", ""), (str(m["modified_at"] or "–")[:19], ""))
                               for m in doc["installed_models"])))
    if doc["watch"] is not None:
        out.append(_watch_block(doc["watch"]))
    if doc["warnings"]:
        out.append(Block("warnings", (), tuple(((line, "yellow"),) for line in doc["warnings"])))
    if doc["problems"]:
        out.append(Block("problems", (), tuple(((line, "red"),) for line in doc["problems"])))
    return out


def _watch_block(run: dict[str, Any]) -> Block:
    """The newest run of the installed watcher: a failure there is a change that did not land."""
    verdict = "ok" if run["ok"] else f"FAILED (exit {run['exit_code']})"
    line = f"last run {run['time']} ({run['trigger']}): {verdict} — {run['message']}"
    return Block("watcher", (), (((line, "green" if run["ok"] else "red"),),))


def _service_block(svc: dict[str, Any]) -> Block:
    lines = [(f"{svc['manager']} {svc['label']}" + (f" ({svc['domain']})" if svc["domain"] else ""), "bold"),
             (f"file: {svc['file']}", "")]
    if not svc["checked"]:
        lines.append((svc["detail"], "dim"))
    elif svc["state"] is None:
        lines.append(("state unknown: the service manager could not be asked", "yellow"))
    else:
        parts = [svc["state"]] + ([f"pid {svc['pid']}"] if svc["pid"] else [])
        if svc["uptime_seconds"] is not None:
            parts.append(f"up {_duration(svc['uptime_seconds'])}")
        if svc["last_exit"] is not None:
            parts.append(f"last exit {svc['last_exit']} ({svc['last_exit_meaning']})")
        if svc["enabled"] is False:
            parts.append("DISABLED")
        style = "green" if svc["running"] and not svc["last_exit_failed"] else "yellow" if svc["running"] else "red"
        lines.append((" · ".join(parts), style))
        lines += [(f"warning: {warning}", "yellow") for warning in svc.get("warnings") or ()]
    return Block("service", (), tuple((line,) for line in lines))


def _server_block(srv: dict[str, Any]) -> list[Block]:
    if not srv["checked"]:
        return [Block("server", (), ((("not probed under --root", "dim"),),))]
    head = f"Ollama {srv['version']} on {srv['listen']}" if srv["version"] else f"no answer on {srv['listen']}"
    lines = [(head, "green" if srv["declared_address_answered"] else "red")]
    ts = srv["tailscale"] or {}
    if srv["tailscale"] is not None and not ts.get("running"):
        lines.append((f"tailscale installed, not running ({ts.get('backend_state') or 'no answer'})", "dim"))
    if not srv["config_logged"]:
        lines.append(("no `server config` line in the server's log: the server column cannot be read", "yellow"))
    rows = []
    for probe in srv["addresses"]:
        name = f" ({ts['dns_name']})" if probe["kind"] == "tailscale" and ts.get("dns_name") else ""
        answer = ("answered", "green") if probe["answered"] else (f"no answer: {probe['error']}", "dim")
        rows.append(((probe["url"], ""), (probe["kind"] + name, ""), answer))
    return [Block("server", (), tuple((line,) for line in lines)),
            Block("addresses of this machine", ("url", "kind", "answer"), tuple(rows))]


def _size(value: Any) -> str:
    if not isinstance(value, int):
        return "–"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def _duration(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {int(seconds) % 60:02d}s"


def verdict(doc: dict[str, Any]) -> tuple[str, str]:
    """The last line: in sync and healthy, or what is not."""
    if doc["ok"]:
        note = "" if doc["healthy"] is not None else " (files only: nothing live was checked under --root)"
        if doc["disabled"]:
            return "disabled, as declared: no service file and no server running" + note, "green"
        warned = f" ({len(doc['warnings'])} warning(s) above)" if doc["warnings"] else ""
        return "in sync and healthy" + note + warned, "green"
    drifting = [r["variable"] for r in doc["settings"] if not r["in_sync"]]
    parts = [f"not in sync: {', '.join(drifting)}" if drifting else ("not in sync: the service file"
                                                                     if not doc["in_sync"] else "")]
    if doc["healthy"] is False:
        parts.append("not healthy: " + ("the service is not running" if not doc["service"]["running"]
                                        else "the API does not answer on the declared address"))
    return "; ".join(p for p in parts if p) + " — run `ollama-sync doctor` for the fixes", "red"


def print_plain(items: list[Block], final: tuple[str, str]) -> None:
    """Aligned columns without colour (piped output)."""
    for block in items:
        click.echo(f"{block.title}:")
        if not block.rows:
            click.echo("  (none)")
            continue
        table = [block.headers, *[tuple(text for text, _ in row) for row in block.rows]] if block.headers else \
            [tuple(text for text, _ in row) for row in block.rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))] if table else []
        for row in table:
            click.echo("  " + "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip())
    click.echo(final[0])


def print_rich(items: list[Block], final: tuple[str, str]) -> None:
    """Tables and colour through rich (imported only on a terminal)."""
    from rich.console import Console  # noqa: PLC0415  # 30-45 ms (rich): only on a terminal
    from rich.table import Table  # noqa: PLC0415  # as above
    from rich.text import Text  # noqa: PLC0415  # as above

    console = Console()
    for block in items:
        if not block.rows:
            console.print(Text(block.title, style="bold"), Text("(none)", style="dim"))
            continue
        table = Table(title=block.title, title_justify="left", title_style="bold",
                      show_header=bool(block.headers), box=None, pad_edge=False)
        for header in block.headers or ("",):
            table.add_column(header)
        for row in block.rows:
            table.add_row(*(Text(text, style=style) for text, style in row))
        console.print(table)
    console.print(Text(final[0], style=f"bold {final[1]}"))
