"""`pricewatch web`: Datasette's canned queries over a real database, read-only, through
Datasette's own test client; and the real launcher refusing requests not addressed to it."""

from __future__ import annotations

import asyncio
import http.client
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pricewatch.cli import cli
from pricewatch.history import current_offers
from pricewatch.models import Stock
from pricewatch.store import Store, StoreError
from pricewatch.web import QUERIES, WebUnavailableError, make_datasette, metadata, serve
from pricewatch.web.hosts import HostCheck, HostPolicy
from pricewatch.web.server import split_config
from tests.pricewatch.history_data import IN, Clock, build_known, crawl, listing

# The events table as this query assumes it (issue 4 adds it to the store's schema); created
# here when the store does not have it yet, so these tests pass before and after that change.
EVENTS_TABLE = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, crawl_id INTEGER NOT NULL, shop_id INTEGER NOT NULL,
    variant_id INTEGER NOT NULL, kind TEXT NOT NULL, style_code TEXT NOT NULL, size_us REAL,
    old_price_minor INTEGER, new_price_minor INTEGER, currency TEXT, old_stock TEXT,
    new_stock TEXT, created TEXT NOT NULL
)
"""
EVENTS = [
    # kind, shop, variant's size, old price, new price, currency, old stock, new stock, created
    ("price_drop", "Kith", "10", 14499, 12999, "USD", "in_stock", "in_stock", "2026-10-11"),
    ("sold_out", "Footpatrol", "10", 14000, 12000, "EUR", "in_stock", "sold_out", "2026-11-10"),
    ("restock", "Kith", "9", 9999, 9999, "USD", "sold_out", "in_stock", "2026-11-12"),
]


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web") / "known.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        build_known(path, monkeypatch)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(EVENTS_TABLE)
        conn.execute("DELETE FROM events")  # only the events below, whatever crawls wrote
        for i, (kind, shop, size, old, new, cur, was, now, created) in enumerate(EVENTS):
            shop_id, variant_id, crawl_id = conn.execute(
                "SELECT v.shop_id, v.id, v.last_crawl_id FROM variants v JOIN shops s "
                "ON s.id = v.shop_id WHERE s.name = ? AND v.size_label = ? "
                "AND v.style_code = 'M2002RDA'",
                [shop, size],
            ).fetchone()
            conn.execute(
                "INSERT INTO events (id, crawl_id, shop_id, variant_id, kind, style_code, "
                "size_us, old_price_minor, new_price_minor, currency, old_stock, new_stock, "
                "created) VALUES (?, ?, ?, ?, ?, 'M2002RDA', ?, ?, ?, ?, ?, ?, ?)",
                [i + 1, crawl_id, shop_id, variant_id, kind, float(size), old, new, cur, was,
                 now, f"{created}T12:00:00.000000Z"],
            )  # fmt: skip
    return path


@pytest.fixture
def datasette(known: Path) -> Iterator[Any]:
    ds = make_datasette(known)
    yield ds
    for database in ds.databases.values():
        database.close()


def get(ds: Any, path: str) -> Any:
    async def fetch() -> Any:
        return await ds.client.get(path)

    return asyncio.run(fetch())


def rows(ds: Any, path: str) -> list[dict[str, Any]]:
    response = get(ds, f"{path}{'&' if '?' in path else '?'}_shape=objects")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["rows"]
    return result


def test_cheapest_now_per_colorway_and_size(datasette: Any) -> None:
    found = rows(datasette, "/known/cheapest_now.json")
    assert [
        (r["style_code"], r["size_us"], r["shop"], r["price"], r["currency"]) for r in found
    ] == [
        ("M2002RDA", 9.0, "Kith", "99.99", "USD"),
        # Kith is sold out, Concepts' latest crawl failed (unknown), Footpatrol's EUR sold out
        ("M2002RDA", 10.0, "Bodega", "134.99", "USD"),
        ("M2002RFB", 10.0, "Kith", "89.99", "USD"),
    ]
    assert found[1]["colorway"] == "Rain Cloud"
    assert found[1]["url"] == "https://bodega.example/products/m2002rda?variant=Bodega-M2002RDA-10"
    narrowed = rows(datasette, "/known/cheapest_now.json?style_code=m2002rfb")
    assert [r["style_code"] for r in narrowed] == ["M2002RFB"]


def test_cheapest_now_agrees_with_the_library(datasette: Any, known: Path) -> None:
    with Store(known, create=False) as store:
        best: dict[tuple[str, float | None, str], str] = {}
        for offer in current_offers(store):
            if offer.stock == Stock.IN_STOCK:
                best.setdefault((offer.style_code, offer.size_us, offer.currency), str(offer.price))
    web = {
        (r["style_code"], r["size_us"], r["currency"]): r["price"]
        for r in rows(datasette, "/known/cheapest_now.json")
    }
    assert web == best


def test_price_history_of_one_colorway(datasette: Any) -> None:
    found = rows(datasette, "/known/price_history.json?style_code=m2002rda&size_us=10")
    assert len(found) == 11  # every change of US 10, newest first
    assert [
        (r["since"][:10], r["shop"], r["price"], r["currency"], r["stock"]) for r in found[:3]
    ] == [
        ("2026-11-15", "Bodega", "134.99", "USD", "in_stock"),
        ("2026-11-10", "Footpatrol", "120.00", "EUR", "sold_out"),
        ("2026-11-10", "Kith", "139.99", "USD", "sold_out"),
    ]
    every_size = rows(datasette, "/known/price_history.json?style_code=M2002RDA")
    assert len(every_size) == 12 and {r["size_us"] for r in every_size} == {9.0, 10.0}


def test_recent_events(datasette: Any) -> None:
    found = rows(datasette, "/known/recent_events.json")
    assert [
        (r["kind"], r["shop"], r["size_label"], r["old_price"], r["new_price"], r["new_stock"])
        for r in found
    ] == [
        ("restock", "Kith", "9", "99.99", "99.99", "in_stock"),
        ("sold_out", "Footpatrol", "10", "140.00", "120.00", "sold_out"),
        ("price_drop", "Kith", "10", "144.99", "129.99", "in_stock"),
    ]
    assert found[0]["colorway"] == "Rain Cloud"
    assert rows(datasette, "/known/recent_events.json?style_code=M2002RFB") == []


def test_metadata_describes_tables_and_units(datasette: Any) -> None:
    page = get(datasette, "/known/history")
    assert page.status_code == 200
    assert "Price and stock history" in page.text and "One row per change of" in page.text
    assert "currency (cents: 14499 = 144.99 USD; JPY and KRW have none" in page.text
    listing_page = get(datasette, "/known").text
    assert all(QUERIES[name]["title"] in listing_page for name in QUERIES)


def test_datasette_1_reads_queries_and_permissions_from_its_config() -> None:
    described, config = split_config(metadata("db", allow_sql=False))
    database = config["databases"]["db"]
    assert set(database["queries"]) == set(QUERIES) and database["allow_sql"] is False
    assert database["tables"]["chats"] == {"hidden": True, "allow": False}
    kept = described["databases"]["db"]
    assert "queries" not in kept and kept["tables"]["history"]["title"] == "Price and stock history"
    assert described["title"] == "2002R price watch"


def test_served_read_only_and_sees_new_crawls(
    datasette: Any, known: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = datasette.databases["known"]
    assert database.is_mutable  # not immutable: crawls keep writing while it serves
    with closing(database.connect()) as conn, pytest.raises(sqlite3.OperationalError, match="read"):
        conn.execute("DELETE FROM shops")
    refused = get(datasette, "/known.json?sql=delete+from+shops")
    assert refused.status_code == 400

    path = tmp_path / "live.db"
    shutil.copy(known, path)
    live = make_datasette(path)
    try:
        assert [r["price"] for r in rows(live, "/live/cheapest_now.json?style_code=m2002rfb")] == [
            "89.99"
        ]
        clock = Clock()
        clock.at_day(51)
        monkeypatch.setattr("pricewatch.store.utc_now", clock)
        with Store(path, create=False) as store:  # a crawl while the server is up
            crawl(store, "Kith", [listing("Kith", 10, "79.99", IN, "M2002RFB", "Autumn")])
        assert [r["price"] for r in rows(live, "/live/cheapest_now.json?style_code=m2002rfb")] == [
            "79.99"
        ]
    finally:
        for database in live.databases.values():
            database.close()


def test_private_tables_and_own_sql(known: Path) -> None:
    local = make_datasette(known)
    public = make_datasette(known, allow_sql=False)
    try:
        assert get(local, "/known/chats.json").status_code == 403
        assert get(local, "/known.json?sql=select+count(*)+from+history").status_code == 200
        assert get(public, "/known.json?sql=select+count(*)+from+history").status_code == 403
        assert rows(public, "/known/cheapest_now.json")  # the canned queries still run
    finally:
        for ds in (local, public):
            for database in ds.databases.values():
                database.close()


def test_queries_over_missing_tables_are_left_out() -> None:
    old = metadata("old", tables={"shops", "variants", "history", "crawls"})
    assert set(old["databases"]["old"]["queries"]) == {"cheapest_now", "price_history"}
    assert set(metadata("new")["databases"]["new"]["queries"]) == set(QUERIES)


def test_missing_database_or_datasette_is_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(StoreError, match="no database at"):
        make_datasette(tmp_path / "none.db")
    result = CliRunner().invoke(cli, ["web", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "Error: no database at" in result.output
    monkeypatch.setitem(sys.modules, "datasette.app", None)  # as if the extra is not installed
    with pytest.raises(
        WebUnavailableError, match=r"pip install '\.\[web\]' \(in the pricewatch checkout\)"
    ):
        make_datasette(tmp_path / "none.db")


def test_serve_runs_datasette_read_only(known: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append((app, kwargs)))
    ready: list[str] = []
    serve(known, host="0.0.0.0", port=8123, on_ready=ready.append)
    assert ready == ["http://0.0.0.0:8123/known"]
    assert calls and calls[0][1]["host"] == "0.0.0.0" and calls[0][1]["port"] == 8123

    result = CliRunner().invoke(cli, ["web", "--db", str(known), "--port", "8124"])
    assert result.exit_code == 0, result.output
    assert f"Serving {known} read-only at http://127.0.0.1:8124/known" in result.output
    assert isinstance(calls[0][0], HostCheck)  # the launcher serves Datasette behind it


# -- DNS rebinding: only requests addressed to this server are answered ------------------------


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(port: int, host_header: str | None, path: str) -> tuple[int, bytes]:
    """GET ``path`` from 127.0.0.1:port with this Host header (None: no Host header)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        if host_header is not None:
            conn.putheader("Host", host_header)
        conn.endheaders()
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


@pytest.fixture
def web_server(known: Path) -> Iterator[int]:
    """The real `pricewatch web` launcher (a child process) on a free loopback port."""
    port = free_port()
    command = [sys.executable, "-c", "from pricewatch.cli import main; main()", "web"]
    command += ["--db", str(known), "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and "Serving" in child.stdout.readline()
        deadline = time.monotonic() + 30
        while True:  # it said so just before binding: wait until it accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and child.poll() is None, "no server"
                time.sleep(0.05)
        yield port
    finally:
        child.terminate()
        child.wait(30)


def test_web_refuses_a_foreign_host_header(web_server: int) -> None:
    port = web_server
    path = "/known/history.json?_shape=array&_size=1"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST.:{port}"):
        status, body = request(port, host, path)
        assert status == 200 and b"price_minor" in body, host
    # a page of evil.example whose name now resolves to 127.0.0.1: its requests say so
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}"):
        status, body = request(port, host, path)
        assert status == 421 and body.startswith(b"421 Misdirected Request"), host
        assert b"price_minor" not in body
    status, body = request(port, None, path)  # HTTP/1.1 without Host: the server refuses it
    assert status == 400 and b"price_minor" not in body


def test_host_policy() -> None:
    loopback = HostPolicy("127.0.0.1", 8001)
    assert loopback.allows("127.0.0.1:8001") and loopback.allows("localhost:8001")
    assert loopback.allows("[::1]:8001") and not loopback.allows("::1")  # that is port 80
    assert not loopback.allows("192.168.1.5:8001") and not loopback.allows("localhost:8002")
    assert not loopback.allows("localhost:8001:1") and not loopback.allows("")
    assert HostPolicy("127.0.0.1", 80).allows("localhost")  # browsers leave out port 80
    everywhere = HostPolicy("0.0.0.0", 8001, ["NAS.local"])
    assert everywhere.allows("192.168.1.5:8001") and everywhere.allows("[fe80::1]:8001")
    assert everywhere.allows("nas.local:8001") and everywhere.allows("localhost:8001")
    assert not everywhere.allows("evil.example:8001")
    one = HostPolicy("192.168.1.5", 8001)
    assert one.allows("192.168.1.5:8001") and not one.allows("10.0.0.1:8001")
    assert not one.allows("localhost:8001")  # it does not listen on loopback


def test_host_check_needs_exactly_one_host_header() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    check = HostCheck(app, HostPolicy("127.0.0.1", 8001))
    two = [(b"host", b"localhost:8001"), (b"host", b"evil.example:8001")]
    asyncio.run(check({"type": "http", "headers": two}, receive, send))
    asyncio.run(check({"type": "lifespan"}, receive, send))  # startup and shutdown pass
    one = [(b"host", b"localhost:8001")]
    asyncio.run(check({"type": "http", "headers": one}, receive, send))
    assert sent[0]["status"] == 421 and seen == ["lifespan", "http"]
