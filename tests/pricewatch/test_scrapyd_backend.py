"""The scrapyd backend against a real Scrapyd on 127.0.0.1, started here in a temporary directory.

Scrapyd runs the deployed egg's spider in its own processes; the backend schedules, polls,
downloads the items feed and the outcome sidecar, and ingests into SQLite. One Scrapyd serves
the whole module (starting it and deploying the egg are the slow parts), and the scenario runs
each crawl pass once in a module fixture, the tests then checking what it left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from pricewatch.backends import (
    SIDECAR_EXTENSION,
    LocalBackend,
    ScrapydBackend,
    backend_for,
    build_egg,
    job_settings,
)
from pricewatch.config import Config, CrawlConfig
from pricewatch.crawl import CrawlReport
from pricewatch.replica import ReplicaShop
from scrapers.scrapyd_support import FeedError, item_from_json, parse_items, parse_outcome
from tests.support import make_config

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


def shop_state(db: Path, shop: str) -> dict[str, list[tuple[object, ...]]]:
    """What is known about a shop, without ids and timestamps (which differ between DBs)."""
    return {
        "products": sorted(
            rows(
                db,
                "SELECT p.shop_product_id, p.style_code, p.title, p.url, p.handle, "
                "p.colorway_name, p.image FROM products p JOIN shops s ON s.id = p.shop_id "
                "WHERE s.name = ?",
                shop,
            )
        ),
        "variants": sorted(
            rows(
                db,
                "SELECT v.shop_variant_id, v.style_code, v.size_label, v.size_us, v.width, v.sku, "
                "v.gtin, v.currency, v.price_minor, v.compare_at_minor, v.stock, v.misses "
                "FROM variants v JOIN shops s ON s.id = v.shop_id WHERE s.name = ?",
                shop,
            ),
            key=repr,
        ),
        "history": sorted(
            rows(
                db,
                "SELECT v.shop_variant_id, h.price_minor, h.compare_at_minor, h.currency, "
                "h.stock FROM history h JOIN variants v ON v.id = h.variant_id "
                "JOIN shops s ON s.id = v.shop_id WHERE s.name = ?",
                shop,
            ),
            key=repr,
        ),
    }


def counts(report: CrawlReport) -> tuple[object, ...]:
    return (report.status, report.products, report.variants, report.changes, report.dropped)


# -- a real Scrapyd -----------------------------------------------------------------------------


def _start_scrapyd(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\n"
        f"items_dir = {home / 'items'}\n"
        f"dbs_dir = {home / 'dbs'}\n"
        "max_proc = 4\n"
        "jobs_to_keep = 100\n"
        # how often Scrapyd looks for scheduled jobs (default 5 s)
        "poll_interval = 0.2\n",
        "utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY", "PRICEWATCH"))}
    log = (home / "scrapyd.out").open("wb")
    # cwd: Scrapyd reads ./scrapyd.conf, and must not find the checkout's scrapy.cfg
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapyd"], cwd=home, env=env, stdout=log, stderr=log
    )
    log.close()
    return process, f"http://127.0.0.1:{port}"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/daemonstatus.json", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Scrapyd on a free port of 127.0.0.1, with every directory in a temporary one."""
    pytest.importorskip("scrapyd", reason="scrapyd is not installed (pip install '.[test]')")
    problem = ""
    for attempt in range(2):  # a second try if another process took the free port meanwhile
        home = tmp_path_factory.mktemp(f"scrapyd{attempt}")
        process, url = _start_scrapyd(home)
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(url):
                try:
                    yield url
                finally:
                    _stop(process)
                return
            time.sleep(0.1)
        _stop(process)
        output = (home / "scrapyd.out").read_text("utf-8", "replace")[-2000:]
        problem = f"exit code {process.returncode}: {output}"
    pytest.skip(f"scrapyd could not be started on 127.0.0.1: {problem}")


@pytest.fixture(scope="module")
def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.fixture(scope="module")
def backend(scrapyd: str, dead_url: str) -> ScrapydBackend:
    # The dead server comes first: the backend must skip it and use the live one.
    return ScrapydBackend([dead_url, scrapyd], poll_interval=0.2, cancel_grace=2.0)


# -- the scenario: two passes over two shops, and a local crawl for comparison ------------------


@dataclass
class Passes:
    config: Config
    local_db: Path
    first: dict[str, CrawlReport]
    local: CrawlReport
    good_first: dict[str, list[tuple[object, ...]]]  # Good's rows after the first pass
    bad_before: dict[str, list[tuple[object, ...]]]
    second: dict[str, CrawlReport]


@pytest.fixture(scope="module")
def passes(backend: ScrapydBackend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Passes]:
    home = tmp_path_factory.mktemp("passes")
    with ReplicaShop() as good, ReplicaShop() as bad:
        config = make_config(home / "scrapyd.db", {"Good": good, "Bad": bad})
        local_config = make_config(home / "local.db", {"Good": good})
        good.set_price("M2002RHO", "0.00", size="9")  # dropped, with a reason, by both
        # Pass 1 through Scrapyd and the same shop crawled locally, at the same time.
        with ThreadPoolExecutor(1) as pool:
            local = pool.submit(LocalBackend().crawl, local_config, local_config.shops)
            first = {r.shop: r for r in backend.crawl(config, config.shops)}
            [local_report] = local.result()
        good_first = shop_state(config.db_path, "Good")
        bad_before = shop_state(config.db_path, "Bad")
        # Pass 2: a price drop at one shop, a broken feed at the other.
        good.set_price("M2002RDA", "119.99", size="10")
        bad.misbehave("500")
        second = {r.shop: r for r in backend.crawl(config, config.shops)}
        yield Passes(
            config, local_config.db_path, first, local_report, good_first, bad_before, second
        )


def test_a_crawl_through_scrapyd_gives_the_same_rows_as_a_local_crawl(passes: Passes) -> None:
    scrapyd, local = passes.first["Good"], passes.local
    assert scrapyd.ok and local.ok, (scrapyd.error, local.error)
    assert counts(scrapyd) == counts(local)
    assert scrapyd.dropped == 1  # the "0.00" price, refused on ingest as it is locally
    assert scrapyd.variants > 100  # the replica's whole 2002R catalog, not a trickle
    assert passes.good_first == shop_state(passes.local_db, "Good")


def test_a_price_change_between_crawls_is_one_history_row_and_one_price_drop(
    passes: Passes,
) -> None:
    report = passes.second["Good"]
    assert report.ok and report.changes == 1, report.error
    db = passes.config.db_path
    new_rows = rows(
        db,
        "SELECT v.style_code, v.size_label, h.price_minor FROM history h "
        "JOIN variants v ON v.id = h.variant_id WHERE h.crawl_id = ?",
        report.crawl_id,
    )
    assert new_rows == [("M2002RDA", "10", 11999)]
    events = rows(
        db,
        "SELECT kind, style_code, size_label, old_price_minor, new_price_minor FROM events "
        "WHERE crawl_id = ?",
        report.crawl_id,
    )
    assert events == [("price_drop", "M2002RDA", "10", 14499, 11999)]


def test_a_failing_shop_is_recorded_failed_and_keeps_its_state(passes: Passes) -> None:
    assert passes.first["Bad"].ok
    report = passes.second["Bad"]
    assert report.status == "failed" and "HTTP 500" in (report.error or ""), report.error
    assert shop_state(passes.config.db_path, "Bad") == passes.bad_before
    crawls = rows(
        passes.config.db_path,
        "SELECT c.status, c.error FROM crawls c JOIN shops s ON s.id = c.shop_id "
        "WHERE s.name = 'Bad' ORDER BY c.id",
    )
    assert [status for status, _ in crawls] == ["ok", "failed"]


def test_a_hung_job_is_cancelled_at_the_time_limit(
    backend: ScrapydBackend, scrapyd: str, tmp_path: Path
) -> None:
    with ReplicaShop() as slow:
        slow.misbehave("timeout", delay=60.0)
        config = make_config(tmp_path / "slow.db", {"Slow": slow}, timeout=60.0)
        started = time.monotonic()
        [report] = backend.crawl(config, config.shops, time_limit=3)
        took = time.monotonic() - started
    assert report.status == "failed" and report.error == "time limit of 3 s exceeded"
    assert took < 3 + 2 * backend.cancel_grace + 5  # cancelled, not waited out
    with urllib.request.urlopen(f"{scrapyd}/listjobs.json?project=pricewatch") as response:
        listing = json.load(response)
    active = [job["id"] for job in listing["pending"] + listing["running"]]
    assert not [job for job in active if job.startswith("slow-")]  # stopped, not left hanging


def test_scrapyd_down_fails_the_crawl_with_a_clear_error(dead_url: str, tmp_path: Path) -> None:
    with ReplicaShop() as shop:
        config = make_config(tmp_path / "down.db", {"Shop": shop})
        [report] = ScrapydBackend([dead_url]).crawl(config, config.shops)
        assert shop.requests == []  # nothing crawled it
    assert report.status == "failed"
    assert f"cannot reach Scrapyd at {dead_url}" in (report.error or ""), report.error
    assert rows(config.db_path, "SELECT status, error FROM crawls") == [("failed", report.error)]
    assert rows(config.db_path, "SELECT count(*) FROM variants") == [(0,)]


# -- without a server -------------------------------------------------------------------------


def test_the_egg_holds_the_packages_and_names_the_settings_module() -> None:
    egg = build_egg()
    assert build_egg() == egg  # same files, same egg, same version: deployed once
    with zipfile.ZipFile(io.BytesIO(egg.data)) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    assert {
        "scrapers/settings.py",
        "scrapers/spiders/shopify.py",
        "pricewatch/config/schema.py",
    } <= names
    assert "scrapers/scrapyd_support.py" in names
    assert "pricewatch/configs/default.toml" in names  # package data too
    assert not any("__pycache__" in name for name in names)
    assert entry_points == "[scrapy]\nsettings = scrapers.settings\n"


def test_backend_for_follows_the_config(tmp_path: Path) -> None:
    config = make_config(tmp_path / "x.db", {})
    assert isinstance(backend_for(config), LocalBackend)
    urls = ("http://10.0.0.5:6800", "http://10.0.0.6:6800")
    scrapyd_config = config.replace(
        crawl=CrawlConfig(backend="scrapyd", scrapyd_urls=urls, scrapyd_project="pw")
    )
    backend = backend_for(scrapyd_config)
    assert isinstance(backend, ScrapydBackend)
    assert [s.url for s in backend.servers] == list(urls) and backend.project == "pw"


def test_a_job_gets_one_shop_no_secrets_no_pipelines_and_the_outcome_extension(
    tmp_path: Path,
) -> None:
    with ReplicaShop() as one, ReplicaShop() as other:
        config = make_config(tmp_path / "x.db", {"One": one, "Other": other})
    config = config.replace(telegram=dataclasses.replace(config.telegram, token="123:secret"))
    settings = dict(job_settings(config, config.shops[0], "INFO"))
    sent = Config.from_json(settings["PRICEWATCH_CONFIG_JSON"])
    assert sent.shops == (config.shops[0],) and sent.telegram.token is None
    assert "secret" not in "".join(settings.values())
    assert settings["ITEM_PIPELINES"] == "{}"  # the worker writes no database
    assert json.loads(settings["EXTENSIONS"]) == {SIDECAR_EXTENSION: 900}
    assert (settings["LOG_LEVEL"], settings["ROBOTSTXT_OBEY"]) == ("INFO", "True")
    assert "PRICEWATCH_DB" not in settings and "PRICEWATCH_CONFIG" not in settings


def test_feed_lines_come_back_as_the_exact_listing_items() -> None:
    line = {
        "shop": "Kith",
        "product_id": "1",
        "variant_id": "2",
        "title": "New Balance 2002R",
        "url": "https://kith.com/products/x",
        "size_label": "10",
        "price": "144.99",
        "currency": "USD",
        "available": True,
        "compare_at": None,
        "style_code": "M2002RDA",
    }
    item = item_from_json(line)
    assert item.price == Decimal("144.99") and item.compare_at is None
    assert item.style_code == "M2002RDA" and item.available is True
    good = json.dumps(line)
    assert parse_items(f"{good}\n\n{good}\n".encode()) == [item, item]
    with pytest.raises(FeedError, match="line 2"):
        parse_items(f'{good}\n{{"shop": "Kith"')
    with pytest.raises(FeedError, match="listing without"):
        item_from_json({"shop": "Kith"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "unreadable outcome file"),
        ('{"format": 99, "reason": "finished", "stats": {}}', "unknown format"),
        ('{"format": 1, "stats": {}}', "without a close reason"),
        ('{"format": 1, "reason": "finished", "stats": {"item_scraped_count": "9"}}', "count"),
    ],
)
def test_a_bad_outcome_file_is_refused(text: str, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_outcome(text)
