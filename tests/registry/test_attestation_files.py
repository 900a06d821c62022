"""kgst.attestation, the off-chain half of attesting: the Attestation it builds and validates, its JSON form, the
auditors' signature files, and `collect`, which must refuse (with a message that says why) any set of files the
registry would reject, before anything is sent, and accept a good set that the registry then accepts."""

from __future__ import annotations

import dataclasses
import json

import pytest
from eth_account import Account
from eth_utils import keccak

from kgst.attestation import (
    Attestation,
    AttestationError,
    SignedAttestation,
    collect,
    digest,
    report_hash_of,
    sign_with_key,
)
from kgst.amounts import SomAmount
from tests.registry.helpers import (
    Input,
    addr,
    assert_events,
    eip712_digest,
    high_s_twin,
    join,
    reverts,
    split,
    submission_events,
)

REPORT = b"%PDF-1.7 KGST reserve audit, 30 September 2025"


def make(as_of=1_700_000_000, amounts=((0, 30_000_000_000), (1, 20_000_000_001), (2, 5_000_000_000)), report_hash=None, uri="ipfs://kgst-q3"):
    return Attestation(as_of=as_of, custodian_amounts=tuple(amounts), report_hash=report_hash or report_hash_of(REPORT), report_uri=uri)


def as_input(a: Attestation) -> Input:
    ids, amounts = zip(*a.custodian_amounts)
    return Input(a.as_of, sum(amounts), ids, amounts, a.report_hash, a.report_uri)


# --- Attestation ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amounts,words", [
    (((1, 5), (0, 5)), "increasing order"),
    (((0, 5), (0, 6)), "distinct"),
    ((), "at least one custodian"),
    (((0, -1),), "negative"),
], ids=["unsorted", "duplicate-id", "empty", "negative"])
def test_an_attestation_with_a_bad_breakdown_cannot_be_built(amounts, words):
    with pytest.raises(AttestationError, match=words):
        make(amounts=amounts)


@pytest.mark.parametrize("report_hash", [b"\x00" * 32, b"\x01" * 31, b"\x01" * 33], ids=["zero", "31-bytes", "33-bytes"])
def test_an_attestation_needs_a_32_byte_non_zero_report_hash(report_hash):
    with pytest.raises(AttestationError, match="report hash must be 32 non-zero bytes"):
        make(report_hash=report_hash)


def test_the_total_is_the_sum_of_the_breakdown_and_goes_into_the_contract_input():
    a = make()
    assert a.total == SomAmount(55_000_000_001)
    assert a.contract_input() == (1_700_000_000, 55_000_000_001, [0, 1, 2], [30_000_000_000, 20_000_000_001, 5_000_000_000],
                                  report_hash_of(REPORT), "ipfs://kgst-q3")
    assert report_hash_of(REPORT) == keccak(REPORT)


def test_json_round_trip_is_exact():
    a = make(amounts=((0, 1), (7, 2**200)), uri="ipfs://отчёт/ü")
    data = json.loads(json.dumps(a.to_json()))  # through actual JSON text
    assert data["reportHash"] == "0x" + report_hash_of(REPORT).hex()
    assert Attestation.from_json(data) == a


@pytest.mark.parametrize("broken", [
    lambda d: d.pop("asOf"),
    lambda d: d.update(custodianAmountsTiyin=[[0]]),
    lambda d: d.update(reportHash="0xnothex"),
    lambda d: d.update(asOf="yesterday"),
], ids=["missing-field", "pair-without-amount", "bad-hex", "non-numeric-asOf"])
def test_malformed_json_is_refused_with_a_clear_error(broken):
    data = make().to_json()
    broken(data)
    with pytest.raises(AttestationError, match="malformed attestation data"):
        Attestation.from_json(data)


def test_json_that_breaks_a_rule_is_refused_with_that_rule():
    data = make().to_json()
    data["custodianAmountsTiyin"] = [[2, 1], [1, 1]]
    with pytest.raises(AttestationError, match="increasing order"):
        Attestation.from_json(data)


# --- digest and signature files ---------------------------------------------------------------------------------------


def test_the_digest_is_the_registrys_eip712_digest(registry, chain_id, now):
    a = make(as_of=now)
    independent = eip712_digest(as_input(a), chain_id=chain_id, registry=registry)
    assert digest(a, chain_id=chain_id, registry=registry.address) == independent
    assert bytes(registry.attestationDigest(a.contract_input())) == independent


def test_a_signature_file_is_signed_by_the_auditors_key(registry, chain_id, auditors):
    a = make()
    s = sign_with_key(a, auditors[0].private_key, chain_id=chain_id, registry=registry.address)
    assert (s.auditor, s.chain_id, s.registry, s.attestation) == (addr(auditors[0]), chain_id, addr(registry), a)
    independent = eip712_digest(as_input(a), chain_id=chain_id, registry=registry)
    assert Account._recover_hash(independent, signature=s.signature) == addr(auditors[0])


def test_a_signature_file_round_trips_through_disk(tmp_path, registry, chain_id, auditors):
    s = sign_with_key(make(), auditors[1].private_key, chain_id=chain_id, registry=registry.address.lower())
    path = s.save(tmp_path / "auditor-12.json")
    loaded = SignedAttestation.load(path)
    assert loaded == s
    assert json.loads(path.read_text())["signature"] == "0x" + s.signature.hex()


def test_loading_a_missing_or_broken_signature_file_says_so(tmp_path):
    with pytest.raises(AttestationError, match="no signature file at"):
        SignedAttestation.load(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{ not json")
    with pytest.raises(AttestationError, match="is not a valid signature file"):
        SignedAttestation.load(tmp_path / "broken.json")
    (tmp_path / "partial.json").write_text(json.dumps({"auditor": "0x" + "11" * 20}))
    with pytest.raises(AttestationError, match="is not a valid signature file"):
        SignedAttestation.load(tmp_path / "partial.json")


# --- collect --------------------------------------------------------------------------------------------------------


@pytest.fixture
def context(registry, chain_id):
    """What `collect` is told about the deployment: read from the chain, as the attest script does."""
    return {"chain_id": chain_id, "registry": registry.address, "auditors": list(registry.auditors()), "threshold": registry.auditorThreshold()}


@pytest.fixture
def fresh(now):
    return make(as_of=now)


def signed(a, signer, context, **overrides):
    where = {"chain_id": context["chain_id"], "registry": context["registry"], **overrides}
    return sign_with_key(a, signer.private_key, **where)


def test_collect_accepts_two_of_three_files_and_the_registry_accepts_the_result(tmp_path, registry, auditors, outsider, context, fresh):
    paths = [signed(fresh, a, context).save(tmp_path / f"{i}.json") for i, a in enumerate([auditors[2], auditors[0]])]
    attestation, sigs = collect([SignedAttestation.load(p) for p in paths], **context)
    assert attestation == fresh
    assert sigs == [(addr(auditors[2]), signed(fresh, auditors[2], context).signature), (addr(auditors[0]), signed(fresh, auditors[0], context).signature)]

    receipt = registry.submitAttestation(attestation.contract_input(), sigs, sender=outsider)
    assert_events(receipt, registry, submission_events(0, as_input(fresh), [auditors[2], auditors[0]], outsider))


def test_collect_accepts_all_three_auditors(registry, auditors, outsider, context, fresh):
    _, sigs = collect([signed(fresh, a, context) for a in auditors], **context)
    registry.submitAttestation(fresh.contract_input(), sigs, sender=outsider)
    assert registry.attestationCount() == 1


def test_collect_refuses_a_file_signed_for_another_chain(auditors, context, fresh):
    files = [signed(fresh, auditors[0], context), signed(fresh, auditors[1], context, chain_id=97)]
    with pytest.raises(AttestationError, match=r"signed for chain 97, but this node is chain 31337"):
        collect(files, **context)


def test_collect_refuses_a_file_signed_for_another_registry(auditors, context, fresh):
    other = "0x" + "ab" * 20
    files = [signed(fresh, auditors[0], context), signed(fresh, auditors[1], context, registry=other)]
    with pytest.raises(AttestationError, match=r"signed for registry 0x[aA][bB].*but this deployment's registry is"):
        collect(files, **context)


@pytest.mark.parametrize("change", [
    lambda a: dataclasses.replace(a, custodian_amounts=((0, 30_000_000_000), (1, 20_000_000_002), (2, 5_000_000_000))),
    lambda a: dataclasses.replace(a, as_of=a.as_of - 1),
    lambda a: dataclasses.replace(a, report_uri="ipfs://elsewhere"),
], ids=["amount", "asOf", "report-uri"])
def test_collect_refuses_files_with_different_figures(auditors, context, fresh, change):
    files = [signed(fresh, auditors[0], context), signed(change(fresh), auditors[1], context)]
    with pytest.raises(AttestationError, match="signed different figures"):
        collect(files, **context)


def test_collect_refuses_a_non_auditor(stranger, auditors, context, fresh):
    files = [signed(fresh, auditors[0], context), signed(fresh, stranger, context)]
    with pytest.raises(AttestationError, match=f"{addr(stranger)} is not a registered auditor"):
        collect(files, **context)


def test_collect_refuses_the_same_auditor_twice(auditors, context, fresh):
    files = [signed(fresh, auditors[0], context), signed(fresh, auditors[1], context), signed(fresh, auditors[0], context)]
    with pytest.raises(AttestationError, match="signed twice; each auditor counts once"):
        collect(files, **context)


def test_collect_refuses_a_forged_signature(stranger, auditors, context, fresh):
    """A file that names auditor 1 but carries a signature by someone else."""
    forged = dataclasses.replace(signed(fresh, stranger, context), auditor=addr(auditors[1]))
    with pytest.raises(AttestationError, match=f"was not made by {addr(auditors[1])}"):
        collect([signed(fresh, auditors[0], context), forged], **context)


def test_collect_refuses_fewer_files_than_the_threshold(auditors, context, fresh):
    with pytest.raises(AttestationError, match=r"1 auditor signature\(s\); the registry needs 2"):
        collect([signed(fresh, auditors[0], context)], **context)
    with pytest.raises(AttestationError, match="no signature files given"):
        collect([], **context)


def test_collect_follows_the_threshold_it_is_given(auditors, context, fresh):
    with pytest.raises(AttestationError, match="the registry needs 3"):
        collect([signed(fresh, a, context) for a in auditors[:2]], **{**context, "threshold": 3})


# --- collect vs the registry: known gaps -------------------------------------------------------------------------------


def _v_minus_27(sig: bytes) -> bytes:
    r, s, v = split(sig)
    return join(r, s, v - 27)


NON_CANONICAL = {"high-s twin": high_s_twin, "v as 0/1": _v_minus_27}


@pytest.mark.parametrize("form", list(NON_CANONICAL), ids=list(NON_CANONICAL))
def test_collect_refuses_non_canonical_signatures_that_the_registry_rejects(registry, auditors, outsider, context, fresh, form):
    good = signed(fresh, auditors[0], context)
    odd = dataclasses.replace(good, signature=NON_CANONICAL[form](good.signature))
    other = signed(fresh, auditors[1], context)
    with reverts("InvalidSignature", signer=auditors[0]):  # the registry's verdict
        registry.submitAttestation(fresh.contract_input(), [(odd.auditor, odd.signature), (other.auditor, other.signature)], sender=outsider)
    with pytest.raises(AttestationError):
        collect([odd, other], **context)


@pytest.mark.parametrize("corrupt", [b"\x00" * 65, b"\xff" * 65, b"\x01" * 64], ids=["zeros", "ff-bytes", "64-bytes"])
def test_collect_reports_a_corrupted_signature_as_an_attestation_error(auditors, context, fresh, corrupt):
    broken = dataclasses.replace(signed(fresh, auditors[1], context), signature=corrupt)
    with pytest.raises(AttestationError, match=addr(auditors[1])):
        collect([signed(fresh, auditors[0], context), broken], **context)
