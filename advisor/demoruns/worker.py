"""A demo worker's own upkeep: it sweeps demo runs when it starts and every few seconds.

No beat process is needed. Every demo worker (one per machine) sweeps, at start-up
(Celery's ``worker_ready``: runs left by a worker killed before it, messages Redis lost)
and then every ``DEMO_RUN_SWEEP_INTERVAL`` seconds from the worker's own timer. Each sweep
also removes that machine's work folders of dead runs, which only a worker on that machine
can see. Sweeps are idempotent (conditional updates), so several workers may sweep at once.
Registered on the Celery app in ``config/celery_app.py``; imports Django lazily, because
the app is configured before Django is set up.
"""

from __future__ import annotations

import logging

from celery import bootsteps
from celery.signals import worker_ready

logger = logging.getLogger(__name__)


def sweep_demo_runs() -> None:
    """One sweep; a failure is logged and never stops the worker."""
    from django.db import connection

    from advisor.demoruns.services import demo_run_sweep

    try:
        demo_run_sweep()
    except Exception:  # upkeep must not take the worker down with it
        logger.exception("demo runs: the sweep failed")
    finally:
        # The worker's main process forks pool processes: keep no connection open here.
        connection.close()


@worker_ready.connect
def sweep_when_the_worker_starts(sender=None, **kwargs) -> None:
    from django.conf import settings

    queues = getattr(getattr(sender, "app", None), "amqp", None)
    consumed = set(getattr(getattr(queues, "queues", None), "consume_from", None) or ())
    if consumed and settings.DEMO_RUN_QUEUE not in consumed:
        logger.warning(
            "this worker does not consume the %r queue, where demo runs are sent "
            "(start it with `celery -A config worker -Q %s -c 1`)",
            settings.DEMO_RUN_QUEUE,
            settings.DEMO_RUN_QUEUE,
        )
    sweep_demo_runs()


class PeriodicSweep(bootsteps.StartStopStep):
    """Sweeps every DEMO_RUN_SWEEP_INTERVAL seconds on the worker's timer."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.entry = None

    def start(self, worker) -> None:
        from django.conf import settings

        self.entry = worker.timer.call_repeatedly(settings.DEMO_RUN_SWEEP_INTERVAL, sweep_demo_runs)

    def stop(self, worker) -> None:
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None
