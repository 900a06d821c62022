"""kgst.merkle: trees, proofs and multiproofs that match @openzeppelin/merkle-tree and verify in MerkleProof.sol."""

import random

import pytest
from ape.exceptions import ContractLogicError
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from kgst.addresses import AddressError
from kgst.merkle import (
    BatchEntry,
    BatchMerkleTree,
    InvalidMultiproofError,
    MerkleError,
    hash_pair,
    leaf_hash,
    process_multiproof,
    verify,
    verify_multiproof,
)
from kgst.refs import deposit_ref

MAX_UINT256 = 2**256 - 1


def make_entries(n: int, seed: int = 0) -> list[BatchEntry]:
    rng = random.Random(seed)
    return [
        BatchEntry(to_checksum_address(rng.randbytes(20)), rng.randint(1, 10**30), deposit_ref(f"DEP-{seed}-{i}"))
        for i in range(n)
    ]


def tampered(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


# ---------------------------------------------------------------------------------------------------------------
# Compatibility with the JS library, pinned: vectors computed by @openzeppelin/merkle-tree 1.0.8,
# StandardMerkleTree.of(values, ["address", "uint256", "bytes32"]) on the entries below.

JS_ENTRIES = [
    BatchEntry("0x" + f"{i + 10:02d}" * 20, i * 10**18, keccak(f"KGST/deposit/v1:DEP-{i}".encode()))
    for i in range(1, 6)
]
JS_ROOTS = {
    1: "b1efd532086e49ab74802af1322d2b16f497b2218237de092e1e7a250d8507a2",
    2: "ba32e68f39bd369404e657377e9e3ae2346d77ccd3d4af977b8ea2c4916c88fd",
    3: "694d12c508c8642dfc106645a98ed0ad9dc32f2abcc707fd1bb61edeec989ac1",
    5: "df64041812a274eb82046bd8f6f60b9a1493350c749908b5f43103ec08a8ca14",
}


@pytest.mark.parametrize("n", sorted(JS_ROOTS))
def test_root_matches_the_js_library(n):
    assert BatchMerkleTree(JS_ENTRIES[:n]).root.hex() == JS_ROOTS[n]


def test_proofs_match_the_js_library():
    tree = BatchMerkleTree(JS_ENTRIES)
    assert [p.hex() for p in tree.proof(0)] == [
        "5a7d223fb432ce1932e654b91874cc59e91a2469632e3cd269f47fbc4c8cbc1c",
        "c1851cae863ee1f291edd9b3c7d68e6e0c45f7510bafcf3b54c784a8bc2754bd",
    ]
    multiproof = tree.multiproof([0, 2, 3])
    assert [entry.deposit_ref.hex() for entry in multiproof.entries] == [
        "36c33fbd1a49843446704c9e0d1a22bf8bbb0c6152e28dcca200e882e0352f69",
        "d023124e1c15e182bd60e7f492933b1d94b212951802d70980a72e94d17d092a",
        "a5605bee88de49a7bc22f1201b56ad9d4347f97760234ffbbdf3b88be2dd404a",
    ]
    assert [p.hex() for p in multiproof.proof] == [
        "6066e2a7aaff239f3c791960c6cd4a2d7131bfdcfa983dac29110edb86db28a8",
        "a9191a3474e510fc8fed4e6beddab17ecad77e3aa90f56956561d5284de666a4",
    ]
    assert multiproof.flags == [False, False, True, True]


def test_leaf_and_node_hashes():
    entry = JS_ENTRIES[0]
    encoded = encode(["address", "uint256", "bytes32"], list(entry))
    assert len(encoded) == 96
    assert leaf_hash(entry) == keccak(keccak(encoded))
    a, b = keccak(b"a"), keccak(b"b")
    assert hash_pair(a, b) == hash_pair(b, a) == keccak(min(a, b) + max(a, b))


# ---------------------------------------------------------------------------------------------------------------
# Shapes and edge cases.


def test_single_entry_tree():
    (entry,) = make_entries(1)
    tree = BatchMerkleTree([entry])
    assert tree.root == tree.leaf_hash(0) == leaf_hash(entry)
    assert tree.proof(0) == []
    assert verify(tree.root, tree.leaf_hash(0), [])
    assert tree.multiproof([0]) == ([entry], [], [])
    assert verify_multiproof(tree.root, [leaf_hash(entry)], [], [])


def test_two_entry_tree():
    entries = make_entries(2)
    tree = BatchMerkleTree(entries)
    assert tree.root == hash_pair(leaf_hash(entries[0]), leaf_hash(entries[1]))
    assert tree.proof(0) == [leaf_hash(entries[1])]
    assert tree.proof(1) == [leaf_hash(entries[0])]
    both = tree.multiproof([1, 0])
    assert both.proof == [] and both.flags == [True]
    assert sorted(leaf_hash(e) for e in both.entries) == sorted(map(leaf_hash, entries))


def test_three_entry_tree_is_unbalanced_as_in_the_library():
    entries = make_entries(3)
    tree = BatchMerkleTree(entries)
    low, mid, high = sorted(map(leaf_hash, entries))
    # Nodes: [root, n1, high, mid, low]: the two smallest leaves share a parent, the largest pairs with it.
    assert tree.root == hash_pair(hash_pair(low, mid), high)
    assert sorted(len(tree.proof(i)) for i in range(3)) == [1, 2, 2]


def test_entries_keep_their_input_order_and_are_checksummed():
    entries = make_entries(5)
    lowercase = [(e.recipient.lower(), e.amount, e.deposit_ref) for e in entries]
    tree = BatchMerkleTree(lowercase)
    assert tree.entries == entries
    assert len(tree) == 5
    assert [tree.leaf_hash(i) for i in range(5)] == [leaf_hash(e) for e in entries]
    # Order of input does not change the tree, since leaves are sorted by hash.
    assert BatchMerkleTree(entries[::-1]).root == tree.root


def test_empty_multiproof_is_the_root_itself_as_in_the_library():
    tree = BatchMerkleTree(make_entries(4))
    assert tree.multiproof([]) == ([], [tree.root], [])
    assert verify_multiproof(tree.root, [], [tree.root], [])


def test_batch_must_not_be_empty():
    with pytest.raises(MerkleError, match="a mint batch needs at least one entry, got an empty list"):
        BatchMerkleTree([])


def test_a_deposit_can_back_only_one_mint():
    entries = make_entries(4)
    entries[3] = entries[3]._replace(deposit_ref=entries[1].deposit_ref)
    with pytest.raises(MerkleError, match=r"entries 1 and 3 have the same deposit reference 0x[0-9a-f]{64}"):
        BatchMerkleTree(entries)


@pytest.mark.parametrize(
    "bad, error, message",
    [
        ({"amount": 0}, MerkleError, "entry 2 amount 0 must be a positive int of token base units that fits a uint256"),
        ({"amount": MAX_UINT256 + 1}, MerkleError, "entry 2 amount"),
        ({"amount": 1.5}, MerkleError, "entry 2 amount 1.5"),
        ({"amount": True}, MerkleError, "entry 2 amount True"),
        ({"deposit_ref": b"\x01" * 31}, MerkleError, "entry 2 deposit reference .* must be 32 bytes"),
        ({"deposit_ref": "0x" + "01" * 32}, MerkleError, "must be 32 bytes"),
        ({"recipient": "0x" + "00" * 20}, AddressError, "entry 2 recipient '0x0{40}' is the zero address"),
        ({"recipient": "0x1234"}, AddressError, "entry 2 recipient '0x1234' has 4 characters after '0x'"),
    ],
)
def test_entries_must_be_valid_mints(bad, error, message):
    entries = make_entries(4)
    entries[2] = entries[2]._replace(**bad)
    with pytest.raises(error, match=message):
        BatchMerkleTree(entries)


def test_max_amount_is_accepted():
    entries = make_entries(2)
    entries[0] = entries[0]._replace(amount=MAX_UINT256)
    tree = BatchMerkleTree(entries)
    assert verify(tree.root, tree.leaf_hash(0), tree.proof(0))


@pytest.mark.parametrize("index", [-1, 3, 1.0, True, "0"])
def test_entry_index_must_be_in_range(index):
    tree = BatchMerkleTree(make_entries(3))
    with pytest.raises(MerkleError, match=rf"entry index {index!r} is out of range: the batch has entries 0 to 2"):
        tree.proof(index)
    with pytest.raises(MerkleError, match="is out of range"):
        tree.multiproof([0, index])


def test_multiproof_cannot_prove_an_entry_twice():
    tree = BatchMerkleTree(make_entries(5))
    with pytest.raises(MerkleError, match=r"cannot prove an entry twice: indices \[1, 3, 1\] contain a duplicate"):
        tree.multiproof([1, 3, 1])


# ---------------------------------------------------------------------------------------------------------------
# verify / verify_multiproof mirror MerkleProof.sol, including where it reverts.


def test_inconsistent_multiproof_lengths_are_invalid_like_in_the_contract():
    tree = BatchMerkleTree(make_entries(6))
    multiproof = tree.multiproof([0, 4])
    leaves = [leaf_hash(e) for e in multiproof.entries]
    assert verify_multiproof(tree.root, leaves, multiproof.proof, multiproof.flags)
    with pytest.raises(InvalidMultiproofError, match=r"2 leaves \+ 2 proof elements must equal 4 flags \+ 1"):
        verify_multiproof(tree.root, leaves, multiproof.proof[:-1], multiproof.flags)
    with pytest.raises(InvalidMultiproofError, match="must equal"):
        verify_multiproof(tree.root, leaves, multiproof.proof, multiproof.flags + [False])
    with pytest.raises(InvalidMultiproofError, match="must equal"):
        verify_multiproof(tree.root, [], [], [])


def test_flags_must_consume_every_proof_element():
    # The multiproof forgery of OpenZeppelin 4.7-4.9.1: lengths add up, but a proof element is never used.
    a, b, c = keccak(b"a"), keccak(b"b"), keccak(b"c")
    with pytest.raises(InvalidMultiproofError, match="1 false flags must consume all 2 proof elements"):
        process_multiproof([a], [b, c], [False, True])
    with pytest.raises(InvalidMultiproofError, match="3 false flags must consume all 2 proof elements"):
        process_multiproof([a, b], [c, c], [False, False, False])
    assert process_multiproof([a], [], []) == a
    assert process_multiproof([], [a], []) == a


recipients = st.integers(min_value=1, max_value=2**160 - 1).map(lambda n: to_checksum_address(n.to_bytes(20, "big")))
amounts = st.integers(min_value=1, max_value=MAX_UINT256)
entry_lists = st.lists(st.tuples(recipients, amounts), min_size=1, max_size=40).map(
    lambda rows: [BatchEntry(recipient, amount, deposit_ref(f"DEP-{i}")) for i, (recipient, amount) in enumerate(rows)]
)


@settings(max_examples=60)
@given(entry_lists)
def test_every_proof_verifies_and_tampering_is_rejected(entries):
    tree = BatchMerkleTree(entries)
    for i in range(len(entries)):
        leaf, proof = tree.leaf_hash(i), tree.proof(i)
        assert verify(tree.root, leaf, proof)
        assert not verify(tree.root, tampered(leaf), proof)
        assert not verify(tampered(tree.root), leaf, proof)
        for j in range(len(proof)):
            assert not verify(tree.root, leaf, proof[:j] + [tampered(proof[j])] + proof[j + 1 :])
        if proof:
            assert not verify(tree.root, leaf, proof[:-1])


@settings(max_examples=100)
@given(entry_lists, st.data())
def test_multiproofs_of_any_subset_verify_and_tampering_is_rejected(entries, data):
    tree = BatchMerkleTree(entries)
    indices = data.draw(st.lists(st.integers(0, len(entries) - 1), unique=True, min_size=1), label="indices")
    multiproof = tree.multiproof(indices)
    assert sorted(multiproof.entries) == sorted(entries[i] for i in indices)
    leaves = [leaf_hash(entry) for entry in multiproof.entries]
    assert verify_multiproof(tree.root, leaves, multiproof.proof, multiproof.flags)

    k = data.draw(st.integers(0, len(leaves) - 1), label="tampered leaf")
    bad_leaves = leaves[:k] + [tampered(leaves[k])] + leaves[k + 1 :]
    assert not verify_multiproof(tree.root, bad_leaves, multiproof.proof, multiproof.flags)
    if multiproof.proof:
        k = data.draw(st.integers(0, len(multiproof.proof) - 1), label="tampered proof element")
        proof = list(multiproof.proof)
        proof[k] = tampered(proof[k])
        assert not verify_multiproof(tree.root, leaves, proof, multiproof.flags)
    outsider = leaf_hash(BatchEntry(entries[0].recipient, entries[0].amount, deposit_ref("NOT-IN-BATCH")))
    assert not verify_multiproof(tree.root, leaves[:-1] + [outsider], multiproof.proof, multiproof.flags)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 33])
def test_multiproof_of_all_entries_needs_no_proof_elements(n):
    tree = BatchMerkleTree(make_entries(n))
    multiproof = tree.multiproof(range(n))
    assert multiproof.proof == [] and multiproof.flags == [True] * (n - 1)
    assert verify_multiproof(tree.root, [leaf_hash(e) for e in multiproof.entries], [], multiproof.flags)


# ---------------------------------------------------------------------------------------------------------------
# On chain: what Python computes is what OpenZeppelin's MerkleProof.sol accepts.

ON_CHAIN_SIZES = [1, 2, 3, 7, 33]


@pytest.fixture(scope="module")
def harness(project, accounts):
    return accounts[0].deploy(project.MerkleProofHarness)


def multiproof_cases(n: int) -> list[list[int]]:
    rng = random.Random(n)
    subsets = [[0], [n - 1], list(range(n))]
    subsets += [rng.sample(range(n), rng.randint(1, n)) for _ in range(4)]
    return subsets


@pytest.mark.parametrize("n", ON_CHAIN_SIZES)
def test_leaf_hash_and_proofs_verify_on_chain(harness, n):
    entries = make_entries(n, seed=n)
    tree = BatchMerkleTree(entries)
    for i, entry in enumerate(entries):
        leaf = tree.leaf_hash(i)
        assert harness.leafHash(*entry) == leaf
        assert harness.verify(tree.proof(i), tree.root, leaf) is True
        assert harness.verify(tree.proof(i), tree.root, tampered(leaf)) is False
    if n > 1:
        proof = tree.proof(0)
        proof[-1] = tampered(proof[-1])
        assert harness.verify(proof, tree.root, tree.leaf_hash(0)) is False


@pytest.mark.parametrize("n", ON_CHAIN_SIZES)
def test_multiproofs_verify_on_chain(harness, n):
    tree = BatchMerkleTree(make_entries(n, seed=n))
    for indices in multiproof_cases(n):
        multiproof = tree.multiproof(indices)
        leaves = [harness.leafHash(*entry) for entry in multiproof.entries]
        assert leaves == [leaf_hash(entry) for entry in multiproof.entries]
        assert harness.multiProofVerify(multiproof.proof, multiproof.flags, tree.root, leaves) is True
        if multiproof.proof:
            proof = list(multiproof.proof)
            proof[0] = tampered(proof[0])
            assert harness.multiProofVerify(proof, multiproof.flags, tree.root, leaves) is False
            assert not verify_multiproof(tree.root, leaves, proof, multiproof.flags)
        tampered_leaves = [tampered(leaves[0])] + leaves[1:]
        assert harness.multiProofVerify(multiproof.proof, multiproof.flags, tree.root, tampered_leaves) is False


def test_inconsistent_multiproof_reverts_on_chain_where_python_raises(harness):
    tree = BatchMerkleTree(make_entries(7, seed=7))
    multiproof = tree.multiproof([1, 5])
    leaves = [leaf_hash(entry) for entry in multiproof.entries]
    short_proof = multiproof.proof[:-1]
    with pytest.raises(InvalidMultiproofError):
        verify_multiproof(tree.root, leaves, short_proof, multiproof.flags)
    # The library's error is not in the harness ABI, so Ape reports it by its selector.
    selector = keccak(b"MerkleProofInvalidMultiproof()")[:4].hex()
    with pytest.raises(ContractLogicError, match=f"custom error 0x{selector}"):
        harness.multiProofVerify(short_proof, multiproof.flags, tree.root, leaves)
