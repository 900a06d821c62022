"""Status, reconciliation and the supply-versus-reserves chart: what an auditor and the issuer read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgst.errors import som_text
from kgst.ops import STATUS_NAMES, System, utc

TOKEN_UNITS_PER_TIYIN = 10**16
ZERO = "0x0000000000000000000000000000000000000000"


def _latest(system: System) -> int:
    return system.provider.get_block("latest").number


def collect_status(system: System) -> dict[str, Any]:
    t, c, r = system.token, system.controller, system.registry
    supply, minted, burned, wiped = t.supplyCounters()
    count = r.attestationCount()
    latest = r.latestAttestation() if count else None
    headroom, fresh, mintable, _, _ = c.reserveHeadroom()
    cap, window_limit, window_used, window_available = c.globalStatus()
    cfg = c.config()
    status: dict[str, Any] = {
        "network": system.manifest.network,
        "chain_id": system.manifest.chain_id,
        "block": _latest(system),
        "time": utc(system.now()),
        "contracts": system.manifest.contracts,
        "token": {"paused": t.paused(), "total_supply": supply, "total_minted": minted, "total_burned": burned, "total_wiped": wiped},
        "reserves": {
            "attestations": count,
            "latest_reserves": latest.totalReservesTiyin * TOKEN_UNITS_PER_TIYIN if latest else 0,
            "as_of": utc(latest.asOf) if latest else None,
            "age_seconds": system.now() - latest.asOf if latest else None,
            "max_age_seconds": cfg.maxAttestationAge,
            "fresh": fresh,
            "coverage_ratio": (latest.totalReservesTiyin * TOKEN_UNITS_PER_TIYIN / supply) if latest and supply else None,
            "mintable_supply": mintable,
            "headroom": headroom,
        },
        "minting": {
            "halted": cfg.mintingHalted,
            "per_tx_cap": cap,
            "global_window_limit": window_limit,
            "global_window_used": window_used,
            "global_window_available": window_available,
            "minters": {},
        },
        "pending_requests": pending_requests(system),
        "digital_reserve": [
            {"asset": b.asset, "symbol": b.symbol, "total": b.total, "complete": b.complete} for b in r.digitalReserveBalances()
        ],
    }
    for minter in system.manifest.roles["controller"]["minters"]:
        allowance, limit, used, available = c.minterStatus(minter)
        status["minting"]["minters"][minter] = {"allowance": allowance, "window_limit": limit, "window_used": used, "window_available": available}
    return status


def pending_requests(system: System) -> list[dict[str, Any]]:
    c = system.controller
    start, end = system.manifest.deploy_block, _latest(system) + 1
    ids = [bytes(log.depositRef) for log in c.MintRequested.range(start, end)]
    ids += [bytes(log.merkleRoot) for log in c.BatchMintRequested.range(start, end)]
    pending = []
    for request_id in ids:
        v = c.getRequest(request_id)
        if v.status == 1:
            pending.append({
                "id": "0x" + request_id.hex(), "kind": "batch" if v.kind == 1 else "single", "recipient": v.recipient,
                "amount": v.amount, "approvals": f"{v.approvals}/{v.approvalsRequired}", "expires": utc(v.expiresAt),
                "requester": v.requester,
            })
    return pending


def format_status(s: dict[str, Any]) -> str:
    tok, res, mint = s["token"], s["reserves"], s["minting"]
    coverage = f"{res['coverage_ratio'] * 100:.2f} %" if res["coverage_ratio"] else "n/a (no supply)"
    lines = [
        f"KGST on {s['network']} (chain {s['chain_id']}), block {s['block']}, {s['time']}",
        "",
        "Token",
        f"  total supply          {som_text(tok['total_supply'])}",
        f"  minted / burned / wiped  {som_text(tok['total_minted'])} / {som_text(tok['total_burned'])} / {som_text(tok['total_wiped'])}",
        f"  paused                {'YES' if tok['paused'] else 'no'}",
        "Reserves",
        f"  attested              {som_text(res['latest_reserves'])}  (attestation {res['attestations']}, as of {res['as_of']})",
        f"  age                   {res['age_seconds']} s of at most {res['max_age_seconds']} s: {'fresh' if res['fresh'] else 'STALE: minting blocked'}",
        f"  coverage              {coverage}",
        f"  headroom              {som_text(res['headroom'])}",
        "Minting",
        f"  halted                {'YES' if mint['halted'] else 'no'}",
        f"  per-transaction cap   {som_text(mint['per_tx_cap'])}",
        f"  global window         {som_text(mint['global_window_available'])} left of {som_text(mint['global_window_limit'])}",
    ]
    for minter, m in mint["minters"].items():
        lines.append(f"  minter {minter}  allowance {som_text(m['allowance'])}, window {som_text(m['window_available'])} left of {som_text(m['window_limit'])}")
    lines.append(f"Pending requests ({len(s['pending_requests'])})")
    for p in s["pending_requests"]:
        lines.append(f"  {p['id'][:18]}… {p['kind']:<6} {som_text(p['amount']):>24}  approvals {p['approvals']}, expires {p['expires']}")
    lines.append("National digital-asset reserve")
    for a in s["digital_reserve"]:
        total = f"{a['total'] / 10**18:,.6f} {a['symbol']}" if a["asset"] == ZERO else f"{a['total']} base units of {a['symbol']}"
        lines.append(f"  {a['symbol']:<8} {total}{'' if a['complete'] else '  (INCOMPLETE: a balance could not be read)'}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------
# Reconciliation
# ------------------------------------------------------------------------------------------------------


@dataclass
class Reconciliation:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, what: str, ok: bool, detail: str) -> None:
        self.checks.append((what, ok, detail))

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [{"check": w, "ok": ok, "detail": d} for w, ok, d in self.checks]}

    def format(self) -> str:
        lines = [f"[{'ok ' if ok else 'BAD'}] {what}: {detail}" for what, ok, detail in self.checks]
        lines.append("reconciled: everything adds up" if self.ok else "RECONCILIATION FAILED: see the BAD lines above")
        return "\n".join(lines)


def reconcile(system: System) -> Reconciliation:
    """Recomputes supply and balances from the token's events and checks them against its state, the
    controller's mint/redemption events and the attested reserves."""
    t, c, r = system.token, system.controller, system.registry
    start, end = system.manifest.deploy_block, _latest(system) + 1
    minted = burned = wiped_from_events = 0
    balances: dict[str, int] = defaultdict(int)
    for log in t.Transfer.range(start, end):
        sender, receiver, value = log["from"], log.to, log.value
        if sender == ZERO:
            minted += value
        else:
            balances[sender] -= value
        if receiver == ZERO:
            burned += value
        else:
            balances[receiver] += value
    wiped_from_events = sum(log.amount for log in t.Wiped.range(start, end))
    supply, total_minted, total_burned, total_wiped = t.supplyCounters()
    rec = Reconciliation()
    rec.check("supply counters", supply == total_minted - total_burned - total_wiped,
              f"totalSupply {som_text(supply)} = minted {som_text(total_minted)} - burned {som_text(total_burned)} - wiped {som_text(total_wiped)}")
    rec.check("minted (events)", minted == total_minted, f"Transfer events from 0x0 sum to {som_text(minted)}; counter {som_text(total_minted)}")
    rec.check("burned and wiped (events)", burned == total_burned + total_wiped and wiped_from_events == total_wiped,
              f"Transfer events to 0x0 sum to {som_text(burned)}, Wiped events to {som_text(wiped_from_events)}")
    rec.check("supply (events)", minted - burned == supply, f"minted - burned from events = {som_text(minted - burned)}; totalSupply {som_text(supply)}")
    wrong = [a for a, b in balances.items() if b != t.balanceOf(a)]
    rec.check("balances (events)", not wrong, f"{len(balances)} holders recomputed from events" + (f"; mismatched: {wrong[:5]}" if wrong else ""))
    rec.check("balances sum to supply", sum(balances.values()) == supply, f"sum of balances {som_text(sum(balances.values()))}")
    controller_minted = sum(log.amount for log in c.MintExecuted.range(start, end)) + sum(log.amount for log in c.BatchEntryMinted.range(start, end))
    rec.check("every mint went through the controller", controller_minted == minted,
              f"MintExecuted + BatchEntryMinted sum to {som_text(controller_minted)}")
    redeemed = sum(log.amount for log in c.Redeemed.range(start, end))
    rec.check("every burn is a redemption", redeemed == total_burned, f"Redeemed events sum to {som_text(redeemed)}; burned {som_text(total_burned)}")
    count = r.attestationCount()
    if count:
        reserves, _, _ = r.latestReserves()
        rec.check("supply within attested reserves", supply <= reserves, f"supply {som_text(supply)} vs attested {som_text(reserves)}")
    else:
        rec.check("supply within attested reserves", supply == 0, "no attestation yet" + ("" if supply == 0 else f" but supply is {som_text(supply)}"))
    return rec


# ------------------------------------------------------------------------------------------------------
# Chart
# ------------------------------------------------------------------------------------------------------


def supply_history(system: System) -> list[tuple[int, int]]:
    """(timestamp, total supply) after every block that minted, burned or wiped."""
    t = system.token
    start, end = system.manifest.deploy_block, _latest(system) + 1
    changes: dict[int, int] = defaultdict(int)
    for log in t.Transfer.range(start, end):
        if log["from"] == ZERO:
            changes[log.block_number] += log.value
        elif log.to == ZERO:
            changes[log.block_number] -= log.value
    history, supply = [], 0
    for block in sorted(changes):
        supply += changes[block]
        history.append((system.provider.get_block(block).timestamp, supply))
    return history


def reserve_history(system: System) -> list[tuple[int, int]]:
    r = system.registry
    return [(a.asOf, a.totalReservesTiyin * TOKEN_UNITS_PER_TIYIN) for a in (r.attestation(i) for i in range(r.attestationCount()))]


def write_chart(system: System, path: Path) -> Path:
    """A PNG of total supply versus attested reserves over the attestation history."""
    import datetime as dt

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reserves, supply = reserve_history(system), supply_history(system)
    now = system.now()
    if supply and reserves and reserves[0][0] < supply[0][0]:
        supply.insert(0, (reserves[0][0], 0))  # nothing was issued before the first mint
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=120)
    if reserves:
        xs = [dt.datetime.fromtimestamp(ts, dt.timezone.utc) for ts, _ in reserves] + [dt.datetime.fromtimestamp(now, dt.timezone.utc)]
        ys = [v / 1e18 / 1e6 for _, v in reserves] + [reserves[-1][1] / 1e18 / 1e6]
        ax.step(xs, ys, where="post", label="attested reserves", color="#1b7f3b", linewidth=2)
    if supply:
        xs = [dt.datetime.fromtimestamp(ts, dt.timezone.utc) for ts, _ in supply] + [dt.datetime.fromtimestamp(now, dt.timezone.utc)]
        ys = [v / 1e18 / 1e6 for _, v in supply] + [supply[-1][1] / 1e18 / 1e6]
        ax.step(xs, ys, where="post", label="KGST total supply", color="#c0392b", linewidth=2)
    ax.set_ylabel("million som")
    ax.set_title(f"KGST supply vs attested reserves ({system.manifest.network})")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


__all__ = ["collect_status", "format_status", "pending_requests", "reconcile", "Reconciliation", "write_chart", "STATUS_NAMES"]
