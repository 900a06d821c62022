"""Session fixtures: the whole suite deployed once through kgst.deploy with config/local.yaml (the same path
as `ape run deploy`); Ape reverts the chain to a snapshot after every test, so tests stay independent."""

import ape
import pytest

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


@pytest.fixture(scope="session")
def attested_suite(suite):
    """The suite with a fresh 550-million-som attestation, ready to mint."""
    suite.attest()
    return suite
