"""kgst.amounts: exact som amounts, strict parsing and the words an operator confirms before signing."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgst.amounts import (
    MAX_TIYIN,
    SOM_DECIMALS,
    TOKEN_DECIMALS,
    UNITS_PER_TIYIN,
    AmountError,
    SomAmount,
    from_tiyin,
    from_units,
    parse_som,
)

MAX_TEST_TIYIN = 10**15 * 100  # 10**15 som
tiyin_amounts = st.integers(min_value=1, max_value=MAX_TEST_TIYIN)


def test_constants_tie_tiyin_to_token_units():
    assert (SOM_DECIMALS, TOKEN_DECIMALS, UNITS_PER_TIYIN) == (2, 18, 10**16)
    assert UNITS_PER_TIYIN == 10 ** (TOKEN_DECIMALS - SOM_DECIMALS)


@pytest.mark.parametrize(
    "text, tiyin",
    [
        ("1250000", 125_000_000),
        ("1250000.5", 125_000_050),
        ("1250000.50", 125_000_050),
        ("1,250,000.50", 125_000_050),
        ("  1,250,000.50\n", 125_000_050),
        ("\t0.01 ", 1),
        ("999", 99_900),
        ("1,000", 100_000),
        ("0.1", 10),
        ("007.5", 750),
        ("123,456,789,012,345.67", 12_345_678_901_234_567),
    ],
)
def test_parse_accepts_plain_decimal_text(text, tiyin):
    assert parse_som(text) == SomAmount(tiyin)


def test_parse_is_exact_where_float_is_not():
    # 0.29 * 100 == 28.999999999999996 in binary floating point.
    assert parse_som("0.29").tiyin == 29
    assert parse_som("9007199254740993.01").tiyin == 900719925474099301


@given(tiyin_amounts)
def test_str_round_trips_through_parse(tiyin):
    amount = from_tiyin(tiyin)
    assert parse_som(str(amount).removesuffix(" KGS")) == amount
    assert parse_som(str(amount.som)) == amount


@given(tiyin_amounts)
def test_units_are_exact(tiyin):
    amount = from_tiyin(tiyin)
    assert amount.units == tiyin * 10**16
    assert from_units(amount.units) == amount
    assert amount.som == Decimal(tiyin) / 100
    assert amount.som * 10**TOKEN_DECIMALS == amount.units


def test_som_is_exact_beyond_decimal_context_precision():
    amount = from_tiyin(MAX_TIYIN)
    assert len(str(MAX_TIYIN)) > 28  # the default Decimal context would round this
    assert amount.som == Decimal(f"{MAX_TIYIN // 100}.{MAX_TIYIN % 100:02d}")
    assert amount.units <= 2**256 - 1


def test_str_is_canonical():
    assert str(parse_som("1250000.5")) == "1,250,000.50 KGS"
    assert str(from_tiyin(0)) == "0.00 KGS"
    assert str(from_tiyin(7)) == "0.07 KGS"
    assert str(from_tiyin(100_000)) == "1,000.00 KGS"


@pytest.mark.parametrize(
    "tiyin, words",
    [
        (0, "zero som"),
        (1, "one tiyin"),
        (50, "fifty tiyin"),
        (100, "one som"),
        (1_100, "eleven som"),
        (2_100, "twenty-one som"),
        (10_000, "one hundred som"),
        (10_100, "one hundred one som"),
        (101, "one som and one tiyin"),
        (1_999, "nineteen som and ninety-nine tiyin"),
        (100_000_000, "one million som"),
        (100_100_199, "one million one thousand one som and ninety-nine tiyin"),
        (125_000_050, "one million two hundred fifty thousand som and fifty tiyin"),
        (1_000_000_000_000_000_00, "one quadrillion som"),
        (999_000_001, "nine million nine hundred ninety thousand som and one tiyin"),
        (7_012_000_010_00, "seven billion twelve million ten som"),
    ],
)
def test_words(tiyin, words):
    assert from_tiyin(tiyin).words() == words


def test_words_cover_the_largest_token_amount():
    words = from_tiyin(MAX_TIYIN).words()
    assert words.startswith("one hundred fifteen octodecillion")
    assert "_" not in words


def test_echo_shows_digits_words_and_units():
    assert parse_som("1,250,000.50").echo() == (
        "1,250,000.50 KGS (one million two hundred fifty thousand som and fifty tiyin) "
        "= 1250000500000000000000000 base units"
    )


def test_zero_only_when_allowed():
    with pytest.raises(AmountError, match=r"amount '0.00' is zero; expected a positive som amount"):
        parse_som("0.00")
    assert parse_som("0", allow_zero=True) == from_tiyin(0)
    assert parse_som("0.00", allow_zero=True).units == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "amount is empty"),
        ("   \n", "amount is empty"),
        ("-5", "amount '-5' is negative; expected a positive som amount"),
        ("-0.01", "amount '-0.01' is negative"),
        ("1.005", "amount '1.005' has 3 decimal places; the som has 2 minor units (tiyin), so at most 2 decimals"),
        ("1.500", "has 3 decimal places"),
        ("1,25,000", "malformed som digits '1,25,000'"),
        ("1,2500", "commas (if any) separating groups of exactly three digits"),
        (",100", "malformed som digits ',100'"),
        ("100,", "malformed som digits '100,'"),
        ("0,100", "malformed som digits '0,100'"),
        ("1,000,00", "malformed som digits"),
        ("1.000,50", "malformed tiyin digits '000,50'"),
        (".5", "malformed som digits ''"),
        ("5.", "malformed tiyin digits '' after the decimal point: expected 1 or 2 digits"),
        ("1e6", "amount '1e6' contains 'e' at position 2; expected only digits"),
        ("1E6", "contains 'E' at position 2"),
        ("NaN", "amount 'NaN' contains 'N' at position 1"),
        ("inf", "contains 'i' at position 1"),
        ("Infinity", "contains 'I' at position 1"),
        ("1 000", "amount '1 000' contains ' ' at position 2"),
        ("1\u00a0000", "contains '\\xa0' at position 2"),
        ("1.2.3", "amount '1.2.3' has more than one decimal point"),
        ("+5", "amount '+5' starts with a '+' sign; expected the amount without a sign"),
        ("5+", "amount '5+' contains '+' at position 2"),
        ("5 KGS", "contains ' ' at position 2"),
        ("\u0661\u0662", "contains '\u0661' at position 1"),  # Arabic-Indic digits are not [0-9]
        ("1_000", "contains '_' at position 2"),
        ("0x10", "contains 'x' at position 2"),
    ],
)
def test_parse_rejects_with_a_message_that_names_the_problem(text, message):
    with pytest.raises(AmountError) as raised:
        parse_som(text)
    assert message in str(raised.value)
    assert "expected" in str(raised.value) or "at most" in str(raised.value)


@pytest.mark.parametrize("value", [5, 5.0, Decimal("5"), True, None, b"5"])
def test_parse_requires_text(value):
    with pytest.raises(AmountError, match=r"pass the amount as text \(a str such as '1250000.50'"):
        parse_som(value)


def test_amount_error_is_a_value_error():
    assert issubclass(AmountError, ValueError)


def test_from_units_requires_whole_non_negative_tiyin():
    assert from_units(10**16) == from_tiyin(1)
    assert from_units(0) == from_tiyin(0)
    with pytest.raises(AmountError, match=r"token units must not be negative, got -10000000000000000"):
        from_units(-(10**16))
    with pytest.raises(
        AmountError,
        match=r"12345 token units is not a whole number of tiyin: expected a multiple of 10000000000000000 "
        r"\(1 tiyin = 10\*\*16 units\), 12345 units left over",
    ):
        from_units(12345)
    with pytest.raises(AmountError, match="5 units left over"):
        from_units(10**18 + 5)
    with pytest.raises(AmountError, match="token units must be an int, got float"):
        from_units(1e18)


@given(st.integers(min_value=0, max_value=MAX_TEST_TIYIN), st.integers(min_value=1, max_value=UNITS_PER_TIYIN - 1))
def test_from_units_rejects_every_fraction_of_a_tiyin(tiyin, dust):
    with pytest.raises(AmountError, match="not a whole number of tiyin"):
        from_units(tiyin * UNITS_PER_TIYIN + dust)


def test_amount_itself_rejects_impossible_values():
    with pytest.raises(AmountError, match="tiyin must not be negative, got -1"):
        from_tiyin(-1)
    with pytest.raises(AmountError, match="tiyin must be an int, got float 1.5"):
        SomAmount(1.5)
    with pytest.raises(AmountError, match="tiyin must be an int, got bool"):
        SomAmount(True)
    with pytest.raises(AmountError, match=r"more than the largest token amount"):
        from_tiyin(MAX_TIYIN + 1)
    with pytest.raises(AmountError, match=r"more than the largest token amount"):
        parse_som("1" + "0" * 60)


def test_amounts_are_values():
    assert parse_som("1") == parse_som("1.00") == from_units(10**18)
    assert len({parse_som("1"), parse_som("1.0"), parse_som("2")}) == 2
    with pytest.raises(AttributeError):
        parse_som("1").tiyin = 2
