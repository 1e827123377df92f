# make demo — set up and run `ollama-sync plan` on the bundled reference setup, inside a sandbox root.
# make test — set up and run the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_ROOT := .demo-root

.PHONY: demo test lint bench clean e2e-macos oracle

# The memory oracle (tests/oracle) loads models with a real llama.cpp, built from source by llama-cpp-python with
# mtmd (vision projectors) and the RPC backend (a second device on loopback). pip's own wheel cache cannot tell
# builds with different CMAKE_ARGS apart, so the wheel is built once into ORACLE_WHEELS (15-20 min on 2 cores)
# and installed from there.
LLAMA_CPP_PYTHON := 0.3.36
ORACLE_WHEELS ?= $(HOME)/.cache/ollama-sync/wheels/llama-cpp-python-$(LLAMA_CPP_PYTHON)-mtmd-rpc
ORACLE_STAMP := $(VENV)/.oracle-$(LLAMA_CPP_PYTHON)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	@rm -rf $(DEMO_ROOT)
	@echo "== ollama-sync plan: the reference setup (examples/reference-setup.toml), sandboxed under $(DEMO_ROOT)/"
	@$(BIN)/ollama-sync --root $(DEMO_ROOT) --config examples/reference-setup.toml plan
	@echo
	@echo "== ollama-sync check --json (the same findings, machine-readable; first lines)"
	@$(BIN)/ollama-sync --root $(DEMO_ROOT) --config examples/reference-setup.toml --json check | head -n 20 || true
	@echo
	@echo "Only this repository and $(DEMO_ROOT)/ were read; nothing was written outside $(DEMO_ROOT)/ and no service manager was asked."
	@echo "Next: point ~/.config/ollama-sync/config.toml at your own declaration, then ollama-sync plan / apply (see README.md)."

oracle: $(ORACLE_STAMP)

$(ORACLE_STAMP): $(STAMP)
	@if ! ls $(ORACLE_WHEELS)/llama_cpp_python-$(LLAMA_CPP_PYTHON)-*.whl >/dev/null 2>&1; then \
	    echo "building llama-cpp-python $(LLAMA_CPP_PYTHON) with mtmd and RPC into $(ORACLE_WHEELS) (15-20 min)"; \
	    rm -rf $(ORACLE_WHEELS).partial && \
	    CMAKE_BUILD_PARALLEL_LEVEL=$${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
	    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_RPC=ON -DLLAVA_BUILD=ON" \
	    $(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-cache-dir --no-deps \
	        --no-binary llama-cpp-python -w $(ORACLE_WHEELS).partial llama-cpp-python==$(LLAMA_CPP_PYTHON) && \
	    mkdir -p $(ORACLE_WHEELS) && mv $(ORACLE_WHEELS).partial/*.whl $(ORACLE_WHEELS)/ && \
	    rm -rf $(ORACLE_WHEELS).partial; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
	    $(ORACLE_WHEELS)/llama_cpp_python-$(LLAMA_CPP_PYTHON)-*.whl
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,oracle]'
	touch $@

test: $(STAMP)
	$(BIN)/pytest -q

# The launchd end-to-end suite: a real Mac only (real launchctl, the stand-in as ollama, a throwaway label).
# Answers are written to e2e-recordings/. Elsewhere every test is skipped, never passed.
e2e-macos: $(STAMP)
	OLLAMA_SYNC_E2E_RECORD=$${OLLAMA_SYNC_E2E_RECORD:-e2e-recordings} $(BIN)/pytest -m e2e -rs -v tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_ROOT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
