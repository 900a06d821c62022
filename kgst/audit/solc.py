"""The compiler output the audit tools need and Ape does not keep: runtime (deployed) source maps, immutable
references and ASTs of every source, from one standard-JSON compile with the project's pinned compiler
(.solcx/solc-v<version>, the npm solc adapter) and the settings of ape-config.yaml.

The output is cached under .build/kgst-audit/ by the hash of the compiler input, so a second run costs nothing.
`compile_project()` returns the raw solc output; `Artifact` wraps one contract's bytecode with its decoded source
map (pc -> source range) and `SourceIndex` maps byte offsets to lines.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator

import yaml

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / ".build" / "kgst-audit"

# The KGST sources the audit gates measure (OpenZeppelin, contracts/test and contracts/bench excluded).
KGST_SOURCES = (
    "contracts/KGSTToken.sol",
    "contracts/KGSTIssuanceController.sol",
    "contracts/KGSTReserveRegistry.sol",
    "contracts/KGSTProxy.sol",
    "contracts/governance/KGSTTimelock.sol",
    "contracts/libraries/SignatureVerification.sol",
)
# The contracts deployed from those sources.
KGST_CONTRACTS = {
    "KGSTToken": "contracts/KGSTToken.sol",
    "KGSTIssuanceController": "contracts/KGSTIssuanceController.sol",
    "KGSTReserveRegistry": "contracts/KGSTReserveRegistry.sol",
    "KGSTProxy": "contracts/KGSTProxy.sol",
    "KGSTTimelock": "contracts/governance/KGSTTimelock.sol",
}

# OpenZeppelin: the unpacked npm packages (`make` puts them in .deps/, the same files Ape copies to contracts/.cache).
REMAPPINGS = (
    "@openzeppelin/contracts-upgradeable/=.deps/openzeppelin-contracts-upgradeable/",
    "@openzeppelin/contracts/=.deps/openzeppelin-contracts/",
)

OUTPUT_SELECTION = {
    "*": {
        "*": [
            "abi",
            "evm.bytecode.object",
            "evm.bytecode.sourceMap",
            "evm.deployedBytecode.object",
            "evm.deployedBytecode.sourceMap",
            "evm.deployedBytecode.immutableReferences",
        ],
        "": ["ast"],
    }
}


def solc_version() -> str:
    return json.loads((ROOT / "package.json").read_text())["devDependencies"]["solc"]


def solc_binary() -> Path:
    folder = Path(os.environ.get("SOLCX_BINARY_PATH") or ROOT / ".solcx")
    binary = folder / f"solc-v{solc_version()}"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is missing: run `make setup` (tools/install-toolchain.sh installs it)")
    return binary


def compiler_settings(root: Path = ROOT) -> dict:
    """Optimizer and EVM version exactly as ape-config.yaml gives them to ape-solidity."""
    cfg = yaml.safe_load((root / "ape-config.yaml").read_text()).get("solidity", {})
    settings = {
        "optimizer": {"enabled": bool(cfg.get("optimize", True)), "runs": int(cfg.get("optimization_runs", 200))},
        "remappings": list(REMAPPINGS),
        "outputSelection": OUTPUT_SELECTION,
    }
    if cfg.get("evm_version"):
        settings["evmVersion"] = cfg["evm_version"]
    if cfg.get("via_ir") is not None:
        settings["viaIR"] = bool(cfg["via_ir"])
    return settings


def project_sources(root: Path = ROOT) -> list[str]:
    """Every .sol file of the project under contracts/ (not Ape's dependency cache)."""
    return sorted(
        str(p.relative_to(root)) for p in (root / "contracts").rglob("*.sol") if ".cache" not in p.relative_to(root).parts
    )


def standard_input(root: Path = ROOT, sources: list[str] | None = None, overrides: dict[str, str] | None = None) -> dict:
    """Standard-JSON input for `sources` (default: all of them). `overrides` replaces the text of some sources
    (the mutation tool compiles mutants this way without touching the files)."""
    overrides = overrides or {}
    names = sources or project_sources(root)
    return {
        "language": "Solidity",
        "sources": {n: {"content": overrides.get(n) or (root / n).read_text(encoding="utf8")} for n in names},
        "settings": compiler_settings(root),
    }


def run_solc(input_json: dict, root: Path = ROOT, *, timeout: int = 900) -> dict:
    proc = subprocess.run(
        [str(solc_binary()), "--standard-json", "--base-path", str(root), "--allow-paths", str(root)],
        input=json.dumps(input_json),
        capture_output=True,
        text=True,
        cwd=root,
        timeout=timeout,
    )
    if proc.returncode != 0 and not proc.stdout.strip():
        raise RuntimeError(f"solc failed ({proc.returncode}): {proc.stderr.strip()}")
    output = json.loads(proc.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompileError("\n".join(e.get("formattedMessage", e.get("message", "")) for e in errors))
    return output


class CompileError(RuntimeError):
    pass


def compile_project(root: Path = ROOT, *, use_cache: bool = True) -> dict:
    """The solc output for every project source (cached by input hash)."""
    input_json = standard_input(root)
    key = hashlib.sha256(json.dumps(input_json, sort_keys=True).encode()).hexdigest()[:20]
    cached = CACHE_DIR / f"solc-{solc_version()}-{key}.json"
    if use_cache and cached.exists():
        return json.loads(cached.read_text())
    output = run_solc(input_json, root)
    output["_input"] = {"sources": list(input_json["sources"]), "settings": input_json["settings"]}
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    for old in sorted(CACHE_DIR.glob("solc-*.json"), key=lambda p: p.stat().st_mtime)[:-3]:
        old.unlink(missing_ok=True)  # keep the three most recent compiles (tree, mutation copy, ...)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(output))
    tmp.replace(cached)
    return output


# --------------------------------------------------------------------------------------------------------------
# Bytecode and source maps
# --------------------------------------------------------------------------------------------------------------


def instructions(code: bytes) -> Iterator[tuple[int, int]]:
    """(pc, opcode) of every instruction, skipping PUSH immediates."""
    pc = 0
    n = len(code)
    while pc < n:
        op = code[pc]
        yield pc, op
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)


def code_length_without_metadata(code: bytes) -> int:
    """Length of the code before solc's CBOR metadata (whose length is in the last two bytes)."""
    if len(code) < 2:
        return len(code)
    meta = int.from_bytes(code[-2:], "big") + 2
    return len(code) - meta if meta <= len(code) else len(code)


@dataclass(frozen=True)
class SrcRange:
    start: int
    length: int
    file: int
    jump: str

    @property
    def end(self) -> int:
        return self.start + self.length


def decode_source_map(source_map: str) -> list[SrcRange]:
    """solc's compressed `s:l:f:j:m;...` source map, one entry per instruction."""
    out: list[SrcRange] = []
    s, l, f, j = 0, 0, -1, "-"
    for item in source_map.split(";"):
        if item:
            parts = item.split(":")
            if len(parts) > 0 and parts[0] != "":
                s = int(parts[0])
            if len(parts) > 1 and parts[1] != "":
                l = int(parts[1])
            if len(parts) > 2 and parts[2] != "":
                f = int(parts[2])
            if len(parts) > 3 and parts[3] != "":
                j = parts[3]
        out.append(SrcRange(s, l, f, j))
    return out


@dataclass
class Artifact:
    """One contract's runtime (or creation) code with its source map: pc -> source range."""

    name: str
    source: str
    code: bytes
    source_map: list[SrcRange]
    immutable_positions: list[tuple[int, int]] = field(default_factory=list)  # (start, length) in the code
    creation: bool = False

    @cached_property
    def pc_to_range(self) -> dict[int, SrcRange]:
        out: dict[int, SrcRange] = {}
        for index, (pc, _op) in enumerate(instructions(self.code[: code_length_without_metadata(self.code)])):
            if index >= len(self.source_map):
                break
            out[pc] = self.source_map[index]
        return out

    @cached_property
    def opcodes(self) -> dict[int, int]:
        return dict(instructions(self.code[: code_length_without_metadata(self.code)]))

    def masked(self, code: bytes) -> bytes:
        """`code` with the immutable positions zeroed and the metadata cut, for comparing with the compiled code."""
        body = bytearray(code[: code_length_without_metadata(code)])
        for start, length in self.immutable_positions:
            body[start : start + length] = b"\x00" * length
        return bytes(body)

    def matches(self, code: bytes) -> bool:
        return self.masked(code) == self.masked(self.code) if not self.creation else code.startswith(
            self.code[: code_length_without_metadata(self.code)]
        )


def artifacts(output: dict, *, creation: bool = False) -> dict[str, Artifact]:
    """Runtime (or creation) artifacts of every contract with code, by contract name."""
    out: dict[str, Artifact] = {}
    for source, contracts in output.get("contracts", {}).items():
        for name, data in contracts.items():
            evm = data.get("evm", {})
            part = evm.get("bytecode" if creation else "deployedBytecode", {})
            obj = part.get("object") or ""
            if not obj:
                continue
            immutables = []
            for refs in (part.get("immutableReferences") or {}).values():
                immutables += [(r["start"], r["length"]) for r in refs]
            out[name] = Artifact(
                name=name,
                source=source,
                code=bytes.fromhex(obj),
                source_map=decode_source_map(part.get("sourceMap") or ""),
                immutable_positions=immutables,
                creation=creation,
            )
    return out


def source_ids(output: dict) -> dict[int, str]:
    """File index (as in source maps) -> source unit name."""
    return {data["id"]: name for name, data in output.get("sources", {}).items()}


class SourceIndex:
    """Byte offset <-> line number (1-based) of one source file, as solc counts bytes (UTF-8)."""

    def __init__(self, text: str):
        self.text = text
        self.data = text.encode("utf8")
        self.line_starts = [0] + [i + 1 for i, b in enumerate(self.data) if b == 0x0A]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def line_text(self, line: int) -> str:
        start = self.line_starts[line - 1]
        end = self.line_starts[line] - 1 if line < len(self.line_starts) else len(self.data)
        return self.data[start:end].decode("utf8", "replace")

    @property
    def line_count(self) -> int:
        return len(self.line_starts)


def parse_src(src: str) -> tuple[int, int, int]:
    s, l, f = (int(x) for x in src.split(":")[:3])
    return s, l, f


def walk(node, parent=None) -> Iterator[tuple[dict, dict | None]]:
    """Every AST node (dicts with a nodeType) with its parent."""
    if isinstance(node, dict):
        if "nodeType" in node:
            yield node, parent
            parent = node
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from walk(value, parent)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, parent)
