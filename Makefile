# hookgate developer tasks. Every target is a thin alias; README.md explains them.

GO      ?= go
BIN     ?= bin/hookgate
LDFLAGS ?= -s -w

.PHONY: help run test bench lint build services ci docker clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## run the whole gateway in one process (SQLite under ./data, local or embedded Redis)
	$(GO) run ./cmd/hookgate serve

test: ## the test suite, exactly as CI runs it (needs PostgreSQL and Redis: make services)
	$(GO) test -race -count=1 -timeout 30m ./...

bench: ## the end-to-end benchmark (hookgate bench -h for its flags)
	$(GO) run ./cmd/hookgate bench

lint: ## gofmt, go vet and the OpenAPI lint (installs @redocly/cli into .ci/node/)
	bash .ci/run lint

build: ## a static binary in bin/hookgate
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/hookgate

services: ## start (or install) PostgreSQL and Redis on 127.0.0.1 for the tests
	bash .ci/run services

ci: ## everything CI does: services, tools, lint, tests
	bash .ci/run

docker: ## build the container image hookgate:local (needs a Docker engine)
	docker build -t hookgate:local .

clean: ## remove build output (not ./data)
	rm -rf bin
