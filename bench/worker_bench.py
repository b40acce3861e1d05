"""CPU and memory per crawl as `pricewatch run` pays them: the long-lived crawl worker, a child
process per crawl (``[crawl] isolate = true``), and a floor, side by side in one run.

    python bench/worker_bench.py [--shops 10] [--rounds 6]

--shops small replica Shopify shops on 127.0.0.1 (one product each, 10 sizes, a distinct style
code per shop), each crawled once per round, as a scheduler with every shop due each minute
does. Rounds alternate the modes (worker, child per crawl, floor), so all see the same machine
load; the medians over rounds are printed. Every mode writes the same kind of database.

- worker: `pricewatch.worker.CrawlWorker`, one process for all crawls of the round (its start
  counted in the first round only, as a service pays it once; the median hides it);
- child: `pricewatch.crawl.run_crawl` per shop, each a fresh process (what `run` did before);
- floor: per check, a process of its own that fetches the shop's products.json with urllib,
  `json.loads` it and diffs it against the last state in a dict (start-up included).

CPU is that of the child processes (`getrusage(RUSAGE_CHILDREN)`, the worker's counted when it
exits at the end); memory is the peak RSS of the largest child. Run from the repository root.
"""

from __future__ import annotations

import argparse
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
from tests.support import make_config

SIZES = ["7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12"]
FLOOR = r"""
import json, sys, urllib.request
state = {}
body = urllib.request.urlopen(sys.argv[1] + "/products.json?limit=250&page=1").read()
changes = 0
for product in json.loads(body)["products"]:
    for variant in product["variants"]:
        now = (variant["price"], variant["available"])
        changes += state.get(variant["id"]) != now
        state[variant["id"]] = now
print(changes)
"""


def children_cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    shops = [
        ReplicaShop(products=[make_product(f"M2002R{letters[i]}Q", "2002R", "144.99", SIZES)])
        for i in range(args.shops)
    ]
    for shop in shops:
        shop.start()
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
                    cpu_before, _ = children_cpu()
                    start = time.perf_counter()
                    for name, shop in names.items():
                        if mode == "floor":
                            subprocess.run(
                                [sys.executable, "-c", FLOOR, shop.url],
                                check=True,
                                capture_output=True,
                            )
                            continue
                        cfg = config[mode]
                        crawl = worker.crawl if mode == "worker" else run_crawl
                        [report] = crawl(cfg, cfg.select_shops([name]))
                        assert report.ok, report
                    wall = time.perf_counter() - start
                    if mode == "worker":
                        continue  # its CPU shows when it exits: measured below
                    cpu = children_cpu()[0] - cpu_before
                    per_crawl[mode].append(cpu / len(names))
                    print(
                        f"round {round_number + 1} {mode:<6} {cpu / len(names):.3f} CPU s/crawl,"
                        f" wall {wall:.1f} s"
                    )
        finally:
            worker_start_cpu = children_cpu()[0]
            worker.close()
            worker_cpu = children_cpu()[0] - worker_start_cpu
            for shop in shops:
                shop.stop()
        crawls = args.rounds * len(names)
        worker_per_crawl = worker_cpu / crawls
        _, peak = children_cpu()
    child = statistics.median(per_crawl["child"])
    floor = statistics.median(per_crawl["floor"])
    print(f"\nCPU per crawl of a small shop ({args.shops} shops x {args.rounds} rounds):")
    print(f"  floor, its own process per check : {floor:.3f} s")
    print(f"  child process per crawl (isolate) : {child:.3f} s  ({child / floor:.1f}x floor)")
    print(
        f"  long-lived worker (start-up once) : {worker_per_crawl:.3f} s  "
        f"({worker_per_crawl / floor:.1f}x floor; {worker.started} process(es) started)"
    )
    print(f"peak RSS: the worker {worker.peak_rss_mb:.0f} MiB; the largest child {peak:.0f} MiB")


if __name__ == "__main__":
    main()
