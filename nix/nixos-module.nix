# NixOS module: nixpkgs' hardened services.ollama stays in charge of the server; this module checks
# config.services.ollama at build time (`ollama-sync check` with flavor "nixos", the NixOS module's own
# semantics) so that an error-level finding fails `nixos-rebuild build`, and, optionally, verifies the
# running server after a switch with a oneshot unit (`ollama-sync verify`, no writes).
{ self }:
{ config, lib, pkgs, ... }:

let
  cfg = config.services.ollama-sync-check;
  ollama = config.services.ollama;
  # The evaluated services.ollama (module defaults included) as a .nix file ollama-sync reads statically;
  # only the options that configure the server (not package, nor the removed ones, which throw).
  declared = lib.getAttrs (lib.filter (n: ollama ? ${n}) [
    "enable" "host" "port" "home" "models" "environmentVariables" "rocmOverrideGfx" "acceleration" "loadModels"
  ]) ollama;
  # Self-contained: the declaration and the config are written by the build script itself, checked,
  # and kept in the output (installed as /etc/ollama-sync for the verify unit).
  checked = pkgs.runCommand "ollama-sync-check-services-ollama" { } ''
    export HOME="$TMPDIR" OLLAMA_SYNC_STATE_DIR="$TMPDIR/state"
    mkdir -p "$out/etc/ollama-sync"
    cat > "$out/etc/ollama-sync/services-ollama.nix" <<'OLLAMA_SYNC_EOF'
    { services.ollama = ${lib.generators.toPretty { } declared}; }
    OLLAMA_SYNC_EOF
    cat > "$out/etc/ollama-sync/config.toml" <<'OLLAMA_SYNC_EOF'
    source = "services-ollama.nix"
    flavor = "nixos"

    [service]
    backend = "systemd"
    scope = "system"
    label = "ollama"
    binary = "${lib.getExe ollama.package}"
    OLLAMA_SYNC_EOF
    ${cfg.package}/bin/ollama-sync --config "$out/etc/ollama-sync/config.toml" check
  '';
in
{
  options.services.ollama-sync-check = {
    enable = lib.mkEnableOption "checking services.ollama with `ollama-sync check` at build time" // {
      default = true;
    };
    package = lib.mkOption {
      type = lib.types.package;
      default = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      description = "The ollama-sync package that checks the declaration.";
    };
    verifyAfterSwitch = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Run `ollama-sync verify` in a oneshot unit after ollama.service (re)starts.";
    };
    failOnVerifyError = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Whether the verify unit fails (and so the switch reports a failed unit) on a mismatch.";
    };
  };

  config = lib.mkIf (cfg.enable && ollama.enable) {
    system.checks = [ checked ];
    environment.etc."ollama-sync".source = "${checked}/etc/ollama-sync";

    systemd.services.ollama-sync-verify = lib.mkIf cfg.verifyAfterSwitch {
      description = "Verify the Ollama server against its declaration (ollama-sync verify)";
      after = [ "ollama.service" ];
      partOf = [ "ollama.service" ];
      wantedBy = [ "ollama.service" ];
      path = [ config.systemd.package ];
      serviceConfig.Type = "oneshot";
      script = ''
        if ! ${cfg.package}/bin/ollama-sync --config /etc/ollama-sync/config.toml verify; then
          echo "ollama-sync: VERIFICATION FAILED: the running server does not match services.ollama" >&2
          ${if cfg.failOnVerifyError then "exit 1" else "true"}
        fi
      '';
    };
  };
}
