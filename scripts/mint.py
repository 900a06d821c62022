"""Maker-checker minting against bank deposits.

  ape run mint request --recipient 0x.. --amount "1,250,000.50" --deposit DEP-2026-0042 --account alias:minter
  ape run mint approve --deposit DEP-2026-0042 --recipient 0x.. --amount "1,250,000.50" --account alias:approver
  ape run mint execute --deposit DEP-2026-0042 --account alias:approver
  ape run mint cancel  --deposit DEP-2026-0042 --account alias:guardian
"""

import click

from kgst import ops
from kgst.addresses import parse_address
from kgst.amounts import parse_som
from kgst.cli import common_options, handle_errors, run_command
from kgst.refs import deposit_ref


@click.group()
def cli():
    """Open, approve, execute or cancel a mint request."""


@cli.command()
@click.option("--recipient", required=True, help="address that receives the KGST")
@click.option("--amount", required=True, help='som, e.g. "1,250,000.50" (at most 2 decimals)')
@click.option("--deposit", required=True, help="the bank's reference for the som deposit")
@common_options
@handle_errors
def request(recipient, amount, deposit, **options):
    """Open a request (maker). Uses up the deposit reference."""
    recipient, amount, _ = parse_address(recipient, what="recipient"), parse_som(amount), deposit_ref(deposit)
    run_command(lambda s, who: ops.plan_mint_request(s, who, recipient, amount, deposit), **options)


@cli.command()
@click.option("--deposit", required=True, help="the bank's reference for the som deposit")
@click.option("--recipient", required=True, help="re-state the recipient from the bank documents")
@click.option("--amount", required=True, help="re-state the amount from the bank statement, in som")
@common_options
@handle_errors
def approve(deposit, recipient, amount, **options):
    """Approve a request (checker) by re-stating recipient and amount."""
    recipient, amount, _ = parse_address(recipient, what="recipient"), parse_som(amount), deposit_ref(deposit)
    run_command(lambda s, who: ops.plan_mint_approve(s, who, deposit, recipient, amount), **options)


@cli.command()
@click.option("--deposit", required=True, help="the bank's reference for the som deposit")
@common_options
@handle_errors
def execute(deposit, **options):
    """Mint an approved request (all limits and the reserve bound are checked)."""
    deposit_ref(deposit)
    run_command(lambda s, who: ops.plan_mint_execute(s, who, deposit), **options)


@cli.command()
@click.option("--deposit", required=True, help="the bank's reference for the som deposit")
@common_options
@handle_errors
def cancel(deposit, **options):
    """Cancel a request (its requester or a guardian)."""
    deposit_ref(deposit)
    run_command(lambda s, who: ops.plan_mint_cancel(s, who, deposit), **options)
