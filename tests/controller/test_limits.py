"""Mint limits, all enforced together and none of them "0 = unlimited": per-transaction cap (at request and again at
execution), per-minter lifetime allowance (never restored by burns), and rolling per-minter and global windows.

Window rule (`_useWindow`): time is cut into fixed windows of `windowSeconds`; a mint at time t in window k fits if
usage(k-1) + usage(k) + amount <= limit. So any interval of `windowSeconds` stays within the limit, and capacity
used in window k frees up at the start of window k+2 (between one and two windows later)."""

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.controller.helpers import (
    ATTESTED_RESERVES,
    GLOBAL_WINDOW,
    MAX_ATTESTATION_AGE,
    MINTER_A_ALLOWANCE,
    MINTER_A_WINDOW,
    MINTER_B_ALLOWANCE,
    MINTER_B_WINDOW,
    PER_TX_CAP,
    TIYIN,
    WINDOW,
    Ev,
    WindowModel,
    addr,
    approve_all,
    approved_request,
    assert_events,
    at,
    attest,
    block_time,
    fresh_payout,
    head_time,
    max_interval_sum,
    mint,
    open_request,
    reverts,
    status_tuple,
)
from tests.suite import som


def minter_b(s):
    return s.minters[1]  # test:7: allowance 20M, window 5M


def next_window_start(s) -> int:
    return (head_time(s) // WINDOW + 1) * WINDOW


# --- per-transaction cap -----------------------------------------------------------------------------------------


def test_per_tx_cap_is_enforced_at_request(s):
    with reverts("ExceedsPerTransactionCap", amount=PER_TX_CAP + TIYIN, cap=PER_TX_CAP):
        s.controller.requestMint(s.holders[0], PER_TX_CAP + TIYIN, b"\x01" * 32, sender=s.minter)
    ref, _ = mint(s, s.holders[0], PER_TX_CAP)  # exactly the cap mints
    assert s.token.balanceOf(s.holders[0]) == PER_TX_CAP


def test_per_tx_cap_is_enforced_again_at_execution(s):
    c, amount, lowered = s.controller, som(6_000_000), som(5_000_000)
    ref = approved_request(s, s.holders[0], amount)
    receipt = c.setPerTxCap(lowered, sender=s.guardian)
    assert_events(receipt, [Ev(c, "PerTxCapChanged", oldCap=PER_TX_CAP, newCap=lowered, by=addr(s.guardian))])
    with reverts("ExceedsPerTransactionCap", amount=amount, cap=lowered):
        c.executeMint(ref, sender=s.outsiders[0])
    assert s.token.totalSupply() == 0
    assert status_tuple(c.minterStatus(s.minter)) == (MINTER_A_ALLOWANCE, MINTER_A_WINDOW, 0, MINTER_A_WINDOW)


# --- allowance ----------------------------------------------------------------------------------------------------


def test_allowance_is_decremented_exactly_and_never_restored_by_burns(s):
    c, b, holder, amount = s.controller, minter_b(s), s.holders[0], som("1234567.89")
    mint(s, holder, amount, minter=b)
    assert status_tuple(c.minterStatus(b))[0] == MINTER_B_ALLOWANCE - amount
    assert status_tuple(c.minterStatus(s.minter))[0] == MINTER_A_ALLOWANCE  # only the requester's budget
    s.token.approve(c, amount, sender=holder)
    c.redeem(amount, fresh_payout(), sender=holder)
    assert s.token.totalSupply() == 0
    assert status_tuple(c.minterStatus(b))[0] == MINTER_B_ALLOWANCE - amount


def test_exhausted_allowance_refuses_the_mint_and_reports_what_is_left(s):
    c, b = s.controller, minter_b(s)
    receipt = c.setMinterLimits(b, som(1000), MINTER_B_WINDOW, sender=s.guardian)
    assert_events(receipt, [Ev(c, "MinterLimitsChanged", minter=addr(b), oldAllowance=MINTER_B_ALLOWANCE, newAllowance=som(1000),
                               oldWindowLimit=MINTER_B_WINDOW, newWindowLimit=MINTER_B_WINDOW, by=addr(s.guardian))])
    mint(s, s.holders[0], som("999.99"), minter=b)
    ref = approved_request(s, s.holders[0], som("0.02"), minter=b)
    with reverts("ExceedsMinterAllowance", minter=addr(b), amount=som("0.02"), allowance=som("0.01")):
        c.executeMint(ref, sender=s.outsiders[0])
    mint(s, s.holders[0], som("0.01"), minter=b)
    assert status_tuple(c.minterStatus(b))[0] == 0
    with reverts("ExceedsMinterAllowance", minter=addr(b), amount=som("0.02"), allowance=0):
        c.executeMint(ref, sender=s.outsiders[0])


# --- windows ------------------------------------------------------------------------------------------------------


def test_minter_window_refuses_and_reports_what_is_available(s):
    c, b = s.controller, minter_b(s)
    mint(s, s.holders[0], som(3_000_000), minter=b)
    over = approved_request(s, s.holders[0], som("2000000.01"), minter=b)
    with reverts("ExceedsMinterWindow", minter=addr(b), amount=som("2000000.01"), available=som(2_000_000)):
        c.executeMint(over, sender=s.outsiders[0])
    mint(s, s.holders[0], som(2_000_000), minter=b)  # exactly what is left
    assert status_tuple(c.minterStatus(b)) == (MINTER_B_ALLOWANCE - MINTER_B_WINDOW, MINTER_B_WINDOW, MINTER_B_WINDOW, 0)
    tiny = approved_request(s, s.holders[0], som("0.01"), minter=b)
    with reverts("ExceedsMinterWindow", minter=addr(b), amount=som("0.01"), available=0):
        c.executeMint(tiny, sender=s.outsiders[0])
    mint(s, s.holders[0], som(1_000_000))  # another minter is not affected by B's window


def test_global_window_binds_across_minters(s):
    c, b, lowered = s.controller, minter_b(s), som(12_000_000)
    receipt = c.setGlobalWindowLimit(lowered, sender=s.guardian)
    assert_events(receipt, [Ev(c, "GlobalWindowLimitChanged", oldLimit=GLOBAL_WINDOW, newLimit=lowered, by=addr(s.guardian))])
    mint(s, s.holders[0], som(10_000_000))  # minter A
    over = approved_request(s, s.holders[1], som("2000000.01"), minter=b)
    with reverts("ExceedsGlobalWindow", amount=som("2000000.01"), available=som(2_000_000)):
        c.executeMint(over, sender=s.outsiders[0])
    mint(s, s.holders[1], som(2_000_000), minter=b)
    assert status_tuple(c.globalStatus()) == (PER_TX_CAP, lowered, lowered, 0)


def _refresh_reserves(s, t):
    """A new 550M attestation measured at t - 1, submitted at t (the session's one ages past 48 h in these tests)."""
    at(s, t)
    attest(s, ATTESTED_RESERVES, as_of=t - 1)


def _align(s) -> int:
    """Moves to 1,000 s into the next window, with a fresh attestation; returns the start of the window after it.

    Requests opened now stay valid (3-day TTL) through the first two seconds of the window after next of that start."""
    now_window_start = next_window_start(s)
    _refresh_reserves(s, now_window_start + 1_000)
    return now_window_start + WINDOW


@pytest.mark.parametrize("offset, where", [(0, "first second"), (WINDOW - 1, "last second")])
def test_full_window_use_frees_exactly_at_the_start_of_the_window_after_next(s, offset, where):
    c, b, probe = s.controller, minter_b(s), som("0.01")
    k_start = _align(s)
    full = approved_request(s, s.holders[0], MINTER_B_WINDOW, minter=b)
    probes = [approved_request(s, s.holders[1], probe, minter=b) for _ in range(3)]

    at(s, k_start + offset)  # use the whole 5M window at the first / last second of window k
    s.controller.executeMint(full, sender=s.outsiders[0])
    next_start, after_next = k_start + WINDOW, k_start + 2 * WINDOW
    _refresh_reserves(s, next_start - 5 if offset == 0 else next_start + 5)
    at(s, next_start + (0 if offset == 0 else 10))  # window k+1: all of it still counted
    with reverts("ExceedsMinterWindow", minter=addr(b), amount=probe, available=0):
        c.executeMint(probes[0], sender=s.outsiders[0])
    assert status_tuple(c.minterStatus(b))[2] == MINTER_B_WINDOW
    at(s, after_next - 1)  # last second of window k+1: still counted
    with reverts("ExceedsMinterWindow", minter=addr(b), amount=probe, available=0):
        c.executeMint(probes[1], sender=s.outsiders[0])
    at(s, after_next)
    s.chain.mine()
    assert status_tuple(c.minterStatus(b))[2] == 0  # freed at the first second of window k+2
    c.executeMint(probes[2], sender=s.outsiders[0])
    assert status_tuple(c.minterStatus(b)) == (MINTER_B_ALLOWANCE - MINTER_B_WINDOW - probe, MINTER_B_WINDOW, probe, MINTER_B_WINDOW - probe)


def test_window_counts_the_previous_and_the_current_window_only(s):
    c, b = s.controller, minter_b(s)
    k = _align(s)
    first = approved_request(s, s.holders[0], som(2_000_000), minter=b)
    second = approved_request(s, s.holders[0], som(1_500_000), minter=b)
    over_k1 = approved_request(s, s.holders[0], som("1500000.01"), minter=b)
    at(s, k + 10)
    c.executeMint(first, sender=s.outsiders[0])
    at(s, k + WINDOW + 10)
    c.executeMint(second, sender=s.outsiders[0])
    at(s, k + WINDOW + 20)  # window k+1: 5M - (2M + 1.5M)
    with reverts("ExceedsMinterWindow", minter=addr(b), amount=som("1500000.01"), available=som(1_500_000)):
        c.executeMint(over_k1, sender=s.outsiders[0])

    _refresh_reserves(s, k + 2 * WINDOW)
    over_k2, _ = open_request(s, s.holders[0], som("3500000.01"), minter=b)
    approve_all(s, over_k2, s.holders[0], som("3500000.01"))
    at(s, k + 2 * WINDOW + 10)  # window k+2: window k no longer counts, k+1's 1.5M does
    with reverts("ExceedsMinterWindow", minter=addr(b), amount=som("3500000.01"), available=som(3_500_000)):
        c.executeMint(over_k2, sender=s.outsiders[0])
    assert status_tuple(c.minterStatus(b))[2] == som(1_500_000)
    assert status_tuple(c.globalStatus())[2] == som(1_500_000)
    mint(s, s.holders[0], som(3_500_000), minter=b)


# --- a limit of zero blocks minting ----------------------------------------------------------------------------------

ZERO_LIMITS = [
    # (what the guardian sets to zero, setter, expected error for a 1-som mint by minter A)
    ("per-tx cap", lambda s: s.controller.setPerTxCap(0, sender=s.guardian),
     lambda s: ("ExceedsPerTransactionCap", dict(amount=som(1), cap=0))),
    ("global window", lambda s: s.controller.setGlobalWindowLimit(0, sender=s.guardian),
     lambda s: ("ExceedsGlobalWindow", dict(amount=som(1), available=0))),
    ("minter window", lambda s: s.controller.setMinterLimits(s.minter, MINTER_A_ALLOWANCE, 0, sender=s.guardian),
     lambda s: ("ExceedsMinterWindow", dict(minter=addr(s.minter), amount=som(1), available=0))),
    ("minter allowance", lambda s: s.controller.setMinterLimits(s.minter, 0, MINTER_A_WINDOW, sender=s.guardian),
     lambda s: ("ExceedsMinterAllowance", dict(minter=addr(s.minter), amount=som(1), allowance=0))),
]


@pytest.mark.parametrize("what, set_zero, expected", ZERO_LIMITS, ids=[z[0] for z in ZERO_LIMITS])
def test_a_limit_of_zero_blocks_minting(s, what, set_zero, expected):
    ref = approved_request(s, s.holders[0], som(1))
    set_zero(s)
    name, args = expected(s)
    with reverts(name, **args):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    if what == "per-tx cap":
        with reverts(name, **args):
            s.controller.requestMint(s.holders[0], som(1), b"\x02" * 32, sender=s.minter)
    assert s.token.totalSupply() == 0


# --- views ----------------------------------------------------------------------------------------------------------


def test_status_views_track_every_mint(s):
    c = s.controller
    mint(s, s.holders[0], som(3_000_000))
    mint(s, s.holders[1], som(1_000_000), minter=minter_b(s))
    assert status_tuple(c.minterStatus(s.minter)) == (
        MINTER_A_ALLOWANCE - som(3_000_000), MINTER_A_WINDOW, som(3_000_000), MINTER_A_WINDOW - som(3_000_000))
    assert status_tuple(c.minterStatus(minter_b(s))) == (
        MINTER_B_ALLOWANCE - som(1_000_000), MINTER_B_WINDOW, som(1_000_000), MINTER_B_WINDOW - som(1_000_000))
    assert status_tuple(c.globalStatus()) == (PER_TX_CAP, GLOBAL_WINDOW, som(4_000_000), GLOBAL_WINDOW - som(4_000_000))
    assert status_tuple(c.minterStatus(s.holders[0])) == (0, 0, 0, 0)  # not a minter


def test_status_views_report_window_available_in_token_units(s):
    """Regression: until b1ddfaa windowAvailable came back in tiyin (10^16 times too small) while every other
    value of these views is in KGST base units."""
    c = s.controller
    mint(s, s.holders[0], som(3_000_000))
    assert status_tuple(c.minterStatus(s.minter))[3] == MINTER_A_WINDOW - som(3_000_000)
    assert status_tuple(c.globalStatus())[3] == GLOBAL_WINDOW - som(3_000_000)


# --- property: no interval of windowSeconds ever exceeds the limit; refusals are exactly the modelled ones ------------

CAP_TIYIN = 90_000_00  # the guardian lowers the cap to 90,000 som: tier-1 amounts above it are refused at request
ALLOWANCE_TIYIN = 300_000_00
MAX_AMOUNT_TIYIN = 100_000_00  # tier 1: one approval


def _jumps():
    return st.one_of(
        st.just(0),
        st.integers(1, 7_200),
        st.integers(1, 3 * 86_400),
        st.sampled_from(["boundary-1", "boundary", "boundary+1", "window", "2 windows"]),
    )


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_mint_sequences_never_exceed_any_window_and_are_refused_only_by_a_limit(attested_suite, data):
    s = attested_suite
    c, b = s.controller, minter_b(s)
    snapshot = s.chain.snapshot()
    try:
        global_tiyin = data.draw(st.sampled_from([200_000_00, 400_000_00]), label="global window (tiyin)")
        minter_window_tiyin = data.draw(st.sampled_from([250_000_00, 150_000_00]), label="minter window (tiyin)")
        c.setPerTxCap(CAP_TIYIN * TIYIN, sender=s.guardian)
        c.setGlobalWindowLimit(global_tiyin * TIYIN, sender=s.guardian)
        c.setMinterLimits(b, ALLOWANCE_TIYIN * TIYIN, minter_window_tiyin * TIYIN, sender=s.guardian)
        minter_model, global_model = WindowModel(minter_window_tiyin), WindowModel(global_tiyin)
        allowance = ALLOWANCE_TIYIN
        attested_as_of = s.registry.latestReserves()[1]
        log: list[tuple[int, int]] = []
        t = head_time(s)

        for _ in range(data.draw(st.integers(1, 9), label="steps")):
            jump = data.draw(_jumps(), label="jump")
            if isinstance(jump, str):
                boundary = (t // WINDOW + 1) * WINDOW
                jump = {"boundary-1": boundary - 1, "boundary": boundary, "boundary+1": boundary + 1,
                        "window": t + WINDOW, "2 windows": t + 2 * WINDOW}[jump] - t - 3
            t = max(t + jump, t + 1)  # the request's timestamp; approve at t+2, execute at t+3
            te = t + 3
            limit_now = min(global_model.available(te), minter_model.available(te), allowance, CAP_TIYIN)
            amount = data.draw(st.one_of(
                st.integers(1, MAX_AMOUNT_TIYIN),
                st.integers(60_000_00, MAX_AMOUNT_TIYIN),
                st.sampled_from([limit_now, limit_now + 1, CAP_TIYIN, CAP_TIYIN + 1]).filter(lambda a: 1 <= a <= MAX_AMOUNT_TIYIN),
            ), label="amount (tiyin)")
            units = amount * TIYIN

            at(s, t)
            if amount > CAP_TIYIN:
                with reverts("ExceedsPerTransactionCap", amount=units, cap=CAP_TIYIN * TIYIN):
                    c.requestMint(s.holders[0], units, b"\x00" * 31 + b"\x01", sender=b)
                event("refused at request: ExceedsPerTransactionCap")
                continue
            ref, _ = open_request(s, s.holders[0], units, minter=b)
            if te - attested_as_of > MAX_ATTESTATION_AGE:
                at(s, t + 1)
                attest(s, ATTESTED_RESERVES, as_of=t)
                attested_as_of = t
            at(s, t + 2)
            s.controller.approveMint(ref, s.holders[0], units, sender=s.approvers[0])
            at(s, te)
            g_avail, m_avail = global_model.available(te), minter_model.available(te)
            if g_avail < amount:
                expected = ("ExceedsGlobalWindow", dict(amount=units, available=g_avail * TIYIN))
            elif allowance < amount:
                expected = ("ExceedsMinterAllowance", dict(minter=addr(b), amount=units, allowance=allowance * TIYIN))
            elif m_avail < amount:
                expected = ("ExceedsMinterWindow", dict(minter=addr(b), amount=units, available=m_avail * TIYIN))
            else:
                expected = None
            event(f"execution refused: {expected[0]}" if expected else "minted")
            if expected:
                with reverts(expected[0], **expected[1]):
                    c.executeMint(ref, sender=s.outsiders[0])
            else:
                receipt = c.executeMint(ref, sender=s.outsiders[0])
                assert block_time(s, receipt) == te
                minter_model.record(te, amount)
                global_model.record(te, amount)
                allowance -= amount
                log.append((te, amount))
            t = te
            assert status_tuple(c.minterStatus(b)) == (allowance * TIYIN, minter_window_tiyin * TIYIN,
                                                       minter_model.used(te) * TIYIN, minter_model.available(te) * TIYIN)
            assert status_tuple(c.globalStatus()) == (CAP_TIYIN * TIYIN, global_tiyin * TIYIN,
                                                      global_model.used(te) * TIYIN, global_model.available(te) * TIYIN)

        assert max_interval_sum(log) <= min(minter_window_tiyin, global_tiyin)
        assert s.token.totalSupply() == sum(a for _, a in log) * TIYIN
    finally:
        s.chain.restore(snapshot)


def test_the_interval_checker_itself_sees_a_violation():
    """Guards the property above against a checker that could never fail: two full-limit mints one window apart
    fit in one closed interval of windowSeconds; a second later they do not."""
    assert max_interval_sum([(100, 5), (100 + WINDOW, 5)]) == 10
    assert max_interval_sum([(100, 5), (101 + WINDOW, 5)]) == 5
    model = WindowModel(5)
    model.record(WINDOW - 1, 5)
    assert model.available(2 * WINDOW - 1) == 0 and model.available(2 * WINDOW) == 5
