"""Asymmetric powers over the registry: risk-raising changes (add custodian/auditor/wallet/asset, reactivate,
change the threshold) only by the admin, which is the timelock (governance test:1 schedules, 60 s pass, then
executes); risk-reducing actions (deactivate a custodian, remove an auditor) instantly by the guardian (test:2)
or by the admin; nobody else can do either. Plus the auditor-set and threshold rules."""

from __future__ import annotations

import pytest
from eth_utils import keccak, to_checksum_address

from tests.registry.helpers import (
    DEFAULT_ADMIN_ROLE,
    ZERO_ADDRESS,
    ZERO_BYTES32,
    Ev,
    addr,
    admin,
    assert_events,
    attestation_input,
    call,
    govern,
    reverts,
    submission_events,
    timelock_execute,
    timelock_schedule,
)
from tests.suite import DEPLOYER, GOVERNANCE, GUARDIAN, OUTSIDERS

GUARDIAN_ROLE = keccak(text="GUARDIAN_ROLE")
NEW_ACCOUNT_REF = keccak(b"KG-BAKAI-1240000011112222")


def some_address(n: int) -> str:
    return to_checksum_address(keccak(f"address #{n}".encode())[12:])


# Arguments that would succeed if the caller were the admin (so only the role check can stop them).
ADMIN_ONLY = {
    "addCustodian": lambda s: ("Bakai Bank (reserve account)", NEW_ACCOUNT_REF),
    "reactivateCustodian": lambda s: (0,),
    "addAuditor": lambda s: (some_address(1),),
    "setAuditorThreshold": lambda s: (1,),
    "addReserveWallet": lambda s: (some_address(2), "Digital reserve wallet C"),
    "removeReserveWallet": lambda s: (s.accounts[20].address,),
    "addReserveAsset": lambda s: (some_address(3), "USDT"),
    "removeReserveAsset": lambda s: (ZERO_ADDRESS,),
    "grantRole": lambda s: (GUARDIAN_ROLE, some_address(4)),
}
GUARDIAN_OR_ADMIN = {
    "deactivateCustodian": lambda s: (0,),
    "removeAuditor": lambda s: (s.auditors[0].address,),
}
# Everyone who is not the admin: the governance EOA itself (it only proposes to the timelock), the guardian,
# the deployer, an auditor and a stranger.
NOT_ADMIN = {"governance-eoa": GOVERNANCE, "guardian": GUARDIAN, "deployer": DEPLOYER, "auditor": 11, "outsider": OUTSIDERS[0]}
NEITHER_GUARDIAN_NOR_ADMIN = {k: v for k, v in NOT_ADMIN.items() if k != "guardian"}


def test_the_admin_is_the_timelock_and_the_guardian_is_test_2(suite, registry):
    assert addr(registry.defaultAdmin()) == addr(suite.timelock)
    assert registry.hasRole(DEFAULT_ADMIN_ROLE, suite.timelock)
    assert bytes(registry.GUARDIAN_ROLE()) == GUARDIAN_ROLE
    assert registry.hasRole(GUARDIAN_ROLE, suite.guardian)
    for holder in (suite.governance, suite.deployer):
        assert not registry.hasRole(DEFAULT_ADMIN_ROLE, holder) and not registry.hasRole(GUARDIAN_ROLE, holder)


@pytest.mark.parametrize("caller", list(NOT_ADMIN), ids=list(NOT_ADMIN))
@pytest.mark.parametrize("fn", list(ADMIN_ONLY), ids=list(ADMIN_ONLY))
def test_admin_only_functions_revert_for_everyone_but_the_admin(suite, registry, fn, caller):
    if fn == "reactivateCustodian":
        registry.deactivateCustodian(0, sender=suite.guardian)
    account = suite.accounts[NOT_ADMIN[caller]]
    with reverts("AccessControlUnauthorizedAccount", account=account, neededRole=DEFAULT_ADMIN_ROLE):
        getattr(registry, fn)(*ADMIN_ONLY[fn](suite), sender=account)


@pytest.mark.parametrize("caller", list(NEITHER_GUARDIAN_NOR_ADMIN), ids=list(NEITHER_GUARDIAN_NOR_ADMIN))
@pytest.mark.parametrize("fn", list(GUARDIAN_OR_ADMIN), ids=list(GUARDIAN_OR_ADMIN))
def test_guardian_functions_revert_for_everyone_but_the_guardian_and_the_admin(suite, registry, fn, caller):
    account = suite.accounts[NEITHER_GUARDIAN_NOR_ADMIN[caller]]
    with reverts("AccessControlUnauthorizedAccount", account=account, neededRole=DEFAULT_ADMIN_ROLE):
        getattr(registry, fn)(*GUARDIAN_OR_ADMIN[fn](suite), sender=account)


# --- the admin, through the timelock -----------------------------------------------------------------------------


def test_admin_changes_wait_for_the_timelock_delay(suite, registry):
    calls = [call(registry, "addAuditor", some_address(1))]
    salt = timelock_schedule(suite, calls)
    suite.time_travel(30)
    op_id = suite.timelock.hashOperation(calls[0][0], 0, calls[0][1], ZERO_BYTES32, salt)
    ready = (1 << 2).to_bytes(32, "big")  # OperationState.Ready
    with reverts("TimelockUnexpectedOperationState", operationId=op_id, expectedStates=ready):
        timelock_execute(suite, calls, salt)
    assert not registry.isAuditor(some_address(1))

    suite.time_travel(31)
    timelock_execute(suite, calls, salt)
    assert registry.isAuditor(some_address(1))


def test_the_guardian_can_cancel_a_scheduled_admin_change(suite, registry):
    calls = [call(registry, "addAuditor", some_address(1))]
    salt = timelock_schedule(suite, calls)
    op_id = suite.timelock.hashOperation(calls[0][0], 0, calls[0][1], ZERO_BYTES32, salt)
    suite.timelock.cancel(op_id, sender=suite.guardian)
    suite.time_travel(61)
    with reverts("TimelockUnexpectedOperationState", operationId=op_id, expectedStates=(1 << 2).to_bytes(32, "big")):
        timelock_execute(suite, calls, salt)
    assert not registry.isAuditor(some_address(1))


def test_admin_adds_a_custodian(suite, registry, submit):
    receipt = admin(suite, "addCustodian", "Bakai Bank (reserve account)", NEW_ACCOUNT_REF)
    assert_events(receipt, registry, [Ev("CustodianAdded", custodianId=3, name="Bakai Bank (reserve account)", accountRefHash=NEW_ACCOUNT_REF)])
    assert registry.custodianCount() == 4
    c = registry.custodian(3)
    assert (c.name, bytes(c.accountRefHash), c.active) == ("Bakai Bank (reserve account)", NEW_ACCOUNT_REF, True)
    submit(attestation_input(suite.chain.pending_timestamp - 1, {0: 1, 3: 2}))  # attestable at once


def test_a_bank_account_can_be_registered_only_once(suite, registry):
    existing = bytes(registry.custodian(1).accountRefHash)
    with reverts("CustodianAccountAlreadyRegistered", accountRefHash=existing):
        admin(suite, "addCustodian", "Optima Bank under another name", existing)
    # not even after the custodian was deactivated: the way back is reactivation, which keeps its id and history
    registry.deactivateCustodian(1, sender=suite.guardian)
    with reverts("CustodianAccountAlreadyRegistered", accountRefHash=existing):
        admin(suite, "addCustodian", "Optima Bank (new)", existing)
    assert registry.custodianCount() == 3


def test_a_custodian_needs_a_name_and_an_account_reference(suite):
    with reverts("EmptyName"):
        admin(suite, "addCustodian", "", NEW_ACCOUNT_REF)
    with reverts("MissingAccountReference"):
        admin(suite, "addCustodian", "Bakai Bank", ZERO_BYTES32)


def test_custodian_activation_changes_state_only_once(suite, registry):
    registry.deactivateCustodian(2, sender=suite.guardian)
    with reverts("CustodianInactive", custodianId=2):
        registry.deactivateCustodian(2, sender=suite.guardian)
    with reverts("CustodianAlreadyActive", custodianId=0):
        admin(suite, "reactivateCustodian", 0)
    with reverts("UnknownCustodian", custodianId=3):
        registry.deactivateCustodian(3, sender=suite.guardian)
    with reverts("UnknownCustodian", custodianId=3):
        admin(suite, "reactivateCustodian", 3)
    assert [registry.custodian(i).active for i in range(3)] == [True, True, False]


def test_admin_adds_an_auditor_who_can_then_sign(suite, registry, auditors, outsider, submit, stranger):
    receipt = admin(suite, "addAuditor", stranger.address)
    assert_events(receipt, registry, [Ev("AuditorAdded", auditor=stranger, auditorCount=4)])
    assert registry.isAuditor(stranger)
    assert list(registry.auditors()) == [*(addr(a) for a in auditors), addr(stranger)]
    inp = attestation_input(suite.chain.pending_timestamp - 1, [5])
    assert_events(submit(inp, [stranger, auditors[0]]), registry, submission_events(0, inp, [stranger, auditors[0]], outsider))


def test_an_auditor_is_registered_once_and_never_as_the_zero_address(suite, auditors):
    with reverts("AlreadyAuditor", account=auditors[1]):
        admin(suite, "addAuditor", auditors[1].address)
    with reverts("ZeroAddress"):
        admin(suite, "addAuditor", ZERO_ADDRESS)


def test_the_auditor_set_is_capped_at_max_auditors(suite, registry):
    assert registry.MAX_AUDITORS() == 32
    new = [some_address(100 + i) for i in range(29)]
    receipt = govern(suite, *[call(registry, "addAuditor", a) for a in new])
    assert_events(receipt, registry, [Ev("AuditorAdded", auditor=a, auditorCount=4 + i) for i, a in enumerate(new)])
    assert len(registry.auditors()) == 32

    with reverts("TooManyAuditors", max=32):
        admin(suite, "addAuditor", some_address(999))
    registry.removeAuditor(new[0], sender=suite.guardian)  # room again after a removal
    admin(suite, "addAuditor", some_address(999))
    assert len(registry.auditors()) == 32


# --- threshold ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0, 4, 2**256 - 1])
def test_the_threshold_must_be_between_1_and_the_number_of_auditors(suite, registry, threshold):
    with reverts("InvalidThreshold", threshold=threshold, auditorCount=3):
        admin(suite, "setAuditorThreshold", threshold)
    assert registry.auditorThreshold() == 2


def test_raising_the_threshold_to_3_requires_all_three_signatures(suite, registry, auditors, outsider, submit):
    receipt = admin(suite, "setAuditorThreshold", 3)
    assert_events(receipt, registry, [Ev("AuditorThresholdChanged", oldThreshold=2, newThreshold=3)])
    inp = attestation_input(suite.chain.pending_timestamp - 1, [100, 200])
    with reverts("NotEnoughSignatures", provided=2, required=3):
        submit(inp, auditors[:2])
    assert_events(submit(inp, auditors), registry, submission_events(0, inp, auditors, outsider))


def test_lowering_the_threshold_to_1_is_an_admin_change(suite, registry, auditors, outsider, submit):
    receipt = admin(suite, "setAuditorThreshold", 1)
    assert_events(receipt, registry, [Ev("AuditorThresholdChanged", oldThreshold=2, newThreshold=1)])
    inp = attestation_input(suite.chain.pending_timestamp - 1, [100])
    assert_events(submit(inp, auditors[2:]), registry, submission_events(0, inp, auditors[2:], outsider))


# --- the guardian: instant, risk-reducing ---------------------------------------------------------------------------


def test_the_guardian_removes_an_auditor_instantly(suite, registry, auditors, submit):
    receipt = registry.removeAuditor(auditors[0], sender=suite.guardian)
    assert_events(receipt, registry, [Ev("AuditorRemoved", auditor=auditors[0], auditorCount=2, by=suite.guardian)])
    assert not registry.isAuditor(auditors[0])
    assert sorted(registry.auditors()) == sorted(addr(a) for a in auditors[1:])
    with reverts("UnknownAuditor", signer=auditors[0]):
        submit(attestation_input(suite.chain.pending_timestamp - 1, [100]), auditors[:2])


def test_the_admin_may_also_remove_an_auditor_and_deactivate_a_custodian(suite, registry, auditors):
    receipt = govern(suite, call(registry, "removeAuditor", auditors[2].address), call(registry, "deactivateCustodian", 0))
    assert_events(receipt, registry, [
        Ev("AuditorRemoved", auditor=auditors[2], auditorCount=2, by=suite.timelock),
        Ev("CustodianActiveChanged", custodianId=0, active=False, by=suite.timelock),
    ])


def test_the_guardian_deactivates_a_custodian_instantly(suite, registry):
    receipt = registry.deactivateCustodian(0, sender=suite.guardian)
    assert_events(receipt, registry, [Ev("CustodianActiveChanged", custodianId=0, active=False, by=suite.guardian)])
    assert not registry.custodian(0).active


def test_removing_a_non_auditor_is_rejected(suite, registry, auditors, stranger):
    with reverts("NotAuditor", account=stranger):
        registry.removeAuditor(stranger, sender=suite.guardian)
    registry.removeAuditor(auditors[1], sender=suite.guardian)
    with reverts("NotAuditor", account=auditors[1]):
        registry.removeAuditor(auditors[1], sender=suite.guardian)


def test_removing_auditors_below_the_threshold_stops_attestation(suite, registry, auditors, outsider, submit, sign_for):
    """Fail closed: with one auditor left and threshold 2, nothing can be attested (and so nothing minted)."""
    r1 = registry.removeAuditor(auditors[0], sender=suite.guardian)
    r2 = registry.removeAuditor(auditors[1], sender=suite.guardian)
    assert_events(r1, registry, [Ev("AuditorRemoved", auditor=auditors[0], auditorCount=2, by=suite.guardian)])
    assert_events(r2, registry, [Ev("AuditorRemoved", auditor=auditors[1], auditorCount=1, by=suite.guardian)])
    assert list(registry.auditors()) == [addr(auditors[2])]
    assert registry.auditorThreshold() == 2  # unchanged: the rule is not weakened to fit

    inp = attestation_input(suite.chain.pending_timestamp - 1, [100])
    with reverts("NotEnoughSignatures", provided=1, required=2):
        submit(inp, auditors[2:])
    for removed in auditors[:2]:
        with reverts("UnknownAuditor", signer=removed):
            submit(inp, [auditors[2], removed])
    # the threshold cannot be left above the auditor count by a new setting either
    with reverts("InvalidThreshold", threshold=2, auditorCount=1):
        admin(suite, "setAuditorThreshold", 2)

    # the way back is a timelocked addition
    admin(suite, "addAuditor", auditors[0].address)
    inp = attestation_input(suite.chain.pending_timestamp - 1, [100])
    assert_events(submit(inp, [auditors[2], auditors[0]]), registry, submission_events(0, inp, [auditors[2], auditors[0]], outsider))


def test_the_guardian_may_remove_every_auditor(suite, registry, auditors):
    for i, a in enumerate(auditors):
        receipt = registry.removeAuditor(a, sender=suite.guardian)
        assert_events(receipt, registry, [Ev("AuditorRemoved", auditor=a, auditorCount=2 - i, by=suite.guardian)])
    assert list(registry.auditors()) == []


# --- construction ----------------------------------------------------------------------------------------------------


def _init(suite, auditors, threshold, custodians=(), wallets=(), assets=()):
    return (suite.timelock.address, 60, suite.guardian.address, list(auditors), threshold, list(custodians), list(wallets), list(assets))


def test_construction_emits_an_event_for_everything_it_registers(suite, project, stranger):
    auditors = [suite.auditors[0].address, stranger.address]
    custodians = [("Demir Bank", keccak(b"acc-1")), ("Optima Bank", keccak(b"acc-2"))]
    wallets = [(suite.accounts[20].address, "Wallet A")]
    assets = [(ZERO_ADDRESS, "BNB"), (some_address(7), "USDT")]
    reg = suite.deployer.deploy(project.KGSTReserveRegistry, _init(suite, auditors, 2, custodians, wallets, assets))
    receipt = suite.chain.get_receipt(reg.txn_hash)
    assert_events(receipt, reg, [
        Ev("RoleGranted", role=DEFAULT_ADMIN_ROLE, account=suite.timelock, sender=suite.deployer),
        Ev("RoleGranted", role=GUARDIAN_ROLE, account=suite.guardian, sender=suite.deployer),
        Ev("AuditorAdded", auditor=auditors[0], auditorCount=1),
        Ev("AuditorAdded", auditor=auditors[1], auditorCount=2),
        Ev("AuditorThresholdChanged", oldThreshold=0, newThreshold=2),
        Ev("CustodianAdded", custodianId=0, name="Demir Bank", accountRefHash=custodians[0][1]),
        Ev("CustodianAdded", custodianId=1, name="Optima Bank", accountRefHash=custodians[1][1]),
        Ev("ReserveWalletAdded", wallet=wallets[0][0], label="Wallet A"),
        Ev("ReserveAssetAdded", asset=ZERO_ADDRESS, symbol="BNB"),
        Ev("ReserveAssetAdded", asset=assets[1][0], symbol="USDT"),
    ])


@pytest.mark.parametrize("count,threshold", [(3, 0), (3, 4), (0, 1)], ids=["zero", "above-count", "no-auditors"])
def test_construction_refuses_an_invalid_threshold(suite, project, count, threshold):
    auditors = [some_address(i) for i in range(count)]
    with reverts("InvalidThreshold", threshold=threshold, auditorCount=count):
        suite.deployer.deploy(project.KGSTReserveRegistry, _init(suite, auditors, threshold))


def test_construction_refuses_more_than_max_auditors(suite, project):
    with reverts("TooManyAuditors", max=32):
        suite.deployer.deploy(project.KGSTReserveRegistry, _init(suite, [some_address(i) for i in range(33)], 2))


def test_construction_refuses_duplicate_auditors_and_bank_accounts(suite, project):
    with reverts("AlreadyAuditor", account=some_address(1)):
        suite.deployer.deploy(project.KGSTReserveRegistry, _init(suite, [some_address(1), some_address(1)], 1))
    ref = keccak(b"acc")
    with reverts("CustodianAccountAlreadyRegistered", accountRefHash=ref):
        suite.deployer.deploy(project.KGSTReserveRegistry, _init(suite, [some_address(1)], 1, [("A", ref), ("B", ref)]))


def test_construction_requires_a_guardian(suite, project):
    init = list(_init(suite, [some_address(1)], 1))
    init[2] = ZERO_ADDRESS
    with reverts("ZeroAddress"):
        suite.deployer.deploy(project.KGSTReserveRegistry, tuple(init))


def test_removing_the_last_listed_auditor_and_wallet_keeps_the_others(suite, registry, auditors):
    """Removal finds the entry wherever it sits in the list (not only at the front) and keeps the rest."""
    last = auditors[-1]
    suite.registry.removeAuditor(last, sender=suite.guardian)
    assert sorted(registry.auditors()) == sorted(a.address for a in auditors[:-1])
    wallets = list(registry.reserveWallets())
    admin(suite, "removeReserveWallet", wallets[-1])
    assert list(registry.reserveWallets()) == wallets[:-1]
