"""History and cheapest-now queries on a long history, next to a full scan of the same table.

    python bench/history_bench.py [--rows 10000000] [--variants 20000] [--runs 50] [--keep DIR]
    python bench/history_bench.py --keep DIR --reuse   # again on that database, after an upgrade

Builds a database with the store's own schema (`pricewatch.store.Store`): 8 shops (USD, EUR,
GBP), --variants variants (colorways x 16 sizes x shops) and --rows history rows, written in
time order (one change per variant per round, 24 half-hourly crawls a round, some failed), as a
year of crawls would leave them. Then times, over --runs runs each on a random colorway and size:

- history: `price_history()` of one colorway in one size (all shops), the `pricewatch history`
  path, and its SQL alone; and the summary under it, `history_summary()`;
- cheapest now: `current_offers()` of one colorway in one size, the bot's /price path; and the
  web's cheapest_now canned query over every colorway and size;

and prints median and p95 of each next to a full scan of the history table
(SELECT count(*), sum(price_minor) FROM history) as a ratio. The database lives in a temporary
directory and is deleted afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pricewatch.history import (
    _variant_history_queries,
    current_offers,
    history_summary,
    price_history,
)
from pricewatch.store import Store
from pricewatch.web.queries import CHEAPEST_NOW

SHOPS = [
    ("Kith", "USD"),
    ("Concepts", "USD"),
    ("Bodega", "USD"),
    ("Extra Butter", "USD"),
    ("Undefeated", "USD"),
    ("Shoe Palace", "USD"),
    ("Footpatrol", "GBP"),
    ("Solebox", "EUR"),
]
SIZES = [7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0, 14.0, 15.0, 16.0]
CRAWLS_PER_ROUND = 24  # every 30 minutes: a variant changes about twice a day
START = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 200_000


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def style_code(i: int) -> str:
    return "M2002R" + chr(65 + i // 26) + chr(65 + i % 26)


def build(path: Path, rows: int, variants: int, seed: int) -> tuple[list[str], float]:
    """The database at ``path``; returns its style codes and the build time in seconds."""
    started = time.perf_counter()
    with Store(path):  # the real schema, indexes and WAL, by the store's own migrations
        pass
    rng = random.Random(seed)
    per_style = len(SHOPS) * len(SIZES)
    styles = [style_code(i) for i in range(-(-variants // per_style))]
    rounds = max(1, rows // variants)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")  # a throwaway file: durability buys nothing here
    conn.execute("PRAGMA cache_size = -2000000")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO shops (id, name, platform, url, currency, first_seen) VALUES (?,?,?,?,?,?)",
        [
            (i + 1, name, "shopify", f"https://{i}.example", cur, stamp(START))
            for i, (name, cur) in enumerate(SHOPS)
        ],
    )
    conn.executemany(
        "INSERT INTO colorways (style_code, name, family, first_seen) VALUES (?,?,?,?)",
        [(code, f"Colorway {code}", "2002R", stamp(START)) for code in styles],
    )
    # variants: (shop, style, size) in that order, cut at --variants
    layout = [
        (shop, style, size)
        for style in range(len(styles))
        for shop in range(len(SHOPS))
        for size in range(len(SIZES))
    ][:variants]
    products = sorted({(shop, style) for shop, style, _ in layout})
    product_id = {key: i + 1 for i, key in enumerate(products)}
    conn.executemany(
        "INSERT INTO products (id, shop_id, shop_product_id, style_code, title, url, first_seen)"
        " VALUES (?,?,?,?,?,?,?)",
        [
            (
                pid,
                shop + 1,
                str(pid),
                styles[style],
                f"2002R {styles[style]}",
                f"https://{shop}.example/products/{styles[style].lower()}",
                stamp(START),
            )
            for (shop, style), pid in product_id.items()
        ],
    )
    conn.executemany(
        "INSERT INTO variants (id, shop_id, product_id, shop_variant_id, style_code, size_label,"
        " size_us, first_seen, misses) VALUES (?,?,?,?,?,?,?,?,0)",
        [
            (
                vid + 1,
                shop + 1,
                product_id[(shop, style)],
                str(vid + 1),
                styles[style],
                f"{SIZES[size]:g}",
                SIZES[size],
                stamp(START),
            )
            for vid, (shop, style, size) in enumerate(layout)
        ],
    )
    # crawls: CRAWLS_PER_ROUND per shop and round, ids in time order; 3% fail, and the last
    # crawl of the last shop fails, so its stock is unknown now (the rule the queries apply)
    crawl_rows, crawl_id = [], {}
    failing_shop = len(SHOPS) - 1
    next_id = 1
    for r in range(rounds):
        for k in range(CRAWLS_PER_ROUND):
            for shop in range(len(SHOPS)):
                moment = START + timedelta(minutes=30 * (r * CRAWLS_PER_ROUND + k) + shop)
                last = r == rounds - 1 and k == CRAWLS_PER_ROUND - 1
                failed = (last and shop == failing_shop) or (k > 0 and rng.random() < 0.03)
                crawl_rows.append(
                    (
                        next_id,
                        shop + 1,
                        stamp(moment),
                        stamp(moment + timedelta(seconds=40)),
                        "failed" if failed else "ok",
                    )
                )
                crawl_id[(r, k, shop)] = (next_id, stamp(moment), failed)
                next_id += 1
    conn.executemany(
        "INSERT INTO crawls (id, shop_id, started, finished, status) VALUES (?,?,?,?,?)",
        crawl_rows,
    )
    # history: per round, every variant changes once (price or stock), in time order
    base = [13999 + 1000 * (style % 5) for _, style, _ in layout]
    state = [(b, "in_stock") for b in base]
    batch: list[tuple[object, ...]] = []
    history_id = 0
    for r in range(rounds):
        for vid, (shop, _style, _size) in enumerate(layout):
            price, stock = state[vid]
            if rng.random() < 0.5:
                stock = "sold_out" if stock == "in_stock" else "in_stock"
            else:
                price = base[vid] - 500 * rng.randrange(0, 7)
                if price == state[vid][0]:
                    price -= 250
            state[vid] = (price, stock)
            first_crawl, first_seen, _ = crawl_id[(r, 0, shop)]
            _, last_seen, _ = crawl_id[(r, CRAWLS_PER_ROUND - 1, shop)]
            history_id += 1
            batch.append(
                (
                    history_id,
                    vid + 1,
                    first_crawl,
                    price,
                    None,
                    SHOPS[shop][1],
                    stock,
                    first_seen,
                    last_seen,
                )
            )
            if len(batch) >= BATCH:
                _insert_history(conn, batch)
                batch = []
    _insert_history(conn, batch)
    # the current state of each variant: its last history row, seen by the last ok crawl
    last_round = rounds - 1
    updates = []
    for vid, (shop, _style, _size) in enumerate(layout):
        latest_ok = next(
            cid
            for k in range(CRAWLS_PER_ROUND - 1, -1, -1)
            for cid, _, failed in [crawl_id[(last_round, k, shop)]]
            if not failed
        )
        price, stock = state[vid]
        history_row = last_round * len(layout) + vid + 1
        updates.append(
            (price, SHOPS[shop][1], stock, history_row, latest_ok, stamp(START), vid + 1)
        )
    conn.executemany(
        "UPDATE variants SET price_minor = ?, currency = ?, stock = ?, history_id = ?,"
        " last_crawl_id = ?, last_seen = ? WHERE id = ?",
        updates,
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return styles, time.perf_counter() - started


def _insert_history(conn: sqlite3.Connection, batch: list[tuple[object, ...]]) -> None:
    conn.executemany(
        "INSERT INTO history (id, variant_id, crawl_id, price_minor, compare_at_minor, currency,"
        " stock, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?)",
        batch,
    )


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    p95 = statistics.quantiles(times, n=20)[18] if runs >= 20 else max(times)
    return statistics.median(times), p95, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="history rows")
    parser.add_argument("--variants", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=50, help="runs per indexed query")
    parser.add_argument("--scan-runs", type=int, default=5, help="runs of the full scan")
    parser.add_argument("--seed", type=int, default=2002)
    parser.add_argument("--keep", type=Path, help="build the database in this directory, keep it")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: measure the database already there (migrated to this version first: "
        "how an upgrade meets an old database)",
    )
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="history-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bench.db"
    try:
        if args.reuse and path.exists():
            started = time.perf_counter()
            with Store(path) as store:  # migrates an older schema: the upgrade's one-off cost
                styles = [r[0] for r in store.db.execute("SELECT style_code FROM colorways")]
            build_s = time.perf_counter() - started
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            styles, build_s = build(path, args.rows, args.variants, args.seed)
        rng = random.Random(args.seed)
        with Store(path, create=False) as store:
            count = store.db.execute("SELECT count(*) FROM history").fetchone()[0]
            size_mb = path.stat().st_size / 1e6
            print(
                f"database: {count:,} history rows, {args.variants:,} variants, "
                f"{len(SHOPS)} shops, "
                f"{store.db.execute('SELECT count(*) FROM crawls').fetchone()[0]:,} crawls, "
                f"{size_mb:,.0f} MB, built in {build_s:.0f} s"
            )

            def pick() -> tuple[str, float]:
                return rng.choice(styles), rng.choice(SIZES)

            def history() -> object:
                return price_history(store, *pick())

            def history_sql() -> object:  # the same queries, rows not turned into objects
                variants, sql, _ = _variant_history_queries(*pick(), None, None)
                return [
                    store.db.execute(sql, [currency, variant_id]).fetchall()
                    for variant_id, *_, currency in store.db.execute(*variants).fetchall()
                ]

            def summary() -> object:
                return history_summary(store, *pick())

            def cheapest() -> object:
                code, size = pick()
                return current_offers(store, code, size)

            def cheapest_all() -> object:
                return store.db.execute(CHEAPEST_NOW, {"style_code": ""}).fetchall()

            def full_scan() -> object:
                return store.db.execute("SELECT count(*), sum(price_minor) FROM history").fetchone()

            rows_per_query = len(price_history(store, styles[0], SIZES[6]))
            full_scan()  # warm the page cache for the scan too: compare like with like
            # ... and the covering index the history queries read (the scan reads the table)
            store.db.execute(
                "SELECT count(*), sum(price_minor) FROM history"
                " INDEXED BY idx_history_variant_covering WHERE variant_id > 0"
            ).fetchone()
            scan_median, scan_p95, _ = timed(full_scan, args.scan_runs)
            results = [
                (f"history, 1 colorway x 1 size ({rows_per_query} rows)", history, args.runs),
                ("  the same, SQL only (no Python objects)", history_sql, args.runs),
                ("history summary, 1 colorway x 1 size", summary, args.runs),
                ("cheapest now, 1 colorway x 1 size", cheapest, args.runs),
                ("cheapest now, every colorway and size (web)", cheapest_all, 5),
            ]
            print(f"\n{'query':<48} {'median ms':>10} {'p95 ms':>10} {'scan/median':>12}")
            for name, fn, runs in results:
                fn()
                median, p95, _ = timed(fn, runs)
                print(f"{name:<48} {median:>10.2f} {p95:>10.2f} {scan_median / median:>11.0f}x")
            print(
                f"{'full scan of history (count, sum)':<48} {scan_median:>10.2f} {scan_p95:>10.2f}"
                f" {'1x':>12}"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
