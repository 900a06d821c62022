"""Redemption: a holder burns its own KGST through the controller for a som payout identified by a single-use,
non-zero payout reference, with an allowance (approve or an EIP-2612 permit in the same transaction); the redemption
desk burns KGST that holders sent to the controller address. The token never burns without the holder's consent."""

import pytest

from kgst.refs import case_ref
from tests.controller.helpers import (
    REDEMPTION_DESK_ROLE,
    ZERO32,
    ZERO_ADDRESS,
    Ev,
    Transfer,
    addr,
    assert_events,
    fresh_payout,
    head_time,
    mint,
    reverts,
    sign_permit,
    unauthorized,
)
from tests.suite import som

BALANCE = som(10_000)


@pytest.fixture
def holder(s):
    h = s.holders[0]
    mint(s, h, BALANCE)
    return h


def redeemed(s, payout, holder, amount, by) -> list[Ev]:
    return [Transfer(s.token, holder, ZERO_ADDRESS, amount),
            Ev(s.controller, "Redeemed", payoutRef=payout, holder=addr(holder), amount=amount, by=addr(by))]


def test_redeem_needs_an_allowance(s, holder):
    c, amount = s.controller, som("2500.75")
    with reverts("ERC20InsufficientAllowance", spender=addr(c), allowance=0, needed=amount):
        c.redeem(amount, fresh_payout(), sender=holder)
    s.token.approve(c, amount, sender=holder)
    payout = fresh_payout()
    receipt = c.redeem(amount, payout, sender=holder)
    assert_events(receipt, redeemed(s, payout, holder, amount, holder))
    assert s.token.balanceOf(holder) == BALANCE - amount
    assert s.token.allowance(holder, c) == 0
    assert tuple(s.token.supplyCounters()) == (BALANCE - amount, BALANCE, amount, 0)
    assert c.payoutRefUsed(payout)


def test_redeem_with_permit_in_one_transaction(s, holder):
    c, amount = s.controller, som(1_000)
    deadline = head_time(s) + 3_600
    v, r, s_ = sign_permit(s, holder, c, amount, deadline)
    payout = fresh_payout()
    receipt = c.redeemWithPermit(amount, payout, deadline, v, r, s_, sender=holder)
    assert_events(receipt, [Ev(s.token, "Approval", owner=addr(holder), spender=addr(c), value=amount)]
                  + redeemed(s, payout, holder, amount, holder))
    assert s.token.nonces(holder) == 1
    assert s.token.balanceOf(holder) == BALANCE - amount


def test_a_front_run_permit_does_not_block_the_redemption(s, holder):
    c, amount = s.controller, som(1_000)
    deadline = head_time(s) + 3_600
    v, r, s_ = sign_permit(s, holder, c, amount, deadline)
    s.token.permit(holder, c, amount, deadline, v, r, s_, sender=s.outsiders[0])  # someone submits it first
    payout = fresh_payout()
    receipt = c.redeemWithPermit(amount, payout, deadline, v, r, s_, sender=holder)
    assert_events(receipt, redeemed(s, payout, holder, amount, holder))  # the permit call failed quietly
    assert s.token.balanceOf(holder) == BALANCE - amount


def test_a_relayer_cannot_redeem_someone_elses_permit_with_its_own_payout_reference(s, holder):
    c, amount, relayer = s.controller, som(1_000), s.outsiders[1]
    deadline = head_time(s) + 3_600
    v, r, s_ = sign_permit(s, holder, c, amount, deadline)
    # redeemWithPermit only ever burns the caller's own KGST: the holder's signature does not verify for the relayer.
    with reverts("ERC20InsufficientAllowance", spender=addr(c), allowance=0, needed=amount):
        c.redeemWithPermit(amount, fresh_payout(), deadline, v, r, s_, sender=relayer)
    assert s.token.balanceOf(holder) == BALANCE
    assert s.token.nonces(holder) == 0  # the permit is still the holder's to use
    c.redeemWithPermit(amount, fresh_payout(), deadline, v, r, s_, sender=holder)


def test_an_expired_or_wrong_permit_leaves_only_the_allowance_check(s, holder):
    c, amount = s.controller, som(1_000)
    deadline = head_time(s) + 3_600
    v, r, s_ = sign_permit(s, holder, c, amount + som(1), deadline)  # signed for another value
    with reverts("ERC20InsufficientAllowance", spender=addr(c), allowance=0, needed=amount):
        c.redeemWithPermit(amount, fresh_payout(), deadline, v, r, s_, sender=holder)


def test_payout_reference_is_single_use_and_required(s, holder):
    c = s.controller
    s.token.approve(c, som(100), sender=holder)
    payout = fresh_payout()
    c.redeem(som(10), payout, sender=holder)
    with reverts("PayoutRefAlreadyUsed", payoutRef=payout):
        c.redeem(som(10), payout, sender=holder)
    mint(s, s.holders[1], som(10))
    s.token.approve(c, som(10), sender=s.holders[1])
    with reverts("PayoutRefAlreadyUsed", payoutRef=payout):  # nor by another holder
        c.redeem(som(10), payout, sender=s.holders[1])
    with reverts("MissingPayoutReference"):
        c.redeem(som(10), ZERO32, sender=holder)
    with reverts("ZeroAmount"):
        c.redeem(0, fresh_payout(), sender=holder)
    with reverts("AmountNotWholeTiyin", amount=1):
        c.redeem(1, fresh_payout(), sender=holder)


def test_a_frozen_holder_cannot_redeem(s, holder):
    c = s.controller
    s.token.approve(c, som(100), sender=holder)
    case = case_ref("COURT-2026-17")
    receipt = s.token.freeze(holder, case, sender=s.compliance)
    assert_events(receipt, [Ev(s.token, "Frozen", account=addr(holder), caseRef=case, by=addr(s.compliance))])
    with reverts("AccountFrozen", account=addr(holder)):
        c.redeem(som(100), fresh_payout(), sender=holder)
    deadline = head_time(s) + 3_600
    v, r, s_ = sign_permit(s, holder, c, som(100), deadline)
    with reverts("AccountFrozen", account=addr(holder)):
        c.redeemWithPermit(som(100), fresh_payout(), deadline, v, r, s_, sender=holder)
    with reverts("MissingCaseReference"):
        s.token.freeze(s.holders[1], ZERO32, sender=s.compliance)
    assert s.token.balanceOf(holder) == BALANCE


def test_a_paused_token_stops_redemption(s, holder):
    c = s.controller
    s.token.approve(c, som(100), sender=holder)
    s.token.pause(sender=s.guardian)
    with reverts("EnforcedPause"):
        c.redeem(som(100), fresh_payout(), sender=holder)
    s.token.unpause(sender=s.guardian)
    c.redeem(som(100), fresh_payout(), sender=holder)


def test_halted_minting_does_not_stop_redemption(s, holder):
    c = s.controller
    c.haltMinting(sender=s.guardian)
    s.token.approve(c, som(100), sender=holder)
    payout = fresh_payout()
    assert_events(c.redeem(som(100), payout, sender=holder), redeemed(s, payout, holder, som(100), holder))


def test_the_desk_burns_kgst_sent_to_the_controller_address(s, holder):
    c, amount = s.controller, som(750)
    s.token.transfer(c, amount, sender=holder)
    assert s.token.balanceOf(c) == amount
    for other in (holder, s.guardian, s.minter, s.approvers[0], s.governance, s.deployer):
        with unauthorized(other, REDEMPTION_DESK_ROLE):
            c.burnRedeemed(amount, fresh_payout(), sender=other)
    payout = fresh_payout()
    receipt = c.burnRedeemed(amount, payout, sender=s.desk)
    assert_events(receipt, redeemed(s, payout, c, amount, s.desk))
    assert s.token.balanceOf(c) == 0
    assert s.token.totalSupply() == BALANCE - amount
    with reverts("ERC20InsufficientBalance", sender=addr(c), balance=0, needed=som(1)):
        c.burnRedeemed(som(1), fresh_payout(), sender=s.desk)


def test_the_desk_cannot_burn_a_holders_balance(s, holder):
    """burnRedeemed burns only what is already at the controller: the holder's own KGST stays untouched."""
    with reverts("ERC20InsufficientBalance", sender=addr(s.controller), balance=0, needed=som(1)):
        s.controller.burnRedeemed(som(1), fresh_payout(), sender=s.desk)
    assert s.token.balanceOf(holder) == BALANCE
