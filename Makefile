# safetuned make targets. `make help` lists them. Pass Hydra overrides with ARGS="...".
PYTHON ?= python
ARGS ?=
SWEEP ?=
TORCH ?= torch==2.13.0

.DEFAULT_GOAL := help
.PHONY: help install install-dev install-browser demo train sweep evaluate report validate test test-all bench gpu-check lint clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

install: ## Install safetuned (CPU torch pinned; see README for the GPU install)
	$(PYTHON) -m pip install -q "$(TORCH)" -e .

install-dev: ## Install safetuned with test and lint tools, plus Chromium for the report browser test
	$(PYTHON) -m pip install -q "$(TORCH)" -e ".[dev]"
	@$(MAKE) --no-print-directory install-browser

install-browser: ## Install headless Chromium (Debian package) for the report's browser test
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "could not install chromium: the browser test will be skipped"

demo: install ## Run the README's demo sweep (N = 0, 100, 500, 2000 on the embedded model) and its report
	$(PYTHON) -m safetuned.train -m data.safety_n=0,100,500,2000 $(ARGS)

train: ## One training job: make train ARGS="data.safety_n=500"
	$(PYTHON) -m safetuned.train $(ARGS)

sweep: ## A sweep: make sweep ARGS="data.safety_n=100,500 data.safety_format=instructions,questions"
	$(PYTHON) -m safetuned.train -m $(ARGS)

evaluate: ## Evaluate an adapter: make evaluate ARGS="adapter=multirun/<date>/<time>/data.safety_n=500"
	$(PYTHON) -m safetuned.evaluate $(ARGS)

report: ## Report on a sweep folder (default: the newest under multirun/): make report SWEEP=multirun/<date>/<time>
	$(PYTHON) -m safetuned.report $(SWEEP)

validate: ## Check refusal judges against human labels: make validate ARGS="files=[xstest_v2_completions_llama2orig.csv]"
	$(PYTHON) -m safetuned.validate $(ARGS)

test: install-dev ## Install, then run the fast tests (the README's test command; CI runs this)
	$(PYTHON) -m pytest -q

test-all: install-dev ## Install, then run every test, slow ones included (full sweeps, DDP, resume)
	$(PYTHON) -m pytest -q -m "slow or not slow"

bench: install ## Benchmarks against the baselines, printed as ratios; writes bench/results.json
	$(PYTHON) -m bench.run $(ARGS)

gpu-check: ## Prove the GPU path on one CUDA device (~1B random-weight LLaMA): ARGS="--dry-run" rehearses it on CPU
	$(PYTHON) -m bench.gpu_check $(ARGS)

lint: ## Ruff
	$(PYTHON) -m ruff check safetuned tests bench

clean: ## Remove caches and run outputs (multirun/, outputs/, .cache/)
	rm -rf multirun outputs .cache wandb lightning_logs .pytest_cache
