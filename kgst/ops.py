"""Issuer operations: every command builds a Plan (what will be sent, a preview, and anything that blocks it),
checks it on-chain with eth_call before anything is signed, and only then sends.

Plans are idempotent: a command rerun after a crash finds its own earlier transaction on-chain (a request
already open, an approval already given, a payout already redeemed) and reports "nothing to do" instead of
sending twice; the contracts' single-use deposit and payout references guarantee it even if two runs race.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from ape.exceptions import ContractLogicError

from kgst.amounts import SomAmount, from_units
from kgst.attestation import collect, digest
from kgst.deploy import DEFAULT_ADMIN_ROLE, ROLES
from kgst.errors import explain, explain_revert, register_abis, som_text
from kgst.manifest import Manifest, load_for
from kgst.refs import case_ref, deposit_ref, payout_ref, to_hex

STATUS_NAMES = {0: "none", 1: "pending", 2: "executed", 3: "cancelled", 4: "expired"}


@dataclass
class Call:
    """One transaction: a contract method and its arguments, sent by the plan's signer."""

    description: str
    method: Any
    args: tuple

    def simulate(self, sender: str) -> None:
        """eth_call as `sender`; raises Reverted with the raw revert data (Ape's own call path turns custom
        error data into lossy text, so the arguments could not be decoded reliably)."""
        from ape import chain
        from web3.exceptions import ContractCustomError, ContractLogicError as Web3LogicError, ContractPanicError

        data = "0x" + bytes(self.method.encode_input(*self.args)).hex()
        try:
            chain.provider.web3.eth.call({"from": sender, "to": self.method.contract.address, "data": data})
        except ContractCustomError as err:
            raise Reverted(bytes.fromhex(str(err.data).removeprefix("0x"))) from None
        except ContractPanicError as err:
            raise Reverted(b"", f"the contract failed with an arithmetic or internal error ({err})") from None
        except Web3LogicError as err:
            raw = getattr(err, "data", None)
            data_bytes = bytes.fromhex(raw.removeprefix("0x")) if isinstance(raw, str) and raw.startswith("0x") else b""
            raise Reverted(data_bytes, str(err) if not data_bytes else None) from None

    def send(self, signer):
        return self.method(*self.args, sender=signer)


class Reverted(Exception):
    """A simulated call reverted; `reason` is the operator's sentence."""

    def __init__(self, data: bytes, reason: str | None = None):
        super().__init__(reason or explain_revert(data))
        self.data = data
        self.reason = reason or explain_revert(data)


@dataclass
class Plan:
    title: str
    signer: str
    preview: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # any problem blocks sending
    warnings: list[str] = field(default_factory=list)  # worth reading, does not block
    calls: list[Call] = field(default_factory=list)
    nothing_to_do: str | None = None  # set when an earlier run already did this
    data: dict[str, Any] = field(default_factory=dict)  # machine-readable facts for --json

    def add(self, label: str, value: Any) -> None:
        self.preview.append((label, str(value)))

    def check_by_simulation(self) -> None:
        """Runs the first call as eth_call from the signer; a revert becomes a problem, explained. (Later
        calls depend on the first one's effect, e.g. redeem after approve, so only the first can be simulated.)"""
        if self.problems or self.nothing_to_do or not self.calls:
            return
        try:
            self.calls[0].simulate(self.signer)
        except Reverted as err:
            self.problems.append(err.reason)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "signer": self.signer,
            "preview": dict(self.preview),
            "problems": self.problems,
            "warnings": self.warnings,
            "transactions": [c.description for c in self.calls],
            "nothing_to_do": self.nothing_to_do,
            **self.data,
        }


@dataclass
class System:
    """The deployed suite on the connected network, from its manifest."""

    manifest: Manifest
    token: Any
    controller: Any
    registry: Any
    timelock: Any
    provider: Any
    project: Any

    @classmethod
    def load(cls, project, provider, directory=None) -> "System":
        manifest = load_for(provider) if directory is None else load_for(provider, directory)
        c = manifest.contracts
        register_abis(project.KGSTToken, project.KGSTIssuanceController, project.KGSTReserveRegistry, project.KGSTTimelock)
        return cls(
            manifest=manifest,
            token=project.KGSTToken.at(c["token"]),
            controller=project.KGSTIssuanceController.at(c["controller"]),
            registry=project.KGSTReserveRegistry.at(c["registry"]),
            timelock=project.KGSTTimelock.at(c["timelock"]),
            provider=provider,
            project=project,
        )

    def now(self) -> int:
        return self.provider.get_block("latest").timestamp

    def request(self, request_id: bytes):
        """The controller's view of a request (single: id = deposit ref; batch: id = Merkle root), or None."""
        if not self.controller.depositRefUsed(request_id):
            return None
        try:
            return self.controller.getRequest(request_id)
        except ContractLogicError:
            return None  # used, but by a batch entry or the predecessor: not a request here


# ------------------------------------------------------------------------------------------------------
# Shared previews
# ------------------------------------------------------------------------------------------------------


def _amount_lines(plan: Plan, label: str, amount: SomAmount) -> None:
    plan.add(label, f"{amount}  ({amount.words()})")
    plan.add(f"{label} in base units", f"{amount.units}")


def _limits_lines(system: System, plan: Plan, minter: str, amount: SomAmount, *, executing: bool = False) -> None:
    """Shows every limit that applies. When opening a request, a shortfall that can clear later (rate window,
    reserves not yet attested) is a warning; when executing, it blocks."""
    c = system.controller
    cap, _, _, global_available = c.globalStatus()
    allowance, window_limit, _, minter_available = c.minterStatus(minter)
    headroom, fresh, _, supply, as_of = c.reserveHeadroom()
    plan.add("per-transaction cap", som_text(cap))
    plan.add("minter allowance left", som_text(allowance))
    plan.add("minter rate window left", f"{som_text(minter_available)} of {som_text(window_limit)}")
    plan.add("global rate window left", som_text(global_available))
    plan.add("reserve headroom", som_text(headroom) if fresh else "none: no fresh attestation")
    plan.add("current supply", som_text(supply))
    plan.data.update(limits={"per_tx_cap": cap, "minter_allowance": allowance, "minter_window_available": minter_available,
                             "global_window_available": global_available, "reserve_headroom": headroom, "attestation_fresh": fresh})
    units = amount.units
    if units > cap:
        plan.problems.append(f"{amount} is above the per-transaction cap of {som_text(cap)}")
    if units > allowance:
        plan.problems.append(f"{amount} is above this minter's remaining allowance of {som_text(allowance)}")
    later = plan.problems if executing else plan.warnings
    if units > minter_available:
        later.append(f"the minter's rate window has only {som_text(minter_available)} left now; execution must wait for it to free up")
    if units > global_available:
        later.append(f"the global rate window has only {som_text(global_available)} left now")
    if not fresh:
        later.append("there is no fresh reserve attestation: the mint cannot execute until auditors attest")
    elif units > headroom:
        later.append(f"{amount} exceeds the reserve headroom of {som_text(headroom)}: it cannot execute until reserves are attested higher")
    if c.config().mintingHalted:
        plan.problems.append("minting is halted by the guardian; only governance (timelock) can resume it")


def _require_role(plan: Plan, contract, role: str, who: str, what: str) -> None:
    role_id = DEFAULT_ADMIN_ROLE if role == "DEFAULT_ADMIN_ROLE" else ROLES[role]
    if not contract.hasRole(role_id, who):
        plan.problems.append(f"{who} does not hold {role} on the {what}: choose the account that does (--account)")


# ------------------------------------------------------------------------------------------------------
# Minting (single requests)
# ------------------------------------------------------------------------------------------------------


def plan_mint_request(system: System, minter: str, recipient: str, amount: SomAmount, reference: str) -> Plan:
    ref = deposit_ref(reference)
    c = system.controller
    plan = Plan("Open a mint request (maker)", minter)
    plan.add("recipient", recipient)
    _amount_lines(plan, "amount", amount)
    plan.add("bank deposit reference", f"{reference}  ->  {to_hex(ref)}")
    plan.add("approvals needed", c.approvalsRequired(amount.units))
    plan.data.update(deposit_ref=to_hex(ref), recipient=recipient, amount_units=amount.units, amount=str(amount))
    existing = system.request(ref)
    if existing is not None:
        status = STATUS_NAMES[existing.status]
        same = (existing.recipient == recipient and existing.amount == amount.units and existing.requester == minter)
        if same and existing.status == 1:
            plan.nothing_to_do = f"this request is already open ({existing.approvals}/{existing.approvalsRequired} approvals)"
        else:
            plan.problems.append(
                f"deposit reference {reference!r} was already used (request {status}: {from_units(existing.amount)} to "
                f"{existing.recipient}); each bank deposit mints at most once"
            )
        return plan
    if c.depositRefUsed(ref):
        plan.problems.append(f"deposit reference {reference!r} was already used (in a batch or by the previous controller)")
        return plan
    _require_role(plan, c, "MINTER_ROLE", minter, "issuance controller")
    _limits_lines(system, plan, minter, amount)
    plan.calls.append(Call("requestMint", c.requestMint, (recipient, amount.units, ref)))
    plan.check_by_simulation()
    return plan


def plan_mint_approve(system: System, approver: str, reference: str, recipient: str, amount: SomAmount) -> Plan:
    ref = deposit_ref(reference)
    c = system.controller
    plan = Plan("Approve a mint request (checker)", approver)
    plan.add("bank deposit reference", f"{reference}  ->  {to_hex(ref)}")
    plan.add("recipient (re-stated)", recipient)
    _amount_lines(plan, "amount (re-stated)", amount)
    plan.data.update(deposit_ref=to_hex(ref))
    request = system.request(ref)
    if request is None:
        plan.problems.append(f"there is no mint request for deposit reference {reference!r}")
        return plan
    plan.add("request status", f"{STATUS_NAMES[request.status]}, {request.approvals}/{request.approvalsRequired} approvals")
    if request.recipient != recipient or request.amount != amount.units:
        plan.problems.append(
            f"what you re-stated does not match the request (request: {from_units(request.amount)} to {request.recipient}); "
            "check the bank deposit and do not approve"
        )
        return plan
    if c.hasApproved(ref, approver):
        plan.nothing_to_do = f"you already approved this request ({request.approvals}/{request.approvalsRequired})"
        return plan
    if request.status != 1:
        plan.problems.append(f"the request is {STATUS_NAMES[request.status]}, not open for approval")
        return plan
    _require_role(plan, c, "APPROVER_ROLE", approver, "issuance controller")
    if request.requester == approver:
        plan.problems.append("you opened this request; someone else must approve it (maker-checker)")
    plan.calls.append(Call("approveMint", c.approveMint, (ref, recipient, amount.units)))
    plan.check_by_simulation()
    return plan


def plan_mint_execute(system: System, executor: str, reference: str) -> Plan:
    ref = deposit_ref(reference)
    plan = Plan("Execute an approved mint", executor)
    plan.add("bank deposit reference", f"{reference}  ->  {to_hex(ref)}")
    plan.data.update(deposit_ref=to_hex(ref))
    request = system.request(ref)
    if request is None:
        plan.problems.append(f"there is no mint request for deposit reference {reference!r}")
        return plan
    amount = from_units(request.amount)
    plan.add("recipient", request.recipient)
    _amount_lines(plan, "amount", amount)
    plan.add("approvals", f"{request.approvals}/{request.approvalsRequired}")
    if request.status == 2:
        plan.nothing_to_do = "this request was already executed"
        return plan
    if request.status != 1:
        plan.problems.append(f"the request is {STATUS_NAMES[request.status]}")
        return plan
    _limits_lines(system, plan, request.requester, amount, executing=True)
    if request.approvals < request.approvalsRequired:
        plan.problems.append(f"the request has {request.approvals} valid approval(s) and needs {request.approvalsRequired}")
    plan.calls.append(Call("executeMint", system.controller.executeMint, (ref,)))
    plan.check_by_simulation()
    return plan


def plan_mint_cancel(system: System, caller: str, reference: str) -> Plan:
    ref = deposit_ref(reference)
    plan = Plan("Cancel a mint request", caller)
    plan.add("bank deposit reference", f"{reference}  ->  {to_hex(ref)}")
    request = system.request(ref)
    if request is None:
        plan.problems.append(f"there is no mint request for deposit reference {reference!r}")
        return plan
    plan.add("request", f"{from_units(request.amount)} to {request.recipient}, {STATUS_NAMES[request.status]}")
    plan.warnings.append("the deposit reference stays used: the deposit cannot be minted again under it")
    if request.status == 3:
        plan.nothing_to_do = "this request is already cancelled"
        return plan
    plan.calls.append(Call("cancelRequest", system.controller.cancelRequest, (ref,)))
    plan.check_by_simulation()
    return plan


# ------------------------------------------------------------------------------------------------------
# Redemption
# ------------------------------------------------------------------------------------------------------


def plan_redeem(system: System, holder: str, amount: SomAmount, payout_reference: str) -> Plan:
    ref = payout_ref(payout_reference)
    t, c = system.token, system.controller
    plan = Plan("Redeem KGST for som (burn)", holder)
    plan.add("holder", holder)
    _amount_lines(plan, "amount", amount)
    plan.add("payout reference", f"{payout_reference}  ->  {to_hex(ref)}")
    plan.data.update(payout_ref=to_hex(ref), amount_units=amount.units)
    if c.payoutRefUsed(ref):
        plan.nothing_to_do = f"payout reference {payout_reference!r} was already redeemed; nothing is burned twice"
        return plan
    balance = t.balanceOf(holder)
    plan.add("balance", som_text(balance))
    if t.paused():
        plan.problems.append("the token is paused")
    if t.isFrozen(holder):
        plan.problems.append(f"account {holder} is frozen and cannot redeem")
    if balance < amount.units:
        plan.problems.append(f"{holder} holds {som_text(balance)}, less than {amount}")
    if plan.problems:
        return plan
    if t.allowance(holder, c.address) < amount.units:
        plan.calls.append(Call("approve the controller to burn the amount", t.approve, (c.address, amount.units)))
    plan.calls.append(Call("redeem", c.redeem, (amount.units, ref)))
    plan.check_by_simulation()
    return plan


def plan_burn_redeemed(system: System, desk: str, amount: SomAmount, payout_reference: str) -> Plan:
    ref = payout_ref(payout_reference)
    c = system.controller
    plan = Plan("Burn KGST sent to the redemption address", desk)
    _amount_lines(plan, "amount", amount)
    plan.add("payout reference", f"{payout_reference}  ->  {to_hex(ref)}")
    plan.add("held at the redemption address", som_text(system.token.balanceOf(c.address)))
    if c.payoutRefUsed(ref):
        plan.nothing_to_do = f"payout reference {payout_reference!r} was already redeemed"
        return plan
    _require_role(plan, c, "REDEMPTION_DESK_ROLE", desk, "issuance controller")
    plan.calls.append(Call("burnRedeemed", c.burnRedeemed, (amount.units, ref)))
    plan.check_by_simulation()
    return plan


# ------------------------------------------------------------------------------------------------------
# Compliance and emergency controls
# ------------------------------------------------------------------------------------------------------


def plan_freeze(system: System, officer: str, action: str, account: str, case: str) -> Plan:
    """action: freeze, unfreeze or wipe (burns a frozen account's whole balance)."""
    ref = case_ref(case)
    t = system.token
    plan = Plan(f"{action.capitalize()} an account", officer)
    plan.add("account", account)
    plan.add("case reference", f"{case}  ->  {to_hex(ref)}")
    plan.add("balance", som_text(t.balanceOf(account)))
    frozen = t.isFrozen(account)
    plan.add("frozen now", "yes" if frozen else "no")
    _require_role(plan, t, "ASSET_PROTECTION_ROLE", officer, "token")
    if action == "freeze":
        if frozen:
            plan.nothing_to_do = "the account is already frozen"
        plan.calls.append(Call("freeze", t.freeze, (account, ref)))
    elif action == "unfreeze":
        if not frozen:
            plan.nothing_to_do = "the account is not frozen"
        plan.calls.append(Call("unfreeze", t.unfreeze, (account, ref)))
    elif action == "wipe":
        if not frozen:
            plan.problems.append("only a frozen account can be wiped: freeze it first")
        plan.warnings.append("wiping burns the whole balance and cannot be undone")
        plan.calls.append(Call("wipeFrozen", t.wipeFrozen, (account, ref)))
    else:
        raise ValueError(f"unknown action {action!r}")
    plan.check_by_simulation()
    return plan


def plan_pause(system: System, caller: str, pause: bool) -> Plan:
    t = system.token
    plan = Plan("Pause the token" if pause else "Unpause the token", caller)
    plan.add("paused now", "yes" if t.paused() else "no")
    if t.paused() == pause:
        plan.nothing_to_do = "the token is already " + ("paused" if pause else "unpaused")
        return plan
    _require_role(plan, t, "PAUSER_ROLE", caller, "token")
    plan.calls.append(Call("pause" if pause else "unpause", t.pause if pause else t.unpause, ()))
    plan.check_by_simulation()
    return plan


def plan_halt_minting(system: System, caller: str) -> Plan:
    c = system.controller
    plan = Plan("Halt minting (circuit breaker)", caller)
    if c.config().mintingHalted:
        plan.nothing_to_do = "minting is already halted"
        return plan
    plan.warnings.append("only governance (through the timelock) can resume minting")
    plan.calls.append(Call("haltMinting", c.haltMinting, ()))
    plan.check_by_simulation()
    return plan


def plan_attest_submit(system: System, submitter: str, signed: list) -> Plan:
    """Submits an attestation with its auditors' signature files (checked against each other and the registry
    first). Anyone may submit: the signatures are the authority."""
    r = system.registry
    auditors = r.auditors()
    attestation, signatures = collect(
        signed, chain_id=system.provider.chain_id, registry=r.address, auditors=auditors, threshold=r.auditorThreshold(),
        contract_auditors=[a for a in auditors if system.provider.get_code(a)],
    )
    plan = Plan("Submit a reserve attestation", submitter)
    plan.add("as of", utc(attestation.as_of))
    _amount_lines(plan, "total reserves", attestation.total)
    for custodian_id, tiyin in attestation.custodian_amounts:
        plan.add(f"custodian {custodian_id}", f"{SomAmount(tiyin)}  ({r.custodian(custodian_id).name})")
    plan.add("report", f"{attestation.report_uri} (hash 0x{attestation.report_hash.hex()})")
    plan.add("signed by", ", ".join(a for a, _ in signatures))
    plan.data.update(as_of=attestation.as_of, total_tiyin=attestation.total.tiyin)
    if r.attestationSubmitted(digest(attestation, chain_id=system.provider.chain_id, registry=r.address)):
        plan.nothing_to_do = "this attestation was already submitted"
        return plan
    plan.calls.append(Call("submitAttestation", r.submitAttestation, (attestation.contract_input(), signatures)))
    plan.check_by_simulation()
    return plan


GUARDIAN_ACTIONS = {
    # name: (contract attribute, function, what the argument is)
    "remove-minter": ("controller", "removeMinter", "minter address"),
    "remove-approver": ("controller", "removeApprover", "approver address"),
    "remove-auditor": ("registry", "removeAuditor", "auditor address"),
    "deactivate-custodian": ("registry", "deactivateCustodian", "custodian id"),
}


def plan_guardian_action(system: System, guardian: str, action: str, target: str) -> Plan:
    """The guardian's instant, risk-reducing removals (granting anything goes through the timelock)."""
    if action not in GUARDIAN_ACTIONS:
        raise ValueError(f"unknown action {action!r}; choose one of: {', '.join(GUARDIAN_ACTIONS)}")
    contract_name, function, what = GUARDIAN_ACTIONS[action]
    contract = getattr(system, contract_name)
    plan = Plan(f"Guardian: {action}", guardian)
    plan.add(what, target)
    if action == "remove-approver":
        plan.warnings.append("every approval given so far on open requests is voided; approvers must approve again")
    if action == "remove-minter":
        plan.warnings.append("the minter's allowance and window go to zero: its open requests cannot execute")
    _require_role(plan, contract, "GUARDIAN_ROLE", guardian, contract_name)
    plan.calls.append(Call(function, getattr(contract, function), (int(target) if what == "custodian id" else target,)))
    plan.check_by_simulation()
    return plan


# ------------------------------------------------------------------------------------------------------
# Runner
# ------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    plan: Plan
    sent: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "sent": self.sent}


def execute(plan: Plan, signer, *, log: Callable[[str], None] = print) -> Outcome:
    """Sends the plan's calls in order (the caller has checked there are no problems and has confirmation)."""
    sent = []
    for call in plan.calls:
        try:
            receipt = call.send(signer)
        except ContractLogicError as err:
            done = ", ".join(s["description"] for s in sent) or "nothing"
            raise OperationFailed(f"{call.description} was refused: {explain(err)} (already sent: {done})") from None
        sent.append({"description": call.description, "tx": receipt.txn_hash, "block": receipt.block_number, "gas_used": receipt.gas_used})
        log(f"sent {call.description}: tx {receipt.txn_hash} (block {receipt.block_number}, gas {receipt.gas_used})")
    return Outcome(plan, sent)


class OperationFailed(RuntimeError):
    pass


def utc(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


__all__ = [
    "Call", "Plan", "System", "Outcome", "OperationFailed", "execute",
    "plan_mint_request", "plan_mint_approve", "plan_mint_execute", "plan_mint_cancel",
    "plan_redeem", "plan_burn_redeemed", "plan_attest_submit", "plan_freeze", "plan_pause", "plan_halt_minting", "plan_guardian_action", "utc",
]
