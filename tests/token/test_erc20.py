"""BEP-20 / ERC-20 behaviour of KGST: metadata, transfers, allowances, zero addresses, events.

Every state-changing test checks the exact set of state changes (one batched read of balances, allowances,
counters, flags) and the exact list of events.
"""

import ape
import pytest
from ape.exceptions import VirtualMachineError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.token.helpers import (
    ALICE_START,
    BOB_START,
    CAROL_START,
    MINTER_START,
    MAX_UINT256,
    UNIT,
    ZERO_ADDRESS,
    Approval,
    Transfer,
    assert_events,
    reverts,
    state_diff,
)


@pytest.fixture
def reader(make_reader, alice, bob, carol, spender):
    return make_reader({"alice": alice, "bob": bob, "carol": carol, "spender": spender})


# --- metadata ------------------------------------------------------------------------------------------------


def test_bep20_metadata_name_symbol_decimals(token):
    assert token.name() == "Kyrgyz Som Token"
    assert token.symbol() == "KGST"
    assert token.decimals() == 18


def test_get_owner_is_the_default_admin_for_bsc_tooling(token, admin):
    assert token.getOwner() == admin.address
    assert token.owner() == admin.address
    assert token.defaultAdmin() == admin.address


def test_supply_equals_sum_of_balances_and_minted_minus_burned_minus_wiped(token, alice, bob, carol, minter):
    supply = ALICE_START + BOB_START + CAROL_START + MINTER_START
    assert token.totalSupply() == supply
    assert sum(token.balanceOf(a) for a in (alice, bob, carol, minter)) == supply
    assert token.supplyCounters() == (supply, supply, 0, 0)
    assert tuple(token.supplyCounters())[1:] == (supply, 0, 0)


# --- transfer -------------------------------------------------------------------------------------------------


def test_transfer_moves_exactly_the_value_and_emits_transfer(token, reader, alice, bob):
    before = reader.read()
    receipt = token.transfer(bob, 10 * UNIT, sender=alice)
    assert receipt.return_value is True
    assert state_diff(before, reader.read()) == {"balance[alice]": -10 * UNIT, "balance[bob]": 10 * UNIT}
    assert_events(receipt, [Transfer(alice, bob, 10 * UNIT)], token)


def test_transfer_of_whole_balance_leaves_zero(token, reader, carol, bob):
    before = reader.read()
    receipt = token.transfer(bob, CAROL_START, sender=carol)
    assert state_diff(before, reader.read()) == {"balance[carol]": -CAROL_START, "balance[bob]": CAROL_START}
    assert token.balanceOf(carol) == 0
    assert_events(receipt, [Transfer(carol, bob, CAROL_START)], token)


def test_zero_value_transfer_emits_transfer_as_bep20_requires(token, reader, alice, bob):
    before = reader.read()
    receipt = token.transfer(bob, 0, sender=alice)
    assert state_diff(before, reader.read()) == {}
    assert_events(receipt, [Transfer(alice, bob, 0)], token)


def test_zero_value_transfer_from_an_empty_account_is_allowed(token, reader, outsider, bob):
    before = reader.read()
    receipt = token.transfer(bob, 0, sender=outsider)
    assert state_diff(before, reader.read()) == {}
    assert_events(receipt, [Transfer(outsider, bob, 0)], token)


def test_self_transfer_keeps_balance_and_emits_transfer(token, reader, alice):
    before = reader.read()
    receipt = token.transfer(alice, 7 * UNIT, sender=alice)
    assert state_diff(before, reader.read()) == {}
    assert_events(receipt, [Transfer(alice, alice, 7 * UNIT)], token)


def test_transfer_above_balance_reverts_with_balance_and_needed(token, reader, alice, bob):
    before = reader.read()
    with reverts("ERC20InsufficientBalance", sender=alice, balance=ALICE_START, needed=ALICE_START + 1):
        token.transfer(bob, ALICE_START + 1, sender=alice)
    assert state_diff(before, reader.read()) == {}


def test_transfer_from_empty_account_reverts_insufficient_balance(token, outsider, bob):
    with reverts("ERC20InsufficientBalance", sender=outsider, balance=0, needed=1):
        token.transfer(bob, 1, sender=outsider)


def test_transfer_to_zero_address_reverts_invalid_receiver(token, reader, alice):
    before = reader.read()
    with reverts("ERC20InvalidReceiver", receiver=ZERO_ADDRESS):
        token.transfer(ZERO_ADDRESS, 1, sender=alice)
    assert state_diff(before, reader.read()) == {}


def test_transfer_to_the_token_contract_itself_is_rejected(token, reader, alice):
    before = reader.read()
    with reverts("ERC20InvalidReceiver", receiver=token):
        token.transfer(token, 1, sender=alice)
    assert state_diff(before, reader.read()) == {}
    assert token.balanceOf(token) == 0


def test_transfer_from_to_the_token_contract_itself_is_rejected(token, alice, spender):
    token.approve(spender, 5 * UNIT, sender=alice)
    with reverts("ERC20InvalidReceiver", receiver=token):
        token.transferFrom(alice, token, 1, sender=spender)
    assert token.allowance(alice, spender) == 5 * UNIT


def test_mint_to_the_token_contract_itself_is_rejected(token, minter):
    supply = token.totalSupply()
    with reverts("ERC20InvalidReceiver", receiver=token):
        token.mint(token, 1, sender=minter)
    assert token.totalSupply() == supply


# --- approve ---------------------------------------------------------------------------------------------------


def test_approve_sets_allowance_and_emits_approval(token, reader, alice, spender):
    before = reader.read()
    receipt = token.approve(spender, 50 * UNIT, sender=alice)
    assert receipt.return_value is True
    assert state_diff(before, reader.read()) == {"allowance[alice->spender]": 50 * UNIT}
    assert_events(receipt, [Approval(alice, spender, 50 * UNIT)], token)


def test_approve_non_zero_to_non_zero_is_allowed_no_usdt_style_reset(token, reader, alice, spender):
    token.approve(spender, 50 * UNIT, sender=alice)
    before = reader.read()
    receipt = token.approve(spender, 20 * UNIT, sender=alice)
    assert state_diff(before, reader.read()) == {"allowance[alice->spender]": -30 * UNIT}
    assert token.allowance(alice, spender) == 20 * UNIT
    assert_events(receipt, [Approval(alice, spender, 20 * UNIT)], token)


def test_approve_to_zero_revokes_and_emits_approval(token, alice, spender):
    token.approve(spender, 50 * UNIT, sender=alice)
    receipt = token.approve(spender, 0, sender=alice)
    assert token.allowance(alice, spender) == 0
    assert_events(receipt, [Approval(alice, spender, 0)], token)


def test_approve_zero_address_spender_reverts_invalid_spender(token, alice):
    with reverts("ERC20InvalidSpender", spender=ZERO_ADDRESS):
        token.approve(ZERO_ADDRESS, 1, sender=alice)


def test_approve_more_than_balance_is_allowed(token, alice, spender):
    receipt = token.approve(spender, ALICE_START * 10, sender=alice)
    assert token.allowance(alice, spender) == ALICE_START * 10
    assert_events(receipt, [Approval(alice, spender, ALICE_START * 10)], token)


# --- transferFrom -----------------------------------------------------------------------------------------------


def test_transfer_from_decrements_finite_allowance_exactly_without_approval_event(
    token, reader, alice, bob, spender
):
    token.approve(spender, 30 * UNIT, sender=alice)
    before = reader.read()
    receipt = token.transferFrom(alice, bob, 12 * UNIT, sender=spender)
    assert receipt.return_value is True
    assert state_diff(before, reader.read()) == {
        "balance[alice]": -12 * UNIT,
        "balance[bob]": 12 * UNIT,
        "allowance[alice->spender]": -12 * UNIT,
    }
    # OpenZeppelin 5 semantics: spending an allowance emits no Approval event.
    assert_events(receipt, [Transfer(alice, bob, 12 * UNIT)], token)


def test_transfer_from_uses_the_whole_allowance_down_to_zero(token, alice, bob, spender):
    token.approve(spender, 3 * UNIT, sender=alice)
    token.transferFrom(alice, bob, 3 * UNIT, sender=spender)
    assert token.allowance(alice, spender) == 0
    with reverts("ERC20InsufficientAllowance", spender=spender, allowance=0, needed=1):
        token.transferFrom(alice, bob, 1, sender=spender)


def test_transfer_from_infinite_allowance_is_never_decremented(token, reader, alice, bob, spender):
    token.approve(spender, MAX_UINT256, sender=alice)
    before = reader.read()
    receipt = token.transferFrom(alice, bob, 100 * UNIT, sender=spender)
    assert state_diff(before, reader.read()) == {"balance[alice]": -100 * UNIT, "balance[bob]": 100 * UNIT}
    assert token.allowance(alice, spender) == MAX_UINT256
    assert_events(receipt, [Transfer(alice, bob, 100 * UNIT)], token)


def test_transfer_from_above_allowance_reverts_with_allowance_and_needed(token, reader, alice, bob, spender):
    token.approve(spender, 5 * UNIT, sender=alice)
    before = reader.read()
    with reverts("ERC20InsufficientAllowance", spender=spender, allowance=5 * UNIT, needed=5 * UNIT + 1):
        token.transferFrom(alice, bob, 5 * UNIT + 1, sender=spender)
    assert state_diff(before, reader.read()) == {}


def test_transfer_from_without_any_allowance_reverts(token, alice, bob, spender):
    with reverts("ERC20InsufficientAllowance", spender=spender, allowance=0, needed=1):
        token.transferFrom(alice, bob, 1, sender=spender)


def test_transfer_from_above_balance_with_enough_allowance_reverts_insufficient_balance(
    token, reader, alice, bob, spender
):
    token.approve(spender, MAX_UINT256, sender=alice)
    before = reader.read()
    with reverts("ERC20InsufficientBalance", sender=alice, balance=ALICE_START, needed=ALICE_START + 1):
        token.transferFrom(alice, bob, ALICE_START + 1, sender=spender)
    assert state_diff(before, reader.read()) == {}


def test_transfer_from_zero_address_sender_reverts_invalid_sender(token, bob, spender):
    with reverts("ERC20InvalidSender", sender=ZERO_ADDRESS):
        token.transferFrom(ZERO_ADDRESS, bob, 0, sender=spender)


def test_transfer_from_to_zero_address_reverts_invalid_receiver(token, alice, spender):
    token.approve(spender, 5 * UNIT, sender=alice)
    with reverts("ERC20InvalidReceiver", receiver=ZERO_ADDRESS):
        token.transferFrom(alice, ZERO_ADDRESS, 1, sender=spender)
    assert token.allowance(alice, spender) == 5 * UNIT


def test_transfer_from_zero_value_needs_no_allowance_and_emits_transfer(token, reader, alice, bob, spender):
    before = reader.read()
    receipt = token.transferFrom(alice, bob, 0, sender=spender)
    assert state_diff(before, reader.read()) == {}
    assert_events(receipt, [Transfer(alice, bob, 0)], token)


def test_transfer_from_by_the_owner_itself_needs_an_allowance(token, alice, bob):
    # As OpenZeppelin: no owner shortcut; the caller is always the spender.
    with reverts("ERC20InsufficientAllowance", spender=alice, allowance=0, needed=1):
        token.transferFrom(alice, bob, 1, sender=alice)


# --- increase / decrease allowance -----------------------------------------------------------------------------


def test_increase_allowance_adds_and_emits_approval_with_new_total(token, reader, alice, spender):
    token.approve(spender, 10 * UNIT, sender=alice)
    before = reader.read()
    receipt = token.increaseAllowance(spender, 5 * UNIT, sender=alice)
    assert receipt.return_value is True
    assert state_diff(before, reader.read()) == {"allowance[alice->spender]": 5 * UNIT}
    assert_events(receipt, [Approval(alice, spender, 15 * UNIT)], token)


def test_increase_allowance_past_max_reverts_with_overflow_panic(token, alice, spender):
    token.approve(spender, MAX_UINT256, sender=alice)
    with pytest.raises(VirtualMachineError, match="Panic error 0x11"):  # checked arithmetic, not a custom error
        token.increaseAllowance(spender, 1, sender=alice)
    assert token.allowance(alice, spender) == MAX_UINT256


def test_increase_allowance_zero_address_spender_reverts_invalid_spender(token, alice):
    with reverts("ERC20InvalidSpender", spender=ZERO_ADDRESS):
        token.increaseAllowance(ZERO_ADDRESS, 1, sender=alice)


def test_decrease_allowance_subtracts_and_emits_approval_with_new_total(token, reader, alice, spender):
    token.approve(spender, 10 * UNIT, sender=alice)
    before = reader.read()
    receipt = token.decreaseAllowance(spender, 4 * UNIT, sender=alice)
    assert receipt.return_value is True
    assert state_diff(before, reader.read()) == {"allowance[alice->spender]": -4 * UNIT}
    assert_events(receipt, [Approval(alice, spender, 6 * UNIT)], token)


def test_decrease_allowance_to_exactly_zero(token, alice, spender):
    token.approve(spender, 10 * UNIT, sender=alice)
    receipt = token.decreaseAllowance(spender, 10 * UNIT, sender=alice)
    assert token.allowance(alice, spender) == 0
    assert_events(receipt, [Approval(alice, spender, 0)], token)


def test_decrease_allowance_below_zero_reverts_insufficient_allowance(token, reader, alice, spender):
    token.approve(spender, 10 * UNIT, sender=alice)
    before = reader.read()
    with reverts("ERC20InsufficientAllowance", spender=spender, allowance=10 * UNIT, needed=10 * UNIT + 1):
        token.decreaseAllowance(spender, 10 * UNIT + 1, sender=alice)
    assert state_diff(before, reader.read()) == {}


def test_decrease_allowance_of_infinite_allowance_makes_it_finite(token, alice, spender):
    token.approve(spender, MAX_UINT256, sender=alice)
    receipt = token.decreaseAllowance(spender, 1, sender=alice)
    assert token.allowance(alice, spender) == MAX_UINT256 - 1
    assert_events(receipt, [Approval(alice, spender, MAX_UINT256 - 1)], token)


# --- mint and burn (the minter: the issuance controller in production) ---------------------------------------------

MAX_SUPPLY = 2**128 - 1  # supply and counters are uint128; balances keep bit 255 free for the frozen flag


@pytest.fixture
def supply_reader(make_reader, alice, bob, minter):
    return make_reader({"alice": alice, "bob": bob, "minter": minter})


def test_mint_credits_the_recipient_updates_supply_and_returns_the_new_total(token, supply_reader, minter, bob):
    before = supply_reader.read()
    receipt = token.mint(bob, 42 * UNIT, sender=minter)
    assert receipt.return_value == before["totalSupply"] + 42 * UNIT
    assert state_diff(before, supply_reader.read()) == {
        "balance[bob]": 42 * UNIT, "totalSupply": 42 * UNIT, "totalMinted": 42 * UNIT
    }
    assert_events(receipt, [Transfer(ZERO_ADDRESS, bob, 42 * UNIT)], token)


def test_mint_to_the_zero_address_is_rejected(token, minter):
    with reverts("ERC20InvalidReceiver", receiver=ZERO_ADDRESS):
        token.mint(ZERO_ADDRESS, UNIT, sender=minter)


def test_supply_may_reach_but_never_pass_two_to_the_128_minus_one(token, supply_reader, minter, bob):
    supply = token.totalSupply()
    token.mint(bob, MAX_SUPPLY - supply, sender=minter)
    assert token.totalSupply() == token.supplyCounters()[1] == MAX_SUPPLY
    assert token.balanceOf(bob) == BOB_START + MAX_SUPPLY - supply and not token.isFrozen(bob)
    before = supply_reader.read()
    with reverts("SupplyOverflow", requestedSupply=MAX_SUPPLY + 1):
        token.mint(bob, 1, sender=minter)
    assert state_diff(before, supply_reader.read()) == {}


def test_burn_of_own_balance_updates_supply_and_emits_transfer_to_zero(token, supply_reader, minter):
    before = supply_reader.read()
    receipt = token.burn(minter, 60 * UNIT, sender=minter)
    assert state_diff(before, supply_reader.read()) == {
        "balance[minter]": -60 * UNIT, "totalSupply": -60 * UNIT, "totalBurned": 60 * UNIT
    }
    assert_events(receipt, [Transfer(minter, ZERO_ADDRESS, 60 * UNIT)], token)


def test_burn_from_a_holder_needs_and_spends_the_holders_allowance(token, supply_reader, minter, alice):
    with reverts("ERC20InsufficientAllowance", spender=minter, allowance=0, needed=UNIT):
        token.burn(alice, UNIT, sender=minter)  # not even the minter destroys KGST without the holder's consent
    token.approve(minter, 5 * UNIT, sender=alice)
    before = supply_reader.read()
    receipt = token.burn(alice, 3 * UNIT, sender=minter)
    assert state_diff(before, supply_reader.read()) == {
        "balance[alice]": -3 * UNIT,
        "allowance[alice->minter]": -3 * UNIT,
        "totalSupply": -3 * UNIT,
        "totalBurned": 3 * UNIT,
    }
    assert_events(receipt, [Transfer(alice, ZERO_ADDRESS, 3 * UNIT)], token)
    with reverts("ERC20InsufficientAllowance", spender=minter, allowance=2 * UNIT, needed=3 * UNIT):
        token.burn(alice, 3 * UNIT, sender=minter)


def test_burn_from_a_holder_with_infinite_allowance_keeps_it_infinite(token, minter, alice):
    token.approve(minter, MAX_UINT256, sender=alice)
    token.burn(alice, 3 * UNIT, sender=minter)
    assert token.allowance(alice, minter) == MAX_UINT256


def test_burn_above_the_balance_reverts_insufficient_balance(token, supply_reader, minter):
    before = supply_reader.read()
    with reverts("ERC20InsufficientBalance", sender=minter, balance=MINTER_START, needed=MINTER_START + 1):
        token.burn(minter, MINTER_START + 1, sender=minter)
    assert state_diff(before, supply_reader.read()) == {}


# --- random sequences against a Python model -------------------------------------------------------------------

HOLDERS = ("alice", "bob", "carol")
operation = st.one_of(
    st.tuples(st.just("transfer"), st.sampled_from(HOLDERS), st.sampled_from(HOLDERS), st.integers(0, 400)),
    st.tuples(st.just("approve"), st.sampled_from(HOLDERS), st.sampled_from(HOLDERS), st.integers(0, 400)),
    st.tuples(st.just("transferFrom"), st.sampled_from(HOLDERS), st.sampled_from(HOLDERS), st.integers(0, 400)),
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=6))
def test_random_sequences_match_the_erc20_model_and_keep_supply_invariant(
    token, chain, make_reader, alice, bob, carol, spender, minter, ops
):
    people = {"alice": alice, "bob": bob, "carol": carol, "spender": spender, "minter": minter}
    reader = make_reader(people)
    with chain.isolate():  # each hypothesis example starts from the fixture state
        model = reader.read()
        for kind, a, b, whole in ops:
            value = whole * UNIT
            if kind == "transfer":
                ok = model[f"balance[{a}]"] >= value
                call = lambda: token.transfer(people[b], value, sender=people[a])  # noqa: E731
                change = {f"balance[{a}]": -value, f"balance[{b}]": value}
            elif kind == "approve":
                ok = True
                call = lambda: token.approve(people[b], value, sender=people[a])  # noqa: E731
                change = {f"allowance[{a}->spender]": 0}
                model[f"allowance[{a}->{b}]"] = value
            else:  # spender moves a's tokens to b
                allowed = model[f"allowance[{a}->spender]"]
                ok = allowed >= value and model[f"balance[{a}]"] >= value
                call = lambda: token.transferFrom(people[a], people[b], value, sender=spender)  # noqa: E731
                change = {f"balance[{a}]": -value, f"balance[{b}]": value, f"allowance[{a}->spender]": -value}
            if ok:
                call()
                for key, delta in change.items():
                    model[key] += delta
            else:
                with ape.reverts():
                    call()
            state = reader.read()
            assert state == model
            # every holder is in `people`, so the balances add up to the supply exactly
            assert sum(state[f"balance[{p}]"] for p in people) == state["totalSupply"]
            assert state["totalSupply"] == state["totalMinted"] - state["totalBurned"] - state["totalWiped"]
