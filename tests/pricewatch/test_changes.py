"""diff(before, after) -> events: every rule on its own, no database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricewatch.changes import EventKind, VariantView, diff, is_outlier
from pricewatch.models import Stock, VariantState

IN, OUT = Stock.IN_STOCK, Stock.SOLD_OUT


def state(price: str = "150.00", stock: Stock = IN, currency: str = "USD") -> VariantState:
    return VariantState(Decimal(price), None, currency, stock)


def view(
    key: str = "v10",
    st: VariantState | None = None,
    *,
    misses: int = 0,
    code: str = "M2002RDA",
    product: str = "p1",
    size: float = 10.0,
) -> VariantView:
    return VariantView(key, product, code, size, str(size), st or state(), misses)


def kinds(before: list[VariantView], after: list[VariantView], missing_after: int = 3) -> list[str]:
    events = diff(
        {v.key: v for v in before}, {v.key: v for v in after}, missing_after=missing_after
    )
    return [e.kind.value for e in events]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (state(), state(), []),
        (state(stock=OUT), state(stock=IN), ["restock"]),
        # never seen sold out: coming into stock is no restock
        (state(stock=Stock.UNKNOWN), state(stock=IN), []),
        (state(stock=IN), state(stock=Stock.UNKNOWN), []),
        (state(stock=IN), state(stock=OUT), ["sold_out"]),
        (state("150.00"), state("139.99"), ["price_drop"]),
        (state("139.99"), state("150.00"), ["price_rise"]),
        (state("150.00", OUT), state("139.99", IN), ["restock", "price_drop"]),
        (state("150.00"), state("150.001"), []),  # below one cent is not a change of price
        (state("150.00", currency="USD"), state("140.00", currency="EUR"), []),  # currency
    ],
)
def test_state_changes(old: VariantState, new: VariantState, expected: list[str]) -> None:
    assert kinds([view(st=old)], [view(st=new)]) == expected


def test_first_crawl_of_a_shop_is_a_baseline() -> None:
    assert kinds([], [view("a"), view("b")]) == []


def test_new_size_and_new_colorway() -> None:
    before = [view("a", code="M2002RDA")]
    after = [view("a"), view("b", code="M2002RDA", size=11.0), view("c", code="M2002RXU")]
    assert kinds(before, after) == ["new_size", "new_colorway"]


def test_absence_is_never_a_sell_out_only_delisted_once_after_missing_after() -> None:
    before = [view("a", product="p1"), view("b", product="p1", size=11.0)]
    results = []
    for misses in (1, 2, 3, 4):
        after = [view("a", product="p1"), view("b", product="p1", size=11.0, misses=misses)]
        results.append(kinds(before, after))
    assert results == [[], [], ["delisted"], []]


def test_delisted_keeps_the_last_state_and_says_its_stock_is_unknown() -> None:
    before = [view("a", product="p1"), view("x", product="p2", code="M2002RXU")]
    after = [view("a", product="p1", misses=3), view("x", product="p2", code="M2002RXU")]
    events = diff({v.key: v for v in before}, {v.key: v for v in after}, missing_after=3)
    assert [(e.kind, e.key) for e in events] == [(EventKind.DELISTED, "a")]
    assert events[0].old == state()
    assert events[0].new is not None and events[0].new.stock == Stock.UNKNOWN


def test_a_sold_out_variant_that_goes_missing_is_delisted_too() -> None:
    before = [view("a", state(stock=OUT)), view("b", size=11.0)]
    after = [view("a", state(stock=OUT), misses=3), view("b", size=11.0)]
    assert kinds(before, after) == ["delisted"]


@pytest.mark.parametrize(
    ("old", "new", "compare", "factor", "outlier"),
    [
        (14999, 149990, None, 3.0, True),  # a 10x price for one crawl
        (149990, 14999, None, 3.0, True),  # ... and its repair
        (15000, 45000, None, 3.0, True),  # exactly 3x
        (15000, 44999, None, 3.0, False),
        (15000, 5000, None, 3.0, True),  # exactly a third
        (15000, 5001, None, 3.0, False),
        (15000, 4000, 15000, 3.0, False),  # a sale the shop marks: compare-at = old price
        (15000, 4000, 16000, 3.0, True),  # ... another compare-at is no proof
        (15000, 150000, 15000, 3.0, True),  # a compare-at never excuses a rise
        (15000, 150000, None, 0.0, False),  # factor 0 turns the rule off
        (15000, 150000, None, 1.0, False),
    ],
)
def test_is_outlier(old: int, new: int, compare: int | None, factor: float, outlier: bool) -> None:
    assert is_outlier(old, new, compare, factor) is outlier


def test_event_carries_before_and_after() -> None:
    [event] = diff({"v": view("v", state("150.00"))}, {"v": view("v", state("139.99"))})
    assert (event.old.price, event.new.price) == (Decimal("150.00"), Decimal("139.99"))
    assert (event.style_code, event.size_us) == ("M2002RDA", 10.0)


def test_leaving_out_unchanged_variants_gives_the_same_events() -> None:
    before = [
        view("a9", size=9.0),  # listed as before
        view("a10", state("150.00")),  # drops
        view("a11", misses=2),  # its third miss: delisted, never sold out
        view("b10", code="M2002RHO", product="p2", misses=2),  # its product is gone: delisted
    ]
    after = [
        view("a9", size=9.0),
        view("a10", state("139.99")),
        view("a11", misses=3),
        view("b10", code="M2002RHO", product="p2", misses=3),
        view("a12", size=12.0),  # a new size of a style sold before
        view("c10", code="ML2002RA", product="p3"),  # a new colorway
    ]
    full = diff({v.key: v for v in before}, {v.key: v for v in after})
    changed = [v for v in after if v.key != "a9"]
    partial = diff(
        {v.key: v for v in before if v.key != "a9"},
        {v.key: v for v in changed},
        styles_before={v.style_code for v in before},
    )
    assert partial == full
    assert sorted(e.kind.value for e in full) == [
        "delisted",
        "delisted",
        "new_colorway",
        "new_size",
        "price_drop",
    ]


def test_a_known_shop_with_only_new_variants_in_the_maps_is_not_a_baseline() -> None:
    events = diff({}, {"a12": view("a12", size=12.0)}, styles_before={"M2002RDA"})
    assert [e.kind.value for e in events] == ["new_size"]
