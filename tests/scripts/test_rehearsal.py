"""The BSC-testnet path, rehearsed: `ape run deploy` as a real process against anvil started with chain id 97
and one-second blocks (confirmations awaited, legacy transactions), with config/rehearsal.yaml."""

import json
import socket
import subprocess
import time

import pytest

from tests.scripts.conftest import ape_run
from tests.suite import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def testnet_like_node():
    port = free_port()
    node = subprocess.Popen(
        ["anvil", "--port", str(port), "--chain-id", "97", "--block-time", "1", "--block-base-fee-per-gas", "0",
         "--accounts", "30", "--hardfork", "prague"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    node.terminate()
    node.wait(timeout=10)


def test_rehearsal_deploy_on_a_chain_97_node(testnet_like_node, tmp_path):
    network = f"bsc:rehearsal:{testnet_like_node}"
    args = ("deploy", "--network", network, "--params", "config/rehearsal.yaml", "--account", "test:0", "--deployments", str(tmp_path))
    result = ape_run(*args, "--yes", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "bsc-rehearsal.json").read_text())
    assert manifest["chain_id"] == 97 and manifest["settings"]["timelock_delay_seconds"] == 3600
    assert (tmp_path / "bsc-rehearsal-verify" / "index.json").exists()
    again = ape_run(*args, "--yes")
    assert again.returncode == 2 and "already has a deployment" in again.stderr + again.stdout


def test_local_parameters_are_refused_on_chain_97(testnet_like_node, tmp_path):
    result = ape_run("deploy", "--network", f"bsc:rehearsal:{testnet_like_node}", "--params", "config/testnet.yaml",
                     "--account", "test:0", "--deployments", str(tmp_path), "--yes")
    assert result.returncode == 2
    assert "no Ape account named 'kgst-governance'" in result.stderr + result.stdout
