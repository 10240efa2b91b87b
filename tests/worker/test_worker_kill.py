"""A real Celery worker killed with SIGKILL mid-run: the run never stays `running` forever.

The worker runs in its own process group against Redis (a dedicated database number,
flushed first) and a SQLite file this test also reads. Short limits make Redis redeliver
the unacknowledged task within seconds, so a second worker can take the run over once
its heartbeat has stopped. Accepted ends: succeeded exactly once after redelivery (two
attempts, metrics written by the second), or failed with a message.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from advisor.devserver.localredis import redis_reachable, start_local_redis

pytestmark = pytest.mark.worker

BASE_DIR = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("WORKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# A few seconds of work that does not depend on the disk's fsync speed.
PARAMETERS = {"messages": 1000, "target_rate": 500, "processing_ms": 1.0}
LIMITS = {
    "CELERY_VISIBILITY_TIMEOUT": "20",
    "DEMO_RUN_SOFT_TIME_LIMIT": "15",
    "DEMO_RUN_TIME_LIMIT": "18",
    "DEMO_RUN_HEARTBEAT_TIMEOUT": "3",
}
DEADLINE_SECONDS = 90  # a bound on waiting, never an assertion about speed

ENQUEUE = """
from advisor.demoruns.services import demo_run_enqueue
from questionnaire.services import assessment_create
run = demo_run_enqueue(
    assessment=assessment_create(title="worker kill test"),
    scenario="push_pull",
    parameters={parameters},
    owner_session="worker-test",
)
print(run.pk)
"""


@pytest.fixture
def broker():
    """A Redis database for this test alone, emptied before and after."""
    started = None
    if not redis_reachable(REDIS_URL):
        started = start_local_redis(REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    if started is not None:
        started.terminate()
        started.wait(timeout=10)


@pytest.fixture
def environment(tmp_path, broker):
    database = tmp_path / "worker.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "PYTHONUNBUFFERED": "1",
        **LIMITS,
    }
    manage(env, "migrate", "--noinput")
    return env, database


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


class Workers:
    """Celery workers started by this test, each in its own process group."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        number = len(self.processes) + 1
        log = open(self.log_dir / f"worker{number}.log", "wb")  # noqa: SIM115 (closed by the OS)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=killtest{number}@%h",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, children included
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(process)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("worker*.log"))
        )


@pytest.fixture
def workers(environment, tmp_path):
    env, _ = environment
    started = Workers(env, tmp_path)
    yield started
    started.stop_all()


def read_run(database: Path, run_id: str) -> dict:
    with sqlite3.connect(database, timeout=10) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute(
            "SELECT status, attempts, progress, error, metrics, finished_at "
            "FROM advisor_demorun WHERE id = ?",
            (run_id.replace("-", ""),),
        ).fetchone()
    return dict(row)


def wait_for(database: Path, run_id: str, condition, workers: Workers) -> dict:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        row = read_run(database, run_id)
        if condition(row):
            return row
        time.sleep(0.2)
    pytest.fail(f"the run stayed {read_run(database, run_id)['status']}\n{workers.logs()}")


def wait_until(condition) -> bool:
    """Poll ``condition`` until it holds or the deadline passes; a bound, not a timing."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_a_run_whose_worker_is_killed_finishes_once_or_fails_never_stays_running(
    environment, workers, broker
):
    env, database = environment
    first = workers.start()
    run_id = manage(env, "shell", "-c", ENQUEUE.format(parameters=PARAMETERS)).split()[-1]

    wait_for(database, run_id, lambda r: r["status"] == "running" and r["progress"] > 0, workers)
    workers.kill(first)  # SIGKILL to the whole group: main process and pool child together
    killed = read_run(database, run_id)
    assert killed["status"] == "running" and killed["attempts"] == 1

    workers.start()
    final = wait_for(database, run_id, lambda r: r["status"] not in {"queued", "running"}, workers)

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
    # Nothing is left to deliver again: the finished run cannot be run a third time. The
    # worker acks the message after the task returns, so after the row is final: wait for it.
    assert wait_until(lambda: broker.llen("celery") == 0 and broker.hlen("unacked") == 0), (
        f"still queued: {broker.llen('celery')}, unacked: {broker.hlen('unacked')}\n"
        + workers.logs()
    )
    assert read_run(database, run_id) == final
