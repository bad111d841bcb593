# fangops: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
FANGOPS := $(CARGO) run -q --bin fangops --
MOTO_PORT ?= 4566
export MOTO_PORT

.PHONY: help setup build demo test lint fmt schema docs bench moto-start moto-stop clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

setup: ## Create .venv with the pinned local AWS emulator (moto)
	@scripts/setup.sh

build: ## Build the workspace (debug)
	$(CARGO) build --workspace --locked

demo: setup ## Set up, start moto, and run the whole pipeline locally
	$(CARGO) build --bin fangops --locked
	@scripts/moto.sh start
	@trap 'scripts/moto.sh stop' EXIT; \
	export AWS_ENDPOINT_URL=http://127.0.0.1:$(MOTO_PORT); \
	echo; echo "== fangops validate: every env file"; $(FANGOPS) validate; \
	echo; echo "== fangops doctor --env local"; $(FANGOPS) doctor --env local; \
	echo; echo "== fangops deploy --env local: the stack from infra/template.yaml, then the companies"; $(FANGOPS) deploy --env local --profile dev; \
	echo; echo "== fangops deploy --env local, again: nothing changed, so no change set"; $(FANGOPS) deploy --env local --profile dev; \
	echo; echo "== fangops drift --env local: the live environment against the repository"; $(FANGOPS) drift --env local; \
	echo; echo "== fangops run --env local: producer -> SQS -> sentiment -> S3"; $(FANGOPS) run --env local; \
	echo; echo "== fangops results --env local"; $(FANGOPS) results --env local; \
	echo; echo "== fangops verify --env local: a canary through the deployed pipeline, its result, the alarms"; $(FANGOPS) verify --env local; \
	echo; echo "== fangops history --env local: every deploy, with its verification"; $(FANGOPS) history --env local; \
	mkdir -p dist; $(FANGOPS) results --env local --format html --out dist/results.html; \
	echo; echo "== fangops cost --env prod --no-actual: what production will cost a month, and why"; $(FANGOPS) cost --env prod --no-actual; \
	echo; echo "== a pull request: a copy of the local env gains Spotify and loses Netflix; the comment a reviewer gets"; \
	mkdir -p dist/pr; cp environments/local.yaml dist/pr/local.yaml; \
	$(FANGOPS) companies add --env dist/pr/local.yaml Spotify; \
	$(FANGOPS) companies remove --env dist/pr/local.yaml Netflix; \
	env -u GITHUB_TOKEN $(FANGOPS) plan --env dist/pr/local.yaml --profile dev --base file:environments/local.yaml --comment; \
	echo; echo "== the same pull request's preview: a stack of its own, Spotify's result in its comment, then torn down"; \
	env -u GITHUB_TOKEN $(FANGOPS) deploy --env dist/pr/local.yaml --profile dev --preview 1 --base file:environments/local.yaml --comment; \
	$(FANGOPS) previews --env dist/pr/local.yaml; \
	$(FANGOPS) teardown --env dist/pr/local.yaml --preview 1 --yes; \
	echo; echo "== fangops teardown --env local --yes"; $(FANGOPS) teardown --env local --yes; \
	echo; echo "demo done: open dist/results.html for the chart; 'make moto-start' keeps an emulator running to try more"

# Test threads: the integration tests spend most of their time waiting on the emulator
# and, once per cold target dir, on the one build of the Lambda zips (behind a lock);
# at the default (one thread per core) two such waits leave a 2-core machine idle.
TEST_THREADS ?= 4

# Clippy lints the workspace's crates while the tests build them: clippy-driver as
# rustc's workspace wrapper is what `cargo clippy` itself sets up, but with code
# generation, so the dependencies are compiled once and not a second time for a check
# (cargo clippy took about 100 s of a cold run on 2 cores; linting while building adds
# part of it back). Its lints are `cargo clippy --all-targets`'s, at -D warnings;
# `make lint` runs that alone.
CLIPPY_DRIVER ?= clippy-driver

LINT_ENV := RUSTC_WORKSPACE_WRAPPER=$(CLIPPY_DRIVER) CLIPPY_ARGS=-Dwarnings__CLIPPY_HACKERY__

test: setup ## Run every test (unit, integration against moto, lambdas) and clippy
	$(LINT_ENV) $(CARGO) test --workspace --locked -- --test-threads=$(TEST_THREADS)

lint: ## rustfmt and clippy alone (make test lints too)
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

schema: ## Regenerate environments/env.schema.json
	$(FANGOPS) schema --out environments/env.schema.json

docs: schema ## Regenerate the references in docs/reference (CLI, env-file keys, exit codes)
	$(FANGOPS) docs --out docs/reference

bench: setup ## Print the benchmarks' figures (builds in release: slow the first time)
	$(CARGO) bench --bench companies
	bench/pipeline.sh 1000
	bench/deploy.sh 5
	bench/pr.sh
	bench/sync.sh
	bench/verify.sh
	bench/cache.sh
	bench/artifacts.sh
	bench/comprehend_cost.sh
	bench/throttled.sh 1000
	bench/measured.sh
	python3 bench/coldstart.py $${CARGO_TARGET_DIR:-target}/$$(uname -m)-unknown-linux-gnu/lambda/fang-producer
	python3 bench/coldstart.py $${CARGO_TARGET_DIR:-target}/$$(uname -m)-unknown-linux-gnu/lambda/fang-sentiment

moto-start: setup ## Start moto on 127.0.0.1:$(MOTO_PORT) in the background
	@scripts/moto.sh start

moto-stop: ## Stop it
	@scripts/moto.sh stop

clean: moto-stop ## Remove build output, .venv and emulator state
	$(CARGO) clean
	rm -rf .venv .moto dist
