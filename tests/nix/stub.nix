# A minimal stand-in for the module system, lib and pkgs (NOT nixpkgs): enough to evaluate the
# ollama-sync modules with `nix-instantiate --eval --strict --json` where nixpkgs is not available.
#
# It copies the rules of nixpkgs' lib/modules.nix that the modules rely on: definitions are collected
# per option path with properties pushed down lazily (pushDownProperties: mkIf/mkMerge/mkOverride over
# sets do not force their condition until an option below is read), an option's value is its definitions
# discharged (mkIf/mkMerge), filtered to the highest priority (mkDefault 1000, mkForce 50, plain 100),
# merged (lists concatenated, sets by attribute, equal values) and type-checked, else its default;
# read-only options set twice, unknown and ill-typed ones abort with the module system's messages.
# Derivations are not built: writeText/runCommand return their text/script with a content-addressed
# fake store path, for the tests to read (and run with a real ollama-sync).
let
  inherit (builtins) isAttrs isString isBool isInt isList isFunction all any attrNames attrValues elem mapAttrs
    listToAttrs concatMap hasAttr filter replaceStrings match substring hashString foldl' head tail length
    concatStringsSep toJSON;

  type = name: check: { inherit name check; };
  isStorePathLike = v: (isAttrs v && v ? outPath) || (isString v && substring 0 1 v == "/");

  types = {
    str = type "string" isString;
    bool = type "boolean" isBool;
    int = type "signed integer" isInt;
    port = type "16 bit unsigned integer; between 0 and 65535 (both inclusive)" (v: isInt v && v >= 0 && v <= 65535);
    package = type "package" (v: isAttrs v && v ? outPath);
    path = type "path" isStorePathLike;
    nullOr = t: type "null or ${t.name}" (v: v == null || t.check v);
    listOf = t: type "list of ${t.name}" (v: isList v && all t.check v);
    attrsOf = t: type "attribute set of ${t.name}" (v: isAttrs v && all t.check (attrValues v));
    enum = values: type "one of ${concatStringsSep ", " (map toJSON values)}" (v: elem v values);
  };

  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  lib = rec {
    inherit types mkOverride;
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = what: {
      _type = "option"; type = types.bool; default = false; description = "Whether to enable ${what}.";
    };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkDefault = mkOverride 1000;
    mkForce = mkOverride 50;
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    filterAttrs = pred: set:
      listToAttrs (concatMap (n: if pred n set.${n} then [{ name = n; value = set.${n}; }] else [ ]) (attrNames set));
    optionalAttrs = c: a: if c then a else { };
    optionalString = c: s: if c then s else "";
    inherit filter;
    getAttrs = names: set: listToAttrs (map (n: { name = n; value = set.${n}; }) names);
    hasPrefix = p: s: substring 0 (builtins.stringLength p) s == p;
    hasInfix = infix: s: match ".*${escapeRegex infix}.*" s != null;
    escapeRegex = replaceStrings [ "[" "]" "(" ")" "." "*" "+" "?" "^" "$" "|" "\\" "{" "}" ]
      [ "\\[" "\\]" "\\(" "\\)" "\\." "\\*" "\\+" "\\?" "\\^" "\\$" "\\|" "\\\\" "\\{" "\\}" ];
    getExe = drv: "${drv}/bin/${drv.meta.mainProgram or drv.pname or drv.name}";
    # Safe words stay bare, anything else is single-quoted (the rule of nixpkgs' lib.strings).
    escapeShellArg = arg:
      let s = toString arg; in
      if match "[[:alnum:],._+:@%/-]+" s != null then s else "'${replaceStrings [ "'" ] [ "'\\''" ] s}'";
    # lib.generators.toPretty's layout for the data the NixOS check module prints (one line).
    generators.toPretty = _: v:
      if v == null then "null" else if isBool v then (if v then "true" else "false")
      else if isInt v then toString v else if isString v then toJSON v
      else if isList v then "[ ${concatStringsSep " " (map (generators.toPretty { }) v)} ]"
      else "{ ${concatStringsSep " " (map (n: "${toJSON n} = ${generators.toPretty { } v.${n}};") (attrNames v))} }";
    hm.dag.entryAfter = after: data: { inherit after data; before = [ ]; };
  };

  fakePath = name: text: "/nix/store/${substring 0 32 (hashString "sha256" text)}-${name}";
  mkPkgs = system: {
    stdenv.hostPlatform = { inherit system; isDarwin = match ".*-darwin" system != null;
                            isLinux = match ".*-linux" system != null; };
    writeText = name: text: { outPath = fakePath name text; inherit name text; };
    writeShellScript = name: text: { outPath = fakePath name text; inherit name text; executable = true; };
    runCommand = name: env: script: {
      outPath = fakePath name (script + toJSON (removeAttrs env [ "nativeBuildInputs" ]));
      inherit name script; env = removeAttrs env [ "nativeBuildInputs" ];
    };
    python3 = { outPath = "/nix/store/11111111111111111111111111111111-python3-3.12"; };
    ollama = { outPath = "/nix/store/22222222222222222222222222222222-ollama-0.9"; meta.mainProgram = "ollama"; };
  };
  self.packages = listToAttrs (map (system: { name = system; value.default = {
    outPath = "/nix/store/00000000000000000000000000000000-ollama-sync-0.1.0"; }; })
    [ "aarch64-darwin" "x86_64-darwin" "aarch64-linux" "x86_64-linux" ]);

  typeOf = v: v._type or null;
  isOption = v: isAttrs v && typeOf v == "option";
  plainSet = v: isAttrs v && !(v ? _type) && !(v ? outPath);

  # pushDownProperties, lazily: the definitions of attribute n inside one definition.
  descend = n: def:
    if typeOf def == "merge" then concatMap (descend n) def.contents
    else if typeOf def == "if" then map (lib.mkIf def.condition) (descend n def.content)
    else if typeOf def == "override" then map (mkOverride def.priority) (descend n def.content)
    else if plainSet def && def ? ${n} then [ def.${n} ]
    else [ ];
  defsAt = defs: path: foldl' (ds: n: concatMap (descend n) ds) defs path;
  # dischargeProperties + filterOverrides: the values that count.
  discharge = def:
    if typeOf def == "merge" then concatMap discharge def.contents
    else if typeOf def == "if" then (if def.condition then discharge def.content else [ ])
    else [ def ];
  prio = v: if typeOf v == "override" then v.priority else 100;
  final = defs:
    let
      ds = concatMap discharge defs;
      best = foldl' (p: d: if prio d < p then prio d else p) 9999 ds;
      kept = map (d: if typeOf d == "override" then d.content else d) (filter (d: prio d == best) ds);
    in concatMap discharge kept;
  where = path: concatStringsSep "." path;
  # A freeform value (no declaration): sets merged by attribute, lists concatenated, else one value.
  # Lazy like the module system: an attribute whose definitions are all switched off is an `absent`
  # marker until `clean` drops it from the output (forcing it earlier would force mkIf conditions).
  absent = { _stubAbsent = true; };
  isAbsent = v: isAttrs v && v ? _stubAbsent;
  clean = v:
    if isAttrs v && !(v ? outPath) then
      mapAttrs (_: clean) (lib.filterAttrs (_: x: !(isAbsent x)) v)
    else if isList v then map clean v
    else v;
  mergeFree = path: defs:
    let values = final defs; in
    if values == [ ] then absent
    else if all plainSet values then
      let names = attrNames (foldl' (acc: v: acc // v) { } values); in
      listToAttrs (map (n: { name = n; value = mergeFree (path ++ [ n ]) (concatMap (descend n) values); }) names)
    else if all isList values then builtins.concatLists values
    else if all (v: v == head values) (tail values) then head values
    else throw "The option `${where path}' has conflicting definition values.";

  # Declared options: every definition at the option's path, merged and type-checked, else the default.
  # Unknown names are looked for in the user's settings only (the modules' own definitions are theirs).
  resolve = path: decls: defs: user:
    let
      unknown = filter (n: !(hasAttr n decls)) (attrNames user);
      one = name: decl:
        let
          p = path ++ [ name ];
          ds = concatMap (descend name) defs;
          values = final ds;
        in
        if !isOption decl then resolve p decl ds (user.${name} or { })
        else if values == [ ] then (decl.default or (throw "The option `${where p}' is used but not defined."))
        else if (decl.readOnly or false) && length values > 1 then
          throw "The option `${where p}' is read-only, but it's set multiple times."
        else
          let v = if all isList values then builtins.concatLists values else head values; in
          if decl.type.check v then v else throw "The option `${where p}' is not of type `${decl.type.name}'.";
    in
    if unknown != [ ] then throw "The option `${where (path ++ [ (head unknown) ])}' does not exist."
    else mapAttrs one decls;

  describe = decls: mapAttrs (_: d:
    if isOption d then {
      type = d.type.name;
      default = if d ? default then d.default else null;
      readOnly = d.readOnly or false;
    } else describe d) decls;

  # Evaluate one module (a nix/*.nix module function) with the user's settings under
  # services.<name> (`name`: ollama-sync, or the NixOS check module's option set) and extra config.
  evalModule = { module, settings, extraConfig ? { }, system ? "aarch64-darwin", name ? "ollama-sync" }:
    let
      pkgs = mkPkgs system;
      evaluated = module { inherit config lib pkgs; };
      defs = [ evaluated.config { services.${name} = settings; } extraConfig ];
      declared = evaluated.options.services.${name};
      cfg = resolve [ "services" name ] declared (defsAt defs [ "services" name ]) settings;
      free = mergeFree [ ] defs;
      # What the module reads as `config`: its own options and extraConfig (the platform's options the
      # test provides: system.primaryUser, home.homeDirectory, …), not the other definitions it makes.
      config = extraConfig // { services = (extraConfig.services or { }) // { ${name} = cfg; }; };
      tidy = clean free;
      # Every value the user set, forced: a wrong type or a read-only option fails even if unused.
      forced = builtins.deepSeq (mapAttrs (n: _: cfg.${n}) settings) true;
      out = removeAttrs tidy [ "services" ] // lib.optionalAttrs (tidy ? services)
        { services = removeAttrs tidy.services [ name ]; };
    in
    assert forced; {
      options = describe declared;
      config = if out == { } || out == { services = { }; } then null else out;
      # the options' values; a read-only option the module leaves undefined (disabled) is left out
      cfg = lib.filterAttrs (n: _: (builtins.tryEval cfg.${n}).success) (removeAttrs cfg [ "package" ]);
      # Derivations as data (toJSON would print only their store path): the checked service, system.checks.
      checked = let r = builtins.tryEval (cfg.checkedService or null); in
        if r.success && r.value != null then { path = r.value.outPath; inherit (r.value) script; } else null;
      checks = map (d: { path = d.outPath; inherit (d) script; }) (tidy.system.checks or [ ]);
      json = if cfg.enable or false && cfg ? configFile then cfg.configFile.text else null;
      configFile = if cfg.enable or false && cfg ? configFile then cfg.configFile.outPath else null;
    };
in
{
  inherit lib self evalModule mkPkgs;
  # The flake's outputs with a stub nixpkgs whose callPackage returns buildPythonApplication's arguments.
  flakeOutputs = flake:
    let
      pythonPackages = mapAttrs (name: _: { pname = name; }) (listToAttrs (map (n: { name = n; value = n; }) [
        "setuptools" "click" "rich" "tomlkit" "tree-sitter" "psutil"
        "watchfiles" "ollama" ])) // {
        tree-sitter-grammars.tree-sitter-nix = { pname = "tree-sitter-nix"; };
        buildPythonApplication = attrs: attrs;
      };
      stubLib = lib // {
        genAttrs = names: f: listToAttrs (map (n: { name = n; value = f n; }) names);
        fileset = { toSource = { root, fileset }: toString root; unions = xs: xs; };
        licenses.mit = "mit";
        platforms = { darwin = [ "darwin" ]; linux = [ "linux" ]; };
      };
      nixpkgs = {
        lib = stubLib;
        legacyPackages = stubLib.genAttrs [ "aarch64-darwin" "x86_64-darwin" "aarch64-linux" "x86_64-linux" ] (_: {
          callPackage = file: args: import file ({ lib = stubLib; python3Packages = pythonPackages; } // args);
        });
      };
      outputs = flake.outputs { inherit self nixpkgs; };
    in
    {
      systems = attrNames outputs.packages;
      package = removeAttrs outputs.packages."aarch64-darwin".default [ "src" ];
      modules = { darwin = isFunction outputs.darwinModules.default;
                  homeManager = isFunction outputs.homeManagerModules.default;
                  nixos = isFunction outputs.nixosModules.default; };
    };
}
