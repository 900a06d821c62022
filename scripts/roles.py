"""Role changes. Removals are instant for the guardian; additions raise risk and go through the timelock
(`ape run governance schedule add-minter|add-approver|add-auditor|grant-token-role ...`).

  ape run roles remove-minter 0x.. --account alias:guardian
  ape run roles remove-approver 0x.. --account alias:guardian
  ape run roles remove-auditor 0x.. --account alias:guardian
  ape run roles deactivate-custodian 2 --account alias:guardian
"""

import click

from kgst import ops
from kgst.addresses import parse_address
from kgst.cli import common_options, handle_errors, run_command


@click.command()
@click.argument("action", type=click.Choice(sorted(ops.GUARDIAN_ACTIONS)))
@click.argument("target")
@common_options
@handle_errors
def cli(action, target, **options):
    """Remove a minter, approver or auditor, or deactivate a custodian (guardian, instant)."""
    if action != "deactivate-custodian":
        target = parse_address(target)
    elif not target.isdigit():
        raise click.BadParameter(f"custodian id must be a number, got {target!r}")
    run_command(lambda s, who: ops.plan_guardian_action(s, who, action, target), **options)
