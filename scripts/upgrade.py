"""Prepare a token upgrade: check the storage layout of the token's current source against the released
snapshot, deploy the new implementation, and print the governance command that schedules the upgrade.

  ape run upgrade prepare --account alias:kgst-deployer
  ape run governance schedule upgrade-token 0x<new implementation> --account alias:governance
"""

import json

import click

from kgst.cli import NOTHING_SENT, CommandError, common_options, connected, handle_errors, signer_for
from kgst.storage_layout import compare_layouts, extract_layout, load_snapshot


@click.group()
def cli():
    """Token upgrades (the upgrade itself is a timelocked governance change)."""


@cli.command()
@common_options
@handle_errors
def prepare(network, account, yes, dry_run, as_json, deployments):
    """Check the layout, deploy the new implementation, and show how to schedule the upgrade."""
    from ape import project

    from kgst.ops import System

    problems = compare_layouts(load_snapshot(), extract_layout())
    if problems:
        raise CommandError("the token's storage layout is not upgrade-safe: " + "; ".join(problems) + f". {NOTHING_SENT}")
    with connected(network) as provider:
        system = System.load(project, provider, deployments)
        signer = signer_for(account, provider)
        current = system.manifest.contracts["token_implementation"]
        if dry_run:
            click.echo(f"dry run: the layout is upgrade-safe; a new implementation would replace {current}. {NOTHING_SENT}")
            return
        if not yes and not click.confirm("Deploy the new token implementation?", default=False):
            raise click.exceptions.Exit(1)
        implementation = signer.deploy(project.KGSTToken)
    schedule = f"ape run governance schedule upgrade-token {implementation.address} --network {network} --account <governance>"
    result = {"ok": True, "implementation": implementation.address, "replaces": current, "schedule_with": schedule}
    click.echo(json.dumps(result, indent=2) if as_json else
               f"storage layout checked; new implementation at {implementation.address} (replaces {current})\nschedule it with:\n  {schedule}")
