"""Access control of the token: who may call each privileged function, separation of roles, initialisation
and the two-step admin hand-over (audit-finding classes A3 #4 and #6 in anchors.md).

Roles: DEFAULT_ADMIN_ROLE (governance; administers every other role and names the minter), PAUSER_ROLE,
ASSET_PROTECTION_ROLE (freeze/unfreeze/wipe), RESCUER_ROLE, UPGRADER_ROLE, and a single `minter` address
(the issuance controller) that alone mints and burns.
"""

from dataclasses import dataclass
from typing import Callable

import pytest
from ape.exceptions import ContractLogicError
from eth_utils import keccak

from tests.token.helpers import (
    ADMIN_TRANSFER_DELAY,
    UNIT,
    ZERO_ADDRESS,
    ZERO_BYTES32,
    Ev,
    Transfer,
    addr,
    assert_events,
    call_error,
    decode_error_data,
    init_params,
    reverts,
)

CASE = keccak(text="KGST/case/v1:roles-test")
ROLE_NAMES = ("PAUSER_ROLE", "ASSET_PROTECTION_ROLE", "RESCUER_ROLE", "UPGRADER_ROLE")
HOLDER_OF = {  # role -> the fixture account that holds it
    "DEFAULT_ADMIN_ROLE": "admin",
    "PAUSER_ROLE": "pauser",
    "ASSET_PROTECTION_ROLE": "asset_protector",
    "RESCUER_ROLE": "rescuer",
    "UPGRADER_ROLE": "upgrader",
}


@dataclass(frozen=True)
class Privileged:
    required: str  # a role name, or "minter" for the single minter address
    call: Callable  # call(ctx, sender) -> receipt
    prepare: Callable = lambda c: None  # state the holder's call needs (e.g. paused before unpause)
    events: Callable = None  # events(ctx) -> the holder's call's exact events


class Recorder:
    """Stands in for the token to learn which method and arguments a `call` lambda uses."""

    def __init__(self):
        self.method, self.args = None, None

    def __getattr__(self, method):
        def record(*args, sender):
            self.method, self.args = method, args

        return record


class Ctx:
    def __init__(self, token, people, roles, foreign, v2, chain):
        self.token, self.people, self.roles, self.foreign, self.v2, self.chain = (
            token, dict(people), roles, foreign, v2, chain
        )

    def __getattr__(self, label):
        return self.people[label]


def _force_bnb(c):
    c.chain.set_balance(c.token.address, 2 * UNIT)  # no payable entry point: force it as a selfdestruct would


PRIVILEGED = {
    "mint": Privileged(
        "minter",
        lambda c, s: c.token.mint(c.carol, UNIT, sender=s),
        events=lambda c: [Transfer(ZERO_ADDRESS, c.carol, UNIT)],
    ),
    "burn": Privileged(
        "minter",
        lambda c, s: c.token.burn(s, UNIT, sender=s),
        events=lambda c: [Transfer(c.minter, ZERO_ADDRESS, UNIT)],
    ),
    "pause": Privileged(
        "PAUSER_ROLE", lambda c, s: c.token.pause(sender=s), events=lambda c: [Ev("Paused", account=c.pauser)]
    ),
    "unpause": Privileged(
        "PAUSER_ROLE",
        lambda c, s: c.token.unpause(sender=s),
        prepare=lambda c: c.token.pause(sender=c.pauser),
        events=lambda c: [Ev("Unpaused", account=c.pauser)],
    ),
    "freeze": Privileged(
        "ASSET_PROTECTION_ROLE",
        lambda c, s: c.token.freeze(c.carol, CASE, sender=s),
        events=lambda c: [Ev("Frozen", account=c.carol, caseRef=CASE, by=c.asset_protector)],
    ),
    "freezeBatch": Privileged(
        "ASSET_PROTECTION_ROLE",
        lambda c, s: c.token.freezeBatch([c.carol, c.outsider], CASE, sender=s),
        events=lambda c: [
            Ev("Frozen", account=c.carol, caseRef=CASE, by=c.asset_protector),
            Ev("Frozen", account=c.outsider, caseRef=CASE, by=c.asset_protector),
        ],
    ),
    "unfreeze": Privileged(
        "ASSET_PROTECTION_ROLE",
        lambda c, s: c.token.unfreeze(c.carol, CASE, sender=s),
        prepare=lambda c: c.token.freeze(c.carol, CASE, sender=c.asset_protector),
        events=lambda c: [Ev("Unfrozen", account=c.carol, caseRef=CASE, by=c.asset_protector)],
    ),
    "unfreezeBatch": Privileged(
        "ASSET_PROTECTION_ROLE",
        lambda c, s: c.token.unfreezeBatch([c.carol, c.outsider], CASE, sender=s),
        prepare=lambda c: c.token.freezeBatch([c.carol, c.outsider], CASE, sender=c.asset_protector),
        events=lambda c: [
            Ev("Unfrozen", account=c.carol, caseRef=CASE, by=c.asset_protector),
            Ev("Unfrozen", account=c.outsider, caseRef=CASE, by=c.asset_protector),
        ],
    ),
    "wipeFrozen": Privileged(
        "ASSET_PROTECTION_ROLE",
        lambda c, s: c.token.wipeFrozen(c.carol, CASE, sender=s),
        prepare=lambda c: c.token.freeze(c.carol, CASE, sender=c.asset_protector),
        events=lambda c: [
            Transfer(c.carol, ZERO_ADDRESS, c.carol_balance),
            Ev("Wiped", account=c.carol, amount=c.carol_balance, caseRef=CASE, by=c.asset_protector),
        ],
    ),
    "rescueERC20": Privileged(
        "RESCUER_ROLE",
        lambda c, s: c.token.rescueERC20(c.foreign, c.bob, UNIT, sender=s),
        prepare=lambda c: c.foreign.mint(c.token, UNIT, sender=c.alice),
        events=lambda c: [
            Ev("Transfer", emitter=c.foreign, **{"from": c.token, "to": c.bob, "value": UNIT}),
            Ev("Rescued", asset=c.foreign, to=c.bob, amount=UNIT, by=c.rescuer),
        ],
    ),
    "rescueNative": Privileged(
        "RESCUER_ROLE",
        lambda c, s: c.token.rescueNative(c.bob, UNIT, sender=s),
        prepare=_force_bnb,
        events=lambda c: [Ev("Rescued", asset=ZERO_ADDRESS, to=c.bob, amount=UNIT, by=c.rescuer)],
    ),
    "upgradeToAndCall": Privileged(
        "UPGRADER_ROLE",
        lambda c, s: c.token.upgradeToAndCall(c.v2, b"", sender=s),
        events=lambda c: [Ev("Upgraded", implementation=c.v2)],
    ),
    "grantRole": Privileged(
        "DEFAULT_ADMIN_ROLE",
        lambda c, s: c.token.grantRole(c.roles["PAUSER_ROLE"], c.carol, sender=s),
        events=lambda c: [Ev("RoleGranted", role=c.roles["PAUSER_ROLE"], account=c.carol, sender=c.admin)],
    ),
    "revokeRole": Privileged(
        "DEFAULT_ADMIN_ROLE",
        lambda c, s: c.token.revokeRole(c.roles["PAUSER_ROLE"], c.pauser, sender=s),
        events=lambda c: [Ev("RoleRevoked", role=c.roles["PAUSER_ROLE"], account=c.pauser, sender=c.admin)],
    ),
    "setMinter": Privileged(
        "DEFAULT_ADMIN_ROLE",
        lambda c, s: c.token.setMinter(c.carol, sender=s),
        events=lambda c: [Ev("MinterChanged", oldMinter=c.minter, newMinter=c.carol)],
    ),
    "beginDefaultAdminTransfer": Privileged(
        "DEFAULT_ADMIN_ROLE",
        lambda c, s: c.token.beginDefaultAdminTransfer(c.carol, sender=s),
        events=lambda c: [
            Ev("DefaultAdminTransferScheduled", newAdmin=c.carol, acceptSchedule=c.last_timestamp + ADMIN_TRANSFER_DELAY)
        ],
    ),
    "changeDefaultAdminDelay": Privileged(
        "DEFAULT_ADMIN_ROLE",
        lambda c, s: c.token.changeDefaultAdminDelay(ADMIN_TRANSFER_DELAY + 3600, sender=s),
        # increasing: the change waits min(newDelay, defaultAdminDelayIncreaseWait()) = newDelay here
        events=lambda c: [
            Ev(
                "DefaultAdminDelayChangeScheduled",
                newDelay=ADMIN_TRANSFER_DELAY + 3600,
                effectSchedule=c.last_timestamp + ADMIN_TRANSFER_DELAY + 3600,
            )
        ],
    ),
    "cancelDefaultAdminTransfer": Privileged(
        "DEFAULT_ADMIN_ROLE",
        lambda c, s: c.token.cancelDefaultAdminTransfer(sender=s),
        prepare=lambda c: c.token.beginDefaultAdminTransfer(c.carol, sender=c.admin),
        events=lambda c: [Ev("DefaultAdminTransferCanceled")],
    ),
    "rollbackDefaultAdminDelay": Privileged(
        "DEFAULT_ADMIN_ROLE",
        lambda c, s: c.token.rollbackDefaultAdminDelay(sender=s),
        prepare=lambda c: c.token.changeDefaultAdminDelay(ADMIN_TRANSFER_DELAY + 3600, sender=c.admin),
        events=lambda c: [Ev("DefaultAdminDelayChangeCanceled")],
    ),
}


@pytest.fixture
def ctx(token, everyone, roles, foreign_token, v2_implementation, chain):
    return Ctx(token, everyone, roles, foreign_token, v2_implementation, chain)


def holder_label(required: str) -> str:
    return "minter" if required == "minter" else HOLDER_OF[required]


@pytest.mark.parametrize("function", list(PRIVILEGED))
def test_privileged_function_reverts_for_every_account_without_the_role(ctx, function):
    spec = PRIVILEGED[function]
    holder = holder_label(spec.required)
    others = [label for label in ctx.people if label != holder]
    assert len(others) == len(ctx.people) - 1 >= 11

    def expected(caller):
        if spec.required == "minter":
            return "CallerNotMinter", {"caller": addr(caller)}
        return "AccessControlUnauthorizedAccount", {"account": addr(caller), "neededRole": ctx.roles[spec.required]}

    # one real transaction (receipt, decoding through Ape) ...
    first = ctx.people[others[0]]
    name, inputs = expected(first)
    with reverts(name, **inputs):
        spec.call(ctx, first)
    # ... and every other account through eth_call (same decision, no signing or mining: 200+ checks stay fast)
    recorder = Recorder()
    spec.call(Ctx(recorder, ctx.people, ctx.roles, ctx.foreign, ctx.v2, ctx.chain), first)
    assert recorder.method == function
    for label in others:
        caller = ctx.people[label]
        assert call_error(ctx.token, recorder.method, *recorder.args, sender=caller) == expected(caller), label


@pytest.mark.parametrize("function", list(PRIVILEGED))
def test_privileged_function_works_for_the_holder_with_its_events(ctx, chain, function):
    spec = PRIVILEGED[function]
    spec.prepare(ctx)
    ctx.carol_balance = ctx.token.balanceOf(ctx.carol)
    ctx.last_timestamp = chain.pending_timestamp
    chain.pending_timestamp = ctx.last_timestamp  # pin the next block's time for schedule arithmetic
    receipt = spec.call(ctx, ctx.people[holder_label(spec.required)])
    assert receipt.timestamp == ctx.last_timestamp
    assert_events(receipt, spec.events(ctx), ctx.token)


def test_every_privileged_function_of_the_abi_is_in_the_table(token):
    """A new external function must be classified here (or in PUBLIC_FUNCTIONS) before it ships."""
    public_functions = {
        # ERC-20 / BEP-20 / EIP-2612 / EIP-3009, gated only by balances, allowances and signatures
        "transfer", "transferFrom", "approve", "increaseAllowance", "decreaseAllowance", "permit",
        "transferWithAuthorization", "receiveWithAuthorization", "cancelAuthorization",
        # gated by msg.sender in their own way
        "renounceRole", "acceptDefaultAdminTransfer", "initialize",
    }
    mutating = {
        abi.name for abi in token.contract_type.mutable_methods
    }
    assert mutating == set(PRIVILEGED) | public_functions


# --- roles are separate -------------------------------------------------------------------------------------


def test_each_role_is_held_by_exactly_its_own_account_and_administered_by_the_admin(token, everyone, roles):
    for role_name, role in roles.items():
        holders = {label for label, account in everyone.items() if token.hasRole(role, account)}
        assert holders == {HOLDER_OF[role_name]}, role_name
        assert token.getRoleAdmin(role) == roles["DEFAULT_ADMIN_ROLE"]
    assert token.minter() == everyone["minter"].address
    assert not any(token.hasRole(role, everyone["minter"]) for role in roles.values())


def test_role_ids_are_keccak_of_their_names(roles):
    assert roles["DEFAULT_ADMIN_ROLE"] == ZERO_BYTES32
    for name in ROLE_NAMES:
        assert roles[name] == keccak(text=name)


def test_admin_cannot_grant_or_revoke_default_admin_directly(token, admin, carol, roles):
    with reverts("AccessControlEnforcedDefaultAdminRules"):
        token.grantRole(roles["DEFAULT_ADMIN_ROLE"], carol, sender=admin)
    with reverts("AccessControlEnforcedDefaultAdminRules"):
        token.revokeRole(roles["DEFAULT_ADMIN_ROLE"], admin, sender=admin)
    assert token.defaultAdmin() == admin.address


def test_a_holder_can_renounce_its_own_role_but_not_someone_elses(token, pauser, asset_protector, roles):
    with reverts("AccessControlBadConfirmation"):
        token.renounceRole(roles["ASSET_PROTECTION_ROLE"], asset_protector, sender=pauser)
    receipt = token.renounceRole(roles["PAUSER_ROLE"], pauser, sender=pauser)
    assert_events(receipt, [Ev("RoleRevoked", role=roles["PAUSER_ROLE"], account=pauser, sender=pauser)], token)
    assert not token.hasRole(roles["PAUSER_ROLE"], pauser)
    with reverts("AccessControlUnauthorizedAccount", account=pauser, neededRole=roles["PAUSER_ROLE"]):
        token.pause(sender=pauser)


def test_granted_role_takes_effect_and_revoked_role_stops_working(token, admin, carol, roles):
    token.grantRole(roles["PAUSER_ROLE"], carol, sender=admin)
    assert_events(token.pause(sender=carol), [Ev("Paused", account=carol)], token)
    token.revokeRole(roles["PAUSER_ROLE"], carol, sender=admin)
    with reverts("AccessControlUnauthorizedAccount", account=carol, neededRole=roles["PAUSER_ROLE"]):
        token.unpause(sender=carol)


def test_set_minter_moves_minting_to_the_new_minter_only(token, admin, minter, carol, bob):
    token.setMinter(carol, sender=admin)
    assert token.minter() == carol.address
    with reverts("CallerNotMinter", caller=minter):
        token.mint(bob, UNIT, sender=minter)
    assert_events(token.mint(bob, UNIT, sender=carol), [Transfer(ZERO_ADDRESS, bob, UNIT)], token)


def test_set_minter_rejects_the_zero_address(token, admin, minter):
    with reverts("ZeroAddress"):
        token.setMinter(ZERO_ADDRESS, sender=admin)
    assert token.minter() == minter.address


def test_pause_twice_and_unpause_when_not_paused_are_refused(token, pauser):
    with reverts("PauseStateUnchanged", paused=False):
        token.unpause(sender=pauser)
    token.pause(sender=pauser)
    with reverts("PauseStateUnchanged", paused=True):
        token.pause(sender=pauser)
    assert token.paused()


# --- initialisation -------------------------------------------------------------------------------------------


def test_deploy_transaction_initialises_roles_minter_and_events(token_deployment, implementation, role_holders, roles):
    token, receipt = token_deployment
    expected = [Ev("Upgraded", implementation=implementation)]
    expected.append(Ev("RoleGranted", role=roles["DEFAULT_ADMIN_ROLE"], account=role_holders["admin"],
                       sender=role_holders["admin"]))
    for role_name in ROLE_NAMES:
        expected.append(Ev("RoleGranted", role=roles[role_name], account=role_holders[HOLDER_OF[role_name]],
                           sender=role_holders["admin"]))  # sender: the deployer, msg.sender of the proxy constructor
    expected.append(Ev("MinterChanged", oldMinter=ZERO_ADDRESS, newMinter=role_holders["minter"]))
    expected.append(Ev("Initialized", version=1))
    assert_events(receipt, expected, token)
    assert token.defaultAdminDelay() == ADMIN_TRANSFER_DELAY
    assert token.paused() is False


def test_initialize_cannot_be_called_again_on_the_proxy(token, admin, role_holders):
    with reverts("InvalidInitialization"):
        token.initialize(init_params(role_holders), sender=admin)
    with reverts("InvalidInitialization"):  # not even to hand every role to an attacker
        token.initialize(init_params({label: role_holders["minter"] for label in role_holders}),
                         sender=role_holders["minter"])


def test_initialize_cannot_be_called_on_the_implementation(implementation, outsider, role_holders):
    params = init_params({label: outsider for label in role_holders})
    with reverts("InvalidInitialization"):
        implementation.initialize(params, sender=outsider)
    assert implementation.defaultAdmin() == ZERO_ADDRESS
    assert implementation.minter() == ZERO_ADDRESS


@pytest.mark.parametrize("field", ["pauser", "asset_protector", "rescuer", "upgrader", "minter"])
def test_initialize_rejects_a_zero_address_role_holder(deploy_token, implementation, field):
    with pytest.raises(ContractLogicError) as info:
        deploy_token(roles={field: ZERO_ADDRESS})
    assert decode_error_data(implementation, info.value.revert_message) == ("ZeroAddress", {})


def test_initialize_rejects_a_zero_address_admin(deploy_token, implementation):
    with pytest.raises(ContractLogicError) as info:
        deploy_token(roles={"admin": ZERO_ADDRESS})
    assert decode_error_data(implementation, info.value.revert_message) == (
        "AccessControlInvalidDefaultAdmin",
        {"defaultAdmin": ZERO_ADDRESS},
    )


# --- two-step admin hand-over with a delay --------------------------------------------------------------------


def test_admin_hand_over_is_two_step_and_waits_the_delay(token, chain, admin, carol, outsider, roles):
    start = chain.pending_timestamp
    chain.pending_timestamp = start
    token.beginDefaultAdminTransfer(carol, sender=admin)
    schedule = start + ADMIN_TRANSFER_DELAY
    assert token.pendingDefaultAdmin() == (carol.address, schedule)
    assert token.defaultAdmin() == admin.address  # nothing changes until accepted

    with reverts("AccessControlInvalidDefaultAdmin", defaultAdmin=outsider):  # only the named new admin accepts
        token.acceptDefaultAdminTransfer(sender=outsider)
    chain.pending_timestamp = schedule  # the schedule must have *passed* (schedule < block.timestamp)
    with reverts("AccessControlEnforcedDefaultAdminDelay", schedule=schedule):
        token.acceptDefaultAdminTransfer(sender=carol)
    assert token.defaultAdmin() == admin.address

    chain.pending_timestamp = schedule + 1
    receipt = token.acceptDefaultAdminTransfer(sender=carol)
    admin_role = roles["DEFAULT_ADMIN_ROLE"]
    assert_events(
        receipt,
        [
            Ev("RoleRevoked", role=admin_role, account=admin, sender=carol),
            Ev("RoleGranted", role=admin_role, account=carol, sender=carol),
        ],
        token,
    )
    assert token.defaultAdmin() == carol.address
    assert token.getOwner() == carol.address
    assert token.pendingDefaultAdmin() == (ZERO_ADDRESS, 0)
    assert not token.hasRole(admin_role, admin)
    with reverts("AccessControlUnauthorizedAccount", account=admin, neededRole=admin_role):
        token.setMinter(admin, sender=admin)


def test_admin_hand_over_accept_one_second_early_fails(token, chain, admin, carol):
    chain.pending_timestamp = chain.pending_timestamp
    receipt = token.beginDefaultAdminTransfer(carol, sender=admin)
    schedule = receipt.timestamp + ADMIN_TRANSFER_DELAY
    chain.pending_timestamp = schedule - 1
    with reverts("AccessControlEnforcedDefaultAdminDelay", schedule=schedule):
        token.acceptDefaultAdminTransfer(sender=carol)
    assert token.defaultAdmin() == admin.address


def test_canceled_admin_hand_over_cannot_be_accepted(token, chain, admin, carol):
    receipt = token.beginDefaultAdminTransfer(carol, sender=admin)
    token.cancelDefaultAdminTransfer(sender=admin)
    chain.pending_timestamp = receipt.timestamp + ADMIN_TRANSFER_DELAY + 1
    with reverts("AccessControlInvalidDefaultAdmin", defaultAdmin=carol):
        token.acceptDefaultAdminTransfer(sender=carol)
    assert token.defaultAdmin() == admin.address
