"""The fast path under the system-wide invariant machine: raw JSON-RPC through the provider's web3 object.

Why not Ape calls: a machine of thousands of steps spends its time in round trips (docs: Ape ~13 tx/s, web3.py
directly ~51 tx/s). Here every transaction is built from calldata encoded with the contracts' ABIs (taken from
the Ape contract types), signed locally with eth-account with the test account's key, sent raw with a fixed gas
limit and its receipt read once (the node mines on send); the whole observable state of token, controller and
registry is read after each step in ONE eth_call through contracts/test/InvariantReader.sol.

Expected reverts are checked exactly: the same call is first run as an eth_call on the pending block (same
timestamp as the transaction that follows), its custom error decoded against every ABI of the suite and compared
with the model's prediction by name and all arguments; then the transaction is sent and must be mined reverted.
"""

from __future__ import annotations

import time
from collections import Counter

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

ZERO = "0x0000000000000000000000000000000000000000"
ZERO32 = b"\x00" * 32
MAX_UINT = 2**256 - 1
UNIT = 10**18  # one som in KGST base units
TIYIN = 10**16  # one tiyin (0.01 som) in KGST base units
GAS_LIMIT = 3_000_000  # fixed: no estimation round trip; an attestation with three signatures uses ~300k

PANIC = "Panic"
ERROR_STRING = "Error"


def addr(value) -> str:
    return to_checksum_address(getattr(value, "address", value))


def norm(value):
    """Comparable form of decoded error arguments and of the model's expected ones."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (list, tuple)):
        return tuple(norm(v) for v in value)
    return value


def E(name: str, *args) -> tuple:  # noqa: N802 - reads like the Solidity `revert Name(args)`
    """An expected custom error: ("Name", arg, ...)."""
    return (name, *norm(args))


class Abi:
    """Calldata for one contract from its Ape contract type: `enc("transfer", to, value)`, or the full signature
    for an overloaded function: `enc("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", ...)`."""

    def __init__(self, contract_type):
        self._methods: dict[str, tuple[bytes, list[str]]] = {}
        self._by_name: dict[str, list[str]] = {}
        for m in contract_type.methods:
            signature = m.selector
            self._methods[signature] = (keccak(text=signature)[:4], [i.canonical_type for i in m.inputs])
            self._by_name.setdefault(m.name, []).append(signature)

    def signature(self, name: str) -> str:
        if "(" in name:
            return name
        overloads = self._by_name[name]
        assert len(overloads) == 1, f"{name} is overloaded ({overloads}): pass the full signature"
        return overloads[0]

    def enc(self, name: str, *args) -> bytes:
        selector, types = self._methods[self.signature(name)]
        return selector + abi_encode(types, list(args))

    def selector(self, name: str) -> bytes:
        return self._methods[self.signature(name)][0]


class ErrorBook:
    """Decodes revert data against the custom errors of every contract of the suite (and Panic/Error)."""

    def __init__(self, contract_types):
        self._errors: dict[bytes, tuple[str, list[str]]] = {
            keccak(text="Panic(uint256)")[:4]: (PANIC, ["uint256"]),
            keccak(text="Error(string)")[:4]: (ERROR_STRING, ["string"]),
        }
        for contract_type in contract_types:
            for e in contract_type.errors:
                self._errors[keccak(text=e.selector)[:4]] = (e.name, [i.canonical_type for i in e.inputs])

    def decode(self, data: bytes) -> tuple:
        if len(data) < 4:
            return ("<revert without data>", data.hex())
        if data[:4] not in self._errors:
            return ("<unknown error>", data.hex())
        name, types = self._errors[data[:4]]
        return (name, *norm(abi_decode(types, data[4:])))


class Actor:
    """A test account the machine signs for: name (what a failing program prints), checksummed address, and the
    eth-account LocalAccount holding its private key. A plain class, so hypothesis prints just the name."""

    __slots__ = ("name", "address", "account")

    def __init__(self, name: str, address: str, account):
        self.name, self.address, self.account = name, address, account

    def __repr__(self) -> str:
        return self.name


class RpcError(RuntimeError):
    pass


class Driver:
    """Raw JSON-RPC to the node behind Ape's provider: send signed transactions, eth_calls, snapshots, time."""

    def __init__(self, web3, *, chain_id: int, gas_price: int, errors: ErrorBook):
        self._request = web3.provider.make_request
        self.chain_id = chain_id
        self.gas_price = gas_price
        self.errors = errors
        self.nonces: dict[str, int] = {}
        self.stats = Counter()

    def rpc(self, method: str, params: list):
        response = self._request(method, params)
        if "error" in response:
            raise RpcError(f"{method} failed: {response['error']}")
        return response["result"]

    def load_nonces(self, actors) -> None:
        for a in actors:
            self.nonces[a.address] = int(self.rpc("eth_getTransactionCount", [a.address, "latest"]), 16)

    # --- transactions ---------------------------------------------------------------------------------------------

    def send(self, actor: Actor, to: str, data: bytes) -> dict:
        """Signs locally, sends raw, returns the (raw JSON) receipt of the mined transaction."""
        tx = {
            "nonce": self.nonces[actor.address],
            "gas": GAS_LIMIT,
            "gasPrice": self.gas_price,
            "chainId": self.chain_id,
            "to": to,
            "value": 0,
            "data": data,
        }
        raw = actor.account.sign_transaction(tx).raw_transaction
        tx_hash = self.rpc("eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
        self.nonces[actor.address] += 1  # a reverted transaction is mined and uses its nonce too
        receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        for _ in range(200):  # the node mines on send; this only guards against a slow receipt index
            if receipt is not None:
                break
            time.sleep(0.005)
            receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        assert receipt is not None, f"no receipt for {tx_hash}"
        self.stats["transactions"] += 1
        return receipt

    def call(self, sender: str, to: str, data: bytes, *, block: str = "pending", time_override: int | None = None):
        """eth_call: returns ("ok", return bytes) or ("revert", decoded error)."""
        params: list = [{"from": sender, "to": to, "data": "0x" + data.hex(), "gas": hex(GAS_LIMIT)}, block]
        if time_override is not None:
            params += [{}, {"time": hex(time_override)}]
        response = self._request("eth_call", params)
        self.stats["eth_calls"] += 1
        if "error" not in response:
            return "ok", bytes.fromhex(response["result"][2:])
        err = response["error"]
        data_hex = err.get("data")
        if isinstance(data_hex, dict):  # some nodes nest it
            data_hex = data_hex.get("data")
        if not isinstance(data_hex, str) or not data_hex.startswith("0x"):
            if "revert" not in str(err.get("message", "")).lower():
                raise RpcError(f"eth_call failed: {err}")
            data_hex = "0x"
        return "revert", self.errors.decode(bytes.fromhex(data_hex[2:]))

    # --- chain control --------------------------------------------------------------------------------------------

    def snapshot(self) -> str:
        return self.rpc("evm_snapshot", [])

    def revert(self, snapshot_id: str) -> None:
        assert self.rpc("evm_revert", [snapshot_id]) is True, f"evm_revert({snapshot_id}) failed"

    def mine_at(self, timestamp: int) -> None:
        """Mines an empty block at exactly `timestamp` (later blocks follow one second apart)."""
        self.rpc("evm_setNextBlockTimestamp", [timestamp])
        self.rpc("evm_mine", [])


class Reader:
    """The whole state in one eth_call: InvariantReader.read(Call[]) with (target, calldata, words) per value."""

    SELECTOR = keccak(text="read((address,bytes,uint256)[])")[:4]

    def __init__(self, driver: Driver, address: str):
        self.driver = driver
        self.address = address
        self._cache_key = None
        self._cache_data = b""

    def read(self, calls: list[tuple[str, str, bytes, int]]):
        """calls: [(key, target, calldata, words)] -> (block timestamp, {key: tuple of words as ints})."""
        cache_key = tuple(key for key, *_ in calls)
        if cache_key != self._cache_key:
            encoded = abi_encode(["(address,bytes,uint256)[]"], [[(t, d, w) for _, t, d, w in calls]])
            self._cache_key, self._cache_data = cache_key, self.SELECTOR + encoded
        kind, out = self.driver.call(ZERO, self.address, self._cache_data, block="latest")
        if kind != "ok":
            raise AssertionError(f"the state read reverted: {out}")
        timestamp, _, blob = abi_decode(["uint256", "uint256", "bytes"], out)
        values = {}
        offset = 0
        for key, _, _, words in calls:
            values[key] = tuple(int.from_bytes(blob[offset + 32 * i: offset + 32 * (i + 1)], "big") for i in range(words))
            offset += 32 * words
        self.driver.stats["state_reads"] += 1
        return timestamp, values


def actor_from_ape(name: str, ape_account) -> Actor:
    return Actor(name, addr(ape_account), Account.from_key(ape_account.private_key))


def word_to_address(word: int) -> str:
    return to_checksum_address(word.to_bytes(32, "big")[12:])
