"""The incidents in /work/shared/design/anchors.md, replayed against KGST: each one must fail safely, with the
control that stops it named by the error."""

from kgst.merkle import BatchMerkleTree
from tests.controller.helpers import (
    APPROVER_ROLE,
    ATTESTED_RESERVES,
    DEFAULT_ADMIN_ROLE,
    MAX_ATTESTATION_AGE,
    MINTER_A_ALLOWANCE,
    MINTER_ROLE,
    PER_TX_CAP,
    Ev,
    addr,
    approved_request,
    as_admin,
    as_admin_batch,
    assert_events,
    at,
    attest,
    execute,
    fresh_payout,
    fresh_ref,
    mint,
    open_request,
    reverts,
    schedule,
    unauthorized,
)
from tests.suite import TIYIN, som

# --- (a) fat finger / decimals ----------------------------------------------------------------------------------------


def test_pyusd_300t_fat_finger_is_refused_by_the_cap_and_even_with_a_raised_cap_by_the_reserves(s):
    """Paxos minted 300T PYUSD instead of 300M: the same slip (x 10^6) on a 5M-som deposit."""
    intended, slipped = som(5_000_000), som(5_000_000) * 10**6  # 5 trillion som
    with reverts("ExceedsPerTransactionCap", amount=slipped, cap=PER_TX_CAP):
        s.controller.requestMint(s.holders[0], slipped, fresh_ref(), sender=s.minter)

    # Even if governance had raised every limit far above the slip, the reserve bound still refuses it.
    huge = som(6_000_000) * 10**6
    c = s.controller
    as_admin_batch(s, [(c.setPerTxCap, huge), (c.setGlobalWindowLimit, huge), (c.setMinterLimits, s.minter, huge, huge)])
    attest(s, ATTESTED_RESERVES)  # keep it fresh after the timelock wait
    ref = approved_request(s, s.holders[0], slipped)  # three approvers missed it too
    with reverts("ExceedsReserves", supply=0, amount=slipped, mintableSupply=ATTESTED_RESERVES):
        c.executeMint(ref, sender=s.outsiders[0])
    assert s.token.totalSupply() == 0
    mint(s, s.holders[0], intended)


def test_tether_5b_decimals_error_is_refused_whichever_way_the_unit_slips(s):
    """Tether issued 5B instead of 50M ('an issue with the token decimals')."""
    intended = som(50_000_000)
    # Too many decimals: 50M written with 6 extra zeros is far above the per-tx cap (and the reserves).
    with reverts("ExceedsPerTransactionCap", amount=intended * 10**6, cap=PER_TX_CAP):
        s.controller.requestMint(s.holders[0], intended * 10**6, fresh_ref(), sender=s.minter)
    # Too few: 50M in a 6-decimal token's units is 0.00005 som, not a whole tiyin.
    with reverts("AmountNotWholeTiyin", amount=50_000_000 * 10**6):
        s.controller.requestMint(s.holders[0], 50_000_000 * 10**6, fresh_ref(), sender=s.minter)
    # A 100x slip that stays under the cap meets the checker, who re-states the amount of the bank deposit.
    deposit, slipped = som(50_000), som(5_000_000)
    ref, _ = open_request(s, s.holders[0], slipped)
    with reverts("ApprovalMismatch", requestId=ref):
        s.controller.approveMint(ref, s.holders[0], deposit, sender=s.approvers[0])


# --- (b) one compromised key ------------------------------------------------------------------------------------------


def test_gala_a_compromised_minter_key_alone_cannot_mint(s):
    """Gala Games: one privileged minter key minted 5B GALA."""
    attacker = s.minter
    ref, _ = open_request(s, attacker, som(1), minter=attacker)
    with unauthorized(attacker, APPROVER_ROLE):
        s.controller.approveMint(ref, attacker, som(1), sender=attacker)
    with reverts("NotEnoughApprovals", requestId=ref, approvals=0, required=1):
        s.controller.executeMint(ref, sender=attacker)
    with reverts("CallerNotMinter", caller=addr(attacker)):
        s.token.mint(attacker, som(1), sender=attacker)
    assert s.token.totalSupply() == 0


def test_a_compromised_approver_key_alone_cannot_mint(s):
    attacker = s.approvers[0]
    with unauthorized(attacker, MINTER_ROLE):
        s.controller.requestMint(attacker, som(1), fresh_ref(), sender=attacker)
    with reverts("CallerNotMinter", caller=addr(attacker)):
        s.token.mint(attacker, som(1), sender=attacker)


def test_a_compromised_minter_plus_one_approver_cannot_go_above_tier_one(s):
    minter, approver, amount = s.minter, s.approvers[0], som("100000.01")
    ref, _ = open_request(s, minter, amount, minter=minter)
    s.controller.approveMint(ref, minter, amount, sender=approver)
    with reverts("NotEnoughApprovals", requestId=ref, approvals=1, required=2):
        s.controller.executeMint(ref, sender=minter)


def test_stablr_compromised_minter_that_is_also_an_approver_plus_one_approver_cannot_pass_tier_three(s):
    """StablR: a 1-of-n multisig let one key add owners and mint. Here the minter key also holds APPROVER_ROLE and
    one more approver key is compromised: the requester never counts, so two keys give one approval."""
    minter, approver, amount = s.minter, s.approvers[0], som(5_000_000)
    as_admin(s, s.controller.grantRole, APPROVER_ROLE, minter)
    ref, _ = open_request(s, minter, amount, minter=minter)
    with reverts("RequesterCannotApprove", requestId=ref):
        s.controller.approveMint(ref, minter, amount, sender=minter)
    s.controller.approveMint(ref, minter, amount, sender=approver)
    with reverts("NotEnoughApprovals", requestId=ref, approvals=1, required=3):
        s.controller.executeMint(ref, sender=minter)


def test_stablr_adding_signers_waits_in_the_timelock_and_the_guardian_cancels_it(s):
    """StablR's attacker added decoy owners: here adding an approver is a risk-raising change behind the timelock."""
    decoy = s.outsiders[0]
    for key in (s.minter, s.approvers[0]):
        with unauthorized(key, DEFAULT_ADMIN_ROLE):
            s.controller.grantRole(APPROVER_ROLE, decoy, sender=key)
        with unauthorized(key, DEFAULT_ADMIN_ROLE):
            s.controller.addMinter(decoy, som(1), som(1), sender=key)
    op = schedule(s, s.controller, bytes(s.controller.grantRole.encode_input(APPROVER_ROLE, decoy)))
    s.timelock.cancel(op.op_id, sender=s.guardian)
    s.time_travel(60)
    with reverts("TimelockUnexpectedOperationState", operationId=op.op_id, expectedStates=(1 << 2).to_bytes(32, "big")):
        execute(s, op)
    assert not s.controller.hasRole(APPROVER_ROLE, decoy)


def test_a_compromised_minter_is_bounded_by_its_window_and_allowance_even_with_approvals(s):
    """Gala/Resolv: even a fully approved flood from one minter stops at its window (here 5M for test:7)."""
    b = s.minters[1]
    mint(s, s.holders[0], som(5_000_000), minter=b)
    ref = approved_request(s, s.holders[0], som("0.01"), minter=b)
    with reverts("ExceedsMinterWindow", minter=addr(b), amount=som("0.01"), available=0):
        s.controller.executeMint(ref, sender=b)


def test_guardian_halts_minting_instantly_and_only_the_timelock_resumes(s):
    c = s.controller
    pending = approved_request(s, s.holders[0], som(100))
    receipt = c.haltMinting(sender=s.guardian)
    assert_events(receipt, [Ev(c, "MintingHalted", by=addr(s.guardian))])
    with reverts("MintingIsHalted"):
        c.requestMint(s.holders[0], som(1), fresh_ref(), sender=s.minter)
    with reverts("MintingIsHalted"):
        c.executeMint(pending, sender=s.outsiders[0])
    tree = BatchMerkleTree([(addr(s.holders[1]), som(1), fresh_ref())])
    with reverts("MintingIsHalted"):
        c.requestBatchMint(tree.root, 1, som(1), sender=s.minter)
    for key in (s.guardian, s.minter, s.approvers[0], s.holders[0]):
        with unauthorized(key, DEFAULT_ADMIN_ROLE):
            c.resumeMinting(sender=key)
    resumed = as_admin(s, c.resumeMinting)
    assert_events(resumed, [Ev(c, "MintingResumed", by=addr(s.timelock))], only=c)
    c.executeMint(pending, sender=s.outsiders[0])
    assert s.token.balanceOf(s.holders[0]) == som(100)


def test_bsc_token_hub_forged_proof_cannot_mint_from_a_batch(s):
    """BSC Token Hub: a forged Merkle proof minted 2M BNB. A chunk must prove its entries against the approved root."""
    tree = BatchMerkleTree([(addr(s.holders[0]), som(10), fresh_ref()), (addr(s.holders[1]), som(20), fresh_ref())])
    s.controller.requestBatchMint(tree.root, 2, som(30), sender=s.minter)
    s.controller.approveBatchMint(tree.root, 2, som(30), sender=s.approvers[0])
    forged = [(addr(s.outsiders[0]), som(30), fresh_ref())]
    with reverts("InvalidBatchProof", merkleRoot=tree.root):  # a forged entry with a plausible one-step proof
        s.controller.executeBatchChunk(tree.root, forged, [tree.leaf_hash(0)], [False], sender=s.outsiders[0])
    # The empty-proof trick (proof = [root], no leaves) verifies against any root; the contract refuses it.
    with reverts("EmptyBatch"):
        s.controller.executeBatchChunk(tree.root, [], [tree.root], [], sender=s.outsiders[0])
    assert s.token.totalSupply() == 0


# --- (c) reserves not matching supply ---------------------------------------------------------------------------------


def test_binance_peg_busd_supply_never_exceeds_attested_reserves(s):
    """B-peg BUSD/USDC were at times not fully backed: every mint here is checked against the latest attestation."""
    attest(s, som(2_000_000))
    mint(s, s.holders[0], som(1_500_000))
    ref = approved_request(s, s.holders[1], som("500000.01"))
    with reverts("ExceedsReserves", supply=som(1_500_000), amount=som("500000.01"), mintableSupply=som(2_000_000)):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    assert s.token.totalSupply() <= s.registry.latestReserves()[0]


def test_resolv_unbacked_mint_is_impossible_without_a_fresh_attestation(s):
    """Resolv USR lacked an on-chain collateral check: here a stale attestation blocks every mint."""
    as_of = s.registry.latestReserves()[1]
    ref = approved_request(s, s.holders[0], som(1_000))
    at(s, as_of + MAX_ATTESTATION_AGE + 1)
    with reverts("ReserveAttestationStale", asOf=as_of, maxAge=MAX_ATTESTATION_AGE):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    assert s.token.totalSupply() == 0
    assert s.controller.minterStatus(s.minter)[0] == MINTER_A_ALLOWANCE  # nothing was used up


def test_reserves_falling_below_supply_block_minting_but_not_redemption(s):
    mint(s, s.holders[0], som(1_000_000))
    attest(s, som(999_999))
    ref = approved_request(s, s.holders[1], TIYIN)
    with reverts("ExceedsReserves", supply=som(1_000_000), amount=TIYIN, mintableSupply=som(999_999)):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    s.token.approve(s.controller, som(2), sender=s.holders[0])
    s.controller.redeem(som(2), fresh_payout(), sender=s.holders[0])  # supply 999,998 < reserves again
    s.controller.executeMint(ref, sender=s.outsiders[0])
