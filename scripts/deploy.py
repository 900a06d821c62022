"""Deploy the KGST suite from a parameters file, verify it on-chain, and write deployments/<network>.json.

  ape run deploy --network bsc:dev --params config/local.yaml --account test:0
  ape run deploy --network bsc:rehearsal --params config/rehearsal.yaml --account test:0
  ape run deploy --network bsc:testnet --params config/testnet.yaml --account alias:kgst-deployer
"""

import json

import click

from kgst.cli import NOTHING_SENT, CommandError, common_options, connected, handle_errors, signer_for
from kgst.deploy import deploy_suite, resolve_roles
from kgst.manifest import Manifest, manifest_name, manifest_path
from kgst.params import load_params
from kgst.verification import write_verification_inputs


@click.command()
@click.option("--params", "params_file", required=True, type=click.Path(), help="parameters file, e.g. config/local.yaml")
@click.option("--redeploy", is_flag=True, help="deploy again although this network already has a live deployment")
@common_options
@handle_errors
def cli(params_file, redeploy, network, account, yes, dry_run, as_json, deployments):
    """Deploy timelock, reserve registry, token (proxy) and issuance controller, wired and verified."""
    from ape import accounts, project

    params = load_params(params_file)  # every field is checked before connecting
    with connected(network) as provider:
        path = manifest_path(provider, deployments)
        if path.exists() and not redeploy:
            existing = Manifest.load(path)
            if existing.chain_id == provider.chain_id and provider.get_code(existing.contracts["token"]):
                raise CommandError(
                    f"{network} already has a deployment ({path}, token {existing.contracts['token']}); "
                    f"pass --redeploy to deploy a second one. {NOTHING_SENT}"
                )
        if params.chain_id is not None and params.chain_id != provider.chain_id:
            raise CommandError(f"{params_file} is for chain {params.chain_id}, the node is chain {provider.chain_id}. {NOTHING_SENT}")
        deployer = signer_for(account, provider)
        roles = resolve_roles(params, accounts=accounts, provider=provider)
        summary = {
            "network": network, "chain_id": provider.chain_id, "deployer": deployer.address,
            "deployer_balance_bnb": provider.get_balance(deployer.address) / 10**18,
            "timelock_delay_seconds": params.timelock_delay_seconds, "governance": list(roles.governance),
            "guardian": roles.guardian, "minters": list(roles.minters), "approvers": list(roles.approvers),
            "auditors": f"{params.auditor_threshold} of {len(roles.auditors)}", "custodians": len(params.custodians),
            "per_tx_cap": str(params.per_tx_cap), "global_window_limit": str(params.global_window_limit),
        }
        if not as_json:
            click.echo(click.style("Deploy the KGST suite", bold=True))
            for key, value in summary.items():
                click.echo(f"  {key:<24} {value}")
        if dry_run:
            click.echo(json.dumps({"ok": True, "dry_run": True, **summary}, indent=2) if as_json else f"dry run: parameters and accounts check out. {NOTHING_SENT}")
            return
        if not yes and not click.confirm("Deploy (about 8 transactions)?", default=False):
            raise click.exceptions.Exit(1)
        log = (lambda _: None) if as_json else (lambda line: click.echo(f"  {line}"))
        manifest = deploy_suite(project, deployer, params, accounts=accounts, provider=provider,
                                network_label=manifest_name(provider), log=log)
        manifest.save(path)
        verification = write_verification_inputs(project, manifest, deployments / f"{manifest_name(provider)}-verify")
        result = {"ok": True, "manifest": str(path), "verification_inputs": str(verification), **manifest.contracts}
        if as_json:
            click.echo(json.dumps(result, indent=2))
        else:
            click.echo("verified on-chain: every role holder, limit and link matches the parameters")
            for key, address in manifest.contracts.items():
                click.echo(f"  {key:<22} {address}")
            click.echo(f"manifest written to {path}; BscScan verification inputs in {verification}")
