"""JSON-LD product pages: reading the blocks cut out of the raw bytes, next to parsing the page
with lxml first and reading the blocks of the tree (the cost the jsonld spider paid before, less
extruct's own overhead, which the tree path no longer uses), in one run.

    python bench/jsonld_bench.py [--runs 200]

Pages: the real product pages in tests/fixtures/realdata (200-780 KB; the issue's yardstick is a
250 KB page). Both paths run interleaved on the same page, many times; the median per page and
the ratio are printed, and per 250 KB of page. The result of both paths is checked equal first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scrapers.parsing.jsonld import extract_jsonld, parse_document

PAGES = sorted(
    (Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "realdata").glob(
        "jsonld-html-*.html"
    )
)
BASE = "https://shop.example/"


def timed(fn: object, *args: object) -> float:
    start = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"{'page':<44} {'KB':>5} {'raw bytes ms':>12} {'lxml tree ms':>15} {'ratio':>6}")
    per_250k_fast, per_250k_tree = [], []
    for path in PAGES:
        raw = path.read_bytes()
        assert extract_jsonld(raw, BASE) == extract_jsonld(parse_document(raw), BASE)
        fast, tree = [], []
        for _ in range(args.runs):  # interleaved: both see the same machine load
            fast.append(timed(extract_jsonld, raw, BASE))
            tree.append(timed(lambda r: extract_jsonld(parse_document(r), BASE), raw))
        f, t = statistics.median(fast) * 1000, statistics.median(tree) * 1000
        kb = len(raw) / 1000
        if kb >= 100:  # trimmed pages of a few KB say nothing per KB
            per_250k_fast.append(f * 250 / kb)
            per_250k_tree.append(t * 250 / kb)
        print(f"{path.stem[12:56]:<44} {kb:5.0f} {f:12.3f} {t:15.3f} {t / f:5.0f}x")
    f250, t250 = statistics.median(per_250k_fast), statistics.median(per_250k_tree)
    print(
        "\nper 250 KB (median over the pages of 100 KB or more): "
        f"raw bytes {f250:.3f} ms, lxml tree {t250:.2f} ms"
    )
    print(f"goal <= 2 ms per 250 KB page: {'met' if f250 <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
