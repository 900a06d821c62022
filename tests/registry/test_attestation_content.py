"""What an attestation may say, independently of who signed it: measured no later than now, newer than the
latest, never the same signed attestation twice, a non-empty breakdown over known, active custodians in strictly
increasing id order whose amounts sum exactly to the total, and a report hash.

Every input here is properly signed by two auditors (with eth-account, over exactly the submitted tuple, built by
hand where kgst.attestation would refuse to build it), so the content rule is the only thing that is wrong."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from tests.registry.helpers import (
    ZERO_BYTES32,
    Ev,
    Input,
    admin,
    assert_events,
    attestation_input,
    eip712_digest,
    reverts,
    submission_events,
)


# --- time -------------------------------------------------------------------------------------------------------


def test_an_attestation_measured_in_the_future_is_rejected(suite, registry, submit):
    block_time = suite.chain.pending_timestamp + 10
    suite.chain.pending_timestamp = block_time
    with reverts("AttestationFromFuture", asOf=block_time + 1, nowTimestamp=block_time):
        submit(attestation_input(block_time + 1, [100]))


def test_an_attestation_measured_in_the_block_of_submission_is_accepted(suite, registry, auditors, outsider, submit):
    block_time = suite.chain.pending_timestamp + 10
    suite.chain.pending_timestamp = block_time
    inp = attestation_input(block_time, [100])
    receipt = submit(inp)
    assert receipt.timestamp == block_time
    assert_events(receipt, registry, submission_events(0, inp, auditors[:2], outsider))


def test_an_attestation_must_be_newer_than_the_latest(suite, registry, auditors, outsider, submit, now):
    submit(attestation_input(now - 100, [100, 200, 300]))

    for stale_as_of in (now - 100, now - 101, 0):
        with reverts("AttestationNotNewer", asOf=stale_as_of, latestAsOf=now - 100):
            submit(attestation_input(stale_as_of, [100, 200, 301], report=b"a later report"))

    newer = attestation_input(now - 99, [100, 200, 301])
    assert_events(submit(newer), registry, submission_events(1, newer, auditors[:2], outsider))


def test_the_first_attestation_may_have_any_past_as_of(registry, submit):
    submit(attestation_input(1, [100]))
    assert registry.latestAttestation().asOf == 1


def test_the_same_signed_attestation_cannot_be_submitted_twice(registry, chain_id, auditors, outsider, good_input, sign_for):
    sigs = sign_for(good_input, auditors[:2])
    registry.submitAttestation(good_input.as_tuple(), sigs, sender=outsider)
    digest = eip712_digest(good_input, chain_id=chain_id, registry=registry)

    # the duplicate is named as such, not as "not newer", by anyone, with the same or other signatures
    with reverts("AttestationAlreadySubmitted", digest=digest):
        registry.submitAttestation(good_input.as_tuple(), sigs, sender=outsider)
    with reverts("AttestationAlreadySubmitted", digest=digest):
        registry.submitAttestation(good_input.as_tuple(), sign_for(good_input, auditors[1:]), sender=auditors[2])
    assert registry.attestationCount() == 1


def test_an_old_signed_attestation_is_still_a_duplicate_after_newer_ones(suite, registry, chain_id, auditors, outsider, sign_for, submit, now):
    first = attestation_input(now - 10, [100])
    first_sigs = sign_for(first, auditors[:2])
    registry.submitAttestation(first.as_tuple(), first_sigs, sender=outsider)
    submit(attestation_input(now - 5, [200]))

    with reverts("AttestationAlreadySubmitted", digest=eip712_digest(first, chain_id=chain_id, registry=registry)):
        registry.submitAttestation(first.as_tuple(), first_sigs, sender=outsider)


# --- the custodian breakdown --------------------------------------------------------------------------------------


@pytest.mark.parametrize("total_delta", [+1, -1, +10**12], ids=["total-1-tiyin-high", "total-1-tiyin-low", "total-far-off"])
def test_custodian_amounts_must_sum_exactly_to_the_total(registry, submit, now, total_delta):
    amounts = (30_000_000_000, 20_000_000_001, 5_000_000_000)
    inp = Input(now, sum(amounts) + total_delta, (0, 1, 2), amounts, keccak(b"report"))
    with reverts("CustodianSumMismatch", sumTiyin=sum(amounts), totalTiyin=sum(amounts) + total_delta):
        submit(inp)
    assert registry.attestationCount() == 0


def test_an_empty_custodian_breakdown_is_rejected(submit, now):
    for total in (0, 100):
        with reverts("EmptyCustodianBreakdown"):
            submit(Input(now, total, (), (), keccak(b"report")))


@pytest.mark.parametrize("ids,amounts", [((0, 1), (100,)), ((0,), (100, 200)), ((0, 1, 2), ())], ids=["2-ids-1-amount", "1-id-2-amounts", "3-ids-no-amounts"])
def test_ids_and_amounts_must_have_the_same_length(submit, now, ids, amounts):
    with reverts("CustodianBreakdownLengthMismatch", ids=len(ids), amounts=len(amounts)):
        submit(Input(now, sum(amounts), ids, amounts, keccak(b"report")))


@pytest.mark.parametrize("ids,position", [((1, 0), 1), ((0, 0), 1), ((0, 2, 1), 2), ((0, 1, 1), 2), ((2, 1, 0), 1)],
                         ids=["descending", "duplicate", "unsorted-tail", "duplicate-tail", "reversed"])
def test_custodian_ids_must_be_strictly_increasing(submit, now, ids, position):
    amounts = tuple(100 * (i + 1) for i in range(len(ids)))
    with reverts("CustodiansNotSorted", position=position):
        submit(Input(now, sum(amounts), ids, amounts, keccak(b"report")))


@pytest.mark.parametrize("unknown", [3, 2**255], ids=["next-id", "huge-id"])
def test_an_unknown_custodian_is_rejected(registry, submit, now, unknown):
    assert registry.custodianCount() == 3
    with reverts("UnknownCustodian", custodianId=unknown):
        submit(attestation_input(now, {0: 100, unknown: 200}))


def test_an_inactive_custodian_cannot_be_attested_until_reactivated(suite, registry, auditors, outsider, submit, now):
    receipt = registry.deactivateCustodian(1, sender=suite.guardian)
    assert_events(receipt, registry, [Ev("CustodianActiveChanged", custodianId=1, active=False, by=suite.guardian)])

    with reverts("CustodianInactive", custodianId=1):
        submit(attestation_input(now, [100, 200, 300]))
    without_1 = attestation_input(now, {0: 100, 2: 300})
    assert_events(submit(without_1), registry, submission_events(0, without_1, auditors[:2], outsider))

    receipt = admin(suite, "reactivateCustodian", 1)
    assert_events(receipt, registry, [Ev("CustodianActiveChanged", custodianId=1, active=True, by=suite.timelock)])
    with_1 = attestation_input(suite.chain.pending_timestamp - 1, [100, 200, 300])
    assert_events(submit(with_1), registry, submission_events(1, with_1, auditors[:2], outsider))


def test_a_report_hash_is_required(submit, good_input):
    with reverts("MissingReportHash"):
        submit(good_input.but(report_hash=ZERO_BYTES32))


def test_an_empty_report_uri_is_accepted_when_the_report_hash_is_given(registry, auditors, outsider, submit, good_input):
    """Only the hash identifies the report; where it is published is informational."""
    inp = good_input.but(report_uri="")
    assert_events(submit(inp), registry, submission_events(0, inp, auditors[:2], outsider))


def test_a_zero_reserve_attestation_is_accepted(registry, auditors, outsider, submit, now):
    """A custodian account that holds nothing can be attested as such (total 0)."""
    inp = attestation_input(now, [0])
    assert_events(submit(inp), registry, submission_events(0, inp, auditors[:2], outsider))
    assert registry.latestReserves() == (0, now, 1)


def test_a_total_beyond_uint128_tiyin_is_refused_not_truncated(registry, submit, now):
    too_big = 2**128
    with reverts("SafeCastOverflowedUintDowncast", bits=128, value=too_big):
        submit(attestation_input(now, [too_big - 1, 1]))
    assert registry.attestationCount() == 0
