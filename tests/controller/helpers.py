"""Helpers for the issuance-controller tests: strict custom-error and event assertions, the timelock round trip,
exact-time transactions, attestations of a chosen size, EIP-2612 permits signed with eth-account, a fresh
(unattested) deployment, and an executable model of the controller's rolling windows.

Why a strict `reverts`: Ape 0.8's `ape.reverts(contract.Error, **inputs)` compares only the inputs you name and
passes if the revert data could not be decoded at all; these tests name the error and ALL of its arguments.
"""

from __future__ import annotations

import itertools
import re
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum

import ape
from ape.exceptions import ContractLogicError, CustomError
from eth_abi import decode as abi_decode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import is_address, keccak, to_checksum_address
from hexbytes import HexBytes

from kgst.attestation import Attestation, report_hash_of
from kgst.refs import deposit_ref, payout_ref
from tests.suite import DEPLOYER, HOLDERS, TIYIN, Suite, som

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO32 = b"\x00" * 32
DAY = 86_400
WINDOW = 86_400  # controller.windowSeconds (config/local.yaml)
REQUEST_TTL = 3 * DAY
MAX_ATTESTATION_AGE = 2 * DAY
TIMELOCK_DELAY = 60
DEFAULT_ADMIN_ROLE = ZERO32


def role(name: str) -> bytes:
    return keccak(text=name)


MINTER_ROLE = role("MINTER_ROLE")
APPROVER_ROLE = role("APPROVER_ROLE")
GUARDIAN_ROLE = role("GUARDIAN_ROLE")
REDEMPTION_DESK_ROLE = role("REDEMPTION_DESK_ROLE")

# config/local.yaml, in base units
PER_TX_CAP = som("10000000")
GLOBAL_WINDOW = som("50000000")
MINTER_A_ALLOWANCE, MINTER_A_WINDOW = som("100000000"), som("25000000")  # test:6
MINTER_B_ALLOWANCE, MINTER_B_WINDOW = som("20000000"), som("5000000")  # test:7
TIER1_MAX, TIER2_MAX = som("100000"), som("1000000")
ATTESTED_RESERVES = som("550000000")  # attested_suite


class Status(IntEnum):
    NONE = 0
    PENDING = 1
    EXECUTED = 2
    CANCELLED = 3
    EXPIRED = 4


class Kind(IntEnum):
    SINGLE = 0
    BATCH = 1


# --- values ----------------------------------------------------------------------------------------------------


def addr(value) -> str:
    return to_checksum_address(getattr(value, "address", value))


def normalize(value):
    """Make decoded event/error values and expected values comparable (addresses, bytes, ints, structs)."""
    if hasattr(value, "address") and not isinstance(value, (str, bytes)):
        return addr(value)
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if isinstance(value, (bytes, bytearray, HexBytes)):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return bytes(HexBytes(value))
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if hasattr(value, "items"):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    return value


_counter = itertools.count(1)


def fresh_ref(label: str = "DEP") -> bytes:
    """A deposit reference no other test call has used (the hash of a unique bank reference)."""
    return deposit_ref(f"{label}-{next(_counter)}")


def fresh_payout(label: str = "PAY") -> bytes:
    return payout_ref(f"{label}-{next(_counter)}")


# --- errors ------------------------------------------------------------------------------------------------------


_RAW_CUSTOM_ERROR = re.compile(r"custom error (0x[0-9a-fA-F]{8}):\s*([0-9a-fA-F]*)")


def _decode_raw_error(selector: str, data_hex: str) -> tuple[str, dict]:
    """Ape leaves custom errors of eth_call reverts (views) undecoded: decode them against the suite's ABIs."""
    for name in ("KGSTIssuanceController", "KGSTToken", "KGSTReserveRegistry", "KGSTTimelock"):
        for abi in ape.project.get_contract(name).contract_type.errors:
            if "0x" + keccak(text=abi.selector)[:4].hex() == selector.lower():
                values = abi_decode([i.canonical_type for i in abi.inputs], bytes.fromhex(data_hex))
                return abi.name, normalize(dict(zip([i.name for i in abi.inputs], values)))
    raise AssertionError(f"custom error {selector} matches no error of the KGST contracts")


def error_of(exc: ContractLogicError) -> tuple[str, dict]:
    if isinstance(exc, CustomError):
        return exc.abi.name, normalize(dict(exc.inputs))
    raw = _RAW_CUSTOM_ERROR.search(str(exc.revert_message))
    assert raw, f"expected a custom error, got {type(exc).__name__}: {exc}"
    return _decode_raw_error(raw.group(1), raw.group(2))


@contextmanager
def reverts(error_name: str, **inputs):
    """The block reverts with custom error `error_name` whose arguments are exactly `inputs` (all of them)."""
    with ape.reverts() as info:
        yield info
    name, actual = error_of(info.value)
    assert (name, actual) == (error_name, normalize(inputs)), f"expected {error_name}{normalize(inputs)}, got {name}{actual}"


def unauthorized(account, needed_role: bytes):
    """AccessControlUnauthorizedAccount(account, neededRole)."""
    return reverts("AccessControlUnauthorizedAccount", account=addr(account), neededRole=needed_role)


# --- events ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ev:
    """An expected event: emitter, name and every argument."""

    emitter: object
    name: str
    args: dict

    def __init__(self, emitter, name: str, **args):
        object.__setattr__(self, "emitter", emitter)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", args)

    def key(self):
        return (addr(self.emitter), self.name, normalize(self.args))


def decoded(receipt, emitter=None) -> list[tuple[str, str, dict]]:
    """Every log of the receipt as (emitter, event name, args); all logs must decode. Optionally one emitter only."""
    logs = receipt.decode_logs()
    assert len(logs) == len(receipt.logs), f"{len(receipt.logs) - len(logs)} log(s) could not be decoded"
    out = [(addr(log.contract_address), log.event_name, normalize(dict(log.event_arguments))) for log in logs]
    if emitter is not None:
        out = [e for e in out if e[0] == addr(emitter)]
    return out


def assert_events(receipt, expected: list[Ev], *, only=None) -> None:
    """The receipt's events (or only those of emitter `only`) are exactly `expected`, in order."""
    actual = decoded(receipt, only)
    want = [e.key() for e in expected]
    assert actual == want, (
        "events differ:\n  actual:   " + "\n            ".join(map(str, actual)) + "\n  expected: " + "\n            ".join(map(str, want))
    )


def Transfer(token, from_, to, value) -> Ev:  # noqa: N802 - named after the event
    return Ev(token, "Transfer", **{"from": addr(from_), "to": addr(to), "value": value})


# --- time --------------------------------------------------------------------------------------------------------


def at(s: Suite, timestamp: int) -> None:
    """The next transaction (or mined block) gets exactly this timestamp."""
    s.chain.pending_timestamp = timestamp


def head_time(s: Suite) -> int:
    return s.chain.blocks.head.timestamp


def block_time(s: Suite, receipt) -> int:
    return s.chain.provider.get_block(receipt.block_number).timestamp


# --- timelock ----------------------------------------------------------------------------------------------------


def _salt() -> bytes:
    return keccak(text=f"salt-{next(_counter)}")


@dataclass
class Scheduled:
    target: str
    data: bytes
    salt: bytes
    op_id: bytes
    receipt: object


def schedule(s: Suite, target, data: bytes, *, salt: bytes | None = None, sender=None) -> Scheduled:
    """Governance schedules one call (value 0, no predecessor) with the minimum delay."""
    salt = salt or _salt()
    target = addr(target)
    delay = s.timelock.getMinDelay()
    receipt = s.timelock.schedule(target, 0, data, ZERO32, salt, delay, sender=sender or s.governance)
    op_id = bytes(s.timelock.hashOperation(target, 0, data, ZERO32, salt))
    return Scheduled(target, bytes(data), salt, op_id, receipt)


def execute(s: Suite, op: Scheduled, *, sender=None):
    return s.timelock.execute(op.target, 0, op.data, ZERO32, op.salt, sender=sender or s.governance)


def timelock_call(s: Suite, target, data: bytes):
    """schedule -> wait the delay -> execute, as governance; returns the execute receipt."""
    op = schedule(s, target, data)
    s.time_travel(s.timelock.getMinDelay())
    return execute(s, op)


def as_admin(s: Suite, method, *args):
    """Calls `contract.method(*args)` as the admin: through the timelock. `method` is e.g. s.controller.setPerTxCap."""
    return timelock_call(s, method.contract.address, bytes(method.encode_input(*args)))


def as_admin_batch(s: Suite, calls: list[tuple]):
    """Several admin calls in one timelock operation: calls = [(contract.method, args...), ...]."""
    targets = [c[0].contract.address for c in calls]
    payloads = [bytes(c[0].encode_input(*c[1:])) for c in calls]
    values = [0] * len(calls)
    salt = _salt()
    s.timelock.scheduleBatch(targets, values, payloads, ZERO32, salt, s.timelock.getMinDelay(), sender=s.governance)
    s.time_travel(s.timelock.getMinDelay())
    return s.timelock.executeBatch(targets, values, payloads, ZERO32, salt, sender=s.governance)


# --- minting -----------------------------------------------------------------------------------------------------


def open_request(s: Suite, recipient, amount: int, ref: bytes | None = None, *, minter=None):
    """requestMint; returns (ref, receipt)."""
    ref = ref or fresh_ref()
    receipt = s.controller.requestMint(recipient, amount, ref, sender=minter or s.minter)
    return ref, receipt


def approve_all(s: Suite, ref: bytes, recipient, amount: int, approvers=None) -> list:
    needed = s.controller.approvalsRequired(amount)
    return [
        s.controller.approveMint(ref, recipient, amount, sender=a)
        for a in (approvers if approvers is not None else s.approvers[:needed])
    ]


def approved_request(s: Suite, recipient, amount: int, ref: bytes | None = None, *, minter=None) -> bytes:
    ref, _ = open_request(s, recipient, amount, ref, minter=minter)
    approve_all(s, ref, recipient, amount)
    return ref


def mint(s: Suite, recipient, amount: int, ref: bytes | None = None, *, minter=None, executor=None):
    """Request, approve (as many approvers as the tier needs) and execute; returns (ref, execute receipt)."""
    ref = approved_request(s, recipient, amount, ref, minter=minter)
    return ref, s.controller.executeMint(ref, sender=executor or s.outsiders[0])


# --- reserves ----------------------------------------------------------------------------------------------------


def attest(s: Suite, reserves_units: int, *, as_of: int | None = None, custodian: int = 0):
    """Submits a 2-of-3 signed attestation of `reserves_units` (whole tiyin) held at one custodian."""
    assert reserves_units % TIYIN == 0
    if as_of is None:  # now, but strictly newer than the latest (the registry requires it)
        _, latest, count = s.registry.latestReserves()
        as_of = max(s.chain.pending_timestamp - 1, latest + 1 if count else 0)
        if s.chain.pending_timestamp <= as_of:
            at(s, as_of + 1)
    attestation = Attestation(
        as_of=as_of,
        custodian_amounts=((custodian, reserves_units // TIYIN),),
        report_hash=report_hash_of(f"report-{next(_counter)}".encode()),
        report_uri="ipfs://kgst-audit-report",
    )
    signatures = [(x.auditor, x.signature) for x in s.sign(attestation)]
    return s.registry.submitAttestation(attestation.contract_input(), signatures, sender=s.accounts[HOLDERS[-1]])


def fresh_suite(project, accounts, networks, params) -> Suite:
    """A second, independent deployment through kgst.deploy (same parameters), with NO attestation.

    The session `suite` fixture is the same object (and chain state) that `attested_suite` attests on, so once
    any test has used `attested_suite` the `suite` fixture carries an attestation too; a test that needs "no
    attestation yet" deploys its own system (about 0.7 s; reverted with the test)."""
    from kgst.deploy import deploy_suite

    manifest = deploy_suite(
        project, accounts[DEPLOYER], params, accounts=ape.accounts, provider=networks.provider, network_label="bsc:local", log=lambda _: None
    )
    c = manifest.contracts
    return Suite(
        token=project.KGSTToken.at(c["token"]),
        controller=project.KGSTIssuanceController.at(c["controller"]),
        registry=project.KGSTReserveRegistry.at(c["registry"]),
        timelock=project.KGSTTimelock.at(c["timelock"]),
        accounts=accounts,
        chain=ape.chain,
        params=params,
    )


# --- EIP-2612 ----------------------------------------------------------------------------------------------------

TOKEN_NAME = "Kyrgyz Som Token"
TOKEN_VERSION = "1"


def sign_permit(s: Suite, owner, spender, value: int, deadline: int, *, nonce: int | None = None) -> tuple[int, bytes, bytes]:
    """(v, r, s) of an EIP-2612 permit, signed with eth-account over the token's published domain."""
    message = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": TOKEN_NAME, "version": TOKEN_VERSION, "chainId": s.chain.chain_id, "verifyingContract": addr(s.token)},
        "message": {
            "owner": addr(owner),
            "spender": addr(spender),
            "value": value,
            "nonce": s.token.nonces(owner) if nonce is None else nonce,
            "deadline": deadline,
        },
    }
    signed = Account.sign_message(encode_typed_data(full_message=message), owner.private_key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


# --- gas ---------------------------------------------------------------------------------------------------------

GAS: dict[str, int] = {}


def record_gas(label: str, value: int) -> int:
    """Keep a measured gas figure; tests/controller/conftest.py prints them at the end of the run."""
    GAS[label] = int(value)
    return int(value)


OUTCOMES: dict[str, int] = {}


def record_outcome(label: str, count: int) -> None:
    """Keep a count of what a randomized test exercised; printed at the end of the run."""
    OUTCOMES[label] = count


def status_tuple(view) -> tuple:
    """minterStatus / globalStatus / reserveHeadroom as a plain tuple of ints and bools."""
    return tuple(v if isinstance(v, bool) else int(v) for v in view)


# --- rolling windows ---------------------------------------------------------------------------------------------


class WindowModel:
    """The rule documented in `_useWindow`: fixed windows of `seconds`; a mint at time t in window k fits if the
    usage of window k-1 plus the usage of window k so far plus the amount stays within the limit."""

    def __init__(self, limit: int, seconds: int = WINDOW):
        self.limit = limit
        self.seconds = seconds
        self.usage: dict[int, int] = {}

    def used(self, t: int) -> int:
        k = t // self.seconds
        return self.usage.get(k - 1, 0) + self.usage.get(k, 0)

    def available(self, t: int) -> int:
        return max(self.limit - self.used(t), 0)

    def record(self, t: int, amount: int) -> None:
        k = t // self.seconds
        self.usage[k] = self.usage.get(k, 0) + amount


def max_interval_sum(mints: list[tuple[int, int]], seconds: int = WINDOW) -> int:
    """The largest total minted in any closed interval [t, t + seconds], from a log of (timestamp, amount).

    The maximum is reached by an interval starting at some mint's timestamp, so those are the only starts tried."""
    best = 0
    for start, _ in mints:
        best = max(best, sum(a for t, a in mints if start <= t <= start + seconds))
    return best
