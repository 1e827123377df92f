"""`memory` against a real llama.cpp, and its speed.

1. For the oracle grid (tests/oracle: every tiny architecture in tiny_gguf.MODELS, the hybrid ones included,
   × context × parallel × KV type × flash attention), the largest relative error of each figure the llama-server
   estimate gives against what llama.cpp b11312 (llama-cpp-python 0.3.36, the `oracle` extra) logs: KV cache
   (with recurrent state), output buffer, compute buffer, model weights, and the total (weights + KV + output +
   compute).
   Below them, per projector type (tests/oracle/test_projector_oracle.py's grid of tiny gemma3, idefics3, llava
   "mlp", pixtral/mistral3, qwen2-vl/2.5-vl/3-vl, llama4 and minicpm-v projectors × flash attention), the largest
   relative error of the projector's compute buffer against what mtmd/clip.cpp logs at warm-up.
2. The time of `ollama-sync memory` for 20 installed models (warm header cache) against `python -c pass`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ and tests/ helpers

from bench._timing import VENV_BIN, interleaved, report, run_process
from tests.gguf_models import GEMMA3_12B, LLAMA3_8B, QWEN25_7B, install, write_gguf
from tests.oracle.test_llama_cpp_oracle import GRID, measure
from tests.oracle.test_projector_oracle import measure_all
from tests.oracle.tiny_gguf import MODELS, write_tiny

from ollama_sync.core.memory.llama_cpp import LLAMA_CPP_REVISION, ServerParams, allocation
from ollama_sync.core.memory.model_info import model_info
from ollama_sync.core.memory.projector import projector_compute
from ollama_sync.system.gguf_header import read_header

MIB = 1024 * 1024


def oracle_errors(folder: Path) -> tuple[dict[str, tuple[float, str]], dict[str, dict[str, float]]]:
    """Largest |relative error| per figure over the grid, with where it happened; and per architecture."""
    worst: dict[str, tuple[float, str]] = {}
    by_arch: dict[str, dict[str, float]] = {}
    for m in MODELS:
        path = write_tiny(folder / f"{m.arch}.gguf", m)
        info = model_info(read_header(path))
        for r in measure(path):
            e = r["entry"]
            alloc = allocation(info, ServerParams(e["n_ctx"], e["n_seq"], e["type"], e["flash"]))
            theirs = {kind: sum(float(b["mib"]) * MIB for b in r["buffers"] if b["kind"] in kinds)
                      for kind, kinds in (("KV", ("KV", "RS")), ("output", ("output",)), ("compute", ("compute",)))}
            theirs["weights"] = sum(float(b["mib"]) * MIB for b in r["model_buffers"])
            theirs["total"] = sum(theirs.values())
            ours = {"KV": alloc.kv, "output": alloc.output, "compute": alloc.compute, "weights": info.tensor_bytes}
            ours["total"] = sum(ours.values())
            where = f"{m.arch} ctx={e['n_ctx']} seq={e['n_seq']} {e['type']} fa={'on' if e['flash'] else 'off'}"
            for figure, value in theirs.items():
                # llama.cpp prints MiB with two decimals: a difference within that rounding is no error
                off = abs(ours[figure] - value)
                diff = 0.0 if off <= 0.005 * MIB * 4 else off / max(value, 1)
                if diff >= worst.get(figure, (-1.0, ""))[0]:
                    worst[figure] = (diff, where)
                mine = by_arch.setdefault(m.arch, {})
                mine[figure] = max(mine.get(figure, 0.0), diff)
    return worst, by_arch


def projector_errors(folder: Path) -> dict[str, tuple[float, str]]:
    """Largest |relative error| of the projector compute buffer per projector type, with where it happened."""
    worst: dict[str, tuple[float, str]] = {}
    for name, (info, results) in measure_all(folder).items():
        for r in results:
            (printed,) = [b["mib"] for b in r["compute"]]
            ours = projector_compute(info, r["entry"]["flash"]).bytes
            # clip.cpp prints MiB with two decimals: the same text is no error
            diff = 0.0 if f"{ours / MIB:.2f}" == printed else abs(ours - float(printed) * MIB) / (float(printed) * MIB)
            where = f"{name} fa={'on' if r['entry']['flash'] else 'off'}"
            if diff >= worst.get(info.projector_type, (-1.0, ""))[0]:
                worst[info.projector_type] = (diff, where)
    return worst


def memory_speed(folder: Path) -> bool:
    """`memory` over 20 installed models (three real header layouts, small vocabularies) vs `python -c pass`."""
    models = folder / "models"
    layouts = (LLAMA3_8B, QWEN25_7B, GEMMA3_12B)
    for i in range(20):
        source = folder / f"m{i}.gguf"
        write_gguf(source, layouts[i % 3], vocab=32000)
        install(models, f"model{i:02d}", source)
    config = folder / "ollama.toml"
    config.write_text(f'[ollama]\nmodelsPath = "{models}"\nhost = "127.0.0.1"\nport = 1\n')
    home = folder / "home"
    memory = run_process([str(VENV_BIN / "ollama-sync"), "--config", str(config), "memory", "--ram", "64G",
                          "--gpu-memory", "24G"], check=False)
    baseline = run_process([sys.executable, "-c", "pass"])
    import os  # noqa: PLC0415

    os.environ["HOME"] = str(home)  # the header cache lives under the state directory: warm after the warmup
    times = interleaved({"memory": memory, "pass": baseline}, runs=7, warmup=2)
    return report("memory, 20 installed models", times["memory"], times["pass"], None, baseline_name="python -c pass")


def main() -> int:
    """Print the error table and the timing."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        folder = Path(tmp)
        print(f"oracle: llama.cpp {LLAMA_CPP_REVISION} via llama-cpp-python; grid of {len(GRID)} points × "
              f"{len(MODELS)} architectures ({', '.join(m.arch for m in MODELS)})")
        worst, by_arch = oracle_errors(folder)
        print(f"{'figure':<10} {'largest relative error':>24}  where")
        for figure, (error, where) in worst.items():
            print(f"{figure:<10} {error:>23.1%}  {where if error else '(every point equal)'}")
        figures = list(worst)
        print(f"\n{'architecture':<14}" + "".join(f"{f:>9}" for f in figures))
        for arch, errors in by_arch.items():
            print(f"{arch:<14}" + "".join(f"{errors[f]:>9.1%}" for f in figures))
        print()
        print("projector compute buffer (mtmd/clip.cpp warm-up), by projector type:")
        for ptype, (error, where) in projector_errors(folder).items():
            print(f"  {ptype:<18} {error:>13.1%}  {where if error else '(every point equal)'}")
        memory_speed(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
