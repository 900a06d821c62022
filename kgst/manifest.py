"""The deployment manifest, deployments/<network>.json: what was deployed where, by whom, with which
compiler, and who holds which role. Every command after `deploy` starts from it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEPLOYMENTS_DIR = Path("deployments")
CONTRACT_KEYS = ("token", "token_implementation", "controller", "registry", "timelock")


class ManifestError(ValueError):
    """A missing, unreadable or mismatched manifest."""


@dataclass
class Manifest:
    network: str
    chain_id: int
    deployer: str
    deploy_block: int
    deployed_at: str
    contracts: dict[str, str]
    roles: dict[str, Any]
    compiler: dict[str, Any]
    params_file: str
    settings: dict[str, Any] = field(default_factory=dict)
    transactions: dict[str, str] = field(default_factory=dict)  # contract key -> creation transaction hash

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=False) + "\n")
        tmp.replace(path)  # atomic: a crash never leaves half a manifest
        return path

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        if not path.is_file():
            raise ManifestError(f"no deployment manifest at {path}: run `ape run deploy` for this network first")
        try:
            data = json.loads(path.read_text())
            manifest = cls(**data)
        except (json.JSONDecodeError, TypeError) as err:
            raise ManifestError(f"{path} is not a valid deployment manifest: {err}") from None
        missing = [k for k in CONTRACT_KEYS if k not in manifest.contracts]
        if missing:
            raise ManifestError(f"{path} lacks the addresses of: {', '.join(missing)}")
        return manifest


def manifest_name(provider) -> str:
    """File stem for the connected network: bsc-local, bsc-testnet, or <ecosystem>-<network>-<chain id> for a
    node given by URL (so a chain-97 rehearsal on anvil never overwrites the real testnet's manifest)."""
    network = provider.network
    name = f"{network.ecosystem.name}-{network.name}"
    if network.name in {"custom", "adhoc"} or provider.name == "node" and network.name == "local":
        name += f"-{provider.chain_id}"
    return name


def manifest_path(provider, directory: Path = DEPLOYMENTS_DIR) -> Path:
    return directory / f"{manifest_name(provider)}.json"


def load_for(provider, directory: Path = DEPLOYMENTS_DIR) -> Manifest:
    """The manifest for the connected network, checked against its chain id and for code at the token."""
    path = manifest_path(provider, directory)
    manifest = Manifest.load(path)
    if manifest.chain_id != provider.chain_id:
        raise ManifestError(f"{path} is for chain {manifest.chain_id} but the node is chain {provider.chain_id}")
    if not provider.get_code(manifest.contracts["token"]):
        raise ManifestError(
            f"{path} names contracts that do not exist on this node (was the local node restarted?): deploy again"
        )
    return manifest
