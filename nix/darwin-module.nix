# nix-darwin module: the Ollama server as a LaunchAgent owned by the nix-darwin generation.
# - build: `ollama-sync check` + `ollama-sync render` in a derivation (an error finding fails the build);
# - install: nix-darwin's environment.userLaunchAgents links the rendered plist into the user's
#   ~/Library/LaunchAgents and (re)loads it in the user's launchd session at activation; enable = false
#   removes it with the generation, a rollback rolls it back;
# - after activation: `ollama-sync verify` as the user, in the user's session (launchctl asuser), with
#   /bin (launchctl) on PATH; failOnVerifyError decides whether a failure fails the switch;
# - models: a separate LaunchAgent pulls them in the background, with retries and backoff;
# - the declaration lives at the stable path /etc/ollama-sync/config.json.
{ self }:
{ config, lib, pkgs, ... }:

let
  shared = import ./options.nix {
    inherit lib;
    defaultPackage = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
  };
  cfg = config.services.ollama-sync;
  configPath = "/etc/ollama-sync/config.json";
  configFile = pkgs.writeText "ollama-sync.json" (builtins.toJSON (shared.declaration cfg "launchd"));
  user = lib.escapeShellArg cfg.user;
  home = config.users.users.${cfg.user}.home or "/Users/${cfg.user}";
  plist = "${cfg.service.label}.plist";
  checked = shared.checked { inherit pkgs cfg configFile home; fileName = plist; };
in
{
  options.services.ollama-sync = shared.options // {
    user = lib.mkOption {
      type = lib.types.str;
      # nix-darwin ≥ 25.05 has system.primaryUser (null when unset); older releases lack the option.
      default = let primary = config.system.primaryUser or null; in if primary == null then "" else primary;
      defaultText = lib.literalExpression "config.system.primaryUser";
      description = "The user whose LaunchAgent runs the server (nix-darwin loads user agents for this user).";
    };
  };

  config = lib.mkMerge [
    { services.ollama-sync.service.binary = lib.mkDefault "/opt/homebrew/bin/ollama"; }

    (lib.mkIf cfg.enable {
      assertions = [
        {
          assertion = cfg.user != "";
          message = "services.ollama-sync.user must name the user whose LaunchAgent runs the server "
            + "(or set system.primaryUser).";
        }
        {
          assertion = (config.system.primaryUser or cfg.user) == cfg.user;
          message = "services.ollama-sync.user must be system.primaryUser: nix-darwin loads user agents for that user.";
        }
      ];

      services.ollama-sync.configFile = configFile;
      services.ollama-sync.configPath = configPath;
      services.ollama-sync.checkedService = checked;
      environment.systemPackages = [ cfg.package ];
      environment.etc."ollama-sync/config.json".source = configFile;
      environment.variables.OLLAMA_SYNC_CONFIG = configPath;

      environment.userLaunchAgents.${plist}.source = "${checked}/${plist}";

      launchd.user.agents.ollama-sync-models = lib.mkIf (cfg.models != [ ]) {
        serviceConfig = {
          Label = "${cfg.service.label}.models";
          ProgramArguments = [ "${shared.modelsScript { inherit pkgs cfg configPath; }}" ];
          RunAtLoad = true;
          ProcessType = "Background";
          StandardOutPath = "${home}/Library/Logs/ollama-sync-models.log";
          StandardErrorPath = "${home}/Library/Logs/ollama-sync-models.log";
        };
      };

      # postActivation runs as root after userLaunchd has (re)loaded the agent; sudo resets PATH.
      system.activationScripts.postActivation.text = lib.mkIf cfg.verifyOnActivation (shared.verifyScript {
        inherit cfg configPath;
        pathPrefix = "/bin";
        wrap = cmd: "/bin/launchctl asuser \"$(/usr/bin/id -u -- ${user})\" "
          + "/usr/bin/sudo --user=${user} --set-home -- ${cmd}";
      });
    })
  ];
}
