"""The alert-truth fault matrix, measured from outside: false alerts and missed changes.

Each scenario is a fresh database, a replica Shopify shop on 127.0.0.1 (two 2002R colorways),
two subscribers (chat 1: the default kinds; chat 2: every kind), a baseline crawl, then a few
crawls while the shop's data misbehaves or really changes. Every crawl is the real thing
(`pricewatch.crawl.run_crawl`: a Scrapy child process, the pipeline, SQLite, the outbox).

Counted per scenario, from the `events` and `outbox` tables:
- false alerts: events that are not a true change of the shop (a glitch seen as news), and
  alerts queued for chat 1 that nobody can act on (a price change of a sold-out size);
- missed changes: true changes with no event, and restocks not queued for chat 1.

It only uses what every version of pricewatch has (the replica, run_crawl, the tables), so the
same script measures an older checkout: ``PYTHONPATH=<old checkout> python
bench/fault_matrix.py`` (run from that checkout's root, so its ``tests.support`` is used).

Run from the repository root: ``python bench/fault_matrix.py`` (about 3 minutes).
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))  # the checkout being measured (its tests.support)

from pricewatch.crawl import run_crawl
from pricewatch.replica import ReplicaShop, make_product
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from tests.support import make_config

SIZES = ("9", "10", "10.5", "11")
RDA, RHO = "M2002RDA", "M2002RHO"
DEFAULT_CHAT, EVERY_KIND_CHAT = 1, 2
Step = Callable[[ReplicaShop], None]


def catalog() -> list[dict[str, Any]]:
    return [
        make_product(RDA, "New Balance 2002R Protection Pack Rain Cloud", "149.99", SIZES),
        make_product(RHO, "New Balance 2002R Sea Salt", "139.99", SIZES),
    ]


# -- what a shop does to its feed (the replica's own methods where they exist; raw edits of its
# catalog, under its lock, for what a well-behaved catalog refuses: garbage, duplicates) -------


def raw_edit(shop: ReplicaShop, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    with shop._lock:  # the replica's catalog, as a broken shop would serve it
        edit(shop._products)


def variant_of(products: list[dict[str, Any]], code: str, size: str) -> dict[str, Any]:
    product = next(p for p in products if p.get("_style_code") == code)
    return next(v for v in product["variants"] if v.get("option1") == size)


def set_raw_price(code: str, size: str, price: Any) -> Step:
    return lambda shop: raw_edit(shop, lambda ps: variant_of(ps, code, size).update(price=price))


def set_price(code: str, price: str, size: str | None = None, compare: str | None = None) -> Step:
    def step(shop: ReplicaShop) -> None:
        if compare is None:
            shop.set_price(code, price, size)
        else:
            shop.set_price(code, price, size, compare_at=compare)

    return step


def set_available(code: str, available: bool, size: str | None = None) -> Step:
    return lambda shop: shop.set_available(code, available, size)


def hide_size(code: str, size: str) -> Step:
    """The size leaves the feed, its variant kept aside to come back with the same id."""

    def edit(products: list[dict[str, Any]]) -> None:
        product = next(p for p in products if p.get("_style_code") == code)
        hidden = product.setdefault("_hidden", [])
        hidden.extend(v for v in product["variants"] if v.get("option1") == size)
        product["variants"] = [v for v in product["variants"] if v.get("option1") != size]

    return lambda shop: raw_edit(shop, edit)


def unhide(code: str) -> Step:
    def edit(products: list[dict[str, Any]]) -> None:
        product = next(p for p in products if p.get("_style_code") == code)
        product["variants"].extend(product.pop("_hidden", []))
        product["variants"].sort(key=lambda v: v["id"])

    return lambda shop: raw_edit(shop, edit)


def stale_copy_first(code: str) -> Step:
    """The product listed twice, a stale copy with every size sold out first."""

    def edit(products: list[dict[str, Any]]) -> None:
        product = next(p for p in products if p.get("_style_code") == code)
        stale = copy.deepcopy(product)
        stale["_stale"] = True
        for variant in stale["variants"]:
            variant["available"] = False
        products.insert(0, stale)

    return lambda shop: raw_edit(shop, edit)


def drop_stale(shop: ReplicaShop) -> None:
    raw_edit(shop, lambda ps: ps.__setitem__(slice(None), [p for p in ps if not p.get("_stale")]))


def malformed(code: str, broken: bool = True) -> Step:
    def edit(products: list[dict[str, Any]]) -> None:
        product = next(p for p in products if p.get("_style_code") == code)
        if broken:
            product["_body_html"] = product.get("body_html")
            product["body_html"] = 5  # a wrongly typed field
        else:
            product["body_html"] = product.pop("_body_html", None)

    return lambda shop: raw_edit(shop, edit)


def misbehave(mode: str | None) -> Step:
    return lambda shop: shop.misbehave(mode, times=None if mode is None else 1)


def together(*steps: Step) -> Step:
    def step(shop: ReplicaShop) -> None:
        for each in steps:
            each(shop)

    return step


def nothing(shop: ReplicaShop) -> None:
    pass


@dataclass
class Scenario:
    name: str
    crawls: list[Step]  # one step before each crawl after the baseline
    true_events: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, code, size)
    restocks_for_chat_1: int = 0
    opt_in: set[str] = field(default_factory=set)  # kinds that are true but opt-in


SCENARIOS = [
    Scenario(
        "price 0.00 for 4 crawls",
        [set_raw_price(RDA, "10.5", "0.00")]
        + [nothing] * 3
        + [set_raw_price(RDA, "10.5", "149.99")],
    ),
    Scenario(
        "unreadable price for 4 crawls",
        [set_raw_price(RDA, "10.5", "N/A")]
        + [nothing] * 3
        + [set_raw_price(RDA, "10.5", "149.99")],
    ),
    Scenario(
        "absurd price for 4 crawls",
        [set_raw_price(RDA, "10.5", "99999.00")]
        + [nothing] * 3
        + [set_raw_price(RDA, "10.5", "149.99")],
    ),
    Scenario(
        "10x price for one crawl", [set_price(RDA, "1499.90", "10"), set_price(RDA, "149.99", "10")]
    ),
    Scenario(
        "stale sold-out duplicate for 3 crawls",
        [stale_copy_first(RDA), nothing, nothing, drop_stale],
    ),
    Scenario(
        "size missing for 3 crawls",
        [hide_size(RDA, "11"), nothing, nothing, unhide(RDA)],
        true_events={("delisted", RDA, "11")},
        opt_in={"delisted"},
    ),
    Scenario(
        "malformed product while another drops its price",
        [together(malformed(RHO), set_price(RDA, "129.99")), nothing],
        true_events={("price_drop", RDA, s) for s in SIZES},
    ),
    Scenario("500 once", [misbehave("500"), nothing]),
    Scenario("challenge page once", [misbehave("block-cloudflare"), nothing]),
    Scenario("truncated JSON once", [misbehave("truncated"), nothing]),
    Scenario(
        "sold out, back 1 crawl later (a cart release)",
        [set_available(RDA, False, "10"), set_available(RDA, True, "10")],
        true_events={("sold_out", RDA, "10"), ("restock", RDA, "10")},
        restocks_for_chat_1=1,
    ),
    Scenario(
        "price drop of a sold-out size",
        [set_available(RDA, False, "10"), set_price(RDA, "99.99", "10")],
        true_events={("sold_out", RDA, "10"), ("price_drop", RDA, "10")},
    ),
    Scenario(
        "real price drop", [set_price(RDA, "129.99", "10")], true_events={("price_drop", RDA, "10")}
    ),
    Scenario(
        "real restock after 2 crawls",
        [set_available(RDA, False, "9"), nothing, set_available(RDA, True, "9")],
        true_events={("sold_out", RDA, "9"), ("restock", RDA, "9")},
        restocks_for_chat_1=1,
    ),
    Scenario(
        "75% sale the shop marks",
        [set_price(RDA, "37.49", "10", compare="149.99")],
        true_events={("price_drop", RDA, "10")},
    ),
    Scenario(
        "real 4x drop, unmarked, 2 crawls",
        [set_price(RDA, "37.49", "10"), nothing],
        true_events={("price_drop", RDA, "10")},
    ),
]


@dataclass
class Result:
    name: str
    false_alerts: int
    missed: int
    notes: list[str]


def run(scenario: Scenario, folder: Path) -> Result:
    db = folder / f"{abs(hash(scenario.name))}.db"
    with ReplicaShop(catalog()) as shop:
        config = make_config(db, {"Replica": shop})
        with Store(db) as store:
            for chat in (DEFAULT_CHAT, EVERY_KIND_CHAT):
                upsert_chat(store, chat)
            add_subscription(store, DEFAULT_CHAT, style_code=None)
            add_subscription(store, EVERY_KIND_CHAT, style_code=None, kinds=_every_kind())
        run_crawl(config, config.shops)
        for step in scenario.crawls:
            step(shop)
            run_crawl(config, config.shops)
    with Store(db) as store:
        events = store.db.execute(
            "SELECT e.kind, e.style_code, e.size_label, e.new_stock FROM events e ORDER BY e.id"
        ).fetchall()
        chat_1 = store.db.execute(
            "SELECT e.kind, e.new_stock, o.status FROM outbox o JOIN events e ON e.id = o.event_id "
            "WHERE o.chat_id = ?",
            [DEFAULT_CHAT],
        ).fetchall()
    notes: list[str] = []
    seen = {(kind, code, size) for kind, code, size, _ in events}
    false_events = [e for e in events if (e[0], e[1], e[2]) not in scenario.true_events]
    notes += [f"false {kind} {code} {size}" for kind, code, size, _ in false_events]
    noise = [
        row
        for row in chat_1
        if row[0] in ("price_drop", "price_rise")
        and row[1] != "in_stock"
        and row[2] in ("pending", "sent")
    ]
    notes += [f"chat 1 told a {kind} of a sold-out size" for kind, _, _ in noise]
    missed = sorted(scenario.true_events - seen)
    notes += [f"missed {kind} {code} {size}" for kind, code, size in missed]
    told = sum(
        1 for kind, _, status in chat_1 if kind == "restock" and status in ("pending", "sent")
    )
    unsent = max(0, scenario.restocks_for_chat_1 - told)
    notes += ["restock not told to chat 1"] * unsent
    return Result(scenario.name, len(false_events) + len(noise), len(missed) + unsent, notes)


def _every_kind() -> list[Any]:
    from pricewatch.changes import EventKind

    return list(EventKind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if not args.only or args.only in s.name]
    start = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for scenario in chosen:
            result = run(scenario, Path(folder))
            results.append(result)
            print(
                f"{result.name:<52} false {result.false_alerts:>2}  missed {result.missed:>2}"
                f"  {'; '.join(result.notes)}",
                flush=True,
            )
    bad = [r for r in results if r.false_alerts or r.missed]
    print(
        f"\n{len(results)} scenarios, {sum(r.false_alerts for r in results)} false alerts, "
        f"{sum(r.missed for r in results)} missed changes, {len(bad)} scenarios wrong "
        f"({time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
