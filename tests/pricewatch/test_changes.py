"""diff(before, after) -> events: every rule on its own, no database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricewatch.changes import EventKind, VariantView, diff
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


def test_missing_variant_is_quiet_until_missing_after_then_sold_out_once() -> None:
    before = [view("a", product="p1"), view("b", product="p1", size=11.0)]
    results = []
    for misses in (1, 2, 3, 4):
        after = [view("a", product="p1"), view("b", product="p1", size=11.0, misses=misses)]
        results.append(kinds(before, after))
    assert results == [[], [], ["sold_out"], []]


def test_whole_product_missing_is_delisted() -> None:
    before = [view("a", product="p1"), view("x", product="p2", code="M2002RXU")]
    after = [view("a", product="p1", misses=3), view("x", product="p2", code="M2002RXU")]
    events = diff({v.key: v for v in before}, {v.key: v for v in after}, missing_after=3)
    assert [(e.kind, e.key) for e in events] == [(EventKind.DELISTED, "a")]
    assert events[0].new is not None and events[0].new.stock == OUT


def test_missing_variant_that_was_sold_out_says_nothing() -> None:
    before = [view("a", state(stock=OUT)), view("b", size=11.0)]
    after = [view("a", state(stock=OUT), misses=3), view("b", size=11.0)]
    assert kinds(before, after) == []


def test_event_carries_before_and_after() -> None:
    [event] = diff({"v": view("v", state("150.00"))}, {"v": view("v", state("139.99"))})
    assert (event.old.price, event.new.price) == (Decimal("150.00"), Decimal("139.99"))
    assert (event.style_code, event.size_us) == ("M2002RDA", 10.0)
