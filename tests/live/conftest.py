"""The local brokers for the live tests: used when up, started (and stopped after) when not.

Starting needs Java and Maven (the first start fetches the brokers from Maven Central);
without them the live tests are skipped with one line saying so (`make test` says it too).
"""

from __future__ import annotations

import pytest

from advisor.demos.drivers.live import brokers
from advisor.demos.drivers.live.targets import local_targets


@pytest.fixture(scope="session")
def live_targets():
    """{"kafka": Target, "artemis": Target} of the running local clusters."""
    missing = [cluster for cluster in brokers.CLUSTERS if not brokers.running(cluster)]
    started = []
    if missing:
        problem = brokers.java_and_maven()
        if problem:
            pytest.skip(f"live brokers: {problem}")
        try:
            brokers.start(tuple(missing))
        except brokers.BrokerError:
            brokers.stop(tuple(missing))
            raise
        started = missing
    yield local_targets()
    if started:
        brokers.stop(tuple(started))
