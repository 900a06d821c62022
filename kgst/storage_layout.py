"""Storage layout of the KGST token's ERC-7201 namespaces, read from solc, and the upgrade-safety check on it.

The token keeps all of its state in ERC-7201 namespaced structs (its own `KGSTToken.TokenStorage` and the
namespaces of its OpenZeppelin upgradeable parents: Initializable, AccessControl, AccessControlDefaultAdminRules,
Pausable, EIP712, Nonces). solc's `storageLayout` output lists only a contract's ordinary state variables, so
this module compiles a small probe contract, generated in memory, that declares one state variable of each
namespaced struct type; the probe's `storageLayout` then gives every member's slot, offset and type.

A new implementation is safe to upgrade to (as far as storage goes) when, in every namespace of the released
one, each member keeps its position, name and type; new members may only be appended at the end, new
namespaces may be added, and enums may only gain values at the end. `compare_layouts` applies those rules;
`audit/storage-layout/KGSTToken.json` is the snapshot of the released layout that tests and the audit gate
compare against.

    python -m kgst.storage_layout            # compare the current source with the snapshot (exit 1 if unsafe)
    python -m kgst.storage_layout --update   # rewrite the snapshot deliberately (after a reviewed change)
    python -m kgst.storage_layout --print    # print the current layout as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_PATH = ROOT / "audit" / "storage-layout" / "KGSTToken.json"
TOKEN_SOURCE = "contracts/KGSTToken.sol"
TOKEN_CONTRACT = "KGSTToken"
PROBE_SOURCE = "kgst-storage-layout-probe/StorageLayoutProbe.sol"  # in memory only, never written to disk
ERC7201_TAG = "@custom:storage-location erc7201:"


class StorageLayoutError(RuntimeError):
    """The layout could not be extracted (compiler missing or failing, unexpected source structure)."""


def erc7201_slot(namespace_id: str) -> int:
    """keccak256(abi.encode(uint256(keccak256(id)) - 1)) & ~bytes32(uint256(0xff))."""
    inner = int.from_bytes(keccak(text=namespace_id), "big") - 1
    return int.from_bytes(keccak(inner.to_bytes(32, "big")), "big") & ~0xFF


# --- compiler -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompilerSettings:
    version: str
    evm_version: str
    optimize: bool
    runs: int
    solc: Path
    remappings: tuple[str, ...]  # solc remappings onto the dependencies' source folders (relative to the root)

    @classmethod
    def from_project(cls, root: Path = ROOT) -> "CompilerSettings":
        """ape-config.yaml's `solidity:` settings, its import remappings resolved onto the dependencies' folders
        (`local:` or `npm:` dependencies), and the project's compiler binary."""
        config = yaml.safe_load((root / "ape-config.yaml").read_text())
        solidity = config.get("solidity", {})
        version = str(solidity["version"])
        binary_dir = Path(os.environ.get("SOLCX_BINARY_PATH") or root / ".solcx")
        solc = binary_dir / f"solc-v{version}"
        if not solc.exists():
            raise StorageLayoutError(f"no compiler at {solc}: run `make setup` (it installs solc {version})")
        folders = {}
        for dependency in config.get("dependencies", []):
            if "local" in dependency:
                folder = Path(dependency["local"])
            elif "npm" in dependency:
                folder = Path("node_modules") / dependency["npm"]
            else:
                raise StorageLayoutError(f"dependency {dependency.get('name')}: only local: and npm: are supported")
            folder = folder / dependency.get("config_override", {}).get("contracts_folder", ".")
            manifest = root / folder / "package.json"
            if manifest.exists() and json.loads(manifest.read_text())["version"] != str(dependency["version"]):
                raise StorageLayoutError(
                    f"{folder} is not version {dependency['version']} as ape-config.yaml pins: run `make setup`"
                )
            if not (root / folder).is_dir():
                raise StorageLayoutError(f"dependency folder {folder} is missing: run `make setup`")
            folders[f"{dependency['name']}/{dependency['version']}"] = folder.as_posix().rstrip("/.") or "."
        remappings = []
        for entry in solidity.get("import_remapping", []):
            prefix, target = entry.split("=", 1)
            if target not in folders:
                raise StorageLayoutError(f"import remapping {entry}: no dependency {target} in ape-config.yaml")
            remappings.append(f"{prefix.rstrip('/')}/={folders[target]}/")
        return cls(
            version=version,
            evm_version=str(solidity.get("evm_version", "prague")),
            optimize=bool(solidity.get("optimize", True)),
            runs=int(solidity.get("optimization_runs", 200)),
            solc=solc,
            remappings=tuple(remappings),
        )


def _run_solc(settings: CompilerSettings, sources: dict, selection: dict, root: Path) -> dict:
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "evmVersion": settings.evm_version,
            "optimizer": {"enabled": settings.optimize, "runs": settings.runs},
            "remappings": list(settings.remappings),
            "outputSelection": selection,
        },
    }
    proc = subprocess.run(
        [str(settings.solc), "--standard-json", "--base-path", str(root), "--allow-paths", str(root)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=root,
    )
    if proc.returncode != 0:
        raise StorageLayoutError(f"solc failed ({proc.returncode}): {proc.stderr.strip()}")
    output = json.loads(proc.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise StorageLayoutError("solc reported errors:\n" + "\n".join(e["formattedMessage"] for e in errors))
    return output


def _source_content(path: str, overrides: dict[str, str], root: Path) -> dict:
    if path in overrides:
        return {"content": overrides[path]}
    return {"content": (root / path).read_text()}


# --- reading the AST ----------------------------------------------------------------------------------------


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _doc_text(node) -> str:
    doc = node.get("documentation")
    if isinstance(doc, dict):
        return doc.get("text", "")
    return doc or ""


@dataclass(frozen=True)
class Namespace:
    namespace_id: str
    contract: str
    struct: str
    source: str  # the source unit that declares it
    location_constant: str | None
    location_value: int | None  # the constant's value, if one was found


def _analyse_ast(output: dict, contract_name: str) -> tuple[list[Namespace], dict[str, list[str]]]:
    """The ERC-7201 namespaces of `contract_name` and its bases, and every enum's values (by canonical name)."""
    contracts_by_id: dict[int, tuple[str, dict]] = {}
    enums: dict[str, list[str]] = {}
    for source_name, source in output["sources"].items():
        for node in _walk(source["ast"]):
            if node.get("nodeType") == "ContractDefinition":
                contracts_by_id[node["id"]] = (source_name, node)
            elif node.get("nodeType") == "EnumDefinition":
                enums[node["canonicalName"]] = [member["name"] for member in node["members"]]
    targets = [c for _, c in contracts_by_id.values() if c["name"] == contract_name]
    if len(targets) != 1:
        raise StorageLayoutError(f"expected one contract {contract_name}, found {len(targets)}")
    namespaces = []
    for base_id in targets[0]["linearizedBaseContracts"]:
        source_name, contract = contracts_by_id[base_id]
        literals = {
            n["name"]: int(n["value"]["value"], 16)
            for n in contract["nodes"]
            if n.get("nodeType") == "VariableDeclaration"
            and n.get("constant")
            and n["typeDescriptions"]["typeString"] == "bytes32"
            and (n.get("value") or {}).get("nodeType") == "Literal"
            and str(n["value"].get("value", "")).startswith("0x")
        }
        for node in contract["nodes"]:
            if node.get("nodeType") != "StructDefinition" or ERC7201_TAG not in _doc_text(node):
                continue
            namespace_id = _doc_text(node).split(ERC7201_TAG, 1)[1].split()[0]
            slot = erc7201_slot(namespace_id)
            matching = [name for name, value in literals.items() if value == slot]
            constant = matching[0] if matching else (next(iter(literals)) if len(literals) == 1 else None)
            namespaces.append(
                Namespace(
                    namespace_id=namespace_id,
                    contract=contract["name"],
                    struct=node["name"],
                    source=source_name,
                    location_constant=constant,
                    location_value=literals.get(constant) if constant else None,
                )
            )
    return namespaces, enums


# --- canonical layout ---------------------------------------------------------------------------------------


def _canonical_type(type_id: str, types: dict, enums: dict[str, list[str]]) -> dict:
    """A type description without solc's AST ids (they change with any edit), recursing into its parts."""
    t = types[type_id]
    described = {"label": t["label"], "encoding": t["encoding"], "bytes": int(t["numberOfBytes"])}
    if t["encoding"] == "mapping":
        described["key"] = _canonical_type(t["key"], types, enums)
        described["value"] = _canonical_type(t["value"], types, enums)
    elif "members" in t:
        described["members"] = _canonical_members(t["members"], types, enums)
    elif "base" in t:
        described["base"] = _canonical_type(t["base"], types, enums)
    if t["label"].startswith("enum "):
        described["values"] = enums[t["label"][len("enum "):]]
    return described


def _canonical_members(members: list, types: dict, enums: dict[str, list[str]]) -> list[dict]:
    return [
        {
            "label": m["label"],
            "slot": int(m["slot"]),
            "offset": int(m["offset"]),
            "type": _canonical_type(m["type"], types, enums),
        }
        for m in members
    ]


def extract_layout(overrides: dict[str, str] | None = None, root: Path = ROOT) -> dict:
    """The token's storage layout as solc computes it from the current sources.

    `overrides` maps a source unit name (e.g. "contracts/KGSTToken.sol") to replacement text, so a test can
    check an edited variant without touching the file.
    """
    overrides = overrides or {}
    settings = CompilerSettings.from_project(root)
    token_sources = {TOKEN_SOURCE: _source_content(TOKEN_SOURCE, overrides, root)}

    # Pass 1: the AST (to find the namespaces and enums) and the token's ordinary state variables.
    first = _run_solc(
        settings, token_sources, {"*": {"": ["ast"]}, TOKEN_SOURCE: {TOKEN_CONTRACT: ["storageLayout"]}}, root
    )
    namespaces, enums = _analyse_ast(first, TOKEN_CONTRACT)
    plain = first["contracts"][TOKEN_SOURCE][TOKEN_CONTRACT]["storageLayout"]

    # Pass 2: a probe declaring one state variable per namespaced struct.
    imports, variables = [], []
    for index, ns in enumerate(namespaces):
        alias = f"NS{index}_{ns.contract}"
        imports.append(f'import {{{ns.contract} as {alias}}} from "{ns.source}";')
        variables.append(f"    {alias}.{ns.struct} internal ns{index};")
    probe = "\n".join(
        ["// SPDX-License-Identifier: UNLICENSED", f"pragma solidity {settings.version};", *imports,
         "contract StorageLayoutProbe {", *variables, "}"]
    )
    second = _run_solc(
        settings,
        {**token_sources, PROBE_SOURCE: {"content": probe}},
        {PROBE_SOURCE: {"StorageLayoutProbe": ["storageLayout"]}},
        root,
    )
    probe_layout = second["contracts"][PROBE_SOURCE]["StorageLayoutProbe"]["storageLayout"]
    by_label = {entry["label"]: entry for entry in probe_layout["storage"]}

    described = []
    for index, ns in enumerate(namespaces):
        struct_type = probe_layout["types"][by_label[f"ns{index}"]["type"]]
        slot = erc7201_slot(ns.namespace_id)
        described.append(
            {
                "id": ns.namespace_id,
                "struct": f"{ns.contract}.{ns.struct}",
                "slot": f"0x{slot:064x}",
                "locationConstant": ns.location_constant,
                "locationConstantMatchesSlot": ns.location_value == slot,
                "members": _canonical_members(struct_type["members"], probe_layout["types"], enums),
            }
        )
    return {
        "contract": f"{TOKEN_SOURCE}:{TOKEN_CONTRACT}",
        "compiler": settings.version,
        "plainStorage": _canonical_members(plain["storage"], plain.get("types") or {}, enums),
        "namespaces": described,
    }


# --- comparison ---------------------------------------------------------------------------------------------


def _compare_types(old: dict, new: dict, where: str, growth_allowed: bool) -> list[str]:
    """Problems if a value stored as `old` would be misread as `new`."""
    if old["encoding"] != new["encoding"]:
        return [f"{where}: retyped from {old['label']} to {new['label']}"]
    if "members" in old:  # struct
        if old["label"] != new["label"] or "members" not in new:
            return [f"{where}: retyped from {old['label']} to {new['label']}"]
        problems = _compare_members(old["members"], new["members"], f"{where} ({old['label']})")
        if not growth_allowed and new["bytes"] != old["bytes"]:
            problems.append(
                f"{where}: {old['label']} changed size from {old['bytes']} to {new['bytes']} bytes inside an array,"
                " which shifts every later element"
            )
        return problems
    if old["label"] != new["label"] or old["bytes"] != new["bytes"]:
        if not ("values" in old and "values" in new and old["bytes"] == new["bytes"]):
            return [f"{where}: retyped from {old['label']} to {new['label']}"]
    problems = []
    if "values" in old:  # enum: stored as its index, so values may only be appended
        if new.get("values", [])[: len(old["values"])] != old["values"]:
            problems.append(f"{where}: enum values changed from {old['values']} to {new.get('values')} (append only)")
        if old["label"] != new["label"]:
            problems.append(f"{where}: retyped from {old['label']} to {new['label']}")
    if old["encoding"] == "mapping":
        problems += _compare_types(old["key"], new["key"], f"{where} key", growth_allowed=False)
        problems += _compare_types(old["value"], new["value"], f"{where} value", growth_allowed=True)
    elif "base" in old:
        problems += _compare_types(old["base"], new["base"], f"{where} element", growth_allowed=False)
    return problems


def _compare_members(old: list[dict], new: list[dict], where: str) -> list[str]:
    problems = []
    new_labels = [m["label"] for m in new]
    for index, was in enumerate(old):
        here = f"{where}.{was['label']}"
        if index >= len(new):
            problems.append(f"{here}: removed (member #{index} of {len(old)})")
            continue
        now = new[index]
        if now["label"] != was["label"]:
            if was["label"] in new_labels:
                problems.append(
                    f"{here}: reordered (was member #{index}, now #{new_labels.index(was['label'])};"
                    f" #{index} is now {now['label']})"
                )
            else:
                problems.append(f"{here}: removed or renamed (member #{index} is now {now['label']})")
            continue
        if (now["slot"], now["offset"]) != (was["slot"], was["offset"]):
            problems.append(
                f"{here}: moved from slot {was['slot']} offset {was['offset']}"
                f" to slot {now['slot']} offset {now['offset']}"
            )
        problems += _compare_types(was["type"], now["type"], here, growth_allowed=True)
    return problems


def compare_layouts(released: dict, candidate: dict) -> list[str]:
    """Everything in `candidate` that would misread storage written under `released` (empty list: safe).

    Allowed: new members appended at the end of a namespace or of a struct stored in a mapping, new enum values
    at the end, new namespaces. Not allowed: removing, reordering, renaming or retyping a member, moving a
    namespace, changing a mapping's key type, resizing a struct stored in an array.
    """
    problems = _compare_members(released["plainStorage"], candidate["plainStorage"], "plain storage")
    candidate_namespaces = {ns["id"]: ns for ns in candidate["namespaces"]}
    for ns in released["namespaces"]:
        where = f"erc7201:{ns['id']}"
        now = candidate_namespaces.get(ns["id"])
        if now is None:
            problems.append(f"{where}: namespace removed ({ns['struct']})")
            continue
        if now["slot"] != ns["slot"]:
            problems.append(f"{where}: slot moved from {ns['slot']} to {now['slot']}")
        if not now.get("locationConstantMatchesSlot", False):
            problems.append(
                f"{where}: the location constant {now.get('locationConstant')} does not equal the ERC-7201 slot"
                f" {now['slot']}"
            )
        problems += _compare_members(ns["members"], now["members"], where)
    for ns in candidate["namespaces"]:
        if not ns.get("locationConstantMatchesSlot", False) and ns["id"] not in {n["id"] for n in released["namespaces"]}:
            problems.append(f"erc7201:{ns['id']}: the location constant does not equal the ERC-7201 slot {ns['slot']}")
    return problems


# --- snapshot -----------------------------------------------------------------------------------------------


def load_snapshot(path: Path = SNAPSHOT_PATH) -> dict:
    return json.loads(path.read_text())


def write_snapshot(layout: dict, path: Path = SNAPSHOT_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(layout, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kgst.storage_layout", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--update", action="store_true", help=f"rewrite {SNAPSHOT_PATH.relative_to(ROOT)}")
    mode.add_argument("--print", action="store_true", help="print the current layout as JSON")
    args = parser.parse_args(argv)
    try:
        current = extract_layout()
    except StorageLayoutError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.print:
        print(json.dumps(current, indent=2))
        return 0
    if args.update:
        if SNAPSHOT_PATH.exists():
            for problem in compare_layouts(load_snapshot(), current):
                print(f"replacing an incompatible layout: {problem}", file=sys.stderr)
        write_snapshot(current)
        print(f"wrote {SNAPSHOT_PATH.relative_to(ROOT)}")
        return 0
    if not SNAPSHOT_PATH.exists():
        print(f"error: no snapshot at {SNAPSHOT_PATH.relative_to(ROOT)}; create it with --update", file=sys.stderr)
        return 2
    problems = compare_layouts(load_snapshot(), current)
    for problem in problems:
        print(f"UNSAFE: {problem}", file=sys.stderr)
    if not problems:
        print(f"storage layout compatible with {SNAPSHOT_PATH.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
