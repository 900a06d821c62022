"""BscScan verification inputs: the solc standard-JSON input of each deployed contract, its fully qualified
name, compiler version and ABI-encoded constructor arguments ("Solidity (Standard-Json-Input)" on BscScan)."""

from __future__ import annotations

import json
from pathlib import Path

from kgst.manifest import Manifest

# manifest key -> (source file, contract name)
DEPLOYED_SOURCES = {
    "token_implementation": ("contracts/KGSTToken.sol", "KGSTToken"),
    "token": ("contracts/KGSTProxy.sol", "KGSTProxy"),
    "controller": ("contracts/KGSTIssuanceController.sol", "KGSTIssuanceController"),
    "registry": ("contracts/KGSTReserveRegistry.sol", "KGSTReserveRegistry"),
    "timelock": ("contracts/governance/KGSTTimelock.sol", "KGSTTimelock"),
}


def write_verification_inputs(project, manifest: Manifest, directory: Path) -> Path:
    """Writes <directory>/<Contract>.input.json for each deployed contract and an index.json that lists, per
    contract, its address, qualified name, compiler version and constructor arguments."""
    compiler = project.compiler_manager.registered_compilers[".sol"]
    directory.mkdir(parents=True, exist_ok=True)
    index = {}
    for key, (source, name) in DEPLOYED_SOURCES.items():
        inputs = compiler.get_standard_input_json([project.path / source], project=project)
        (version, standard_input), = inputs.items()
        (directory / f"{name}.input.json").write_text(json.dumps(standard_input, indent=2, sort_keys=True) + "\n")
        index[name] = {
            "address": manifest.contracts[key],
            "contract": f"{source}:{name}",
            "compiler": f"v{version}",
            "standard_json_input": f"{name}.input.json",
            "constructor_arguments": _constructor_arguments(project, manifest, key, name),
        }
    (directory / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    return directory


def _constructor_arguments(project, manifest: Manifest, key: str, name: str) -> str | None:
    """The creation transaction's input minus the creation bytecode (None if the transaction is unknown)."""
    tx_hash = manifest.transactions.get(key)
    if not tx_hash:
        return None
    from ape import chain

    data = bytes(chain.provider.web3.eth.get_transaction(tx_hash)["input"])
    creation = bytes(getattr(project, name).contract_type.deployment_bytecode.to_bytes())
    return "0x" + data[len(creation):].hex() if data.startswith(creation) else None
