"""Batch mints: one request commits many (recipient, amount, depositRef) entries by the Merkle root of
StandardMerkleTree leaves (kgst.merkle.BatchMerkleTree); approvers re-state entry count and total; entries execute in
chunks with a multiproof, each chunk under the per-tx cap, allowance, windows and reserve bound; each entry's deposit
reference is used up as it mints."""

import pytest
from eth_utils import keccak, to_checksum_address

from kgst.merkle import BatchMerkleTree
from tests.controller.helpers import (
    APPROVER_ROLE,
    MINTER_B_WINDOW,
    PER_TX_CAP,
    REQUEST_TTL,
    TIYIN,
    ZERO32,
    ZERO_ADDRESS,
    Ev,
    Kind,
    Status,
    Transfer,
    addr,
    assert_events,
    at,
    attest,
    fresh_ref,
    head_time,
    open_request,
    record_gas,
    reverts,
    unauthorized,
)
from tests.suite import som


def new_holder(i: int) -> str:
    return to_checksum_address(keccak(text=f"kgst-batch-holder-{i}")[:20])


def make_tree(amounts, recipients=None) -> BatchMerkleTree:
    recipients = recipients or [new_holder(i) for i in range(len(amounts))]
    return BatchMerkleTree([(addr(r), a, fresh_ref("BATCH")) for r, a in zip(recipients, amounts)])


def total_of(tree) -> int:
    return sum(e.amount for e in tree.entries)


def open_batch(s, tree, *, count=None, total=None, minter=None, approve=True):
    count = len(tree) if count is None else count
    total = total_of(tree) if total is None else total
    receipt = s.controller.requestBatchMint(tree.root, count, total, sender=minter or s.minter)
    if approve:
        for approver in s.approvers[: s.controller.approvalsRequired(total)]:
            s.controller.approveBatchMint(tree.root, count, total, sender=approver)
    return receipt


def chunk(s, tree, indices, sender=None):
    entries, proof, flags = tree.multiproof(indices)
    return s.controller.executeBatchChunk(tree.root, entries, proof, flags, sender=sender or s.outsiders[0])


def view(s, root) -> dict:
    return dict(zip(("kind", "status", "requester", "recipient", "amount", "expiresAt", "approvals", "approvalsRequired",
                     "entryCount", "executedCount", "executedAmount"), s.controller.getRequest(root)))


def chunk_events(s, tree, indices, executed_count, executed_amount) -> list[Ev]:
    c, token = s.controller, s.token
    entries, _, _ = tree.multiproof(indices)
    amount = sum(e.amount for e in entries)
    events = [Ev(c, "BatchChunkExecuted", merkleRoot=tree.root, entries=len(entries), amount=amount,
                 executedCount=executed_count, executedAmount=executed_amount)]
    for e in entries:  # minted in the order the multiproof consumes them
        events += [Transfer(token, ZERO_ADDRESS, e.recipient, e.amount),
                   Ev(c, "BatchEntryMinted", merkleRoot=tree.root, recipient=e.recipient, depositRef=e.deposit_ref, amount=e.amount)]
    return events


# --- the flow, every event ----------------------------------------------------------------------------------------


def test_batch_is_requested_approved_and_executed_in_chunks(s):
    c = s.controller
    amounts = [som("40000.00"), som("60000.50"), som("70000.25"), som("50000.00"), som("29999.25")]  # 250,000 som: tier 2
    tree, total = make_tree(amounts), sum(amounts)
    t = head_time(s) + 10
    at(s, t)
    requested = open_batch(s, tree, approve=False)
    assert_events(requested, [Ev(c, "BatchMintRequested", merkleRoot=tree.root, requester=addr(s.minter), entryCount=5,
                                 total=total, expiresAt=t + REQUEST_TTL)])
    assert view(s, tree.root) == dict(kind=Kind.BATCH, status=Status.PENDING, requester=addr(s.minter), recipient=ZERO_ADDRESS,
                                      amount=total, expiresAt=t + REQUEST_TTL, approvals=0, approvalsRequired=2,
                                      entryCount=5, executedCount=0, executedAmount=0)
    for i, approver in enumerate(s.approvers[:2], start=1):
        assert_events(c.approveBatchMint(tree.root, 5, total, sender=approver),
                      [Ev(c, "MintApproved", requestId=tree.root, approver=addr(approver), approvals=i)])

    first = [0, 3]
    first_amount = amounts[0] + amounts[3]
    assert_events(chunk(s, tree, first), chunk_events(s, tree, first, 2, first_amount))
    assert view(s, tree.root)["executedCount"] == 2 and view(s, tree.root)["executedAmount"] == first_amount
    assert view(s, tree.root)["status"] == Status.PENDING
    for i, e in enumerate(tree.entries):
        assert c.depositRefUsed(e.deposit_ref) == (i in first)

    rest = [1, 2, 4]
    assert_events(chunk(s, tree, rest), chunk_events(s, tree, rest, 5, total))
    assert view(s, tree.root)["status"] == Status.EXECUTED == 2
    for e in tree.entries:
        assert s.token.balanceOf(e.recipient) == e.amount
        assert c.depositRefUsed(e.deposit_ref)
    assert s.token.totalSupply() == total
    with reverts("RequestNotPending", requestId=tree.root, status=Status.EXECUTED):
        chunk(s, tree, [0])


def test_approval_restates_entry_count_and_total(s):
    tree = make_tree([som(10), som(20)])
    open_batch(s, tree, approve=False)
    for count, total in ((3, som(30)), (1, som(30)), (2, som(30) + TIYIN), (2, som(30) - TIYIN)):
        with reverts("ApprovalMismatch", requestId=tree.root):
            s.controller.approveBatchMint(tree.root, count, total, sender=s.approvers[0])
    with unauthorized(s.minter, APPROVER_ROLE):
        s.controller.approveBatchMint(tree.root, 2, som(30), sender=s.minter)
    with reverts("NotEnoughApprovals", requestId=tree.root, approvals=0, required=1):
        chunk(s, tree, [0, 1])


def test_batch_request_validation(s):
    c, tree = s.controller, make_tree([som(1)])
    with reverts("EmptyBatch"):
        c.requestBatchMint(tree.root, 0, som(1), sender=s.minter)
    with reverts("ZeroAmount"):
        c.requestBatchMint(tree.root, 1, 0, sender=s.minter)
    with reverts("AmountNotWholeTiyin", amount=som(1) + 1):
        c.requestBatchMint(tree.root, 1, som(1) + 1, sender=s.minter)
    with reverts("InvalidBatchProof", merkleRoot=ZERO32):
        c.requestBatchMint(ZERO32, 1, som(1), sender=s.minter)
    c.requestBatchMint(tree.root, 1, som(1), sender=s.minter)
    with reverts("InvalidBatchProof", merkleRoot=tree.root):  # the same root twice
        c.requestBatchMint(tree.root, 1, som(1), sender=s.minters[1])


def test_minted_entry_references_are_used_up_for_single_requests_and_other_batches(s):
    tree = make_tree([som(10), som(20)])
    open_batch(s, tree)
    chunk(s, tree, [0])
    used = tree.entries[0].deposit_ref
    with reverts("DepositRefAlreadyUsed", depositRef=used):
        s.controller.requestMint(s.holders[0], som(10), used, sender=s.minters[1])
    again = BatchMerkleTree([(addr(s.holders[0]), som(10), used)])
    open_batch(s, again, minter=s.minters[1])
    with reverts("DepositRefAlreadyUsed", depositRef=used):
        chunk(s, again, [0])
    # the same entry cannot be replayed within its own batch either
    with reverts("DepositRefAlreadyUsed", depositRef=used):
        chunk(s, tree, [0])


# --- invalid chunks -----------------------------------------------------------------------------------------------


def _tampered(s, tree, how):
    entries, proof, flags = tree.multiproof([0, 2])
    entries = [tuple(e) for e in entries]
    r, a, d = entries[0]
    if how == "amount +0.01":
        entries[0] = (r, a + TIYIN, d)
    elif how == "recipient":
        entries[0] = (addr(s.holders[5]), a, d)
    elif how == "deposit reference":
        entries[0] = (r, a, fresh_ref())
    elif how == "proof element":
        proof = [bytes(32 - 1) + b"\x01"] + proof[1:]
    elif how == "entry of another tree":
        other = make_tree([som(10), som(20), som(30), som(40)])
        entries, proof, flags = other.multiproof([0, 2])
    return entries, proof, flags


@pytest.mark.parametrize("how", ["amount +0.01", "recipient", "deposit reference", "proof element", "entry of another tree"])
def test_tampered_chunk_is_rejected_and_the_genuine_one_still_executes(s, how):
    tree = make_tree([som(10), som(20), som(30), som(40)])
    open_batch(s, tree)
    entries, proof, flags = _tampered(s, tree, how)
    with reverts("InvalidBatchProof", merkleRoot=tree.root):
        s.controller.executeBatchChunk(tree.root, entries, proof, flags, sender=s.outsiders[0])
    assert s.token.totalSupply() == 0
    chunk(s, tree, [0, 2])
    assert s.token.totalSupply() == som(40)


def test_empty_chunk_is_rejected(s):
    tree = make_tree([som(10), som(20)])
    open_batch(s, tree)
    # An empty multiproof whose proof is the root itself verifies against any root: the contract must refuse it.
    with reverts("EmptyBatch"):
        s.controller.executeBatchChunk(tree.root, [], [tree.root], [], sender=s.outsiders[0])
    with reverts("MerkleProofInvalidMultiproof"):
        s.controller.executeBatchChunk(tree.root, [], [], [], sender=s.outsiders[0])


def test_more_entries_than_the_declared_count_are_refused(s):
    tree = make_tree([som(10), som(20), som(30), som(40)])
    open_batch(s, tree, count=3)
    with reverts("BatchTooLarge", entries=4, entryCount=3, alreadyExecuted=0):
        chunk(s, tree, [0, 1, 2, 3])
    chunk(s, tree, [0, 1])
    with reverts("BatchTooLarge", entries=2, entryCount=3, alreadyExecuted=2):
        chunk(s, tree, [2, 3])


def test_entries_must_add_up_to_the_approved_total(s):
    low = make_tree([som(10), som(20), som(30)])
    open_batch(s, low, total=som(50))  # declared below the entries' sum
    chunk(s, low, [0, 1])
    with reverts("BatchTotalMismatch", executedAmount=som(60), total=som(50)):
        chunk(s, low, [2])

    high = make_tree([som(10), som(20), som(30)])
    open_batch(s, high, total=som(70))  # declared above: the last chunk cannot close the batch
    chunk(s, high, [0])
    with reverts("BatchTotalMismatch", executedAmount=som(60), total=som(70)):
        chunk(s, high, [1, 2])
    assert view(s, high.root)["status"] == Status.PENDING


def test_entries_are_validated_like_single_requests(s):
    for bad, error in (
        ((addr(s.controller), som(1)), ("InvalidRecipient", dict(recipient=addr(s.controller)))),
        ((addr(s.holders[0]), 1), ("AmountNotWholeTiyin", dict(amount=1))),
    ):
        tree = BatchMerkleTree([(bad[0], bad[1], fresh_ref()), (addr(s.holders[1]), som(1), fresh_ref())])
        open_batch(s, tree, total=bad[1] + som(1) if bad[1] % TIYIN == 0 else som(2))
        with reverts(error[0], **error[1]):
            chunk(s, tree, [0, 1])


def test_a_chunk_with_a_used_reference_reverts_and_leaves_the_other_entries_executable(s):
    tree = make_tree([som(10), som(20), som(30)])
    open_batch(s, tree)
    taken = tree.entries[1].deposit_ref
    open_request(s, s.holders[0], som(20), taken, minter=s.minters[1])  # the reference gets used elsewhere first
    with reverts("DepositRefAlreadyUsed", depositRef=taken):
        chunk(s, tree, [0, 1, 2])
    chunk(s, tree, [0, 2])
    assert view(s, tree.root)["executedCount"] == 2
    assert view(s, tree.root)["status"] == Status.PENDING  # can never complete; the guardian may cancel it
    s.controller.cancelRequest(tree.root, sender=s.guardian)
    assert s.token.totalSupply() == som(40)


# --- limits and reserves per chunk ------------------------------------------------------------------------------------


def test_per_tx_cap_applies_to_each_chunk_total(s):
    tree = make_tree([som(6_000_000), som(5_000_000), som(4_000_000)])  # 15M: tier 3
    open_batch(s, tree)
    with reverts("ExceedsPerTransactionCap", amount=som(11_000_000), cap=PER_TX_CAP):
        chunk(s, tree, [0, 1])
    chunk(s, tree, [0])
    chunk(s, tree, [1, 2])  # 9M
    assert view(s, tree.root)["status"] == Status.EXECUTED


def test_minter_window_applies_to_the_requesters_chunks(s):
    b = s.minters[1]  # window 5M
    tree = make_tree([som(3_000_000), som(3_000_000)])
    open_batch(s, tree, minter=b)
    with reverts("ExceedsMinterWindow", minter=addr(b), amount=som(6_000_000), available=MINTER_B_WINDOW):
        chunk(s, tree, [0, 1])
    chunk(s, tree, [0])
    with reverts("ExceedsMinterWindow", minter=addr(b), amount=som(3_000_000), available=som(2_000_000)):
        chunk(s, tree, [1])


def test_reserve_bound_applies_to_each_chunk(s):
    attest(s, som(10_000_000))
    tree = make_tree([som(6_000_000), som(5_000_000)])
    open_batch(s, tree)
    chunk(s, tree, [0])
    with reverts("ExceedsReserves", supply=som(6_000_000), amount=som(5_000_000), mintableSupply=som(10_000_000)):
        chunk(s, tree, [1])
    assert s.token.totalSupply() == som(6_000_000)


def test_expired_or_cancelled_batch_cannot_execute(s):
    tree = make_tree([som(10), som(20)])
    open_batch(s, tree)
    expires_at = view(s, tree.root)["expiresAt"]
    at(s, expires_at + 1)
    with reverts("RequestExpired", requestId=tree.root, expiredAt=expires_at):
        chunk(s, tree, [0])
    s.controller.cancelRequest(tree.root, sender=s.minter)
    with reverts("RequestNotPending", requestId=tree.root, status=Status.CANCELLED):
        chunk(s, tree, [0])
    # Unminted entries' references stay free (a batch uses a reference only as the entry mints) ...
    assert not s.controller.depositRefUsed(tree.entries[0].deposit_ref)
    # ... but the same set of entries has the same root, which cannot be requested again.
    with reverts("InvalidBatchProof", merkleRoot=tree.root):
        s.controller.requestBatchMint(tree.root, 2, som(30), sender=s.minter)


# --- size ------------------------------------------------------------------------------------------------------------


def test_a_100_entry_chunk_executes(s):
    tree = make_tree([som(1_000)] * 100)  # 100,000 som: tier 1
    open_batch(s, tree)
    receipt = chunk(s, tree, list(range(100)))
    record_gas("executeBatchChunk, 100 new holders (total)", receipt.gas_used)
    record_gas("executeBatchChunk, 100 new holders (per entry)", receipt.gas_used // 100)
    assert view(s, tree.root)["status"] == Status.EXECUTED
    assert len([e for e in receipt.decode_logs() if e.event_name == "BatchEntryMinted"]) == 100
    assert receipt.gas_used < 10_000_000


def test_a_300_entry_batch_completes_in_chunks(s):
    tree = make_tree([som(1_000)] * 300)  # 300,000 som: tier 2
    open_batch(s, tree)
    order = list(range(300))
    for n, start in enumerate(range(0, 300, 100), start=1):
        chunk(s, tree, order[start:start + 100])
        assert view(s, tree.root)["executedCount"] == 100 * n
    assert view(s, tree.root)["status"] == Status.EXECUTED
    assert s.token.totalSupply() == som(300_000)
    assert all(s.controller.depositRefUsed(e.deposit_ref) for e in tree.entries[::37])
