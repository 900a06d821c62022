"""Audit gates for the KGST contracts: gas benchmark (`gas`), Solidity coverage from execution traces (`coverage`),
static analysis with a committed triage (`slither_run`) and mutation testing (`mutation`). See docs/audit.md."""
