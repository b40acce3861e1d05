"""Price charts to look at on a phone: a step line per shop, sold-out periods visible.

Drawn on matplotlib's Agg canvas through a `Figure` object, never through pyplot: no display is
needed, the global backend is left alone, and the bot can render in several threads at once.
"""

from __future__ import annotations

import io
import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pricewatch.history import (
    HistoryRow,
    NoHistoryError,
    colorway_name,
    current_offers,
    history_summary,
    parse_since,
    parse_timestamp,
    price_history,
    require_style,
)
from pricewatch.models import Stock
from pricewatch.output import summary_fields
from pricewatch.prices import format_price
from pricewatch.sizes import format_size
from pricewatch.store import Store

__all__ = ["TELEGRAM_CAPTION_LIMIT", "NoHistoryError", "chart_caption", "render_price_chart"]

TELEGRAM_CAPTION_LIMIT = 1024
DPI = 100
# Shop lines avoid pure red and green: those mean "sold out" and "in stock" in the strip below.
_SHOP_COLOURS = ("#1f5fbf", "#e07b00", "#7b3fa0", "#00897b", "#c2185b", "#5d4037", "#546e7a")
_STOCK_STYLE = {
    Stock.IN_STOCK: ("#2e9d48", ""),
    Stock.SOLD_OUT: ("#d32f2f", "//"),
    Stock.UNKNOWN: ("#c8c8c8", ".."),
}


@dataclass(frozen=True)
class Span:
    """What could be paid at one shop from ``start`` to ``end``: the cheapest in-stock size, or
    the cheapest sold-out one when none is in stock."""

    start: datetime
    end: datetime
    price: Decimal
    stock: Stock


def shop_spans(rows: Sequence[HistoryRow], start: datetime | None = None) -> list[Span]:
    """One shop's history rows (one size or several) as consecutive spans, oldest first.

    A row holds until the variant's next change; its last row until it was last seen.
    """
    by_variant: dict[tuple[str, float | None], list[HistoryRow]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.first_seen):
        by_variant[(row.size_label, row.size_us)].append(row)
    variants: list[list[tuple[datetime, datetime, HistoryRow]]] = []
    for variant_rows in by_variant.values():
        firsts = [parse_timestamp(r.first_seen) for r in variant_rows]
        lasts = [parse_timestamp(r.last_seen) for r in variant_rows]
        ends = [*firsts[1:], max(lasts[-1], firsts[-1])]
        variants.append(list(zip(firsts, ends, variant_rows, strict=True)))
    cuts = sorted(
        {t for intervals in variants for first, end, _ in intervals for t in (first, end)}
    )
    # a sweep over the cut points with one cursor per variant: linear in rows x sizes
    cursors = [0] * len(variants)
    spans: list[Span] = []
    for left, right in itertools.pairwise(cuts):
        live: list[HistoryRow] = []
        for k, intervals in enumerate(variants):
            while cursors[k] < len(intervals) and intervals[cursors[k]][1] <= left:
                cursors[k] += 1
            if cursors[k] < len(intervals) and intervals[cursors[k]][0] <= left:
                live.append(intervals[cursors[k]][2])
        in_stock = [r for r in live if r.stock == Stock.IN_STOCK]
        pool = in_stock or [r for r in live if r.stock == Stock.SOLD_OUT] or live
        begin = max(left, start) if start else left
        if not pool or begin >= right:
            continue
        price = min(r.price for r in pool)
        stock = Stock.IN_STOCK if in_stock else pool[0].stock
        previous = spans[-1] if spans else None
        if (
            previous
            and previous.end == begin
            and (previous.price, previous.stock) == (price, stock)
        ):
            spans[-1] = Span(previous.start, right, price, stock)
        else:
            spans.append(Span(begin, right, price, stock))
    # The state the last crawl saw: a change at that crawl has no width yet but is the news
    # (the price that just dropped), so it ends the line as a zero-width span.
    if variants:
        moment = max(intervals[-1][1] for intervals in variants)
        final = [intervals[-1][2] for intervals in variants if intervals[-1][1] == moment]
        best = min(final, key=lambda r: (r.stock != Stock.IN_STOCK, r.price))
        if not spans or (spans[-1].price, spans[-1].stock) != (best.price, best.stock):
            spans.append(Span(moment, moment, best.price, best.stock))
    return spans


def _price_label(value: float, currency: str) -> str:
    text = format_price(Decimal(str(round(value, 2))), currency)
    return text.replace(".00", "")  # axis ticks: "$140", not "$140.00"


def _title(code: str, size_us: float | None, shop: str | None) -> str:
    size = f"US {format_size(size_us)}" if size_us is not None else "all sizes"
    return f"{code} · {size}" + (f" · {shop}" if shop else "")


def render_price_chart(
    store: Store,
    style_code: str,
    size_us: float | None = None,
    shop: str | None = None,
    since: str | None = None,
    *,
    width_px: int = 1080,
    height_px: int = 1350,
    currency: str | None = None,
) -> bytes:
    """A PNG of the price over time, one step line per shop; sold-out periods dotted and shown
    in a stock strip. Without a size, each shop's line is its cheapest size.

    Raises `UnknownStyleError` for an untracked code and `NoHistoryError` when nothing matches.
    Prices of one currency only (the most common, or ``currency``): USD and EUR share no axis.
    """
    code = require_style(store, style_code)
    since_ts = parse_since(since) if since else None
    rows = price_history(store, code, size_us=size_us, shop=shop, since=since_ts)
    currencies = Counter(r.currency for r in rows)
    chosen = currency or (
        min(currencies, key=lambda c: (-currencies[c], c)) if currencies else "USD"
    )
    rows = [r for r in rows if r.currency == chosen]
    if not rows:
        where = _title(code, size_us, shop) + (f" since {since_ts[:10]}" if since_ts else "")
        raise NoHistoryError(
            f"no price history for {where}" + (f" in {currency}" if currency else "")
        )

    start = parse_timestamp(since_ts) if since_ts else None
    by_shop: dict[str, list[HistoryRow]] = defaultdict(list)
    for row in rows:
        by_shop[row.shop].append(row)
    spans = {name: shop_spans(by_shop[name], start) for name in sorted(by_shop)}
    # Stock now follows the one rule (`current_offers`): unknown unless the shop's latest
    # crawl saw the variant, whatever the last history row says.
    rank = {Stock.IN_STOCK: 0, Stock.SOLD_OUT: 1, Stock.UNKNOWN: 2}
    now_stock = dict.fromkeys(spans, Stock.UNKNOWN)
    for offer in current_offers(store, code, size_us, shop):
        if offer.currency == chosen and offer.shop in now_stock:
            now_stock[offer.shop] = min(now_stock[offer.shop], offer.stock, key=rank.__getitem__)

    scale = width_px / 1080
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, layout="constrained")
    price_ax, stock_ax = fig.subplots(
        2, 1, sharex=True, height_ratios=[4, max(1.0, 0.45 * len(spans))]
    )
    fig.suptitle(
        _title(code, size_us, shop) + f"\n{colorway_name(store, code) or ''}".rstrip(),
        fontsize=32 * scale,
        fontweight="bold",
    )
    _draw_prices(price_ax, spans, now_stock, chosen, scale)
    _draw_stock(stock_ax, spans, now_stock, scale)
    # above the prices, not on them: no position inside is sure to miss every line
    price_ax.legend(
        loc="lower left",
        bbox_to_anchor=(0.0, 1.01),
        borderaxespad=0,
        alignment="left",
        ncols=1 if len(spans) < 4 else 2,
        fontsize=20 * scale,
        frameon=False,
        title="solid: in stock · dotted: sold out"
        + (" · each shop's cheapest size" if size_us is None else ""),
        title_fontsize=17 * scale,
    )

    locator = AutoDateLocator(minticks=3, maxticks=5)
    stock_ax.xaxis.set_major_locator(locator)
    # seconds as 14:15:26, not a bare "26": a history of a few crawls can be that short
    formats = ["%Y", "%b", "%d", "%H:%M", "%H:%M", "%H:%M:%S"]
    stock_ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, formats=formats))
    stock_ax.tick_params(axis="x", labelsize=20 * scale)
    stock_ax.xaxis.get_offset_text().set_fontsize(18 * scale)
    latest = max(r.last_seen for r in rows)
    others = sorted(set(currencies) - {chosen})
    note = f"Last seen {latest[:16].replace('T', ' ')} UTC"
    if others:
        note += f" · also sold in {', '.join(others)} (not shown)"
    fig.supxlabel(note, fontsize=16 * scale, color="#555555", x=0.01, ha="left")

    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer, metadata={"Software": None})
    return buffer.getvalue()


def _draw_prices(
    ax: Axes,
    spans: dict[str, list[Span]],
    now_stock: dict[str, Stock],
    currency: str,
    scale: float,
) -> None:
    lowest: tuple[Decimal, datetime] | None = None
    for i, (name, shop_spans_) in enumerate(spans.items()):
        colour = _SHOP_COLOURS[i % len(_SHOP_COLOURS)]
        # steps-post: each span's price holds from its start to the next start; the repeated
        # last value draws the last span to its end
        xs = [date2num(s.start) for s in shop_spans_] + [date2num(shop_spans_[-1].end)]
        solid = [float(s.price) if s.stock == Stock.IN_STOCK else float("nan") for s in shop_spans_]
        dotted = [
            float(s.price) if s.stock != Stock.IN_STOCK else float("nan") for s in shop_spans_
        ]
        last = shop_spans_[-1]
        label = {
            Stock.IN_STOCK: f"{name}: {format_price(last.price, currency)}",
            Stock.SOLD_OUT: f"{name}: sold out",
            Stock.UNKNOWN: f"{name}: {format_price(last.price, currency)}, stock unknown",
        }[now_stock[name]]
        ax.plot(
            xs,
            [*solid, solid[-1]],
            drawstyle="steps-post",
            color=colour,
            linewidth=5 * scale,
            label=label,
        )
        ax.plot(
            xs,
            [*dotted, dotted[-1]],
            drawstyle="steps-post",
            color=colour,
            alpha=0.7,
            linewidth=3 * scale,
            linestyle=(0, (1.5, 1.5)),
        )
        ax.plot(
            [xs[-1]],
            [float(last.price)],
            "o",
            color=colour,
            markersize=14 * scale,
            markerfacecolor=colour if now_stock[name] == Stock.IN_STOCK else "white",
            markeredgewidth=3 * scale,
        )
        for s in shop_spans_:
            if s.stock == Stock.IN_STOCK and (lowest is None or s.price < lowest[0]):
                lowest = (s.price, s.start)
    if lowest is not None:
        x, y = date2num(lowest[1]), float(lowest[0])
        left, right = _x_range(spans)
        ax.plot([x], [y], marker="*", color="#111111", markersize=26 * scale, zorder=5)
        ax.annotate(
            f"lowest {format_price(lowest[0], currency)}",
            (x, y),
            xytext=(0, -34 * scale),
            textcoords="offset points",
            fontsize=20 * scale,
            fontweight="bold",
            ha="right" if right > left and (x - left) / (right - left) > 0.6 else "left",
        )
    prices = [float(s.price) for v in spans.values() for s in v]
    low, high = min(prices), max(prices)
    pad = max((high - low) * 0.15, high * 0.04, 1.0)
    ax.set_ylim(low - pad * 1.6, high + pad)
    # whole units on the axis ("$140", not "$139.50") unless the prices are that close
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=high - low + 2 * pad >= 5))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _price_label(v, currency)))
    ax.set_ylabel(f"Price ({currency})", fontsize=22 * scale)
    ax.tick_params(axis="y", labelsize=20 * scale)
    ax.grid(True, axis="y", color="#dddddd", linewidth=1.2 * scale)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _x_range(spans: dict[str, list[Span]]) -> tuple[float, float]:
    left = min(date2num(s.start) for v in spans.values() for s in v)
    right = max(date2num(s.end) for v in spans.values() for s in v)
    return float(left), float(right)


def _draw_stock(
    ax: Axes, spans: dict[str, list[Span]], now_stock: dict[str, Stock], scale: float
) -> None:
    names = list(spans)
    left, right = _x_range(spans)
    sliver = (right - left) * 0.012  # a state only the last crawl saw still gets a mark
    for row, name in enumerate(names):
        bars = [(date2num(s.start), date2num(s.end), s.stock) for s in spans[name]]
        if now_stock[name] == Stock.UNKNOWN:  # not seen by its shop's latest crawl
            bars.append((bars[-1][1], max(right, bars[-1][1] + sliver), Stock.UNKNOWN))
        for start, end, stock in bars:
            colour, hatch = _STOCK_STYLE[stock]
            start = min(start, end - sliver)
            ax.broken_barh(
                [(start, end - start)],
                (row - 0.35, 0.7),
                facecolors=colour,
                hatch=hatch,
                edgecolor="white",
                linewidth=0,
            )
    ax.set_yticks(range(len(names)), names, fontsize=19 * scale)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_title(
        "Stock: green in stock · red sold out · grey unknown", fontsize=18 * scale, loc="left"
    )
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)


def chart_caption(
    store: Store,
    style_code: str,
    size_us: float | None = None,
    shop: str | None = None,
    since: str | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """The chart's figures as a short text: a Telegram photo caption (<= 1024 characters)."""
    summary = history_summary(store, style_code, size_us, shop, since, now=now)
    head = _title(summary.style_code, size_us, shop)
    if summary.name:
        head += f" – {summary.name}"
    lines = [head, *(f"{label}: {text}" for label, text in summary_fields(summary))]
    text = "\n".join(lines)
    if len(text) > TELEGRAM_CAPTION_LIMIT:
        text = text[: TELEGRAM_CAPTION_LIMIT - 1] + "…"
    return text
