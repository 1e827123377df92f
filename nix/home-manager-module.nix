# home-manager module: declare the Ollama server once; `home-manager switch` (or `darwin-rebuild switch`
# with home-manager as a nix-darwin module) applies and verifies it as the user: a LaunchAgent on macOS,
# a `systemctl --user` unit on Linux.
{ self }:
{ config, lib, pkgs, ... }:

let
  shared = import ./options.nix {
    inherit lib;
    defaultPackage = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
  };
  cfg = config.services.ollama-sync;
  configFile = pkgs.writeText "ollama-sync.json" (builtins.toJSON (shared.declaration cfg));
in
{
  options.services.ollama-sync = shared.options;

  config = lib.mkIf cfg.enable {
    services.ollama-sync.configFile = configFile;
    home.packages = [ cfg.package ];
    home.sessionVariables.OLLAMA_SYNC_CONFIG = "${configFile}";

    # The activation script runs under `set -eu -o pipefail`: a failed verification fails the switch.
    # `run` skips the command under --dry-run.
    home.activation.ollamaSync = lib.mkIf cfg.applyOnActivation (lib.hm.dag.entryAfter [ "writeBoundary" ] ''
      run ${shared.applyCommand cfg configFile}
    '');
  };
}
