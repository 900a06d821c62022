"""Freeze / unfreeze (single and batch) with case references, wipe of frozen balances, rescue of foreign tokens
and of native BNB. Who may call these is in test_roles.py; how freeze and pause affect every other entry point
is in test_compliance_matrix.py.
"""

import ape
import pytest
from eth_utils import keccak

from tests.token.helpers import (
    BOB_START,
    CAROL_START,
    UNIT,
    ZERO_ADDRESS,
    ZERO_BYTES32,
    Ev,
    Transfer,
    assert_events,
    reverts,
    state_diff,
)

CASE = keccak(text="KGST/case/v1:BISHKEK-COURT-2026-0042")
RELEASE = keccak(text="KGST/case/v1:BISHKEK-COURT-2026-0042/release")


@pytest.fixture
def reader(make_reader, alice, bob, carol, outsider):
    return make_reader({"alice": alice, "bob": bob, "carol": carol, "outsider": outsider})


def Frozen(account, case_ref, by):  # noqa: N802
    return Ev("Frozen", account=account, caseRef=case_ref, by=by)


def Unfrozen(account, case_ref, by):  # noqa: N802
    return Ev("Unfrozen", account=account, caseRef=case_ref, by=by)


# --- freeze / unfreeze -------------------------------------------------------------------------------------------


def test_freeze_sets_the_flag_keeps_the_balance_and_logs_the_case(token, reader, carol, asset_protector):
    before = reader.read()
    receipt = token.freeze(carol, CASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {"frozen[carol]": 1}
    assert token.isFrozen(carol)
    assert token.balanceOf(carol) == CAROL_START  # the flag shares the balance word but never shows in it
    assert_events(receipt, [Frozen(carol, CASE, asset_protector)], token)


def test_an_account_without_balance_can_be_frozen(token, outsider, asset_protector):
    receipt = token.freeze(outsider, CASE, sender=asset_protector)
    assert token.isFrozen(outsider) and token.balanceOf(outsider) == 0
    assert_events(receipt, [Frozen(outsider, CASE, asset_protector)], token)


def test_unfreeze_clears_the_flag_keeps_the_balance_and_the_account_can_move_again(
    token, reader, carol, bob, asset_protector
):
    token.freeze(carol, CASE, sender=asset_protector)
    before = reader.read()
    receipt = token.unfreeze(carol, RELEASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {"frozen[carol]": -1}
    assert_events(receipt, [Unfrozen(carol, RELEASE, asset_protector)], token)
    assert_events(token.transfer(bob, UNIT, sender=carol), [Transfer(carol, bob, UNIT)], token)
    assert token.balanceOf(carol) == CAROL_START - UNIT


def test_freezing_a_frozen_account_is_refused(token, reader, carol, asset_protector):
    token.freeze(carol, CASE, sender=asset_protector)
    before = reader.read()
    with reverts("AccountFrozen", account=carol):
        token.freeze(carol, CASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {}


def test_unfreezing_an_account_that_is_not_frozen_is_refused(token, carol, asset_protector):
    with reverts("AccountNotFrozen", account=carol):
        token.unfreeze(carol, RELEASE, sender=asset_protector)
    assert not token.isFrozen(carol)


@pytest.mark.parametrize("action", ["freeze", "unfreeze", "freezeBatch", "unfreezeBatch", "wipeFrozen"])
def test_compliance_actions_need_a_case_reference(token, reader, carol, asset_protector, action):
    if action in ("unfreeze", "unfreezeBatch", "wipeFrozen"):
        token.freeze(carol, CASE, sender=asset_protector)
    target = [carol] if action.endswith("Batch") else carol
    before = reader.read()
    with reverts("MissingCaseReference"):
        getattr(token, action)(target, ZERO_BYTES32, sender=asset_protector)
    assert state_diff(before, reader.read()) == {}


def test_freezing_the_zero_address_is_refused(token, asset_protector):
    with reverts("ZeroAddress"):
        token.freeze(ZERO_ADDRESS, CASE, sender=asset_protector)
    with reverts("ZeroAddress"):
        token.freezeBatch([ZERO_ADDRESS], CASE, sender=asset_protector)
    assert not token.isFrozen(ZERO_ADDRESS)


def test_unfreezing_the_zero_address_is_refused_as_not_frozen(token, asset_protector):
    with reverts("AccountNotFrozen", account=ZERO_ADDRESS):
        token.unfreeze(ZERO_ADDRESS, RELEASE, sender=asset_protector)


def test_freeze_batch_freezes_each_account_with_one_event_each(token, reader, alice, carol, outsider, asset_protector):
    before = reader.read()
    receipt = token.freezeBatch([alice, carol, outsider], CASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {"frozen[alice]": 1, "frozen[carol]": 1, "frozen[outsider]": 1}
    assert_events(
        receipt,
        [Frozen(alice, CASE, asset_protector), Frozen(carol, CASE, asset_protector),
         Frozen(outsider, CASE, asset_protector)],
        token,
    )


def test_freeze_batch_is_all_or_nothing(token, reader, alice, carol, asset_protector):
    token.freeze(carol, CASE, sender=asset_protector)
    before = reader.read()
    with reverts("AccountFrozen", account=carol):
        token.freezeBatch([alice, carol], CASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {}  # alice, listed first, was not frozen either


def test_freeze_batch_with_a_duplicate_is_refused(token, reader, alice, asset_protector):
    before = reader.read()
    with reverts("AccountFrozen", account=alice):
        token.freezeBatch([alice, alice], CASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {}


def test_empty_batches_do_nothing(token, reader, asset_protector):
    before = reader.read()
    assert_events(token.freezeBatch([], CASE, sender=asset_protector), [], token)
    assert_events(token.unfreezeBatch([], CASE, sender=asset_protector), [], token)
    assert state_diff(before, reader.read()) == {}


def test_unfreeze_batch_unfreezes_each_and_is_all_or_nothing(token, reader, alice, carol, bob, asset_protector):
    token.freezeBatch([alice, carol], CASE, sender=asset_protector)
    before = reader.read()
    with reverts("AccountNotFrozen", account=bob):
        token.unfreezeBatch([alice, bob, carol], RELEASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {}
    receipt = token.unfreezeBatch([alice, carol], RELEASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {"frozen[alice]": -1, "frozen[carol]": -1}
    assert_events(
        receipt, [Unfrozen(alice, RELEASE, asset_protector), Unfrozen(carol, RELEASE, asset_protector)], token
    )


# --- wipe ----------------------------------------------------------------------------------------------------------


def test_wipe_burns_the_whole_frozen_balance_and_logs_the_case(token, reader, carol, asset_protector):
    token.freeze(carol, CASE, sender=asset_protector)
    before = reader.read()
    receipt = token.wipeFrozen(carol, CASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {
        "balance[carol]": -CAROL_START,
        "totalSupply": -CAROL_START,
        "totalWiped": CAROL_START,
    }
    assert_events(
        receipt,
        [Transfer(carol, ZERO_ADDRESS, CAROL_START),
         Ev("Wiped", account=carol, amount=CAROL_START, caseRef=CASE, by=asset_protector)],
        token,
    )
    assert token.isFrozen(carol) and token.balanceOf(carol) == 0  # stays frozen, with nothing left
    supply, minted, burned, wiped = token.supplyCounters()
    assert supply == minted - burned - wiped and wiped == CAROL_START


def test_wipe_of_an_account_that_is_not_frozen_is_refused(token, reader, carol, asset_protector):
    before = reader.read()
    with reverts("AccountNotFrozen", account=carol):
        token.wipeFrozen(carol, CASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {}


def test_wipe_of_an_empty_frozen_account_wipes_zero_with_events(token, reader, outsider, asset_protector):
    token.freeze(outsider, CASE, sender=asset_protector)
    before = reader.read()
    receipt = token.wipeFrozen(outsider, CASE, sender=asset_protector)
    assert state_diff(before, reader.read()) == {}
    assert_events(
        receipt,
        [Transfer(outsider, ZERO_ADDRESS, 0), Ev("Wiped", account=outsider, amount=0, caseRef=CASE, by=asset_protector)],
        token,
    )


def test_wiped_then_unfrozen_account_starts_from_zero_and_can_receive(token, carol, bob, asset_protector):
    token.freeze(carol, CASE, sender=asset_protector)
    token.wipeFrozen(carol, CASE, sender=asset_protector)
    token.unfreeze(carol, RELEASE, sender=asset_protector)
    token.transfer(carol, 3 * UNIT, sender=bob)
    assert token.balanceOf(carol) == 3 * UNIT and not token.isFrozen(carol)
    assert token.balanceOf(bob) == BOB_START - 3 * UNIT


def test_wipe_leaves_allowances_given_by_the_wiped_account_but_nothing_to_spend(
    token, carol, spender, bob, asset_protector
):
    token.approve(spender, 10 * UNIT, sender=carol)
    token.freeze(carol, CASE, sender=asset_protector)
    token.wipeFrozen(carol, CASE, sender=asset_protector)
    token.unfreeze(carol, RELEASE, sender=asset_protector)
    assert token.allowance(carol, spender) == 10 * UNIT
    with reverts("ERC20InsufficientBalance", sender=carol, balance=0, needed=UNIT):
        token.transferFrom(carol, bob, UNIT, sender=spender)


# --- rescue ---------------------------------------------------------------------------------------------------------


def test_rescue_erc20_returns_a_foreign_token_with_event(token, foreign_token, alice, bob, rescuer):
    foreign_token.transfer(token, 0, sender=alice)  # a plain ERC-20 accepts transfers to the KGST address
    foreign_token.mint(token, 100 * UNIT, sender=alice)
    receipt = token.rescueERC20(foreign_token, bob, 40 * UNIT, sender=rescuer)
    assert foreign_token.balanceOf(token) == 60 * UNIT
    assert foreign_token.balanceOf(bob) == 40 * UNIT
    assert_events(
        receipt,
        [Ev("Transfer", emitter=foreign_token, **{"from": token, "to": bob, "value": 40 * UNIT}),
         Ev("Rescued", asset=foreign_token, to=bob, amount=40 * UNIT, by=rescuer)],
        token,
    )


def test_rescuing_kgst_itself_is_refused(token, bob, rescuer):
    with reverts("CannotRescueKGST"):
        token.rescueERC20(token, bob, 0, sender=rescuer)


def test_rescue_to_the_zero_address_is_refused(token, foreign_token, alice, rescuer):
    foreign_token.mint(token, UNIT, sender=alice)
    with reverts("ZeroAddress"):
        token.rescueERC20(foreign_token, ZERO_ADDRESS, UNIT, sender=rescuer)
    assert foreign_token.balanceOf(token) == UNIT


def test_rescue_of_more_than_is_held_reverts_with_the_foreign_tokens_error(token, foreign_token, alice, bob, rescuer):
    foreign_token.mint(token, UNIT, sender=alice)
    with reverts("ERC20InsufficientBalance", sender=token, balance=UNIT, needed=UNIT + 1):
        token.rescueERC20(foreign_token, bob, UNIT + 1, sender=rescuer)


def test_rescue_of_a_token_that_returns_false_reverts(project, token, admin, bob, rescuer):
    silent = admin.deploy(project.FalseReturningTokenMock)
    with reverts("SafeERC20FailedOperation", token=silent):
        token.rescueERC20(silent, bob, UNIT, sender=rescuer)


def test_rescue_native_returns_bnb_forced_into_the_token(token, chain, bob, rescuer):
    chain.set_balance(token.address, UNIT)  # forced in (as by selfdestruct or a coinbase reward)
    bob_before = bob.balance
    receipt = token.rescueNative(bob, 4 * UNIT // 10, sender=rescuer)
    assert token.balance == 6 * UNIT // 10
    assert bob.balance == bob_before + 4 * UNIT // 10  # the rescuer, not bob, paid the gas
    assert_events(receipt, [Ev("Rescued", asset=ZERO_ADDRESS, to=bob, amount=4 * UNIT // 10, by=rescuer)], token)


def test_rescue_native_of_more_than_the_balance_is_refused(token, chain, bob, rescuer):
    chain.set_balance(token.address, UNIT)
    with reverts("InsufficientBalance", balance=UNIT, needed=UNIT + 1):
        token.rescueNative(bob, UNIT + 1, sender=rescuer)
    assert token.balance == UNIT


def test_rescue_native_to_the_zero_address_is_refused(token, chain, rescuer):
    chain.set_balance(token.address, UNIT)
    with reverts("ZeroAddress"):
        token.rescueNative(ZERO_ADDRESS, UNIT, sender=rescuer)


def test_rescue_native_to_a_contract_that_refuses_bnb_reverts(token, chain, foreign_token, rescuer):
    chain.set_balance(token.address, UNIT)
    with reverts("FailedCall"):
        token.rescueNative(foreign_token, UNIT, sender=rescuer)
    assert token.balance == UNIT


def test_the_token_has_no_payable_entry_point(token, alice):
    with ape.reverts():
        alice.transfer(token, 1)
    assert token.balance == 0
