# Keyward — `make test` is the whole check: it brings up PostgreSQL and
# Chromium when they are installable, then runs every test on both engines.

GO ?= go
GOTEST_FLAGS ?= -count=1 -timeout 20m

.PHONY: test deps lint unit reliability build bench fuzz clean release-check snapshot

test: deps lint unit

deps:
	@bash .ci/deps.sh

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test $(GOTEST_FLAGS) ./...

# The reliability suite (CI runs it after test): two instances on a
# throwaway PostgreSQL cluster under mixed load for 60 s, then the database
# stopped for 10 s under load. About three minutes; KEYWARD_RELIABILITY_LOAD,
# _OUTAGE, _AFTER and _WORKERS change it for a local run.
reliability:
	$(GO) vet -tags reliability ./cmd/keyward/
	$(GO) test -tags reliability -run '^TestReliability$$' -count=1 -timeout 15m -v ./cmd/keyward/

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)

build:
	CGO_ENABLED=0 $(GO) build -trimpath \
	  -ldflags "-X main.Version=$(VERSION) -X main.Commit=$(COMMIT) -X main.BuildDate=$(DATE)" \
	  -o bin/keyward ./cmd/keyward

# Releases: .goreleaser.yaml builds linux, darwin and windows on amd64 and
# arm64 with the ldflags above, archives and a checksums file. GoReleaser
# runs through the module proxy at a pinned version (its first run builds
# it: about 20 minutes on a busy 2-core machine, then seconds from the build
# cache); release-check validates the configuration, snapshot builds every
# target into dist/ without publishing. cmd/keyward's
# TestReleaseConfigMatchesMakefile keeps its ldflags in step with build's.
GORELEASER ?= $(GO) run github.com/goreleaser/goreleaser/v2@v2.17.0

release-check:
	$(GORELEASER) check

snapshot:
	$(GORELEASER) release --snapshot --clean

# Benchmarks (never timed tests): token issuance, introspection, API-key
# verification, signing.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A short fuzzing pass over every fuzz target (one target per run).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./keys/
	$(GO) test -run '^$$' -fuzz '^FuzzRoundTrip$$' -fuzztime $(FUZZTIME) ./keys/
	$(GO) test -run '^$$' -fuzz '^FuzzTokenForm$$' -fuzztime $(FUZZTIME) ./authz/
	$(GO) test -run '^$$' -fuzz '^FuzzAuthorizeQuery$$' -fuzztime $(FUZZTIME) ./authz/

clean:
	rm -rf bin dist keyward-data
