"""The streaming job's file for spark-submit in compose: `python -m streaming`, as a script.

spark-submit runs a file, not a module. Running streaming/__main__.py itself would put streaming/
first on sys.path, where its modules (job, sink, ...) could shadow top-level ones.
"""

import sys

from streaming.__main__ import main

sys.exit(main())
