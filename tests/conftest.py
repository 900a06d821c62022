"""Session fixtures: the whole suite deployed once through kgst.deploy with config/local.yaml (the same path
as `ape run deploy`); Ape reverts the chain to a snapshot after every test, so tests stay independent."""

import os

import ape
import pytest
from ape_ethereum.trace import Trace

from kgst.deploy import deploy_suite
from kgst.params import load_params

from tests.suite import DEPLOYER, ROOT, Suite


@pytest.fixture(scope="session")
def params():
    return load_params(ROOT / "config" / "local.yaml")


@pytest.fixture(scope="session")
def suite(project, accounts, chain, networks, params):
    provider = networks.provider
    manifest = deploy_suite(
        project, accounts[DEPLOYER], params, accounts=ape.accounts, provider=provider, network_label="bsc:local", log=lambda _: None
    )
    c = manifest.contracts
    return Suite(
        token=project.KGSTToken.at(c["token"]),
        controller=project.KGSTIssuanceController.at(c["controller"]),
        registry=project.KGSTReserveRegistry.at(c["registry"]),
        timelock=project.KGSTTimelock.at(c["timelock"]),
        accounts=accounts,
        chain=chain,
        params=params,
    )


@pytest.fixture(scope="module")
def attested_suite(suite):
    """The suite with a fresh 550-million-som attestation, ready to mint. Module-scoped: Ape reverts the chain
    when the module ends, so the attestation (and its age) never leaks into another module's tests."""
    suite.attest()
    return suite


@pytest.fixture(scope="session", autouse=True)
def _no_call_trace_printout_on_expected_reverts():
    """ape-foundry builds and prints a call trace (~0.5 s) for every revert, and these tests revert on purpose
    thousands of times. Revert decoding is unaffected. Set KGST_SHOW_REVERT_TRACES=1 to see the traces."""
    if os.environ.get("KGST_SHOW_REVERT_TRACES"):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Trace, "show", lambda self, *args, **kwargs: None)
        yield
