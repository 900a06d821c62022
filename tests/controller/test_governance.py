"""Asymmetric powers: risk-raising changes only through the timelock (the controller's admin, 60 s delay, governance
proposes and executes, the guardian can cancel); risk-reducing ones also instantly by the guardian; nobody else can
change anything. Every change emits its event with the old and new values and who made it."""

from dataclasses import dataclass, field
from typing import Callable

import pytest

from kgst.deploy import ROLES
from tests.controller.helpers import (
    APPROVER_ROLE,
    DEFAULT_ADMIN_ROLE,
    GLOBAL_WINDOW,
    MAX_ATTESTATION_AGE,
    MINTER_A_ALLOWANCE,
    MINTER_A_WINDOW,
    MINTER_B_ALLOWANCE,
    MINTER_B_WINDOW,
    MINTER_ROLE,
    PER_TX_CAP,
    REQUEST_TTL,
    TIER1_MAX,
    TIER2_MAX,
    ZERO32,
    ZERO_ADDRESS,
    Ev,
    addr,
    assert_events,
    execute,
    open_request,
    reverts,
    schedule,
    status_tuple,
    unauthorized,
)
from tests.suite import OUTSIDERS, som

DAY = 86_400
NEW_ACCOUNT = OUTSIDERS[1]  # test:23, no role anywhere: added as a minter / approver

# ----------------------------------------------------------------------------------------------------------------------
# The designed table.
#
#   change                      | stricter (risk-reducing)          | looser (risk-raising)
#   ----------------------------+-----------------------------------+------------------------------------------------
#   setPerTxCap                 | 10M -> 5M                         | 10M -> 20M
#   setGlobalWindowLimit        | 50M -> 40M                        | 50M -> 60M
#   setMinterLimits (test:6)    | 100M/25M -> 90M/20M               | 100M/25M -> 110M/25M, and 100M/25M -> 90M/30M
#   setTiers                    | 100k/1M -> 50k/500k, same counts  | 100k -> 200k; and approvals 1/2/3 -> 1/1/3
#   setMaxAttestationAge        | 48 h -> 24 h                      | 48 h -> 72 h
#   setReserveMargin            | 0 -> 100 bps                      | 500 -> 100 bps
#   setRequestTtl               | 3 d -> 1 d                        | 3 d -> 5 d
#   haltMinting                 | halt                              | -
#   resumeMinting               | -                                 | resume (after a halt)
#   addMinter                   | -                                 | add test:23 (1M / 100k)
#   removeMinter                | remove test:7                     | -
#   removeApprover              | remove test:10                    | -
#   grantRole(APPROVER_ROLE)    | -                                 | grant test:23
#
#   caller      | stricter | looser
#   ------------+----------+-------
#   guardian    |  yes     |  no    (AccessControlUnauthorizedAccount(guardian, DEFAULT_ADMIN_ROLE))
#   timelock    |  yes     |  yes   (schedule by governance, wait 60 s, execute by governance)
#   holder      |  no      |  no    (AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE))
#   minter      |  no      |  no
#   approver    |  no      |  no
# ----------------------------------------------------------------------------------------------------------------------

ALLOWED = {
    ("guardian", "stricter"): True, ("guardian", "looser"): False,
    ("timelock", "stricter"): True, ("timelock", "looser"): True,
    ("holder", "stricter"): False, ("holder", "looser"): False,
    ("minter", "stricter"): False, ("minter", "looser"): False,
    ("approver", "stricter"): False, ("approver", "looser"): False,
}
CALLERS = ["guardian", "timelock", "holder", "minter", "approver"]


@dataclass
class Change:
    label: str
    direction: str
    call: Callable  # s -> (bound method, args)
    events: Callable  # (s, by) -> [Ev] emitted by the controller
    read: Callable  # s -> the state the change sets
    prepare: Callable = field(default=lambda s: None)


def _c(s):
    return s.controller


def _tiers(t1, t2, a1, a2, a3):
    return (t1, t2, a1, a2, a3)


CONFIG_TIERS = _tiers(TIER1_MAX, TIER2_MAX, 1, 2, 3)


def _minter(s):
    return s.minter


def _new(s):
    return s.accounts[NEW_ACCOUNT]


CHANGES = [
    Change("setPerTxCap", "stricter", lambda s: (_c(s).setPerTxCap, som(5_000_000)),
           lambda s, by: [Ev(_c(s), "PerTxCapChanged", oldCap=PER_TX_CAP, newCap=som(5_000_000), by=by)],
           lambda s: status_tuple(_c(s).globalStatus())[0]),
    Change("setPerTxCap", "looser", lambda s: (_c(s).setPerTxCap, som(20_000_000)),
           lambda s, by: [Ev(_c(s), "PerTxCapChanged", oldCap=PER_TX_CAP, newCap=som(20_000_000), by=by)],
           lambda s: status_tuple(_c(s).globalStatus())[0]),
    Change("setGlobalWindowLimit", "stricter", lambda s: (_c(s).setGlobalWindowLimit, som(40_000_000)),
           lambda s, by: [Ev(_c(s), "GlobalWindowLimitChanged", oldLimit=GLOBAL_WINDOW, newLimit=som(40_000_000), by=by)],
           lambda s: status_tuple(_c(s).globalStatus())[1]),
    Change("setGlobalWindowLimit", "looser", lambda s: (_c(s).setGlobalWindowLimit, som(60_000_000)),
           lambda s, by: [Ev(_c(s), "GlobalWindowLimitChanged", oldLimit=GLOBAL_WINDOW, newLimit=som(60_000_000), by=by)],
           lambda s: status_tuple(_c(s).globalStatus())[1]),
    Change("setMinterLimits", "stricter", lambda s: (_c(s).setMinterLimits, _minter(s), som(90_000_000), som(20_000_000)),
           lambda s, by: [Ev(_c(s), "MinterLimitsChanged", minter=addr(_minter(s)), oldAllowance=MINTER_A_ALLOWANCE,
                             newAllowance=som(90_000_000), oldWindowLimit=MINTER_A_WINDOW, newWindowLimit=som(20_000_000), by=by)],
           lambda s: status_tuple(_c(s).minterStatus(_minter(s)))[:2]),
    Change("setMinterLimits", "looser", lambda s: (_c(s).setMinterLimits, _minter(s), som(110_000_000), MINTER_A_WINDOW),
           lambda s, by: [Ev(_c(s), "MinterLimitsChanged", minter=addr(_minter(s)), oldAllowance=MINTER_A_ALLOWANCE,
                             newAllowance=som(110_000_000), oldWindowLimit=MINTER_A_WINDOW, newWindowLimit=MINTER_A_WINDOW, by=by)],
           lambda s: status_tuple(_c(s).minterStatus(_minter(s)))[:2]),
    Change("setMinterLimits (one down, one up)", "looser",
           lambda s: (_c(s).setMinterLimits, _minter(s), som(90_000_000), som(30_000_000)),
           lambda s, by: [Ev(_c(s), "MinterLimitsChanged", minter=addr(_minter(s)), oldAllowance=MINTER_A_ALLOWANCE,
                             newAllowance=som(90_000_000), oldWindowLimit=MINTER_A_WINDOW, newWindowLimit=som(30_000_000), by=by)],
           lambda s: status_tuple(_c(s).minterStatus(_minter(s)))[:2]),
    Change("setTiers", "stricter", lambda s: (_c(s).setTiers, _tiers(som(50_000), som(500_000), 1, 2, 3)),
           lambda s, by: [Ev(_c(s), "TiersChanged", oldTiers=CONFIG_TIERS, newTiers=_tiers(som(50_000), som(500_000), 1, 2, 3), by=by)],
           lambda s: tuple(_c(s).tiers())),
    Change("setTiers (higher threshold)", "looser", lambda s: (_c(s).setTiers, _tiers(som(200_000), TIER2_MAX, 1, 2, 3)),
           lambda s, by: [Ev(_c(s), "TiersChanged", oldTiers=CONFIG_TIERS, newTiers=_tiers(som(200_000), TIER2_MAX, 1, 2, 3), by=by)],
           lambda s: tuple(_c(s).tiers())),
    Change("setTiers (fewer approvals)", "looser", lambda s: (_c(s).setTiers, _tiers(TIER1_MAX, TIER2_MAX, 1, 1, 3)),
           lambda s, by: [Ev(_c(s), "TiersChanged", oldTiers=CONFIG_TIERS, newTiers=_tiers(TIER1_MAX, TIER2_MAX, 1, 1, 3), by=by)],
           lambda s: tuple(_c(s).tiers())),
    Change("setMaxAttestationAge", "stricter", lambda s: (_c(s).setMaxAttestationAge, DAY),
           lambda s, by: [Ev(_c(s), "MaxAttestationAgeChanged", oldMaxAge=MAX_ATTESTATION_AGE, newMaxAge=DAY, by=by)],
           lambda s: _c(s).config().maxAttestationAge),
    Change("setMaxAttestationAge", "looser", lambda s: (_c(s).setMaxAttestationAge, 3 * DAY),
           lambda s, by: [Ev(_c(s), "MaxAttestationAgeChanged", oldMaxAge=MAX_ATTESTATION_AGE, newMaxAge=3 * DAY, by=by)],
           lambda s: _c(s).config().maxAttestationAge),
    Change("setReserveMargin", "stricter", lambda s: (_c(s).setReserveMargin, 100),
           lambda s, by: [Ev(_c(s), "ReserveMarginChanged", oldMarginBps=0, newMarginBps=100, by=by)],
           lambda s: _c(s).config().reserveMarginBps),
    Change("setReserveMargin", "looser", lambda s: (_c(s).setReserveMargin, 100),
           lambda s, by: [Ev(_c(s), "ReserveMarginChanged", oldMarginBps=500, newMarginBps=100, by=by)],
           lambda s: _c(s).config().reserveMarginBps,
           prepare=lambda s: _c(s).setReserveMargin(500, sender=s.guardian)),
    Change("setRequestTtl", "stricter", lambda s: (_c(s).setRequestTtl, DAY),
           lambda s, by: [Ev(_c(s), "RequestTtlChanged", oldTtl=REQUEST_TTL, newTtl=DAY, by=by)],
           lambda s: _c(s).config().requestTtl),
    Change("setRequestTtl", "looser", lambda s: (_c(s).setRequestTtl, 5 * DAY),
           lambda s, by: [Ev(_c(s), "RequestTtlChanged", oldTtl=REQUEST_TTL, newTtl=5 * DAY, by=by)],
           lambda s: _c(s).config().requestTtl),
    Change("haltMinting", "stricter", lambda s: (_c(s).haltMinting,),
           lambda s, by: [Ev(_c(s), "MintingHalted", by=by)],
           lambda s: _c(s).config().mintingHalted),
    Change("resumeMinting", "looser", lambda s: (_c(s).resumeMinting,),
           lambda s, by: [Ev(_c(s), "MintingResumed", by=by)],
           lambda s: _c(s).config().mintingHalted,
           prepare=lambda s: _c(s).haltMinting(sender=s.guardian)),
    Change("addMinter", "looser", lambda s: (_c(s).addMinter, _new(s), som(1_000_000), som(100_000)),
           lambda s, by: [Ev(_c(s), "RoleGranted", role=MINTER_ROLE, account=addr(_new(s)), sender=by),
                          Ev(_c(s), "MinterLimitsChanged", minter=addr(_new(s)), oldAllowance=0, newAllowance=som(1_000_000),
                             oldWindowLimit=0, newWindowLimit=som(100_000), by=by)],
           lambda s: (_c(s).hasRole(MINTER_ROLE, _new(s)), status_tuple(_c(s).minterStatus(_new(s)))[:2])),
    Change("removeMinter", "stricter", lambda s: (_c(s).removeMinter, s.minters[1]),
           lambda s, by: [Ev(_c(s), "RoleRevoked", role=MINTER_ROLE, account=addr(s.minters[1]), sender=by),
                          Ev(_c(s), "MinterLimitsChanged", minter=addr(s.minters[1]), oldAllowance=MINTER_B_ALLOWANCE, newAllowance=0,
                             oldWindowLimit=MINTER_B_WINDOW, newWindowLimit=0, by=by)],
           lambda s: (_c(s).hasRole(MINTER_ROLE, s.minters[1]), status_tuple(_c(s).minterStatus(s.minters[1]))[:2])),
    Change("removeApprover", "stricter", lambda s: (_c(s).removeApprover, s.approvers[2]),
           lambda s, by: [Ev(_c(s), "RoleRevoked", role=APPROVER_ROLE, account=addr(s.approvers[2]), sender=by),
                          Ev(_c(s), "ApprovalsVoided", newApproverEpoch=1, removedApprover=addr(s.approvers[2]))],
           lambda s: (_c(s).hasRole(APPROVER_ROLE, s.approvers[2]), _c(s).config().approverEpoch)),
    Change("grantRole(APPROVER_ROLE)", "looser", lambda s: (_c(s).grantRole, APPROVER_ROLE, _new(s)),
           lambda s, by: [Ev(_c(s), "RoleGranted", role=APPROVER_ROLE, account=addr(_new(s)), sender=by)],
           lambda s: _c(s).hasRole(APPROVER_ROLE, _new(s))),
]


def _caller(s, who):
    return {"guardian": s.guardian, "holder": s.holders[0], "minter": s.minter, "approver": s.approvers[0]}[who]


CASES = [pytest.param(change, who, id=f"{change.label}-{change.direction}-{who}") for change in CHANGES for who in CALLERS]


@pytest.mark.parametrize("change, who", CASES)
def test_asymmetric_powers(s, change, who):
    change.prepare(s)
    before = change.read(s)
    method, *args = change.call(s)
    if who == "timelock":
        op = schedule(s, s.controller, bytes(method.encode_input(*args)))
        s.time_travel(60)
        receipt = execute(s, op)
        by = s.timelock
    elif ALLOWED[(who, change.direction)]:
        by = _caller(s, who)
        receipt = method(*args, sender=by)
    else:
        caller = _caller(s, who)
        with unauthorized(caller, DEFAULT_ADMIN_ROLE):
            method(*args, sender=caller)
        assert change.read(s) == before
        return
    assert_events(receipt, change.events(s, addr(by)), only=s.controller)
    assert change.read(s) != before


def test_the_table_covers_every_setter_in_both_directions():
    covered = {(c.label.split(" ")[0], c.direction) for c in CHANGES}
    for setter in ("setPerTxCap", "setGlobalWindowLimit", "setMinterLimits", "setTiers", "setMaxAttestationAge",
                   "setReserveMargin", "setRequestTtl"):
        assert {(setter, "stricter"), (setter, "looser")} <= covered
    assert {("haltMinting", "stricter"), ("resumeMinting", "looser"), ("addMinter", "looser"), ("removeMinter", "stricter"),
            ("removeApprover", "stricter"), ("grantRole(APPROVER_ROLE)", "looser")} <= covered


# --- the timelock ---------------------------------------------------------------------------------------------------

READY = (1 << 2).to_bytes(32, "big")  # TimelockController: bit of OperationState.Ready


def test_timelock_operation_waits_the_delay(s):
    op = schedule(s, s.controller, bytes(s.controller.setPerTxCap.encode_input(som(20_000_000))))
    assert s.timelock.getMinDelay() == 60
    s.time_travel(50)
    with reverts("TimelockUnexpectedOperationState", operationId=op.op_id, expectedStates=READY):
        execute(s, op)
    s.time_travel(10)
    execute(s, op)
    assert status_tuple(s.controller.globalStatus())[0] == som(20_000_000)


def test_guardian_cancels_a_scheduled_operation_and_it_can_never_execute(s):
    op = schedule(s, s.controller, bytes(s.controller.setPerTxCap.encode_input(som(20_000_000))))
    for other in (s.minter, s.approvers[0], s.holders[0]):
        with unauthorized(other, ROLES["CANCELLER_ROLE"]):
            s.timelock.cancel(op.op_id, sender=other)
    receipt = s.timelock.cancel(op.op_id, sender=s.guardian)
    assert_events(receipt, [Ev(s.timelock, "Cancelled", id=op.op_id)])
    s.time_travel(60)
    with reverts("TimelockUnexpectedOperationState", operationId=op.op_id, expectedStates=READY):
        execute(s, op)
    assert status_tuple(s.controller.globalStatus())[0] == PER_TX_CAP


def test_only_governance_schedules_and_executes(s):
    data = bytes(s.controller.setPerTxCap.encode_input(som(20_000_000)))
    for other in (s.guardian, s.minter, s.holders[0]):
        with unauthorized(other, ROLES["PROPOSER_ROLE"]):
            s.timelock.schedule(s.controller, 0, data, ZERO32, ZERO32, 60, sender=other)
    op = schedule(s, s.controller, data)
    s.time_travel(60)
    for other in (s.guardian, s.holders[0]):
        with unauthorized(other, ROLES["EXECUTOR_ROLE"]):
            execute(s, op, sender=other)
    with reverts("TimelockInsufficientDelay", delay=59, minDelay=60):
        s.timelock.schedule(s.controller, 0, data, ZERO32, b"\x07" * 32, 59, sender=s.governance)


def test_the_deployer_holds_no_role_anywhere(s):
    deployer = s.deployer
    roles = [DEFAULT_ADMIN_ROLE, *ROLES.values()]
    for contract in (s.controller, s.token, s.registry, s.timelock):
        for r in roles:
            assert not contract.hasRole(r, deployer), (contract.contract_type.name, r.hex())
    for contract in (s.controller, s.token, s.registry):
        assert contract.defaultAdmin() == addr(s.timelock)
        pending, _ = contract.pendingDefaultAdmin()
        assert pending == ZERO_ADDRESS
    assert s.token.minter() == addr(s.controller)
    assert s.timelock.hasRole(DEFAULT_ADMIN_ROLE, s.timelock)  # the timelock administers itself
    assert not s.controller.hasRole(MINTER_ROLE, deployer) and not s.controller.hasRole(APPROVER_ROLE, deployer)


# --- validation of the settings themselves -----------------------------------------------------------------------------


def test_stricter_tiers_apply_to_requests_already_approved(s):
    ref, _ = open_request(s, s.holders[0], som(80_000))
    s.controller.approveMint(ref, s.holders[0], som(80_000), sender=s.approvers[0])
    s.controller.setTiers((som(50_000), TIER2_MAX, 1, 2, 3), sender=s.guardian)  # 80k moves up to tier 2
    with reverts("NotEnoughApprovals", requestId=ref, approvals=1, required=2):
        s.controller.executeMint(ref, sender=s.outsiders[0])
    s.controller.approveMint(ref, s.holders[0], som(80_000), sender=s.approvers[1])
    s.controller.executeMint(ref, sender=s.outsiders[0])


def test_inconsistent_settings_are_refused_even_when_stricter(s):
    c, g = s.controller, s.guardian
    with reverts("InvalidTiers"):  # tier 1 above tier 2
        c.setTiers((TIER1_MAX, som(50_000), 1, 2, 3), sender=g)
    with reverts("InvalidTiers"):  # more than MAX_APPROVALS
        c.setTiers((TIER1_MAX, TIER2_MAX, 1, 2, 17), sender=g)
    with reverts("InvalidTiers"):  # approvals must not decrease with the amount
        c.setTiers((TIER1_MAX, TIER2_MAX, 3, 2, 3), sender=g)
    with reverts("InvalidConfig"):
        c.setMaxAttestationAge(0, sender=g)
    with reverts("InvalidConfig"):
        c.setRequestTtl(0, sender=g)
    with reverts("AmountNotWholeTiyin", amount=som(1) + 1):
        c.setPerTxCap(som(1) + 1, sender=g)
    with reverts("NotAMinter", account=addr(s.holders[0])):
        c.setMinterLimits(s.holders[0], 0, 0, sender=g)
    assert tuple(c.tiers()) == CONFIG_TIERS
