"""Exceptions shared by the drivers and the scenario runners (kept apart to avoid cycles)."""


class DriverError(RuntimeError):
    """A run could not be carried out: unknown driver, unsupported scenario, a child failed."""


class Cancelled(Exception):
    """Raised inside a run when ``should_cancel()`` said yes; the run stops cleanly."""
