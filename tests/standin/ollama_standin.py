#!/usr/bin/env python3
"""STAND-IN for `ollama` in tests: NOT the real Ollama server.

The real server cannot run here, so tests supervise this script instead. It copies what ollama-sync
observes of `ollama serve` from Ollama v0.32.15 (tag b7871fc0; read with `git show v0.32.15:<path>`):
- `cmd/cmd.go` RunServer: `net.Listen("tcp", envconfig.Host().Host)` comes FIRST; a failure is returned
  to `cobra.CheckErr` (main.go; the root command has SilenceErrors), which prints
  `Error: listen tcp 127.0.0.1:11434: bind: address already in use` on stderr and exits 1 — before any
  `server config` line is written;
- `server/routes.go` Serve, after the bind: `slog.Info("server config", "env", envconfig.Values())`, then
  `Ollama cloud disabled: <bool>`, then `Listening on <ln.Addr()> (version X)`; the log is slog's
  TextHandler with AddSource (`logutil.NewLogger`): `time=… level=INFO source=routes.go:1951 msg=…`;
- `envconfig/config.go` AsMap/Values: every key of the release (below), each value `fmt.Sprintf("%v")`,
  the whole map printed by fmt, which sorts the keys (upper case before lower case): the lower-case
  `http_proxy`/`https_proxy`/`no_proxy` come last on non-Windows (since v0.3.11); the GPU-selection keys
  are absent on darwin; `OLLAMA_NO_CLOUD` is true when `~/.ollama/server.json` has `disable_ollama_cloud`
  even if the variable says 0 (`NoCloud`); `OLLAMA_ORIGINS` entries are split on "," and not trimmed.
Not copied: the keypair generation before the bind (`initializeKeypair` writes ~/.ollama/id_ed25519).

`ollama --version` prints `ollama version is X` (X from STANDIN_VERSION, default 0.32.15).
Answers `/`, `/api/version`, `/api/tags`, `/api/ps`, `/api/pull` (streamed NDJSON), `/api/delete`.
Failure modes, from STANDIN_FAIL: `exit-at-start` (exit 1 after the config line, as a failed prune or
blob fix does), `port-taken` (the bind fails as if another server held the port), `slow-start:SECONDS`,
`never-healthy`, `misreport:VAR`, `pull-fail-after:N[:K]` (the pull stream breaks after N progress lines;
only the first K pulls when K is given).

App mode (`ollama_standin.py app`, installed by tests/standin.install_fake_app as
`…/Ollama.app/Contents/MacOS/Ollama`): behaves like the Go desktop app (`app/server/server.go` Run):
runs `…/Contents/Resources/ollama serve` (OLLAMA_HOST as inherited, else the default 127.0.0.1:11434),
writes its pid to STANDIN_APP_PIDFILE, restarts it 1 s after it exits, and after the first exit status 1
SIGTERMs every other `ollama serve` (`reapServers`) — only those whose command line or HOME lies under
STANDIN_REAP_ROOT, so a test never touches another test's servers; without it nothing is reaped.
Installed models live in `<OLLAMA_MODELS>/standin-models.json`. Standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

VERSION = os.environ.get("STANDIN_VERSION", "0.32.15")
GOOS = os.environ.get("STANDIN_GOOS", "darwin" if sys.platform == "darwin" else "linux")
KNOWN = (  # envconfig.AsMap at v0.32.15, every platform
    "HTTPS_PROXY", "HTTP_PROXY", "LLAMA_ARG_FIT", "LLAMA_ARG_FIT_TARGET", "NO_PROXY", "OLLAMA_CONTEXT_LENGTH",
    "OLLAMA_DEBUG", "OLLAMA_DEBUG_LOG_REQUESTS", "OLLAMA_EDITOR", "OLLAMA_FLASH_ATTENTION", "OLLAMA_GO_TEMPLATE",
    "OLLAMA_GPU_OVERHEAD", "OLLAMA_HOST", "OLLAMA_IGPU_ENABLE", "OLLAMA_KEEP_ALIVE", "OLLAMA_KV_CACHE_TYPE",
    "OLLAMA_LLM_LIBRARY", "OLLAMA_LOAD_TIMEOUT", "OLLAMA_MAX_LOADED_MODELS", "OLLAMA_MAX_QUEUE",
    "OLLAMA_MAX_TRANSFER_STREAMS", "OLLAMA_MODELS", "OLLAMA_NOHISTORY", "OLLAMA_NOPRUNE", "OLLAMA_NO_CLOUD",
    "OLLAMA_NUM_PARALLEL", "OLLAMA_ORIGINS", "OLLAMA_REMOTES", "OLLAMA_SCHED_SPREAD",
)
NOT_WINDOWS = ("http_proxy", "https_proxy", "no_proxy")
NOT_DARWIN = ("CUDA_VISIBLE_DEVICES", "GGML_VK_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "HIP_VISIBLE_DEVICES",
              "HSA_OVERRIDE_GFX_VERSION", "OLLAMA_VULKAN", "ROCR_VISIBLE_DEVICES")
BOOLS = {"OLLAMA_FLASH_ATTENTION": "false", "OLLAMA_NOPRUNE": "false", "OLLAMA_SCHED_SPREAD": "false",
         "OLLAMA_DEBUG_LOG_REQUESTS": "false", "OLLAMA_GO_TEMPLATE": "true", "OLLAMA_NOHISTORY": "false",
         "OLLAMA_VULKAN": "true"}
UINTS = {"OLLAMA_CONTEXT_LENGTH": 0, "OLLAMA_GPU_OVERHEAD": 0, "OLLAMA_MAX_LOADED_MODELS": 0,
         "OLLAMA_MAX_QUEUE": 512, "OLLAMA_NUM_PARALLEL": 1, "OLLAMA_MAX_TRANSFER_STREAMS": 4}
DURATIONS = {"OLLAMA_KEEP_ALIVE": False, "OLLAMA_LOAD_TIMEOUT": True}  # True: zero also means "forever"
BUILTIN_ORIGINS = [o for h in ("localhost", "127.0.0.1", "0.0.0.0")
                   for o in (f"http://{h}", f"https://{h}", f"http://{h}:*", f"https://{h}:*")]
BUILTIN_ORIGINS += ["app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"]
GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")
SOURCE = {"server config": "routes.go:1951", "Listening": "routes.go:2008", "cloud": "routes.go:1953"}


def log(message: str, level: str = "INFO", source: str = "routes.go:1", **fields: object) -> None:
    """One line as slog's TextHandler writes it (values quoted only when they need it)."""
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="milliseconds")
    extra = "".join(f" {k}={quote(str(v))}" for k, v in fields.items())
    print(f"time={stamp} level={level} source={source} msg={quote(message)}{extra}", file=sys.stderr, flush=True)


def quote(text: str) -> str:
    """slog's needsQuoting/strconv.Quote: quoted when empty or holding space, `=`, `"` or a control byte."""
    if text and not any(c.isspace() or c in '="\\' or ord(c) < 0x20 for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def var(key: str) -> str:
    """envconfig.Var: surrounding spaces, then quotes, trimmed."""
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
            log("invalid port, using default", "WARN", "config.go:60", port=text, default=port)
        return scheme, name, port
    return scheme, raw.strip("[]") or "127.0.0.1", port


def go_duration(seconds: float) -> str:
    """time.Duration.String() for whole seconds."""
    if seconds == 0:
        return "0s"
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{s}s"


def duration(key: str, zero_is_forever: bool) -> str:
    text = var(key)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(-?\d+(?:\.\d+)?)(ms|h|m|s)", text)
    value: float = 300
    if text and parts and "".join(a + b for a, b in parts) == text:
        value = sum(float(a) * units[b] for a, b in parts)
    elif re.fullmatch(r"-?\d+", text):
        value = int(text)
    if value < 0 or (zero_is_forever and value == 0):
        return "2562047h47m16.854775807s"
    return go_duration(value)


def go_bool(key: str, default: str) -> str:
    """envconfig.BoolWithDefault: unset → default; a value strconv.ParseBool rejects means true."""
    text = var(key)
    if not text:
        return default
    return "false" if text in GO_FALSE else "true"


def no_cloud() -> str:
    """envconfig.NoCloud: the variable, or `disable_ollama_cloud` in ~/.ollama/server.json."""
    if go_bool("OLLAMA_NO_CLOUD", "false") == "true":
        return "true"
    try:
        data = json.loads((Path.home() / ".ollama" / "server.json").read_text())
    except (OSError, ValueError):
        return "false"
    return "true" if isinstance(data, dict) and data.get("disable_ollama_cloud") is True else "false"


def log_level() -> str:
    text = var("OLLAMA_DEBUG")
    if text in GO_TRUE:
        return "DEBUG"
    if re.fullmatch(r"-?\d+", text) and int(text) != 0:
        level = int(text) * -4
        names = ((8, "ERROR"), (4, "WARN"), (0, "INFO"), (-4, "DEBUG"))
        base, name = next(((b, n) for b, n in names if level >= b), (-4, "DEBUG"))
        return name if level == base else f"{name}{level - base:+d}"
    return "INFO"


def resolved(key: str, url: str) -> str:
    text = var(key)
    if key == "OLLAMA_HOST":
        return url
    if key == "OLLAMA_NO_CLOUD":
        return no_cloud()
    if key in BOOLS:
        return go_bool(key, BOOLS[key])
    if key in UINTS:
        if text and not text.isdigit():
            log("invalid environment variable, using default", "WARN", "config.go:263", key=key, value=text,
                default=UINTS[key])
            return str(UINTS[key])
        return str(int(text)) if text else str(UINTS[key])
    if key in DURATIONS:
        return duration(key, DURATIONS[key])
    if key == "OLLAMA_MODELS":
        return text or str(Path.home() / ".ollama" / "models")
    if key == "OLLAMA_DEBUG":
        return log_level()
    if key == "OLLAMA_ORIGINS":
        return "[" + " ".join(([*text.split(",")] if text else []) + BUILTIN_ORIGINS) + "]"
    if key == "OLLAMA_REMOTES":
        return "[" + " ".join(text.strip().split(",") if text.strip() else ["ollama.com"]) + "]"
    return text


def config_keys(goos: str = GOOS) -> list[str]:
    """The keys this platform's build prints, in fmt's order (sorted by byte value)."""
    keys = [*KNOWN]
    if goos != "windows":
        keys += NOT_WINDOWS
    if goos != "darwin":
        keys += NOT_DARWIN
    return sorted(keys)


def config_map(url: str, misreported: str | None) -> str:
    """`map[K:V …]` as fmt prints envconfig.Values()."""
    return "map[" + " ".join(f"{k}:{'misreported' if k == misreported else resolved(k, url)}"
                             for k in config_keys()) + "]"


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
    """An /api/tags entry (server/model_list_cache.go buildModelListSummary at v0.32.15): a tag ending in
    `-cloud` is a cloud model (remote_model/remote_host, no weights here), one ending in `-mlx` a safetensors
    model; the others are GGUF."""
    full = name if ":" in name else f"{name}:latest"
    digest = hashlib.sha256(full.encode()).hexdigest()
    entry: dict[str, Any] = {
        "name": full, "model": full, "modified_at": "2026-01-01T00:00:00Z", "size": 1000, "digest": digest,
        "details": {"format": "gguf", "family": "llama", "parameter_size": "8B", "quantization_level": "Q4_K_M"}}
    if full.endswith("-cloud"):
        entry.update(remote_model=full.split(":")[0] + ":" + full.split(":")[1].removesuffix("-cloud"),
                     remote_host="https://ollama.com:443", size=384)
        entry["details"] = {"format": "", "family": "", "parameter_size": "", "quantization_level": ""}
    elif full.endswith("-mlx"):
        entry["details"] = {**entry["details"], "format": "safetensors", "quantization_level": "int4"}
    return entry


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


def go_errno(exc: OSError) -> str:
    """Go's text for a syscall errno: strerror with a lower-case first letter (`address already in use`)."""
    text = os.strerror(exc.errno) if exc.errno else str(exc)
    return text[:1].lower() + text[1:]


def bind(name: str, port: int) -> DualStackServer | str:
    """net.Listen: the listener, or Go's error text (`listen tcp 127.0.0.1:11434: bind: …`)."""
    address = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
    DualStackServer.address_family = socket.AF_INET6 if ":" in name else socket.AF_INET
    try:
        return DualStackServer((name or "0.0.0.0", port), Handler)
    except socket.gaierror:
        return f"listen tcp: lookup {name}: no such host"
    except OSError as exc:
        return f"listen tcp {address}: bind: {go_errno(exc)}"


def serve() -> int:
    scheme, name, port = host()
    url = f"{scheme}://{'[' + name + ']' if ':' in name else name}:{port}"
    fail = os.environ.get("STANDIN_FAIL", "")
    listener = bind(name, port)  # RunServer binds before Serve logs anything
    if fail == "port-taken" and not isinstance(listener, str):  # another server won the race for the port
        listener.server_close()
        listener = f"listen tcp {name}:{port}: bind: {go_errno(OSError(errno.EADDRINUSE, ''))}"
    if isinstance(listener, str):
        print(f"Error: {listener}", file=sys.stderr, flush=True)
        return 1
    misreported = fail.split(":", 1)[1] if fail.startswith("misreport:") else None
    log("server config", source=SOURCE["server config"], env=config_map(url, misreported))
    log(f"Ollama cloud disabled: {no_cloud()}", source=SOURCE["cloud"])
    if fail == "exit-at-start":
        listener.server_close()
        print("Error: stand-in told to exit at start", file=sys.stderr, flush=True)
        return 1
    if fail.startswith("slow-start:"):
        time.sleep(float(fail.split(":", 1)[1]))
    host_text, bound_port = str(listener.server_address[0]), listener.server_address[1]
    shown = f"[{host_text}]:{bound_port}" if ":" in str(host_text) else f"{host_text}:{bound_port}"
    log(f"Listening on {shown} (version {VERSION})", source=SOURCE["Listening"])
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=listener.shutdown, daemon=True).start())
    listener.serve_forever(poll_interval=0.05)
    return 0


def app(server: str) -> int:
    """Ollama.app's server loop (app/server/server.go Run): start, wait, restart after 1 s; reap once on exit 1."""
    child: list[subprocess.Popen[bytes]] = []
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()
        for proc in child:
            proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    reaped = False
    while not stopping.is_set():
        proc = subprocess.Popen([str(server), "serve"])
        child[:] = [proc]
        if os.environ.get("STANDIN_APP_PIDFILE"):
            Path(os.environ["STANDIN_APP_PIDFILE"]).write_text(str(proc.pid))
        code = proc.wait()
        if code == 1 and not reaped and not stopping.is_set():
            reaped = True
            reap(proc.pid)
            continue
        stopping.wait(1.0)
    return 0


def reap(own: int) -> None:
    """reapServers: SIGTERM other `ollama serve` processes (only under STANDIN_REAP_ROOT, see the docstring)."""
    root = os.environ.get("STANDIN_REAP_ROOT")
    if not root:
        return
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = entry.read_bytes().split(b"\0")
        except OSError:
            continue
        pid = int(entry.parent.name)
        text = [a.decode(errors="replace") for a in args if a]
        if pid in (own, os.getpid()) or "serve" not in text or not _under(root, entry.parent, text):
            continue
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def _under(root: str, proc: Path, args: list[str]) -> bool:
    """The process's command line or its HOME lies under root (a test's own folder)."""
    if any(a.startswith(root) for a in args):
        return True
    try:
        env = proc.joinpath("environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(item.decode(errors="replace").startswith(f"HOME={root}") for item in env)


def main(argv: list[str]) -> int:
    if argv[:1] in (["--version"], ["-v"]):
        print(f"ollama version is {VERSION}")
        return 0
    if argv[:1] == ["serve"]:
        return serve()
    if argv[:1] == ["app"] and len(argv) == 2:
        return app(argv[1])
    print("stand-in ollama: only `serve` and `--version` are implemented", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
