"""Fail-closed reserve bound: a mint executes only if the latest attestation exists, is at most
maxAttestationAge old (inclusive), and totalSupply + amount <= attested reserves x (1 - margin). `reserveHeadroom()`
returns (headroom, fresh, mintableSupply, supply, asOf) and is checked in every case."""

import pytest

from tests.controller.helpers import (
    ATTESTED_RESERVES,
    DEFAULT_ADMIN_ROLE,
    MAX_ATTESTATION_AGE,
    MINTER_A_ALLOWANCE,
    Ev,
    Status,
    addr,
    approved_request,
    as_admin,
    assert_events,
    at,
    attest,
    fresh_payout,
    head_time,
    mint,
    reverts,
    status_tuple,
    unauthorized,
)
from tests.suite import som


def headroom(s) -> tuple:
    return status_tuple(s.controller.reserveHeadroom())


def latest_as_of(s) -> int:
    return s.registry.latestReserves()[1]


def assert_nothing_minted(s, ref, amount_supply=0):
    assert s.token.totalSupply() == amount_supply
    assert s.controller.getRequest(ref).status == Status.PENDING


def test_no_attestation_fails_closed(unattested):
    u = unattested
    assert u.registry.attestationCount() == 0
    assert headroom(u) == (0, False, 0, 0, 0)
    ref = approved_request(u, u.holders[0], som(1))
    with reverts("NoReserveAttestation"):
        u.controller.executeMint(ref, sender=u.outsiders[0])
    assert_nothing_minted(u, ref)
    assert status_tuple(u.controller.minterStatus(u.minter))[0] == MINTER_A_ALLOWANCE

    attest(u, som(1_000))  # the first attestation unblocks it
    u.controller.executeMint(ref, sender=u.outsiders[0])
    assert u.token.totalSupply() == som(1)


def test_stale_attestation_blocks_minting_until_a_fresh_one_arrives(s):
    as_of = latest_as_of(s)
    ref = approved_request(s, s.holders[0], som(1))
    at(s, as_of + MAX_ATTESTATION_AGE + 1)
    with reverts("ReserveAttestationStale", asOf=as_of, maxAge=MAX_ATTESTATION_AGE):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    assert headroom(s) == (0, False, ATTESTED_RESERVES, 0, as_of)
    assert_nothing_minted(s, ref)

    at(s, as_of + MAX_ATTESTATION_AGE + 2)
    attest(s, ATTESTED_RESERVES, as_of=as_of + MAX_ATTESTATION_AGE + 1)
    s.controller.executeMint(ref, sender=s.outsiders[0])
    assert headroom(s) == (ATTESTED_RESERVES - som(1), True, ATTESTED_RESERVES, som(1), as_of + MAX_ATTESTATION_AGE + 1)


def test_attestation_exactly_max_age_old_still_counts(s):
    as_of = latest_as_of(s)
    ref = approved_request(s, s.holders[0], som(1))
    at(s, as_of + MAX_ATTESTATION_AGE)
    s.controller.executeMint(ref, sender=s.outsiders[0])
    assert head_time(s) - as_of == MAX_ATTESTATION_AGE
    assert headroom(s) == (ATTESTED_RESERVES - som(1), True, ATTESTED_RESERVES, som(1), as_of)


def test_supply_may_reach_but_never_exceed_attested_reserves(s):
    attest(s, som(1_000_000))
    as_of = latest_as_of(s)
    mint(s, s.holders[0], som(600_000))
    assert headroom(s) == (som(400_000), True, som(1_000_000), som(600_000), as_of)

    over = approved_request(s, s.holders[1], som("400000.01"))
    with reverts("ExceedsReserves", supply=som(600_000), amount=som("400000.01"), mintableSupply=som(1_000_000)):
        s.controller.executeMint(over, sender=s.outsiders[0])
    assert_nothing_minted(s, over, som(600_000))
    assert status_tuple(s.controller.minterStatus(s.minter))[0] == MINTER_A_ALLOWANCE - som(600_000)  # the refused one used none

    mint(s, s.holders[1], som(400_000))  # exactly equal is allowed
    assert s.token.totalSupply() == som(1_000_000)
    assert headroom(s) == (0, True, som(1_000_000), som(1_000_000), as_of)
    tiny = approved_request(s, s.holders[1], som("0.01"))
    with reverts("ExceedsReserves", supply=som(1_000_000), amount=som("0.01"), mintableSupply=som(1_000_000)):
        s.controller.executeMint(tiny, sender=s.outsiders[0])


def test_guardian_raises_the_margin_instantly_and_it_lowers_mintable_supply(s):
    c = s.controller
    attest(s, som(1_000_000))
    as_of = latest_as_of(s)
    receipt = c.setReserveMargin(1_000, sender=s.guardian)  # 10 %
    assert_events(receipt, [Ev(c, "ReserveMarginChanged", oldMarginBps=0, newMarginBps=1_000, by=addr(s.guardian))])
    assert headroom(s) == (som(900_000), True, som(900_000), 0, as_of)
    over = approved_request(s, s.holders[0], som("900000.01"))
    with reverts("ExceedsReserves", supply=0, amount=som("900000.01"), mintableSupply=som(900_000)):
        c.executeMint(over, sender=s.outsiders[0])
    mint(s, s.holders[0], som(900_000))
    assert headroom(s) == (0, True, som(900_000), som(900_000), as_of)
    with unauthorized(s.guardian, DEFAULT_ADMIN_ROLE):  # lowering the margin raises risk: not the guardian
        c.setReserveMargin(500, sender=s.guardian)


def test_timelock_sets_the_margin_either_way(s):
    c = s.controller
    as_of = latest_as_of(s)
    up = as_admin(s, c.setReserveMargin, 2_500)
    assert_events(up, [Ev(c, "ReserveMarginChanged", oldMarginBps=0, newMarginBps=2_500, by=addr(s.timelock))], only=c)
    assert headroom(s) == (som(412_500_000), True, som(412_500_000), 0, as_of)
    down = as_admin(s, c.setReserveMargin, 500)
    assert_events(down, [Ev(c, "ReserveMarginChanged", oldMarginBps=2_500, newMarginBps=500, by=addr(s.timelock))], only=c)
    assert headroom(s) == (som(522_500_000), True, som(522_500_000), 0, as_of)


def test_full_margin_blocks_all_minting_and_more_than_full_is_invalid(s):
    c = s.controller
    ref = approved_request(s, s.holders[0], som("0.01"))
    c.setReserveMargin(10_000, sender=s.guardian)
    assert headroom(s)[:3] == (0, True, 0)
    with reverts("ExceedsReserves", supply=0, amount=som("0.01"), mintableSupply=0):
        c.executeMint(ref, sender=s.outsiders[0])
    with reverts("InvalidConfig"):
        c.setReserveMargin(10_001, sender=s.guardian)


def test_a_newer_smaller_attestation_lowers_headroom_even_below_supply(s):
    mint(s, s.holders[0], som(1_000_000))
    attest(s, som(1_500_000))
    assert headroom(s) == (som(500_000), True, som(1_500_000), som(1_000_000), latest_as_of(s))
    attest(s, som(900_000))  # reserves fell below supply
    assert headroom(s) == (0, True, som(900_000), som(1_000_000), latest_as_of(s))
    tiny = approved_request(s, s.holders[1], som("0.01"))
    with reverts("ExceedsReserves", supply=som(1_000_000), amount=som("0.01"), mintableSupply=som(900_000)):
        s.controller.executeMint(tiny, sender=s.outsiders[0])
    # Redemptions are not blocked and restore coverage.
    s.token.approve(s.controller, som(200_000), sender=s.holders[0])
    s.controller.redeem(som(200_000), fresh_payout(), sender=s.holders[0])
    assert headroom(s) == (som(100_000), True, som(900_000), som(800_000), latest_as_of(s))
    s.controller.executeMint(tiny, sender=s.outsiders[0])


@pytest.mark.parametrize("reserves_som", ["0.01", "1", "123456.78"])
def test_headroom_view_is_exact_to_the_tiyin(s, reserves_som):
    attest(s, som(reserves_som))
    assert headroom(s) == (som(reserves_som), True, som(reserves_som), 0, latest_as_of(s))
    mint(s, s.holders[0], som(reserves_som))
    assert headroom(s)[0] == 0
