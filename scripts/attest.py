"""Reserve attestations: prepare the figures, each auditor signs them with their own key, anyone submits.

  ape run attest prepare --amount 0="300,000,000.00" --amount 1="200,000,000.00" --report report.pdf \
      --uri ipfs://... --out attestation.json            (as of now; or --as-of 2026-11-30T00:00:00Z)
  ape run attest sign attestation.json --account alias:auditor-1 --out sig-1.json
  ape run attest submit sig-1.json sig-2.json --account alias:anyone
"""

import datetime as dt
import json
from pathlib import Path

import click

from kgst import ops
from kgst.amounts import parse_som
from kgst.attestation import Attestation, AttestationError, SignedAttestation, report_hash_of, sign_with_account
from kgst.cli import common_options, connected, handle_errors, network_option, run_command, signer_for


@click.group()
def cli():
    """Prepare, sign and submit reserve attestations."""


@cli.command()
@click.option("--amount", "amounts", multiple=True, required=True, help='CUSTODIAN_ID=SOM, e.g. 0="300,000,000.00" (repeat)')
@click.option("--report", type=click.Path(exists=True, path_type=Path), required=True, help="the auditor's report document")
@click.option("--uri", required=True, help="where the report can be read (ipfs://..., https://...)")
@click.option("--as-of", "as_of", help="when the balances were measured, ISO 8601 UTC (default: the previous minute)")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@handle_errors
def prepare(amounts, report, uri, as_of, out):
    """Write the attestation for auditors to check and sign."""
    pairs = []
    for item in amounts:
        custodian, _, amount = item.partition("=")
        if not custodian.strip().isdigit():
            raise click.BadParameter(f"expected CUSTODIAN_ID=SOM, got {item!r}")
        pairs.append((int(custodian), parse_som(amount, allow_zero=True).tiyin))
    if as_of:
        when = dt.datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    else:
        # The start of the previous minute: a chain whose clock runs a few seconds behind still accepts it.
        when = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    attestation = Attestation(int(when.timestamp()), tuple(sorted(pairs)), report_hash_of(report.read_bytes()), uri)
    out.write_text(json.dumps(attestation.to_json(), indent=2) + "\n")
    click.echo(f"attestation of {attestation.total} ({attestation.total.words()}) as of {when.isoformat()} written to {out}")


@cli.command()
@click.argument("attestation_file", type=click.Path(exists=True, path_type=Path))
@click.option("--account", required=True, help="the auditor's account: alias:NAME (or test:N locally)")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--deployments", type=click.Path(path_type=Path), default=Path("deployments"))
@network_option
@handle_errors
def sign(attestation_file, account, out, deployments, network):
    """Sign an attestation as an auditor (binds it to this network's chain id and registry)."""
    from ape import project

    from kgst.ops import System

    try:
        attestation = Attestation.from_json(json.loads(attestation_file.read_text()))
    except json.JSONDecodeError as err:
        raise AttestationError(f"{attestation_file} is not JSON: {err}") from None
    with connected(network) as provider:
        system = System.load(project, provider, deployments)
        signer = signer_for(account, provider)
        signed = sign_with_account(attestation, signer, chain_id=provider.chain_id, registry=system.registry.address)
    signed.save(out)
    click.echo(f"{signed.auditor} signed {attestation.total} as of {attestation.as_of}; signature written to {out}")


@cli.command()
@click.argument("signature_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@common_options
@handle_errors
def submit(signature_files, **options):
    """Submit an attestation with its auditors' signature files."""
    signed = [SignedAttestation.load(p) for p in signature_files]
    run_command(lambda s, who: ops.plan_attest_submit(s, who, signed), **options)
