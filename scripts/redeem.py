"""Redemption: burn KGST for a som payout identified by a payout reference (single-use).

  ape run redeem holder --amount "5,000.00" --payout PAY-2026-0007 --account alias:holder
  ape run redeem desk   --amount "5,000.00" --payout PAY-2026-0008 --account alias:desk   (KGST sent to the redemption address)
"""

import click

from kgst import ops
from kgst.amounts import parse_som
from kgst.cli import common_options, handle_errors, run_command
from kgst.refs import payout_ref


@click.group()
def cli():
    """Redeem KGST for som."""


@cli.command()
@click.option("--amount", required=True, help='som, e.g. "5,000.00"')
@click.option("--payout", required=True, help="the payout reference (som bank account or payout id)")
@common_options
@handle_errors
def holder(amount, payout, **options):
    """A holder burns their own KGST (approves the controller first if needed)."""
    amount, _ = parse_som(amount), payout_ref(payout)
    run_command(lambda s, who: ops.plan_redeem(s, who, amount, payout), **options)


@cli.command()
@click.option("--amount", required=True, help='som, e.g. "5,000.00"')
@click.option("--payout", required=True, help="the payout reference")
@common_options
@handle_errors
def desk(amount, payout, **options):
    """The redemption desk burns KGST that holders sent to the redemption address (the controller)."""
    amount, _ = parse_som(amount), payout_ref(payout)
    run_command(lambda s, who: ops.plan_burn_redeemed(s, who, amount, payout), **options)
