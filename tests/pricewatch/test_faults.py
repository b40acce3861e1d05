"""Faults that must not corrupt or lose anything: kill -9 mid-write, readers during writes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from pricewatch.config import Config
from pricewatch.crawl import run_crawl
from pricewatch.models import CrawlStatus
from pricewatch.replica import ReplicaShop, make_product
from pricewatch.store import Store
from tests.support import make_config

SIZES = ["7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12"]


def big_catalog(products: int) -> list[dict[str, object]]:
    return [
        make_product(
            f"M2002R{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}{i // 676 or ''}",
            f"New Balance 2002R {i}",
            "144.99",
            SIZES,
        )
        for i in range(products)
    ]


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


# The crawl child, with Store.apply_listings reporting through a FIFO once it has written the
# crawl's rows (its transaction still open), then waiting to be killed.
PAUSE_IN_WRITE = """
import sys, time
import pricewatch.store as store
applied = store.Store.apply_listings
def apply_and_wait(self, *args, **kwargs):
    result = applied(self, *args, **kwargs)
    with open({fifo!r}, "w") as fifo:
        fifo.write("written")
    time.sleep(600)
    return result
store.Store.apply_listings = apply_and_wait
from pricewatch.crawl import main
sys.exit(main(sys.argv[1:]))
"""


def test_kill_9_during_the_crawl_write_leaves_the_last_state_whole(db_path: Path) -> None:
    with ReplicaShop(big_catalog(600)) as shop:  # 6,000 variants: more than the page cache
        config = make_config(db_path, {"Big": shop})
        [first] = run_crawl(config, config.shops)
        assert first.ok
        before = (
            sqlite3.connect(db_path)
            .execute("SELECT count(*), sum(price_minor) FROM history")
            .fetchone()
        )
        for product in shop.products():
            shop.set_price(str(product["_style_code"]), "120.00")
        # Start a crawl child ourselves whose store tells us (through a FIFO, an event, not a
        # clock) once the crawl's rows are written inside its still-open transaction; then it
        # waits, and we kill it there.
        fifo = db_path.parent / "written"
        os.mkfifo(fifo)
        child = subprocess.Popen(
            [sys.executable, "-c", PAUSE_IN_WRITE.format(fifo=str(fifo)), "Big"],
            stdin=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        assert child.stdin is not None
        child.stdin.write(config.to_json())
        child.stdin.close()
        with fifo.open() as written:  # blocks until the child is mid-write
            killed_mid_write = written.read() == "written"
        assert Path(f"{db_path}-wal").stat().st_size > 64 * 1024  # rows were written
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert killed_mid_write, "the child never reached the middle of its write"
    assert integrity(db_path) == "ok"
    with Store(db_path) as store:
        after = store.db.execute("SELECT count(*), sum(price_minor) FROM history").fetchone()
        assert after == before  # nothing half-written: the whole crawl was rolled back
        statuses = [r[0] for r in store.db.execute("SELECT status FROM crawls ORDER BY id")]
        assert statuses == [CrawlStatus.OK, CrawlStatus.RUNNING]
        store.start_crawl("Big", "shopify", "http://x", "USD")  # the next crawl cleans up
        statuses = [r[0] for r in store.db.execute("SELECT status FROM crawls ORDER BY id")]
        assert statuses[1] == CrawlStatus.FAILED


READER = """
import sys, time, sqlite3
sys.path.insert(0, {root!r})
from pricewatch.store import Store
from pricewatch.history import colorways, current_offers
from pathlib import Path
errors = reads = 0
stop = Path({stop!r})
end = time.monotonic() + 120  # a bound, in case the test dies before it says stop
with Store({db!r}) as store:
    while not stop.exists() and time.monotonic() < end:
        try:
            current_offers(store, "M2002RAA")
            colorways(store)
            reads += 1
        except sqlite3.OperationalError as exc:
            errors += 1
            print("ERROR", exc, file=sys.stderr)
print(reads, errors)
"""


def test_bot_style_reader_never_sees_database_is_locked_while_crawls_write(
    db_path: Path,
) -> None:
    stop = db_path.parent / "stop-reading"
    with ReplicaShop(big_catalog(100)) as shop:
        config: Config = make_config(db_path, {"Shop": shop})
        run_crawl(config, config.shops)
        reader = subprocess.Popen(
            [
                sys.executable,
                "-c",
                READER.format(root=str(Path.cwd()), db=str(db_path), stop=str(stop)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        writes = 0
        while reader.poll() is None and writes < 3:
            for i, product in enumerate(shop.products()):
                shop.set_price(str(product["_style_code"]), f"{130 + writes + i % 7}.00")
            [report] = run_crawl(config, config.shops)
            assert report.ok, report.error
            writes += 1
        stop.touch()
        out, err = reader.communicate(timeout=60)
    reads, errors = (int(x) for x in out.split())
    assert errors == 0, err
    assert reads > 10 and writes == 3
