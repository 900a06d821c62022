"""The national digital-asset reserve: listed wallets and tracked assets (native BNB and BEP-20 tokens), with live
balances summed exactly over the wallets. A token that misbehaves (reverts, burns all gas, returns nothing or a
flood of data) never makes the view revert: its entry is marked incomplete and every other figure stays exact."""

from __future__ import annotations

import pytest
from eth_utils import keccak, to_checksum_address

from tests.registry.helpers import (
    ZERO_ADDRESS,
    Ev,
    addr,
    admin,
    assert_events,
    call,
    govern,
    reverts,
)
from tests.suite import OUTSIDERS

BNB = ZERO_ADDRESS


def some_address(n: int) -> str:
    return to_checksum_address(keccak(f"reserve wallet #{n}".encode())[12:])


def balances(registry) -> list[tuple]:
    return [(addr(b.asset), b.symbol, b.total, b.complete) for b in registry.digitalReserveBalances()]


@pytest.fixture
def plain(suite, project, reserve_wallets):
    """A BEP-20 with open mint; the reserve wallets and an outsider hold odd amounts of it."""
    token = suite.deployer.deploy(project.PlainERC20)
    for holder, amount in ((reserve_wallets[0], 123_456_789_000_000_000_001), (reserve_wallets[1], 7), (suite.accounts[OUTSIDERS[0]], 10**30)):
        token.mint(holder, amount, sender=suite.deployer)
    return token


def test_the_deployment_lists_two_wallets_and_native_bnb(registry, reserve_wallets):
    assert list(registry.reserveWallets()) == [addr(w) for w in reserve_wallets]
    assert [registry.reserveWalletLabel(w) for w in reserve_wallets] == ["Digital reserve wallet A", "Digital reserve wallet B"]
    assert [(addr(a.asset), a.symbol) for a in registry.reserveAssets()] == [(BNB, "BNB")]


def test_native_bnb_is_the_exact_sum_over_the_reserve_wallets(suite, registry, reserve_wallets, outsider):
    a, b = 1_234_567_890_123_456_789_012, 987_654_321_987_654_321
    suite.chain.set_balance(reserve_wallets[0].address, a)
    suite.chain.set_balance(reserve_wallets[1].address, b)
    suite.chain.set_balance(outsider.address, 10**30)  # not a reserve wallet: not counted
    assert balances(registry) == [(BNB, "BNB", a + b, True)]

    suite.chain.set_balance(reserve_wallets[1].address, 0)
    assert balances(registry) == [(BNB, "BNB", a, True)]


def test_a_bep20_asset_added_by_the_admin_is_summed_over_the_wallets(suite, registry, reserve_wallets, plain, outsider):
    suite.chain.set_balance(reserve_wallets[0].address, 5)
    suite.chain.set_balance(reserve_wallets[1].address, 6)
    receipt = admin(suite, "addReserveAsset", plain.address, "PLAIN")
    assert_events(receipt, registry, [Ev("ReserveAssetAdded", asset=plain, symbol="PLAIN")])
    assert [(addr(a.asset), a.symbol) for a in registry.reserveAssets()] == [(BNB, "BNB"), (addr(plain), "PLAIN")]
    assert balances(registry) == [(BNB, "BNB", 11, True), (addr(plain), "PLAIN", 123_456_789_000_000_000_008, True)]

    # live: a transfer out of a reserve wallet shows at once
    plain.transfer(outsider, 1, sender=reserve_wallets[0])
    assert balances(registry)[1] == (addr(plain), "PLAIN", 123_456_789_000_000_000_007, True)


def test_a_wallet_added_by_the_admin_is_counted(suite, registry, reserve_wallets):
    new = suite.accounts[25]
    for wallet, amount in ((reserve_wallets[0], 1), (reserve_wallets[1], 2), (new, 40)):
        suite.chain.set_balance(wallet.address, amount)
    receipt = admin(suite, "addReserveWallet", new.address, "Digital reserve wallet C")
    assert_events(receipt, registry, [Ev("ReserveWalletAdded", wallet=new, label="Digital reserve wallet C")])
    assert registry.reserveWalletLabel(new) == "Digital reserve wallet C"
    assert balances(registry) == [(BNB, "BNB", 43, True)]


# --- misbehaving tokens --------------------------------------------------------------------------------------------


@pytest.fixture
def misbehaving(suite, project, reserve_wallets):
    """(label, contract or address, expected total, expected complete) for each kind of misbehaviour."""
    d = suite.deployer
    return [
        ("REVERTS", d.deploy(project.RevertingBalanceToken), 0, False),
        ("BURNS-GAS", d.deploy(project.GasBurnerToken), 0, False),
        ("NO-DATA", d.deploy(project.NoReturnDataToken), 0, False),
        ("1MB-DATA", d.deploy(project.HugeReturnDataToken, 1 << 20), 0, False),
        ("NO-CODE", some_address(999), 0, False),  # an address with no contract at all
        # readable for wallet B only (777): the total omits wallet A and says so
        ("HALF-BROKEN", d.deploy(project.PartlyBrokenToken, reserve_wallets[0].address, 777), 777, False),
        # 64 bytes back, first word 1000: extra return data is ignored, as Solidity's abi.decode would
        ("LONG-ANSWER", d.deploy(project.HugeReturnDataToken, 64), 2_000, True),
    ]


def test_misbehaving_tokens_never_make_the_view_revert(suite, registry, reserve_wallets, plain, misbehaving):
    suite.chain.set_balance(reserve_wallets[0].address, 10**18 + 1)
    suite.chain.set_balance(reserve_wallets[1].address, 2 * 10**18 + 3)
    listed = [*misbehaving[:3], ("PLAIN", plain, 123_456_789_000_000_000_008, True), *misbehaving[3:]]
    receipt = govern(suite, *[call(registry, "addReserveAsset", addr(t), label) for label, t, _, _ in listed])
    assert_events(receipt, registry, [Ev("ReserveAssetAdded", asset=addr(t), symbol=label) for label, t, _, _ in listed])

    expected = [(BNB, "BNB", 3 * 10**18 + 4, True)] + [(addr(t), label, total, complete) for label, t, total, complete in listed]
    assert balances(registry) == expected

    gas = suite.chain.provider.web3.eth.estimate_gas({"to": registry.address, "data": registry.digitalReserveBalances.encode_input().hex()})
    print(f"\ndigitalReserveBalances gas with {len(listed) + 1} assets x 2 wallets (7 misbehaving): {gas}")
    # each balance query is capped (30k gas), so a gas burner cannot take more than its share
    assert gas < 2 * len(listed) * 31_000 + 300_000


def test_a_full_registry_of_gas_burners_still_answers(suite, project, registry, reserve_wallets, plain):
    """The worst case the limits allow: 32 wallets x 16 assets, 14 of them burning every unit of gas they get."""
    burners = [suite.deployer.deploy(project.GasBurnerToken) for _ in range(14)]
    wallets = [some_address(i) for i in range(30)]
    govern(
        suite,
        *[call(registry, "addReserveWallet", w, f"wallet {i}") for i, w in enumerate(wallets)],
        call(registry, "addReserveAsset", plain.address, "PLAIN"),
        *[call(registry, "addReserveAsset", b.address, f"BURN{i}") for i, b in enumerate(burners)],
    )
    assert (len(registry.reserveWallets()), len(registry.reserveAssets())) == (32, 16)
    for i, w in enumerate(wallets):
        suite.chain.set_balance(w, i + 1)
    suite.chain.set_balance(reserve_wallets[0].address, 1000)
    suite.chain.set_balance(reserve_wallets[1].address, 2000)

    result = balances(registry)
    assert result[:2] == [(BNB, "BNB", 3000 + sum(range(1, 31)), True), (addr(plain), "PLAIN", 123_456_789_000_000_000_008, True)]
    assert result[2:] == [(addr(b), f"BURN{i}", 0, False) for i, b in enumerate(burners)]
    gas = suite.chain.provider.web3.eth.estimate_gas({"to": registry.address, "data": registry.digitalReserveBalances.encode_input().hex()})
    print(f"\ndigitalReserveBalances worst case gas (32 wallets x 16 assets, 14 gas burners): {gas}")
    assert gas < 16_000_000  # 14 x 32 x 30k = 13.4M for the burners, within a 30M eth_call / block


def test_a_token_reporting_absurd_balances_does_not_make_the_view_revert(suite, project, registry, reserve_wallets):
    suite.chain.set_balance(reserve_wallets[0].address, 1)
    suite.chain.set_balance(reserve_wallets[1].address, 2)
    absurd = suite.deployer.deploy(project.MaxBalanceToken)
    admin(suite, "addReserveAsset", absurd.address, "MAX")
    result = balances(registry)
    assert result[0] == (BNB, "BNB", 3, True)
    assert result[1][0] == addr(absurd) and result[1][3] is False


# --- listing rules ----------------------------------------------------------------------------------------------------


def test_wallets_and_assets_are_listed_once(suite, reserve_wallets):
    with reverts("ReserveWalletAlreadyListed", wallet=reserve_wallets[0]):
        admin(suite, "addReserveWallet", reserve_wallets[0].address, "again")
    with reverts("ReserveAssetAlreadyListed", asset=BNB):
        admin(suite, "addReserveAsset", BNB, "BNB again")


def test_wallets_and_assets_need_a_label_and_wallets_an_address(suite, plain):
    with reverts("ZeroAddress"):
        admin(suite, "addReserveWallet", ZERO_ADDRESS, "nobody")
    with reverts("EmptyName"):
        admin(suite, "addReserveWallet", some_address(1), "")
    with reverts("EmptyName"):
        admin(suite, "addReserveAsset", plain.address, "")


def test_at_most_32_wallets_and_16_assets(suite, project, registry):
    assert (registry.MAX_RESERVE_WALLETS(), registry.MAX_RESERVE_ASSETS()) == (32, 16)
    tokens = [suite.deployer.deploy(project.RevertingBalanceToken) for _ in range(16)]
    govern(
        suite,
        *[call(registry, "addReserveWallet", some_address(i), f"wallet {i}") for i in range(30)],
        *[call(registry, "addReserveAsset", t.address, f"T{i}") for i, t in enumerate(tokens[:15])],
    )
    with reverts("TooManyReserveEntries", max=32):
        admin(suite, "addReserveWallet", some_address(30), "one too many")
    with reverts("TooManyReserveEntries", max=16):
        admin(suite, "addReserveAsset", tokens[15].address, "one too many")
    assert (len(registry.reserveWallets()), len(registry.reserveAssets())) == (32, 16)


def test_removing_a_wallet_stops_counting_it(suite, registry, reserve_wallets):
    suite.chain.set_balance(reserve_wallets[0].address, 100)
    suite.chain.set_balance(reserve_wallets[1].address, 20)
    receipt = admin(suite, "removeReserveWallet", reserve_wallets[0].address)
    assert_events(receipt, registry, [Ev("ReserveWalletRemoved", wallet=reserve_wallets[0])])
    assert list(registry.reserveWallets()) == [addr(reserve_wallets[1])]
    assert registry.reserveWalletLabel(reserve_wallets[0]) == ""
    assert balances(registry) == [(BNB, "BNB", 20, True)]

    with reverts("ReserveWalletNotListed", wallet=reserve_wallets[0]):
        admin(suite, "removeReserveWallet", reserve_wallets[0].address)
    admin(suite, "addReserveWallet", reserve_wallets[0].address, "Wallet A, relisted")  # may come back
    assert balances(registry) == [(BNB, "BNB", 120, True)]


def test_removing_from_the_middle_keeps_the_other_entries(suite, project, registry, reserve_wallets, plain):
    third = suite.accounts[25]
    other = suite.deployer.deploy(project.PlainERC20)
    govern(suite, call(registry, "addReserveWallet", third.address, "C"), call(registry, "addReserveAsset", plain.address, "PLAIN"),
           call(registry, "addReserveAsset", other.address, "OTHER"))
    receipt = govern(suite, call(registry, "removeReserveWallet", reserve_wallets[0].address), call(registry, "removeReserveAsset", plain.address))
    assert_events(receipt, registry, [Ev("ReserveWalletRemoved", wallet=reserve_wallets[0]), Ev("ReserveAssetRemoved", asset=plain)])
    assert sorted(registry.reserveWallets()) == sorted([addr(reserve_wallets[1]), addr(third)])
    assert sorted((addr(a.asset), a.symbol) for a in registry.reserveAssets()) == sorted([(BNB, "BNB"), (addr(other), "OTHER")])


def test_removing_an_asset_stops_reporting_it(suite, registry):
    receipt = admin(suite, "removeReserveAsset", BNB)
    assert_events(receipt, registry, [Ev("ReserveAssetRemoved", asset=BNB)])
    assert list(registry.reserveAssets()) == []
    assert balances(registry) == []
    with reverts("ReserveAssetNotListed", asset=BNB):
        admin(suite, "removeReserveAsset", BNB)
