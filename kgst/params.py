"""Deployment parameters: one YAML file per network under config/, validated before anything is sent.

Role holders are written as account references, resolved later against the connected network
(see kgst.accounts): an address (``0x...``), an Ape account alias (``alias:ops-minter``) or, on local
networks only, an Ape test account (``test:3``). Amounts are som strings, converted exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kgst.addresses import AddressError, parse_address
from kgst.amounts import AmountError, SomAmount, parse_som
from kgst.refs import ReferenceFormatError, account_ref

ACCOUNT_REF = re.compile(r"^(test:\d+|alias:[A-Za-z0-9_.\-]+|0x[0-9a-fA-F]{40})$")
NATIVE_ASSET = "native"
MAX_UINT48 = 2**48 - 1
MAX_UINT32 = 2**32 - 1


class ParamsError(ValueError):
    """A parameters file that cannot be deployed; the message names the file and the field."""


@dataclass(frozen=True)
class MinterParams:
    account: str
    allowance: SomAmount
    window_limit: SomAmount


@dataclass(frozen=True)
class CustodianParams:
    name: str
    account_reference: str  # the bank account number as the bank writes it; only its hash goes on-chain

    @property
    def account_ref_hash(self) -> bytes:
        return account_ref(self.account_reference)


@dataclass(frozen=True)
class ReserveWalletParams:
    account: str
    label: str


@dataclass(frozen=True)
class ReserveAssetParams:
    asset: str  # an account reference to a BEP-20 token, or "native" for BNB
    symbol: str


@dataclass(frozen=True)
class TierParams:
    tier1_max: SomAmount
    tier2_max: SomAmount
    approvals: tuple[int, int, int]


@dataclass(frozen=True)
class DeploymentParams:
    source: Path
    chain_id: int | None  # if set, the connected chain must have this id
    governance: tuple[str, ...]  # timelock proposers and executors
    guardian: str
    compliance: str  # token asset protection (freeze, wipe)
    rescuer: str
    redemption_desk: str
    minters: tuple[MinterParams, ...]
    approvers: tuple[str, ...]
    auditors: tuple[str, ...]
    auditor_threshold: int
    custodians: tuple[CustodianParams, ...]
    reserve_wallets: tuple[ReserveWalletParams, ...]
    reserve_assets: tuple[ReserveAssetParams, ...]
    timelock_delay_seconds: int
    admin_transfer_delay_seconds: int
    window_seconds: int
    max_attestation_age_seconds: int
    reserve_margin_bps: int
    request_ttl_seconds: int
    per_tx_cap: SomAmount
    global_window_limit: SomAmount
    tiers: TierParams
    notes: dict[str, Any] = field(default_factory=dict)

    def all_account_refs(self) -> list[str]:
        refs = [*self.governance, self.guardian, self.compliance, self.rescuer, self.redemption_desk]
        refs += [m.account for m in self.minters] + list(self.approvers) + list(self.auditors)
        refs += [w.account for w in self.reserve_wallets]
        refs += [a.asset for a in self.reserve_assets if a.asset != NATIVE_ASSET]
        return refs


class _Reader:
    """Reads typed fields out of the parsed YAML, naming the field in every error."""

    def __init__(self, source: Path, data: Any):
        self.source = source
        self.data = data

    def fail(self, path: str, message: str) -> ParamsError:
        return ParamsError(f"{self.source}: {path}: {message}")

    def node(self, path: str) -> Any:
        value: Any = self.data
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                raise self.fail(path, "missing")
            value = value[part]
        return value

    def optional(self, path: str, default: Any) -> Any:
        try:
            return self.node(path)
        except ParamsError:
            return default

    def integer(self, path: str, *, minimum: int = 0, maximum: int = MAX_UINT32) -> int:
        value = self.node(path)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"expected a whole number, got {value!r}")
        if not minimum <= value <= maximum:
            raise self.fail(path, f"{value} is outside the allowed range {minimum}..{maximum}")
        return value

    def som(self, path: str, value: Any = None) -> SomAmount:
        raw = self.node(path) if value is None else value
        if not isinstance(raw, str):
            raise self.fail(path, f"write som amounts as quoted text, e.g. \"1,250,000.00\" (got {raw!r})")
        try:
            return parse_som(raw, allow_zero=True)
        except AmountError as err:
            raise self.fail(path, str(err)) from None

    def text(self, path: str, value: Any = None) -> str:
        raw = self.node(path) if value is None else value
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(path, f"expected non-empty text, got {raw!r}")
        return raw.strip()

    def account(self, path: str, value: Any = None) -> str:
        raw = self.node(path) if value is None else value
        if not isinstance(raw, str) or not ACCOUNT_REF.match(raw.strip()):
            raise self.fail(path, f"expected an address (0x...), alias:NAME or test:N, got {raw!r}")
        raw = raw.strip()
        if raw.startswith("0x"):
            try:
                return parse_address(raw, what=path)
            except AddressError as err:
                raise self.fail(path, str(err)) from None
        return raw

    def accounts(self, path: str) -> tuple[str, ...]:
        values = self.node(path)
        if not isinstance(values, list) or not values:
            raise self.fail(path, "expected a non-empty list of accounts")
        refs = tuple(self.account(f"{path}[{i}]", v) for i, v in enumerate(values))
        if len(set(refs)) != len(refs):
            raise self.fail(path, "the same account is listed twice")
        return refs

    def items(self, path: str, *, required: bool = True) -> list[Any]:
        values = self.node(path) if required else self.optional(path, [])
        if not isinstance(values, list) or (required and not values):
            raise self.fail(path, "expected a non-empty list")
        return values


def load_params(path: str | Path) -> DeploymentParams:
    """Parses and validates a parameters file; raises ParamsError saying what is wrong and where."""
    source = Path(path)
    if not source.is_file():
        raise ParamsError(f"{source}: no such parameters file")
    try:
        data = yaml.safe_load(source.read_text())
    except yaml.YAMLError as err:
        raise ParamsError(f"{source}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{source}: expected a mapping at the top level")
    r = _Reader(source, data)

    minters = []
    for i, item in enumerate(r.items("roles.minters")):
        base = f"roles.minters[{i}]"
        if not isinstance(item, dict):
            raise r.fail(base, "expected {account, allowance, window_limit}")
        minters.append(
            MinterParams(
                account=r.account(f"{base}.account", item.get("account")),
                allowance=r.som(f"{base}.allowance", item.get("allowance")),
                window_limit=r.som(f"{base}.window_limit", item.get("window_limit")),
            )
        )
    custodians = []
    for i, item in enumerate(r.items("registry.custodians")):
        base = f"registry.custodians[{i}]"
        if not isinstance(item, dict):
            raise r.fail(base, "expected {name, account}")
        custodian = CustodianParams(r.text(f"{base}.name", item.get("name")), r.text(f"{base}.account", item.get("account")))
        try:
            custodian.account_ref_hash
        except ReferenceFormatError as err:
            raise r.fail(f"{base}.account", str(err)) from None
        custodians.append(custodian)
    wallets = [
        ReserveWalletParams(r.account(f"registry.reserve_wallets[{i}].account", w.get("account")), r.text(f"registry.reserve_wallets[{i}].label", w.get("label")))
        for i, w in enumerate(r.items("registry.reserve_wallets", required=False))
    ]
    assets = []
    for i, a in enumerate(r.items("registry.reserve_assets", required=False)):
        raw = a.get("asset")
        asset = NATIVE_ASSET if raw == NATIVE_ASSET else r.account(f"registry.reserve_assets[{i}].asset", raw)
        assets.append(ReserveAssetParams(asset, r.text(f"registry.reserve_assets[{i}].symbol", a.get("symbol"))))

    approvals = r.node("controller.tiers.approvals")
    if not (isinstance(approvals, list) and len(approvals) == 3 and all(isinstance(x, int) and not isinstance(x, bool) for x in approvals)):
        raise r.fail("controller.tiers.approvals", f"expected three whole numbers [small, medium, large], got {approvals!r}")
    tiers = TierParams(r.som("controller.tiers.tier1_max"), r.som("controller.tiers.tier2_max"), tuple(approvals))  # type: ignore[arg-type]

    chain_id = r.optional("chain_id", None)
    params = DeploymentParams(
        source=source,
        chain_id=None if chain_id is None else r.integer("chain_id", minimum=1, maximum=2**63),
        governance=r.accounts("roles.governance"),
        guardian=r.account("roles.guardian"),
        compliance=r.account("roles.compliance"),
        rescuer=r.account("roles.rescuer"),
        redemption_desk=r.account("roles.redemption_desk"),
        minters=tuple(minters),
        approvers=r.accounts("roles.approvers"),
        auditors=r.accounts("registry.auditors"),
        auditor_threshold=r.integer("registry.auditor_threshold", minimum=1, maximum=32),
        custodians=tuple(custodians),
        reserve_wallets=tuple(wallets),
        reserve_assets=tuple(assets),
        timelock_delay_seconds=r.integer("governance.timelock_delay_seconds"),
        admin_transfer_delay_seconds=r.integer("governance.admin_transfer_delay_seconds", maximum=MAX_UINT48),
        window_seconds=r.integer("controller.window_seconds", minimum=1),
        max_attestation_age_seconds=r.integer("controller.max_attestation_age_seconds", minimum=1),
        reserve_margin_bps=r.integer("controller.reserve_margin_bps", maximum=10_000),
        request_ttl_seconds=r.integer("controller.request_ttl_seconds", minimum=1),
        per_tx_cap=r.som("controller.per_tx_cap"),
        global_window_limit=r.som("controller.global_window_limit"),
        tiers=tiers,
        notes=r.optional("notes", {}) or {},
    )
    _check_consistency(r, params)
    return params


def _check_consistency(r: _Reader, p: DeploymentParams) -> None:
    """Rules that span fields; the contracts enforce them too, but a deploy should not get halfway first."""
    if p.auditor_threshold > len(p.auditors):
        raise r.fail("registry.auditor_threshold", f"{p.auditor_threshold} signatures needed but only {len(p.auditors)} auditors listed")
    a1, a2, a3 = p.tiers.approvals
    if not 1 <= a1 <= a2 <= a3 <= 16:
        raise r.fail("controller.tiers.approvals", f"need 1 <= small <= medium <= large <= 16, got {list(p.tiers.approvals)}")
    if a3 > len(p.approvers):
        raise r.fail("controller.tiers.approvals", f"the large tier needs {a3} approvals but only {len(p.approvers)} approvers are listed")
    if p.tiers.tier1_max.tiyin > p.tiers.tier2_max.tiyin:
        raise r.fail("controller.tiers", "tier1_max must not exceed tier2_max")
    minter_accounts = {m.account for m in p.minters}
    if len(minter_accounts) != len(p.minters):
        raise r.fail("roles.minters", "the same account is listed twice")
    if minter_accounts & set(p.approvers):
        raise r.fail("roles", "an account is both minter and approver: keep maker and checker apart")
    if len({c.account_ref_hash for c in p.custodians}) != len(p.custodians):
        raise r.fail("registry.custodians", "two custodians have the same bank account")
