"""Drives the operations commands (scripts/*.py) end to end against the test session's anvil: in-process with
click's CliRunner (fast), and as real `ape run` subprocesses where the process boundary matters (a killed
batch, the chain-97 rehearsal, an unreachable RPC)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.suite import ROOT, Suite



def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"kgst_script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Commands:
    """Runs `ape run <script> <args>` in-process against the session's anvil (reached by URL, as an operator
    reaches a running node: --network bsc:dev:<url>); every call adds --network and --deployments."""

    def __init__(self, deployments: Path, network: str):
        self.deployments = deployments
        self.network = network
        self.runner = CliRunner()
        self._scripts: dict = {}

    def run(self, script: str, *args: str, network: str | None = "", input: str | None = None, deployments: bool = True):
        network = self.network if network == "" else network
        if script not in self._scripts:
            self._scripts[script] = load_script(script)
        extra = (["--network", network] if network else []) + (["--deployments", str(self.deployments)] if deployments else [])
        result = self.runner.invoke(self._scripts[script].cli, [*args, *extra], input=input, catch_exceptions=False)
        return result

    def json(self, script: str, *args: str, **kwargs) -> dict:
        result = self.run(script, *args, "--json", **kwargs)
        return json.loads(result.output)


def ape_run(*args: str, timeout: int = 300, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """A real `ape run` process (as an operator would start it)."""
    environment = {**os.environ, **(env or {})}
    return subprocess.run([str(Path(sys.executable).parent / "ape"), "run", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=environment, **kwargs)


@pytest.fixture(scope="module")
def node_url(networks):
    return networks.provider.uri


@pytest.fixture(scope="module")
def commands(tmp_path_factory, node_url):
    return Commands(tmp_path_factory.mktemp("deployments"), f"bsc:dev:{node_url}")


@pytest.fixture(scope="module")
def deployed(commands):
    """The suite deployed by the deploy command itself (config/local.yaml, deployer test:0)."""
    result = commands.run("deploy", "--params", "config/local.yaml", "--account", "test:0", "--yes")
    assert result.exit_code == 0, result.output
    return commands


@pytest.fixture
def funded(deployed, accounts, chain):
    """Deployed, with 550 million som attested (through the registry directly: the attest commands are
    tested in test_mint_commands)."""
    from ape import project

    manifest = json.loads((deployed.deployments / "bsc-dev.json").read_text())
    c = manifest["contracts"]
    suite = Suite(project.KGSTToken.at(c["token"]), project.KGSTIssuanceController.at(c["controller"]),
                  project.KGSTReserveRegistry.at(c["registry"]), project.KGSTTimelock.at(c["timelock"]), accounts, chain, None)
    suite.attest()
    return deployed, suite
