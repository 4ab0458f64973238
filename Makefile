# Fragrance AI — every target has a one-line description after `##`; `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_TS := node --import tsx
# The CLI and the service run compiled (tsc emit into dist/, `make build`); tests and benchmarks run the TypeScript through tsx.
FAI := node bin/fai.js
SOURCES = $(shell find src -type f)
DEB_PACKAGES := redis-server nginx prometheus prometheus-alertmanager chromium
UNIT_TESTS = $(shell find test -name '*.test.ts' -not -path 'test/integration/*' | sort)
INTEGRATION_TESTS = $(shell find test/integration -name '*.test.ts' | sort)
# Two test files at a time (the machines have 2 cores; each file is its own process, and integration tests take their own free ports).
TEST_FLAGS := --test-reporter=spec --test-reporter-destination=stdout --test-reporter=./test/helpers/slowest-files-reporter.mjs --test-reporter-destination=stdout --test-concurrency=2

.PHONY: $(RUNBOOK_TARGETS) help install build system-deps run test test-unit test-integration typecheck health check-example train train-default worker generate monitor-local stack-up stack-down bench bench-overhead bench-http bench-regulation bench-hub bench-brief bench-learning bench-shadow bench-state bench-soak clean

help: ## list every target with what it does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {printf "  %-24s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json ## install the npm dependencies from the lockfile (npm ci) when they are missing or stale

# tsc emits dist/ (incremental); the data files the code reads beside itself (src/*/data) are copied along,
# and the regulation catalogue is parsed once into its snapshot (src/regulation/write-snapshot.ts).
dist/.built: $(SOURCES) tsconfig.json tsconfig.build.json node_modules/.package-lock.json
	npx tsc -p tsconfig.build.json
	@rm -rf dist/*/data && cd src && for f in */data/*; do install -D -m 644 "$$f" "../dist/$$f"; done
	node dist/regulation/write-snapshot.js
	@rm -rf dist/cli-bundle && node dist/cli/bundle.js
	@touch $@

build: dist/.built ## compile the TypeScript ahead of time into dist/ (what bin/fai.js, make run and the Docker image run)

system-deps: ## install redis-server, nginx, prometheus, alertmanager with apt when missing (needs root)
	@missing=""; for pkg in $(DEB_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "make: missing Debian packages:$$missing (run as root, or: sudo apt-get install$$missing)" >&2; exit 0; fi; \
	echo "installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends$$missing >/dev/null

run: build ## run the service on its embedded defaults (http://127.0.0.1:8000; PORT, HOST and README's variables apply)
	$(FAI) serve

test: install system-deps typecheck build ## run the whole test suite: type check, unit and integration tests against real servers
	$(NODE_TS) --test $(TEST_FLAGS) $(UNIT_TESTS) $(INTEGRATION_TESTS)

test-unit: install typecheck ## run the unit tests only (no external servers)
	$(NODE_TS) --test $(TEST_FLAGS) $(UNIT_TESTS)

test-integration: install system-deps build ## run the integration tests only (real Redis, promtool, the service as `make run` starts it)
	$(NODE_TS) --test $(TEST_FLAGS) $(INTEGRATION_TESTS)

typecheck: install ## type-check the whole project (tsc --noEmit, strict)
	npx tsc --noEmit

health: build ## ask the running service for component health and threshold verdicts (FAI_URL, default :8000)
	$(FAI) health

train: build ## train a formulation policy: ALGO=ppo|reinforce|hybrid EPISODES=4000 SEED=7 (fai train; ARGS='--hidden 64' or --submit, which has the service train it)
	$(FAI) train --algo $${ALGO:-ppo} --episodes $${EPISODES:-4000} --seed $${SEED:-7} $(ARGS)

train-default: build ## reproduce the shipped teacher and student (models/) from seed 7 and pin them in configs/model_pins.json (fai train-default, about 12 min; ARGS=--no-pin leaves the pins)
	$(FAI) train-default $(ARGS)

worker: build ## take training jobs from the BullMQ queue on REDIS_URL (fai worker)
	$(FAI) worker

generate: build ## regenerate deploy/ (Prometheus rules and their tests, Alertmanager, Grafana) from the catalogue and thresholds table
	$(FAI) ops generate

monitor-local: build system-deps ## Prometheus :9090 and Alertmanager :9093 from Debian packages against the local service (FAI_SERVICE, PROMETHEUS_PORT, ALERTMANAGER_PORT)
	$(FAI) ops monitor --service $${FAI_SERVICE:-127.0.0.1:8000} --prometheus-port $${PROMETHEUS_PORT:-9090} --alertmanager-port $${ALERTMANAGER_PORT:-9093} --dir $${MONITOR_DIR:-data/monitor}

stack-up: ## start the whole stack with Docker Compose (service, Redis, Prometheus, Alertmanager, Grafana, nginx)
	docker compose -f deploy/docker-compose.yml up -d --build

stack-down: ## stop the Docker Compose stack
	docker compose -f deploy/docker-compose.yml down

check-example: build ## check the shipped example formula against IFRA and EU rules (fai check-formula)
	$(FAI) check-formula examples/edp-fresh-citrus.json; code=$$?; [ $$code -le 2 ] || exit $$code

bench: bench-overhead bench-http bench-regulation bench-hub bench-brief bench-learning bench-shadow bench-state ## run every benchmark under bench/ (not the soak: make bench-soak)

bench-overhead: build ## issue 19's rows, each as a ratio against its anchor: fai check-formula process, hooks vs bare Fastify, /metrics at the label bounds, the check in process vs the previous one (about 2 min)
	$(NODE_TS) bench/overhead.bench.ts

bench-http: build ## per-request cost over HTTP (autocannon on loopback): the service vs bare Fastify serving the same route, each in its own process (3 fresh pairs per route), servers and load on cores of their own, and the floor (two hooks, a clock, one header) vs bare Fastify; requests/s and CPU/request ratios with their intervals (about 7 min)
	$(NODE_TS) bench/http.bench.ts

bench-regulation: build ## compliance checks/s and µs per check for 10/30/100 materials, full vs 10x data, indexed vs linear scan; µs per IFRA certificate vs 18 checks (the compiled code in dist/)
	$(NODE_TS) bench/regulation-check.bench.ts

bench-hub: install system-deps ## Cloud Hub store/restore ops/s and p50/p95/p99: 10 KB recipe, 5 MB checkpoint; plain files vs embedded vs Redis; many hosts: local blocks vs the shared S3 store
	$(NODE_TS) bench/hub.bench.ts

# Runbooks: `make runbook-<name> ARGS=...` runs `fai runbook <name> ARGS`; `--dry-run` prints the plan only.
RUNBOOK_TARGETS := runbook-downshift runbook-rollback runbook-pin-update runbook-canary-promote runbook-emergency-stop runbook-restart-workers runbook-clear-cache runbook-health-check runbook-metrics-check runbook-shadow-eval runbook-regulation-strict

runbook-downshift: build ## downshift a mode (ARGS='--mode creative [--clear]': the HighLLMLatency action), or move traffic between stable and canary (CANARY=50): nginx upstream, nginx -t, reload, verified split
	$(FAI) runbook downshift --canary $${CANARY:-50} $(ARGS)

runbook-rollback: build ## return to the previous release: its pins (the policy's too), rolling restart, health (destructive: ARGS=--yes)
	$(FAI) runbook rollback $(ARGS)

runbook-pin-update: build ## set a model pin: MODEL=qwen VERSION=2.5.2, or MODEL=formulation-policy VERSION=1.0.0 CID=bafy… (ARGS=--list)
	$(FAI) runbook pin-update $${MODEL:+--model $$MODEL} $${VERSION:+--version $$VERSION} $${CID:+--cid $$CID} $(ARGS)

runbook-canary-promote: build ## check the canary, send it 100% of traffic, mark the old stable down
	$(FAI) runbook canary-promote $(ARGS)

runbook-emergency-stop: build ## stop every process of the deployment (destructive: ARGS=--yes)
	$(FAI) runbook emergency-stop $(ARGS)

runbook-restart-workers: build ## rolling restart of the workers, one at a time, each healthy before the next
	$(FAI) runbook restart-workers $(ARGS)

runbook-clear-cache: build ## delete the cache keyspace only, SCAN + UNLINK (destructive: ARGS=--yes)
	$(FAI) runbook clear-cache $(ARGS)

runbook-health-check: build ## service, LLM slots, Redis, Prometheus; non-zero exit when unhealthy
	$(FAI) runbook health-check $(ARGS)

runbook-metrics-check: build ## Prometheus up and every thresholds-table row; non-zero exit on CRITICAL
	$(FAI) runbook metrics-check $(ARGS)

runbook-shadow-eval: build ## offline shadow evaluation (STAGE=staging SAMPLES=50): teacher and student beside production; writes both reports
	$(FAI) runbook shadow-eval --stage $${STAGE:-staging} --samples $${SAMPLES:-50} $(ARGS)

runbook-regulation-strict: build ## force strict regulation mode on every serving instance (ARGS=--clear lifts it)
	$(FAI) runbook regulation-strict $(ARGS)

bench-brief: install ## what the brief layer adds per request vs a bare openai client call (test server at zero latency); local briefs/s
	$(NODE_TS) bench/brief.bench.ts

bench-learning: install ## held-out table: composer alone, untrained, random, student, teacher, served — reward, character rate, the policy's share; teacher vs student end-to-end speedup, lift retention, KL (about 2 min)
	$(NODE_TS) bench/learning.bench.ts

bench-state: install ## bounded state: one 40-alert notification over 30,000 past remediation actions, and a hub listing over 40,000 records, each beside the way it was (a full re-read, a full sort)
	$(NODE_TS) bench/state.bench.ts

bench-shadow: install ## POST /v1/formulas p50/p99 with shadow off, at 5 % and at 100 %: one server process each, ratios with 95 % intervals (about 3 min; REQUESTS=4000)
	$(NODE_TS) bench/shadow.bench.ts

bench-soak: install system-deps ## the hardening soak: 5 min of mixed traffic with Redis killed and restarted, gc beside stores, a runbook SIGKILLed mid-run; writes lost, 5xx, RSS slope, locks (SOAK_SECONDS=300)
	$(NODE_TS) bench/soak.bench.ts

clean: ## remove installed dependencies, the compiled output and local data
	rm -rf node_modules dist data .tmp
