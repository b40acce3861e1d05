"""pricewatch.sizes: shop size labels to US men's, by the rules and chart of docs/retailers.md 5.

Label shapes from tests/fixtures/realdata: Shopify option1 "9" / "10.5" (atmos, Footpatrol UK
sizes), Kith toddler "0C".."13.5C", Joe's New Balance Outlet unisex "M4 / W5.5", plus shop label
styles quoted in docs/design.md ("US 10 / UK 9.5 / EU 44").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricewatch import sizes
from pricewatch.sizes import (
    SIZE_SYSTEMS,
    Size,
    SizeError,
    format_size,
    parse_size,
    parse_user_size,
    us_to_eu,
    us_to_uk,
)

# (US men's, EU, cm) rows of docs/retailers.md 5.2, restated here so a typo in the module shows up.
CHART = [
    (4.0, 36.0, 22.0),
    (4.5, 37.0, 22.5),
    (5.0, 37.5, 23.0),
    (5.5, 38.0, 23.5),
    (6.0, 38.5, 24.0),
    (6.5, 39.5, 24.5),
    (7.0, 40.0, 25.0),
    (7.5, 40.5, 25.5),
    (8.0, 41.5, 26.0),
    (8.5, 42.0, 26.5),
    (9.0, 42.5, 27.0),
    (9.5, 43.0, 27.5),
    (10.0, 44.0, 28.0),
    (10.5, 44.5, 28.5),
    (11.0, 45.0, 29.0),
    (11.5, 45.5, 29.5),
    (12.0, 46.5, 30.0),
    (13.0, 47.5, 31.0),
]


@pytest.mark.parametrize(
    ("label", "size_us", "width", "system"),
    [
        # plain US men's, as atmos / Kith / Undefeated option1
        ("10", 10.0, None, "us"),
        ("10.5", 10.5, None, "us"),
        ("7", 7.0, None, "us"),
        ("14", 14.0, None, "us"),
        ("10.0", 10.0, None, "us"),
        ("9½", 9.5, None, "us"),
        ("10 1/2", 10.5, None, "us"),
        ("10,5", 10.5, None, "us"),
        ("US 10", 10.0, None, "us"),
        ("US10", 10.0, None, "us"),
        ("us 10.5", 10.5, None, "us"),
        ("US M 10", 10.0, None, "us"),
        ("US Men's 10", 10.0, None, "us"),
        ("M10", 10.0, None, "us"),
        ("M 9", 9.0, None, "us"),
        ("Men's 10", 10.0, None, "us"),
        ("Men’s 10", 10.0, None, "us"),
        ("Mens 11.5", 11.5, None, "us"),
        ("10 US", 10.0, None, "us"),
        ("Size 10", 10.0, None, "us"),
        ("Size: US 10", 10.0, None, "us"),
        ("  10  ", 10.0, None, "us"),
        ("10 /", 10.0, None, "us"),  # a dangling separator is harmless
        ("3", 3.0, None, "us"),
        ("18", 18.0, None, "us"),
        # multi-system labels: the US part wins
        ("US 10 / UK 9.5 / EU 44", 10.0, None, "us"),
        ("UK 9.5 / US 10 / EU 44", 10.0, None, "us"),
        ("EU 44 | US 10", 10.0, None, "us"),
        # Joe's New Balance Outlet unisex labels: the M part wins
        ("M9 / W10.5", 9.0, None, "us"),
        ("M 9 / W 10.5", 9.0, None, "us"),
        ("M4 / W5.5", 4.0, None, "us"),
        ("M3 / W4.5", 3.0, None, "us"),
        ("M12.5 / W14", 12.5, None, "us"),
        ("M18 / W19.5", 18.0, None, "us"),
        # UK
        ("UK 9.5", 10.0, None, "uk"),
        ("UK9", 9.5, None, "uk"),
        ("UK 6", 6.5, None, "uk"),
        ("9 UK", 9.5, None, "uk"),
        ("UK 9.5 / EU 44", 10.0, None, "uk"),
        # EU and cm by NB's chart
        ("EU 44", 10.0, None, "eu"),
        ("EU44", 10.0, None, "eu"),
        ("44 EU", 10.0, None, "eu"),
        ("EUR 40", 7.0, None, "eu"),
        ("EU 42.5", 9.0, None, "eu"),
        ("EU 42,5", 9.0, None, "eu"),
        ("EU 42 1/2", 9.0, None, "eu"),
        ("EU 42½", 9.0, None, "eu"),
        ("42⅔", 9.0, None, "eu"),  # adidas-style third, 0.17 from the 42.5 row
        ("EU 41⅓", 8.0, None, "eu"),
        ("44 2/3", 10.5, None, "eu"),
        ("EU 36", 4.0, None, "eu"),
        ("EU 47.5", 13.0, None, "eu"),
        ("28 cm", 10.0, None, "cm"),
        ("28cm", 10.0, None, "cm"),
        ("28.0 cm", 10.0, None, "cm"),
        ("JP 28", 10.0, None, "cm"),
        ("JP27.5", 9.5, None, "cm"),
        ("cm 22", 4.0, None, "cm"),
        # women's = men's + 1.5
        ("W8", 6.5, None, "us_w"),
        ("W11.5", 10.0, None, "us_w"),
        ("Women's 8.5", 7.0, None, "us_w"),
        ("Womens 10", 8.5, None, "us_w"),
        ("WMNS 9", 7.5, None, "us_w"),
        ("US W 11.5", 10.0, None, "us_w"),
        ("US Women's 7", 5.5, None, "us_w"),
        # widths
        ("10 D", 10.0, "D", "us"),
        ("10D", 10.0, "D", "us"),
        ("10.5 2E", 10.5, "2E", "us"),
        ("10 (2E)", 10.0, "2E", "us"),
        ("10 4E", 10.0, "4E", "us"),
        ("10 EE", 10.0, "2E", "us"),
        ("9 B", 9.0, "B", "us"),
        ("10 Wide", 10.0, "2E", "us"),
        ("10 (Wide)", 10.0, "2E", "us"),
        ("10 Extra Wide", 10.0, "4E", "us"),
        ("10 X-Wide", 10.0, "4E", "us"),
        ("10 Narrow", 10.0, "B", "us"),
        ("US 10 2E", 10.0, "2E", "us"),
        ("W8 Wide", 6.5, "D", "us_w"),  # women's wide is D
        ("W8 B", 6.5, "B", "us_w"),
        ("US 10 / UK 9.5 2E", 10.0, "2E", "us"),
        # kids
        ("0C", None, None, "kids_c"),
        ("1.5C", None, None, "kids_c"),
        ("10C", None, None, "kids_c"),
        ("13.5C", None, None, "kids_c"),
        ("US 10C", None, None, "kids_c"),
        ("3.5Y", 3.5, None, "kids_y"),
        ("6Y", 6.0, None, "kids_y"),
        ("7Y", 7.0, None, "kids_y"),
        ("1Y", None, None, "kids_y"),  # little-kid Y sizes are not on the men's scale
        ("3Y", None, None, "kids_y"),
    ],
)
def test_parse_size(label: str, size_us: float | None, width: str | None, system: str) -> None:
    assert parse_size(label) == Size(label.strip(), size_us, width, system)


@pytest.mark.parametrize(
    ("label", "default_system", "size_us", "system"),
    [
        ("9", "uk", 9.5, "uk"),  # Footpatrol-style UK shop, unlabeled sizes
        ("7.5", "uk", 8.0, "uk"),
        ("3", "uk", 3.5, "uk"),
        ("44", "eu", 10.0, "eu"),
        ("42,5", "eu", 9.0, "eu"),
        ("42 2/3", "eu", 9.0, "eu"),
        ("40", "eu", 7.0, "eu"),
        ("28", "cm", 10.0, "cm"),
        ("26.5", "cm", 8.5, "cm"),
        ("8.5", "us_w", 7.0, "us_w"),
        ("10", "us", 10.0, "us"),
        ("US 10", "uk", 10.0, "us"),  # an explicit system beats the shop default
        ("EU 44", "uk", 10.0, "eu"),
        ("M9 / W10.5", "eu", 9.0, "us"),
        ("42⅔", "us", 9.0, "eu"),  # thirds exist only in EU sizing
    ],
)
def test_default_system(label: str, default_system: str, size_us: float, system: str) -> None:
    size = parse_size(label, default_system)
    assert (size.size_us, size.system) == (size_us, system)


@pytest.mark.parametrize(
    "label",
    [
        "",
        "   ",
        "One Size",
        "OS",
        "XL",
        "M",
        "abc",
        "99",
        "size 99",
        "2",
        "18.5",
        "0",
        "10.25",  # quarter sizes do not exist in US/UK
        "UK 9.25",
        "US 10⅓",
        "4E",  # a width with no size
        "EU 41",  # between chart rows 40.5 and 41.5
        "EU 43⅓",  # 0.33 from the nearest row
        "EU 30",  # off the chart
        "EU 49",
        "30.5 cm",  # US 12.5 has no sourced cm value
        "27.2 cm",
        "14C",
        "8Y",
        "0.5Y",
        "10.25C",
        "EU 10C",
        "10C Wide",
        "W4",  # men's 2.5, below the range
        "UK 18",
        "US 10 / XL",
        "US 10 UK",  # two systems in one part
        "10 W",
        " / ",
        "1/2",
        "Ten",
        "10-11",
    ],
)
def test_parse_size_rejects(label: str) -> None:
    with pytest.raises(SizeError):
        parse_size(label)


@pytest.mark.parametrize("label", ["10", "US 10", "EU 44", "M9 / W10.5", "0C", "  UK 9.5 "])
def test_label_is_kept_as_given_but_stripped(label: str) -> None:
    assert parse_size(label).label == label.strip()


@pytest.mark.parametrize("bad", ["us_m", "EU", "jp", ""])
def test_unknown_default_system(bad: str) -> None:
    with pytest.raises(SizeError):
        parse_size("10", bad)


@pytest.mark.parametrize("value", [None, 10, 10.5])
def test_non_text_label(value: Any) -> None:
    with pytest.raises(SizeError):
        parse_size(value)


def test_size_systems() -> None:
    assert SIZE_SYSTEMS == ("us", "us_w", "uk", "eu", "cm")
    assert issubclass(SizeError, ValueError)


@pytest.mark.parametrize(("size_us", "uk"), [(10.0, 9.5), (9.5, 9.0), (4.0, 3.5), (13.0, 12.5)])
def test_us_to_uk(size_us: float, uk: float) -> None:
    assert us_to_uk(size_us) == uk


@pytest.mark.parametrize(("size_us", "eu", "_cm"), CHART)
def test_us_to_eu_chart(size_us: float, eu: float, _cm: float) -> None:
    assert us_to_eu(size_us) == eu


@pytest.mark.parametrize("size_us", [3.0, 3.5, 12.5, 13.5, 14.0, 18.0, 10.25])
def test_us_to_eu_off_chart(size_us: float) -> None:
    assert us_to_eu(size_us) is None


@pytest.mark.parametrize(("size_us", "eu", "cm"), CHART)
def test_chart_rows_parse_back(size_us: float, eu: float, cm: float) -> None:
    assert parse_size(f"EU {format_size(eu)}").size_us == size_us
    assert parse_size(f"{format_size(cm)} cm").size_us == size_us


@pytest.mark.parametrize(
    ("size_us", "text"),
    [(10.0, "10"), (9.5, "9.5"), (4.0, "4"), (12.5, "12.5"), (42.5, "42.5"), (0.0, "0")],
)
def test_format_size(size_us: float, text: str) -> None:
    assert format_size(size_us) == text


def test_format_size_rejects_nan() -> None:
    with pytest.raises(SizeError):
        format_size(float("nan"))


@pytest.mark.parametrize(
    ("text", "size_us"),
    [
        ("10", 10.0),
        ("10.5", 10.5),
        ("10,5", 10.5),
        ("9½", 9.5),
        ("us10", 10.0),
        ("US 10", 10.0),
        ("m10", 10.0),
        ("uk9.5", 10.0),
        ("UK 9", 9.5),
        ("eu44", 10.0),
        ("EU 44", 10.0),
        ("eu 42.5", 9.0),
        ("w11.5", 10.0),
        ("W 8", 6.5),
        ("28cm", 10.0),
        ("6Y", 6.0),
        (" 11 ", 11.0),
    ],
)
def test_parse_user_size(text: str, size_us: float) -> None:
    assert parse_user_size(text) == size_us


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        ("", "Please send a size"),
        ("   ", "Please send a size"),
        ("abc", "couldn't read 'abc'"),
        ("99", "not a US men's size"),
        ("44", "send EU 44"),
        ("42.5", "send EU 42.5"),
        ("10.25", "couldn't read"),
        ("5C", "kids' size"),
        ("2Y", "kids' size"),
        ("EU 41", "couldn't read"),
    ],
)
def test_parse_user_size_friendly_errors(text: str, message_part: str) -> None:
    with pytest.raises(SizeError) as info:
        parse_user_size(text)
    assert message_part in str(info.value)
    assert "Traceback" not in str(info.value)


# --- properties ---------------------------------------------------------------------------

half_sizes = st.integers(min_value=6, max_value=36).map(lambda n: n / 2)  # US 3..18
chart_rows = st.sampled_from(CHART)
label_chars = st.sampled_from(list("0123456789 ./½⅓⅔,|()-USMWEKCYcmjpuskdeiwzAB'’"))


@settings(max_examples=50)
@given(st.one_of(st.text(max_size=30), st.text(alphabet=label_chars, max_size=15)))
def test_parse_size_only_raises_size_error(label: str) -> None:
    for system in SIZE_SYSTEMS:
        try:
            size = parse_size(label, system)
        except SizeError:
            continue
        assert size.system in (*SIZE_SYSTEMS, "kids_c", "kids_y")
        assert size.size_us is None or 3 <= size.size_us <= 18
        assert size.label == label.strip()


@given(st.text(max_size=30))
def test_parse_user_size_only_raises_size_error(text: str) -> None:
    try:
        size_us = parse_user_size(text)
    except SizeError as exc:
        assert str(exc)
        return
    assert 3 <= size_us <= 18


@given(half_sizes)
def test_us_round_trip(size_us: float) -> None:
    assert parse_size(format_size(size_us)).size_us == size_us
    assert parse_size(f"US {format_size(size_us)}").size_us == size_us
    assert parse_user_size(format_size(size_us)) == size_us


@given(half_sizes.filter(lambda s: s >= 3.5))
def test_uk_round_trip(size_us: float) -> None:
    uk = us_to_uk(size_us)
    assert parse_size(f"UK {format_size(uk)}").size_us == size_us
    assert parse_size(format_size(uk), "uk").size_us == size_us


@given(half_sizes.filter(lambda s: s <= 16.5))
def test_womens_round_trip(size_us: float) -> None:
    assert parse_size(f"W{format_size(size_us + 1.5)}").size_us == size_us
    unisex = f"M{format_size(size_us)} / W{format_size(size_us + 1.5)}"
    assert parse_size(unisex).size_us == size_us


@given(chart_rows)
def test_eu_round_trip(row: tuple[float, float, float]) -> None:
    size_us, _eu, _cm = row
    eu = us_to_eu(size_us)
    assert eu is not None
    assert parse_size(format_size(eu), "eu").size_us == size_us
    assert parse_user_size(f"EU {format_size(eu)}") == size_us


@pytest.mark.parametrize(
    ("label", "size_us", "width", "system"),
    [
        ("Tamanho: 44 - Em Stock", 10.0, None, "eu"),  # a Portuguese option text
        ("Größe 42 – nicht verfügbar", 8.5, None, "eu"),
        ("Taille 42,5", 9.0, None, "eu"),
        ("Talla 42 - Agotado", 8.5, None, "eu"),
        ("EU 44 - Sold out", 10.0, None, "eu"),
        ("US 10 (sold out)", 10.0, None, "us"),
        ("Size 9 | Notify me", 9.0, None, "us"),
        ("サイズ 28", 10.0, None, "cm"),
        ("尺码 42", 8.5, None, "eu"),
        ("D宽 42", 8.5, "D", "eu"),  # width D, EU 42, as Asian marketplaces write it
        ("2E宽 44", 10.0, "2E", "eu"),
        ("10 - Wide", 10.0, "2E", "us"),
        ("44 (EU)", 10.0, None, "eu"),
        ("Mondo 280", 10.0, None, "cm"),
        ("44", 10.0, None, "eu"),  # no US size is 44: a bare 44 on a shop is EU
        ("27.5", 9.5, None, "cm"),  # ... and a bare 27.5 is cm (Japan, Korea)
        ("2E 10", 10.0, "2E", "us"),  # a width code before the size
        ("4E US 11", 11.0, "4E", "us"),
        ("D 42", 8.5, "D", "eu"),
        ("US 10 - 2E", 10.0, "2E", "us"),
        ("Size: US 9 - Only 2 left", 9.0, None, "us"),  # stock counts after the size
        ("42 (3 left)", 8.5, None, "eu"),
        ("43 – Nur noch 1 verfügbar", 9.5, None, "eu"),
        ("44 - Últimas 2 unidades", 10.0, None, "eu"),
        ("Taille 42 - Plus que 2 disponibles", 8.5, None, "eu"),
        ("W 11.5", 10.0, None, "us_w"),  # W before a number is women's sizing, not a width
    ],
)
def test_sizes_with_words_around_them(
    label: str, size_us: float, width: str | None, system: str
) -> None:
    size = parse_size(label)
    assert (size.size_us, size.width, size.system) == (size_us, width, system)


CHART_ROWS = list(sizes._CHART)
WORDS_BEFORE = ["", "Size ", "Size: ", "Tamanho: ", "Größe ", "Taille ", "Talla ", "サイズ "]
WORDS_AFTER = [
    "",
    " - Em Stock",
    " – nicht verfügbar",
    " (sold out)",
    " | Notify me",
    " - Only 2 left",
    " (1 left)",
]


@given(
    row=st.sampled_from(CHART_ROWS),
    form=st.sampled_from(["US {us:g}", "EU {eu:g}", "{eu:g}", "{cm:g} cm", "UK {uk:g}"]),
    before=st.sampled_from(WORDS_BEFORE),
    after=st.sampled_from(WORDS_AFTER),
)
def test_every_chart_size_in_every_form_reads_back(
    row: tuple[float, float, float], form: str, before: str, after: str
) -> None:
    us, eu, cm = row
    label = before + form.format(us=us, eu=eu, cm=cm, uk=us - 0.5) + after
    assert parse_size(label).size_us == us, label


def test_new_balances_own_outlet_size_labels_read_as_us_mens() -> None:
    """Every size label of a real capture of Joe's New Balance Outlet (SFCC): men's "9.5" and
    unisex "M4 / W5.5" pairs, whose women's half is always 1.5 above (NB's own chart)."""
    realdata = Path(__file__).parent.parent / "fixtures" / "realdata"
    [path] = realdata.glob("derived-jsonl-joesnewbalanceoutlet-sfcc-sizes-trimmed-*.jsonl")
    labels = [json.loads(line)["size"] for line in path.read_text().splitlines()]
    assert len(labels) == 48
    for label in labels:
        size = parse_size(label)
        mens = label.split("/")[0].strip().removeprefix("M")
        assert size.size_us == float(mens), label
        if "/" in label:
            womens = float(label.split("/")[1].strip().removeprefix("W"))
            assert womens - 1.5 == size.size_us, label
