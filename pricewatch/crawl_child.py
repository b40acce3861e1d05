"""The crawl child process: ``python -m pricewatch.crawl_child SHOP...`` (config JSON on stdin),
what `pricewatch.crawl.run_crawl` starts for every crawl.
"""

import sys

from pricewatch.crawl import main

if __name__ == "__main__":
    sys.exit(main())
