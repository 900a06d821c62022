"""Batch minting from a CSV with columns recipient,amount,deposit_reference.

  ape run batch_mint request payouts.csv --account alias:minter
  ape run batch_mint approve payouts.csv --account alias:approver      (each approver, with the same file)
  ape run batch_mint execute payouts.csv --account alias:approver      (resumable: rerun after any failure)
"""

import json

import click

from kgst import batch, ops
from kgst.cli import NOTHING_SENT, CommandError, common_options, connected, handle_errors, run_command, signer_for


@click.group()
def cli():
    """Validate, request, approve and execute a batch of mints."""


def _load(path):
    try:
        return batch.load_batch_csv(path)
    except batch.BatchFileError as err:
        raise CommandError(str(err)) from None


@cli.command()
@click.argument("csv_file", type=click.Path())
@common_options
@handle_errors
def request(csv_file, **options):
    """Open one request for every row (maker): Merkle root, count and total."""
    entries = _load(csv_file)
    run_command(lambda s, who: batch.plan_batch_request(s, who, entries), **options)


@cli.command()
@click.argument("csv_file", type=click.Path())
@common_options
@handle_errors
def approve(csv_file, **options):
    """Approve a batch (checker): the same file must give the requested root, count and total."""
    entries = _load(csv_file)
    run_command(lambda s, who: batch.plan_batch_approve(s, who, entries), **options)


@cli.command()
@click.argument("csv_file", type=click.Path())
@click.option("--chunk-size", default=batch.DEFAULT_CHUNK_SIZE, show_default=True, help="entries per transaction")
@common_options
@handle_errors
def execute(csv_file, chunk_size, network, account, yes, dry_run, as_json, deployments):
    """Mint every entry not yet minted, in chunks (each deposit reference mints once, even across reruns)."""
    from ape import project

    entries = _load(csv_file)
    with connected(network) as provider:
        system = ops.System.load(project, provider, deployments)
        signer = signer_for(account, provider)
        remaining = len(entries.entries) - len(batch.used_references(system, entries))
        if not as_json:
            click.echo(f"{csv_file}: {len(entries.entries)} entries, {remaining} still to mint, total {entries.total}")
        if remaining == 0:
            click.echo(json.dumps({"ok": True, "nothing_to_do": True}) if as_json else f"nothing to do: every entry is minted. {NOTHING_SENT}")
            return
        if dry_run:
            click.echo(f"dry run: {remaining} entries would be minted in chunks of up to {chunk_size}. {NOTHING_SENT}")
            return
        if not yes and not click.confirm(f"Mint {remaining} entries as {signer.address}?", default=False):
            raise click.exceptions.Exit(1)
        if as_json:
            run = batch.execute_batch(system, signer, entries, chunk_size=chunk_size)
        else:
            with click.progressbar(length=len(entries.entries), label="minting") as bar:
                bar.update(len(entries.entries) - remaining)
                run = batch.execute_batch(system, signer, entries, chunk_size=chunk_size,
                                          on_chunk=lambda done, total: bar.update(done - bar.pos))
        result = {"ok": True, "entries": run.entries, "already_minted": run.already_minted, "minted_now": run.minted_now,
                  "chunks": run.chunks_sent, "transactions": run.transactions, "complete": run.complete}
        click.echo(json.dumps(result, indent=2) if as_json else
                   f"done: minted {run.minted_now} entries in {run.chunks_sent} transaction(s); batch complete: {run.complete}")
