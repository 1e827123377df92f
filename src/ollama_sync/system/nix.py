"""The real Nix, through the Runner: evaluate a module file or a flake, and check that text parses.

A host module is a function of `{ config, pkgs, lib, ... }`; outside the system build it is called
with stub arguments: `lib` carries mkForce/mkDefault/mkOverride/mkIf/mkMerge/optional*, `config` and
`pkgs` are empty sets. Module evaluation uses `--store dummy://`: it reads files and never writes to
the user's Nix store. A flake is evaluated by `nix eval` on its `darwinConfigurations.<host>.config`,
which sees module defaults and `mkIf` exactly as darwin-rebuild does.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ollama_sync.core.findings import Location
from ollama_sync.core.options import BUILD_ONLY_NIX_OPTIONS
from ollama_sync.errors import CommandError, ConfigError, Unsupported
from ollama_sync.system.runner import Runner

NIX_INSTANTIATE: Final = "nix-instantiate"
FLAKE_FEATURES: Final = ("--extra-experimental-features", "nix-command flakes")

# Selects the first attribute path that exists, drops what mkIf switched off and the options that
# configure Nix itself (package = pkgs.ollama cannot be evaluated with stub arguments).
_SELECT: Final = """
paths: ignored: top:
let
  absent = v: builtins.isAttrs v && v ? _ollamaSyncAbsent;
  clean = v:
    if absent v then null
    else if builtins.isAttrs v then
      builtins.mapAttrs (_: clean) (builtins.removeAttrs v (builtins.filter (n: absent v.${n}) (builtins.attrNames v)))
    else if builtins.isList v then map clean v
    else v;
  get = path: builtins.foldl'
    (acc: n: if acc != null && builtins.isAttrs acc && acc ? ${n} then acc.${n} else null) top path;
  found = builtins.filter (p: get p != null) paths;
in
  if found == [] then { path = null; top = builtins.attrNames top; }
  else { path = builtins.head found; value = clean (builtins.removeAttrs (get (builtins.head found)) ignored); }
"""

_MODULE: Final = """
{ file, paths, ignored }:
let
  lib = {
    mkForce = v: v; mkDefault = v: v; mkOptionDefault = v: v; mkOverride = _: v: v;
    mkIf = c: v: if c then v else { _ollamaSyncAbsent = true; };
    mkMerge = builtins.foldl' (a: b: a // b) { };
    optional = c: v: if c then [ v ] else [ ];
    optionals = c: l: if c then l else [ ];
    optionalString = c: s: if c then s else "";
    optionalAttrs = c: a: if c then a else { };
  };
  args = { config = { }; options = { }; pkgs = { inherit lib; }; inherit lib; };
  f = import (/. + file);
  formals = builtins.functionArgs f;
  call = if formals == { } then args else builtins.listToAttrs (map
    (n: { name = n; value = args.${n} or { }; })
    (builtins.filter (n: !formals.${n} || args ? ${n}) (builtins.attrNames formals)));
  top = if builtins.isFunction f then f call else f;
in
  (SELECT) (builtins.fromJSON paths) (builtins.fromJSON ignored) top
"""


@dataclass(frozen=True)
class NixValue:
    """What Nix evaluated: the attribute path found (None when none was), the value or the top-level names."""

    path: tuple[str, ...] | None
    value: object
    top: tuple[str, ...] = ()


class Nix:
    """nix-instantiate / nix, run through the Runner."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    @staticmethod
    def available(environ: Mapping[str, str]) -> bool:
        """True when nix-instantiate is on the PATH of environ."""
        return shutil.which(NIX_INSTANTIATE, path=environ.get("PATH")) is not None

    def eval_module(self, file: str, paths: Sequence[Sequence[str]]) -> NixValue:
        """Evaluate a module file called with stub arguments; the first of paths that exists."""
        argv = [NIX_INSTANTIATE, "--store", "dummy://", "--eval", "--strict", "--json",
                "--argstr", "file", file, "--argstr", "paths", json.dumps([list(p) for p in paths]),
                "--argstr", "ignored", json.dumps(sorted(BUILD_ONLY_NIX_OPTIONS)),
                "--expr", _MODULE.replace("(SELECT)", f"({_SELECT})")]
        return self._value(argv, file, timeout=60.0)

    def eval_flake(self, flake: str, configuration: str, paths: Sequence[Sequence[str]]) -> NixValue:
        """Evaluate `<flake>#<configuration>.config` (e.g. darwinConfigurations.mini) and select a path."""
        apply = f"({_SELECT}) (builtins.fromJSON ''{json.dumps([list(p) for p in paths])}'') " \
                f"(builtins.fromJSON ''{json.dumps(sorted(BUILD_ONLY_NIX_OPTIONS))}'')"
        argv = ["nix", *FLAKE_FEATURES, "eval", "--json", f"{flake}#{configuration}.config", "--apply", apply]
        return self._value(argv, flake, timeout=600.0)

    def check_parse(self, text: str, path: str) -> None:
        """Raise ConfigError when Nix itself cannot parse text (the last check before a file is replaced)."""
        argv = [NIX_INSTANTIATE, "--store", "dummy://", "--parse", "-"]
        done = self.runner.run(argv, ok_codes=None, input_text=text)
        if done.returncode != 0:
            message = _first_error(done.stderr)
            raise ConfigError(f"the edited file does not parse with Nix: {message}", location=Location(path),
                              hint="nothing was written; report this as a bug with the file")

    def _value(self, argv: list[str], what: str, *, timeout: float) -> NixValue:
        try:
            done = self.runner.run(argv, timeout=timeout)
        except CommandError as exc:
            raise ConfigError(f"Nix could not evaluate {what}: {_first_error(exc.stderr)}",
                              hint="read statically instead: --eval static") from None
        except Unsupported:
            raise Unsupported(f"{argv[0]} is not installed", hint="install Nix, or use --eval static") from None
        doc = json.loads(done.stdout)
        if doc.get("path") is None:
            return NixValue(None, None, tuple(doc.get("top", ())))
        return NixValue(tuple(doc["path"]), doc["value"])


def _first_error(stderr: str) -> str:
    """Nix's error message without its source excerpt (it prints file:line itself)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    head = next((line for line in lines if line.startswith("error:")), lines[0] if lines else "no output")
    at = next((line for line in lines if line.startswith("at ")), "")
    return f"{head.removeprefix('error:').strip()}{' (' + at + ')' if at else ''}"
