"""Fixtures for the reserve-registry tests, on top of the session-wide `suite` (tests/conftest.py): the whole
KGST system deployed from config/local.yaml, registry admin = the timelock, guardian test:2, auditors
test:11-13 with threshold 2, custodians 0-2, reserve wallets test:20 and test:21, native BNB tracked.

Ape reverts the chain after every test, so each test may change anything.
"""

from __future__ import annotations


import pytest

from tests.registry.helpers import Input, attestation_input, signatures
from tests.suite import OUTSIDERS, RESERVE_WALLETS


@pytest.fixture
def registry(suite):
    return suite.registry


@pytest.fixture
def chain_id(suite):
    return suite.chain.chain_id


@pytest.fixture
def auditors(suite):
    return suite.auditors


@pytest.fixture
def outsider(suite):
    """Has no role anywhere; submits attestations in most tests (anyone may submit)."""
    return suite.accounts[OUTSIDERS[0]]


@pytest.fixture
def stranger(suite):
    """A second account with no role: signs attestations without being an auditor."""
    return suite.accounts[OUTSIDERS[1]]


@pytest.fixture
def reserve_wallets(suite):
    return [suite.accounts[i] for i in RESERVE_WALLETS]


@pytest.fixture
def now(suite):
    """A timestamp at which an attestation may be measured: one second before the next block."""
    return suite.chain.pending_timestamp - 1


@pytest.fixture
def good_input(now) -> Input:
    """A valid attestation of 550,000,000.01 som across the three custodians (amounts in tiyin)."""
    return attestation_input(now, [30_000_000_000, 20_000_000_001, 5_000_000_000])


@pytest.fixture
def sign_for(registry, chain_id):
    """sign_for(input, signers): the AuditorSignature list for this registry on this chain."""

    def make(inp: Input, signers, *, chain=None, on=None):
        return signatures(inp, signers, chain_id=chain_id if chain is None else chain, registry=on or registry)

    return make


@pytest.fixture
def submit(registry, sign_for, auditors, outsider):
    """submit(input, signers=auditors[:2], sender=outsider): signs with eth-account and submits."""

    def do(inp: Input, signers=None, *, sender=None):
        sigs = sign_for(inp, auditors[:2] if signers is None else signers)
        return registry.submitAttestation(inp.as_tuple(), sigs, sender=sender or outsider)

    return do
