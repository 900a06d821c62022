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

.PHONY: help setup demo test bench coverage slither mutation invariants-long clean

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

$(SOLC) .tools/bin/anvil &: node_modules/.installed tools/install-toolchain.sh tools/solc-adapter.cjs
	tools/install-toolchain.sh
	@touch $(SOLC)

setup: $(VENV)/.installed node_modules/.installed $(SOLC) .tools/bin/anvil

demo: setup
	$(APE) run demo

test: setup
	$(APE) test

clean:
	rm -rf .build contracts/.cache .solcx .tools
