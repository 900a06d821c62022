"""Timelocked governance: schedule a risk-raising change, list what is queued, execute it after the delay,
or cancel it (guardian).

  ape run governance actions
  ape run governance schedule set-per-tx-cap "20,000,000.00" --account alias:governance
  ape run governance list
  ape run governance execute 0x<operation id> --account alias:governance
  ape run governance cancel 0x<operation id> --account alias:guardian
"""

import click

from kgst import governance
from kgst.cli import common_options, connected, emit, handle_errors, network_option, run_command


@click.group()
def cli():
    """Schedule, list, execute or cancel timelocked changes."""


@cli.command()
def actions():
    """The changes that can be scheduled, with their arguments."""
    for name, action in sorted(governance.ACTIONS.items()):
        click.echo(f"  {name} {action.usage}")


@cli.command()
@click.argument("action")
@click.argument("args", nargs=-1)
@common_options
@handle_errors
def schedule(action, args, **options):
    """Queue ACTION with ARGS behind the timelock delay (governance proposer)."""
    if action not in governance.ACTIONS:
        raise click.BadParameter(f"unknown action {action!r}; see `ape run governance actions`")
    run_command(lambda s, who: governance.plan_schedule(s, who, action, list(args)), **options)


@cli.command(name="list")
@network_option
@click.option("--json", "as_json", is_flag=True)
@click.option("--deployments", type=click.Path(), default="deployments")
@handle_errors
def list_(network, as_json, deployments):
    """Every scheduled change and its state (waiting / ready / done / cancelled)."""
    from pathlib import Path

    from ape import project

    from kgst.ops import System

    with connected(network) as provider:
        operations = governance.list_operations(System.load(project, provider, Path(deployments)))
    rows = [op.to_json() for op in operations]
    text = "\n".join(f"{r['id']}  {r['state']:<9} ready {r['ready_at']}  target {r['target']}" for r in rows) or "no scheduled operations"
    emit({"operations": rows}, text, as_json)


@cli.command()
@click.argument("operation_id")
@common_options
@handle_errors
def execute(operation_id, **options):
    """Run a scheduled change whose delay has passed (governance executor)."""
    run_command(lambda s, who: governance.plan_execute(s, who, operation_id), **options)


@cli.command()
@click.argument("operation_id")
@common_options
@handle_errors
def cancel(operation_id, **options):
    """Cancel a scheduled change (guardian)."""
    run_command(lambda s, who: governance.plan_cancel(s, who, operation_id), **options)
