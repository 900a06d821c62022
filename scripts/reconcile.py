"""Recompute supply and balances from events and check: totalSupply = minted - burned - wiped <= reserves.
Exits 1 when anything does not add up.

  ape run reconcile [--json]
"""

import sys
from pathlib import Path

import click

from kgst.cli import connected, emit, handle_errors, network_option
from kgst.report import reconcile


@click.command()
@network_option
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--deployments", type=click.Path(path_type=Path), default=Path("deployments"))
@handle_errors
def cli(network, as_json, deployments):
    """Reconcile the deployment on NETWORK."""
    from ape import project

    from kgst.ops import System

    with connected(network) as provider:
        result = reconcile(System.load(project, provider, deployments))
    emit(result.to_json(), result.format(), as_json)
    if not result.ok:
        sys.exit(1)
