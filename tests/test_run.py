"""`pricewatch run`: scheduler, bot and delivery in one process, stopped by SIGTERM, restarted."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from pricewatch.replica import ReplicaShop
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from tests.bot.botapi import BotApiServer

PRICEWATCH = shutil.which("pricewatch", path=os.path.dirname(sys.executable))


def config_text(shop: ReplicaShop, api: BotApiServer) -> str:
    return f"""
[crawl]
download_delay = 0
autothrottle = false
timeout = 5
retries = 0

[schedule]
default = "* * * * *"
jitter = 0
min_interval = 0

[alerts]
flap_window = 0

[telegram]
base_url = "{api.base_url}"
base_file_url = "{api.base_file_url}"
admin_chat_ids = [1]

[[shops]]
name = "Replica"
platform = "shopify"
url = "{shop.url}"
currency = "USD"
"""


def wait_for_crawls(db: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            with sqlite3.connect(db) as conn:
                done = conn.execute("SELECT count(*) FROM crawls WHERE status = 'ok'").fetchone()[0]
            if done >= count:
                return
        time.sleep(0.1)  # another process writes the database: there is no event to wait on
    raise AssertionError(f"fewer than {count} ok crawls after {timeout} s")


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


@pytest.mark.skipif(PRICEWATCH is None, reason="console script not installed")
def test_run_crawls_answers_alerts_and_stops_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "data" / "pricewatch.db"
    with ReplicaShop() as shop, BotApiServer() as api:
        config = tmp_path / "pricewatch.toml"
        config.write_text(config_text(shop, api))
        with Store(db) as store:
            upsert_chat(store, 1001)
            add_subscription(
                store, 1001, style_code="M2002RDA", sizes=[10.0], max_price=Decimal("150")
            )
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token}
        command = [str(PRICEWATCH), "run", "--config", str(config), "--db", str(db)]

        first = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_crawls(db, 1)  # crawled at start, without waiting for the cron
            api.wait_for(lambda call: call.method == "setMyCommands", timeout=30)
            api.send_text(1001, "/start")
            api.wait_for(lambda call: call.method == "sendMessage" and call.chat_id == 1001)
        finally:
            code, err = stop(first)
        assert code == 0, err
        assert api.token not in err  # the token never reaches the logs
        # a service's log: ISO timestamps; start, next runs, each crawl, shutdown
        stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
        assert re.search(rf"^{stamp} INFO pricewatch.scheduler: started: 1 shop", err, re.M), err
        assert re.search(r"Replica: next run \d{4}-", err), err
        assert re.search(r"crawl finished: Replica ok, \d+ variants, \d+ changes, 0 alerts", err), (
            err[-3000:]
        )
        assert "shutting down" in err and "pricewatch.scheduler: stopped" in err

        shop.set_price("M2002RDA", "139.99", size="10")
        log_file = tmp_path / "logs" / "run.log"  # --log-file before the command, as a group option
        second = subprocess.Popen(
            [str(PRICEWATCH), "--log-file", str(log_file), *command[1:]],
            cwd=tmp_path,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_crawls(db, 2)
            [alert] = api.wait_for(  # a photo of the shoe, the news as its caption
                lambda call: call.method == "sendPhoto" and "139.99" in call.params["caption"],
                timeout=30,
            )
        finally:
            code, err = stop(second)
        assert code == 0, err
    assert re.search(r"crawl finished: Replica ok, .* 1 alerts queued", log_file.read_text())
    assert alert.chat_id == 1001 and "M2002RDA" in alert.text
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT status, count(*) FROM outbox GROUP BY 1").fetchall() == [
            ("sent", 1)
        ]
        running = conn.execute("SELECT count(*) FROM crawls WHERE status = 'running'")
        assert running.fetchone() == (0,)
