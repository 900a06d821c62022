"""UUPS upgrades of the token behind KGSTProxy: every piece of state survives an upgrade; only the upgrader
can upgrade; only UUPS implementations for the ERC-1967 slot are accepted; the implementation contract on its
own can be neither initialised nor used (A3 #10).
"""

import ape
import pytest
from ape.exceptions import CustomError
from eth_account import Account
from eth_utils import keccak

from tests.token.helpers import (
    ADMIN_TRANSFER_DELAY,
    UNIT,
    ZERO_ADDRESS,
    Ev,
    addr,
    assert_events,
    call_error,
    init_params,
    reverts,
)
from tests.token.signing import sign_cancel_authorization, sign_permit, sign_transfer_authorization

# bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
IMPLEMENTATION_SLOT = int.from_bytes(keccak(text="eip1967.proxy.implementation"), "big") - 1
CASE = keccak(text="KGST/case/v1:upgrade-test")
USED_NONCE = keccak(text="upgrade-test used")
CANCELED_NONCE = keccak(text="upgrade-test canceled")
ROLE_NAMES = ("DEFAULT_ADMIN_ROLE", "PAUSER_ROLE", "ASSET_PROTECTION_ROLE", "RESCUER_ROLE", "UPGRADER_ROLE")


def implementation_of(chain, proxy) -> str:
    word = chain.provider.get_storage(proxy.address, IMPLEMENTATION_SLOT)
    return addr("0x" + bytes(word)[-20:].hex())


@pytest.fixture
def lived_in_token(token, chain, domain, everyone):
    """The shared token after some history: every kind of state is non-trivial before the upgrade."""
    p = everyone
    deadline = chain.pending_timestamp + 24 * 3600
    token.approve(p["spender"], 33 * UNIT, sender=p["alice"])
    token.approve(p["minter"], 5 * UNIT, sender=p["bob"])
    sig = sign_permit(p["alice"].private_key, domain, p["alice"], p["relayer"], 7 * UNIT, 0, deadline)
    token.permit(p["alice"], p["relayer"], 7 * UNIT, deadline, *sig.vrs, sender=p["relayer"])  # nonce 0 -> 1
    sig = sign_transfer_authorization(
        p["bob"].private_key, domain, p["bob"], p["alice"], 2 * UNIT, 0, deadline, USED_NONCE
    )
    token.transferWithAuthorization(p["bob"], p["alice"], 2 * UNIT, 0, deadline, USED_NONCE, *sig.vrs,
                                    sender=p["relayer"])
    sig = sign_cancel_authorization(p["bob"].private_key, domain, p["bob"], CANCELED_NONCE)
    token.cancelAuthorization(p["bob"], CANCELED_NONCE, *sig.vrs, sender=p["relayer"])
    token.burn(p["minter"], 40 * UNIT, sender=p["minter"])  # totalBurned
    token.mint(p["outsider"], 9 * UNIT, sender=p["minter"])
    token.freeze(p["outsider"], CASE, sender=p["asset_protector"])
    token.wipeFrozen(p["outsider"], CASE, sender=p["asset_protector"])  # totalWiped; outsider stays frozen
    token.freeze(p["carol"], CASE, sender=p["asset_protector"])
    token.grantRole(token.RESCUER_ROLE(), p["spender"], sender=p["admin"])
    token.beginDefaultAdminTransfer(p["bob"], sender=p["admin"])  # a pending hand-over
    token.pause(sender=p["pauser"])  # upgrades are not stopped by pause
    return token


@pytest.fixture
def full_reader(make_reader, token, everyone, roles):
    accounts = {label: everyone[label] for label in ("alice", "bob", "carol", "spender", "relayer", "minter",
                                                     "outsider")}
    extra = [("minter()", token, "minter", ()), ("defaultAdmin", token, "defaultAdmin", ()),
             ("defaultAdminDelay", token, "defaultAdminDelay", ()),
             ("pendingDefaultAdmin", token, "pendingDefaultAdmin", ()),
             ("DOMAIN_SEPARATOR", token, "DOMAIN_SEPARATOR", ())]
    for role_name in ROLE_NAMES:
        for label, account in everyone.items():
            extra.append((f"hasRole[{role_name}:{label}]", token, "hasRole", (roles[role_name], account.address)))
    return make_reader(
        accounts,
        authorizations=[("used", everyone["bob"], USED_NONCE), ("canceled", everyone["bob"], CANCELED_NONCE)],
        extra=extra,
    )


def test_upgrade_keeps_every_piece_of_state_and_emits_upgraded(
    project, chain, lived_in_token, full_reader, v2_implementation, implementation, upgrader
):
    token = lived_in_token
    before = full_reader.read()
    # the history really is non-trivial in every respect the upgrade must keep
    assert before["paused"] == 1 and before["frozen[carol]"] == 1 and before["frozen[outsider]"] == 1
    assert before["nonce[alice]"] == 1 and before["authorization[used]"] == before["authorization[canceled]"] == 1
    assert before["allowance[alice->spender]"] == 33 * UNIT and before["hasRole[RESCUER_ROLE:spender]"] == 1
    assert all(before[k] > 0 for k in ("totalSupply", "totalMinted", "totalBurned", "totalWiped"))
    assert implementation_of(chain, token) == implementation.address

    receipt = token.upgradeToAndCall(v2_implementation, b"", sender=upgrader)

    assert_events(receipt, [Ev("Upgraded", implementation=v2_implementation)], token)
    assert implementation_of(chain, token) == v2_implementation.address
    assert project.KGSTTokenV2Mock.at(token.address).version() == 2
    assert full_reader.read() == before
    assert token.pendingDefaultAdmin()[0] == before["pendingDefaultAdmin"] and token.defaultAdminDelay() == ADMIN_TRANSFER_DELAY


def test_upgraded_token_keeps_enforcing_the_old_rules(
    lived_in_token, v2_implementation, domain, chain, everyone, upgrader
):
    token, p = lived_in_token, everyone
    token.upgradeToAndCall(v2_implementation, b"", sender=upgrader)
    with reverts("EnforcedPause"):
        token.transfer(p["bob"], 1, sender=p["alice"])
    token.unpause(sender=p["pauser"])
    with reverts("AccountFrozen", account=p["carol"]):
        token.transfer(p["bob"], 1, sender=p["carol"])
    deadline = chain.pending_timestamp + 3600
    sig = sign_transfer_authorization(p["bob"].private_key, domain, p["bob"], p["alice"], 2 * UNIT, 0, deadline,
                                      USED_NONCE)
    with reverts("AuthorizationAlreadyUsed", authorizer=p["bob"], nonce=USED_NONCE):
        token.transferWithAuthorization(p["bob"], p["alice"], 2 * UNIT, 0, deadline, USED_NONCE, *sig.vrs,
                                        sender=p["relayer"])
    old_permit = sign_permit(p["alice"].private_key, domain, p["alice"], p["relayer"], 7 * UNIT, 0, deadline)
    with reverts("InvalidSignature", signer=p["alice"]):  # nonce 0 was used before the upgrade
        token.permit(p["alice"], p["relayer"], 7 * UNIT, deadline, *old_permit.vrs, sender=p["relayer"])
    next_permit = sign_permit(p["alice"].private_key, domain, p["alice"], p["relayer"], 1, 1, deadline)
    token.permit(p["alice"], p["relayer"], 1, deadline, *next_permit.vrs, sender=p["relayer"])
    assert token.nonces(p["alice"]) == 2
    token.transferFrom(p["alice"], p["bob"], 3 * UNIT, sender=p["spender"])
    assert token.allowance(p["alice"], p["spender"]) == 30 * UNIT


def test_only_the_upgrader_can_upgrade(token, v2_implementation, everyone, roles, chain, implementation):
    with reverts("AccessControlUnauthorizedAccount", account=everyone["admin"], neededRole=roles["UPGRADER_ROLE"]):
        token.upgradeToAndCall(v2_implementation, b"", sender=everyone["admin"])  # not even the admin
    for label, account in everyone.items():  # every other account, by eth_call (see test_roles)
        if label != "upgrader":
            assert call_error(token, "upgradeToAndCall", v2_implementation.address, b"", sender=account) == (
                "AccessControlUnauthorizedAccount", {"account": account.address, "neededRole": roles["UPGRADER_ROLE"]}
            ), label
    assert implementation_of(chain, token) == implementation.address


def test_upgrade_to_a_contract_that_is_not_uups_is_refused(token, chain, foreign_token, implementation, upgrader):
    with reverts("ERC1967InvalidImplementation", implementation=foreign_token):  # no proxiableUUID()
        token.upgradeToAndCall(foreign_token, b"", sender=upgrader)
    eoa = Account.create().address
    with ape.reverts() as info:  # no code at all: decoding proxiableUUID()'s empty answer reverts without data
        token.upgradeToAndCall(eoa, b"", sender=upgrader)
    assert not isinstance(info.value, CustomError)
    assert implementation_of(chain, token) == implementation.address


def test_upgrade_to_a_uups_contract_for_another_slot_is_refused(project, token, chain, admin, implementation, upgrader):
    wrong = admin.deploy(project.WrongProxiableUUIDMock)
    with reverts("UUPSUnsupportedProxiableUUID", slot=keccak(text="not.the.erc1967.implementation.slot")):
        token.upgradeToAndCall(wrong, b"", sender=upgrader)
    assert implementation_of(chain, token) == implementation.address


def test_upgrade_cannot_be_used_to_initialise_again(token, chain, v2_implementation, implementation, upgrader,
                                                     everyone):
    calldata = v2_implementation.initialize.encode_input(init_params({k: everyone["outsider"] for k in (
        "admin", "pauser", "asset_protector", "rescuer", "upgrader", "minter")}))
    with reverts("InvalidInitialization"):
        token.upgradeToAndCall(v2_implementation, calldata, sender=upgrader)
    assert implementation_of(chain, token) == implementation.address
    assert token.minter() == everyone["minter"].address


def test_upgrade_and_call_runs_the_call_in_the_proxy_context(token, v2_implementation, upgrader, pauser, roles):
    # e.g. a migration step bundled with the upgrade; here a harmless view-like call (version()).
    v2 = v2_implementation
    receipt = token.upgradeToAndCall(v2, v2.version.encode_input(), sender=upgrader)
    assert_events(receipt, [Ev("Upgraded", implementation=v2)], token)


def test_the_implementation_has_initializers_disabled_from_its_constructor(implementation, chain):
    receipt = chain.get_receipt(implementation.txn_hash)
    assert_events(receipt, [Ev("Initialized", version=2**64 - 1)], implementation)


def test_the_implementation_cannot_be_initialised_or_used_on_its_own(
    implementation, v2_implementation, everyone, roles
):
    outsider = everyone["outsider"]
    with reverts("InvalidInitialization"):
        implementation.initialize(init_params({k: outsider for k in (
            "admin", "pauser", "asset_protector", "rescuer", "upgrader", "minter")}), sender=outsider)
    assert implementation.defaultAdmin() == ZERO_ADDRESS and implementation.minter() == ZERO_ADDRESS
    assert not any(implementation.hasRole(role, account) for role in roles.values() for account in everyone.values())
    with reverts("CallerNotMinter", caller=everyone["minter"]):
        implementation.mint(outsider, UNIT, sender=everyone["minter"])
    with reverts("AccessControlUnauthorizedAccount", account=everyone["pauser"], neededRole=roles["PAUSER_ROLE"]):
        implementation.pause(sender=everyone["pauser"])
    with reverts("UUPSUnauthorizedCallContext"):  # upgrades only through a proxy
        implementation.upgradeToAndCall(v2_implementation, b"", sender=everyone["upgrader"])
    assert implementation.totalSupply() == 0


def test_proxiable_uuid_is_answered_by_the_implementation_only(token, implementation):
    assert implementation.proxiableUUID() == IMPLEMENTATION_SLOT.to_bytes(32, "big")
    with reverts("UUPSUnauthorizedCallContext"):  # through the proxy it refuses (no proxy-of-proxy upgrades)
        token.proxiableUUID()
