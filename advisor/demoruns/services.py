"""Writes on demo runs: queue, execute (in a Celery worker), cancel, and sweep the stuck ones.

Idempotency rests on one rule: a run changes state only through a conditional UPDATE
(``WHERE status = ... AND attempts = ...``). Executing claims a queued run by moving it to
``running`` and bumping ``attempts``; every later write of that execution (progress,
heartbeat, the metrics, the failure) names that attempt, so a redelivered task, a second
worker or the sweep can never make a finished run run again or write it twice.

Runs heal: the sweep (run by every demo worker when it starts and every
``DEMO_RUN_SWEEP_INTERVAL`` seconds, by pages that see a stuck run, and by ``demo_sweep``)
fails runs whose worker fell silent, sends a queued run again once when the broker lost its
message (Redis restarted empty), and removes this machine's work folders of runs that no
longer run here.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from uuid import UUID

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from advisor.demoruns.broker import broker_run_ids
from advisor.demoruns.models import BrokerTarget, DemoRun, heartbeat_deadline
from advisor.demos.drivers import Cancelled, DriverError, get_driver, run_scenario
from advisor.demos.scenarios import ParameterError, validate_parameters
from advisor.reports.models import Report
from advisor.reports.pagecache import shared_page_forget
from advisor.security import fingerprint

logger = logging.getLogger(__name__)

# Messages people read (on the page, in the admin, from the command); tests import them.
TOO_MANY_RUNS = (
    "You already have {count} demo runs queued or running (at most {limit} at once). "
    "Wait for one to finish, or cancel one, then queue again."
)
TOO_MANY_CHOSEN = (
    "You chose {chosen} demos, but at most {limit} may be queued or running at once"
    "{busy}: choose {room} or fewer, and queue the rest when they have finished."
)
TOO_MANY_RUNS_FROM_ADDRESS = (
    "Your network address already has {count} demo runs queued or running (at most {limit} "
    "at once, whatever the browser). Wait for one to finish, then queue again."
)
QUEUE_FULL = (
    "The demo queue is full: {count} runs are queued or running for everyone (at most "
    "{limit}). Runs take about a minute each; try again in a minute or two."
)
# What a limited visitor is told to wait, in seconds (Retry-After): about one run.
LIMIT_RETRY_AFTER = 60
CANCELLED_BY_USER = "Cancelled before it finished."
FAILED_TIME_LIMIT = "Stopped after the time limit of {seconds} s: try fewer messages."
FAILED_WORKER_LOST = (
    "The worker running this demo stopped (no heartbeat for {seconds} s), "
    "for example because it was restarted or killed. Queue it again."
)
FAILED_TOO_MANY_ATTEMPTS = (
    "The worker running this demo stopped {attempts} times; it was not started again. "
    "Try smaller parameters."
)
FAILED_OVER_TIME_LIMIT = (
    "Stopped by the time limit of {seconds} s (or its worker was lost): try fewer messages."
)
FAILED_NEVER_STARTED = (
    "No worker started this run within {minutes} minutes. Is the Celery worker running? "
    "(`make run` starts one.)"
)
FAILED_LOST_BY_QUEUE = (
    "The queue lost this run twice (for example because Redis restarted without its data); "
    "it was not sent a third time. Queue it again."
)
QUEUE_UNAVAILABLE = (
    "The demo queue cannot be reached right now, so nothing was queued. Try again in a minute."
)
FAILED_ENGINE = "The {engine} engine could not run {scenario}: {error}"
LIVE_NEEDS_TARGETS = "choose an enabled {product} target for a live run"
TARGET_NOT_USABLE = "'{target}' is not an enabled {product} target"
FAILED_TARGET_DISABLED = "The target {target} was disabled or removed after the run was queued."
FAILED_UNEXPECTED = "The run failed unexpectedly ({kind}: {error}); details are in the worker log."

# How often a running run writes its progress and heartbeat (and learns it was cancelled).
BEAT_SECONDS = 1.0
# A run's work folder: DEMO_RUN_WORK_ROOT/run-<run id>.<attempt>, so a sweep on the same
# machine can tell the folders of runs that no longer run here.
WORK_DIR_PREFIX = "run-"
SWEEP_BATCH = 500  # queued runs one sweep checks against the broker


class QueueUnavailable(Exception):
    """The Celery broker could not be reached: nothing was queued (and no row is left)."""


# The name Celery knows tasks.execute_demo_run by (kept from before the tasks moved).
EXECUTE_TASK = "advisor.tasks.execute_demo_run"


class ExecuteOutcome(StrEnum):
    """What ``demo_run_execute`` did; the task retries on RUNNING_ELSEWHERE."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ALREADY_FINISHED = "already finished"  # a redelivery of a finished run: nothing to do
    RUNNING_ELSEWHERE = "running elsewhere"  # a live worker holds it (fresh heartbeat)
    MISSING = "missing"


def queue_execution(run_id: str) -> None:
    """Send the run to a worker. By the task's name, so that services never import tasks."""
    # ignore_result: the web process must not subscribe to the result store for it (the
    # task stores none), or a down result store would fail the send.
    current_app.send_task(EXECUTE_TASK, args=[run_id], ignore_result=True)


def demo_run_batch_error(*, chosen: int, owner_session: str) -> str:
    """Why ``chosen`` more runs cannot all be queued for this session now ("" if they can).

    Checked before queueing a batch, so the message counts the runs already there, not
    the ones the batch itself queued before reaching the limit.
    """
    limit = settings.DEMO_RUNS_PER_SESSION
    busy = DemoRun.objects.unfinished().for_session(owner_session).count()
    if busy >= limit or busy + chosen <= limit:
        # Nothing fits until a run finishes: queueing refuses it as a limit (429 and when
        # to retry). Or everything fits.
        return ""
    return TOO_MANY_CHOSEN.format(
        chosen=chosen,
        limit=limit,
        busy=f", and you already have {busy}" if busy else "",
        room=limit - busy,
    )


def demo_run_enqueue(
    *,
    assessment,
    scenario: str,
    parameters: dict,
    engine: str = "embedded",
    owner_session: str,
    owner_client: str = "",
    kafka_target: BrokerTarget | None = None,
    artemis_target: BrokerTarget | None = None,
) -> DemoRun:
    """Validate, create a queued run and send its task (inside the transaction).

    Raises ValidationError: keyed by parameter name for a bad parameter (the message names
    its bounds), by ``scenario``/``engine`` for an unknown one, and without a field when
    this session already has ``DEMO_RUNS_PER_SESSION`` runs queued or running, this
    client address ``DEMO_RUNS_PER_CLIENT``, or everyone together ``DEMO_RUNS_UNFINISHED_MAX``
    (code "limit", params["retry_after"] in seconds). ``owner_session`` and
    ``owner_client`` (the session key and the address) are stored as keyed hashes only.
    Raises QueueUnavailable, with nothing stored, when the Celery broker cannot be reached.
    """
    try:
        validated = validate_parameters(scenario, parameters)
    except ParameterError as error:
        raise ValidationError({error.field or "scenario": error.message}) from None
    try:
        chosen = get_driver(engine)
    except DriverError as error:
        raise ValidationError({"engine": str(error)}) from None
    if scenario not in chosen.scenarios:
        raise ValidationError({"engine": f"the {engine} engine cannot run {scenario}"})
    if engine == "live":
        _check_targets(kafka=kafka_target, artemis=artemis_target)
    else:
        kafka_target = artemis_target = None

    demo_run_sweep()  # so that runs whose worker died do not count against the limit
    with transaction.atomic():
        # Lock the assessment so that two posts from one session cannot both pass the limit.
        type(assessment)._default_manager.select_for_update().filter(pk=assessment.pk).first()
        _check_limits(owner_session=owner_session, owner_client=owner_client)
        run = DemoRun(
            assessment=assessment,
            scenario=scenario,
            engine=engine,
            kafka_target=kafka_target,
            artemis_target=artemis_target,
            parameters=validated,
            owner_session=fingerprint(owner_session),
            owner_client=fingerprint(owner_client),
            progress_message="Waiting for a worker",
        )
        run.full_clean()
        run.save()
        # Sent before the commit, not on it: when the broker is unreachable the row is
        # rolled back with the error, rather than left queued with no message. A worker
        # that gets the message before the commit finds no row yet and retries (tasks.py).
        _send(run)
    return run


def _check_limits(*, owner_session: str, owner_client: str) -> None:
    """Refuse a run over the session's, the address's or everyone's cap (code "limit").

    Counted inside the caller's transaction: with the assessment locked, two posts from
    one session cannot both pass; the global cap may be overshot by concurrent posts from
    different sessions by at most one run each, which is harmless.
    """
    unfinished = DemoRun.objects.unfinished()
    checks = [
        (unfinished.for_session(owner_session), settings.DEMO_RUNS_PER_SESSION, TOO_MANY_RUNS)
    ]
    if owner_client:
        checks.append(
            (
                unfinished.for_client(owner_client),
                settings.DEMO_RUNS_PER_CLIENT,
                TOO_MANY_RUNS_FROM_ADDRESS,
            )
        )
    checks.append((unfinished, settings.DEMO_RUNS_UNFINISHED_MAX, QUEUE_FULL))
    for runs, limit, message in checks:
        count = runs.count()
        if count >= limit:
            raise ValidationError(
                message.format(count=count, limit=limit),
                code="limit",
                params={"retry_after": LIMIT_RETRY_AFTER},
            )


def _send(run: DemoRun) -> None:
    try:
        queue_execution(str(run.pk))
    except BrokerError as error:
        logger.warning("demo run %s: the broker is unreachable: %s", run.pk, error)
        raise QueueUnavailable(QUEUE_UNAVAILABLE) from error


def _check_targets(**chosen: BrokerTarget | None) -> None:
    """Both targets of a live run exist, are enabled and are of their product."""
    for product, target in chosen.items():
        label = BrokerTarget.Product(product).label
        field = f"{product}_target"
        if target is None:
            raise ValidationError({field: LIVE_NEEDS_TARGETS.format(product=label)})
        usable = BrokerTarget.objects.enabled().for_product(product).filter(pk=target.pk)
        if not usable.exists():
            message = TARGET_NOT_USABLE.format(target=target.name, product=label)
            raise ValidationError({field: message})


def _bound_targets(run: DemoRun) -> dict | None:
    """The live run's targets as the driver wants them; None for other engines.

    Raises DriverError when a target was disabled or removed since the run was queued.
    """
    if run.engine != "live":
        return None
    found = {}
    for product, target_id in (("kafka", run.kafka_target_id), ("artemis", run.artemis_target_id)):
        target = BrokerTarget.objects.enabled().filter(pk=target_id).first()
        if target is None:
            raise DriverError(FAILED_TARGET_DISABLED.format(target=f"{product} #{target_id}"))
        found[product] = target.to_target()
    return found


@dataclass
class _Beat:
    """The running execution's link to its row: throttled progress, heartbeat, cancel."""

    run_id: UUID
    attempt: int
    fraction: float = 0.0
    message: str = ""
    last_write: float = 0.0
    stop: bool = False

    def progress(self, fraction: float, message: str) -> None:
        self.fraction, self.message = fraction, message
        self.maybe_write()

    def should_cancel(self) -> bool:
        self.maybe_write()
        return self.stop

    def maybe_write(self) -> None:
        now = time.monotonic()
        if now - self.last_write < BEAT_SECONDS:
            return
        self.last_write = now
        try:
            still_ours = (
                DemoRun.objects.filter(
                    pk=self.run_id, status=DemoRun.Status.RUNNING, attempts=self.attempt
                ).update(
                    progress=self.fraction,
                    progress_message=self.message[:200],
                    heartbeat_at=timezone.now(),
                )
                == 1
            )
        except DatabaseError:
            # A busy database (SQLite under load) skips one beat; it must not end the run.
            logger.warning("demo run %s: progress not saved", self.run_id, exc_info=True)
            return
        if not still_ours:
            # Cancelled, swept as failed, or taken over by another attempt: stop measuring.
            self.stop = True


def _claim(run_id: UUID | str) -> tuple[ExecuteOutcome | None, DemoRun | None]:
    """Move the run to running under a new attempt number, or say why not."""
    with transaction.atomic():
        run = DemoRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            return ExecuteOutcome.MISSING, None
        if run.is_finished:
            return ExecuteOutcome.ALREADY_FINISHED, run
        if run.status == DemoRun.Status.RUNNING:
            beat = run.heartbeat_at or run.started_at
            if beat is not None and beat >= heartbeat_deadline():
                return ExecuteOutcome.RUNNING_ELSEWHERE, run
            if run.attempts >= settings.DEMO_RUN_MAX_ATTEMPTS:
                message = FAILED_TOO_MANY_ATTEMPTS.format(attempts=run.attempts)
                _finish(run, attempt=run.attempts, status=DemoRun.Status.FAILED, error=message)
                return ExecuteOutcome.FAILED, run
        now = timezone.now()
        # The conditional update is the claim itself (select_for_update is a no-op on SQLite).
        claimed = DemoRun.objects.filter(
            pk=run.pk, status=run.status, attempts=run.attempts
        ).update(
            status=DemoRun.Status.RUNNING,
            attempts=F("attempts") + 1,
            started_at=run.started_at or now,
            heartbeat_at=now,
            progress=0.0,
            progress_message="Starting"
            if run.attempts == 0
            else f"Starting again (attempt {run.attempts + 1}) after the worker was lost",
        )
        if not claimed:
            return ExecuteOutcome.RUNNING_ELSEWHERE, run
    run.refresh_from_db()
    return None, run


def _finish(run: DemoRun, *, attempt: int, status: str, **fields) -> bool:
    """Write the outcome of one attempt; False when the run is no longer that attempt's."""
    return (
        DemoRun.objects.filter(pk=run.pk, status=DemoRun.Status.RUNNING, attempts=attempt).update(
            status=status, finished_at=timezone.now(), **fields
        )
        == 1
    )


def work_dir(*, run_id: UUID | str, attempt: int) -> Path:
    """The folder one attempt of a run measures in (files, sockets, child processes)."""
    return Path(settings.DEMO_RUN_WORK_ROOT) / f"{WORK_DIR_PREFIX}{run_id}.{attempt}"


def demo_run_execute(*, run_id: UUID | str) -> ExecuteOutcome:
    """Run a queued demo once and store its metrics or a failure message.

    Safe to call any number of times for one run (Celery redelivers with acks_late): only
    a queued run, or a running one whose worker fell silent, is claimed; a finished run is
    left exactly as it is. Not atomic as a whole on purpose: progress must be visible
    while the scenario runs.
    """
    outcome, run = _claim(run_id)
    if outcome is not None:
        logger.info("demo run %s: %s", run_id, outcome)
        return outcome
    beat = _Beat(run_id=run.pk, attempt=run.attempts)
    workdir = work_dir(run_id=run.pk, attempt=run.attempts)
    try:
        targets = _bound_targets(run)
        metrics = run_scenario(
            run.scenario,
            run.parameters,
            engine=run.engine,
            workdir=workdir,
            progress=beat.progress,
            should_cancel=beat.should_cancel,
            **({"targets": targets} if targets is not None else {}),
        )
    except Cancelled:
        # The row already says why (cancelled, swept or taken over); only mark the rest.
        _finish(run, attempt=run.attempts, status=DemoRun.Status.CANCELLED)
        return ExecuteOutcome.CANCELLED
    except SoftTimeLimitExceeded:
        message = FAILED_TIME_LIMIT.format(seconds=settings.DEMO_RUN_SOFT_TIME_LIMIT)
        _finish(run, attempt=run.attempts, status=DemoRun.Status.FAILED, error=message)
        return ExecuteOutcome.FAILED
    except (ParameterError, DriverError) as error:
        message = FAILED_ENGINE.format(engine=run.engine, scenario=run.scenario, error=error)
        _finish(run, attempt=run.attempts, status=DemoRun.Status.FAILED, error=message)
        return ExecuteOutcome.FAILED
    except Exception as error:
        logger.exception("demo run %s failed", run.pk)
        message = FAILED_UNEXPECTED.format(kind=type(error).__name__, error=error)
        _finish(run, attempt=run.attempts, status=DemoRun.Status.FAILED, error=message[:2000])
        return ExecuteOutcome.FAILED
    finally:
        # A worker killed before this line leaves the folder to the sweep.
        shutil.rmtree(workdir, ignore_errors=True)
    written = _finish(
        run,
        attempt=run.attempts,
        status=DemoRun.Status.SUCCEEDED,
        metrics=metrics,
        progress=1.0,
        progress_message="Finished",
    )
    if not written:
        return ExecuteOutcome.ALREADY_FINISHED
    # Shared report pages show succeeded runs: their rendered copies are out of date.
    shared_page_forget(
        report_ids=Report.objects.filter(assessment_id=run.assessment_id).values_list(
            "pk", flat=True
        )
    )
    return ExecuteOutcome.SUCCEEDED


@transaction.atomic
def demo_run_cancel(*, run: DemoRun) -> bool:
    """Cancel a queued or running run; False when it had already finished.

    A running run's worker sees the change within about a second and stops its scenario.
    """
    cancelled = (
        DemoRun.objects.unfinished()
        .filter(pk=run.pk)
        .update(
            status=DemoRun.Status.CANCELLED,
            finished_at=timezone.now(),
            progress_message=CANCELLED_BY_USER,
        )
    )
    run.refresh_from_db()
    return cancelled == 1


def demo_run_sweep() -> int:
    """Mark failed the runs stuck past their limits; return how many.

    Running runs whose heartbeat stopped (the worker died) or that outlived the hard time
    limit, and queued runs no worker started within ``DEMO_RUN_QUEUE_TIMEOUT``; queued runs
    the broker lost are sent again once (counted too). Then this machine's work folders of
    runs that no longer run are removed. Cheap when nothing is stuck, so pages may call it.
    """
    now = timezone.now()
    lost = DemoRun.objects.lost(now)
    never_started = DemoRun.objects.never_started(now)
    swept = 0
    for run in lost.only("pk", "attempts", "started_at", "heartbeat_at"):
        # Past the soft limit, the hard one is what most likely stopped it.
        over_limit = run.started_at and run.started_at < now - timedelta(
            seconds=settings.DEMO_RUN_SOFT_TIME_LIMIT
        )
        if over_limit:
            message = FAILED_OVER_TIME_LIMIT.format(seconds=settings.DEMO_RUN_TIME_LIMIT)
        else:
            message = FAILED_WORKER_LOST.format(seconds=settings.DEMO_RUN_HEARTBEAT_TIMEOUT)
        swept += _finish(run, attempt=run.attempts, status=DemoRun.Status.FAILED, error=message)
    minutes = round(settings.DEMO_RUN_QUEUE_TIMEOUT / 60)
    for run in never_started.only("pk"):
        swept += DemoRun.objects.filter(pk=run.pk, status=DemoRun.Status.QUEUED).update(
            status=DemoRun.Status.FAILED,
            finished_at=now,
            error=FAILED_NEVER_STARTED.format(minutes=minutes),
        )
    swept += _send_lost_again(now)
    if swept:
        logger.warning("demo runs: %d stuck runs marked failed or sent again", swept)
    demo_run_clean_work_dirs()
    return swept


def _send_lost_again(now: datetime) -> int:
    """Queued runs whose message the broker no longer holds: sent once more, then failed.

    A grace of ``DEMO_RUN_RESEND_AFTER`` seconds leaves a just-queued message time to
    arrive. When the broker cannot say what it holds, nothing is done (the queue timeout
    still applies). A message the broker was about to hand over may be sent twice; the
    claim makes the second delivery harmless.
    """
    waiting = list(
        DemoRun.objects.queued_before(now - timedelta(seconds=settings.DEMO_RUN_RESEND_AFTER))
        .order_by("created_at")
        .values_list("pk", "sends")[:SWEEP_BATCH]
    )
    if not waiting:
        return 0
    held = broker_run_ids()
    if held is None:
        return 0
    changed = 0
    for run_id, sends in waiting:
        if str(run_id) in held:
            continue
        queued = DemoRun.objects.filter(pk=run_id, status=DemoRun.Status.QUEUED, sends=sends)
        if sends >= 2:
            changed += queued.update(
                status=DemoRun.Status.FAILED, finished_at=now, error=FAILED_LOST_BY_QUEUE
            )
        elif queued.update(sends=F("sends") + 1, progress_message="Sent to the queue again"):
            logger.warning("demo run %s: the broker lost its message; sending it again", run_id)
            changed += 1
            # Unsent, the next sweep finds it missing again and fails it with the reason.
            with contextlib.suppress(QueueUnavailable):
                _send(DemoRun(pk=run_id))
    return changed


def demo_run_clean_work_dirs() -> int:
    """Remove this machine's work folders of runs that no longer run here; how many.

    Each machine that runs demos has its own ``DEMO_RUN_WORK_ROOT``: every demo worker
    cleans its own (when it starts and with each sweep). A folder is kept only while its
    run is running under the attempt that made it.
    """
    root = Path(settings.DEMO_RUN_WORK_ROOT)
    if not root.is_dir():
        return 0
    folders = {}
    for path in root.iterdir():
        run_id, _, attempt = path.name.removeprefix(WORK_DIR_PREFIX).rpartition(".")
        if path.name.startswith(WORK_DIR_PREFIX) and attempt.isdigit():
            folders[path] = (run_id, int(attempt))
    if not folders:
        return 0
    running = {
        (str(pk), attempts)
        for pk, attempts in DemoRun.objects.filter(
            pk__in={run_id for run_id, _ in folders.values() if _is_uuid(run_id)},
            status=DemoRun.Status.RUNNING,
        ).values_list("pk", "attempts")
    }
    removed = 0
    for path, key in folders.items():
        if key not in running:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("demo runs: removed %d work folders of runs no longer running", removed)
    return removed


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def looks_stuck(run: DemoRun) -> bool:
    """Whether a sweep would change this run: pages call the sweep only then."""
    if run.is_finished:
        return False
    return DemoRun.objects.stuck(timezone.now()).filter(pk=run.pk).exists()
