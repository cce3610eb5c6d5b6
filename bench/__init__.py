"""halfcost's benchmarks: one script per capability, each measured against an anchor.

Run them from the repository root, e.g. ``.venv/bin/python bench/search.py --quick``
(see ``docs/bench.md``). This folder is not part of the installed distribution.
"""
