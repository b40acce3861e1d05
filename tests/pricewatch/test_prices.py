"""pricewatch.prices: one parser for every price shape a shop sends.

Shapes come from tests/fixtures/realdata: Shopify /products.json strings ("145.00", compare-at
"0.00"), Shopify .js integer cents (2490), Kith product_listings `formatted_price` ("$160.00"), SFCC
`formatted` ("$3.499" ARS), Zalando JSON-LD ("49.1", "62.95"), and page text from EU/UK/CH shops.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricewatch.prices import (
    MINOR_UNITS,
    PriceError,
    format_price,
    from_minor,
    is_valid_currency,
    parse_money,
    parse_price,
    to_minor,
)


def assert_exact(actual: Decimal | None, expected: str) -> None:
    """Same value AND same scale: Decimal("145.00") is not Decimal("145")."""
    assert isinstance(actual, Decimal)
    assert str(actual) == expected


# --- parse_price: machine-formatted strings keep their exact scale ---------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("145.00", "145.00"),  # atmos USA variant price
        ("85.00", "85.00"),  # Kith toddler Jordan
        ("0.00", "0.00"),  # Shopify compare_at_price meaning "no sale"
        ("220.00", "220.00"),  # Footpatrol compare-at
        ("49.1", "49.1"),  # Zalando JSON-LD, one decimal
        ("62.95", "62.95"),
        ("70.5", "70.5"),
        ("69.95", "69.95"),  # Zara per-size offer
        ("3499.00", "3499.00"),  # SFCC decimalPrice
        ("144.99", "144.99"),
        (" 85 ", "85"),
        ("\t150\n", "150"),
        ("0", "0"),
        ("165", "165"),
        ("1.299", "1.299"),  # machine format wins: a dot is a decimal point here
        ("12.345", "12.345"),
        ("1000000.00", "1000000.00"),
    ],
)
def test_machine_strings_are_exact(value: str, expected: str) -> None:
    assert_exact(parse_price(value), expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (145, "145"),
        (0, "0"),
        (3499, "3499"),  # SFCC "value": 3499 (ARS)
        (49.1, "49.1"),  # float via str(): no binary noise
        (62.95, "62.95"),
        (145.0, "145.0"),
        (0.1, "0.1"),
        (144.99, "144.99"),
        (Decimal("150.00"), "150.00"),
        (Decimal("0"), "0"),
        (Decimal("-0.00"), "0.00"),  # negative zero is still zero, and prints without a sign
    ],
)
def test_numbers(value: int | float | Decimal, expected: str) -> None:
    assert_exact(parse_price(value), expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12900, "129.00"),
        (2490, "24.90"),  # bornlivingyoga .js price (EUR 24.90)
        (14500, "145.00"),
        (14499, "144.99"),
        (99, "0.99"),
        (5, "0.05"),
        (0, "0.00"),
        ("14500", "145.00"),
        (" 2490 ", "24.90"),
        (12900.0, "129.00"),
        (Decimal("12900"), "129.00"),
        (Decimal("1.29E+4"), "129.00"),
        (Decimal("12900.0"), "129.00"),
    ],
)
def test_cents(value: int | float | str | Decimal, expected: str) -> None:
    assert_exact(parse_price(value, cents=True), expected)


# --- parse_price: human text goes through price_parser -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,299.00", "1299.00"),
        ("1.299,00 €", "1299.00"),
        ("129,95", "129.95"),  # never 12995
        ("€ 129,95", "129.95"),
        ("€129,95", "129.95"),
        ("CHF 1'299.–", "1299"),
        ("CHF 1’299.–", "1299"),  # typographic apostrophe, as Swiss shops write it
        ("From £120", "120"),
        ("£120.00", "120.00"),
        ("$160.00", "160.00"),  # Kith formatted_price
        ("$3.499", "3499"),  # SFCC formatted ARS, dot as thousands
        ("¥12,000", "12000"),
        ("₩209,000", "209000"),
        ("1 299,00 kr", "1299.00"),
        ("1\u00a0299,00 €", "1299.00"),
        ("1\u202f299,00 €", "1299.00"),  # narrow no-break space (French formatting)
        ("145.00 SEK", "145.00"),
        ("USD 145.00", "145.00"),
        ("€150", "150"),
        ("150 EUR", "150"),
        ("EUR 170,00", "170.00"),
        ("R$ 999,90", "999.90"),
        ("Fr. 180.-", "180"),
        ("$.99", "0.99"),
        ("Sale $99.99 Regular $145.00", "99.99"),  # first price in the text
        ("Sale - $99", "99"),  # a spaced dash is a separator, not a minus
        ("$100-$150", "100"),
        ("1,000.000 KWD", "1000.000"),  # both separators: the last one is the decimal point
        ("€ 0,50", "0.50"),
        ("Price: 1,299.00 USD", "1299.00"),
    ],
)
def test_human_text(text: str, expected: str) -> None:
    assert_exact(parse_price(text), expected)


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "\n\t", "Sold out", "Free", "N/A", "—", "price on request", "Coming soon"],
)
def test_no_price_is_none(value: str | None) -> None:
    assert parse_price(value) is None
    assert parse_price(value, cents=True) is None


@pytest.mark.parametrize(
    "value",
    [
        -5,
        -1,
        "-5",
        "-145.00",
        "−5",  # U+2212 minus sign
        "$-5.00",
        "-$5.00",
        "$ -5",
        "- 5",
        "-€ 5",
        "Price: -5",
        Decimal("-1"),
        Decimal("-0.01"),
        -0.01,
        math.nan,
        math.inf,
        -math.inf,
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        "NaN",
        "inf",
        "-Infinity",
        True,
        False,
    ],
)
def test_invalid_prices_raise(value: Any) -> None:
    with pytest.raises(PriceError):
        parse_price(value)


@pytest.mark.parametrize("value", [[145], b"145", {"amount": "145.00"}, object()])
def test_unsupported_types_raise(value: Any) -> None:
    with pytest.raises(PriceError):
        parse_price(value)


@pytest.mark.parametrize(
    "value", ["129.00", "$129", "12.9", 129.5, Decimal("129.5"), -100, "-100", True]
)
def test_cents_rejects_non_integers_and_negatives(value: Any) -> None:
    with pytest.raises(PriceError):
        parse_price(value, cents=True)


def test_price_error_is_a_value_error() -> None:
    assert issubclass(PriceError, ValueError)


# --- parse_money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("£120.00", "120.00", "GBP"),
        ("$145", "145", "USD"),
        ("129,95 €", "129.95", "EUR"),
        ("€ 129,95", "129.95", "EUR"),
        ("145.00 SEK", "145.00", "SEK"),
        ("149,95 DKK", "149.95", "DKK"),
        ("¥12,000", "12000", "JPY"),
        ("12,000円", "12000", "JPY"),
        ("₩209,000", "209000", "KRW"),
        ("209,000원", "209000", "KRW"),
        ("CHF 1'299.–", "1299", "CHF"),
        ("Fr. 180.-", "180", "CHF"),
        ("US$145", "145", "USD"),
        ("A$220", "220", "AUD"),
        ("C$200", "200", "CAD"),
        ("HK$1,299", "1299", "HKD"),
        ("R$ 999,90", "999.90", "BRL"),
        ("599,99 zł", "599.99", "PLN"),
        ("eur 150", "150", "EUR"),  # ISO codes pass through upper-cased
        ("usd 145", "145", "USD"),
        ("$160.00", "160.00", "USD"),
        ("$3.499", "3499", "USD"),  # "$" is read as USD even on an ARS site: callers know better
        ("1,000.000 KWD", "1000.000", "KWD"),
    ],
)
def test_parse_money(text: str, amount: str, currency: str) -> None:
    got_amount, got_currency = parse_money(text)
    assert_exact(got_amount, amount)
    assert got_currency == currency


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1 299 kr", "1299"),  # kr: SEK, DKK, NOK or ISK, so no guess
        ("145", "145"),
        ("145.00", "145.00"),
        ("50 ¤", "50"),
        ("XYZ 50", "50"),  # three letters that are no currency we know
    ],
)
def test_parse_money_without_known_currency(text: str, amount: str) -> None:
    got_amount, got_currency = parse_money(text)
    assert_exact(got_amount, amount)
    assert got_currency is None


@pytest.mark.parametrize("text", ["", "Sold out", "   "])
def test_parse_money_nothing(text: str) -> None:
    assert parse_money(text) == (None, None)


def test_parse_money_negative_raises() -> None:
    with pytest.raises(PriceError):
        parse_money("-£5.00")


# --- minor units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("129.95", "USD", 12995),
        ("3499", "ARS", 349900),
        ("209000", "KRW", 209000),
        ("12000", "JPY", 12000),
        ("145.00", "USD", 14500),
        ("145", "EUR", 14500),
        ("0", "USD", 0),
        ("0.00", "GBP", 0),
        ("0.01", "GBP", 1),
        ("129.950", "USD", 12995),  # trailing zeros beyond the exponent are fine
        ("1.234", "BHD", 1234),
        ("5.5", "KWD", 5500),
        ("1299.00", "CHF", 129900),
        ("24.90", "EUR", 2490),
        ("1000000", "CLP", 1000000),
        ("150", "ISK", 150),
        ("1E+3", "USD", 100000),
    ],
)
def test_to_minor(amount: str, currency: str, minor: int) -> None:
    result = to_minor(Decimal(amount), currency)
    assert result == minor
    assert type(result) is int


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("12.345", "USD"),
        ("0.001", "EUR"),
        ("12000.5", "JPY"),
        ("209000.1", "KRW"),
        ("1.2345", "BHD"),
        ("NaN", "USD"),
        ("Infinity", "USD"),
        ("1", "usd"),
        ("1", "US"),
        ("1", "EURO"),
        ("1", ""),
    ],
)
def test_to_minor_rejects(amount: str, currency: str) -> None:
    with pytest.raises(PriceError):
        to_minor(Decimal(amount), currency)


@pytest.mark.parametrize(
    ("minor", "currency", "expected"),
    [
        (12995, "USD", "129.95"),
        (209000, "KRW", "209000"),
        (14500, "USD", "145.00"),
        (0, "USD", "0.00"),
        (1234, "BHD", "1.234"),
        (12000, "JPY", "12000"),
        (5, "EUR", "0.05"),
        (349900, "ARS", "3499.00"),
        (150, "ISK", "150"),
        (-500, "USD", "-5.00"),  # differences (a price drop) may be negative
    ],
)
def test_from_minor(minor: int, currency: str, expected: str) -> None:
    assert_exact(from_minor(minor, currency), expected)


@pytest.mark.parametrize(
    ("minor", "currency"), [(True, "USD"), (1.5, "USD"), ("100", "USD"), (100, "dollars")]
)
def test_from_minor_rejects(minor: Any, currency: str) -> None:
    with pytest.raises(PriceError):
        from_minor(minor, currency)


def test_minor_units_table() -> None:
    assert MINOR_UNITS["JPY"] == 0
    assert MINOR_UNITS["KRW"] == 0
    assert MINOR_UNITS["CLP"] == 0
    assert MINOR_UNITS["ISK"] == 0
    assert MINOR_UNITS["BHD"] == 3
    assert MINOR_UNITS["KWD"] == 3
    assert "USD" not in MINOR_UNITS  # default 2 applies


# --- format_price ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("145.00", "USD", "$145.00"),
        ("145", "USD", "$145.00"),
        ("129.95", "EUR", "€129.95"),
        ("120.00", "GBP", "£120.00"),
        ("12000", "JPY", "¥12,000"),
        ("209000", "KRW", "₩209,000"),
        ("145.00", "SEK", "145.00 SEK"),
        ("1299", "USD", "$1,299.00"),
        ("1299.00", "CHF", "1,299.00 CHF"),
        ("0", "EUR", "€0.00"),
        ("3499", "ARS", "3,499.00 ARS"),
        ("1.5", "BHD", "1.500 BHD"),
        ("144.995", "USD", "$145.00"),  # display rounds half up
        ("1234567.891", "EUR", "€1,234,567.89"),
        ("12000.4", "JPY", "¥12,000"),
        ("-5", "USD", "-$5.00"),
    ],
)
def test_format_price(amount: str, currency: str, expected: str) -> None:
    assert format_price(Decimal(amount), currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency"), [(Decimal("NaN"), "USD"), (Decimal("1"), "usd"), (145, "USD")]
)
def test_format_price_rejects(amount: Any, currency: str) -> None:
    with pytest.raises(PriceError):
        format_price(amount, currency)


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("USD", True),
        ("EUR", True),
        ("XXX", True),  # the shape is all that is checked
        ("usd", False),
        ("Usd", False),
        ("US", False),
        ("USDT", False),
        ("", False),
        (" USD", False),
        ("ÜSD", False),
        ("U1D", False),
        ("€", False),
    ],
)
def test_is_valid_currency(code: str, valid: bool) -> None:
    assert is_valid_currency(code) is valid


# --- properties ---------------------------------------------------------------------------

_price_text = st.text(
    alphabet=st.sampled_from(list("0123456789.,'’ -−–$€£¥₩krCHFSEUDabc\u00a0\u202f")),
    max_size=20,
)


@given(st.one_of(st.text(max_size=40), _price_text))
def test_parse_price_only_raises_price_error(text: str) -> None:
    try:
        result = parse_price(text)
    except PriceError:
        return
    assert result is None or (result.is_finite() and result >= 0)


@given(st.one_of(st.text(max_size=40), _price_text))
def test_parse_money_only_raises_price_error(text: str) -> None:
    try:
        amount, currency = parse_money(text)
    except PriceError:
        return
    assert amount is None or (amount.is_finite() and amount >= 0)
    assert currency is None or is_valid_currency(currency)


@given(st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False))
def test_machine_string_round_trip(amount: Decimal) -> None:
    text = format(amount, "f")
    assert_exact(parse_price(text), text)


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=10**9))
def test_cents_round_trip(cents: int) -> None:
    expected = Decimal(cents).scaleb(-2)
    assert parse_price(cents, cents=True) == expected
    assert parse_price(str(cents), cents=True) == expected
    assert to_minor(expected, "USD") == cents


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_float_goes_through_str(value: float) -> None:
    assert parse_price(value) == Decimal(str(value))


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from(["USD", "EUR", "JPY", "KRW", "BHD", "CLP", "SEK"]),
)
def test_minor_round_trip(minor: int, currency: str) -> None:
    assert to_minor(from_minor(minor, currency), currency) == minor


@given(
    st.integers(min_value=0, max_value=10**8),
    st.sampled_from(["USD", "EUR", "GBP", "JPY", "KRW", "SEK", "CHF", "DKK"]),
)
def test_format_then_parse_money_round_trip(minor: int, currency: str) -> None:
    amount = from_minor(minor, currency)
    parsed_amount, parsed_currency = parse_money(format_price(amount, currency))
    assert parsed_amount == amount
    assert parsed_currency == currency
