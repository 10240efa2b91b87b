"""Celery tasks: a thin interface to the demo-run services (they hold the logic)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from advisor.demoruns.services import (
    EXECUTE_TASK,
    ExecuteOutcome,
    demo_run_execute,
)

# A message can arrive before the transaction that queued its run commits (it is sent
# before the commit, see demo_run_enqueue): look again a few times, a second apart.
MISSING_RETRIES = 5


@shared_task(
    name=EXECUTE_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.DEMO_RUN_SOFT_TIME_LIMIT,
    time_limit=settings.DEMO_RUN_TIME_LIMIT,
    ignore_result=True,
    # Retries: a redelivery while the first worker still beats (RUNNING_ELSEWHERE), and a
    # message that came before its row was committed (MISSING).
    max_retries=settings.DEMO_RUN_TIME_LIMIT // settings.DEMO_RUN_HEARTBEAT_TIMEOUT
    + 2
    + MISSING_RETRIES,
)
def execute_demo_run(self, run_id: str) -> str:
    """Run one demo. Redelivered messages are harmless: the service claims a run once."""
    outcome = demo_run_execute(run_id=run_id)
    if outcome == ExecuteOutcome.RUNNING_ELSEWHERE:
        # Either that worker finishes it, or its heartbeat stops and this one takes over.
        raise self.retry(countdown=settings.DEMO_RUN_HEARTBEAT_TIMEOUT + 1)
    if outcome == ExecuteOutcome.MISSING and self.request.retries < MISSING_RETRIES:
        raise self.retry(countdown=1)
    return str(outcome)
