"""`ape run batch_mint`: a CSV validated whole before anything is sent, a batch approved once by Merkle root,
executed in chunks, and resumable: a process killed halfway and started again mints each deposit once."""

import csv
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path


from kgst.batch import load_batch_csv
from tests.suite import APPROVERS, HOLDERS, MINTERS, ROOT, som

MINTER = f"test:{MINTERS[0]}"
APPROVER_ACCOUNTS = [f"test:{i}" for i in APPROVERS]


def write_csv(path: Path, rows) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["recipient", "amount", "deposit_reference"])
        writer.writerows(rows)
    return path


def fresh_recipients(n: int) -> list[str]:
    from eth_account import Account

    return [Account.create().address for _ in range(n)]


def approve_all(commands, csv_path: Path, total_som: int) -> None:
    needed = 1 if total_som <= 100_000 else 2 if total_som <= 1_000_000 else 3
    for approver in APPROVER_ACCOUNTS[:needed]:
        result = commands.run("batch_mint", "approve", str(csv_path), "--account", approver, "--yes")
        assert result.exit_code == 0, result.output


def test_every_bad_row_is_listed_and_nothing_is_sent(deployed, accounts, tmp_path):
    good = accounts[HOLDERS[0]].address
    path = write_csv(tmp_path / "bad.csv", [
        [good, "10.00", "DEP-1"],
        ["0x12", "10.00", "DEP-2"],
        [good, "10.001", "DEP-3"],
        [good, "10.00", "dep-1"],  # same reference as line 2 once normalised
        [good, "-5", "DEP-5"],
        [good, "5.00"],
    ])
    before = accounts[MINTERS[0]].nonce
    result = deployed.run("batch_mint", "request", str(path), "--account", MINTER, "--yes")
    assert result.exit_code == 2
    for line in ("line 3", "line 4", "line 5", "line 6", "line 7"):
        assert line in result.output
    assert "repeats line 2" in result.output and "nothing was sent" in result.output.lower()
    assert accounts[MINTERS[0]].nonce == before


def test_batch_request_approve_and_chunked_execution(funded, tmp_path):
    commands, suite = funded
    recipients = fresh_recipients(30)
    path = write_csv(tmp_path / "payouts.csv", [[r, f"{1000 + i}.{i:02d}", f"PAYOUT-2026-{i:04d}"] for i, r in enumerate(recipients)])
    batch = load_batch_csv(path)
    requested = commands.json("batch_mint", "request", str(path), "--account", MINTER, "--yes")
    assert requested["ok"] and requested["merkle_root"] == "0x" + batch.root.hex() and requested["entries"] == 30
    assert "nothing to do" in commands.run("batch_mint", "request", str(path), "--account", MINTER, "--yes").output
    approve_all(commands, path, batch.total.tiyin // 100)
    executed = commands.json("batch_mint", "execute", str(path), "--account", APPROVER_ACCOUNTS[0], "--yes", "--chunk-size", "7")
    assert executed["complete"] and executed["minted_now"] == 30 and executed["chunks"] == 5
    for entry in batch.entries:
        assert suite.token.balanceOf(entry.recipient) == entry.amount
    again = commands.run("batch_mint", "execute", str(path), "--account", APPROVER_ACCOUNTS[0], "--yes")
    assert again.exit_code == 0 and "nothing to do: every entry is minted" in again.output


def test_an_approver_with_a_different_file_is_refused(funded, tmp_path):
    commands, _ = funded
    recipients = fresh_recipients(3)
    path = write_csv(tmp_path / "a.csv", [[r, "100.00", f"DEP-A-{i}"] for i, r in enumerate(recipients)])
    altered = write_csv(tmp_path / "b.csv", [[r, "100.00" if i else "1000.00", f"DEP-A-{i}"] for i, r in enumerate(recipients)])
    commands.run("batch_mint", "request", str(path), "--account", MINTER, "--yes")
    result = commands.run("batch_mint", "approve", str(altered), "--account", APPROVER_ACCOUNTS[0], "--yes")
    assert result.exit_code == 2 and "differs from the one the minter requested" in result.output


def test_a_batch_killed_halfway_and_rerun_mints_each_deposit_exactly_once(funded, tmp_path, node_url):
    commands, suite = funded
    recipients = fresh_recipients(120)
    path = write_csv(tmp_path / "kill.csv", [[r, "250.00", f"KILL-{i:04d}"] for i, r in enumerate(recipients)])
    batch = load_batch_csv(path)
    commands.run("batch_mint", "request", str(path), "--account", MINTER, "--yes")
    approve_all(commands, path, 30_000)
    # A real operator process, killed with SIGKILL once some chunks (of 10) have landed.
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "ape"), "run", "batch_mint", "execute", str(path), "--account", APPROVER_ACCOUNTS[0],
         "--yes", "--chunk-size", "10", "--network", f"bsc:dev:{node_url}", "--deployments", str(commands.deployments)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while suite.controller.getRequest(batch.root).executedCount < 30 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before_rerun = suite.controller.getRequest(batch.root).executedCount
    assert 0 < done_before_rerun < 120, "the process must be killed halfway for this test to mean something"
    rerun = commands.json("batch_mint", "execute", str(path), "--account", APPROVER_ACCOUNTS[0], "--yes", "--chunk-size", "10")
    assert rerun["already_minted"] == done_before_rerun and rerun["complete"]
    minted = Counter(bytes(log.depositRef) for log in suite.controller.BatchEntryMinted.range(0, suite.chain.blocks.height + 1)
                     if bytes(log.merkleRoot) == batch.root)
    assert set(minted) == {e.deposit_ref for e in batch.entries} and set(minted.values()) == {1}
    assert all(suite.token.balanceOf(r) == som(250) for r in recipients)


def test_thousand_row_batch_benchmark(funded, tmp_path, capsys):
    """Reported, not asserted (timings are never pass/fail): 1,000 rows on the local node."""
    commands, suite = funded
    recipients = fresh_recipients(1000)
    path = write_csv(tmp_path / "thousand.csv", [[r, "1,000.00", f"BENCH-{i:05d}"] for i, r in enumerate(recipients)])
    started = time.monotonic()
    commands.run("batch_mint", "request", str(path), "--account", MINTER, "--yes")
    approve_all(commands, path, 1_000_000)
    result = commands.json("batch_mint", "execute", str(path), "--account", APPROVER_ACCOUNTS[0], "--yes")
    elapsed = time.monotonic() - started
    assert result["complete"] and result["minted_now"] == 1000
    assert suite.token.balanceOf(recipients[-1]) == som(1000)
    with capsys.disabled():
        print(f"\n[benchmark] 1,000-row batch: request + 2 approvals + execute in {result['chunks']} chunks: {elapsed:.1f} s")
