"""Fixtures for the issuance-controller tests.

Every test starts from `attested_suite` (the system deployed through kgst.deploy with config/local.yaml and a
fresh 550,000,000-som attestation); Ape reverts the chain after each test. Tests that need a system with no
attestation at all deploy one of their own (helpers.fresh_suite), because the session `suite` object is the one
`attested_suite` attested on.
"""

from __future__ import annotations


import pytest

from tests.controller import helpers


@pytest.fixture(scope="module", autouse=True)
def _deployed_before_first_snapshot(attested_suite):
    """Set the session fixtures up before any test takes its snapshot, so Ape never has to rebase them."""
    return attested_suite


@pytest.fixture
def s(attested_suite):
    """The attested system (contracts, role holders by name, helpers): see tests/suite.py."""
    return attested_suite


@pytest.fixture
def unattested(project, accounts, networks, params):
    """A separate deployment with no attestation ever submitted."""
    return helpers.fresh_suite(project, accounts, networks, params)


def pytest_terminal_summary(terminalreporter):
    if helpers.GAS:
        terminalreporter.section("KGST controller gas (tx gasUsed, incl. 21,000)")
        for label, value in helpers.GAS.items():
            terminalreporter.write_line(f"{label:<60} {value:>12,}")
    if helpers.OUTCOMES:
        terminalreporter.section("KGST controller: outcomes the randomized tests exercised")
        for label, count in helpers.OUTCOMES.items():
            terminalreporter.write_line(f"{label:<60} {count:>6}")
