# make demo — set up and run `ollama-sync plan` on the bundled reference setup, inside a sandbox root.
# make test — set up and run the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_ROOT := .demo-root

.PHONY: demo test lint bench clean e2e-macos

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
