"""The crawl child process: ``python -m pricewatch.crawl_child SHOP...`` (config JSON on stdin),
what `pricewatch.crawl.run_crawl` starts for every crawl.
It imports `pricewatch.lean` before anything else: no numpy or pandas in a crawl process.
"""

import sys

import pricewatch.lean  # noqa: F401  (first, on purpose: see its docstring)
from pricewatch.crawl import main

if __name__ == "__main__":
    sys.exit(main())
