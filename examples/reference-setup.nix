# hosts/Mac-Minicore/default.nix — the reference setup's host module (nix-darwin).
# ollama-sync reads `custom.services.ollama` from this file as written:
#   ollama-sync --config examples/nix-source.toml plan
{ config, pkgs, lib, ... }:

{
  networking.hostName = "Mac-Minicore";

  environment.systemPackages = with pkgs; [ git tailscale ];

  custom.services.ollama = {
    enable = true;
    port = 11434;
    host = "0.0.0.0";                    # Network accessible
    modelsPath = "/Users/jeridf/.ollama/models";
    flashAttention = true;                # Performance optimization
    kvCacheType = "q8_0";                 # Memory efficiency (8-bit KV cache)
    extraEnvironment = {
      OLLAMA_NUM_PARALLEL = "4";          # Handle 4 concurrent requests
      OLLAMA_NUM_CTX = "8192";            # 8192 token context window
    };
  };
}
