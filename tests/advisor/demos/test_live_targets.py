"""A live run against a target that is down or never answers fails with a clear message.

No broker is needed: the targets here are a closed port and a socket that accepts and then
says nothing. The run must fail (never hang) naming the target and the cause.
"""

from __future__ import annotations

import socket
import threading

import pytest

from advisor.demos.drivers import run_scenario
from advisor.demos.drivers.live.targets import ARTEMIS, KAFKA, Target
from advisor.demos.errors import DriverError


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_server():
    """A socket that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def targets(kafka_port: int, artemis_port: int) -> dict:
    return {
        KAFKA: Target("kafka that is down", KAFKA, (f"127.0.0.1:{kafka_port}",)),
        ARTEMIS: Target(
            "artemis that is down",
            ARTEMIS,
            (f"127.0.0.1:{artemis_port}",),
            user="u",
            password="secret-password",
        ),
    }


def run(bound: dict, tmp_path) -> None:
    run_scenario("replay", {}, engine="live", workdir=tmp_path, targets=bound)


def test_a_stopped_kafka_target_fails_naming_the_target(tmp_path):
    with pytest.raises(DriverError, match="kafka that is down") as error:
        run(targets(closed_port(), closed_port()), tmp_path)
    assert "did not answer" in str(error.value)


def test_a_stopped_artemis_target_fails_naming_target_without_its_password(tmp_path, monkeypatch):
    monkeypatch.setattr("advisor.demos.drivers.live.targets.check_kafka", lambda target: 3)
    with pytest.raises(DriverError, match="artemis that is down") as error:
        run(targets(closed_port(), closed_port()), tmp_path)
    assert "secret-password" not in str(error.value)


def test_a_target_that_accepts_and_never_answers_fails_instead_of_hanging(tmp_path, silent_server):
    with pytest.raises(DriverError, match="kafka that is down"):
        run(targets(silent_server, silent_server), tmp_path)
    with pytest.raises(DriverError, match="artemis that is down"):
        from advisor.demos.drivers.live.targets import check_artemis

        check_artemis(targets(silent_server, silent_server)[ARTEMIS])


def test_the_password_stays_out_of_the_targets_repr():
    target = targets(1, 2)[ARTEMIS]
    assert "secret-password" not in repr(target)


def test_without_local_brokers_the_live_engine_says_how_to_start_them(tmp_path, monkeypatch):
    monkeypatch.setattr("advisor.demos.drivers.live.targets.local_targets", lambda: {})
    with pytest.raises(DriverError, match="make brokers"):
        run_scenario("replay", {}, engine="live", workdir=tmp_path)


def test_an_amqp_client_on_a_silent_server_gives_up_instead_of_hanging(silent_server):
    from advisor.demos.drivers.live.clients import AmqpProducer

    target = targets(silent_server, silent_server)[ARTEMIS]
    producer = AmqpProducer(
        target,
        target.amqp_url(0),
        "advisor.nowhere",
        messages=10,
        payload=b"x",
        durable=True,
        target_rate=0,
        time_limit_s=1,
    )
    log = producer.run()  # returns: the close that is never answered is cut short
    assert log.acked == {}


def test_a_live_run_that_blocks_keeps_telling_its_worker_it_is_alive(tmp_path, monkeypatch):
    """A run blocked for seconds (a broker restarting) still asks about cancellation."""
    import time

    from advisor.demos.drivers.live import replay

    monkeypatch.setattr("advisor.demos.drivers.live.targets.check_kafka", lambda target: 3)
    monkeypatch.setattr("advisor.demos.drivers.live.targets.check_artemis", lambda target: None)

    def blocks(parameters, context, bound):
        time.sleep(3.5)  # no progress, no cancel check: as a wait for a restart
        return {"sides": {}, "findings": {}, "summary": "blocked"}

    monkeypatch.setattr(replay, "run", blocks)
    asked: list[float] = []

    def should_cancel() -> bool:
        asked.append(time.monotonic())
        return False

    metrics = run_scenario(
        "replay",
        {},
        engine="live",
        workdir=tmp_path,
        targets=targets(1, 2),
        should_cancel=should_cancel,
    )

    assert metrics["summary"] == "blocked"
    assert len(asked) >= 3  # about once a second while the body was silent


def test_the_broker_buffer_is_left_out_saying_why_where_the_user_may_not_manage(monkeypatch):
    from advisor.demos.drivers.live import push_pull

    def refused(*args, **kwargs):
        raise DriverError("target t: addAddressSettings failed: AMQ229032: not authorized")

    monkeypatch.setattr(push_pull, "artemis_manage", refused)
    found = push_pull._bound_address(targets(1, 2)[ARTEMIS], "advisor.pushpull.x", 200)
    assert found == {
        "applied": False,
        "why": "target t: addAddressSettings failed: AMQ229032: not authorized",
    }
    # Applied on a target without the small-credit acceptor: the overshoot is its credit.
    monkeypatch.setattr(push_pull, "artemis_manage", lambda *args: None)
    found = push_pull._bound_address(targets(1, 2)[ARTEMIS], "advisor.pushpull.x", 200)
    assert found["applied"] and found["producer_may_overshoot_by"] == 1000
