"""Timelocked governance: the risk-raising changes, scheduled by governance, executable after the delay, and
cancellable by the guardian in between.

An operation's salt is the hash of its description, so scheduling the same described change twice finds the
first one instead of queueing a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from eth_utils import keccak

from kgst.addresses import parse_address
from kgst.amounts import parse_som
from kgst.deploy import ROLES
from kgst.ops import Call, Plan, System, utc
from kgst.refs import account_ref

OPERATION_STATES = {0: "unset", 1: "waiting", 2: "ready", 3: "done"}
ZERO32 = b"\x00" * 32


class GovernanceInputError(ValueError):
    """An unknown action, operation or role, or arguments that do not fit the action."""


@dataclass(frozen=True)
class Action:
    """A named governance change: which contract function it calls, built from text arguments."""

    name: str
    usage: str
    build: Callable[[System, list[str]], tuple[Any, tuple]]  # -> (contract method, arguments)


def _role(name: str) -> bytes:
    if name not in ROLES:
        raise GovernanceInputError(f"unknown role {name!r}; one of: {', '.join(sorted(ROLES))}")
    return ROLES[name]


def _one(args: list[str], n: int, usage: str) -> list[str]:
    if len(args) != n:
        raise GovernanceInputError(f"expected {n} argument(s): {usage}")
    return args


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("set-per-tx-cap", "AMOUNT_SOM", lambda s, a: (s.controller.setPerTxCap, (parse_som(_one(a, 1, "AMOUNT_SOM")[0], allow_zero=True).units,))),
    Action("set-global-window-limit", "AMOUNT_SOM", lambda s, a: (s.controller.setGlobalWindowLimit, (parse_som(_one(a, 1, "AMOUNT_SOM")[0], allow_zero=True).units,))),
    Action("set-minter-limits", "MINTER ALLOWANCE_SOM WINDOW_LIMIT_SOM", lambda s, a: (
        s.controller.setMinterLimits, (parse_address(_one(a, 3, "MINTER ALLOWANCE WINDOW")[0]), parse_som(a[1], allow_zero=True).units, parse_som(a[2], allow_zero=True).units))),
    Action("add-minter", "MINTER ALLOWANCE_SOM WINDOW_LIMIT_SOM", lambda s, a: (
        s.controller.addMinter, (parse_address(_one(a, 3, "MINTER ALLOWANCE WINDOW")[0]), parse_som(a[1], allow_zero=True).units, parse_som(a[2], allow_zero=True).units))),
    Action("add-approver", "ADDRESS", lambda s, a: (s.controller.grantRole, (ROLES["APPROVER_ROLE"], parse_address(_one(a, 1, "ADDRESS")[0])))),
    Action("resume-minting", "", lambda s, a: (s.controller.resumeMinting, tuple(_one(a, 0, "")))),
    Action("set-tiers", "TIER1_MAX_SOM TIER2_MAX_SOM APPROVALS1 APPROVALS2 APPROVALS3", lambda s, a: (
        s.controller.setTiers, ((parse_som(_one(a, 5, "T1 T2 A1 A2 A3")[0]).units, parse_som(a[1]).units, int(a[2]), int(a[3]), int(a[4])),))),
    Action("set-max-attestation-age", "SECONDS", lambda s, a: (s.controller.setMaxAttestationAge, (int(_one(a, 1, "SECONDS")[0]),))),
    Action("set-reserve-margin", "BPS", lambda s, a: (s.controller.setReserveMargin, (int(_one(a, 1, "BPS")[0]),))),
    Action("set-request-ttl", "SECONDS", lambda s, a: (s.controller.setRequestTtl, (int(_one(a, 1, "SECONDS")[0]),))),
    Action("add-auditor", "ADDRESS", lambda s, a: (s.registry.addAuditor, (parse_address(_one(a, 1, "ADDRESS")[0]),))),
    Action("set-auditor-threshold", "K", lambda s, a: (s.registry.setAuditorThreshold, (int(_one(a, 1, "K")[0]),))),
    Action("add-custodian", "NAME BANK_ACCOUNT", lambda s, a: (s.registry.addCustodian, (_one(a, 2, "NAME BANK_ACCOUNT")[0], account_ref(a[1])))),
    Action("upgrade-token", "NEW_IMPLEMENTATION", lambda s, a: (s.token.upgradeToAndCall, (parse_address(_one(a, 1, "NEW_IMPLEMENTATION")[0]), b""))),
    Action("set-token-minter", "NEW_CONTROLLER", lambda s, a: (s.token.setMinter, (parse_address(_one(a, 1, "NEW_CONTROLLER")[0]),))),
    Action("grant-token-role", "ROLE ADDRESS", lambda s, a: (s.token.grantRole, (_role(_one(a, 2, "ROLE ADDRESS")[0]), parse_address(a[1])))),
    Action("revoke-token-role", "ROLE ADDRESS", lambda s, a: (s.token.revokeRole, (_role(_one(a, 2, "ROLE ADDRESS")[0]), parse_address(a[1])))),
    Action("grant-controller-role", "ROLE ADDRESS", lambda s, a: (s.controller.grantRole, (_role(_one(a, 2, "ROLE ADDRESS")[0]), parse_address(a[1])))),
    Action("revoke-controller-role", "ROLE ADDRESS", lambda s, a: (s.controller.revokeRole, (_role(_one(a, 2, "ROLE ADDRESS")[0]), parse_address(a[1])))),
)}


@dataclass(frozen=True)
class Operation:
    id: bytes
    target: str
    value: int
    data: bytes
    predecessor: bytes
    salt: bytes
    delay: int
    scheduled_block: int
    state: str
    ready_at: int  # unix seconds; 0 if cancelled/unset

    def to_json(self) -> dict[str, Any]:
        return {"id": "0x" + self.id.hex(), "target": self.target, "data": "0x" + self.data.hex(), "salt": "0x" + self.salt.hex(),
                "state": self.state, "ready_at": utc(self.ready_at) if self.ready_at > 1 else None, "scheduled_block": self.scheduled_block}


def build_call(system: System, action_name: str, args: list[str]) -> tuple[str, bytes, str]:
    """(target, calldata, description) for a named action."""
    if action_name not in ACTIONS:
        raise GovernanceInputError(f"unknown action {action_name!r}; choose one of: {', '.join(sorted(ACTIONS))}")
    try:
        method, call_args = ACTIONS[action_name].build(system, args)
    except ValueError as err:  # includes int() of a non-number and the amount/address parsers' errors
        raise GovernanceInputError(f"{action_name} {ACTIONS[action_name].usage}: {err}") from None
    data = bytes(method.encode_input(*call_args))
    description = f"{action_name} {' '.join(args)}".strip()
    return method.contract.address, data, description


def salt_for(description: str) -> bytes:
    return keccak(text=f"KGST governance: {description}")


def plan_schedule(system: System, proposer: str, action_name: str, args: list[str]) -> Plan:
    target, data, description = build_call(system, action_name, args)
    t = system.timelock
    salt = salt_for(description)
    delay = t.getMinDelay()
    op_id = bytes(t.hashOperation(target, 0, data, ZERO32, salt))
    plan = Plan("Schedule a timelocked change", proposer)
    plan.add("change", description)
    plan.add("target", target)
    plan.add("calldata", "0x" + data.hex())
    plan.add("operation id", "0x" + op_id.hex())
    plan.add("delay", f"{delay} s: executable from {utc(system.now() + delay)} at the earliest")
    plan.data.update(operation_id="0x" + op_id.hex(), description=description)
    state = OPERATION_STATES[t.getOperationState(op_id)]
    if state != "unset":
        plan.nothing_to_do = f"this change is already scheduled (state: {state})"
        return plan
    if not t.hasRole(ROLES["PROPOSER_ROLE"], proposer):
        plan.problems.append(f"{proposer} is not a timelock proposer")
    # Does the change itself make sense? Simulate it as the timelock would call it.
    try:
        system.provider.web3.eth.call({"from": t.address, "to": target, "data": "0x" + data.hex()})
    except Exception as err:  # noqa: BLE001 - any revert means the change would fail when executed
        plan.warnings.append(f"executed now, the change itself would revert ({str(err).splitlines()[0][:160]})")
    plan.calls.append(Call("schedule", t.schedule, (target, 0, data, ZERO32, salt, delay)))
    plan.check_by_simulation()
    return plan


def list_operations(system: System) -> list[Operation]:
    """Every operation scheduled on the timelock since deployment, with its current state."""
    t = system.timelock
    start = system.manifest.deploy_block
    latest = system.provider.get_block("latest").number
    salts = {bytes(log.id): bytes(log.salt) for log in t.CallSalt.range(start, latest + 1)}
    operations = []
    for log in t.CallScheduled.range(start, latest + 1):
        op_id = bytes(log.id)
        state = OPERATION_STATES[t.getOperationState(op_id)]
        operations.append(Operation(
            id=op_id, target=log.target, value=log.value, data=bytes(log.data), predecessor=bytes(log.predecessor),
            salt=salts.get(op_id, ZERO32), delay=log.delay, scheduled_block=log.block_number,
            state="cancelled" if state == "unset" else state, ready_at=t.getTimestamp(op_id),
        ))
    return operations


def _find(system: System, op_id_hex: str) -> Operation:
    wanted = bytes.fromhex(op_id_hex.removeprefix("0x"))
    for op in list_operations(system):
        if op.id == wanted:
            return op
    raise GovernanceInputError(f"no scheduled operation {op_id_hex} on this timelock")


def plan_execute(system: System, executor: str, op_id_hex: str) -> Plan:
    op = _find(system, op_id_hex)
    plan = Plan("Execute a timelocked change", executor)
    plan.add("operation id", op_id_hex)
    plan.add("state", op.state)
    plan.add("target", op.target)
    if op.state == "done":
        plan.nothing_to_do = "this operation was already executed"
        return plan
    if op.state == "waiting":
        plan.problems.append(f"the delay has not passed: executable from {utc(op.ready_at)}")
    if op.state == "cancelled":
        plan.problems.append("the guardian cancelled this operation")
    plan.calls.append(Call("execute", system.timelock.execute, (op.target, op.value, op.data, op.predecessor, op.salt)))
    plan.check_by_simulation()
    return plan


def plan_cancel(system: System, canceller: str, op_id_hex: str) -> Plan:
    op = _find(system, op_id_hex)
    plan = Plan("Cancel a scheduled change (guardian)", canceller)
    plan.add("operation id", op_id_hex)
    plan.add("state", op.state)
    if op.state == "cancelled":
        plan.nothing_to_do = "this operation is already cancelled"
        return plan
    plan.calls.append(Call("cancel", system.timelock.cancel, (op.id,)))
    plan.check_by_simulation()
    return plan
