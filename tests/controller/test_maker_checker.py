"""Maker-checker minting: a minter opens (recipient, amount, depositRef); k distinct approvers (k by amount tier,
never the requester, no role bypasses it) re-state recipient and amount; then anyone executes. The deposit
reference is the request id and is used up forever when the request is opened."""

import pytest

from kgst.merkle import BatchMerkleTree
from tests.controller.helpers import (
    APPROVER_ROLE,
    MINTER_A_ALLOWANCE,
    MINTER_A_WINDOW,
    MINTER_ROLE,
    REQUEST_TTL,
    TIYIN,
    ZERO32,
    ZERO_ADDRESS,
    Ev,
    Kind,
    Status,
    Transfer,
    addr,
    approve_all,
    approved_request,
    as_admin,
    assert_events,
    at,
    attest,
    decoded,
    fresh_ref,
    head_time,
    mint,
    open_request,
    record_gas,
    reverts,
    status_tuple,
    unauthorized,
)
from tests.suite import som

REQUEST_FIELDS = ("kind", "status", "requester", "recipient", "amount", "expiresAt", "approvals", "approvalsRequired",
                  "entryCount", "executedCount", "executedAmount")


def request_view(s, ref) -> dict:
    return dict(zip(REQUEST_FIELDS, s.controller.getRequest(ref)))


# --- the happy path, every event ----------------------------------------------------------------------------------


def test_request_approve_execute_mints_and_emits_every_event(s):
    c, token, recipient, amount = s.controller, s.token, s.holders[0], som("250000.50")  # tier 2
    ref = fresh_ref()
    t = head_time(s) + 10
    at(s, t)
    requested = c.requestMint(recipient, amount, ref, sender=s.minter)
    assert_events(requested, [Ev(c, "MintRequested", depositRef=ref, requester=addr(s.minter), recipient=addr(recipient),
                                 amount=amount, expiresAt=t + REQUEST_TTL)])
    assert request_view(s, ref) == dict(
        kind=Kind.SINGLE, status=Status.PENDING, requester=addr(s.minter), recipient=addr(recipient), amount=amount,
        expiresAt=t + REQUEST_TTL, approvals=0, approvalsRequired=2, entryCount=0, executedCount=0, executedAmount=0)
    assert c.depositRefUsed(ref)

    for i, approver in enumerate(s.approvers[:2], start=1):
        approved = c.approveMint(ref, recipient, amount, sender=approver)
        assert_events(approved, [Ev(c, "MintApproved", requestId=ref, approver=addr(approver), approvals=i)])
        assert c.hasApproved(ref, approver)
        assert request_view(s, ref)["approvals"] == i
    assert not c.hasApproved(ref, s.approvers[2])

    executed = c.executeMint(ref, sender=s.outsiders[0])
    assert_events(executed, [
        Transfer(token, ZERO_ADDRESS, recipient, amount),
        Ev(c, "MintExecuted", depositRef=ref, recipient=addr(recipient), amount=amount),
    ])
    assert token.balanceOf(recipient) == amount
    assert token.totalSupply() == amount
    assert request_view(s, ref)["status"] == Status.EXECUTED
    # (allowance, window limit, window used, window available)
    assert status_tuple(c.minterStatus(s.minter)) == (MINTER_A_ALLOWANCE - amount, MINTER_A_WINDOW, amount, MINTER_A_WINDOW - amount)


def test_gas_request_approve_and_execute_to_a_new_holder(s):
    recipient, amount = s.holders[1], som("1000")
    assert s.token.balanceOf(recipient) == 0
    ref, requested = open_request(s, recipient, amount)
    approved = s.controller.approveMint(ref, recipient, amount, sender=s.approvers[0])
    executed = s.controller.executeMint(ref, sender=s.outsiders[0])
    record_gas("requestMint", requested.gas_used)
    record_gas("approveMint (1st approval)", approved.gas_used)
    record_gas("executeMint to a new holder (tier 1, 1 approval)", executed.gas_used)
    # Ceilings that flag a regression (measured: see the run summary).
    assert requested.gas_used < 110_000 and approved.gas_used < 80_000 and executed.gas_used < 150_000


def test_execution_is_permissionless_once_approved(s):
    stranger = s.outsiders[1]  # holds no role anywhere
    ref = approved_request(s, s.holders[0], som(5))
    receipt = s.controller.executeMint(ref, sender=stranger)
    assert [e[1] for e in decoded(receipt)] == ["Transfer", "MintExecuted"]
    assert s.token.balanceOf(s.holders[0]) == som(5)


def test_only_minters_open_requests(s):
    for account in (s.approvers[0], s.guardian, s.desk, s.holders[0], s.deployer, s.governance):
        with unauthorized(account, MINTER_ROLE):
            s.controller.requestMint(s.holders[0], som(1), fresh_ref(), sender=account)
        with unauthorized(account, MINTER_ROLE):
            s.controller.requestBatchMint(fresh_ref("ROOT"), 2, som(2), sender=account)


def test_only_approvers_approve(s):
    ref, _ = open_request(s, s.holders[0], som(1))
    root = fresh_ref("ROOT")
    s.controller.requestBatchMint(root, 2, som(2), sender=s.minter)
    for account in (s.minters[1], s.guardian, s.desk, s.holders[0], s.deployer, s.governance):
        with unauthorized(account, APPROVER_ROLE):
            s.controller.approveMint(ref, s.holders[0], som(1), sender=account)
        with unauthorized(account, APPROVER_ROLE):
            s.controller.approveBatchMint(root, 2, som(2), sender=account)


# --- the deposit reference is single-use forever ------------------------------------------------------------------


def _used_ref(s, how: str) -> bytes:
    """A deposit reference whose request was executed / cancelled / left to expire / is still pending."""
    ref = approved_request(s, s.holders[0], som(10))
    if how == "executed":
        s.controller.executeMint(ref, sender=s.outsiders[0])
    elif how == "cancelled":
        s.controller.cancelRequest(ref, sender=s.minter)
    elif how == "expired":
        s.time_travel(REQUEST_TTL + 1)
        assert request_view(s, ref)["status"] == Status.EXPIRED
    return ref


@pytest.mark.parametrize("how", ["executed", "cancelled", "expired", "pending"])
def test_deposit_reference_cannot_be_requested_again(s, how):
    ref = _used_ref(s, how)
    assert s.controller.depositRefUsed(ref)
    for minter in s.minters:  # neither the same minter nor another one
        with reverts("DepositRefAlreadyUsed", depositRef=ref):
            s.controller.requestMint(s.holders[1], som(10), ref, sender=minter)


@pytest.mark.parametrize("how", ["executed", "cancelled", "expired", "pending"])
def test_deposit_reference_cannot_come_back_as_a_batch_entry(s, how):
    ref = _used_ref(s, how)
    tree = BatchMerkleTree([(addr(s.holders[1]), som(10), ref), (addr(s.holders[2]), som(20), fresh_ref())])
    s.controller.requestBatchMint(tree.root, 2, som(30), sender=s.minters[1])
    s.controller.approveBatchMint(tree.root, 2, som(30), sender=s.approvers[0])
    entries, proof, flags = tree.multiproof([0, 1])
    with reverts("DepositRefAlreadyUsed", depositRef=ref):
        s.controller.executeBatchChunk(tree.root, entries, proof, flags, sender=s.outsiders[0])


# --- approvers re-state what is minted; distinct; never the requester ---------------------------------------------


@pytest.mark.parametrize(
    "what, restated",
    [
        ("another recipient", lambda s, amount: (s.holders[1], amount)),
        ("one tiyin more", lambda s, amount: (s.holders[0], amount + TIYIN)),
        ("one tiyin less", lambda s, amount: (s.holders[0], amount - TIYIN)),
        ("one wei more", lambda s, amount: (s.holders[0], amount + 1)),
        ("100x (decimals slip)", lambda s, amount: (s.holders[0], amount * 100)),
    ],
)
def test_approval_must_restate_recipient_and_amount(s, what, restated):
    amount = som("5000.25")
    ref, _ = open_request(s, s.holders[0], amount)
    recipient, stated = restated(s, amount)
    with reverts("ApprovalMismatch", requestId=ref):
        s.controller.approveMint(ref, recipient, stated, sender=s.approvers[0])
    assert request_view(s, ref)["approvals"] == 0
    assert not s.controller.hasApproved(ref, s.approvers[0])


def test_an_approver_counts_once(s):
    amount = som("500000")  # tier 2
    ref, _ = open_request(s, s.holders[0], amount)
    s.controller.approveMint(ref, s.holders[0], amount, sender=s.approvers[0])
    with reverts("AlreadyApproved", requestId=ref, approver=addr(s.approvers[0])):
        s.controller.approveMint(ref, s.holders[0], amount, sender=s.approvers[0])
    with reverts("NotEnoughApprovals", requestId=ref, approvals=1, required=2):
        s.controller.executeMint(ref, sender=s.approvers[0])


def test_requester_cannot_approve_even_when_it_also_holds_the_approver_role(s):
    minter = s.minter
    receipt = as_admin(s, s.controller.grantRole, APPROVER_ROLE, minter)  # through the timelock
    assert ("RoleGranted", {"role": APPROVER_ROLE, "account": addr(minter), "sender": addr(s.timelock)}) in [
        (name, args) for _, name, args in decoded(receipt)]
    assert s.controller.hasRole(APPROVER_ROLE, minter)

    ref, _ = open_request(s, s.holders[0], som(50), minter=minter)
    with reverts("RequesterCannotApprove", requestId=ref):
        s.controller.approveMint(ref, s.holders[0], som(50), sender=minter)
    with reverts("NotEnoughApprovals", requestId=ref, approvals=0, required=1):
        s.controller.executeMint(ref, sender=minter)

    # The role is real: it counts on another minter's request.
    other, _ = open_request(s, s.holders[0], som(50), minter=s.minters[1])
    s.controller.approveMint(other, s.holders[0], som(50), sender=minter)
    s.controller.executeMint(other, sender=minter)
    assert s.token.balanceOf(s.holders[0]) == som(50)


# --- tiers ----------------------------------------------------------------------------------------------------------

TIER_BOUNDARIES = [
    ("0.01", 1),
    ("100000.00", 1),
    ("100000.01", 2),
    ("1000000.00", 2),
    ("1000000.01", 3),
    ("10000000.00", 3),
]


@pytest.mark.parametrize("amount_som, required", TIER_BOUNDARIES)
def test_tier_boundaries_need_exactly_their_approvals(s, amount_som, required):
    amount, recipient = som(amount_som), s.holders[0]
    assert s.controller.approvalsRequired(amount) == required
    ref, _ = open_request(s, recipient, amount)
    assert request_view(s, ref)["approvalsRequired"] == required
    for given, approver in enumerate(s.approvers[: required - 1]):
        with reverts("NotEnoughApprovals", requestId=ref, approvals=given, required=required):
            s.controller.executeMint(ref, sender=s.outsiders[0])
        s.controller.approveMint(ref, recipient, amount, sender=approver)
    with reverts("NotEnoughApprovals", requestId=ref, approvals=required - 1, required=required):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    s.controller.approveMint(ref, recipient, amount, sender=s.approvers[required - 1])
    s.controller.executeMint(ref, sender=s.outsiders[0])
    assert s.token.balanceOf(recipient) == amount


# --- no bypass --------------------------------------------------------------------------------------------------------

BYPASS_CALLERS = ["guardian", "requester", "other minter", "governance EOA", "deployer", "redemption desk", "compliance"]


def _account(s, who):
    return {
        "guardian": s.guardian, "requester": s.minter, "other minter": s.minters[1], "governance EOA": s.governance,
        "deployer": s.deployer, "redemption desk": s.desk, "compliance": s.compliance, "approver": s.approvers[0],
        "holder": s.holders[0],
    }[who]


@pytest.mark.parametrize("who", BYPASS_CALLERS)
def test_no_role_executes_without_approvals(s, who):
    ref, _ = open_request(s, s.holders[0], som(1))
    with reverts("NotEnoughApprovals", requestId=ref, approvals=0, required=1):
        s.controller.executeMint(ref, sender=_account(s, who))


def test_the_admin_timelock_cannot_execute_without_approvals(s):
    ref, _ = open_request(s, s.holders[0], som(1))
    with reverts("NotEnoughApprovals", requestId=ref, approvals=0, required=1):
        as_admin(s, s.controller.executeMint, ref)
    assert s.token.totalSupply() == 0


@pytest.mark.parametrize("who", BYPASS_CALLERS + ["approver", "holder"])
def test_nothing_but_the_controller_can_call_token_mint(s, who):
    account = _account(s, who)
    with reverts("CallerNotMinter", caller=addr(account)):
        s.token.mint(account, som(1), sender=account)


def test_the_timelock_cannot_call_token_mint_either(s):
    assert s.token.minter() == addr(s.controller)
    with reverts("CallerNotMinter", caller=addr(s.timelock)):
        as_admin(s, s.token.mint, s.holders[0], som(1))


# --- expiry ----------------------------------------------------------------------------------------------------------


def test_request_is_valid_through_its_expiry_second(s):
    ref, _ = open_request(s, s.holders[0], som(7))
    expires_at = request_view(s, ref)["expiresAt"]
    at(s, expires_at - 1)
    s.controller.approveMint(ref, s.holders[0], som(7), sender=s.approvers[0])
    attest(s, som("600000000"), as_of=expires_at - 1)  # the session's attestation is too old by now
    at(s, expires_at)
    s.controller.executeMint(ref, sender=s.outsiders[0])
    assert s.token.balanceOf(s.holders[0]) == som(7)


def test_expired_request_can_be_neither_approved_nor_executed(s):
    amount = som("200000")  # needs 2
    ref, _ = open_request(s, s.holders[0], amount)
    s.controller.approveMint(ref, s.holders[0], amount, sender=s.approvers[0])
    expires_at = request_view(s, ref)["expiresAt"]
    at(s, expires_at)
    s.chain.mine()
    assert request_view(s, ref)["status"] == Status.PENDING
    at(s, expires_at + 1)
    with reverts("RequestExpired", requestId=ref, expiredAt=expires_at):
        s.controller.approveMint(ref, s.holders[0], amount, sender=s.approvers[1])
    with reverts("RequestExpired", requestId=ref, expiredAt=expires_at):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    assert request_view(s, ref)["status"] == Status.EXPIRED == 4


def test_request_ttl_is_bounded_so_expiry_can_never_wrap(s):
    """A TTL beyond MAX_REQUEST_TTL (30 days) is refused; at the bound, requests expire in the future."""
    with pytest.raises(Exception):
        as_admin(s, s.controller.setRequestTtl, 2**32 - 1)
    as_admin(s, s.controller.setRequestTtl, 30 * 24 * 3600)
    ref, receipt = open_request(s, s.holders[0], som(1))
    opened_at = s.chain.provider.get_block(receipt.block_number).timestamp
    assert request_view(s, ref)["expiresAt"] == opened_at + 30 * 24 * 3600
    s.controller.approveMint(ref, s.holders[0], som(1), sender=s.approvers[0])


# --- cancel -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["requester", "guardian"])
def test_requester_or_guardian_cancels_and_the_request_is_dead(s, by):
    canceller = s.minter if by == "requester" else s.guardian
    amount = som(300)
    ref = approved_request(s, s.holders[0], amount)  # even a fully approved request
    receipt = s.controller.cancelRequest(ref, sender=canceller)
    assert_events(receipt, [Ev(s.controller, "MintRequestCancelled", requestId=ref, by=addr(canceller))])
    assert request_view(s, ref)["status"] == Status.CANCELLED
    with reverts("RequestNotPending", requestId=ref, status=Status.CANCELLED):
        s.controller.approveMint(ref, s.holders[0], amount, sender=s.approvers[1])
    with reverts("RequestNotPending", requestId=ref, status=Status.CANCELLED):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    with reverts("RequestNotPending", requestId=ref, status=Status.CANCELLED):
        s.controller.cancelRequest(ref, sender=canceller)


@pytest.mark.parametrize("who", ["other minter", "approver", "holder", "governance EOA", "redemption desk"])
def test_nobody_else_cancels(s, who):
    ref, _ = open_request(s, s.holders[0], som(1))
    account = _account(s, who)
    with reverts("NotRequesterOrGuardian", caller=addr(account)):
        s.controller.cancelRequest(ref, sender=account)


def test_even_the_admin_timelock_cannot_cancel_a_request(s):
    ref, _ = open_request(s, s.holders[0], som(1))
    with reverts("NotRequesterOrGuardian", caller=addr(s.timelock)):
        as_admin(s, s.controller.cancelRequest, ref)


def test_executed_request_cannot_be_cancelled_and_expired_one_can(s):
    executed, _ = mint(s, s.holders[0], som(1))
    with reverts("RequestNotPending", requestId=executed, status=Status.EXECUTED):
        s.controller.cancelRequest(executed, sender=s.guardian)
    stale, _ = open_request(s, s.holders[0], som(1))
    s.time_travel(REQUEST_TTL + 1)
    s.controller.cancelRequest(stale, sender=s.minter)
    assert request_view(s, stale)["status"] == Status.CANCELLED


# --- input validation ---------------------------------------------------------------------------------------------


def test_amount_must_be_whole_tiyin_and_non_zero(s):
    c = s.controller
    for amount in (1, TIYIN - 1, som(1) + 1, som("0.015")):
        with reverts("AmountNotWholeTiyin", amount=amount):
            c.requestMint(s.holders[0], amount, fresh_ref(), sender=s.minter)
    with reverts("ZeroAmount"):
        c.requestMint(s.holders[0], 0, fresh_ref(), sender=s.minter)
    c.requestMint(s.holders[0], TIYIN, fresh_ref(), sender=s.minter)  # 0.01 som is the smallest


def test_recipient_cannot_be_zero_the_controller_or_the_token(s):
    for recipient in (ZERO_ADDRESS, addr(s.controller), addr(s.token)):
        with reverts("InvalidRecipient", recipient=recipient):
            s.controller.requestMint(recipient, som(1), fresh_ref(), sender=s.minter)


def test_deposit_reference_is_required(s):
    with reverts("MissingDepositReference"):
        s.controller.requestMint(s.holders[0], som(1), ZERO32, sender=s.minter)


def test_unknown_request(s):
    ref = fresh_ref()
    with reverts("UnknownRequest", requestId=ref):
        s.controller.approveMint(ref, s.holders[0], som(1), sender=s.approvers[0])
    with reverts("UnknownRequest", requestId=ref):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    with reverts("UnknownRequest", requestId=ref):
        s.controller.getRequest(ref)
    with reverts("UnknownRequest", requestId=ref):
        s.controller.cancelRequest(ref, sender=s.guardian)


def test_single_and_batch_requests_are_not_interchangeable(s):
    single, _ = open_request(s, s.holders[0], som(10))
    tree = BatchMerkleTree([(addr(s.holders[1]), som(10), fresh_ref())])
    s.controller.requestBatchMint(tree.root, 1, som(10), sender=s.minter)
    entries, proof, flags = tree.multiproof([0])
    with reverts("WrongRequestKind", requestId=single):
        s.controller.approveBatchMint(single, 1, som(10), sender=s.approvers[0])
    with reverts("WrongRequestKind", requestId=single):
        s.controller.executeBatchChunk(single, entries, proof, flags, sender=s.outsiders[0])
    with reverts("WrongRequestKind", requestId=tree.root):
        s.controller.approveMint(tree.root, ZERO_ADDRESS, som(10), sender=s.approvers[0])
    with reverts("WrongRequestKind", requestId=tree.root):
        s.controller.executeMint(tree.root, sender=s.outsiders[0])


# --- removing an approver or a minter ---------------------------------------------------------------------------------


def test_removing_an_approver_voids_every_pending_approval(s):
    c = s.controller
    big, small = som("200000"), som("100")
    ref_big, _ = open_request(s, s.holders[0], big)
    approve_all(s, ref_big, s.holders[0], big, s.approvers[:2])
    ref_small, _ = open_request(s, s.holders[1], small)
    approve_all(s, ref_small, s.holders[1], small, [s.approvers[2]])
    removed = s.approvers[2]

    receipt = c.removeApprover(removed, sender=s.guardian)
    assert_events(receipt, [
        Ev(c, "RoleRevoked", role=APPROVER_ROLE, account=addr(removed), sender=addr(s.guardian)),
        Ev(c, "ApprovalsVoided", newApproverEpoch=1, removedApprover=addr(removed)),
    ])
    assert c.config().approverEpoch == 1
    for ref, required in ((ref_big, 2), (ref_small, 1)):
        assert request_view(s, ref)["approvals"] == 0
        with reverts("NotEnoughApprovals", requestId=ref, approvals=0, required=required):
            c.executeMint(ref, sender=s.outsiders[0])
    assert not c.hasApproved(ref_big, s.approvers[0])
    with unauthorized(removed, APPROVER_ROLE):
        c.approveMint(ref_small, s.holders[1], small, sender=removed)

    # The remaining approvers (including those whose earlier approval was voided) approve again.
    for i, approver in enumerate(s.approvers[:2], start=1):
        assert_events(c.approveMint(ref_big, s.holders[0], big, sender=approver),
                      [Ev(c, "MintApproved", requestId=ref_big, approver=addr(approver), approvals=i)])
    c.approveMint(ref_small, s.holders[1], small, sender=s.approvers[0])
    c.executeMint(ref_big, sender=s.outsiders[0])
    c.executeMint(ref_small, sender=s.outsiders[0])
    assert s.token.totalSupply() == big + small


def test_removing_a_minter_zeroes_its_allowance_so_its_pending_requests_cannot_execute(s):
    c, minter, amount = s.controller, s.minter, som(1000)
    ref = approved_request(s, s.holders[0], amount)
    receipt = c.removeMinter(minter, sender=s.guardian)
    assert_events(receipt, [
        Ev(c, "RoleRevoked", role=MINTER_ROLE, account=addr(minter), sender=addr(s.guardian)),
        Ev(c, "MinterLimitsChanged", minter=addr(minter), oldAllowance=MINTER_A_ALLOWANCE, newAllowance=0,
           oldWindowLimit=MINTER_A_WINDOW, newWindowLimit=0, by=addr(s.guardian)),
    ])
    assert status_tuple(c.minterStatus(minter)) == (0, 0, 0, 0)
    with reverts("ExceedsMinterAllowance", minter=addr(minter), amount=amount, allowance=0):
        c.executeMint(ref, sender=s.outsiders[0])
    with unauthorized(minter, MINTER_ROLE):
        c.requestMint(s.holders[0], amount, fresh_ref(), sender=minter)
    c.cancelRequest(ref, sender=minter)  # it may still withdraw its own request
    assert request_view(s, ref)["status"] == Status.CANCELLED
