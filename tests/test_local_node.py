"""The test session runs on the embedded BNB-Chain-like node: bsc:local with anvil started by ape-foundry."""


def test_session_runs_on_bsc_local_anvil(networks, chain):
    provider = networks.provider
    assert provider.network.ecosystem.name == "bsc"
    assert provider.network.name == "local"
    assert provider.name == "foundry"
    assert chain.chain_id == 31337


def test_project_contracts_compile_and_deploy(project, accounts):
    deployer = accounts[0]
    baseline = deployer.deploy(project.PlainERC20)
    assert baseline.symbol() == "PLAIN"
    assert len(baseline.code) > 0
