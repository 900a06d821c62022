"""EIP-2612 permits for KGST, signed off-chain with eth-account or an Ape account (domain: the token proxy on
the current chain, name "Kyrgyz Som Token", version "1")."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

from kgst.eip712 import typed_data

TOKEN_NAME = "Kyrgyz Som Token"
TOKEN_VERSION = "1"


PERMIT_FIELDS = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


def permit_typed_data(*, token: str, chain_id: int, owner: str, spender: str, value: int, nonce: int, deadline: int) -> dict[str, Any]:
    message = {"owner": to_checksum_address(owner), "spender": to_checksum_address(spender), "value": value, "nonce": nonce, "deadline": deadline}
    return typed_data(name=TOKEN_NAME, version=TOKEN_VERSION, chain_id=chain_id, contract=token, primary="Permit",
                      fields=PERMIT_FIELDS, message=message)


def sign_permit(signer, *, token: str, chain_id: int, spender: str, value: int, nonce: int, deadline: int) -> tuple[int, bytes, bytes]:
    """(v, r, s) of a permit by `signer`: a private key (bytes/hex str) or an Ape account."""
    if isinstance(signer, (bytes, str)):
        owner = Account.from_key(signer).address
        data = permit_typed_data(token=token, chain_id=chain_id, owner=owner, spender=spender, value=value, nonce=nonce, deadline=deadline)
        signed = Account.sign_typed_data(signer, full_message=data)
        return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
    data = permit_typed_data(token=token, chain_id=chain_id, owner=signer.address, spender=spender, value=value, nonce=nonce, deadline=deadline)
    signature = signer.sign_message(encode_typed_data(full_message=data))
    return signature.v, bytes(signature.r), bytes(signature.s)
