"""The coverage machinery (kgst.audit.coverage) on a tiny scenario: one KGST transfer through the proxy, traced and
mapped back to source lines, functions and branches. `make coverage` runs the same machinery over the whole suite.

Line numbers are looked up in the source text (never hard-coded), so the test survives edits to the contracts."""

from __future__ import annotations

import pytest

from kgst.audit import solc
from kgst.audit.coverage import Model, Tracer, file_report
from tests.suite import som

TOKEN = "contracts/KGSTToken.sol"
PROXY = "contracts/KGSTProxy.sol"
CONTROLLER = "contracts/KGSTIssuanceController.sol"


def source_lines(path: str) -> list[str]:
    return (solc.ROOT / path).read_text(encoding="utf8").split("\n")


def line_after(path: str, anchor: str, needle: str) -> int:
    """1-based line of the first `needle` at or after the line containing `anchor`."""
    lines = source_lines(path)
    start = next(i for i, text in enumerate(lines) if anchor in text)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


@pytest.fixture(scope="module")
def model():
    return Model()


@pytest.fixture
def transfer_report(attested_suite, networks, model):
    s = attested_suite
    sender, recipient = s.holders[0], s.holders[1]
    s.mint(sender, som(100), "COVERAGE-TEST-1")
    receipt = s.token.transfer(recipient, som(1), sender=sender)
    tracer = Tracer(model, networks.provider.web3.provider.make_request)
    tracer.trace_transaction(receipt.txn_hash, hex(receipt.block_number))
    return tracer, file_report(model, tracer.hits)


def uncovered(report, path) -> set[int]:
    return {x["line"] for x in report[path]["uncovered_lines"]}


def test_a_transfer_is_attributed_to_the_token_code_behind_the_proxy(transfer_report):
    tracer, report = transfer_report
    assert tracer.hits.stats["attribution_errors"] == 0
    # The steps ran in the proxy's code (CALL) and the implementation's code (DELEGATECALL, storage of the proxy).
    assert tracer.hits.pcs["KGSTProxy:runtime"] and tracer.hits.pcs["KGSTToken:runtime"]
    assert report[PROXY]["functions"]["hit"] == 1  # the fallback, not the constructor
    assert report[CONTROLLER]["lines"]["hit"] == 0  # only the transfer was traced


def test_the_lines_a_transfer_runs_are_hit_and_no_others(transfer_report):
    _tracer, report = transfer_report
    missed = uncovered(report, TOKEN)
    executed = [
        line_after(TOKEN, "function transfer(address to, uint256 value)", "_update(msg.sender, to, value);"),
        line_after(TOKEN, "function _update(address from, address to, uint256 value)", "revert ERC20InsufficientBalance(from"),
        line_after(TOKEN, "function _update(address from, address to, uint256 value)", "revert AccountFrozen(to)"),
        line_after(TOKEN, "function _update(address from, address to, uint256 value)", "emit Transfer(from, to, value);"),
    ]
    not_executed = [
        line_after(TOKEN, "function _update(address from, address to, uint256 value)", "uint256 newSupply ="),  # mint path
        line_after(TOKEN, "function _update(address from, address to, uint256 value)", "$.totalBurned += uint128(value);"),
        line_after(TOKEN, "function transferFrom(", "_spendAllowance(from, msg.sender, value);"),
        line_after(TOKEN, "function mint(address to, uint256 amount)", "_requireMinter();"),
    ]
    for line in executed:
        assert line not in missed, f"KGSTToken.sol:{line} ran in the transfer but is reported uncovered"
    for line in not_executed:
        assert line in missed, f"KGSTToken.sol:{line} did not run in the transfer but is reported covered"


def test_functions_and_branches_of_a_transfer(transfer_report):
    _tracer, report = transfer_report
    never = {x["function"] for x in report[TOKEN]["uncovered_functions"]}
    assert "KGSTToken.transfer(address,uint256)" not in never
    assert "KGSTToken.transferFrom(address,address,uint256)" in never
    assert "KGSTToken.mint(address,uint256)" in never
    # A single transfer takes one side of every branch it reaches: none is covered both ways.
    assert report[TOKEN]["branches"]["hit"] == 0
    partial = {x["line"]: x["seen"] for x in report[TOKEN]["partial_branches"]}
    zero_check = line_after(TOKEN, "function transfer(address to, uint256 value)", "if (to == address(0)) revert")
    assert partial[zero_check] == "only the false side ran"
