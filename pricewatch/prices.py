"""Prices as exact `Decimal`s, from one parser.

Every price a spider sees (Shopify "145.00", `.js` cents 14500, JSON-LD 49.1, page text
"1.299,00 €") goes through `parse_price`, so a shop's format never decides what is stored.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from price_parser import Price

__all__ = [
    "MINOR_UNITS",
    "PriceError",
    "format_price",
    "from_minor",
    "is_valid_currency",
    "parse_money",
    "parse_price",
    "to_minor",
]


class PriceError(ValueError):
    """A price that is present but cannot be a real price (negative, NaN, wrong type...)."""


# ISO 4217 minor-unit exponents that differ from the default of 2.
MINOR_UNITS: dict[str, int] = {
    "BHD": 3,
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}
_DEFAULT_MINOR_UNITS = 2

# Symbols and local spellings price_parser reports, mapped to ISO codes. Ambiguous ones are
# left out on purpose: "kr" is SEK, DKK, NOK or ISK depending on the shop, so guessing would
# silently mislabel a Danish price as Swedish; callers fall back to the shop's configured
# currency instead. "$" and "¥" are ambiguous too but overwhelmingly USD/JPY in sneaker retail.
_SYMBOLS: dict[str, str] = {
    "$": "USD",
    "US$": "USD",
    "USD$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "JP¥": "JPY",
    "円": "JPY",
    "CN¥": "CNY",
    "RMB": "CNY",
    "元": "CNY",
    "₩": "KRW",
    "원": "KRW",
    "FR.": "CHF",
    "SFR.": "CHF",
    "A$": "AUD",
    "AU$": "AUD",
    "C$": "CAD",
    "CA$": "CAD",
    "HK$": "HKD",
    "NZ$": "NZD",
    "S$": "SGD",
    "SG$": "SGD",
    "NT$": "TWD",
    "MX$": "MXN",
    "R$": "BRL",
    "ZŁ": "PLN",
    "₽": "RUB",
    "₹": "INR",
    "RP": "IDR",
    "RM": "MYR",
    "฿": "THB",
    "₺": "TRY",
    "₪": "ILS",
    "KČ": "CZK",
    "FT": "HUF",
    "LEI": "RON",
    "₱": "PHP",
    "₫": "VND",
}

# Codes we recognise in free text when price_parser did not report a currency ("usd 145").
# A closed list, because any three letters ("NEW", "THE") would otherwise count as a code.
_KNOWN_CODES_TEXT = """
AED ARS AUD BGN BHD BRL CAD CHF CLP CNY COP CZK DKK EUR GBP HKD HUF IDR ILS INR ISK JPY
KRW KWD MXN MYR NOK NZD PEN PHP PLN QAR RON RUB SAR SEK SGD THB TRY TWD UAH USD VND ZAR
"""
_KNOWN_CODES = frozenset(_KNOWN_CODES_TEXT.split())

# Prefix symbols for format_price; every other currency is written "1,299.00 SEK".
_PREFIX_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "KRW": "₩"}

_MACHINE_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DIGITS_ONLY = re.compile(r"[0-9]+")
_NON_FINITE = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)
_MINUS_SIGNS = "-−–"
_MINUS_CLASS = r"\-−–"
# Swiss shops group thousands with a typographic apostrophe, which price_parser stops at
# ("CHF 1’299.–" would read as 1).
_TYPOGRAPHIC_APOSTROPHE = re.compile(r"(?<=\d)[’ʼ‘](?=\d{3})")
# The text before the first digit, split around the last minus-like sign in it: an optional
# currency symbol may sit between sign and number ("-$5"), whitespace around either.
_SIGNED_FIRST_NUMBER = re.compile(
    r"(?P<lead>\D*?)[" + _MINUS_CLASS + r"](?P<gap>\s*)[^\s\d" + _MINUS_CLASS + r"]*\s*\d"
)
_NUMBER_RUN = re.compile(r"\d[\d.,']*\d|\d")
_ISO_TOKEN = re.compile(r"(?<![A-Za-z])([A-Za-z]{3})(?![A-Za-z])")


@functools.lru_cache(maxsize=256)  # every stored price asks: a handful of currencies
def _exponent(currency: str) -> int:
    if not is_valid_currency(currency):
        raise PriceError(f"not an ISO 4217 currency code: {currency!r}")
    return MINOR_UNITS.get(currency, _DEFAULT_MINOR_UNITS)


def _check_amount(amount: Decimal, original: object) -> Decimal:
    if not amount.is_finite():
        raise PriceError(f"price is not a finite number: {original!r}")
    if amount < 0:
        raise PriceError(f"price is negative: {original!r}")
    # -0.00 compares equal to zero but would print as "-0.00"; store plain zero.
    return amount.copy_abs()


def _has_leading_minus(text: str) -> bool:
    """True when the first number in text carries a minus sign ("-5", "$-5", "-$5", "- 5").

    price_parser drops the sign ("-5" -> 5), so a refund line or a bad feed would otherwise turn
    into a real-looking price.
    """
    match = _SIGNED_FIRST_NUMBER.match(text)
    if match is None:
        return False
    lead = match.group("lead")
    if lead and lead[-1].isalnum():
        return False  # "SKU-5": a hyphen glued to a word
    # "Sale - 99" / "Sale - $99": a spaced dash after other words is a separator.
    return not (lead.strip() and match.group("gap"))


def _decimal_separator_hint(text: str) -> str | None:
    """The decimal separator when the first number makes it certain, else None (let it guess).

    price_parser reads three digits after the only separator as thousands, which is right for
    "1.299" but wrong for "1,000.000 KWD" (-> 1000000) and "0.005" (-> 5).
    """
    match = _NUMBER_RUN.search(text)
    if match is None:
        return None
    number = match.group(0)
    if "." in number and "," in number:
        return "." if number.rfind(".") > number.rfind(",") else ","
    if number[0] == "0" and len(number) > 1 and number[1] in ".,":
        return number[1]
    return None


def _from_cents(value: int | Decimal, original: object) -> Decimal:
    amount = Decimal(value)
    if amount != amount.to_integral_value():
        raise PriceError(f"cents must be a whole number: {original!r}")
    # Through int so the result always has scale 2: Decimal("1E+4").scaleb(-2) would be 1E+2.
    return Decimal(int(_check_amount(amount, original))).scaleb(-2)


def parse_price(
    value: str | int | float | Decimal | None, *, cents: bool = False
) -> Decimal | None:
    """Read any shop price into a non-negative Decimal; None when there is no price at all.

    `cents=True` reads an int, integral number or digit string as minor units (Shopify `.js`:
    12900 -> Decimal("129.00")). Raises PriceError for negative, NaN/inf, bool or wrong types.
    """
    if value is None:
        return None
    # bool is an int subclass; True as a price is a bug upstream, not 1.
    if isinstance(value, bool):
        raise PriceError(f"a bool is not a price: {value!r}")
    if isinstance(value, int):
        return _from_cents(value, value) if cents else _check_amount(Decimal(value), value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PriceError(f"price is not a finite number: {value!r}")
        if cents:
            if not value.is_integer():
                raise PriceError(f"cents must be a whole number: {value!r}")
            return _from_cents(int(value), value)
        # str() gives the shortest repr, so 49.1 stays 49.1 rather than 49.1000000000000014...
        return _check_amount(Decimal(str(value)), value)
    if isinstance(value, Decimal):
        if cents:
            if not value.is_finite():
                raise PriceError(f"price is not a finite number: {value!r}")
            return _from_cents(value, value)
        return _check_amount(value, value)
    if not isinstance(value, str):
        raise PriceError(f"unsupported price type {type(value).__name__}: {value!r}")

    text = value.strip()
    if not text:
        return None
    if not cents and _MACHINE_DECIMAL.fullmatch(text):
        return Decimal(text)  # "144.99": most prices of most feeds, read without the scans below
    if _NON_FINITE.fullmatch(text):
        raise PriceError(f"price is not a finite number: {value!r}")
    if not any(ch.isdigit() for ch in text):
        # price_parser reads "Free" as 0; a word is not a price we can watch.
        return None
    if cents:
        if _DIGITS_ONLY.fullmatch(text):
            return _from_cents(int(text), value)
        if text.startswith(tuple(_MINUS_SIGNS)) and _DIGITS_ONLY.fullmatch(text[1:]):
            raise PriceError(f"price is negative: {value!r}")
        raise PriceError(f"cents must be a whole number: {value!r}")
    if _MACHINE_DECIMAL.fullmatch(text):
        return Decimal(text)
    if _has_leading_minus(text):
        raise PriceError(f"price is negative: {value!r}")
    cleaned = _TYPOGRAPHIC_APOSTROPHE.sub("'", text)
    amount = Price.fromstring(cleaned, decimal_separator=_decimal_separator_hint(cleaned)).amount
    if amount is None:
        return None
    return _check_amount(amount, value)


def _currency_code(token: str | None, text: str) -> str | None:
    if token is not None:
        key = token.strip().upper()
        if key in _SYMBOLS:
            return _SYMBOLS[key]
        if len(key) == 3 and is_valid_currency(key):
            return key
        return None
    for match in _ISO_TOKEN.finditer(text):
        code = match.group(1).upper()
        if code in _KNOWN_CODES:
            return code
    return None


def parse_money(text: str) -> tuple[Decimal | None, str | None]:
    """Amount and ISO currency from human text: "129,95 €" -> (Decimal("129.95"), "EUR").

    The amount comes from `parse_price` (same rules, same PriceError); the currency is None when
    the text has no symbol or code, or only an ambiguous one such as "kr".
    """
    if not isinstance(text, str):
        raise PriceError(f"parse_money needs text, got {type(text).__name__}")
    amount = parse_price(text)
    cleaned = _TYPOGRAPHIC_APOSTROPHE.sub("'", text)
    return amount, _currency_code(Price.fromstring(cleaned).currency, cleaned)


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal("129.95"), "USD" -> 12995; PriceError if it does not fit the currency's units."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PriceError(f"not a finite Decimal amount: {amount!r}")
    return _to_minor(amount, currency)


@functools.lru_cache(maxsize=65536)  # every stored price passes here; shops repeat prices
def _to_minor(amount: Decimal, currency: str) -> int:
    scaled = amount.scaleb(_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise PriceError(f"{amount} {currency} has more decimals than {currency} allows")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """12995, "USD" -> Decimal("129.95"); 209000, "KRW" -> Decimal("209000")."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise PriceError(f"minor units must be an int: {minor!r}")
    return _from_minor(minor, currency)


@functools.lru_cache(maxsize=65536)  # a shop's variants share a few dozen prices
def _from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-_exponent(currency))


def format_price(amount: Decimal, currency: str) -> str:
    """For people: "$1,299.00", "€129.95", "¥12,000", "145.00 SEK" (comma thousands everywhere)."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PriceError(f"not a finite Decimal amount: {amount!r}")
    exponent = _exponent(currency)
    try:
        rounded = amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise PriceError(f"amount too large to format: {amount!r}") from exc
    sign = "-" if rounded < 0 else ""
    number = f"{abs(rounded):,.{exponent}f}"
    symbol = _PREFIX_SYMBOLS.get(currency)
    if symbol is not None:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {currency}"


def is_valid_currency(code: str) -> bool:
    """True for three upper-case ASCII letters ("USD"); says nothing about the code existing."""
    return (
        isinstance(code, str)
        and len(code) == 3
        and code.isascii()
        and code.isalpha()
        and code.isupper()
    )


# Sneakers cost more than this nowhere we watch; a bigger number is a parsing accident (a price
# in cents read as units, a SKU read as a price). Validation drops such listings; a max price
# above it would never mean anything.
_PRICE_CAPS = {"JPY": Decimal(500_000), "KRW": Decimal(5_000_000)}
_DEFAULT_PRICE_CAP = Decimal(5_000)


def price_cap(currency: str) -> Decimal:
    """The highest believable price of a pair of 2002R in this currency."""
    return _PRICE_CAPS.get(currency, _DEFAULT_PRICE_CAP)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency: Decimal("0.01") for USD, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-_exponent(currency))
