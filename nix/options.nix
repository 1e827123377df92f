# Shared by the nix-darwin and home-manager modules: the options, the JSON declaration, and the pieces
# by which Nix owns the service and ollama-sync checks and verifies it:
# - `checked`: a derivation that runs `ollama-sync check` (an error-level finding fails the build) and
#   `ollama-sync render` (the service file the platform installs) on the generated declaration;
# - `verifyScript`: the shell run after activation (`ollama-sync verify`: no writes, exit 0/1);
# - `modelsScript`: the background job that pulls `models` with retries and backoff, never in activation.
# Option names follow the reference module `custom.services.ollama` (enable, host, port, modelsPath,
# flashAttention, kvCacheType, extraEnvironment), plus `models`.
{ lib, defaultPackage }:

let
  inherit (lib) mkOption mkEnableOption types;
  nullable = type: description: mkOption { type = types.nullOr type; default = null; inherit description; };
in
rec {
  options = {
    enable = mkEnableOption ''
      the Ollama server as a service owned by this Nix generation (checked by `ollama-sync check` at build
      time, verified by `ollama-sync verify` after activation); false removes the service with the generation'';

    package = mkOption {
      type = types.package;
      default = defaultPackage;
      description = "The ollama-sync package that checks, renders and verifies the declaration.";
    };

    host = nullable types.str "Address to listen on (with port → OLLAMA_HOST); null: the server's default.";
    port = nullable types.port "Port to listen on (with host → OLLAMA_HOST); null: 11434.";
    modelsPath = nullable types.str "Models directory (OLLAMA_MODELS); null: ~/.ollama/models.";
    flashAttention = nullable types.bool "Enable flash attention (OLLAMA_FLASH_ATTENTION).";
    kvCacheType = nullable types.str "KV cache quantization (OLLAMA_KV_CACHE_TYPE): f16, q8_0, q4_0.";

    extraEnvironment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = { OLLAMA_NUM_PARALLEL = "4"; };
      description = "Any other variable for `ollama serve`, verbatim.";
    };

    models = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "llama3.1:8b" ];
      description = ''
        Models to pull. A separate background job (a LaunchAgent / systemd user unit) runs
        `ollama-sync models sync` with retries and backoff; activation never waits for a download.
      '';
    };

    service = {
      label = mkOption {
        type = types.str;
        default = "com.github.ollama";
        description = "launchd label (systemd: the unit name unless left at the default, then `ollama`).";
      };
      binary = mkOption {
        type = types.str;
        description = ''
          The `ollama` binary the service runs; fixed at build time, never detected at activation.
          Default: Homebrew's /opt/homebrew/bin/ollama on macOS (as in the reference setup), nixpkgs'
          ollama elsewhere.
        '';
      };
      logPath = nullable types.str "Where the server's output goes; null: the backend's default.";
    };

    verifyOnActivation = mkOption {
      type = types.bool;
      default = true;
      description = "Run `ollama-sync verify` after activation (no writes) and report the result.";
    };

    failOnVerifyError = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Whether a failed verification fails the switch. Default: report it loudly and finish the
        activation (the generation is switched either way; `ollama-sync status` shows the details).
      '';
    };

    configFile = mkOption {
      type = types.path;
      readOnly = true;
      description = "The generated JSON declaration in the store (installed at the stable `configPath`).";
    };

    checkedService = mkOption {
      type = types.package;
      readOnly = true;
      description = ''
        The derivation that runs `ollama-sync check` and `ollama-sync render` on the declaration (its
        output holds the rendered service file); building it is how a bad declaration fails the build.
      '';
    };

    configPath = mkOption {
      type = types.str;
      readOnly = true;
      description = ''
        The stable path of the declaration, managed by the module: /etc/ollama-sync/config.json
        (nix-darwin), ~/.config/ollama-sync/config.json (home-manager). It does not change between
        generations, unlike the store path; pass it to `ollama-sync --config`.
      '';
    };
  };

  # The declaration ollama-sync reads: {"service": {…}, "ollama": {…}}; unset (null) options are left out
  # so the server's defaults apply, exactly as with a TOML declaration that omits them. `models` is read
  # by the background job (`models sync`); check, render and verify never pull.
  declaration = cfg: backend:
    let
      present = lib.filterAttrs (_: v: v != null);
    in
    {
      service = present {
        inherit (cfg.service) label binary;
        inherit backend;
        log_path = cfg.service.logPath;
      };
      ollama = present {
        inherit (cfg) enable host port modelsPath flashAttention kvCacheType extraEnvironment models;
      };
    };

  # The service file, rendered by ollama-sync inside a derivation after `ollama-sync check` passed:
  # an error-level finding fails `darwin-rebuild build` / `home-manager build` with ollama-sync's message.
  checked = { pkgs, cfg, configFile, home, fileName }:
    # HOME: the user's home (log paths under ~ are rendered for it); the build reads nothing there.
    pkgs.runCommand "ollama-sync-service" { } ''
      export HOME=${lib.escapeShellArg home} OLLAMA_SYNC_STATE_DIR="$TMPDIR/state"
      mkdir -p "$out"
      echo "ollama-sync: checking ${configFile}" >&2
      ${cfg.package}/bin/ollama-sync --config ${configFile} check
      ${cfg.package}/bin/ollama-sync --config ${configFile} render > "$out/"${lib.escapeShellArg fileName}
    '';

  # systemd's unit name for the label: the default label names the unit `ollama` (as `render` does).
  unitName = label: if label == "com.github.ollama" then "ollama" else label;

  # Run after activation. `pathPrefix` puts the platform's service tool (launchctl, systemctl) first on
  # PATH by absolute directory; `envArgs` sets what the platform's own activation sets (XDG_RUNTIME_DIR).
  verifyScript = { cfg, configPath, pathPrefix, envArgs ? "", wrap ? (cmd: cmd) }:
    let
      command = wrap ("/usr/bin/env ${envArgs}PATH=${pathPrefix}:/usr/bin:/bin:/usr/sbin:/sbin "
        + "${cfg.package}/bin/ollama-sync --config ${lib.escapeShellArg configPath} verify");
    in
    ''
      echo "ollama-sync: verifying the Ollama server against ${configPath}" >&2
      if ! ${command}; then
        echo "" >&2
        echo "ollama-sync: ************************************************************" >&2
        echo "ollama-sync: VERIFICATION FAILED: the running server does not match ${configPath}" >&2
        echo "ollama-sync: see the findings above, or run: ollama-sync --config ${configPath} status" >&2
        echo "ollama-sync: ************************************************************" >&2
        ${if cfg.failOnVerifyError then "exit 1" else "true"}
      fi
    '';

  # The background job that pulls the declared models: `models sync` (itself retrying each pull), retried
  # with exponential backoff (10 s doubling to 1 h, 10 rounds) while the server is down or offline.
  modelsScript = { pkgs, cfg, configPath }:
    pkgs.writeShellScript "ollama-sync-models" ''
      delay=10
      for round in 1 2 3 4 5 6 7 8 9 10; do
        if ${cfg.package}/bin/ollama-sync --config ${lib.escapeShellArg configPath} models sync; then
          exit 0
        fi
        echo "ollama-sync-models: round $round failed; next try in $delay s" >&2
        sleep "$delay"
        delay=$(( delay * 2 > 3600 ? 3600 : delay * 2 ))
      done
      echo "ollama-sync-models: giving up after 10 rounds" >&2
      exit 1
    '';
}
