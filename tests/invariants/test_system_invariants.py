"""System-wide stateful property test: token + issuance controller + reserve registry (+ the timelock for resuming
minting) under random sequences of actions by many actors, driven through raw web3 (tests/invariants/harness.py)
so that thousands of steps fit in about a minute.

Actors: six holders (test:14-19), minters A and B (test:6, test:7; B also holds APPROVER_ROLE), approvers test:8-10,
auditors test:11-13, the guardian (pause, halt, cancel, tighten limits), compliance (freeze, unfreeze, wipe), the
redemption desk, governance (timelock proposer/executor), and an outsider (test:22) with no role anywhere.

Rules (each draws its arguments, with boundary values: 0, 1 wei, 1 tiyin, exactly the balance or allowance, one
more, all of uint256): transfer (to anyone, to self, to the controller, the token, the zero address);
approve / increaseAllowance / decreaseAllowance; transferFrom (finite and infinite allowances); permit signed with
eth-account then transferFrom; transfer/receiveWithAuthorization and cancelAuthorization (EIP-3009, eth-account);
freeze / unfreeze / wipeFrozen and their batch forms; pause / unpause; requestMint (fresh, reused or zero deposit
reference), approveMint (any approver, the requester itself, a non-approver), executeMint, cancelRequest, a whole
deposit -> request -> approvals -> execute flow; batch Merkle mints (requestBatchMint, approveBatchMint,
executeBatchChunk with multiproofs, references shared with single requests); redeem (after approve),
redeemWithPermit, a holder sending KGST to the controller then burnRedeemed by the desk; new attestations (random
reserves, sometimes below supply, as of now; from the future, not newer, replays, too few or duplicate signers);
time jumps (seconds to three days); halting minting (guardian) and resuming it through the timelock (schedule by
governance, 61 s, execute; too early and directly by the guardian both refused); the guardian tightening a limit
(allowed) or loosening one (refused); and the attacker: the outsider calling one of ~40 privileged functions
(token mint/burn/freeze/wipe/pause/setMinter/upgradeToAndCall/rescue/grantRole, forged permit and EIP-3009
signatures, transferFrom without allowance, requestMint/approveMint/executeMint without approvals/cancelRequest,
setPerTxCap up and down, setMinterLimits, addMinter, removeMinter, halt/resume, burnRedeemed, attestations with a
forged, unknown, duplicate or missing signature, registry and timelock administration) - it must always revert.

Every call's outcome is predicted by the Python model (tests/invariants/model.py): success, or the exact custom
error with all its arguments. A predicted revert is first reproduced with eth_call on the pending block (the same
timestamp the transaction gets) to read and compare its error, then sent and must be mined reverted. ERC-20
functions that succeed must return true (eth_call). After every step the whole state is read in ONE eth_call and
compared with the model value by value (balances, frozen flags, allowances, permit nonces, EIP-3009 authorizations,
supply counters, pause, minter, controller config and approver epoch, every request's view, minter allowances and
windows, global cap and window, roles, auditors, payout references, the latest attestation), the token's Transfer
and Approval events of the step must be exactly the ones the model expects, and these invariants are checked, each
named after the rule it guards:

- supply_is_the_sum_of_balances_and_of_the_counters: totalSupply == sum of balances over every actor, the
  controller, registry, timelock, token and zero address == totalMinted - totalBurned - totalWiped;
- reserves_cover_supply_at_every_mint: after each successful mint (single or batch chunk), totalSupply <= the
  latest attested reserves less the margin, and that attestation was fresh at the mint's timestamp;
- each_deposit_ref_mints_at_most_once: from the MintExecuted and BatchEntryMinted events, across both paths;
- frozen_balances_change_only_through_wipe;
- nothing_moves_while_paused: a step that starts paused changes no balance and no supply counter;
- attestation_history_is_append_only: after every attestation attempt, each accepted attestation reads back exactly
  as submitted (and once more at the end of each example);
- zero_address_and_token_hold_nothing;
- allowance_drops_by_exactly_what_transfer_from_moved (unless infinite; also the controller's allowance on redeem);
- self_transfer_keeps_the_balance;
- no_backdoor: every balance the step did not intend to move is unchanged, and the intended ones moved exactly;
- supply_changes_only_through_the_controller_or_wipe: every Transfer from/to the zero address comes from a
  transaction sent to the controller, or from wipeFrozen;
- minter_allowance_and_windows_never_exceeded: every interval of windowSeconds ending at a mint holds at most the
  window limit in force (per minter and globally); no mint above the minter's remaining allowance; allowances only
  go down.

Size: KGST_INVARIANT_EXAMPLES (default 100) x KGST_INVARIANT_STEPS (default 30) steps (hypothesis ends a few
examples early, so about 2,600-3,000 steps; ~45 s here). The seed is printed and attached to any failure; replay
with KGST_INVARIANT_SEED=<seed> (and the same size). KGST_INVARIANT_SEND_REVERTS=0 checks predicted reverts by
eth_call only, without sending them (a little faster).
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from eth_abi import decode as abi_decode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from kgst.attestation import Attestation, digest as attestation_digest, sign_with_key
from kgst.merkle import BatchEntry, leaf_hash, make_tree, tree_multiproof
from kgst.permit import sign_permit
from tests.invariants.conftest import OUTCOMES, RUN_INFO, RUN_STATS, examples_and_steps
from tests.invariants.harness import MAX_UINT, TIYIN, UNIT, ZERO, ZERO32, E, norm
from tests.invariants.model import (
    BATCH,
    CANCELLED,
    ASSET_PROTECTION_ROLE,
    DEFAULT_ADMIN_ROLE,
    EXECUTED,
    EXECUTOR_ROLE,
    MINTER_ROLE,
    PAUSER_ROLE,
    PENDING,
    PROPOSER_ROLE,
    REDEMPTION_DESK_ROLE,
    RESCUER_ROLE,
    UPGRADER_ROLE,
    APPROVER_ROLE,
    Model,
    Request,
    unauthorized,
)

RULES: Counter = Counter()  # how often each rule ran (printed with the run summary)
SEND_REVERTS = os.environ.get("KGST_INVARIANT_SEND_REVERTS", "1") != "0"
TOKEN_NAME, TOKEN_VERSION = "Kyrgyz Som Token", "1"
MINT_EXECUTED = keccak(text="MintExecuted(bytes32,address,uint256)")
BATCH_ENTRY_MINTED = keccak(text="BatchEntryMinted(bytes32,address,bytes32,uint256)")
TRANSFER = keccak(text="Transfer(address,address,uint256)")
ZERO_TOPIC = "0x" + "00" * 32
TRUE_WORD = (1).to_bytes(32, "big")
TRANSFER_TOPIC = "0x" + TRANSFER.hex()
APPROVAL_TOPIC = "0x" + keccak(text="Approval(address,address,uint256)").hex()
READY_BITMAP = (1 << 2).to_bytes(32, "big")  # TimelockController: OperationState.Ready
# KGSTReserveRegistry.Attestation: asOf, submittedAt, totalReservesTiyin, reportHash, reportURI, custodianIds,
# custodianAmountsTiyin, signers, submitter
ATTESTATION_TYPE = "(uint64,uint64,uint128,bytes32,string,uint256[],uint256[],address[],address)"


def topic_address(topic: str) -> str:
    return "0x" + topic[-40:]


@dataclass
class Step:
    """What the current step intends, for the invariants to check against the chain."""

    rule: str
    deltas: Counter = field(default_factory=Counter)  # intended balance movements
    wiped: set = field(default_factory=set)
    self_transfers: list = field(default_factory=list)
    allowance_spends: list = field(default_factory=list)  # (owner, spender, before, moved)
    mints: list = field(default_factory=list)  # (timestamp, amount, minter, ref)
    attested: bool = False  # an attestation was (or was tried to be) submitted: re-read the history
    receipts: list = field(default_factory=list)  # (to, selector, raw receipt)


class BatchPlan:
    """A mint batch: its (recipient, amount, depositRef) entries and their OpenZeppelin StandardMerkleTree, built
    with kgst.merkle's functions (not its BatchMerkleTree, which refuses the duplicate references tested here)."""

    def __init__(self, entries):
        self.entries = list(entries)
        leaves = [leaf_hash(BatchEntry(*e)) for e in self.entries]
        order = sorted(range(len(leaves)), key=lambda i: leaves[i])
        self.tree = make_tree([leaves[i] for i in order])
        self.node_of = {i: len(self.tree) - 1 - position for position, i in enumerate(order)}
        self.entry_of = {node: i for i, node in self.node_of.items()}
        self.done: set[int] = set()

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def multiproof(self, indices):
        """(entry indices in the order the contract takes them, proof, flags)."""
        nodes, proof, flags = tree_multiproof(self.tree, [self.node_of[i] for i in indices])
        return [self.entry_of[n] for n in nodes], proof, flags


class SystemMachine(RuleBasedStateMachine):
    S = None  # the System (tests/invariants/conftest.py), set by the test
    base_model: Model = None
    base_values: dict = None

    # ---------------------------------------------------------------------------------------------------------------
    # Setup and teardown: each example starts from the same chain snapshot and the same model.
    # ---------------------------------------------------------------------------------------------------------------

    def __init__(self):
        super().__init__()
        S = self.S
        self.snapshot_id = S.driver.snapshot()
        S.driver.nonces = dict(S.base_nonces)
        self.t = S.base_time
        self.m: Model = self.base_model.clone()
        self.prev = self.cur = self.base_values
        self.step: Step | None = None
        self.counter = 0
        self.minted_refs: list[bytes] = []  # deposit refs from MintExecuted and BatchEntryMinted events, this example
        self.batches: dict[bytes, BatchPlan] = {}  # root -> entries and tree, for the batches opened this example
        self.mint_log: list[tuple] = []  # (timestamp, amount, minter, its allowance, its window limit, global limit)
        self.minted_by: Counter = Counter()
        self.supply_change_sources: list = []
        self.last_attestation = None
        RUN_STATS["examples"] += 1

    def teardown(self):
        try:
            if self.m.history:  # the whole history once more, at the end of the example
                assert self.read_attestation_history() == norm(self.m.history), "attestation history differs"
        finally:
            self.S.driver.revert(self.snapshot_id)

    # ---------------------------------------------------------------------------------------------------------------
    # Plumbing
    # ---------------------------------------------------------------------------------------------------------------

    def fresh(self, label: str) -> bytes:
        self.counter += 1
        return keccak(text=f"kgst-invariants/{label}/{self.counter}")

    def begin(self, name: str) -> Step:
        self.step = Step(name)
        self.m.events.clear()
        RULES[sys._getframe(1).f_code.co_name] += 1
        return self.step

    def outcome(self, label: str, result: str) -> None:
        OUTCOMES[f"{label}: {result}"] += 1

    def tx(self, label: str, actor, to: str, data: bytes, expect, *, returns_true: bool = False):
        """Sends one transaction whose outcome the model predicted (`expect` None = success, else the error).
        `returns_true`: an ERC-20 function; its return value (eth_call on the pending block) must be `true`."""
        d = self.S.driver
        now = self.t + 1
        if expect is None and returns_true:
            kind, got = d.call(actor.address, to, data)
            assert (kind, got) == ("ok", TRUE_WORD), f"{label} by {actor}: returned {kind} {got!r}, not true"
        if expect is not None:
            kind, got = d.call(actor.address, to, data)
            assert kind == "revert", f"{label} by {actor}: the model expected {expect}, but the call succeeds at t={now}"
            assert got == expect, f"{label} by {actor} at t={now}: expected revert {expect}, got {got}"
            self.outcome(label, expect[0])
            if not SEND_REVERTS:
                return None
            receipt = d.send(actor, to, data)
            self.t = now
            assert int(receipt["status"], 16) == 0, f"{label}: eth_call reverted with {got} but the transaction succeeded"
            return None
        receipt = d.send(actor, to, data)
        self.t = now
        if int(receipt["status"], 16) != 1:
            _, got = d.call(actor.address, to, data, block="latest", time_override=now)
            raise AssertionError(f"{label} by {actor} at t={now}: the model expected success, the chain reverted: {got}")
        stamp = receipt.get("blockTimestamp")
        if stamp is not None:  # anvil adds it (as a number or hex): the model's clock must be the chain's
            assert (int(stamp, 16) if isinstance(stamp, str) else int(stamp)) == now, "blocks are not one second apart"
        self.outcome(label, "ok")
        self.step.receipts.append((to, data[:4], receipt))
        return receipt

    def read_plan(self) -> list:
        S, m = self.S, self.m
        plan = list(self.static_plan)
        tok, ctl = S.tok, S.ctl
        for ref in m.requests:
            plan.append((("req", ref), S.controller, ctl.enc("getRequest", ref), 11))
        for (a, n) in m.auth:
            plan.append((("aut", a, n), S.token, tok.enc("authorizationState", a, n), 1))
        for p in m.payouts:
            plan.append((("pay", p), S.controller, ctl.enc("payoutRefUsed", p), 1))
        return plan

    def end(self) -> None:
        """Reads the whole state, compares it with the model, collects the events the invariants need."""
        plan = self.read_plan()
        timestamp, values = self.S.reader.read(plan)
        assert timestamp == self.t, f"the model's clock {self.t} differs from the chain's {timestamp}"
        self.prev, self.cur = self.cur, values
        expected = self.m.expected_reads(self.t, plan)
        diff = {k: (expected[k], values[k]) for k in expected if expected[k] != values[k]}
        assert not diff, f"after {self.step.rule}: chain differs from the model (key: (model, chain)):\n" + "\n".join(
            f"  {self.describe(k)}: {v}" for k, v in diff.items())
        token_events = []
        for to, selector, receipt in self.step.receipts:
            for log in receipt["logs"]:
                topics = log["topics"]
                emitter = log["address"].lower()
                if emitter == self.S.token.lower() and topics[0] in (TRANSFER_TOPIC, APPROVAL_TOPIC):
                    token_events.append(("Transfer" if topics[0] == TRANSFER_TOPIC else "Approval",
                                         to_checksum_address(topic_address(topics[1])),
                                         to_checksum_address(topic_address(topics[2])), int(log["data"], 16)))
                if emitter == self.S.controller.lower() and topics[0] == "0x" + MINT_EXECUTED.hex():
                    self.minted_refs.append(bytes.fromhex(topics[1][2:]))
                if emitter == self.S.controller.lower() and topics[0] == "0x" + BATCH_ENTRY_MINTED.hex():
                    self.minted_refs.append(bytes.fromhex(topics[3][2:]))
                if emitter == self.S.token.lower() and topics[0] == "0x" + TRANSFER.hex() and ZERO_TOPIC in topics[1:3]:
                    self.supply_change_sources.append((to, selector))
        assert token_events == self.m.events, (
            f"after {self.step.rule}: token events {token_events}, the model expected {self.m.events}")
        RUN_STATS["steps"] += 1

    def describe(self, key) -> str:
        names = {a.address: a.name for a in self.S.eoas}
        names.update({self.S.controller: "controller", self.S.token: "token", self.S.registry: "registry",
                      self.S.timelock: "timelock", ZERO: "zero"})
        return str(tuple(names.get(k, k.hex()[:10] if isinstance(k, bytes) else k) for k in key))

    # ---------------------------------------------------------------------------------------------------------------
    # Draws
    # ---------------------------------------------------------------------------------------------------------------

    def draw_amount(self, data, balance: int, label: str) -> int:
        """Boundary-heavy amounts around a balance (or an allowance): 0, 1 wei, 1 tiyin, exactly it, one more, a
        part, whole tiyin of it, all of uint256."""
        kind = data.draw(st.sampled_from(["zero", "one wei", "one tiyin", "exact", "exact", "one more", "part", "part",
                                          "whole tiyin", "max uint"]), label=f"{label} kind")
        if kind == "zero":
            return 0
        if kind == "one wei":
            return 1
        if kind == "one tiyin":
            return TIYIN
        if kind == "exact":
            return balance
        if kind == "one more":
            return balance + data.draw(st.sampled_from([1, TIYIN]), label=f"{label} excess")
        if kind == "part":
            return data.draw(st.integers(0, max(balance, 0)), label=label)
        if kind == "whole tiyin":
            return balance // TIYIN * TIYIN
        return MAX_UINT

    def draw_mint_amount(self, data, *, valid_only: bool = False) -> int:
        """Amounts by the deployed tiers and cap (the guardian may lower them during an example)."""
        t1, t2, cap = (self.S.config[k] // TIYIN for k in ("tier1_max", "tier2_max", "per_tx_cap"))
        tiyin = data.draw(st.one_of(
            st.integers(1, t1), st.integers(t1 + 1, t2), st.integers(t2 + 1, 3 * t2), st.integers(t2 + 1, cap),
            st.sampled_from([1, t1, t1 + 1, t2, t2 + 1, cap]),
        ), label="mint amount (tiyin)")
        if valid_only:
            return tiyin * TIYIN
        kind = data.draw(st.sampled_from(["valid"] * 6 + ["above cap", "zero", "not whole tiyin", "too large"]),
                         label="mint amount kind")
        if kind == "above cap":
            return cap * TIYIN + data.draw(st.sampled_from([TIYIN, 10**6 * UNIT]), label="excess")
        if kind == "zero":
            return 0
        if kind == "not whole tiyin":
            return tiyin * TIYIN + 1
        if kind == "too large":
            return 2**56 * TIYIN
        return tiyin * TIYIN

    def draw_recipient(self, data, sender: str | None = None, kind: str | None = None) -> str:
        S = self.S
        kind = kind or data.draw(st.sampled_from(["holder"] * 5 + ["self", "actor", "controller", "registry", "token",
                                                  "zero"]), label="recipient kind")
        if kind == "holder":
            return data.draw(st.sampled_from(S.holders), label="recipient").address
        if kind == "self" and sender is not None:
            return sender
        if kind in ("actor", "self"):
            return data.draw(st.sampled_from(S.eoas), label="recipient").address
        return {"controller": S.controller, "registry": S.registry, "token": S.token, "zero": ZERO}[kind]

    def draw_sender(self, data, label="sender"):
        S = self.S
        return data.draw(st.sampled_from(S.holders * 3 + [S.outsider, S.desk, S.guardian, S.minters[0], S.approvers[0]]),
                         label=label)

    def draw_ref(self, data, *, prefer_ready=False):
        """A known request (mostly a live one; for execution mostly one with enough approvals), or an unknown one."""
        m = self.m
        live = [r for r, q in m.requests.items() if q.status == PENDING and self.t + 1 <= q.expires]
        ready = [r for r in live if len(m.requests[r].approvals) >= m.required(m.requests[r].amount)]
        expired = [r for r, q in m.requests.items() if q.status == PENDING and self.t + 1 > q.expires]
        kinds = (["ready"] * 3 if prefer_ready else []) + ["live"] * 4 + ["any", "unknown", "expired"]
        kind = data.draw(st.sampled_from(kinds), label="request kind")
        if kind == "ready" and ready:
            return data.draw(st.sampled_from(ready), label="request")
        if kind == "expired" and expired:
            return data.draw(st.sampled_from(expired), label="request")
        if kind in ("ready", "live") and live:
            return data.draw(st.sampled_from(live), label="request")
        if kind in ("ready", "live", "any") and m.requests:
            return data.draw(st.sampled_from(list(m.requests)), label="request")
        return self.fresh("unknown-request")

    def draw_payout(self, data) -> bytes:
        kind = data.draw(st.sampled_from(["fresh"] * 5 + ["reused", "zero"]), label="payout ref kind")
        if kind == "reused" and self.m.payouts:
            return data.draw(st.sampled_from(sorted(self.m.payouts)), label="payout ref")
        if kind == "zero":
            return ZERO32
        return self.fresh("payout")

    # ---------------------------------------------------------------------------------------------------------------
    # Signatures (eth-account, typed data built here independently of the contracts)
    # ---------------------------------------------------------------------------------------------------------------

    def token_domain(self) -> dict:
        return {"name": TOKEN_NAME, "version": TOKEN_VERSION, "chainId": self.S.driver.chain_id,
                "verifyingContract": self.S.token}

    def sign_token_typed(self, key, primary: str, fields: list, message: dict):
        full = {
            "types": {
                "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                 {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
                primary: fields,
            },
            "primaryType": primary,
            "domain": self.token_domain(),
            "message": message,
        }
        signed = Account.sign_typed_data(key, full_message=full)
        return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")

    def sign_authorization(self, key, frm, to, value, valid_after, valid_before, nonce, primary="TransferWithAuthorization"):
        fields = [{"name": n, "type": t} for n, t in (("from", "address"), ("to", "address"), ("value", "uint256"),
                                                    ("validAfter", "uint256"), ("validBefore", "uint256"),
                                                    ("nonce", "bytes32"))]
        return self.sign_token_typed(key, primary, fields, {
            "from": frm, "to": to, "value": value, "validAfter": valid_after, "validBefore": valid_before, "nonce": nonce})

    def sign_cancel(self, key, authorizer, nonce):
        fields = [{"name": "authorizer", "type": "address"}, {"name": "nonce", "type": "bytes32"}]
        return self.sign_token_typed(key, "CancelAuthorization", fields, {"authorizer": authorizer, "nonce": nonce})

    def permit_signature(self, owner, spender: str, value: int, deadline: int, kind: str):
        """(v, r, s, valid): `kind` valid | wrong signer | wrong nonce."""
        nonce = self.m.nonces[owner.address]
        key = owner.account.key
        if kind == "wrong signer":
            key = self.S.outsider.account.key if owner is not self.S.outsider else self.S.holders[0].account.key
        if kind == "wrong nonce":
            nonce += 1
        v, r, s = sign_permit(bytes(key), token=self.S.token, chain_id=self.S.driver.chain_id, spender=spender,
                              value=value, nonce=nonce, deadline=deadline)
        return v, r, s, kind == "valid"

    # ---------------------------------------------------------------------------------------------------------------
    # Token rules
    # ---------------------------------------------------------------------------------------------------------------

    @rule(data=st.data(), to_kind=st.sampled_from(["holder"] * 5 + ["self", "actor", "controller", "registry", "token",
                                                   "zero"]))
    def transfer(self, data, to_kind):
        """transfer, including to self, to the token contract, to the zero address and to the controller.
        (Two arguments, so that it sorts last among the rules: hypothesis draws the last one more often too.)"""
        step, m, S = self.begin("transfer"), self.m, self.S
        sender = self.draw_sender(data)
        to = self.draw_recipient(data, sender.address, kind=to_kind)
        value = self.draw_amount(data, m.bal[sender.address], "value")
        expect = m.transfer_error(sender.address, to, value)
        self.tx("transfer", sender, S.token, S.tok.enc("transfer", to, value), expect, returns_true=True)
        if expect is None:
            m.apply_update(sender.address, to, value, step.deltas)
            if to == sender.address:
                step.self_transfers.append(to)
        self.end()

    @rule(data=st.data(), op=st.sampled_from(["approve", "increaseAllowance", "decreaseAllowance"]))
    def allowance(self, data, op):
        """approve / increaseAllowance / decreaseAllowance, including to zero, max and overflow."""
        self.begin(op)
        m, S = self.m, self.S
        owner = data.draw(st.sampled_from(self.owners), label="owner")
        spender = data.draw(st.sampled_from(self.spenders + [ZERO]), label="spender")
        current = m.allowance(owner.address, spender)
        if op == "increaseAllowance":
            value = data.draw(st.sampled_from([0, 1, TIYIN, MAX_UINT - current, MAX_UINT - current + 1 if current else 1,
                                               m.bal[owner.address]]), label="added")
        elif op == "decreaseAllowance":
            value = data.draw(st.sampled_from([0, 1, current, current + 1 if current < MAX_UINT else current, current // 2]),
                              label="subtracted")
        else:
            value = self.draw_amount(data, m.bal[owner.address], "value")
        expect = m.approve_error(op, owner.address, spender, value)
        self.tx(op, owner, S.token, S.tok.enc(op, spender, value), expect, returns_true=True)
        if expect is None:
            m.apply_approve(op, owner.address, spender, value)
        self.end()

    def _transfer_from(self, label, spender, frm: str, to: str, value: int) -> bool:
        m, S, step = self.m, self.S, self.step
        expect = m.transfer_from_error(spender.address, frm, to, value)
        before = m.allowance(frm, spender.address)
        self.tx(label, spender, S.token, S.tok.enc("transferFrom", frm, to, value), expect, returns_true=True)
        if expect is None:
            m.spend(frm, spender.address, value)
            m.apply_update(frm, to, value, step.deltas)
            step.allowance_spends.append((frm, spender.address, before, value))
            if frm == to:
                step.self_transfers.append(to)
        return expect is None

    @rule(data=st.data())
    def transfer_from(self, data):
        """transferFrom with finite and infinite allowances, exact/over allowance or balance, from zero, to anyone."""
        self.begin("transferFrom")
        S, m = self.S, self.m
        spender = data.draw(st.sampled_from(self.eoa_spenders), label="spender")
        frm = data.draw(st.sampled_from([o.address for o in self.owners] * 3 + [S.desk.address, ZERO]), label="from")
        to = self.draw_recipient(data, frm)
        base = data.draw(st.sampled_from(["allowance", "balance"]), label="amount relative to")
        ref_value = m.allowance(frm, spender.address) if base == "allowance" else m.bal[frm]
        ref_value = min(ref_value, 2**255)
        value = self.draw_amount(data, ref_value, "value")
        self._transfer_from("transferFrom", spender, frm, to, value)
        self.end()

    @rule(data=st.data())
    def permit_then_transfer_from(self, data):
        """EIP-2612 permit signed with eth-account (valid, wrong signer, wrong nonce, expired), then transferFrom."""
        self.begin("permit")
        S, m = self.S, self.m
        owner = data.draw(st.sampled_from(self.owners), label="owner")
        spender = data.draw(st.sampled_from(self.eoa_spenders + [None]), label="spender (None: the zero address)")
        spender_address = spender.address if spender else ZERO
        value = self.draw_amount(data, m.bal[owner.address], "permit value")
        now = self.t + 1
        deadline = data.draw(st.sampled_from([now + 3600, now, now - 1, MAX_UINT]), label="deadline")
        kind = data.draw(st.sampled_from(["valid"] * 4 + ["wrong signer", "wrong nonce"]), label="signature")
        v, r, s, valid = self.permit_signature(owner, spender_address, value, deadline, kind)
        submitter = data.draw(st.sampled_from([spender or S.outsider, S.outsider, owner]), label="submitter")
        expect = m.permit_error(owner.address, spender_address, now, deadline, valid)
        call = S.tok.enc("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", owner.address, spender_address,
                         value, deadline, v, r, s)
        self.tx("permit", submitter, S.token, call, expect)
        if expect is None:
            m.nonces[owner.address] += 1
            m.set_allowance(owner.address, spender_address, value)
        if spender is not None:
            to = self.draw_recipient(data, owner.address)
            amount = data.draw(st.sampled_from([value, value + 1 if value < MAX_UINT else value, m.bal[owner.address], 0]),
                               label="transferFrom value")
            self._transfer_from("transferFrom after permit", spender, owner.address, to, amount)
        self.end()

    @rule(data=st.data())
    def transfer_with_authorization(self, data):
        """EIP-3009 transfer/receiveWithAuthorization signed with eth-account: time bounds, replayed and canceled
        nonces, wrong signer, any relayer (frozen relayers are refused; receive must be called by the payee)."""
        kind = data.draw(st.sampled_from(["transferWithAuthorization", "transferWithAuthorization",
                                          "receiveWithAuthorization"]), label="kind")
        step, S, m = self.begin(kind), self.S, self.m
        receive = kind == "receiveWithAuthorization"
        owner = data.draw(st.sampled_from(self.owners), label="from")
        to = self.draw_recipient(data, owner.address)
        value = self.draw_amount(data, m.bal[owner.address], "value")
        now = self.t + 1
        defect = data.draw(st.sampled_from(["none"] * 5 + ["not yet valid", "expired", "valid until this second",
                                                          "wrong signer", "used or canceled nonce"]), label="defect")
        valid_after = now if defect == "not yet valid" else data.draw(st.sampled_from([0, now - 1]), label="validAfter")
        valid_before = {"expired": now, "valid until this second": now + 1}.get(defect, now + 3600)
        used = sorted(n for (a, n) in m.auth if a == owner.address)
        nonce = data.draw(st.sampled_from(used), label="used nonce") if defect == "used or canceled nonce" and used \
            else self.fresh("auth")
        wrong = defect == "wrong signer"
        key = (S.outsider if owner is not S.outsider else S.holders[0]).account.key if wrong else owner.account.key
        v, r, s = self.sign_authorization(key, owner.address, to, value, valid_after, valid_before, nonce,
                                          primary="ReceiveWithAuthorization" if receive else "TransferWithAuthorization")
        payee = next((a for a in S.eoas if a.address == to), None)
        relayers = ([payee] * 4 if receive and payee else []) + [S.outsider, owner] + S.holders
        relayer = data.draw(st.sampled_from(relayers), label="caller")
        expect = m.authorization_error(relayer.address, owner.address, to, value, now, valid_after, valid_before, nonce,
                                       not wrong, receive=receive)
        call = S.tok.enc(f"{kind}(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)",
                         owner.address, to, value, valid_after, valid_before, nonce, v, r, s)
        self.tx(kind, relayer, S.token, call, expect)
        if expect is None:
            m.auth[(owner.address, nonce)] = 1
            m.apply_update(owner.address, to, value, step.deltas)
            if to == owner.address:
                step.self_transfers.append(to)
        self.end()

    @rule(data=st.data())
    def cancel_authorization(self, data):
        """EIP-3009 cancelAuthorization (so that canceled nonces exist for the rule above)."""
        self.begin("cancelAuthorization")
        S, m = self.S, self.m
        owner = data.draw(st.sampled_from(self.owners), label="authorizer")
        used = sorted(n for (a, n) in m.auth if a == owner.address)
        nonce = data.draw(st.sampled_from(used), label="used nonce") if used and data.draw(st.booleans(), label="reuse") \
            else self.fresh("auth")
        v, r, s = self.sign_cancel(owner.account.key, owner.address, nonce)
        expect = (E("EnforcedPause") if m.paused else None) or m.unused_authorization_error(owner.address, nonce)
        submitter = data.draw(st.sampled_from([owner, S.outsider]), label="submitter")
        self.tx("cancelAuthorization", submitter, S.token,
                S.tok.enc("cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)", owner.address, nonce, v, r, s), expect)
        if expect is None:
            m.auth[(owner.address, nonce)] = 2
        self.end()

    @rule(data=st.data(), action=st.sampled_from(["freeze", "freeze", "unfreeze", "wipeFrozen", "freezeBatch", "unfreezeBatch"]))
    def compliance(self, data, action):
        """freeze / unfreeze / wipeFrozen (and the batch forms) by compliance, with or without a case reference."""
        step, S, m = self.begin(action), self.S, self.m
        targets = S.holders * 2 + [S.outsider, S.desk, S.minters[0]]
        pool = [a.address for a in targets] + [S.controller, ZERO]
        case = ZERO32 if data.draw(st.integers(0, 9), label="missing case ref (0)") == 0 else self.fresh("case")
        if action in ("freezeBatch", "unfreezeBatch"):
            accounts = data.draw(st.lists(st.sampled_from(pool), min_size=0, max_size=3), label="accounts")
            single = action.removesuffix("Batch")
            trial, expect = m.clone(), None
            for a in accounts:  # all or nothing: the first failing entry reverts the batch
                expect = trial.compliance_error(single, a, case)
                if expect:
                    break
                trial.apply_compliance(single, a, Counter())
            self.tx(action, S.compliance, S.token, S.tok.enc(action, accounts, case), expect)
            if expect is None:
                for a in accounts:
                    m.apply_compliance(single, a, step.deltas)
        else:
            frozen = sorted(m.frozen_set)
            if action != "freeze" and frozen and data.draw(st.integers(0, 3), label="a frozen account (>0)") > 0:
                account = data.draw(st.sampled_from(frozen), label="account")
            else:
                account = data.draw(st.sampled_from(pool), label="account")
            expect = m.compliance_error(action, account, case)
            self.tx(action, S.compliance, S.token, S.tok.enc(action, account, case), expect)
            if expect is None:
                m.apply_compliance(action, account, step.deltas)
                if action == "wipeFrozen":
                    step.wiped.add(account)
        self.end()

    @rule(pause=st.booleans())
    def pause_or_unpause(self, pause):
        """The guardian pauses or unpauses (twice the same way: PauseStateUnchanged)."""
        self.begin("pause" if pause else "unpause")
        S, m = self.S, self.m
        op = "pause" if pause else "unpause"
        expect = E("PauseStateUnchanged", pause) if m.paused == pause else None
        self.tx(op, S.guardian, S.token, S.tok.enc(op), expect)
        if expect is None:
            m.paused = pause
        self.end()

    # ---------------------------------------------------------------------------------------------------------------
    # Controller rules: maker-checker minting
    # ---------------------------------------------------------------------------------------------------------------

    def _request(self, minter, recipient: str, amount: int, ref: bytes) -> bool:
        S, m = self.S, self.m
        expect = m.request_error(minter.address, recipient, amount, ref)
        now = self.t + 1
        self.tx("requestMint", minter, S.controller, S.ctl.enc("requestMint", recipient, amount, ref), expect)
        if expect is None:
            m.requests[ref] = Request(minter.address, recipient, amount, now + m.cfg["request_ttl"])
        return expect is None

    def _approve_mint(self, approver, ref: bytes, recipient: str, amount: int, label="approveMint") -> None:
        S, m = self.S, self.m
        expect = m.approve_mint_error(approver.address, ref, recipient, amount, self.t + 1)
        self.tx(label, approver, S.controller, S.ctl.enc("approveMint", ref, recipient, amount), expect)
        if expect is None:
            m.requests[ref].approvals.append(approver.address)

    def _execute(self, executor, ref: bytes, label="executeMint") -> None:
        S, m, step = self.S, self.m, self.step
        now = self.t + 1
        expect = m.execute_error(ref, now)
        self.tx(label, executor, S.controller, S.ctl.enc("executeMint", ref), expect)
        if expect is None:
            requester = m.requests[ref].requester
            limits = (m.minter_allowance[requester], m.minter_window[requester].limit, m.global_window.limit)
            r = m.apply_execute(ref, now, step.deltas)
            step.mints.append((now, r.amount, r.requester, ref))
            self.mint_log.append((now, r.amount, r.requester, *limits))
            self.minted_by[r.requester] += r.amount

    @rule(data=st.data())
    def request_mint(self, data):
        """requestMint: fresh, reused or zero deposit reference; valid or invalid recipient and amount; by a minter
        (sometimes by an account without MINTER_ROLE)."""
        self.begin("requestMint")
        S = self.S
        minter = data.draw(st.sampled_from(S.minters * 4 + [S.approvers[0], S.outsider]), label="minter")
        recipient = self.draw_recipient(data)
        amount = self.draw_mint_amount(data)
        kind = data.draw(st.sampled_from(["fresh"] * 6 + ["reused", "zero"]), label="deposit ref kind")
        if kind == "reused":
            ref = data.draw(st.sampled_from(sorted(set(self.m.requests) | self.m.minted_in_batch)), label="reused ref")
        else:
            ref = ZERO32 if kind == "zero" else self.fresh("deposit")
        self._request(minter, recipient, amount, ref)
        self.end()

    @rule(data=st.data())
    def approve_mint(self, data):
        """approveMint by any approver, by the requester itself, or by minter A (no APPROVER_ROLE); re-stating the
        request right or wrong; on live, closed, expired or unknown requests."""
        self.begin("approveMint")
        S, m = self.S, self.m
        ref = self.draw_ref(data)
        q = m.requests.get(ref)
        who = data.draw(st.sampled_from(["approver"] * 4 + ["requester", "minter A"]), label="approver kind")
        if who == "requester" and q is not None:
            approver = next(a for a in S.eoas if a.address == q.requester)
        elif who == "minter A":
            approver = S.minters[0]
        else:
            approver = data.draw(st.sampled_from(S.approvers), label="approver")
        recipient, amount = (q.recipient, q.amount) if q else (S.holders[0].address, UNIT)
        restate = data.draw(st.sampled_from(["right"] * 5 + ["wrong amount", "wrong recipient"]), label="re-stated")
        if restate == "wrong amount":
            amount += data.draw(st.sampled_from([1, TIYIN]), label="amount error")
        elif restate == "wrong recipient":
            recipient = S.outsider.address if recipient != S.outsider.address else S.holders[0].address
        self._approve_mint(approver, ref, recipient, amount)
        self.end()

    @rule(data=st.data())
    def execute_mint(self, data):
        """executeMint by anyone: limits, windows, allowance, pause/freeze of the recipient, reserves, staleness."""
        self.begin("executeMint")
        ref = self.draw_ref(data, prefer_ready=True)
        self._execute(self.draw_sender(data, "executor"), ref)
        self.end()

    @rule(data=st.data())
    def cancel_request(self, data):
        """cancelRequest by the requester, the guardian, the other minter or the outsider."""
        self.begin("cancelRequest")
        S, m = self.S, self.m
        ref = self.draw_ref(data)
        q = m.requests.get(ref)
        who = data.draw(st.sampled_from(["requester", "guardian", "other minter", "outsider"]), label="canceller")
        if who == "requester" and q is not None:
            caller = next(a for a in S.eoas if a.address == q.requester)
        elif who in ("requester", "guardian"):
            caller = S.guardian
        elif who == "other minter":
            caller = S.minters[1] if q is not None and q.requester == S.minters[0].address else S.minters[0]
        else:
            caller = S.outsider
        expect = m.cancel_error(caller.address, ref, S.guardian.address)
        self.tx("cancelRequest", caller, S.controller, S.ctl.enc("cancelRequest", ref), expect)
        if expect is None:
            m.requests[ref].status = CANCELLED
        self.end()

    @rule(data=st.data())
    def accept_deposit_and_mint(self, data):
        """A som deposit arrives: request -> approvals (as many as the tier needs, never the requester) -> execute
        in one step, so random runs mint often enough to reach the windows, the allowances and the reserve bound;
        or stop after the request or the approvals (leaving live requests for the approve/execute/cancel rules and
        for time to expire), or execute one approval short.
        (Hypothesis orders rules by number of arguments, then name, and draws the first one more often than the
        others: this rule is that one, by its single argument and its name.)"""
        variant = data.draw(st.sampled_from(["complete", "complete", "complete", "request only", "request and approve",
                                             "one approval short"]), label="variant")
        self.begin(f"mint flow ({variant})")
        S, m = self.S, self.m
        minter = data.draw(st.sampled_from(S.minters), label="minter")
        recipient = data.draw(st.sampled_from(S.holders + [S.outsider, S.desk]), label="recipient")
        amount = self.draw_mint_amount(data, valid_only=True)
        ref = self.fresh("deposit")
        if self._request(minter, recipient.address, amount, ref) and variant != "request only":
            checkers = [a for a in S.approvers if a.address in m.approvers and a.address != minter.address]
            count = m.required(amount) - (variant == "one approval short")
            for approver in data.draw(st.permutations(checkers), label="approvers")[:count]:
                self._approve_mint(approver, ref, recipient.address, amount, "approveMint (flow)")
            if variant != "request and approve":
                self._execute(self.draw_sender(data, "executor"), ref, "executeMint (flow)")
        self.end()

    @rule(data=st.data())
    def batch_mint(self, data):
        """Batch Merkle mints: open a batch (entries with fresh, already used or duplicated deposit references, valid
        or invalid recipients and amounts, a total that matches or not), approve it, execute it in chunks with
        multiproofs (sometimes tampered); or continue / approve a batch opened earlier. Deposit references are shared
        with single requests, so a reference used on either path can never mint on the other."""
        variant = data.draw(st.sampled_from(["new batch", "new batch", "next chunk of an open batch",
                                             "approve an open batch"]), label="variant")
        self.begin(f"batch: {variant}")
        S, m = self.S, self.m
        if variant == "new batch":
            self._new_batch(data)
        elif variant == "next chunk of an open batch":
            open_batches = [root for root, plan in self.batches.items()
                            if m.requests[root].status == PENDING and len(plan.done) < len(plan.entries)]
            if open_batches:
                root = data.draw(st.sampled_from(open_batches), label="batch")
                plan = self.batches[root]
                remaining = [i for i in range(len(plan.entries)) if i not in plan.done]
                chunk = data.draw(st.lists(st.sampled_from(remaining), min_size=1, unique=True), label="entries")
                if plan.done and data.draw(st.integers(0, 4), label="replay an executed entry (0)") == 0:
                    chunk.append(min(plan.done))
                self._batch_chunk(data, root, chunk)
        else:
            roots = [r for r, q in m.requests.items() if q.kind == BATCH]
            if roots:
                root = data.draw(st.sampled_from(roots), label="batch")
                q = m.requests[root]
                approver = data.draw(st.sampled_from(S.approvers + [next(a for a in S.eoas if a.address == q.requester)]),
                                     label="approver")
                total = q.amount + data.draw(st.sampled_from([0, 0, 0, TIYIN]), label="total error")
                self._approve_batch(approver, root, q.entry_count, total)
        self.end()

    def _new_batch(self, data):
        S, m = self.S, self.m
        t1, t2 = self.S.config["tier1_max"] // TIYIN, self.S.config["tier2_max"] // TIYIN
        minter = data.draw(st.sampled_from(S.minters * 4 + [S.outsider]), label="minter")
        pending_refs = {e[2] for root, plan in self.batches.items() for e in plan.entries}
        entries = []
        for i in range(data.draw(st.integers(1, 4), label="entries")):
            recipient = data.draw(st.sampled_from([h.address for h in S.holders] * 6
                                                  + [S.outsider.address, ZERO, S.controller, S.token]), label="recipient")
            amount = data.draw(st.one_of(st.integers(1, t1), st.integers(1, t2)), label="amount (tiyin)") * TIYIN
            defect = data.draw(st.sampled_from(["none"] * 8 + ["not whole tiyin", "zero"]), label="amount defect")
            amount = {"not whole tiyin": amount + 1, "zero": 0}.get(defect, amount)
            kind = data.draw(st.sampled_from(["fresh"] * 8 + ["used elsewhere", "duplicate in this batch"]), label="ref")
            used = sorted(set(m.requests) | m.minted_in_batch | pending_refs)
            if kind == "used elsewhere" and used:
                ref = data.draw(st.sampled_from(used), label="used ref")
            elif kind == "duplicate in this batch" and entries:
                ref = entries[-1][2]
                amount += TIYIN  # a different leaf with the same reference
            else:
                ref = self.fresh("batch-deposit")
            entries.append((recipient, amount, ref))
        plan = BatchPlan(entries)
        total = sum(a for _, a, _ in entries) // TIYIN * TIYIN
        total = max(total + data.draw(st.sampled_from([0] * 6 + [TIYIN, -TIYIN]), label="total error"), 0)
        count = len(entries) + data.draw(st.sampled_from([0] * 8 + [1, -1]), label="entry count error")
        now, root = self.t + 1, plan.root
        expect = m.request_batch_error(minter.address, root, count, total)
        self.tx("requestBatchMint", minter, S.controller, S.ctl.enc("requestBatchMint", root, count, total), expect)
        if expect is not None:
            return
        m.requests[root] = Request(minter.address, ZERO, total, now + m.cfg["request_ttl"], kind=BATCH,
                                   entry_count=count)
        self.batches[root] = plan
        stop = data.draw(st.sampled_from(["execute", "execute", "execute", "after approvals", "after the request"]),
                         label="stop")
        if stop == "after the request":
            return
        checkers = [a for a in S.approvers if a.address in m.approvers and a.address != minter.address]
        for approver in data.draw(st.permutations(checkers), label="approvers")[: m.required(total)]:
            self._approve_batch(approver, root, count, total)
        if stop == "execute":
            order = data.draw(st.permutations(list(range(len(entries)))), label="entry order")
            cut = data.draw(st.integers(1, len(order)), label="first chunk size")
            for chunk in (order[:cut], order[cut:]):
                if chunk:
                    self._batch_chunk(data, root, list(chunk))

    def _approve_batch(self, approver, root: bytes, entry_count: int, total: int) -> None:
        S, m = self.S, self.m
        expect = m.approve_batch_error(approver.address, root, entry_count, total, self.t + 1)
        self.tx("approveBatchMint", approver, S.controller, S.ctl.enc("approveBatchMint", root, entry_count, total), expect)
        if expect is None:
            m.requests[root].approvals.append(approver.address)

    def _batch_chunk(self, data, root: bytes, indices: list) -> None:
        S, m, step = self.S, self.m, self.step
        plan = self.batches[root]
        fresh_indices = list(dict.fromkeys(indices))
        order, proof, flags = plan.multiproof(fresh_indices)
        entries = [plan.entries[i] for i in order]
        tamper = data.draw(st.integers(0, 9), label="tamper with an amount (0)") == 0
        if tamper:
            recipient, amount, ref = entries[0]
            entries[0] = (recipient, amount + TIYIN, ref)
        now = self.t + 1
        expect = m.batch_chunk_error(root, entries, not tamper, now)
        executor = self.draw_sender(data, "executor")
        self.tx("executeBatchChunk", executor, S.controller,
                S.ctl.enc("executeBatchChunk", root, entries, proof, flags), expect)
        if expect is None:
            requester = m.requests[root].requester
            limits = (m.minter_allowance[requester], m.minter_window[requester].limit, m.global_window.limit)
            chunk = m.apply_batch_chunk(root, entries, now, step.deltas)
            plan.done |= set(order)
            step.mints.append((now, chunk, requester, root))
            self.mint_log.append((now, chunk, requester, *limits))
            self.minted_by[requester] += chunk

    # ---------------------------------------------------------------------------------------------------------------
    # Controller rules: redemption
    # ---------------------------------------------------------------------------------------------------------------

    def draw_redeem_amount(self, data, balance: int) -> int:
        kind = data.draw(st.sampled_from(["whole tiyin of balance", "whole tiyin of balance", "one tiyin", "part",
                                          "more than balance", "not whole tiyin", "zero", "too large"]), label="redeem kind")
        if kind == "whole tiyin of balance":
            return balance // TIYIN * TIYIN
        if kind == "one tiyin":
            return TIYIN
        if kind == "part":
            return data.draw(st.integers(0, balance // TIYIN), label="redeem tiyin") * TIYIN
        if kind == "more than balance":
            return (balance // TIYIN + 1) * TIYIN
        if kind == "not whole tiyin":
            return balance // TIYIN * TIYIN + 1
        if kind == "zero":
            return 0
        return 2**56 * TIYIN

    @rule(data=st.data())
    def redeem(self, data):
        """The holder approves the controller (exactly, too little, infinite, or not at all), then redeem."""
        step, S, m = self.begin("redeem"), self.S, self.m
        holder = data.draw(st.sampled_from(self.owners), label="holder")
        amount = self.draw_redeem_amount(data, m.bal[holder.address])
        approval = data.draw(st.sampled_from(["exact", "exact", "one tiyin short", "infinite", "none"]), label="approval")
        if approval != "none":
            value = {"exact": amount, "one tiyin short": max(amount - TIYIN, 0), "infinite": MAX_UINT}[approval]
            expect = m.approve_error("approve", holder.address, S.controller, value)
            self.tx("approve (redeem)", holder, S.token, S.tok.enc("approve", S.controller, value), expect)
            if expect is None:
                m.apply_approve("approve", holder.address, S.controller, value)
        payout = self.draw_payout(data)
        before = m.allowance(holder.address, S.controller)
        expect = m.redeem_error(holder.address, amount, payout)
        self.tx("redeem", holder, S.controller, S.ctl.enc("redeem", amount, payout), expect)
        if expect is None:
            m.apply_redeem(holder.address, amount, payout, step.deltas)
            step.allowance_spends.append((holder.address, S.controller, before, amount))
        self.end()

    @rule(data=st.data())
    def redeem_with_permit(self, data):
        """redeemWithPermit: the permit inside is tried and its failure ignored; the burn decides. Sometimes someone
        front-runs it by submitting the same permit to the token first (the allowance is then already there)."""
        step, S, m = self.begin("redeemWithPermit"), self.S, self.m
        holder = data.draw(st.sampled_from(self.owners), label="holder")
        amount = self.draw_redeem_amount(data, m.bal[holder.address])
        deadline = self.t + data.draw(st.sampled_from([600, 600, 2, 1, 0]), label="deadline - now")
        kind = data.draw(st.sampled_from(["valid"] * 4 + ["wrong signer", "wrong nonce"]), label="signature")
        v, r, s, valid = self.permit_signature(holder, S.controller, amount, deadline, kind)
        if data.draw(st.integers(0, 4), label="front-run the permit (0)") == 0:
            expect = m.permit_error(holder.address, S.controller, self.t + 1, deadline, valid)
            self.tx("permit (front-running redeemWithPermit)", S.outsider, S.token,
                    S.tok.enc("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", holder.address,
                              S.controller, amount, deadline, v, r, s), expect)
            if expect is None:
                m.nonces[holder.address] += 1
                m.set_allowance(holder.address, S.controller, amount)
                valid = False  # the signature's nonce is used now
        payout = self.draw_payout(data)
        now = self.t + 1
        permit_ok = m.permit_error(holder.address, S.controller, now, deadline, valid) is None
        before = m.allowance(holder.address, S.controller)
        expect = m.redeem_error(holder.address, amount, payout, allowance=amount if permit_ok else None)
        self.tx("redeemWithPermit", holder, S.controller,
                S.ctl.enc("redeemWithPermit", amount, payout, deadline, v, r, s), expect)
        if expect is None:
            if permit_ok:
                m.nonces[holder.address] += 1
                m.set_allowance(holder.address, S.controller, amount)
                before = amount
            m.apply_redeem(holder.address, amount, payout, step.deltas)
            step.allowance_spends.append((holder.address, S.controller, before, amount))
        self.outcome("redeemWithPermit inner permit", "accepted" if permit_ok else "failed (ignored)")
        self.end()

    @rule(data=st.data())
    def send_to_controller_then_burn(self, data):
        """A holder sends KGST to the controller (the redemption address); the desk burns some of what it holds
        (sometimes another role tries)."""
        step, S, m = self.begin("burnRedeemed"), self.S, self.m
        holder = data.draw(st.sampled_from(self.owners), label="holder")
        value = data.draw(st.sampled_from(["whole tiyin", "all", "none"]), label="sent")
        value = {"whole tiyin": m.bal[holder.address] // TIYIN * TIYIN, "all": m.bal[holder.address], "none": 0}[value]
        expect = m.transfer_error(holder.address, S.controller, value)
        self.tx("transfer to controller", holder, S.token, S.tok.enc("transfer", S.controller, value), expect)
        if expect is None:
            m.apply_update(holder.address, S.controller, value, step.deltas)
        amount = self.draw_redeem_amount(data, m.bal[S.controller])
        payout = self.draw_payout(data)
        burner = data.draw(st.sampled_from([S.desk] * 5 + [S.guardian, holder]), label="burner")
        expect = (unauthorized(burner.address, REDEMPTION_DESK_ROLE) if burner is not S.desk else None) \
            or m.redeem_error(S.controller, amount, payout)
        self.tx("burnRedeemed", burner, S.controller, S.ctl.enc("burnRedeemed", amount, payout), expect)
        if expect is None:
            m.apply_redeem(S.controller, amount, payout, step.deltas)
        self.end()

    # ---------------------------------------------------------------------------------------------------------------
    # Registry, time and governance rules
    # ---------------------------------------------------------------------------------------------------------------

    def build_attestation(self, data, as_of: int, total_tiyin: int) -> Attestation:
        n = self.S.config["custodians"]
        ids = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n), label="custodians"))
        cuts = sorted(data.draw(st.lists(st.integers(0, total_tiyin), min_size=len(ids) - 1, max_size=len(ids) - 1),
                                label="split"))
        bounds = [0] + cuts + [total_tiyin]
        amounts = [bounds[i + 1] - bounds[i] for i in range(len(ids))]
        return Attestation(as_of=as_of, custodian_amounts=tuple(zip(ids, amounts)), report_hash=self.fresh("report"),
                           report_uri="ipfs://kgst-invariants")

    def signatures(self, attestation: Attestation, signers, *, forge_as=None) -> list:
        out = []
        for signer in signers:
            signed = sign_with_key(attestation, signer.account.key, chain_id=self.S.driver.chain_id,
                                   registry=self.S.registry)
            out.append((forge_as or signer.address, bytes(signed.signature)))
        return out

    def attestation_digest(self, attestation: Attestation) -> bytes:
        return attestation_digest(attestation, chain_id=self.S.driver.chain_id, registry=self.S.registry)

    def attestation_error(self, attestation: Attestation, signatures: list, *, forged: set = frozenset()):
        """KGSTReserveRegistry.submitAttestation's checks, in order (content is always well formed here)."""
        m, now = self.m, self.t + 1
        if self.attestation_digest(attestation) in m.submitted_digests:
            return E("AttestationAlreadySubmitted", self.attestation_digest(attestation))
        if attestation.as_of > now:
            return E("AttestationFromFuture", attestation.as_of, now)
        if m.attestations and attestation.as_of <= m.as_of:
            return E("AttestationNotNewer", attestation.as_of, m.as_of)
        for custodian_id, _ in attestation.custodian_amounts:
            if custodian_id not in m.active_custodians:
                return E("CustodianInactive", custodian_id)
        threshold = self.S.config["auditor_threshold"]
        if len(signatures) < threshold:
            return E("NotEnoughSignatures", len(signatures), threshold)
        seen = []
        for i, (signer, _) in enumerate(signatures):
            if signer not in m.auditors:
                return E("UnknownAuditor", signer)
            if signer in seen:
                return E("DuplicateSigner", signer)
            if i in forged:
                return E("InvalidSignature", signer)
            seen.append(signer)
        return None

    def apply_attestation(self, attestation: Attestation, signatures, submitter: str) -> None:
        m = self.m
        m.reserves = attestation.total.tiyin * TIYIN
        m.as_of = attestation.as_of
        m.attestations += 1
        m.submitted_digests.add(self.attestation_digest(attestation))
        self.last_attestation = (attestation, signatures)
        ids = tuple(cid for cid, _ in attestation.custodian_amounts)
        amounts = tuple(a for _, a in attestation.custodian_amounts)
        m.history.append((attestation.as_of, self.t, attestation.total.tiyin, attestation.report_hash,
                          attestation.report_uri, ids, amounts, tuple(s for s, _ in signatures), submitter))
        self.step.attested = True

    def read_attestation_history(self) -> tuple:
        """Every attestation the registry holds, one eth_call each (only after attestation steps and at the end)."""
        S, out = self.S, []
        for i in range(self.m.attestations):
            kind, raw = S.driver.call(ZERO, S.registry, S.reg.enc("attestation", i), block="latest")
            assert kind == "ok", raw
            (a,) = abi_decode([ATTESTATION_TYPE], raw)
            out.append(norm(a))
        return tuple(out)

    @rule(data=st.data())
    def new_attestation(self, data):
        """Auditors attest random reserves (sometimes below supply) as of now; sometimes from the future, not newer,
        a replay, with too few or duplicate signers; submitted by anyone."""
        self.begin("submitAttestation")
        S, m = self.S, self.m
        now = self.t + 1
        supply_tiyin = -(-m.supply // TIYIN)
        level = data.draw(st.sampled_from(["above supply"] * 3 + ["equal to supply", "below supply", "zero"]), label="reserves")
        delta = data.draw(st.integers(0, 40_000_000 * 100), label="delta (tiyin)")
        total = {"above supply": supply_tiyin + delta, "equal to supply": supply_tiyin,
                 "below supply": max(supply_tiyin - delta, 0), "zero": 0}[level]
        when = data.draw(st.sampled_from(["now"] * 5 + ["a minute ago", "future", "not newer", "replay"]), label="asOf")
        if when == "replay" and self.last_attestation:
            attestation, signatures = self.last_attestation
        else:
            as_of = {"now": now, "a minute ago": max(now - 60, m.as_of + 1), "future": now + 1,
                     "not newer": m.as_of, "replay": now}[when]
            attestation = self.build_attestation(data, as_of, total)
            signers = data.draw(st.sampled_from(["two", "two", "three", "one", "duplicate"]), label="signers")
            auditors = list(S.auditors)
            if signers == "two":
                chosen = data.draw(st.permutations(auditors), label="auditor order")[:2]
            elif signers == "three":
                chosen = data.draw(st.permutations(auditors), label="auditor order")
            elif signers == "one":
                chosen = auditors[:1]
            else:
                chosen = [auditors[1], auditors[1]]
            signatures = self.signatures(attestation, chosen)
        submitter = data.draw(st.sampled_from(S.eoas), label="submitter")
        expect = self.attestation_error(attestation, signatures)
        call = S.reg.enc("submitAttestation", attestation.contract_input(), signatures)
        self.tx("submitAttestation", submitter, S.registry, call, expect)
        if expect is None:
            self.apply_attestation(attestation, signatures, submitter.address)
        self.step.attested = True  # check the history after any attempt
        self.end()

    @rule(seconds=st.one_of(st.integers(1, 59), st.integers(60, 3_600), st.integers(3_600, 86_400),
                            st.integers(86_400, 3 * 86_400)))
    def time_jump(self, seconds):
        """Seconds to days: attestations go stale, requests expire, windows roll."""
        self.begin("time jump")
        self.t += seconds
        self.S.driver.mine_at(self.t)
        self.outcome("time jump", "ok")
        self.end()

    @rule(variant=st.sampled_from(["halt", "halt", "resume through the timelock", "resume through the timelock",
                                   "resume, executed too early", "resume by the guardian directly"]))
    def halt_or_resume_minting(self, variant):
        """The guardian halts minting (instant, risk-reducing). Resuming raises risk: governance schedules it on the
        timelock, waits the delay (61 s) and executes; the guardian cannot resume directly, and the timelock refuses
        to execute before the delay. (One rule with an argument, not two: hypothesis orders rules by their number
        of arguments and favours the first, which should not be a halt.)"""
        self.begin(variant)
        S, m = self.S, self.m
        if variant == "halt":
            self.tx("haltMinting", S.guardian, S.controller, S.ctl.enc("haltMinting"), None)
            m.halted = True
            self.end()
            return
        call = S.ctl.enc("resumeMinting")
        if variant == "resume by the guardian directly":
            self.tx("resumeMinting by the guardian", S.guardian, S.controller, call, unauthorized(S.guardian.address,
                                                                                                  DEFAULT_ADMIN_ROLE))
            self.end()
            return
        salt = self.fresh("salt")
        delay = S.config["timelock_delay"]
        self.tx("timelock.schedule(resumeMinting)", S.governance, S.timelock,
                S.tl.enc("schedule", S.controller, 0, call, ZERO32, salt, delay), None)
        execute = S.tl.enc("execute", S.controller, 0, call, ZERO32, salt)
        if variant == "resume, executed too early":
            op_id = keccak(S.tl.enc("hashOperation", S.controller, 0, call, ZERO32, salt)[4:])
            self.tx("timelock.execute before the delay", S.governance, S.timelock, execute,
                    E("TimelockUnexpectedOperationState", op_id, READY_BITMAP))
        self.t += delay + 1
        S.driver.mine_at(self.t)
        self.tx("timelock.execute(resumeMinting)", S.governance, S.timelock, execute, None)
        m.halted = False
        self.end()

    TIGHTEN = ("lower the per-tx cap", "lower the global window", "lower a minter's limits", "stricter tiers",
               "shorter attestation age", "higher reserve margin", "shorter request TTL", "remove an approver",
               "remove a minter", "remove an auditor", "deactivate a custodian")
    LOOSEN = ("raise the per-tx cap", "raise the global window", "raise a minter's allowance", "looser tiers",
              "longer attestation age", "longer request TTL", "add a minter", "lower the auditor threshold",
              "add an auditor")

    @rule(data=st.data(), change=st.sampled_from(TIGHTEN + TIGHTEN + LOOSEN))
    def guardian_changes_a_limit(self, data, change):
        """Asymmetric powers: the guardian may make things stricter instantly (lower caps, windows, allowances;
        stricter tiers; shorter attestation age and request life; higher margin; remove approvers (voiding pending
        approvals), minters (zeroing their limits), auditors; deactivate custodians); anything that raises risk is
        refused to it (that is the timelocked admin's)."""
        self.begin(f"guardian: {change}")
        S, m = self.S, self.m
        ctl, reg, g, cfg = S.ctl, S.reg, S.guardian, m.cfg

        def lower(value: int) -> int:  # a whole-tiyin value in [0, value], mostly close to it
            frac = data.draw(st.sampled_from([1.0, 0.9, 0.75, 0.5, 0.0]), label="fraction kept")
            return int(value // TIYIN * frac) * TIYIN

        to, call, expect, apply = S.controller, None, None, (lambda: None)
        denied = unauthorized(g.address, DEFAULT_ADMIN_ROLE)
        if change == "lower the per-tx cap":
            new = lower(m.per_tx_cap)
            call, apply = ctl.enc("setPerTxCap", new), (lambda: setattr(m, "per_tx_cap", new))
        elif change == "lower the global window":
            new = lower(m.global_window.limit)
            call, apply = ctl.enc("setGlobalWindowLimit", new), (lambda: setattr(m.global_window, "limit", new))
        elif change == "lower a minter's limits":
            who = data.draw(st.sampled_from(S.minters), label="minter").address
            allowance, window = lower(m.minter_allowance[who]), lower(m.minter_window[who].limit)
            call = ctl.enc("setMinterLimits", who, allowance, window)
            expect = None if who in m.minters else E("NotAMinter", who)

            def apply():
                m.minter_allowance[who], m.minter_window[who].limit = allowance, window
        elif change == "stricter tiers":
            t1 = lower(cfg["tier1_max"])
            t2 = t1 + lower(cfg["tier2_max"] - t1)
            a1, a2, a3 = cfg["approvals"]
            a1 += data.draw(st.integers(0, 1), label="+approvals tier 1")
            a2 = max(a2, a1) + data.draw(st.integers(0, 1), label="+approvals tier 2")
            a3 = max(a3, a2) + data.draw(st.integers(0, 1), label="+approvals tier 3")
            call = ctl.enc("setTiers", (t1, t2, a1, a2, a3))
            expect = E("InvalidTiers") if a3 > 16 else None  # MAX_APPROVALS

            def apply():
                cfg["tier1_max"], cfg["tier2_max"], cfg["approvals"] = t1, t2, (a1, a2, a3)
        elif change == "shorter attestation age":
            new = data.draw(st.integers(1, cfg["max_attestation_age"]), label="max age")
            call, apply = ctl.enc("setMaxAttestationAge", new), (lambda: cfg.__setitem__("max_attestation_age", new))
        elif change == "higher reserve margin":
            new = data.draw(st.integers(cfg["reserve_margin_bps"], min(cfg["reserve_margin_bps"] + 2_000, 10_000)),
                            label="margin bps")
            call, apply = ctl.enc("setReserveMargin", new), (lambda: cfg.__setitem__("reserve_margin_bps", new))
        elif change == "shorter request TTL":
            new = data.draw(st.integers(1, cfg["request_ttl"]), label="ttl")
            call, apply = ctl.enc("setRequestTtl", new), (lambda: cfg.__setitem__("request_ttl", new))
        elif change == "remove an approver":
            who = data.draw(st.sampled_from(S.approvers), label="approver").address
            call, apply = ctl.enc("removeApprover", who), (lambda: m.remove_approver(who))
        elif change == "remove a minter":
            who = data.draw(st.sampled_from(S.minters), label="minter").address
            call, apply = ctl.enc("removeMinter", who), (lambda: m.remove_minter(who))
        elif change == "remove an auditor":
            to, who = S.registry, data.draw(st.sampled_from(S.auditors), label="auditor").address
            call = reg.enc("removeAuditor", who)
            expect = None if who in m.auditors else E("NotAuditor", who)
            apply = lambda: m.auditors.discard(who)  # noqa: E731
        elif change == "deactivate a custodian":
            n = S.config["custodians"]
            to, cid = S.registry, data.draw(st.integers(0, n), label="custodian id")
            call = reg.enc("deactivateCustodian", cid)
            expect = E("UnknownCustodian", cid) if cid >= n else (None if cid in m.active_custodians
                                                                 else E("CustodianInactive", cid))
            apply = lambda: m.active_custodians.discard(cid)  # noqa: E731
        else:  # risk-raising: refused to the guardian
            expect = denied
            if change == "raise the per-tx cap":
                call = ctl.enc("setPerTxCap", m.per_tx_cap + TIYIN)
            elif change == "raise the global window":
                call = ctl.enc("setGlobalWindowLimit", m.global_window.limit + TIYIN)
            elif change == "raise a minter's allowance":
                who = S.minters[0].address
                call = ctl.enc("setMinterLimits", who, m.minter_allowance[who] + TIYIN, m.minter_window[who].limit)
            elif change == "looser tiers":
                a1, a2, a3 = cfg["approvals"]
                call = ctl.enc("setTiers", (cfg["tier1_max"], cfg["tier2_max"] + TIYIN, a1, a2, a3))
            elif change == "longer attestation age":
                call = ctl.enc("setMaxAttestationAge", cfg["max_attestation_age"] + 1)
            elif change == "longer request TTL":
                new = cfg["request_ttl"] + 1
                call = ctl.enc("setRequestTtl", new)
                expect = denied if new <= 30 * 86_400 else E("InvalidConfig")
            elif change == "add a minter":
                call = ctl.enc("addMinter", S.outsider.address, UNIT, UNIT)
            elif change == "lower the auditor threshold":
                to, call = S.registry, reg.enc("setAuditorThreshold", 1)
            else:
                to, call = S.registry, reg.enc("addAuditor", S.outsider.address)
        self.tx(f"guardian: {change}", g, to, call, expect)
        if expect is None:
            apply()
        self.end()

    # ---------------------------------------------------------------------------------------------------------------
    # The attacker: an account with no role calls privileged functions; every call must revert
    # ---------------------------------------------------------------------------------------------------------------

    ATTACKS = (
        "token.mint", "token.burn", "token.freeze", "token.unfreeze", "token.freezeBatch", "token.wipeFrozen",
        "token.pause", "token.unpause", "token.setMinter", "token.upgradeToAndCall", "token.rescueERC20",
        "token.grantRole(admin)", "token.beginDefaultAdminTransfer", "token.transferFrom without allowance",
        "token.permit forged", "token.transferWithAuthorization forged",
        "controller.requestMint", "controller.approveMint", "controller.executeMint without approvals",
        "controller.cancelRequest", "controller.setPerTxCap up", "controller.setPerTxCap down",
        "controller.setMinterLimits up", "controller.addMinter", "controller.removeMinter", "controller.removeApprover",
        "controller.grantRole(minter)", "controller.haltMinting", "controller.resumeMinting", "controller.burnRedeemed",
        "controller.setMaxAttestationAge up", "controller.setTiers down",
        "registry.submitAttestation forged signature", "registry.submitAttestation unknown signer",
        "registry.submitAttestation duplicate signer", "registry.submitAttestation one signature",
        "registry.addAuditor", "registry.setAuditorThreshold", "registry.removeAuditor", "registry.deactivateCustodian",
        "timelock.schedule", "timelock.execute", "timelock.updateDelay",
    )

    @rule(data=st.data(), attack=st.sampled_from(ATTACKS))
    def attacker(self, data, attack):
        """The outsider (or a holder: no role either) calls a privileged function; it must always revert, with the
        error the model predicts, and change nothing (the invariants check the state after the step)."""
        self.begin(f"attack {attack}")
        S, m = self.S, self.m
        a = data.draw(st.sampled_from([S.outsider, S.outsider, S.holders[0]]), label="attacker")
        me, now = a.address, self.t + 1
        victim = data.draw(st.sampled_from([h for h in S.holders if h is not a]), label="victim").address
        tok, ctl, reg, tl = S.tok, S.ctl, S.reg, S.tl
        big = 10**9 * UNIT
        to, call, expect = S.token, None, None
        if attack == "token.mint":
            call, expect = tok.enc("mint", me, big), E("CallerNotMinter", me)
        elif attack == "token.burn":
            call, expect = tok.enc("burn", victim, m.bal[victim]), E("CallerNotMinter", me)
        elif attack in ("token.freeze", "token.unfreeze", "token.wipeFrozen"):
            call = tok.enc(attack.split(".")[1], victim, self.fresh("case"))
            expect = unauthorized(me, ASSET_PROTECTION_ROLE)
        elif attack == "token.freezeBatch":
            call, expect = tok.enc("freezeBatch", [victim], self.fresh("case")), unauthorized(me, ASSET_PROTECTION_ROLE)
        elif attack in ("token.pause", "token.unpause"):
            call, expect = tok.enc(attack.split(".")[1]), unauthorized(me, PAUSER_ROLE)
        elif attack == "token.setMinter":
            call, expect = tok.enc("setMinter", me), unauthorized(me, DEFAULT_ADMIN_ROLE)
        elif attack == "token.upgradeToAndCall":
            call, expect = tok.enc("upgradeToAndCall", S.registry, b""), unauthorized(me, UPGRADER_ROLE)
        elif attack == "token.rescueERC20":
            call, expect = tok.enc("rescueERC20", S.token, me, 1), unauthorized(me, RESCUER_ROLE)
        elif attack == "token.grantRole(admin)":
            call, expect = tok.enc("grantRole", DEFAULT_ADMIN_ROLE, me), E("AccessControlEnforcedDefaultAdminRules")
        elif attack == "token.beginDefaultAdminTransfer":
            call, expect = tok.enc("beginDefaultAdminTransfer", me), unauthorized(me, DEFAULT_ADMIN_ROLE)
        elif attack == "token.transferFrom without allowance":
            victims = [h.address for h in S.holders if h.address != me and m.allowance(h.address, me) != MAX_UINT]
            victim = data.draw(st.sampled_from(victims), label="victim (not infinite)") if victims else S.desk.address
            value = max(m.bal[victim], m.allowance(victim, me) + 1)
            call, expect = tok.enc("transferFrom", victim, me, value), m.transfer_from_error(me, victim, me, value)
        elif attack == "token.permit forged":
            deadline = now + 600
            v, r, s = sign_permit(bytes(a.account.key), token=S.token, chain_id=S.driver.chain_id, spender=me,
                                  value=MAX_UINT, nonce=m.nonces[victim], deadline=deadline)
            call = tok.enc("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", victim, me, MAX_UINT,
                           deadline, v, r, s)
            expect = m.permit_error(victim, me, now, deadline, False)
        elif attack == "token.transferWithAuthorization forged":
            nonce, value = self.fresh("auth"), m.bal[victim]
            v, r, s = self.sign_authorization(a.account.key, victim, me, value, 0, now + 600, nonce)
            call = tok.enc("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)",
                           victim, me, value, 0, now + 600, nonce, v, r, s)
            expect = m.authorization_error(me, victim, me, value, now, 0, now + 600, nonce, False)
        elif attack.startswith("controller."):
            to = S.controller
            if attack == "controller.requestMint":
                call, expect = ctl.enc("requestMint", me, big // 1000, self.fresh("deposit")), unauthorized(me, MINTER_ROLE)
            elif attack == "controller.approveMint":
                ref = self.draw_ref(data)
                q = m.requests.get(ref)
                call = ctl.enc("approveMint", ref, q.recipient if q else me, q.amount if q else UNIT)
                expect = unauthorized(me, APPROVER_ROLE)
            elif attack == "controller.executeMint without approvals":
                short = [r for r, q in m.requests.items() if q.status == PENDING and now <= q.expires
                         and len(q.approvals) < m.required(q.amount)]
                ref = data.draw(st.sampled_from(short), label="request") if short else self.fresh("unknown-request")
                call, expect = ctl.enc("executeMint", ref), m.execute_error(ref, now)
            elif attack == "controller.cancelRequest":
                ref = self.draw_ref(data)
                call, expect = ctl.enc("cancelRequest", ref), m.cancel_error(me, ref, S.guardian.address)
            elif attack in ("controller.setPerTxCap up", "controller.setPerTxCap down"):
                cap = m.per_tx_cap * 10 + TIYIN if attack.endswith("up") else m.per_tx_cap // TIYIN // 2 * TIYIN
                call, expect = ctl.enc("setPerTxCap", cap), unauthorized(me, DEFAULT_ADMIN_ROLE)
            elif attack == "controller.setMinterLimits up":
                call = ctl.enc("setMinterLimits", S.minters[0].address, big, big)
                expect = unauthorized(me, DEFAULT_ADMIN_ROLE)
            elif attack == "controller.addMinter":
                call, expect = ctl.enc("addMinter", me, big, big), unauthorized(me, DEFAULT_ADMIN_ROLE)
            elif attack == "controller.removeMinter":
                call, expect = ctl.enc("removeMinter", S.minters[0].address), unauthorized(me, DEFAULT_ADMIN_ROLE)
            elif attack == "controller.removeApprover":
                call, expect = ctl.enc("removeApprover", S.approvers[0].address), unauthorized(me, DEFAULT_ADMIN_ROLE)
            elif attack == "controller.grantRole(minter)":
                call, expect = ctl.enc("grantRole", MINTER_ROLE, me), unauthorized(me, DEFAULT_ADMIN_ROLE)
            elif attack == "controller.haltMinting":
                call, expect = ctl.enc("haltMinting"), unauthorized(me, DEFAULT_ADMIN_ROLE)
            elif attack == "controller.resumeMinting":
                call, expect = ctl.enc("resumeMinting"), unauthorized(me, DEFAULT_ADMIN_ROLE)
            elif attack == "controller.burnRedeemed":
                call = ctl.enc("burnRedeemed", TIYIN, self.fresh("payout"))
                expect = unauthorized(me, REDEMPTION_DESK_ROLE)
            elif attack == "controller.setMaxAttestationAge up":
                call, expect = ctl.enc("setMaxAttestationAge", 365 * 86_400), unauthorized(me, DEFAULT_ADMIN_ROLE)
            else:  # setTiers with fewer approvals: risk-raising
                t1, t2 = m.cfg["tier1_max"], m.cfg["tier2_max"]
                call = ctl.enc("setTiers", (t1, t2, 1, 1, 1))
                expect = unauthorized(me, DEFAULT_ADMIN_ROLE)
        elif attack.startswith("registry.submitAttestation"):
            to, self.step.attested = S.registry, True
            as_of = now
            attestation = Attestation(as_of=as_of, custodian_amounts=((0, 10**15),), report_hash=self.fresh("report"),
                                      report_uri="ipfs://forged")
            auditors = S.auditors
            if attack.endswith("forged signature"):  # the outsider signs in an auditor's name
                sigs = self.signatures(attestation, [a], forge_as=auditors[0].address) + self.signatures(attestation, auditors[1:2])
                expect = self.attestation_error(attestation, sigs, forged={0})
            elif attack.endswith("unknown signer"):
                sigs = self.signatures(attestation, [a] + auditors[1:2])
                expect = self.attestation_error(attestation, sigs)
            elif attack.endswith("duplicate signer"):
                sigs = self.signatures(attestation, auditors[1:2] * 2)
                expect = self.attestation_error(attestation, sigs)
            else:
                sigs = self.signatures(attestation, auditors[2:3])
                expect = self.attestation_error(attestation, sigs)
            call = reg.enc("submitAttestation", attestation.contract_input(), sigs)
        elif attack.startswith("registry."):
            to = S.registry
            call = {"registry.addAuditor": lambda: reg.enc("addAuditor", me),
                    "registry.setAuditorThreshold": lambda: reg.enc("setAuditorThreshold", 1),
                    "registry.removeAuditor": lambda: reg.enc("removeAuditor", S.auditors[0].address),
                    "registry.deactivateCustodian": lambda: reg.enc("deactivateCustodian", 0)}[attack]()
            expect = unauthorized(me, DEFAULT_ADMIN_ROLE)
        else:
            to = S.timelock
            inner = ctl.enc("setPerTxCap", m.per_tx_cap * 100)
            if attack == "timelock.schedule":
                call = tl.enc("schedule", S.controller, 0, inner, ZERO32, self.fresh("salt"), S.config["timelock_delay"])
                expect = unauthorized(me, PROPOSER_ROLE)
            elif attack == "timelock.execute":
                call, expect = tl.enc("execute", S.controller, 0, inner, ZERO32, self.fresh("salt")), unauthorized(me, EXECUTOR_ROLE)
            else:
                call, expect = tl.enc("updateDelay", 0), E("TimelockUnauthorizedCaller", me)
        assert expect is not None, f"{attack}: the model says an account without a role could do this"
        self.tx(f"attack {attack}", a, to, call, expect)
        self.end()

    # ---------------------------------------------------------------------------------------------------------------
    # Invariants (after every step; the model comparison in end() already ran)
    # ---------------------------------------------------------------------------------------------------------------

    def balances(self, values) -> dict:
        return {a: values[("bal", a)][0] for a in self.tracked}

    @invariant()
    def supply_is_the_sum_of_balances_and_of_the_counters(self):
        supply, minted, burned, wiped = self.cur[("sup",)]
        assert supply == sum(self.balances(self.cur).values()), "totalSupply != sum of balances"
        assert supply == minted - burned - wiped, "totalSupply != totalMinted - totalBurned - totalWiped"

    @invariant()
    def reserves_cover_supply_at_every_mint(self):
        if self.step is None:
            return
        for minted_at, _, _, _ in self.step.mints:
            reserves, as_of, count = self.cur[("res",)]
            supply = self.cur[("sup",)][0]
            margin = self.m.cfg["reserve_margin_bps"]
            assert count > 0 and minted_at <= as_of + self.m.cfg["max_attestation_age"], "minted on a stale attestation"
            assert supply <= reserves * (10_000 - margin) // 10_000, f"supply {supply} above attested reserves {reserves}"

    @invariant()
    def each_deposit_ref_mints_at_most_once(self):
        assert len(self.minted_refs) == len(set(self.minted_refs)), "a deposit reference minted twice"
        setup = set(self.S.config["setup_refs"])
        assert not setup & set(self.minted_refs), "a start-state deposit reference minted again"

    @invariant()
    def frozen_balances_change_only_through_wipe(self):
        if self.step is None:
            return
        for a in self.tracked:
            if self.prev[("frz", a)][0] and self.cur[("bal", a)] != self.prev[("bal", a)]:
                assert a in self.step.wiped and self.cur[("bal", a)][0] == 0, f"frozen {self.describe((a,))} moved"

    @invariant()
    def nothing_moves_while_paused(self):
        if self.step is None or not self.prev[("pau",)][0]:
            return
        assert self.balances(self.cur) == self.balances(self.prev), f"a balance moved while paused ({self.step.rule})"
        assert self.cur[("sup",)] == self.prev[("sup",)], f"supply counters moved while paused ({self.step.rule})"

    @invariant()
    def attestation_history_is_append_only(self):
        """After every attestation attempt (accepted, refused, forged), every attestation ever accepted reads back
        exactly as submitted (figures, custodians, report, signers, submitter, time): an index is never rewritten,
        and nothing is appended but what the model accepted."""
        if self.step is None or not self.step.attested:
            return
        assert self.read_attestation_history() == norm(self.m.history), "attestation history differs from the model"

    @invariant()
    def zero_address_and_token_hold_nothing(self):
        assert self.cur[("bal", ZERO)][0] == 0 and self.cur[("bal", self.S.token)][0] == 0

    @invariant()
    def allowance_drops_by_exactly_what_transfer_from_moved(self):
        if self.step is None:
            return
        for owner, spender, before, moved in self.step.allowance_spends:
            after = self.cur[("alw", owner, spender)][0]
            assert after == (before if before == MAX_UINT else before - moved), (
                f"allowance {self.describe((owner, spender))}: {before} -> {after} after moving {moved}")

    @invariant()
    def self_transfer_keeps_the_balance(self):
        if self.step is None:
            return
        for a in self.step.self_transfers:
            assert self.cur[("bal", a)] == self.prev[("bal", a)], f"self-transfer changed {self.describe((a,))}'s balance"

    @invariant()
    def no_backdoor(self):
        """No step changes a balance it did not intend to move, and each intended movement is exact. (Holders and
        the outsider have no role: any change to an account other than the step's intended ones is a backdoor.)"""
        if self.step is None:
            return
        before, after = self.balances(self.prev), self.balances(self.cur)
        actual = {a: after[a] - before[a] for a in self.tracked if after[a] != before[a]}
        intended = {a: d for a, d in self.step.deltas.items() if d}
        assert actual == intended, f"{self.step.rule}: balances moved {actual}, intended {intended}"

    @invariant()
    def supply_changes_only_through_the_controller_or_wipe(self):
        wipe = self.S.tok.selector("wipeFrozen")
        for to, selector in self.supply_change_sources:
            assert to == self.S.controller or (to == self.S.token and selector == wipe), (to, selector.hex())

    @invariant()
    def minter_allowance_and_windows_never_exceeded(self):
        """Every interval of windowSeconds (closed: [t - W, t]) ending at a mint holds at most the window limit in
        force at that mint, per minter and in total (the maximum over all intervals is reached at one ending at a
        mint); no mint exceeded its minter's remaining allowance; what a minter minted never exceeds its start
        allowance, and the on-chain allowance never went up."""
        seconds = self.m.cfg["window_seconds"]
        for t, amount, minter, allowance, minter_limit, global_limit in self.mint_log:
            assert amount <= allowance, f"a mint of {amount} above {minter}'s remaining allowance {allowance}"
            mine = sum(a for u, a, who, *_ in self.mint_log if who == minter and t - seconds <= u <= t)
            everyone = sum(a for u, a, *_ in self.mint_log if t - seconds <= u <= t)
            assert mine <= minter_limit, f"{minter} minted {mine} within {seconds} s up to {t}, limit {minter_limit}"
            assert everyone <= global_limit, f"{everyone} minted within {seconds} s up to {t}, limit {global_limit}"
        for minter in self.base_model.minters:
            start = self.base_model.minter_allowance[minter]
            assert self.minted_by[minter] <= start
            assert self.cur[("mst", minter)][0] <= start - self.minted_by[minter]


def build_static_plan(S) -> list:
    tok, ctl, reg = S.tok, S.ctl, S.reg
    plan = []
    for a in SystemMachine.tracked:
        plan.append((("bal", a), S.token, tok.enc("balanceOf", a), 1))
        plan.append((("frz", a), S.token, tok.enc("isFrozen", a), 1))
    for o in SystemMachine.allowance_owners:
        for s in SystemMachine.spenders:
            plan.append((("alw", o.address, s), S.token, tok.enc("allowance", o.address, s), 1))
    for o in SystemMachine.owners:
        plan.append((("non", o.address), S.token, tok.enc("nonces", o.address), 1))
    plan.append((("sup",), S.token, tok.enc("supplyCounters"), 4))
    plan.append((("pau",), S.token, tok.enc("paused"), 1))
    plan.append((("mnt",), S.token, tok.enc("minter"), 1))
    plan.append((("cfg",), S.controller, ctl.enc("config"), 10))
    for minter in S.minters:
        plan.append((("mst", minter.address), S.controller, ctl.enc("minterStatus", minter.address), 4))
    plan.append((("gst",), S.controller, ctl.enc("globalStatus"), 4))
    plan.append((("res",), S.registry, reg.enc("latestReserves"), 3))
    for auditor in S.auditors:
        plan.append((("isa", auditor.address), S.registry, reg.enc("isAuditor", auditor.address), 1))
    for minter in S.minters:
        plan.append((("role", "minter", minter.address), S.controller, ctl.enc("hasRole", MINTER_ROLE, minter.address), 1))
    for approver in S.approvers:
        plan.append((("role", "approver", approver.address), S.controller,
                     ctl.enc("hasRole", APPROVER_ROLE, approver.address), 1))
    return plan


def base_model_from_chain(S, values) -> Model:
    cfg = S.config
    m = Model(token=S.token, controller=S.controller, config=cfg, approvers=[a.address for a in S.approvers],
              minters=[a.address for a in S.minters], auditors=[a.address for a in S.auditors])
    for a in SystemMachine.tracked:
        m.bal[a] = values[("bal", a)][0]
        assert values[("frz", a)][0] == 0
    for o in SystemMachine.owners:
        m.nonces[o.address] = values[("non", o.address)][0]
    for o in SystemMachine.allowance_owners:
        for s in SystemMachine.spenders:
            assert values[("alw", o.address, s)][0] == 0
    m.supply, m.minted, m.burned, m.wiped = values[("sup",)]
    m.reserves, m.as_of, m.attestations = values[("res",)]
    for minter in S.minters:
        allowance, limit, used, _ = values[("mst", minter.address)]
        assert used == 0, "the start state must have empty rate windows"
        m.minter_allowance[minter.address] = allowance
    assert values[("gst",)][2] == 0
    for i, ref in enumerate(cfg["setup_refs"]):  # the start-state mints: executed requests of minter A
        view = values[("req", ref)]
        requester, recipient = "0x%040x" % view[2], "0x%040x" % view[3]
        approvals = [a.address for a in S.approvers[: view[6]]]
        m.requests[ref] = Request(to_checksum_address(requester), to_checksum_address(recipient), view[4], view[5],
                                  view[1], approvals)
        assert view[1] == EXECUTED
    return m


def test_system_invariants(system):
    S = system
    SystemMachine.S = S
    SystemMachine.tracked = [a.address for a in S.eoas] + [S.controller, S.registry, S.timelock, S.token, ZERO]
    SystemMachine.owners = S.holders + [S.outsider]  # approve, sign permits and authorizations, redeem
    SystemMachine.allowance_owners = SystemMachine.owners + [S.desk]  # also a `from` of transferFrom (never approves)
    SystemMachine.spenders = [h.address for h in S.holders] + [S.outsider.address, S.desk.address, S.controller]
    SystemMachine.eoa_spenders = S.holders + [S.outsider, S.desk]
    SystemMachine.static_plan = build_static_plan(S)
    plan = SystemMachine.static_plan + [(("req", ref), S.controller, S.ctl.enc("getRequest", ref), 11)
                                        for ref in S.config["setup_refs"]]
    timestamp, values = S.reader.read(plan)
    assert timestamp == S.base_time
    SystemMachine.base_model = base_model_from_chain(S, values)
    for i in range(SystemMachine.base_model.attestations):  # the start state's attestations, as the registry has them
        kind, raw = S.driver.call(ZERO, S.registry, S.reg.enc("attestation", i), block="latest")
        SystemMachine.base_model.history.append(norm(abi_decode([ATTESTATION_TYPE], raw)[0]))
    SystemMachine.base_values = values
    assert SystemMachine.base_model.expected_reads(timestamp, plan) == values

    examples, steps = examples_and_steps()
    seed = int(os.environ.get("KGST_INVARIANT_SEED") or random.SystemRandom().randrange(2**32))
    RUN_INFO.update({"seed": seed, "examples (max)": examples, "steps per example (max)": steps,
                     "send expected reverts": SEND_REVERTS})
    print(f"\nKGST system invariants: seed={seed} examples={examples} steps={steps} "
          f"(replay: KGST_INVARIANT_SEED={seed})")
    RUN_STATS.clear()
    OUTCOMES.clear()
    RULES.clear()
    stats_before = Counter(S.driver.stats)
    started = time.perf_counter()
    try:
        run_state_machine_as_test(
            hypothesis_seed(seed)(SystemMachine),
            settings=settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                              derandomize=False, print_blob=False,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.filter_too_much]),
        )
    except BaseException as err:
        err.add_note(f"KGST system invariants: seed {seed}; replay with KGST_INVARIANT_SEED={seed} "
                     f"KGST_INVARIANT_EXAMPLES={examples} KGST_INVARIANT_STEPS={steps}")
        raise
    finally:
        elapsed = time.perf_counter() - started
        for key, value in (Counter(S.driver.stats) - stats_before).items():
            RUN_STATS[key] = value
        RUN_INFO["run time (s)"] = f"{elapsed:.1f}"
        if RUN_STATS["steps"]:
            RUN_INFO["steps per minute"] = f"{RUN_STATS['steps'] / elapsed * 60:,.0f}"
        RUN_INFO["steps per rule"] = ", ".join(f"{name} {count}" for name, count in RULES.most_common())
        print(f"KGST system invariants: {RUN_STATS['examples']} examples, {RUN_STATS['steps']} steps, "
              f"{RUN_STATS['transactions']} transactions, {RUN_STATS['eth_calls']} eth_calls in {elapsed:.1f} s")
