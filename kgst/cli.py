"""What every operations command shares: options, connecting to a network with clear errors, showing a plan,
asking for confirmation, and printing the result for a person (text) or a machine (--json).

Exit codes: 0 done (or nothing to do), 1 refused by the operator at the prompt, 2 bad input or refused
before anything was sent, 3 a transaction failed after earlier ones of the same command were sent.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from kgst.accounts import AccountRefError, load_signer
from kgst.addresses import AddressError
from kgst.amounts import AmountError
from kgst.attestation import AttestationError
from kgst.deploy import DeploymentError
from kgst.governance import GovernanceInputError
from kgst.manifest import DEPLOYMENTS_DIR, ManifestError
from kgst.ops import OperationFailed, Plan, execute
from kgst.params import ParamsError
from kgst.refs import ReferenceFormatError
from kgst.storage_layout import StorageLayoutError

DEFAULT_NETWORK = "bsc:dev"
# The node URL each public network (and its local fork) reads from the environment (ape-config.yaml).
RPC_VARIABLES = {"testnet": "BSC_TESTNET_RPC", "mainnet": "BSC_MAINNET_RPC"}
NOTHING_SENT = "Nothing was sent."
INPUT_ERRORS = (AmountError, AddressError, ReferenceFormatError, ParamsError, ManifestError, AccountRefError,
                AttestationError, DeploymentError, GovernanceInputError, StorageLayoutError)


class CommandError(click.ClickException):
    """Printed as 'error: <message>' with exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


def network_option(f: Callable) -> Callable:
    return click.option(
        "--network",
        default=DEFAULT_NETWORK,
        show_default=True,
        help="bsc:dev (the local node from `make node`), bsc:rehearsal (anvil as BSC testnet, chain 97, "
        "`make rehearsal-node`), bsc:testnet (needs BSC_TESTNET_RPC), or any Ape network choice",
    )(f)


def common_options(f: Callable) -> Callable:
    """--network, --account, --yes, --dry-run, --json, --deployments."""
    f = click.option("--deployments", type=click.Path(path_type=Path), default=DEPLOYMENTS_DIR, show_default=True,
                     help="folder of deployment manifests")(f)
    f = click.option("--json", "as_json", is_flag=True, help="print the result as JSON (for automation)")(f)
    f = click.option("--dry-run", is_flag=True, help="check everything on-chain and simulate; send nothing")(f)
    f = click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation (automation)")(f)
    f = click.option("--account", required=True, help="who signs: alias:NAME (ape accounts), test:N (local only) or 0x...")(f)
    return network_option(f)


def handle_errors(f: Callable) -> Callable:
    """Turns input and refusal errors into one clear line and the right exit code."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except INPUT_ERRORS as err:
            raise CommandError(f"{err}. {NOTHING_SENT}") from None
        except OperationFailed as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(3)

    return wrapper


@contextmanager
def connected(network: str) -> Iterator[Any]:
    """Connects to `network` for the duration of the block; fails with a message an operator understands."""
    from ape import networks
    from ape.exceptions import ApeException, NetworkError

    for chain_name, variable in RPC_VARIABLES.items():
        uses_default_uri = network.count(":") < 3  # bsc:testnet or bsc:testnet:node, not bsc:testnet:node:<url>
        if f":{chain_name}" in network and uses_default_uri and not os.environ.get(variable):
            raise CommandError(f"{variable} is not set: export the URL of your BSC {chain_name} RPC node. {NOTHING_SENT}")
    try:
        context = networks.parse_network_choice(network)
    except NetworkError as err:
        raise CommandError(f"unknown network {network!r} ({err}); see `ape networks list`. {NOTHING_SENT}") from None
    try:
        provider = context.__enter__()
    except (ApeException, OSError, ConnectionError) as err:
        raise CommandError(f"cannot reach the node for {network}: {_first_line(err)}. Is it running? {NOTHING_SENT}") from None
    try:
        yield provider
    finally:
        context.__exit__(None, None, None)


def signer_for(ref: str, provider):
    from ape import accounts

    return load_signer(ref, accounts=accounts, provider=provider)


def run_plan(plan: Plan, signer, *, yes: bool, dry_run: bool, as_json: bool) -> None:
    """Shows the plan; stops if anything blocks it or there is nothing to do; confirms; sends; reports."""
    if not as_json:
        show_plan(plan)
    if plan.problems:
        _finish(plan, as_json, ok=False, message="refused: " + "; ".join(plan.problems) + f". {NOTHING_SENT}", code=2)
    if plan.nothing_to_do:
        _finish(plan, as_json, ok=True, message=f"nothing to do: {plan.nothing_to_do}. {NOTHING_SENT}", code=0)
    if dry_run:
        _finish(plan, as_json, ok=True, message=f"dry run: every check passed and the transaction simulates cleanly. {NOTHING_SENT}", code=0)
    if not yes and not click.confirm(f"Send {len(plan.calls)} transaction(s) as {plan.signer}?", default=False):
        _finish(plan, as_json, ok=False, message=f"cancelled at the prompt. {NOTHING_SENT}", code=1)
    outcome = execute(plan, signer, log=(lambda _: None) if as_json else click.echo)
    if as_json:
        click.echo(json.dumps({"ok": True, **outcome.to_json()}, indent=2, default=str))
    else:
        click.echo(f"done: {plan.title.lower()}.")


def show_plan(plan: Plan) -> None:
    click.echo(click.style(plan.title, bold=True))
    width = max((len(label) for label, _ in plan.preview), default=0)
    for label, value in plan.preview:
        click.echo(f"  {label:<{width}}  {value}")
    for warning in plan.warnings:
        click.echo(click.style(f"  warning: {warning}", fg="yellow"))
    if plan.calls and not plan.problems and not plan.nothing_to_do:
        click.echo("  will send: " + ", then ".join(c.description for c in plan.calls) + f" (signed by {plan.signer})")


def emit(data: dict[str, Any], text: str, as_json: bool) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


def _finish(plan: Plan, as_json: bool, *, ok: bool, message: str, code: int) -> None:
    if as_json:
        click.echo(json.dumps({"ok": ok, "message": message, **plan.to_json()}, indent=2, default=str))
    else:
        click.echo(message, err=not ok)
    sys.exit(code)


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0].rstrip(".") if text else type(err).__name__


def run_command(build: Callable, *, network: str, account: str, yes: bool, dry_run: bool, as_json: bool, deployments: Path) -> None:
    """Connects, loads the deployment, resolves the signer, builds the plan with `build(system, signer_address)`
    and runs it: the body of every plan-based command."""
    from ape import project

    from kgst.ops import System

    with connected(network) as provider:
        system = System.load(project, provider, deployments)
        signer = signer_for(account, provider)
        run_plan(build(system, signer.address), signer, yes=yes, dry_run=dry_run, as_json=as_json)
