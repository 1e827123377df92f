"""A REAL multi-host bed: N Linux network namespaces on a bridge, each host with its own sshd and supervisord.

Layout (every name carries a per-run tag, so parallel runs never meet):

    <tag>-br    a namespace holding only the bridge br0
    <tag>-ctl   the Ansible controller (10.77.0.2): ansible-playbook runs here, over real SSH
    <tag>-h1…   the hosts (10.77.0.11, .12, …), each joined to br0 by a veth pair

Each host runs, as pid 1 of its own pid namespace (`unshare --pid --fork --kill-child --mount-proc`, so
ollama-sync's process and port checks see that host's processes only): its own supervisord (unix socket in
the host's folder) and Debian's `sshd` listening on the host's address. ollama-sync finds the host's
supervisord and state directory through the variables sshd's `SetEnv` gives every session
(OLLAMA_SYNC_STATE_DIR, OLLAMA_SYNC_SUPERVISOR_CONF, XDG_CONFIG_HOME). The Ollama server is the stand-in
(tests/standin, NOT the real Ollama). Keys are generated per run with ssh-keygen. Nothing touches the real
network: every address lives on the bridge inside the test's namespaces.

Teardown (in `finally`): every process started here is killed by pid (killing a host's `unshare` kills its
pid namespace: supervisord, sshd and the server), then each namespace is deleted by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ollama_sync.system.supervisor_conf import CONF_ENV, parse_conf
from ollama_sync.system.supervisor_rpc import SupervisorRpc
from tests.conftest import IN_CI, require_tool
from tests.standin import install_fake_ollama

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "ansible" / "collections"
BIN = Path(sys.executable).parent
SUBNET = "10.77.0"
CONTROLLER_ADDRESS = f"{SUBNET}.2"
OLLAMA_PORT = 11434


def require_root_netns() -> None:
    """Skip (fail in CI) unless this process may create network namespaces."""
    require_tool("ip")
    require_tool("unshare")
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("the namespace bed needs root (ip netns add) in CI")
        pytest.skip("the namespace bed needs root (ip netns add)")


def ansible_tool(name: str) -> str:
    """ansible-playbook & co. from this virtualenv (ansible-core is in the test extra)."""
    local = BIN / name
    return str(local) if local.exists() else require_tool(name)


def _run(argv: Sequence[str], *, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def ns_argv(ns: str, *argv: str) -> list[str]:
    """A command run inside a namespace."""
    return ["ip", "netns", "exec", ns, *argv]


@dataclass
class Host:
    """One host of the bed."""

    name: str
    ns: str
    address: str
    folder: Path
    init: subprocess.Popen[bytes] | None = None

    @property
    def home(self) -> Path:
        """HOME of the host's supervisord and its programs."""
        return self.folder / "home"

    @property
    def state(self) -> Path:
        """OLLAMA_SYNC_STATE_DIR."""
        return self.folder / "state"

    @property
    def config_home(self) -> Path:
        """XDG_CONFIG_HOME: the module writes ollama-sync/config.toml here."""
        return self.folder / "config"

    @property
    def config(self) -> Path:
        """The ollama-sync config the service module writes."""
        return self.config_home / "ollama-sync" / "config.toml"

    @property
    def sv(self) -> Path:
        """The host's supervisord folder (short: unix socket paths are limited)."""
        return self.folder / "sv"

    @property
    def supervisor_conf(self) -> Path:
        """supervisord.conf."""
        return self.sv / "supervisord.conf"

    @property
    def include_dir(self) -> Path:
        """The folder supervisord includes program sections from (the service file's folder)."""
        return self.sv / "programs"

    @property
    def service_file(self) -> Path:
        """The program section ollama-sync writes."""
        return self.include_dir / "ollama.conf"

    @property
    def models(self) -> Path:
        """OLLAMA_MODELS of this host."""
        return self.folder / "models"

    @property
    def tmp(self) -> Path:
        """Ansible's remote temporary folder on this host."""
        return self.folder / "tmp"

    def session_env(self) -> dict[str, str]:
        """What every SSH session on this host gets (sshd SetEnv), so ollama-sync finds this host's things."""
        return {"OLLAMA_SYNC_STATE_DIR": str(self.state), CONF_ENV: str(self.supervisor_conf),
                "XDG_CONFIG_HOME": str(self.config_home), "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
                "LANG": "C.UTF-8"}

    def rpc(self) -> SupervisorRpc:
        """The host's supervisord API (through its unix socket: no network)."""
        return SupervisorRpc(parse_conf(self.supervisor_conf.read_text(), str(self.supervisor_conf), {}),
                             timeout=10)

    def server_pid(self) -> int | None:
        """The pid (inside the host's pid namespace) supervisord reports for the server, None when stopped."""
        from ollama_sync.system.supervisor_rpc import BAD_NAME, Fault  # noqa: PLC0415

        try:
            info: dict[str, Any] = self.rpc().call("supervisor.getProcessInfo", "ollama")
        except Fault as fault:
            if fault.faultCode == BAD_NAME:
                return None
            raise
        return int(info["pid"]) or None

    def ollama_sync(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ollama-sync on this host (in its namespace, with its session environment)."""
        env = [f"{k}={v}" for k, v in self.session_env().items()]
        argv = ns_argv(self.ns, "env", "-i", f"HOME={self.home}", *env, str(BIN / "ollama-sync"), *args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    def status(self) -> dict[str, Any]:
        """`ollama-sync --json status` on this host."""
        done = self.ollama_sync("--json", "status")
        doc: dict[str, Any] = json.loads(done.stdout)
        return doc

    def api_version(self, port: int = OLLAMA_PORT) -> str | None:
        """GET /api/version on address:port from inside the host's network namespace (None: no answer)."""
        code = ("import json,sys,urllib.request\ntry:\n"
                f"    r=urllib.request.urlopen('http://{self.address}:{port}/api/version',timeout=3)\n"
                "    print(json.load(r)['version'])\nexcept Exception:\n    sys.exit(1)\n")
        done = subprocess.run(ns_argv(self.ns, sys.executable, "-c", code), capture_output=True, text=True,
                              timeout=30, check=False)
        return done.stdout.strip() if done.returncode == 0 else None

    def snapshot(self) -> dict[str, str]:
        """Every file under the host's config, service and state folders (path → content), and the server's pid.

        Leaves out `binary-versions.json`: ollama-sync's cache of `ollama --version` per binary, which `plan`
        itself fills (it describes the binary, not the service)."""
        files: dict[str, str] = {}
        for top in (self.config_home, self.include_dir, self.state):
            for path in sorted(top.rglob("*")) if top.exists() else []:
                if path.is_file() and path.name != "binary-versions.json":
                    files[str(path)] = path.read_bytes().hex()
        files["server pid"] = str(self.server_pid())
        return files


@dataclass
class Bed:
    """The namespaces, the hosts, the controller and the keys of one run."""

    tag: str
    folder: Path
    hosts: list[Host] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ollama: Path = Path()

    @property
    def controller(self) -> str:
        """The controller's namespace."""
        return f"{self.tag}-ctl"

    @property
    def key(self) -> Path:
        """The per-run client key."""
        return self.folder / "keys" / "id_ed25519"

    def host(self, name: str) -> Host:
        """A host by inventory name."""
        return next(h for h in self.hosts if h.name == name)

    def ansible_env(self, **extra: str) -> dict[str, str]:
        """The controller's environment: the collection, SSH through the per-run key, short timeouts."""
        return {
            "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(self.folder / "ctl-home"),
            "LANG": "C.UTF-8", "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_PIPELINING": "True", "ANSIBLE_TIMEOUT": "5",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.folder / "cp"), "ANSIBLE_LOCAL_TEMP": str(self.folder / "ctl-tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_NOCOLOR": "True", "ANSIBLE_FORCE_COLOR": "False",
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml", "ANSIBLE_DEPRECATION_WARNINGS": "False",
            "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s -o ConnectTimeout=3 "
                                "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o IdentitiesOnly=yes",
            **extra,
        }

    def inventory(self, extra_hosts: dict[str, str] | None = None, overrides: dict[str, dict[str, Any]] | None = None,
                  group_vars: dict[str, Any] | None = None) -> Path:
        """A YAML inventory of the hosts (and extra name → address entries): per-host variables (with overrides,
        as host_vars would give them) and the `ollama` group's variables."""
        hosts: dict[str, Any] = {}
        for h in self.hosts:
            hosts[h.name] = {"ansible_host": h.address, "ansible_remote_tmp": str(h.tmp),
                             "ollama_sync_service": {"backend": "supervisord", "binary": str(self.ollama),
                                                     "include_dir": str(h.include_dir)},
                             "ollama_sync_address": h.address, "ollama_sync_models_path": str(h.models),
                             **(overrides or {}).get(h.name, {})}
        for name, address in (extra_hosts or {}).items():
            hosts[name] = {"ansible_host": address, "ansible_remote_tmp": str(self.folder / "tmp-down"),
                           "ollama_sync_service": {"backend": "supervisord"}}
        doc = {"all": {"vars": {"ansible_user": "root", "ansible_ssh_private_key_file": str(self.key),
                                "ansible_python_interpreter": sys.executable},
                       "children": {"ollama": {"hosts": hosts, "vars": group_vars or {}}}}}
        path = self.folder / f"inventory-{secrets.token_hex(3)}.json"  # JSON is YAML
        path.write_text(json.dumps(doc, indent=2))
        return path

    def playbook(self, inventory: Path, playbook: str | Path, *args: str, timeout: float = 180,
                 **env: str) -> subprocess.CompletedProcess[str]:
        """Run ansible-playbook inside the controller's namespace."""
        argv = ns_argv(self.controller, "env", "-i", *(f"{k}={v}" for k, v in self.ansible_env(**env).items()),
                       ansible_tool("ansible-playbook"), "-i", str(inventory), str(playbook), *args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)

    def block_port(self, host: Host, port: int) -> subprocess.Popen[bytes]:
        """Hold `address:port` on a host (a listener in its network namespace), killed at teardown."""
        code = ("import socket,sys,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                f"s.bind(('{host.address}',{port}))\ns.listen()\nprint('ready',flush=True)\ntime.sleep(3600)\n")
        proc = subprocess.Popen(ns_argv(host.ns, sys.executable, "-c", code), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        self.processes.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        return proc


def _sshd_config(bed: Bed, host: Host) -> str:
    env = " ".join(f'"{k}={v}"' for k, v in host.session_env().items())
    return (
        f"ListenAddress {host.address}:22\n"
        f"HostKey {host.folder / 'ssh_host_ed25519_key'}\n"
        f"AuthorizedKeysFile {bed.folder / 'keys' / 'authorized_keys'}\n"
        f"PidFile {host.folder / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "UsePAM no\nStrictModes no\nPrintMotd no\nMaxStartups 100\nMaxSessions 100\nLogLevel ERROR\n"
        f"SetEnv {env}\n"
    )


def _supervisord_config(host: Host) -> str:
    sock = host.sv / "supervisor.sock"
    return (
        f"[unix_http_server]\nfile={sock}\nchmod=0700\n\n"
        f"[supervisord]\nlogfile={host.sv / 'supervisord.log'}\npidfile={host.sv / 'supervisord.pid'}\n"
        f"childlogdir={host.sv}\nnodaemon=true\nloglevel=info\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        f"[supervisorctl]\nserverurl=unix://{sock}\n\n"
        f"[include]\nfiles = {host.include_dir}/*.conf\n"
    )


def _init_script(host: Host, sshd: str, supervisord: str) -> str:
    """pid 1 of the host: start supervisord, then become sshd (the namespace dies with it)."""
    return (
        "#!/bin/sh\n"
        f"HOME={host.home} LANG=C.UTF-8 PATH={BIN}:/usr/bin:/bin {supervisord} -c {host.supervisor_conf} "
        f">>{host.sv / 'stdout.log'} 2>&1 &\n"
        f"exec {sshd} -D -e -f {host.folder / 'sshd_config'} 2>>{host.folder / 'sshd.log'}\n"
    )


def _link(bed: Bed, ns: str, index: int, address: str) -> None:
    """A veth pair: `vb<index>` on the bridge, `eth0` in ns with address/24."""
    bridge = f"{bed.tag}-br"
    _run(["ip", "link", "add", f"vb{index}", "netns", bridge, "type", "veth", "peer", "name", "eth0", "netns", ns])
    _run(ns_argv(bridge, "ip", "link", "set", f"vb{index}", "master", "br0", "up"))
    _run(ns_argv(ns, "ip", "addr", "add", f"{address}/24", "dev", "eth0"))
    _run(ns_argv(ns, "ip", "link", "set", "eth0", "up"))
    _run(ns_argv(ns, "ip", "link", "set", "lo", "up"))


def _add_ns(bed: Bed, name: str) -> None:
    _run(["ip", "netns", "add", name])
    bed.namespaces.append(name)


def _wait(condition: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def _answers(ns: str, address: str) -> bool:
    probe = ("import socket,sys\ns=socket.socket()\ns.settimeout(0.5)\n"
             f"sys.exit(s.connect_ex(('{address}',22)))\n")
    return subprocess.run(ns_argv(ns, sys.executable, "-c", probe), capture_output=True, timeout=10,
                          check=False).returncode == 0


def _supervisord_up(host: Host) -> bool:
    if not (host.sv / "supervisor.sock").exists():
        return False
    try:
        return bool(host.rpc().call("supervisor.getState")["statename"] == "RUNNING")
    except Exception:  # not answering yet
        return False


def _start_host(bed: Bed, host: Host, sshd: str, supervisord: str) -> None:
    for folder in (host.home, host.state, host.config_home, host.include_dir, host.models, host.tmp):
        folder.mkdir(parents=True, exist_ok=True)
    _run([require_tool("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", str(host.folder / "ssh_host_ed25519_key")])
    (host.folder / "sshd_config").write_text(_sshd_config(bed, host))
    host.supervisor_conf.write_text(_supervisord_config(host))
    init = host.folder / "init.sh"
    init.write_text(_init_script(host, sshd, supervisord))
    init.chmod(0o755)
    host.init = subprocess.Popen(ns_argv(host.ns, require_tool("unshare"), "--pid", "--fork", "--kill-child",
                                         "--mount-proc", str(init)),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bed.processes.append(host.init)


def _teardown(bed: Bed) -> None:
    for proc in reversed(bed.processes):  # a host's unshare: --kill-child takes its pid namespace down with it
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    for ns in reversed(bed.namespaces):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30, check=False)


@contextmanager
def namespace_bed(count: int = 3) -> Iterator[Bed]:
    """Create the bridge, the controller and `count` hosts; yield when every sshd answers; tear all down."""
    require_root_netns()
    sshd = require_tool("sshd") if shutil.which("sshd") else require_tool("/usr/sbin/sshd")
    supervisord = str(BIN / "supervisord") if (BIN / "supervisord").exists() else require_tool("supervisord")
    ssh_keygen = require_tool("ssh-keygen")
    require_tool("ssh")
    tag = f"osf{os.getpid() % 100000}{secrets.token_hex(2)}"
    bed = Bed(tag, Path(tempfile.mkdtemp(prefix=f"{tag}-", dir="/tmp")))
    try:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation folder (Debian's unit's)
        (bed.folder / "keys").mkdir()
        for sub in ("cp", "ctl-home", "ctl-tmp", "tmp-down"):
            (bed.folder / sub).mkdir()
        _run([ssh_keygen, "-q", "-t", "ed25519", "-N", "", "-C", tag, "-f", str(bed.key)])
        (bed.folder / "keys" / "authorized_keys").write_text(bed.key.with_suffix(".pub").read_text())
        bed.ollama = install_fake_ollama(bed.folder / "bin")
        _add_ns(bed, f"{tag}-br")
        _run(ns_argv(f"{tag}-br", "ip", "link", "add", "br0", "type", "bridge"))
        _run(ns_argv(f"{tag}-br", "ip", "link", "set", "br0", "up"))
        _add_ns(bed, bed.controller)
        _link(bed, bed.controller, 0, CONTROLLER_ADDRESS)
        for i in range(1, count + 1):
            host = Host(f"h{i}", f"{tag}-h{i}", f"{SUBNET}.{10 + i}", bed.folder / f"h{i}")
            _add_ns(bed, host.ns)
            _link(bed, host.ns, i, host.address)
            bed.hosts.append(host)
        for host in bed.hosts:
            _start_host(bed, host, sshd, supervisord)
        for host in bed.hosts:
            _wait(lambda h=host: _answers(bed.controller, h.address), f"sshd on {host.name} ({host.address})")
            _wait(lambda h=host: _supervisord_up(h), f"supervisord on {host.name}")
        yield bed
    finally:
        _teardown(bed)
        shutil.rmtree(bed.folder, ignore_errors=True)

