"""Demo runs heal when the broker fails: each run ends finished once or failed with a reason.

Real Celery workers and a real redis-server (tests/worker/support.py): Redis restarted
empty while runs wait in its queue, and Redis down when a run is queued.
"""

from __future__ import annotations

import json

import pytest

from advisor.demoruns.services import QUEUE_UNAVAILABLE
from tests.worker.support import (
    PARAMETERS,
    count_runs,
    enqueue,
    finished,
    leftovers,
    manage,
    wait_for,
)

pytestmark = pytest.mark.worker

ENQUEUE_WHILE_DOWN = """
from advisor.demoruns.services import QueueUnavailable, demo_run_enqueue
from questionnaire.services import assessment_create
try:
    demo_run_enqueue(
        assessment=assessment_create(title="queued while Redis is down"),
        scenario="push_pull",
        parameters={},
        owner_session="worker-test",
    )
except QueueUnavailable as error:
    print("refused:", error)
"""


def assert_ran_once_or_failed_with_a_reason(final: dict) -> None:
    assert final["status"] in {"succeeded", "failed"}, final
    if final["status"] == "succeeded":
        assert final["attempts"] == 1, "a re-sent run still runs once"
        metrics = json.loads(final["metrics"])
        assert metrics["sides"]["broker"]["consumed"] == PARAMETERS["messages"]
    else:
        assert final["error"].strip(), "a failed run says why"


def test_runs_queued_when_redis_restarts_empty_are_sent_again_and_run_once(
    environment, redis_server, workers
):
    env, database, work_root = environment
    run_ids = enqueue(env, count=2)
    assert redis_server.client().llen("demos") == 2  # waiting in the demos queue

    redis_server.kill()
    redis_server.start()  # the same address, nothing in it
    assert redis_server.client().llen("demos") == 0
    workers.start()  # its start-up sweep finds the runs missing from the broker

    for run_id in run_ids:
        final = finished(database, run_id, workers)
        print(f"after the Redis restart: {final['status']}, sent {final['sends']} times")
        assert_ran_once_or_failed_with_a_reason(final)
        assert final["sends"] == 2, "sent again once"
    client = redis_server.client()
    wait_for(
        lambda: client.llen("demos") == 0 and client.hlen("unacked") == 0,
        lambda: "messages were left in the broker",
        workers,
    )
    wait_for(lambda: not leftovers(work_root), lambda: leftovers(work_root), workers)


def test_queueing_while_redis_is_down_says_so_and_leaves_no_run(environment, redis_server, workers):
    env, database, work_root = environment
    redis_server.kill()

    result = manage(env, "shell", "-c", ENQUEUE_WHILE_DOWN)

    assert f"refused: {QUEUE_UNAVAILABLE}" in result.stdout, result.stdout + result.stderr
    assert count_runs(database) == 0

    # Once Redis is back, queueing works again and the run finishes once.
    redis_server.start()
    (run_id,) = enqueue(env)
    workers.start()
    final = finished(database, run_id, workers)
    assert_ran_once_or_failed_with_a_reason(final)
    assert final["sends"] == 1
    wait_for(lambda: not leftovers(work_root), lambda: leftovers(work_root), workers)
