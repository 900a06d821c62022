"""Emergency switches: pause/unpause the token (pauser), halt minting (guardian). Resuming minting is a
timelocked governance change: `ape run governance schedule resume-minting`.

  ape run emergency pause --account alias:guardian
  ape run emergency halt-minting --account alias:guardian
"""

import click

from kgst import ops
from kgst.cli import common_options, handle_errors, run_command


@click.command()
@click.argument("action", type=click.Choice(["pause", "unpause", "halt-minting"]))
@common_options
@handle_errors
def cli(action, **options):
    """Pause or unpause the token, or halt minting."""
    if action == "halt-minting":
        run_command(lambda s, who: ops.plan_halt_minting(s, who), **options)
    else:
        run_command(lambda s, who: ops.plan_pause(s, who, action == "pause"), **options)
