"""Property tests: `set host` / `set port` / `unset host|port` over every place an address can be declared.

Placements: named host and/or port, OLLAMA_HOST in the environment set (with or without a port), a host
written with its own port, nothing at all; in Nix (custom, NixOS and home-manager flavors) and TOML. The
expectation is independent of the editor: the server's own reading of OLLAMA_HOST (core/hostport.py,
Ollama's envconfig.Host) must show the new host/port with the other part unchanged, every other variable
unchanged, and the file, loaded again from disk, must give exactly that environment.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ollama_sync.app.context import Context, GlobalOptions
from ollama_sync.app.declaration import load
from ollama_sync.app.setting_edit import set_setting, unset_setting
from ollama_sync.core.environment import render_environment
from ollama_sync.core.hostport import parse_host

PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOSTS = st.sampled_from(["0.0.0.0", "127.0.0.1", "100.64.0.1", "localhost", "[::1]"])
PORTS = st.integers(1, 65535)


@dataclass(frozen=True)
class Placement:
    """One declaration: where the address is written, and the file's format and flavor."""

    kind: str  # named, host-only, port-only, env, env-no-port, host-with-port, none
    fmt: str  # nix or toml
    flavor: str  # custom, nixos, home-manager (nix only)
    host: str
    port: int


def _env_table(p: Placement) -> str:
    return "environmentVariables" if p.flavor in ("nixos", "home-manager") else "extraEnvironment"


def render_file(p: Placement) -> tuple[str, str]:
    """(file name, text) of a declaration with the address written as p.kind says."""
    lines = {"named": [f'host = "{p.host}"', f"port = {p.port}"], "host-only": [f'host = "{p.host}"'],
             "port-only": [f"port = {p.port}"], "host-with-port": [f'host = "{p.host}:{p.port}"'],
             "env": [], "env-no-port": [], "none": []}[p.kind]
    env = {"OLLAMA_NUM_PARALLEL": "4"}
    if p.kind == "env":
        env["OLLAMA_HOST"] = f"{p.host}:{p.port}"
    elif p.kind == "env-no-port":
        env["OLLAMA_HOST"] = p.host
    if p.fmt == "toml":
        body = "\n".join(["[ollama]", "enable = true", *lines, "", "[ollama.environment]",
                          *(f'{k} = "{v}"' for k, v in env.items())])
        return "decl.toml", body + "\n"
    attribute = "custom.services.ollama" if p.flavor == "custom" else "services.ollama"
    table = _env_table(p)
    body = "\n".join(f"    {line};" for line in ["enable = true", *lines])
    env_lines = "\n".join(f'      {k} = "{v}"; # why {k}' for k, v in env.items())
    return "decl.nix", (f"{{ config, ... }}:\n{{\n  {attribute} = {{\n{body}\n"
                        f"    {table} = {{\n{env_lines}\n    }};\n  }};\n}}\n")


def placements() -> st.SearchStrategy[Placement]:
    custom = st.builds(Placement, st.sampled_from(["named", "host-only", "port-only", "env", "env-no-port",
                                                   "host-with-port", "none"]),
                       st.sampled_from(["nix", "toml"]), st.just("custom"), HOSTS, PORTS)
    module = st.builds(Placement, st.sampled_from(["named", "host-only", "port-only", "env", "none"]), st.just("nix"),
                       st.sampled_from(["nixos", "home-manager"]), HOSTS.filter(lambda h: ":" not in h), PORTS)
    return st.one_of(custom, module)


def environment(config: Path) -> dict[str, str]:
    return render_environment(load(Context(GlobalOptions(config=str(config)))).declaration.settings)


def server_view(env: dict[str, str]) -> tuple[str, int]:
    address = parse_host(env.get("OLLAMA_HOST", ""))
    return address.host, address.port


def bare(host: str) -> str:
    return host.strip("[]")


@PROFILE
@given(placements(), st.sampled_from(["set host", "set port", "unset host", "unset port"]), HOSTS, PORTS)
def test_address_edits_change_only_their_part(p: Placement, operation: str, new_host: str, new_port: int) -> None:
    if p.flavor != "custom" and ":" in new_host:
        new_host = "100.64.0.2"  # the modules write "${host}:${port}" without brackets
    with tempfile.TemporaryDirectory() as folder:
        name, text = render_file(p)
        (Path(folder) / name).write_text(text)
        config = Path(folder) / "config.toml"
        flavor = f'flavor = "{p.flavor}"\n' if p.fmt == "nix" else ""
        config.write_text(f'source = "{name}"\n{flavor}')
        before = environment(config)
        old_host, old_port = server_view(before)
        ctx = Context(GlobalOptions(config=str(config)))
        verb, key = operation.split()
        if verb == "set":
            result = set_setting(ctx, key, new_host if key == "host" else str(new_port))
        else:
            result = unset_setting(ctx, key)
        after = environment(config)
        host, port = server_view(after)
        expected = {"set host": (bare(new_host), old_port), "set port": (old_host, new_port),
                    "unset host": ("127.0.0.1", old_port), "unset port": (old_host, 11434)}[operation]
        assert (bare(host), port) == expected, (text, result.new_text)
        assert {k: v for k, v in after.items() if k != "OLLAMA_HOST"} == \
               {k: v for k, v in before.items() if k != "OLLAMA_HOST"}
        if result.changed:  # comments elsewhere survive: the edit touched one value or one binding
            assert result.new_text.count("# why") == text.count("# why") or "OLLAMA_HOST" in result.path


def test_the_issue_example_set_port_keeps_the_host() -> None:
    p = Placement("env", "nix", "custom", "0.0.0.0", 11434)
    with tempfile.TemporaryDirectory() as folder:
        name, text = render_file(p)
        (Path(folder) / name).write_text(text)
        config = Path(folder) / "config.toml"
        config.write_text(f'source = "{name}"\n')
        set_setting(Context(GlobalOptions(config=str(config))), "port", "1234")
        written = (Path(folder) / name).read_text()
        assert written == text.replace('OLLAMA_HOST = "0.0.0.0:11434"', 'OLLAMA_HOST = "0.0.0.0:1234"')
