"""Merkle trees of mint batches, byte-for-byte compatible with OpenZeppelin's StandardMerkleTree.

A batch of mints (recipient, amount, deposit reference) is committed on chain as one Merkle root; each mint is
then executed with a proof, or several at once with a multiproof, that OpenZeppelin Contracts 5.x
MerkleProof.sol checks. The tree must therefore be built exactly as the JS library @openzeppelin/merkle-tree
builds it (so roots can be checked independently with that library) and proofs must verify exactly as the
contract verifies them:

- leaf = keccak256(keccak256(abi.encode(address recipient, uint256 amount, bytes32 depositRef))): hashing twice
  means no leaf can be mistaken for an inner node (whose preimage is 64 bytes, like one leaf's abi.encode).
- inner node = keccak256 of its two children in ascending order (commutative), so proofs need no left/right bits.
- the tree is an array of 2n-1 nodes: node i has children 2i+1 and 2i+2, the root is node 0, and the leaves,
  sorted by hash, fill the end of the array in reverse order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from eth_abi import encode
from eth_utils import keccak

from kgst.addresses import parse_address

LEAF_TYPES = ("address", "uint256", "bytes32")
_MAX_UINT256 = 2**256 - 1


class MerkleError(ValueError):
    """A batch or a proof request that cannot make a valid tree or proof; the message says what was wrong."""


class InvalidMultiproofError(MerkleError):
    """Proof and flag lengths are inconsistent: where MerkleProof.sol reverts with MerkleProofInvalidMultiproof."""


class BatchEntry(NamedTuple):
    """One mint of a batch: `amount` token base units to `recipient` against the deposit `deposit_ref`."""

    recipient: str
    amount: int
    deposit_ref: bytes


class Multiproof(NamedTuple):
    """What a contract needs to verify several entries at once, in the order it must receive them."""

    entries: list[BatchEntry]
    proof: list[bytes]
    flags: list[bool]


def leaf_hash(entry: BatchEntry) -> bytes:
    """The leaf of `entry`: keccak256(bytes.concat(keccak256(abi.encode(recipient, amount, depositRef))))."""
    return keccak(keccak(encode(LEAF_TYPES, [entry.recipient, entry.amount, entry.deposit_ref])))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """An inner node: Hashes.commutativeKeccak256, keccak256 of the two children in ascending order."""
    return keccak(a + b if a < b else b + a)


def _parent(i: int) -> int:
    return (i - 1) // 2


def _sibling(i: int) -> int:
    # Left children have odd indices, right children even ones.
    return i + 1 if i % 2 else i - 1


def make_tree(leaves: Sequence[bytes]) -> list[bytes]:
    """The node array of @openzeppelin/merkle-tree's makeMerkleTree: `leaves` fill the end in reverse order."""
    if not leaves:
        raise MerkleError("cannot build a Merkle tree without leaves")
    tree: list[bytes] = [b""] * (2 * len(leaves) - 1)
    for i, leaf in enumerate(leaves):
        tree[len(tree) - 1 - i] = leaf
    for i in range(len(tree) - 1 - len(leaves), -1, -1):
        tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
    return tree


def tree_proof(tree: Sequence[bytes], index: int) -> list[bytes]:
    """getProof: the siblings on the path from node `index` up to the root."""
    proof = []
    while index > 0:
        proof.append(tree[_sibling(index)])
        index = _parent(index)
    return proof


def tree_multiproof(tree: Sequence[bytes], indices: Sequence[int]) -> tuple[list[int], list[bytes], list[bool]]:
    """getMultiProof: (node indices in the order the leaves are consumed, proof, flags).

    Nodes are processed as a queue from the deepest, right-most one; a flag is true when a node's sibling is
    next in the queue (both are known, so they are merged) and false when the sibling comes from the proof.
    """
    order = sorted(indices, reverse=True)
    queue = list(order)
    proof: list[bytes] = []
    flags: list[bool] = []
    while queue and queue[0] > 0:
        node = queue.pop(0)
        sibling = _sibling(node)
        if queue and queue[0] == sibling:
            flags.append(True)
            queue.pop(0)
        else:
            flags.append(False)
            proof.append(tree[sibling])
        queue.append(_parent(node))
    if not order:
        # Proving no leaves at all: the library (and MerkleProof.sol) accept the root itself as the proof.
        proof.append(tree[0])
    return order, proof, flags


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """MerkleProof.processProof: the root that `proof` leads to from `leaf`."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def verify(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """MerkleProof.verify: whether `proof` proves `leaf` to be in the tree of `root`."""
    return process_proof(leaf, proof) == root


def process_multiproof(leaves: Sequence[bytes], proof: Sequence[bytes], flags: Sequence[bool]) -> bytes:
    """MerkleProof.processMultiProof: the root rebuilt from `leaves`, `proof` and `flags`.

    Raises InvalidMultiproofError exactly where the contract reverts: when the lengths do not add up, or when
    the flags do not consume every proof element (the check that OpenZeppelin added after the 4.7-4.9.1 bug).
    Together these two checks also rule out every out-of-range read the contract could panic on.
    """
    if len(leaves) + len(proof) != len(flags) + 1:
        raise InvalidMultiproofError(
            f"invalid multiproof: {len(leaves)} leaves + {len(proof)} proof elements must equal "
            f"{len(flags)} flags + 1"
        )
    if flags and flags.count(False) != len(proof):
        raise InvalidMultiproofError(
            f"invalid multiproof: {flags.count(False)} false flags must consume all "
            f"{len(proof)} proof elements"
        )
    if not flags:
        return leaves[0] if leaves else proof[0]
    queue = list(leaves)
    siblings = iter(proof)
    for flag in flags:
        a = queue.pop(0)
        b = queue.pop(0) if flag else next(siblings)
        queue.append(hash_pair(a, b))
    return queue[-1]


def verify_multiproof(root: bytes, leaves: Sequence[bytes], proof: Sequence[bytes], flags: Sequence[bool]) -> bool:
    """MerkleProof.multiProofVerify: whether `leaves` (leaf hashes, in multiproof order) are in the tree of `root`."""
    return process_multiproof(leaves, proof, flags) == root


class BatchMerkleTree:
    """The Merkle tree of a mint batch, as StandardMerkleTree.of(entries, ["address", "uint256", "bytes32"]) builds it.

    Entries keep their input order for `leaf_hash`, `proof` and `multiproof`; the tree itself orders leaves by
    hash. Deposit references must be unique: each deposit backs exactly one mint, and the contract refuses a
    reference used twice, so a duplicate is an error in the batch, found here before it is committed on chain.
    """

    def __init__(self, entries: Sequence[BatchEntry | tuple[str, int, bytes]]) -> None:
        if not entries:
            raise MerkleError("a mint batch needs at least one entry, got an empty list")
        self.entries: list[BatchEntry] = [_checked_entry(i, entry) for i, entry in enumerate(entries)]
        first_use: dict[bytes, int] = {}
        for i, entry in enumerate(self.entries):
            if entry.deposit_ref in first_use:
                raise MerkleError(
                    f"entries {first_use[entry.deposit_ref]} and {i} have the same deposit reference "
                    f"0x{entry.deposit_ref.hex()}; each deposit can back only one mint"
                )
            first_use[entry.deposit_ref] = i
        self._leaves = [leaf_hash(entry) for entry in self.entries]
        by_hash = sorted(range(len(self._leaves)), key=lambda i: self._leaves[i])
        self._tree = make_tree([self._leaves[i] for i in by_hash])
        self._node_of_entry = [0] * len(by_hash)
        for position, i in enumerate(by_hash):
            self._node_of_entry[i] = len(self._tree) - 1 - position
        self._entry_of_node = {node: i for i, node in enumerate(self._node_of_entry)}

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def root(self) -> bytes:
        """The 32-byte root that is committed on chain for this batch."""
        return self._tree[0]

    def leaf_hash(self, i: int) -> bytes:
        """The leaf hash of entry `i`."""
        return self._leaves[self._entry_index(i)]

    def proof(self, i: int) -> list[bytes]:
        """The proof of entry `i`, for MerkleProof.verify."""
        return tree_proof(self._tree, self._node_of_entry[self._entry_index(i)])

    def multiproof(self, indices: Sequence[int]) -> Multiproof:
        """A multiproof of the entries at `indices`, with the entries in the order the contract must take them."""
        checked = [self._entry_index(i) for i in indices]
        if len(set(checked)) != len(checked):
            raise MerkleError(f"cannot prove an entry twice: indices {list(indices)} contain a duplicate")
        order, proof, flags = tree_multiproof(self._tree, [self._node_of_entry[i] for i in checked])
        return Multiproof([self.entries[self._entry_of_node[node]] for node in order], proof, flags)

    def _entry_index(self, i: int) -> int:
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(self.entries):
            raise MerkleError(f"entry index {i!r} is out of range: the batch has entries 0 to {len(self.entries) - 1}")
        return i


def _checked_entry(i: int, entry: BatchEntry | tuple[str, int, bytes]) -> BatchEntry:
    """`entry` as a BatchEntry with a checksummed recipient; a ValueError says why it cannot be a mint."""
    recipient, amount, deposit_ref = entry
    recipient = parse_address(recipient, what=f"entry {i} recipient")  # AddressError, also a ValueError
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= _MAX_UINT256:
        raise MerkleError(f"entry {i} amount {amount!r} must be a positive int of token base units that fits a uint256")
    if not isinstance(deposit_ref, bytes) or len(deposit_ref) != 32:
        raise MerkleError(f"entry {i} deposit reference {deposit_ref!r} must be 32 bytes (see kgst.refs.deposit_ref)")
    return BatchEntry(recipient, amount, deposit_ref)
