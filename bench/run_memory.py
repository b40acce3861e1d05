"""Memory of `pricewatch run` as a service runs it: the whole process tree, sampled.

    python bench/run_memory.py [--shops 10] [--seconds 150] [--isolate]

Starts --shops replica Shopify shops on 127.0.0.1, writes a config that makes every shop due
every minute (cron ``* * * * *``, min_interval 60, no jitter, politeness off), and runs the
installed ``pricewatch run --no-bot`` on it for --seconds, summing the RSS of the process and
all its children (from /proc) every 0.5 s. Prints the crawls recorded and the peak. With
--isolate the config says ``isolate = true`` (a child process per crawl, as before the worker).
Run from the repository root, with the venv's `pricewatch` installed.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pricewatch.replica import ReplicaShop
from tests.support import shops_toml


def rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    lines = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return int(lines[0].split()[1]) / 1024 if lines else 0.0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--isolate", action="store_true")
    args = parser.parse_args()
    pricewatch = Path(sys.executable).with_name("pricewatch")
    shops = [ReplicaShop().start() for _ in range(args.shops)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            toml = '[schedule]\ndefault = "* * * * *"\nmin_interval = 60\njitter = 0\n'
            toml += f"[crawl]\ndownload_delay = 0\nisolate = {str(args.isolate).lower()}\n"
            toml += shops_toml({f"S{i}": shop for i, shop in enumerate(shops)})
            config, db = Path(tmp) / "pw.toml", Path(tmp) / "m.db"
            config.write_text(toml)
            process = subprocess.Popen(
                [str(pricewatch), "run", "--no-bot", "--config", str(config), "--db", str(db)],
                stderr=subprocess.DEVNULL,
            )
            peak = 0.0
            end = time.monotonic() + args.seconds
            while time.monotonic() < end and process.poll() is None:
                total = rss_mib(process.pid) + sum(rss_mib(p) for p in descendants(process.pid))
                peak = max(peak, total)
                time.sleep(0.5)  # sampling memory: there is no event to wait on
            process.terminate()
            process.wait(60)
            with sqlite3.connect(db) as conn:
                crawls = dict(conn.execute("SELECT status, count(*) FROM crawls GROUP BY 1"))
    finally:
        for shop in shops:
            shop.stop()
    mode = "a child process per crawl (isolate)" if args.isolate else "the crawl worker"
    print(f"pricewatch run --no-bot, {args.shops} shops due every minute, {mode}:")
    print(f"  crawls recorded in {args.seconds:.0f} s: {crawls}")
    print(f"  peak RSS of the whole process tree: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
