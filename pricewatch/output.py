"""Rendering query results for a terminal (rich tables), CSV or JSON.

Kept apart from `cli` so the bot and scripts can reuse the same rows.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rich.table import Table

from pricewatch.catalog import FAMILIES
from pricewatch.crawl import CrawlReport
from pricewatch.history import (
    Change,
    ColorwaySummary,
    HistoryRow,
    HistorySummary,
    Offer,
    PricePoint,
)
from pricewatch.lookup import family_of
from pricewatch.models import Stock
from pricewatch.prices import format_price
from pricewatch.sizes import format_size
from pricewatch.status import WatchStatus
from pricewatch.styles import KNOWN_COLORWAYS

FORMATS = ("table", "csv", "json")


def _size(size_us: float | None, label: str) -> str:
    return f"US {format_size(size_us)}" if size_us is not None else label


def _when(timestamp: str) -> str:
    return timestamp.replace("T", " ")[:16]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def rows_as_json(rows: Sequence[Any]) -> str:
    """Dataclass rows as JSON; prices stay exact decimal strings ("144.99"), never floats."""
    return json.dumps([_jsonable(dataclasses.asdict(row)) for row in rows], indent=2)


def rows_as_csv(rows: Sequence[Any], row_type: type | None = None) -> str:
    """Dataclass rows as CSV of plain values a spreadsheet reads: lists joined with "; ",
    stock in words, offers as "150.00 USD at Kith", None empty. No rows still gives the header
    (of ``row_type``)."""
    kind = type(rows[0]) if rows else row_type
    if kind is None:
        return ""
    buffer = io.StringIO()
    fields = [f.name for f in dataclasses.fields(kind)]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(getattr(row, k)) for k in fields})
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Stock):
        return value.value.replace("_", " ")  # "in stock", "sold out", "unknown", as the table
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return "; ".join(_csv_cell(v) for v in value)
    if isinstance(value, Offer):
        return f"{value.price} {value.currency} at {value.shop}"
    return str(value)


def history_table(rows: Sequence[HistoryRow], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("since", "until", "shop", "size", "price", "was", "stock"):
        table.add_column(column, justify="right" if column in ("price", "was") else "left")
    for row in rows:
        table.add_row(
            _when(row.first_seen),
            _when(row.last_seen),
            row.shop,
            _size(row.size_us, row.size_label),
            format_price(row.price, row.currency),
            format_price(row.compare_at, row.currency) if row.compare_at else "",
            row.stock.value.replace("_", " "),
        )
    return table


def _where(item: PricePoint | Offer, with_size: bool) -> str:
    size = f", {_size(item.size_us, item.size_label)}" if with_size else ""
    return f"{format_price(item.price, item.currency)} at {item.shop}{size}"


def summary_fields(summary: HistorySummary) -> list[tuple[str, str]]:
    """The summary as (label, text) pairs, one per figure; prices per currency, "; "-joined."""
    sized = summary.size_us is None  # name the size only when the rows cover several

    def points(items: Sequence[PricePoint]) -> str:
        return "; ".join(f"{_where(p, sized)} (from {p.when[:10]})" for p in items)

    fields = [("Lowest ever", points(summary.lowest_ever) or "never seen in stock")]
    if summary.since:
        fields.append(
            (
                f"Lowest since {summary.since[:10]}",
                points(summary.lowest_in_period) or "not in stock in that period",
            )
        )
    cheapest = "; ".join(_where(o, sized) for o in summary.cheapest_now)
    fields.append(("Cheapest now", cheapest or "none in stock"))
    days = summary.days_since_in_stock
    if days == 0 and summary.cheapest_now:
        last = "in stock now"
    elif days is None:
        last = "never seen in stock"
    else:
        ago = "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"
        last = f"{ago} ({_when(summary.last_in_stock or '')} UTC)"
    fields.append(("Last in stock", last))
    return fields


def summary_table(summary: HistorySummary) -> Table:
    """The summary printed under the history table."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, text in summary_fields(summary):
        table.add_row(f"{label}:", text)
    return table


def colorways_table(rows: Sequence[ColorwaySummary]) -> Table:
    """Tracked colorways grouped by family (the catalog's, in its order), names in full."""
    table = Table(title="Tracked 2002R colorways", title_justify="left")
    for column in ("style code", "colorway", "family", "shops", "sizes in stock", "cheapest now"):
        table.add_column(column)
    by_family: dict[str, list[ColorwaySummary]] = {family: [] for family in FAMILIES}
    for row in rows:
        by_family.setdefault(family_of(row.style_code), []).append(row)
    for family, members in by_family.items():
        for row in members:
            cheapest = "; ".join(
                f"{format_price(o.price, o.currency)} at {o.shop} "
                f"({_size(o.size_us, o.size_label)})"
                for o in row.cheapest
            )
            table.add_row(
                row.style_code,
                KNOWN_COLORWAYS.get(row.style_code) or row.name or "",
                family,
                ", ".join(row.shops),
                str(row.sizes_in_stock),
                cheapest or "none in stock",
            )
        if members:
            table.add_section()
    return table


def describe_change(change: Change) -> str:
    """One line a person reads: "M2002RDA US 10 at Kith: $144.99 -> $129.99 (in stock)"."""
    new = change.new
    where = f"{change.style_code} {_size(change.size_us, change.size_label)} at {change.shop}"
    now = f"{format_price(new.price, new.currency)}, {new.stock.value.replace('_', ' ')}"
    if change.old is None:
        return f"{where}: new, {now}"
    old = change.old
    parts = []
    if (old.price, old.currency) != (new.price, new.currency):
        parts.append(
            f"price {format_price(old.price, old.currency)} -> "
            f"{format_price(new.price, new.currency)}"
        )
    if old.compare_at != new.compare_at:
        parts.append("sale ended" if new.compare_at is None else "on sale")
    if old.stock != new.stock:
        parts.append(f"{old.stock.value.replace('_', ' ')} -> {new.stock.value.replace('_', ' ')}")
    return f"{where}: {'; '.join(parts) or now}"


def crawl_table(reports: Sequence[CrawlReport]) -> Table:
    table = Table(title="Crawl", title_justify="left")
    for column in ("shop", "status", "products", "variants", "changes", "dropped", "error"):
        table.add_column(column)
    for r in reports:
        colour = "green" if r.ok else "red"
        table.add_row(
            r.shop,
            f"[{colour}]{r.status}[/]",
            str(r.products),
            str(r.variants),
            str(r.changes),
            str(r.dropped),
            r.error or "",
        )
    return table


def crawl_summary(reports: Sequence[CrawlReport]) -> str:
    failed = sum(1 for r in reports if not r.ok)
    return (
        f"{len(reports) - failed} shop(s) ok, {failed} failed; "
        f"{sum(r.products for r in reports)} products, {sum(r.variants for r in reports)} "
        f"variants, {sum(r.changes for r in reports)} changes"
    )


def status_table(report: WatchStatus, *, wide: bool = False) -> Table:
    """One line per shop that fits 80 columns (shop, last crawl, status, changes, failures,
    next run); ``wide`` adds the schedule, duration, variants and error."""
    if not wide:
        return _narrow_status_table(report)
    table = Table(title="Shops", title_justify="left")
    for column in (
        "shop",
        "schedule",
        "next run",
        "last crawl",
        "status",
        "took",
        "variants",
        "changes",
        "failures 24h",
        "error",
    ):
        table.add_column(column)
    for s in report.shops:
        colour = {"ok": "green", None: "dim"}.get(s.last_status, "red")
        table.add_row(
            s.shop + ("" if s.enabled else " (disabled)"),
            s.schedule,
            _when(s.next_run) if s.next_run else "",
            _when(s.last_started) if s.last_started else "never",
            f"[{colour}]{s.last_status or '-'}[/]",
            f"{s.last_duration_s:g} s" if s.last_duration_s is not None else "",
            str(s.last_variants),
            str(s.last_changes),
            str(s.failures_24h),
            s.last_error or "",
        )
    return table


def _narrow_status_table(report: WatchStatus) -> Table:
    table = Table(title="Shops (--wide for more)", title_justify="left", box=None, pad_edge=False)
    table.add_column("shop", overflow="fold")
    for column in ("last crawl", "status", "changes", "fails 24h", "next run"):
        table.add_column(column, no_wrap=True)
    for s in report.shops:
        colour = {"ok": "green", None: "dim"}.get(s.last_status, "red")
        table.add_row(
            s.shop + ("" if s.enabled else " (off)"),
            _when(s.last_started)[5:] if s.last_started else "never",  # MM-DD HH:MM
            f"[{colour}]{s.last_status or '-'}[/]",
            str(s.last_changes),
            str(s.failures_24h),
            _when(s.next_run)[5:] if s.next_run else "",
        )
    return table
