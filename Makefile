# Nanyang small-micro evaluation workbook. `make` alone lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data/demo
PERIOD ?= 2023-12
WORKERS ?=

.DEFAULT_GOAL := help
.PHONY: help venv system-deps kernel demo-data demo run test test-fast benchmark lab contract-doc clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required / 需要 Python 3.11 及以上")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

venv: $(BIN)/.installed ## Create .venv and install the pinned packages (constraints.txt)

system-deps: ## Install Debian packages the reports need (a CJK font) when missing
	@if command -v fc-list >/dev/null && fc-list :lang=zh family | grep -q .; then \
	  echo "CJK font present / 已安装中文字体"; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk fontconfig >/dev/null; \
	else \
	  echo "No CJK font and no apt-get: install Noto Sans CJK SC (or Source Han Sans / WenQuanYi) by hand"; exit 1; \
	fi

kernel: venv ## Register the project's Jupyter kernel inside .venv
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (analysis)" >/dev/null

demo-data: venv ## Write the fictional demo jurisdiction to data/demo
	$(BIN)/analysis demo-data --out $(DATA)

demo: venv system-deps kernel demo-data ## Set up everything and run the main job on the demo data
	$(BIN)/analysis validate $(DATA)
	$(BIN)/analysis run --period $(PERIOD) --data $(DATA) $(if $(WORKERS),--workers $(WORKERS))

run: venv ## Run the reports of PERIOD on DATA (make run PERIOD=2023-06 DATA=path/to/data)
	$(BIN)/analysis run --period $(PERIOD) --data $(DATA) $(if $(WORKERS),--workers $(WORKERS))

test: venv system-deps kernel demo-data ## Run the whole test suite (unit, notebooks via nbval, end to end)
	$(BIN)/python -m pytest -n auto --dist loadfile --nbval-lax tests notebooks

test-fast: venv ## Unit tests only (no notebooks, no browser)
	$(BIN)/python -m pytest -m "not slow"

benchmark: venv demo-data kernel ## Time the indicator engine and the batch against a plain papermill loop
	$(BIN)/python benchmarks/bench_indicators.py --data $(DATA)
	$(BIN)/python benchmarks/bench_batch.py --data $(DATA) --period $(PERIOD)

contract-doc: venv ## Regenerate docs/data-contract.md from the contract definitions
	$(BIN)/analysis contract-doc

lab: venv kernel ## Open JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks/

clean: ## Delete generated reports and demo data (not .venv)
	rm -rf reports/*/ data/demo
