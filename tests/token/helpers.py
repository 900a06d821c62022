"""Assertion helpers for the KGST token tests: exact events, exact custom errors, whole-state snapshots.

- `assert_events(receipt, [...])` checks the receipt's logs one for one: emitter, event name and every
  argument, in order, with no extra or undecodable log.
- `reverts("ErrorName", arg=value, ...)` checks the custom error by name and ALL of its arguments. Ape's own
  `ape.reverts(Class, **inputs)` passes silently when the revert data could not be decoded or when an
  argument is not named, so it is wrapped with stricter checks.
- `call_error(contract, "method", *args, sender=...)` gets the same (name, arguments) from a plain eth_call,
  for checks repeated hundreds of times (every account x every privileged function).
- `decode_error_data(contract, data)` decodes raw revert data (e.g. an initializer reverting inside a proxy
  constructor, which Ape attributes to the proxy and cannot decode).
- `StateReader` reads balances, allowances, frozen flags, supply counters, pause, nonces and EIP-3009
  authorization states in ONE eth_call (through contracts/test/StaticCallBatcher.sol), so a test can show
  that a call changed exactly what it should and nothing else.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field

import ape
from ape.exceptions import ContractLogicError, CustomError
from eth_abi import decode as abi_decode
from eth_utils import is_address, keccak, to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import ContractLogicError as Web3ContractLogicError

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_BYTES32 = b"\x00" * 32
MAX_UINT256 = 2**256 - 1
UNIT = 10**18  # one KGST (one som) in base units

# The shared fixture state (conftest.py): what each holder was minted, and the admin hand-over delay.
ALICE_START = 1_000 * UNIT
BOB_START = 500 * UNIT
CAROL_START = 250 * UNIT
MINTER_START = 100 * UNIT  # the issuance controller holds redeemed KGST before burning it
ADMIN_TRANSFER_DELAY = 3 * 24 * 3600  # seconds; the DefaultAdminRules delay set at initialisation


def init_params(roles: dict, delay: int = ADMIN_TRANSFER_DELAY) -> tuple:
    """KGSTToken.InitParams: (admin, adminTransferDelay, pauser, assetProtector, rescuer, upgrader, minter)."""
    a = {label: addr(account) for label, account in roles.items()}
    return (a["admin"], delay, a["pauser"], a["asset_protector"], a["rescuer"], a["upgrader"], a["minter"])


def addr(value) -> str:
    """Checksummed address of an account, contract or address string."""
    return to_checksum_address(getattr(value, "address", value))


def normalize(value):
    """Make decoded event/error values and expected values comparable (addresses, bytes, ints)."""
    if hasattr(value, "address") and not isinstance(value, (str, bytes)):
        return addr(value)
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if isinstance(value, (bytes, bytearray, HexBytes)):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return bytes(HexBytes(value))
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    return value


@dataclass(frozen=True)
class Ev:
    """An expected event: name, arguments and (by default: the token) the emitting contract."""

    name: str
    args: dict = field(default_factory=dict)
    emitter: object = None

    def __init__(self, name: str, emitter=None, **args):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "emitter", emitter)


def decoded_events(receipt) -> list[tuple[str, str, dict]]:
    logs = receipt.decode_logs()
    assert len(logs) == len(receipt.logs), (
        f"{len(receipt.logs) - len(logs)} log(s) could not be decoded: {receipt.logs}"
    )
    return [(addr(log.contract_address), log.event_name, normalize(dict(log.event_arguments))) for log in logs]


def assert_events(receipt, expected: list[Ev], default_emitter) -> None:
    """The receipt's events are exactly `expected`, in order (names, arguments, emitters)."""
    actual = decoded_events(receipt)
    want = [
        (addr(e.emitter if e.emitter is not None else default_emitter), e.name, normalize(e.args)) for e in expected
    ]
    assert actual == want, "events differ:\n  actual:   " + "\n            ".join(map(str, actual)) + (
        "\n  expected: " + "\n            ".join(map(str, want))
    )


_CUSTOM_ERROR_SELECTOR = re.compile(r"custom error 0x([0-9a-fA-F]{8})")


def _error_names_by_selector() -> dict[bytes, set[str]]:
    names: dict[bytes, set[str]] = {}
    for container in ape.project.contracts.values():
        for abi in container.contract_type.errors:
            names.setdefault(keccak(text=abi.selector)[:4], set()).add(abi.name)
    return names


def error_of(exc: ContractLogicError) -> tuple[str, dict | None]:
    """(error name, arguments) of a revert. Reverts of eth_calls (view functions) reach Ape without decoded
    data, only as "custom error 0x<selector>: <bytes>": then the name is found by selector and the arguments
    are None (unknown)."""
    if isinstance(exc, CustomError):
        return exc.abi.name, normalize(dict(exc.inputs))
    match = _CUSTOM_ERROR_SELECTOR.search(str(exc.revert_message or exc))
    assert match, f"expected a custom error, got {type(exc).__name__}: {exc}"
    candidates = _error_names_by_selector().get(bytes.fromhex(match.group(1)), {f"<unknown 0x{match.group(1)}>"})
    assert len(candidates) == 1, f"selector 0x{match.group(1)} is ambiguous: {candidates}"
    return candidates.pop(), None


@contextmanager
def reverts(error_name: str, **inputs):
    """The block reverts with custom error `error_name` whose arguments are exactly `inputs` (all of them)."""
    with ape.reverts() as info:
        yield info
    name, actual = error_of(info.value)
    assert name == error_name, f"expected {error_name}{normalize(inputs)}, got {name}{actual}"
    assert actual is not None or not inputs, f"{error_name} reverted, but its arguments could not be decoded"
    assert actual is None or actual == normalize(inputs), f"expected {error_name}{normalize(inputs)}, got {name}{actual}"


def decode_error_data(contract, data) -> tuple[str, dict]:
    """Decode raw revert data against `contract`'s custom errors (for reverts Ape could not attribute, such as
    an initializer reverting inside a proxy's constructor)."""
    data = bytes(HexBytes(data))
    for abi in contract.contract_type.errors:
        if keccak(text=abi.selector)[:4] == data[:4]:
            values = abi_decode([i.canonical_type for i in abi.inputs], data[4:])
            return abi.name, normalize(dict(zip([i.name for i in abi.inputs], values)))
    raise AssertionError(f"revert data {data.hex()} matches no error of {contract.contract_type.name}")


def call_error(contract, method: str, *args, sender) -> tuple[str, dict]:
    """The custom error (name, arguments) with which `contract.method(*args)` reverts when `sender` calls it,
    found with a plain eth_call: no signing, no mining, one round trip. For checks run hundreds of times
    (every account x every privileged function); a revert never changes state, so a call decides the same as
    a transaction would."""
    data = getattr(contract, method).encode_input(*args)
    web3 = contract.provider.web3
    try:
        web3.eth.call({"from": addr(sender), "to": contract.address, "data": "0x" + bytes(data).hex()})
    except Web3ContractLogicError as err:  # ContractCustomError is a subclass; `data` holds the revert data
        assert isinstance(err.data, str) and err.data.startswith("0x"), f"revert without data: {err!r}"
        return decode_error_data(contract, err.data)
    raise AssertionError(f"{method}{args} by {addr(sender)} did not revert")


# --- whole-state snapshots ------------------------------------------------------------------------------------


class StateReader:
    """Reads the token's observable state in one eth_call per contract.

    `accounts` maps a label to an address; every balance, frozen flag and nonce of those, every allowance
    between them, the supply counters and the pause flag are read. `authorizations` adds (label, authorizer,
    nonce) EIP-3009 states. `extra` adds (label, contract, view name, args) one-word views, e.g. a foreign
    token's balances or `hasRole` (booleans read as 0/1, addresses as integers).
    """

    def __init__(self, batcher, token, accounts: dict, authorizations=(), extra=()):
        self.batcher = batcher
        self.token = token
        self.accounts = {label: addr(a) for label, a in accounts.items()}
        self.batches: dict[str, tuple[list[str], list[bytes]]] = {}

        def add(contract, key, fn, *args):
            keys, calls = self.batches.setdefault(contract.address, ([], []))
            keys.append(key)
            calls.append(bytes(getattr(contract, fn).encode_input(*args)))

        for fn in ("totalSupply", "paused"):
            add(token, fn, fn)
        for label, a in self.accounts.items():
            add(token, f"balance[{label}]", "balanceOf", a)
            add(token, f"frozen[{label}]", "isFrozen", a)
            add(token, f"nonce[{label}]", "nonces", a)
        for owner_label, owner in self.accounts.items():
            for spender_label, spender in self.accounts.items():
                add(token, f"allowance[{owner_label}->{spender_label}]", "allowance", owner, spender)
        for label, authorizer, nonce in authorizations:
            add(token, f"authorization[{label}]", "authorizationState", addr(authorizer), nonce)
        for label, contract, fn, args in extra:
            add(contract, label, fn, *args)

    def read(self) -> dict[str, int]:
        state = {}
        for target, (keys, calls) in self.batches.items():
            state.update(zip(keys, self.batcher.readWords(target, calls)))
        # The lifetime counters come in one view (the batcher reads only the first word of each call).
        _, state["totalMinted"], state["totalBurned"], state["totalWiped"] = self.token.supplyCounters()
        return state


def state_diff(before: dict, after: dict) -> dict[str, int]:
    """Changed entries as after - before (so +10 / -10 for balances, +1 / -1 for flags)."""
    return {k: after[k] - before[k] for k in before if after[k] != before[k]}


# --- the token's own events, for brevity in expectations -------------------------------------------------------


def Transfer(from_, to, value) -> Ev:  # noqa: N802 - named after the event
    return Ev("Transfer", **{"from": from_, "to": to, "value": value})


def Approval(owner, spender, value) -> Ev:  # noqa: N802
    return Ev("Approval", owner=owner, spender=spender, value=value)
