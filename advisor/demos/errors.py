"""Exceptions shared by the engines and the scenario runners (kept apart to avoid cycles)."""


class EngineError(RuntimeError):
    """A run could not be carried out: unknown engine, unsupported scenario, a child failed."""


class Cancelled(Exception):
    """Raised inside a run when ``should_cancel()`` said yes; the run stops cleanly."""
