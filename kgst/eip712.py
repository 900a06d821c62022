"""EIP-712 typed data as the KGST contracts define their domains (name, version, chain id, verifying contract),
shared by permits (kgst.permit) and reserve attestations (kgst.attestation)."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def typed_data(*, name: str, version: str, chain_id: int, contract: str, primary: str, fields: list[dict], message: dict) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, primary: fields},
        "primaryType": primary,
        "domain": {"name": name, "version": version, "chainId": chain_id, "verifyingContract": to_checksum_address(contract)},
        "message": message,
    }
