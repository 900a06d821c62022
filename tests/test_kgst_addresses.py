"""kgst.addresses: well-formed, checksum-verified addresses, and no silent 'correction' of typos."""

import pytest
from eth_utils import to_checksum_address
from hypothesis import assume, given
from hypothesis import strategies as st

from kgst.addresses import ZERO_ADDRESS, AddressError, parse_address

# Test vectors from EIP-55 itself.
EIP55_MIXED = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]
EIP55_ALL_UPPER = ["0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D"]
EIP55_ALL_LOWER = ["0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26"]
GOOD = EIP55_MIXED[0]


@pytest.mark.parametrize("address", EIP55_MIXED + EIP55_ALL_UPPER + EIP55_ALL_LOWER)
def test_valid_addresses_come_back_checksummed(address):
    assert parse_address(address) == to_checksum_address(address)


def test_all_lowercase_and_all_uppercase_carry_no_checksum_and_are_accepted():
    assert parse_address(GOOD.lower()) == GOOD
    assert parse_address("0x" + GOOD[2:].upper()) == GOOD


def test_surrounding_whitespace_is_ignored():
    assert parse_address(f"  {GOOD}\n") == GOOD


def flip_case_of_one_letter(address: str, which: int) -> str:
    letters = [i for i, c in enumerate(address) if i >= 2 and c.isalpha()]
    i = letters[which % len(letters)]
    return address[:i] + address[i].swapcase() + address[i + 1 :]


@given(st.binary(min_size=20, max_size=20), st.integers(min_value=0))
def test_one_wrong_case_letter_fails_the_checksum(raw, which):
    address = to_checksum_address(raw)
    assume(any(c.isalpha() for c in address[2:]))
    typo = flip_case_of_one_letter(address, which)
    if typo[2:] in (typo[2:].lower(), typo[2:].upper()):  # flipping the only letter leaves no checksum to check
        assert parse_address(typo) == address
        return
    with pytest.raises(AddressError, match="does not match its EIP-55 checksum"):
        parse_address(typo)


def test_checksum_failure_does_not_reveal_the_corrected_address():
    typo = flip_case_of_one_letter(GOOD, 0)
    with pytest.raises(AddressError) as raised:
        parse_address(typo, what="recipient address")
    message = str(raised.value)
    assert message.startswith(f"recipient address {typo!r} does not match its EIP-55 checksum")
    assert "may contain a typo" in message
    assert GOOD not in message


def test_a_changed_digit_in_a_checksummed_address_is_caught():
    # A typo in a hex digit (not only a case flip) changes the hash, so the case pattern no longer matches.
    typo = GOOD[:-1] + ("e" if GOOD[-1] != "e" else "f")
    assert typo[2:] not in (typo[2:].lower(), typo[2:].upper())
    with pytest.raises(AddressError, match="does not match its EIP-55 checksum"):
        parse_address(typo)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "address is empty; expected '0x' followed by 40 hex digits"),
        ("  ", "address is empty"),
        (GOOD[2:], f"address {GOOD[2:]!r} does not start with '0x'"),
        ("0X" + GOOD[2:], "does not start with '0x'"),
        (GOOD[:-1], f"address {GOOD[:-1]!r} has 39 characters after '0x'; expected 40 hex digits"),
        (GOOD + "0", "has 41 characters after '0x'; expected 40 hex digits"),
        ("0x", "has 0 characters after '0x'"),
        ("0x" + "g" * 40, "contains 'g' at position 3, which is not a hex digit"),
        (GOOD[:10] + " " + GOOD[11:], "contains ' ' at position 11"),
        ("0x" + "\uff10" * 40, "contains '\uff10' at position 3"),  # full-width zero
    ],
)
def test_malformed_addresses_are_rejected_with_what_was_wrong(text, message):
    with pytest.raises(AddressError) as raised:
        parse_address(text)
    assert message in str(raised.value)


@pytest.mark.parametrize("value", [0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED, None, bytes(20)])
def test_address_must_be_text(value):
    with pytest.raises(AddressError, match=r"pass the address as text \(a str starting with '0x'\), not "):
        parse_address(value)


def test_zero_address_only_when_allowed():
    with pytest.raises(AddressError, match="^recipient address '0x0{40}' is the zero address; tokens sent there are lost$"):
        parse_address(ZERO_ADDRESS, what="recipient address")
    assert parse_address(ZERO_ADDRESS, allow_zero=True) == ZERO_ADDRESS


def test_what_names_the_input_in_every_message():
    with pytest.raises(AddressError, match="^custodian address is empty"):
        parse_address("", what="custodian address")
    with pytest.raises(AddressError, match="^pass the custodian address as text"):
        parse_address(1, what="custodian address")


def test_address_error_is_a_value_error():
    assert issubclass(AddressError, ValueError)
