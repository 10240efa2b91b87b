"""Engines run a scenario and return its metrics document (OpenMessaging Benchmark's shape).

The ``embedded`` engine needs nothing installed. A later ``live`` engine (real brokers over
STOMP and the Kafka protocol) registers itself in :data:`ENGINES` with the same protocol.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from advisor.demos.errors import Cancelled, EngineError
from advisor.demos.metrics import RunContext, machine_facts, now_iso
from advisor.demos.scenarios import SCENARIOS, validate_parameters

__all__ = [
    "ENGINES",
    "Cancelled",
    "EmbeddedEngine",
    "Engine",
    "EngineError",
    "get_engine",
    "run_scenario",
]

UNKNOWN_ENGINE = "'{name}' is not a demo engine; known engines: {known}"
UNSUPPORTED_SCENARIO = "the {engine} engine cannot run '{scenario}'; it runs: {supported}"


def _no_progress(fraction: float, message: str) -> None:
    """The default progress callback: report nowhere."""


def _never_cancel() -> bool:
    return False


class Engine(Protocol):
    """What every engine offers; ``run`` returns the metrics document.

    ``run`` gets validated parameters and a work directory it may fill and must leave
    tidy (large data files removed); it calls ``progress(fraction, message)`` at least a
    few times a second, polls ``should_cancel()`` and raises :class:`Cancelled` when it
    says yes, and raises :class:`EngineError` when it cannot run (e.g. a broker is down).
    """

    name: str
    scenarios: tuple[str, ...]  # the scenarios this engine can run

    def run(
        self,
        scenario_name: str,
        parameters: dict,
        *,
        workdir: Path,
        progress: Callable[[float, str], None] = _no_progress,
        should_cancel: Callable[[], bool] = _never_cancel,
    ) -> dict: ...


class EmbeddedEngine:
    """Both models built on real OS resources of this machine (files, processes, sockets)."""

    name = "embedded"
    scenarios = tuple(SCENARIOS)

    def run(
        self,
        scenario_name: str,
        parameters: dict,
        *,
        workdir: Path,
        progress: Callable[[float, str], None] = _no_progress,
        should_cancel: Callable[[], bool] = _never_cancel,
    ) -> dict:
        if scenario_name not in self.scenarios:
            supported = ", ".join(self.scenarios)
            raise EngineError(
                UNSUPPORTED_SCENARIO.format(
                    engine=self.name, scenario=scenario_name, supported=supported
                )
            )
        scenario = SCENARIOS[scenario_name]
        runner = importlib.import_module(f"advisor.demos.drivers.embedded.{scenario_name}")
        context = RunContext(Path(workdir), progress, should_cancel)
        started_at, started = now_iso(), time.perf_counter()
        context.progress(0.0, f"starting {scenario.title}", force=True)
        result = runner.run(parameters, context)
        duration = time.perf_counter() - started
        context.progress(1.0, "finished", force=True)
        return {
            "scenario": scenario_name,
            "engine": self.name,
            "claims": list(scenario.claims),
            "parameters": dict(parameters),
            "machine": machine_facts(Path(workdir)),
            "started_at": started_at,
            "finished_at": now_iso(),
            "duration_s": round(duration, 3),
            "sides": result["sides"],
            "findings": result["findings"],
            "summary": result["summary"],
        }


def _live() -> Engine:
    from advisor.demos.drivers.live import LiveDriver

    return LiveDriver()


ENGINES: dict[str, Engine] = {"embedded": EmbeddedEngine(), "live": _live()}


def get_engine(name: str) -> Engine:
    """The registered engine called ``name``; EngineError naming the known ones otherwise."""
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        known = ", ".join(ENGINES)
        raise EngineError(UNKNOWN_ENGINE.format(name=name, known=known)) from None


def run_scenario(
    scenario_name: str,
    parameters: dict | None,
    *,
    engine: str = "embedded",
    workdir: Path | str | None = None,
    progress: Callable[[float, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    targets: dict | None = None,
) -> dict:
    """Validate ``parameters`` and run one scenario; return its metrics document.

    Raises ParameterError (bad scenario or parameters), EngineError, or Cancelled. Without
    a ``workdir`` the run uses a temporary directory that is removed afterwards.
    """
    validated = validate_parameters(scenario_name, parameters or {})
    chosen = get_engine(engine)
    if targets is not None:
        # Live runs on registered clusters ({"kafka": Target, "artemis": Target}).
        chosen = chosen.bound_to(targets)
    options = {
        "progress": progress or _no_progress,
        "should_cancel": should_cancel or _never_cancel,
    }
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
        return chosen.run(scenario_name, validated, workdir=Path(workdir), **options)
    temporary = Path(tempfile.mkdtemp(prefix=f"demo-{scenario_name}-"))
    try:
        return chosen.run(scenario_name, validated, workdir=temporary, **options)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
