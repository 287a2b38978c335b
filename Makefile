# One command to set up and run the app, one to run the tests (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Set TORCH_INDEX to a PyTorch wheel index to choose the build, e.g. the CPU or a CUDA index (README.md).
TORCH_INDEX ?=
PIP_INSTALL := $(BIN)/pip install -c constraints.txt $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))

.PHONY: setup run test lint bench bench-gui screenshot package clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e ".[dev]"
	touch $@

run: setup
	$(BIN)/anisketch-desktop

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check anisketch_desktop training tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m benchmarks.bench_core

bench-gui: setup
	$(BIN)/python -m benchmarks.bench_gui
	$(BIN)/python -m benchmarks.bench_hints

screenshot: setup
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python scripts/screenshot.py -o docs/screenshot_main.png
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python scripts/screenshot.py --scene hints --size 1600x1000 \
		--queue 0 -o docs/screenshot_hints.png

package: setup
	bash packaging/build.sh

clean:
	rm -rf $(VENV) build dist
