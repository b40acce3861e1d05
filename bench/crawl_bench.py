"""Crawl figures: a full crawl of N replica Shopify shops, next to a plain loop (the floor).

    python bench/crawl_bench.py [--shops 10] [--products 250] [--sizes 10]
    python bench/crawl_bench.py --shops 3 --products 20          # a quick run

Starts --shops replica Shopify shops on 127.0.0.1 (pricewatch.replica.ReplicaShop), each with
--products 2002R products (style codes M2002RAAA, M2002RAAB, ..., distinct across every product
of every shop, as a real catalog) in --sizes sizes, and prints side by side:

1. the engine: one `pricewatch.crawl.run_crawl` of every shop (one child process, Scrapy,
   politeness off: download_delay 0, no AutoThrottle, robots.txt obeyed), through validation
   and the store into a fresh database: wall time, pages/s (products.json requests counted at
   the replicas), variants stored/s (from the crawl reports), CPU seconds of the child per
   1,000 variants (getrusage of the children), the child's peak RSS; and what a child that
   only starts Python and imports Scrapy and the spiders costs (part of every crawl);
2. the floor: the same pages fetched with urllib in a plain loop in one thread, each parsed with
   json.loads + `scrapers.spiders.shopify.parse_products` and checked with
   `scrapers.pipelines.validate` (fetch and parse timed apart; CPU is this thread's own, so the
   replica servers' threads in this process do not count);
3. the store: the floor's listings written with `record_listings`, shop after shop, into one
   fresh database (first crawls, as the engine's were): one shop's cost and all of them, so the
   database's share is visible;

and the ratios engine / floor (wall and CPU). This is a one-off `pricewatch crawl` (a child
process, start-up included); `bench/worker_bench.py` measures what `pricewatch run` pays with its
long-lived crawl worker. Run from the repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest_bench import SIZES
from pricewatch.config import Config, CrawlConfig, ShopConfig
from pricewatch.crawl import run_crawl
from pricewatch.models import Listing
from pricewatch.recording import record_listings
from pricewatch.replica import ReplicaShop, make_product
from pricewatch.store import Store
from pricewatch.validation import InvalidListing, validate
from scrapers.spiders.shopify import PAGE_LIMIT, parse_products

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_CODES = len(LETTERS) ** 3  # three letters after M2002R: M2002RAAA .. M2002RZZZ
EXTRA_SIZES = ["12.5", "13", "14", "15", "16"]


def style_code(i: int) -> str:
    return "M2002R" + "".join(LETTERS[i // 26**k % 26] for k in (2, 1, 0))


def catalog(products: int, sizes: list[str], first: int = 0) -> list[dict[str, object]]:
    """A shop's products, with style codes from ``first`` on: a realistic catalog has a
    distinct code for every product of every shop (repeating a few codes hides per-code
    costs, as Python's regex cache once hid a regex compiled per product)."""
    codes = [style_code(first + i) for i in range(products)]
    return [make_product(c, f"New Balance 2002R {c}", "144.99", sizes) for c in codes]


def children_usage() -> tuple[float, int]:
    """CPU seconds (user + system) of every child waited for so far, and their peak RSS (KiB)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def feed_requests(shops: list[ReplicaShop]) -> int:
    return sum(1 for shop in shops for _, target in shop.requests if "/products.json" in target)


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send this process's stderr (fd 2, which the crawl child inherits) to a file."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("wb") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def run_engine(config: Config, shops: list[ReplicaShop], log: Path) -> dict[str, float]:
    pages_before = feed_requests(shops)
    requests_before = sum(len(shop.requests) for shop in shops)
    cpu_before, _ = children_usage()
    start = time.perf_counter()
    with stderr_to(log):
        reports = run_crawl(config, config.shops)
    wall = time.perf_counter() - start
    cpu_after, peak_kib = children_usage()
    pages = feed_requests(shops) - pages_before
    other = sum(len(shop.requests) for shop in shops) - requests_before - pages
    bad = [r for r in reports if not r.ok]
    for report in bad[:5]:
        print(f"   ! {report.shop}: {report.status} ({report.error})")
    return {
        "wall": wall,
        "cpu": cpu_after - cpu_before,
        "peak_mib": peak_kib / 1024,
        "pages": pages,
        "other_requests": other,
        "variants": sum(r.variants for r in reports),
        "ok": len(reports) - len(bad),
        "stderr_lines": len(log.read_text("utf-8", "replace").splitlines()),
        "already_called": log.read_text("utf-8", "replace").count("CRITICAL: while handling"),
    }


def import_cost() -> tuple[float, float]:
    """Wall and CPU seconds of a child that only starts and imports what a crawl child does."""
    code = "import scrapy.crawler, scrapers.spiders, scrapers.pipelines, pricewatch.crawl"
    cpu_before, _ = children_usage()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    wall = time.perf_counter() - start
    cpu_after, _ = children_usage()
    return wall, cpu_after - cpu_before


def fetch_all(shops: list[ReplicaShop]) -> tuple[list[list[bytes]], float, float, int]:
    """Every products.json page of every shop (until the empty page), one request at a time."""
    bodies: list[list[bytes]] = []
    start, cpu_start = time.perf_counter(), time.thread_time()
    for shop in shops:
        pages: list[bytes] = []
        for page in range(1, 41):  # max_pages, as the spider
            request = urllib.request.Request(
                f"{shop.url}/products.json?limit={PAGE_LIMIT}&page={page}",
                headers={"Accept": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                pages.append(response.read())
            if pages[-1].startswith(b'{"products":[]}'):  # the replica's compact JSON
                break  # an empty page is the end of the catalog
        bodies.append(pages)
    wall, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
    return bodies, wall, cpu, sum(len(b) for pages in bodies for b in pages)


def parse_all(
    bodies: list[list[bytes]], shop_configs: tuple[ShopConfig, ...]
) -> tuple[list[list[Listing]], float, float, int]:
    """json.loads + parse_products + validate over every page: the spider's work, no engine."""
    out: list[list[Listing]] = []
    dropped = 0
    start, cpu_start = time.perf_counter(), time.thread_time()
    for pages, shop in zip(bodies, shop_configs, strict=True):
        listings: list[Listing] = []
        for body in pages:
            for product in parse_products(json.loads(body)["products"], shop):
                for item in product.variants:
                    try:
                        listings.append(validate(item, shop.size_system))
                    except InvalidListing:
                        dropped += 1
        out.append(listings)
    wall, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
    return out, wall, cpu, dropped


def store_all(
    path: Path, shop_configs: tuple[ShopConfig, ...], parsed: list[list[Listing]]
) -> tuple[float, float, float, float]:
    """Every shop's first crawl written through record_listings into one fresh database, one
    after another (as the engine's pipelines do): wall and CPU of the first shop, and of all."""
    times: list[tuple[float, float]] = []
    with Store(path) as store:
        for shop, listings in zip(shop_configs, parsed, strict=True):
            start, cpu_start = time.perf_counter(), time.thread_time()
            crawl_id = store.start_crawl(shop.name, shop.platform, shop.url, shop.currency)
            record_listings(store, crawl_id, listings)
            times.append((time.perf_counter() - start, time.thread_time() - cpu_start))
    first_wall, first_cpu = times[0]
    return first_wall, first_cpu, sum(t[0] for t in times), sum(t[1] for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--products", type=int, default=250, help="per shop")
    parser.add_argument("--sizes", type=int, default=10, help="per product")
    args = parser.parse_args()
    if not 1 <= args.products * args.shops <= MAX_CODES:
        parser.error(f"--shops x --products must be 1..{MAX_CODES} (distinct codes)")
    all_sizes = SIZES + EXTRA_SIZES
    if not 1 <= args.sizes <= len(all_sizes):
        parser.error(f"--sizes must be 1..{len(all_sizes)}")
    sizes = all_sizes[: args.sizes]
    tmp = Path(tempfile.mkdtemp(prefix="pricewatch-crawl-bench-"))
    expected = args.shops * args.products * args.sizes
    print(
        f"{args.shops} replica Shopify shops x {args.products} products x {args.sizes} sizes "
        f"= {expected:,} variants; politeness off (download_delay 0, no AutoThrottle), "
        "robots.txt obeyed"
    )
    shops = [
        ReplicaShop(catalog(args.products, sizes, n * args.products), name=f"Replica {n:02d}")
        for n in range(args.shops)
    ]
    for shop in shops:
        shop.start()
    try:
        config = Config(
            shops=tuple(
                ShopConfig(f"Replica {n:02d}", "shopify", shop.url, "USD")
                for n, shop in enumerate(shops)
            ),
            db_path=tmp / "crawl.db",
            crawl=CrawlConfig(download_delay=0, autothrottle=False, obey_robots=True),
        )
        engine = run_engine(config, shops, tmp / "child-stderr.txt")
        start_wall, start_cpu = import_cost()
        bodies, fetch_wall, fetch_cpu, size = fetch_all(shops)
        parsed, parse_wall, parse_cpu, dropped = parse_all(bodies, config.shops)
        one_wall, one_cpu, store_wall, store_cpu = store_all(tmp / "store.db", config.shops, parsed)
    finally:
        for shop in shops:
            shop.stop()

    variants, pages = engine["variants"], engine["pages"]
    print(
        f"\n1. engine: run_crawl of {args.shops} shops in one child process (Scrapy), into a "
        "fresh database"
    )
    print(
        f"   {engine['ok']:.0f}/{args.shops} crawls ok; {pages:.0f} products.json pages "
        f"(+{engine['other_requests']:.0f} other requests: robots.txt), {variants:,.0f} "
        "variants stored"
    )
    print(
        f"   wall {engine['wall']:.2f} s: {pages / engine['wall']:,.1f} pages/s, "
        f"{variants / engine['wall']:,.0f} variants/s"
    )
    per_k = engine["cpu"] / max(variants, 1) * 1000
    print(
        f"   child CPU {engine['cpu']:.2f} s = {per_k:.3f} CPU s per 1,000 variants; "
        f"child peak RSS {engine['peak_mib']:.0f} MiB"
    )
    print(
        f"   of which a child that only starts Python and imports Scrapy + spiders: "
        f"{start_wall:.2f} s wall, {start_cpu:.2f} s CPU"
    )
    print(
        f"   child stderr: {engine['stderr_lines']:.0f} lines, of which "
        f"{engine['already_called']:.0f} Twisted 'CRITICAL: while handling timed call' "
        f"(AlreadyCalledError) tracebacks ({tmp / 'child-stderr.txt'})"
    )

    floor_wall, floor_cpu = fetch_wall + parse_wall, fetch_cpu + parse_cpu
    found = sum(len(listings) for listings in parsed)
    page_count = sum(len(p) for p in bodies)
    print(
        "\n2. floor: the same pages fetched with urllib in a plain loop (one thread, one request"
        " at a time), json.loads + parse_products + validate"
    )
    print(
        f"   {page_count} pages ({size / 1e6:.1f} MB), {found:,} valid variants, {dropped} dropped"
    )
    print(f"   fetch  {fetch_wall:6.2f} s wall, {fetch_cpu:6.2f} s CPU (this thread)")
    print(
        f"   parse  {parse_wall:6.2f} s wall, {parse_cpu:6.2f} s CPU = "
        f"{parse_cpu / max(found, 1) * 1e6:.0f} us per variant"
    )
    print(
        f"   total  {floor_wall:6.2f} s wall, {floor_cpu:6.2f} s CPU: "
        f"{page_count / floor_wall:,.1f} pages/s, {found / floor_wall:,.0f} variants/s, "
        f"{floor_cpu / max(found, 1) * 1000:.3f} CPU s per 1,000 variants"
    )

    one = len(parsed[0])
    stored_cpu, stored_wall = floor_cpu + store_cpu, floor_wall + store_wall
    print(
        "\n3. store: the floor's listings through record_listings, shop after shop, into one"
        " fresh database (first crawls)"
    )
    print(
        f"   one shop ({one:,} listings): {one_wall * 1000:.0f} ms wall, {one_cpu * 1000:.0f} ms"
        f" CPU = {one_cpu / max(one, 1) * 1e6:.0f} us per variant"
    )
    print(
        f"   all {args.shops} shops: {store_wall:.2f} s wall, {store_cpu:.2f} s CPU = "
        f"{store_cpu / max(found, 1) * 1e6:.0f} us per variant"
    )
    print(
        f"   floor + store: {stored_wall:.2f} s wall, {stored_cpu:.2f} s CPU = "
        f"{stored_cpu / max(found, 1) * 1000:.3f} CPU s per 1,000 variants"
    )

    print("\nratios (engine / floor)")
    print(
        f"   wall: {engine['wall'] / floor_wall:.1f}x the floor, "
        f"{engine['wall'] / stored_wall:.1f}x floor + store"
    )
    print(
        f"   CPU:  {engine['cpu'] / floor_cpu:.1f}x the floor, "
        f"{engine['cpu'] / stored_cpu:.1f}x floor + store; without the child's start-up "
        f"{(engine['cpu'] - start_cpu) / stored_cpu:.1f}x floor + store"
    )
    print(f"\n(temporary files in {tmp})")


if __name__ == "__main__":
    main()
