# Parley: `make run` starts the app with demo data, `make test` runs every test.
# Both install what is missing and reuse (or start) PostgreSQL and Redis: see scripts/.
# Neither needs Node: htmx is committed in static/vendor/ (`make assets` updates it).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.NOTPARALLEL:
.DEFAULT_GOAL := run

ENV := . scripts/env.sh

# Fuzz targets that `make test` runs briefly after the tests, as package:FuzzFunc pairs,
# e.g. ./http/webhook:FuzzVonageParams. Corpora live in each package's testdata/fuzz/.
FUZZ_TARGETS := ./channels/sms:FuzzParseInbound ./channels/sms:FuzzVerify ./channels/sms:FuzzCount ./hub:FuzzDecodeEvent ./channels/email:FuzzParse ./channels/email:FuzzStripQuoted ./channels/email:FuzzParseBounce ./models:FuzzParseImport
# A count of inputs, not a duration: a timed run can end with a bare "context deadline
# exceeded" on a loaded machine (seen with FuzzDecodeEvent) though no input failed.
FUZZ_TIME ?= 20000x

.PHONY: run test build assets services lint bench stop

## run: set up, build, migrate, seed demo data and serve on PARLEY_HTTP_ADDR
run: services build
	@scripts/run.sh

## test: set up, lint, then all tests with the race detector, then short fuzz runs
test:
	@scripts/deps.sh test
	@scripts/services.sh test
	@$(ENV); step "downloading Go modules (go mod download)" go mod download
	$(LINT)
	@echo "==> go test -race -count=1 -timeout 20m ./... (the first run compiles everything with the race detector: a few minutes)"
	@$(ENV); go test -race -count=1 -timeout 20m ./...
	@for t in $(FUZZ_TARGETS); do \
		pkg="$${t%%:*}"; fn="$${t##*:}"; \
		echo "==> fuzzing $$fn in $$pkg for $(FUZZ_TIME)"; \
		$(ENV); go test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZ_TIME) "$$pkg"; \
	done

## build: the binary at bin/parley (static/, htmx included, is committed and embedded)
build:
	@$(ENV); [[ -x bin/parley ]] || say "first build: go downloads modules and compiles; this can take a few minutes"; \
		echo "==> go build -o bin/parley ."; go build -o bin/parley .

## assets: update the committed htmx files in static/vendor/ (npm ci, then files + manifest)
assets:
	@scripts/assets.sh

## services: set-up only: packages, PostgreSQL and Redis, the database
services:
	@scripts/deps.sh run
	@scripts/services.sh run

## lint: gofmt must have nothing to say, then go vet, go.mod tidy, staticcheck
lint:
	@scripts/deps.sh tools
	$(LINT)

# staticcheck runs with its default checks, from .data/bin at the version scripts/deps.sh pins.
define LINT
@echo "==> gofmt -l, go vet, go mod tidy -diff, staticcheck (go vet compiles every package: minutes the first time)"
@$(ENV); out="$$(find . \( -path ./node_modules -o -path ./.data -o -path ./.git \) -prune -o -name '*.go' -print | xargs -r gofmt -l)"; \
	if [[ -n "$$out" ]]; then echo "gofmt wants to reformat:"; echo "$$out"; exit 1; fi
@$(ENV); go vet ./...
@$(ENV); go mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
@$(ENV); .data/bin/staticcheck ./...
endef

## bench: Go benchmarks for now (the load tool comes later)
bench:
	@$(ENV); go test -run '^$$' -bench . -benchmem ./...

## stop: stop the private PostgreSQL/Redis this checkout started (others are left alone)
stop:
	@scripts/stop.sh
