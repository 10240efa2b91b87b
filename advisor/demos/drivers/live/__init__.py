"""The live driver: the five scenarios on Apache Kafka and Apache ActiveMQ Artemis themselves.

Same protocol as the embedded driver (``name``, ``scenarios``, ``measure``) and the same
OMB-shaped metrics document, plus ``products``: which product, version, target and the
settings that matter on each side. Targets come from the local clusters ``make brokers``
started unless the caller binds registered ones with :meth:`LiveDriver.bound_to`; nobody
passes an address through the parameters.

A run is bounded: every client call has a timeout, the scenario checks a deadline of
``RUN_TIME_LIMIT_S`` through its cancel check, and a run that still has not returned shortly
after it fails with a message naming the targets. Sources for the settings are cited in each
scenario module and in brokers.py.
"""

from __future__ import annotations

import importlib
import threading
import time

from advisor.demos.errors import Cancelled, DriverError
from advisor.demos.metrics import RunContext
from advisor.demos.scenarios import SCENARIOS, Scenario

# Under the worker's soft time limit (10 min), so the run fails with our message first.
RUN_TIME_LIMIT_S = 540.0
GRACE_S = 60.0
TIMED_OUT = "the run exceeded its time limit of {limit:.0f} s on {targets}"
BROKER_SETTINGS = {
    "kafka": {
        "mode": "KRaft, three nodes each broker and controller",
        "default.replication.factor": 3,
        "min.insync.replicas": 2,
        "unclean.leader.election.enable": False,
        "broker.session.timeout.ms": 3000,
        "flush": "left to the OS (no log.flush.interval.*)",
    },
    "artemis": {
        "cluster": "three nodes, static connectors, message-load-balancing ON_DEMAND",
        "redistribution-delay": 0,
        "journal-type": "NIO",
        "journal-sync": True,
        "ha": "a replicated primary/backup pair beside the cluster",
        "protocol": "AMQP 1.0 (python-qpid-proton)",
    },
}


class LiveDriver:
    """Runs a scenario against a Kafka target and an Artemis target."""

    name = "live"
    scenarios = tuple(SCENARIOS)

    def __init__(self, targets: dict | None = None):
        self._targets = targets

    def bound_to(self, targets: dict) -> LiveDriver:
        """The same driver on the given targets ({"kafka": Target, "artemis": Target})."""
        return LiveDriver(targets)

    def targets(self) -> dict:
        from advisor.demos.drivers.live.targets import (
            ARTEMIS,
            KAFKA,
            NO_LOCAL_BROKERS,
            PRODUCTS,
            local_targets,
        )

        found = dict(self._targets) if self._targets is not None else local_targets()
        for product in (KAFKA, ARTEMIS):
            if product not in found:
                raise DriverError(NO_LOCAL_BROKERS.format(product=PRODUCTS[product]))
        return found

    def measure(self, scenario: Scenario, parameters: dict, context: RunContext) -> dict:
        from advisor.demos.drivers.live.targets import check_artemis, check_kafka

        targets = self.targets()
        context.progress(0.0, "checking the targets", force=True)
        check_kafka(targets["kafka"])
        check_artemis(targets["artemis"])
        module = importlib.import_module(f"advisor.demos.drivers.live.{scenario.name}")
        deadline = time.monotonic() + RUN_TIME_LIMIT_S
        timed_out = threading.Event()

        def past_deadline() -> bool:
            if time.monotonic() > deadline:
                timed_out.set()
                return True
            return False

        bounded = context.cancelling_when(past_deadline)
        outcome: dict = {}

        def body() -> None:
            try:
                outcome["result"] = module.run(parameters, bounded, targets)
            except BaseException as error:  # handed to the calling thread
                outcome["error"] = error

        names = " and ".join(target.describe() for target in targets.values())
        worker = threading.Thread(target=body, name=f"live-{scenario.name}", daemon=True)
        worker.start()
        # Waiting in steps, asking about cancellation between them: that keeps the run's
        # heartbeat going while the body blocks (a killed broker restarting can take a
        # minute on a loaded machine, longer than a worker may stay silent).
        until = time.monotonic() + RUN_TIME_LIMIT_S + GRACE_S
        while worker.is_alive() and time.monotonic() < until:
            worker.join(1.0)
            context.cancel_requested()
        if worker.is_alive() or (timed_out.is_set() and "error" in outcome):
            raise DriverError(TIMED_OUT.format(limit=RUN_TIME_LIMIT_S, targets=names))
        if "error" in outcome:
            error = outcome["error"]
            if isinstance(error, Cancelled | DriverError):
                raise error
            raise DriverError(f"{type(error).__name__} on {names}: {error}") from error
        products = {
            key: {
                "product": _product_name(target.product),
                "version": target.version or "unknown",
                "target": target.name,
                "local": target.local,
                "broker_settings": BROKER_SETTINGS[key] if target.local else {},
                "scenario_settings": getattr(module, "SETTINGS", {}).get(key, {}),
            }
            for key, target in targets.items()
        }
        return {**outcome["result"], "products": products}


def _product_name(product: str) -> str:
    from advisor.demos.drivers.live.targets import PRODUCTS

    return PRODUCTS.get(product, product)
