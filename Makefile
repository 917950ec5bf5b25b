# Nanyang small-micro evaluation workbook. `make` alone lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data/demo
# the demo as the office receives it (S71 exports, loan-level tables, the other tables) and as imported
DEMO_RAW := data/demo-raw
DEMO := data/demo
PERIOD ?= 2023-12
DEMO_PERIODS ?= 2023-12 2025-06
WORKERS ?=
# outputs of make demo / make run: the reports, and the 通报 and 监管提示函 as Word drafts (docx)
FORMATS ?= html,pdf,docx

# One BLAS thread per process: the batch and the tests run several processes on 2 cores, and
# OpenBLAS threads competing across them made model fitting 17x slower (benchmarks/README.md).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.DEFAULT_GOAL := help
.PHONY: help venv system-deps system-deps-test kernel serve publish demo-data demo run test test-fast lint hooks benchmark lab contract-doc clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-17s\033[0m %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required / 需要 Python 3.11 及以上")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

venv: $(BIN)/.installed ## Create .venv and install the pinned packages (constraints.txt)

# Debian packages: a CJK font and Pango for charts and PDFs; poppler, Chromium and LibreOffice (Writer,
# headless: the Word drafts laid out and read back) for the tests.
# libharfbuzz-subset0: WeasyPrint subsets the embedded CJK fonts with it; without it WeasyPrint falls
# back to fontTools, ten times slower per PDF (16 s instead of 1.6 s). Chromium depends on it, so a
# machine that ran the tests always had it; tests/test_install.py now checks that every library
# WeasyPrint loads comes from a package of this list (or one it depends on), never from DEB_TEST.
DEB_RUNTIME := fonts-noto-cjk fontconfig libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0
DEB_TEST := poppler-utils chromium libreoffice-writer-nogui

define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || printf '%s ' $$p; done); missing=$${missing% }; \
	if [ -z "$$missing" ]; then echo "Debian packages present / 系统依赖已安装: $(1)"; \
	elif command -v apt-get >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "Not root and no sudo: please install as root / 非 root 且无 sudo，请以 root 安装: apt-get install $$missing" >&2; exit 1; fi; \
	  echo "installing / 安装 $$missing"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "Please install: $$missing (CJK font: Noto Sans CJK SC, Source Han Sans or WenQuanYi)" >&2; exit 1; fi
endef

system-deps: ## Install the Debian packages reports need (CJK font, Pango) when missing
	$(call apt_install,$(DEB_RUNTIME))

system-deps-test: system-deps ## ... and those the tests need (poppler-utils, chromium, libreoffice-writer-nogui)
	$(call apt_install,$(DEB_TEST))

kernel: venv ## Register the project's Jupyter kernel inside .venv (one BLAS thread per kernel)
	@$(BIN)/python tools/install_kernel.py --prefix $(VENV)

demo-data: venv ## Write the demo as received (S71 exports, loan tables: data/demo-raw) and import it into data/demo
	rm -rf $(DEMO) $(DEMO_RAW)
	$(BIN)/analysis demo-exports --out $(DEMO_RAW)
	$(BIN)/analysis import-s71 $(DEMO_RAW)/s71 --tidy $(DEMO_RAW)/tidy --out $(DEMO)
	cp -r $(DEMO_RAW)/loans $(DEMO)/loans

demo: venv system-deps kernel demo-data ## Set up everything and run the main job on the demo data (2023 year-end and the latest period, 2025-06, each under its own year's notice)
	$(BIN)/analysis validate $(DATA)
	@for p in $(DEMO_PERIODS); do \
	  $(BIN)/analysis run --period $$p --data $(DATA) --formats $(FORMATS) $(if $(WORKERS),--workers $(WORKERS)) || exit $$?; \
	done

run: venv system-deps ## Run the reports of PERIOD on DATA (make run PERIOD=2023-06 DATA=path/to/data)
	$(BIN)/analysis run --period $(PERIOD) --data $(DATA) --formats $(FORMATS) $(if $(WORKERS),--workers $(WORKERS))

test: venv system-deps-test kernel demo-data ## Run the whole test suite (unit, notebooks via nbval, end to end)
	$(BIN)/python -m pytest -n auto --dist loadfile --nbval-lax tests notebooks

test-fast: venv ## Unit tests only (no notebooks, no browser)
	$(BIN)/python -m pytest -m "not slow"

lint: venv ## Lint, format check and type check (ruff check, ruff format --check, mypy); settings in pyproject.toml
	@status=0; \
	echo "ruff check"; $(BIN)/ruff check . || status=1; \
	echo "ruff format --check"; $(BIN)/ruff format --check . || status=1; \
	echo "mypy src/analysis"; $(BIN)/mypy src/analysis || status=1; \
	exit $$status

# Notebook outputs (real bank data once an analyst has run them) never reach git: a git filter strips
# outputs and execution counts from what is committed; the working copy keeps them. Cell ids are kept,
# so an edit shows as a small diff. No pre-commit framework needed (.pre-commit-config.yaml does the
# same for those who use it).
NBSTRIPOUT = "$(abspath $(BIN))/python" -m nbstripout --keep-id
hooks: venv ## Strip notebook outputs from every commit (nbstripout git filter for this clone)
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  $(BIN)/nbstripout --install && \
	  git config filter.nbstripout.clean '$(NBSTRIPOUT)' && \
	  git config diff.ipynb.textconv '$(NBSTRIPOUT) -t' && \
	  echo "nbstripout installed / 已安装：提交时自动清除笔记本输出"; \
	else echo "not a git checkout: nothing to install / 非 git 仓库，无需安装"; fi

serve: venv ## Preview the published report site on http://127.0.0.1:8000/
	$(BIN)/analysis serve

benchmark: venv system-deps demo-data kernel ## Time the indicator engine, a full period against its floor, the batch against a plain loop
	$(BIN)/python benchmarks/bench_indicators.py --data $(DATA)
	$(BIN)/python benchmarks/bench_floor.py --data $(DATA) --period $(PERIOD)
	$(BIN)/python benchmarks/bench_batch.py --data $(DATA) --period $(PERIOD)
	$(BIN)/python benchmarks/bench_warm_kernels.py --data $(DATA) --period $(PERIOD)
	$(BIN)/python benchmarks/bench_report_parts.py
	$(BIN)/python benchmarks/bench_loans.py --rows 1000000 10000000
	$(BIN)/python benchmarks/bench_financing.py --rows 100000 1000000

contract-doc: venv ## Regenerate docs/data-contract.md from the contract definitions
	$(BIN)/analysis contract-doc

lab: venv kernel hooks ## Open JupyterLab on the notebooks (outputs are stripped from commits)
	$(BIN)/jupyter lab notebooks/

clean: ## Delete generated reports and demo data (not .venv)
	rm -rf reports/*/ data/demo
