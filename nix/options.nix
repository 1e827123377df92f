# The options shared by the nix-darwin and home-manager modules, and the JSON declaration built from them.
# Option names follow the reference module `custom.services.ollama` (enable, host, port, modelsPath,
# flashAttention, kvCacheType, extraEnvironment), plus `models`; ollama-sync reads the JSON through
# the same option table as its TOML (see src/ollama_sync/core/options.py).
{ lib, defaultPackage }:

let
  inherit (lib) mkOption mkEnableOption types;
  nullable = type: description: mkOption { type = types.nullOr type; default = null; inherit description; };
in
{
  options = {
    enable = mkEnableOption "the Ollama server as a service managed (applied and verified) by ollama-sync";

    package = mkOption {
      type = types.package;
      default = defaultPackage;
      description = "The ollama-sync package that applies the declaration.";
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
      description = "Models to pull after a successful apply (`ollama-sync models sync`).";
    };

    service = {
      label = mkOption {
        type = types.str;
        default = "com.github.ollama";
        description = "launchd label (systemd/supervisord: the unit or program name unless left at the default).";
      };
      binary = nullable types.str "The `ollama` binary to run; null: detected (Homebrew, /usr/local/bin, PATH).";
      backend = nullable (types.enum [ "launchd" "systemd" "supervisord" ])
        "Service manager; null: launchd on macOS, systemd on Linux.";
      logPath = nullable types.str "Where the server's output goes; null: the backend's default.";
    };

    applyOnActivation = mkOption {
      type = types.bool;
      default = true;
      description = "Run `ollama-sync apply --yes` during activation; a failed verification fails the activation.";
    };

    configFile = mkOption {
      type = types.path;
      readOnly = true;
      description = "The generated JSON declaration in the store (read-only; pass it to `ollama-sync --config`).";
    };
  };

  # The declaration ollama-sync reads: {"service": {…}, "ollama": {…}}; unset (null) options are left out
  # so the server's defaults apply, exactly as with a TOML declaration that omits them.
  declaration = cfg:
    let
      present = lib.filterAttrs (_: v: v != null);
    in
    {
      service = present {
        inherit (cfg.service) label binary backend;
        log_path = cfg.service.logPath;
      };
      ollama = present {
        enable = true;
        inherit (cfg) host port modelsPath flashAttention kvCacheType extraEnvironment models;
      };
    };

  # The shell line that applies the JSON; ollama-sync's own message explains any failure.
  applyCommand = cfg: file:
    "${cfg.package}/bin/ollama-sync --config ${lib.escapeShellArg "${file}"} apply --yes";
}
