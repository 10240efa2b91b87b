"""The embedded engine's scenario runners: one module per scenario, each with
``run(parameters, context) -> {"sides", "findings", "summary"}``.

They measure real files, processes and loopback sockets on this machine; what cannot be
shown physically (a power loss) is counted exactly from recorded events.
"""
