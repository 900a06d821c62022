"""The attestation history is append-only and read back exactly: by index, latest, count, the latest reserves in
token units (tiyin x 10^16, exact), their age, and the coverage ratio against a token's supply."""

from __future__ import annotations

import itertools

import pytest
from eth_utils import keccak

from tests.registry.helpers import (
    MAX_UINT256,
    TOKEN_UNITS_PER_TIYIN,
    assert_events,
    attestation_input,
    expected_entry,
    govern,
    call,
    stored,
    submission_events,
    view_error,
)
from tests.suite import HOLDERS, som


# --- no attestation yet ----------------------------------------------------------------------------------------


def test_before_any_attestation_the_views_fail_closed(registry, suite):
    assert registry.attestationCount() == 0
    assert registry.latestReserves() == (0, 0, 0)
    assert view_error(registry, "latestAttestation") == ("NoAttestation", {})
    assert view_error(registry, "reservesAge") == ("NoAttestation", {})
    assert view_error(registry, "coverageRatio", suite.token.address) == ("NoAttestation", {})
    assert view_error(registry, "attestation", 0) == ("AttestationIndexOutOfRange", {"index": 0, "count": 0})


# --- 25 attestations, read back exactly -----------------------------------------------------------------------


def _varied_inputs(suite, n):
    """n attestations that differ in every field: custodian subsets, amounts, reports, URIs, signers, submitters."""
    subsets = [(0, 1, 2), (0,), (1, 2), (0, 2), (2,), (0, 1)]
    signer_sets = [(0, 1), (1, 2), (2, 0), (0, 1, 2), (2, 1)]
    submitters = itertools.cycle([suite.accounts[i] for i in HOLDERS] + suite.outsiders + [suite.auditors[0]])
    for i in range(n):
        ids = subsets[i % len(subsets)]
        amounts = {cid: 10**9 * (i + 1) + 37 * cid + i for cid in ids}  # odd tiyin, so nothing rounds
        yield ids, amounts, [suite.auditors[j] for j in signer_sets[i % len(signer_sets)]], next(submitters)


def test_every_attestation_of_a_long_history_reads_back_exactly(suite, registry, sign_for):
    history = []
    for i, (_, amounts, signers, submitter) in enumerate(_varied_inputs(suite, 25)):
        suite.time_travel(3_600 + 17 * i)
        as_of = suite.chain.pending_timestamp - 1 - (i % 3)
        inp = attestation_input(as_of, amounts, report=f"audit report #{i}".encode(), uri=f"ipfs://report-{i}")
        receipt = registry.submitAttestation(inp.as_tuple(), sign_for(inp, signers), sender=submitter)

        assert_events(receipt, registry, submission_events(i, inp, signers, submitter))
        history.append(expected_entry(inp, submitted_at=receipt.timestamp, signers=signers, submitter=submitter))
        assert registry.attestationCount() == i + 1
        assert stored(registry.latestAttestation()) == history[-1]
        assert registry.latestReserves() == (inp.total * 10**16, as_of, i + 1)
        assert registry.reservesAge() == suite.chain.blocks.head.timestamp - as_of

    assert [stored(registry.attestation(i)) for i in range(25)] == history
    assert view_error(registry, "attestation", 25) == ("AttestationIndexOutOfRange", {"index": 25, "count": 25})
    assert view_error(registry, "attestation", MAX_UINT256) == ("AttestationIndexOutOfRange", {"index": MAX_UINT256, "count": 25})


def test_reserves_age_grows_with_time_since_as_of(suite, registry, submit, now):
    submit(attestation_input(now - 500, [100]))
    age = registry.reservesAge()
    assert age == suite.chain.blocks.head.timestamp - (now - 500)
    suite.time_travel(86_400)
    assert registry.reservesAge() == suite.chain.blocks.head.timestamp - (now - 500) >= age + 86_400


# --- token units ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tiyin", [[1], [125_000_000_050], [2**128 - 2, 1], [10**20 + 1, 10**20 + 2, 3]],
                         ids=["one-tiyin", "1,250,000,000.50-som", "uint128-max", "large-odd"])
def test_latest_reserves_are_tiyin_times_10_pow_16_exactly(registry, submit, now, tiyin):
    submit(attestation_input(now, tiyin))
    total = sum(tiyin)
    assert registry.TOKEN_UNITS_PER_TIYIN() == TOKEN_UNITS_PER_TIYIN
    assert registry.latestReserves() == (total * 10**16, now, 1)


# --- coverage ratio ----------------------------------------------------------------------------------------------


def test_coverage_is_unbounded_while_nothing_is_minted(suite, registry, submit, now):
    submit(attestation_input(now, [100_000]))
    assert suite.token.totalSupply() == 0
    assert registry.coverageRatio(suite.token.address) == MAX_UINT256


def test_coverage_ratio_is_reserves_over_supply_exactly(suite, registry, submit):
    holder = suite.holders[0]
    submit(attestation_input(suite.chain.pending_timestamp - 1, [60_000_00, 40_000_00]))  # 100,000.00 som
    suite.mint(holder, som(100_000), "KG-DEP-COVERAGE-1")
    assert suite.token.totalSupply() == som(100_000)
    assert registry.coverageRatio(suite.token.address) == 10**18  # exactly 100 %

    suite.time_travel(3_600)
    submit(attestation_input(suite.chain.pending_timestamp - 1, [60_000_00, 240_000_01]))  # 300,000.01 som
    assert registry.coverageRatio(suite.token.address) == 3_000_000_100_000_000_000  # 300.0001 %

    suite.mint(holder, som("7.13"), "KG-DEP-COVERAGE-2")
    supply = suite.token.totalSupply()
    assert supply == som("100007.13")
    reserves = 300_000_01 * 10**16
    assert registry.coverageRatio(suite.token.address) == reserves * 10**18 // supply


def test_coverage_ratio_rounds_down(suite, project, registry, submit, now):
    """Rounding can only understate coverage: reserves x 1e18 / supply, floored."""
    token = suite.deployer.deploy(project.PlainERC20)
    token.mint(suite.deployer, 3, sender=suite.deployer)
    submit(attestation_input(now, [1]))  # 0.01 som = 10^16 units against a supply of 3 units
    assert registry.coverageRatio(token.address) == 10**16 * 10**18 // 3 == int("3" * 34)


# --- append-only -------------------------------------------------------------------------------------------------

# Every state-changing function of the registry. None of them takes an attestation index or touches history;
# a new function here must be reviewed against the append-only rule.
STATE_CHANGING = {
    "submitAttestation",
    "addCustodian", "deactivateCustodian", "reactivateCustodian",
    "addAuditor", "removeAuditor", "setAuditorThreshold",
    "addReserveWallet", "removeReserveWallet", "addReserveAsset", "removeReserveAsset",
    "grantRole", "revokeRole", "renounceRole",
    "beginDefaultAdminTransfer", "cancelDefaultAdminTransfer", "acceptDefaultAdminTransfer",
    "changeDefaultAdminDelay", "rollbackDefaultAdminDelay",
}


def test_no_function_exists_that_could_rewrite_history(project):
    abi = project.KGSTReserveRegistry.contract_type.abi
    mutating = {f.name for f in abi if f.type == "function" and f.stateMutability not in ("view", "pure")}
    assert mutating == STATE_CHANGING
    assert not any(f.type in ("fallback", "receive") for f in abi)  # nor a catch-all entry point


def test_history_survives_later_submissions_and_every_admin_action(suite, project, registry, submit, sign_for, reserve_wallets):
    auditors = suite.auditors
    entries = []
    for i, (subset_signers, submitter) in enumerate([(auditors[:2], suite.holders[0]), (auditors[1:], suite.holders[1]), (auditors, suite.outsiders[0])]):
        suite.time_travel(60)
        inp = attestation_input(suite.chain.pending_timestamp - 1, [1_000 + i, 2_000 + i, 3_000 + i], report=f"r{i}".encode())
        receipt = registry.submitAttestation(inp.as_tuple(), sign_for(inp, subset_signers), sender=submitter)
        entries.append(expected_entry(inp, submitted_at=receipt.timestamp, signers=subset_signers, submitter=submitter))

    def history():
        return [stored(registry.attestation(i)) for i in range(len(entries))]

    assert history() == entries
    # risk-reducing actions by the guardian, on people and custodians the history names
    registry.deactivateCustodian(1, sender=suite.guardian)
    registry.removeAuditor(auditors[0], sender=suite.guardian)
    # risk-raising actions by the admin (timelock)
    new_auditor = suite.accounts[24]
    plain = suite.deployer.deploy(project.PlainERC20)
    govern(
        suite,
        call(registry, "addCustodian", "Bakai Bank (reserve account)", keccak(b"KG-BAKAI-1")),
        call(registry, "reactivateCustodian", 1),
        call(registry, "addAuditor", new_auditor.address),
        call(registry, "setAuditorThreshold", 3),
        call(registry, "addReserveWallet", suite.accounts[25].address, "Digital reserve wallet C"),
        call(registry, "removeReserveWallet", reserve_wallets[0].address),
        call(registry, "addReserveAsset", plain.address, "PLAIN"),
        call(registry, "removeReserveAsset", "0x0000000000000000000000000000000000000000"),
    )
    registry.deactivateCustodian(2, sender=suite.guardian)
    assert history() == entries  # removed auditor 0 is still recorded as a signer

    # a later submission under the new rules appends, and changes nothing before it
    signers = [auditors[1], auditors[2], new_auditor]
    inp = attestation_input(suite.chain.pending_timestamp - 1, {0: 10, 1: 20, 3: 30}, report=b"r3")
    receipt = registry.submitAttestation(inp.as_tuple(), sign_for(inp, signers), sender=suite.holders[2])
    entries.append(expected_entry(inp, submitted_at=receipt.timestamp, signers=signers, submitter=suite.holders[2]))
    assert registry.attestationCount() == 4
    assert history() == entries
