"""The other operations commands end to end: redeem, compliance, emergency switches, guardian removals,
timelocked governance, status (table, JSON, chart), reconcile, and deploy's refusal to deploy twice."""

import json

import pytest

from tests.suite import APPROVERS, COMPLIANCE, DESK, GOVERNANCE, GUARDIAN, HOLDERS, MINTERS, som

MINTER, APPROVER = f"test:{MINTERS[0]}", f"test:{APPROVERS[0]}"
HOLDER = f"test:{HOLDERS[0]}"


@pytest.fixture
def holding(funded, accounts):
    """HOLDER owns 10,000.00 KGST minted through the controller."""
    commands, suite = funded
    suite.mint(accounts[HOLDERS[0]], som(10_000), "DEP-HOLDING")
    return commands, suite


def test_redeem_approves_then_burns_once_per_payout_reference(holding, accounts):
    commands, suite = holding
    result = commands.json("redeem", "holder", "--amount", "2,500.00", "--payout", "PAYOUT KG-0001", "--account", HOLDER, "--yes")
    assert [s["description"] for s in result["sent"]] == ["approve the controller to burn the amount", "redeem"]
    assert suite.token.balanceOf(accounts[HOLDERS[0]]) == som(7_500)
    again = commands.run("redeem", "holder", "--amount", "2,500.00", "--payout", "payout kg-0001", "--account", HOLDER, "--yes")
    assert again.exit_code == 0 and "already redeemed" in again.output
    assert suite.token.balanceOf(accounts[HOLDERS[0]]) == som(7_500)
    too_much = commands.run("redeem", "holder", "--amount", "9,000.00", "--payout", "PAYOUT KG-0002", "--account", HOLDER, "--yes")
    assert too_much.exit_code == 2 and "less than 9,000.00 KGS" in too_much.output


def test_the_desk_burns_what_holders_sent_to_the_redemption_address(holding, accounts):
    commands, suite = holding
    suite.token.transfer(suite.controller, som(1_000), sender=accounts[HOLDERS[0]])
    result = commands.json("redeem", "desk", "--amount", "1,000.00", "--payout", "DESK PAYOUT 17", "--account", f"test:{DESK}", "--yes")
    assert result["ok"] and suite.token.balanceOf(suite.controller) == 0
    refused = commands.run("redeem", "desk", "--amount", "1.00", "--payout", "DESK PAYOUT 18", "--account", HOLDER, "--yes")
    assert refused.exit_code == 2 and "does not hold REDEMPTION_DESK_ROLE" in refused.output


def test_freeze_unfreeze_and_wipe_with_a_case_reference(holding, accounts):
    commands, suite = holding
    officer, holder = f"test:{COMPLIANCE}", accounts[HOLDERS[0]].address
    wipe_unfrozen = commands.run("compliance", "wipe", "--address", holder, "--case", "Order 1", "--account", officer, "--yes")
    assert wipe_unfrozen.exit_code == 2 and "only a frozen account can be wiped" in wipe_unfrozen.output
    assert commands.run("compliance", "freeze", "--address", holder, "--case", "Order 1", "--account", officer, "--yes").exit_code == 0
    assert "already frozen" in commands.run("compliance", "freeze", "--address", holder, "--case", "Order 1", "--account", officer, "--yes").output
    redeem = commands.run("redeem", "holder", "--amount", "1.00", "--payout", "P-FROZEN", "--account", HOLDER, "--yes")
    assert redeem.exit_code == 2 and "is frozen" in redeem.output
    wiped = commands.json("compliance", "wipe", "--address", holder, "--case", "Confiscation 2", "--account", officer, "--yes")
    assert wiped["ok"] and suite.token.balanceOf(holder) == 0 and suite.token.supplyCounters()[3] == som(10_000)
    not_officer = commands.run("compliance", "unfreeze", "--address", holder, "--case", "x", "--account", HOLDER, "--yes")
    assert not_officer.exit_code == 2 and "does not hold ASSET_PROTECTION_ROLE" in not_officer.output


def test_pause_halt_and_the_timelocked_resume(funded, accounts, chain):
    commands, suite = funded
    guardian, governance = f"test:{GUARDIAN}", f"test:{GOVERNANCE}"
    assert commands.run("emergency", "pause", "--account", guardian, "--yes").exit_code == 0
    assert suite.token.paused()
    assert "already paused" in commands.run("emergency", "pause", "--account", guardian, "--yes").output
    assert commands.run("emergency", "unpause", "--account", guardian, "--yes").exit_code == 0
    assert commands.run("emergency", "halt-minting", "--account", guardian, "--yes").exit_code == 0
    request = commands.run("mint", "request", "--recipient", accounts[HOLDERS[1]].address, "--amount", "1.00", "--deposit", "D-HALT", "--account", MINTER, "--yes")
    assert request.exit_code == 2 and "minting is halted" in request.output
    scheduled = commands.json("governance", "schedule", "resume-minting", "--account", governance, "--yes")
    operation = scheduled["operation_id"]
    early = commands.run("governance", "execute", operation, "--account", governance, "--yes")
    assert early.exit_code == 2 and "the delay has not passed" in early.output
    listed = commands.json("governance", "list", deployments=True)
    assert [op["state"] for op in listed["operations"] if op["id"] == operation] == ["waiting"]
    chain.pending_timestamp += 61
    chain.mine()
    assert commands.run("governance", "execute", operation, "--account", governance, "--yes").exit_code == 0
    assert not suite.controller.config().mintingHalted
    assert "already executed" in commands.run("governance", "execute", operation, "--account", governance, "--yes").output


def test_the_guardian_cancels_a_scheduled_raise(funded):
    commands, suite = funded
    scheduled = commands.json("governance", "schedule", "set-per-tx-cap", "99,000,000.00", "--account", f"test:{GOVERNANCE}", "--yes")
    assert "nothing to do" in commands.run("governance", "schedule", "set-per-tx-cap", "99,000,000.00", "--account", f"test:{GOVERNANCE}", "--yes").output
    assert commands.run("governance", "cancel", scheduled["operation_id"], "--account", f"test:{GUARDIAN}", "--yes").exit_code == 0
    listed = commands.json("governance", "list")
    assert [op["state"] for op in listed["operations"] if op["id"] == scheduled["operation_id"]] == ["cancelled"]
    not_proposer = commands.run("governance", "schedule", "set-per-tx-cap", "1.00", "--account", HOLDER, "--yes")
    assert not_proposer.exit_code == 2 and "is not a timelock proposer" in not_proposer.output


def test_the_guardian_removes_a_minter_instantly(funded, accounts):
    commands, suite = funded
    minter = accounts[MINTERS[1]].address
    result = commands.run("roles", "remove-minter", minter, "--account", f"test:{GUARDIAN}", "--yes")
    assert result.exit_code == 0 and "allowance and window go to zero" in result.output
    assert suite.controller.minterStatus(minter)[0] == 0
    outsider = commands.run("roles", "remove-approver", accounts[APPROVERS[2]].address, "--account", HOLDER, "--yes")
    assert outsider.exit_code == 2 and "does not hold GUARDIAN_ROLE" in outsider.output


def test_status_table_json_and_chart(holding, tmp_path):
    commands, suite = holding
    table = commands.run("status", "--chart", str(tmp_path / "chart.png"))
    assert table.exit_code == 0, table.output
    for text in ("total supply          10,000.00 KGS", "coverage", "Pending requests (0)", "BNB"):
        assert text in table.output
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = commands.json("status")
    assert data["token"]["total_supply"] == som(10_000) and data["reserves"]["fresh"] is True
    assert data["reserves"]["coverage_ratio"] == pytest.approx(55_000)


def test_reconcile_passes_and_fails_loudly(holding, tmp_path):
    commands, suite = holding
    ok = commands.run("reconcile")
    assert ok.exit_code == 0 and "reconciled: everything adds up" in ok.output
    # A manifest that starts after the deployment misses the mint events: the sums cannot add up.
    manifest = json.loads((commands.deployments / "bsc-dev.json").read_text())
    suite.chain.mine()  # an empty block: Ape clamps a query's start to the chain head
    manifest["deploy_block"] = suite.chain.blocks.height
    broken = tmp_path / "deployments"
    broken.mkdir()
    (broken / "bsc-dev.json").write_text(json.dumps(manifest))
    bad = commands.runner.invoke(commands._scripts["reconcile"].cli, ["--network", commands.network, "--deployments", str(broken)])
    assert bad.exit_code == 1 and "RECONCILIATION FAILED" in bad.output, (manifest["deploy_block"], bad.output)


def test_deploy_refuses_a_second_deployment_on_the_same_network(deployed):
    result = deployed.run("deploy", "--params", "config/local.yaml", "--account", "test:0", "--yes")
    assert result.exit_code == 2 and "already has a deployment" in result.output and "--redeploy" in result.output
    bad_params = deployed.run("deploy", "--params", "config/nope.yaml", "--account", "test:0", "--yes")
    assert bad_params.exit_code == 2 and "no such parameters file" in bad_params.output


def test_token_upgrade_is_prepared_then_scheduled_and_executed_through_the_timelock(funded, chain):
    commands, suite = funded
    governance = f"test:{GOVERNANCE}"
    prepared = commands.json("upgrade", "prepare", "--account", "test:0", "--yes")
    implementation = prepared["implementation"]
    assert prepared["replaces"] != implementation and "upgrade-token" in prepared["schedule_with"]
    scheduled = commands.json("governance", "schedule", "upgrade-token", implementation, "--account", governance, "--yes")
    chain.pending_timestamp += 61
    chain.mine()
    assert commands.run("governance", "execute", scheduled["operation_id"], "--account", governance, "--yes").exit_code == 0
    slot = int.from_bytes(__import__("eth_utils").keccak(text="eip1967.proxy.implementation"), "big") - 1
    assert bytes(chain.provider.get_storage(suite.token.address, slot))[-20:].hex() == implementation[2:].lower()
    assert suite.token.symbol() == "KGST"


def test_bad_governance_input_is_refused_before_anything_is_sent(funded):
    commands, _ = funded
    governance = f"test:{GOVERNANCE}"
    wrong_count = commands.run("governance", "schedule", "set-per-tx-cap", "--account", governance, "--yes")
    assert wrong_count.exit_code == 2 and "expected 1 argument(s)" in wrong_count.output
    bad_number = commands.run("governance", "schedule", "set-max-attestation-age", "two days", "--account", governance, "--yes")
    assert bad_number.exit_code == 2 and "Nothing was sent." in bad_number.output
    bad_role = commands.run("governance", "schedule", "grant-token-role", "KING_ROLE", "0x90F79bf6EB2c4f870365E785982E1f101E93b906", "--account", governance, "--yes")
    assert bad_role.exit_code == 2 and "unknown role 'KING_ROLE'" in bad_role.output
    unknown_op = commands.run("governance", "execute", "0x" + "ab" * 32, "--account", governance, "--yes")
    assert unknown_op.exit_code == 2 and "no scheduled operation" in unknown_op.output
