"""Turns contract reverts into sentences an operator can act on.

The contracts revert with custom errors (name + arguments); Ape raises them as CustomError exceptions whose
class name is the error's name. Amount arguments are KGST base units and are shown here in som.
"""

from __future__ import annotations

from typing import Any, Callable

from eth_abi import decode
from eth_utils import keccak

from kgst.amounts import UNITS_PER_TIYIN, SomAmount

# selector -> (error name, input names, input types), from every KGST contract's ABI (see register_abis)
_KNOWN_ERRORS: dict[bytes, tuple[str, list[str], list[str]]] = {}


class OperationError(RuntimeError):
    """A refused operation: the message says what was wrong; the command reports that nothing was sent."""


def som_text(units: int) -> str:
    if units % UNITS_PER_TIYIN:
        return f"{units} base units (not a whole tiyin)"
    return str(SomAmount(units // UNITS_PER_TIYIN))


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, (bytes, bytearray)) else str(value)


EXPLANATIONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "DepositRefAlreadyUsed": lambda a: f"deposit reference {_hex(a['depositRef'])} was already used: each bank deposit mints at most once",
    "PayoutRefAlreadyUsed": lambda a: f"payout reference {_hex(a['payoutRef'])} was already used by an earlier redemption",
    "ExceedsPerTransactionCap": lambda a: f"{som_text(a['amount'])} is above the per-transaction cap of {som_text(a['cap'])}",
    "ExceedsMinterAllowance": lambda a: f"{som_text(a['amount'])} is above minter {a['minter']}'s remaining allowance of {som_text(a['allowance'])}",
    "ExceedsMinterWindow": lambda a: f"{som_text(a['amount'])} is above what minter {a['minter']} may still mint in the rate window ({som_text(a['available'])})",
    "ExceedsGlobalWindow": lambda a: f"{som_text(a['amount'])} is above what may still be minted in the global rate window ({som_text(a['available'])})",
    "ExceedsReserves": lambda a: f"minting {som_text(a['amount'])} on top of a supply of {som_text(a['supply'])} would exceed the attested reserves (mintable supply {som_text(a['mintableSupply'])})",
    "NoReserveAttestation": lambda a: "there is no reserve attestation yet: auditors must attest the reserves before anything can be minted",
    "ReserveAttestationStale": lambda a: f"the latest reserve attestation is older than the maximum age of {a['maxAge']} s: auditors must attest again",
    "NotEnoughApprovals": lambda a: f"the request has {a['approvals']} valid approval(s) and needs {a['required']}",
    "RequesterCannotApprove": lambda a: "the person who opened a request cannot approve it (maker-checker)",
    "AlreadyApproved": lambda a: f"{a['approver']} has already approved this request",
    "ApprovalMismatch": lambda a: "the recipient and amount you re-stated differ from the request: check the bank deposit and do not approve",
    "RequestExpired": lambda a: "the request has expired: open a new one (with a new deposit reference from the bank)",
    "RequestNotPending": lambda a: f"the request is not open (status {a['status']})",
    "UnknownRequest": lambda a: f"there is no request {_hex(a['requestId'])}",
    "MintingIsHalted": lambda a: "minting is halted by the guardian; only governance (timelock) can resume it",
    "AmountNotWholeTiyin": lambda a: "the amount is not a whole number of tiyin",
    "InvalidRecipient": lambda a: f"{a['recipient']} cannot receive a mint",
    "AccountFrozen": lambda a: f"account {a['account']} is frozen",
    "AccountNotFrozen": lambda a: f"account {a['account']} is not frozen",
    "EnforcedPause": lambda a: "the token is paused",
    "ERC20InsufficientBalance": lambda a: f"{a['sender']} holds {som_text(a['balance'])}, less than {som_text(a['needed'])}",
    "ERC20InsufficientAllowance": lambda a: f"the allowance to {a['spender']} is {som_text(a['allowance'])}, less than {som_text(a['needed'])}",
    "AccessControlUnauthorizedAccount": lambda a: f"{a['account']} does not hold the role this needs ({_hex(a['neededRole'])})",
    "NotRequesterOrGuardian": lambda a: f"{a['caller']} is neither the requester nor a guardian",
    "InvalidBatchProof": lambda a: "these entries are not part of the approved batch (Merkle proof failed)",
    "BatchTotalMismatch": lambda a: f"the batch entries add up to {som_text(a['executedAmount'])}, not the approved {som_text(a['total'])}",
    "AttestationNotNewer": lambda a: "this attestation is not newer than the latest one",
    "AttestationAlreadySubmitted": lambda a: "this attestation was already submitted",
    "NotEnoughSignatures": lambda a: f"{a['provided']} auditor signature(s) given, {a['required']} needed",
    "AttestationFromFuture": lambda a: f"the attestation is dated {a['asOf']}, later than the chain's time {a['nowTimestamp']}",
    "UnknownAuditor": lambda a: f"{a['signer']} is not a registered auditor",
    "DuplicateSigner": lambda a: f"{a['signer']} signed twice; each auditor counts once",
    "InvalidSignature": lambda a: f"the signature of {a['signer']} does not match this attestation on this chain and registry",
    "CustodianSumMismatch": lambda a: f"the custodian amounts add up to {a['sumTiyin']} tiyin, not the total of {a['totalTiyin']} tiyin",
    "CustodianInactive": lambda a: f"custodian {a['custodianId']} is not active",
    "UnknownCustodian": lambda a: f"there is no custodian {a['custodianId']}",
    "CallerNotMinter": lambda a: f"{a['caller']} is not the token's minter (only the issuance controller mints and burns)",
}


def register_abis(*contracts) -> None:
    """Learns the custom errors of these contracts, so a revert Ape could not attribute (an error raised after
    a call into another contract) is still explained by name."""
    for contract in contracts:
        for item in contract.contract_type.abi:
            if item.type == "error":
                types = [i.canonical_type for i in item.inputs]
                selector = keccak(text=f"{item.name}({','.join(types)})")[:4]
                _KNOWN_ERRORS[selector] = (item.name, [i.name for i in item.inputs], types)


def decode_revert(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """(error name, arguments) for revert data of a known KGST custom error, else None."""
    if len(data) < 4 or data[:4] not in _KNOWN_ERRORS:
        return None
    name, names, types = _KNOWN_ERRORS[data[:4]]
    try:
        values = decode(types, data[4:]) if types else ()
    except Exception:  # noqa: BLE001 - undecodable arguments: keep the name
        return name, {}
    return name, dict(zip(names, values))


def explain_revert(data: bytes) -> str:
    """An operator's sentence for raw revert data (from eth_call)."""
    decoded = decode_revert(data)
    if decoded is None:
        return f"the contract refused it (revert data 0x{data.hex()})" if data else "the contract refused it without a reason"
    return _sentence(*decoded)


def _sentence(name: str, inputs: dict[str, Any]) -> str:
    if name in EXPLANATIONS:
        try:
            return EXPLANATIONS[name](inputs)
        except (KeyError, TypeError):
            pass
    args = ", ".join(f"{k}={_hex(v)}" for k, v in inputs.items())
    return f"the contract refused it: {name}({args})"


def explain(err: Exception) -> str:
    """A one-line explanation of a revert Ape raised while sending (or any Ape error) for an operator."""
    name = type(err).__name__
    inputs = getattr(err, "inputs", None) or {}
    if name not in {"ContractLogicError", "CustomError", "VirtualMachineError"}:
        return _sentence(name, inputs)
    message = str(err).strip() or name
    return f"the contract refused it: {message}"
