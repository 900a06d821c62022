"""Gas of submitting an attestation, recorded for the report (run with -s to see the figures). The bound is only
a sanity check, far above what BNB Chain's block gas limit would make a problem."""

from __future__ import annotations

from tests.registry.helpers import assert_events, attestation_input, submission_events


def test_gas_of_a_2_of_3_attestation_with_three_custodians(suite, registry, auditors, outsider, submit):
    first = attestation_input(suite.chain.pending_timestamp - 1, [30_000_000_000, 20_000_000_001, 5_000_000_000])
    receipt = submit(first, auditors[:2])
    assert_events(receipt, registry, submission_events(0, first, auditors[:2], outsider))

    suite.time_travel(3_600)
    second = attestation_input(suite.chain.pending_timestamp - 1, [30_000_000_001, 20_000_000_001, 5_000_000_000], report=b"next")
    receipt_2 = submit(second, auditors[1:])
    assert_events(receipt_2, registry, submission_events(1, second, auditors[1:], outsider))

    print(f"\nsubmitAttestation, k=2, 3 custodians: first {receipt.gas_used} gas, later {receipt_2.gas_used} gas")
    assert receipt.gas_used < 1_000_000 and receipt_2.gas_used < 1_000_000


def test_gas_of_a_3_of_3_attestation_with_three_custodians(suite, registry, auditors, outsider, submit):
    inp = attestation_input(suite.chain.pending_timestamp - 1, [30_000_000_000, 20_000_000_001, 5_000_000_000])
    receipt = submit(inp, auditors)
    assert_events(receipt, registry, submission_events(0, inp, auditors, outsider))
    print(f"\nsubmitAttestation, k=3, 3 custodians: {receipt.gas_used} gas")
    assert receipt.gas_used < 1_000_000
