"""`ape run mint` and `ape run attest`, end to end: previews, confirmation, JSON, idempotent reruns, and every
kind of bad input refused with a clear message and nothing sent."""

import json

import pytest

from tests.suite import APPROVERS, AUDITORS, HOLDERS, MINTERS, som

MINTER, APPROVER_1, APPROVER_2, APPROVER_3 = f"test:{MINTERS[0]}", *(f"test:{i}" for i in APPROVERS)


def nonce(accounts, ref: str) -> int:
    return accounts[int(ref.split(":")[1])].nonce


def test_attestation_is_prepared_signed_and_submitted(deployed, accounts, tmp_path):
    import datetime as dt

    from ape import chain as ape_chain

    (tmp_path / "report.pdf").write_bytes(b"auditor's report")
    # As of a minute ago by the chain's clock (after many snapshot reverts, a test node's clock lags the wall clock).
    as_of = dt.datetime.fromtimestamp(ape_chain.pending_timestamp - 60, dt.timezone.utc).isoformat()
    prepared = deployed.run("attest", "prepare", "--amount", "0=300,000,000.00", "--amount", "2=50,000,000.00",
                            "--report", str(tmp_path / "report.pdf"), "--uri", "ipfs://report", "--out", str(tmp_path / "att.json"),
                            "--as-of", as_of, network=None, deployments=False)
    assert prepared.exit_code == 0, prepared.output
    assert "350,000,000.00 KGS (three hundred fifty million som)" in prepared.output
    signatures = []
    for i in AUDITORS[:2]:
        out = tmp_path / f"sig{i}.json"
        signed = deployed.run("attest", "sign", str(tmp_path / "att.json"), "--account", f"test:{i}", "--out", str(out))
        assert signed.exit_code == 0, signed.output
        signatures.append(str(out))
    submitted = deployed.json("attest", "submit", *signatures, "--account", f"test:{HOLDERS[0]}", "--yes")
    assert submitted["ok"], submitted
    assert submitted["sent"][0]["description"] == "submitAttestation"
    again = deployed.run("attest", "submit", *signatures, "--account", f"test:{HOLDERS[0]}", "--yes")
    assert again.exit_code == 0 and "nothing to do" in again.output
    one = deployed.run("attest", "submit", signatures[0], "--account", f"test:{HOLDERS[0]}", "--yes")
    assert one.exit_code == 2 and "1 auditor signature(s); the registry needs 2" in one.output


@pytest.fixture
def reserves(deployed, accounts, tmp_path):
    """A fresh 350-million-som attestation for the tests below (each test is reverted afterwards)."""
    test_attestation_is_prepared_signed_and_submitted(deployed, accounts, tmp_path)
    return deployed


def test_maker_checker_mint_through_the_commands(reserves, accounts):
    recipient = accounts[HOLDERS[1]].address
    request = reserves.json("mint", "request", "--recipient", recipient, "--amount", "1,250,000.50", "--deposit", "DEP-7", "--account", MINTER, "--yes")
    assert request["ok"] and request["preview"]["approvals needed"] == "3"
    assert request["preview"]["amount"].startswith("1,250,000.50 KGS  (one million two hundred fifty thousand som and fifty tiyin)")
    for approver in (APPROVER_1, APPROVER_2, APPROVER_3):
        approved = reserves.run("mint", "approve", "--deposit", "dep-7", "--recipient", recipient, "--amount", "1250000.5", "--account", approver, "--yes")
        assert approved.exit_code == 0, approved.output
    executed = reserves.json("mint", "execute", "--deposit", "DEP-7", "--account", APPROVER_1, "--yes")
    assert executed["ok"] and executed["sent"][0]["gas_used"] > 0
    token = reserves_token(reserves)
    assert token.balanceOf(recipient) == som("1250000.50")


def reserves_token(commands):
    from ape import project

    manifest = json.loads((commands.deployments / "bsc-dev.json").read_text())
    return project.KGSTToken.at(manifest["contracts"]["token"])


def test_reruns_find_their_earlier_transaction_and_send_nothing(reserves, accounts):
    recipient = accounts[HOLDERS[1]].address
    args = ("mint", "request", "--recipient", recipient, "--amount", "500.00", "--deposit", "DEP-RERUN", "--account", MINTER, "--yes")
    assert reserves.run(*args).exit_code == 0
    before = nonce(accounts, MINTER)
    rerun = reserves.run(*args)
    assert rerun.exit_code == 0 and "nothing to do: this request is already open" in rerun.output
    approve = ("mint", "approve", "--deposit", "DEP-RERUN", "--recipient", recipient, "--amount", "500", "--account", APPROVER_1, "--yes")
    assert reserves.run(*approve).exit_code == 0
    assert "nothing to do: you already approved" in reserves.run(*approve).output
    execute = ("mint", "execute", "--deposit", "DEP-RERUN", "--account", APPROVER_2, "--yes")
    assert reserves.run(*execute).exit_code == 0
    assert "nothing to do: this request was already executed" in reserves.run(*execute).output
    assert nonce(accounts, MINTER) == before


BAD_INPUTS = [
    (["--recipient", "0x1234", "--amount", "10.00"], "expected 40 hex digits"),
    (["--recipient", "0x90F79bf6EB2c4f870365E785982E1f101E93B906", "--amount", "10.00"], "checksum"),
    (["--recipient", "0x0000000000000000000000000000000000000000", "--amount", "10.00"], "zero address"),
    (["--recipient", "{holder}", "--amount", "10.005"], "at most 2 decimals"),
    (["--recipient", "{holder}", "--amount", "-10"], "negative"),
    (["--recipient", "{holder}", "--amount", "0"], "zero"),
    (["--recipient", "{holder}", "--amount", "1,00,000"], "groups of exactly three digits"),
    (["--recipient", "{holder}", "--amount", "1e6"], "contains 'e'"),
]


@pytest.mark.parametrize("args,message", BAD_INPUTS)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_sent(deployed, accounts, args, message):
    before = nonce(accounts, MINTER)
    args = [a.replace("{holder}", accounts[HOLDERS[1]].address) for a in args]
    result = deployed.run("mint", "request", *args, "--deposit", "DEP-BAD", "--account", MINTER, "--yes")
    assert result.exit_code == 2
    assert message in result.output.lower() or message in result.output
    assert "Nothing was sent." in result.output
    assert nonce(accounts, MINTER) == before


def test_a_reused_deposit_reference_is_refused(reserves, accounts):
    recipient = accounts[HOLDERS[1]].address
    assert reserves.run("mint", "request", "--recipient", recipient, "--amount", "10.00", "--deposit", "DEP-USED", "--account", MINTER, "--yes").exit_code == 0
    other = reserves.run("mint", "request", "--recipient", recipient, "--amount", "99.00", "--deposit", " dep-used ", "--account", MINTER, "--yes")
    assert other.exit_code == 2 and "was already used" in other.output and "Nothing was sent." in other.output


def test_an_approver_who_restates_different_figures_is_refused(reserves, accounts):
    recipient = accounts[HOLDERS[1]].address
    reserves.run("mint", "request", "--recipient", recipient, "--amount", "10.00", "--deposit", "DEP-MISMATCH", "--account", MINTER, "--yes")
    wrong = reserves.run("mint", "approve", "--deposit", "DEP-MISMATCH", "--recipient", recipient, "--amount", "100.00", "--account", APPROVER_1, "--yes")
    assert wrong.exit_code == 2 and "does not match the request" in wrong.output


def test_a_missing_role_is_named(reserves, accounts):
    outsider = f"test:{HOLDERS[2]}"
    result = reserves.run("mint", "request", "--recipient", accounts[HOLDERS[1]].address, "--amount", "10.00", "--deposit", "DEP-ROLE", "--account", outsider, "--yes")
    assert result.exit_code == 2 and "does not hold MINTER_ROLE" in result.output
    reserves.run("mint", "request", "--recipient", accounts[HOLDERS[1]].address, "--amount", "10.00", "--deposit", "DEP-SELF", "--account", MINTER, "--yes")
    requester_approves = reserves.run("mint", "approve", "--deposit", "DEP-SELF", "--recipient", accounts[HOLDERS[1]].address, "--amount", "10", "--account", MINTER, "--yes")
    assert requester_approves.exit_code == 2 and "does not hold APPROVER_ROLE" in requester_approves.output


def test_execution_is_refused_before_sending_when_reserves_are_missing(deployed, accounts):
    recipient = accounts[HOLDERS[1]].address
    deployed.run("mint", "request", "--recipient", recipient, "--amount", "10.00", "--deposit", "DEP-NORES", "--account", MINTER, "--yes")
    deployed.run("mint", "approve", "--deposit", "DEP-NORES", "--recipient", recipient, "--amount", "10", "--account", APPROVER_1, "--yes")
    result = deployed.run("mint", "execute", "--deposit", "DEP-NORES", "--account", APPROVER_1, "--yes")
    assert result.exit_code == 2 and "no fresh reserve attestation" in result.output


def test_dry_run_and_the_prompt_send_nothing_unless_confirmed(reserves, accounts):
    recipient = accounts[HOLDERS[1]].address
    args = ("mint", "request", "--recipient", recipient, "--amount", "10.00", "--deposit", "DEP-PROMPT", "--account", MINTER)
    before = nonce(accounts, MINTER)
    dry = reserves.run(*args, "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.output
    declined = reserves.run(*args, input="n\n")
    assert declined.exit_code == 1 and "cancelled at the prompt" in declined.output
    assert nonce(accounts, MINTER) == before
    accepted = reserves.run(*args, input="y\n")
    assert accepted.exit_code == 0 and "sent requestMint" in accepted.output
    assert nonce(accounts, MINTER) == before + 1


def test_cancel_by_the_guardian(reserves, accounts):
    recipient = accounts[HOLDERS[1]].address
    reserves.run("mint", "request", "--recipient", recipient, "--amount", "10.00", "--deposit", "DEP-CANCEL", "--account", MINTER, "--yes")
    cancelled = reserves.run("mint", "cancel", "--deposit", "DEP-CANCEL", "--account", "test:2", "--yes")
    assert cancelled.exit_code == 0 and "the deposit reference stays used" in cancelled.output
    assert "already cancelled" in reserves.run("mint", "cancel", "--deposit", "DEP-CANCEL", "--account", "test:2", "--yes").output


def test_unknown_network_and_unreachable_node_are_reported(deployed):
    unknown = deployed.run("mint", "execute", "--deposit", "DEP-1", "--account", MINTER, "--yes", network="bsc:nonexistent")
    assert unknown.exit_code == 2 and "unknown network" in unknown.output and "Nothing was sent." in unknown.output
    down = deployed.run("mint", "execute", "--deposit", "DEP-1", "--account", MINTER, "--yes", network="bsc:dev:http://127.0.0.1:9")
    assert down.exit_code == 2 and "cannot reach the node" in down.output and "Nothing was sent." in down.output


def test_testnet_without_an_rpc_url_is_reported(deployed, monkeypatch):
    monkeypatch.delenv("BSC_TESTNET_RPC", raising=False)
    result = deployed.run("mint", "execute", "--deposit", "DEP-1", "--account", "alias:nobody", "--yes", network="bsc:testnet")
    assert result.exit_code == 2 and "BSC_TESTNET_RPC is not set" in result.output


def test_public_test_keys_are_refused_on_a_remote_node(deployed, accounts):
    from kgst.accounts import AccountRefError, resolve_address

    class Remote:
        network = type("N", (), {"name": "testnet"})()
        uri = "https://bsc-testnet.example.org"

    with pytest.raises(AccountRefError, match="public test key"):
        resolve_address("test:6", accounts=__import__("ape").accounts, provider=Remote())
