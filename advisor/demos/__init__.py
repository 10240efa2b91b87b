"""Demo runs: the measuring core, plain Python (no Django imports anywhere in this package).

``scenarios`` describes the five demos and validates their parameters, ``engines`` runs
them (``run_scenario`` is the entry point), ``metrics`` builds the OpenMessaging-Benchmark
shaped metrics document, and ``embedded/`` holds one module per scenario for the default
engine, which measures real files, processes and loopback sockets on this machine.

This package stays importable without Django because child processes of the embedded
engine (``python -m advisor.demos.drivers.embedded...``) import from it.
"""
