"""Batch minting from a CSV of (recipient, amount, deposit reference).

The file is validated completely before anything is sent (every bad row is listed). The minter requests the
batch by its Merkle root, entry count and total; each approver loads the same file, which must give the same
root. Execution mints chunks sized to stay far below BSC's per-transaction gas cap and within the
per-transaction cap; it is resumable: entries whose deposit reference is already used on-chain are skipped,
so a run killed halfway and started again mints each deposit exactly once.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ape.exceptions import ContractLogicError

from kgst.addresses import AddressError, parse_address
from kgst.amounts import AmountError, SomAmount, parse_som
from kgst.errors import explain, som_text
from kgst.merkle import BatchEntry, BatchMerkleTree
from kgst.ops import STATUS_NAMES, Call, OperationFailed, Plan, System
from kgst.refs import ReferenceFormatError, deposit_ref, to_hex

COLUMNS = ("recipient", "amount", "deposit_reference")
DEFAULT_CHUNK_SIZE = 100  # ~5 M gas per chunk of mints to new holders: under a third of BSC's 16.7 M cap


class BatchFileError(ValueError):
    """A CSV that cannot be minted; the message lists every bad row."""


@dataclass(frozen=True)
class BatchFile:
    path: Path
    entries: tuple[BatchEntry, ...]
    references: tuple[str, ...]  # the bank references as written, in file order
    tree: BatchMerkleTree

    @property
    def total(self) -> SomAmount:
        return SomAmount(sum(e.amount for e in self.entries) // 10**16)

    @property
    def root(self) -> bytes:
        return self.tree.root


def load_batch_csv(path: str | Path) -> BatchFile:
    """Reads and checks the whole file; raises BatchFileError naming every bad row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise BatchFileError(f"cannot read {path}: {err.strerror}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip().lower() for c in rows[0]] != list(COLUMNS):
        raise BatchFileError(f"{path}: the first line must be the header {','.join(COLUMNS)}")
    entries, references, problems, seen = [], [], [], {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            problems.append(f"line {line}: expected 3 columns, found {len(row)}")
            continue
        recipient, amount, reference = (cell.strip() for cell in row)
        try:
            entry = BatchEntry(parse_address(recipient, what="recipient"), parse_som(amount).units, deposit_ref(reference))
        except (AddressError, AmountError, ReferenceFormatError) as err:
            problems.append(f"line {line}: {err}")
            continue
        if entry.deposit_ref in seen:
            problems.append(f"line {line}: deposit reference {reference!r} repeats line {seen[entry.deposit_ref]}")
            continue
        seen[entry.deposit_ref] = line
        entries.append(entry)
        references.append(reference)
    if problems:
        raise BatchFileError(f"{path}: {len(problems)} bad row(s), nothing was sent:\n  " + "\n  ".join(problems))
    if not entries:
        raise BatchFileError(f"{path} has no entries")
    return BatchFile(path, tuple(entries), tuple(references), BatchMerkleTree(entries))


def used_references(system: System, batch: BatchFile, *, workers: int = 8) -> list[int]:
    """Indexes of entries whose deposit reference is already used on-chain (checked in parallel)."""
    check = system.controller.depositRefUsed
    with ThreadPoolExecutor(max_workers=workers) as pool:
        used = list(pool.map(lambda e: bool(check(e.deposit_ref)), batch.entries))
    return [i for i, u in enumerate(used) if u]


def _batch_lines(plan: Plan, batch: BatchFile, system: System) -> None:
    plan.add("file", batch.path)
    plan.add("entries", len(batch.entries))
    plan.add("total", f"{batch.total}  ({batch.total.words()})")
    plan.add("Merkle root", to_hex(batch.root))
    plan.add("approvals needed", system.controller.approvalsRequired(batch.total.units))
    plan.data.update(merkle_root=to_hex(batch.root), entries=len(batch.entries), total_units=batch.total.units)


def plan_batch_request(system: System, minter: str, batch: BatchFile) -> Plan:
    c = system.controller
    plan = Plan("Open a batch mint request (maker)", minter)
    _batch_lines(plan, batch, system)
    existing = system.request(batch.root)
    if existing is not None:
        if existing.requester == minter and existing.entryCount == len(batch.entries) and existing.status == 1:
            plan.nothing_to_do = f"this batch is already requested ({existing.approvals}/{existing.approvalsRequired} approvals)"
        else:
            plan.problems.append(f"a request with this Merkle root already exists ({STATUS_NAMES[existing.status]})")
        return plan
    used = used_references(system, batch)
    for i in used:
        plan.problems.append(f"deposit reference {batch.references[i]!r} is already used on-chain")
    allowance, _, _, _ = c.minterStatus(minter)
    if batch.total.units > allowance:
        plan.problems.append(f"the batch total {batch.total} is above this minter's remaining allowance of {som_text(allowance)}")
    plan.calls.append(Call("requestBatchMint", c.requestBatchMint, (batch.root, len(batch.entries), batch.total.units)))
    plan.check_by_simulation()
    return plan


def plan_batch_approve(system: System, approver: str, batch: BatchFile) -> Plan:
    c = system.controller
    plan = Plan("Approve a batch mint request (checker)", approver)
    _batch_lines(plan, batch, system)
    request = system.request(batch.root)
    if request is None:
        plan.problems.append("no batch request has this Merkle root: the file differs from the one the minter requested")
        return plan
    plan.add("request status", f"{STATUS_NAMES[request.status]}, {request.approvals}/{request.approvalsRequired} approvals")
    if request.entryCount != len(batch.entries) or request.amount != batch.total.units:
        plan.problems.append("the request's entry count or total differs from this file; do not approve")
        return plan
    if c.hasApproved(batch.root, approver):
        plan.nothing_to_do = "you already approved this batch"
        return plan
    plan.calls.append(Call("approveBatchMint", c.approveBatchMint, (batch.root, len(batch.entries), batch.total.units)))
    plan.check_by_simulation()
    return plan


def chunks(batch: BatchFile, indexes: list[int], *, chunk_size: int, per_tx_cap: int) -> list[list[int]]:
    """Splits entries into chunks of at most `chunk_size` entries and `per_tx_cap` base units each."""
    result: list[list[int]] = []
    current: list[int] = []
    amount = 0
    for i in indexes:
        entry_amount = batch.entries[i].amount
        if current and (len(current) == chunk_size or amount + entry_amount > per_tx_cap):
            result.append(current)
            current, amount = [], 0
        current.append(i)
        amount += entry_amount
    if current:
        result.append(current)
    return result


@dataclass
class BatchRun:
    entries: int
    already_minted: int
    minted_now: int
    chunks_sent: int
    transactions: list[str]

    @property
    def complete(self) -> bool:
        return self.already_minted + self.minted_now == self.entries


def execute_batch(
    system: System,
    signer,
    batch: BatchFile,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_chunk: Callable[[int, int], None] = lambda done, total: None,
) -> BatchRun:
    """Mints every entry not yet minted, chunk by chunk. Safe to rerun: used references are skipped."""
    request = system.request(batch.root)
    if request is None:
        raise OperationFailed("no batch request has this Merkle root: request and approve it first")
    used = set(used_references(system, batch))
    remaining = [i for i in range(len(batch.entries)) if i not in used]
    cap, _, _, _ = system.controller.globalStatus()
    run = BatchRun(len(batch.entries), len(used), 0, 0, [])
    for chunk in chunks(batch, remaining, chunk_size=chunk_size, per_tx_cap=cap):
        entries, proof, flags = batch.tree.multiproof(chunk)
        try:
            receipt = system.controller.executeBatchChunk(batch.root, [tuple(e) for e in entries], proof, flags, sender=signer)
        except ContractLogicError as err:
            raise OperationFailed(
                f"chunk {run.chunks_sent + 1} was refused: {explain(err)}; {run.already_minted + run.minted_now} of "
                f"{run.entries} entries are minted and the rest stay executable: rerun to continue"
            ) from None
        run.minted_now += len(chunk)
        run.chunks_sent += 1
        run.transactions.append(receipt.txn_hash)
        on_chunk(run.already_minted + run.minted_now, run.entries)
    return run
