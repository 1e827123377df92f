#!/usr/bin/env python3
"""STAND-IN for `ollama` in tests: NOT the real Ollama server.

The real server cannot run here, so tests supervise this script instead. It imitates what
ollama-sync observes of `ollama serve`, from Ollama's source (envconfig, server/routes.go):
- `ollama --version` prints `ollama version is X` (X from STANDIN_VERSION, default 0.32.15);
- `ollama serve` parses OLLAMA_HOST as envconfig.Host does, logs `msg="server config" env="map[…]"`
  with every variable it knows (unknown ones absent) and `Listening on … (version X)`, then binds;
  a taken port gives `Error: listen tcp …: bind: address already in use` and exit 1;
- answers `/`, `/api/version`, `/api/tags`, `/api/ps`, `/api/pull` (streamed NDJSON), `/api/delete`.
Failure modes, from STANDIN_FAIL: `exit-at-start`, `slow-start:SECONDS`, `never-healthy`,
`pull-fail-after:N[:K]` (the pull stream breaks after N progress lines; only the first K pulls when K is given).
Installed models live in `<OLLAMA_MODELS>/standin-models.json`. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

VERSION = os.environ.get("STANDIN_VERSION", "0.32.15")
KNOWN = (  # what a 0.2x/0.3x server prints in its `server config` map
    "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "OLLAMA_CONTEXT_LENGTH", "OLLAMA_DEBUG", "OLLAMA_FLASH_ATTENTION",
    "OLLAMA_GPU_OVERHEAD", "OLLAMA_HOST", "OLLAMA_KEEP_ALIVE", "OLLAMA_KV_CACHE_TYPE", "OLLAMA_LLM_LIBRARY",
    "OLLAMA_LOAD_TIMEOUT", "OLLAMA_MAX_LOADED_MODELS", "OLLAMA_MAX_QUEUE", "OLLAMA_MODELS", "OLLAMA_NOPRUNE",
    "OLLAMA_NO_CLOUD", "OLLAMA_NUM_PARALLEL", "OLLAMA_ORIGINS", "OLLAMA_SCHED_SPREAD",
)
BOOLS = {"OLLAMA_FLASH_ATTENTION", "OLLAMA_NOPRUNE", "OLLAMA_NO_CLOUD", "OLLAMA_SCHED_SPREAD"}
UINTS = {"OLLAMA_CONTEXT_LENGTH": 0, "OLLAMA_GPU_OVERHEAD": 0, "OLLAMA_MAX_LOADED_MODELS": 0,
         "OLLAMA_MAX_QUEUE": 512, "OLLAMA_NUM_PARALLEL": 1}
DURATIONS = {"OLLAMA_KEEP_ALIVE", "OLLAMA_LOAD_TIMEOUT"}
BUILTIN_ORIGINS = [f"{s}://{h}{p}" for h in ("localhost", "127.0.0.1", "0.0.0.0") for s in ("http", "https")
                   for p in ("", ":*")] + ["app://*", "file://*", "tauri://*", "vscode-webview://*"]


def log(message: str, level: str = "INFO", **fields: object) -> None:
    """One slog-style line on stderr, as the server writes them."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    extra = "".join(f" {k}={json.dumps(str(v))}" for k, v in fields.items())
    print(f"time={stamp} level={level} source=standin.go:1 msg={json.dumps(message)}{extra}", file=sys.stderr,
          flush=True)


def var(key: str) -> str:
    return os.environ.get(key, "").strip().strip("\"'")


def host() -> tuple[str, str, int]:
    """scheme, host, port, as envconfig.Host parses OLLAMA_HOST."""
    raw, scheme, port = var("OLLAMA_HOST").strip(), "http", 11434
    if "://" in raw:
        scheme, raw = raw.split("://", 1)
        port = {"http": 80, "https": 443}.get(scheme, 11434)
    raw = raw.split("/", 1)[0]
    match = re.fullmatch(r"\[([^\]]*)\]:(.*)|([^:]*):([^:]*)", raw)
    if match:
        name, text = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(3),
                                                                                          match.group(4))
        if text.isdigit() and int(text) <= 65535:
            port = int(text)
        else:
            log("invalid port, using default", "WARN", port=text, default=port)
        return scheme, name, port
    return scheme, raw.strip("[]") or "127.0.0.1", port


def go_duration(seconds: float) -> str:
    """time.Duration.String() for whole seconds."""
    if seconds == 0:
        return "0s"
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{s}s"


def duration(key: str) -> str:
    text = var(key)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if text and parts and "".join(a + b for a, b in parts) == text:
        return go_duration(sum(float(a) * units[b] for a, b in parts))
    if re.fullmatch(r"-?\d+", text):
        value = int(text)
        return "2562047h47m16.854775807s" if value < 0 else go_duration(value)
    return "5m0s"


def resolved(key: str, url: str) -> str:
    text = var(key)
    if key == "OLLAMA_HOST":
        return url
    if key in BOOLS:
        return "false" if text in ("", "0", "f", "F", "false", "FALSE", "False") else "true"
    if key in UINTS:
        if text and not text.isdigit():
            log("invalid environment variable, using default", "WARN", key=key, value=text, default=UINTS[key])
            return str(UINTS[key])
        return text or str(UINTS[key])
    if key in DURATIONS:
        return duration(key)
    if key == "OLLAMA_MODELS":
        return text or str(Path.home() / ".ollama" / "models")
    if key == "OLLAMA_DEBUG":
        return "DEBUG" if text in ("1", "true") else "INFO"
    if key == "OLLAMA_ORIGINS":
        extra = [o.strip() for o in text.split(",") if o.strip()]
        return "[" + " ".join(extra + BUILTIN_ORIGINS) + "]"
    return text


class State:
    """Installed models, persisted next to the models so restarts keep them."""

    def __init__(self) -> None:
        self.path = Path(var("OLLAMA_MODELS") or Path.home() / ".ollama" / "models") / "standin-models.json"
        self.lock = threading.Lock()

    def models(self) -> list[str]:
        try:
            return list(json.loads(self.path.read_text()))
        except (OSError, ValueError):
            return []

    def save(self, models: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(sorted(set(models))))


def tag_entry(name: str) -> dict[str, Any]:
    full = name if ":" in name else f"{name}:latest"
    digest = hashlib.sha256(full.encode()).hexdigest()
    return {"name": full, "model": full, "modified_at": "2026-01-01T00:00:00Z", "size": 1000, "digest": digest,
            "details": {"format": "gguf", "family": "llama", "parameter_size": "8B", "quantization_level": "Q4_K_M"}}


class Handler(BaseHTTPRequestHandler):
    server_version = "ollama-standin"
    state = State()
    fail = os.environ.get("STANDIN_FAIL", "")
    pulls = 0

    def log_message(self, format: str, *args: Any) -> None:  # BaseHTTPRequestHandler's name
        log(f"[GIN] {self.command} {self.path}", code=args[1] if len(args) > 1 else "")

    def send(self, code: int, body: object, content_type: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # http.server's method name
        if self.fail == "never-healthy":
            self.send(500, {"error": "stand-in told never to be healthy"})
        elif self.path == "/":
            self.send(200, "Ollama is running", "text/plain; charset=utf-8")
        elif self.path == "/api/version":
            self.send(200, {"version": VERSION})
        elif self.path == "/api/tags":
            self.send(200, {"models": [tag_entry(m) for m in self.state.models()]})
        elif self.path == "/api/ps":
            self.send(200, {"models": []})
        else:
            self.send(404, "404 page not found", "text/plain")

    def do_HEAD(self) -> None:
        self.do_GET()

    def body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return dict(json.loads(self.rfile.read(length) or b"{}"))

    def do_DELETE(self) -> None:
        name = self.body().get("model", "")
        with self.state.lock:
            models = self.state.models()
            full = name if ":" in name else f"{name}:latest"
            if full not in models:
                self.send(404, {"error": f"model '{name}' not found"})
                return
            self.state.save([m for m in models if m != full])
        self.send(200, "")

    def do_POST(self) -> None:
        if self.path != "/api/pull":
            self.send(404, "404 page not found", "text/plain")
            return
        request = self.body()
        name = request.get("model") or request.get("name") or ""
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        fail_after = int(self.fail.split(":")[1]) if self.fail.startswith("pull-fail-after:") else -1
        with self.state.lock:
            Handler.pulls += 1
            if self.fail.count(":") == 2 and Handler.pulls > int(self.fail.split(":")[2]):
                fail_after = -1  # only the first K pulls fail
        digest = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
        lines: list[dict[str, Any]] = [{"status": "pulling manifest"}]
        lines += [{"status": f"pulling {digest[7:19]}", "digest": digest, "total": 1000, "completed": c}
                  for c in (0, 250, 500, 750, 1000)]
        lines += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"}, {"status": "success"}]
        for index, line in enumerate(lines):
            if index == fail_after:
                self.wfile.write(json.dumps({"error": "stand-in: connection reset by registry"}).encode() + b"\n")
                self.wfile.flush()
                return
            self.wfile.write(json.dumps(line).encode() + b"\n")
            self.wfile.flush()
            time.sleep(0.01)
        full = name if ":" in name else f"{name}:latest"
        with self.state.lock:
            self.state.save([*self.state.models(), full])


class DualStackServer(ThreadingHTTPServer):
    address_family = socket.AF_INET
    allow_reuse_address = True  # like Go's listener (SO_REUSEADDR), so a restart can rebind at once


def serve() -> int:
    scheme, name, port = host()
    url = f"{scheme}://{'[' + name + ']' if ':' in name else name}:{port}"
    fail = os.environ.get("STANDIN_FAIL", "")
    misreported = fail.split(":", 1)[1] if fail.startswith("misreport:") else None
    env = " ".join(f"{k}:{'misreported' if k == misreported else resolved(k, url)}" for k in KNOWN)
    log("server config", env=f"map[{env}]")
    if fail == "exit-at-start":
        print("Error: stand-in told to exit at start", file=sys.stderr, flush=True)
        return 1
    if fail.startswith("slow-start:"):
        time.sleep(float(fail.split(":", 1)[1]))
    DualStackServer.address_family = socket.AF_INET6 if ":" in name else socket.AF_INET
    try:
        server = DualStackServer((name or "0.0.0.0", port), Handler)  # as the real server does
    except OSError as exc:
        # Go prints strerror: EADDRINUSE, and EADDRNOTAVAIL for a host not (yet) on this machine (Tailscale).
        reason = {98: "bind: address already in use", 99: "bind: cannot assign requested address"}.get(
            exc.errno or 0, str(exc))
        print(f"Error: listen tcp {name}:{port}: {reason}", file=sys.stderr, flush=True)
        return 1
    log(f"Listening on {name}:{port} (version {VERSION})")
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    server.serve_forever(poll_interval=0.05)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] in (["--version"], ["-v"]):
        print(f"ollama version is {VERSION}")
        return 0
    if argv[:1] == ["serve"]:
        return serve()
    print("stand-in ollama: only `serve` and `--version` are implemented", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
