"""Operator-entered references, hashed into the bytes32 values that the contracts store.

The contracts never see a reference's text: they store keccak256 of it, so that a bank reference or a court
case number is not published on chain, and so that a reference used once cannot be used again. The hash is
only useful if the same reference always gives the same bytes, whoever types it: the text is normalized first
(Unicode NFC, surrounding whitespace stripped, inner whitespace collapsed to one space, upper case, because
the bank treats references case-insensitively).

Each kind of reference is hashed under its own domain prefix, so a deposit reference can never collide with a
payout, case or account reference that happens to have the same text.
"""

from __future__ import annotations

import unicodedata

from eth_utils import keccak

MAX_REFERENCE_LENGTH = 128

DEPOSIT_DOMAIN = b"KGST/deposit/v1:"
PAYOUT_DOMAIN = b"KGST/payout/v1:"
CASE_DOMAIN = b"KGST/case/v1:"
ACCOUNT_DOMAIN = b"KGST/account/v1:"


class ReferenceFormatError(ValueError):
    """A reference that cannot be normalized; the message says what was wrong with it."""


def normalize_reference(text: str) -> str:
    """The canonical form of a reference: the one text that is hashed for everything the operator could type.

    Whitespace of any kind (spaces, tabs, line breaks) only separates words, so it is collapsed. Any other
    control or invisible character (e.g. a zero-width space pasted from a document) is refused rather than
    dropped: it would make the hash differ from the bank's reference without the operator seeing why.
    """
    if not isinstance(text, str):
        raise ReferenceFormatError(f"pass the reference as text (a str), not {type(text).__name__} {text!r}")
    # NFC after upper-casing, since upper-casing can decompose a character (e.g. a dotted i).
    reference = unicodedata.normalize("NFC", " ".join(text.split()).upper())
    if not reference:
        raise ReferenceFormatError(f"reference {text!r} is empty; expected the reference as the bank shows it")
    for position, char in enumerate(reference):
        if not char.isprintable():
            kind = "control" if unicodedata.category(char) == "Cc" else "non-printable"
            raise ReferenceFormatError(
                f"reference {text!r} contains the {kind} character {char!r} "
                f"(U+{ord(char):04X}, {unicodedata.name(char, 'unnamed')}) at position {position + 1} of its "
                f"normalized form; expected only visible characters and spaces"
            )
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise ReferenceFormatError(
            f"reference {text!r} is {len(reference)} characters long after normalization; "
            f"expected at most {MAX_REFERENCE_LENGTH}"
        )
    return reference


def _domain_hash(domain: bytes, text: str) -> bytes:
    return keccak(domain + normalize_reference(text).encode("utf-8"))


def deposit_ref(text: str) -> bytes:
    """bytes32 of a som deposit's bank reference: the mint that it backs is recorded against it."""
    return _domain_hash(DEPOSIT_DOMAIN, text)


def payout_ref(text: str) -> bytes:
    """bytes32 of a som payout's bank reference: the redemption (burn) that it pays out is recorded against it."""
    return _domain_hash(PAYOUT_DOMAIN, text)


def case_ref(text: str) -> bytes:
    """bytes32 of a court order or case number, recorded with each freeze and wipe it authorises."""
    return _domain_hash(CASE_DOMAIN, text)


def account_ref(text: str) -> bytes:
    """bytes32 of a custodian bank account number holding reserves."""
    return _domain_hash(ACCOUNT_DOMAIN, text)


def to_hex(value: bytes) -> str:
    """'0x'-prefixed lowercase hex of `value`, the form that Ape, web3 and block explorers show for bytes32."""
    return "0x" + value.hex()
