"""Who can make an attestation count: k = 2 distinct registered auditors, each with a valid EIP-712 signature
over exactly the submitted content, for this registry on this chain. Signatures are made with eth-account; the
contract's attestationDigest is only compared with the independently computed digest, never used to sign."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from tests.registry.helpers import (
    ATTESTATION_TYPE_STRING,
    DOMAIN_NAME,
    DOMAIN_VERSION,
    Ev,
    addr,
    assert_events,
    attestation_input,
    ecrecover_precompile,
    eip712_digest,
    eth_account_digest,
    expected_entry,
    govern,
    call,
    high_s_twin,
    join,
    reverts,
    sign_hash,
    split,
    stored,
    submission_events,
)


# --- the signed message -----------------------------------------------------------------------------------------


def test_attestation_digest_equals_the_independently_computed_eip712_digest(registry, chain_id, good_input):
    by_hand = eip712_digest(good_input, chain_id=chain_id, registry=registry)
    assert eth_account_digest(good_input, chain_id=chain_id, registry=registry) == by_hand
    assert bytes(registry.attestationDigest(good_input.as_tuple())) == by_hand
    assert bytes(registry.ATTESTATION_TYPEHASH()) == keccak(text=ATTESTATION_TYPE_STRING)


def test_eip712_domain_is_this_registry_on_this_chain(registry, chain_id):
    domain = registry.eip712Domain()
    assert (domain.name, domain.version, domain.chainId, addr(domain.verifyingContract)) == (
        DOMAIN_NAME, DOMAIN_VERSION, chain_id, addr(registry))
    assert bytes(domain.fields) == b"\x0f"  # name, version, chainId, verifyingContract; no salt


def test_every_field_of_the_attestation_changes_the_digest(registry, chain_id, good_input):
    variants = [
        good_input.but(as_of=good_input.as_of - 1),
        good_input.but(total=good_input.total + 1, amounts=(good_input.amounts[0] + 1, *good_input.amounts[1:])),
        good_input.but(amounts=(good_input.amounts[0] - 1, good_input.amounts[1] + 1, good_input.amounts[2])),
        good_input.but(ids=(0, 1, 3)),
        good_input.but(report_hash=keccak(b"another report")),
        good_input.but(report_uri=good_input.report_uri + "/"),
    ]
    digests = {bytes(registry.attestationDigest(v.as_tuple())) for v in [good_input, *variants]}
    assert len(digests) == len(variants) + 1
    for v in variants:
        assert bytes(registry.attestationDigest(v.as_tuple())) == eip712_digest(v, chain_id=chain_id, registry=registry)


# --- k of n ------------------------------------------------------------------------------------------------------


def test_two_of_three_auditors_make_an_attestation_count(suite, registry, chain_id, auditors, outsider, good_input, sign_for):
    signers = auditors[:2]
    receipt = registry.submitAttestation(good_input.as_tuple(), sign_for(good_input, signers), sender=outsider)

    assert_events(receipt, registry, submission_events(0, good_input, signers, outsider))
    assert registry.attestationCount() == 1
    assert stored(registry.attestation(0)) == expected_entry(
        good_input, submitted_at=receipt.timestamp, signers=signers, submitter=outsider)
    assert registry.attestationSubmitted(eip712_digest(good_input, chain_id=chain_id, registry=registry))


def test_all_three_auditors_may_sign(registry, auditors, outsider, good_input, submit):
    receipt = submit(good_input, auditors)
    assert_events(receipt, registry, submission_events(0, good_input, auditors, outsider))
    assert stored(registry.latestAttestation())["signers"] == [addr(a) for a in auditors]


@pytest.mark.parametrize("order", [(1, 0), (2, 0), (2, 1), (2, 0, 1), (1, 2, 0), (0, 2, 1)], ids=str)
def test_signers_are_accepted_in_any_order(registry, auditors, outsider, good_input, submit, order):
    signers = [auditors[i] for i in order]
    receipt = submit(good_input, signers)
    # recorded in the order they were given
    assert_events(receipt, registry, submission_events(0, good_input, signers, outsider))


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_signatures_than_the_threshold_are_rejected(registry, auditors, outsider, good_input, sign_for, count):
    with reverts("NotEnoughSignatures", provided=count, required=2):
        registry.submitAttestation(good_input.as_tuple(), sign_for(good_input, auditors[:count]), sender=outsider)
    assert registry.attestationCount() == 0


def test_a_signature_by_a_non_auditor_is_rejected(registry, auditors, stranger, outsider, good_input, sign_for):
    with reverts("UnknownAuditor", signer=stranger):
        registry.submitAttestation(good_input.as_tuple(), sign_for(good_input, [auditors[0], stranger]), sender=outsider)


def test_a_non_auditor_cannot_ride_along_with_enough_auditors(registry, auditors, stranger, outsider, good_input, sign_for):
    """Every listed signer must be a registered auditor, not only the first k."""
    sigs = sign_for(good_input, [auditors[0], auditors[1], stranger])
    with reverts("UnknownAuditor", signer=stranger):
        registry.submitAttestation(good_input.as_tuple(), sigs, sender=outsider)


def test_the_zero_address_is_not_an_auditor(registry, auditors, outsider, good_input, sign_for):
    sigs = sign_for(good_input, [auditors[0]]) + [("0x0000000000000000000000000000000000000000", b"\x00" * 65)]
    with reverts("UnknownAuditor", signer="0x0000000000000000000000000000000000000000"):
        registry.submitAttestation(good_input.as_tuple(), sigs, sender=outsider)


@pytest.mark.parametrize("pattern", [(0, 0), (0, 1, 0), (1, 2, 2)], ids=str)
def test_the_same_auditor_counts_only_once(registry, auditors, outsider, good_input, sign_for, pattern):
    sigs = sign_for(good_input, [auditors[i] for i in pattern])
    duplicate = auditors[pattern[-1]]
    with reverts("DuplicateSigner", signer=duplicate):
        registry.submitAttestation(good_input.as_tuple(), sigs, sender=outsider)


def test_an_auditors_slot_cannot_carry_another_auditors_signature(registry, auditors, outsider, good_input, sign_for):
    """auditor 0 is named, but the signature is auditor 2's: it does not count for auditor 0."""
    (_, sig2), = sign_for(good_input, [auditors[2]])
    (a1, sig1), = sign_for(good_input, [auditors[1]])
    with reverts("InvalidSignature", signer=auditors[0]):
        registry.submitAttestation(good_input.as_tuple(), [(addr(auditors[0]), sig2), (a1, sig1)], sender=outsider)


# --- signatures over other content, chains, registries ---------------------------------------------------------

TAMPERING = {
    "total and one custodian amount raised": lambda i: i.but(total=i.total + 100, amounts=(i.amounts[0], i.amounts[1] + 100, i.amounts[2])),
    "amount moved between custodians": lambda i: i.but(amounts=(i.amounts[0] + 1, i.amounts[1] - 1, i.amounts[2])),
    "custodian dropped": lambda i: i.but(total=i.total - i.amounts[2], ids=i.ids[:2], amounts=i.amounts[:2]),
    "report URI": lambda i: i.but(report_uri="ipfs://a-different-report"),
    "report hash": lambda i: i.but(report_hash=keccak(b"a different report")),
    "asOf": lambda i: i.but(as_of=i.as_of - 60),
}


@pytest.mark.parametrize("tamper", list(TAMPERING), ids=list(TAMPERING))
def test_signatures_over_different_content_are_rejected(registry, auditors, outsider, good_input, sign_for, tamper):
    """The auditors signed good_input; the submitted content differs in one respect (and is itself valid)."""
    submitted = TAMPERING[tamper](good_input)
    with reverts("InvalidSignature", signer=auditors[0]):
        registry.submitAttestation(submitted.as_tuple(), sign_for(good_input, auditors[:2]), sender=outsider)
    # what they signed is still accepted
    registry.submitAttestation(good_input.as_tuple(), sign_for(good_input, auditors[:2]), sender=outsider)
    assert registry.attestationCount() == 1


@pytest.mark.parametrize("other_chain", [97, 56], ids=["bsc-testnet", "bsc-mainnet"])
def test_signatures_for_another_chain_are_rejected(registry, auditors, outsider, good_input, sign_for, chain_id, other_chain):
    assert chain_id == 31337
    with reverts("InvalidSignature", signer=auditors[0]):
        registry.submitAttestation(good_input.as_tuple(), sign_for(good_input, auditors[:2], chain=other_chain), sender=outsider)


@pytest.fixture
def second_registry(suite, project):
    """Registry B: same admin, guardian, auditors, threshold and custodians as the suite's registry A."""
    reg = suite.registry
    custodians = [(c.name, bytes(c.accountRefHash)) for c in (reg.custodian(i) for i in range(reg.custodianCount()))]
    init = (suite.timelock.address, 60, suite.guardian.address, [a.address for a in suite.auditors], 2, custodians, [], [])
    return suite.deployer.deploy(project.KGSTReserveRegistry, init)


def test_signatures_for_one_registry_do_not_count_on_another(registry, second_registry, auditors, outsider, good_input, sign_for):
    for_a = sign_for(good_input, auditors[:2], on=registry)
    assert list(second_registry.auditors()) == [addr(a) for a in auditors]

    with reverts("InvalidSignature", signer=auditors[0]):
        second_registry.submitAttestation(good_input.as_tuple(), for_a, sender=outsider)

    registry.submitAttestation(good_input.as_tuple(), for_a, sender=outsider)  # valid where they were meant
    second_registry.submitAttestation(good_input.as_tuple(), sign_for(good_input, auditors[:2], on=second_registry), sender=outsider)
    assert (registry.attestationCount(), second_registry.attestationCount()) == (1, 1)


# --- malformed and non-canonical signatures ---------------------------------------------------------------------


def test_the_malleable_high_s_twin_of_a_valid_signature_is_rejected(suite, registry, chain_id, auditors, outsider, good_input, sign_for):
    (a0, low_s), (a1, sig1) = sign_for(good_input, auditors[:2])
    twin = high_s_twin(low_s)
    digest = eip712_digest(good_input, chain_id=chain_id, registry=registry)
    # both recover to auditor 0 under the raw ecrecover precompile: only the s <= n/2 rule tells them apart
    assert ecrecover_precompile(suite.chain.provider, digest, low_s) == a0
    assert ecrecover_precompile(suite.chain.provider, digest, twin) == a0

    with reverts("InvalidSignature", signer=a0):
        registry.submitAttestation(good_input.as_tuple(), [(a0, twin), (a1, sig1)], sender=outsider)
    registry.submitAttestation(good_input.as_tuple(), [(a0, low_s), (a1, sig1)], sender=outsider)


def _v_minus_27(sig: bytes) -> bytes:
    r, s, v = split(sig)
    return join(r, s, v - 27)


def _compact_eip2098(sig: bytes) -> bytes:
    r, s, v = split(sig)
    return r.to_bytes(32, "big") + (s | ((v - 27) << 255)).to_bytes(32, "big")


MALFORMED = {
    "v is 0/1 instead of 27/28": _v_minus_27,
    "64-byte EIP-2098 compact form": _compact_eip2098,
    "empty": lambda sig: b"",
    "all zero": lambda sig: b"\x00" * 65,
    "trailing byte": lambda sig: sig + b"\x00",
}


@pytest.mark.parametrize("form", list(MALFORMED), ids=list(MALFORMED))
def test_only_canonical_65_byte_signatures_from_an_eoa_count(registry, auditors, outsider, good_input, sign_for, form):
    (a0, sig0), second = sign_for(good_input, auditors[:2])
    with reverts("InvalidSignature", signer=a0):
        registry.submitAttestation(good_input.as_tuple(), [(a0, MALFORMED[form](sig0)), second], sender=outsider)


# --- smart-wallet (ERC-1271) auditors ---------------------------------------------------------------------------


@pytest.fixture
def wallet_auditor(suite, project, stranger):
    """A MockERC1271Wallet owned by `stranger`, registered as a 4th auditor through the timelock."""
    wallet = stranger.deploy(project.MockERC1271Wallet, stranger.address)
    receipt = govern(suite, call(suite.registry, "addAuditor", wallet.address))
    assert_events(receipt, suite.registry, [Ev("AuditorAdded", auditor=wallet, auditorCount=4)])
    return wallet


def test_a_smart_wallet_auditor_signs_through_erc1271(suite, registry, chain_id, wallet_auditor, stranger, auditors, outsider, sign_for):
    inp = _fresh_input(suite)
    digest = eip712_digest(inp, chain_id=chain_id, registry=registry)
    wallet_sig = (wallet_auditor.address, sign_hash(digest, stranger))  # the owner's key signs for the wallet
    signers = [wallet_auditor, auditors[2]]
    receipt = registry.submitAttestation(inp.as_tuple(), [wallet_sig, *sign_for(inp, auditors[2:])], sender=outsider)
    assert_events(receipt, registry, submission_events(0, inp, signers, outsider))


def test_a_smart_wallet_auditor_may_approve_on_chain_with_an_empty_signature(suite, registry, chain_id, wallet_auditor, stranger, auditors, outsider, sign_for):
    """The wallet decides what a valid signature is: here a pre-approved hash and no signature bytes at all."""
    inp = _fresh_input(suite)
    digest = eip712_digest(inp, chain_id=chain_id, registry=registry)
    sigs = [(wallet_auditor.address, b""), *sign_for(inp, auditors[:1])]
    with reverts("InvalidSignature", signer=wallet_auditor):
        registry.submitAttestation(inp.as_tuple(), sigs, sender=outsider)

    wallet_auditor.approveHash(digest, sender=stranger)
    receipt = registry.submitAttestation(inp.as_tuple(), sigs, sender=outsider)
    assert_events(receipt, registry, submission_events(0, inp, [wallet_auditor, auditors[0]], outsider))


def test_a_smart_wallet_auditor_rejects_a_signature_by_someone_other_than_its_owner(suite, registry, chain_id, wallet_auditor, auditors, outsider, sign_for):
    inp = _fresh_input(suite)
    digest = eip712_digest(inp, chain_id=chain_id, registry=registry)
    not_owner = (wallet_auditor.address, sign_hash(digest, auditors[0]))
    with reverts("InvalidSignature", signer=wallet_auditor):
        registry.submitAttestation(inp.as_tuple(), [not_owner, *sign_for(inp, auditors[1:2])], sender=outsider)


def _fresh_input(suite):
    return attestation_input(suite.chain.pending_timestamp - 1, [1_000_00, 2_000_00, 3_000_00])
