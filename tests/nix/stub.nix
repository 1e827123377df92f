# A minimal stand-in for the module system, lib and pkgs (NOT nixpkgs): enough to evaluate the
# ollama-sync modules with `nix-instantiate --eval --strict --json` where nixpkgs is not available.
# It declares options, type-checks user values, applies defaults, resolves mkIf, and returns the
# module's config with the generated JSON's text. Merging of several modules is not modelled.
let
  inherit (builtins) isAttrs isString isBool isInt isList all attrNames attrValues elem mapAttrs
    listToAttrs concatMap hasAttr filter replaceStrings match substring hashString;

  type = name: check: { inherit name check; };
  isStorePathLike = v: (isAttrs v && v ? outPath) || (isString v && substring 0 1 v == "/");

  types = {
    str = type "string" isString;
    bool = type "boolean" isBool;
    int = type "signed integer" isInt;
    port = type "16 bit unsigned integer" (v: isInt v && v >= 0 && v <= 65535);
    package = type "package" (v: isAttrs v && v ? outPath);
    path = type "path" isStorePathLike;
    nullOr = t: type "null or ${t.name}" (v: v == null || t.check v);
    listOf = t: type "list of ${t.name}" (v: isList v && all t.check v);
    attrsOf = t: type "attribute set of ${t.name}" (v: isAttrs v && all t.check (attrValues v));
    enum = values: type "one of ${toString values}" (v: elem v values);
  };

  lib = {
    inherit types;
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = what: {
      _type = "option"; type = types.bool; default = false; description = "Whether to enable ${what}.";
    };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    filterAttrs = pred: set:
      listToAttrs (concatMap (n: if pred n set.${n} then [{ name = n; value = set.${n}; }] else [ ]) (attrNames set));
    # Safe words stay bare, anything else is single-quoted (the rule of nixpkgs' lib.strings).
    escapeShellArg = arg:
      let s = toString arg; in
      if match "[[:alnum:],._+:@%/-]+" s != null then s else "'${replaceStrings [ "'" ] [ "'\\''" ] s}'";
    hm.dag.entryAfter = after: data: { inherit after data; before = [ ]; };
  };

  system = "aarch64-darwin";
  pkgs = {
    stdenv.hostPlatform.system = system;
    # A content-addressed fake store path, with the text kept for the test to read.
    writeText = name: text: {
      outPath = "/nix/store/${substring 0 32 (hashString "sha256" text)}-${name}";
      inherit name text;
    };
  };
  self.packages.${system}.default = { outPath = "/nix/store/00000000000000000000000000000000-ollama-sync-0.1.0"; };

  isOption = v: isAttrs v && (v._type or null) == "option";

  # Option declarations + user values → values; unknown or ill-typed user values abort the evaluation.
  resolve = path: decls: values:
    let
      unknown = filter (n: !(hasAttr n decls)) (attrNames values);
      one = name: decl:
        let where = "${path}.${name}"; in
        if !isOption decl then resolve where decl (values.${name} or { })
        else if hasAttr name values then
          (if decl.readOnly or false then throw "The option `${where}' is read-only."
           else if decl.type.check values.${name} then values.${name}
           else throw "The option `${where}' is not of type `${decl.type.name}'.")
        else decl.default or (throw "The option `${where}' is used but not defined.");
    in
    if unknown != [ ] then throw "The option `${path}.${builtins.head unknown}' does not exist."
    else mapAttrs one decls;

  # mkIf resolved everywhere; a false condition removes the definition.
  resolveIfs = v:
    if isAttrs v && (v._type or null) == "if" then (if v.condition then resolveIfs v.content else null)
    else if isAttrs v && !(v ? outPath) then
      lib.filterAttrs (_: x: x != null) (mapAttrs (_: resolveIfs) v)
    else v;

  pick = resolved: values: mapAttrs (n: v: if isAttrs v && !(v ? outPath) && isAttrs resolved.${n}
    then pick resolved.${n} v else resolved.${n}) values;

  describe = decls: mapAttrs (_: d:
    if isOption d then {
      type = d.type.name;
      default = if d ? default then d.default else null;
      readOnly = d.readOnly or false;
    } else describe d) decls;

  evalModule = { module, settings, extraConfig ? { } }:
    let
      evaluated = module { inherit config lib pkgs; };
      declared = evaluated.options.services.ollama-sync;
      config = extraConfig // { services.ollama-sync = resolve "services.ollama-sync" declared settings; };
      out = resolveIfs evaluated.config;
      # Every value the user set, forced: a wrong type or a read-only option fails even if unused.
      userValues = pick config.services.ollama-sync settings;
    in
    builtins.deepSeq userValues {
      options = describe declared;
      config = out;
      json = if out ? services then out.services.ollama-sync.configFile.text else null;
      configFile = if out ? services then out.services.ollama-sync.configFile.outPath else null;
    };
in
{
  inherit lib pkgs self evalModule;
  # The flake's outputs with a stub nixpkgs whose callPackage returns buildPythonApplication's arguments.
  flakeOutputs = flake:
    let
      pythonPackages = mapAttrs (name: _: { pname = name; }) (listToAttrs (map (n: { name = n; value = n; }) [
        "setuptools" "click" "rich" "tomlkit" "tree-sitter" "psutil" "filelock"
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
      package = removeAttrs outputs.packages.${system}.default [ "src" ];
      modules = { darwin = builtins.isFunction outputs.darwinModules.default;
                  homeManager = builtins.isFunction outputs.homeManagerModules.default; };
    };
}
