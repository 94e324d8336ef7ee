# Two commands do the whole set-up: `make run` starts the daemon, `make test` runs the tests.
# Each creates .venv and installs what it needs the first time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test lint bench clean venv system-deps

$(STAMP): pyproject.toml scripts/setup.py
	# The install steps live in scripts/setup.py (Windows users run it directly): .venv, pip,
	# torch==$${TORCH_VERSION:-2.13.0} first so no multi-GB CUDA build is pulled, then the project.
	$(PYTHON) scripts/setup.py --venv $(VENV)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/midi-llm-bridge serve $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# Prints progress and the results; `make bench ARGS=--write` also updates docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/decode.py $(ARGS)

# Debian packages the tests use as real peers (JACK, Lua, liblo). Needs root; CI calls it.
system-deps:
	./scripts/install-system-deps.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
