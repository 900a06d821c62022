# The two commands (README.md): `make demo` and `make test`. Each installs what is missing first; stamps
# make the second run skip every install whose inputs did not change.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv

# The project-local compiler folder and native node binaries, for every command run from here.
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(VENV)/bin:$(PATH)
APE := $(VENV)/bin/ape

.PHONY: help setup demo test bench coverage slither mutation invariants-long clean node rehearsal-node

help:
	@echo "make demo    end-to-end issuance on an embedded local BNB-Chain-like node (installs what is missing)"
	@echo "make test    the whole test suite (installs what is missing)"
	@echo "make bench | coverage | slither | mutation | invariants-long   audit tools (docs/audit.md)"

$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# The compiler adapter (.solcx), anvil and cast (.tools/bin, symlinks into node_modules) and the OpenZeppelin
# sources (.deps), all derived from node_modules; one stamp, because symlinks carry their targets' old mtimes.
.tools/.installed: node_modules/.installed tools/install-toolchain.sh tools/solc-adapter.cjs
	tools/install-toolchain.sh
	@touch $@

setup: $(VENV)/.installed node_modules/.installed .tools/.installed

demo: setup
	$(APE) run demo

test: setup
	$(APE) test $(ARGS)

clean:
	rm -rf .build contracts/.cache .solcx .tools .deps

# A persistent local node for running commands one at a time (--network bsc:dev), and a BSC-testnet rehearsal
# node (chain id 97, 1-second blocks; --network bsc:rehearsal). Both use the public test mnemonic.
ANVIL_ARGS := --block-base-fee-per-gas 0 --accounts 30 --mnemonic "test test test test test test test test test test test junk" --hardfork prague --steps-tracing

node: setup
	anvil --port 8545 --chain-id 31337 $(ANVIL_ARGS)

rehearsal-node: setup
	anvil --port 8546 --chain-id 97 --block-time 1 $(ANVIL_ARGS)

# ---------------------------------------------------------------------------------------------------------------
# Audit gates (docs/audit.md): gas benchmark, Solidity coverage, slither with triage, mutation testing.
AUDIT_VENV := .venv-audit

# slither cannot share the Ape venv (conflicting pins): its own venv, pinned by audit/requirements-slither.txt.
$(AUDIT_VENV)/.installed: audit/requirements-slither.txt
	@test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	@echo '*' > $(AUDIT_VENV)/.gitignore
	$(AUDIT_VENV)/bin/pip install --quiet --disable-pip-version-check -r audit/requirements-slither.txt
	@touch $@

# make bench [UPDATE=1]: gas table vs OpenZeppelin's plain ERC20; UPDATE=1 rewrites audit/gas-snapshot.json.
bench: setup
	$(VENV)/bin/python -m kgst.audit.gas $(if $(UPDATE),--update)

# make coverage [ARGS="tests/token"]: the test suite with execution tracing -> audit/coverage.{txt,json}.
coverage: setup
	KGST_COVERAGE=1 $(APE) test -p kgst.audit.coverage --ignore=tests/audit -q $(ARGS)

# make slither: fails on any finding missing from audit/slither-triage.json.
slither: setup $(AUDIT_VENV)/.installed
	$(AUDIT_VENV)/bin/python -m kgst.audit.slither_run

# make mutation [SAMPLE=N] [SEED=S] [ALL=1]: -> audit/mutation-report.md (slow: minutes per mutant).
mutation: setup
	$(VENV)/bin/python -m kgst.audit.mutation $(if $(ALL),--all,--sample $(or $(SAMPLE),20)) $(if $(SEED),--seed $(SEED))

# make invariants-long [EXAMPLES=2000] [STEPS=30]: the system invariant machine at length (~3,500 steps/minute here;
# `make test` runs ~2,700 steps). A failure prints the seed: KGST_INVARIANT_SEED=<seed> replays it.
invariants-long: setup
	KGST_INVARIANT_EXAMPLES=$(or $(EXAMPLES),2000) KGST_INVARIANT_STEPS=$(or $(STEPS),30) $(APE) test tests/invariants -q
