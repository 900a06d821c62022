"""Som amounts as operators type them, and as the token counts them.

KGST is backed 1:1 by the Kyrgyz som, which has 2 minor units (tiyin); the token has 18 decimals, so one
tiyin is 10**16 token base units. Every amount is held as a whole number of tiyin: anything finer cannot be
paid into or out of the reserve bank account, so it can never be minted or redeemed either.

Operators enter amounts as text. Parsing is strict and exact (int arithmetic, never float), and every
rejection says what was expected and quotes what was given, because a mistyped amount mints real money.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

SOM_DECIMALS = 2
TOKEN_DECIMALS = 18
UNITS_PER_TIYIN = 10 ** (TOKEN_DECIMALS - SOM_DECIMALS)
TIYIN_PER_SOM = 10**SOM_DECIMALS
# A token amount must fit a uint256: larger ones cannot be minted, transferred or burned.
MAX_TIYIN = (2**256 - 1) // UNITS_PER_TIYIN

_EXAMPLE = "'1250000.50' or '1,250,000.50'"
_ALLOWED_CHARS = frozenset("0123456789,.")
_DIGITS = re.compile(r"[0-9]+")
# Thousands groups: 1 to 3 leading digits without a leading zero, then groups of exactly three.
_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+")


class AmountError(ValueError):
    """An amount that is not a valid, exact som amount; the message says what was wrong with it."""


@dataclass(frozen=True)
class SomAmount:
    """A non-negative som amount, held exactly as a whole number of tiyin."""

    tiyin: int

    def __post_init__(self) -> None:
        # bool is an int subclass; True tiyin is never what the caller meant.
        if not isinstance(self.tiyin, int) or isinstance(self.tiyin, bool):
            raise AmountError(f"tiyin must be an int, got {type(self.tiyin).__name__} {self.tiyin!r}")
        if self.tiyin < 0:
            raise AmountError(f"tiyin must not be negative, got {self.tiyin}")
        if self.tiyin > MAX_TIYIN:
            raise AmountError(
                f"{self.tiyin} tiyin is more than the largest token amount ({MAX_TIYIN} tiyin, "
                f"2**256-1 base units)"
            )

    @property
    def units(self) -> int:
        """The amount in token base units (18 decimals), as the contracts count it."""
        return self.tiyin * UNITS_PER_TIYIN

    @property
    def som(self) -> Decimal:
        """The amount in som, exactly (built from digits, so no context rounding on huge amounts)."""
        whole, tiyin = divmod(self.tiyin, TIYIN_PER_SOM)
        return Decimal(f"{whole}.{tiyin:02d}")

    def __str__(self) -> str:
        whole, tiyin = divmod(self.tiyin, TIYIN_PER_SOM)
        return f"{whole:,}.{tiyin:02d} KGS"

    def words(self) -> str:
        """The amount in English words, as written on a payment order, so a misplaced digit stands out."""
        whole, tiyin = divmod(self.tiyin, TIYIN_PER_SOM)
        if tiyin == 0:
            return f"{_number_words(whole)} som"
        if whole == 0:
            return f"{_number_words(tiyin)} tiyin"
        return f"{_number_words(whole)} som and {_number_words(tiyin)} tiyin"

    def echo(self) -> str:
        """One line for an operator to confirm before signing: digits, words and the on-chain base units."""
        return f"{self} ({self.words()}) = {self.units} base units"


def from_tiyin(tiyin: int) -> SomAmount:
    """The amount of `tiyin` minor units."""
    return SomAmount(tiyin)


def from_units(units: int) -> SomAmount:
    """The som amount of `units` token base units; refuses amounts that no som payment could match."""
    if not isinstance(units, int) or isinstance(units, bool):
        raise AmountError(f"token units must be an int, got {type(units).__name__} {units!r}")
    if units < 0:
        raise AmountError(f"token units must not be negative, got {units}")
    tiyin, rest = divmod(units, UNITS_PER_TIYIN)
    if rest:
        raise AmountError(
            f"{units} token units is not a whole number of tiyin: expected a multiple of "
            f"{UNITS_PER_TIYIN} (1 tiyin = 10**16 units), {rest} units left over"
        )
    return SomAmount(tiyin)


def parse_som(text: str, *, allow_zero: bool = False) -> SomAmount:
    """Parse an operator-typed som amount such as '1250000', '1250000.5' or '1,250,000.50'.

    Only plain decimal notation is accepted: no sign, no exponent, no spaces between digits, commas only as
    thousands separators in groups of three, and at most 2 decimals. Zero is refused unless `allow_zero`,
    because a zero mint or payout is almost always a typo.
    """
    if not isinstance(text, str):
        raise AmountError(
            f"pass the amount as text (a str such as {_EXAMPLE}), not {type(text).__name__} {text!r}: "
            f"amounts are read from text so that nothing is rounded (a float cannot hold every tiyin exactly)"
        )
    amount = text.strip()
    if not amount:
        raise AmountError(f"amount is empty; expected a som amount such as {_EXAMPLE}")
    if amount.startswith("-"):
        raise AmountError(f"amount {text!r} is negative; expected a positive som amount such as {_EXAMPLE}")
    if amount.startswith("+"):
        raise AmountError(f"amount {text!r} starts with a '+' sign; expected the amount without a sign, such as {_EXAMPLE}")
    for position, char in enumerate(amount):
        if char not in _ALLOWED_CHARS:
            raise AmountError(
                f"amount {text!r} contains {char!r} at position {position + 1}; expected only digits, "
                f"commas between groups of three digits and one decimal point, such as {_EXAMPLE}"
            )
    whole, dot, fraction = amount.partition(".")
    if "." in fraction:
        raise AmountError(f"amount {text!r} has more than one decimal point; expected a som amount such as {_EXAMPLE}")
    if not _DIGITS.fullmatch(whole) and not _GROUPED.fullmatch(whole):
        raise AmountError(
            f"amount {text!r} has malformed som digits {whole!r}: expected digits before the decimal point, "
            f"with commas (if any) separating groups of exactly three digits, such as {_EXAMPLE}"
        )
    if dot and not _DIGITS.fullmatch(fraction):
        raise AmountError(
            f"amount {text!r} has malformed tiyin digits {fraction!r} after the decimal point: expected 1 or 2 "
            f"digits, such as {_EXAMPLE}"
        )
    if len(fraction) > SOM_DECIMALS:
        raise AmountError(
            f"amount {text!r} has {len(fraction)} decimal places; the som has 2 minor units (tiyin), so at "
            f"most 2 decimals are allowed"
        )
    tiyin = int(whole.replace(",", "")) * TIYIN_PER_SOM + int(fraction.ljust(SOM_DECIMALS, "0"))
    if tiyin == 0 and not allow_zero:
        raise AmountError(f"amount {text!r} is zero; expected a positive som amount")
    return SomAmount(tiyin)


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
# Short scale, as in US/international English banking; enough for every uint256 token amount.
_SCALES = (
    "_ thousand million billion trillion quadrillion quintillion sextillion septillion octillion nonillion "
    "decillion undecillion duodecillion tredecillion quattuordecillion quindecillion sexdecillion "
    "septendecillion octodecillion novemdecillion"
).split()


def _below_thousand_words(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(f"{_TENS[tens]}-{_ONES[ones]}" if ones else _TENS[tens])
    elif rest:
        words.append(_ONES[rest])
    return " ".join(words)


def _number_words(n: int) -> str:
    # No "and" inside numbers ("one hundred one"): "and" only ever joins som and tiyin, so it is unambiguous.
    if n == 0:
        return "zero"
    groups = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            name = _SCALES[scale]
            groups.append(_below_thousand_words(group) + ("" if scale == 0 else f" {name}"))
        scale += 1
    return " ".join(reversed(groups))
