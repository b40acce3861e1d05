"""CPU and memory per crawl as `pricewatch run` pays them: the long-lived crawl worker, a child
process per crawl (``[crawl] isolate = true``), and a floor, side by side in one run.

    python bench/worker_bench.py [--shops 10] [--rounds 6] [--products 1]
    python bench/worker_bench.py --products 250      # 10 shops x 250 products x 10 sizes
    python bench/worker_bench.py --rounds 2 --memory-products 1000   # mostly the memory part

--shops replica Shopify shops on 127.0.0.1 (--products products each, 10 sizes, a distinct style
code for every product of every shop), each crawled once per round, as a scheduler with every
shop due each minute does. Rounds alternate the modes (worker, child per crawl, floor), so all
see the same machine load; the medians over rounds 2.. are printed (round 1 is every shop's
first crawl). Every mode writes the same kind of database.

- worker: `pricewatch.worker.CrawlWorker`, one process for all crawls (its CPU read from /proc
  per round; its start-up falls in round 1, as a service pays it once);
- child: `pricewatch.crawl.run_crawl` per shop, each a fresh process (what `run` did before);
- floor: per check, a process of its own that fetches the shop's products.json with urllib,
  `json.loads` it and diffs it against the last state in a dict (start-up included).

Then, --rounds times, every shop at once, start-up paid once: `pricewatch crawl` as a user runs
it (the command's process and its crawl process), the floor's checks of every shop in one
process, and Scrapy doing only the floor's work in one process (a spider per shop, no pipeline;
with stock settings, and trimmed as pricewatch runs Scrapy): the least any Scrapy crawl of these
shops costs.

Last, peak memory of one crawl of a shop of --memory-products products (1,000), each process
measured on its own: the crawl child, the floor, and that Scrapy floor.

CPU is that of the processes doing the crawl (`getrusage(RUSAGE_CHILDREN)`, the worker's from
/proc); memory the worker's RSS after its crawls and the largest child's peak. Run from the
repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pricewatch.config import Config
from pricewatch.crawl import run_crawl
from pricewatch.replica import ReplicaShop
from pricewatch.replica.catalog import make_product
from pricewatch.worker import CrawlWorker
from scrapers import settings as pricewatch_settings
from tests.support import make_config, shops_toml

SIZES = ["7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12"]
# The floor: one check of one shop in a process of its own: load the last state, fetch every
# products.json page, json.loads, diff against the state, save it.
FLOOR = r"""
import json, os, sys, urllib.request
url, path = sys.argv[1], sys.argv[2]
state = json.load(open(path)) if os.path.exists(path) else {}
changes = 0
page = 1
while True:
    body = urllib.request.urlopen(f"{url}/products.json?limit=250&page={page}").read()
    products = json.loads(body)["products"]
    if not products:
        break
    for product in products:
        for variant in product["variants"]:
            now = [variant["price"], variant["available"]]
            key = str(variant["id"])
            changes += state.get(key) != now
            state[key] = now
    page += 1
json.dump(state, open(path, "w"))
print(changes)
"""


# Scrapy doing the floor's work and nothing else (no pipeline), every shop in one process: the
# least a Scrapy crawl of these shops costs, whatever it stores. argv: the shops, then the
# settings as JSON (stock: only LOG_LEVEL; trimmed: Scrapy's base lists as pricewatch cuts them,
# and no DEBUG record built, as pricewatch's crawl processes run).
BARE_SCRAPY = r"""
import json, logging, os, sys
import scrapy
from scrapy.crawler import CrawlerProcess

class Floor(scrapy.Spider):
    name = "floor"

    def __init__(self, url, path, **kwargs):
        super().__init__(**kwargs)
        self.url, self.path = url, path
        self.state = json.load(open(path)) if os.path.exists(path) else {}
        self.changes = 0

    async def start(self):
        yield scrapy.Request(f"{self.url}/products.json?limit=250&page=1", cb_kwargs={"page": 1})

    def parse(self, response, page):
        products = json.loads(response.body)["products"]
        if not products:
            json.dump(self.state, open(self.path, "w"))
            return
        for product in products:
            for variant in product["variants"]:
                now = [variant["price"], variant["available"]]
                key = str(variant["id"])
                self.changes += self.state.get(key) != now
                self.state[key] = now
        url = f"{self.url}/products.json?limit=250&page={page + 1}"
        yield scrapy.Request(url, cb_kwargs={"page": page + 1})

process = CrawlerProcess(json.loads(sys.argv[2]))
logging.getLogger("scrapy").setLevel("WARNING")
for url, path in json.loads(sys.argv[1]):
    process.crawl(Floor, url=url, path=path)
process.start()
"""

STOCK = json.dumps({"LOG_LEVEL": "WARNING"})
TRIMMED = json.dumps(
    {
        "LOG_LEVEL": "WARNING",
        "EXTENSIONS_BASE": pricewatch_settings.EXTENSIONS_BASE,
        "DOWNLOADER_MIDDLEWARES_BASE": pricewatch_settings.DOWNLOADER_MIDDLEWARES_BASE,
    }
)

LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def style_code(i: int) -> str:
    """M2002RAAA, M2002RAAB ...: a distinct code for every product of every shop, as a real
    catalog has (a bench that repeats a few codes hides per-code costs)."""
    return "M2002R" + "".join(LETTERS[i // 24**k % 24] for k in (2, 1, 0))


def children_cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--products", type=int, default=1, help="per shop, distinct codes")
    parser.add_argument(
        "--memory-products", type=int, default=1000, help="the memory part's shop; 0 skips it"
    )
    args = parser.parse_args()
    shops = [
        ReplicaShop(
            products=[
                make_product(code, f"New Balance 2002R {code}", "144.99", SIZES)
                for code in (style_code(i * args.products + j) for j in range(args.products))
            ]
        )
        for i in range(args.shops)
    ]
    for shop in shops:
        shop.start()
    variants = args.products * len(SIZES)
    with tempfile.TemporaryDirectory() as tmp:
        names = {f"Shop{i}": shop for i, shop in enumerate(shops)}
        config: dict[str, Config] = {
            mode: make_config(Path(tmp) / f"{mode}.db", names, download_delay=0.0)
            for mode in ("worker", "child")
        }
        worker = CrawlWorker(config["worker"])
        per_crawl: dict[str, list[float]] = {"worker": [], "child": [], "floor": []}
        try:
            for round_number in range(args.rounds):
                for mode in ("worker", "child", "floor"):
                    before = children_cpu()[0]
                    pid = worker._process.pid if worker._process else None
                    worker_before = process_cpu(pid) if pid else 0.0
                    start = time.perf_counter()
                    for name, shop in names.items():
                        if mode == "floor":
                            state = Path(tmp) / f"floor-{name}.json"
                            subprocess.run(
                                [sys.executable, "-c", FLOOR, shop.url, str(state)],
                                check=True,
                                capture_output=True,
                            )
                            continue
                        cfg = config[mode]
                        crawl = worker.crawl if mode == "worker" else run_crawl
                        [report] = crawl(cfg, cfg.select_shops([name]))
                        assert report.ok and report.variants == variants, report
                    wall = time.perf_counter() - start
                    if mode == "worker":
                        assert worker._process is not None
                        cpu = process_cpu(worker._process.pid) - worker_before
                    else:
                        cpu = children_cpu()[0] - before
                    if round_number > 0:  # the first round is every shop's first crawl
                        per_crawl[mode].append(cpu / len(names))
                    print(
                        f"round {round_number + 1} {mode:<6} {cpu / len(names):.3f} CPU s/crawl,"
                        f" wall {wall:.1f} s"
                    )
            # `pricewatch crawl` of every shop as a user runs it (the command's process and
            # its crawl process), next to a floor that checks every shop in one process of its
            # own, and Scrapy doing only the floor's work (start-up paid once by all three)
            toml = Path(tmp) / "pricewatch.toml"
            toml.write_text(
                "[crawl]\ndownload_delay = 0.0\nautothrottle = false\n" + shops_toml(names)
            )
            floor_all = FLOOR.replace("url, path = sys.argv[1], sys.argv[2]", "")
            floor_loop = "\n".join(
                ["import sys"]
                + [
                    f"url, path = {shop.url!r}, {str(Path(tmp) / f'all-{n}.json')!r}\n" + floor_all
                    for n, shop in enumerate(shops)
                ]
            )
            scrapy_shops = json.dumps(
                [[shop.url, str(Path(tmp) / f"scrapy-{n}.json")] for n, shop in enumerate(shops)]
            )
            commands = {
                "crawl": [
                    str(Path(sys.executable).with_name("pricewatch")),
                    *("crawl", "--config", str(toml), "--db", str(Path(tmp) / "cli.db")),
                ],
                "floor": [sys.executable, "-c", floor_loop],
                "stock": [sys.executable, "-c", BARE_SCRAPY, scrapy_shops, STOCK],
                "trimmed": [sys.executable, "-c", BARE_SCRAPY, scrapy_shops, TRIMMED],
            }
            whole: dict[str, list[float]] = {kind: [] for kind in commands}
            for _ in range(args.rounds):
                for kind, command in commands.items():
                    before = children_cpu()[0]
                    subprocess.run(command, check=True, capture_output=True)
                    whole[kind].append(children_cpu()[0] - before)
        finally:
            worker.close()
            for shop in shops:
                shop.stop()
        _, peak = children_cpu()
    floor = statistics.median(per_crawl["floor"])
    child = statistics.median(per_crawl["child"])
    kept = statistics.median(per_crawl["worker"])
    print(
        f"\nCPU per unchanged crawl of a shop of {args.products} product(s) x {len(SIZES)} sizes"
        f" ({args.shops} shops, median of rounds 2-{args.rounds}):"
    )
    print(f"  floor, its own process per check : {floor:.3f} s")
    print(f"  child process per crawl (isolate) : {child:.3f} s  ({child / floor:.1f}x floor)")
    print(f"  long-lived worker                 : {kept:.3f} s  ({kept / floor:.1f}x floor)")
    if variants >= 100:
        per_1000 = {m: statistics.median(v) / variants * 1000 for m, v in per_crawl.items()}
        print(
            "  per 1,000 variant checks: "
            + ", ".join(f"{m} {v:.3f} s" for m, v in per_1000.items())
        )
    cli, floor_one, stock, trimmed = (statistics.median(v[1:] or v) for v in whole.values())
    print(
        f"one `pricewatch crawl` of all {args.shops} shops, unchanged (the command and its crawl"
        f" process): {cli:.2f} CPU s\n"
        f"  a one-process floor: {floor_one:.2f} s: {cli / floor_one:.1f}x\n"
        "  Scrapy doing only the floor's work, one process, stock settings:"
        f" {stock:.2f} s ({stock / floor_one:.1f}x the floor)\n"
        f"  the same, trimmed as pricewatch runs Scrapy: {trimmed:.2f} s"
        f" ({trimmed / floor_one:.1f}x the floor; pricewatch {cli / trimmed:.1f}x it)"
    )
    print(
        f"peak RSS: the worker {worker.peak_rss_mb:.0f} MiB ({worker.started} process(es) "
        f"started); the largest child {peak:.0f} MiB"
    )
    if args.memory_products:
        crawl_memory(args.memory_products)


# Runs a command and prints the peak RSS (MiB) of its process tree: each measured process gets a
# parent of its own, as getrusage's maxrss of children is the largest of all ever waited for.
PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], input=sys.stdin.read(), text=True, check=True,"
    " capture_output=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
)


def peak_rss(command: list[str], stdin: str = "") -> float:
    run = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *command],
        input=stdin,
        text=True,
        capture_output=True,
        check=True,
    )
    return float(run.stdout)


def crawl_memory(products: int, rounds: int = 3) -> None:
    """Peak memory of one crawl of one shop of `products` products, as a process of its own:
    the crawl child `pricewatch crawl` starts, the floor, and Scrapy doing only the floor's
    work; each run `rounds` times, interleaved, the largest peak of each kept."""
    shop = ReplicaShop(
        products=[
            make_product(style_code(j), f"New Balance 2002R {style_code(j)}", "144.99", SIZES)
            for j in range(products)
        ]
    )
    shop.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = make_config(Path(tmp) / "memory.db", {"Shop": shop}, download_delay=0.0)
            scrapy_shop = json.dumps([[shop.url, f"{tmp}/scrapy.json"]])
            commands = {
                "crawl child": (
                    [sys.executable, "-m", "pricewatch.crawl_child", "--log-level=WARNING", "Shop"],
                    config.to_json(),
                ),
                "floor": ([sys.executable, "-c", FLOOR, shop.url, f"{tmp}/floor.json"], ""),
                "Scrapy, floor's work": (  # trimmed: the lower of the two
                    [sys.executable, "-c", BARE_SCRAPY, scrapy_shop, TRIMMED],
                    "",
                ),
            }
            peaks: dict[str, float] = dict.fromkeys(commands, 0.0)
            for _ in range(rounds):
                for name, (command, stdin) in commands.items():
                    peaks[name] = max(peaks[name], peak_rss(command, stdin))
    finally:
        shop.stop()
    floor = peaks["floor"]
    print(f"\npeak RSS of one crawl of a shop of {products:,} products x {len(SIZES)} sizes:")
    for name, mib in peaks.items():
        print(f"  {name:<22}: {mib:5.0f} MiB ({mib / floor:.1f}x the floor)")


if __name__ == "__main__":
    main()
