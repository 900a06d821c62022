"""EIP-712 signatures for the KGST token tests, built independently of the contract.

The domain is computed from the token's published parameters (name "Kyrgyz Som Token", version "1", the
chain id and the verifying contract = the proxy address) and never read from `DOMAIN_SEPARATOR()`: a test
that signs with the contract's own separator could not catch a wrong one. Tests only *compare* the contract's
separator with `Domain.separator`.

Two independent encoders are kept on purpose: eth_account's typed-data encoder (what wallets use) signs, and
`*_struct_hash` below re-derive the same hashes by hand from the type strings, so a test can show that both
agree with each other and with the contract's TYPEHASH constants.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

TOKEN_NAME = "Kyrgyz Som Token"
TOKEN_VERSION = "1"

# Order of the secp256k1 group: a signature (r, s) and (r, n - s) recover the same key (EIP-2 malleability).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MAX_UINT256 = 2**256 - 1

EIP712_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
PERMIT_FIELDS = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
AUTHORIZATION_FIELDS = [  # TransferWithAuthorization and ReceiveWithAuthorization share their fields
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "validAfter", "type": "uint256"},
    {"name": "validBefore", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]
CANCEL_AUTHORIZATION_FIELDS = [
    {"name": "authorizer", "type": "address"},
    {"name": "nonce", "type": "bytes32"},
]

PRIMARY_TYPE_FIELDS = {
    "Permit": PERMIT_FIELDS,
    "TransferWithAuthorization": AUTHORIZATION_FIELDS,
    "ReceiveWithAuthorization": AUTHORIZATION_FIELDS,
    "CancelAuthorization": CANCEL_AUTHORIZATION_FIELDS,
}


def type_string(primary_type: str) -> str:
    """EIP-712 `encodeType`, e.g. "Permit(address owner,address spender,...)"."""
    fields = EIP712_DOMAIN_FIELDS if primary_type == "EIP712Domain" else PRIMARY_TYPE_FIELDS[primary_type]
    return f"{primary_type}(" + ",".join(f"{f['type']} {f['name']}" for f in fields) + ")"


def type_hash(primary_type: str) -> bytes:
    return keccak(text=type_string(primary_type))


def _address(value) -> str:
    return to_checksum_address(getattr(value, "address", value))


def random_nonce() -> bytes:
    """A fresh EIP-3009 nonce (random bytes32, as the standard recommends)."""
    return os.urandom(32)


@dataclass(frozen=True)
class Domain:
    chain_id: int
    verifying_contract: str
    name: str = TOKEN_NAME
    version: str = TOKEN_VERSION

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": _address(self.verifying_contract),
        }

    @property
    def separator(self) -> bytes:
        """hashStruct(EIP712Domain), computed by hand from the domain fields."""
        return keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    type_hash("EIP712Domain"),
                    keccak(text=self.name),
                    keccak(text=self.version),
                    self.chain_id,
                    _address(self.verifying_contract),
                ],
            )
        )

    def digest(self, struct_hash: bytes) -> bytes:
        """The EIP-712 digest keccak256(0x1901 || domainSeparator || structHash)."""
        return keccak(b"\x19\x01" + self.separator + struct_hash)


@dataclass(frozen=True)
class Signature:
    v: int
    r: bytes
    s: bytes

    @property
    def packed(self) -> bytes:
        """r || s || v, the 65-byte form the `bytes signature` overloads take."""
        return self.r + self.s + bytes([self.v])

    @property
    def vrs(self) -> tuple[int, bytes, bytes]:
        return self.v, self.r, self.s

    def malleated(self) -> "Signature":
        """The high-s twin (r, n - s, flipped v): mathematically valid for the same key, rejected by EIP-2 rules."""
        s_high = SECP256K1_N - int.from_bytes(self.s, "big")
        return Signature(v=55 - self.v, r=self.r, s=s_high.to_bytes(32, "big"))

    def with_v(self, v: int) -> "Signature":
        return replace(self, v=v)


def _signature(signed) -> Signature:
    return Signature(v=signed.v, r=signed.r.to_bytes(32, "big"), s=signed.s.to_bytes(32, "big"))


def typed_data(domain: Domain, primary_type: str, message: dict) -> dict:
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_FIELDS, primary_type: PRIMARY_TYPE_FIELDS[primary_type]},
        "primaryType": primary_type,
        "domain": domain.as_dict(),
        "message": message,
    }


def typed_data_digest(full_message: dict) -> bytes:
    """The digest a wallet signs for `full_message`, as eth_account encodes it."""
    signable = encode_typed_data(full_message=full_message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_typed(private_key, full_message: dict) -> Signature:
    return _signature(Account.sign_message(encode_typed_data(full_message=full_message), private_key))


def sign_digest(private_key, digest: bytes) -> Signature:
    """Sign a raw 32-byte hash (no prefix): what an ERC-1271 wallet owner signs for the wallet."""
    return _signature(Account.unsafe_sign_hash(digest, private_key))


def recover_digest(digest: bytes, signature: Signature) -> str:
    """Plain ecrecover arithmetic (accepts high-s): shows a malleated signature is still the same signer's."""
    return Account._recover_hash(digest, vrs=(signature.v, signature.r, signature.s))


# --- Permit (EIP-2612) ---------------------------------------------------------------------------------------


def permit_message(domain: Domain, owner, spender, value: int, nonce: int, deadline: int) -> dict:
    return typed_data(
        domain,
        "Permit",
        {
            "owner": _address(owner),
            "spender": _address(spender),
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    )


def permit_struct_hash(owner, spender, value: int, nonce: int, deadline: int) -> bytes:
    return keccak(
        encode(
            ["bytes32", "address", "address", "uint256", "uint256", "uint256"],
            [type_hash("Permit"), _address(owner), _address(spender), value, nonce, deadline],
        )
    )


def sign_permit(private_key, domain: Domain, owner, spender, value: int, nonce: int, deadline: int) -> Signature:
    return sign_typed(private_key, permit_message(domain, owner, spender, value, nonce, deadline))


# --- EIP-3009 ------------------------------------------------------------------------------------------------


def authorization_message(
    domain: Domain, primary_type: str, from_, to, value: int, valid_after: int, valid_before: int, nonce: bytes
) -> dict:
    assert primary_type in ("TransferWithAuthorization", "ReceiveWithAuthorization")
    return typed_data(
        domain,
        primary_type,
        {
            "from": _address(from_),
            "to": _address(to),
            "value": value,
            "validAfter": valid_after,
            "validBefore": valid_before,
            "nonce": nonce,
        },
    )


def authorization_struct_hash(
    primary_type: str, from_, to, value: int, valid_after: int, valid_before: int, nonce: bytes
) -> bytes:
    return keccak(
        encode(
            ["bytes32", "address", "address", "uint256", "uint256", "uint256", "bytes32"],
            [type_hash(primary_type), _address(from_), _address(to), value, valid_after, valid_before, nonce],
        )
    )


def sign_transfer_authorization(
    private_key, domain: Domain, from_, to, value: int, valid_after: int, valid_before: int, nonce: bytes
) -> Signature:
    message = authorization_message(
        domain, "TransferWithAuthorization", from_, to, value, valid_after, valid_before, nonce
    )
    return sign_typed(private_key, message)


def sign_receive_authorization(
    private_key, domain: Domain, from_, to, value: int, valid_after: int, valid_before: int, nonce: bytes
) -> Signature:
    message = authorization_message(
        domain, "ReceiveWithAuthorization", from_, to, value, valid_after, valid_before, nonce
    )
    return sign_typed(private_key, message)


def cancel_authorization_message(domain: Domain, authorizer, nonce: bytes) -> dict:
    return typed_data(domain, "CancelAuthorization", {"authorizer": _address(authorizer), "nonce": nonce})


def cancel_authorization_struct_hash(authorizer, nonce: bytes) -> bytes:
    return keccak(
        encode(["bytes32", "address", "bytes32"], [type_hash("CancelAuthorization"), _address(authorizer), nonce])
    )


def sign_cancel_authorization(private_key, domain: Domain, authorizer, nonce: bytes) -> Signature:
    return sign_typed(private_key, cancel_authorization_message(domain, authorizer, nonce))
