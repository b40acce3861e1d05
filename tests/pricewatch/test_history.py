"""History queries: the summary's figures on a known history, periods, and index use."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from pricewatch.cli import cli
from pricewatch.history import (
    SinceError,
    UnknownStyleError,
    crawl_changes,
    current_offers,
    history_summary,
    parse_since,
    price_history,
)
from pricewatch.models import Stock
from pricewatch.store import Store
from pricewatch.web.queries import PRICE_HISTORY
from tests.pricewatch.history_data import NOW, OUT, Clock, build_known, crawl, listing


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once for the module: the tests here only read it."""
    path = tmp_path_factory.mktemp("history") / "known.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        build_known(path, monkeypatch)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", "2026-10-23T12:00:00.000000Z"),
        ("12h", "2026-11-22T00:00:00.000000Z"),
        ("2w", "2026-11-08T12:00:00.000000Z"),
        ("6m", "2026-05-26T12:00:00.000000Z"),  # months of 30 days
        (" 1Y ", "2025-11-22T12:00:00.000000Z"),
        ("2026-10-01", "2026-10-01T00:00:00.000000Z"),
        ("2026-10-01T14:30:00+02:00", "2026-10-01T12:30:00.000000Z"),
        ("2026-11-25T13:45:00.123456Z", "2026-11-25T13:45:00.123456Z"),
    ],
)
def test_since_reads_periods_and_dates(text: str, expected: str) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize(
    "text", ["", "0d", "30", "30x", "d30", "2026-13-01", "yesterday", "9" * 30]
)
def test_bad_since_is_a_named_error(text: str) -> None:
    with pytest.raises(SinceError, match="use 30d, 12h, 2w, 6m or a date"):
        parse_since(text, now=NOW)


def test_summary_of_a_known_history(known: Path) -> None:
    with Store(known, create=False) as store:
        summary = history_summary(store, "m2002rda", 10.0, now=NOW)
    assert summary.style_code == "M2002RDA" and summary.name == "Rain Cloud"
    # in stock only, per currency: Kith's 119.99 was sold out, EUR is not compared with USD
    assert [(p.price, p.currency, p.shop, p.when[:10]) for p in summary.lowest_ever] == [
        (Decimal("140.00"), "EUR", "Footpatrol", "2026-10-26"),
        (Decimal("129.99"), "USD", "Kith", "2026-10-11"),
    ]
    assert summary.lowest_in_period == summary.lowest_ever  # no period: all of it
    # Concepts is cheaper than nothing but its latest crawl failed: unknown, not in stock
    assert [(o.shop, o.price, o.stock) for o in summary.cheapest_now] == [
        ("Bodega", Decimal("134.99"), Stock.IN_STOCK)
    ]
    assert summary.days_since_in_stock == 0
    assert summary.changes == 11


def test_summary_in_a_period(known: Path) -> None:
    with Store(known, create=False) as store:
        summary = history_summary(store, "M2002RDA", 10.0, since="2026-11-05", now=NOW)
    assert summary.since == "2026-11-05T00:00:00.000000Z"
    assert [(p.price, p.shop, p.when[:10]) for p in summary.lowest_in_period] == [
        (Decimal("140.00"), "Footpatrol", "2026-10-26"),  # still true on 2026-11-05
        (Decimal("134.99"), "Bodega", "2026-11-15"),
    ]
    assert [p.price for p in summary.lowest_ever] == [Decimal("140.00"), Decimal("129.99")]
    assert summary.changes == 7


@pytest.mark.parametrize(
    ("shop", "cheapest", "last_in_stock", "days"),
    [
        ("kith", [], "2026-11-05", 17),  # in stock until day 35, sold out since
        ("Concepts", [], "2026-11-15", 7),  # seen in stock on day 45; day 50's crawl failed
        ("Footpatrol", [], "2026-11-05", 17),
        ("Bodega", [Decimal("134.99")], "2026-11-20", 0),
    ],
)
def test_summary_days_since_last_in_stock(
    known: Path, shop: str, cheapest: list[Decimal], last_in_stock: str, days: int
) -> None:
    with Store(known, create=False) as store:
        summary = history_summary(store, "M2002RDA", 10.0, shop=shop, now=NOW)
    assert [o.price for o in summary.cheapest_now] == cheapest
    assert (summary.last_in_stock or "")[:10] == last_in_stock
    assert summary.days_since_in_stock == days


def test_summary_of_a_size_never_in_stock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pricewatch.store.utc_now", Clock())
    with Store(tmp_path / "x.db") as store:
        crawl(store, "Kith", [listing("Kith", 10, "144.99", OUT)])
        summary = history_summary(store, "M2002RDA", 10.0, now=NOW)
    assert summary.lowest_ever == () and summary.cheapest_now == ()
    assert summary.last_in_stock is None and summary.days_since_in_stock is None


def test_history_rows_in_a_period_and_unknown_styles(known: Path) -> None:
    with Store(known, create=False) as store:
        rows = price_history(store, "M2002RDA", 10.0, shop="Kith", since="2026-11-05")
        assert [(r.price, r.stock) for r in rows] == [
            (Decimal("139.99"), Stock.IN_STOCK),
            (Decimal("139.99"), Stock.SOLD_OUT),
        ]
        with pytest.raises(UnknownStyleError) as error:
            price_history(store, "M2002RDB")
    assert "M2002RDA" in error.value.suggestions


def test_history_table_prints_the_summary(known: Path) -> None:
    result = CliRunner().invoke(
        cli, ["history", "M2002RDA", "--size", "eu44", "--since", "2026-11-05", "--db", str(known)]
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Price history: M2002RDA US 10 (Rain Cloud) since 2026-11-05 00:00 UTC" in out
    assert "Lowest ever: €140.00 at Footpatrol (from 2026-10-26); $129.99 at Kith" in out
    assert (
        "Lowest since 2026-11-05: €140.00 at Footpatrol (from 2026-10-26); $134.99 at Bodega" in out
    )
    assert "Cheapest now: $134.99 at Bodega" in out and "Last in stock: in stock now" in out


def test_history_json_stays_a_list_of_rows(known: Path) -> None:
    result = CliRunner().invoke(
        cli, ["history", "M2002RDA", "--size", "10", "--shop", "Kith", "--since", "30d",
              "--db", str(known), "--format", "json"]
    )  # fmt: skip
    assert result.exit_code == 0 and result.output.lstrip().startswith("[")


def test_bad_since_on_the_command_line(known: Path) -> None:
    result = CliRunner().invoke(
        cli, ["history", "M2002RDA", "--since", "lately", "--db", str(known)]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: cannot read 'lately' as a period: use 30d, 12h, 2w, 6m or a date like 2026-10-01"
    )


# -- index use ------------------------------------------------------------------------------

_SCAN_HISTORY = re.compile(r"\bSCAN (h|history)\b")


def _plans(store: Store, statements: list[str]) -> list[str]:
    return [
        "\n".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        for sql in statements
        if sql.lstrip().upper().startswith(("SELECT", "WITH"))
    ]


def test_history_and_cheapest_now_queries_use_indexes(known: Path) -> None:
    with Store(known, create=False) as store:
        statements: list[str] = []  # every statement, with its parameters inlined
        store.db.conn.set_trace_callback(statements.append)
        price_history(store, "M2002RDA", 10.0)
        price_history(store, "M2002RDA", shop="Kith", since="2026-11-05")
        history_summary(store, "M2002RDA", 10.0, since="30d")
        current_offers(store, "M2002RDA", 10.0)
        store.db.conn.set_trace_callback(None)
        plans = _plans(store, statements)
        web = _plans(
            store, [PRICE_HISTORY.replace(":style_code", "'m2002rda'").replace(":size_us", "10")]
        )
    on_history = [p for p in plans + web if "history" in p or " h " in f" {p} "]
    assert len(plans) >= 7 and len(on_history) >= 5
    for plan in plans + web:
        assert not _SCAN_HISTORY.search(plan), plan
        assert "SCAN v" not in plan, plan  # variants found by style code, not scanned
    for plan in on_history:
        assert re.search(
            r"SEARCH (h|history) USING (COVERING )?INDEX idx_history_variant_covering", plan
        )
    assert any("SEARCH c USING INDEX idx_crawls_shop_id_id (shop_id=?)" in p for p in plans)


def test_crawl_changes_use_indexes_and_find_each_change(known: Path) -> None:
    with Store(known, create=False) as store:
        last_kith_change = store.db.execute(
            "SELECT max(c.id) FROM crawls c JOIN shops s ON s.id = c.shop_id "
            "WHERE s.name = 'Kith' AND c.started LIKE '2026-11-10%'"
        ).fetchone()[0]
        statements: list[str] = []
        store.db.conn.set_trace_callback(statements.append)
        changes = crawl_changes(store, [last_kith_change])
        store.db.conn.set_trace_callback(None)
        plans = _plans(store, statements)
    assert [(c.style_code, c.size_label) for c in changes] == [("M2002RDA", "10")]
    assert changes[0].old is not None and changes[0].old.stock == Stock.IN_STOCK
    assert changes[0].new.stock == Stock.SOLD_OUT
    for plan in plans:
        assert not _SCAN_HISTORY.search(plan), plan


# -- price_history against the plain join -----------------------------------------------------

_PLAIN_JOIN = """
SELECT h.first_seen, coalesce(h.last_seen, h.first_seen), s.name, v.style_code, v.size_label,
       v.size_us, h.price_minor, h.compare_at_minor, h.currency, h.stock
FROM history h JOIN variants v ON v.id = h.variant_id JOIN shops s ON s.id = v.shop_id
WHERE v.style_code = ? AND (? IS NULL OR v.size_us = ?) AND (? IS NULL OR s.name = ?)
  AND coalesce(h.last_seen, h.first_seen) >= ?
ORDER BY h.first_seen, s.name, v.size_us, v.id, h.id
"""


@pytest.mark.parametrize(
    ("size_us", "shop", "since"),
    [(None, None, None), (10.0, None, None), (None, "Kith", None), (10.0, None, "2026-11-05")],
)
def test_history_is_the_plain_join_in_time_order(
    known: Path,
    tmp_path: Path,
    size_us: float | None,
    shop: str | None,
    since: str | None,
) -> None:
    """Read per variant and merged, the rows are exactly those of one join ordered by time,
    shop, size; a row kept in a currency the shop no longer uses keeps that currency."""
    path = tmp_path / "copy.db"
    path.write_bytes(known.read_bytes())
    with Store(path, create=False) as store:
        store.db.execute(  # as if Kith had priced in yen (no minor unit) when it was written
            "UPDATE history SET currency = 'JPY' WHERE id = (SELECT min(h.id) FROM history h "
            "JOIN variants v ON v.id = h.variant_id JOIN shops s ON s.id = v.shop_id "
            "WHERE s.name = 'Kith' AND v.style_code = 'M2002RDA' AND v.size_us = 10)"
        )
        store.db.conn.commit()
        rows = price_history(store, "M2002RDA", size_us, shop, since)
        plain = store.db.execute(
            _PLAIN_JOIN, ["M2002RDA", size_us, size_us, shop, shop, since or ""]
        ).fetchall()
    assert len(rows) == len(plain) > 1
    expected = [
        (first, last, shop_, code, label, us, Decimal(price).scaleb(-exp), stock)
        for first, last, shop_, code, label, us, price, _, currency, stock in plain
        for exp in [0 if currency == "JPY" else 2]
    ]
    got = [
        (r.first_seen, r.last_seen, r.shop, r.style_code, r.size_label, r.size_us, r.price, r.stock)
        for r in rows
    ]
    assert got == expected
    assert [r.currency for r in rows] == [row[8] for row in plain]
    assert since or "JPY" in {r.currency for r in rows}
