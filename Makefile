# The two commands (README.md): `make demo` and `make test`. Each installs what is missing first; stamps
# make the second run skip every install whose inputs did not change.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
SOLC_VERSION := $(shell node -p "require('./package.json').devDependencies.solc" 2>/dev/null)
SOLC := .solcx/solc-v$(SOLC_VERSION)

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

$(SOLC) .tools/bin/anvil .deps/.installed &: node_modules/.installed tools/install-toolchain.sh tools/solc-adapter.cjs
	tools/install-toolchain.sh
	@touch $(SOLC) .deps/.installed

setup: $(VENV)/.installed node_modules/.installed $(SOLC) .tools/bin/anvil .deps/.installed

demo: setup
	$(APE) run demo

test: setup
	$(APE) test

clean:
	rm -rf .build contracts/.cache .solcx .tools .deps

# A persistent local node for running commands one at a time (--network bsc:dev), and a BSC-testnet rehearsal
# node (chain id 97, 1-second blocks; --network bsc:rehearsal). Both use the public test mnemonic.
ANVIL_ARGS := --block-base-fee-per-gas 0 --accounts 30 --mnemonic "test test test test test test test test test test test junk" --hardfork prague --steps-tracing

node: setup
	anvil --port 8545 --chain-id 31337 $(ANVIL_ARGS)

rehearsal-node: setup
	anvil --port 8546 --chain-id 97 --block-time 1 $(ANVIL_ARGS)
