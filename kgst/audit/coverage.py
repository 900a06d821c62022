"""Solidity line, function and branch coverage of the KGST contracts, measured from the instructions the test suite
actually executes on anvil.

How it works
------------
* anvil runs with --steps-tracing (ape-foundry passes it), so `debug_traceTransaction` / `debug_traceCall` return
  the program counter and depth of every executed step (`structLogs`; storage, memory and stack disabled).
* The pytest plugin in this module (loaded with `-p kgst.audit.coverage`, active only when KGST_COVERAGE=1) traces,
  after each test and before Ape's isolation reverts the chain, every transaction mined since the last trace (the
  scan walks back from the head by block hash, so reverted blocks are never missed or traced twice), and every
  `eth_call` the tests make (immediately, with debug_traceCall on the same block).
* Each step is attributed to the code being executed, not to the storage context: a `callTracer` trace of the same
  transaction gives the call tree, each CALL/STATICCALL/DELEGATECALL/CALLCODE/CREATE step consumes the next child
  of its frame, and the frame's code is the code at the child's `to` address (for DELEGATECALL the implementation)
  or the init code for CREATE. Code is recognised by comparing it with the compiled KGST contracts (immutables and
  metadata masked); every step's opcode is checked against that code.
* Program counters map to source ranges with solc's `evm.deployedBytecode.sourceMap` (`evm.bytecode.sourceMap`
  for constructors), from `kgst.audit.solc.compile_project()` (same compiler and settings as Ape's build).

What is counted (per source file; OpenZeppelin, contracts/test and contracts/bench are never counted)
-----------------------------------------------------------------------------------------------------------
* statements: AST statements (and the conditions of if/for/while, Yul statements); an instruction belongs to the
  smallest statement whose source range contains its own. A statement is executable when at least one instruction
  of a KGST contract belongs to it, hit when one of those instructions ran.
* lines: the first lines of executable statements; a line is hit when a statement starting on it was hit.
* functions: function and modifier definitions (incl. constructors) with at least one instruction inside.
* branches: if statements, ternaries, loop conditions, try/catch, require/assert, Yul if/switch/for. Each JUMPI of
  a KGST contract whose source range is exactly the branch's node or its condition records the outcomes seen (fall
  through to pc+1, or jump). Where the code after the jump target or after the fall-through lies in the branch's
  true side, that JUMPI's outcomes translate to "true side ran" / "false side ran", so copies of inlined code add
  up; a JUMPI whose polarity cannot be told (shared code) counts only when it took both outcomes itself. A branch
  is covered when both sides ran. Short-circuit operands (`a || b`, `a && b`) are reported separately as
  "conditions" (both outcomes of their own JUMPI).
* The scan also runs just before any evm_revert / anvil_setChainId that goes through Ape's web3 provider (tests and
  harnesses that snapshot and revert inside one test), so their transactions are traced while they still exist.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from eth_utils import keccak

from kgst.audit import solc

ROOT = solc.ROOT
DATA_FILE = ROOT / ".build" / "kgst-audit" / "coverage-hits.json"
REPORT_JSON = ROOT / "audit" / "coverage.json"
REPORT_TEXT = ROOT / "audit" / "coverage.txt"


def set_root(root: Path) -> None:
    """Measure the project at `root` (the pytest rootdir: a copy of the project works too)."""
    global ROOT, DATA_FILE, REPORT_JSON, REPORT_TEXT
    ROOT = Path(root).resolve()
    DATA_FILE = ROOT / ".build" / "kgst-audit" / "coverage-hits.json"
    REPORT_JSON = ROOT / "audit" / "coverage.json"
    REPORT_TEXT = ROOT / "audit" / "coverage.txt"
ENV_FLAG = "KGST_COVERAGE"

# The contracts the coverage target applies to.
TARGET_FILES = ("contracts/KGSTToken.sol", "contracts/KGSTIssuanceController.sol", "contracts/KGSTReserveRegistry.sol")

# RPCs after which already-mined transactions can no longer be traced (reverted, or replayed under another chain id).
HISTORY_CHANGING = {"evm_revert", "anvil_revert", "anvil_reset", "hardhat_reset", "anvil_setChainId", "hardhat_setChainId"}
CALL_OPS = {"CALL", "CALLCODE", "DELEGATECALL", "STATICCALL", "CREATE", "CREATE2"}
JUMPI = 0x57
FALL, JUMP = 1, 2

STATEMENT_TYPES = {
    "ExpressionStatement",
    "VariableDeclarationStatement",
    "Return",
    "EmitStatement",
    "RevertStatement",
    "Break",
    "Continue",
    "PlaceholderStatement",
    "Throw",
    "YulExpressionStatement",
    "YulAssignment",
    "YulVariableDeclaration",
    "YulLeave",
    "YulBreak",
    "YulContinue",
}
CONDITION_HOLDERS = {"IfStatement", "WhileStatement", "DoWhileStatement", "ForStatement", "Conditional", "YulIf", "YulForLoop"}
BRANCH_TYPES = {"IfStatement", "Conditional", "ForStatement", "WhileStatement", "DoWhileStatement", "TryStatement", "YulIf", "YulSwitch", "YulForLoop"}


def _opcode_table() -> dict[str, int]:
    names = {
        0x00: "STOP", 0x01: "ADD", 0x02: "MUL", 0x03: "SUB", 0x04: "DIV", 0x05: "SDIV", 0x06: "MOD", 0x07: "SMOD",
        0x08: "ADDMOD", 0x09: "MULMOD", 0x0A: "EXP", 0x0B: "SIGNEXTEND", 0x10: "LT", 0x11: "GT", 0x12: "SLT",
        0x13: "SGT", 0x14: "EQ", 0x15: "ISZERO", 0x16: "AND", 0x17: "OR", 0x18: "XOR", 0x19: "NOT", 0x1A: "BYTE",
        0x1B: "SHL", 0x1C: "SHR", 0x1D: "SAR", 0x1E: "CLZ", 0x20: "KECCAK256", 0x30: "ADDRESS", 0x31: "BALANCE",
        0x32: "ORIGIN", 0x33: "CALLER", 0x34: "CALLVALUE", 0x35: "CALLDATALOAD", 0x36: "CALLDATASIZE",
        0x37: "CALLDATACOPY", 0x38: "CODESIZE", 0x39: "CODECOPY", 0x3A: "GASPRICE", 0x3B: "EXTCODESIZE",
        0x3C: "EXTCODECOPY", 0x3D: "RETURNDATASIZE", 0x3E: "RETURNDATACOPY", 0x3F: "EXTCODEHASH", 0x40: "BLOCKHASH",
        0x41: "COINBASE", 0x42: "TIMESTAMP", 0x43: "NUMBER", 0x44: "PREVRANDAO", 0x45: "GASLIMIT", 0x46: "CHAINID",
        0x47: "SELFBALANCE", 0x48: "BASEFEE", 0x49: "BLOBHASH", 0x4A: "BLOBBASEFEE", 0x50: "POP", 0x51: "MLOAD",
        0x52: "MSTORE", 0x53: "MSTORE8", 0x54: "SLOAD", 0x55: "SSTORE", 0x56: "JUMP", 0x57: "JUMPI", 0x58: "PC",
        0x59: "MSIZE", 0x5A: "GAS", 0x5B: "JUMPDEST", 0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY", 0x5F: "PUSH0",
        0xF0: "CREATE", 0xF1: "CALL", 0xF2: "CALLCODE", 0xF3: "RETURN", 0xF4: "DELEGATECALL", 0xF5: "CREATE2",
        0xFA: "STATICCALL", 0xFD: "REVERT", 0xFE: "INVALID", 0xFF: "SELFDESTRUCT",
    }
    table = {name: code for code, name in names.items()}
    table.update({"SHA3": 0x20, "DIFFICULTY": 0x44, "RANDOM": 0x44, "SUICIDE": 0xFF})
    for i in range(1, 33):
        table[f"PUSH{i}"] = 0x5F + i
    for i in range(1, 17):
        table[f"DUP{i}"] = 0x7F + i
        table[f"SWAP{i}"] = 0x8F + i
    for i in range(5):
        table[f"LOG{i}"] = 0xA0 + i
    return table


OPCODES = _opcode_table()


# ----------------------------------------------------------------------------------------------------------------
# The static model: what is executable, and which instruction belongs to what
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Unit:
    id: int
    kind: str
    start: int
    end: int
    line: int


@dataclass
class Function:
    id: int
    name: str
    start: int
    end: int
    line: int


@dataclass
class Branch:
    id: int
    kind: str
    start: int
    end: int
    line: int
    ranges: set[tuple[int, int]]
    true_body: tuple[int, int] | None = None  # source range of the "condition true" side (if body, loop body, ...)


@dataclass
class FileModel:
    name: str
    index: solc.SourceIndex
    units: list[Unit] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)  # decisions
    conditions: list[Branch] = field(default_factory=list)  # short-circuit operands


@dataclass
class PcInfo:
    file: str
    unit: int | None
    function: int | None
    branch: int | None
    condition: int | None
    polarity: int | None = None  # for a branch JUMPI: the outcome bit (FALL or JUMP) that enters the true side


def _smallest(items, start: int, end: int):
    best = None
    for item in items:
        if item.start <= start and end <= item.end and (best is None or item.end - item.start < best.end - best.start):
            best = item
    return best


def _function_name(node: dict, contract: str) -> str:
    kind = node.get("kind", "function")
    if kind in ("constructor", "fallback", "receive"):
        name = kind
    else:
        name = node.get("name", "?")
    params = ",".join(
        (p.get("typeDescriptions", {}).get("typeString") or "?").replace("struct ", "").replace("contract ", "")
        .replace(" calldata", "").replace(" memory", "").replace(" storage", "").replace(" pointer", "").replace(" ref", "")
        for p in node.get("parameters", {}).get("parameters", [])
    )
    prefix = "modifier " if node.get("nodeType") == "ModifierDefinition" else ""
    return f"{prefix}{contract}.{name}({params})"


class Model:
    """The KGST sources and contracts as coverage sees them (built from one solc standard-JSON compile)."""

    def __init__(self, output: dict | None = None, files: Iterable[str] = solc.KGST_SOURCES, root: Path | None = None):
        self.root = Path(root or ROOT)
        output = output or solc.compile_project(self.root)
        self.output = output
        self.ids = solc.source_ids(output)
        self.file_ids = {name: i for i, name in self.ids.items()}
        self.files: dict[str, FileModel] = {}
        for name in files:
            if name in output.get("sources", {}):
                self.files[name] = self._file_model(name, output["sources"][name]["ast"])
        runtime = solc.artifacts(output)
        creation = solc.artifacts(output, creation=True)
        self.artifacts: dict[str, solc.Artifact] = {}
        for name in solc.KGST_CONTRACTS:
            if name in runtime:
                self.artifacts[f"{name}:runtime"] = runtime[name]
            if name in creation:
                self.artifacts[f"{name}:creation"] = creation[name]
        self.pc_info: dict[str, dict[int, PcInfo]] = {key: self._pc_info(art) for key, art in self.artifacts.items()}
        self._code_cache: dict[bytes, str | None] = {}
        self.source_hashes = self.current_source_hashes()

    def current_source_hashes(self) -> dict[str, str]:
        return {
            name: hashlib.sha256((self.root / name).read_bytes()).hexdigest()[:16]
            for name in solc.project_sources(self.root)
        }

    # --- AST -----------------------------------------------------------------------------------------------

    def _file_model(self, name: str, ast: dict) -> FileModel:
        text = (self.root / name).read_text(encoding="utf8")
        fm = FileModel(name=name, index=solc.SourceIndex(text))
        fid = self.file_ids[name]

        def rng(node) -> tuple[int, int] | None:
            src = node.get("src")
            if not src:
                return None
            s, l, f = solc.parse_src(src)
            return (s, s + l) if f == fid else None

        contract_of: dict[int, str] = {}
        for node, _parent in solc.walk(ast):
            if node["nodeType"] == "ContractDefinition":
                if node.get("contractKind") == "interface":
                    continue
                for sub, _p in solc.walk(node.get("nodes", [])):
                    contract_of.setdefault(id(sub), node["name"])
        for node, parent in solc.walk(ast):
            nt = node["nodeType"]
            r = rng(node)
            if r is None:
                continue
            line = fm.index.line_of(r[0])
            if nt in ("FunctionDefinition", "ModifierDefinition") and node.get("body") and id(node) in contract_of:
                fm.functions.append(Function(len(fm.functions), _function_name(node, contract_of[id(node)]), r[0], r[1], line))
            if id(node) not in contract_of:
                continue
            if nt in STATEMENT_TYPES:
                fm.units.append(Unit(len(fm.units), nt, r[0], r[1], line))
            if nt in CONDITION_HOLDERS:
                cond = node.get("condition")
                if cond and rng(cond):
                    c = rng(cond)
                    fm.units.append(Unit(len(fm.units), "condition", c[0], c[1], fm.index.line_of(c[0])))
            if nt == "TryStatement" and rng(node.get("externalCall", {})):
                c = rng(node["externalCall"])
                fm.units.append(Unit(len(fm.units), "try", c[0], c[1], fm.index.line_of(c[0])))
            is_require = (
                nt == "FunctionCall"
                and node.get("expression", {}).get("nodeType") == "Identifier"
                and node["expression"].get("name") in ("require", "assert")
            )
            if nt in BRANCH_TYPES or is_require:
                ranges = {(r[0], r[1] - r[0])}
                cond = None if nt == "FunctionCall" else (node.get("condition") or node.get("expression"))
                if nt == "TryStatement":
                    cond = node.get("externalCall")
                if cond and rng(cond):
                    is_short_circuit = cond.get("nodeType") == "BinaryOperation" and cond.get("operator") in ("&&", "||")
                    if not is_short_circuit:
                        c = rng(cond)
                        ranges.add((c[0], c[1] - c[0]))
                body_node = {"IfStatement": "trueBody", "Conditional": "trueExpression", "ForStatement": "body",
                             "WhileStatement": "body"}.get(nt)
                true_body = rng(node[body_node]) if body_node and node.get(body_node) else None
                kind = "require" if is_require else nt
                fm.branches.append(Branch(len(fm.branches), kind, r[0], r[1], line, ranges, true_body))
            if nt == "BinaryOperation" and node.get("operator") in ("&&", "||"):
                fm.conditions.append(Branch(len(fm.conditions), node["operator"], r[0], r[1], line, {(r[0], r[1] - r[0])}))
        return fm

    def _pc_info(self, art: solc.Artifact) -> dict[int, PcInfo]:
        out: dict[int, PcInfo] = {}
        by_range_branch: dict[str, dict[tuple[int, int], int]] = {}
        by_range_cond: dict[str, dict[tuple[int, int], int]] = {}
        for name, fm in self.files.items():
            by_range_branch[name] = {rg: b.id for b in fm.branches for rg in b.ranges}
            by_range_cond[name] = {rg: b.id for b in fm.conditions for rg in b.ranges}
        cache: dict[tuple[int, int, int], tuple] = {}
        order = [pc for pc, _op in solc.instructions(art.code[: solc.code_length_without_metadata(art.code)])]
        position = {pc: i for i, pc in enumerate(order)}
        for pc, r in art.pc_to_range.items():
            name = self.ids.get(r.file)
            fm = self.files.get(name) if name else None
            if fm is None or r.length <= 0:
                continue
            key = (r.file, r.start, r.length)
            if key not in cache:
                unit = _smallest(fm.units, r.start, r.end)
                func = _smallest(fm.functions, r.start, r.end)
                cache[key] = (unit.id if unit else None, func.id if func else None)
            unit_id, func_id = cache[key]
            branch = condition = None
            polarity = None
            if art.opcodes.get(pc) == JUMPI:
                branch = by_range_branch[name].get((r.start, r.length))
                condition = by_range_cond[name].get((r.start, r.length))
                if branch is not None and fm.branches[branch].true_body:
                    polarity = self._polarity(art, order, position, pc, r.file, fm.branches[branch].true_body)
            out[pc] = PcInfo(name, unit_id, func_id, branch, condition, polarity)
        return out

    @staticmethod
    def _polarity(art, order, position, pc, file_index, body) -> int | None:
        """Which outcome of the JUMPI at `pc` enters the branch's true side: the code right after the jump target and
        right after the fall-through is looked up in the source map. None when it cannot be told (shared code)."""
        i = position.get(pc)
        if i is None or i == 0:
            return None
        push = order[i - 1]
        op = art.code[push]
        if not 0x60 <= op <= 0x7F:
            return None
        target = int.from_bytes(art.code[push + 1 : push + 1 + (op - 0x5F)], "big")

        def lands_in_body(start: int) -> bool:
            j = position.get(start)
            if j is None:
                return False
            for k in range(j, min(j + 12, len(order))):
                rr = art.pc_to_range.get(order[k])
                if rr and rr.file == file_index and body[0] <= rr.start and rr.start + rr.length <= body[1] and rr.length > 0:
                    return True
                if art.code[order[k]] in (0x56, 0x00, 0xF3, 0xFD, 0xFE):  # JUMP, STOP, RETURN, REVERT, INVALID
                    return False
            return False

        jump, fall = lands_in_body(target), lands_in_body(order[i + 1] if i + 1 < len(order) else -1)
        if jump and not fall:
            return JUMP
        if fall and not jump:
            return FALL
        return None

    # --- code recognition ------------------------------------------------------------------------------------

    def identify(self, code: bytes, *, creation: bool) -> str | None:
        """The artifact key ("KGSTToken:runtime") whose code this is, or None (OpenZeppelin-only code, mocks...)."""
        cache_key = (b"C" if creation else b"R") + keccak(code)
        if cache_key in self._code_cache:
            return self._code_cache[cache_key]
        found = None
        for key, art in self.artifacts.items():
            if art.creation != creation:
                continue
            if creation:
                body = art.code[: solc.code_length_without_metadata(art.code)]
                if code.startswith(body):
                    found = key
                    break
            elif len(code) == len(art.code) and art.masked(code) == art.masked(art.code):
                found = key
                break
        self._code_cache[cache_key] = found
        return found

    def executable(self) -> dict[str, dict[str, set[int]]]:
        """Per file: unit, function, branch and condition ids that have at least one instruction in a KGST contract."""
        out = {name: {"units": set(), "functions": set(), "branches": set(), "conditions": set()} for name in self.files}
        for infos in self.pc_info.values():
            for info in infos.values():
                e = out[info.file]
                if info.unit is not None:
                    e["units"].add(info.unit)
                if info.function is not None:
                    e["functions"].add(info.function)
                if info.branch is not None:
                    e["branches"].add(info.branch)
                if info.condition is not None:
                    e["conditions"].add(info.condition)
        return out


# ----------------------------------------------------------------------------------------------------------------
# Hits: executed program counters and JUMPI outcomes, per artifact
# ----------------------------------------------------------------------------------------------------------------


class Hits:
    def __init__(self):
        self.pcs: dict[str, set[int]] = defaultdict(set)
        self.jumpi: dict[str, dict[int, int]] = defaultdict(dict)  # pc -> FALL | JUMP bits
        self.stats = defaultdict(int)

    def merge(self, other: "Hits") -> None:
        for key, pcs in other.pcs.items():
            self.pcs[key] |= pcs
        for key, outcomes in other.jumpi.items():
            mine = self.jumpi[key]
            for pc, bits in outcomes.items():
                mine[pc] = mine.get(pc, 0) | bits
        for k, v in other.stats.items():
            self.stats[k] += v

    def to_json(self) -> dict:
        return {
            "pcs": {k: sorted(v) for k, v in self.pcs.items()},
            "jumpi": {k: {str(pc): bits for pc, bits in sorted(v.items())} for k, v in self.jumpi.items()},
            "stats": dict(self.stats),
        }

    @classmethod
    def from_json(cls, data: dict) -> "Hits":
        h = cls()
        for k, v in data.get("pcs", {}).items():
            h.pcs[k] = set(v)
        for k, v in data.get("jumpi", {}).items():
            h.jumpi[k] = {int(pc): bits for pc, bits in v.items()}
        for k, v in data.get("stats", {}).items():
            h.stats[k] = v
        return h


# ----------------------------------------------------------------------------------------------------------------
# Tracing
# ----------------------------------------------------------------------------------------------------------------

STRUCT_LOG_OPTIONS = {"disableStorage": True, "disableMemory": True, "disableStack": True, "enableReturnData": False}
CALL_TRACER = {"tracer": "callTracer"}


class RpcError(RuntimeError):
    pass


class Tracer:
    """Traces transactions and calls on a node with step tracing and accumulates `Hits`."""

    def __init__(self, model: Model, request: Callable[[str, list], Any], hits: Hits | None = None):
        self.model = model
        self._request = request
        self.hits = hits or Hits()
        self._code: dict[tuple[str, str], bytes] = {}

    def rpc(self, method: str, params: list) -> Any:
        response = self._request(method, params)
        if isinstance(response, dict) and "error" in response:
            raise RpcError(f"{method}: {response['error']}")
        return response.get("result") if isinstance(response, dict) and "jsonrpc" in response else response

    def code_at(self, address: str, block: str) -> bytes:
        key = (address.lower(), block)
        if key not in self._code:
            code = self.rpc("eth_getCode", [address, block]) or "0x"
            self._code[key] = bytes.fromhex(code[2:])
        return self._code[key]

    def trace_transaction(self, tx_hash: str, block: str) -> None:
        logs = self.rpc("debug_traceTransaction", [tx_hash, STRUCT_LOG_OPTIONS])
        tree = self.rpc("debug_traceTransaction", [tx_hash, CALL_TRACER])
        self._process(logs.get("structLogs") or [], tree, block)
        self.hits.stats["transactions"] += 1

    def trace_call(self, call: dict, block: Any) -> None:
        block = block if block not in (None, "pending") else "latest"
        if isinstance(block, int):
            block = hex(block)
        logs = self.rpc("debug_traceCall", [call, block, STRUCT_LOG_OPTIONS])
        tree = self.rpc("debug_traceCall", [call, block, CALL_TRACER])
        self._process(logs.get("structLogs") or [], tree, block)
        self.hits.stats["calls"] += 1

    def _frame_code(self, frame: dict, block: str) -> str | None:
        kind = (frame.get("type") or "CALL").upper()
        if kind in ("CREATE", "CREATE2"):
            return self.model.identify(bytes.fromhex((frame.get("input") or "0x")[2:]), creation=True)
        to = frame.get("to")
        if not to:
            return None
        return self.model.identify(self.code_at(to, block), creation=False)

    def _process(self, logs: list[dict], tree: dict, block: str) -> None:
        if not logs:
            return
        stats = self.hits.stats
        root_key = self._frame_code(tree, block)
        # Each frame: [artifact key, iterator over child calls, depth]
        stack: list[list] = [[root_key, iter(tree.get("calls") or []), logs[0]["depth"]]]
        n = len(logs)
        pcs_of = self.hits.pcs
        jumpi_of = self.hits.jumpi
        opcode_of = {key: art.opcodes for key, art in self.model.artifacts.items()}
        bad_frames = 0
        for i in range(n):
            step = logs[i]
            depth = step["depth"]
            while depth < stack[-1][2] and len(stack) > 1:
                stack.pop()
            frame = stack[-1]
            key = frame[0]
            op = step["op"]
            if key is not None:
                pc = step["pc"]
                ops = opcode_of[key]
                expected = OPCODES.get(op)
                if expected is not None and ops.get(pc) != expected:
                    # The step does not match the code we attributed: never count it (and say so in the stats).
                    bad_frames += 1
                    frame[0] = key = None
                else:
                    pcs_of[key].add(pc)
                    if op == "JUMPI" and i + 1 < n and logs[i + 1]["depth"] == depth:
                        bits = FALL if logs[i + 1]["pc"] == pc + 1 else JUMP
                        outcomes = jumpi_of[key]
                        outcomes[pc] = outcomes.get(pc, 0) | bits
            if op in CALL_OPS:
                child = next(frame[1], None)
                if i + 1 < n and logs[i + 1]["depth"] == depth + 1:
                    child_key = self._frame_code(child, block) if child is not None else None
                    if child is None:
                        stats["unmatched_frames"] += 1
                    stack.append([child_key, iter((child or {}).get("calls") or []), depth + 1])
        stats["steps"] += n
        stats["attribution_errors"] += bad_frames

    # --- scanning the chain ----------------------------------------------------------------------------------

    def scan_new_blocks(self, seen: dict[int, str]) -> int:
        """Traces every transaction in blocks not yet seen (walking back from the head by hash). Returns how many."""
        head = int(self.rpc("eth_blockNumber", []), 16)
        new_blocks = []
        number = head
        while number >= 0:
            block = self.rpc("eth_getBlockByNumber", [hex(number), False])
            if block is None:
                break
            if seen.get(number) == block["hash"]:
                break
            new_blocks.append(block)
            number -= 1
        traced = 0
        for block in reversed(new_blocks):
            number = int(block["number"], 16)
            for tx_hash in block.get("transactions") or []:
                try:
                    self.trace_transaction(tx_hash, block["number"])
                    traced += 1
                except Exception as exc:  # a trace that fails is reported, never silently dropped
                    self.hits.stats["trace_failures"] += 1
                    print(f"[kgst-coverage] could not trace {tx_hash}: {exc}", file=sys.stderr)
            seen[number] = block["hash"]
        for stale in [k for k in seen if k > head]:
            del seen[stale]
        return traced


# ----------------------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------------------


def _pct(hit: int, total: int) -> float:
    return round(100.0 * hit / total, 2) if total else 100.0


def file_report(model: Model, hits: Hits) -> dict[str, dict]:
    executable = model.executable()
    hit_units = defaultdict(set)
    hit_funcs = defaultdict(set)
    branch_bits: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    cond_bits: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for key, infos in model.pc_info.items():
        pcs = hits.pcs.get(key, set())
        outcomes = hits.jumpi.get(key, {})
        for pc, info in infos.items():
            if pc in pcs:
                if info.unit is not None:
                    hit_units[info.file].add(info.unit)
                if info.function is not None:
                    hit_funcs[info.file].add(info.function)
            if info.branch is not None:
                branch_bits[info.file][info.branch].append((outcomes.get(pc, 0), info.polarity))
            if info.condition is not None:
                cond_bits[info.file][info.condition].append((outcomes.get(pc, 0), None))

    report = {}
    for name, fm in model.files.items():
        ex = executable[name]
        units = {u.id: u for u in fm.units}
        exec_units = [units[i] for i in sorted(ex["units"])]
        lines_total = sorted({u.line for u in exec_units})
        lines_hit = sorted({units[i].line for i in hit_units[name] if i in ex["units"]})
        funcs = {f.id: f for f in fm.functions}
        funcs_total = [funcs[i] for i in sorted(ex["functions"])]
        funcs_hit = {i for i in hit_funcs[name] if i in ex["functions"]}

        def branch_rows(items, bits_of):
            """(branch, covered, sides) per branch. A JUMPI whose polarity is known tells the source-level side it
            took, so copies of the same code (inlined by the optimizer) add up; one whose polarity is unknown counts
            only when it took both outcomes itself. sides: 1 = true side seen, 2 = false side seen, 4 = reached."""
            rows = []
            for b in items:
                instances = bits_of.get(b.id)
                if not instances:
                    continue
                sides = 0
                both = False
                for bits, polarity in instances:
                    if bits:
                        sides |= 4
                    if bits == FALL | JUMP:
                        both = True
                    if polarity is not None:
                        if bits & polarity:
                            sides |= 1
                        if bits & (FALL | JUMP) & ~polarity:
                            sides |= 2
                covered = both or (sides & 3) == 3
                rows.append((b, covered, sides))
            return rows

        branches = branch_rows(fm.branches, branch_bits[name])
        conditions = branch_rows(fm.conditions, cond_bits[name])
        no_jumpi = [b for b in fm.branches if b.id not in ex["branches"] and b.kind != "TryStatement"]

        def describe(b: Branch, seen: int) -> str:
            if seen == 0:
                return "never reached"
            if seen & 3 == 1:
                return "only the true side ran"
            if seen & 3 == 2:
                return "only the false side ran"
            return "only one outcome seen"

        text_of = fm.index.line_text
        report[name] = {
            "lines": {"hit": len(lines_hit), "total": len(lines_total), "pct": _pct(len(lines_hit), len(lines_total))},
            "statements": {
                "hit": len([i for i in hit_units[name] if i in ex["units"]]),
                "total": len(exec_units),
                "pct": _pct(len([i for i in hit_units[name] if i in ex["units"]]), len(exec_units)),
            },
            "functions": {"hit": len(funcs_hit), "total": len(funcs_total), "pct": _pct(len(funcs_hit), len(funcs_total))},
            "branches": {
                "hit": sum(1 for _b, both, _s in branches if both),
                "total": len(branches),
                "pct": _pct(sum(1 for _b, both, _s in branches if both), len(branches)),
            },
            "conditions": {
                "hit": sum(1 for _b, both, _s in conditions if both),
                "total": len(conditions),
                "pct": _pct(sum(1 for _b, both, _s in conditions if both), len(conditions)),
            },
            "uncovered_lines": [
                {"line": ln, "text": text_of(ln).strip()} for ln in sorted(set(lines_total) - set(lines_hit))
            ],
            "uncovered_functions": [{"line": f.line, "function": f.name} for f in funcs_total if f.id not in funcs_hit],
            "partial_branches": [
                {"line": b.line, "kind": b.kind, "text": text_of(b.line).strip(), "seen": describe(b, seen)}
                for b, both, seen in branches
                if not both
            ],
            "partial_conditions": [
                {"line": b.line, "operator": b.kind, "text": fm.index.data[b.start : b.end].decode("utf8", "replace")[:120],
                 "seen": "never reached" if seen == 0 else "only one outcome seen"}
                for b, both, seen in conditions
                if not both
            ],
            "branches_without_jumpi": [
                {"line": b.line, "kind": b.kind, "text": text_of(b.line).strip()} for b in no_jumpi
            ],
            "statements_without_code": [
                {"line": u.line, "kind": u.kind, "text": text_of(u.line).strip()} for u in fm.units if u.id not in ex["units"]
            ],
            "functions_not_compiled": [
                {"line": f.line, "function": f.name} for f in fm.functions if f.id not in ex["functions"]
            ],
        }
    return report


def summary(report: dict[str, dict]) -> dict:
    def total(files, metric):
        hit = sum(report[f][metric]["hit"] for f in files)
        tot = sum(report[f][metric]["total"] for f in files)
        return {"hit": hit, "total": tot, "pct": _pct(hit, tot)}

    targets = [f for f in TARGET_FILES if f in report]
    return {
        "target_files": {m: total(targets, m) for m in ("lines", "functions", "branches", "conditions", "statements")},
        "all_files": {m: total(list(report), m) for m in ("lines", "functions", "branches", "conditions", "statements")},
        "targets": {"lines": 100.0, "functions": 100.0, "branches": 98.0},
    }


# Per file, in this order: (report key, heading, how each entry is shown after its line number).
REPORT_SECTIONS = (
    ("uncovered_functions", "functions never executed:", "{function}"),
    ("uncovered_lines", "lines never executed:", "{text}"),
    ("partial_branches", "branches not seen both ways:", "[{seen}] {text}"),
    ("partial_conditions", "short-circuit conditions not seen both ways:", "[{seen}] {text}"),
    ("branches_without_jumpi", "(not counted: branches whose conditional jump the optimizer merged into another or removed)",
     "{kind}: {text}"),
    ("statements_without_code", "(not counted: statements with no instructions of their own, merged by the optimizer or free)",
     "{kind}: {text}"),
)


def render_text(report: dict[str, dict], meta: dict) -> str:
    out = []
    out.append("KGST Solidity coverage (from executed instructions; see docs/audit.md)")
    for k, v in meta.items():
        out.append(f"  {k}: {v}")
    out.append("")
    header = f"{'file':<48} {'lines':>16} {'functions':>16} {'branches':>16} {'conditions':>16}"
    out.append(header)
    out.append("-" * len(header))

    def cell(m):
        return f"{m['hit']}/{m['total']} {m['pct']:6.2f}%"

    for name, r in report.items():
        out.append(f"{name:<48} {cell(r['lines']):>16} {cell(r['functions']):>16} {cell(r['branches']):>16} {cell(r['conditions']):>16}")
    s = summary(report)
    out.append("-" * len(header))
    t = s["target_files"]
    out.append(f"{'token + controller + registry':<48} {cell(t['lines']):>16} {cell(t['functions']):>16} {cell(t['branches']):>16} {cell(t['conditions']):>16}")
    out.append("targets (issue): lines 100 %, functions 100 %, branches >= 98 % for token, controller, registry")
    for name, r in report.items():
        if not any(r[key] for key, _, _ in REPORT_SECTIONS):
            continue
        out.append("")
        out.append(f"== {name}")
        for key, heading, detail in REPORT_SECTIONS:
            if r[key]:
                out.append(f"  {heading}")
                out += [f"    {x['line']:>4}  " + detail.format(**x) for x in r[key]]
    return "\n".join(out) + "\n"


def write_reports(model: Model, hits: Hits, meta: dict | None = None) -> dict:
    report = file_report(model, hits)
    meta = dict(meta or {})
    meta.update({k: v for k, v in hits.stats.items()})
    doc = {"meta": meta, "summary": summary(report), "files": report}
    REPORT_JSON.parent.mkdir(parents=True, exist_ok=True)
    REPORT_JSON.write_text(json.dumps(doc, indent=2) + "\n")
    REPORT_TEXT.write_text(render_text(report, meta))
    return doc


def save_hits(hits: Hits, path: Path = DATA_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(hits.to_json()))


def load_hits(path: Path = DATA_FILE) -> Hits:
    return Hits.from_json(json.loads(path.read_text()))


# ----------------------------------------------------------------------------------------------------------------
# The pytest plugin (`ape test -p kgst.audit.coverage`, active only with KGST_COVERAGE=1)
# ----------------------------------------------------------------------------------------------------------------


class CoveragePlugin:
    def __init__(self, config):
        self.config = config
        self.model: Model | None = None
        self.tracer: Tracer | None = None
        self.seen_blocks: dict[int, str] = {}
        self._hooked_web3 = None
        self._raw_request = None
        self._in_trace = False
        self.started = time.time()
        self.trace_seconds = 0.0

    def _provider(self):
        import ape

        try:
            provider = ape.networks.active_provider
        except Exception:
            return None
        if provider is None or not getattr(provider, "is_connected", False):
            return None
        return provider

    def _ensure(self) -> bool:
        provider = self._provider()
        if provider is None:
            return False
        web3 = provider.web3
        if self.model is None:
            self.model = Model()
        if self._hooked_web3 is not web3:
            raw = web3.provider.make_request
            self._raw_request = raw
            plugin = self

            def make_request(method, params):
                if method in HISTORY_CHANGING and not plugin._in_trace:
                    # A test (or a harness inside one) is about to revert the chain or change the chain id:
                    # trace what is mined so far while it still exists and still replays.
                    plugin.scan()
                response = raw(method, params)
                if method == "eth_call" and not plugin._in_trace:
                    plugin._trace_call(params)
                return response

            web3.provider.make_request = make_request
            # web3 caches its middleware chain around the provider's original make_request: rebuild it, so calls
            # made with web3.eth.call (not only Ape's) go through the hook too.
            if hasattr(web3.provider, "_request_func_cache"):
                web3.provider._request_func_cache = (None, None)
            self._hooked_web3 = web3
            hits = self.tracer.hits if self.tracer else None
            self.tracer = Tracer(self.model, raw, hits)
        return True

    def _trace_call(self, params) -> None:
        if not self.tracer or not params:
            return
        call = dict(params[0])
        block = params[1] if len(params) > 1 else "latest"
        started = time.time()
        self._in_trace = True
        try:
            self.tracer.trace_call(call, block)
        except Exception as exc:
            self.tracer.hits.stats["call_trace_failures"] += 1
            if self.tracer.hits.stats["call_trace_failures"] <= 3:
                print(f"[kgst-coverage] could not trace an eth_call: {exc}", file=sys.stderr)
        finally:
            self._in_trace = False
            self.trace_seconds += time.time() - started

    def scan(self) -> None:
        if not self._ensure():
            return
        started = time.time()
        self._in_trace = True
        try:
            self.tracer.scan_new_blocks(self.seen_blocks)
        finally:
            self._in_trace = False
            self.trace_seconds += time.time() - started

    def finish(self, session) -> None:
        self.scan()
        if not self.tracer:
            return
        save_hits(self.tracer.hits)
        changed = sorted(
            name for name, digest in self.model.current_source_hashes().items() if self.model.source_hashes.get(name) != digest
        )
        if changed:
            print(f"[kgst-coverage] WARNING: sources changed during the run ({', '.join(changed)}): contracts Ape "
                  "recompiled and deployed after that are not attributed; rerun on a quiet tree", file=sys.stderr)
        silent = [key for key in self.model.artifacts if key.endswith(":runtime") and not self.tracer.hits.pcs.get(key)]
        if silent:
            # Either no test ran that code, or the deployed code differs from our compile (sources edited mid-run).
            print(f"[kgst-coverage] no step was attributed to {', '.join(silent)}", file=sys.stderr)
        meta = {
            "sources_changed_during_run": changed,
            "tests_collected": session.testscollected,
            "tests_failed": session.testsfailed,
            "wall_seconds": round(time.time() - self.started, 1),
            "trace_seconds": round(self.trace_seconds, 1),
            "args": " ".join(self.config.invocation_params.args),
        }
        doc = write_reports(self.model, self.tracer.hits, meta)
        tw = self.config.get_terminal_writer() if hasattr(self.config, "get_terminal_writer") else None
        text = REPORT_TEXT.read_text()
        first = text.split("\n== ")[0]
        if tw:
            tw.line("")
            tw.line(first)
            tw.line(f"full report: {REPORT_TEXT.relative_to(ROOT)} and {REPORT_JSON.relative_to(ROOT)}")
        else:
            print(first)
        return doc


import pytest  # noqa: E402  (only needed by the plugin hooks below)


def _plugin(config) -> CoveragePlugin | None:
    return getattr(config, "_kgst_coverage", None)


def pytest_addoption(parser):
    group = parser.getgroup("kgst-coverage")
    group.addoption("--kgst-coverage", action="store_true", default=False, help="measure KGST Solidity coverage (or KGST_COVERAGE=1)")


def pytest_configure(config):
    enabled = os.environ.get(ENV_FLAG, "") not in ("", "0") or config.getoption("--kgst-coverage", default=False)
    if enabled:
        set_root(config.rootpath)
        config._kgst_coverage = CoveragePlugin(config)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item):
    plugin = _plugin(item.config)
    if plugin:
        plugin._ensure()
    yield


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    plugin = _plugin(item.config)
    if plugin:
        try:
            plugin.scan()
        except Exception as exc:  # coverage must never break the test run; it says what it missed
            print(f"[kgst-coverage] scan failed after {item.nodeid}: {exc}", file=sys.stderr)
            if plugin.tracer:
                plugin.tracer.hits.stats["scan_failures"] += 1
    yield


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    plugin = _plugin(session.config)
    if plugin:
        plugin.finish(session)


# ----------------------------------------------------------------------------------------------------------------
# Command line: `python -m kgst.audit.coverage report` re-renders audit/coverage.{json,txt} from the saved hits
# ----------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("report", help="re-render the reports from the hits of the last coverage run")
    args = parser.parse_args(argv)
    if args.command == "report":
        if not DATA_FILE.exists():
            print(f"no coverage data at {DATA_FILE}: run `make coverage` first", file=sys.stderr)
            return 1
        previous = json.loads(REPORT_JSON.read_text()).get("meta", {}) if REPORT_JSON.exists() else {}
        hits = load_hits()
        write_reports(Model(), hits, {k: v for k, v in previous.items() if k not in hits.stats})
        print(REPORT_TEXT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
