"""Drivers run a scenario and return its metrics document (OpenMessaging Benchmark's shape).

"Driver" as OpenMessaging Benchmark calls the pluggable part that talks to one system, so
that it is never confused with the scoring engine (advisor/engine/). A run's ``engine``
field (and ``demo_run --engine``) names the driver: ``embedded`` needs nothing installed;
``live`` drives the real products (drivers/live/). Each registers in :data:`DRIVERS`.
"""

from __future__ import annotations

import importlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from advisor.demos.errors import Cancelled, DriverError
from advisor.demos.metrics import RunContext, machine_facts, now_iso
from advisor.demos.scenarios import SCENARIOS, Scenario, validate_parameters

__all__ = [
    "DRIVERS",
    "Cancelled",
    "EmbeddedDriver",
    "Driver",
    "DriverError",
    "get_driver",
    "run_scenario",
]

UNKNOWN_DRIVER = "'{name}' is not a demo engine; known engines: {known}"
UNSUPPORTED_SCENARIO = "the {engine} engine cannot run '{scenario}'; it runs: {supported}"


def no_progress(fraction: float, message: str) -> None:
    """The default progress callback: report nowhere."""


def never_cancel() -> bool:
    return False


class Driver(Protocol):
    """What every driver offers: the scenarios it runs, and ``measure`` to run one.

    ``measure`` gets the scenario, validated parameters and a :class:`RunContext` (its
    work directory, which the driver may fill and must leave tidy, large data files
    removed; progress; cancellation). It reports progress at least a few times a second,
    calls ``context.check_cancel()`` often (which raises :class:`Cancelled`), and raises
    :class:`DriverError` when it cannot run (e.g. a broker is down). It returns the
    result: ``sides``, ``findings`` and ``summary``, plus any facts of its own (the live
    driver adds ``products``). :func:`run_scenario` frames it into the metrics document.
    """

    name: str
    scenarios: tuple[str, ...]  # the scenarios this driver can run

    def measure(self, scenario: Scenario, parameters: dict, context: RunContext) -> dict: ...


RESULT_KEYS = ("sides", "findings", "summary")


def metrics_document(
    *,
    scenario: Scenario,
    driver: str,
    parameters: dict,
    workdir: Path,
    started_at: str,
    duration_s: float,
    result: dict,
) -> dict:
    """A run's metrics document: what every driver reports, then the driver's own facts."""
    facts = {key: value for key, value in result.items() if key not in RESULT_KEYS}
    return {
        "scenario": scenario.name,
        "engine": driver,
        "claims": list(scenario.claims),
        "parameters": dict(parameters),
        **facts,
        "machine": machine_facts(workdir),
        "started_at": started_at,
        "finished_at": now_iso(),
        "duration_s": round(duration_s, 3),
        **{key: result[key] for key in RESULT_KEYS},
    }


class EmbeddedDriver:
    """Both models built on real OS resources of this machine (files, processes, sockets)."""

    name = "embedded"
    scenarios = tuple(SCENARIOS)

    def measure(self, scenario: Scenario, parameters: dict, context: RunContext) -> dict:
        runner = importlib.import_module(f"advisor.demos.drivers.embedded.{scenario.name}")
        return runner.run(parameters, context)


def _live() -> Driver:
    from advisor.demos.drivers.live import LiveDriver

    return LiveDriver()


DRIVERS: dict[str, Driver] = {"embedded": EmbeddedDriver(), "live": _live()}


def get_driver(name: str) -> Driver:
    """The registered driver called ``name``; DriverError naming the known ones otherwise."""
    try:
        return DRIVERS[name]
    except (KeyError, TypeError):
        known = ", ".join(DRIVERS)
        raise DriverError(UNKNOWN_DRIVER.format(name=name, known=known)) from None


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

    Raises ParameterError (bad scenario or parameters), DriverError, or Cancelled. Without
    a ``workdir`` the run uses a temporary directory that is removed afterwards.
    """
    validated = validate_parameters(scenario_name, parameters or {})
    chosen = get_driver(engine)
    if scenario_name not in chosen.scenarios:
        supported = ", ".join(chosen.scenarios)
        raise DriverError(
            UNSUPPORTED_SCENARIO.format(
                engine=chosen.name, scenario=scenario_name, supported=supported
            )
        )
    if targets is not None:
        # Live runs on registered clusters ({"kafka": Target, "artemis": Target}).
        chosen = chosen.bound_to(targets)
    scenario = SCENARIOS[scenario_name]
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
        return _framed(chosen, scenario, validated, Path(workdir), progress, should_cancel)
    with tempfile.TemporaryDirectory(
        prefix=f"demo-{scenario_name}-", ignore_cleanup_errors=True
    ) as temporary:
        return _framed(chosen, scenario, validated, Path(temporary), progress, should_cancel)


def _framed(
    driver: Driver,
    scenario: Scenario,
    parameters: dict,
    workdir: Path,
    progress: Callable[[float, str], None] | None,
    should_cancel: Callable[[], bool] | None,
) -> dict:
    """Run ``driver.measure`` between the first and last progress; the metrics document."""
    context = RunContext(workdir, progress or no_progress, should_cancel or never_cancel)
    started_at, started = now_iso(), time.perf_counter()
    context.progress(0.0, f"starting {scenario.title}", force=True)
    result = driver.measure(scenario, parameters, context)
    duration = time.perf_counter() - started
    context.progress(1.0, "finished", force=True)
    return metrics_document(
        scenario=scenario,
        driver=driver.name,
        parameters=parameters,
        workdir=workdir,
        started_at=started_at,
        duration_s=duration,
        result=result,
    )
