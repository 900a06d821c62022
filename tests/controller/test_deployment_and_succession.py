"""The controller's constructor checks, role revocations without side effects, a few edge reverts, and the
hand-over to a successor controller (deposit references stay single-use across it)."""

import contextlib

import ape
import pytest
from ape.exceptions import ContractLogicError

from kgst.errors import decode_revert, register_abis

from kgst.deploy import _controller_init, resolve_roles
from tests.controller.helpers import addr, as_admin, assert_events, decoded, fresh_ref, open_request, reverts, role
from tests.suite import DEPLOYER, som

ZERO = "0x0000000000000000000000000000000000000000"
# Positions in KGSTIssuanceController.InitParams (see kgst.deploy._controller_init).
TOKEN, REGISTRY, GUARDIAN, DESK, WINDOW, MAX_AGE, MARGIN, TTL, TIERS, MINTERS, APPROVERS = 0, 1, 5, 6, 7, 8, 9, 10, 13, 14, 15


def init_params(s, **changes) -> tuple:
    roles = resolve_roles(s.params, accounts=ape.accounts, provider=ape.chain.provider)
    params = list(_controller_init(s.params, roles, s.timelock.address, s.token.address, s.registry.address))
    for index, value in changes.values():
        params[index] = value
    return tuple(params)


BAD_CONSTRUCTOR_ARGUMENTS = {
    "zero token": ((TOKEN, ZERO), "ZeroAddress"),
    "zero registry": ((REGISTRY, ZERO), "ZeroAddress"),
    "zero guardian": ((GUARDIAN, ZERO), "ZeroAddress"),
    "zero redemption desk": ((DESK, ZERO), "ZeroAddress"),
    "zero window": ((WINDOW, 0), "InvalidConfig"),
    "zero max attestation age": ((MAX_AGE, 0), "InvalidConfig"),
    "zero request ttl": ((TTL, 0), "InvalidConfig"),
    "request ttl above 30 days": ((TTL, 30 * 86400 + 1), "InvalidConfig"),
    "margin above 100 %": ((MARGIN, 10_001), "InvalidConfig"),
    "tiers out of order": ((TIERS, (som(2), som(1), 1, 2, 3)), "InvalidTiers"),
    "zero approver": ((APPROVERS, [ZERO]), "ZeroAddress"),
    "zero minter": ((MINTERS, [(ZERO, som(1), som(1))]), "ZeroAddress"),
}


@contextlib.contextmanager
def constructor_reverts(project, error: str):
    """A deployment reverts with `error` (Ape reports a constructor's revert as its raw data)."""
    register_abis(project.KGSTIssuanceController)
    with pytest.raises(ContractLogicError) as info:
        yield
    data = bytes.fromhex(str(info.value).strip().removeprefix("0x"))
    assert (decode_revert(data) or ("?",))[0] == error, str(info.value)


@pytest.mark.parametrize("change,error", BAD_CONSTRUCTOR_ARGUMENTS.values(), ids=list(BAD_CONSTRUCTOR_ARGUMENTS))
def test_the_constructor_refuses_unsafe_parameters(s, project, change, error):
    with constructor_reverts(project, error):
        s.accounts[DEPLOYER].deploy(project.KGSTIssuanceController, init_params(s, change=change))


def test_a_batch_count_beyond_uint32_is_refused_and_the_largest_uint32_is_not(s):
    with reverts("InvalidConfig"):
        s.controller.requestBatchMint(fresh_ref("ROOT"), 2**32, som(10), sender=s.minter)
    root = fresh_ref("ROOT")
    s.controller.requestBatchMint(root, 2**32 - 1, som(10), sender=s.minter)
    assert s.controller.getRequest(root).entryCount == 2**32 - 1


def test_a_zero_amount_batch_entry_is_refused_before_any_proof_is_checked(s):
    root = fresh_ref("ROOT")
    s.controller.requestBatchMint(root, 2, som(10), sender=s.minter)
    s.controller.approveBatchMint(root, 2, som(10), sender=s.approvers[0])
    with reverts("ZeroAmount"):
        s.controller.executeBatchChunk(root, [(addr(s.holders[0]), 0, fresh_ref())], [], [], sender=s.outsiders[0])


def test_adding_the_zero_address_as_minter_is_refused(s):
    with reverts("ZeroAddress"):
        as_admin(s, s.controller.addMinter, ZERO, som(1), som(1))


def test_revoking_a_role_the_account_does_not_hold_changes_nothing(s):
    epoch = s.controller.config().approverEpoch
    receipt = as_admin(s, s.controller.revokeRole, role("MINTER_ROLE"), s.outsiders[0])
    assert_events(receipt, [], only=s.controller)
    receipt = as_admin(s, s.controller.revokeRole, role("GUARDIAN_ROLE"), s.guardian)  # a role with no side effect
    names = [name for _, name, _ in decoded(receipt, s.controller)]
    assert names == ["RoleRevoked"]
    assert s.controller.config().approverEpoch == epoch


def test_a_successor_controller_keeps_deposit_references_single_use_and_takes_over_minting(s, project):
    used, _ = open_request(s, s.holders[0], som(100))
    successor = s.accounts[DEPLOYER].deploy(project.KGSTIssuanceController, init_params(s, predecessor=(2, s.controller.address)))
    assert successor.predecessor() == s.controller.address
    assert successor.depositRefUsed(used) and not successor.depositRefUsed(fresh_ref("UNUSED"))
    with reverts("DepositRefAlreadyUsed", depositRef=used):
        successor.requestMint(s.holders[0], som(100), used, sender=s.minter)
    as_admin(s, s.token.setMinter, successor)
    ref = fresh_ref()
    successor.requestMint(s.holders[1], som(10), ref, sender=s.minter)
    successor.approveMint(ref, s.holders[1], som(10), sender=s.approvers[0])
    successor.executeMint(ref, sender=s.outsiders[0])
    assert s.token.balanceOf(s.holders[1]) == som(10)
    s.controller.approveMint(used, s.holders[0], som(100), sender=s.approvers[0])
    with reverts("CallerNotMinter", caller=addr(s.controller)):
        s.controller.executeMint(used, sender=s.outsiders[0])
