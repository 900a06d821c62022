"""The compliance matrix: every entry point of the token in every pause/freeze state, against the design.

Audit-finding classes A3 #1-#3 (anchors.md): a frozen account moving value through a secondary path, and
freeze/pause rules that differ between related functions. The rules, from the token's documentation and the
architecture:

  * pause stops transfers, approvals (approve, increase/decreaseAllowance, permit), EIP-3009 (transfer,
    receive AND cancel), mint, burn and wipe; it does not stop freeze, unfreeze, rescue or role admin;
  * freeze stops any movement in which a frozen account is the source (owner), the destination (recipient),
    the spender (caller of transferFrom / burn-from) or the relayer (caller of transferWithAuthorization);
  * approvals do not check freeze (a documented choice, as USDC v2.2: an allowance moves nothing by itself);
  * a frozen authorizer may still cancel an EIP-3009 authorization (cancelling only reduces risk);
  * wipe and unfreeze apply to frozen accounts only; freeze of a frozen account is refused.

Each entry point below is one fixed call. Its `parties` say which account plays owner / recipient / spender /
relayer in that call; a state "frozen <party>" freezes the account playing that party (or, when the call has
no such party, the account that plays it elsewhere, which must then make no difference). Every cell of
DESIGNED is run: an allowed cell must make exactly the expected state changes and events, a refused cell must
revert with exactly the listed error and change nothing (balances, allowances, supply counters, nonces,
authorization states, frozen flags, pause, roles, minter, foreign-token balances).
"""

import re
from dataclasses import dataclass
from typing import Callable

import pytest
from eth_utils import keccak

from tests.token.helpers import UNIT, ZERO_ADDRESS, Approval, Ev, Transfer, addr, assert_events, reverts, state_diff
from tests.token.signing import (
    sign_cancel_authorization,
    sign_permit,
    sign_receive_authorization,
    sign_transfer_authorization,
)

AMOUNT = 10 * UNIT
BASE_ALLOWANCE = 100 * UNIT  # alice -> spender and alice -> minter, set before every cell
FOREIGN_HELD = 50 * UNIT  # foreign tokens stuck in the KGST contract, for rescueERC20
CASE = keccak(text="KGST/case/v1:matrix-court-order-1")
NONCE_TRANSFER = keccak(text="matrix transferWithAuthorization")
NONCE_RECEIVE = keccak(text="matrix receiveWithAuthorization")
NONCE_CANCEL = keccak(text="matrix cancelAuthorization")


@dataclass(frozen=True)
class Reverts:
    error: str
    party: str | None = None  # the error's `account` argument: the account playing this party

    def __str__(self):
        return f"{self.error}({self.party or ''})"


OK = "allowed"
PAUSED = Reverts("EnforcedPause")
NOT_FROZEN = Reverts("AccountNotFrozen", "owner")


def FROZEN(party: str) -> Reverts:  # noqa: N802 - reads as a table constant
    return Reverts("AccountFrozen", party)


STATES = (
    "normal",
    "paused",
    "frozen owner",
    "frozen recipient",
    "frozen spender",
    "frozen relayer",
    "paused + frozen owner",
)

# fmt: off
DESIGNED = {
    # entry point                  normal      paused      frozen owner     frozen recipient     frozen spender      frozen relayer      paused + frozen owner
    "transfer":                  (OK,         PAUSED,     FROZEN("owner"), FROZEN("recipient"), OK,                 OK,                 PAUSED),
    "transferFrom":              (OK,         PAUSED,     FROZEN("owner"), FROZEN("recipient"), FROZEN("spender"),  OK,                 PAUSED),
    "approve":                   (OK,         PAUSED,     OK,              OK,                  OK,                 OK,                 PAUSED),
    "increaseAllowance":         (OK,         PAUSED,     OK,              OK,                  OK,                 OK,                 PAUSED),
    "decreaseAllowance":         (OK,         PAUSED,     OK,              OK,                  OK,                 OK,                 PAUSED),
    "permit":                    (OK,         PAUSED,     OK,              OK,                  OK,                 OK,                 PAUSED),
    "transferWithAuthorization": (OK,         PAUSED,     FROZEN("owner"), FROZEN("recipient"), OK,                 FROZEN("relayer"),  PAUSED),
    "receiveWithAuthorization":  (OK,         PAUSED,     FROZEN("owner"), FROZEN("recipient"), OK,                 OK,                 PAUSED),
    "cancelAuthorization":       (OK,         PAUSED,     OK,              OK,                  OK,                 OK,                 PAUSED),
    "mint":                      (OK,         PAUSED,     OK,              FROZEN("recipient"), OK,                 OK,                 PAUSED),
    "burn (own balance)":        (OK,         PAUSED,     FROZEN("owner"), OK,                  OK,                 OK,                 PAUSED),
    "burn (from holder)":        (OK,         PAUSED,     FROZEN("owner"), OK,                  FROZEN("spender"),  OK,                 PAUSED),
    "wipeFrozen":                (NOT_FROZEN, PAUSED,     OK,              NOT_FROZEN,          NOT_FROZEN,         NOT_FROZEN,         PAUSED),
    "freeze":                    (OK,         OK,         FROZEN("owner"), OK,                  OK,                 OK,                 FROZEN("owner")),
    "unfreeze":                  (NOT_FROZEN, NOT_FROZEN, OK,              NOT_FROZEN,          NOT_FROZEN,         NOT_FROZEN,         OK),
    "rescueERC20":               (OK,         OK,         OK,              OK,                  OK,                 OK,                 OK),
    "grantRole (role admin)":    (OK,         OK,         OK,              OK,                  OK,                 OK,                 OK),
    "setMinter (role admin)":    (OK,         OK,         OK,              OK,                  OK,                 OK,                 OK),
}
# fmt: on

# Cells where the contract does not do what DESIGNED says: run as strict xfail so a fix is noticed.
KNOWN_BUGS: dict = {}

DEFAULT_PARTIES = {"owner": "alice", "recipient": "bob", "spender": "spender", "relayer": "relayer"}


@dataclass(frozen=True)
class EntryPoint:
    """One fixed call; `effects(ctx, before)` gives the designed state changes and events when allowed."""

    call: Callable
    effects: Callable
    parties: dict


class Ctx:
    """Everything a call needs: the token, accounts by label, keys, domain and the foreign token."""

    def __init__(self, token, people, domain, foreign, chain, role_ids):
        self.token, self.people, self.domain, self.foreign, self.chain = token, dict(people), domain, foreign, chain
        self.roles = role_ids
        self.valid_before = chain.pending_timestamp + 24 * 3600

    def __getattr__(self, label):
        return self.people[label]


def _transfer(c):
    return c.token.transfer(c.bob, AMOUNT, sender=c.alice)


def _transfer_effects(c, before):
    return {"balance[alice]": -AMOUNT, "balance[bob]": AMOUNT}, [Transfer(c.alice, c.bob, AMOUNT)]


def _transfer_from(c):
    return c.token.transferFrom(c.alice, c.bob, AMOUNT, sender=c.spender)


def _transfer_from_effects(c, before):
    diff = {"balance[alice]": -AMOUNT, "balance[bob]": AMOUNT, "allowance[alice->spender]": -AMOUNT}
    return diff, [Transfer(c.alice, c.bob, AMOUNT)]


def _approve(c):
    return c.token.approve(c.spender, 5 * UNIT, sender=c.alice)


def _approve_effects(c, before):
    return {"allowance[alice->spender]": 5 * UNIT - BASE_ALLOWANCE}, [Approval(c.alice, c.spender, 5 * UNIT)]


def _increase(c):
    return c.token.increaseAllowance(c.spender, 5 * UNIT, sender=c.alice)


def _increase_effects(c, before):
    return {"allowance[alice->spender]": 5 * UNIT}, [Approval(c.alice, c.spender, BASE_ALLOWANCE + 5 * UNIT)]


def _decrease(c):
    return c.token.decreaseAllowance(c.spender, 5 * UNIT, sender=c.alice)


def _decrease_effects(c, before):
    return {"allowance[alice->spender]": -5 * UNIT}, [Approval(c.alice, c.spender, BASE_ALLOWANCE - 5 * UNIT)]


def _permit(c):
    deadline = c.valid_before
    nonce = c.token.nonces(c.alice)
    sig = sign_permit(c.alice.private_key, c.domain, c.alice, c.spender, 7 * UNIT, nonce, deadline)
    return c.token.permit(c.alice, c.spender, 7 * UNIT, deadline, *sig.vrs, sender=c.relayer)


def _permit_effects(c, before):
    diff = {"allowance[alice->spender]": 7 * UNIT - BASE_ALLOWANCE, "nonce[alice]": 1}
    return diff, [Approval(c.alice, c.spender, 7 * UNIT)]


def _transfer_with_authorization(c):
    sig = sign_transfer_authorization(
        c.alice.private_key, c.domain, c.alice, c.bob, AMOUNT, 0, c.valid_before, NONCE_TRANSFER
    )
    return c.token.transferWithAuthorization(
        c.alice, c.bob, AMOUNT, 0, c.valid_before, NONCE_TRANSFER, *sig.vrs, sender=c.relayer
    )


def _transfer_with_authorization_effects(c, before):
    diff = {"balance[alice]": -AMOUNT, "balance[bob]": AMOUNT, "authorization[transfer]": 1}
    events = [Ev("AuthorizationUsed", authorizer=c.alice, nonce=NONCE_TRANSFER), Transfer(c.alice, c.bob, AMOUNT)]
    return diff, events


def _receive_with_authorization(c):
    sig = sign_receive_authorization(
        c.alice.private_key, c.domain, c.alice, c.bob, AMOUNT, 0, c.valid_before, NONCE_RECEIVE
    )
    return c.token.receiveWithAuthorization(
        c.alice, c.bob, AMOUNT, 0, c.valid_before, NONCE_RECEIVE, *sig.vrs, sender=c.bob
    )


def _receive_with_authorization_effects(c, before):
    diff = {"balance[alice]": -AMOUNT, "balance[bob]": AMOUNT, "authorization[receive]": 1}
    events = [Ev("AuthorizationUsed", authorizer=c.alice, nonce=NONCE_RECEIVE), Transfer(c.alice, c.bob, AMOUNT)]
    return diff, events


def _cancel_authorization(c):
    sig = sign_cancel_authorization(c.alice.private_key, c.domain, c.alice, NONCE_CANCEL)
    return c.token.cancelAuthorization(c.alice, NONCE_CANCEL, *sig.vrs, sender=c.relayer)


def _cancel_authorization_effects(c, before):
    return {"authorization[cancel]": 1}, [Ev("AuthorizationCanceled", authorizer=c.alice, nonce=NONCE_CANCEL)]


def _mint(c):
    return c.token.mint(c.bob, AMOUNT, sender=c.minter)


def _mint_effects(c, before):
    diff = {"balance[bob]": AMOUNT, "totalSupply": AMOUNT, "totalMinted": AMOUNT}
    return diff, [Transfer(ZERO_ADDRESS, c.bob, AMOUNT)]


def _burn_own(c):
    return c.token.burn(c.minter, AMOUNT, sender=c.minter)


def _burn_own_effects(c, before):
    diff = {"balance[minter]": -AMOUNT, "totalSupply": -AMOUNT, "totalBurned": AMOUNT}
    return diff, [Transfer(c.minter, ZERO_ADDRESS, AMOUNT)]


def _burn_from(c):
    return c.token.burn(c.alice, AMOUNT, sender=c.minter)


def _burn_from_effects(c, before):
    diff = {
        "balance[alice]": -AMOUNT,
        "allowance[alice->minter]": -AMOUNT,
        "totalSupply": -AMOUNT,
        "totalBurned": AMOUNT,
    }
    return diff, [Transfer(c.alice, ZERO_ADDRESS, AMOUNT)]


def _wipe(c):
    return c.token.wipeFrozen(c.alice, CASE, sender=c.asset_protector)


def _wipe_effects(c, before):
    amount = before["balance[alice]"]
    diff = {"balance[alice]": -amount, "totalSupply": -amount, "totalWiped": amount}
    events = [
        Transfer(c.alice, ZERO_ADDRESS, amount),
        Ev("Wiped", account=c.alice, amount=amount, caseRef=CASE, by=c.asset_protector),
    ]
    return diff, events


def _freeze(c):
    return c.token.freeze(c.alice, CASE, sender=c.asset_protector)


def _freeze_effects(c, before):
    return {"frozen[alice]": 1}, [Ev("Frozen", account=c.alice, caseRef=CASE, by=c.asset_protector)]


def _unfreeze(c):
    return c.token.unfreeze(c.alice, CASE, sender=c.asset_protector)


def _unfreeze_effects(c, before):
    return {"frozen[alice]": -1}, [Ev("Unfrozen", account=c.alice, caseRef=CASE, by=c.asset_protector)]


def _rescue(c):
    return c.token.rescueERC20(c.foreign, c.bob, AMOUNT, sender=c.rescuer)


def _rescue_effects(c, before):
    diff = {"foreign[token]": -AMOUNT, "foreign[bob]": AMOUNT}
    events = [
        Ev("Transfer", emitter=c.foreign, **{"from": c.token, "to": c.bob, "value": AMOUNT}),
        Ev("Rescued", asset=c.foreign, to=c.bob, amount=AMOUNT, by=c.rescuer),
    ]
    return diff, events


def _grant_role(c):
    return c.token.grantRole(c.roles["PAUSER_ROLE"], c.carol, sender=c.admin)


def _grant_role_effects(c, before):
    return {"role[pauser:carol]": 1}, [
        Ev("RoleGranted", role=c.roles["PAUSER_ROLE"], account=c.carol, sender=c.admin)
    ]


def _set_minter(c):
    return c.token.setMinter(c.carol, sender=c.admin)


def _set_minter_effects(c, before):
    diff = {"minter": int(addr(c.carol), 16) - int(addr(c.minter), 16)}
    return diff, [Ev("MinterChanged", oldMinter=c.minter, newMinter=c.carol)]


ENTRY_POINTS = {
    "transfer": EntryPoint(_transfer, _transfer_effects, {"owner": "alice", "recipient": "bob"}),
    "transferFrom": EntryPoint(
        _transfer_from, _transfer_from_effects, {"owner": "alice", "recipient": "bob", "spender": "spender"}
    ),
    "approve": EntryPoint(_approve, _approve_effects, {"owner": "alice", "spender": "spender"}),
    "increaseAllowance": EntryPoint(_increase, _increase_effects, {"owner": "alice", "spender": "spender"}),
    "decreaseAllowance": EntryPoint(_decrease, _decrease_effects, {"owner": "alice", "spender": "spender"}),
    "permit": EntryPoint(_permit, _permit_effects, {"owner": "alice", "spender": "spender", "relayer": "relayer"}),
    "transferWithAuthorization": EntryPoint(
        _transfer_with_authorization,
        _transfer_with_authorization_effects,
        {"owner": "alice", "recipient": "bob", "relayer": "relayer"},
    ),
    "receiveWithAuthorization": EntryPoint(  # the payee (bob) submits it himself
        _receive_with_authorization, _receive_with_authorization_effects, {"owner": "alice", "recipient": "bob"}
    ),
    "cancelAuthorization": EntryPoint(
        _cancel_authorization, _cancel_authorization_effects, {"owner": "alice", "relayer": "relayer"}
    ),
    "mint": EntryPoint(_mint, _mint_effects, {"recipient": "bob"}),
    "burn (own balance)": EntryPoint(_burn_own, _burn_own_effects, {"owner": "minter"}),
    "burn (from holder)": EntryPoint(_burn_from, _burn_from_effects, {"owner": "alice", "spender": "minter"}),
    "wipeFrozen": EntryPoint(_wipe, _wipe_effects, {"owner": "alice"}),
    "freeze": EntryPoint(_freeze, _freeze_effects, {"owner": "alice"}),
    "unfreeze": EntryPoint(_unfreeze, _unfreeze_effects, {"owner": "alice"}),
    "rescueERC20": EntryPoint(_rescue, _rescue_effects, {"recipient": "bob"}),
    "grantRole (role admin)": EntryPoint(_grant_role, _grant_role_effects, {}),
    "setMinter (role admin)": EntryPoint(_set_minter, _set_minter_effects, {}),
}


def party_label(entry: EntryPoint, party: str) -> str:
    return entry.parties.get(party, DEFAULT_PARTIES[party])


def test_the_table_covers_every_entry_point_in_every_state():
    assert set(DESIGNED) == set(ENTRY_POINTS)
    assert all(len(row) == len(STATES) for row in DESIGNED.values())
    assert all(state in STATES for _, state in KNOWN_BUGS)


def _cells():
    for name, row in DESIGNED.items():
        for state, outcome in zip(STATES, row):
            marks = []
            if (name, state) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(name, state)]))
            cell_id = "-".join(re.sub(r"\W+", "_", part).strip("_") for part in (name, state, str(outcome)))
            yield pytest.param(name, state, outcome, id=cell_id, marks=marks)


@pytest.fixture(scope="module", autouse=True)
def matrix_setup(token, alice, spender, minter, foreign_token):
    """Before every cell: alice has allowed spender and minter 100 KGST; 50 foreign tokens sit in KGST."""
    token.approve(spender, BASE_ALLOWANCE, sender=alice)
    token.approve(minter, BASE_ALLOWANCE, sender=alice)
    foreign_token.mint(token, FOREIGN_HELD, sender=alice)


@pytest.fixture
def ctx(token, everyone, domain, foreign_token, chain, roles):
    return Ctx(token, everyone, domain, foreign_token, chain, roles)


@pytest.fixture
def reader(make_reader, ctx, token, foreign_token, roles):
    people = {label: ctx.people[label] for label in ("alice", "bob", "carol", "spender", "relayer", "minter")}
    return make_reader(
        {**people, "token": token},
        authorizations=[
            ("transfer", ctx.alice, NONCE_TRANSFER),
            ("receive", ctx.alice, NONCE_RECEIVE),
            ("cancel", ctx.alice, NONCE_CANCEL),
        ],
        extra=[
            ("foreign[token]", foreign_token, "balanceOf", (token.address,)),
            ("foreign[bob]", foreign_token, "balanceOf", (ctx.bob.address,)),
            ("role[pauser:carol]", token, "hasRole", (roles["PAUSER_ROLE"], ctx.carol.address)),
            ("minter", token, "minter", ()),
        ],
    )


def enter_state(ctx, entry: EntryPoint, state: str):
    if state.startswith("paused"):
        ctx.token.pause(sender=ctx.pauser)
    if "frozen" in state:
        party = state.rsplit(" ", 1)[-1]
        account = ctx.people[party_label(entry, party)]
        ctx.token.freeze(account, CASE, sender=ctx.asset_protector)


@pytest.mark.parametrize("name, state, outcome", list(_cells()))
def test_compliance_cell(ctx, reader, name, state, outcome):
    entry = ENTRY_POINTS[name]
    enter_state(ctx, entry, state)
    before = reader.read()
    if outcome == OK:
        receipt = entry.call(ctx)
        diff, events = entry.effects(ctx, before)
        assert state_diff(before, reader.read()) == diff
        assert_events(receipt, events, ctx.token)
    else:
        args = {} if outcome.party is None else {"account": ctx.people[party_label(entry, outcome.party)]}
        with reverts(outcome.error, **args):
            entry.call(ctx)
        assert state_diff(before, reader.read()) == {}, "a refused call changed state"
