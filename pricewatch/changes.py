"""Change detection: what a successful crawl changed, as events. Pure: no I/O.

`diff(before, after)` compares one shop's variants as they were known before a crawl with what
the crawl saw. Rules, each tested in tests/pricewatch/test_changes.py and, together with the
store's, proven by the stateful test in tests/pricewatch/test_alert_truth.py:
- stock: in stock -> sold out is `sold_out`; an *observed* sold out -> in stock is `restock`
  (a state never seen sold out cannot restock);
- price: a change of at least one cent in the same currency is `price_drop` or `price_rise`;
  a currency change is never a drop or a rise;
- a variant seen for the first time is `new_colorway` if its style code was not sold at this
  shop before, else `new_size`; a shop's very first crawl is a baseline and says nothing;
- absence is never a sell-out: a variant missing from the feed is unknown, and only when it has
  been missing from ``missing_after`` successful crawls in a row is it `delisted`, once. Its last
  observed state stays what is known of it.
Only `ok` crawls reach this function (see `pricewatch.recording`), so a failed, partial or
blocked crawl can never produce an event; listings the crawl could not trust (dropped, held
outlier prices, conflicting duplicates, products that did not parse) never reach it either.

`is_outlier` is the rule that holds a price for a second look before it may become an event.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from pricewatch.models import Stock, VariantState

ONE_CENT = Decimal("0.01")


class EventKind(StrEnum):
    RESTOCK = "restock"
    SOLD_OUT = "sold_out"
    PRICE_DROP = "price_drop"
    PRICE_RISE = "price_rise"
    NEW_COLORWAY = "new_colorway"
    NEW_SIZE = "new_size"
    DELISTED = "delisted"


# What a subscription gets when it names no kinds: the news people wait for.
DEFAULT_KINDS: tuple[EventKind, ...] = (
    EventKind.RESTOCK,
    EventKind.PRICE_DROP,
    EventKind.NEW_COLORWAY,
    EventKind.NEW_SIZE,
)


# NamedTuples: immutable like frozen dataclasses, and a crawl builds one view per variant.
class VariantView(NamedTuple):
    """What detection needs to know about one variant of one shop."""

    key: str  # the shop's variant id
    product_key: Hashable  # whatever identifies the product at the shop: groups its sizes
    style_code: str
    size_us: float | None
    size_label: str
    state: VariantState | None  # None: never seen with a valid state
    misses: int = 0  # successful crawls in a row that did not list it


class Event(NamedTuple):
    kind: EventKind
    key: str
    style_code: str
    size_us: float | None
    size_label: str
    old: VariantState | None
    new: VariantState | None
    since: str | None = None  # when the old state was first seen (the recorder fills it in)


def diff(
    before: Mapping[str, VariantView],
    after: Mapping[str, VariantView],
    *,
    missing_after: int = 3,
    styles_before: Collection[str] | None = None,
) -> list[Event]:
    """Events between two views of one shop, keyed by the shop's variant id.

    A variant listed exactly as before cannot cause an event, so a caller may leave such
    variants out of both maps (the store does: they are most of a crawl). It then passes what
    would otherwise be read off the maps: ``styles_before``, every style code the shop listed
    before this crawl.
    """
    if not before and not styles_before:
        return []  # first crawl of a shop: a baseline, not news
    events: list[Event] = []
    for key, now in after.items():
        was = before.get(key)
        if now == was and not now.misses:
            continue  # listed as before (the common case): no event possible
        if was is None or was.state is None:
            if now.state is not None and now.misses == 0:
                if styles_before is None:  # built when needed: most crawls list nothing new
                    styles_before = {view.style_code for view in before.values()}
                kind = (
                    EventKind.NEW_SIZE
                    if now.style_code in styles_before
                    else EventKind.NEW_COLORWAY
                )
                events.append(_event(kind, now, None, now.state))
            continue
        if now.misses:
            if now.misses == missing_after:
                gone = was.state._replace(stock=Stock.UNKNOWN)
                events.append(_event(EventKind.DELISTED, now, was.state, gone))
            continue
        if now.state is None:
            continue
        events.extend(_state_events(now, was.state, now.state))
    return events


def _state_events(view: VariantView, old: VariantState, new: VariantState) -> list[Event]:
    events = []
    if old.stock == Stock.SOLD_OUT and new.stock == Stock.IN_STOCK:
        events.append(_event(EventKind.RESTOCK, view, old, new))
    elif old.stock == Stock.IN_STOCK and new.stock == Stock.SOLD_OUT:
        events.append(_event(EventKind.SOLD_OUT, view, old, new))
    if old.currency == new.currency and abs(new.price - old.price) >= ONE_CENT:
        kind = EventKind.PRICE_DROP if new.price < old.price else EventKind.PRICE_RISE
        events.append(_event(kind, view, old, new))
    return events


def _event(
    kind: EventKind, view: VariantView, old: VariantState | None, new: VariantState | None
) -> Event:
    return Event(kind, view.key, view.style_code, view.size_us, view.size_label, old, new)


def is_outlier(old_minor: int, new_minor: int, compare_minor: int | None, factor: float) -> bool:
    """Whether a new price (minor units, same currency) is too far from the last confirmed one
    to believe at once: at least ``factor`` times above or below it. A drop the shop itself
    marks as a sale (its compare-at price is the old price) is believed. ``factor`` <= 1 turns
    the rule off. Pure."""
    if factor <= 1 or old_minor <= 0 or new_minor <= 0:
        return False
    if new_minor < old_minor and compare_minor == old_minor:
        return False
    return new_minor >= old_minor * factor or new_minor * factor <= old_minor
