"""An executable model of token + issuance controller + reserve registry for the invariant machine.

For each call the model predicts the outcome following the contracts' documented check order: None (success) or
the exact custom error E("Name", args...). It holds everything the chain exposes through the state read
(balances, frozen flags, allowances, permit nonces, EIP-3009 authorizations, supply counters, pause, minting halt,
requests, minter allowances and rate windows, payout references, latest attestation), and `expected_reads(t)`
renders it in the same shape as the chain read, so the machine compares the two key by key after every step.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field

from eth_utils import keccak

from tests.controller.helpers import WindowModel as Window  # the same rolling-window rule the controller tests use
from tests.invariants.harness import MAX_UINT, TIYIN, ZERO, E

PENDING, EXECUTED, CANCELLED, EXPIRED = 1, 2, 3, 4
SINGLE, BATCH = 0, 1
UINT56_MAX = 2**56 - 1
BPS = 10_000


def role(name: str) -> bytes:
    return keccak(text=name)


DEFAULT_ADMIN_ROLE = b"\x00" * 32
MINTER_ROLE = role("MINTER_ROLE")
APPROVER_ROLE = role("APPROVER_ROLE")
REDEMPTION_DESK_ROLE = role("REDEMPTION_DESK_ROLE")
PAUSER_ROLE = role("PAUSER_ROLE")
ASSET_PROTECTION_ROLE = role("ASSET_PROTECTION_ROLE")
RESCUER_ROLE = role("RESCUER_ROLE")
UPGRADER_ROLE = role("UPGRADER_ROLE")
PROPOSER_ROLE = role("PROPOSER_ROLE")
EXECUTOR_ROLE = role("EXECUTOR_ROLE")


def unauthorized(account: str, needed_role: bytes) -> tuple:
    return E("AccessControlUnauthorizedAccount", account, needed_role)


@dataclass
class Request:
    requester: str
    recipient: str  # a batch: the zero address
    amount: int  # base units, whole tiyin; a batch: its total
    expires: int
    status: int = PENDING
    approvals: list = field(default_factory=list)  # approver addresses (this approver epoch), in order
    kind: int = SINGLE
    entry_count: int = 0  # batch only
    executed_count: int = 0
    executed_amount: int = 0


class Model:
    def __init__(self, *, token: str, controller: str, config: dict, approvers, minters, auditors):
        self.token = token
        self.controller = controller
        self.cfg = copy.deepcopy(config)  # tiers, max age, margin, TTL: the guardian may tighten them
        self.approvers = set(approvers)  # APPROVER_ROLE holders
        self.minters = set(minters)  # MINTER_ROLE holders
        self.epoch = 0  # approver epoch: bumped when an approver is removed (voids pending approvals)
        # token
        self.events: list[tuple] = []  # Transfer/Approval events the current step should emit, in order
        self.bal: Counter = Counter()
        self.frozen_set: set[str] = set()
        self.allow: dict[tuple[str, str], int] = {}
        self.nonces: Counter = Counter()
        self.auth: dict[tuple[str, bytes], int] = {}  # 1 used, 2 canceled
        self.paused = False
        self.supply = self.minted = self.burned = self.wiped = 0
        # controller
        self.halted = False
        self.per_tx_cap = config["per_tx_cap"]
        self.requests: dict[bytes, Request] = {}
        self.minted_in_batch: set[bytes] = set()  # deposit references used up by batch entries
        self.payouts: set[bytes] = set()
        self.minter_allowance = dict(config["minter_allowance"])
        self.minter_window = {m: Window(limit, config["window_seconds"]) for m, limit in config["minter_window_limit"].items()}
        self.global_window = Window(config["global_window_limit"], config["window_seconds"])
        # registry
        self.auditors = set(auditors)
        self.active_custodians = set(range(config["custodians"]))
        self.reserves = 0  # base units
        self.as_of = 0
        self.attestations = 0
        self.submitted_digests: set[bytes] = set()
        # every accepted attestation: (asOf, submittedAt, total tiyin, report hash, URI, custodian ids, amounts,
        # signers, submitter), as KGSTReserveRegistry.attestation(i) returns it
        self.history: list[tuple] = []

    def clone(self) -> "Model":
        return copy.deepcopy(self)

    # --- token ----------------------------------------------------------------------------------------------------

    def frozen(self, account: str) -> bool:
        return account in self.frozen_set

    def allowance(self, owner: str, spender: str) -> int:
        return self.allow.get((owner, spender), 0)

    def update_error(self, frm: str, to: str, value: int):
        """KGSTToken._update: pause, sender frozen/balance, recipient (token itself, frozen)."""
        if self.paused:
            return E("EnforcedPause")
        if frm != ZERO:
            if self.frozen(frm):
                return E("AccountFrozen", frm)
            if self.bal[frm] < value:
                return E("ERC20InsufficientBalance", frm, self.bal[frm], value)
        if to != ZERO:
            if to == self.token:
                return E("ERC20InvalidReceiver", to)
            if self.frozen(to):
                return E("AccountFrozen", to)
        return None

    def apply_update(self, frm: str, to: str, value: int, deltas: Counter) -> None:
        self.events.append(("Transfer", frm, to, value))
        if frm == ZERO:
            self.supply += value
            self.minted += value
        else:
            self.bal[frm] -= value
            deltas[frm] -= value
        if to == ZERO:
            self.supply -= value
            self.burned += value
        else:
            self.bal[to] += value
            deltas[to] += value

    def transfer_error(self, sender: str, to: str, value: int):
        if to == ZERO:
            return E("ERC20InvalidReceiver", ZERO)
        return self.update_error(sender, to, value)

    def spend_error(self, owner: str, spender: str, value: int):
        current = self.allowance(owner, spender)
        if current != MAX_UINT and current < value:
            return E("ERC20InsufficientAllowance", spender, current, value)
        return None

    def spend(self, owner: str, spender: str, value: int) -> None:
        current = self.allowance(owner, spender)
        if current != MAX_UINT:
            self.allow[(owner, spender)] = current - value

    def transfer_from_error(self, spender: str, frm: str, to: str, value: int):
        if frm == ZERO:
            return E("ERC20InvalidSender", ZERO)
        if to == ZERO:
            return E("ERC20InvalidReceiver", ZERO)
        if self.frozen(spender):
            return E("AccountFrozen", spender)
        return self.spend_error(frm, spender, value) or self.update_error(frm, to, value)

    def approve_error(self, op: str, owner: str, spender: str, value: int):
        if self.paused:
            return E("EnforcedPause")
        current = self.allowance(owner, spender)
        if op == "increaseAllowance" and current + value > MAX_UINT:
            return E("Panic", 0x11)
        if op == "decreaseAllowance" and current < value:
            return E("ERC20InsufficientAllowance", spender, current, value)
        if spender == ZERO:
            return E("ERC20InvalidSpender", ZERO)
        return None

    def apply_approve(self, op: str, owner: str, spender: str, value: int) -> None:
        current = self.allowance(owner, spender)
        self.set_allowance(owner, spender, {"approve": value, "increaseAllowance": current + value,
                                            "decreaseAllowance": current - value}[op])

    def set_allowance(self, owner: str, spender: str, value: int) -> None:
        """_approve: approve, increase/decreaseAllowance and permit (spending an allowance emits nothing)."""
        self.allow[(owner, spender)] = value
        self.events.append(("Approval", owner, spender, value))

    def permit_error(self, owner: str, spender: str, now: int, deadline: int, signature_valid: bool):
        if self.paused:
            return E("EnforcedPause")
        if now > deadline:
            return E("PermitExpired", deadline)
        if not signature_valid:
            return E("InvalidSignature", owner)
        if spender == ZERO:
            return E("ERC20InvalidSpender", ZERO)
        return None

    def authorization_error(self, relayer: str, frm: str, to: str, value: int, now: int, valid_after: int,
                            valid_before: int, nonce: bytes, signature_valid: bool, *, receive: bool = False):
        """transferWithAuthorization (the relayer must not be frozen) or receiveWithAuthorization (the caller must
        be the payee)."""
        if receive and relayer != to:
            return E("CallerMustBePayee", relayer, to)
        if not receive and self.frozen(relayer):
            return E("AccountFrozen", relayer)
        if now <= valid_after:
            return E("AuthorizationNotYetValid", valid_after)
        if now >= valid_before:
            return E("AuthorizationExpired", valid_before)
        if to == ZERO:
            return E("ERC20InvalidReceiver", ZERO)
        return (self.unused_authorization_error(frm, nonce)
                or (None if signature_valid else E("InvalidSignature", frm))
                or self.update_error(frm, to, value))

    def unused_authorization_error(self, authorizer: str, nonce: bytes):
        state = self.auth.get((authorizer, nonce), 0)
        if state == 1:
            return E("AuthorizationAlreadyUsed", authorizer, nonce)
        if state == 2:
            return E("AuthorizationWasCanceled", authorizer, nonce)
        return None

    def compliance_error(self, action: str, account: str, case_ref: bytes):
        if action == "wipeFrozen" and self.paused:
            return E("EnforcedPause")
        if case_ref == b"\x00" * 32:
            return E("MissingCaseReference")
        if action == "freeze":
            if account == ZERO:
                return E("ZeroAddress")
            if self.frozen(account):
                return E("AccountFrozen", account)
        elif not self.frozen(account):
            return E("AccountNotFrozen", account)
        return None

    def apply_compliance(self, action: str, account: str, deltas: Counter) -> int:
        if action == "freeze":
            self.frozen_set.add(account)
        elif action == "unfreeze":
            self.frozen_set.discard(account)
        else:
            amount = self.bal[account]
            self.bal[account] = 0
            deltas[account] -= amount
            self.events.append(("Transfer", account, ZERO, amount))
            self.supply -= amount
            self.wiped += amount
            return amount
        return 0

    # --- controller: requests ---------------------------------------------------------------------------------------

    def tiyin_error(self, amount: int):
        if amount % TIYIN:
            return E("AmountNotWholeTiyin", amount)
        if amount // TIYIN > UINT56_MAX:
            return E("AmountTooLarge", amount)
        return None

    def required(self, amount: int) -> int:
        a1, a2, a3 = self.cfg["approvals"]
        if amount <= self.cfg["tier1_max"]:
            return a1
        if amount <= self.cfg["tier2_max"]:
            return a2
        return a3

    def request_error(self, minter: str, recipient: str, amount: int, ref: bytes):
        if minter not in self.minters:
            return unauthorized(minter, MINTER_ROLE)
        if recipient in (ZERO, self.controller, self.token):
            return E("InvalidRecipient", recipient)
        err = self.tiyin_error(amount)
        if err:
            return err
        if amount == 0:
            return E("ZeroAmount")
        if amount > self.per_tx_cap:
            return E("ExceedsPerTransactionCap", amount, self.per_tx_cap)
        if ref == b"\x00" * 32:
            return E("MissingDepositReference")
        if self.ref_used(ref):
            return E("DepositRefAlreadyUsed", ref)
        if self.halted:
            return E("MintingIsHalted")
        return None

    def ref_used(self, ref: bytes) -> bool:
        """depositRefUsed: a request id (single deposit reference or batch root) or a batch entry's reference."""
        return ref in self.requests or ref in self.minted_in_batch

    def pending_error(self, ref: bytes, now: int, kind: int = SINGLE):
        r = self.requests.get(ref)
        if r is None:
            return E("UnknownRequest", ref)
        if r.kind != kind:
            return E("WrongRequestKind", ref)
        if r.status != PENDING:
            return E("RequestNotPending", ref, r.status)
        if now > r.expires:
            return E("RequestExpired", ref, r.expires)
        return None

    def approve_mint_error(self, approver: str, ref: bytes, recipient: str, amount: int, now: int):
        return self._approval_error(approver, ref, now, SINGLE, lambda r: (r.recipient, r.amount) == (recipient, amount))

    def _approval_error(self, approver: str, ref: bytes, now: int, kind: int, restates_the_request):
        """approveMint / approveBatchMint: the approver re-states what it approves (`restates_the_request(r)`)."""
        if approver not in self.approvers:
            return unauthorized(approver, APPROVER_ROLE)
        err = self.pending_error(ref, now, kind)
        if err:
            return err
        r = self.requests[ref]
        if not restates_the_request(r):
            return E("ApprovalMismatch", ref)
        if approver == r.requester:
            return E("RequesterCannotApprove", ref)
        if approver in r.approvals:
            return E("AlreadyApproved", ref, approver)
        return None

    # --- controller: batch requests (Merkle root of (recipient, amount, depositRef) entries) ---------------------------

    def request_batch_error(self, minter: str, root: bytes, entry_count: int, total: int):
        if minter not in self.minters:
            return unauthorized(minter, MINTER_ROLE)
        if entry_count == 0:
            return E("EmptyBatch")
        err = self.tiyin_error(total)
        if err:
            return err
        if total == 0:
            return E("ZeroAmount")
        if root == b"\x00" * 32 or root in self.requests:
            return E("InvalidBatchProof", root)
        if self.halted:
            return E("MintingIsHalted")
        return None

    def approve_batch_error(self, approver: str, root: bytes, entry_count: int, total: int, now: int):
        return self._approval_error(approver, root, now, BATCH, lambda r: (r.entry_count, r.amount) == (entry_count, total))

    def batch_chunk_error(self, root: bytes, entries: list, proof_valid: bool, now: int):
        """executeBatchChunk: request and approvals, each entry (recipient, whole tiyin, unused reference, in order),
        the multiproof, the batch's progress, the limits on the chunk total, each mint, the reserves."""
        err = self.pending_error(root, now, BATCH)
        if err:
            return err
        r = self.requests[root]
        if self.halted:
            return E("MintingIsHalted")
        required = self.required(r.amount)
        if len(r.approvals) < required:
            return E("NotEnoughApprovals", root, len(r.approvals), required)
        used_here = set()
        for recipient, amount, ref in entries:
            if recipient in (ZERO, self.controller, self.token):
                return E("InvalidRecipient", recipient)
            err = self.tiyin_error(amount)
            if err:
                return err
            if amount == 0:
                return E("ZeroAmount")
            if ref == b"\x00" * 32:
                return E("MissingDepositReference")
            if self.ref_used(ref) or ref in used_here:
                return E("DepositRefAlreadyUsed", ref)
            used_here.add(ref)
        if not proof_valid:
            return E("InvalidBatchProof", root)
        if not entries:
            return E("EmptyBatch")
        executed_count = r.executed_count + len(entries)
        if executed_count > r.entry_count:
            return E("BatchTooLarge", len(entries), r.entry_count, r.executed_count)
        chunk = sum(amount for _, amount, _ in entries)
        executed = r.executed_amount + chunk
        if executed > r.amount or (executed_count == r.entry_count and executed != r.amount):
            return E("BatchTotalMismatch", executed, r.amount)
        err = self.limits_error(r.requester, chunk, now)
        if err:
            return err
        for recipient, amount, _ in entries:
            err = self.update_error(ZERO, recipient, amount)
            if err:
                return err
        return self.reserves_error(chunk, now)

    def apply_batch_chunk(self, root: bytes, entries: list, now: int, deltas: Counter) -> int:
        r = self.requests[root]
        chunk = sum(amount for _, amount, _ in entries)
        for _, _, ref in entries:
            self.minted_in_batch.add(ref)
        r.executed_count += len(entries)
        r.executed_amount += chunk
        if r.executed_count == r.entry_count:
            r.status = EXECUTED
        self.use_limits(r.requester, chunk, now)
        for recipient, amount, _ in entries:
            self.apply_update(ZERO, recipient, amount, deltas)
        return chunk

    def mintable_supply(self) -> int:
        return self.reserves * (BPS - self.cfg["reserve_margin_bps"]) // BPS

    def execute_error(self, ref: bytes, now: int):
        err = self.pending_error(ref, now)
        if err:
            return err
        r = self.requests[ref]
        if self.halted:
            return E("MintingIsHalted")
        required = self.required(r.amount)
        if len(r.approvals) < required:
            return E("NotEnoughApprovals", ref, len(r.approvals), required)
        return (self.limits_error(r.requester, r.amount, now)
                or self.update_error(ZERO, r.recipient, r.amount)  # token.mint
                or self.reserves_error(r.amount, now))

    def limits_error(self, m: str, amount: int, now: int):
        """_useLimits: per-transaction cap, global window, the requester's allowance, its window."""
        if amount > self.per_tx_cap:
            return E("ExceedsPerTransactionCap", amount, self.per_tx_cap)
        available = self.global_window.available(now)
        if available < amount:
            return E("ExceedsGlobalWindow", amount, available)
        if amount > self.minter_allowance.get(m, 0):
            return E("ExceedsMinterAllowance", m, amount, self.minter_allowance.get(m, 0))
        available = self.minter_window[m].available(now)
        if available < amount:
            return E("ExceedsMinterWindow", m, amount, available)
        return None

    def reserves_error(self, amount: int, now: int):
        """_checkReserves after the mint: fail closed without a fresh attestation; supply within the reserves."""
        if self.attestations == 0:
            return E("NoReserveAttestation")
        if now > self.as_of + self.cfg["max_attestation_age"]:
            return E("ReserveAttestationStale", self.as_of, self.cfg["max_attestation_age"])
        if self.supply + amount > self.mintable_supply():
            return E("ExceedsReserves", self.supply, amount, self.mintable_supply())
        return None

    def use_limits(self, m: str, amount: int, now: int) -> None:
        self.minter_allowance[m] -= amount
        self.minter_window[m].record(now, amount)
        self.global_window.record(now, amount)

    def apply_execute(self, ref: bytes, now: int, deltas: Counter) -> Request:
        r = self.requests[ref]
        r.status = EXECUTED
        self.use_limits(r.requester, r.amount, now)
        self.apply_update(ZERO, r.recipient, r.amount, deltas)
        return r

    def remove_approver(self, approver: str) -> None:
        """_revokeRole(APPROVER_ROLE): a no-op for a non-holder; else a new epoch voids every approval so far."""
        if approver in self.approvers:
            self.approvers.discard(approver)
            self.epoch += 1
            for r in self.requests.values():
                r.approvals = []

    def remove_minter(self, minter: str) -> None:
        """_revokeRole(MINTER_ROLE): a no-op for a non-holder; else its allowance and window limit become 0."""
        if minter in self.minters:
            self.minters.discard(minter)
            self.minter_allowance[minter] = 0
            self.minter_window[minter].limit = 0

    def cancel_error(self, caller: str, ref: bytes, guardian: str):
        r = self.requests.get(ref)
        if r is None:
            return E("UnknownRequest", ref)
        if r.status != PENDING:
            return E("RequestNotPending", ref, r.status)
        if caller != r.requester and caller != guardian:
            return E("NotRequesterOrGuardian", caller)
        return None

    # --- controller: redemption ---------------------------------------------------------------------------------------

    def redeem_error(self, holder: str, amount: int, payout: bytes, *, allowance: int | None = None):
        """_redeem(holder, ...) called by the holder (burn spends the holder's allowance to the controller) or,
        for holder == controller, by the desk (burn of the controller's own balance)."""
        err = self.tiyin_error(amount)
        if err:
            return err
        if amount == 0:
            return E("ZeroAmount")
        if payout == b"\x00" * 32:
            return E("MissingPayoutReference")
        if payout in self.payouts:
            return E("PayoutRefAlreadyUsed", payout)
        if holder != self.controller:
            if self.frozen(self.controller):
                return E("AccountFrozen", self.controller)
            current = self.allowance(holder, self.controller) if allowance is None else allowance
            if current != MAX_UINT and current < amount:
                return E("ERC20InsufficientAllowance", self.controller, current, amount)
        return self.update_error(holder, ZERO, amount)

    def apply_redeem(self, holder: str, amount: int, payout: bytes, deltas: Counter) -> None:
        self.payouts.add(payout)
        if holder != self.controller:
            self.spend(holder, self.controller, amount)
        self.apply_update(holder, ZERO, amount, deltas)

    # --- the state read, as the model expects it ----------------------------------------------------------------------

    def request_view(self, ref: bytes, t: int) -> tuple:
        r = self.requests[ref]
        status = EXPIRED if r.status == PENDING and t > r.expires else r.status
        return (r.kind, status, int(r.requester, 16), int(r.recipient, 16), r.amount, r.expires, len(r.approvals),
                self.required(r.amount), r.entry_count, r.executed_count, r.executed_amount)

    def expected_reads(self, t: int, plan) -> dict:
        cfg = self.cfg
        out = {}
        for key, *_ in plan:
            kind = key[0]
            if kind == "bal":
                out[key] = (self.bal[key[1]],)
            elif kind == "frz":
                out[key] = (int(self.frozen(key[1])),)
            elif kind == "alw":
                out[key] = (self.allowance(key[1], key[2]),)
            elif kind == "non":
                out[key] = (self.nonces[key[1]],)
            elif kind == "sup":
                out[key] = (self.supply, self.minted, self.burned, self.wiped)
            elif kind == "pau":
                out[key] = (int(self.paused),)
            elif kind == "mnt":
                out[key] = (int(self.controller, 16),)
            elif kind == "cfg":
                a1, a2, a3 = cfg["approvals"]
                out[key] = (int(self.halted), cfg["max_attestation_age"], cfg["reserve_margin_bps"], cfg["request_ttl"],
                            cfg["tier1_max"] // TIYIN, cfg["tier2_max"] // TIYIN, a1, a2, a3, self.epoch)
            elif kind == "mst":
                m = key[1]
                w = self.minter_window[m]
                out[key] = (self.minter_allowance[m], w.limit, w.used(t), w.available(t))
            elif kind == "gst":
                w = self.global_window
                out[key] = (self.per_tx_cap, w.limit, w.used(t), w.available(t))
            elif kind == "res":
                out[key] = (self.reserves, self.as_of, self.attestations)
            elif kind == "req":
                out[key] = self.request_view(key[1], t)
            elif kind == "aut":
                out[key] = (int((key[1], key[2]) in self.auth),)
            elif kind == "pay":
                out[key] = (int(key[1] in self.payouts),)
            elif kind == "isa":
                out[key] = (int(key[1] in self.auditors),)
            elif kind == "role":
                out[key] = (int(key[2] in (self.minters if key[1] == "minter" else self.approvers)),)
            else:
                raise KeyError(key)
        return out
