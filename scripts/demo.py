"""The end-to-end issuance scenario on an embedded local BNB-Chain-like node (`make demo`):

deploy the suite (custodians, auditors, minters, approvers, limits from config/local.yaml), attest reserves
2-of-3, mint against two bank deposits through maker-checker (and see a third refused until its deposit is
attested), transfer, transfer by EIP-2612 permit, freeze an account, redeem for som, attest again after the
payout, then print the status table, reconcile, and write the supply/reserves chart.

Every step goes through the same kgst functions as the individual commands (plans checked on-chain before
sending). All keys are Ape's public test keys: nothing here can hold value.
"""

import time
from pathlib import Path

import click

OUT = Path("out/demo")
PARAMS = Path("config/local.yaml")


def step(n: int, text: str) -> None:
    click.echo(click.style(f"\n[{n}] {text}", bold=True))


def send(plan, signer) -> None:
    """Runs a plan the way the commands do (no prompt: this is the demo), printing its preview."""
    from kgst.cli import show_plan
    from kgst.ops import execute

    show_plan(plan)
    if plan.problems:
        raise click.ClickException("refused: " + "; ".join(plan.problems))
    execute(plan, signer, log=lambda line: click.echo(f"  {line}"))


@click.command()
@click.option("--network", default="bsc:local:foundry", show_default=True, help="the embedded node (anvil, started and stopped here)")
def cli(network):
    """Run the whole issuance scenario and print what happened."""
    from ape import accounts, project

    from kgst import ops
    from kgst.amounts import parse_som
    from kgst.attestation import Attestation, report_hash_of, sign_with_account
    from kgst.cli import connected
    from kgst.deploy import deploy_suite
    from kgst.manifest import manifest_name
    from kgst.params import load_params
    from kgst.permit import sign_permit
    from kgst.report import collect_status, format_status, reconcile, write_chart

    started = time.monotonic()
    t = accounts.test_accounts
    deployer, compliance, minter = t[0], t[3], t[6]
    approvers, auditors = [t[8], t[9], t[10]], [t[11], t[12], t[13]]
    alice, bob, carol, dave = t[14], t[15], t[16], t[17]
    deployments = OUT / "deployments"
    with connected(network) as provider:
        step(1, f"Deploy on {network} (chain {provider.chain_id}) from {PARAMS}")
        params = load_params(PARAMS)
        manifest = deploy_suite(project, deployer, params, accounts=accounts, provider=provider,
                                network_label=manifest_name(provider), log=lambda line: click.echo(f"  {line}"))
        manifest.save(deployments / f"{manifest_name(provider)}.json")
        for key, address in manifest.contracts.items():
            click.echo(f"  {key:<22} {address}")
        click.echo("  verified on-chain: roles, limits and links match the parameters; the deployer holds no role")
        system = ops.System.load(project, provider, deployments)

        def attest(custodian_som, report_uri):
            attestation = Attestation(
                as_of=system.now() - 60,
                custodian_amounts=tuple((i, parse_som(a).tiyin) for i, a in enumerate(custodian_som)),
                report_hash=report_hash_of(report_uri.encode()),
                report_uri=report_uri,
            )
            signed = [sign_with_account(attestation, a, chain_id=provider.chain_id, registry=system.registry.address) for a in auditors[:2]]
            send(ops.plan_attest_submit(system, bob.address, signed), bob)

        step(2, "Auditors attest the som in the reserve accounts: the two deposits have arrived (2 of 3 sign)")
        attest(("1,000,000.00", "250,000.50", "80,000.00"), "ipfs://kgst-demo-attestation-1")

        step(3, "Mint against two bank deposits (maker opens, checkers re-state and approve, then execute)")
        for recipient, amount, reference in ((alice, "1,250,000.50", "DEMIR-2026-11-30-0001"), (bob, "80,000.00", "OPTIMA-2026-11-30-0042")):
            amount = parse_som(amount)
            send(ops.plan_mint_request(system, minter.address, recipient.address, amount, reference), minter)
            needed = system.controller.approvalsRequired(amount.units)
            for approver in approvers[:needed]:
                send(ops.plan_mint_approve(system, approver.address, reference, recipient.address, amount), approver)
            send(ops.plan_mint_execute(system, approvers[0].address, reference), approvers[0])
        click.echo("  a second request for DEMIR-2026-11-30-0001 is refused before anything is sent:")
        again = ops.plan_mint_request(system, minter.address, carol.address, parse_som("1,250,000.50"), "DEMIR-2026-11-30-0001")
        click.echo(f"    {again.problems[0]}")
        click.echo("  a third deposit, not yet in an attestation, is requested and approved but cannot execute:")
        third = parse_som("500,000.00")
        send(ops.plan_mint_request(system, minter.address, carol.address, third, "NBKR-2026-11-30-0107"), minter)
        for approver in approvers[: system.controller.approvalsRequired(third.units)]:
            send(ops.plan_mint_approve(system, approver.address, "NBKR-2026-11-30-0107", carol.address, third), approver)
        blocked = ops.plan_mint_execute(system, approvers[0].address, "NBKR-2026-11-30-0107")
        click.echo(f"    refused, nothing sent: {blocked.problems[0]}")

        step(4, "Alice transfers 50,000.00 KGST to Carol")
        receipt = system.token.transfer(carol, parse_som("50,000.00").units, sender=alice)
        click.echo(f"  transfer: tx {receipt.txn_hash} (gas {receipt.gas_used})")

        step(5, "Carol signs an EIP-2612 permit off-chain; Dave submits it and pulls 10,000.00 KGST")
        value = parse_som("10,000.00").units
        deadline = system.now() + 3600
        v, r, s = sign_permit(carol, token=system.token.address, chain_id=provider.chain_id, spender=dave.address,
                              value=value, nonce=system.token.nonces(carol), deadline=deadline)
        system.token.permit(carol, dave, value, deadline, v, r, s, sender=dave)
        receipt = system.token.transferFrom(carol, dave, value, sender=dave)
        click.echo(f"  permit + transferFrom: tx {receipt.txn_hash}; Dave now holds {system.token.balanceOf(dave) / 10**18:,.2f} KGST")

        step(6, "Compliance freezes Dave's account under a court order; his transfers now fail")
        send(ops.plan_freeze(system, compliance.address, "freeze", dave.address, "Bishkek court order 2026/1130"), compliance)
        blocked = ops.plan_redeem(system, dave.address, parse_som("100.00"), "PAYOUT DAVE 2026-11-30")
        click.echo(f"  Dave tries to redeem: refused, nothing sent: {blocked.problems[0]}")

        step(7, "Alice redeems 200,000.00 KGST for som (payout reference hashed on-chain, single-use)")
        send(ops.plan_redeem(system, alice.address, parse_som("200,000.00"), "PAYOUT DEMIR KG-1180000099999999 2026-11-30"), alice)

        step(8, "The desk pays out the som; an hour later auditors attest the lower reserves")
        provider.set_timestamp(system.now() + 3600)
        provider.mine()
        attest(("800,000.00", "250,000.50", "80,000.00"), "ipfs://kgst-demo-attestation-2")

        step(9, "Status, reconciliation and chart")
        status = collect_status(system)
        click.echo(format_status(status))
        result = reconcile(system)
        click.echo(result.format())
        chart = write_chart(system, OUT / "supply-vs-reserves.png")
        click.echo(f"chart written to {chart}")
        if not result.ok:
            raise click.ClickException("reconciliation failed")
    click.echo(click.style(f"\nDemo finished in {time.monotonic() - started:.1f} s.", bold=True))
