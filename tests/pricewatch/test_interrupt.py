"""Ctrl-C on `pricewatch crawl` ends it within 5 s and leaves the shop to the next crawl."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pricewatch.replica import ReplicaShop
from pricewatch.store import Store


def test_ctrl_c_ends_a_crawl_within_5_s_and_the_next_crawl_takes_the_shop(tmp_path: Path) -> None:
    config, db = tmp_path / "c.toml", tmp_path / "db.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICEWATCH")}
    command = [sys.executable, "-c", "from pricewatch.cli import main; main()", "crawl"]
    command += ["--config", str(config), "--db", str(db)]
    with ReplicaShop() as shop:
        config.write_text(
            "[crawl]\ndownload_delay = 0.0\nautothrottle = false\ntimeout = 60\n\n"
            f'[[shops]]\nname = "Replica"\nplatform = "shopify"\nurl = "{shop.url}"\n'
            'currency = "USD"\n'
        )
        shop.misbehave("hold", times=1, delay=60)
        # its own process group, as a terminal's: Ctrl-C reaches the parent and the crawler
        crawl = subprocess.Popen(
            command,
            start_new_session=True,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            assert shop.request_held.wait(60), "the crawl never asked for the feed"
            pressed = time.monotonic()
            os.killpg(crawl.pid, signal.SIGINT)
            crawl.communicate(timeout=30)
            took = time.monotonic() - pressed
        finally:
            shop.release_held.set()
            if crawl.poll() is None:
                crawl.kill()
        assert took < 5, f"Ctrl-C took {took:.1f} s"
        assert crawl.returncode != 0
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    with Store(db) as store:
        statuses = store.db.execute("SELECT status, error FROM crawls ORDER BY id").fetchall()
    assert statuses == [("failed", "interrupted"), ("ok", None)]
