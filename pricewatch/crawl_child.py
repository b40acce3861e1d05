"""The crawl child process: ``python -m pricewatch.crawl_child SHOP...`` (config JSON on stdin),
what `pricewatch.crawl.run_crawl` starts for every crawl.

It keeps numpy out before anything else is imported: sqlite-utils imports numpy (and pandas) if
they are installed, only to map their value types, which a crawl never writes; matplotlib, which
charts need, brings numpy into the same environment. Without it the child starts about 60 ms
sooner and 12 MB smaller (measured with ``/usr/bin/time`` on the imports, 3 runs each).
"""

import sys

for _heavy in ("numpy", "pandas"):
    sys.modules.setdefault(_heavy, None)  # type: ignore[arg-type]  # `import numpy` fails

from pricewatch.crawl import main  # noqa: E402  (after the lines above, on purpose)

if __name__ == "__main__":
    sys.exit(main())
