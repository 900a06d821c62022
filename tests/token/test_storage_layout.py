"""The token's storage layout (ERC-7201 namespaces) against the snapshot audit/storage-layout/KGSTToken.json
(A3 #10: upgrade storage collisions).

- the comparison rules themselves, on synthetic changes of the snapshot (reorder, remove, rename, retype,
  append, moved namespace, enum values, mapping keys, structs inside mappings and arrays);
- the real contract as solc lays it out now, against the snapshot, plus two edited copies of KGSTToken.sol
  compiled in memory (a reordered struct must be caught, an appended member must pass);
- the snapshot against the live proxy: the slots it names really hold the values the views return.

After a deliberate, reviewed layout change: `python -m kgst.storage_layout --update`.
"""

import copy

import pytest
from eth_utils import keccak

from kgst.storage_layout import (
    SNAPSHOT_PATH,
    TOKEN_SOURCE,
    compare_layouts,
    erc7201_slot,
    extract_layout,
    load_snapshot,
)
from tests.token.helpers import ALICE_START, UNIT, addr

EXPECTED_NAMESPACES = {
    "kgst.storage.KGSTToken",
    "openzeppelin.storage.Initializable",
    "openzeppelin.storage.AccessControl",
    "openzeppelin.storage.AccessControlDefaultAdminRules",
    "openzeppelin.storage.EIP712",
    "openzeppelin.storage.Nonces",
}
TOKEN_STRUCT_MEMBERS = [
    "balanceWords", "allowances", "totalSupply", "totalMinted", "totalBurned", "totalWiped", "authorizations",
    "minter", "paused",
]


@pytest.fixture(scope="module")
def snapshot():
    return load_snapshot()


@pytest.fixture(scope="module")
def current():
    return extract_layout()  # compiles contracts/KGSTToken.sol and a probe in memory (about 2 s)


def namespace(layout, namespace_id):
    return next(ns for ns in layout["namespaces"] if ns["id"] == namespace_id)


def token_members(layout):
    return namespace(layout, "kgst.storage.KGSTToken")["members"]


def member(layout, label, namespace_id="kgst.storage.KGSTToken"):
    return next(m for m in namespace(layout, namespace_id)["members"] if m["label"] == label)


# --- the ERC-7201 formula ---------------------------------------------------------------------------------------


def test_erc7201_slot_formula_reproduces_openzeppelins_published_constants():
    # the constants in OpenZeppelin's own sources (AccessControlUpgradeable, PausableUpgradeable, ERC20Upgradeable)
    assert erc7201_slot("openzeppelin.storage.AccessControl") == 0x02DD7BC7DEC4DCEEDDA775E58DD541E08A116C6C53815C0BD028192F7B626800
    assert erc7201_slot("openzeppelin.storage.Pausable") == 0xCD5ED15C6E187E77E9AEE88184C21F4F2182AB5827CB3B7E07FBEDCD63F03300
    assert erc7201_slot("openzeppelin.storage.ERC20") == 0x52C63247E1F47DB19D5CE0460030C497F067CA4CEBF71BA98EEADABE20BACE00


# --- the comparison rules, on synthetic layouts -------------------------------------------------------------------


def changed(snapshot, edit):
    layout = copy.deepcopy(snapshot)
    edit(layout)
    return compare_layouts(snapshot, layout)


def test_an_identical_layout_is_compatible(snapshot):
    assert compare_layouts(snapshot, copy.deepcopy(snapshot)) == []


def test_reordering_two_members_is_caught(snapshot):
    def swap(layout):
        members = token_members(layout)
        i, j = 3, 4  # totalMinted <-> totalBurned, same type: only the order differs
        members[i]["label"], members[j]["label"] = members[j]["label"], members[i]["label"]

    problems = changed(snapshot, swap)
    assert any("totalMinted: reordered" in p for p in problems), problems
    assert any("totalBurned: reordered" in p for p in problems), problems


def test_removing_a_member_is_caught(snapshot):
    problems = changed(snapshot, lambda layout: token_members(layout).pop(6))  # authorizations
    assert any("authorizations" in p and ("removed" in p or "reordered" in p) for p in problems), problems


def test_removing_the_last_member_is_caught(snapshot):
    problems = changed(snapshot, lambda layout: token_members(layout).pop())
    assert problems == [f"erc7201:kgst.storage.KGSTToken.{TOKEN_STRUCT_MEMBERS[-1]}: removed (member #8 of 9)"]


def test_renaming_a_member_is_caught(snapshot):
    problems = changed(snapshot, lambda layout: member(layout, "totalWiped").update(label="totalSeized"))
    assert problems == [
        "erc7201:kgst.storage.KGSTToken.totalWiped: removed or renamed (member #5 is now totalSeized)"
    ]


def test_retyping_a_member_is_caught(snapshot):
    def widen(layout):
        member(layout, "totalSupply")["type"] = {"label": "uint256", "encoding": "inplace", "bytes": 32}

    problems = changed(snapshot, widen)
    assert problems == ["erc7201:kgst.storage.KGSTToken.totalSupply: retyped from uint128 to uint256"]


def test_moving_a_member_to_another_slot_is_caught(snapshot):
    problems = changed(snapshot, lambda layout: member(layout, "paused").update(offset=21))
    assert problems == ["erc7201:kgst.storage.KGSTToken.paused: moved from slot 5 offset 20 to slot 5 offset 21"]


def test_appending_a_member_at_the_end_is_allowed(snapshot):
    def append(layout):
        token_members(layout).append(
            {"label": "dailyLimit", "slot": 6, "offset": 0, "type": {"label": "uint256", "encoding": "inplace",
                                                                         "bytes": 32}}
        )

    assert changed(snapshot, append) == []


def test_removing_or_moving_a_namespace_is_caught_and_adding_one_is_allowed(snapshot):
    removed = changed(snapshot, lambda layout: layout["namespaces"].pop())
    assert len(removed) == 1 and "namespace removed" in removed[0]
    moved = changed(snapshot, lambda layout: namespace(layout, "kgst.storage.KGSTToken").update(slot="0x" + "11" * 32))
    assert len(moved) == 1 and "slot moved" in moved[0]
    added = copy.deepcopy(namespace(snapshot, "openzeppelin.storage.Nonces"))
    added.update(id="kgst.storage.KGSTTokenV2", slot=f"0x{erc7201_slot('kgst.storage.KGSTTokenV2'):064x}")
    assert changed(snapshot, lambda layout: layout["namespaces"].append(added)) == []


def test_a_location_constant_that_is_not_the_erc7201_slot_is_caught(snapshot):
    problems = changed(
        snapshot, lambda layout: namespace(layout, "kgst.storage.KGSTToken").update(locationConstantMatchesSlot=False)
    )
    assert len(problems) == 1 and "TOKEN_STORAGE_LOCATION does not equal" in problems[0]


def test_enum_values_may_be_appended_but_not_reordered(snapshot):
    def enum_of(layout):
        return member(layout, "authorizations")["type"]["value"]["value"]

    assert enum_of(snapshot)["values"] == ["Unused", "Used", "Canceled"]
    assert changed(snapshot, lambda layout: enum_of(layout)["values"].append("Revoked")) == []
    problems = changed(snapshot, lambda layout: enum_of(layout).update(values=["Unused", "Canceled", "Used"]))
    assert len(problems) == 1 and "enum values changed" in problems[0]


def test_struct_in_a_mapping_may_grow_at_the_end_but_not_change_its_members(snapshot):
    def balance_word(layout):
        return member(layout, "balanceWords")["type"]["value"]

    def grow(layout):
        word = balance_word(layout)
        word["members"].append({"label": "since", "slot": 1, "offset": 0,
                                "type": {"label": "uint64", "encoding": "inplace", "bytes": 8}})
        word["bytes"] = 64

    assert changed(snapshot, grow) == []
    problems = changed(snapshot, lambda layout: balance_word(layout)["members"][0].update(label="raw"))
    assert len(problems) == 1 and "balanceWords value (struct KGSTToken.BalanceWord).value: removed or renamed" in problems[0]


def test_changing_a_mapping_key_type_is_caught(snapshot):
    def rekey(layout):
        member(layout, "balanceWords")["type"]["key"] = {"label": "bytes32", "encoding": "inplace", "bytes": 32}

    problems = changed(snapshot, rekey)
    assert problems == ["erc7201:kgst.storage.KGSTToken.balanceWords key: retyped from address to bytes32"]


def test_growing_a_struct_stored_in_an_array_is_caught():
    struct = {"label": "struct S", "encoding": "inplace", "bytes": 32,
              "members": [{"label": "a", "slot": 0, "offset": 0,
                           "type": {"label": "uint256", "encoding": "inplace", "bytes": 32}}]}
    array = {"label": "struct S[]", "encoding": "dynamic_array", "bytes": 32, "base": struct}
    old = {"plainStorage": [{"label": "items", "slot": 0, "offset": 0, "type": array}], "namespaces": []}
    new = copy.deepcopy(old)
    new["plainStorage"][0]["type"]["base"]["members"].append(
        {"label": "b", "slot": 1, "offset": 0, "type": {"label": "uint256", "encoding": "inplace", "bytes": 32}}
    )
    new["plainStorage"][0]["type"]["base"]["bytes"] = 64
    problems = compare_layouts(old, new)
    assert len(problems) == 1 and "shifts every later element" in problems[0]


def test_plain_state_variables_are_checked_too(snapshot):
    layout = copy.deepcopy(snapshot)
    layout["plainStorage"] = [{"label": "x", "slot": 0, "offset": 0,
                               "type": {"label": "uint256", "encoding": "inplace", "bytes": 32}}]
    assert compare_layouts(snapshot, layout) == []  # appended
    assert compare_layouts(layout, snapshot) == ["plain storage.x: removed (member #0 of 1)"]


# --- the real contract --------------------------------------------------------------------------------------------


def test_the_snapshot_file_is_the_committed_pretty_json(snapshot):
    assert SNAPSHOT_PATH.read_text().startswith("{\n  ")
    assert snapshot["contract"] == f"{TOKEN_SOURCE}:KGSTToken"


def test_current_token_layout_is_compatible_with_the_snapshot(current, snapshot):
    assert compare_layouts(snapshot, current) == []


def test_token_namespace_is_at_its_erc7201_slot_and_the_constant_agrees(current):
    token_ns = namespace(current, "kgst.storage.KGSTToken")
    assert token_ns["struct"] == "KGSTToken.TokenStorage"
    assert token_ns["slot"] == f"0x{erc7201_slot('kgst.storage.KGSTToken'):064x}"
    assert token_ns["slot"] == "0x3eb4256b60027827bb925b3697f061f200f71c8d73e8e67f26dd9474f6e7e500"
    assert token_ns["locationConstant"] == "TOKEN_STORAGE_LOCATION" and token_ns["locationConstantMatchesSlot"]
    assert [m["label"] for m in token_ns["members"]] == TOKEN_STRUCT_MEMBERS


def test_every_inherited_namespace_is_recorded_and_matches_its_constant(current):
    assert {ns["id"] for ns in current["namespaces"]} == EXPECTED_NAMESPACES
    assert all(ns["locationConstantMatchesSlot"] for ns in current["namespaces"])


def test_the_implementation_declares_no_plain_state_variables(current):
    assert current["plainStorage"] == []  # everything lives in namespaces: nothing can collide with the proxy


def _swap_lines(source: str, first: str, second: str) -> str:
    assert source.count(first) == 1 and source.count(second) == 1
    return source.replace(first, "\0").replace(second, first).replace("\0", second)


def test_an_edited_copy_of_the_source_with_a_reorder_is_caught_and_its_appended_member_is_not(snapshot):
    """One in-memory compile of KGSTToken.sol with two members swapped AND a member appended (solc is slow to
    start, so both edits share it): exactly the swap is reported."""
    source = (SNAPSHOT_PATH.parents[2] / TOKEN_SOURCE).read_text()
    edited = _swap_lines(source, "        uint128 totalMinted;\n", "        uint128 totalBurned;\n")
    last = "        bool paused;\n"
    assert edited.count(last) == 1
    edited = edited.replace(last, last + "        uint256 appendedInV2;\n")
    layout = extract_layout(overrides={TOKEN_SOURCE: edited})
    assert token_members(layout)[-1] == {
        "label": "appendedInV2", "slot": 6, "offset": 0, "type": {"label": "uint256", "encoding": "inplace", "bytes": 32}
    }
    assert compare_layouts(snapshot, layout) == [
        "erc7201:kgst.storage.KGSTToken.totalMinted: reordered (was member #3, now #4; #3 is now totalBurned)",
        "erc7201:kgst.storage.KGSTToken.totalBurned: reordered (was member #4, now #3; #4 is now totalMinted)",
    ]


# --- the snapshot against the live proxy --------------------------------------------------------------------------


def _slot_word(chain, token, slot: int) -> int:
    return int.from_bytes(bytes(chain.provider.get_storage(token.address, slot)), "big")


def _field(word: int, offset: int, size: int) -> int:
    return (word >> (8 * offset)) & ((1 << (8 * size)) - 1)


def test_the_snapshot_slots_hold_what_the_views_return_on_the_live_proxy(
    snapshot, chain, token, alice, minter, pauser, admin, asset_protector
):
    token.burn(minter, UNIT, sender=minter)
    token.freeze(alice, keccak(text="case"), sender=asset_protector)
    token.pause(sender=pauser)
    base = int(namespace(snapshot, "kgst.storage.KGSTToken")["slot"], 16)

    def read(label, namespace_id="kgst.storage.KGSTToken", base_slot=None):
        m = member(snapshot, label, namespace_id)
        start = base_slot if base_slot is not None else int(namespace(snapshot, namespace_id)["slot"], 16)
        return _field(_slot_word(chain, token, start + m["slot"]), m["offset"], m["type"]["bytes"])

    assert (read("totalSupply"), read("totalMinted"), read("totalBurned"), read("totalWiped")) == tuple(
        token.supplyCounters()
    )
    assert addr(f"0x{read('minter'):040x}") == minter.address and read("paused") == 1
    # balanceWords[alice]: keccak256(abi.encode(alice, base + slot)); bit 255 is the frozen flag
    mapping_slot = base + member(snapshot, "balanceWords")["slot"]
    key = bytes(12) + bytes.fromhex(alice.address[2:]) + mapping_slot.to_bytes(32, "big")
    word = _slot_word(chain, token, int.from_bytes(keccak(key), "big"))
    assert word == (1 << 255) | ALICE_START
    assert addr(f"0x{read('_currentDefaultAdmin', 'openzeppelin.storage.AccessControlDefaultAdminRules'):040x}") == (
        admin.address
    )
    assert read("_initialized", "openzeppelin.storage.Initializable") == 1
