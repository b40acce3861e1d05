"""Price charts: a valid PNG of the asked size, that changes with the data, and its caption."""

from __future__ import annotations

import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from pricewatch.charts import (
    TELEGRAM_CAPTION_LIMIT,
    NoHistoryError,
    chart_caption,
    render_price_chart,
    shop_spans,
)
from pricewatch.cli import cli
from pricewatch.history import UnknownStyleError, parse_timestamp, price_history
from pricewatch.models import Stock
from pricewatch.store import Store
from tests.pricewatch.history_data import IN, NOW, Clock, build_known, crawl, listing

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("charts") / "known.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        build_known(path, monkeypatch)
    return path


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    image.verify()  # a complete, uncorrupted PNG
    return image.size


def test_chart_is_a_phone_sized_png_that_renders_the_same_twice(known: Path) -> None:
    with Store(known, create=False) as store:
        first = render_price_chart(store, "M2002RDA", 10.0)
        again = render_price_chart(store, "m2002rda", 10.0)
        small = render_price_chart(store, "M2002RDA", width_px=720, height_px=900)
    assert png_size(first) == (1080, 1350)
    assert png_size(small) == (720, 900)
    assert first == again  # deterministic: no clock, no random state in the picture
    assert 20_000 < len(first) < 300_000


def test_chart_changes_when_the_data_changes(
    known: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "copy.db"
    shutil.copy(known, path)
    clock = Clock()
    clock.at_day(51)
    monkeypatch.setattr("pricewatch.store.utc_now", clock)
    with Store(path, create=False) as store:
        before = render_price_chart(store, "M2002RDA", 10.0)
        crawl(store, "Kith", [listing("Kith", 10, "109.99", IN)])
        after = render_price_chart(store, "M2002RDA", 10.0)
    assert png_size(after) == (1080, 1350)
    assert after != before


def test_chart_errors_are_named(known: Path) -> None:
    with Store(known, create=False) as store:
        with pytest.raises(NoHistoryError, match="no price history for M2002RDA · US 11"):
            render_price_chart(store, "M2002RDA", 11.0)
        with pytest.raises(NoHistoryError, match="in JPY"):
            render_price_chart(store, "M2002RDA", 10.0, currency="JPY")
        with pytest.raises(UnknownStyleError, match="did you mean M2002RDA"):
            render_price_chart(store, "M2002RDX")


def test_spans_follow_one_shop_through_sales_and_sell_outs(known: Path) -> None:
    with Store(known, create=False) as store:
        rows = price_history(store, "M2002RDA", 10.0, shop="Kith")
    spans = [(s.start.day, s.end.day, s.price, s.stock) for s in shop_spans(rows)]
    assert spans == [
        (1, 11, Decimal("144.99"), Stock.IN_STOCK),
        (11, 21, Decimal("129.99"), Stock.IN_STOCK),
        (21, 31, Decimal("119.99"), Stock.SOLD_OUT),
        (31, 10, Decimal("139.99"), Stock.IN_STOCK),  # Oct 31 to Nov 10
        (10, 20, Decimal("139.99"), Stock.SOLD_OUT),  # to the last crawl, Nov 20
    ]
    since = parse_timestamp("2026-11-15T00:00:00Z")
    assert [(s.start, s.stock) for s in shop_spans(rows, since)] == [(since, Stock.SOLD_OUT)]


def test_all_sizes_follow_the_cheapest_size_in_stock(known: Path) -> None:
    with Store(known, create=False) as store:
        rows = price_history(store, "M2002RDA", shop="Kith")
    assert {(s.price, s.stock) for s in shop_spans(rows)} == {(Decimal("99.99"), Stock.IN_STOCK)}


def test_caption_has_the_figures_and_fits_telegram(
    known: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(known, create=False) as store:
        caption = chart_caption(store, "M2002RDA", 10.0, now=NOW)
        assert caption.splitlines() == [
            "M2002RDA · US 10 – Rain Cloud",
            "Lowest ever: €140.00 at Footpatrol (from 2026-10-26); "
            "$129.99 at Kith (from 2026-10-11)",
            "Cheapest now: $134.99 at Bodega",
            "Last in stock: in stock now",
        ]
        monkeypatch.setattr(
            "pricewatch.charts.summary_fields", lambda _summary: [("Shops", "x" * 5000)]
        )
        long = chart_caption(store, "M2002RDA", 10.0, now=NOW)
    assert len(long) == TELEGRAM_CAPTION_LIMIT and long.endswith("…")


def test_chart_command_writes_the_png(known: Path, tmp_path: Path) -> None:
    target = tmp_path / "chart.png"
    result = CliRunner().invoke(
        cli,
        ["chart", "M2002RDA", "--size", "eu44", "--since", "2026-10-15", "-o", str(target),
         "--db", str(known)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert png_size(target.read_bytes()) == (1080, 1350)
    assert f"Wrote {target} (1080x1350 PNG)" in " ".join(result.output.split())
    assert "Lowest since 2026-10-15: €140.00 at Footpatrol" in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--size", "11"], 2, "Error: no price history for M2002RDA · US 11"),
        (["--since", "soon"], 2, "Error: cannot read 'soon' as a period"),
        (["-o", "/nonexistent/dir/c.png"], 1, "Error: cannot write /nonexistent/dir/c.png"),
    ],
)
def test_chart_command_errors_are_one_line(
    known: Path, args: list[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(cli, ["chart", "M2002RDA", *args, "--db", str(known)])
    assert result.exit_code == code
    assert message in result.output and "Traceback" not in result.output


def test_chart_and_web_help_have_examples() -> None:
    for command in ("chart", "web", "history"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command
