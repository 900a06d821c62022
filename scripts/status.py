"""Where KGST stands: supply and counters, attested reserves and their age, coverage, limits left, pending
requests, the digital-asset reserve.

  ape run status                      (a table)
  ape run status --json               (for machines)
  ape run status --chart out/supply.png
"""

from pathlib import Path

import click

from kgst.cli import connected, emit, handle_errors, network_option
from kgst.report import collect_status, format_status, write_chart


@click.command()
@network_option
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--chart", type=click.Path(path_type=Path), help="write a PNG of supply vs attested reserves")
@click.option("--deployments", type=click.Path(path_type=Path), default=Path("deployments"))
@handle_errors
def cli(network, as_json, chart, deployments):
    """Show the status of the deployment on NETWORK."""
    from ape import project

    from kgst.ops import System

    with connected(network) as provider:
        system = System.load(project, provider, deployments)
        status = collect_status(system)
        if chart:
            status["chart"] = str(write_chart(system, chart))
    text = format_status(status) + (f"\nchart written to {chart}" if chart else "")
    emit(status, text, as_json)
