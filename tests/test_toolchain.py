"""The offline toolchain: the solc adapter behaves like native solc, and Ape compiles and deploys with it."""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = json.loads((ROOT / "package.json").read_text())
SOLC_VERSION = PACKAGE["devDependencies"]["solc"]
SOLC = ROOT / ".solcx" / f"solc-v{SOLC_VERSION}"


def run_solc(input_json: dict, *args: str) -> dict:
    proc = subprocess.run(
        [str(SOLC), "--standard-json", "--base-path", str(ROOT), *args],
        input=json.dumps(input_json),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)  # must be pure JSON: nothing printed before or after


def test_version_line_is_what_py_solc_x_parses():
    out = subprocess.run([str(SOLC), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {SOLC_VERSION}+commit." in out


def test_standard_json_output_shape():
    source = "pragma solidity ^0.8.0; contract Small { function one() external pure returns (uint256) { return 1; } }"
    out = run_solc(
        {
            "language": "Solidity",
            "sources": {"Small.sol": {"content": source}},
            "settings": {"outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.sourceMap"]}}},
        }
    )
    contract = out["contracts"]["Small.sol"]["Small"]
    assert [item["name"] for item in contract["abi"]] == ["one"]
    assert len(contract["evm"]["bytecode"]["object"]) > 100
    assert contract["evm"]["deployedBytecode"]["sourceMap"]
    assert not [e for e in out.get("errors", []) if e["severity"] == "error"]


def test_imports_resolve_through_base_and_include_paths(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "Dep.sol").write_text("pragma solidity ^0.8.0; library Dep { function two() internal pure returns (uint256) { return 2; } }")
    source = 'pragma solidity ^0.8.0; import "Dep.sol"; contract UsesDep { function f() external pure returns (uint256) { return Dep.two(); } }'
    out = run_solc(
        {"language": "Solidity", "sources": {"UsesDep.sol": {"content": source}}, "settings": {"outputSelection": {"*": {"*": ["abi"]}}}},
        "--include-path", str(tmp_path / "lib"), "--allow-paths", str(tmp_path),
    )
    assert "UsesDep" in out["contracts"]["UsesDep.sol"]


def test_syntax_error_is_reported_as_solc_reports_it():
    out = run_solc(
        {"language": "Solidity", "sources": {"Broken.sol": {"content": "pragma solidity ^0.8.0; contract Broken { function f( }"}}, "settings": {}}
    )
    errors = [e for e in out["errors"] if e["severity"] == "error"]
    assert errors and errors[0]["type"] == "ParserError"
    assert "Broken.sol" in errors[0]["formattedMessage"]


def test_large_output_is_not_truncated():
    # 64 KiB is where the stock solcjs CLI cut its output on a pipe.
    functions = "".join(f"function f{i}(uint256 a) external pure returns (uint256) {{ return a * {i} + {i}; }}" for i in range(300))
    out = run_solc(
        {
            "language": "Solidity",
            "sources": {"Big.sol": {"content": f"pragma solidity ^0.8.0; contract Big {{ {functions} }}"}},
            "settings": {"outputSelection": {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode"]}}},
        }
    )
    assert len(json.dumps(out)) > 200_000
    assert len(out["contracts"]["Big.sol"]["Big"]["abi"]) == 300


def test_compiler_folder_is_project_local():
    assert Path(os.environ["SOLCX_BINARY_PATH"]).resolve() == (ROOT / ".solcx").resolve()


def test_every_project_contract_is_visible_to_ape(project):
    # Ape lists at most 500 files under contracts/ (dependency .cache included); past that, sources in
    # sub-folders silently drop out of compilation. .deps/ holds only OpenZeppelin's .sol files to stay below.
    ours = {p.resolve() for p in (ROOT / "contracts").rglob("*.sol") if ".cache" not in p.parts}
    listed = {Path(p).resolve() for p in project.sources.paths}
    assert ours <= listed, sorted(str(p) for p in ours - listed)
