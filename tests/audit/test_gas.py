"""Gas gate (kgst.audit.gas): the benchmark on the test suite's deployment, checked against the committed snapshot
audit/gas-snapshot.json (at most +2 % per operation), the absolute targets the issues set, the 24,576-byte code-size
limit, and the anchors table's OpenZeppelin figures (so we know the harness measures what the anchors measured).

Run `ape test tests/audit/test_gas.py -s` to see the table; `make bench` prints it from a fresh node. A deliberate
change of cost is recorded with `make bench UPDATE=1` (or `python -m kgst.audit.gas --update`)."""

from __future__ import annotations

import pytest

from kgst.audit.gas import (
    ANCHOR_OZ_PLAIN,
    CODE_SIZE_LIMIT,
    SNAPSHOT,
    TARGETS,
    TOLERANCE,
    UPDATE_HINT,
    load_snapshot,
    regressions,
    render_table,
    run_bench,
)


@pytest.fixture(scope="module")
def bench(attested_suite, project, accounts, chain, networks):
    s = attested_suite
    return run_bench(project=project, accounts=accounts, chain=chain, provider=networks.provider, token=s.token,
                     controller=s.controller, registry=s.registry, params=s.params)


@pytest.fixture(scope="module")
def snapshot():
    data = load_snapshot()
    assert data.get("operations"), f"{SNAPSHOT} is missing or empty: {UPDATE_HINT}"
    return data


def test_print_the_table(bench, snapshot):
    print("\n" + render_table(bench, snapshot))


def test_no_operation_costs_more_than_2_percent_above_its_snapshot(bench, snapshot):
    problems = [p for p in regressions(bench, snapshot, TOLERANCE) if "no longer measured" not in p]
    assert not problems, "gas above the snapshot:\n  " + "\n  ".join(problems) + f"\n{UPDATE_HINT}"


def test_every_snapshot_operation_is_still_measured(bench, snapshot):
    missing = sorted(set(snapshot["operations"]) - set(bench.kgst))
    assert not missing, f"in {SNAPSHOT.name} but no longer measured: {missing}\n{UPDATE_HINT}"


@pytest.mark.parametrize("operation", sorted(TARGETS))
def test_absolute_target(bench, operation):
    actual, target = bench.kgst[operation], TARGETS[operation]
    assert actual <= target, f"{operation}: {actual:,} gas, the issues' target is <= {target:,} ({actual - target:+,})"


def test_runtime_code_sizes_within_the_limit(bench):
    for name in ("KGSTToken (implementation)", "KGSTIssuanceController", "KGSTReserveRegistry"):
        assert bench.sizes[name] <= CODE_SIZE_LIMIT, f"{name}: {bench.sizes[name]:,} bytes > {CODE_SIZE_LIMIT:,}"


def test_the_plain_baseline_matches_the_anchors_table(bench):
    """Our PlainERC20 figures within 1 % of anchors.md's "OZ 5.7.0 plain": the harness measures the same thing
    (transaction gasUsed, same account states), so the ratios and the USDC column are comparable."""
    for operation, anchor in ANCHOR_OZ_PLAIN.items():
        ours = bench.plain[operation]
        assert abs(ours - anchor) <= anchor * 0.01, f"{operation}: PlainERC20 {ours:,} gas here, {anchor:,} in anchors.md"
