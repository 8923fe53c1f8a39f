"""Load tests, benchmarks and the crash test: each part a package, each package's
``__init__`` the little that the command line (``app``) and the notebooks import.

* ``stack/``: what the others run against: free ports, ``python -m app ...`` children
  (mocks, the integration service), a throwaway PostgreSQL, the mocks' ledgers, the
  dataset's callers.
* ``journeys/``: whole call journeys as data, Locust's users and load shapes, the
  headless runner and its thresholds (``python -m loadtests.journeys``).
* ``bench/``: the whole-call benchmark (``python -m app bench``).
* ``lookup/``: the caller-lookup benchmark (``python -m app bench lookup``).
* ``crash/``: the crash test (``python -m loadtests.crash``).
* ``overload.py``, ``transport_ceiling.py``, ``mock_throughput.py``: small tools that run
  alone (``python -m loadtests.<name>``); the benchmark reuses the first two.
"""
