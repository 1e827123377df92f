# nix-darwin module: declare the Ollama server once; `darwin-rebuild switch` applies and verifies it.
# The server runs as the user's LaunchAgent (gui/<uid>), so ollama-sync runs as that user, in that
# user's launchd session (`launchctl asuser`), from the system activation script (which runs as root).
{ self }:
{ config, lib, pkgs, ... }:

let
  shared = import ./options.nix {
    inherit lib;
    defaultPackage = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
  };
  cfg = config.services.ollama-sync;
  configFile = pkgs.writeText "ollama-sync.json" (builtins.toJSON (shared.declaration cfg));
  user = lib.escapeShellArg cfg.user;
in
{
  options.services.ollama-sync = shared.options // {
    user = lib.mkOption {
      type = lib.types.str;
      # nix-darwin ≥ 25.05 has system.primaryUser (null when unset); older releases lack the option.
      default = let primary = config.system.primaryUser or null; in if primary == null then "" else primary;
      defaultText = lib.literalExpression "config.system.primaryUser";
      description = "The user whose LaunchAgent runs the server (and as whom ollama-sync applies it).";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [{
      assertion = cfg.user != "";
      message = "services.ollama-sync.user must name the user whose LaunchAgent runs the server "
        + "(or set system.primaryUser).";
    }];

    services.ollama-sync.configFile = configFile;
    environment.systemPackages = [ cfg.package ];
    environment.variables.OLLAMA_SYNC_CONFIG = "${configFile}";

    # sudo resets PATH; launchctl and a Homebrew `ollama` must still be found.
    # activate runs under `set -e`: a non-zero exit (failed verification) fails `darwin-rebuild switch`.
    system.activationScripts.postActivation.text = lib.mkIf cfg.applyOnActivation ''
      echo "ollama-sync: applying ${configFile} for ${cfg.user}" >&2
      /bin/launchctl asuser "$(/usr/bin/id -u -- ${user})" \
        /usr/bin/sudo --user=${user} --set-home -- \
        /usr/bin/env PATH="/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
        ${shared.applyCommand cfg configFile}
    '';
  };
}
