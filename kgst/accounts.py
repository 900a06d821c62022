"""Resolving account references (``0x...``, ``alias:NAME``, ``test:N``) to addresses and signers.

Test accounts come from the public test mnemonic: anyone can sign for them, so they are refused unless
the connected node runs on this machine (the embedded node, or an anvil rehearsal of BSC testnet).
Keystore accounts (``ape accounts import``) are unlocked with a passphrase from the environment for
automation (KGST_PASSPHRASE_<ALIAS> or KGST_PASSPHRASE), or interactively by Ape.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from kgst.addresses import AddressError, parse_address

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


class AccountRefError(ValueError):
    """An account reference that cannot be used here; the message says why."""


def provider_is_local(provider) -> bool:
    """True when the node runs on this machine (so test keys cannot reach a public network)."""
    if provider.network.name == "local":
        return True
    uri = getattr(provider, "uri", None) or getattr(provider, "http_uri", None) or ""
    return (urlparse(uri).hostname or "") in LOCAL_HOSTS


def _test_index(ref: str) -> int:
    return int(ref.split(":", 1)[1])


def resolve_address(ref: str, *, accounts, provider) -> str:
    """The checksummed address an account reference stands for (no key is unlocked)."""
    if ref.startswith("test:"):
        _require_local(ref, provider)
        return accounts.test_accounts[_test_index(ref)].address
    if ref.startswith("alias:"):
        return _load_alias(ref, accounts).address
    try:
        return parse_address(ref)
    except AddressError as err:
        raise AccountRefError(str(err)) from None


def load_signer(ref: str, *, accounts, provider):
    """An Ape account that can sign for `ref`."""
    if ref.startswith("test:"):
        _require_local(ref, provider)
        return accounts.test_accounts[_test_index(ref)]
    if ref.startswith("alias:"):
        account = _load_alias(ref, accounts)
        alias = ref.split(":", 1)[1]
        passphrase = os.environ.get(f"KGST_PASSPHRASE_{alias.upper().replace('-', '_')}") or os.environ.get("KGST_PASSPHRASE")
        if passphrase:
            account.set_autosign(True, passphrase=passphrase)
        return account
    address = resolve_address(ref, accounts=accounts, provider=provider)
    for container_account in accounts:
        if container_account.address == address:
            return container_account
    if provider_is_local(provider):
        for test_account in accounts.test_accounts[:32]:
            if test_account.address == address:
                return test_account
    raise AccountRefError(f"no local key for {address}: import it with `ape accounts import NAME` and use alias:NAME")


def _require_local(ref: str, provider) -> None:
    if not provider_is_local(provider):
        raise AccountRefError(
            f"{ref} is a public test key and may only be used on a node on this machine; "
            "use alias:NAME (a keystore from `ape accounts import`) or an address"
        )


def _load_alias(ref: str, accounts):
    alias = ref.split(":", 1)[1]
    try:
        return accounts.load(alias)
    except Exception:  # Ape raises its own error type for unknown aliases
        raise AccountRefError(f"no Ape account named {alias!r}: create it with `ape accounts import {alias}`") from None
