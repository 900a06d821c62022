"""The system the invariant machine runs against: the session `suite` (config/local.yaml through kgst.deploy) brought
into a start state once per module with ordinary Ape calls, then handed to the fast web3 driver (harness.py).

Start state (the machine's every example begins here; the chain is reverted to it after each example):
- minter B (test:7) also holds APPROVER_ROLE, granted through the timelock, so "the requester approves its own
  request" reaches RequesterCannotApprove instead of stopping at the role check;
- the guardian tightened the limits (instant, risk-reducing) so that a 30-step example reaches every one of them:
  global window 6,000,000 som; minter A allowance 12,000,000 and window 5,000,000; minter B allowance 2,500,000
  and window 2,000,000 (each of the global window, A's window, B's window and B's allowance can be the first
  limit a mint hits; the per-transaction cap, 10,000,000, and the tiers stay as deployed);
- six holders (test:14-19) hold 1,000,000 / 250,000.37 / 75,000 / 5,000 / 12.34 / 0.01 som, minted through the
  real maker-checker flow; then two days pass (every rate window is empty again) and auditors attest supply +
  8,000,000 som as of that moment;
- the node stamps each new block exactly one second after the previous one (anvil_setBlockTimestampInterval),
  so the model knows every transaction's block.timestamp; removed again when the module ends.

Running it: `ape test tests/invariants` (also part of `ape test`) runs 100 examples x up to 30 steps, about a
minute here. Longer: KGST_INVARIANT_EXAMPLES=2000 ape test tests/invariants (KGST_INVARIANT_STEPS=60 for longer
sequences); KGST_INVARIANT_SEED=<seed printed by a run> replays it. The terminal summary shows the seed, the number
of examples, steps, transactions and eth_calls, the steps per minute, and how often each call ended in each outcome.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from eth_utils import keccak

from kgst.refs import deposit_ref
from tests.invariants.harness import (
    ZERO,
    ZERO32,
    Abi,
    Actor,
    Driver,
    ErrorBook,
    Reader,
    actor_from_ape,
    addr,
)
from tests.suite import APPROVERS, AUDITORS, HOLDERS, MINTERS, OUTSIDERS, som

DAY = 86_400
START_BALANCES = ("1000000", "250000.37", "75000", "5000", "12.34", "0.01")  # som, holders test:14..19
GLOBAL_WINDOW_START = som("6000000")
MINTER_A_LIMITS_START = (som("12000000"), som("5000000"))  # (allowance, window limit)
MINTER_B_LIMITS_START = (som("2500000"), som("2000000"))
RESERVE_HEADROOM_START = som("8000000")

RUN_STATS: Counter = Counter()  # filled by the machine, printed in the terminal summary
RUN_INFO: dict = {}
OUTCOMES: Counter = Counter()


def role(name: str) -> bytes:
    return keccak(text=name)


@dataclass
class System:
    """Everything the machine needs: driver, reader, addresses, ABIs, actors, limits, and the start state."""

    driver: Driver
    reader: Reader
    token: str
    controller: str
    registry: str
    timelock: str
    tok: Abi
    ctl: Abi
    reg: Abi
    tl: Abi
    actors: dict[str, Actor]
    config: dict
    base_time: int = 0  # block.timestamp of the start state
    base_nonces: dict = field(default_factory=dict)  # account nonces in the start state

    def __getattr__(self, name):  # system.guardian, system.desk ... -> Actor
        actors = self.__dict__.get("actors") or {}
        if name in actors:
            return actors[name]
        raise AttributeError(name)

    @property
    def holders(self) -> list[Actor]:
        return [self.actors[f"holder{i}"] for i in range(len(HOLDERS))]

    @property
    def minters(self) -> list[Actor]:
        return [self.actors["minterA"], self.actors["minterB"]]

    @property
    def approvers(self) -> list[Actor]:
        """Every APPROVER_ROLE holder: test:8-10 and minter B."""
        return [self.actors[f"approver{i}"] for i in range(len(APPROVERS))] + [self.actors["minterB"]]

    @property
    def auditors(self) -> list[Actor]:
        return [self.actors[f"auditor{i}"] for i in range(len(AUDITORS))]

    @property
    def eoas(self) -> list[Actor]:
        return list(self.actors.values())


def _timelock_call(s, target, data: bytes, salt_label: str) -> None:
    delay = s.timelock.getMinDelay()
    salt = keccak(text=salt_label)
    s.timelock.schedule(target, 0, data, ZERO32, salt, delay, sender=s.governance)
    s.time_travel(delay + 1)
    s.timelock.execute(target, 0, data, ZERO32, salt, sender=s.governance)


@pytest.fixture(scope="module")
def system(suite, project, networks, accounts):
    s = suite
    provider = networks.provider
    web3 = provider.web3

    # --- start state, with ordinary Ape calls ---------------------------------------------------------------------
    minter_a, minter_b = accounts[MINTERS[0]], accounts[MINTERS[1]]
    _timelock_call(s, s.controller.address, bytes(s.controller.grantRole.encode_input(role("APPROVER_ROLE"), minter_b)),
                   "kgst-invariants-approver")
    s.controller.setGlobalWindowLimit(GLOBAL_WINDOW_START, sender=s.guardian)
    s.controller.setMinterLimits(minter_a, *MINTER_A_LIMITS_START, sender=s.guardian)
    s.controller.setMinterLimits(minter_b, *MINTER_B_LIMITS_START, sender=s.guardian)
    s.attest(("2000000",))
    for i, (index, amount) in enumerate(zip(HOLDERS, START_BALANCES)):
        s.mint(accounts[index], som(amount), f"KGST-INVARIANTS-START-{i}")
    s.time_travel(2 * DAY + 1)
    supply = s.token.totalSupply()
    s.attest((str(Decimal(supply + RESERVE_HEADROOM_START) / Decimal(10**18)),))
    reader_contract = s.deployer.deploy(project.InvariantReader)

    # --- the fast path ----------------------------------------------------------------------------------------------
    contract_types = [project.KGSTToken.contract_type, project.KGSTIssuanceController.contract_type,
                      project.KGSTReserveRegistry.contract_type, project.KGSTTimelock.contract_type,
                      project.InvariantReader.contract_type]
    latest = web3.provider.make_request("eth_getBlockByNumber", ["latest", False])["result"]
    gas_price = max(int(web3.provider.make_request("eth_gasPrice", [])["result"], 16), int(latest.get("baseFeePerGas", "0x0"), 16))
    driver = Driver(web3, chain_id=s.chain.chain_id, gas_price=gas_price, errors=ErrorBook(contract_types))

    actors = {
        "governance": actor_from_ape("governance", s.governance),
        "guardian": actor_from_ape("guardian", s.guardian),
        "compliance": actor_from_ape("compliance", s.compliance),
        "desk": actor_from_ape("desk", s.desk),
        "minterA": actor_from_ape("minterA", accounts[MINTERS[0]]),
        "minterB": actor_from_ape("minterB", minter_b),
        "outsider": actor_from_ape("outsider", accounts[OUTSIDERS[0]]),
    }
    for i, index in enumerate(APPROVERS):
        actors[f"approver{i}"] = actor_from_ape(f"approver{i}", accounts[index])
    for i, index in enumerate(AUDITORS):
        actors[f"auditor{i}"] = actor_from_ape(f"auditor{i}", accounts[index])
    for i, index in enumerate(HOLDERS):
        actors[f"holder{i}"] = actor_from_ape(f"holder{i}", accounts[index])

    c = s.controller
    tiers = c.tiers()
    cfg = c.config()
    config = {
        "window_seconds": int(c.windowSeconds()),
        "per_tx_cap": int(c.globalStatus()[0]),
        "global_window_limit": int(c.globalStatus()[1]),
        "minter_allowance": {addr(m): int(c.minterStatus(m)[0]) for m in s.minters},
        "minter_window_limit": {addr(m): int(c.minterStatus(m)[1]) for m in s.minters},
        "tier1_max": int(tiers[0]), "tier2_max": int(tiers[1]), "approvals": (int(tiers[2]), int(tiers[3]), int(tiers[4])),
        "max_attestation_age": int(cfg.maxAttestationAge), "reserve_margin_bps": int(cfg.reserveMarginBps),
        "request_ttl": int(cfg.requestTtl), "timelock_delay": int(s.timelock.getMinDelay()),
        "auditor_threshold": int(s.registry.auditorThreshold()),
        "custodians": int(s.registry.custodianCount()),
        "setup_refs": [deposit_ref(f"KGST-INVARIANTS-START-{i}") for i in range(len(HOLDERS))],
    }
    assert config["global_window_limit"] == GLOBAL_WINDOW_START and config["reserve_margin_bps"] == 0

    system = System(
        driver=driver,
        reader=Reader(driver, reader_contract.address),
        token=addr(s.token), controller=addr(s.controller), registry=addr(s.registry), timelock=addr(s.timelock),
        tok=Abi(project.KGSTToken.contract_type), ctl=Abi(project.KGSTIssuanceController.contract_type),
        reg=Abi(project.KGSTReserveRegistry.contract_type), tl=Abi(project.KGSTTimelock.contract_type),
        actors=actors, config=config,
    )
    # The hand-rolled encoder must agree with Ape's (the same ABI, the same bytes).
    assert system.tok.enc("transfer", ZERO, 5) == bytes(s.token.transfer.encode_input(ZERO, 5))
    assert system.ctl.enc("requestMint", ZERO, 5, ZERO32) == bytes(s.controller.requestMint.encode_input(ZERO, 5, ZERO32))

    driver.rpc("anvil_setBlockTimestampInterval", [1])
    try:
        driver.load_nonces(actors.values())
        system.base_time = int(driver.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        system.base_nonces = dict(driver.nonces)
        yield system
    finally:
        driver.rpc("anvil_removeBlockTimestampInterval", [])


@pytest.fixture(scope="module", autouse=True)
def _deployed_before_first_snapshot(suite):
    """Set the session fixture up before any test of this package takes its snapshot (Ape never rebases it)."""
    return suite


def examples_and_steps() -> tuple[int, int]:
    return int(os.environ.get("KGST_INVARIANT_EXAMPLES", "100")), int(os.environ.get("KGST_INVARIANT_STEPS", "30"))


def pytest_terminal_summary(terminalreporter):
    if not RUN_INFO:
        return
    terminalreporter.section("KGST system invariants: what the state machine ran")
    for key, value in RUN_INFO.items():
        terminalreporter.write_line(f"{key:<40} {value}")
    for key, value in sorted(RUN_STATS.items()):
        terminalreporter.write_line(f"{key:<40} {value:,}")
    if OUTCOMES:
        terminalreporter.section("KGST system invariants: outcomes per rule (call: result)")
        for label, count in sorted(OUTCOMES.items()):
            terminalreporter.write_line(f"{label:<72} {count:>7,}")
