"""Ingest and growth figures, measured side by side in one run (machines here are noisy).

    python bench/ingest_bench.py [--variants 10000] [--crawls 100] [--growth-variants 1000]

Prints:
1. variants stored per second through the real path (validation -> record_listings with
   change detection, history and events), next to a bare sqlite-utils bulk insert of the same
   rows in one transaction, as a ratio;
2. one commit per row vs one transaction, for the same rows (why writes are batched);
3. database size after N unchanged crawls of M variants, then after crawls with 1% changes
   (bytes per crawl and per change: growth follows changes, not crawls);
4. a real crawl of a replica shop through Scrapy (child process): variants per second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pricewatch.config import Config, CrawlConfig, ShopConfig
from pricewatch.crawl import run_crawl
from pricewatch.items import ListingItem
from pricewatch.models import Listing
from pricewatch.recording import record_listings
from pricewatch.replica import ReplicaShop, make_product
from pricewatch.store import Store
from pricewatch.validation import validate

SIZES = ["7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12"]


def items(n: int, price_bump: Callable[[int], int] = lambda i: 0) -> list[ListingItem]:
    out = []
    for i in range(n):
        product = i // len(SIZES)
        size = SIZES[i % len(SIZES)]
        out.append(
            ListingItem(
                shop="Bench",
                product_id=str(product),
                variant_id=str(i),
                title=f"New Balance 2002R colorway {product}",
                url=f"https://bench.example/products/p{product}?variant={i}",
                size_label=size,
                price=Decimal(14499 + price_bump(i)) / 100,
                currency="USD",
                available=i % 3 != 0,
                style_code=f"M2002R{product:04d}"[:11],
                family="2002R",
            )
        )
    return out


def crawl(store: Store, listing_items: list[ListingItem]) -> float:
    start = time.perf_counter()
    listings: list[Listing] = [validate(item) for item in listing_items]
    crawl_id = store.start_crawl("Bench", "shopify", "https://bench.example", "USD")
    record_listings(store, crawl_id, listings)
    return time.perf_counter() - start


def bare_insert(path: Path, listing_items: list[ListingItem], per_row_commit: bool) -> float:
    db = sqlite_utils.Database(path)
    db.enable_wal()
    rows = [
        {
            "shop": it.shop,
            "variant_id": it.variant_id,
            "style_code": it.style_code,
            "size_label": it.size_label,
            "price_minor": int((it.price or 0) * 100),
            "stock": "in_stock" if it.available else "sold_out",
            "url": it.url,
        }
        for it in listing_items
    ]
    table = db.table("bare")
    # the table exists before the clock starts, as the store's tables do (a yardstick that
    # also paid for creating its table and WAL would flatter the pipeline)
    table.create({key: type(value) for key, value in rows[0].items()})
    start = time.perf_counter()
    if per_row_commit:
        for row in rows:
            table.insert(row)  # sqlite-utils commits each insert on its own
    else:
        table.insert_all(rows, batch_size=1000)
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def size_of(path: Path) -> int:
    with sqlite_utils.Database(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--growth-variants", type=int, default=1_000)
    parser.add_argument("--crawls", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pricewatch-bench-"))
    n = args.variants

    print(f"1. ingest of {n:,} variants ({args.repeat} runs; medians)")
    # Each run brackets its pipeline crawls between two bare inserts and divides by their
    # mean, so a burst of load on this shared machine hits both sides of a ratio alike.
    kinds = ("first crawl (all new)", "unchanged crawl", "1% changed crawl")
    seconds: dict[str, list[float]] = {kind: [] for kind in kinds}
    ratios: dict[str, list[float]] = {kind: [] for kind in kinds}
    bare: list[float] = []
    # warm-up: one run of each side, not counted (first-use costs: imports, caches, the disk)
    bare_insert(tmp / "warm-bare.db", items(n), per_row_commit=False)
    with Store(tmp / "warm.db") as store:
        crawl(store, items(n))
        crawl(store, items(n))
    for run in range(args.repeat):
        baseline = bare_insert(tmp / f"bare-{run}-a.db", items(n), per_row_commit=False)
        with Store(tmp / f"ingest-{run}.db") as store:
            timings = (
                crawl(store, items(n)),
                crawl(store, items(n)),
                crawl(store, items(n, lambda i: -500 if i % 100 == 0 else 0)),
            )
        baseline = (
            baseline + bare_insert(tmp / f"bare-{run}-b.db", items(n), per_row_commit=False)
        ) / 2
        bare.append(baseline)
        for kind, elapsed in zip(kinds, timings, strict=True):
            seconds[kind].append(elapsed)
            ratios[kind].append(elapsed / baseline)
    median = statistics.median(bare)
    spread = (max(bare) - min(bare)) / median
    print(
        f"   {'bare sqlite-utils insert_all, one transaction':44s} "
        f"{n / median:>8,.0f} variants/s ({median * 1000:6.1f} ms; "
        f"runs {min(bare) * 1000:.0f}-{max(bare) * 1000:.0f} ms, spread {spread:.0%})"
    )
    for kind in kinds:
        median = statistics.median(seconds[kind])
        runs = ratios[kind]
        print(
            f"   {'pipeline, ' + kind:44s} {n / median:>8,.0f} variants/s ({median * 1000:6.1f} ms)"
            f" = {statistics.median(runs):.2f}x the bare insert "
            f"(runs: {min(runs):.2f}-{max(runs):.2f}x)"
        )
    worst = max(statistics.median(ratios[kind]) for kind in kinds)
    verdict = "met" if worst <= 2 else "NOT met"
    print(f"   goal (issue 8), every crawl at most 2x the bare insert: {verdict} ({worst:.2f}x)")

    few = min(n, 1000)
    per_row = bare_insert(tmp / "per-row.db", items(few), per_row_commit=True)
    batched = bare_insert(tmp / "batched.db", items(few), per_row_commit=False)
    print(
        f"\n2. {few:,} rows: one commit per row {per_row * 1000:.0f} ms, one transaction "
        f"{batched * 1000:.1f} ms: {per_row / batched:.0f}x slower per row"
    )

    m, crawls = args.growth_variants, args.crawls
    print(f"\n3. growth: {crawls} crawls of {m:,} variants")
    path = tmp / "growth.db"
    with Store(path) as store:
        crawl(store, items(m))
    after_first = size_of(path)
    with Store(path) as store:
        for _ in range(crawls - 1):
            crawl(store, items(m))
    after_unchanged = size_of(path)
    with Store(path) as store:
        history_before = store.db.execute("SELECT count(*) FROM history").fetchone()[0]
        for k in range(crawls):
            bump = k + 1
            crawl(store, items(m, lambda i, b=bump: -b if i % 100 == 0 else 0))
        history_after = store.db.execute("SELECT count(*) FROM history").fetchone()[0]
    after_changes = size_of(path)
    changes = history_after - history_before
    print(f"   after the first crawl:              {after_first:>12,} bytes")
    print(
        f"   after {crawls} unchanged crawls:         {after_unchanged:>12,} bytes "
        f"({(after_unchanged - after_first) / max(crawls - 1, 1):,.0f} bytes per crawl)"
    )
    print(
        f"   after {crawls} more crawls, 1% changed: {after_changes:>12,} bytes "
        f"({changes:,} history rows, {(after_changes - after_unchanged) / max(changes, 1):,.0f}"
        " bytes per change incl. events)"
    )

    print("\n4. a real crawl of a replica shop (Scrapy in a child process, politeness off)")
    products = [
        make_product(
            f"M2002R{chr(65 + i // 26)}{chr(65 + i % 26)}",
            f"New Balance 2002R {i}",
            "144.99",
            SIZES,
        )
        for i in range(100)
    ]
    with ReplicaShop(products) as shop:
        config = Config(
            shops=(ShopConfig("Replica", "shopify", shop.url, "USD"),),
            db_path=tmp / "crawl.db",
            crawl=CrawlConfig(download_delay=0, autothrottle=False, retries=0, timeout=10),
        )
        start = time.perf_counter()
        [report] = run_crawl(config, config.shops)
        elapsed = time.perf_counter() - start
    print(
        f"   {report.variants:,} variants in {elapsed:.2f} s wall (incl. ~1 s process start): "
        f"{report.variants / elapsed:,.0f} variants/s, status {report.status}"
    )
    print(f"\n(temporary files in {tmp})")


if __name__ == "__main__":
    main()
