"""The mutation tool's guard against testing a stale build (kgst.audit.mutation).

Ape records the content of every source whenever it compiles any of them, so after a mutated file is restored and
another file is compiled, Ape would keep the mutant's bytecode under the original's content. The tool forgets the
restored file's entry (Ape then recompiles it) and accepts a verdict only when the bytecode Ape built is the mutant's.
"""

from __future__ import annotations

import json

from kgst.audit import mutation

METADATA = bytes.fromhex("a2646970667358221220") + bytes(32) + bytes.fromhex("64736f6c6343000825") + (51).to_bytes(2, "big")


def write_manifest(work, sources: dict, contract_types: dict) -> None:
    (work / ".build").mkdir()
    (work / ".build" / "__local__.json").write_text(json.dumps({"sources": sources, "contractTypes": contract_types}))


def test_forgetting_a_restored_source_drops_only_its_entry(tmp_path):
    sources = {"contracts/A.sol": {"content": "a"}, "contracts/B.sol": {"content": "b"}}
    write_manifest(tmp_path, sources, {"A": {}, "B": {}})
    mutation._forget_source(tmp_path, "contracts/A.sol")
    manifest = json.loads((tmp_path / ".build" / "__local__.json").read_text())
    assert manifest["sources"] == {"contracts/B.sol": {"content": "b"}}
    assert manifest["contractTypes"] == {"A": {}, "B": {}}


def test_forgetting_without_a_build_is_harmless(tmp_path):
    mutation._forget_source(tmp_path, "contracts/A.sol")
    assert not (tmp_path / ".build").exists()


def test_built_code_is_compared_without_metadata_and_a_missing_build_never_matches(tmp_path):
    code = bytes.fromhex("6080604052")
    write_manifest(tmp_path, {}, {"A": {"runtimeBytecode": {"bytecode": "0x" + (code + METADATA).hex()}}})
    assert mutation._built_codes(tmp_path, ["A"]) == {"A": code}
    assert mutation._built_codes(tmp_path, ["Missing"]) == {"Missing": b""}
    assert mutation._built_codes(tmp_path / "nowhere", ["A"]) == {"A": b""}
