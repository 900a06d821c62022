"""Reserve attestations: the EIP-712 message auditors sign, signature files, and checks before submitting.

Auditors sign off-line (each with their own key, `ape run attest sign`); the files are collected and anyone
submits them (`ape run attest submit`). The domain binds every signature to one registry on one chain, so
a file signed for testnet can never be replayed on mainnet or against another registry.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from kgst import eip712
from kgst.amounts import SomAmount

DOMAIN_NAME = "KGST Reserve Registry"
DOMAIN_VERSION = "1"
ATTESTATION_TYPES = {
    "Attestation": [
        {"name": "asOf", "type": "uint64"},
        {"name": "totalReservesTiyin", "type": "uint256"},
        {"name": "custodianIds", "type": "uint256[]"},
        {"name": "custodianAmountsTiyin", "type": "uint256[]"},
        {"name": "reportHash", "type": "bytes32"},
        {"name": "reportURI", "type": "string"},
    ]
}


class AttestationError(ValueError):
    """An attestation or signature that the registry would reject; the message says why."""


@dataclass(frozen=True)
class Attestation:
    as_of: int
    custodian_amounts: tuple[tuple[int, int], ...]  # (custodian id, tiyin), ids strictly increasing
    report_hash: bytes
    report_uri: str

    def __post_init__(self) -> None:
        ids = [cid for cid, _ in self.custodian_amounts]
        if not ids:
            raise AttestationError("an attestation needs at least one custodian amount")
        if ids != sorted(set(ids)):
            raise AttestationError(f"custodian ids must be distinct and in increasing order, got {ids}")
        if any(amount < 0 for _, amount in self.custodian_amounts):
            raise AttestationError("custodian amounts cannot be negative")
        if len(self.report_hash) != 32 or self.report_hash == b"\x00" * 32:
            raise AttestationError("the report hash must be 32 non-zero bytes (hash of the audit report)")

    @property
    def total(self) -> SomAmount:
        return SomAmount(sum(amount for _, amount in self.custodian_amounts))

    def message(self) -> dict[str, Any]:
        return {
            "asOf": self.as_of,
            "totalReservesTiyin": self.total.tiyin,
            "custodianIds": [cid for cid, _ in self.custodian_amounts],
            "custodianAmountsTiyin": [amount for _, amount in self.custodian_amounts],
            "reportHash": self.report_hash,
            "reportURI": self.report_uri,
        }

    def contract_input(self) -> tuple:
        m = self.message()
        return (m["asOf"], m["totalReservesTiyin"], m["custodianIds"], m["custodianAmountsTiyin"], m["reportHash"], m["reportURI"])

    def to_json(self) -> dict[str, Any]:
        return {
            "asOf": self.as_of,
            "custodianAmountsTiyin": [[cid, amount] for cid, amount in self.custodian_amounts],
            "reportHash": "0x" + self.report_hash.hex(),
            "reportURI": self.report_uri,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Attestation":
        try:
            return cls(
                as_of=int(data["asOf"]),
                custodian_amounts=tuple((int(cid), int(amount)) for cid, amount in data["custodianAmountsTiyin"]),
                report_hash=bytes.fromhex(str(data["reportHash"]).removeprefix("0x")),
                report_uri=str(data["reportURI"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise AttestationError(f"malformed attestation data: {err}") from None


def report_hash_of(report: bytes) -> bytes:
    """The hash that identifies an audit report document."""
    return keccak(report)


def typed_data(attestation: Attestation, *, chain_id: int, registry: str) -> dict[str, Any]:
    return eip712.typed_data(name=DOMAIN_NAME, version=DOMAIN_VERSION, chain_id=chain_id, contract=registry,
                             primary="Attestation", fields=ATTESTATION_TYPES["Attestation"], message=attestation.message())


def digest(attestation: Attestation, *, chain_id: int, registry: str) -> bytes:
    signable = encode_typed_data(full_message=typed_data(attestation, chain_id=chain_id, registry=registry))
    return keccak(b"\x19\x01" + signable.header + signable.body)


@dataclass(frozen=True)
class SignedAttestation:
    """One auditor's signature file: what was signed, for which registry and chain, and the signature."""

    auditor: str
    signature: bytes
    chain_id: int
    registry: str
    attestation: Attestation

    def to_json(self) -> dict[str, Any]:
        return {
            "auditor": self.auditor,
            "signature": "0x" + self.signature.hex(),
            "chainId": self.chain_id,
            "registry": self.registry,
            "attestation": self.attestation.to_json(),
        }

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> "SignedAttestation":
        try:
            data = json.loads(Path(path).read_text())
            return cls(
                auditor=to_checksum_address(data["auditor"]),
                signature=bytes.fromhex(data["signature"].removeprefix("0x")),
                chain_id=int(data["chainId"]),
                registry=to_checksum_address(data["registry"]),
                attestation=Attestation.from_json(data["attestation"]),
            )
        except FileNotFoundError:
            raise AttestationError(f"no signature file at {path}") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise AttestationError(f"{path} is not a valid signature file: {err}") from None


def sign_with_key(attestation: Attestation, private_key: bytes | str, *, chain_id: int, registry: str) -> SignedAttestation:
    signed = Account.sign_typed_data(private_key, full_message=typed_data(attestation, chain_id=chain_id, registry=registry))
    return SignedAttestation(
        auditor=Account.from_key(private_key).address,
        signature=bytes(signed.signature),
        chain_id=chain_id,
        registry=to_checksum_address(registry),
        attestation=attestation,
    )


SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def _check_canonical(s: SignedAttestation) -> None:
    """The registry (OpenZeppelin ECDSA) accepts only 65-byte signatures with low s and v of 27 or 28."""
    sig = s.signature
    if len(sig) != 65:
        raise AttestationError(f"the signature in {s.auditor}'s file is {len(sig)} bytes, not 65")
    if int.from_bytes(sig[32:64], "big") > SECP256K1_HALF_ORDER or sig[64] not in (27, 28):
        raise AttestationError(f"the signature in {s.auditor}'s file is not in canonical form (high s or v not 27/28): sign again")


def collect(
    signatures: Iterable[SignedAttestation],
    *,
    chain_id: int,
    registry: str,
    auditors: Iterable[str],
    threshold: int,
    contract_auditors: Iterable[str] = (),
) -> tuple[Attestation, list[tuple[str, bytes]]]:
    """Checks that the signature files agree with each other and with this registry, and returns the
    attestation and the contract's AuditorSignature list. Raises AttestationError before anything is sent.
    Signatures of `contract_auditors` (smart-contract wallets, ERC-1271) cannot be checked off-chain."""
    signatures = list(signatures)
    if not signatures:
        raise AttestationError("no signature files given")
    attestation = signatures[0].attestation
    registered = {to_checksum_address(a) for a in auditors}
    contract_auditors = {to_checksum_address(a) for a in contract_auditors}
    seen: set[str] = set()
    for s in signatures:
        if s.chain_id != chain_id:
            raise AttestationError(f"{s.auditor} signed for chain {s.chain_id}, but this node is chain {chain_id}")
        if s.registry != to_checksum_address(registry):
            raise AttestationError(f"{s.auditor} signed for registry {s.registry}, but this deployment's registry is {registry}")
        if s.attestation != attestation:
            raise AttestationError(f"{s.auditor} signed different figures from {signatures[0].auditor}; every auditor must sign the same attestation")
        if s.auditor not in registered:
            raise AttestationError(f"{s.auditor} is not a registered auditor")
        if s.auditor in seen:
            raise AttestationError(f"{s.auditor} signed twice; each auditor counts once")
        seen.add(s.auditor)
        if s.auditor in contract_auditors:
            continue  # an ERC-1271 wallet: only the wallet can judge its signature (the registry asks it)
        _check_canonical(s)
        try:
            recovered = Account._recover_hash(digest(attestation, chain_id=chain_id, registry=registry), signature=s.signature)
        except Exception as err:  # noqa: BLE001 - eth-keys raises several types for unusable signatures
            raise AttestationError(f"the signature in {s.auditor}'s file is unusable: {err}") from None
        if recovered != s.auditor:
            raise AttestationError(f"the signature in {s.auditor}'s file was not made by {s.auditor}")
    if len(seen) < threshold:
        raise AttestationError(f"{len(seen)} auditor signature(s); the registry needs {threshold}")
    return attestation, [(s.auditor, s.signature) for s in signatures]


def to_dict(attestation: Attestation) -> dict[str, Any]:
    return asdict(attestation)


def sign_with_account(attestation: Attestation, account, *, chain_id: int, registry: str) -> SignedAttestation:
    """Signs with an Ape account (keystore, hardware wallet or test account) through its EIP-712 support."""
    signable = encode_typed_data(full_message=typed_data(attestation, chain_id=chain_id, registry=registry))
    signature = account.sign_message(signable)
    if signature is None:
        raise AttestationError(f"{account.address} declined to sign")
    return SignedAttestation(
        auditor=account.address,
        signature=bytes(signature.encode_rsv()),
        chain_id=chain_id,
        registry=to_checksum_address(registry),
        attestation=attestation,
    )
