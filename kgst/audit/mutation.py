"""Mutation testing of the mint, burn, freeze, pause and role code of the KGST token and issuance controller.

A small mutator of our own over the Solidity source (universalmutator/slither-mutate need a framework Ape is not, and
compile with their own solc). Each mutant changes one line of one target function:

    ror          a comparison operator replaced (== <-> !=, < <-> <=, > <-> >=)
    lcr          && <-> ||
    negate       an `if (c) revert` condition negated
    no-revert    an `if (c) revert ...;` check deleted
    no-stmt      a state write, emit, or internal check/effect call deleted
    no-modifier  an onlyRole(...) modifier deleted
    aor          += <-> -=, + <-> -
    bool         true <-> false
    const        an integer literal n -> n + 1

Every mutant is compiled first with the project's solc (kgst.audit.solc): one that does not compile is "invalid", one
whose runtime bytecode equals the original's is "equivalent"; neither is run. The others run the relevant tests
(tests/token for the token, tests/controller for the controller) with -x and a timeout, in a private copy of the
project under out/kgst-mutation/ (the working tree is never touched). Tests that already fail on the
unmutated copy are deselected first, so a mutant is "killed" only by a test that passed before. Score = killed /
(killed + survived). Results accumulate in out/kgst-mutation/results.json (a rerun skips mutants already
done); the report is audit/mutation-report.md.

    python -m kgst.audit.mutation --list                  # every mutant, no run
    python -m kgst.audit.mutation --sample 20 --seed 1    # a reproducible random sample (make mutation SAMPLE=20)
    python -m kgst.audit.mutation --all                   # every mutant (hours)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from kgst.audit import solc

ROOT = solc.ROOT
# Not under .build/: Ape ignores every source whose path contains ".build" or ".cache". out/ is git-ignored.
WORK = ROOT / "out" / "kgst-mutation"
RESULTS = WORK / "results.json"
REPORT = ROOT / "audit" / "mutation-report.md"

TARGETS = {
    "contracts/KGSTToken.sol": {
        "tests": ["tests/token"],
        "functions": {
            "mint", "burn", "_update", "pause", "unpause", "_setPaused", "_requireNotPaused", "_requireMinter",
            "freeze", "freezeBatch", "unfreeze", "unfreezeBatch", "_freeze", "_unfreeze", "wipeFrozen",
            "_requireNotFrozen", "setMinter", "_authorizeUpgrade", "initialize",
        },
    },
    "contracts/KGSTIssuanceController.sol": {
        "tests": ["tests/controller"],
        "functions": {
            "requestMint", "requestBatchMint", "approveMint", "approveBatchMint", "executeMint", "executeBatchChunk",
            "cancelRequest", "redeem", "redeemWithPermit", "burnRedeemed", "haltMinting", "resumeMinting",
            "setMinterLimits", "addMinter", "removeMinter", "removeApprover", "_approve", "_pendingRequest",
            "_checkExecutable", "_validApprovals", "_approvalsRequired", "_recordChunk", "_useEntries", "_checkPerTxCap",
            "_useLimits", "_useWindow", "_checkReserves", "_redeem", "_checkDepositRefUnused", "_checkRecipient",
            "_addMinter", "_authorizeChange", "_revokeRole",
        },
    },
}
TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Mutant:
    file: str
    line: int  # 1-based
    operator: str
    original: str
    mutated: str
    function: str

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.file}:{self.line}:{self.operator}:{self.original}:{self.mutated}".encode()).hexdigest()[:12]

    def apply(self, text: str) -> str:
        lines = text.split("\n")
        assert lines[self.line - 1] == self.original, f"{self.file}:{self.line} changed since the mutant was generated"
        lines[self.line - 1] = self.mutated
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# Generating mutants
# ----------------------------------------------------------------------------------------------------------------

ROR = {"==": "!=", "!=": "==", "<": "<=", "<=": "<", ">": ">=", ">=": ">"}
COMPARISON = re.compile(r"(?<=\s)(==|!=|<=|>=|<|>)(?=\s)")
LOGICAL = re.compile(r"(?<=\s)(&&|\|\|)(?=\s)")
ARITH_ASSIGN = re.compile(r"(?<=\s)(\+=|-=)(?=\s)")
ARITH = re.compile(r"(?<=\s)(\+|-)(?=\s)")
BOOL = re.compile(r"\b(true|false)\b")
INT_LITERAL = re.compile(r"(?<![\w.$])(\d+)(?![\w.])")
IF_REVERT = re.compile(r"^(\s*)if \((.*)\) revert .*;\s*$")
STATEMENT = re.compile(
    r"^\s*(emit\s.*;|_[A-Za-z]\w*\(.*\);|[\w$.\[\]()]+(\.\w+)*\s*(=|\+=|-=|\|=)\s.*;|\+\+_config\.\w+;|token\.\w+\(.*\);)\s*$"
)
ONLY_ROLE = re.compile(r"\s+onlyRole\([A-Z_]+\)")


def _code_part(line: str) -> str:
    return line.split("//")[0]


def _line_mutants(file: str, number: int, line: str, function: str) -> list[Mutant]:
    code = _code_part(line)
    comment = line[len(code):]
    stripped = code.strip()
    if not stripped or stripped.startswith(("*", "/*", "pragma", "import")):
        return []
    out: list[Mutant] = []

    def add(op: str, new_code: str, keep_comment: bool = True) -> None:
        if new_code != code:
            out.append(Mutant(file, number, op, line, new_code + (comment if keep_comment else ""), function))

    for m in COMPARISON.finditer(code):
        add("ror", code[: m.start()] + ROR[m.group(1)] + code[m.end():])
    for m in LOGICAL.finditer(code):
        add("lcr", code[: m.start()] + ("||" if m.group(1) == "&&" else "&&") + code[m.end():])
    m = IF_REVERT.match(code)
    if m:
        add("negate", code.replace(f"if ({m.group(2)})", f"if (!({m.group(2)}))", 1))
        add("no-revert", m.group(1) + "// mutant: check removed", keep_comment=False)
    elif STATEMENT.match(code) and not stripped.startswith(("return", "uint", "int", "bytes", "bool", "address")):
        indent = code[: len(code) - len(code.lstrip())]
        add("no-stmt", indent + "// mutant: statement removed", keep_comment=False)
    for m in ONLY_ROLE.finditer(code):
        add("no-modifier", code[: m.start()] + code[m.end():])
    for m in ARITH_ASSIGN.finditer(code):
        add("aor", code[: m.start()] + ("-=" if m.group(1) == "+=" else "+=") + code[m.end():])
    if not ARITH_ASSIGN.search(code):
        for m in ARITH.finditer(code):
            add("aor", code[: m.start()] + ("-" if m.group(1) == "+" else "+") + code[m.end():])
    for m in BOOL.finditer(code):
        add("bool", code[: m.start()] + ("false" if m.group(1) == "true" else "true") + code[m.end():])
    if not stripped.startswith(("function", "event", "error")):
        for m in INT_LITERAL.finditer(code):
            add("const", code[: m.start()] + str(int(m.group(1)) + 1) + code[m.end():])
    return out


def function_ranges(file: str, names: set[str], output: dict, root: Path) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of every named function/modifier definition in `file`."""
    index = solc.SourceIndex((root / file).read_text(encoding="utf8"))
    out = []
    for node, _parent in solc.walk(output["sources"][file]["ast"]):
        if node["nodeType"] in ("FunctionDefinition", "ModifierDefinition") and node.get("name") in names and node.get("body"):
            s, l, _f = solc.parse_src(node["src"])
            out.append((node["name"], index.line_of(s), index.line_of(s + l - 1)))
    return sorted(out, key=lambda x: x[1])


def generate(root: Path = ROOT, output: dict | None = None) -> list[Mutant]:
    """Every mutant of the target functions of the sources at `root`."""
    output = output or solc.compile_project(root)
    mutants: list[Mutant] = []
    for file, spec in TARGETS.items():
        lines = (root / file).read_text(encoding="utf8").split("\n")
        for name, first, last in function_ranges(file, spec["functions"], output, root):
            for number in range(first, last + 1):
                mutants += _line_mutants(file, number, lines[number - 1], name)
    unique = {m.id: m for m in mutants}
    return sorted(unique.values(), key=lambda m: (m.file, m.line, m.operator, m.mutated))


def sample(mutants: list[Mutant], n: int, seed: int) -> list[Mutant]:
    """A reproducible sample, spread over files in proportion to their mutant counts (same seed, larger N: superset)."""
    if n >= len(mutants):
        return list(mutants)
    by_file: dict[str, list[Mutant]] = {}
    for m in mutants:
        by_file.setdefault(m.file, []).append(m)
    chosen: list[Mutant] = []
    files = sorted(by_file)
    for i, file in enumerate(files):
        share = round(n * len(by_file[file]) / len(mutants)) if i < len(files) - 1 else n - len(chosen)
        shuffled = list(by_file[file])
        random.Random(f"{seed}:{file}").shuffle(shuffled)  # prefix-stable: a larger N keeps the smaller N's mutants
        chosen += shuffled[: min(share, len(shuffled))]
    return sorted(chosen, key=lambda m: (m.file, m.line, m.operator))


# ----------------------------------------------------------------------------------------------------------------
# Compile check (invalid / equivalent)
# ----------------------------------------------------------------------------------------------------------------

_original_code: dict[str, dict[str, bytes]] = {}


def _runtime_codes(root: Path, file: str, text: str | None) -> dict[str, bytes]:
    input_json = solc.standard_input(root, [file], overrides={file: text} if text else None)
    input_json["settings"]["outputSelection"] = {file: {"*": ["evm.deployedBytecode.object"]}}
    output = solc.run_solc(input_json, root)
    codes = {}
    for name, data in output.get("contracts", {}).get(file, {}).items():
        obj = bytes.fromhex(data["evm"]["deployedBytecode"]["object"] or "")
        codes[name] = obj[: solc.code_length_without_metadata(obj)]
    return codes


def compile_check(m: Mutant, root: Path = ROOT) -> tuple[str | None, dict[str, bytes]]:
    """('invalid' | 'equivalent' | None for a real mutant, the mutant's runtime codes without metadata)."""
    if m.file not in _original_code:
        _original_code[m.file] = _runtime_codes(root, m.file, None)
    text = m.apply((root / m.file).read_text(encoding="utf8"))
    try:
        codes = _runtime_codes(root, m.file, text)
    except solc.CompileError:
        return "invalid", {}
    return ("equivalent" if codes == _original_code[m.file] else None), codes


# ----------------------------------------------------------------------------------------------------------------
# Running the tests in a private copy
# ----------------------------------------------------------------------------------------------------------------

COPIED = ("contracts", "tests", "kgst", "config", "scripts", "audit", "deployments", "tools", "ape-config.yaml",
          "pyproject.toml", "package.json")
LINKED = (".deps", "node_modules", ".solcx", ".tools")


def prepare_workspace() -> Path:
    """A copy of the project (as it is now) to mutate, with an empty Ape build cache (see _forget_source)."""
    work = WORK / "project"
    work.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work / ".build", ignore_errors=True)
    for name in COPIED:
        src, dst = ROOT / name, work / name
        if dst.is_dir() and not dst.is_symlink():
            shutil.rmtree(dst)
        elif dst.exists():
            dst.unlink()
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".cache", "__pycache__"))
        elif src.exists():
            shutil.copy2(src, dst)
    for name in LINKED:
        dst = work / name
        if not dst.exists() and (ROOT / name).exists():
            dst.symlink_to(ROOT / name)
    return work


def _env(work: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(work)  # the copy's kgst package and tests, not the live tree's
    env["SOLCX_BINARY_PATH"] = str(ROOT / ".solcx")
    env["PATH"] = f"{ROOT / '.tools' / 'bin'}:{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    env.pop("KGST_COVERAGE", None)
    return env


FAILED_LINE = re.compile(r"^(FAILED|ERROR) (\S+)", re.M)


def run_tests(work: Path, tests: list[str], *, deselect: list[str] = (), stop_first: bool = True,
              timeout: int = TIMEOUT_SECONDS) -> tuple[str, float, list[str], str]:
    """('passed' | 'failed' | 'timeout' | 'error', seconds, failing test ids, output tail)."""
    cmd = [str(ROOT / ".venv" / "bin" / "ape"), "test", *tests, "-q", "-p", "no:cacheprovider", "--tb=line", "-rfE"]
    if stop_first:
        cmd.append("-x")
    for test_id in deselect:
        cmd += ["--deselect", test_id]
    started = time.time()
    try:
        proc = subprocess.run(cmd, cwd=work, env=_env(work), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return "timeout", time.time() - started, [], out[-2000:]
    out = proc.stdout + proc.stderr
    failing = sorted({m.group(2).split(" ")[0] for m in FAILED_LINE.finditer(out)})
    if proc.returncode == 0:
        status = "passed"
    elif proc.returncode == 1 or failing:
        status = "failed"
    else:
        status = "error"
    return status, time.time() - started, failing, out[-3000:]


def baseline(work: Path, results: dict) -> dict[str, list[str]]:
    """The tests that already fail on the unmutated copy, per test subset (computed once per source state)."""
    state = hashlib.sha256(
        b"".join((work / f).read_bytes() for f in sorted(TARGETS)) + b"".join(
            p.read_bytes() for t in TARGETS.values() for d in t["tests"] for p in sorted((work / d).rglob("*.py"))
        )
    ).hexdigest()[:16]
    cached = results.get("baseline", {})
    if cached.get("state") == state:
        return cached["failing"]
    failing: dict[str, list[str]] = {}
    for spec in TARGETS.values():
        key = " ".join(spec["tests"])
        print(f"baseline: {key} on the unmutated copy ...", flush=True)
        status, seconds, ids, tail = run_tests(work, spec["tests"], stop_first=False, timeout=3 * TIMEOUT_SECONDS)
        if status in ("timeout", "error"):
            raise RuntimeError(f"baseline run of {key} ended with {status}:\n{tail}")
        failing[key] = ids
        print(f"  {status} in {seconds:.0f} s; {len(ids)} failing before any mutation (deselected)", flush=True)
        results.setdefault("baseline_seconds", {})[key] = round(seconds, 1)
    results["baseline"] = {"state": state, "failing": failing}
    return failing


def _manifest(work: Path) -> Path:
    return work / ".build" / "__local__.json"


def _forget_source(work: Path, file: str) -> None:
    """Makes Ape recompile `file` on its next run.

    Ape decides what to recompile by comparing each source with the content its manifest recorded, but it records
    the content of every source whenever it compiles any of them. Restoring a mutated file and then compiling
    another would leave the mutant's bytecode under the original's content, and a later run would test the
    mutant while believing it tests the original. Dropping the file's entry makes Ape treat it as new.
    """
    path = _manifest(work)
    if not path.exists():
        return
    manifest = json.loads(path.read_text())
    if (manifest.get("sources") or {}).pop(file, None) is not None:
        path.write_text(json.dumps(manifest))


def _built_codes(work: Path, names) -> dict[str, bytes]:
    """Runtime code (without metadata) that Ape built in the copy for these contracts."""
    path = _manifest(work)
    types = (json.loads(path.read_text()).get("contractTypes") or {}) if path.exists() else {}
    codes = {}
    for name in names:
        code = ((types.get(name) or {}).get("runtimeBytecode") or {}).get("bytecode") or "0x"
        obj = bytes.fromhex(code.removeprefix("0x"))
        codes[name] = obj[: solc.code_length_without_metadata(obj)]
    return codes


def run_mutant(work: Path, m: Mutant, failing_before: list[str]) -> dict:
    started = time.time()
    verdict, mutant_codes = compile_check(m, work)
    if verdict:
        return {"status": verdict, "seconds": round(time.time() - started, 1)}
    target = work / m.file
    original = target.read_text(encoding="utf8")
    target.write_text(m.apply(original), encoding="utf8")
    try:
        status, seconds, failing, tail = run_tests(work, TARGETS[m.file]["tests"], deselect=failing_before)
        # The verdict counts only if the tests ran on the mutant's own bytecode.
        tested_the_mutant = _built_codes(work, mutant_codes) == mutant_codes
    finally:
        target.write_text(original, encoding="utf8")
        _forget_source(work, m.file)
    outcome = {"passed": "survived", "failed": "killed", "timeout": "killed (timeout)", "error": "error"}[status]
    if not tested_the_mutant:
        outcome, tail = "error", "the tests ran on bytecode that is not the mutant's (stale build)\n" + tail
    result = {"status": outcome, "seconds": round(time.time() - started, 1), "killed_by": failing[:3]}
    if outcome == "error":
        result["output"] = tail[-1500:]
    return result


# ----------------------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------------------


def load_results() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {"mutants": {}}


def save_results(results: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


def render_report(all_mutants: list[Mutant], chosen: list[Mutant], results: dict, meta: dict) -> str:
    done = [(m, results["mutants"][m.id]) for m in chosen if m.id in results["mutants"]]
    count = lambda status: sum(1 for _m, r in done if r["status"] == status)  # noqa: E731
    killed = count("killed") + count("killed (timeout)")
    survived = count("survived")
    score = killed / (killed + survived) if killed + survived else 0.0
    lines = [
        "# Mutation testing: mint, burn, freeze, pause and role code",
        "",
        f"Generated by `make mutation` (`python -m kgst.audit.mutation`), {meta.get('date', '')}. See docs/audit.md.",
        "",
        f"- mutants generated: {len(all_mutants)} "
        f"({', '.join(f'{f}: {sum(1 for m in all_mutants if m.file == f)}' for f in TARGETS)})",
        f"- run: {meta.get('selection', '')}, {len(done)} mutants evaluated",
        f"- killed: {killed} (of which by timeout: {count('killed (timeout)')}), survived: {survived}, "
        f"equivalent (identical bytecode, not run): {count('equivalent')}, invalid (did not compile): {count('invalid')}, "
        f"errors: {count('error')}",
        f"- **mutation score: {score:.0%}** (killed / (killed + survived))",
        f"- tests per mutant: tests/token for the token, tests/controller for the controller, with -x and a "
        f"{TIMEOUT_SECONDS} s timeout; tests already failing before mutation are deselected "
        f"({', '.join(f'{k}: {len(v)}' for k, v in results.get('baseline', {}).get('failing', {}).items())})",
        f"- wall time: {meta.get('seconds', 0) / 60:.0f} min for this run",
        "",
        "## Per file",
        "",
        "| file | killed | survived | equivalent | invalid | score |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for file in TARGETS:
        rs = [r for m, r in done if m.file == file]
        k = sum(1 for r in rs if r["status"].startswith("killed"))
        s = sum(1 for r in rs if r["status"] == "survived")
        e = sum(1 for r in rs if r["status"] == "equivalent")
        i = sum(1 for r in rs if r["status"] == "invalid")
        lines.append(f"| {file} | {k} | {s} | {e} | {i} | {k / (k + s):.0%} |" if k + s else f"| {file} | {k} | {s} | {e} | {i} | - |")
    lines += ["", "## Surviving mutants (no test noticed the change)", ""]
    survivors = [(m, r) for m, r in done if r["status"] == "survived"]
    if survivors:
        lines += ["| file:line | function | operator | original | mutant |", "|---|---|---|---|---|"]
        for m, _r in survivors:
            lines.append(f"| {m.file}:{m.line} | {m.function} | {m.operator} | `{m.original.strip()}` | `{m.mutated.strip()}` |")
    else:
        lines.append("None in this run.")
    lines += ["", "## Every evaluated mutant", "",
              "| file:line | operator | original | mutant | result | first failing test |", "|---|---|---|---|---|---|"]
    for m, r in done:
        note = ", ".join(r.get("killed_by") or []) or ("" if r["status"] != "error" else "see results.json")
        lines.append(f"| {m.file}:{m.line} | {m.operator} | `{m.original.strip()[:80]}` | `{m.mutated.strip()[:80]}` | "
                     f"{r['status']} | {note} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mutation testing of the KGST mint/burn/freeze/pause/role code")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sample", type=int, default=20, help="run a random sample of N mutants (default %(default)s)")
    group.add_argument("--all", action="store_true", help="run every mutant")
    group.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--seed", type=int, default=1, help="sample seed (default %(default)s)")
    parser.add_argument("--timeout", type=int, default=TIMEOUT_SECONDS, help="seconds per mutant's test run")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    args = parser.parse_args(argv)
    globals()["TIMEOUT_SECONDS"] = args.timeout

    if args.list:
        mutants = generate(ROOT)
        for m in mutants:
            print(f"{m.id} {m.file}:{m.line} [{m.function}] {m.operator}: {m.original.strip()}  =>  {m.mutated.strip()}")
        print(f"{len(mutants)} mutants")
        return 0
    work = prepare_workspace()  # a snapshot of the tree now: mutants, baseline and runs all use it
    mutants = generate(work)
    chosen = mutants if args.all else sample(mutants, args.sample, args.seed)
    selection = "all mutants" if args.all else f"random sample of {len(chosen)} (seed {args.seed})"
    print(f"{len(mutants)} mutants generated; running {selection}", flush=True)

    results = load_results()
    if args.fresh:
        results = {"mutants": {}}
    started = time.time()
    failing = baseline(work, results)
    save_results(results)
    for i, m in enumerate(chosen, 1):
        if m.id in results["mutants"]:
            continue
        print(f"[{i}/{len(chosen)}] {m.file}:{m.line} {m.operator}: {m.mutated.strip()[:100]}", flush=True)
        r = run_mutant(work, m, failing[" ".join(TARGETS[m.file]["tests"])])
        results["mutants"][m.id] = {**r, "mutant": asdict(m)}
        save_results(results)
        print(f"    {r['status']} ({r['seconds']:.0f} s) {', '.join(r.get('killed_by') or [])}", flush=True)
    meta = {"date": dt.date.today().isoformat(), "selection": selection, "seconds": time.time() - started}
    REPORT.write_text(render_report(mutants, chosen, results, meta))
    done = [results["mutants"][m.id] for m in chosen if m.id in results["mutants"]]
    k = sum(1 for r in done if r["status"].startswith("killed"))
    s = sum(1 for r in done if r["status"] == "survived")
    print(f"mutation score {k}/{k + s} = {k / (k + s):.0%}" if k + s else "no mutant was run")
    print(f"report: {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
