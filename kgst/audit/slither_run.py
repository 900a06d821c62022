"""Static analysis gate: slither over the KGST contracts, every finding triaged in audit/slither-triage.json.

slither-analyzer cannot share the Ape venv (conflicting pins), so it runs from .venv-audit (audit/requirements-slither.txt;
`make slither` builds it). Slither's own command line compiles with `solc --combined-json`, which the npm-solc adapter
does not emulate, so this module drives it from Python through crytic-compile's SolcStandardJson platform, with the
adapter (.solcx/solc-v<version>) as solc and the settings of ape-config.yaml.

    python -m kgst.audit.slither_run               # analyse, compare with the triage; exit 1 on an untriaged finding
    python -m kgst.audit.slither_run --write-new   # also append untriaged findings to the triage as "untriaged"
    python -m kgst.audit.slither_run --json out.json   # the raw findings, for reading

A finding is identified by a fingerprint that ignores line numbers (detector + its description with the `#L..`
references removed), so moving code does not invalidate the triage; changing what a finding is about does.
Findings whose elements all lie in OpenZeppelin (or contracts/test, contracts/bench) are not ours and are only counted.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import logging
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRIAGE = ROOT / "audit" / "slither-triage.json"
ANALYSED = (
    "contracts/KGSTToken.sol",
    "contracts/KGSTIssuanceController.sol",
    "contracts/KGSTReserveRegistry.sol",
    "contracts/KGSTProxy.sol",
    "contracts/governance/KGSTTimelock.sol",
)
OURS = ANALYSED + ("contracts/libraries/SignatureVerification.sol", "contracts/interfaces/")
CLASSIFICATIONS = ("true issue", "false positive", "accepted by design", "untriaged")
LINE_REF = re.compile(r"#L?\d+(-L?\d+)?")


def standard_input() -> dict:
    """The same compiler input as kgst.audit.solc (settings of ape-config.yaml, OpenZeppelin from .deps/), for the
    analysed sources only, with crytic-compile's default output selection."""
    sys.path.insert(0, str(ROOT))
    from kgst.audit import solc

    data = solc.standard_input(ROOT, list(ANALYSED))
    data["settings"].pop("outputSelection", None)
    return data


def analyse() -> tuple[list[dict], dict]:
    from crytic_compile import CryticCompile
    from crytic_compile.platform.solc_standard_json import SolcStandardJson
    from slither import Slither
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    sys.path.insert(0, str(ROOT))
    from kgst.audit import solc

    started = time.time()
    platform = SolcStandardJson(standard_input())
    compilation = CryticCompile(platform, solc=str(solc.solc_binary()), solc_working_dir=str(ROOT))
    compiled = time.time()
    slither = Slither(compilation)
    detectors = [
        d for _, d in inspect.getmembers(all_detectors, inspect.isclass) if issubclass(d, AbstractDetector) and d is not AbstractDetector
    ]
    for detector in detectors:
        slither.register_detector(detector)
    results = [finding for per_detector in slither.run_detectors() for finding in per_detector]
    meta = {
        "slither": _version("slither-analyzer"),
        "crytic_compile": _version("crytic-compile"),
        "solc": solc.solc_version(),
        "detectors": len(detectors),
        "compile_seconds": round(compiled - started, 1),
        "analysis_seconds": round(time.time() - compiled, 1),
    }
    return results, meta


def _version(dist: str) -> str:
    from importlib.metadata import version

    try:
        return version(dist)
    except Exception:
        return "?"


def _element_file(element: dict) -> str:
    return (element.get("source_mapping") or {}).get("filename_relative") or ""


def is_ours(finding: dict) -> bool:
    return any(_element_file(e).startswith(OURS) for e in finding.get("elements", []))


def normalized(description: str) -> str:
    text = LINE_REF.sub("", description)
    return re.sub(r"[ \t]+", " ", text).strip()


def fingerprint(finding: dict) -> str:
    return hashlib.sha256(f"{finding['check']}\n{normalized(finding['description'])}".encode()).hexdigest()[:16]


def location(finding: dict) -> str:
    for element in finding.get("elements", []):
        sm = element.get("source_mapping") or {}
        path = sm.get("filename_relative") or ""
        if path.startswith(OURS):
            lines = sm.get("lines") or []
            span = f"#L{lines[0]}" + (f"-L{lines[-1]}" if len(lines) > 1 else "") if lines else ""
            parent = (element.get("type_specific_fields") or {}).get("parent", {}).get("name")
            name = element.get("name", "")
            where = f"{parent}.{name}" if parent and parent != name else name
            return f"{path}{span} ({element.get('type')} {where})"
    return "?"


def summarise(findings: list[dict]) -> list[dict]:
    out = {}
    for f in findings:
        key = fingerprint(f)
        out[key] = {
            "id": key,
            "detector": f["check"],
            "impact": f.get("impact"),
            "confidence": f.get("confidence"),
            "location": location(f),
            "description": normalized(f["description"]),
        }
    return sorted(out.values(), key=lambda x: (x["detector"], x["location"]))


def load_triage(path: Path = TRIAGE) -> dict:
    if not path.exists():
        return {"findings": []}
    return json.loads(path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="slither over the KGST contracts, checked against audit/slither-triage.json")
    parser.add_argument("--write-new", action="store_true", help="append untriaged findings to the triage file as 'untriaged'")
    parser.add_argument("--json", type=Path, help="write every finding (ours) to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("CryticCompile").setLevel(logging.ERROR)
    logging.getLogger("Slither").setLevel(logging.ERROR)

    started = time.time()
    raw, meta = analyse()
    ours = [f for f in raw if is_ours(f)]
    findings = summarise(ours)
    if args.json:
        args.json.write_text(json.dumps(findings, indent=2) + "\n")

    triage = load_triage()
    triaged = {t["id"]: t for t in triage.get("findings", [])}
    bad = [t for t in triaged.values() if t.get("classification") not in CLASSIFICATIONS or not t.get("reason")]
    new = [f for f in findings if f["id"] not in triaged]
    current = {f["id"] for f in findings}
    stale = [t for t in triaged.values() if t["id"] not in current]
    untriaged = [t for t in triaged.values() if t["id"] in current and t.get("classification") == "untriaged"]

    counts: dict[str, int] = {}
    for f in findings:
        c = triaged.get(f["id"], {}).get("classification", "NEW")
        counts[c] = counts.get(c, 0) + 1
    print(f"slither {meta['slither']} ({meta['detectors']} detectors), solc {meta['solc']} via the npm adapter; "
          f"compile {meta['compile_seconds']} s, analysis {meta['analysis_seconds']} s, total {time.time() - started:.0f} s")
    print(f"analysed: {', '.join(ANALYSED)}")
    print(f"findings in KGST code: {len(findings)} ({len(raw) - len(ours)} more only in OpenZeppelin, not ours)")
    for c in CLASSIFICATIONS + ("NEW",):
        if counts.get(c):
            print(f"  {c:<20} {counts[c]}")
    true_issues = [t for t in triaged.values() if t["id"] in current and t.get("classification") == "true issue"]
    for t in true_issues:
        print(f"TRUE ISSUE  [{t['detector']}] {t['location']}: {t['reason']}")
    for f in new:
        print(f"NEW FINDING [{f['detector']}, {f['impact']}/{f['confidence']}] {f['location']}\n    {f['description'][:400]}")
    for t in stale:
        print(f"stale triage entry (no longer reported; remove it): [{t['detector']}] {t['location']}")
    for t in bad:
        print(f"triage entry without a valid classification or reason: {t['id']} [{t.get('detector')}]")

    if args.write_new and new:
        triage.setdefault("findings", [])
        for f in new:
            triage["findings"].append({**f, "classification": "untriaged", "reason": ""})
        triage["findings"].sort(key=lambda x: (x["detector"], x["location"]))
        TRIAGE.write_text(json.dumps(triage, indent=2) + "\n")
        print(f"appended {len(new)} untriaged finding(s) to {TRIAGE.relative_to(ROOT)}: classify each, with a reason")

    if new or bad or untriaged:
        print("FAILED: every finding must be in audit/slither-triage.json with a classification and a reason")
        return 1
    print("OK: every finding is triaged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
