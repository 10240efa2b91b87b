"""A real Celery worker killed with SIGKILL mid-run: the run never stays `running` forever.

The worker runs in its own process group against a Redis of this test's own and a SQLite
file this test also reads (tests/worker/support.py). Short limits make Redis redeliver the
unacknowledged task within seconds, so a second worker can take the run over once its
heartbeat has stopped. Accepted ends: succeeded exactly once after redelivery (two
attempts, metrics written by the second), or failed with a message. Either way the killed
attempt's work folder is removed by the sweep of the worker that starts next.
"""

from __future__ import annotations

import json

import pytest

from tests.worker.support import PARAMETERS, enqueue, finished, leftovers, read_run, wait_for

pytestmark = pytest.mark.worker


def test_a_run_whose_worker_is_killed_finishes_once_or_fails_never_stays_running(
    environment, workers, redis_server
):
    env, database, work_root = environment
    first = workers.start()
    (run_id,) = enqueue(env)

    wait_for(
        lambda: (row := read_run(database, run_id))["status"] == "running" and row["progress"] > 0,
        lambda: f"the run stayed {read_run(database, run_id)['status']}",
        workers,
    )
    workers.kill(first)  # SIGKILL to the whole group: main process and pool child together
    killed = read_run(database, run_id)
    assert killed["status"] == "running" and killed["attempts"] == 1
    assert leftovers(work_root) == [f"run-{run_id}.1"]  # the killed attempt's files

    workers.start()
    final = finished(database, run_id, workers)

    print(f"after SIGKILL: {final['status']}, attempts {final['attempts']} {final['error']}")
    assert final["status"] in {"succeeded", "failed"}, workers.logs()
    if final["status"] == "succeeded":
        # Redelivered and taken over once its heartbeat stopped: run again exactly once.
        assert final["attempts"] == 2
        metrics = json.loads(final["metrics"])
        assert metrics["scenario"] == "push_pull"
        assert metrics["sides"]["broker"]["consumed"] == PARAMETERS["messages"]
        assert final["error"] == ""
    else:
        assert final["error"].strip(), "a failed run says why"
        assert final["metrics"] is None
    # Nothing is left to deliver again, and no files: the run cannot be run a third time.
    broker = redis_server.client()
    wait_for(
        lambda: broker.llen("demos") == 0 and broker.hlen("unacked") == 0,
        lambda: "messages were left in the broker",
        workers,
    )
    wait_for(lambda: not leftovers(work_root), lambda: leftovers(work_root), workers)
    assert read_run(database, run_id) == final
