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
    (acc: n: if acc != null && builtins.isAttrs acc && acc ? ${n} && !(absent acc.${n}) then acc.${n} else null)
    top path;
  found = builtins.filter (p: get p != null) paths;
in
  if found == [] then { path = null; top = builtins.attrNames top; }
  else { path = builtins.head found; value = clean (builtins.removeAttrs (get (builtins.head found)) ignored); }
"""

_MODULE: Final = """
{ file, paths, ignored, libPath }:
let
  inherit (builtins) isAttrs isList isBool all any attrNames concatMap filter foldl' head length elem
    listToAttrs tail;
  # The stand-in for nixpkgs' lib when it is not available: the same property encoding (_type "if",
  # "merge", "override"), dischargeProperties and filterOverrides as lib/modules.nix.
  stub = rec {
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkOverride = priority: content: { _type = "override"; inherit priority content; };
    mkOptionDefault = mkOverride 1500;
    mkDefault = mkOverride 1000;
    mkForce = mkOverride 50;
    mkVMOverride = mkOverride 10;
    mkOrder = priority: content: { _type = "order"; inherit priority content; };
    mkBefore = mkOrder 500;
    mkAfter = mkOrder 1500;
    optional = c: v: if c then [ v ] else [ ];
    optionals = c: l: if c then l else [ ];
    optionalString = c: s: if c then s else "";
    optionalAttrs = c: a: if c then a else { };
    mapAttrs = builtins.mapAttrs;
    attrValues = builtins.attrValues;
    modules = {
      dischargeProperties = def:
        if (def._type or "") == "merge" then concatMap modules.dischargeProperties def.contents
        else if (def._type or "") == "if" then
          (if isBool def.condition then (if def.condition then modules.dischargeProperties def.content else [ ])
           else throw "mkIf called with a non-Boolean condition")
        else [ def ];
      filterOverrides = defs:
        let
          prio = def: if (def.value._type or "") == "override" then def.value.priority else 100;
          best = foldl' (p: def: if prio def < p then prio def else p) 9999 defs;
          strip = def: if (def.value._type or "") == "override" then def // { value = def.value.content; } else def;
        in map strip (filter (def: prio def == best) defs);
    };
  };
  useNixpkgs = libPath != "" || any (e: e.prefix == "nixpkgs") builtins.nixPath;
  lib = if libPath != "" then import (/. + libPath) else if useNixpkgs then import <nixpkgs/lib> else stub;
  absent = { _ollamaSyncAbsent = true; };
  isAbsent = v: isAttrs v && v ? _ollamaSyncAbsent;
  isOrder = v: isAttrs v && (v._type or "") == "order";
  plainSet = v: isAttrs v && !(v ? _type) && !(v ? outPath);
  show = v: if isAttrs v then "{ ... }" else if isList v then "[ ... ]" else builtins.toJSON v;
  # The module system's merge of a freeform value, at any depth: discharge mkIf/mkMerge, keep the
  # definitions of the highest priority (mkOverride/mkDefault/mkForce), discharge again, then merge
  # sets attribute by attribute, concatenate lists, and require equal values otherwise.
  merge = loc: defs:
    let
      discharge = values: concatMap (v: map (x: if isOrder x then x.content else x)
        (lib.modules.dischargeProperties v)) values;
      kept = map (d: d.value) (lib.modules.filterOverrides (map (value: { inherit value; file = file; })
        (discharge defs)));
      values = discharge kept;
      names = foldl' (acc: v: acc // builtins.mapAttrs (_: _: null) v) { } values;
      where = builtins.concatStringsSep "." loc;
    in
    if values == [ ] then absent
    else if all plainSet values then
      builtins.mapAttrs (n: _: merge (loc ++ [ n ]) (map (v: v.${n}) (filter (v: v ? ${n}) values))) names
    else if all isList values then builtins.concatLists values
    else if length values == 1 || all (v: v == head values) (tail values) then head values
    else throw "The option `${where}' has conflicting definition values: ${
      builtins.concatStringsSep " and " (map show values)}";
  args = { config = { }; options = { }; pkgs = { inherit lib; }; inherit lib; };
  f = import (/. + file);
  formals = builtins.functionArgs f;
  call = if formals == { } then args else builtins.listToAttrs (map
    (n: { name = n; value = args.${n} or { }; })
    (builtins.filter (n: !formals.${n} || args ? ${n}) (builtins.attrNames formals)));
  top = merge [ ] [ (if builtins.isFunction f then f call else f) ];
in
  ((SELECT) (builtins.fromJSON paths) (builtins.fromJSON ignored) top)
  // { lib = if libPath != "" then libPath else if useNixpkgs then "<nixpkgs/lib>" else "stub"; }
"""


@dataclass(frozen=True)
class NixValue:
    """What Nix evaluated: the attribute path found (None when none was), the value or the top-level names."""

    path: tuple[str, ...] | None
    value: object
    top: tuple[str, ...] = ()
    lib: str = ""  # which lib merged the definitions: a path, "<nixpkgs/lib>" or "stub" (module files only)


class Nix:
    """nix-instantiate / nix, run through the Runner."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    @staticmethod
    def available(environ: Mapping[str, str]) -> bool:
        """True when nix-instantiate is on the PATH of environ."""
        return shutil.which(NIX_INSTANTIATE, path=environ.get("PATH")) is not None

    def eval_module(self, file: str, paths: Sequence[Sequence[str]], *, lib_path: str = "") -> NixValue:
        """Evaluate a module file called with stub arguments; the first of paths that exists.

        Definitions are merged as the module system merges them (mkIf, mkMerge, mkOverride at any
        depth) with nixpkgs' own lib: lib_path (a nixpkgs `lib` folder) when given, else `<nixpkgs/lib>`
        when NIX_PATH has nixpkgs, else a stand-in with the same property encoding and rules.
        """
        argv = [NIX_INSTANTIATE, "--store", "dummy://", "--eval", "--strict", "--json",
                "--argstr", "file", file, "--argstr", "paths", json.dumps([list(p) for p in paths]),
                "--argstr", "ignored", json.dumps(sorted(BUILD_ONLY_NIX_OPTIONS)), "--argstr", "libPath", lib_path,
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
            message = _first_error(exc.stderr)
            raise ConfigError(f"Nix could not evaluate {what}: {message}", hint=_eval_hint(message)) from None
        except Unsupported:
            raise Unsupported(f"{argv[0]} is not installed", hint="install Nix, or use --eval static") from None
        doc = json.loads(done.stdout)
        if doc.get("path") is None:
            return NixValue(None, None, tuple(doc.get("top", ())), doc.get("lib", ""))
        return NixValue(tuple(doc["path"]), doc["value"], lib=doc.get("lib", ""))


def _eval_hint(message: str) -> str:
    """What to do about a failed evaluation, by what failed."""
    if "conflicting definition values" in message:
        return "the file defines the option twice with different values at the same priority: keep one, or " \
               "wrap one in lib.mkForce / lib.mkDefault"
    if "non-Boolean condition" in message:
        return "the first argument of lib.mkIf must be true or false"
    if "missing" in message or "called without required argument" in message:
        return "the module reads something only the whole system defines (config.…, pkgs.…, a module " \
               "argument): point `source` at the flake (flake.nix), whose configuration Nix evaluates whole, " \
               "or write literal values"
    if "was not found in the Nix search path" in message:
        return "set NIX_PATH to include nixpkgs, or OLLAMA_SYNC_NIXPKGS_LIB to a nixpkgs lib folder"
    return "fix the file at the place Nix names; `nix-instantiate --parse FILE` checks its syntax"


def _first_error(stderr: str) -> str:
    """Nix's error message without its source excerpt (it prints file:line itself)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    head = next((line for line in lines if line.startswith("error:")), lines[0] if lines else "no output")
    at = next((line for line in lines if line.startswith("at ")), "")
    return f"{head.removeprefix('error:').strip()}{' (' + at + ')' if at else ''}"
