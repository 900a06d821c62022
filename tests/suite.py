"""The deployed KGST suite as tests see it: contracts, role holders by name, and small helpers that drive
the maker-checker flow and sign attestations with eth-account (independently of the contracts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kgst.attestation import Attestation, report_hash_of, sign_with_key
from kgst.params import DeploymentParams
from kgst.refs import deposit_ref

ROOT = Path(__file__).resolve().parents[1]
UNIT = 10**18  # one som in KGST base units
TIYIN = 10**16

# Indexes of Ape test accounts in config/local.yaml.
DEPLOYER, GOVERNANCE, GUARDIAN, COMPLIANCE, RESCUER, DESK = 0, 1, 2, 3, 4, 5
MINTERS = (6, 7)
APPROVERS = (8, 9, 10)
AUDITORS = (11, 12, 13)
HOLDERS = (14, 15, 16, 17, 18, 19)  # no role anywhere
RESERVE_WALLETS = (20, 21)
OUTSIDERS = (22, 23)  # no role, never funded with KGST unless a test does it


def som(amount: int | float | str) -> int:
    """KGST base units for a som amount written in a test (exact for strings and whole numbers)."""
    from decimal import Decimal

    return int(Decimal(str(amount)) * UNIT)


@dataclass
class Suite:
    token: object
    controller: object
    registry: object
    timelock: object
    accounts: Sequence
    chain: object
    params: DeploymentParams

    # Role holders -------------------------------------------------------------------------------------
    @property
    def deployer(self):
        return self.accounts[DEPLOYER]

    @property
    def governance(self):
        return self.accounts[GOVERNANCE]

    @property
    def guardian(self):
        return self.accounts[GUARDIAN]

    @property
    def compliance(self):
        return self.accounts[COMPLIANCE]

    @property
    def rescuer(self):
        return self.accounts[RESCUER]

    @property
    def desk(self):
        return self.accounts[DESK]

    @property
    def minter(self):
        return self.accounts[MINTERS[0]]

    @property
    def minters(self):
        return [self.accounts[i] for i in MINTERS]

    @property
    def approvers(self):
        return [self.accounts[i] for i in APPROVERS]

    @property
    def auditors(self):
        return [self.accounts[i] for i in AUDITORS]

    @property
    def holders(self):
        return [self.accounts[i] for i in HOLDERS]

    @property
    def outsiders(self):
        return [self.accounts[i] for i in OUTSIDERS]

    # Reserves -----------------------------------------------------------------------------------------
    def attestation(self, custodian_som: Sequence[int | str], *, as_of: int | None = None, report: bytes = b"report") -> Attestation:
        """An attestation of the given som amounts at custodians 0, 1, 2..., measured `as_of` (default: now)."""
        amounts = tuple((i, som(a) // TIYIN) for i, a in enumerate(custodian_som))
        return Attestation(
            as_of=self.chain.pending_timestamp - 1 if as_of is None else as_of,
            custodian_amounts=amounts,
            report_hash=report_hash_of(report),
            report_uri="ipfs://kgst-audit-report",
        )

    def sign(self, attestation: Attestation, signers: Sequence | None = None, *, chain_id: int | None = None, registry: str | None = None):
        signers = self.auditors[:2] if signers is None else signers
        return [
            sign_with_key(attestation, s.private_key, chain_id=chain_id or self.chain.chain_id, registry=registry or self.registry.address)
            for s in signers
        ]

    def attest(self, custodian_som: Sequence[int | str] = ("300000000", "200000000", "50000000"), *, as_of: int | None = None, sender=None):
        """Submits a 2-of-3 signed attestation (default: 550 million som across the three custodians)."""
        attestation = self.attestation(custodian_som, as_of=as_of)
        signatures = [(s.auditor, s.signature) for s in self.sign(attestation)]
        return self.registry.submitAttestation(attestation.contract_input(), signatures, sender=sender or self.accounts[HOLDERS[-1]])

    # Minting ------------------------------------------------------------------------------------------
    def request(self, recipient, amount: int, reference: str, *, minter=None) -> bytes:
        ref = deposit_ref(reference)
        self.controller.requestMint(recipient, amount, ref, sender=minter or self.minter)
        return ref

    def approve(self, ref: bytes, recipient, amount: int, approvers: Sequence | None = None) -> None:
        needed = self.controller.approvalsRequired(amount)
        for approver in (approvers if approvers is not None else self.approvers[:needed]):
            self.controller.approveMint(ref, recipient, amount, sender=approver)

    def mint(self, recipient, amount: int, reference: str, *, minter=None):
        """Request, approve (as many approvers as the tier needs) and execute; returns the execute receipt."""
        ref = self.request(recipient, amount, reference, minter=minter)
        self.approve(ref, recipient, amount)
        return self.controller.executeMint(ref, sender=self.approvers[0])

    def time_travel(self, seconds: int) -> None:
        self.chain.pending_timestamp += seconds
        self.chain.mine()
