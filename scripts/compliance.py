"""Asset protection: freeze, unfreeze, wipe (burn a frozen balance), each with a case reference.

  ape run compliance freeze   --address 0x.. --case "Court order 2026/114" --account alias:compliance
  ape run compliance unfreeze --address 0x.. --case "Court order 2026/114 lifted" --account alias:compliance
  ape run compliance wipe     --address 0x.. --case "Confiscation order 2026/120" --account alias:compliance
"""

import click

from kgst import ops
from kgst.addresses import parse_address
from kgst.cli import common_options, handle_errors, run_command
from kgst.refs import case_ref


@click.command()
@click.argument("action", type=click.Choice(["freeze", "unfreeze", "wipe"]))
@click.option("--address", required=True, help="the account")
@click.option("--case", required=True, help="court order or case number (its hash goes on-chain)")
@common_options
@handle_errors
def cli(action, address, case, **options):
    """Freeze, unfreeze or wipe an account."""
    account, _ = parse_address(address, what="account"), case_ref(case)
    run_command(lambda s, who: ops.plan_freeze(s, who, action, account, case), **options)
