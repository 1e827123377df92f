"""The memory planner's arithmetic: GGUF facts + settings → weights, KV cache, graph, fit (by Ollama era)."""
