"""Account addresses as operators paste them.

Minted tokens sent to a wrong address are lost, so an address is accepted only when it is well formed and,
if it carries an EIP-55 checksum (mixed case), when that checksum matches. A failed checksum is never
"corrected" for the operator: the checksum is what tells a typo from the intended address, and the
corrected form of a typo'd address is simply another valid address.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_ADDRESS_HEX_DIGITS = 40
ZERO_ADDRESS = "0x" + "0" * _ADDRESS_HEX_DIGITS


class AddressError(ValueError):
    """An address that is not a valid account address; the message says what was wrong with it."""


def parse_address(text: str, *, allow_zero: bool = False, what: str = "address") -> str:
    """Return `text` as an EIP-55 checksummed address, or raise AddressError saying what is wrong.

    All-lowercase or all-uppercase hex carries no checksum and is accepted as it is. The zero address is
    refused unless `allow_zero`, since tokens sent there are burned. `what` names the address in messages
    (e.g. "recipient address"), so an operator knows which of several inputs was wrong.
    """
    if not isinstance(text, str):
        raise AddressError(f"pass the {what} as text (a str starting with '0x'), not {type(text).__name__} {text!r}")
    address = text.strip()
    if not address:
        raise AddressError(f"{what} is empty; expected '0x' followed by 40 hex digits")
    if not address.startswith("0x"):
        raise AddressError(f"{what} {text!r} does not start with '0x'; expected '0x' followed by 40 hex digits")
    digits = address[2:]
    if len(digits) != _ADDRESS_HEX_DIGITS:
        raise AddressError(
            f"{what} {text!r} has {len(digits)} characters after '0x'; expected 40 hex digits"
        )
    for position, char in enumerate(digits):
        if char not in _HEX_DIGITS:
            raise AddressError(
                f"{what} {text!r} contains {char!r} at position {position + 3}, which is not a hex digit "
                f"(expected only 0-9 and a-f after '0x')"
            )
    checksummed = to_checksum_address(address)
    has_checksum = digits != digits.lower() and digits != digits.upper()
    if has_checksum and address != checksummed:
        raise AddressError(
            f"{what} {text!r} does not match its EIP-55 checksum (the pattern of upper and lower case letters), "
            f"so it may contain a typo; copy the address again from its source"
        )
    if checksummed == ZERO_ADDRESS and not allow_zero:
        raise AddressError(f"{what} {text!r} is the zero address; tokens sent there are lost")
    return checksummed
