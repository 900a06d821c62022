"""kgst.refs: one bytes32 per reference however it is typed, and never the same bytes32 across kinds."""

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from kgst.refs import (
    MAX_REFERENCE_LENGTH,
    ReferenceFormatError,
    account_ref,
    case_ref,
    deposit_ref,
    normalize_reference,
    payout_ref,
    to_hex,
)

REF_HASHES = [deposit_ref, payout_ref, case_ref, account_ref]


@pytest.mark.parametrize(
    "typed, normalized",
    [
        ("DEP-2024-000123", "DEP-2024-000123"),
        ("  dep-2024-000123 \n", "DEP-2024-000123"),
        ("Dep  2024\t\t000123", "DEP 2024 000123"),
        ("line\r\nbreak", "LINE BREAK"),
        ("no\u00a0break", "NO BREAK"),  # a non-breaking space is whitespace too
        ("дело № 2-1234/2024", "ДЕЛО № 2-1234/2024"),  # Kyrgyz court case numbers are in Cyrillic
        ("e\u0301", "\u00c9"),  # decomposed and composed é are one reference (NFC)
        ("\u00e9", "\u00c9"),
        ("i\u0307", "\u0130"),  # upper-casing i + combining dot gives I + dot, which NFC composes to İ
        ("\u0130", "\u0130"),
    ],
)
def test_normalize(typed, normalized):
    assert normalize_reference(typed) == normalized


def test_exact_hash_values():
    # Pinned so that a change to the normalization or the domains, which would orphan every stored
    # reference on chain, cannot go unnoticed.
    assert deposit_ref(" dep-1 ") == keccak(b"KGST/deposit/v1:DEP-1")
    assert payout_ref("pay-1") == keccak(b"KGST/payout/v1:PAY-1")
    assert case_ref("2-1234/2024") == keccak(b"KGST/case/v1:2-1234/2024")
    assert account_ref("1280016070012345") == keccak(b"KGST/account/v1:1280016070012345")
    assert to_hex(deposit_ref("DEP-1")) == "0x" + keccak(b"KGST/deposit/v1:DEP-1").hex()
    assert case_ref("дело") == keccak("KGST/case/v1:ДЕЛО".encode("utf-8"))


def test_to_hex():
    assert to_hex(bytes(32)) == "0x" + "00" * 32
    assert to_hex(b"\xab\x01") == "0xab01"


# What references are made of: Latin and Cyrillic (with the Kyrgyz letters), digits, punctuation, spaces.
REFERENCE_ALPHABET = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюяҢңӨөҮү"
    "-/.,:;#№()_ \t"
)
references = st.text(alphabet=REFERENCE_ALPHABET, min_size=1, max_size=MAX_REFERENCE_LENGTH).filter(str.strip)


@given(references)
def test_same_reference_however_typed_gives_the_same_hash(text):
    variants = [text, text.lower(), text.upper(), f"  {text}\t", text.replace(" ", "  ")]
    for ref in REF_HASHES:
        assert len({ref(variant) for variant in variants}) == 1
        assert len(ref(text)) == 32


@given(references)
def test_normalization_is_idempotent(text):
    normalized = normalize_reference(text)
    assert normalize_reference(normalized) == normalized


@given(references)
def test_kinds_never_collide(text):
    assert len({ref(text) for ref in REF_HASHES}) == len(REF_HASHES)


def test_different_references_differ():
    assert deposit_ref("DEP-1") != deposit_ref("DEP-2")
    assert deposit_ref("DEP 1") != deposit_ref("DEP1")  # spaces separate words; they are not dropped


def test_the_length_limit_applies_to_the_normalized_text():
    assert normalize_reference("A" * MAX_REFERENCE_LENGTH) == "A" * MAX_REFERENCE_LENGTH
    assert normalize_reference("  " + "A  " * 64) == " ".join(["A"] * 64)  # 127 characters once collapsed
    with pytest.raises(
        ReferenceFormatError, match="is 129 characters long after normalization; expected at most 128"
    ):
        normalize_reference("A" * (MAX_REFERENCE_LENGTH + 1))


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "reference '' is empty; expected the reference as the bank shows it"),
        (" \t\n ", "reference ' \\t\\n ' is empty"),
        ("DEP\x00123", "contains the control character '\\x00' (U+0000, unnamed) at position 4"),
        ("DEP\x1b[0m", "contains the control character '\\x1b' (U+001B, unnamed) at position 4"),
        ("DEP\x7f", "control character '\\x7f' (U+007F"),
        ("DEP\u200b123", "contains the non-printable character '\\u200b' (U+200B, ZERO WIDTH SPACE) at position 4"),
        ("\u202eDEP", "non-printable character '\\u202e' (U+202E, RIGHT-TO-LEFT OVERRIDE) at position 1"),
        ("DEP\ufeff", "non-printable character '\\ufeff' (U+FEFF, ZERO WIDTH NO-BREAK SPACE)"),
    ],
)
def test_rejects_with_what_was_wrong(text, message):
    for ref in [normalize_reference, *REF_HASHES]:
        with pytest.raises(ReferenceFormatError) as raised:
            ref(text)
        assert message in str(raised.value)


@pytest.mark.parametrize("value", [123, None, b"DEP-1"])
def test_reference_must_be_text(value):
    with pytest.raises(ReferenceFormatError, match=r"pass the reference as text \(a str\), not "):
        deposit_ref(value)


def test_reference_format_error_is_a_value_error():
    assert issubclass(ReferenceFormatError, ValueError)
