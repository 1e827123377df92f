# home-manager module: the Ollama server as a user service owned by the home-manager generation.
# - build: `ollama-sync check` + `ollama-sync render` in a derivation (an error finding fails the build);
# - install, Linux: the rendered unit is linked as ~/.config/systemd/user/<unit>.service (exactly where
#   home-manager's systemd.user.services go), so home-manager's sd-switch starts, restarts or stops it;
# - install, macOS: home-manager's launchd.agents (with the environment computed here; the build fails
#   if it differs from what `ollama-sync render` gives);
# - enable = false removes the service with the generation, a rollback rolls it back;
# - after activation: `ollama-sync verify`, with systemctl's / launchctl's absolute directory on PATH and
#   XDG_RUNTIME_DIR set as home-manager's own reloadSystemd does; failOnVerifyError decides the switch;
# - models: a separate background job pulls them, with retries and backoff;
# - the declaration lives at the stable path ~/.config/ollama-sync/config.json.
{ self }:
{ config, lib, pkgs, ... }:

let
  shared = import ./options.nix {
    inherit lib;
    defaultPackage = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
  };
  cfg = config.services.ollama-sync;
  darwin = pkgs.stdenv.hostPlatform.isDarwin;
  backend = if darwin then "launchd" else "systemd";
  configPath = "${config.xdg.configHome}/ollama-sync/config.json";
  declaration = shared.declaration cfg backend
    // lib.optionalAttrs (!darwin) { service = (shared.declaration cfg backend).service // { unit_mode = "full"; }; };
  configFile = pkgs.writeText "ollama-sync.json" (builtins.toJSON declaration);
  home = config.home.homeDirectory;
  unit = "${shared.unitName cfg.service.label}.service";
  fileName = if darwin then "${cfg.service.label}.plist" else unit;
  checked = shared.checked { inherit pkgs cfg configFile home fileName; };
  modelsScript = shared.modelsScript { inherit pkgs cfg configPath; };
  systemctlDir = dirOf (config.systemd.user.systemctlPath or "/run/current-system/sw/bin/systemctl");

  # macOS: the agent's environment, as ollama-sync renders it (checked against the render at build time).
  hostValue = h: if lib.hasInfix ":" h && !(lib.hasPrefix "[" h) then "[${h}]" else h;
  environment = lib.filterAttrs (_: v: v != null) ({
    OLLAMA_HOST = if cfg.host == null && cfg.port == null then null
      else "${hostValue (if cfg.host == null then "127.0.0.1" else cfg.host)}:${toString (if cfg.port == null then 11434 else cfg.port)}";
    OLLAMA_MODELS = cfg.modelsPath;
    OLLAMA_FLASH_ATTENTION = if cfg.flashAttention == null then null else if cfg.flashAttention then "1" else "0";
    OLLAMA_KV_CACHE_TYPE = cfg.kvCacheType;
  } // cfg.extraEnvironment);
  logPath = if cfg.service.logPath != null then cfg.service.logPath
    else "${home}/Library/Logs/ollama-sync/${cfg.service.label}.log";  # as `ollama-sync render` writes it
  agreement = pkgs.runCommand "ollama-sync-agent-check" {
    nativeBuildInputs = [ pkgs.python3 ];
    expected = builtins.toJSON { EnvironmentVariables = environment; };
  } ''
    python3 - "${checked}/${fileName}" <<'EOF'
    import json, os, plistlib, sys
    rendered = plistlib.load(open(sys.argv[1], "rb"))
    want = json.loads(os.environ["expected"])["EnvironmentVariables"]
    if rendered.get("EnvironmentVariables", {}) != want:
        sys.exit(f"ollama-sync: the module's environment {want} differs from ollama-sync render's "
                 f"{rendered.get('EnvironmentVariables')}: write host without a port, or report this")
    EOF
    touch "$out"
  '';
in
{
  options.services.ollama-sync = shared.options;

  config = lib.mkMerge [
    { services.ollama-sync.service.binary = lib.mkDefault (if darwin then "/opt/homebrew/bin/ollama" else lib.getExe pkgs.ollama); }

    (lib.mkIf cfg.enable (lib.mkMerge [
      {
        services.ollama-sync.configFile = configFile;
        services.ollama-sync.configPath = configPath;
        services.ollama-sync.checkedService = checked;
        home.packages = [ cfg.package ];
        xdg.configFile."ollama-sync/config.json".source = configFile;
        home.sessionVariables.OLLAMA_SYNC_CONFIG = configPath;

        # `run` skips the command under --dry-run; the activation runs under `set -eu -o pipefail`.
        home.activation.ollamaSyncVerify = lib.mkIf cfg.verifyOnActivation (lib.hm.dag.entryAfter
          [ (if darwin then "setupLaunchAgents" else "reloadSystemd") ]
          (shared.verifyScript {
            inherit cfg configPath;
            pathPrefix = if darwin then "/bin" else systemctlDir;
            envArgs = lib.optionalString (!darwin) "XDG_RUNTIME_DIR=\"\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}\" ";
            wrap = cmd: "run ${cmd}";
          }));
      }

      (lib.mkIf (!darwin) {
        xdg.configFile."systemd/user/${unit}".source = "${checked}/${unit}";
        xdg.configFile."systemd/user/default.target.wants/${unit}".source = "${checked}/${unit}";

        systemd.user.services.ollama-sync-models = lib.mkIf (cfg.models != [ ]) {
          Unit = {
            Description = "Pull the declared Ollama models (ollama-sync models sync)";
            After = [ unit "network-online.target" ];
            Wants = [ "network-online.target" ];
          };
          Service = {
            Type = "exec";
            ExecStart = "${modelsScript}";
            Restart = "on-failure";
            RestartSec = "1s";
            RestartMaxDelaySec = "2h";
            RestartSteps = 10;
          };
          Install.WantedBy = [ "default.target" ];
        };
      })

      (lib.mkIf darwin {
        home.extraBuilderCommands = "ln -s ${agreement} $out/ollama-sync-agent-check";
        launchd.agents.${cfg.service.label} = {
          enable = true;
          config = {
            Label = cfg.service.label;
            ProgramArguments = [ cfg.service.binary "serve" ];
            EnvironmentVariables = environment;
            KeepAlive = true;
            RunAtLoad = true;
            ProcessType = "Interactive";
            StandardOutPath = logPath;
            StandardErrorPath = logPath;
          };
        };
        launchd.agents."${cfg.service.label}.models" = lib.mkIf (cfg.models != [ ]) {
          enable = true;
          config = {
            Label = "${cfg.service.label}.models";
            ProgramArguments = [ "${modelsScript}" ];
            RunAtLoad = true;
            ProcessType = "Background";
            StandardOutPath = "${home}/Library/Logs/ollama-sync-models.log";
            StandardErrorPath = "${home}/Library/Logs/ollama-sync-models.log";
          };
        };
      })
    ]))
  ];
}
