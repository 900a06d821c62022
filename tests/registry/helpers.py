"""Helpers for the reserve-registry tests: an independent EIP-712 implementation, eth-account signing, exact
event and custom-error assertions, and a timelock driver for the registry's admin (risk-raising) functions.

Nothing here calls the contract to compute what it checks: digests are built twice from the EIP-712 spec (by
hand with eth-abi, and with eth-account's typed-data encoder) and signatures are made with eth-account.
kgst.attestation is deliberately NOT used here, because it is under test too (test_attestation_files.py).
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import ape
from ape.exceptions import ContractLogicError, CustomError
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import is_address, keccak, to_checksum_address
from hexbytes import HexBytes

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_BYTES32 = b"\x00" * 32
MAX_UINT256 = 2**256 - 1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
TOKEN_UNITS_PER_TIYIN = 10**16  # 1 tiyin = 0.01 som; KGST has 18 decimals
DEFAULT_ADMIN_ROLE = ZERO_BYTES32

DOMAIN_NAME = "KGST Reserve Registry"
DOMAIN_VERSION = "1"
DOMAIN_TYPE_STRING = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
ATTESTATION_TYPE_STRING = (
    "Attestation(uint64 asOf,uint256 totalReservesTiyin,uint256[] custodianIds,uint256[] custodianAmountsTiyin,"
    "bytes32 reportHash,string reportURI)"
)
TIMELOCK_DELAY = 60  # config/local.yaml governance.timelock_delay_seconds

REPORT_URI = "ipfs://bafy-kgst-audit-2025-q3"


def addr(value) -> str:
    return to_checksum_address(getattr(value, "address", value))


# --------------------------------------------------------------------------------------------------------------
# The attestation input, built by hand (so that a test can make it inconsistent on purpose)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """The contract's AttestationInput: (asOf, totalReservesTiyin, custodianIds, custodianAmountsTiyin,
    reportHash, reportURI). Nothing is derived or validated: a test states every field."""

    as_of: int
    total: int
    ids: tuple[int, ...]
    amounts: tuple[int, ...]
    report_hash: bytes
    report_uri: str = REPORT_URI

    def as_tuple(self) -> tuple:
        return (self.as_of, self.total, list(self.ids), list(self.amounts), self.report_hash, self.report_uri)

    def but(self, **changes) -> "Input":
        return replace(self, **changes)

    def message(self) -> dict:
        return {
            "asOf": self.as_of,
            "totalReservesTiyin": self.total,
            "custodianIds": list(self.ids),
            "custodianAmountsTiyin": list(self.amounts),
            "reportHash": self.report_hash,
            "reportURI": self.report_uri,
        }


def attestation_input(as_of: int, amounts: Sequence[int] | dict, *, report: bytes = b"audit report",
                      uri: str = REPORT_URI, total: int | None = None) -> Input:
    """Tiyin amounts per custodian (a list means custodians 0, 1, 2...); total defaults to their sum."""
    pairs = sorted(amounts.items()) if isinstance(amounts, dict) else list(enumerate(amounts))
    ids = tuple(i for i, _ in pairs)
    values = tuple(v for _, v in pairs)
    return Input(as_of, sum(values) if total is None else total, ids, values, keccak(report), uri)


# --------------------------------------------------------------------------------------------------------------
# EIP-712, two independent ways
# --------------------------------------------------------------------------------------------------------------


def domain_separator(chain_id: int, registry) -> bytes:
    return keccak(abi_encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [keccak(text=DOMAIN_TYPE_STRING), keccak(text=DOMAIN_NAME), keccak(text=DOMAIN_VERSION), chain_id, addr(registry)],
    ))


def struct_hash(inp: Input) -> bytes:
    def array_hash(values: Iterable[int]) -> bytes:
        return keccak(b"".join(v.to_bytes(32, "big") for v in values))

    return keccak(abi_encode(
        ["bytes32", "uint64", "uint256", "bytes32", "bytes32", "bytes32", "bytes32"],
        [keccak(text=ATTESTATION_TYPE_STRING), inp.as_of, inp.total, array_hash(inp.ids), array_hash(inp.amounts),
         inp.report_hash, keccak(inp.report_uri.encode())],
    ))


def eip712_digest(inp: Input, *, chain_id: int, registry) -> bytes:
    """The digest auditors sign, computed by hand from the EIP-712 spec."""
    return keccak(b"\x19\x01" + domain_separator(chain_id, registry) + struct_hash(inp))


def typed_data(inp: Input, *, chain_id: int, registry) -> dict:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Attestation": [
                {"name": "asOf", "type": "uint64"},
                {"name": "totalReservesTiyin", "type": "uint256"},
                {"name": "custodianIds", "type": "uint256[]"},
                {"name": "custodianAmountsTiyin", "type": "uint256[]"},
                {"name": "reportHash", "type": "bytes32"},
                {"name": "reportURI", "type": "string"},
            ],
        },
        "primaryType": "Attestation",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": addr(registry)},
        "message": inp.message(),
    }


def eth_account_digest(inp: Input, *, chain_id: int, registry) -> bytes:
    """The same digest from eth-account's typed-data encoder."""
    signable = encode_typed_data(full_message=typed_data(inp, chain_id=chain_id, registry=registry))
    return keccak(b"\x19\x01" + signable.header + signable.body)


def private_key(signer) -> bytes | str:
    return getattr(signer, "private_key", signer)


def sign(inp: Input, signer, *, chain_id: int, registry) -> bytes:
    """A 65-byte (r, s, v) EIP-712 signature by `signer` (an Ape test account or a private key), via eth-account."""
    signed = Account.sign_typed_data(private_key(signer), full_message=typed_data(inp, chain_id=chain_id, registry=registry))
    return bytes(signed.signature)


def sign_hash(digest: bytes, signer) -> bytes:
    """A raw secp256k1 signature over a 32-byte hash (no prefix), as an ERC-1271 wallet's owner makes."""
    return bytes(Account.unsafe_sign_hash(digest, private_key(signer)).signature)


def signatures(inp: Input, signers: Sequence, *, chain_id: int, registry) -> list[tuple[str, bytes]]:
    """The contract's AuditorSignature[] list: (auditor, signature) per signer, in the given order."""
    return [(addr(s), sign(inp, s, chain_id=chain_id, registry=registry)) for s in signers]


def split(signature: bytes) -> tuple[int, int, int]:
    return int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"), signature[64]


def join(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def high_s_twin(signature: bytes) -> bytes:
    """The malleable twin (r, n - s, v flipped) of a signature: it recovers to the same key under raw ecrecover."""
    r, s, v = split(signature)
    assert s <= SECP256K1_N // 2, "eth-account produces low-s signatures"
    return join(r, SECP256K1_N - s, 55 - v)


def ecrecover_precompile(provider, digest: bytes, signature: bytes) -> str | None:
    """What the EVM's ecrecover precompile (address 0x01) returns for the signature, without any s/v rules."""
    r, s, v = split(signature)
    out = provider.web3.eth.call({"to": "0x0000000000000000000000000000000000000001",
                                  "data": "0x" + (digest + abi_encode(["uint8", "uint256", "uint256"], [v, r, s])).hex()})
    return to_checksum_address(bytes(out)[-20:]) if len(out) == 32 else None


# --------------------------------------------------------------------------------------------------------------
# Events and custom errors, exactly
# --------------------------------------------------------------------------------------------------------------


def normalize(value):
    if hasattr(value, "address") and not isinstance(value, (str, bytes)):
        return addr(value)
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if isinstance(value, (bytes, bytearray, HexBytes)):
        return bytes(value)
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    return value


@dataclass(frozen=True)
class Ev:
    """An expected event: name and every argument."""

    name: str
    args: dict = field(default_factory=dict)

    def __init__(self, event: str, /, **args):  # positional-only, so an event argument may be called "name"
        object.__setattr__(self, "name", event)
        object.__setattr__(self, "args", args)


def events_of(receipt, emitter) -> list[tuple[str, dict]]:
    """(name, arguments) of every log `emitter` emitted in the receipt, in order; every log must decode."""
    logs = receipt.decode_logs()
    assert len(logs) == len(receipt.logs), f"{len(receipt.logs) - len(logs)} log(s) could not be decoded"
    return [(log.event_name, normalize(dict(log.event_arguments))) for log in logs if addr(log.contract_address) == addr(emitter)]


def assert_events(receipt, emitter, expected: Sequence[Ev]) -> None:
    """`emitter` emitted exactly `expected` in this receipt (names, all arguments, order)."""
    actual = events_of(receipt, emitter)
    want = [(e.name, normalize(e.args)) for e in expected]
    assert actual == want, "events differ:\n  actual:   " + "\n            ".join(map(str, actual)) + (
        "\n  expected: " + "\n            ".join(map(str, want)))


def _registry_errors(project) -> dict[bytes, object]:
    errors = {}
    for name in ("KGSTReserveRegistry", "KGSTTimelock"):
        for abi in getattr(project, name).contract_type.errors:
            errors[keccak(text=abi.selector)[:4]] = abi
    return errors


def decode_revert_data(project, data) -> tuple[str, dict]:
    data = bytes(HexBytes(data))
    abi = _registry_errors(project).get(data[:4])
    assert abi is not None, f"revert data 0x{data.hex()} is not a registry or timelock custom error"
    values = abi_decode([i.canonical_type for i in abi.inputs], data[4:])
    return abi.name, normalize(dict(zip([i.name for i in abi.inputs], values)))


def error_of(project, exc: Exception) -> tuple[str, dict]:
    if isinstance(exc, CustomError):
        return exc.abi.name, normalize(dict(exc.inputs))
    message = str(getattr(exc, "message", "") or exc)
    if isinstance(exc, ContractLogicError) and message.startswith("0x"):
        return decode_revert_data(project, message)  # e.g. a constructor revert
    raise AssertionError(f"expected a custom error, got {type(exc).__name__}: {exc}")


@contextmanager
def reverts(error_name: str, **inputs):
    """The transaction in the block reverts with custom error `error_name` and exactly these arguments (all of
    them). Works for errors bubbled up through the timelock and for constructor reverts."""
    with ape.reverts() as info:
        yield info
    name, actual = error_of(ape.project, info.value)
    assert (name, actual) == (error_name, normalize(inputs)), f"expected {error_name}{normalize(inputs)}, got {name}{actual}"


def view_error(contract, fn: str, *args) -> tuple[str, dict]:
    """Calls a view with a raw eth_call and decodes the custom error it reverts with (Ape does not decode
    custom errors of failed view calls)."""
    from web3.exceptions import ContractCustomError

    data = getattr(contract, fn).encode_input(*args)
    try:
        contract.provider.web3.eth.call({"to": contract.address, "data": "0x" + bytes(data).hex()})
    except ContractCustomError as err:
        return decode_revert_data(ape.project, err.data)
    raise AssertionError(f"{fn}{args} did not revert")


# --------------------------------------------------------------------------------------------------------------
# Governance: the registry's admin is the timelock
# --------------------------------------------------------------------------------------------------------------

_salts = itertools.count(1)


def call(contract, fn: str, *args) -> tuple[str, bytes]:
    return addr(contract), bytes(getattr(contract, fn).encode_input(*args))


def timelock_schedule(suite, calls: Sequence[tuple[str, bytes]], *, delay: int = TIMELOCK_DELAY) -> bytes:
    """Governance (test:1) schedules one operation (a single call or a batch); returns its salt."""
    salt = next(_salts).to_bytes(32, "big")
    if len(calls) == 1:
        (target, data), = calls
        suite.timelock.schedule(target, 0, data, ZERO_BYTES32, salt, delay, sender=suite.governance)
    else:
        targets, payloads = zip(*calls)
        suite.timelock.scheduleBatch(list(targets), [0] * len(calls), list(payloads), ZERO_BYTES32, salt, delay,
                                     sender=suite.governance)
    return salt


def timelock_execute(suite, calls: Sequence[tuple[str, bytes]], salt: bytes):
    if len(calls) == 1:
        (target, data), = calls
        return suite.timelock.execute(target, 0, data, ZERO_BYTES32, salt, sender=suite.governance)
    targets, payloads = zip(*calls)
    return suite.timelock.executeBatch(list(targets), [0] * len(calls), list(payloads), ZERO_BYTES32, salt,
                                       sender=suite.governance)


def govern(suite, *calls: tuple[str, bytes]):
    """Runs calls as the registry admin: schedule by governance, wait out the 60 s delay, execute.
    Returns the execute receipt (a revert in any call reverts the execution with the call's own error)."""
    salt = timelock_schedule(suite, calls)
    suite.time_travel(TIMELOCK_DELAY + 1)
    return timelock_execute(suite, calls, salt)


def admin(suite, fn: str, *args):
    """One registry admin function through the timelock."""
    return govern(suite, call(suite.registry, fn, *args))


# --------------------------------------------------------------------------------------------------------------
# Reading an attestation back
# --------------------------------------------------------------------------------------------------------------


def stored(entry) -> dict:
    """An Attestation struct returned by the registry, as plain comparable values."""
    return {
        "asOf": entry.asOf,
        "submittedAt": entry.submittedAt,
        "totalReservesTiyin": entry.totalReservesTiyin,
        "reportHash": bytes(entry.reportHash),
        "reportURI": entry.reportURI,
        "custodianIds": list(entry.custodianIds),
        "custodianAmountsTiyin": list(entry.custodianAmountsTiyin),
        "signers": [addr(s) for s in entry.signers],
        "submitter": addr(entry.submitter),
    }


def expected_entry(inp: Input, *, submitted_at: int, signers: Sequence, submitter) -> dict:
    return {
        "asOf": inp.as_of,
        "submittedAt": submitted_at,
        "totalReservesTiyin": inp.total,
        "reportHash": inp.report_hash,
        "reportURI": inp.report_uri,
        "custodianIds": list(inp.ids),
        "custodianAmountsTiyin": list(inp.amounts),
        "signers": [addr(s) for s in signers],
        "submitter": addr(submitter),
    }


def submission_events(index: int, inp: Input, signers: Sequence, submitter) -> list[Ev]:
    """Exactly what an accepted attestation emits: AttestationSubmitted, then one CustodianBalanceAttested per
    custodian in the breakdown's order."""
    return [
        Ev("AttestationSubmitted", index=index, asOf=inp.as_of, totalReservesTiyin=inp.total, reportHash=inp.report_hash,
           reportURI=inp.report_uri, signers=[addr(s) for s in signers], submitter=addr(submitter)),
        *[Ev("CustodianBalanceAttested", index=index, custodianId=cid, amountTiyin=amount)
          for cid, amount in zip(inp.ids, inp.amounts)],
    ]
