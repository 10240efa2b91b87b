"""Demo-run services: queueing with limits, executing once, cancel and the sweep."""

from datetime import timedelta
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from advisor.demoruns import services as demo_services
from advisor.demoruns.services import (
    CANCELLED_BY_USER,
    FAILED_NEVER_STARTED,
    FAILED_OVER_TIME_LIMIT,
    FAILED_TIME_LIMIT,
    FAILED_TOO_MANY_ATTEMPTS,
    FAILED_WORKER_LOST,
    QUEUE_FULL,
    TOO_MANY_RUNS,
    TOO_MANY_RUNS_FROM_ADDRESS,
    ExecuteOutcome,
    QueueUnavailable,
    demo_run_cancel,
    demo_run_enqueue,
    demo_run_execute,
    demo_run_sweep,
)
from advisor.demoruns.tasks import execute_demo_run
from advisor.demos.drivers import Cancelled, DriverError
from advisor.models import DemoRun
from advisor.security import fingerprint
from tests.factories import submitted_assessment

pytestmark = pytest.mark.django_db

SMALL_REPLAY = {"messages": 20, "consumed_percent": 100, "late_consumers": 1}
Status = DemoRun.Status


@pytest.fixture
def assessment(published_ruleset):
    assessment, _report = submitted_assessment("telemetry_lake")
    return assessment


def make_run(assessment, **fields) -> DemoRun:
    """A run as demo_run_enqueue stores it: owner session and client as fingerprints."""
    values = {"scenario": "replay", "parameters": SMALL_REPLAY, "owner_session": "session-a"}
    values = {**values, **fields}
    values["owner_session"] = fingerprint(values["owner_session"])
    values["owner_client"] = fingerprint(values.get("owner_client", "192.0.2.1"))
    return DemoRun.objects.create(assessment=assessment, **values)


def fake_metrics(scenario="replay") -> dict:
    return {"scenario": scenario, "summary": "It showed something: T2.", "sides": {}}


# --- queueing ---------------------------------------------------------------------------


def test_enqueue_creates_a_queued_run_and_queues_its_task_after_commit(
    assessment, django_capture_on_commit_callbacks
):
    with (
        mock.patch("advisor.demoruns.services.queue_execution") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = demo_run_enqueue(
            assessment=assessment,
            scenario="replay",
            parameters={"messages": "50"},
            owner_session="session-a",
        )

    run.refresh_from_db()
    assert run.status == Status.QUEUED
    assert run.parameters["messages"] == 50
    assert run.parameters["late_consumers"] == 2  # defaults filled in
    delay.assert_called_once_with(str(run.pk))


def test_when_the_broker_cannot_be_reached_nothing_is_queued_and_it_says_so(assessment):
    unreachable = BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with (
        mock.patch("advisor.demoruns.services.queue_execution", side_effect=unreachable),
        pytest.raises(QueueUnavailable, match="cannot be reached right now"),
    ):
        demo_run_enqueue(assessment=assessment, scenario="replay", parameters={}, owner_session="s")

    assert not DemoRun.objects.exists()  # sent inside the transaction: rolled back with it


def test_a_parameter_out_of_bounds_is_refused_naming_the_field_and_its_bounds(assessment):
    with pytest.raises(ValidationError) as error:
        demo_run_enqueue(
            assessment=assessment,
            scenario="durability",
            parameters={"message_size": 4},
            owner_session="session-a",
        )

    assert list(error.value.message_dict) == ["message_size"]
    assert "between 16 and 1048576 bytes" in error.value.message_dict["message_size"][0]
    assert not DemoRun.objects.exists()


def test_an_unknown_scenario_or_engine_names_the_known_ones(assessment):
    with pytest.raises(ValidationError) as error:
        demo_run_enqueue(assessment=assessment, scenario="nope", parameters={}, owner_session="s")
    assert "durability" in error.value.message_dict["scenario"][0]

    with pytest.raises(ValidationError) as error:
        demo_run_enqueue(
            assessment=assessment,
            scenario="replay",
            parameters={},
            engine="quantum",
            owner_session="s",
        )
    assert "embedded, live" in error.value.message_dict["engine"][0]


def test_one_session_may_have_only_a_few_unfinished_runs(assessment, settings):
    settings.DEMO_RUNS_PER_SESSION = 2
    make_run(assessment)
    make_run(assessment, status=Status.RUNNING, started_at=timezone.now())
    make_run(assessment, status=Status.SUCCEEDED)  # finished runs do not count

    with pytest.raises(ValidationError) as error:
        demo_run_enqueue(
            assessment=assessment, scenario="replay", parameters={}, owner_session="session-a"
        )

    assert error.value.messages == [TOO_MANY_RUNS.format(count=2, limit=2)]
    assert error.value.code == "limit" and error.value.params["retry_after"] >= 1
    other = demo_run_enqueue(
        assessment=assessment, scenario="replay", parameters={}, owner_session="session-b"
    )
    assert other.status == Status.QUEUED
    assert other.owner_session == fingerprint("session-b") != "session-b"


def test_one_client_address_may_have_only_a_few_runs_whatever_its_sessions(assessment, settings):
    settings.DEMO_RUNS_PER_CLIENT = 2
    make_run(assessment, owner_session="session-a", owner_client="198.51.100.7")
    make_run(assessment, owner_session="session-b", owner_client="198.51.100.7")

    with pytest.raises(ValidationError) as error:
        demo_run_enqueue(
            assessment=assessment,
            scenario="replay",
            parameters={},
            owner_session="session-c",
            owner_client="198.51.100.7",
        )

    assert error.value.messages == [TOO_MANY_RUNS_FROM_ADDRESS.format(count=2, limit=2)]
    elsewhere = demo_run_enqueue(
        assessment=assessment,
        scenario="replay",
        parameters={},
        owner_session="session-c",
        owner_client="203.0.113.9",
    )
    assert elsewhere.owner_client == fingerprint("203.0.113.9")


def test_everyone_together_may_have_only_so_many_unfinished_runs(assessment, settings):
    settings.DEMO_RUNS_UNFINISHED_MAX = 3
    for number in range(3):
        make_run(assessment, owner_session=f"s{number}", owner_client=f"192.0.2.{number}")

    with pytest.raises(ValidationError) as error:
        demo_run_enqueue(
            assessment=assessment,
            scenario="replay",
            parameters={},
            owner_session="fresh",
            owner_client="203.0.113.9",
        )

    assert error.value.messages == [QUEUE_FULL.format(count=3, limit=3)]
    assert DemoRun.objects.count() == 3


def test_a_run_whose_worker_died_does_not_count_against_the_limit(assessment, settings):
    settings.DEMO_RUNS_PER_SESSION = 1
    long_ago = timezone.now() - timedelta(hours=1)
    dead = make_run(assessment, status=Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago)

    demo_run_enqueue(
        assessment=assessment, scenario="replay", parameters={}, owner_session="session-a"
    )

    dead.refresh_from_db()
    assert dead.status == Status.FAILED


# --- executing --------------------------------------------------------------------------


def test_execute_runs_the_scenario_and_stores_its_metrics(assessment):
    run = make_run(assessment)

    assert demo_run_execute(run_id=run.pk) == ExecuteOutcome.SUCCEEDED

    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED
    assert run.attempts == 1
    assert run.progress == 1.0
    assert run.metrics["findings"]["log"]["late_consumer_reads"] == [20]
    assert run.metrics["summary"].endswith(".")
    assert run.started_at <= run.finished_at
    assert run.error == ""


def test_executing_twice_runs_once_and_leaves_the_finished_run_untouched(assessment):
    run = make_run(assessment)
    demo_run_execute(run_id=run.pk)
    run.refresh_from_db()
    first = (run.metrics, run.finished_at, run.attempts)

    with mock.patch.object(demo_services, "run_scenario") as run_scenario:
        assert demo_run_execute(run_id=run.pk) == ExecuteOutcome.ALREADY_FINISHED

    run_scenario.assert_not_called()
    run.refresh_from_db()
    assert (run.metrics, run.finished_at, run.attempts) == first


@pytest.mark.parametrize("status", [Status.FAILED, Status.CANCELLED])
def test_a_failed_or_cancelled_run_is_never_run(assessment, status):
    run = make_run(assessment, status=status, error="it broke")

    with mock.patch.object(demo_services, "run_scenario") as run_scenario:
        assert demo_run_execute(run_id=run.pk) == ExecuteOutcome.ALREADY_FINISHED

    run_scenario.assert_not_called()
    run.refresh_from_db()
    assert (run.status, run.error, run.attempts) == (status, "it broke", 0)


def test_a_run_with_a_live_worker_is_left_to_it(assessment):
    run = make_run(
        assessment,
        status=Status.RUNNING,
        attempts=1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    with mock.patch.object(demo_services, "run_scenario") as run_scenario:
        assert demo_run_execute(run_id=run.pk) == ExecuteOutcome.RUNNING_ELSEWHERE

    run_scenario.assert_not_called()
    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.RUNNING, 1)


def test_a_run_whose_worker_died_is_taken_over_and_finished_once(assessment):
    silent = timezone.now() - timedelta(seconds=settings.DEMO_RUN_HEARTBEAT_TIMEOUT + 5)
    run = make_run(
        assessment, status=Status.RUNNING, attempts=1, started_at=silent, heartbeat_at=silent
    )

    assert demo_run_execute(run_id=run.pk) == ExecuteOutcome.SUCCEEDED

    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.SUCCEEDED, 2)
    assert run.started_at == silent  # the run's first start is kept
    assert run.metrics["scenario"] == "replay"


def test_a_run_that_lost_its_worker_too_often_is_marked_failed(assessment, settings):
    settings.DEMO_RUN_MAX_ATTEMPTS = 2
    silent = timezone.now() - timedelta(seconds=settings.DEMO_RUN_HEARTBEAT_TIMEOUT + 5)
    run = make_run(
        assessment, status=Status.RUNNING, attempts=2, started_at=silent, heartbeat_at=silent
    )

    with mock.patch.object(demo_services, "run_scenario") as run_scenario:
        assert demo_run_execute(run_id=run.pk) == ExecuteOutcome.FAILED

    run_scenario.assert_not_called()
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error == FAILED_TOO_MANY_ATTEMPTS.format(attempts=2)


def test_an_unknown_run_id_is_ignored():
    assert demo_run_execute(run_id="00000000-0000-0000-0000-000000000000") == "missing"


def test_progress_and_heartbeat_are_written_while_the_scenario_runs(assessment, monkeypatch):
    monkeypatch.setattr(demo_services, "BEAT_SECONDS", 0)
    run = make_run(assessment)
    seen = {}

    def scenario(name, parameters, *, engine, workdir, progress, should_cancel):
        progress(0.5, "measuring the log side")
        seen["row"] = DemoRun.objects.values("progress", "progress_message", "heartbeat_at").get(
            pk=run.pk
        )
        return fake_metrics()

    with mock.patch.object(demo_services, "run_scenario", side_effect=scenario):
        demo_run_execute(run_id=run.pk)

    assert seen["row"]["progress"] == 0.5
    assert seen["row"]["progress_message"] == "measuring the log side"
    assert seen["row"]["heartbeat_at"] is not None


def test_cancelling_a_running_run_stops_its_scenario(assessment, monkeypatch):
    monkeypatch.setattr(demo_services, "BEAT_SECONDS", 0)
    run = make_run(assessment)

    def scenario(name, parameters, *, engine, workdir, progress, should_cancel):
        assert demo_run_cancel(run=DemoRun.objects.get(pk=run.pk))  # the user, meanwhile
        if should_cancel():
            raise Cancelled("the run was cancelled")
        return fake_metrics()

    with mock.patch.object(demo_services, "run_scenario", side_effect=scenario):
        assert demo_run_execute(run_id=run.pk) == ExecuteOutcome.CANCELLED

    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert run.metrics is None
    assert run.progress_message == CANCELLED_BY_USER


def test_an_attempt_that_was_taken_over_does_not_write_its_result(assessment):
    run = make_run(assessment)

    def scenario(name, parameters, *, engine, workdir, progress, should_cancel):
        # Meanwhile another worker judged this one dead and took the run over.
        DemoRun.objects.filter(pk=run.pk).update(attempts=2)
        return fake_metrics()

    with mock.patch.object(demo_services, "run_scenario", side_effect=scenario):
        assert demo_run_execute(run_id=run.pk) == ExecuteOutcome.ALREADY_FINISHED

    run.refresh_from_db()
    assert (run.status, run.metrics, run.attempts) == (Status.RUNNING, None, 2)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (DriverError("a child process exited with code 1"), "a child process exited with code 1"),
        (SoftTimeLimitExceeded(), FAILED_TIME_LIMIT.format(seconds=600)),
        (OSError(28, "No space left on device"), "OSError: [Errno 28] No space left on device"),
    ],
)
def test_a_failure_is_stored_with_a_clear_message(assessment, settings, error, expected):
    settings.DEMO_RUN_SOFT_TIME_LIMIT = 600
    run = make_run(assessment)

    with mock.patch.object(demo_services, "run_scenario", side_effect=error):
        assert demo_run_execute(run_id=run.pk) == ExecuteOutcome.FAILED

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert expected in run.error
    assert run.metrics is None
    assert run.finished_at is not None


# --- cancel and sweep -------------------------------------------------------------------


def test_cancel_a_queued_run_then_cancelling_again_changes_nothing(assessment):
    run = make_run(assessment)

    assert demo_run_cancel(run=run) is True
    assert run.status == Status.CANCELLED
    finished_at = run.finished_at
    assert demo_run_cancel(run=run) is False
    run.refresh_from_db()
    assert run.finished_at == finished_at


def test_a_finished_run_cannot_be_cancelled(assessment):
    run = make_run(assessment, status=Status.SUCCEEDED, metrics=fake_metrics())

    assert demo_run_cancel(run=run) is False
    assert run.status == Status.SUCCEEDED


def test_the_sweep_marks_stuck_runs_failed_and_leaves_the_rest(assessment, settings):
    now = timezone.now()
    silent = now - timedelta(seconds=settings.DEMO_RUN_HEARTBEAT_TIMEOUT + 1)
    ancient = now - timedelta(seconds=settings.DEMO_RUN_TIME_LIMIT + 1)
    lost = make_run(
        assessment,
        status=Status.RUNNING,
        attempts=1,
        started_at=now - timedelta(seconds=5),
        heartbeat_at=silent,
    )
    over = make_run(
        assessment, status=Status.RUNNING, attempts=1, started_at=ancient, heartbeat_at=now
    )
    alive = make_run(
        assessment, status=Status.RUNNING, attempts=1, started_at=now, heartbeat_at=now
    )
    waiting = make_run(assessment)
    forgotten = make_run(assessment)
    DemoRun.objects.filter(pk=forgotten.pk).update(
        created_at=now - timedelta(seconds=settings.DEMO_RUN_QUEUE_TIMEOUT + 1)
    )
    done = make_run(assessment, status=Status.SUCCEEDED, metrics=fake_metrics())

    assert demo_run_sweep() == 3
    assert demo_run_sweep() == 0

    def state(run):
        run.refresh_from_db()
        return run.status, run.error

    minutes = round(settings.DEMO_RUN_QUEUE_TIMEOUT / 60)
    heartbeat = settings.DEMO_RUN_HEARTBEAT_TIMEOUT
    assert state(lost) == (Status.FAILED, FAILED_WORKER_LOST.format(seconds=heartbeat))
    assert state(over) == (
        Status.FAILED,
        FAILED_OVER_TIME_LIMIT.format(seconds=settings.DEMO_RUN_TIME_LIMIT),
    )
    assert state(forgotten) == (Status.FAILED, FAILED_NEVER_STARTED.format(minutes=minutes))
    assert state(alive) == (Status.RUNNING, "")
    assert state(waiting) == (Status.QUEUED, "")
    assert state(done) == (Status.SUCCEEDED, "")


def test_a_swept_run_stops_its_worker_if_that_worker_was_only_slow(assessment, monkeypatch):
    monkeypatch.setattr(demo_services, "BEAT_SECONDS", 0)
    run = make_run(assessment)

    def scenario(name, parameters, *, engine, workdir, progress, should_cancel):
        DemoRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(days=1))
        demo_run_sweep()
        if should_cancel():
            raise Cancelled("stopped")
        return fake_metrics()

    with mock.patch.object(demo_services, "run_scenario", side_effect=scenario):
        demo_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.metrics is None


# --- the task and its limits ------------------------------------------------------------


def test_the_task_acks_late_and_its_time_limits_stay_under_the_visibility_timeout():
    assert execute_demo_run.acks_late is True
    assert execute_demo_run.reject_on_worker_lost is True
    assert execute_demo_run.soft_time_limit < execute_demo_run.time_limit
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert execute_demo_run.time_limit < visibility


def test_the_task_retries_later_while_another_worker_holds_the_run(assessment):
    run = make_run(
        assessment,
        status=Status.RUNNING,
        attempts=1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    with (
        mock.patch.object(execute_demo_run, "retry", side_effect=RuntimeError("retry")) as retry,
        pytest.raises(RuntimeError, match="retry"),
    ):
        execute_demo_run.run(str(run.pk))

    assert retry.call_args.kwargs["countdown"] > settings.DEMO_RUN_HEARTBEAT_TIMEOUT


def test_the_task_runs_the_service(assessment):
    run = make_run(assessment)

    assert execute_demo_run.run(str(run.pk)) == "succeeded"
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED
