"""Deploys the KGST suite from a parameters file, verifies it on-chain, and records it in a manifest.

Order and wiring (docs/architecture.md):
1. TimelockController: governance proposes and executes; the guardian may cancel. The deployer is its
   admin only for the one transaction that makes the guardian a canceller, then renounces.
2. Reserve registry, admin = timelock, with auditors, threshold, custodians and reserve wallets/assets.
3. Token implementation, then its proxy, initialised in the proxy's constructor (no front-running window)
   with the controller's address, which is known in advance: it is the deployer's next CREATE address.
4. Issuance controller, admin = timelock, with minters, approvers, limits and tiers.
The deployer holds no role afterwards; `verify_deployment` proves that and every other link.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import rlp
from eth_utils import keccak, to_checksum_address

from kgst.accounts import resolve_address
from kgst.manifest import Manifest
from kgst.params import NATIVE_ASSET, DeploymentParams

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def role_id(name: str) -> bytes:
    return keccak(text=name)


DEFAULT_ADMIN_ROLE = b"\x00" * 32
ROLES = {name: role_id(name) for name in (
    "PAUSER_ROLE", "ASSET_PROTECTION_ROLE", "RESCUER_ROLE", "UPGRADER_ROLE", "MINTER_ROLE",
    "APPROVER_ROLE", "GUARDIAN_ROLE", "REDEMPTION_DESK_ROLE",
    "PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE",
)}


class DeploymentError(RuntimeError):
    """The deployment could not be completed or does not match its parameters."""


@dataclass(frozen=True)
class ResolvedRoles:
    governance: tuple[str, ...]
    guardian: str
    compliance: str
    rescuer: str
    redemption_desk: str
    minters: tuple[str, ...]
    approvers: tuple[str, ...]
    auditors: tuple[str, ...]
    reserve_wallets: tuple[str, ...]
    reserve_assets: tuple[str, ...]  # ZERO_ADDRESS for native BNB


def resolve_roles(params: DeploymentParams, *, accounts, provider) -> ResolvedRoles:
    def addr(ref: str) -> str:
        return resolve_address(ref, accounts=accounts, provider=provider)

    return ResolvedRoles(
        governance=tuple(addr(r) for r in params.governance),
        guardian=addr(params.guardian),
        compliance=addr(params.compliance),
        rescuer=addr(params.rescuer),
        redemption_desk=addr(params.redemption_desk),
        minters=tuple(addr(m.account) for m in params.minters),
        approvers=tuple(addr(r) for r in params.approvers),
        auditors=tuple(addr(r) for r in params.auditors),
        reserve_wallets=tuple(addr(w.account) for w in params.reserve_wallets),
        reserve_assets=tuple(ZERO_ADDRESS if a.asset == NATIVE_ASSET else addr(a.asset) for a in params.reserve_assets),
    )


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from `sender` at `nonce` deploys to."""
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def _registry_init(params: DeploymentParams, roles: ResolvedRoles, timelock: str) -> tuple:
    return (
        timelock,
        params.admin_transfer_delay_seconds,
        roles.guardian,
        list(roles.auditors),
        params.auditor_threshold,
        [(c.name, c.account_ref_hash) for c in params.custodians],
        [(addr, w.label) for addr, w in zip(roles.reserve_wallets, params.reserve_wallets)],
        [(addr, a.symbol) for addr, a in zip(roles.reserve_assets, params.reserve_assets)],
    )


def _token_init(params: DeploymentParams, roles: ResolvedRoles, timelock: str, controller: str) -> tuple:
    # (admin, adminTransferDelay, pauser, assetProtector, rescuer, upgrader, minter)
    return (timelock, params.admin_transfer_delay_seconds, roles.guardian, roles.compliance, roles.rescuer, timelock, controller)


def _controller_init(params: DeploymentParams, roles: ResolvedRoles, timelock: str, token: str, registry: str) -> tuple:
    t = params.tiers
    return (
        token,
        registry,
        ZERO_ADDRESS,  # no predecessor: this is the first controller
        timelock,
        params.admin_transfer_delay_seconds,
        roles.guardian,
        roles.redemption_desk,
        params.window_seconds,
        params.max_attestation_age_seconds,
        params.reserve_margin_bps,
        params.request_ttl_seconds,
        params.per_tx_cap.units,
        params.global_window_limit.units,
        (t.tier1_max.units, t.tier2_max.units, *t.approvals),
        [(addr, m.allowance.units, m.window_limit.units) for addr, m in zip(roles.minters, params.minters)],
        list(roles.approvers),
    )


def deploy_suite(
    project,
    deployer,
    params: DeploymentParams,
    *,
    accounts,
    provider,
    network_label: str,
    log: Callable[[str], None] = print,
) -> Manifest:
    """Deploys and wires the four contracts, verifies them, and returns the manifest (not yet saved)."""
    if params.chain_id is not None and params.chain_id != provider.chain_id:
        raise DeploymentError(
            f"{params.source} is for chain {params.chain_id} but the node is chain {provider.chain_id}: nothing was sent"
        )
    roles = resolve_roles(params, accounts=accounts, provider=provider)
    start_block = provider.get_block("latest").number + 1

    log(f"1/4 timelock (delay {params.timelock_delay_seconds} s)")
    timelock = deployer.deploy(
        project.KGSTTimelock, params.timelock_delay_seconds, list(roles.governance), list(roles.governance), deployer.address
    )
    timelock.grantRole(ROLES["CANCELLER_ROLE"], roles.guardian, sender=deployer)
    timelock.renounceRole(DEFAULT_ADMIN_ROLE, deployer.address, sender=deployer)

    log("2/4 reserve registry")
    registry = deployer.deploy(project.KGSTReserveRegistry, _registry_init(params, roles, timelock.address))

    log("3/4 token implementation and proxy")
    implementation = deployer.deploy(project.KGSTToken)
    controller_address = create_address(deployer.address, deployer.nonce + 1)  # the proxy takes this nonce
    init_data = implementation.initialize.encode_input(_token_init(params, roles, timelock.address, controller_address))
    proxy = deployer.deploy(project.KGSTProxy, implementation.address, init_data)

    log("4/4 issuance controller")
    controller = deployer.deploy(
        project.KGSTIssuanceController, _controller_init(params, roles, timelock.address, proxy.address, registry.address)
    )
    if controller.address != controller_address:
        raise DeploymentError(
            f"the controller landed at {controller.address}, not at {controller_address} where the token expects its "
            "minter (another transaction from the deployer interleaved?): this deployment must not be used; deploy again"
        )

    manifest = Manifest(
        network=network_label,
        chain_id=provider.chain_id,
        deployer=deployer.address,
        deploy_block=start_block,
        deployed_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        contracts={
            "token": proxy.address,
            "token_implementation": implementation.address,
            "controller": controller.address,
            "registry": registry.address,
            "timelock": timelock.address,
        },
        roles=_roles_record(params, roles, timelock.address, controller.address),
        compiler=compiler_record(project),
        params_file=str(params.source),
        settings=_settings_record(params),
        transactions={key: contract.txn_hash for key, contract in (
            ("timelock", timelock), ("registry", registry), ("token_implementation", implementation),
            ("token", proxy), ("controller", controller))},
    )
    failures = [c for c in verify_deployment(project, manifest, params, roles) if not c.ok]
    if failures:
        raise DeploymentError("deployed, but on-chain state differs from the parameters:\n" + "\n".join(map(str, failures)))
    return manifest


@dataclass(frozen=True)
class Check:
    what: str
    expected: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return self.expected == self.actual

    def __str__(self) -> str:
        mark = "ok " if self.ok else "BAD"
        return f"[{mark}] {self.what}: expected {self.expected!r}, on-chain {self.actual!r}"


def verify_deployment(project, manifest: Manifest, params: DeploymentParams, roles: ResolvedRoles) -> list[Check]:
    """Reads every role holder, limit and link back from the chain and compares it with the parameters."""
    c = manifest.contracts
    token = project.KGSTToken.at(c["token"])
    controller = project.KGSTIssuanceController.at(c["controller"])
    registry = project.KGSTReserveRegistry.at(c["registry"])
    timelock = project.KGSTTimelock.at(c["timelock"])
    checks: list[Check] = []

    def has(contract, role: str, account: str, expected: bool = True, label: str = "") -> None:
        role_bytes = DEFAULT_ADMIN_ROLE if role == "DEFAULT_ADMIN_ROLE" else ROLES[role]
        checks.append(Check(f"{label} {role} {'held by' if expected else 'not held by'} {account}", expected, bool(contract.hasRole(role_bytes, account))))

    checks.append(Check("token implementation slot", c["token_implementation"].lower(), _implementation_of(token).lower()))
    checks.append(Check("token symbol", "KGST", token.symbol()))
    checks.append(Check("token decimals", 18, token.decimals()))
    checks.append(Check("token admin", c["timelock"], token.defaultAdmin()))
    for role, holder in (
        ("PAUSER_ROLE", roles.guardian), ("ASSET_PROTECTION_ROLE", roles.compliance), ("RESCUER_ROLE", roles.rescuer),
        ("UPGRADER_ROLE", c["timelock"]),
    ):
        has(token, role, holder, label="token")
    checks.append(Check("token minter (the only one)", c["controller"], token.minter()))
    checks.append(Check("token not paused", False, token.paused()))
    checks.append(Check("controller token", c["token"], controller.token()))
    checks.append(Check("controller registry", c["registry"], controller.registry()))
    checks.append(Check("controller admin", c["timelock"], controller.defaultAdmin()))
    has(controller, "GUARDIAN_ROLE", roles.guardian, label="controller")
    has(controller, "REDEMPTION_DESK_ROLE", roles.redemption_desk, label="controller")
    for address, m in zip(roles.minters, params.minters):
        has(controller, "MINTER_ROLE", address, label="controller")
        allowance, window_limit, _, _ = controller.minterStatus(address)
        checks.append(Check(f"minter {address} allowance", m.allowance.units, allowance))
        checks.append(Check(f"minter {address} window limit", m.window_limit.units, window_limit))
    for address in roles.approvers:
        has(controller, "APPROVER_ROLE", address, label="controller")
    cap, window_limit, _, _ = controller.globalStatus()
    checks.append(Check("per-transaction cap", params.per_tx_cap.units, cap))
    checks.append(Check("global window limit", params.global_window_limit.units, window_limit))
    checks.append(Check("window seconds", params.window_seconds, controller.windowSeconds()))
    cfg = controller.config()
    checks.append(Check("max attestation age", params.max_attestation_age_seconds, cfg.maxAttestationAge))
    checks.append(Check("reserve margin bps", params.reserve_margin_bps, cfg.reserveMarginBps))
    checks.append(Check("request ttl", params.request_ttl_seconds, cfg.requestTtl))
    checks.append(Check("minting halted", False, cfg.mintingHalted))
    tiers = controller.tiers()
    t = params.tiers
    checks.append(Check("tiers", (t.tier1_max.units, t.tier2_max.units, *t.approvals), tuple(tiers)))
    checks.append(Check("registry admin", c["timelock"], registry.defaultAdmin()))
    has(registry, "GUARDIAN_ROLE", roles.guardian, label="registry")
    checks.append(Check("auditors", sorted(roles.auditors), sorted(registry.auditors())))
    checks.append(Check("auditor threshold", params.auditor_threshold, registry.auditorThreshold()))
    checks.append(Check("custodians", [(cp.name, cp.account_ref_hash) for cp in params.custodians],
                        [(x.name, bytes(x.accountRefHash)) for x in (registry.custodian(i) for i in range(registry.custodianCount()))]))
    checks.append(Check("reserve wallets", sorted(roles.reserve_wallets), sorted(registry.reserveWallets())))
    checks.append(Check("timelock delay", params.timelock_delay_seconds, timelock.getMinDelay()))
    for address in roles.governance:
        has(timelock, "PROPOSER_ROLE", address, label="timelock")
        has(timelock, "EXECUTOR_ROLE", address, label="timelock")
    has(timelock, "CANCELLER_ROLE", roles.guardian, label="timelock")
    has(timelock, "DEFAULT_ADMIN_ROLE", c["timelock"], label="timelock (self-administered)")
    deployer = manifest.deployer
    for contract, label, role_names in (
        (timelock, "timelock", ("DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "EXECUTOR_ROLE")),
        (token, "token", ("DEFAULT_ADMIN_ROLE", "PAUSER_ROLE", "ASSET_PROTECTION_ROLE", "RESCUER_ROLE", "UPGRADER_ROLE")),
        (controller, "controller", ("DEFAULT_ADMIN_ROLE", "GUARDIAN_ROLE", "MINTER_ROLE", "APPROVER_ROLE")),
        (registry, "registry", ("DEFAULT_ADMIN_ROLE", "GUARDIAN_ROLE")),
    ):
        if deployer not in roles.governance and deployer != roles.guardian:
            for role in role_names:
                has(contract, role, deployer, expected=False, label=f"{label} (deployer)")
    return checks


def _implementation_of(proxy) -> str:
    slot = int.from_bytes(keccak(text="eip1967.proxy.implementation"), "big") - 1
    raw = proxy.provider.get_storage(proxy.address, slot)
    return to_checksum_address(bytes(raw)[-20:])


def compiler_record(project) -> dict[str, Any]:
    """Compiler version and settings, as recorded in Ape's project manifest (what BscScan needs)."""
    records = []
    for compiler in project.manifest.compilers or []:
        records.append({"name": compiler.name, "version": compiler.version, "settings": compiler.settings, "contracts": compiler.contractTypes})
    return {"compilers": records}


def _roles_record(params: DeploymentParams, roles: ResolvedRoles, timelock: str, controller: str) -> dict[str, Any]:
    return {
        "timelock": {"proposers": list(roles.governance), "executors": list(roles.governance), "cancellers": [roles.guardian]},
        "token": {"admin": timelock, "pauser": roles.guardian, "asset_protection": roles.compliance, "rescuer": roles.rescuer,
                  "upgrader": timelock, "minter": controller},
        "controller": {"admin": timelock, "guardian": roles.guardian, "redemption_desk": roles.redemption_desk,
                       "minters": list(roles.minters), "approvers": list(roles.approvers)},
        "registry": {"admin": timelock, "guardian": roles.guardian, "auditors": list(roles.auditors),
                     "auditor_threshold": params.auditor_threshold},
    }


def _settings_record(params: DeploymentParams) -> dict[str, Any]:
    t = params.tiers
    return {
        "timelock_delay_seconds": params.timelock_delay_seconds,
        "admin_transfer_delay_seconds": params.admin_transfer_delay_seconds,
        "window_seconds": params.window_seconds,
        "max_attestation_age_seconds": params.max_attestation_age_seconds,
        "reserve_margin_bps": params.reserve_margin_bps,
        "request_ttl_seconds": params.request_ttl_seconds,
        "per_tx_cap": str(params.per_tx_cap),
        "global_window_limit": str(params.global_window_limit),
        "tiers": {"tier1_max": str(t.tier1_max), "tier2_max": str(t.tier2_max), "approvals": list(t.approvals)},
        "minters": {m.account: {"allowance": str(m.allowance), "window_limit": str(m.window_limit)} for m in params.minters},
    }
