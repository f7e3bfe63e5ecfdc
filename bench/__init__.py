"""Benchmarks of the ar service (`make bench`, i.e. `python -m bench.run`).

Not tests: nothing here runs in `make test`.
"""
