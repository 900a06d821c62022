"""Stateful property test of the controller: random sequences of requests (fresh or reused references), approvals
(by any approver, including the requester), executions, cancellations, time jumps of up to three days, new
attestations (sometimes below supply) and redemptions. A Python model predicts the outcome of EVERY call, including
the exact custom error and its arguments, following the contract's documented check order; after every step the
invariants below are checked against the chain.

Invariants:
- totalSupply <= latest attested reserves, checked at every successful mint;
- each deposit reference is minted at most once (from MintExecuted events);
- totalSupply == totalMinted - totalBurned - totalWiped (token.supplyCounters) and equals the model's supply;
- each minter's allowance == its initial allowance - what its requests minted, never negative;
- no closed interval of windowSeconds holds more mints than a minter's window limit or the global limit.
"""

from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from kgst.attestation import Attestation, report_hash_of
from tests.controller.helpers import (
    APPROVER_ROLE,
    GLOBAL_WINDOW,
    MAX_ATTESTATION_AGE,
    MINTER_A_ALLOWANCE,
    MINTER_A_WINDOW,
    MINTER_B_ALLOWANCE,
    MINTER_B_WINDOW,
    PER_TX_CAP,
    REQUEST_TTL,
    TIER1_MAX,
    TIER2_MAX,
    TIYIN,
    ZERO_ADDRESS,
    Ev,
    Status,
    Transfer,
    WindowModel,
    addr,
    as_admin,
    assert_events,
    at,
    decoded,
    fresh_payout,
    fresh_ref,
    head_time,
    max_interval_sum,
    record_outcome,
    reverts,
)

CAP = PER_TX_CAP // TIYIN
OUTCOMES: Counter = Counter()  # what the random runs exercised, printed in the run summary
AMOUNTS = st.one_of(
    st.integers(1, TIER1_MAX // TIYIN),  # 1 approval (weighted: most requests can complete)
    st.integers(1, TIER1_MAX // TIYIN),
    st.integers(TIER1_MAX // TIYIN + 1, TIER2_MAX // TIYIN),  # 2
    st.integers(TIER2_MAX // TIYIN + 1, CAP + 2_000_000_00),  # 3, and some above the per-tx cap
)


class ControllerMachine(RuleBasedStateMachine):
    s = None  # the attested suite, set by the test

    def __init__(self):
        super().__init__()
        s = self.s
        self.snapshot = s.chain.snapshot()
        self.t = head_time(s)
        self.minters = list(s.minters)  # test:7 also holds APPROVER_ROLE (granted by the test through the timelock)
        self.approvers = list(s.approvers) + [s.minters[1]]
        self.recipients = list(s.holders[:4])
        self.account_of = {addr(a): a for a in self.minters + self.approvers + self.recipients}
        self.initial = {addr(s.minters[0]): MINTER_A_ALLOWANCE // TIYIN, addr(s.minters[1]): MINTER_B_ALLOWANCE // TIYIN}
        self.window = {addr(s.minters[0]): WindowModel(MINTER_A_WINDOW // TIYIN),
                       addr(s.minters[1]): WindowModel(MINTER_B_WINDOW // TIYIN)}
        self.global_window = WindowModel(GLOBAL_WINDOW // TIYIN)
        self.minted_by = {m: 0 for m in self.initial}
        self.requests: dict[bytes, dict] = {}
        self.used_refs: list[bytes] = []
        self.mints: list[tuple[int, int, str]] = []  # (timestamp, tiyin, minter)
        self.minted_refs: list[bytes] = []  # from MintExecuted events
        reserves, as_of, _ = s.registry.latestReserves()
        self.reserves, self.as_of = reserves // TIYIN, as_of
        self.supply = self.minted = self.burned = 0
        self.balance = {addr(r): 0 for r in self.recipients}

    def teardown(self):
        self.s.chain.restore(self.snapshot)

    def tick(self):
        self.t += 1
        at(self.s, self.t)

    def pick_request(self, data):
        """Mostly an open, unexpired request (so flows complete), sometimes any request ever opened."""
        live = sorted(r for r, q in self.requests.items() if q["status"] == Status.PENDING and self.t < q["expires"])
        if live and data.draw(st.integers(0, 4), label="prefer a live request") > 0:
            return data.draw(st.sampled_from(live), label="request")
        return data.draw(st.sampled_from(sorted(self.requests)), label="request")

    def outcome(self, rule_name, result):
        OUTCOMES[f"{rule_name}: {result}"] += 1

    # --- rules ----------------------------------------------------------------------------------------------------

    @rule(data=st.data(), minter=st.integers(0, 1), recipient=st.integers(0, 3), amount=AMOUNTS,
          reuse=st.booleans())
    def open_request(self, data, minter, recipient, amount, reuse):
        ref = data.draw(st.sampled_from(self.used_refs), label="reused ref") if reuse and self.used_refs else fresh_ref()
        self._request(self.minters[minter], self.recipients[recipient], amount, ref)

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), approver=st.integers(0, 4), wrong=st.integers(0, 9))
    def approve(self, data, approver, wrong):
        ref = self.pick_request(data)
        q = self.requests[ref]
        who = self.account_of[q["minter"]] if approver == 4 else self.approvers[approver]  # 4: the requester
        self._approve(ref, who, q["amount"] + (1 if wrong == 0 else 0))

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), executor=st.integers(0, 5))
    def execute(self, data, executor):
        self._execute(self.pick_request(data), (self.recipients + [self.s.outsiders[0], self.s.approvers[0]])[executor])

    @rule(minter=st.integers(0, 1), recipient=st.integers(0, 3), amount=AMOUNTS)
    def request_approve_execute(self, minter, recipient, amount):
        """The whole flow in one step (a fresh reference, the approvals its tier needs), so that random runs mint
        often enough to reach the limits and the reserve bound; each call's outcome is still predicted."""
        ref = fresh_ref()
        if not self._request(self.minters[minter], self.recipients[recipient], amount, ref):
            return
        checkers = [a for a in self.approvers if addr(a) != addr(self.minters[minter])]
        for who in checkers[: self.required(amount)]:
            self._approve(ref, who, amount)
        self._execute(ref, self.s.outsiders[0])

    # --- the calls, each with its predicted outcome ---------------------------------------------------------------

    def _request(self, m, r, amount, ref) -> bool:
        s = self.s
        self.tick()
        if amount > CAP:
            expected = ("ExceedsPerTransactionCap", dict(amount=amount * TIYIN, cap=PER_TX_CAP))
        elif ref in self.used_refs:
            expected = ("DepositRefAlreadyUsed", dict(depositRef=ref))
        else:
            expected = None
        self.outcome("request", expected[0] if expected else "opened")
        if expected:
            with reverts(expected[0], **expected[1]):
                s.controller.requestMint(r, amount * TIYIN, ref, sender=m)
            return False
        receipt = s.controller.requestMint(r, amount * TIYIN, ref, sender=m)
        assert_events(receipt, [Ev(s.controller, "MintRequested", depositRef=ref, requester=addr(m), recipient=addr(r),
                                   amount=amount * TIYIN, expiresAt=self.t + REQUEST_TTL)])
        self.used_refs.append(ref)
        self.requests[ref] = dict(minter=addr(m), recipient=addr(r), amount=amount, expires=self.t + REQUEST_TTL,
                                  status=Status.PENDING, approvals=set())
        return True

    def _approve(self, ref, who, stated):
        s, q = self.s, self.requests[ref]
        self.tick()
        if not any(addr(who) == addr(a) for a in self.approvers):
            expected = ("AccessControlUnauthorizedAccount", dict(account=addr(who), neededRole=APPROVER_ROLE))
        elif q["status"] != Status.PENDING:
            expected = ("RequestNotPending", dict(requestId=ref, status=q["status"]))
        elif self.t > q["expires"]:
            expected = ("RequestExpired", dict(requestId=ref, expiredAt=q["expires"]))
        elif stated != q["amount"]:
            expected = ("ApprovalMismatch", dict(requestId=ref))
        elif addr(who) == q["minter"]:
            expected = ("RequesterCannotApprove", dict(requestId=ref))
        elif addr(who) in q["approvals"]:
            expected = ("AlreadyApproved", dict(requestId=ref, approver=addr(who)))
        else:
            expected = None
        self.outcome("approve", expected[0] if expected else "approved")
        if expected:
            with reverts(expected[0], **expected[1]):
                s.controller.approveMint(ref, q["recipient"], stated * TIYIN, sender=who)
            return
        q["approvals"].add(addr(who))
        receipt = s.controller.approveMint(ref, q["recipient"], stated * TIYIN, sender=who)
        assert_events(receipt, [Ev(s.controller, "MintApproved", requestId=ref, approver=addr(who), approvals=len(q["approvals"]))])

    def _execute(self, ref, sender):
        s = self.s
        q, m, amount = self.requests[ref], self.requests[ref]["minter"], self.requests[ref]["amount"]
        self.tick()
        required = self.required(amount)
        units = amount * TIYIN
        if q["status"] != Status.PENDING:
            expected = ("RequestNotPending", dict(requestId=ref, status=q["status"]))
        elif self.t > q["expires"]:
            expected = ("RequestExpired", dict(requestId=ref, expiredAt=q["expires"]))
        elif len(q["approvals"]) < required:
            expected = ("NotEnoughApprovals", dict(requestId=ref, approvals=len(q["approvals"]), required=required))
        elif self.global_window.available(self.t) < amount:
            expected = ("ExceedsGlobalWindow", dict(amount=units, available=self.global_window.available(self.t) * TIYIN))
        elif self.allowance(m) < amount:
            expected = ("ExceedsMinterAllowance", dict(minter=m, amount=units, allowance=self.allowance(m) * TIYIN))
        elif self.window[m].available(self.t) < amount:
            expected = ("ExceedsMinterWindow", dict(minter=m, amount=units, available=self.window[m].available(self.t) * TIYIN))
        elif self.t > self.as_of + MAX_ATTESTATION_AGE:
            expected = ("ReserveAttestationStale", dict(asOf=self.as_of, maxAge=MAX_ATTESTATION_AGE))
        elif self.supply + amount > self.reserves:
            expected = ("ExceedsReserves", dict(supply=self.supply * TIYIN, amount=units, mintableSupply=self.reserves * TIYIN))
        else:
            expected = None
        self.outcome("execute", expected[0] if expected else "minted")
        if expected:
            with reverts(expected[0], **expected[1]):
                s.controller.executeMint(ref, sender=sender)
            return
        receipt = s.controller.executeMint(ref, sender=sender)
        assert_events(receipt, [Transfer(s.token, ZERO_ADDRESS, q["recipient"], units),
                                Ev(s.controller, "MintExecuted", depositRef=ref, recipient=q["recipient"], amount=units)])
        self.minted_refs += [args["depositRef"] for _, name, args in decoded(receipt) if name == "MintExecuted"]
        q["status"] = Status.EXECUTED
        self.supply += amount
        self.minted += amount
        self.balance[q["recipient"]] += amount
        self.minted_by[m] += amount
        self.window[m].record(self.t, amount)
        self.global_window.record(self.t, amount)
        self.mints.append((self.t, amount, m))
        # the reserve invariant, at the mint: against the registry, not only the model
        assert s.token.totalSupply() <= s.registry.latestReserves()[0]

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), who=st.sampled_from(["requester", "guardian", "other minter", "approver"]))
    def cancel(self, data, who):
        s = self.s
        ref = self.pick_request(data)
        q = self.requests[ref]
        requester = self.account_of[q["minter"]]
        other = s.minters[1] if addr(requester) == addr(s.minters[0]) else s.minters[0]
        caller = {"requester": requester, "guardian": s.guardian, "other minter": other, "approver": s.approvers[1]}[who]
        self.tick()
        if q["status"] != Status.PENDING:
            self.outcome("cancel", "RequestNotPending")
            with reverts("RequestNotPending", requestId=ref, status=q["status"]):
                s.controller.cancelRequest(ref, sender=caller)
        elif who not in ("requester", "guardian"):
            self.outcome("cancel", "NotRequesterOrGuardian")
            with reverts("NotRequesterOrGuardian", caller=addr(caller)):
                s.controller.cancelRequest(ref, sender=caller)
        else:
            self.outcome("cancel", "cancelled")
            assert_events(s.controller.cancelRequest(ref, sender=caller),
                          [Ev(s.controller, "MintRequestCancelled", requestId=ref, by=addr(caller))])
            q["status"] = Status.CANCELLED

    @rule(seconds=st.one_of(st.integers(0, 3_600), st.integers(0, 6 * 3_600), st.integers(0, 3 * 86_400)))
    def time_jump(self, seconds):
        self.t += seconds

    @rule(kind=st.sampled_from(["above supply", "above supply", "above supply", "below supply", "equal"]),
          delta=st.integers(0, 60_000_000_00))
    def new_attestation(self, kind, delta):
        s = self.s
        reserves = {"above supply": self.supply + delta, "below supply": max(self.supply - delta, 0), "equal": self.supply}[kind]
        as_of = self.t
        self.tick()
        attestation = Attestation(as_of=as_of, custodian_amounts=((0, reserves),), report_hash=report_hash_of(fresh_ref()),
                                  report_uri="ipfs://kgst-audit-report")
        s.registry.submitAttestation(attestation.contract_input(), [(x.auditor, x.signature) for x in s.sign(attestation)],
                                     sender=s.outsiders[1])
        self.reserves, self.as_of = reserves, as_of
        self.outcome("attest", kind)

    @precondition(lambda self: any(self.balance.values()))
    @rule(data=st.data())
    def redeem(self, data):
        s = self.s
        holder_address = data.draw(st.sampled_from(sorted(a for a, b in self.balance.items() if b)), label="holder")
        holder = next(r for r in self.recipients if addr(r) == holder_address)
        amount = data.draw(st.integers(1, self.balance[holder_address]), label="redeem (tiyin)")
        self.tick()
        s.token.approve(s.controller, amount * TIYIN, sender=holder)
        self.tick()
        payout = fresh_payout()
        assert_events(s.controller.redeem(amount * TIYIN, payout, sender=holder), [
            Transfer(s.token, holder, ZERO_ADDRESS, amount * TIYIN),
            Ev(s.controller, "Redeemed", payoutRef=payout, holder=holder_address, amount=amount * TIYIN, by=holder_address)])
        self.balance[holder_address] -= amount
        self.outcome("redeem", "redeemed")
        self.supply -= amount
        self.burned += amount

    # --- invariants -----------------------------------------------------------------------------------------------

    @invariant()
    def supply_matches_counters_and_model(self):
        supply, minted, burned, wiped = (int(v) for v in self.s.token.supplyCounters())
        assert supply == minted - burned - wiped
        assert (supply, minted, burned, wiped) == (self.supply * TIYIN, self.minted * TIYIN, self.burned * TIYIN, 0)

    @invariant()
    def each_deposit_reference_mints_at_most_once(self):
        assert len(self.minted_refs) == len(set(self.minted_refs))

    @invariant()
    def allowances_drop_by_exactly_what_was_minted(self):
        for m in self.initial:
            on_chain = int(self.s.controller.minterStatus(m)[0])
            assert on_chain == self.allowance(m) * TIYIN >= 0

    @invariant()
    def no_window_interval_is_exceeded(self):
        for m, model in self.window.items():
            assert max_interval_sum([(t, a) for t, a, who in self.mints if who == m]) <= model.limit
        assert max_interval_sum([(t, a) for t, a, _ in self.mints]) <= self.global_window.limit

    # --- helpers --------------------------------------------------------------------------------------------------

    def allowance(self, m):
        return self.initial[m] - self.minted_by[m]

    @staticmethod
    def required(amount):
        return 1 if amount <= TIER1_MAX // TIYIN else 2 if amount <= TIER2_MAX // TIYIN else 3


def test_controller_state_machine(attested_suite):
    s = attested_suite
    as_admin(s, s.controller.grantRole, APPROVER_ROLE, s.minters[1])  # so "the requester approves" is reachable
    ControllerMachine.s = s
    OUTCOMES.clear()
    run_state_machine_as_test(
        ControllerMachine,
        settings=settings(max_examples=8, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]),
    )
    for label, count in sorted(OUTCOMES.items()):
        record_outcome(f"state machine  {label}", count)
