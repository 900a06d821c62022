"""Fixtures for the KGST token tests.

One deployment per session: the implementation, then `KGSTProxy(implementation, initialize(...))` in one
transaction, wrapped as `KGSTToken.at(proxy)`. Ape reverts the chain to a snapshot after every test, so
each test starts from the same funded token and may change anything.

Every role has its own account (in production the `minter` is the issuance controller; here an EOA is the
minter so the token can be tested alone). Holders alice, bob and carol hold KGST; `spender` and `relayer` are third
parties that spend allowances and submit signed authorizations; `outsider` holds nothing and no role.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest

from tests.token.helpers import (
    ADMIN_TRANSFER_DELAY,
    ALICE_START,
    BOB_START,
    CAROL_START,
    MINTER_START,
    UNIT,
    StateReader,
    init_params,
)
from tests.token.signing import Domain


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def pauser(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def asset_protector(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def rescuer(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def upgrader(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def minter(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def spender(accounts):
    return accounts[8]


@pytest.fixture(scope="session")
def relayer(accounts):
    return accounts[9]


@pytest.fixture(scope="session")
def extra_accounts(accounts, chain):
    """Accounts beyond the ten anvil funds at start: generated test accounts, funded here."""
    generated = [accounts.generate_test_account() for _ in range(2)]
    for account in generated:
        chain.set_balance(account.address, 100 * UNIT)
    return generated


@pytest.fixture(scope="session")
def carol(extra_accounts):
    return extra_accounts[0]


@pytest.fixture(scope="session")
def outsider(extra_accounts):
    return extra_accounts[1]


@pytest.fixture(scope="session")
def role_holders(admin, pauser, asset_protector, rescuer, upgrader, minter):
    return {
        "admin": admin,
        "pauser": pauser,
        "asset_protector": asset_protector,
        "rescuer": rescuer,
        "upgrader": upgrader,
        "minter": minter,
    }


@pytest.fixture(scope="session")
def everyone(role_holders, alice, bob, carol, spender, relayer, outsider):
    """Every named test account, by label (read-only: tests copy it before adding anything)."""
    return MappingProxyType({**role_holders, "alice": alice, "bob": bob, "carol": carol, "spender": spender,
            "relayer": relayer, "outsider": outsider})


@pytest.fixture(scope="session")
def implementation(project, admin):
    return admin.deploy(project.KGSTToken)


@pytest.fixture(scope="session")
def deploy_token(project, chain, admin, implementation, role_holders):
    """Deploys a new proxy in front of `implementation` (default: the shared one), initialised atomically.

    Returns (token, deploy receipt)."""

    def deploy(impl=None, roles=None, delay=ADMIN_TRANSFER_DELAY):
        impl = impl or implementation
        calldata = impl.initialize.encode_input(init_params({**role_holders, **(roles or {})}, delay))
        proxy = admin.deploy(project.KGSTProxy, impl.address, calldata)
        return project.KGSTToken.at(proxy.address), chain.get_receipt(proxy.txn_hash)

    return deploy


@pytest.fixture(scope="session")
def token_deployment(deploy_token):
    return deploy_token()


@pytest.fixture(scope="session")
def token(token_deployment, minter, alice, bob, carol):
    """The KGST proxy with alice, bob, carol and the minter holding KGST; nothing paused or frozen."""
    token, _ = token_deployment
    for holder, amount in ((alice, ALICE_START), (bob, BOB_START), (carol, CAROL_START), (minter, MINTER_START)):
        token.mint(holder, amount, sender=minter)
    return token


@pytest.fixture(scope="session")
def domain(token, chain):
    """The EIP-712 domain computed independently of the contract."""
    return Domain(chain_id=chain.chain_id, verifying_contract=token.address)


@pytest.fixture(scope="session")
def foreign_token(project, admin):
    """A plain ERC-20 (open mint) standing for a third-party token sent to KGST by mistake."""
    return admin.deploy(project.PlainERC20)


@pytest.fixture(scope="session")
def v2_implementation(project, admin):
    """KGSTTokenV2Mock: the token plus `version() == 2`, same storage layout, as an upgrade target."""
    def interface(contract_type):
        return {abi.selector for abi in contract_type.abi if abi.type in ("function", "event", "error")}

    if interface(project.KGSTTokenV2Mock.contract_type) - {"version()"} != interface(project.KGSTToken.contract_type):
        pytest.fail(
            "KGSTTokenV2Mock was compiled from an older KGSTToken.sol (Ape recompiles a changed file but not the"
            " files that import it). Run: ape compile contracts/test/KGSTTokenV2Mock.sol --force"
        )
    return admin.deploy(project.KGSTTokenV2Mock)


@pytest.fixture(scope="session")
def batcher(project, admin):
    return admin.deploy(project.StaticCallBatcher)


@pytest.fixture(scope="session")
def make_reader(batcher, token):
    def make(accounts: dict, authorizations=(), extra=()):
        return StateReader(batcher, token, accounts, authorizations, extra)

    return make


@pytest.fixture(scope="session")
def roles(token):
    """Role ids read from the contract, checked against keccak256(name) in test_roles."""
    return {
        "DEFAULT_ADMIN_ROLE": token.DEFAULT_ADMIN_ROLE(),
        "PAUSER_ROLE": token.PAUSER_ROLE(),
        "ASSET_PROTECTION_ROLE": token.ASSET_PROTECTION_ROLE(),
        "RESCUER_ROLE": token.RESCUER_ROLE(),
        "UPGRADER_ROLE": token.UPGRADER_ROLE(),
    }


@pytest.fixture(scope="session", autouse=True)
def _session_deployments(
    token, batcher, foreign_token, v2_implementation, extra_accounts, everyone, make_reader, domain, roles
):
    """Set up every session fixture before the first test's snapshot, so Ape's isolation never
    has to rebase (re-run) session fixtures that a later test asks for first."""
